"""The plan of a KafkaConsumer: an Amazon MSK or self-managed Kafka mapping with a failure path and a lag alarm.

`kafka_problems()` is the pure half of the validation (the construct reads the Durations, the enums and the
interface checks of the secret, VPC and security group into facts, and checks the CDK types itself);
`plan_kafka()` makes every decision: the cluster kind, batching, the starting position, provisioned mode's
error-handling controls, the failure path (`plan_failure`, shared with StreamConsumer), the source access
configurations, the role's statements, managed policy and rule-pack acknowledgements, the OffsetLag alarm, the
notes and the resource count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from lambda_constructs.core import filters, limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems, short
from lambda_constructs.core.plans.common import (
    DEFAULT_REMOVAL_POLICY,
    Acknowledgement,
    AlarmPlan,
    Note,
    RemovalPolicyName,
    alarm_name,
)
from lambda_constructs.core.plans.function import Reading
from lambda_constructs.core.plans.stream import (
    DEFAULT_ON_FAILURE,
    DEFAULT_STARTING_POSITION,
    FailurePlan,
    OnFailure,
    invocation_notes,
    plan_failure,
    starting_timestamp_problem,
)

DEFAULT_BATCH_SIZE = 100
# With an on-failure destination and unbounded retries Lambda stops after 10 retries (ERROR_HANDLING_PAGE); in
# provisioned mode, where the retries can be set, the same bound is the default.
DEFAULT_RETRY_ATTEMPTS = 10
DEFAULT_MAX_RECORD_AGE_S = 24 * 3600
OFFSET_LAG_BATCHES = 10  # alarm when the consumer is this many full batches behind
ERROR_HANDLING_PAGE = (
    "'Configuring error handling controls for Kafka event sources' "
    "(https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html)"
)
MSK_ARN = re.compile(r"^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster/[A-Za-z0-9-]+/[A-Za-z0-9-]+$")
SERVER = re.compile(r"^[A-Za-z0-9.-]+:\d{1,5}$")
TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
GROUP = re.compile(r"^[a-zA-Z0-9-/*:_+=.@-]{1,200}$")
# aws_lambda_event_sources.AuthenticationMethod's members, each the aws_lambda.SourceAccessConfigurationType of
# the same name; SASL/SCRAM-512 unless another is given ("Using Lambda with self-managed Apache Kafka",
# https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html)
AUTHENTICATION_METHODS = ("SASL_SCRAM_512_AUTH", "SASL_SCRAM_256_AUTH", "BASIC_AUTH", "CLIENT_CERTIFICATE_TLS_AUTH")
DEFAULT_AUTHENTICATION = "SASL_SCRAM_512_AUTH"
# What Lambda's pollers need to reach an MSK cluster: the cluster's metadata here, its network interfaces from AWS's
# AWSLambdaMSKExecutionRole, which aws-cdk-lib's ManagedKafkaEventSource attaches too. Self-managed brokers in a VPC
# need limits.KAFKA_VPC_ACTIONS instead (the network interfaces in the brokers' VPC).
MSK_ACTIONS = ("kafka:DescribeCluster", "kafka:GetBootstrapBrokers", "kafka:ListScramSecrets")
MSK_MANAGED_POLICY = "service-role/AWSLambdaMSKExecutionRole"
MSK_POLICY_ACKNOWLEDGEMENT: Acknowledgement = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole]",
    "AWS's AWSLambdaMSKExecutionRole is what Lambda's Kafka pollers need to reach an MSK cluster "
    "(its network interfaces and cluster metadata); aws-cdk-lib's ManagedKafkaEventSource attaches "
    "the same policy.",
)
VPC_ACTIONS_ACKNOWLEDGEMENT: Acknowledgement = (
    "AwsSolutions-IAM5[Resource::*]",
    "Lambda's Kafka pollers create and describe network interfaces in the brokers' VPC; these EC2 "
    "actions support no resource-level scoping.",
)
VPC_PROPS = ("vpc", "vpc_subnets", "security_group")
CONTROLS = ("retry_attempts", "max_record_age", "bisect_batch_on_error", "report_batch_item_failures")

Cluster = Literal["msk", "self_managed"]
_T = TypeVar("_T")


# ------------------------------------------------------------------ the pure half of the checks


def cluster_problems(
    *,
    cluster_arn: object,
    bootstrap_servers: object,
    secret: object,
    secret_is_secret: bool,
    authentication_method: object,
    authentication: str | None,
) -> list[Problem]:
    """Exactly one of an MSK cluster ARN or self-managed brokers with a secret.

    ``secret_is_secret``: ``secret`` is an ``aws_secretsmanager.ISecret``; ``authentication``: the name of
    ``authentication_method`` when it is an ``AuthenticationMethod`` (else None).
    """
    if (cluster_arn is None) == (bootstrap_servers is None):
        return [
            Problem(
                "cluster_arn/bootstrap_servers",
                "both" if cluster_arn is not None else "neither",
                "exactly one: cluster_arn= (Amazon MSK) or bootstrap_servers= with secret= (self-managed Kafka)",
            )
        ]
    found: list[Problem] = []
    if secret is not None and not secret_is_secret:
        found.append(Problem("secret", short(secret), "an aws_secretsmanager.ISecret"))
    if cluster_arn is not None:
        if not (isinstance(cluster_arn, str) and (limits.is_unresolved(cluster_arn) or MSK_ARN.match(cluster_arn))):
            found.append(
                Problem(
                    "cluster_arn",
                    short(cluster_arn),
                    "an Amazon MSK cluster ARN, arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>",
                )
            )
        if authentication_method is not None:
            found.append(
                Problem(
                    "authentication_method",
                    short(authentication_method),
                    "None for Amazon MSK (IAM or SASL/SCRAM secret)",
                )
            )
        return found
    servers = bootstrap_servers
    if not isinstance(servers, Sequence) or isinstance(servers, str) or not servers:
        found.append(Problem("bootstrap_servers", short(servers), "a non-empty list of 'host:port'"))
    else:
        for index, server in enumerate(servers):
            if not (isinstance(server, str) and (SERVER.match(server) or limits.is_unresolved(server))):
                found.append(Problem(f"bootstrap_servers[{index}]", short(server), "'host:port'"))
    if secret is None:
        found.append(
            Problem(
                "secret",
                None,
                "an aws_secretsmanager.ISecret with the broker credentials",
                "self-managed brokers need authentication (SASL/SCRAM, basic or mutual TLS)",
            )
        )
    if authentication_method is not None and authentication not in AUTHENTICATION_METHODS:
        found.append(
            Problem(
                "authentication_method",
                short(authentication_method),
                "an aws_lambda_event_sources.AuthenticationMethod",
            )
        )
    return found


def vpc_problems(*, bootstrap_servers: object, given: Sequence[str], types_ok: bool) -> Problem | None:
    """``vpc``, ``vpc_subnets`` and ``security_group`` all three or none, for self-managed brokers only.

    ``given``: which of the three were given (in `VPC_PROPS` order); ``types_ok``: the VPC is an
    ``aws_ec2.IVpc`` and the group an ``aws_ec2.ISecurityGroup``.
    """
    if not given:
        return None
    if bootstrap_servers is None:
        return Problem(given[0], "set", "None for Amazon MSK (Lambda uses the cluster's own VPC)")
    if len(given) != len(VPC_PROPS):
        return Problem("vpc/vpc_subnets/security_group", ", ".join(given), "all three for brokers inside a VPC")
    if not types_ok:
        return Problem("vpc/security_group", "set", "an aws_ec2.IVpc and an aws_ec2.ISecurityGroup")
    return None


def name_problems(topic: object, consumer_group_id: object) -> list[Problem]:
    """The topic (1..249 of ``A-Za-z0-9._-``, or a token) and the consumer group id (1..200 characters)."""
    found = []
    if not (isinstance(topic, str) and (TOPIC.match(topic) or limits.is_unresolved(topic))):
        found.append(Problem("topic", short(topic), "1..249 characters of A-Z a-z 0-9 . _ -"))
    if consumer_group_id is not None and not (isinstance(consumer_group_id, str) and GROUP.match(consumer_group_id)):
        found.append(
            Problem("consumer_group_id", short(consumer_group_id), "1..200 characters of [a-zA-Z0-9-/*:_+=.@-]")
        )
    return found


def position_problem(starting_position: object, position: str | None, timestamp: object) -> Problem | None:
    """``position``: the name of ``starting_position`` when it is an ``aws_lambda.StartingPosition`` (else None)."""
    if position is None:
        return Problem("starting_position", short(starting_position), "an aws_lambda.StartingPosition")
    return starting_timestamp_problem(position == "AT_TIMESTAMP", timestamp)


def control_problems(
    *, provisioned: bool, controls: Mapping[str, object], max_record_age: Reading | None
) -> list[Problem]:
    """The error-handling controls (`CONTROLS`, as given): provisioned mode only, bounded, booleans.

    ``max_record_age``: the construct's reading of the Duration (60 s..7 days), None when not given.
    """
    found: list[Problem | None] = [
        Problem(
            name,
            short(value),
            "None without provisioned_poller_config",
            f"Kafka error-handling controls need provisioned mode ({ERROR_HANDLING_PAGE}); without "
            "it Lambda stops after 10 retries because this construct sets an on-failure destination",
        )
        for name in CONTROLS
        if (value := controls.get(name)) is not None and not provisioned
    ]
    found.append(
        limits.check_int_range(
            "retry_attempts",
            controls.get("retry_attempts"),
            limits.Range(limits.STREAM_RETRY_MIN, limits.STREAM_RETRY_MAX),
            "-1 (retry until the record expires) is refused: a poison record would stop its partition",
        )
    )
    if max_record_age is not None:
        found.append(max_record_age.problem)
    for name in ("bisect_batch_on_error", "report_batch_item_failures"):
        value = controls.get(name)
        if value is not None and not isinstance(value, bool):
            found.append(Problem(name, short(value), "True or False"))
    return [p for p in found if p is not None]


def kafka_problems(
    problems: Problems,
    *,
    cluster_arn: object,
    bootstrap_servers: object,
    secret: object,
    secret_is_secret: bool,
    authentication_method: object,
    authentication: str | None,
    vpc_given: Sequence[str],
    vpc_types_ok: bool,
    topic: object,
    consumer_group_id: object,
    starting_position: object,
    position: str | None,
    starting_position_timestamp: object,
    batch_size: object,
    window: Reading | None,
    mapping: Sequence[Problem],
    provisioned: bool,
    controls: Mapping[str, object],
    max_record_age: Reading | None,
    offset_lag_threshold: object,
) -> None:
    """The Kafka options' checks in the order the error lists them (after the function, topic, removal policy,
    key and on-failure destination). ``window`` / ``max_record_age``: the construct's readings of the Durations
    (None when not given); ``mapping``: the problems of the shared mapping options (filters, pollers, metrics),
    which are questions of CDK types."""
    problems.extend(
        cluster_problems(
            cluster_arn=cluster_arn,
            bootstrap_servers=bootstrap_servers,
            secret=secret,
            secret_is_secret=secret_is_secret,
            authentication_method=authentication_method,
            authentication=authentication,
        )
    )
    problems.add(vpc_problems(bootstrap_servers=bootstrap_servers, given=vpc_given, types_ok=vpc_types_ok))
    problems.extend(name_problems(topic, consumer_group_id))
    problems.add(position_problem(starting_position, position, starting_position_timestamp))
    problems.add(
        limits.check_int_range("batch_size", batch_size, limits.Range(limits.STREAM_BATCH_MIN, limits.STREAM_BATCH_MAX))
    )
    if window is not None:
        problems.add(window.problem)
    problems.extend(mapping)
    problems.extend(control_problems(provisioned=provisioned, controls=controls, max_record_age=max_record_age))
    problems.add(limits.check_int_range("offset_lag_threshold", offset_lag_threshold, limits.Range(1, 10**12)))


# ------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class KafkaRequest:
    """A KafkaConsumer's checked props as plain facts."""

    path: str
    alarm_prefix: str
    topic: str
    cluster_arn: str | None = None  # Amazon MSK
    bootstrap_servers: tuple[str, ...] | None = None  # self-managed
    secret: bool = False  # a Secrets Manager secret with the credentials was given
    authentication_method: str | None = None  # the AuthenticationMethod's name (self-managed)
    vpc: bool = False  # vpc, vpc_subnets and security_group were given (self-managed brokers in a VPC)
    consumer_group_id: str | None = None
    starting_position: str = DEFAULT_STARTING_POSITION
    starting_position_timestamp: float | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    max_batching_window_s: int | None = None  # None: not given, or a deploy-time token
    provisioned: bool = False  # provisioned_poller_config given
    retry_attempts: int | None = None
    max_record_age_s: int | None = None  # None: not given, or a deploy-time token (max_record_age_token)
    max_record_age_token: bool = False
    bisect_batch_on_error: bool | None = None
    report_batch_item_failures: bool | None = None
    offset_lag_threshold: int | None = None
    filters: int = 0  # how many filters
    function_path: str = ""
    function_invocation: Invocation = Invocation.STREAM
    function_has_role: bool = True  # the function exposes its execution role (``.role``)
    function_owns_role: bool = True  # ... and made it (grants add statements to its policy, not resources)
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY
    on_failure: OnFailure = DEFAULT_ON_FAILURE
    custom_is_bucket: bool = False  # on_failure="custom" with an S3 destination: it keeps the records too


