"""``default_encryption_key``: one customer-managed KMS key for every library construct under an app or stack."""

from __future__ import annotations

from aws_cdk import Stack, Stage
from aws_cdk import aws_kms as kms

from lambda_constructs import _cdk, _keys
from lambda_constructs.core.errors import ConfigurationError, Problem


def default_encryption_key(scope: Stage | Stack, key: kms.IKey) -> kms.IKey:
    """Encrypt every log group and queue the library creates under ``scope`` with ``key``, unless a construct
    is given ``encryption_key=`` (which still wins).

    ``scope`` is the App, a Stage or a Stack (a nested stack included, so a ``FunctionFleet``'s workers take
    their parent's key); the nearest one with a default wins (a stack's default over its app's). Call it right
    after creating the app or stack: it applies to the constructs created after it. Each construct adds the
    key-policy statements its services need, exactly as with ``encryption_key=`` (docs/encryption.md):
    CloudWatch Logs for log groups ("Encrypt log data in CloudWatch Logs using AWS Key Management Service",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html), SNS, EventBridge and
    S3 for the queues they send to ("Key management", Amazon SQS developer guide,
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
    Where a construct refuses an explicit key because it creates nothing to encrypt (``S3Consumer`` without
    ``via_queue``, ``HttpEndpoint(kind="function_url")``), the default simply does not apply. A key in another
    stack of the same app is referenced across stacks by aws-cdk-lib; an imported key (``Key.from_key_arn``)
    gets the warning ``lambda-constructs:kms-key-policy`` with the statements its owner must add.

    Returns ``key``. Raises ``ConfigurationError`` for a scope that is not an App, Stage or Stack, a value
    that is not a KMS key, a key of this app that is not a symmetric encryption key (CloudWatch Logs and SQS
    use no other: see ``_keys.key_problem``), or a scope that already has another default key.
    """
    where = "default_encryption_key"
    problems: list[Problem] = []
    if not isinstance(scope, Stage | Stack):
        problems.append(Problem("scope", _cdk.short(scope), "an App, a Stage or a Stack"))
    else:
        where = f"default_encryption_key({_cdk.path_of(scope) or '<app>'})"
    key_problem = _keys.key_problem(key, "key")
    if key is None:
        problems.append(Problem("key", _cdk.short(key), "an aws_kms.IKey (a kms.Key, or Key.from_key_arn(...))"))
    elif key_problem is not None:
        problems.append(key_problem)
    if problems:
        raise ConfigurationError(problems, where)
    if _keys.set_default_key(scope, key) is not None:
        raise ConfigurationError(
            [Problem("key", _cdk.short(key), "the key already set for this scope (one default per scope)")], where
        )
    return key
