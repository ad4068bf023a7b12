"""The on-failure bucket of a stream or Kafka mapping: the whole failed batch, not a pointer to it.

For Kinesis, DynamoDB Streams, Amazon MSK and self-managed Kafka mappings, an SQS or SNS on-failure
destination receives a JSON document of metadata about the failed invocation (shard or partition, sequence
numbers or offsets); the records themselves stay on the stream and expire with it. For an Amazon S3
destination "Lambda also sends the entire invocation record along with the metadata" ("Retain discarded
batch records for a Kinesis Data Streams event source in Lambda",
https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html; "Retain discarded records
for a DynamoDB event source in Lambda", https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html;
"Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event sources",
https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html, AWS Lambda developer guide).

The execution role needs ``s3:PutObject`` and ``s3:ListBucket`` for an S3 destination (same pages), and
``kms:GenerateDataKey`` when the bucket is encrypted with a customer-managed key. aws-cdk-lib's
``S3OnFailureDestination`` grants ``grantReadWrite`` (reads and deletes too); `BucketOnFailure` grants
exactly those actions.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import jsii
from aws_cdk import CfnResource, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core.errors import Problem
from lambda_constructs.core.plans.common import DEFAULT_REMOVAL_POLICY, AlarmPlan, RemovalPolicyName
from lambda_constructs.core.plans.stream import OnFailure


class _FailurePlan(typing.Protocol):
    """The plan fields the failure path reads (StreamPlan, KafkaPlan)."""

    @property
    def on_failure(self) -> OnFailure: ...
    @property
    def failure_expiration_days(self) -> int | None: ...
    @property
    def removal_policy(self) -> RemovalPolicyName: ...


# The S3 request metrics configuration the alarm reads: "Creating a CloudWatch metrics configuration for all
# the objects in your bucket", Amazon S3 user guide,
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-request-metrics-bucket.html
METRICS_FILTER_ID = "OnFailureWrites"


def failure_bucket(
    scope: Construct,
    id: str,
    *,
    expiration_days: int,
    encryption_key: kms.IKey | None = None,
    removal: RemovalPolicyName = DEFAULT_REMOVAL_POLICY,
) -> s3.Bucket:
    """An encrypted, TLS-only, public-access-blocked, unversioned bucket whose objects expire after
    ``expiration_days``, retained on replacement and stack deletion unless ``removal`` says otherwise, with a
    request metrics configuration for the whole bucket (``PutRequests`` per minute in AWS/S3)."""
    # its encryption is decided in one place: _keys.bucket_encryption (SSE-S3, or SSE-KMS with a Bucket Key)
    return s3.Bucket(
        scope,
        id,
        **_keys.bucket_encryption(encryption_key),
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=False,
        lifecycle_rules=[s3.LifecycleRule(id="ExpireFailedBatches", expiration=Duration.days(expiration_days))],
        metrics=[s3.BucketMetrics(id=METRICS_FILTER_ID)],
        removal_policy=_cdk.removal_policy(removal),
    )


def put_requests_metric(bucket: s3.IBucket, period: Duration) -> cloudwatch.Metric:
    """PUT requests to ``bucket`` (the on-failure writes): AWS/S3 ``PutRequests``, dimensions BucketName and
    FilterId ("Amazon S3 request metrics in CloudWatch", Amazon S3 user guide,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html)."""
    return cloudwatch.Metric(
        namespace="AWS/S3",
        metric_name="PutRequests",
        dimensions_map={"BucketName": bucket.bucket_name, "FilterId": METRICS_FILTER_ID},
        statistic="Sum",
        period=period,
    )


@jsii.implements(lambda_.IEventSourceDlq)
class BucketOnFailure:
    """An S3 on-failure destination granting the role only what Lambda needs to write to it."""

    def __init__(self, bucket: s3.IBucket, key: kms.IKey | None) -> None:
        self.bucket = bucket
        self.key = key

    @jsii.member(jsii_name="bind")
    def bind(
        self, _target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        iam.Grant.add_to_principal(
            grantee=target_handler, actions=["s3:PutObject"], resource_arns=[self.bucket.arn_for_objects("*")]
        )
        iam.Grant.add_to_principal(
            grantee=target_handler, actions=["s3:ListBucket"], resource_arns=[self.bucket.bucket_arn]
        )
        if self.key is not None:
            self.key.grant(target_handler, "kms:GenerateDataKey")
        cfn = self.bucket.node.default_child
        role = target_handler.role
        if isinstance(cfn, CfnResource) and role is not None:
            stack = Stack.of(cfn)
            _cdk.acknowledge(
                _cdk.default_policy_of(role) or role,  # the policy the grant lands in, not the whole role
                f"AwsSolutions-IAM5[Resource::<{stack.resolve(stack.get_logical_id(cfn))}.Arn>/*]",
                "Lambda writes each failed batch as a new object of the on-failure bucket, under a key it chooses: "
                "s3:PutObject on the bucket's objects is the grant its developer guide asks for.",
            )
        return lambda_.DlqDestinationConfig(destination=self.bucket.bucket_arn)


@dataclass(frozen=True)
class Destination:
    """What a mapping's on-failure path is made of: the destination it binds, and the bucket or queue the
    construct created for it (None for a user's own destination)."""

    dlq: lambda_.IEventSourceDlq
    bucket: s3.Bucket | None = None
    queue: sqs.Queue | None = None

    def metric(self, alarm: AlarmPlan) -> cloudwatch.IMetric:
        """The metric of the failure path's alarm (PUT requests to the bucket, or messages in the queue)."""
        period = _cdk.ALARM_PERIOD if alarm.period_s == 300 else _cdk.duration_seconds(alarm.period_s)
        if self.bucket is not None:
            return put_requests_metric(self.bucket, period)
        assert self.queue is not None
        return self.queue.metric_approximate_number_of_messages_visible(period=period, statistic=alarm.statistic)


def on_failure_problem(on_failure: object) -> Problem | None:
    """A problem unless ``on_failure`` is "bucket", "queue" or an aws_lambda.IEventSourceDlq."""
    if on_failure in ("bucket", "queue") or _cdk.implements(on_failure, "bind"):
        return None
    return Problem(
        "on_failure",
        _cdk.short(on_failure),
        '"bucket" (the whole failed batch), "queue" (metadata only) or an aws_lambda.IEventSourceDlq',
    )


def on_failure_kind(on_failure: object) -> OnFailure:
    """The plan's plain value for an ``on_failure=`` argument."""
    return "bucket" if on_failure == "bucket" else "queue" if on_failure == "queue" else "custom"


def build_destination(
    scope: Construct, on_failure: object, plan: _FailurePlan, key: kms.IKey | None, what: str
) -> Destination:
    """The bucket or queue ``plan`` decided (``OnFailureBucket`` / ``OnFailureQueue``), or the user's own."""
    if plan.on_failure == "bucket":
        assert plan.failure_expiration_days is not None
        bucket = failure_bucket(
            scope,
            "OnFailureBucket",
            expiration_days=plan.failure_expiration_days,
            encryption_key=key,
            removal=plan.removal_policy,
        )
        _cdk.acknowledge(
            _cdk.resource_of(bucket),  # the bucket resource, not its policy
            "AwsSolutions-S1",
            f"This bucket ({what}) is written only by the mapping's execution role; its objects are the failed "
            "batches themselves, and each write is counted by the bucket's request metrics and alarmed on.",
        )
        return Destination(BucketOnFailure(bucket, key), bucket=bucket)
    if plan.on_failure == "queue":
        queue = _cdk.secure_queue(scope, "OnFailureQueue", encryption_key=key, removal=plan.removal_policy)
        _cdk.acknowledge_dead_letter_target(queue, what)
        return Destination(sources.SqsDlq(queue), queue=queue)
    return Destination(typing.cast(lambda_.IEventSourceDlq, on_failure))
