"""ProductionFunction: a Lambda function with production defaults, and its timeout helper."""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import Annotations, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, Node

from lambda_constructs import _cdk
from lambda_constructs.core import limits
from lambda_constructs.core.config import DEFAULT, Invocation, ProvisionedConcurrency, _Default
from lambda_constructs.core.errors import ConfigurationError, Problem, Problems
from lambda_constructs.core.sizing import DEFAULT_TIMEOUT_MULTIPLIER, Memory, Sizing, timeout_seconds_from_p99_ms
from lambda_constructs.function import code as code_info
from lambda_constructs.function import options
from lambda_constructs.function.deployment import Deployment, build_deployment_group
from lambda_constructs.function.powertools import Powertools

if TYPE_CHECKING:
    from lambda_constructs.function.dashboard import ServiceDashboard

LATEST_PYTHON = lambda_.Runtime.PYTHON_3_14
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DEFAULT_ASYNC_RETRY_ATTEMPTS = 2  # AWS's own default, set explicitly (EventInvokeConfig)
DEFAULT_MAX_EVENT_AGE = Duration.hours(6)  # AWS's own default (21,600 s), set explicitly
DURATION_ALARM_FRACTION = _cdk.DURATION_ALARM_FRACTION
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

    "A timeout is a contract": set it to roughly 2-3 x the measured p99 ("Lambda in Production").
    Raises :class:`~lambda_constructs.ConfigurationError` for a
    value that is not a Duration, p99 <= 0, or a result above 900 s (the message points at Step
    Functions).
    """
    problem = _cdk.duration_problem("p99", p99, whole_seconds=False, concrete=True)
    if problem:
        raise ConfigurationError([problem])
    return Duration.seconds(timeout_seconds_from_p99_ms(p99.to_milliseconds(integral=False), multiplier))


SNAPSTART_RUNTIMES = re.compile(r"^(java(11|17|21|25)|python3\.(1[2-9])|dotnet([89]|1\d))$")
SNAPSTART_MAX_EPHEMERAL_MB = 512
EPHEMERAL_MIN_MB, EPHEMERAL_MAX_MB = 512, 10_240
MAX_LAYERS = 5
HANDLER_MAX = 128


@jsii.implements(lambda_.IFunction)
class ProductionFunction(Construct):
    """A Lambda function with the production defaults teams otherwise get wrong.

    Creates a function (arm64, active X-Ray tracing, JSON logs at INFO, latest Python, a log
    group with retention, a least-privilege role), a published version behind a ``live`` alias,
    provisioned concurrency with target-tracking auto scaling at 0.7 (SYNC by default), an
    encrypted failure queue as onFailure destination (ASYNC), and alarms.

    It is usable wherever aws-cdk-lib takes a function: it implements ``aws_lambda.IFunction``
    (and so ``IGrantable``) by delegating to the ``live`` alias, so ``bucket.grant_read(fn)``,
    ``events_targets.LambdaFunction(fn)`` or ``HttpLambdaIntegration("I", fn)`` grant to its role
    and invoke ``live`` (provisioned concurrency and safe deployments apply).

    Every value is validated at construction; a bad one raises
    :class:`~lambda_constructs.ConfigurationError` naming this construct's path, the prop,
    the value and the allowed range, before any resource is created.

    Every other property of ``aws_lambda.FunctionOptions`` (``vpc``, ``layers``, ``snap_start``,
    ``environment_encryption``, ``filesystem``, ``params_and_secrets``, ...) is accepted under the
    same keyword and forwarded unchanged; the full table is in docs/production-function.md and
    ``lambda_constructs.function.options``.

    Args:
        code: ``lambda_.Code.from_asset(...)``, an image (``Code.from_asset_image(...,
            platform=Platform.LINUX_ARM64)``, ``Code.from_ecr_image``) or a ``DockerImageCode``.
        handler: e.g. ``"app.handler"``; not for images (set to FROM_IMAGE for you).
        runtime: default the latest Python runtime (``LATEST_PYTHON``, Python 3.14).
        p99: the measured p99 duration. The timeout becomes ``timeout_from_p99(p99,
            timeout_multiplier)``. Give exactly one of ``p99``, ``sizing`` or ``timeout``.
        sizing: a :class:`~lambda_constructs.Sizing` written by ``lambda-constructs measure``.
        timeout: a fixed timeout (1..899 s, whole seconds), with a warning: not measured.
        timeout_multiplier: 1..10, default 3 (2-3 x p99).
        memory: a :class:`~lambda_constructs.Memory` or an int of MB; default 1,024 MB.
        invocation: how callers invoke the function; default ``Invocation.SYNC``.
        provisioned_concurrency: default ``ProvisionedConcurrency()`` for SYNC (off with
            ``snap_start``), none otherwise. ``None`` turns it off.
        reserved_concurrency: caps the function; must be >= the provisioned max.
        environment: environment variables; 4 KB in total, counted as Lambda does.
        alarm_topic: SNS topic for every alarm's action.
        log_retention: default one month.
        log_removal_policy: applied to the function's log group.
        architecture: default ``ARM_64`` (about 20 % cheaper per GB-second).
        retry_attempts: async retries, 0..2, default 2 (AWS's default, set explicitly).
        max_event_age: async event age, 60 s..6 h, default 6 h (AWS's default, set explicitly).
        on_failure: an async failure destination; replaces the library's failure queue.
        on_success: an async success destination, added beside the failure one.
        tracing: default ``ACTIVE``; anything else adds a warning.
        logging_format: default JSON (the request id in every line).
        application_log_level_v2: default INFO with JSON logs.
        system_log_level_v2: default INFO with JSON logs (WARN would drop START/REPORT).
        powertools: a :class:`~lambda_constructs.Powertools`: the public layer and its environment.
        events: event sources, attached to the ``live`` alias.
        deployment: a :class:`~lambda_constructs.Deployment` (CodeDeploy on ``live``).
    """

    def __init__(  # noqa: C901 - one flat validation closure; the checks themselves live in helpers
        self,
        scope: Construct,
        id: str,
        *,
        code: lambda_.Code | lambda_.DockerImageCode,
        handler: str | None = None,
        runtime: lambda_.Runtime | None = None,
        p99: Duration | None = None,
        sizing: Sizing | str | os.PathLike[str] | None = None,
        timeout: Duration | None = None,
        timeout_multiplier: float = DEFAULT_TIMEOUT_MULTIPLIER,
        memory: Memory | int | None = None,
        invocation: Invocation = Invocation.SYNC,
        provisioned_concurrency: ProvisionedConcurrency | _Default | None = DEFAULT,
        reserved_concurrency: int | None = None,
        environment: Mapping[str, str] | None = None,
        alarm_topic: sns.ITopic | None = None,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        log_removal_policy: RemovalPolicy | None = None,
        architecture: lambda_.Architecture | None = None,
        retry_attempts: int = DEFAULT_ASYNC_RETRY_ATTEMPTS,
        max_event_age: Duration = DEFAULT_MAX_EVENT_AGE,
        on_failure: lambda_.IDestination | None = None,
        on_success: lambda_.IDestination | None = None,
        description: str | None = None,
        function_name: str | None = None,
        role: iam.IRole | None = None,
        deployment: Deployment | None = None,
        powertools: Powertools | None = None,
        events: Sequence[lambda_.IEventSource] | None = None,
        tracing: lambda_.Tracing | None = None,
        logging_format: lambda_.LoggingFormat | None = None,
        application_log_level_v2: lambda_.ApplicationLogLevel | None = None,
        system_log_level_v2: lambda_.SystemLogLevel | None = None,
        # forwarded unchanged to aws_lambda.Function (validated for type first)
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        allow_public_subnet: bool | None = None,
        allow_all_outbound: bool | None = None,
        allow_all_ipv6_outbound: bool | None = None,
        ipv6_allowed_for_dual_stack: bool | None = None,
        layers: Sequence[lambda_.ILayerVersion] | None = None,
        ephemeral_storage_size: Size | None = None,
        snap_start: lambda_.SnapStartConf | None = None,
        environment_encryption: kms.IKey | None = None,
        code_signing_config: lambda_.ICodeSigningConfig | None = None,
        filesystem: lambda_.FileSystem | None = None,
        params_and_secrets: lambda_.ParamsAndSecretsLayerVersion | None = None,
        adot_instrumentation: lambda_.AdotInstrumentationConfig | None = None,
        insights_version: lambda_.LambdaInsightsVersion | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        dead_letter_queue_enabled: bool | None = None,
        dead_letter_topic: sns.ITopic | None = None,
        runtime_management_mode: lambda_.RuntimeManagementMode | None = None,
        recursive_loop: lambda_.RecursiveLoop | None = None,
        initial_policy: Sequence[iam.PolicyStatement] | None = None,
        current_version_options: lambda_.VersionOptions | None = None,
        profiling: bool | None = None,
        profiling_group: Any = None,
        tenancy_config: Any = None,
        durable_config: Any = None,
    ) -> None:
        given = {k: v for k, v in locals().items() if k in options.FORWARDED}
        passthrough = {k: given[k] for k in options.PASS_THROUGH if given.get(k) is not None}
        memory_value = _resolve_memory(memory)
        if snap_start is not None and provisioned_concurrency is DEFAULT:
            provisioned_concurrency = None  # SnapStart is then the cold-start strategy (annotated below)
            snap_start_replaced_pc = invocation is Invocation.SYNC
        else:
            snap_start_replaced_pc = False
        resolved_pc = _resolve_provisioned(provisioned_concurrency, invocation)
        image = code_info.is_image(code)
        arm64 = architecture is None or architecture is _arm64()
        runtime_name = _runtime_name(runtime, image)
        package_bytes = code_info.asset_unzipped_bytes(code)
        self._timeout_seconds = 0
        self._p99_ms: float | None = None

        def check(problems: Problems) -> None:
            problems.extend(options.forwarded_problems(given))
            problems.add(_cdk.topic_problem(alarm_topic))
            self._check_code(problems, code, handler, runtime, image, arm64)
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
            env = dict(environment or {}) if isinstance(environment, Mapping | None) else environment
            if isinstance(powertools, Powertools) and isinstance(env, dict):
                env = {**powertools.environment(), **env}
            problems.extend(_environment_problems(env))
            if function_name is not None and not (
                (isinstance(function_name, str) and _FUNCTION_NAME.match(function_name)) or _cdk.is_token(function_name)
            ):
                problems.add(Problem("function_name", function_name, "1..64 characters of a-z, A-Z, 0-9, - and _"))
            if invocation is Invocation.ASYNC or on_failure is not None or on_success is not None:
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
            if powertools is not None:
                if isinstance(powertools, Powertools):
                    problems.extend(powertools.problems(runtime_name))
                else:
                    problems.add(Problem("powertools", powertools, "a Powertools(service=...)"))
            problems.extend(
                _surface_problems(
                    runtime_name=runtime_name,
                    image=image,
                    provisioned=provisioned_concurrency,
                    snap_start=snap_start,
                    filesystem=filesystem,
                    ephemeral=ephemeral_storage_size,
                    layers=layers,
                    extra_layers=1 if powertools is not None else 0,
                    vpc=vpc,
                    vpc_subnets=vpc_subnets,
                    security_groups=security_groups,
                    allow_public_subnet=allow_public_subnet,
                    allow_all_outbound=allow_all_outbound,
                    allow_all_ipv6_outbound=allow_all_ipv6_outbound,
                    ipv6_allowed_for_dual_stack=ipv6_allowed_for_dual_stack,
                    logging_format=logging_format,
                    levels=(application_log_level_v2, system_log_level_v2),
                )
            )
            problems.add(code_info.package_size_problem(package_bytes))

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        assert isinstance(memory_value, Memory) and not isinstance(resolved_pc, Problem)

        self.invocation: Invocation = invocation
        self.memory: Memory = memory_value
        self.memory_size: int = memory_value.size_mb
        self.timeout: Duration = Duration.seconds(self._timeout_seconds)
        self.sizing: Sizing | None = self.sizing if isinstance(sizing, str | os.PathLike) else sizing
        self.provisioned_concurrency: ProvisionedConcurrency | None = resolved_pc
        self.reserved_concurrency: int | None = reserved_concurrency
        self.alarm_topic: sns.ITopic | None = alarm_topic
        self.powertools: Powertools | None = powertools
        self.alarms: list[cloudwatch.Alarm] = []

        self._acks: list[tuple[str, str]] = []  # applied in one call at the end (two jsii round trips)
        self.log_group = logs.LogGroup(self, "LogGroup", retention=log_retention)
        if log_removal_policy is not None:
            self.log_group.apply_removal_policy(log_removal_policy)
        self._role: iam.IRole = role or self._build_role()
        # the function logs only to its own group: grant exactly that, to our role or the one given
        self._role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]
            )
        )
        arch = architecture or _arm64()
        env = dict(environment or {})
        layer_list = list(layers or [])
        if powertools is not None:
            stack = Stack.of(self)
            env = {**powertools.environment(), **env}
            layer_list.append(
                lambda_.LayerVersion.from_layer_version_arn(
                    self,
                    "PowertoolsLayer",
                    powertools.layer_arn(runtime_name, arm64, stack.region, stack.partition),
                )
            )
        json_logs = logging_format in (None, lambda_.LoggingFormat.JSON)
        function_cls = lambda_.DockerImageFunction if isinstance(code, lambda_.DockerImageCode) else lambda_.Function
        image_args: dict[str, Any] = (
            {}
            if function_cls is lambda_.DockerImageFunction
            else {
                "handler": lambda_.Handler.FROM_IMAGE if image else handler,
                "runtime": lambda_.Runtime.FROM_IMAGE if image else runtime or LATEST_PYTHON,
            }
        )
        self.function: lambda_.Function = function_cls(
            self,
            "Function",
            code=code_info.for_stack(code, self),  # one asset per stack: a shared Code works across stacks
            **image_args,
            architecture=arch,
            memory_size=self.memory_size,
            timeout=self.timeout,
            tracing=tracing or lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON if json_logs else logging_format,
            application_log_level_v2=application_log_level_v2
            or (lambda_.ApplicationLogLevel.INFO if json_logs else None),
            system_log_level_v2=system_log_level_v2 or (lambda_.SystemLogLevel.INFO if json_logs else None),
            role=self._role,
            environment=env or None,
            layers=layer_list or None,
            reserved_concurrent_executions=self.reserved_concurrency,
            description=description,
            function_name=function_name,
            **passthrough,
        )
        self._cfn: lambda_.CfnFunction = self.function.node.default_child  # type: ignore[assignment]
        if self.invocation is not Invocation.ASYNC:
            self._acks.append(("Serverless-LambdaDLQ", _NO_DLQ_REASON[self.invocation]))
        if vpc is not None and role is None:
            self._acks.append(
                (
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaVPCAccessExecutionRole]",
                    "aws-cdk-lib attaches AWS's AWSLambdaVPCAccessExecutionRole to a VPC function's role: the ENI "
                    "actions (ec2:CreateNetworkInterface, ...) it grants support no resource-level scoping.",
                )
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
        for source in events or ():
            self.alias.add_event_source(source)
        self.scalable_target: appscaling.ScalableTarget | None = (
            self._build_autoscaling(resolved_pc) if resolved_pc else None
        )
        self.failure_queue: sqs.IQueue | None = None
        if invocation is Invocation.ASYNC or on_failure is not None or on_success is not None:
            self._build_async_paths(retry_attempts, max_event_age, on_failure, on_success)
        self._build_alarms()
        self._record_metadata(timeout is not None, timeout_multiplier)
        self._annotate(
            snap_start_replaced_pc=snap_start_replaced_pc,
            tracing=tracing,
            package_bytes=package_bytes,
            ecr_image=isinstance(code, lambda_.EcrImageCode),
        )
        self.deployment_group: codedeploy.LambdaDeploymentGroup | None = (
            build_deployment_group(self, deployment) if deployment is not None else None
        )
        _cdk.acknowledge_all(self, self._acks)

    # ------------------------------------------------------------------ validation

    @staticmethod
    def _check_code(
        problems: Problems, code: object, handler: object, runtime: object, image: bool, arm64: bool
    ) -> None:
        if not isinstance(code, lambda_.Code | lambda_.DockerImageCode):
            problems.add(Problem("code", _cdk.short(code), "an aws_lambda.Code or aws_lambda.DockerImageCode"))
            return
        if runtime is not None and not isinstance(runtime, lambda_.Runtime):
            problems.add(Problem("runtime", runtime, "an aws_lambda.Runtime, e.g. Runtime.PYTHON_3_13"))
        if image:
            problems.add(code_info.image_platform_problem(code, arm64))
            if handler is not None and handler != lambda_.Handler.FROM_IMAGE:
                problems.add(Problem("handler", handler, "None for a container image (the image's CMD is the handler)"))
            if runtime is not None and runtime is not lambda_.Runtime.FROM_IMAGE:
                problems.add(Problem("runtime", getattr(runtime, "name", runtime), "None for a container image"))
            return
        if not isinstance(handler, str) or not handler.strip() or len(handler) > HANDLER_MAX:
            problems.add(
                Problem(
                    "handler",
                    _cdk.short(handler),
                    f"a non-empty string of at most {HANDLER_MAX} characters, such as 'app.handler'",
                )
            )

    def _check_timeout(
        self,
        problems: Problems,
        p99: Duration | None,
        sizing: Sizing | str | os.PathLike[str] | None,
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
                    "prefer p99: the timeout is then derived as p99 x multiplier",
                )
            )
            return
        if timeout is not None:
            problem = _cdk.duration_problem("timeout", timeout, concrete=True) or limits.check_range(
                "timeout",
                _cdk.seconds(timeout),
                limits.Range(limits.TIMEOUT_MIN_S, limits.TIMEOUT_MAX_S - 1, "s"),
                "900 s is Lambda's maximum set 'just in case' (the rule pack refuses it); "
                "work that long belongs in Step Functions",
            )
            problems.add(problem)
            if problem is None:
                self._timeout_seconds = _cdk.seconds(timeout)
            return
        if sizing is not None:
            if isinstance(sizing, str | os.PathLike):  # a path: read here, so errors name this construct
                sizing = Sizing.from_file(sizing)
                self.sizing = sizing
            if not isinstance(sizing, Sizing):
                problems.add(
                    Problem("sizing", _cdk.short(sizing), "a Sizing, e.g. Sizing.from_file('sizing/orders.json')")
                )
                return
            p99_ms = sizing.p99_ms
            prop = "sizing"
        else:
            problem = _cdk.duration_problem("p99", p99, whole_seconds=False, concrete=True)
            if problem:
                problems.add(problem)
                return
            p99_ms = p99.to_milliseconds(integral=False)  # type: ignore[union-attr]
            prop = "p99"
        self._p99_ms = p99_ms
        try:
            self._timeout_seconds = timeout_seconds_from_p99_ms(p99_ms, multiplier)
        except ConfigurationError as error:
            problems.extend(
                Problem(
                    prop if p.prop == "p99" else "timeout_multiplier" if p.prop == "multiplier" else p.prop,
                    p.value,
                    p.allowed,
                    p.hint,
                )
                for p in error.problems
            )
            return
        if self._timeout_seconds >= limits.TIMEOUT_MAX_S:
            problems.add(
                Problem(
                    prop,
                    f"{p99_ms:g} ms",
                    f"p99 x {multiplier} < {limits.TIMEOUT_MAX_S} s (got {self._timeout_seconds} s)",
                    "a 900 s timeout is the maximum the rule pack refuses; work this long belongs in Step Functions",
                )
            )

    # ------------------------------------------------------------------ building

    def _build_role(self) -> iam.Role:
        """A role with only what the function needs to log; X-Ray adds its own statement."""
        role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Execution role: writes to its own log group only",
        )
        self._acks.append(
            (
                "AwsSolutions-IAM5[Resource::*]",
                "Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords "
                "support no resource-level permissions, so AWS requires Resource '*'.",
            )
        )
        return role

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

    def _build_async_paths(
        self,
        retry_attempts: int,
        max_event_age: Duration,
        on_failure: lambda_.IDestination | None,
        on_success: lambda_.IDestination | None,
    ) -> None:
        """Async invoke config on $LATEST and ``live``: the user's destinations, else our failure queue."""
        if on_failure is None and self.invocation is Invocation.ASYNC:
            queue = _cdk.secure_queue(self, "FailureQueue")
            self._acks += _cdk.dead_letter_target_acks("The FailureQueue (the function's onFailure destination)")
            self.failure_queue = queue
            on_failure = destinations.SqsDestination(queue)
        if on_failure is not None:
            self._acks.append(
                (
                    "Serverless-LambdaDLQ",
                    "Failed asynchronous events go to the onFailure destination, which supersedes a "
                    "DeadLetterConfig: it records the request, the response and the error, for $LATEST and live.",
                )
            )
        for target in (self.function, self.alias):
            target.configure_async_invoke(
                on_failure=on_failure,
                on_success=on_success,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            )

    def _build_alarms(self) -> None:
        period = _cdk.ALARM_PERIOD
        path = _cdk.path_of(self)
        self.alarms.extend(_cdk.function_alarms(self, self.function, self._timeout_seconds, self.alarm_topic))
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
                    description=f"{path}: invocations spilled over provisioned concurrency onto cold "
                    "starts; auto scaling reacts to 3-minute averages, so raise min/max capacity.",
                )
            )
        if self.failure_queue is not None:
            self.add_alarm(
                _cdk.queue_depth_alarm(
                    self, "FailureQueueAlarm", self.failure_queue, f"{path} failure queue", self.alarm_topic
                )
            )

    def _annotate(
        self, *, snap_start_replaced_pc: bool, tracing: object, package_bytes: int | None, ecr_image: bool
    ) -> None:
        notes = _LazyAnnotations(self)  # Annotations.of only when there is something to say
        if snap_start_replaced_pc:
            notes.add_info(
                "snap_start is set, so the default provisioned concurrency is off: AWS does not support SnapStart "
                "with provisioned concurrency, and SnapStart is then this function's cold-start strategy."
            )
        if tracing is not None and tracing is not lambda_.Tracing.ACTIVE:
            notes.add_warning_v2(
                "lambda-constructs:tracing-not-active",
                f"tracing={getattr(tracing, 'name', tracing)}: without active X-Ray tracing a slow or failing "
                "request cannot be followed across services; Tracing.ACTIVE is the default.",
            )
        if package_bytes is not None and package_bytes > code_info.PACKAGE_WARN_MB * 1024 * 1024:
            notes.add_warning_v2(
                "lambda-constructs:package-size",
                f"the code asset is {package_bytes / 1024 / 1024:.1f} MB unzipped (> {code_info.PACKAGE_WARN_MB} MB): "
                "cold starts grow with package size; move dependencies to a Lambda layer (target under 3 MB).",
            )
        if ecr_image:
            notes.add_warning_v2(
                "lambda-constructs:ecr-image-platform",
                "an ECR image's platform cannot be checked at synthesis: make sure it was built for "
                f"{'linux/arm64' if self.architecture is lambda_.Architecture.ARM_64 else 'linux/amd64'}.",
            )

    def _record_metadata(self, fixed_timeout: bool, multiplier: float) -> None:
        timeout: dict[str, Any] = {"seconds": self._timeout_seconds}
        if fixed_timeout:
            timeout["source"] = "fixed"
            Annotations.of(self).add_warning_v2(
                "lambda-constructs:timeout-not-measured",
                f"timeout={self._timeout_seconds} s was not derived from a measured p99. Measure p99 "
                "(lambda-constructs measure) and pass p99= or sizing= instead (timeout = 2-3 x p99).",
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
        # rewritten by add_alarms as event-source constructs add theirs (no Lazy: no callback during synth)
        data["alarms"] = len(self.alarms)
        self._metadata = data
        self._cfn.add_metadata(METADATA_KEY, data)

    # ------------------------------------------------------------------ public helpers

    @property
    def cfn_function(self) -> lambda_.CfnFunction:
        """The L1 AWS::Lambda::Function (escape hatch)."""
        return self._cfn

    @property
    def p99(self) -> Duration | None:
        """The measured p99 the timeout was derived from (None for a fixed timeout)."""
        return Duration.millis(self._p99_ms) if self._p99_ms is not None else None

    @property
    def timeout_seconds(self) -> int:
        return self._timeout_seconds

    def add_alarm(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        """Add an alarm to this function's set (deployment rollback, report and dashboard see it)."""
        self.add_alarms(alarm)
        return alarm

    def add_alarms(self, *alarms: cloudwatch.Alarm) -> list[cloudwatch.Alarm]:
        """Add several alarms; returns them as a list (what the event-source constructs expose)."""
        self.alarms.extend(alarms)
        metadata = getattr(self, "_metadata", None)
        if metadata is not None:  # the template records how many alarms watch the function
            metadata["alarms"] = len(self.alarms)
            self._cfn.add_metadata(METADATA_KEY, metadata)
        return list(alarms)

    def dashboard(self, id: str = "Dashboard") -> ServiceDashboard:
        """A ServiceDashboard of this one function (for a whole service, use ServiceDashboard)."""
        from lambda_constructs.function.dashboard import ServiceDashboard

        return ServiceDashboard(self, id, functions=[self])

    # ------------------------------------------------------------------ aws_lambda.IFunction, through `live`

    @property
    def role(self) -> iam.IRole:
        """The execution role (``grant_principal``)."""
        return self._role

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """Grants to the function (``bucket.grant_read(fn)``) go to its execution role."""
        return self._role.grant_principal

    @property
    def function_arn(self) -> str:
        """The ``live`` alias ARN: what integrations invoke."""
        return self.alias.function_arn

    @property
    def function_name(self) -> str:
        """``<function name>:live``: what integrations invoke."""
        return self.alias.function_name

    @property
    def function_ref(self) -> Any:
        return self.alias.function_ref

    @property
    def architecture(self) -> lambda_.Architecture:
        return self.function.architecture

    @property
    def connections(self) -> ec2.Connections:
        """Security-group connections (VPC functions only, as for ``aws_lambda.Function``)."""
        return self.function.connections

    @property
    def is_bound_to_vpc(self) -> bool:
        return self.function.is_bound_to_vpc

    @property
    def latest_version(self) -> lambda_.IVersion:
        return self.function.latest_version

    @property
    def permissions_node(self) -> Node:
        return self.alias.permissions_node

    @property
    def resource_arns_for_grant_invoke(self) -> list[str]:
        return self.alias.resource_arns_for_grant_invoke

    @property
    def env(self) -> Any:
        return self.alias.env

    @property
    def stack(self) -> Stack:
        return self.alias.stack

    @property
    def tenancy_config(self) -> Any:
        return getattr(self.function, "tenancy_config", None)

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        self.function.apply_removal_policy(policy)

    def add_event_source(self, source: lambda_.IEventSource) -> None:
        """Attach an event source to the ``live`` alias (never $LATEST)."""
        self.alias.add_event_source(source)

    def add_event_source_mapping(self, id: str, options: Any = None, **kwargs: Any) -> lambda_.EventSourceMapping:
        """An event source mapping on the ``live`` alias."""
        return self.alias.add_event_source_mapping(id, **_struct_kwargs(options, kwargs))

    def add_function_url(self, options: Any = None, **kwargs: Any) -> lambda_.FunctionUrl:
        """A Function URL on the ``live`` alias (AWS_IAM unless you pass auth_type)."""
        kwargs = _struct_kwargs(options, kwargs)
        kwargs.setdefault("auth_type", lambda_.FunctionUrlAuthType.AWS_IAM)
        return self.alias.add_function_url(**kwargs)

    def add_permission(self, id: str, permission: Any = None, **kwargs: Any) -> None:
        """A resource-based permission on the ``live`` alias."""
        self.alias.add_permission(id, **_struct_kwargs(permission, kwargs))

    def add_to_role_policy(self, statement: iam.PolicyStatement) -> None:
        self.function.add_to_role_policy(statement)

    def configure_async_invoke(self, options: Any = None, **kwargs: Any) -> None:
        """Async invoke config is set at construction: use on_success= / on_failure= / retry_attempts=."""
        from lambda_constructs.core.errors import ConfigurationError as _Error

        raise _Error(
            [
                Problem(
                    "configure_async_invoke",
                    _cdk.short(_struct_kwargs(options, kwargs)),
                    "the ProductionFunction keywords on_success=, on_failure=, retry_attempts=, max_event_age=",
                    "the library configures async invocation on $LATEST and live itself; a second config "
                    "would be refused by aws-cdk-lib (EventInvokeConfigAlreadyConfigured)",
                )
            ],
            self.node.path,
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke the ``live`` alias."""
        return self.alias.grant_invoke(grantee)

    def grant_invoke_composite_principal(self, composite_principal: iam.CompositePrincipal) -> list[iam.Grant]:
        return self.alias.grant_invoke_composite_principal(composite_principal)

    def grant_invoke_latest_version(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.function.grant_invoke_latest_version(grantee)

    def grant_invoke_url(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.alias.grant_invoke_url(grantee)

    def grant_invoke_version(self, grantee: iam.IGrantable, version: lambda_.IVersion) -> iam.Grant:
        return self.function.grant_invoke_version(grantee, version)

    def metric(self, metric_name: str, props: Any = None, **kwargs: Any) -> cloudwatch.Metric:
        """A metric of the ``live`` alias."""
        return self.alias.metric(metric_name, **_struct_kwargs(props, kwargs))

    def metric_duration(self, props: Any = None, **kwargs: Any) -> cloudwatch.Metric:
        return self.alias.metric_duration(**_struct_kwargs(props, kwargs))

    def metric_errors(self, props: Any = None, **kwargs: Any) -> cloudwatch.Metric:
        return self.alias.metric_errors(**_struct_kwargs(props, kwargs))

    def metric_invocations(self, props: Any = None, **kwargs: Any) -> cloudwatch.Metric:
        return self.alias.metric_invocations(**_struct_kwargs(props, kwargs))

    def metric_throttles(self, props: Any = None, **kwargs: Any) -> cloudwatch.Metric:
        return self.alias.metric_throttles(**_struct_kwargs(props, kwargs))


def _struct_kwargs(struct: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments from a jsii struct that aws-cdk-lib passed back positionally, plus ``kwargs``."""
    if struct is None:
        return dict(kwargs)
    if isinstance(struct, Mapping):
        return {**struct, **kwargs}
    return {**getattr(struct, "_values", {}), **kwargs}


_STATIC: dict[str, Any] = {}


class _LazyAnnotations:
    """``Annotations.of(scope)``, looked up on first use."""

    def __init__(self, scope: Construct) -> None:
        self._scope = scope
        self._notes: Annotations | None = None

    def _get(self) -> Annotations:
        if self._notes is None:
            self._notes = Annotations.of(self._scope)
        return self._notes

    def add_info(self, message: str) -> None:
        self._get().add_info(message)

    def add_warning_v2(self, id: str, message: str) -> None:
        self._get().add_warning_v2(id, message)


def _arm64() -> lambda_.Architecture:
    """``Architecture.ARM_64``, read from jsii once per process."""
    if "arm64" not in _STATIC:
        _STATIC["arm64"] = lambda_.Architecture.ARM_64
    return typing.cast(lambda_.Architecture, _STATIC["arm64"])


def _runtime_name(runtime: object, image: bool) -> str:
    if image:
        return "FROM_IMAGE"
    if runtime is None:
        if "latest" not in _STATIC:
            _STATIC["latest"] = LATEST_PYTHON.name
        return typing.cast(str, _STATIC["latest"])
    return runtime.name if isinstance(runtime, lambda_.Runtime) else str(runtime)


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
    resolved = {k: v for k, v in environment.items() if not _cdk.is_token(v)}
    size = limits.environment_size_bytes(resolved)
    if size > limits.ENVIRONMENT_MAX_BYTES:
        return [
            Problem(
                "environment",
                f"{size} bytes",
                f"<= {limits.ENVIRONMENT_MAX_BYTES} bytes as Lambda counts them (the map as compact JSON)",
                "move large values to SSM Parameter Store",
            )
        ]
    return []


def _surface_problems(
    *,
    runtime_name: str,
    image: bool,
    provisioned: object,
    snap_start: object,
    filesystem: object,
    ephemeral: object,
    layers: object,
    extra_layers: int,
    vpc: object,
    vpc_subnets: object,
    security_groups: object,
    allow_public_subnet: object,
    allow_all_outbound: object,
    allow_all_ipv6_outbound: object = None,
    ipv6_allowed_for_dual_stack: object = None,
    logging_format: object = None,
    levels: tuple[object, object],
) -> list[Problem]:
    """The combinations AWS rejects or that fail in production (AWS Lambda developer guide)."""
    found: list[Problem | None] = []
    ephemeral_mb: float | None = None
    if isinstance(ephemeral, Size) and not _cdk.is_token(ephemeral.to_mebibytes()):
        ephemeral_mb = ephemeral.to_mebibytes()
        found.append(
            limits.check_range(
                "ephemeral_storage_size",
                ephemeral_mb,
                limits.Range(EPHEMERAL_MIN_MB, EPHEMERAL_MAX_MB, "MB"),
                "Lambda's /tmp is 512..10,240 MB",
            )
        )
    if snap_start is not None:
        rule = "SnapStart (AWS Lambda developer guide, 'Improving startup performance with Lambda SnapStart')"
        if image or not SNAPSTART_RUNTIMES.match(runtime_name):
            found.append(
                Problem(
                    "snap_start",
                    runtime_name,
                    "a SnapStart runtime: Java 11+, Python 3.12+, .NET 8+ (zip packages only)",
                    f"{rule} does not support this runtime",
                )
            )
        if isinstance(provisioned, ProvisionedConcurrency):
            found.append(
                Problem(
                    "provisioned_concurrency",
                    provisioned,
                    "None with snap_start",
                    f"AWS does not support {rule} with provisioned concurrency: pick one cold-start strategy",
                )
            )
        if filesystem is not None:
            found.append(Problem("filesystem", "an EFS file system", "None with snap_start", f"{rule}: no EFS"))
        if ephemeral_mb is not None and ephemeral_mb > SNAPSTART_MAX_EPHEMERAL_MB:
            found.append(
                Problem(
                    "ephemeral_storage_size",
                    f"{ephemeral_mb:g} MB",
                    f"<= {SNAPSTART_MAX_EPHEMERAL_MB} MB with snap_start",
                    f"{rule}: ephemeral storage above 512 MB is not supported",
                )
            )
    layer_list = list(layers) if isinstance(layers, Sequence) else []
    if len(layer_list) + extra_layers > MAX_LAYERS:
        found.append(
            Problem(
                "layers",
                f"{len(layer_list)} layers" + (" + the Powertools layer" if extra_layers else ""),
                f"at most {MAX_LAYERS} layers per function (Lambda quota)",
            )
        )
    if image and (layer_list or extra_layers):
        found.append(
            Problem(
                "layers",
                f"{len(layer_list) + extra_layers} layers",
                "none for a container image",
                "a container image cannot use layers: add the files to the image",
            )
        )
    for index, layer in enumerate(layer_list):
        runtimes = getattr(layer, "compatible_runtimes", None)
        if runtimes and not image and runtime_name not in {r.name for r in runtimes}:
            found.append(
                Problem(
                    f"layers[{index}]",
                    getattr(layer, "node", None) and layer.node.path,
                    f"a layer compatible with {runtime_name} (it lists {', '.join(sorted(r.name for r in runtimes))})",
                )
            )
    found.extend(
        _vpc_problems(
            vpc,
            vpc_subnets,
            security_groups,
            allow_public_subnet,
            allow_all_outbound,
            allow_all_ipv6_outbound,
            ipv6_allowed_for_dual_stack,
        )
    )
    if logging_format is lambda_.LoggingFormat.TEXT and any(level is not None for level in levels):
        found.append(
            Problem(
                "application_log_level_v2/system_log_level_v2",
                "set",
                "None with logging_format=TEXT",
                "log levels filter JSON logs only; keep the default JSON format",
            )
        )
    return [p for p in found if p]


def _vpc_problems(
    vpc: object,
    vpc_subnets: object,
    security_groups: object,
    allow_public_subnet: object,
    allow_all_outbound: object,
    allow_all_ipv6_outbound: object = None,
    ipv6_allowed_for_dual_stack: object = None,
) -> list[Problem]:
    found = []
    if vpc is None:
        for name, value in (
            ("security_groups", security_groups),
            ("vpc_subnets", vpc_subnets),
            ("allow_public_subnet", allow_public_subnet),
            ("allow_all_outbound", allow_all_outbound),
            ("allow_all_ipv6_outbound", allow_all_ipv6_outbound),
            ("ipv6_allowed_for_dual_stack", ipv6_allowed_for_dual_stack),
        ):
            if value is not None:
                found.append(Problem(name, _cdk.short(value), "None without vpc=", "pass vpc= to run in a VPC"))
        return found
    if security_groups is not None and allow_all_outbound is not None:
        found.append(
            Problem(
                "allow_all_outbound",
                allow_all_outbound,
                "None with security_groups=",
                "configure allow_all_outbound on the security group you pass",
            )
        )
    if not _cdk.implements(vpc, "select_subnets"):
        return found
    selection = _struct_kwargs(vpc_subnets, {})
    try:
        selected = vpc.select_subnets(**selection)  # type: ignore[attr-defined]
    except Exception as error:  # jsii raises RuntimeError for a selection the VPC cannot satisfy
        return [
            *found,
            Problem("vpc_subnets", _cdk.short(selection), "a selection the VPC has", str(error).split("\n")[0]),
        ]
    if selected.has_public and not allow_public_subnet:
        found.append(
            Problem(
                "vpc_subnets",
                _cdk.short(selection) if selection else "the VPC's default selection",
                "private subnets (or allow_public_subnet=True)",
                "a function in a public subnet gets no public IP and so no internet access; use private subnets "
                "with a NAT gateway or VPC endpoints",
            )
        )
    return found


def _deployment_problems(deployment: object) -> list[Problem]:
    if not isinstance(deployment, Deployment):
        return [
            Problem("deployment", deployment, "a Deployment (Deployment.canary(...), .linear(...), .all_at_once())")
        ]
    return deployment.problems()
