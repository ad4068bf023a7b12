"""ProductionFunction: a Lambda function with production defaults, and its timeout helper."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import Annotations, CfnElement, CfnResource, Duration, IStableNumberProducer, Lazy, Stack, Token
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core import limits
from lambda_constructs.core.config import DEFAULT, Invocation, ProvisionedConcurrency, _Default
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.sizing import DEFAULT_TIMEOUT_MULTIPLIER, Memory, Sizing, timeout_seconds_from_p99_ms
from lambda_constructs.function.deployment import Deployment, build_deployment_group

if TYPE_CHECKING:
    from lambda_constructs.function.dashboard import ServiceDashboard

LATEST_PYTHON = lambda_.Runtime.PYTHON_3_14
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DEFAULT_ASYNC_RETRY_ATTEMPTS = 2  # AWS's own default, set explicitly (EventInvokeConfig)
DEFAULT_MAX_EVENT_AGE = Duration.hours(6)  # AWS's own default (21,600 s), set explicitly
DURATION_ALARM_FRACTION = 0.8
METADATA_KEY = "lambda-constructs"
ALIAS_NAME = "live"

_ENV_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]+$")
_FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def timeout_from_p99(p99: Duration, multiplier: float = DEFAULT_TIMEOUT_MULTIPLIER) -> Duration:
    """The timeout for a measured ``p99``: p99 x ``multiplier`` rounded UP to whole seconds, >= 1 s.

    Seed 000: "a timeout is a contract"; set it to roughly 2-3 x the measured p99. Raises
    :class:`~lambda_constructs.ConfigurationError` for p99 <= 0 or a result above 900 s
    (the message points at Step Functions).
    """
    return Duration.seconds(timeout_seconds_from_p99_ms(p99.to_milliseconds(integral=False), multiplier))


class ProductionFunction(Construct):
    """A Lambda function with the production defaults teams otherwise get wrong.

    Creates a function (arm64, active X-Ray tracing, latest Python, a log group with
    retention, a least-privilege role), a published version behind a ``live`` alias,
    provisioned concurrency with target-tracking auto scaling at 0.7 (SYNC by default),
    an encrypted failure queue as onFailure destination (ASYNC), and alarms.

    Every value is validated at construction; a bad one raises
    :class:`~lambda_constructs.ConfigurationError` naming this construct's path, the prop,
    the value and the allowed range, before any resource is created.

    Args:
        code: the function's code (``lambda_.Code.from_asset(...)`` and friends).
        handler: the handler, e.g. ``"app.handler"``.
        runtime: default the latest Python runtime (``LATEST_PYTHON``, Python 3.14).
        p99: the measured p99 duration. The timeout becomes
            ``timeout_from_p99(p99, timeout_multiplier)``. Give exactly one of ``p99``,
            ``sizing`` or ``timeout``.
        sizing: a :class:`~lambda_constructs.Sizing` written by ``lambda-constructs measure``;
            its p99 is used like ``p99`` and it is recorded in the template Metadata.
        timeout: a fixed timeout (1..900 s, whole seconds). Allowed, but adds a warning
            annotation: it was not derived from a measured p99.
        timeout_multiplier: 1..10, default 3 (seed 000: 2-3 x p99).
        memory: a :class:`~lambda_constructs.Memory` or an int of MB; default
            ``Memory.io_bound()`` (1,024 MB).
        invocation: how callers invoke the function (decides the provisioned-concurrency
            and failure-path defaults); default ``Invocation.SYNC``.
        provisioned_concurrency: default ``ProvisionedConcurrency()`` (min 1, max 10,
            target 0.7) for SYNC, none for ASYNC, QUEUE and STREAM. ``None`` turns it off.
        reserved_concurrency: caps the function; must be >= the provisioned max. Default none.
        environment: environment variables; Lambda's limit is 4 KB in total.
        alarm_topic: SNS topic for every alarm's action. Default: alarms without actions.
        log_retention: default one month.
        architecture: default ``ARM_64`` (about 20 % cheaper per GB-second; seeds 000-002).
        retry_attempts: ASYNC retries, 0..2, default 2 (AWS's default, set explicitly).
        max_event_age: ASYNC event age, 60 s..6 h, default 6 h (AWS's default, set explicitly).
        description, function_name: passed to the function.
        role: an execution role; default a new role with no managed policy. Either way it is granted
            logs:CreateLogStream / PutLogEvents on the function's own log group (and X-Ray by aws-cdk).
        deployment: a :class:`~lambda_constructs.Deployment` for CodeDeploy traffic shifting
            on the alias; default none (the alias moves to each new version at once).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: lambda_.Code,
        handler: str,
        runtime: lambda_.Runtime | None = None,
        p99: Duration | None = None,
        sizing: Sizing | None = None,
        timeout: Duration | None = None,
        timeout_multiplier: float = DEFAULT_TIMEOUT_MULTIPLIER,
        memory: Memory | int | None = None,
        invocation: Invocation = Invocation.SYNC,
        provisioned_concurrency: ProvisionedConcurrency | _Default | None = DEFAULT,
        reserved_concurrency: int | None = None,
        environment: Mapping[str, str] | None = None,
        alarm_topic: sns.ITopic | None = None,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        architecture: lambda_.Architecture | None = None,
        retry_attempts: int = DEFAULT_ASYNC_RETRY_ATTEMPTS,
        max_event_age: Duration = DEFAULT_MAX_EVENT_AGE,
        description: str | None = None,
        function_name: str | None = None,
        role: iam.IRole | None = None,
        deployment: Deployment | None = None,
    ) -> None:
        memory_value = _resolve_memory(memory)
        resolved_pc = _resolve_provisioned(provisioned_concurrency, invocation)
        self._timeout_seconds = 0
        self._p99_ms: float | None = None

        def check(problems: Problems) -> None:
            problems.add(None if isinstance(code, lambda_.Code) else Problem("code", code, "an aws_lambda.Code"))
            if not isinstance(handler, str) or not handler.strip():
                problems.add(Problem("handler", handler, "a non-empty string such as 'app.handler'"))
            if not isinstance(invocation, Invocation):
                problems.add(Problem("invocation", invocation, " | ".join(f"Invocation.{i.name}" for i in Invocation)))
            if isinstance(memory_value, Problem):
                problems.add(memory_value)
            else:
                problems.extend(memory_value.problems())
            self._check_timeout(problems, p99, sizing, timeout, timeout_multiplier)
            if isinstance(resolved_pc, Problem):
                problems.add(resolved_pc)
            elif resolved_pc is not None:
                problems.extend(resolved_pc.problems())
            problems.extend(_concurrency_problems(reserved_concurrency, resolved_pc))
            problems.extend(_environment_problems(environment))
            if function_name is not None and not (
                (isinstance(function_name, str) and _FUNCTION_NAME.match(function_name))
                or Token.is_unresolved(function_name)
            ):
                problems.add(Problem("function_name", function_name, "1..64 characters of a-z, A-Z, 0-9, - and _"))
            if invocation is Invocation.ASYNC:
                problems.add(
                    limits.check_int_range(
                        "retry_attempts", retry_attempts, limits.Range(limits.ASYNC_RETRY_MIN, limits.ASYNC_RETRY_MAX)
                    )
                )
                problems.add(
                    _cdk.duration_range_problem(
                        "max_event_age", max_event_age, limits.ASYNC_EVENT_AGE_MIN_S, limits.ASYNC_EVENT_AGE_MAX_S
                    )
                )
            if deployment is not None:
                problems.extend(_deployment_problems(deployment))

        _cdk.validated(scope, id, check)
        super().__init__(scope, id)
        assert isinstance(memory_value, Memory) and not isinstance(resolved_pc, Problem)

        self.invocation: Invocation = invocation
        self.memory: Memory = memory_value
        self.memory_size: int = memory_value.size_mb
        self.timeout: Duration = Duration.seconds(self._timeout_seconds)
        self.p99: Duration | None = Duration.millis(self._p99_ms) if self._p99_ms is not None else None
        self.sizing: Sizing | None = sizing
        self.provisioned_concurrency: ProvisionedConcurrency | None = resolved_pc
        self.reserved_concurrency: int | None = reserved_concurrency
        self.alarm_topic: sns.ITopic | None = alarm_topic
        self.alarms: list[cloudwatch.Alarm] = []

        self.log_group = logs.LogGroup(self, "LogGroup", retention=log_retention)
        self.role: iam.IRole = role or self._build_role()
        # the function logs only to its own group: grant exactly that, to our role or the one given
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]
            )
        )
        self.function = self._build_function(
            code=code,
            handler=handler,
            runtime=runtime or LATEST_PYTHON,
            architecture=architecture or lambda_.Architecture.ARM_64,
            environment=environment,
            description=description,
            function_name=function_name,
        )
        self.version: lambda_.Version = self.function.current_version
        self.alias = lambda_.Alias(
            self,
            "LiveAlias",
            alias_name=ALIAS_NAME,
            version=self.version,
            # With a Deployment, auto scaling alone owns provisioned concurrency (see deployment.py)
            provisioned_concurrent_executions=(
                resolved_pc.min_capacity if resolved_pc and deployment is None else None
            ),
        )
        self.scalable_target: appscaling.ScalableTarget | None = (
            self._build_autoscaling(resolved_pc) if resolved_pc else None
        )
        self.failure_queue: sqs.IQueue | None = (
            self._build_failure_path(retry_attempts, max_event_age) if invocation is Invocation.ASYNC else None
        )
        self._build_alarms()
        self._record_metadata(timeout is not None, timeout_multiplier)
        self.deployment_group: codedeploy.LambdaDeploymentGroup | None = (
            build_deployment_group(self, deployment) if deployment is not None else None
        )

    # ------------------------------------------------------------------ validation

    def _check_timeout(
        self,
        problems: Problems,
        p99: Duration | None,
        sizing: Sizing | None,
        timeout: Duration | None,
        multiplier: float,
    ) -> None:
        given = [name for name, value in (("p99", p99), ("sizing", sizing), ("timeout", timeout)) if value is not None]
        if len(given) != 1:
            problems.add(
                Problem(
                    "p99/sizing/timeout",
                    ", ".join(given) or "none",
                    "exactly one of p99=Duration (measured), sizing=Sizing.from_file(...) or timeout=Duration",
                    "prefer p99: the timeout is then derived as p99 x multiplier (seed 000)",
                )
            )
            return
        if timeout is not None:
            problem = _cdk.duration_problem("timeout", timeout) or limits.check_range(
                "timeout",
                _cdk.seconds(timeout),
                limits.Range(limits.TIMEOUT_MIN_S, limits.TIMEOUT_MAX_S, "s"),
                "Lambda allows 1..900 s; work longer than that belongs in Step Functions",
            )
            problems.add(problem)
            if problem is None:
                self._timeout_seconds = _cdk.seconds(timeout)
            return
        if sizing is not None:
            if not isinstance(sizing, Sizing):
                problems.add(Problem("sizing", sizing, "a Sizing, e.g. Sizing.from_file('sizing/orders.json')"))
                return
            p99_ms = sizing.p99_ms
        else:
            problem = _cdk.duration_problem("p99", p99, whole_seconds=False)
            if problem:
                problems.add(problem)
                return
            p99_ms = p99.to_milliseconds(integral=False)  # type: ignore[union-attr]
        self._p99_ms = p99_ms
        self._timeout_seconds = timeout_seconds_from_p99_ms(p99_ms, multiplier)  # raises with prop names

    # ------------------------------------------------------------------ building

    def _build_role(self) -> iam.Role:
        """A role with only what the function needs to log; X-Ray adds its own statement."""
        role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Execution role: writes to its own log group only",
        )
        _cdk.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords "
            "support no resource-level permissions, so AWS requires Resource '*'.",
        )
        return role

    def _build_function(
        self,
        *,
        code: lambda_.Code,
        handler: str,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        environment: Mapping[str, str] | None,
        description: str | None,
        function_name: str | None,
    ) -> lambda_.Function:
        function = lambda_.Function(
            self,
            "Function",
            code=code,
            handler=handler,
            runtime=runtime,
            architecture=architecture,
            memory_size=self.memory_size,
            timeout=self.timeout,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            role=self.role,
            environment=dict(environment) if environment else None,
            reserved_concurrent_executions=self.reserved_concurrency,
            description=description,
            function_name=function_name,
        )
        # The role is already referenced with Fn::GetAtt; the extra DependsOn aws-cdk adds is
        # redundant (cfn-lint W3005). The role's default policy dependency stays.
        policy = self.role.node.try_find_child("DefaultPolicy") if isinstance(self.role, iam.Role) else None
        if policy is not None:
            policy_cfn = typing.cast(CfnElement, policy.node.default_child)
            self_cfn = typing.cast(CfnResource, function.node.default_child)
            self_cfn.add_override("DependsOn", [Stack.of(self).get_logical_id(policy_cfn)])
        if self.invocation is not Invocation.ASYNC:
            _cdk.acknowledge(function, "Serverless-LambdaDLQ", _NO_DLQ_REASON[self.invocation])
        return function

    def _build_autoscaling(self, pc: ProvisionedConcurrency) -> appscaling.ScalableTarget:
        target = appscaling.ScalableTarget(
            self,
            "ProvisionedConcurrencyScaling",
            service_namespace=appscaling.ServiceNamespace.LAMBDA,
            scalable_dimension="lambda:function:ProvisionedConcurrency",
            resource_id=f"function:{self.function.function_name}:{self.alias.alias_name}",
            min_capacity=pc.min_capacity,
            max_capacity=pc.max_capacity,
            # Lambda's service-linked role for Application Auto Scaling, as aws-cdk's own
            # Alias.add_auto_scaling uses: no extra IAM role to create and audit.
            role=iam.Role.from_role_arn(
                self,
                "ScalingRole",
                Stack.of(self).format_arn(
                    service="iam",
                    region="",
                    resource="role/aws-service-role/lambda.application-autoscaling.amazonaws.com",
                    resource_name="AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency",
                ),
            ),
        )
        target.node.add_dependency(self.alias)  # aws-cdk#7903: the alias must exist first
        target.scale_to_track_metric(
            "Utilization",
            target_value=pc.target_utilization,
            predefined_metric=appscaling.PredefinedMetric.LAMBDA_PROVISIONED_CONCURRENCY_UTILIZATION,
        )
        return target

    def _build_failure_path(self, retry_attempts: int, max_event_age: Duration) -> sqs.Queue:
        queue = _cdk.secure_queue(self, "FailureQueue")
        _cdk.acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "Failed asynchronous events go to the onFailure destination (FailureQueue), which supersedes a "
            "DeadLetterConfig: it records the request, the response and the error, for $LATEST and live.",
        )
        _cdk.acknowledge_dead_letter_target(queue, "the onFailure destination of the function")
        for target in (self.function, self.alias):
            target.configure_async_invoke(
                on_failure=destinations.SqsDestination(queue),
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            )
        return queue

    def _build_alarms(self) -> None:
        period = _cdk.ALARM_PERIOD
        timeout_ms = self._timeout_seconds * 1000
        self.add_alarm(
            _cdk.make_alarm(
                self,
                "ErrorsAlarm",
                metric=self.function.metric_errors(period=period, statistic="Sum"),
                threshold=1,
                topic=self.alarm_topic,
                description=f"{self.node.path}: the function raised errors in the last 5 minutes.",
            )
        )
        self.add_alarm(
            _cdk.make_alarm(
                self,
                "ThrottlesAlarm",
                metric=self.function.metric_throttles(period=period, statistic="Sum"),
                threshold=1,
                topic=self.alarm_topic,
                description=f"{self.node.path}: invocations were throttled (concurrency limit reached).",
            )
        )
        self.add_alarm(
            _cdk.make_alarm(
                self,
                "DurationAlarm",
                metric=self.function.metric_duration(period=period, statistic="p99"),
                threshold=timeout_ms * DURATION_ALARM_FRACTION,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                topic=self.alarm_topic,
                description=f"{self.node.path}: p99 duration above 80% of the {self._timeout_seconds} s timeout: "
                "invocations are close to timing out.",
            )
        )
        if self.provisioned_concurrency is not None:
            self.add_alarm(
                _cdk.make_alarm(
                    self,
                    "SpilloverAlarm",
                    metric=self.alias.metric(
                        "ProvisionedConcurrencySpilloverInvocations", period=period, statistic="Sum"
                    ),
                    threshold=1,
                    topic=self.alarm_topic,
                    description=f"{self.node.path}: invocations spilled over provisioned concurrency onto cold "
                    "starts; auto scaling reacts to 3-minute averages, so raise min/max capacity.",
                )
            )
        if self.failure_queue is not None:
            self.add_alarm(
                _cdk.queue_depth_alarm(
                    self, "FailureQueueAlarm", self.failure_queue, f"{self.node.path} failure queue", self.alarm_topic
                )
            )

    def _record_metadata(self, fixed_timeout: bool, multiplier: float) -> None:
        timeout: dict[str, Any] = {"seconds": self._timeout_seconds}
        if fixed_timeout:
            timeout["source"] = "fixed"
            Annotations.of(self).add_warning_v2(
                "lambda-constructs:timeout-not-measured",
                f"timeout={self._timeout_seconds} s was not derived from a measured p99. Measure p99 "
                "(lambda-constructs measure) and pass p99= or sizing= instead (seed 000: timeout = 2-3 x p99).",
            )
        else:
            timeout.update(source="sizing" if self.sizing else "p99", p99Ms=self._p99_ms, multiplier=multiplier)
        data: dict[str, Any] = {
            "timeout": timeout,
            "memory": self.memory.metadata(),
            "invocation": self.invocation.value,
            "alias": ALIAS_NAME,
        }
        if self.provisioned_concurrency:
            pc = self.provisioned_concurrency
            data["provisionedConcurrency"] = {
                "min": pc.min_capacity,
                "max": pc.max_capacity,
                "targetUtilization": pc.target_utilization,
            }
        if self.sizing:
            data["sizing"] = {k: v for k, v in self.sizing.to_dict().items() if v is not None}
            data["sizing"]["file"] = self.sizing.source
            if self.sizing.age_days() > 90:
                Annotations.of(self).add_warning_v2(
                    "lambda-constructs:sizing-stale",
                    f"sizing file {self.sizing.source} was measured {self.sizing.age_days():.0f} days ago "
                    "(> 90): re-run 'lambda-constructs measure' so the timeout follows production.",
                )
        # counted at synthesis: the event-source constructs add their alarms after this point
        data["alarms"] = Lazy.number(_AlarmCount(self.alarms))
        self.cfn_function.add_metadata(METADATA_KEY, data)

    # ------------------------------------------------------------------ public helpers

    @property
    def cfn_function(self) -> lambda_.CfnFunction:
        """The L1 AWS::Lambda::Function (escape hatch)."""
        return self.function.node.default_child  # type: ignore[return-value]

    @property
    def timeout_seconds(self) -> int:
        return self._timeout_seconds

    def add_alarm(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        """Add an alarm to this function's set (deployment rollback, report and dashboard see it)."""
        self.alarms.append(alarm)
        return alarm

    def add_alarms(self, *alarms: cloudwatch.Alarm) -> list[cloudwatch.Alarm]:
        """Add several alarms; returns them as a list (what the event-source constructs expose)."""
        self.alarms.extend(alarms)
        return list(alarms)

    def add_event_source(self, source: lambda_.IEventSource) -> None:
        """Attach an event source to the ``live`` alias (never $LATEST)."""
        self.alias.add_event_source(source)

    def dashboard(self, id: str = "Dashboard") -> ServiceDashboard:
        """A ServiceDashboard of this one function (for a whole service, use ServiceDashboard)."""
        from lambda_constructs.function.dashboard import ServiceDashboard

        return ServiceDashboard(self, id, functions=[self])

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke the ``live`` alias."""
        return self.alias.grant_invoke(grantee)


@jsii.implements(IStableNumberProducer)
class _AlarmCount:
    def __init__(self, alarms: list[cloudwatch.Alarm]) -> None:
        self._alarms = alarms

    def produce(self) -> int:
        return len(self._alarms)


_NO_DLQ_REASON = {
    Invocation.SYNC: "Invoked synchronously: the caller receives the error; there is no event to dead-letter.",
    Invocation.QUEUE: "Invoked by an SQS event source mapping: the source queue's redrive DLQ is the failure path.",
    Invocation.STREAM: "Invoked by a stream event source mapping: its on-failure destination is the failure path.",
}


def _resolve_memory(memory: Memory | int | None) -> Memory | Problem:
    if memory is None:
        return Memory.io_bound()
    if isinstance(memory, Memory):
        return memory
    if isinstance(memory, int) and not isinstance(memory, bool):
        return Memory.mb(memory)
    return Problem("memory", memory, "a Memory (Memory.io_bound(), Memory.mb(n), ...) or an int of MB")


def _resolve_provisioned(
    value: ProvisionedConcurrency | _Default | None, invocation: Invocation
) -> ProvisionedConcurrency | Problem | None:
    if value is DEFAULT:
        return ProvisionedConcurrency() if invocation is Invocation.SYNC else None
    if value is None or isinstance(value, ProvisionedConcurrency):
        return value
    return Problem("provisioned_concurrency", value, "a ProvisionedConcurrency(...) or None")


def _concurrency_problems(reserved: int | None, pc: ProvisionedConcurrency | Problem | None) -> list[Problem]:
    if reserved is None or limits.is_unresolved(reserved):
        return []
    problem = limits.check_int_range(
        "reserved_concurrency",
        reserved,
        limits.Range(1, 100_000),
        "0 would stop the function; leave it None for no cap",
    )
    if problem:
        return [problem]
    if isinstance(pc, ProvisionedConcurrency) and not pc.problems() and reserved < pc.max_capacity:
        return [
            Problem(
                "reserved_concurrency",
                reserved,
                f">= provisioned_concurrency.max_capacity ({pc.max_capacity})",
                "reserved concurrency caps the function, so it must leave room for every provisioned environment",
            )
        ]
    return []


def _environment_problems(environment: Mapping[str, str] | None) -> list[Problem]:
    if environment is None:
        return []
    if not isinstance(environment, Mapping):
        return [Problem("environment", environment, "a mapping of str to str")]
    problems = []
    for key, value in environment.items():
        if not isinstance(key, str) or not _ENV_KEY.match(key):
            problems.append(Problem(f"environment[{key!r}]", key, "a name matching [a-zA-Z][a-zA-Z0-9_]+"))
        elif key in _RESERVED_ENV:
            problems.append(
                Problem(
                    f"environment[{key!r}]", key, "a name Lambda does not reserve", "Lambda sets this variable itself"
                )
            )
        if not isinstance(value, str):
            problems.append(Problem(f"environment[{key!r}]", value, "a string"))
    if problems:
        return problems
    resolved = {k: v for k, v in environment.items() if not Token.is_unresolved(v)}
    size = limits.environment_size_bytes(resolved)
    if size > limits.ENVIRONMENT_MAX_BYTES:
        return [
            Problem(
                "environment",
                f"{size} bytes",
                f"<= {limits.ENVIRONMENT_MAX_BYTES} bytes in total (keys + values, Lambda quota)",
                "move large values to SSM Parameter Store",
            )
        ]
    return []


def _deployment_problems(deployment: object) -> list[Problem]:
    if not isinstance(deployment, Deployment):
        return [
            Problem("deployment", deployment, "a Deployment (Deployment.canary(...), .linear(...), .all_at_once())")
        ]
    return deployment.problems()
