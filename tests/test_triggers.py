"""S3, SNS fan-out, EventBridge events, HTTP routes with CORS, REST APIs and Lambda@Edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from aws_cdk.aws_ecr_assets import Platform

from lambda_constructs import (
    ConfigurationError,
    EdgeFunction,
    EventConsumer,
    HttpEndpoint,
    Invocation,
    ProductionFunction,
    RestEndpoint,
    S3Consumer,
    TopicConsumer,
)
from lambda_constructs.sources.schedule import schedule_problem
from tests.conftest import INLINE

IMAGE_DIR = str(Path(__file__).parent / "fixtures" / "image")


def fn(scope: Any, id: str, invocation: Invocation = Invocation.SYNC, **kw: Any) -> ProductionFunction:
    kw.setdefault("p99", cdk.Duration.millis(400))  # -> 2 s timeout
    return ProductionFunction(scope, id, code=INLINE, handler="index.handler", invocation=invocation, **kw)


def by_path(tpl: Template, type_: str, fragment: str) -> dict[str, Any]:
    found = [r for r in tpl.find_resources(type_).values() if fragment in r.get("Metadata", {}).get("aws:cdk:path", "")]
    assert len(found) == 1, f"{type_} {fragment}: {len(found)}"
    return found[0]


def refused(build: Any, pattern: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    function_args = build(stack)
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError, match=pattern):
        function_args()
    assert len(stack.node.children) == before, "half-built"


def is_alias(value: object, alias_id: str) -> bool:
    return value == {"Ref": alias_id} or (alias_id in str(value) and ":live" in str(value))


@pytest.fixture(scope="module")
def made() -> dict[str, Any]:
    app = cdk.App(context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "T")
    thumbs = fn(stack, "Thumbs", Invocation.ASYNC)
    burst = fn(stack, "Burst", Invocation.QUEUE)
    bucket = s3.Bucket(stack, "Bucket")
    direct = S3Consumer(
        stack, "Direct", function=thumbs, bucket=bucket, filters=[s3.NotificationKeyFilter(prefix="in/", suffix=".jpg")]
    )
    queued = S3Consumer(
        stack, "Queued", function=burst, bucket=bucket, via_queue=True, events=[s3.EventType.OBJECT_REMOVED]
    )
    billing = fn(stack, "Billing", Invocation.QUEUE)
    topic = sns.Topic(stack, "Orders")
    fanout = TopicConsumer(
        stack,
        "Fanout",
        function=billing,
        topic=topic,
        filter_policy={"type": sns.SubscriptionFilter.string_filter(allowlist=["OrderPlaced"])},
    )
    notifier = fn(stack, "Notifier", Invocation.ASYNC)
    bus = events.EventBus(stack, "Bus")
    placed = EventConsumer(
        stack,
        "Placed",
        function=notifier,
        event_bus=bus,
        event_pattern=events.EventPattern(source=["orders"], detail_type=["OrderPlaced"]),
    )
    api_fn = fn(stack, "Api")
    http = HttpEndpoint(
        stack,
        "Http",
        function=api_fn,
        routes=("POST /orders", "GET /orders/{id}"),
        cors=apigwv2.CorsPreflightOptions(
            allow_origins=["https://shop.example.com"], allow_methods=[apigwv2.CorsHttpMethod.POST]
        ),
    )
    rest_fn = fn(stack, "RestFn")
    rest = RestEndpoint(
        stack,
        "Rest",
        function=rest_fn,
        routes=("POST /orders", "GET /orders/{id}"),
        cors=apigateway.CorsOptions(allow_origins=["https://shop.example.com"]),
    )
    return {
        "tpl": Template.from_stack(stack),
        "stack": stack,
        "direct": direct,
        "queued": queued,
        "fanout": fanout,
        "placed": placed,
        "http": http,
        "rest": rest,
        "fns": {
            "thumbs": thumbs,
            "burst": burst,
            "billing": billing,
            "notifier": notifier,
            "api": api_fn,
            "rest": rest_fn,
        },
    }


def _alias_id(tpl: Template, name: str) -> str:
    return next(lid for lid in tpl.find_resources("AWS::Lambda::Alias") if lid.startswith(name))


# ------------------------------------------------------------------ S3Consumer


def test_s3_direct_notifies_the_alias_with_filters(made: dict[str, Any]) -> None:
    tpl: Template = made["tpl"]
    config = next(iter(tpl.find_resources("Custom::S3BucketNotifications").values()))["Properties"]
    lambdas = config["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    assert len(lambdas) == 1
    assert is_alias(lambdas[0]["LambdaFunctionArn"], _alias_id(tpl, "Thumbs"))
    assert lambdas[0]["Events"] == ["s3:ObjectCreated:*"]
    rules = lambdas[0]["Filter"]["Key"]["FilterRules"]
    assert {r["Name"]: r["Value"] for r in rules} == {"prefix": "in/", "suffix": ".jpg"}
    # the async failure path: the function's own onFailure queue with its alarm
    assert made["fns"]["thumbs"].failure_queue is not None
    assert [a.node.id for a in made["fns"]["thumbs"].alarms][-1] == "FailureQueueAlarm"


def test_s3_via_queue_uses_the_queue_consumer_machinery(made: dict[str, Any]) -> None:
    tpl: Template = made["tpl"]
    config = next(iter(tpl.find_resources("Custom::S3BucketNotifications").values()))["Properties"]
    queues = config["NotificationConfiguration"]["QueueConfigurations"]
    assert queues[0]["Events"] == ["s3:ObjectRemoved:*"]
    queue = by_path(tpl, "AWS::SQS::Queue", "Queued/Queue/Queue/")["Properties"]
    assert queue["VisibilityTimeout"] == 6 * 2  # 6 x the 2 s timeout, no window
    assert queue["SqsManagedSseEnabled"] is True and queue["RedrivePolicy"]["maxReceiveCount"] == 5
    policy = by_path(tpl, "AWS::SQS::QueuePolicy", "Queued/Queue/Queue/")["Properties"]
    assert "s3.amazonaws.com" in str(policy) and "aws:SourceArn" in str(policy)
    mapping = by_path(tpl, "AWS::Lambda::EventSourceMapping", "Queued/")["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert [a.node.id for a in made["queued"].alarms] == ["OldestMessageAlarm", "DeadLetterQueueAlarm"]


@pytest.mark.parametrize(
    ("via_queue", "invocation", "pattern"),
    [
        (
            False,
            Invocation.SYNC,
            r"function.invocation='Invocation.SYNC' is invalid; allowed: Invocation.ASYNC.*via_queue=True",
        ),
        (True, Invocation.ASYNC, r"function.invocation='Invocation.ASYNC' is invalid; allowed: Invocation.QUEUE"),
    ],
)
def test_s3_consumer_requires_the_matching_invocation(via_queue: bool, invocation: Invocation, pattern: str) -> None:
    def build(stack: cdk.Stack) -> Any:
        bucket = s3.Bucket(stack, "B")
        function = fn(stack, "F", invocation)
        return lambda: S3Consumer(stack, "C", function=function, bucket=bucket, via_queue=via_queue)

    refused(build, pattern)


def test_s3_consumer_refuses_queue_options_without_a_queue_and_bad_events() -> None:
    def build(stack: cdk.Stack) -> Any:
        bucket = s3.Bucket(stack, "B")
        function = fn(stack, "F", Invocation.ASYNC)
        return lambda: S3Consumer(stack, "C", function=function, bucket=bucket, batch_size=50, events=["created"])

    refused(build, r"batch_size=50 is invalid; allowed: the default unless via_queue=True(.|\n)*events=\['created'\]")


# ------------------------------------------------------------------ TopicConsumer


def test_topic_fans_out_through_a_queue_with_subscription_dlq(made: dict[str, Any]) -> None:
    tpl: Template = made["tpl"]
    sub = next(iter(tpl.find_resources("AWS::SNS::Subscription").values()))["Properties"]
    assert sub["Protocol"] == "sqs" and sub["RawMessageDelivery"] is True
    assert sub["FilterPolicy"] == {"type": ["OrderPlaced"]}
    assert "SubscriptionDeadLetterQueue" in str(sub["RedrivePolicy"])
    policy = by_path(tpl, "AWS::SQS::QueuePolicy", "Fanout/Queue/Queue/")["Properties"]
    statement = policy["PolicyDocument"]["Statement"]
    sends = [s for s in statement if s.get("Action") == "sqs:SendMessage"]
    assert sends and all("aws:SourceArn" in str(s["Condition"]) for s in sends)  # only this topic
    dlq_policy = by_path(tpl, "AWS::SQS::QueuePolicy", "Fanout/SubscriptionDeadLetterQueue/")
    assert "sns.amazonaws.com" in str(dlq_policy)
    assert [a.node.id for a in made["fanout"].alarms] == [
        "OldestMessageAlarm",
        "DeadLetterQueueAlarm",
        "SubscriptionDeadLetterQueueAlarm",
    ]
    mapping = by_path(tpl, "AWS::Lambda::EventSourceMapping", "Fanout/")["Properties"]
    assert is_alias(mapping["FunctionName"], _alias_id(tpl, "Billing"))


def test_topic_consumer_requires_queue_invocation() -> None:
    def build(stack: cdk.Stack) -> Any:
        topic = sns.Topic(stack, "T")
        function = fn(stack, "F", Invocation.ASYNC)
        return lambda: TopicConsumer(stack, "C", function=function, topic=topic)

    refused(build, r"function.invocation='Invocation.ASYNC' is invalid; allowed: Invocation.QUEUE")


# ------------------------------------------------------------------ EventConsumer


def test_event_rule_on_the_custom_bus_targets_the_alias(made: dict[str, Any]) -> None:
    tpl: Template = made["tpl"]
    rule = by_path(tpl, "AWS::Events::Rule", "Placed/Rule/")["Properties"]
    assert rule["EventPattern"] == {"source": ["orders"], "detail-type": ["OrderPlaced"]}
    assert "Bus" in str(rule["EventBusName"])
    target = rule["Targets"][0]
    assert is_alias(target["Arn"], _alias_id(tpl, "Notifier"))
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    assert "Placed" in str(target["DeadLetterConfig"])
    assert [a.node.id for a in made["placed"].alarms] == ["FailedInvocationsAlarm", "DeadLetterQueueAlarm"]


@pytest.mark.parametrize(
    ("pattern_value", "message"),
    [
        (
            events.EventPattern(),
            r"event_pattern='an empty pattern' is invalid; allowed: an EventPattern with at least one",
        ),
        ({}, r"event_pattern='an empty pattern'"),
        ("orders", r"event_pattern='orders' is invalid; allowed: an aws_events.EventPattern"),
    ],
)
def test_event_consumer_refuses_empty_patterns(pattern_value: Any, message: str) -> None:
    def build(stack: cdk.Stack) -> Any:
        function = fn(stack, "F", Invocation.ASYNC)
        return lambda: EventConsumer(stack, "C", function=function, event_pattern=pattern_value)

    refused(build, message)


# ------------------------------------------------------------------ schedules (pure)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(2 hours)",
        "cron(0 3 * * ? *)",
        "cron(0/15 8-17 ? * MON-FRI *)",
        "cron(0 12 L * ? 2030)",
        "cron(0 10 ? * 6#3 *)",
    ],
)
def test_valid_schedules(expression: str) -> None:
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("cron(0 25 * * ? *)", "hours"),
        ("cron(0 3 * * *)", "six fields"),
        ("rate(5 minute)", "rate(5 minutes)"),
        ("rate(1 minutes)", "rate(1 minute)"),
        ("rate(0 minutes)", "N >= 1"),
        ("every day", "rate(...) or cron(...)"),
        ("cron(0 3 * * MON *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 3 ? * * *)", "minutes"),
    ],
)
def test_invalid_schedules(expression: str, fragment: str) -> None:
    problem = schedule_problem(expression)
    assert problem is not None and fragment in problem.describe()


# ------------------------------------------------------------------ HttpEndpoint routes, CORS, authorizers


def test_http_routes_and_cors(made: dict[str, Any]) -> None:
    tpl: Template = made["tpl"]
    routes = tpl.find_resources("AWS::ApiGatewayV2::Route")
    keys = sorted(r["Properties"]["RouteKey"] for r in routes.values())
    assert keys == ["GET /orders/{id}", "POST /orders"]
    assert all(r["Properties"]["AuthorizationType"] == "AWS_IAM" for r in routes.values())
    api = next(iter(tpl.find_resources("AWS::ApiGatewayV2::Api").values()))["Properties"]
    assert api["CorsConfiguration"]["AllowOrigins"] == ["https://shop.example.com"]
    assert api["CorsConfiguration"]["AllowMethods"] == ["POST"]
    integration = next(iter(tpl.find_resources("AWS::ApiGatewayV2::Integration").values()))["Properties"]
    assert _alias_id(tpl, "Api") in str(integration["IntegrationUri"])


@pytest.mark.parametrize(
    ("timeout_s", "ok"),
    [(29, True), (30, False)],
)
def test_http_api_timeout_boundary(timeout_s: int, ok: bool) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    function = fn(stack, "F", timeout=cdk.Duration.seconds(timeout_s), p99=None)
    if ok:
        HttpEndpoint(stack, "H", function=function)
    else:
        with pytest.raises(ConfigurationError, match=r"function.timeout='30 s' is invalid; allowed: < 30 s"):
            HttpEndpoint(stack, "H", function=function)


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        (("orders",), r"routes\[0\]='orders' is invalid; allowed: 'METHOD /path'"),
        (("FETCH /orders",), r"routes\[0\]='FETCH /orders'"),
        (("GET /a", "GET /a"), r"routes\[1\]='GET /a' is invalid; allowed: each route once"),
        ((), r"routes=\(\) is invalid; allowed: a non-empty list"),
    ],
)
def test_http_route_keys_are_validated(routes: tuple[str, ...], message: str) -> None:
    def build(stack: cdk.Stack) -> Any:
        function = fn(stack, "F")
        return lambda: HttpEndpoint(stack, "H", function=function, routes=routes)

    refused(build, message)


def test_second_function_url_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    function = fn(stack, "F")
    HttpEndpoint(stack, "Url", function=function, kind="function_url")
    with pytest.raises(
        ConfigurationError, match=r"S/Url2: function='S/Url' is invalid; allowed: a function without a Function URL"
    ):
        HttpEndpoint(stack, "Url2", function=function, kind="function_url")
    assert stack.node.try_find_child("Url2") is None


# ------------------------------------------------------------------ RestEndpoint


def test_rest_api_proxy_to_alias_with_cors_logs_tracing_alarms(made: dict[str, Any]) -> None:
    tpl: Template = made["tpl"]
    methods = tpl.find_resources("AWS::ApiGateway::Method")
    by_verb: dict[str, list[dict[str, Any]]] = {}
    for m in methods.values():
        by_verb.setdefault(m["Properties"]["HttpMethod"], []).append(m["Properties"])
    assert len(by_verb["POST"]) == 1 and len(by_verb["GET"]) == 1
    assert len(by_verb["OPTIONS"]) >= 2  # the CORS preflight on each resource
    for verb in ("POST", "GET"):
        method = by_verb[verb][0]
        assert method["AuthorizationType"] == "AWS_IAM"
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert method["Integration"]["TimeoutInMillis"] == 29_000
        assert _alias_id(tpl, "RestFn") in str(method["Integration"]["Uri"])
    stage = next(iter(tpl.find_resources("AWS::ApiGateway::Stage").values()))["Properties"]
    assert stage["TracingEnabled"] is True and "AccessLogSetting" in stage
    assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == 1000
    assert [a.node.id for a in made["rest"].alarms] == ["ServerErrorsAlarm", "ClientErrorsAlarm", "LatencyAlarm"]


@pytest.mark.parametrize(
    ("kwargs", "fn_timeout", "message"),
    [
        ({}, 29, r"function.timeout='29 s' is invalid; allowed: < the integration timeout \(29 s\)"),
        (
            {"integration_timeout": cdk.Duration.seconds(45), "endpoint_type": apigateway.EndpointType.EDGE},
            5,
            r"integration_timeout=45000 is invalid; allowed: 50\.\.29000 ms",
        ),
        ({"integration_timeout": cdk.Duration.millis(10)}, 1, r"integration_timeout=10 is invalid"),
    ],
)
def test_rest_timeout_rules(kwargs: dict[str, Any], fn_timeout: int, message: str) -> None:
    def build(stack: cdk.Stack) -> Any:
        function = fn(stack, "F", timeout=cdk.Duration.seconds(fn_timeout), p99=None)
        return lambda: RestEndpoint(stack, "R", function=function, routes=("GET /x",), **kwargs)

    refused(build, message)


def test_rest_above_29_s_is_allowed_regional_with_a_quota_warning() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    function = fn(stack, "F", timeout=cdk.Duration.seconds(40), p99=None)
    RestEndpoint(stack, "R", function=function, routes=("GET /report",), integration_timeout=cdk.Duration.seconds(60))
    method = next(
        m
        for m in Template.from_stack(stack).find_resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "GET"
    )
    assert method["Properties"]["Integration"]["TimeoutInMillis"] == 60_000
    Annotations.from_stack(stack).has_warning("/S/R", Match.string_like_regexp("Maximum integration timeout"))


# ------------------------------------------------------------------ EdgeFunction


def _edge_stack(region: str = "us-east-1") -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Edge", env=cdk.Environment(account="111111111111", region=region))


def _edge(stack: cdk.Stack, **kw: Any) -> EdgeFunction:
    props: dict[str, Any] = {
        "code": INLINE,
        "handler": "index.handler",
        "runtime": lambda_.Runtime.NODEJS_22_X,
        "event_type": cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
        "p99": cdk.Duration.millis(20),
    }
    props.update(kw)
    return EdgeFunction(stack, "Fn", **props)


def test_edge_function_defaults() -> None:
    stack = _edge_stack()
    edge = _edge(stack)
    tpl = Template.from_stack(stack)
    props = next(iter(tpl.find_resources("AWS::Lambda::Function").values()))["Properties"]
    assert props["Architectures"] == ["x86_64"] and props["MemorySize"] == 128 and props["Timeout"] == 1
    assert "Environment" not in props and "Layers" not in props and "VpcConfig" not in props
    role = next(iter(tpl.find_resources("AWS::IAM::Role").values()))["Properties"]
    principals = str(role["AssumeRolePolicyDocument"])
    assert "edgelambda.amazonaws.com" in principals and "lambda.amazonaws.com" in principals
    assert len(tpl.find_resources("AWS::Lambda::Version")) == 1
    assert edge.edge_lambda.event_type == cloudfront.LambdaEdgeEventType.VIEWER_REQUEST
    assert [a.node.id for a in edge.alarms] == ["ErrorsAlarm", "ThrottlesAlarm", "DurationAlarm"]


def test_origin_events_allow_more() -> None:
    stack = _edge_stack()
    edge = _edge(stack, event_type=cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST, p99=cdk.Duration.seconds(8))
    assert (edge.timeout_seconds, edge.memory_size) == (24, 1024)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"environment": {"A": "b"}},
            r"environment=\{'A': 'b'\} is invalid; allowed: None. Lambda@Edge does not support environment variables",
        ),
        ({"layers": ["x"]}, r"Lambda@Edge does not support Lambda layers"),
        ({"vpc": "vpc"}, r"does not support VPC access"),
        ({"provisioned_concurrency": 1}, r"does not support provisioned concurrency"),
        ({"dead_letter_queue": "q"}, r"does not support dead-letter queues"),
        ({"architecture": lambda_.Architecture.ARM_64}, r"architecture='arm64' is invalid; allowed: X86_64"),
        ({"runtime": lambda_.Runtime.JAVA_21}, r"runtime='java21' is invalid; allowed: a Node.js or Python runtime"),
        (
            {"p99": cdk.Duration.seconds(2)},
            r"p99='2000 ms' is invalid; allowed: a timeout of 1\.\.5 s for viewer events \(got 6 s\)",
        ),
        ({"memory": 256}, r"memory=256 is invalid; allowed: 128\.\.128 MB"),
        (
            {"code": lambda_.Code.from_asset_image(IMAGE_DIR, platform=Platform.LINUX_AMD64)},
            r"code='a container image' is invalid.*Lambda@Edge does not support container images",
        ),
    ],
)
def test_edge_restrictions(kwargs: dict[str, Any], message: str) -> None:
    stack = _edge_stack()
    with pytest.raises(ConfigurationError, match=message):
        _edge(stack, **kwargs)
    assert stack.node.try_find_child("Fn") is None


def test_edge_must_be_in_us_east_1() -> None:
    with pytest.raises(ConfigurationError, match=r"stack.region='eu-west-1' is invalid; allowed: us-east-1"):
        _edge(_edge_stack("eu-west-1"))
    with pytest.raises(ConfigurationError, match=r"stack.region='unresolved \(env-agnostic stack\)'"):
        _edge(cdk.Stack(cdk.App(), "Agnostic"))


def test_event_consumer_plan_resource_count_matches_the_tree(made: dict[str, Any]) -> None:
    placed = made["placed"]
    made_resources = sum(1 for c in placed.node.find_all() if isinstance(c, cdk.CfnResource))
    assert placed.plan.resource_count == made_resources == 6
    assert [a.id for a in placed.plan.alarms] == [a.node.id for a in placed.alarms]
