"""EdgeFunction: a Lambda@Edge function with the production defaults that apply at the edge."""

from __future__ import annotations

import typing
from typing import Any

from aws_cdk import CfnResource, Duration, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core import limits
from lambda_constructs.core.errors import ConfigurationError, Problem, Problems
from lambda_constructs.core.sizing import DEFAULT_TIMEOUT_MULTIPLIER, Memory, timeout_seconds_from_p99_ms
from lambda_constructs.function import code as code_info
from lambda_constructs.function.production_function import DEFAULT_LOG_RETENTION

EDGE_REGION = "us-east-1"
VIEWER_EVENTS = (cloudfront.LambdaEdgeEventType.VIEWER_REQUEST, cloudfront.LambdaEdgeEventType.VIEWER_RESPONSE)
# Quotas on Lambda@Edge (Amazon CloudFront developer guide): per event type
VIEWER_MAX_TIMEOUT_S, ORIGIN_MAX_TIMEOUT_S = 5, 30
VIEWER_MAX_MEMORY_MB, ORIGIN_MAX_MEMORY_MB = 128, 10_240
RESTRICTIONS = "Restrictions on Lambda@Edge (Amazon CloudFront developer guide)"
_UNSUPPORTED = {
    "environment": "environment variables",
    "layers": "Lambda layers",
    "vpc": "VPC access",
    "provisioned_concurrency": "provisioned concurrency",
    "reserved_concurrency": "reserved concurrency",
    "dead_letter_queue": "dead-letter queues",
    "snap_start": "SnapStart",
}


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

    Use it: ``cloudfront.BehaviorOptions(..., edge_lambdas=[edge.edge_lambda])``.
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
        derived: dict[str, int] = {}

        def check(problems: Problems) -> None:
            for name, value in given.items():
                if value is not None:
                    problems.add(
                        Problem(
                            name,
                            _cdk.short(value),
                            "None",
                            f"Lambda@Edge does not support {_UNSUPPORTED[name]} ({RESTRICTIONS})",
                        )
                    )
            if code_info.is_image(code):
                problems.add(
                    Problem(
                        "code",
                        "a container image",
                        "zip code (Code.from_asset)",
                        f"Lambda@Edge does not support container images ({RESTRICTIONS})",
                    )
                )
            elif not isinstance(code, lambda_.Code):
                problems.add(Problem("code", _cdk.short(code), "an aws_lambda.Code"))
            if not isinstance(handler, str) or not handler.strip() or len(handler) > 128:
                problems.add(Problem("handler", _cdk.short(handler), "a non-empty string of at most 128 characters"))
            if not isinstance(runtime, lambda_.Runtime) or not runtime.name.startswith(("nodejs", "python")):
                problems.add(
                    Problem(
                        "runtime",
                        getattr(runtime, "name", _cdk.short(runtime)),
                        "a Node.js or Python runtime",
                        f"Lambda@Edge supports only these ({RESTRICTIONS})",
                    )
                )
            if architecture is not None and architecture is not lambda_.Architecture.X86_64:
                problems.add(
                    Problem(
                        "architecture",
                        getattr(architecture, "name", _cdk.short(architecture)),
                        "X86_64",
                        f"Lambda@Edge runs x86_64 only ({RESTRICTIONS})",
                    )
                )
            if not isinstance(event_type, cloudfront.LambdaEdgeEventType):
                problems.add(Problem("event_type", _cdk.short(event_type), "a cloudfront.LambdaEdgeEventType"))
                return
            viewer = event_type in VIEWER_EVENTS
            max_timeout = VIEWER_MAX_TIMEOUT_S if viewer else ORIGIN_MAX_TIMEOUT_S
            max_memory = VIEWER_MAX_MEMORY_MB if viewer else ORIGIN_MAX_MEMORY_MB
            kind = "viewer" if viewer else "origin"
            region = Stack.of(scope).region if isinstance(scope, Construct) else None
            if region != EDGE_REGION:
                problems.add(
                    Problem(
                        "stack.region",
                        "unresolved (env-agnostic stack)" if region is None or _cdk.is_token(region) else region,
                        EDGE_REGION,
                        f"Lambda@Edge functions are created in {EDGE_REGION}: put this one in a stack with "
                        f"env=Environment(region='{EDGE_REGION}') (and cross_region_references=True on the "
                        "distribution's stack if it lives elsewhere)",
                    )
                )
            derived["timeout"] = _edge_timeout(problems, p99, timeout, timeout_multiplier, max_timeout, kind)
            size = memory if memory is not None else (VIEWER_MAX_MEMORY_MB if viewer else Memory.io_bound())
            size_mb = size.size_mb if isinstance(size, Memory) else size
            if isinstance(size_mb, bool) or not isinstance(size_mb, int):
                problems.add(Problem("memory", _cdk.short(memory), "a Memory or an int of MB"))
            else:
                problems.add(
                    limits.check_int_range(
                        "memory",
                        size_mb,
                        limits.Range(limits.MEMORY_MIN_MB, max_memory, "MB"),
                        f"the Lambda@Edge quota for {kind} events",
                    )
                )
                derived["memory"] = size_mb
            if type(log_retention).__name__ != "RetentionDays":
                problems.add(Problem("log_retention", _cdk.short(log_retention), "an aws_logs.RetentionDays"))
            problems.add(_cdk.topic_problem(alarm_topic))
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            if not isinstance(include_body, bool):
                problems.add(Problem("include_body", _cdk.short(include_body), "True or False"))
            if description is not None and not (isinstance(description, str) and len(description) <= 256):
                problems.add(Problem("description", _cdk.short(description), "a string of at most 256 characters"))

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.event_type = event_type
        self.timeout_seconds: int = derived["timeout"]
        self.timeout = Duration.seconds(self.timeout_seconds)
        self.memory_size: int = derived["memory"]
        self.log_group = _keys.log_group(
            self, "LogGroup", retention=log_retention, key=_keys.key_for(self, encryption_key)
        )
        self.role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("lambda.amazonaws.com"), iam.ServicePrincipal("edgelambda.amazonaws.com")
            ),
            description="Lambda@Edge execution role: writes to its own log group only",
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            code=code,
            handler=handler,
            runtime=runtime,
            architecture=lambda_.Architecture.X86_64,
            memory_size=self.memory_size,
            timeout=self.timeout,
            role=self.role,
            log_group=self.log_group,
            description=description,
        )
        # Role is Fn::GetAtt of this role: its DependsOn edge is redundant (cfn-lint W3005)
        _cdk.drop_role_depends_on(
            typing.cast(CfnResource, self.function.node.default_child),
            typing.cast(CfnResource, self.role.node.default_child),
        )
        self.replica_logs_policy = self._grant_replica_logs()
        reason = f"Lambda@Edge does not support this ({RESTRICTIONS}); CloudFront returns the error to the viewer."
        # on the function resource alone: Lambda@Edge supports neither a dead-letter queue nor X-Ray tracing
        # ("Restrictions on Lambda@Edge", Amazon CloudFront developer guide:
        # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-edge-function-restrictions.html)
        _cdk.acknowledge_all(
            typing.cast(Construct, self.function.node.default_child),
            [
                ("Serverless-LambdaDLQ", "Lambda@Edge supports no dead-letter queue: " + reason),
                ("Serverless-LambdaTracing", "Lambda@Edge supports no AWS X-Ray tracing: " + reason),
            ],
        )
        self.version: lambda_.IVersion = self.function.current_version
        self.edge_lambda = cloudfront.EdgeLambda(
            event_type=event_type, function_version=self.version, include_body=include_body
        )
        self.alarms: list[cloudwatch.Alarm] = _cdk.function_alarms(
            self, self.function, self.timeout_seconds, alarm_topic, note=" (us-east-1 metrics)"
        )

    def _grant_replica_logs(self) -> iam.Policy:
        """Let the replicas log in every region where CloudFront runs them.

        A replica logs to ``/aws/lambda/us-east-1.<function name>`` in the region of the edge location that
        ran it, creating the group there ("Amazon CloudWatch metrics and logs for Lambda@Edge functions",
        CloudFront developer guide: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html;
        "Set up IAM permissions and roles for Lambda@Edge"). The region is therefore ``*``; the account and the
        name are this function's. A policy of its own, not the role's default policy: the function depends on
        that one, and naming the function in it would be a dependency cycle.
        """
        stack = Stack.of(self)
        name = self.function.function_name
        group = f"arn:{stack.partition}:logs:*:{stack.account}:log-group:/aws/lambda/{EDGE_REGION}.{name}"
        policy = iam.Policy(
            self,
            "ReplicaLogs",
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[group, f"{group}:*"],
                )
            ],
        )
        policy.attach_to_role(self.role)
        # exactly the two findings of this statement (cdk-nag names each wildcard resource), on this policy alone
        cfn = typing.cast(CfnResource, self.function.node.default_child)
        # cdk-nag prints a pseudo parameter as <AWS::...>, a concrete one (an explicit env) as its value
        account = "<AWS::AccountId>" if _cdk.is_token(stack.account) else stack.account
        partition = "<AWS::Partition>" if _cdk.is_token(stack.partition) else stack.partition
        logical_id = stack.resolve(stack.get_logical_id(cfn))
        finding = f"arn:{partition}:logs:*:{account}:log-group:/aws/lambda/{EDGE_REGION}.<{logical_id}>"
        reason = (
            "Lambda@Edge replicas log in the region of the edge location that ran them, which is not known at "
            "deploy time: the log group ARN's region is '*'; account and log group name are this function's."
        )
        _cdk.acknowledge_all(
            typing.cast(Construct, policy.node.default_child),
            [
                (f"AwsSolutions-IAM5[Resource::{finding}]", reason),
                (f"AwsSolutions-IAM5[Resource::{finding}:*]", reason),
            ],
        )
        return policy


def _edge_timeout(
    problems: Problems, p99: object, timeout: object, multiplier: float, max_timeout: int, kind: str
) -> int:
    given = [n for n, v in (("p99", p99), ("timeout", timeout)) if v is not None]
    if len(given) != 1:
        problems.add(
            Problem("p99/timeout", ", ".join(given) or "none", "exactly one of p99=Duration or timeout=Duration")
        )
        return 0
    prop = given[0]
    value = p99 if p99 is not None else timeout
    problem = _cdk.duration_problem(prop, value, whole_seconds=prop == "timeout", concrete=True)
    if problem:
        problems.add(problem)
        return 0
    ms = typing.cast(Duration, value).to_milliseconds(integral=False)
    try:
        seconds = timeout_seconds_from_p99_ms(ms, multiplier) if prop == "p99" else int(ms // 1000)
    except ConfigurationError as error:
        problems.extend(error.problems)
        return 0
    if not 1 <= seconds <= max_timeout:
        problems.add(
            Problem(
                prop,
                f"{ms:g} ms",
                f"a timeout of 1..{max_timeout} s for {kind} events (got {seconds} s)",
                f"the Lambda@Edge quota for {kind} events ({RESTRICTIONS})",
            )
        )
    return seconds
