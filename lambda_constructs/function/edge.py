"""EdgeFunction: a Lambda@Edge function with the production defaults that apply at the edge."""

from __future__ import annotations

import typing
from typing import Any

from aws_cdk import CfnResource, Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import edge as plans
from lambda_constructs.core.plans.common import alarm_prefix
from lambda_constructs.core.plans.edge import (
    EDGE_REGION,
    ORIGIN_MAX_MEMORY_MB,
    ORIGIN_MAX_TIMEOUT_S,
    RESTRICTIONS,
    VIEWER_MAX_MEMORY_MB,
    VIEWER_MAX_TIMEOUT_S,
    EdgePlan,
)
from lambda_constructs.core.plans.function import Reading
from lambda_constructs.core.sizing import DEFAULT_TIMEOUT_MULTIPLIER, Memory
from lambda_constructs.function import _bundle
from lambda_constructs.function import code as code_info
from lambda_constructs.function.production_function import DEFAULT_LOG_RETENTION

__all__ = [
    "EDGE_REGION",
    "ORIGIN_MAX_MEMORY_MB",
    "ORIGIN_MAX_TIMEOUT_S",
    "RESTRICTIONS",
    "VIEWER_EVENTS",
    "VIEWER_MAX_MEMORY_MB",
    "VIEWER_MAX_TIMEOUT_S",
    "EdgeFunction",
]

VIEWER_EVENTS = tuple(cloudfront.LambdaEdgeEventType[name] for name in plans.VIEWER_EVENT_TYPES)


