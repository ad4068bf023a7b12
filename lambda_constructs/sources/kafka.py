"""KafkaConsumer: Amazon MSK or self-managed Apache Kafka -> ProductionFunction, with a failure path."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Token
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
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import stream as streams
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources import _failure, _mapping
from lambda_constructs.sources._base import FunctionTarget

DEFAULT_BATCH_SIZE = 100
DEFAULT_RETRY_ATTEMPTS = 10  # Lambda's own cap when retries are infinite and a failure destination is set
DEFAULT_MAX_RECORD_AGE = Duration.days(1)
OFFSET_LAG_BATCHES = 10  # alarm when the consumer is this many full batches behind
ERROR_HANDLING_PAGE = (
    "'Configuring error handling controls for Kafka event sources' "
    "(https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html)"
)
_MSK_ARN = re.compile(r"^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster/[A-Za-z0-9-]+/[A-Za-z0-9-]+$")
_SERVER = re.compile(r"^[A-Za-z0-9.-]+:\d{1,5}$")
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_GROUP = re.compile(r"^[a-zA-Z0-9-/*:_+=.@-]{1,200}$")
_AUTH = {
    sources.AuthenticationMethod.SASL_SCRAM_512_AUTH: lambda_.SourceAccessConfigurationType.SASL_SCRAM_512_AUTH,
    sources.AuthenticationMethod.SASL_SCRAM_256_AUTH: lambda_.SourceAccessConfigurationType.SASL_SCRAM_256_AUTH,
    sources.AuthenticationMethod.BASIC_AUTH: lambda_.SourceAccessConfigurationType.BASIC_AUTH,
    sources.AuthenticationMethod.CLIENT_CERTIFICATE_TLS_AUTH: (
        lambda_.SourceAccessConfigurationType.CLIENT_CERTIFICATE_TLS_AUTH
    ),
}
# limits.KAFKA_VPC_ACTIONS: what Lambda's pollers need in the function's role to reach brokers inside a VPC
# (self-managed Kafka); Amazon MSK gets them from AWS's AWSLambdaMSKExecutionRole policy, as aws-cdk-lib's
# ManagedKafkaEventSource does.


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
        provisioned = provisioned_poller_config is not None
        controls = {
            "retry_attempts": retry_attempts,
            "max_record_age": max_record_age,
            "bisect_batch_on_error": bisect_batch_on_error,
            "report_batch_item_failures": report_batch_item_failures,
        }

        def check(problems: Problems) -> None:
            if not _source.check_function(problems, function):
                return
            problems.add(_source.topic_problem(alarm_topic))
            problems.add(_cdk.removal_policy_problem(removal_policy))
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            problems.add(_failure.on_failure_problem(on_failure))
            self._check_cluster(problems, cluster_arn, bootstrap_servers, secret, authentication_method)
            self._check_vpc(problems, bootstrap_servers, vpc, vpc_subnets, security_group)
            if not (isinstance(topic, str) and (_TOPIC.match(topic) or Token.is_unresolved(topic))):
                problems.add(Problem("topic", _cdk.short(topic), "1..249 characters of A-Z a-z 0-9 . _ -"))
            if consumer_group_id is not None and not (
                isinstance(consumer_group_id, str) and _GROUP.match(consumer_group_id)
            ):
                problems.add(
                    Problem(
                        "consumer_group_id", _cdk.short(consumer_group_id), "1..200 characters of [a-zA-Z0-9-/*:_+=.@-]"
                    )
                )
            _check_position(problems, starting_position, starting_position_timestamp)
            problems.add(
                limits.check_int_range(
                    "batch_size", batch_size, limits.Range(limits.STREAM_BATCH_MIN, limits.STREAM_BATCH_MAX)
                )
            )
            if max_batching_window is not None:
                problems.add(
                    _cdk.duration_range_problem(
                        "max_batching_window", max_batching_window, 0, limits.BATCHING_WINDOW_MAX_S
                    )
                )
            _mapping.check_mapping_options(
                problems,
                "kafka",
                filters=filters,
                provisioned_poller_config=provisioned_poller_config,
                metrics_config=metrics_config,
            )
            for name, value in controls.items():
                if value is not None and not provisioned:
                    problems.add(
                        Problem(
                            name,
                            _cdk.short(value),
                            "None without provisioned_poller_config",
                            f"Kafka error-handling controls need provisioned mode ({ERROR_HANDLING_PAGE}); without "
                            "it Lambda stops after 10 retries because this construct sets an on-failure destination",
                        )
                    )
            problems.add(
                limits.check_int_range(
                    "retry_attempts",
                    retry_attempts,
                    limits.Range(limits.STREAM_RETRY_MIN, limits.STREAM_RETRY_MAX),
                    "-1 (retry until the record expires) is refused: a poison record would stop its partition",
                )
            )
            if max_record_age is not None:
                problems.add(
                    _cdk.duration_range_problem(
                        "max_record_age", max_record_age, limits.STREAM_RECORD_AGE_MIN_S, limits.STREAM_RECORD_AGE_MAX_S
                    )
                )
            for name in ("bisect_batch_on_error", "report_batch_item_failures"):
                if controls[name] is not None:
                    problems.add(_mapping.bool_problem(name, controls[name]))
            problems.add(limits.check_int_range("offset_lag_threshold", offset_lag_threshold, limits.Range(1, 10**12)))

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.function = function
        self.topic = topic
        failure = self.failure_plan = streams.plan_failure(
            path=_cdk.path_of(self),
            alarm_prefix=_cdk.alarm_prefix(self),
            on_failure=_failure.on_failure_kind(on_failure),
            custom_is_bucket=isinstance(on_failure, sources.S3OnFailureDestination),
            removal_policy=_cdk.removal_policy_name(removal_policy),
            starting_position=starting_position.name,
        )
        destination = _failure.build_destination(
            self, on_failure, failure, _keys.key_for(self, encryption_key), "the Kafka mapping's on-failure destination"
        )
        self.on_failure_bucket: s3.Bucket | None = destination.bucket
        self.on_failure_queue: sqs.Queue | None = destination.queue
        _source.annotate(self, failure.notes)
        error_handling: dict[str, typing.Any] = {}
        if provisioned:
            error_handling = {
                "retry_attempts": DEFAULT_RETRY_ATTEMPTS if retry_attempts is None else retry_attempts,
                "max_record_age": max_record_age or DEFAULT_MAX_RECORD_AGE,
                "bisect_batch_on_error": True if bisect_batch_on_error is None else bisect_batch_on_error,
                "report_batch_item_failures": True
                if report_batch_item_failures is None
                else report_batch_item_failures,
            }
        self.event_source_mapping = lambda_.EventSourceMapping(
            self,
            "EventSourceMapping",
            target=function.alias,
            event_source_arn=cluster_arn,
            kafka_bootstrap_servers=list(bootstrap_servers) if bootstrap_servers else None,
            kafka_topic=topic,
            kafka_consumer_group_id=consumer_group_id,
            starting_position=starting_position,
            starting_position_timestamp=starting_position_timestamp,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            source_access_configurations=self._access(secret, authentication_method, vpc, vpc_subnets, security_group)
            or None,
            on_failure=destination.dlq,
            support_s3_on_failure_destination=True,
            provisioned_poller_config=provisioned_poller_config,
            filters=_mapping.filter_criteria(filters),
            metrics_config=metrics_config,
            **error_handling,
        )
        self._grant(function, cluster_arn, secret, vpc)
        _mapping.warn_filters(self, filters, "kafka")
        _source.warn_invocation(self, function, Invocation.STREAM, "Kafka")
        self.offset_lag_threshold = offset_lag_threshold or OFFSET_LAG_BATCHES * batch_size
        topic_arn = _source.alarm_topic(function, alarm_topic)
        self.alarms: list[cloudwatch.Alarm] = function.add_alarms(
            _cdk.make_alarm(
                self,
                "OffsetLagAlarm",
                metric=function.alias.metric("OffsetLag", period=_cdk.ALARM_PERIOD, statistic="Maximum"),
                threshold=self.offset_lag_threshold,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                topic=topic_arn,
                description=f"{_cdk.path_of(self)}: the consumer is more than {self.offset_lag_threshold} records "
                f"behind the newest record of {topic} (OffsetLag): it is falling behind or stuck on a failing batch.",
            ),
            *(
                [_cdk.build_alarm(self, failure.alarm, destination.metric(failure.alarm), topic_arn)]
                if failure.alarm is not None
                else []
            ),
        )

    # ------------------------------------------------------------------ validation

    @staticmethod
    def _check_cluster(
        problems: Problems, cluster_arn: object, servers: object, secret: object, method: object
    ) -> None:
        if (cluster_arn is None) == (servers is None):
            problems.add(
                Problem(
                    "cluster_arn/bootstrap_servers",
                    "both" if cluster_arn is not None else "neither",
                    "exactly one: cluster_arn= (Amazon MSK) or bootstrap_servers= with secret= (self-managed Kafka)",
                )
            )
            return
        if secret is not None and not _cdk.implements(secret, "secret_arn"):
            problems.add(Problem("secret", _cdk.short(secret), "an aws_secretsmanager.ISecret"))
        if cluster_arn is not None:
            if not (isinstance(cluster_arn, str) and (Token.is_unresolved(cluster_arn) or _MSK_ARN.match(cluster_arn))):
                problems.add(
                    Problem(
                        "cluster_arn",
                        _cdk.short(cluster_arn),
                        "an Amazon MSK cluster ARN, arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>",
                    )
                )
            if method is not None:
                problems.add(
                    Problem(
                        "authentication_method", _cdk.short(method), "None for Amazon MSK (IAM or SASL/SCRAM secret)"
                    )
                )
            return
        if not isinstance(servers, Sequence) or isinstance(servers, str) or not servers:
            problems.add(Problem("bootstrap_servers", _cdk.short(servers), "a non-empty list of 'host:port'"))
        else:
            for index, server in enumerate(servers):
                if not (isinstance(server, str) and (_SERVER.match(server) or Token.is_unresolved(server))):
                    problems.add(Problem(f"bootstrap_servers[{index}]", _cdk.short(server), "'host:port'"))
        if secret is None:
            problems.add(
                Problem(
                    "secret",
                    None,
                    "an aws_secretsmanager.ISecret with the broker credentials",
                    "self-managed brokers need authentication (SASL/SCRAM, basic or mutual TLS)",
                )
            )
        if method is not None and method not in _AUTH:
            problems.add(
                Problem("authentication_method", _cdk.short(method), "an aws_lambda_event_sources.AuthenticationMethod")
            )

    @staticmethod
    def _check_vpc(problems: Problems, servers: object, vpc: object, subnets: object, group: object) -> None:
        given = [n for n, v in (("vpc", vpc), ("vpc_subnets", subnets), ("security_group", group)) if v is not None]
        if not given:
            return
        if servers is None:
            problems.add(Problem(given[0], "set", "None for Amazon MSK (Lambda uses the cluster's own VPC)"))
        elif len(given) != 3:
            problems.add(
                Problem("vpc/vpc_subnets/security_group", ", ".join(given), "all three for brokers inside a VPC")
            )
        elif not _cdk.implements(vpc, "vpc_id") or not _cdk.implements(group, "security_group_id"):
            problems.add(Problem("vpc/security_group", "set", "an aws_ec2.IVpc and an aws_ec2.ISecurityGroup"))

    # ------------------------------------------------------------------ building

    @staticmethod
    def _access(
        secret: secretsmanager.ISecret | None,
        method: sources.AuthenticationMethod | None,
        vpc: ec2.IVpc | None,
        subnets: ec2.SubnetSelection | None,
        group: ec2.ISecurityGroup | None,
    ) -> list[lambda_.SourceAccessConfiguration]:
        access: list[lambda_.SourceAccessConfiguration] = []
        if secret is not None:
            kind = _AUTH[method or sources.AuthenticationMethod.SASL_SCRAM_512_AUTH]
            access.append(lambda_.SourceAccessConfiguration(type=kind, uri=secret.secret_arn))
        if vpc is not None and subnets is not None and group is not None:
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

    def _grant(
        self, function: FunctionTarget, cluster_arn: str | None, secret: secretsmanager.ISecret | None, vpc: object
    ) -> None:
        if secret is not None:
            secret.grant_read(function.alias)
        acks: list[tuple[str, str]] = []
        role = getattr(function, "role", None)
        if cluster_arn is not None:
            function.alias.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["kafka:DescribeCluster", "kafka:GetBootstrapBrokers", "kafka:ListScramSecrets"],
                    resources=[cluster_arn],
                )
            )
            if role is not None:
                role.add_managed_policy(
                    iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaMSKExecutionRole")
                )
            acks.append(
                (
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole]",
                    "AWS's AWSLambdaMSKExecutionRole is what Lambda's Kafka pollers need to reach an MSK cluster "
                    "(its network interfaces and cluster metadata); aws-cdk-lib's ManagedKafkaEventSource attaches "
                    "the same policy.",
                )
            )
        elif vpc is not None:
            function.alias.add_to_role_policy(
                iam.PolicyStatement(actions=list(limits.KAFKA_VPC_ACTIONS), resources=["*"])
            )
            acks.append(
                (
                    "AwsSolutions-IAM5[Resource::*]",
                    "Lambda's Kafka pollers create and describe network interfaces in the brokers' VPC; these EC2 "
                    "actions support no resource-level scoping.",
                )
            )
        if acks and role is not None:
            # IAM4 is about the role resource, IAM5 about the policy the statement lands in
            managed = [a for a in acks if a[0].startswith("AwsSolutions-IAM4")]
            _cdk.acknowledge_all(_cdk.resource_of(role), managed)
            _cdk.acknowledge_all(
                _cdk.default_policy_of(role) or _cdk.resource_of(role), [a for a in acks if a not in managed]
            )


def _cdk_subnets(selection: ec2.SubnetSelection) -> dict[str, typing.Any]:
    keys = ("availability_zones", "one_per_az", "subnet_filters", "subnet_group_name", "subnets", "subnet_type")
    return {k: getattr(selection, k) for k in keys if getattr(selection, k, None) is not None}


def _check_position(problems: Problems, position: object, timestamp: object) -> None:
    if not isinstance(position, lambda_.StartingPosition):
        problems.add(Problem("starting_position", _cdk.short(position), "an aws_lambda.StartingPosition"))
        return
    at = position is lambda_.StartingPosition.AT_TIMESTAMP
    if at and timestamp is None:
        problems.add(
            Problem(
                "starting_position_timestamp",
                None,
                "a Unix time in seconds with starting_position=AT_TIMESTAMP",
                "Lambda needs the time to start reading from",
            )
        )
    elif timestamp is not None and not at:
        problems.add(Problem("starting_position_timestamp", timestamp, "None unless starting_position=AT_TIMESTAMP"))
    elif timestamp is not None:
        problems.add(
            limits.check_range(
                "starting_position_timestamp", timestamp, limits.Range(0, 253_402_300_799, "s (Unix time)")
            )
        )
