"""Queues the library creates: encrypted at rest, TLS only, 14 days' retention for failure paths."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

DLQ_RETENTION = Duration.days(14)  # SQS's maximum retention (Amazon SQS quotas): time to notice and redrive


def secure_queue(
    scope: Construct,
    id: str,
    *,
    retention: Duration = DLQ_RETENTION,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
    fifo: bool = False,
    encryption_key: kms.IKey | None = None,
) -> sqs.Queue:
    """An SQS queue encrypted at rest (SSE-SQS, or SSE-KMS with ``encryption_key``) that refuses non-TLS requests."""
    return sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.KMS if encryption_key is not None else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=encryption_key,
        enforce_ssl=True,
        retention_period=retention,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
        fifo=True if fifo else None,
    )