@dataclass(frozen=True)
class KafkaErrorHandling:
    """Provisioned mode's error-handling controls as the mapping gets them (given, else these defaults)."""

    retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    max_record_age_s: int | None = DEFAULT_MAX_RECORD_AGE_S  # None: a deploy-time token (the given Duration)
    bisect_batch_on_error: bool = True
    report_batch_item_failures: bool = True


@dataclass(frozen=True)
class RoleStatement:
    """A statement the construct adds to the function's role policy."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class KafkaPlan:
    """Every decision and derived number of one KafkaConsumer."""

    path: str
    cluster: Cluster  # "msk" (cluster_arn) or "self_managed" (bootstrap_servers)
    topic: str
    cluster_arn: str | None
    bootstrap_servers: tuple[str, ...] | None
    consumer_group_id: str | None  # None: Lambda generates one
    starting_position: str
    starting_position_timestamp: float | None
    batch_size: int
    max_batching_window_s: int | None  # None: Lambda's default (500 ms), or the given deploy-time token
    provisioned: bool
    error_handling: KafkaErrorHandling | None  # None without provisioned mode (Lambda's own 10 retries apply)
    authentication: str | None  # the secret's SourceAccessConfigurationType (the role reads it); None: no secret
    in_vpc: bool  # the security group and each selected subnet as source access configurations
    role_statements: tuple[RoleStatement, ...]
    managed_policies: tuple[str, ...]  # AWS managed policies attached to the function's role
    role_acknowledgements: tuple[Acknowledgement, ...]  # on the role's resource
    policy_acknowledgements: tuple[Acknowledgement, ...]  # on its default policy (where the statements land)
    offset_lag_threshold: int  # records; given, else OFFSET_LAG_BATCHES full batches
    failure: FailurePlan  # the on-failure bucket or queue (KafkaConsumer.failure_plan)
    alarms: tuple[AlarmPlan, ...]  # OffsetLagAlarm, then the failure path's (none for a destination of your own)
    notes: tuple[Note, ...]
    resource_count: int | None  # None: the function's role is not its own (a policy the plan cannot count)

    @property
    def on_failure(self) -> OnFailure:
        return self.failure.on_failure

    @property
    def removal_policy(self) -> RemovalPolicyName:
        """Of the on-failure bucket or queue."""
        return self.failure.removal_policy


def offset_lag_alarm(path: str, prefix: str, topic: str, threshold: int) -> AlarmPlan:
    """The consumer more than ``threshold`` records behind the newest record of ``topic`` (OffsetLag, Maximum)."""
    return AlarmPlan(
        id="OffsetLagAlarm",
        name=alarm_name(prefix, "OffsetLagAlarm"),
        description=f"{path}: the consumer is more than {threshold} records behind the newest record of {topic} "
        "(OffsetLag): it is falling behind or stuck on a failing batch.",
        source="alias",
        metric="OffsetLag",
        statistic="Maximum",
        threshold=threshold,
        comparison="GREATER_THAN_THRESHOLD",
    )


def plan_kafka(request: KafkaRequest) -> KafkaPlan:
    r = request
    msk = r.cluster_arn is not None
    failure = plan_failure(
        path=r.path,
        alarm_prefix=r.alarm_prefix,
        on_failure=r.on_failure,
        custom_is_bucket=r.custom_is_bucket,
        removal_policy=r.removal_policy,
        starting_position=r.starting_position,
    )
    error_handling = (
        KafkaErrorHandling(
            retry_attempts=_given(r.retry_attempts, DEFAULT_RETRY_ATTEMPTS),
            max_record_age_s=None if r.max_record_age_token else _given(r.max_record_age_s, DEFAULT_MAX_RECORD_AGE_S),
            bisect_batch_on_error=_given(r.bisect_batch_on_error, True),
            report_batch_item_failures=_given(r.report_batch_item_failures, True),
        )
        if r.provisioned
        else None
    )
    statements: tuple[RoleStatement, ...] = ()
    role_acks: tuple[Acknowledgement, ...] = ()
    policy_acks: tuple[Acknowledgement, ...] = ()
    if r.cluster_arn is not None:
        statements = (RoleStatement(MSK_ACTIONS, (r.cluster_arn,)),)
        role_acks = (MSK_POLICY_ACKNOWLEDGEMENT,)
    elif r.vpc:
        statements = (RoleStatement(tuple(limits.KAFKA_VPC_ACTIONS), ("*",)),)
        policy_acks = (VPC_ACTIONS_ACKNOWLEDGEMENT,)
    if not r.function_has_role:
        role_acks = policy_acks = ()
    threshold = _given(r.offset_lag_threshold, OFFSET_LAG_BATCHES * r.batch_size)
    alarms = (offset_lag_alarm(r.path, r.alarm_prefix, r.topic, threshold),) + (
        (failure.alarm,) if failure.alarm is not None else ()
    )
    notes = (
        *failure.notes,
        *filters.quota_notes(r.filters),
        *invocation_notes(r.function_path, r.function_invocation, "Kafka"),
    )
    # the mapping, the on-failure bucket (or queue) and its TLS-only policy, the alarms; the statements, the managed
    # policy and the secret's grant change the function's own role and policy
    created = 1 + (2 if failure.on_failure != "custom" else 0) + len(alarms)
    return KafkaPlan(
        path=r.path,
        cluster="msk" if msk else "self_managed",
        topic=r.topic,
        cluster_arn=r.cluster_arn,
        bootstrap_servers=r.bootstrap_servers,
        consumer_group_id=r.consumer_group_id,
        starting_position=r.starting_position,
        starting_position_timestamp=r.starting_position_timestamp,
        batch_size=r.batch_size,
        max_batching_window_s=r.max_batching_window_s,
        provisioned=r.provisioned,
        error_handling=error_handling,
        authentication=(r.authentication_method or DEFAULT_AUTHENTICATION) if r.secret else None,
        in_vpc=r.vpc,
        role_statements=statements,
        managed_policies=(MSK_MANAGED_POLICY,) if msk and r.function_has_role else (),
        role_acknowledgements=role_acks,
        policy_acknowledgements=policy_acks,
        offset_lag_threshold=threshold,
        failure=failure,
        alarms=alarms,
        notes=notes,
        resource_count=created if r.function_owns_role else None,
    )


def _given(value: _T | None, default: _T) -> _T:
    return default if value is None else value