class EdgeFunction(Construct):
    """A Lambda@Edge function: a numbered version for a CloudFront behavior, with the edge's limits enforced.

    Lambda@Edge runs a copy of the function in CloudFront's regions, so it takes a narrower set
    of Lambda features ("Restrictions on Lambda@Edge", Amazon CloudFront developer guide). Each
    violation is a ConfigurationError naming the restriction:

    - a numbered version (``.version``; CloudFront cannot use an alias or $LATEST);
    - deployed from us-east-1 (the stack must have ``env=Environment(region="us-east-1")``);
    - x86_64 only; Node.js or Python runtimes; zip code only (no container images);
    - no environment variables, layers, VPC, provisioned or reserved concurrency, DLQ or SnapStart;
    - viewer request/response: timeout <= 5 s, memory <= 128 MB; origin request/response:
      timeout <= 30 s, memory <= 10,240 MB.

    The timeout is derived from the measured p99 as for ProductionFunction; memory defaults to
    128 MB for viewer events and 1,024 MB for origin events. Alarms (errors, throttles, p99
    duration) see the us-east-1 metrics; each edge region reports its own.

    Use it: ``cloudfront.BehaviorOptions(..., edge_lambdas=[edge.edge_lambda])``. Every decision is in
    ``.plan`` (an `EdgePlan`, ``core/plans/edge.py``), which the construct is built from.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: lambda_.Code,
        handler: str,
        runtime: lambda_.Runtime,
        event_type: cloudfront.LambdaEdgeEventType,
        p99: Duration | None = None,
        timeout: Duration | None = None,
        timeout_multiplier: float = DEFAULT_TIMEOUT_MULTIPLIER,
        memory: Memory | int | None = None,
        include_body: bool = False,
        architecture: lambda_.Architecture | None = None,
        description: str | None = None,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        alarm_topic: sns.ITopic | None = None,
        environment: Any = None,
        layers: Any = None,
        vpc: Any = None,
        provisioned_concurrency: Any = None,
        reserved_concurrency: Any = None,
        dead_letter_queue: Any = None,
        snap_start: Any = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        given = {
            "environment": environment,
            "layers": layers,
            "vpc": vpc,
            "provisioned_concurrency": provisioned_concurrency,
            "reserved_concurrency": reserved_concurrency,
            "dead_letter_queue": dead_letter_queue,
            "snap_start": snap_start,
        }

        def check(problems: Problems) -> None:
            kind: plans.CodeKind = (
                "image" if code_info.is_image(code) else "zip" if isinstance(code, lambda_.Code) else "other"
            )
            problems.extend(
                plans.surface_problems(
                    given,
                    code=kind,
                    code_shown=_cdk.short(code) if kind == "other" else None,
                    handler=handler,
                    runtime=runtime.name if isinstance(runtime, lambda_.Runtime) else None,
                    runtime_shown=getattr(runtime, "name", _cdk.short(runtime)),
                    architecture=None
                    if architecture is None or architecture is lambda_.Architecture.X86_64
                    else getattr(architecture, "name", _cdk.short(architecture)),
                )
            )
            if not isinstance(event_type, cloudfront.LambdaEdgeEventType):
                problems.add(Problem("event_type", _cdk.short(event_type), "a cloudfront.LambdaEdgeEventType"))
                return
            stack, stack_name, stack_path = _cdk.stack_info(scope)
            p99_ms, timeout_ms = _read_ms("p99", p99), _read_ms("timeout", timeout)
            region = stack.region
            problems.extend(
                plans.sizing_problems(
                    event_type.name,
                    None if _cdk.is_token(region) else region,
                    p99_ms,
                    timeout_ms,
                    timeout_multiplier,
                    memory,
                )
            )
            if type(log_retention).__name__ != "RetentionDays":
                problems.add(Problem("log_retention", _cdk.short(log_retention), "an aws_logs.RetentionDays"))
            problems.add(_cdk.topic_problem(alarm_topic))
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            problems.extend(plans.option_problems(include_body, description))
            if problems:
                return
            partition, account = stack.partition, stack.account
            planned.append(
                plans.plan_edge(
                    plans.EdgeRequest(
                        path=problems.path,
                        stack_path=stack_path,
                        alarm_prefix=alarm_prefix(stack_name, stack_path, problems.path),
                        event_type=event_type.name,
                        p99_ms=None if p99_ms is None else p99_ms.value,
                        timeout_ms=None if timeout_ms is None else timeout_ms.value,
                        timeout_multiplier=timeout_multiplier,
                        memory=memory,
                        include_body=include_body,
                        description=description,
                        partition=None if _cdk.is_token(partition) else partition,
                        account=None if _cdk.is_token(account) else account,
                    )
                )
            )

        planned: list[EdgePlan] = []
        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: EdgePlan = planned[0]
        plan = self.plan
        self.event_type = event_type
        self.timeout_seconds: int = plan.timeout_seconds
        self.timeout = Duration.seconds(self.timeout_seconds)
        self.memory_size: int = plan.memory_mb
        self.log_group = _keys.log_group(
            self, "LogGroup", retention=log_retention, key=_keys.key_for(self, encryption_key)
        )
        self.role = iam.Role(
            self,
            plans.ROLE_ID,
            assumed_by=iam.CompositePrincipal(*(iam.ServicePrincipal(p) for p in plan.role_principals)),
            description=plan.role_description,
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(plan.log_actions), resources=[self.log_group.log_group_arn])
        )
        self.function = lambda_.Function(
            self,
            plans.FUNCTION_ID,
            code=code,
            handler=handler,
            runtime=runtime,
            architecture=lambda_.Architecture.X86_64,
            memory_size=self.memory_size,
            timeout=self.timeout,
            role=self.role,
            log_group=self.log_group,
            description=plan.description,
        )
        # Role is Fn::GetAtt of this role: its DependsOn edge is redundant (cfn-lint W3005)
        _cdk.drop_role_depends_on(
            typing.cast(CfnResource, self.function.node.default_child),
            typing.cast(CfnResource, self.role.node.default_child),
        )
        self.replica_logs_policy = self._grant_replica_logs(plan)
        _cdk.acknowledge_all(typing.cast(Construct, self.function.node.default_child), list(plan.acknowledgements))
        self.version: lambda_.IVersion = self.function.current_version  # the numbered version (plan.versioned)
        self.edge_lambda = cloudfront.EdgeLambda(
            event_type=event_type, function_version=self.version, include_body=plan.include_body
        )
        self.alarms: list[cloudwatch.Alarm] = _cdk.build_function_alarms(self, self.function, plan.alarms, alarm_topic)
        _cdk.annotate(self, plan.notes)
        _bundle.note(self, scope, id, plan.resource_count)  # inside a FunctionFleet bundle: its size, from the plan

    def _grant_replica_logs(self, plan: EdgePlan) -> iam.Policy:
        """Let the replicas log in every region where CloudFront runs them.

        A replica logs to ``/aws/lambda/us-east-1.<function name>`` in the region of the edge location that
        ran it, creating the group there ("Amazon CloudWatch metrics and logs for Lambda@Edge functions",
        CloudFront developer guide: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html;
        "Set up IAM permissions and roles for Lambda@Edge"). The region is therefore ``*``; the account and the
        name are this function's. A policy of its own, not the role's default policy: the function depends on
        that one, and naming the function in it would be a dependency cycle.
        """
        stack = _cdk.stack_of(self)
        group = plans.replica_log_group_arn(stack.partition, stack.account, self.function.function_name)
        policy = iam.Policy(
            self,
            plan.replica_logs.id,
            statements=[iam.PolicyStatement(actions=list(plan.replica_logs.actions), resources=[group, f"{group}:*"])],
        )
        policy.attach_to_role(self.role)
        # exactly the two findings of this statement, on this policy alone
        _cdk.acknowledge_all(
            typing.cast(Construct, policy.node.default_child), list(plan.replica_logs.acknowledgements)
        )
        return policy


def _read_ms(prop: str, value: object) -> Reading | None:
    """A p99 or timeout Duration read once, in ms (a timeout must be whole seconds); None when not given."""
    if value is None:
        return None
    problem = _cdk.duration_problem(prop, value, whole_seconds=prop == "timeout", concrete=True)
    return Reading(problem=problem) if problem else Reading(_cdk.milliseconds(typing.cast(Duration, value)))
