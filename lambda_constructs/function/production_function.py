"""ProductionFunction: a Lambda function with production defaults, and its timeout helper."""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import CfnResource, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_codeguruprofiler as codeguruprofiler
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, Node

from lambda_constructs import _cdk, _keys, _relations
from lambda_constructs.core.config import DEFAULT, Invocation, ProvisionedConcurrency, _Default
from lambda_constructs.core.errors import ConfigurationError, Problem
from lambda_constructs.core.plans.common import AlarmPlan
from lambda_constructs.core.plans.function import ALIAS_NAME as ALIAS_NAME
from lambda_constructs.core.plans.function import METADATA_KEY as METADATA_KEY
from lambda_constructs.core.plans.function import FunctionPlan, environment_problems
from lambda_constructs.core.sizing import DEFAULT_TIMEOUT_MULTIPLIER, Memory, Sizing, timeout_seconds_from_p99_ms
from lambda_constructs.function import _bundle, methods
from lambda_constructs.function import code as code_info
from lambda_constructs.function._checks import EPHEMERAL_MAX_MB as EPHEMERAL_MAX_MB
from lambda_constructs.function._checks import EPHEMERAL_MIN_MB as EPHEMERAL_MIN_MB
from lambda_constructs.function._checks import HANDLER_MAX as HANDLER_MAX
from lambda_constructs.function._checks import LATEST_PYTHON as LATEST_PYTHON
from lambda_constructs.function._checks import MAX_LAYERS as MAX_LAYERS
from lambda_constructs.function._checks import SNAPSTART_MAX_EPHEMERAL_MB as SNAPSTART_MAX_EPHEMERAL_MB
from lambda_constructs.function._checks import SNAPSTART_RUNTIMES as SNAPSTART_RUNTIMES
from lambda_constructs.function._checks import Facts, _arm64, _struct_kwargs, plan_production_function
from lambda_constructs.function.deployment import Deployment, build_deployment_group
from lambda_constructs.function.powertools import Powertools

if TYPE_CHECKING:
    from lambda_constructs.function.dashboard import ServiceDashboard

DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DEFAULT_ASYNC_RETRY_ATTEMPTS = 2  # AWS's own default, set explicitly (EventInvokeConfig)
DEFAULT_MAX_EVENT_AGE = Duration.hours(6)  # AWS's own default (21,600 s), set explicitly
DURATION_ALARM_FRACTION = _cdk.DURATION_ALARM_FRACTION


