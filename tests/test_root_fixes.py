"""Bugs fixed at the root (issue 22): REST authorizers and cdk-nag, S3 -> queue confused deputy, Lambda@Edge
replica logs, unique alarm names, and encryption_key= on every construct."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks

from lambda_constructs import (
    ConfigurationError,
    EdgeFunction,
    EventConsumer,
    HttpEndpoint,
    Invocation,
    ProductionFunction,
    QueueConsumer,
    RestEndpoint,
    S3Consumer,
    ScheduledFunction,
    StreamConsumer,
    TopicConsumer,
)
from lambda_constructs._cdk import alarm_name
from tests.conftest import INLINE

US_EAST_1 = cdk.Environment(account="123456789012", region="us-east-1")


def _fn(scope: Any, id: str = "Fn", **overrides: Any) -> ProductionFunction:
    props: dict[str, Any] = {"code": INLINE, "handler": "index.handler", "p99": cdk.Duration.seconds(1)}
    props.update(overrides)
    return ProductionFunction(scope, id, **props)


def _methods(stack: cdk.Stack) -> list[dict[str, Any]]:
    found = Template.from_stack(stack).find_resources("AWS::ApiGateway::Method")
    return [r["Properties"] for r in found.values() if r["Properties"]["HttpMethod"] != "OPTIONS"]


# ------------------------------------------------------------------ RestEndpoint authorizers


def _authorizer(kind: str, stack: cdk.Stack) -> apigateway.IAuthorizer:
    handler = lambda_.Function(
        stack, "AuthFn", code=INLINE, handler="index.handler", runtime=lambda_.Runtime.PYTHON_3_13
    )
    if kind == "cognito":
        return apigateway.CognitoUserPoolsAuthorizer(
            stack, "Auth", cognito_user_pools=[cognito.UserPool(stack, "Pool")]
        )
    if kind == "token":
        return apigateway.TokenAuthorizer(stack, "Auth", handler=handler)
    return apigateway.RequestAuthorizer(
        stack, "Auth", handler=handler, identity_sources=[apigateway.IdentitySource.header("Authorization")]
    )


@pytest.mark.parametrize(
    ("kind", "expected"), [("cognito", "COGNITO_USER_POOLS"), ("token", "CUSTOM"), ("request", "CUSTOM")]
)
def test_rest_authorization_type_is_derived_from_the_authorizer(kind: str, expected: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    RestEndpoint(stack, "Api", function=_fn(stack), routes=("GET /orders",), authorizer=_authorizer(kind, stack))
    methods = _methods(stack)
    assert [m["AuthorizationType"] for m in methods] == [expected]
    assert "AuthorizerId" in methods[0]
    stack.node.root.synth()  # aws-cdk-lib no longer dies with AuthorizationTypeMismatch


def test_rest_authorization_type_that_contradicts_the_authorizer_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _fn(stack)
    with pytest.raises(
        ConfigurationError,
        match=r"^S/Api: authorization_type='CUSTOM' is invalid; allowed: COGNITO \(what the authorizer is\) or None",
    ):
        RestEndpoint(
            stack,
            "Api",
            function=fn,
            routes=("GET /x",),
            authorizer=_authorizer("cognito", stack),
            authorization_type=apigateway.AuthorizationType.CUSTOM,
        )
    assert stack.node.try_find_child("Api") is None


TEST_OWN = {  # the test's own authorizer function and user pool, not the library's
    "AuthFn": [
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "AwsSolutions-L1",
    ],
    "Pool": ["AwsSolutions-COG1", "AwsSolutions-COG2", "AwsSolutions-COG8"],
}


def _aws_solutions(app: cdk.App, outdir: Path) -> list[dict[str, Any]]:
    for stack in app.node.children:
        for id, rules in TEST_OWN.items():
            child = stack.node.try_find_child(id)
            if child is not None:
                Validations.of(child).acknowledge(
                    *(
                        cdk.Acknowledgment(id=rule, reason="the test's own resource, not the library's")
                        for rule in rules
                    )
                )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    return [v for p in json.loads(report.read_text())["pluginReports"] for v in p["violations"]]


@pytest.mark.parametrize("kind", ["iam", "cognito", "token"])
def test_rest_endpoint_passes_aws_solutions(tmp_path: Path, kind: str) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "S")
    authorizer = None if kind == "iam" else _authorizer(kind, stack)
    RestEndpoint(stack, "Api", function=_fn(stack), routes=("GET /orders", "POST /orders"), authorizer=authorizer)
    assert _aws_solutions(app, tmp_path) == []  # APIG2 and APIG6 included; synthesis raises on any finding
    validator = next(iter(Template.from_stack(stack).find_resources("AWS::ApiGateway::RequestValidator").values()))
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert validator["Properties"]["ValidateRequestParameters"] is True


def test_rest_execution_logging_is_applied_to_every_method_when_asked(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "S")
    RestEndpoint(
        stack,
        "Api",
        function=_fn(stack),
        routes=("GET /x",),
        execution_logging=apigateway.MethodLoggingLevel.ERROR,
    )
    stage = next(iter(Template.from_stack(stack).find_resources("AWS::ApiGateway::Stage").values()))["Properties"]
    assert {"HttpMethod": "*", "ResourcePath": "/*", "LoggingLevel": "ERROR", "DataTraceEnabled": False} in [
        {k: s.get(k) for k in ("HttpMethod", "ResourcePath", "LoggingLevel", "DataTraceEnabled")}
        for s in stage["MethodSettings"]
    ]
    assert _aws_solutions(app, tmp_path) == []  # APIG6 satisfied, not acknowledged
    acks = [
        m.data
        for c in app.node.find_all()
        for m in c.node.metadata
        if m.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]
    assert not any("APIG6" in str(a) for a in acks)


def test_rest_execution_logging_type() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(
        ConfigurationError, match=r"^S/Api: execution_logging='ERROR' is invalid; allowed: an apigateway"
    ):
        RestEndpoint(stack, "Api", function=_fn(stack), routes=("GET /x",), execution_logging="ERROR")  # type: ignore[arg-type]


# ------------------------------------------------------------------ S3 -> queue: confused deputy


def test_s3_queue_policy_has_source_account_beside_source_arn() -> None:
    stack = cdk.Stack(cdk.App(), "S", env=US_EAST_1)
    bucket = s3.Bucket(stack, "Uploads")
    S3Consumer(stack, "Thumbs", function=_fn(stack, invocation=Invocation.QUEUE), bucket=bucket, via_queue=True)
    policies = Template.from_stack(stack).find_resources("AWS::SQS::QueuePolicy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    s3_statements = [s for s in statements if s.get("Principal") == {"Service": "s3.amazonaws.com"}]
    assert len(s3_statements) == 1
    condition = s3_statements[0]["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert condition["ArnLike"]["aws:SourceArn"] == {
        "Fn::GetAtt": [stack.resolve(bucket.node.default_child.logical_id), "Arn"]
    }  # type: ignore[union-attr]
    notifications = Template.from_stack(stack).find_resources("Custom::S3BucketNotifications")
    assert "QueueConfigurations" in json.dumps(notifications)


# ------------------------------------------------------------------ Lambda@Edge replica logs


def test_edge_role_may_log_in_every_region_under_the_replica_name() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Edge", env=US_EAST_1)
    edge = EdgeFunction(
        stack,
        "Headers",
        code=INLINE,
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        event_type=cloudfront.LambdaEdgeEventType.VIEWER_RESPONSE,
        p99=cdk.Duration.millis(100),
    )
    tpl = Template.from_stack(stack)
    policies = tpl.find_resources("AWS::IAM::Policy")
    replica = [p for lid, p in policies.items() if "ReplicaLogs" in lid]
    assert len(replica) == 1
    statement = replica[0]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = json.dumps(statement["Resource"])
    assert ":logs:*:123456789012:log-group:/aws/lambda/us-east-1." in resources
    function_id = stack.get_logical_id(edge.function.node.default_child)  # type: ignore[arg-type]
    assert json.dumps({"Ref": stack.resolve(function_id)}) in resources
    app.synth()  # no dependency cycle: the function does not depend on this policy


# ------------------------------------------------------------------ alarm names


def test_long_ids_keep_alarm_names_unique_and_within_255() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    long = "Orders" + "X" * 240
    first = _fn(stack, long + "A")
    second = _fn(stack, long + "B")
    names = [
        r["Properties"]["AlarmName"]
        for r in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    ]
    assert len(names) == len(set(names)) == len(first.alarms) + len(second.alarms)
    assert all(len(n) <= 255 for n in names)
    assert all(n.startswith("S-Orders") for n in names)
    assert {n.rsplit("-", 1)[-1] for n in names} == {"ErrorsAlarm", "ThrottlesAlarm", "DurationAlarm", "SpilloverAlarm"}
    assert alarm_name(first, "ErrorsAlarm") == alarm_name(first, "ErrorsAlarm")  # stable


def test_short_alarm_names_are_unchanged() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _fn(stack, "Orders")
    assert alarm_name(fn, "ErrorsAlarm") == "S-Orders-ErrorsAlarm"


# ------------------------------------------------------------------ encryption_key on every construct


def _kms_refs(resource: dict[str, Any]) -> str:
    props = resource["Properties"]
    return json.dumps(props.get("KmsMasterKeyId") or props.get("KmsKeyId") or props.get("BucketEncryption"))


def _everything(key: kms.IKey, stack: cdk.Stack) -> dict[str, Any]:
    sync, queue_fn, stream_fn, async_fn = (
        _fn(stack, "Sync", encryption_key=key),
        _fn(stack, "Worker", invocation=Invocation.QUEUE, encryption_key=key),
        _fn(stack, "Streamer", invocation=Invocation.STREAM, encryption_key=key),
        _fn(stack, "Async", invocation=Invocation.ASYNC, encryption_key=key),
    )
    table = dynamodb.Table(
        stack,
        "T",
        partition_key=dynamodb.Attribute(name="k", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_IMAGE,
    )
    return {
        "queue": QueueConsumer(stack, "Orders", function=queue_fn, encryption_key=key),
        "stream": StreamConsumer(stack, "Clicks", function=stream_fn, table=table, encryption_key=key),
        "topic": TopicConsumer(
            stack,
            "Fanout",
            function=_fn(stack, "TopicWorker", invocation=Invocation.QUEUE, encryption_key=key),
            topic=sns.Topic(stack, "Topic"),
            encryption_key=key,
        ),
        "s3": S3Consumer(
            stack,
            "Uploads",
            function=_fn(stack, "S3Worker", invocation=Invocation.QUEUE, encryption_key=key),
            bucket=s3.Bucket(stack, "Bucket"),
            via_queue=True,
            encryption_key=key,
        ),
        "schedule": ScheduledFunction(
            stack,
            "Nightly",
            function=async_fn,
            schedule=events.Schedule.rate(cdk.Duration.hours(1)),
            encryption_key=key,
        ),
        "events": EventConsumer(
            stack,
            "OnOrder",
            function=async_fn,
            event_pattern=events.EventPattern(source=["orders"]),
            encryption_key=key,
        ),
        "http": HttpEndpoint(stack, "Http", function=sync, encryption_key=key),
        "rest": RestEndpoint(
            stack, "Rest", function=_fn(stack, "RestFn", encryption_key=key), routes=("GET /x",), encryption_key=key
        ),
    }


def test_encryption_key_reaches_every_log_group_and_queue_the_library_creates() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    _everything(key, stack)
    tpl = Template.from_stack(stack)
    key_id = stack.resolve(stack.get_logical_id(key.node.default_child))  # type: ignore[arg-type]
    queues = tpl.find_resources("AWS::SQS::Queue")
    groups = tpl.find_resources("AWS::Logs::LogGroup")
    buckets = tpl.find_resources(
        "AWS::S3::Bucket", {"Properties": {"MetricsConfigurations": [{"Id": "OnFailureWrites"}]}}
    )
    # queues: Async failure 1, Orders 2, Fanout 3, Uploads 2, Nightly 1, OnOrder 1; Clicks' on-failure bucket;
    # log groups: 7 functions + the HTTP and REST access logs
    assert (len(queues), len(buckets), len(groups)) == (10, 1, 9)
    unencrypted = [lid for lid, r in {**queues, **buckets, **groups}.items() if key_id not in _kms_refs(r)]
    assert unencrypted == []
    policy = json.dumps(next(iter(tpl.find_resources("AWS::KMS::Key").values()))["Properties"]["KeyPolicy"])
    for principal in ("logs.", "events.amazonaws.com", "sns.amazonaws.com", "s3.amazonaws.com"):
        assert principal in policy, principal
    assert "kms:EncryptionContext:aws:logs:arn" in policy
    stack.node.root.synth()  # no dependency cycle through the key policy


def test_edge_function_log_group_takes_the_key() -> None:
    stack = cdk.Stack(cdk.App(), "Edge", env=US_EAST_1)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    EdgeFunction(
        stack,
        "Headers",
        code=INLINE,
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        event_type=cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
        p99=cdk.Duration.millis(100),
        encryption_key=key,
    )
    group = next(iter(Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values()))
    assert "Key" in _kms_refs(group)


def test_an_imported_key_gets_a_warning_naming_the_statement() -> None:
    stack = cdk.Stack(cdk.App(), "S", env=US_EAST_1)
    key = kms.Key.from_key_arn(
        stack, "Shared", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    fn = _fn(stack, invocation=Invocation.ASYNC, encryption_key=key)
    ScheduledFunction(
        stack, "Tick", function=fn, schedule=events.Schedule.rate(cdk.Duration.hours(1)), encryption_key=key
    )
    warnings = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("lambda-constructs:kms-key-policy")
    )
    texts = [json.dumps(w.entry.data) for w in warnings]
    assert any("logs.us-east-1.amazonaws.com" in t and "kms:EncryptionContext:aws:logs:arn" in t for t in texts), texts
    assert any("events.amazonaws.com" in t for t in texts), texts
    assert all("is imported, so its key policy cannot be changed here" in t for t in texts)


@pytest.mark.parametrize(
    ("build", "pattern"),
    [
        (
            lambda s, fn: QueueConsumer(s, "C", function=fn, encryption_key="alias/mine"),
            r"^S/C: encryption_key='alias/mine'",
        ),
        (
            lambda s, fn: S3Consumer(
                s, "C", function=fn, bucket=s3.Bucket(s, "B"), encryption_key=kms.Key(s, "K", enable_key_rotation=True)
            ),
            r"^S/C: .*encryption_key=.* is invalid; allowed: the default unless via_queue=True",
        ),
        (
            lambda s, fn: HttpEndpoint(
                s, "C", function=fn, kind="function_url", encryption_key=kms.Key(s, "K", enable_key_rotation=True)
            ),
            r"^S/C: encryption_key=.* is invalid; allowed: None for kind='function_url'",
        ),
    ],
    ids=["not-a-key", "s3-direct", "function-url"],
)
def test_encryption_key_refusals(build: Any, pattern: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    invocation = Invocation.QUEUE if "Queue" in str(build) else Invocation.ASYNC
    fn = _fn(stack, invocation=invocation)
    with pytest.raises(ConfigurationError, match=pattern):
        build(stack, fn)
    assert stack.node.try_find_child("C") is None


def test_stream_on_failure_role_is_granted_the_key() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    fn = _fn(stack, invocation=Invocation.STREAM)
    StreamConsumer(stack, "Clicks", function=fn, stream=kinesis.Stream(stack, "K"), encryption_key=key)
    policies = json.dumps(Template.from_stack(stack).find_resources("AWS::IAM::Policy"))
    assert '"kms:GenerateDataKey"' in policies  # the role writes SSE-KMS objects to the on-failure bucket
