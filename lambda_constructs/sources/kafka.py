"""KafkaConsumer: Amazon MSK or self-managed Apache Kafka -> ProductionFunction, with a failure path."""

from __future__ import annotations

import enum
import typing
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problems
from lambda_constructs.core.plans import common as plans_common
from lambda_constructs.core.plans import kafka as plans
from lambda_constructs.core.plans.function import Reading
from lambda_constructs.core.plans.kafka import KafkaPlan
from lambda_constructs.function import _bundle
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources import _failure, _mapping
from lambda_constructs.sources._base import FunctionTarget

DEFAULT_BATCH_SIZE = plans.DEFAULT_BATCH_SIZE
DEFAULT_RETRY_ATTEMPTS = plans.DEFAULT_RETRY_ATTEMPTS  # Lambda's own cap when retries are infinite and a failure
# destination is set
DEFAULT_MAX_RECORD_AGE = Duration.days(1)
OFFSET_LAG_BATCHES = plans.OFFSET_LAG_BATCHES  # alarm when the consumer is this many full batches behind
ERROR_HANDLING_PAGE = plans.ERROR_HANDLING_PAGE
# the secret's access configuration type, by the name the plan decided (an AuthenticationMethod's)
_ACCESS = {name: getattr(lambda_.SourceAccessConfigurationType, name) for name in plans.AUTHENTICATION_METHODS}


