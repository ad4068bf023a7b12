"""Customer-managed KMS keys (``encryption_key=``) on the log groups and queues the library creates.

A key without the statements its users need fails at deploy time or drops events: CloudWatch Logs refuses
``CreateLogGroup`` with a key its regional service principal may not use, and SNS, EventBridge and S3
silently fail to deliver to an SSE-KMS queue they cannot encrypt for. So every construct given a key adds,
to a key made in this app, exactly the statements the services need:

- CloudWatch Logs: ``logs.<region>.amazonaws.com`` may ``kms:Encrypt*``, ``kms:Decrypt*``,
  ``kms:ReEncrypt*``, ``kms:GenerateDataKey*`` and ``kms:Describe*`` when the encryption context is a log
  group of this account and region ("Encrypt log data in CloudWatch Logs using AWS KMS", Amazon CloudWatch
  Logs user guide: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html);
- SQS senders that are AWS services (EventBridge for a rule's dead-letter queue, SNS for a subscription's
  dead-letter queue, S3 for event notifications): ``kms:GenerateDataKey`` and ``kms:Decrypt``, scoped by
  ``aws:SourceArn`` / ``aws:SourceAccount`` where the sender is known ("Key management", Amazon SQS
  developer guide: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html);
- Lambda destinations and stream on-failure queues send with the function's execution role: aws-cdk-lib's
  ``grant_send_messages`` grants that role the key as well (an IAM grant, no key policy statement).

An imported key (``Key.from_key_arn``) cannot take policy statements from here: the construct adds a warning
(``lambda-constructs:kms-key-policy``) with the statement the key's owner must add.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Annotations, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core.errors import Problem

LOGS_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
SQS_SENDER_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]
WARNING_ID = "lambda-constructs:kms-key-policy"


def key_problem(key: object, prop: str = "encryption_key") -> Problem | None:
    """A problem unless ``key`` is a KMS key (``aws_kms.IKey``) or None."""
    if key is None or _cdk.implements(key, "key_arn"):
        return None
    return Problem(prop, _cdk.short(key), "an aws_kms.IKey (a kms.Key, or Key.from_key_arn(...)) or None")


def allow_service(
    key: kms.IKey,
    service: Any,
    actions: list[str],
    conditions: dict[str, Any] | None,
    *,
    what: str,
    scope: Construct | None = None,
) -> bool:
    """Let ``service`` (a principal name or an ``IPrincipal``) use ``key``; False (and a warning) when the key
    is imported and its policy cannot be changed here."""
    principal = service if not isinstance(service, str) else iam.ServicePrincipal(service)
    statement = iam.PolicyStatement(principals=[principal], actions=actions, resources=["*"], conditions=conditions)
    if key.add_to_resource_policy(statement, True).statement_added:
        return True
    Annotations.of(scope or key).add_warning_v2(
        WARNING_ID,
        f"{what}: the key {_cdk.path_of(key)} is imported, so its key policy cannot be changed here. Add this "
        f"statement to the key policy, or the service cannot use the key: {json.dumps(_stack_resolve(key, statement))}",
    )
    return False


def _stack_resolve(scope: Any, statement: iam.PolicyStatement) -> Any:
    return Stack.of(scope).resolve(statement.to_statement_json())


def allow_logs(key: kms.IKey, scope: Construct) -> None:
    """The CloudWatch Logs statement for log groups of ``scope``'s account and region."""
    stack = Stack.of(scope)
    allow_service(
        key,
        iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com"),
        LOGS_ACTIONS,
        {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:"
                "log-group:*"
            }
        },
        what="CloudWatch Logs encrypting this construct's log group",
        scope=scope,
    )


def log_group(scope: Construct, id: str, *, retention: logs.RetentionDays, key: kms.IKey | None) -> logs.LogGroup:
    """A log group with ``retention``, encrypted with ``key`` when one is given (and its key policy added)."""
    if key is None:
        return logs.LogGroup(scope, id, retention=retention)
    allow_logs(key, scope)
    return logs.LogGroup(scope, id, retention=retention, encryption_key=key)


def allow_sender(key: kms.IKey | None, service: str, source_arn: str | None, scope: Construct, what: str) -> None:
    """Let an AWS service send to an SSE-KMS queue encrypted with ``key`` (scoped to ``source_arn`` if known)."""
    if key is None:
        return
    conditions = {"ArnLike": {"aws:SourceArn": source_arn}} if source_arn is not None else None
    allow_service(key, service, SQS_SENDER_ACTIONS, conditions, what=what, scope=scope)