def timeout_from_p99(p99: Duration, multiplier: float = DEFAULT_TIMEOUT_MULTIPLIER) -> Duration:
    """The timeout for a measured ``p99``: p99 x ``multiplier`` rounded UP to whole seconds, >= 1 s.

    "A timeout is a contract": set it to roughly 2-3 x the measured p99 ("Lambda in Production").
    Raises [`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError] for a
    value that is not a Duration, p99 <= 0, or a result above 900 s (the message points at Step
    Functions).
    """
    problem = _cdk.duration_problem("p99", p99, whole_seconds=False, concrete=True)
    if problem:
        raise ConfigurationError([problem])
    return Duration.seconds(timeout_seconds_from_p99_ms(_cdk.milliseconds(p99), multiplier))  # type: ignore[arg-type]


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
    [`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError] naming this construct's path, the prop,
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
        sizing: a [`Sizing`][lambda_constructs.core.sizing.Sizing] written by ``lambda-constructs measure``.
        timeout: a fixed timeout (1..899 s, whole seconds), with a warning: not measured.
        timeout_multiplier: 1..10, default 3 (2-3 x p99).
        memory: a [`Memory`][lambda_constructs.core.sizing.Memory] or an int of MB; default 1,024 MB.
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
        powertools: a [`Powertools`][lambda_constructs.function.powertools.Powertools]: the public layer and its
            environment.
        events: event sources, attached to the ``live`` alias.
        deployment: a [`Deployment`][lambda_constructs.function.deployment.Deployment] (CodeDeploy on ``live``).
        encryption_key: a customer-managed KMS key (``aws_kms.IKey``) for the log group and the failure
            queue the library creates; the key policy gets the CloudWatch Logs statement (a key made in the
            app) or a warning names the statement to add (an imported key). Default: CloudWatch Logs' and
            SQS's own encryption (SSE-SQS). For the environment variables use ``environment_encryption``.
        removal_policy: what happens to the failure queue the library creates (``Invocation.ASYNC`` without
            ``on_failure``) when CloudFormation replaces it or the stack is deleted: default
            ``RemovalPolicy.RETAIN`` (it keeps its messages; "DeletionPolicy attribute", AWS CloudFormation user
            guide); ``RETAIN_ON_UPDATE_OR_DELETE`` or ``DESTROY`` otherwise. The log group follows
            ``log_removal_policy`` (aws-cdk-lib's default: RETAIN). See docs/operations.md.
    """

    _lc_live_function = True  # what deployment.py and dashboard.py recognise (function/_protocol.py)

    def __init__(
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
        recursive_loop: lambda_.RecursiveLoop | None = lambda_.RecursiveLoop.TERMINATE,
        initial_policy: Sequence[iam.PolicyStatement] | None = None,
        current_version_options: lambda_.VersionOptions | None = None,
        profiling: bool | None = None,
        profiling_group: codeguruprofiler.IProfilingGroup | None = None,
        tenancy_config: lambda_.TenancyConfig | None = None,
        durable_config: lambda_.DurableConfig | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        props = {k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")}
        plan, facts = plan_production_function(scope, id, self, props)  # the one validation path: raises
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self._build(plan, facts, props)
        _bundle.note(self, scope, id, plan.resource_count)  # inside a FunctionFleet bundle: its size, from the plan

    # ------------------------------------------------------------------ building (one pass, from the plan)

    def _build(self, plan: FunctionPlan, facts: Facts, p: Mapping[str, Any]) -> None:
        self.plan: FunctionPlan = plan
        self.invocation: Invocation = plan.invocation
        object.__setattr__(self, "_lc_tenancy", p["tenancy_config"] is not None)  # read by the sources, no jsii
        self.memory: Memory = plan.memory
        self.memory_size: int = plan.memory.size_mb
        self._timeout_seconds = plan.timeout_seconds
        self._p99_ms: float | None = plan.timeout.p99_ms
        self.timeout: Duration = _cdk.duration_seconds(plan.timeout_seconds)
        self.sizing: Sizing | None = plan.sizing
        self.provisioned_concurrency: ProvisionedConcurrency | None = plan.provisioned_concurrency
        self.reserved_concurrency: int | None = plan.reserved_concurrency
        self.alarm_topic: sns.ITopic | None = p["alarm_topic"]
        self.powertools: Powertools | None = p["powertools"]
        self.alarms: list[cloudwatch.Alarm] = []
        object.__setattr__(self, "_lc_alarm_prefix", plan.alarm_prefix)  # alarm_name(self, ...) reads no jsii

        self.encryption_key: kms.IKey | None = _keys.key_for(self, p["encryption_key"])
        self._environment: dict[str, str] = dict(plan.environment)  # add_environment checks against it
        self.log_group = _keys.log_group(self, "LogGroup", retention=p["log_retention"], key=self.encryption_key)
        if p["log_removal_policy"] is not None:
            self.log_group.apply_removal_policy(p["log_removal_policy"])
        role = p["role"]
        # the function logs only to its own group: grant exactly that, to our role or the one given
        logging = iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]
        )
        self._role: iam.IRole
        if role is None:
            own = self._build_role(p["vpc"] is not None, self._traced(p))
            own.add_to_policy(logging)  # the same statement as add_to_principal_policy, no result struct to read
            self._role = own
        else:
            self._role = role
            role.add_to_principal_policy(logging)
        self.function: lambda_.Function = self._build_function(plan, facts, p)
        _cdk.known_child(self.function, self, "Function")
        self._cfn: lambda_.CfnFunction = self.function.node.default_child  # type: ignore[assignment]
        _cdk.known_child(self._cfn, self.function, "Resource")
        if role is None and self._traced(p):  # our role has the X-Ray statement: the tracing mode is set here
            mode = "PassThrough" if p["tracing"] == lambda_.Tracing.PASS_THROUGH else "Active"
            self._cfn.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode=mode)
        role_cfn: CfnResource | None = None
        if role is None:  # Role is Fn::GetAtt of our role: its DependsOn edge is redundant (cfn-lint W3005)
            _cdk.known_child(self._role, self, "ServiceRole")
            role_cfn = typing.cast(CfnResource, self._role.node.default_child)
            _cdk.known_child(role_cfn, self._role, "Resource")
            _cdk.drop_role_depends_on(self._cfn, role_cfn, role=self._role)
        self.version: lambda_.Version = self.function.current_version
        self.alias = lambda_.Alias(
            self,
            "LiveAlias",
            alias_name=ALIAS_NAME,
            version=self.version,
            # With a Deployment, auto scaling alone owns provisioned concurrency (see deployment.py)
            provisioned_concurrent_executions=plan.alias_provisioned_executions,
        )
        for source in p["events"] or ():
            self.alias.add_event_source(source)
            arn, what = methods.event_source_arn(source)
            _relations.remember_mapping(self, arn, f"{_cdk.path_of(self)} (events=)", what)
        pc = plan.provisioned_concurrency
        self.scalable_target: appscaling.ScalableTarget | None = self._build_autoscaling(pc) if pc else None
        self.failure_queue: sqs.IQueue | None = None
        if plan.async_config:
            self._build_async_paths(plan, p["retry_attempts"], p["max_event_age"], p["on_failure"], p["on_success"])
        self._build_alarms(plan)
        deployment = p["deployment"]
        self.deployment_group: codedeploy.LambdaDeploymentGroup | None = (
            build_deployment_group(self, deployment, plan.deployment_alarms) if deployment is not None else None
        )
        # written once, after the deployment's alarms: the record counts every alarm the plan knows of; inside a
        # FunctionFleet bundle when the bundle is built, so the alarms its event sources add are counted too
        self._metadata: dict[str, Any] = dict(plan.metadata)
        self._metadata_written = False
        bundle = _bundle.current()
        if bundle is None:
            self._write_metadata()
        else:
            bundle.deferred.append(self._write_metadata)
        _cdk.annotate(self, plan.notes)
        # each acknowledgement on the one resource it is about
        _cdk.acknowledge_all(self._cfn, list(plan.acknowledgements))
        if role_cfn is not None:
            _cdk.acknowledge_all(role_cfn, list(plan.role_acknowledgements))
        if self.failure_queue is not None:
            _cdk.acknowledge_all(
                typing.cast(Construct, self.failure_queue.node.default_child),
                list(plan.failure_queue_acknowledgements),
            )

    @staticmethod
    def _traced(p: Mapping[str, Any]) -> bool:
        """Tracing that sends segments to X-Ray (ACTIVE, the default, or PASS_THROUGH): the role needs X-Ray."""
        return (p["tracing"] or lambda_.Tracing.ACTIVE) in (lambda_.Tracing.ACTIVE, lambda_.Tracing.PASS_THROUGH)

    def _build_role(self, vpc: bool, traced: bool) -> iam.Role:
        """A role with only what the function needs: its log group, X-Ray, and the ENI actions in a VPC.

        In a VPC, the AWS managed policy ``service-role/AWSLambdaVPCAccessExecutionRole``, exactly as aws-cdk-lib's
        ``Function`` attaches it to a role it creates itself (and only then): Lambda needs
        ``ec2:CreateNetworkInterface``, ``ec2:DescribeNetworkInterfaces``, ``ec2:DeleteNetworkInterface``, ... to
        create the function ("Giving Lambda functions access to resources in an Amazon VPC", Lambda developer
        guide: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html); without them CreateFunction
        fails.

        X-Ray's ``xray:PutTraceSegments`` and ``xray:PutTelemetryRecords`` support no resource-level permissions
        (Service Authorization Reference, "Actions, resources, and condition keys for AWS X-Ray":
        https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html), so their statement
        is on ``*``: it is the role's own inline policy ``XRayTracing`` (not the default policy that grants go
        to), and the acknowledgement of cdk-nag's AwsSolutions-IAM5 ``Resource::*`` is on the role resource
        alone: a later wildcard grant to the role lands in its default policy and is still reported.
        """
        inline = (
            {
                "XRayTracing": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
                        )
                    ]
                )
            }
            if traced
            else None
        )
        managed = (
            [iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaVPCAccessExecutionRole")]
            if vpc
            else None
        )
        return iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Execution role: writes to its own log group only",
            inline_policies=inline,
            managed_policies=managed,
        )

    def _build_function(self, plan: FunctionPlan, facts: Facts, p: Mapping[str, Any]) -> lambda_.Function:
        code, powertools, logging_format = p["code"], p["powertools"], p["logging_format"]
        layer_list = list(p["layers"] or [])
        if powertools is not None:
            stack = _cdk.stack_of(self)
            parameter = powertools.ssm_parameter(facts.runtime_name, facts.arm64)
            from aws_cdk import aws_ssm as ssm  # only for Powertools (startup of other apps stays lean)

            arn = (  # the public SSM parameter, resolved by CloudFormation at every deploy; else a pinned ARN
                ssm.StringParameter.value_for_string_parameter(self, parameter)
                if parameter is not None
                else powertools.layer_arn(facts.runtime_name, facts.arm64, stack.region, stack.partition)
            )
            layer_list.append(lambda_.LayerVersion.from_layer_version_arn(self, "PowertoolsLayer", arn))
        json_logs = logging_format in (None, lambda_.LoggingFormat.JSON)
        own_tracing = p["role"] is None and self._traced(p)
        function_cls = lambda_.DockerImageFunction if isinstance(code, lambda_.DockerImageCode) else lambda_.Function
        image_args: dict[str, Any] = (
            {}
            if function_cls is lambda_.DockerImageFunction
            else {
                "handler": lambda_.Handler.FROM_IMAGE if facts.image else p["handler"],
                "runtime": lambda_.Runtime.FROM_IMAGE if facts.image else p["runtime"] or LATEST_PYTHON,
            }
        )
        function = function_cls(
            self,
            "Function",
            code=code_info.for_stack(code, self),  # one asset per stack: a shared Code works across stacks
            **image_args,
            architecture=p["architecture"] or _arm64(),
            memory_size=self.memory_size,
            timeout=self.timeout,
            # our own role has the X-Ray statement already (its inline policy): aws-cdk-lib would add a second
            # one to the default policy, so it sets no tracing and the tracing config is written below
            tracing=lambda_.Tracing.DISABLED if own_tracing else p["tracing"] or lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON if json_logs else logging_format,
            application_log_level_v2=p["application_log_level_v2"]
            or (lambda_.ApplicationLogLevel.INFO if json_logs else None),
            system_log_level_v2=p["system_log_level_v2"] or (lambda_.SystemLogLevel.INFO if json_logs else None),
            role=self._role,
            environment=dict(plan.environment) or None,
            layers=layer_list or None,
            reserved_concurrent_executions=self.reserved_concurrency,
            description=p["description"],
            function_name=p["function_name"],
            **facts.passthrough,
        )
        return function  # with our own role, _build sets the tracing mode on the CfnFunction

    def _build_autoscaling(self, pc: ProvisionedConcurrency) -> appscaling.ScalableTarget:
        target = appscaling.ScalableTarget(
            self,
            "ProvisionedConcurrencyScaling",
            service_namespace=appscaling.ServiceNamespace.LAMBDA,
            scalable_dimension="lambda:function:ProvisionedConcurrency",
            resource_id=f"function:{self.function.function_name}:{ALIAS_NAME}",  # the alias's own name, known
            min_capacity=pc.min_capacity,
            max_capacity=pc.max_capacity,
            # Lambda's service-linked role for Application Auto Scaling, as aws-cdk's own
            # Alias.add_auto_scaling uses: no extra IAM role to create and audit.
            role=iam.Role.from_role_arn(self, "ScalingRole", _scaling_role_arn(_cdk.stack_of(self))),
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
        plan: FunctionPlan,
        retry_attempts: int,
        max_event_age: Duration,
        on_failure: lambda_.IDestination | None,
        on_success: lambda_.IDestination | None,
    ) -> None:
        """Async invoke config on $LATEST and ``live``: the user's destinations, else our failure queue."""
        if plan.failure_queue:
            queue = _cdk.secure_queue(
                self, "FailureQueue", encryption_key=self.encryption_key, removal=plan.removal_policy
            )
            self.failure_queue = queue
            on_failure = destinations.SqsDestination(queue)
        for target in (self.function, self.alias):
            target.configure_async_invoke(
                on_failure=on_failure,
                on_success=on_success,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            )

    def _build_alarms(self, plan: FunctionPlan) -> None:
        topic = self.alarm_topic
        for alarm in plan.alarms:
            self.alarms.append(_cdk.build_alarm(self, alarm, self._alarm_metric(alarm), topic))

    def _alarm_metric(self, alarm: AlarmPlan) -> cloudwatch.IMetric:
        """The metric an alarm of the plan reads, from the object that owns it."""
        period = _cdk.duration_seconds(alarm.period_s)
        if alarm.source == "function":
            read = {
                "Errors": self.function.metric_errors,
                "Throttles": self.function.metric_throttles,
                "Duration": self.function.metric_duration,
            }[alarm.metric]
            return read(period=period, statistic=alarm.statistic)
        if alarm.source == "alias":
            return self.alias.metric(alarm.metric, period=period, statistic=alarm.statistic)
        assert alarm.source == "failure_queue" and self.failure_queue is not None
        return self.failure_queue.metric_approximate_number_of_messages_visible(
            period=period, statistic=alarm.statistic
        )

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
        methods.refuse(self, methods.alarm_problems("add_alarm", (alarm,), self.alarms, self))
        self.add_alarms(alarm)
        return alarm

    def add_alarms(self, *alarms: cloudwatch.Alarm) -> list[cloudwatch.Alarm]:
        """Add several alarms; returns them as a list (what the event-source constructs expose)."""
        methods.refuse(self, methods.alarm_problems("add_alarms", alarms, self.alarms, self))
        self.alarms.extend(alarms)
        metadata = getattr(self, "_metadata", None)
        if metadata is not None:  # the template records how many alarms watch the function
            metadata["alarms"] = len(self.alarms)
            if self._metadata_written:  # else the deferred write (end of the fleet bundle) counts them
                self._cfn.add_metadata(METADATA_KEY, metadata)
        return list(alarms)

    def _write_metadata(self) -> None:
        self._metadata_written = True
        self._cfn.add_metadata(METADATA_KEY, self._metadata)

    def add_environment(self, key: str, value: str) -> ProductionFunction:
        """Add one environment variable, with the constructor's checks (name, reserved names, 4 KB in total).

        A key already set (at construction, by Powertools or by an earlier call) is refused rather than
        silently replaced. Returns the function, as ``aws_lambda.Function.add_environment`` does.
        """
        found: list[Problem | None] = []
        if not isinstance(key, str):
            found.append(Problem("add_environment(key)", _cdk.short(key), "a name matching [a-zA-Z][a-zA-Z0-9_]+"))
        elif key in self._environment:
            found.append(
                Problem(
                    "add_environment(key)",
                    key,
                    "a variable not set yet",
                    f"it is already {self._environment[key]!r}; pass the value at construction (environment=)",
                )
            )
        else:
            found.extend(
                Problem(p.prop.replace("environment", "add_environment(key, value)", 1), p.value, p.allowed, p.hint)
                for p in environment_problems({**self._environment, key: value})
            )
        methods.refuse(self, found)
        self._environment[key] = value
        self.function.add_environment(key, value)
        return self

    def dashboard(self, id: str = "Dashboard") -> ServiceDashboard:
        """A ServiceDashboard of this one function (for a whole service, use ServiceDashboard)."""
        _bundle.unknown(self)  # may add resources its plan did not count
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
        if not isinstance(policy, RemovalPolicy):
            methods.refuse(
                self, [Problem("apply_removal_policy(policy)", _cdk.short(policy), "an aws_cdk.RemovalPolicy")]
            )
        self.function.apply_removal_policy(policy)

    def add_event_source(self, source: lambda_.IEventSource) -> None:
        """Attach an event source to the ``live`` alias (never $LATEST), with the constructors' checks.

        Refused: anything that is not an ``IEventSource`` (an ARN string), an ``SqsEventSource`` whose queue's
        visibility timeout is below the function timeout (Lambda rejects the mapping at deploy), and a source
        this function already maps (by a QueueConsumer, a StreamConsumer or an earlier call).
        """
        methods.refuse(self, methods.event_source_problems(self, source))
        arn, what = methods.event_source_arn(source)
        _bundle.unknown(self)  # may add resources its plan did not count
        methods.guarded(self, "add_event_source(source)", lambda: self.alias.add_event_source(source), self.alias)
        _relations.remember_mapping(self, arn, f"{_cdk.path_of(self)}.add_event_source()", what)

    def add_event_source_mapping(self, id: str, options: Any = None, **kwargs: Any) -> lambda_.EventSourceMapping:
        """An event source mapping on the ``live`` alias."""
        kwargs = methods.merged(
            self, "add_event_source_mapping(options)", options, kwargs, lambda_.EventSourceMappingOptions
        )
        methods.refuse(self, methods.mapping_options_problems(self, id, kwargs))
        _bundle.unknown(self)  # may add resources its plan did not count
        mapping = methods.guarded(
            self, "add_event_source_mapping(id)", lambda: self.alias.add_event_source_mapping(id, **kwargs), self.alias
        )
        arn = kwargs.get("event_source_arn")
        _relations.remember_mapping(self, arn, f"{_cdk.path_of(self)}.add_event_source_mapping({id!r})", str(arn))
        return typing.cast(lambda_.EventSourceMapping, mapping)

    def add_function_url(self, options: Any = None, **kwargs: Any) -> lambda_.FunctionUrl:
        """A Function URL on the ``live`` alias (AWS_IAM unless you pass auth_type); one per alias."""
        kwargs = methods.merged(self, "add_function_url(options)", options, kwargs, lambda_.FunctionUrlOptions)
        methods.refuse(self, methods.function_url_problems(self, kwargs))
        kwargs.setdefault("auth_type", lambda_.FunctionUrlAuthType.AWS_IAM)
        _bundle.unknown(self)  # may add resources its plan did not count
        url = methods.guarded(self, "add_function_url", lambda: self.alias.add_function_url(**kwargs), self.alias)
        _relations.remember_marker(self, "function_url", f"{_cdk.path_of(self)}.add_function_url()")
        return typing.cast(lambda_.FunctionUrl, url)

    def add_permission(self, id: str, permission: Any = None, **kwargs: Any) -> None:
        """A resource-based permission on the ``live`` alias."""
        kwargs = methods.merged(self, "add_permission(permission)", permission, kwargs, lambda_.Permission)
        methods.refuse(self, methods.permission_problems(id, kwargs))
        _bundle.unknown(self)  # may add resources its plan did not count
        methods.guarded(self, "add_permission(id)", lambda: self.alias.add_permission(id, **kwargs), self.alias)

    def add_to_role_policy(self, statement: iam.PolicyStatement) -> None:
        methods.refuse(self, [methods.statement_problem(statement)])
        _bundle.unknown(self)  # may add resources its plan did not count
        self.function.add_to_role_policy(statement)

    def configure_async_invoke(self, options: Any = None, **kwargs: Any) -> None:
        """Async invoke config is set at construction: use on_success= / on_failure= / retry_attempts=."""
        methods.refuse(
            self,
            [
                Problem(
                    "configure_async_invoke(options)",
                    _cdk.short(_struct_kwargs(options, kwargs)),
                    "the ProductionFunction keywords on_success=, on_failure=, retry_attempts=, max_event_age=",
                    "the library configures async invocation on $LATEST and live itself; a second config "
                    "would be refused by aws-cdk-lib (EventInvokeConfigAlreadyConfigured)",
                )
            ],
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke the ``live`` alias."""
        methods.refuse(self, [methods.grantee_problem("grant_invoke", grantee, owner=self)])
        _bundle.unknown(self)  # may add resources its plan did not count
        return self.alias.grant_invoke(grantee)

    def grant_invoke_composite_principal(self, composite_principal: iam.CompositePrincipal) -> list[iam.Grant]:
        if not isinstance(composite_principal, iam.CompositePrincipal):
            methods.refuse(
                self,
                [
                    Problem(
                        "grant_invoke_composite_principal(composite_principal)",
                        _cdk.short(composite_principal),
                        "an aws_iam.CompositePrincipal",
                    )
                ],
            )
        _bundle.unknown(self)  # may add resources its plan did not count
        return self.alias.grant_invoke_composite_principal(composite_principal)

    def grant_invoke_latest_version(self, grantee: iam.IGrantable) -> iam.Grant:
        methods.refuse(self, [methods.grantee_problem("grant_invoke_latest_version", grantee, owner=self)])
        _bundle.unknown(self)  # may add resources its plan did not count
        return self.function.grant_invoke_latest_version(grantee)

    def grant_invoke_url(self, grantee: iam.IGrantable) -> iam.Grant:
        methods.refuse(self, [methods.grantee_problem("grant_invoke_url", grantee, owner=self)])
        _bundle.unknown(self)  # may add resources its plan did not count
        return self.alias.grant_invoke_url(grantee)

    def grant_invoke_version(self, grantee: iam.IGrantable, version: lambda_.IVersion) -> iam.Grant:
        found = [methods.grantee_problem("grant_invoke_version", grantee, owner=self)]
        if not _cdk.implements(version, "version"):
            found.append(Problem("grant_invoke_version(version)", _cdk.short(version), "an aws_lambda.IVersion"))
        else:
            found.append(_relations.same_app_problem(self, version, "grant_invoke_version(version)"))
        methods.refuse(self, found)
        _bundle.unknown(self)  # may add resources its plan did not count
        return self.function.grant_invoke_version(grantee, version)

    def metric(self, metric_name: str, props: Any = None, **kwargs: Any) -> cloudwatch.Metric:
        """A metric of the ``live`` alias (period 1, 5, 10, 30 s or a multiple of 60 s)."""
        kwargs = methods.merged(self, "metric(props)", props, kwargs, cloudwatch.MetricOptions)
        methods.refuse(self, methods.metric_problems("metric", kwargs, metric_name))
        return self.alias.metric(metric_name, **kwargs)

    def metric_duration(self, props: Any = None, **kwargs: Any) -> cloudwatch.Metric:
        kwargs = methods.merged(self, "metric_duration(props)", props, kwargs, cloudwatch.MetricOptions)
        methods.refuse(self, methods.metric_problems("metric_duration", kwargs))
        return self.alias.metric_duration(**kwargs)

    def metric_errors(self, props: Any = None, **kwargs: Any) -> cloudwatch.Metric:
        kwargs = methods.merged(self, "metric_errors(props)", props, kwargs, cloudwatch.MetricOptions)
        methods.refuse(self, methods.metric_problems("metric_errors", kwargs))
        return self.alias.metric_errors(**kwargs)

    def metric_invocations(self, props: Any = None, **kwargs: Any) -> cloudwatch.Metric:
        kwargs = methods.merged(self, "metric_invocations(props)", props, kwargs, cloudwatch.MetricOptions)
        methods.refuse(self, methods.metric_problems("metric_invocations", kwargs))
        return self.alias.metric_invocations(**kwargs)

    def metric_throttles(self, props: Any = None, **kwargs: Any) -> cloudwatch.Metric:
        kwargs = methods.merged(self, "metric_throttles(props)", props, kwargs, cloudwatch.MetricOptions)
        methods.refuse(self, methods.metric_problems("metric_throttles", kwargs))
        return self.alias.metric_throttles(**kwargs)


def _scaling_role_arn(stack: Stack) -> str:
    """The ARN of Lambda's service-linked role for Application Auto Scaling in ``stack`` (formatted once per stack)."""
    arn: str | None = getattr(stack, "_lc_scaling_role_arn", None)
    if arn is None:
        arn = stack.format_arn(
            service="iam",
            region="",
            resource="role/aws-service-role/lambda.application-autoscaling.amazonaws.com",
            resource_name="AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency",
        )
        object.__setattr__(stack, "_lc_scaling_role_arn", arn)
    return arn