class KafkaConsumer(Construct):
    """A Kafka event source mapping on the function's ``live`` alias, with an on-failure bucket and lag alarm.

    Kafka is a poll-based log like Kinesis (``Invocation.STREAM``): Lambda reads each partition in
    order and by default retries a failing batch forever, so one poison record stops its partition.
    Here every mapping has an on-failure destination; with a destination and unbounded retries Lambda
    stops after 10 retries and sends the failed batch there ("Configuring error handling controls for
    Kafka event sources", AWS Lambda developer guide). By default it is an S3 bucket (encrypted, TLS-only,
    public access blocked, objects expire after 14 days, retained), to which Lambda writes the entire
    invocation record with its metadata; an SQS or SNS destination receives the metadata only (partition,
    offsets) and the records stay on the topic only for its retention ("Capturing discarded batches for
    Amazon MSK and self-managed Apache Kafka event sources",
    https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html). Brokers in a VPC need a VPC
    endpoint (or a NAT route) to S3 for it, as they do to SQS.
    The finer error-handling controls (``retry_attempts``, ``max_record_age``,
    ``bisect_batch_on_error``, ``report_batch_item_failures``) exist only in provisioned mode, so they
    are set (10, 1 day, on, on) when ``provisioned_poller_config`` is, and refused without it.

    Give ``cluster_arn`` (Amazon MSK) or ``bootstrap_servers`` + ``secret`` (self-managed Kafka,
    SASL/SCRAM-512 by default; ``vpc``, ``vpc_subnets`` and ``security_group`` when the brokers are in
    a VPC).

    Every decision (cluster kind, batching, starting position, the error-handling controls, the failure path,
    access configurations, grants, alarms, warnings, resource count) is kept as ``.plan``, a
    ``core.plans.kafka.KafkaPlan``; ``.failure_plan`` is its failure path (``.plan.failure``).

    Args:
        function: the consumer, normally ``Invocation.STREAM``.
        topic: the Kafka topic (1..249 of ``A-Za-z0-9._-``).
        cluster_arn: an Amazon MSK cluster ARN.
        bootstrap_servers: self-managed brokers, ``["host:port", ...]``.
        secret: Secrets Manager secret with the broker credentials (MSK: SASL/SCRAM; self-managed: required).
        authentication_method: self-managed only; default SASL_SCRAM_512_AUTH.
        consumer_group_id: default none (Lambda generates one); 1..200 characters. Changing it
            replaces the mapping and starts a new group at ``starting_position``.
        starting_position: TRIM_HORIZON (default: a new consumer group starts at the earliest offset the
            topic still holds, so nothing is skipped; the handler must be idempotent and the first deploy
            may see a backlog), LATEST or AT_TIMESTAMP (with ``starting_position_timestamp``).
        batch_size: 1..10,000, default 100.
        max_batching_window: 0..300 s, default none (Lambda's 500 ms).
        provisioned_poller_config: ``aws_lambda.ProvisionedPollerConfig``: 1..200 minimum, 1..2,000 maximum pollers.
        retry_attempts: provisioned mode only; 0..10,000, default 10.
        max_record_age: provisioned mode only; 60 s..7 days, default 1 day.
        bisect_batch_on_error: provisioned mode only; default True.
        report_batch_item_failures: provisioned mode only; default True.
        filters: event filtering, patterns as ``aws_lambda.FilterCriteria.filter`` takes them; 5 per mapping.
        metrics_config: ``aws_lambda.MetricsConfig``; EVENT_COUNT, ERROR_COUNT and KAFKA_METRICS.
        offset_lag_threshold: OffsetLag alarm in records; default 10 full batches (1,000 at batch_size 100).
        alarm_topic: default the function's topic.
        on_failure: ``"bucket"`` (default, the whole batch), ``"queue"`` (an encrypted, TLS-only SQS queue
            kept 14 days, metadata only: a warning says so) or an ``aws_lambda.IEventSourceDlq`` of your own.
        removal_policy: what happens to the on-failure bucket or queue when CloudFormation replaces it or the
            stack is deleted: default ``RemovalPolicy.RETAIN`` (it keeps what it holds; "DeletionPolicy
            attribute", AWS CloudFormation user guide); ``RETAIN_ON_UPDATE_OR_DELETE`` or ``DESTROY``
            otherwise (a bucket that holds objects cannot be deleted: empty it first). See docs/operations.md.
        encryption_key: a customer-managed KMS key (``aws_kms.IKey``) for the on-failure bucket (SSE-KMS with
            a Bucket Key; the role gets ``kms:GenerateDataKey``) or queue (aws-cdk-lib grants the role
            ``kms:GenerateDataKey*`` and ``kms:Decrypt``), default the key of ``default_encryption_key`` if
            one is set, else SSE-S3 / SSE-SQS. See docs/encryption.md.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        topic: str,
        cluster_arn: str | None = None,
        bootstrap_servers: Sequence[str] | None = None,
        secret: secretsmanager.ISecret | None = None,
        authentication_method: sources.AuthenticationMethod | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        consumer_group_id: str | None = None,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        starting_position_timestamp: float | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batching_window: Duration | None = None,
        provisioned_poller_config: lambda_.ProvisionedPollerConfig | None = None,
        retry_attempts: int | None = None,
        max_record_age: Duration | None = None,
        bisect_batch_on_error: bool | None = None,
        report_batch_item_failures: bool | None = None,
        filters: Sequence[Mapping[str, typing.Any]] | None = None,
        metrics_config: lambda_.MetricsConfig | None = None,
        offset_lag_threshold: int | None = None,
        alarm_topic: sns.ITopic | None = None,
        on_failure: typing.Literal["bucket", "queue"] | lambda_.IEventSourceDlq = "bucket",
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        controls = {
            "retry_attempts": retry_attempts,
            "max_record_age": max_record_age,
            "bisect_batch_on_error": bisect_batch_on_error,
            "report_batch_item_failures": report_batch_item_failures,
        }
        network = (vpc, vpc_subnets, security_group)
        planned: list[KafkaPlan] = []

        def check(problems: Problems) -> None:
            if not _source.check_function(problems, function):
                return
            problems.add(_source.topic_problem(alarm_topic))
            problems.add(_cdk.removal_policy_problem(removal_policy))
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            problems.add(_failure.on_failure_problem(on_failure))
            window: Reading | None = None
            age: Reading | None = None
            if max_batching_window is not None:
                window = _mapping.duration_reading(
                    "max_batching_window", max_batching_window, 0, limits.BATCHING_WINDOW_MAX_S
                )
            if max_record_age is not None:
                age = _mapping.duration_reading(
                    "max_record_age", max_record_age, limits.STREAM_RECORD_AGE_MIN_S, limits.STREAM_RECORD_AGE_MAX_S
                )
            plans.kafka_problems(
                problems,
                cluster_arn=cluster_arn,
                bootstrap_servers=bootstrap_servers,
                secret=secret,
                secret_is_secret=_cdk.implements(secret, "secret_arn"),
                authentication_method=authentication_method,
                authentication=_name(authentication_method, sources.AuthenticationMethod),
                vpc_given=[n for n, v in zip(plans.VPC_PROPS, network, strict=True) if v is not None],
                vpc_types_ok=_cdk.implements(vpc, "vpc_id") and _cdk.implements(security_group, "security_group_id"),
                topic=topic,
                consumer_group_id=consumer_group_id,
                starting_position=starting_position,
                position=_name(starting_position, lambda_.StartingPosition),
                starting_position_timestamp=starting_position_timestamp,
                batch_size=batch_size,
                window=window,
                mapping=_mapping.mapping_option_problems(
                    "kafka",
                    filters=filters,
                    provisioned_poller_config=provisioned_poller_config,
                    metrics_config=metrics_config,
                ),
                provisioned=provisioned_poller_config is not None,
                controls=controls,
                max_record_age=age,
                offset_lag_threshold=offset_lag_threshold,
            )
            if not problems:
                planned.append(plans.plan_kafka(_request(problems.path, window, age)))

        def _request(path: str, window: Reading | None, age: Reading | None) -> plans.KafkaRequest:
            target = typing.cast(FunctionTarget, function)
            _stack, stack_name, stack_path = _cdk.stack_info(scope)
            invocation = target.invocation
            return plans.KafkaRequest(
                path=path,
                alarm_prefix=plans_common.alarm_prefix(stack_name, stack_path, path),
                topic=topic,
                cluster_arn=cluster_arn,
                bootstrap_servers=None if bootstrap_servers is None else tuple(bootstrap_servers),
                secret=secret is not None,
                authentication_method=_name(authentication_method, sources.AuthenticationMethod),
                vpc=vpc is not None,
                consumer_group_id=consumer_group_id,
                starting_position=starting_position.name,
                starting_position_timestamp=starting_position_timestamp,
                batch_size=batch_size,
                max_batching_window_s=_whole_seconds(window),
                provisioned=provisioned_poller_config is not None,
                retry_attempts=retry_attempts,
                max_record_age_s=_whole_seconds(age),
                max_record_age_token=age is not None and age.value is None,
                bisect_batch_on_error=bisect_batch_on_error,
                report_batch_item_failures=report_batch_item_failures,
                offset_lag_threshold=offset_lag_threshold,
                filters=len(filters or ()),
                function_path=target.node.path if invocation is not Invocation.STREAM else "",
                function_invocation=invocation,
                function_has_role=getattr(function, "role", None) is not None,
                function_owns_role=bool(getattr(getattr(function, "plan", None), "owns_role", False)),
                removal_policy=_cdk.removal_policy_name(removal_policy),
                on_failure=_failure.on_failure_kind(on_failure),
                custom_is_bucket=isinstance(on_failure, sources.S3OnFailureDestination),
            )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        plan = self.plan = planned[0]
        self.function = function
        self.topic = topic
        self.failure_plan = plan.failure
        self.offset_lag_threshold = plan.offset_lag_threshold
        key = _keys.key_for(self, encryption_key)
        destination = _failure.build_destination(
            self, on_failure, plan.failure, key, "the Kafka mapping's on-failure destination"
        )
        self.on_failure_bucket: s3.Bucket | None = destination.bucket
        self.on_failure_queue: sqs.Queue | None = destination.queue
        _cdk.annotate(self, plan.notes)
        self.event_source_mapping = lambda_.EventSourceMapping(
            self,
            "EventSourceMapping",
            target=function.alias,
            event_source_arn=plan.cluster_arn,
            kafka_bootstrap_servers=None if plan.bootstrap_servers is None else list(plan.bootstrap_servers),
            kafka_topic=plan.topic,
            kafka_consumer_group_id=plan.consumer_group_id,
            starting_position=lambda_.StartingPosition[plan.starting_position],
            starting_position_timestamp=plan.starting_position_timestamp,
            batch_size=plan.batch_size,
            max_batching_window=_duration(plan.max_batching_window_s, max_batching_window),
            source_access_configurations=self._access(plan, secret, vpc, vpc_subnets, security_group) or None,
            on_failure=destination.dlq,
            support_s3_on_failure_destination=True,
            provisioned_poller_config=provisioned_poller_config,
            filters=_mapping.filter_criteria(filters),
            metrics_config=metrics_config,
            **_error_handling(plan, max_record_age),
        )
        self._grant(plan, function, secret)
        topic_arn = _source.alarm_topic(function, alarm_topic)
        lag, *failure = plan.alarms
        lag_metric = function.alias.metric(lag.metric, period=_cdk.ALARM_PERIOD, statistic=lag.statistic)
        self.alarms: list[cloudwatch.Alarm] = function.add_alarms(
            _cdk.build_alarm(self, lag, lag_metric, topic_arn),
            *(_cdk.build_alarm(self, a, destination.metric(a), topic_arn) for a in failure),
        )
        _bundle.note(self, scope, id, plan.resource_count)

    # ------------------------------------------------------------------ building

    @staticmethod
    def _access(
        plan: KafkaPlan,
        secret: secretsmanager.ISecret | None,
        vpc: ec2.IVpc | None,
        subnets: ec2.SubnetSelection | None,
        group: ec2.ISecurityGroup | None,
    ) -> list[lambda_.SourceAccessConfiguration]:
        """The secret (as ``plan.authentication``), then the security group and each selected subnet."""
        access: list[lambda_.SourceAccessConfiguration] = []
        if plan.authentication is not None:
            assert secret is not None
            access.append(lambda_.SourceAccessConfiguration(type=_ACCESS[plan.authentication], uri=secret.secret_arn))
        if plan.in_vpc:
            assert vpc is not None and subnets is not None and group is not None
            access.append(
                lambda_.SourceAccessConfiguration(
                    type=lambda_.SourceAccessConfigurationType.VPC_SECURITY_GROUP, uri=group.security_group_id
                )
            )
            access.extend(
                lambda_.SourceAccessConfiguration(type=lambda_.SourceAccessConfigurationType.VPC_SUBNET, uri=subnet)
                for subnet in vpc.select_subnets(**_cdk_subnets(subnets)).subnet_ids
            )
        return access

    @staticmethod
    def _grant(plan: KafkaPlan, function: FunctionTarget, secret: secretsmanager.ISecret | None) -> None:
        """The secret readable, the plan's statements and managed policies, their acknowledgements."""
        if plan.authentication is not None:
            assert secret is not None
            secret.grant_read(function.alias)
        for statement in plan.role_statements:
            function.alias.add_to_role_policy(
                iam.PolicyStatement(actions=list(statement.actions), resources=list(statement.resources))
            )
        role = typing.cast(iam.IRole, getattr(function, "role", None))  # the plan has policies and acks only with one
        for name in plan.managed_policies:
            role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(name))
        # IAM4 is about the role resource, IAM5 about the policy the statement lands in
        if plan.role_acknowledgements:
            _cdk.acknowledge_all(_cdk.resource_of(role), list(plan.role_acknowledgements))
        if plan.policy_acknowledgements:
            _cdk.acknowledge_all(
                _cdk.default_policy_of(role) or _cdk.resource_of(role), list(plan.policy_acknowledgements)
            )


