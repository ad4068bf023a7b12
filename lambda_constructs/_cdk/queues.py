"""Queues the library creates: encrypted at rest, TLS only, 14 days' retention for failure paths, retained.

Every queue keeps its messages across replacement and stack deletion by default (``DeletionPolicy: Retain``
and ``UpdateReplacePolicy: Retain``): a queue holds in-flight messages and parked failures, the very events
a dead-letter queue exists to keep ("DeletionPolicy attribute" and "UpdateReplacePolicy attribute", AWS
CloudFormation user guide). Each construct's ``removal_policy=`` chooses otherwise.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_constructs._cdk.paths import known_child
from lambda_constructs._cdk.tokens import short
from lambda_constructs.core.errors import Problem
from lambda_constructs.core.plans.common import (
    DEFAULT_REMOVAL_POLICY,
    REMOVAL_POLICIES,
    REMOVAL_POLICY_ALLOWED,
    RemovalPolicyName,
)

DLQ_RETENTION = Duration.days(14)  # SQS's maximum retention (Amazon SQS quotas): time to notice and redrive


def removal_policy_problem(value: object, prop: str = "removal_policy") -> Problem | None:
    """A problem unless ``value`` is RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY (an aws_cdk.RemovalPolicy)."""
    if isinstance(value, RemovalPolicy) and value.name in REMOVAL_POLICIES:
        return None
    hint = "SQS queues have no snapshots" if value is RemovalPolicy.SNAPSHOT else ""
    return Problem(prop, short(value), REMOVAL_POLICY_ALLOWED, hint)


def removal_policy_name(value: RemovalPolicy) -> RemovalPolicyName:
    """The plain value a plan carries for a checked RemovalPolicy."""
    name = value.name
    assert name in REMOVAL_POLICIES, name
    return name


def removal_policy(name: RemovalPolicyName = DEFAULT_REMOVAL_POLICY) -> RemovalPolicy:
    """The aws_cdk.RemovalPolicy of a plan's plain value."""
    return RemovalPolicy[name]


def secure_queue(
    scope: Construct,
    id: str,
    *,
    retention: Duration = DLQ_RETENTION,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
    fifo: bool = False,
    encryption_key: kms.IKey | None = None,
    removal: RemovalPolicyName = DEFAULT_REMOVAL_POLICY,
) -> sqs.Queue:
    """An SQS queue encrypted at rest (SSE-SQS, or SSE-KMS with ``encryption_key``) that refuses non-TLS requests,
    retained on replacement and stack deletion unless ``removal`` says otherwise."""
    queue = sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.KMS if encryption_key is not None else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=encryption_key,
        enforce_ssl=True,
        retention_period=retention,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
        fifo=True if fifo else None,
        removal_policy=removal_policy(removal),
    )
    known_child(queue, scope, id)
    return queue
