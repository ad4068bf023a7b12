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
(``lambda-constructs:kms-key-policy``) with the statement the key's owner must add. What can still be added is:
the IAM side (aws-cdk-lib grants a role an imported key in the role's own policy).

A key in another stack of the app takes the statements in its own stack's template. A statement scoped by
``aws:SourceArn`` to a resource of another stack (the topic, the bucket) would make the two stacks reference
each other (the key's stack the resource's ARN, the queue's stack the key's ARN: a cycle aws-cdk-lib refuses
at synth), so across stacks the statement is scoped by ``aws:SourceAccount`` (the construct's account) instead.

``default_encryption_key(scope, key)`` (``function/encryption_key.py``) records a key for every library
construct under an App, Stage or Stack; ``key_for`` is how a construct reads it.
"""

from __future__ import annotations

import json
import typing
from typing import Any

from aws_cdk import Annotations, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs._cdk.defaults import ScopeDefaults
from lambda_constructs.core.errors import Problem

LOGS_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
SQS_SENDER_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]
WARNING_ID = "lambda-constructs:kms-key-policy"


# the default key of an App, Stage or Stack (``default_encryption_key``), as the default alarm topic: _cdk/defaults.py
_DEFAULT_KEYS: ScopeDefaults[kms.IKey] = ScopeDefaults("_lc_default_key")


def set_default_key(scope: Any, key: kms.IKey) -> kms.IKey | None:
    """Record ``key`` as the default of ``scope``; returns another key it already has (left in place), else None."""
    return _DEFAULT_KEYS.set(scope, key)


def default_key(scope: Construct) -> kms.IKey | None:
    """The default key for a construct in ``scope``: its stack's, a parent stack's, a stage's or the app's.

    No jsii round trip when no default was ever set; otherwise one walk up per stack, kept on the stack.
    """
    return _DEFAULT_KEYS.nearest(scope)


def key_for(scope: Construct, key: kms.IKey | None) -> kms.IKey | None:
    """``key`` if given, else the default key of ``scope``'s stack / stage / app (None: the services' own keys)."""
    return key if key is not None else default_key(scope)


def usable_default_key(scope: Construct) -> kms.IKey | None:
    """The default key of ``scope`` where nothing can refuse it (an injector): None, with a warning, when it is in
    another region or account than ``scope`` (see ``key_problem``)."""
    key = default_key(scope)
    problem = None if key is None else _environment_problem(key, scope, "default_encryption_key")
    if problem is None:
        return key
    Annotations.of(scope).add_warning_v2(
        WARNING_ID,
        f"{_cdk.path_of(scope)}: the default_encryption_key is {problem.value}, not {problem.allowed}: "
        "this log group keeps CloudWatch Logs' own encryption",
    )
    return None


def same_stack(*constructs: Any) -> bool:
    """True when every construct is in one stack (a key policy may then name the others' ARNs)."""
    return len({id(_cdk.stack_of(c)) for c in constructs}) == 1


def bucket_encryption(key: kms.IKey | None) -> dict[str, Any]:
    """The ``s3.Bucket`` keywords for a bucket the library creates: SSE-KMS with ``key`` (an S3 Bucket Key,
    fewer KMS requests), else SSE-S3. The hook for buckets the library will create (an on-failure bucket):
    ``s3.Bucket(self, "X", **_keys.bucket_encryption(_keys.key_for(self, encryption_key)))``.

    "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys", Amazon S3 user guide:
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
    """
    if key is None:
        return {"encryption": s3.BucketEncryption.S3_MANAGED}
    return {"encryption": s3.BucketEncryption.KMS, "encryption_key": key, "bucket_key_enabled": True}


SYMMETRIC = "a symmetric encryption key (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT)"


def key_problem(key: object, prop: str = "encryption_key", *, scope: Construct | None = None) -> Problem | None:
    """A problem unless ``key`` is a KMS key (``aws_kms.IKey``) or None, and, for a key made in this app, a
    symmetric encryption key.

    CloudWatch Logs refuses any other ("CloudWatch Logs supports only symmetric KMS keys", AssociateKmsKey,
    Amazon CloudWatch Logs API reference:
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_AssociateKmsKey.html), and SQS
    encrypts with data keys, which KMS generates only under a symmetric encryption key ("Data keys", AWS KMS
    developer guide: https://docs.aws.amazon.com/kms/latest/developerguide/data-keys.html). An imported key's
    spec is not known here.

    With ``scope`` (the construct's parent, before the construct exists), the key that applies (``key``, else
    the scope's ``default_encryption_key``) must also be in the construct's region, and a key of this app in
    its account: a KMS key is used in its own Region (a multi-Region key's replica is another key with its own
    ARN: "Multi-Region keys in AWS KMS", AWS KMS developer guide:
    https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html), and aws-cdk-lib
    references a key of another stack only within one environment (otherwise a foreign error at synth).
    """
    if scope is not None and not _in_stack(scope):
        scope = None  # not in a stack: the construct's scope check says so
    if key is None:
        default = default_key(scope) if scope is not None else None
        return None if default is None else _environment_problem(default, scope, "default_encryption_key")
    if not _cdk.implements(key, "key_arn"):
        return Problem(prop, _cdk.short(key), "an aws_kms.IKey (a kms.Key, or Key.from_key_arn(...)) or None")
    if isinstance(key, kms.Key):
        cfn = key.node.default_child
        spec, usage = getattr(cfn, "key_spec", None), getattr(cfn, "key_usage", None)
        if spec not in (None, "SYMMETRIC_DEFAULT") or usage not in (None, "ENCRYPT_DECRYPT"):
            return Problem(prop, f"a {spec or 'SYMMETRIC_DEFAULT'} / {usage or 'ENCRYPT_DECRYPT'} key", SYMMETRIC)
    return None if scope is None else _environment_problem(typing.cast(kms.IKey, key), scope, prop)


def _in_stack(scope: Construct) -> bool:
    try:
        _cdk.stack_of(scope)
    except RuntimeError:
        return False
    return True


def _environment_problem(key: kms.IKey, scope: Any, prop: str) -> Problem | None:
    """A problem when ``key`` is in another region (or, made in this app, another account) than ``scope``."""
    stack = _cdk.stack_of(scope)
    if isinstance(key, kms.Key):
        key_stack = _cdk.stack_of(key)
        if key_stack is stack:
            return None
        where: tuple[str, str | None] = (key_stack.region, key_stack.account)
    else:
        arn = key.key_arn
        parts = [] if Token.is_unresolved(arn) else arn.split(":")
        if len(parts) < 6:
            return None
        where = (parts[3], None)  # another account's key is possible: its owner's key policy decides
    region, account = stack.region, stack.account
    if not Token.is_unresolved(where[0]) and not Token.is_unresolved(region) and where[0] != region:
        return Problem(prop, f"a key in {where[0]}", f"a key in the construct's region, {region}")
    other_account = where[1] is not None and not Token.is_unresolved(where[1]) and not Token.is_unresolved(account)
    if other_account and where[1] != account:
        return Problem(prop, f"a key in account {where[1]}", f"a key of this app in the construct's account, {account}")
    return None


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


def _environment(key: kms.IKey, stack: Stack) -> tuple[str, str, str]:
    """Partition, region and account for ``key``'s statements: the stack's, except that an imported key's literal
    ARN supplies what the stack leaves to deploy time (so the warning shows a statement one can paste)."""
    partition, region, account = stack.partition, stack.region, stack.account
    arn = key.key_arn
    parts = [] if Token.is_unresolved(arn) else arn.split(":")
    if len(parts) >= 6:  # arn:<partition>:kms:<region>:<account>:key/<id>
        partition = parts[1] if Token.is_unresolved(partition) else partition
        region = parts[3] if Token.is_unresolved(region) else region
        account = parts[4] if Token.is_unresolved(account) else account
    return partition, region, account


def allow_logs(key: kms.IKey, scope: Construct) -> None:
    """The CloudWatch Logs statement for log groups of ``scope``'s account and region."""
    partition, region, account = _environment(key, Stack.of(scope))
    allow_service(
        key,
        iam.ServicePrincipal(f"logs.{region}.amazonaws.com"),
        LOGS_ACTIONS,
        {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account}:log-group:*"}},
        what="CloudWatch Logs encrypting this construct's log group",
        scope=scope,
    )


def log_group(scope: Construct, id: str, *, retention: logs.RetentionDays, key: kms.IKey | None) -> logs.LogGroup:
    """A log group with ``retention``, encrypted with ``key`` when one is given (and its key policy added)."""
    if key is None:
        return logs.LogGroup(scope, id, retention=retention)
    allow_logs(key, scope)
    return logs.LogGroup(scope, id, retention=retention, encryption_key=key)


def allow_sender(
    key: kms.IKey | None,
    service: str,
    source_arn: str | None,
    scope: Construct,
    what: str,
    *,
    source: Any = None,
) -> None:
    """Let an AWS service send to an SSE-KMS queue encrypted with ``key``: scoped to ``source_arn`` (the ARN of
    ``source``) when key, ``scope`` and ``source`` share a stack, else to ``scope``'s account (no cycle)."""
    if key is None:
        return
    conditions: dict[str, Any] | None = None
    if source_arn is not None and same_stack(key, scope, *([source] if source is not None else [])):
        conditions = {"ArnLike": {"aws:SourceArn": source_arn}}
    elif source_arn is not None:
        conditions = {"StringEquals": {"aws:SourceAccount": _cdk.stack_of(scope).account}}
    allow_service(key, service, SQS_SENDER_ACTIONS, conditions, what=what, scope=scope)