def _name(value: object, members: type[enum.Enum]) -> str | None:
    """The name of ``value`` when it is a member of the enum ``members``, else None (the pure checks refuse it)."""
    return value.name if isinstance(value, members) else None


def _whole_seconds(reading: Reading | None) -> int | None:
    """A Duration's reading in whole seconds; None when it was not given or is a deploy-time token."""
    return None if reading is None or reading.value is None else int(reading.value)


def _duration(seconds: int | None, given: Duration | None) -> Duration | None:
    """The plan's whole seconds as a Duration, else (a deploy-time token, or nothing) the Duration as given."""
    return given if seconds is None else _cdk.duration_seconds(seconds)


def _error_handling(plan: KafkaPlan, max_record_age: Duration | None) -> dict[str, typing.Any]:
    """Provisioned mode's error-handling controls as the mapping's props (none without provisioned mode)."""
    handling = plan.error_handling
    if handling is None:
        return {}
    return {
        "retry_attempts": handling.retry_attempts,
        "max_record_age": _duration(handling.max_record_age_s, max_record_age),
        "bisect_batch_on_error": handling.bisect_batch_on_error,
        "report_batch_item_failures": handling.report_batch_item_failures,
    }


def _cdk_subnets(selection: ec2.SubnetSelection) -> dict[str, typing.Any]:
    keys = ("availability_zones", "one_per_az", "subnet_filters", "subnet_group_name", "subnets", "subnet_type")
    return {k: getattr(selection, k) for k in keys if getattr(selection, k, None) is not None}
