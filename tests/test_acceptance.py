"""Issue 22's acceptance: every public construct and the service `lambda-constructs new` generates pass the
LambdaProduction, AwsSolutions and Serverless cdk-nag packs with no unacknowledged finding on anything the library
builds, and every acknowledgement sits on the one resource it is about (an acknowledgement covers the construct
it is on and all its children). One app with every construct in four stacks, synthesized once; the example app
is checked under the same packs by tests/test_checks.py and its acknowledgements here from the session fixture.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import CfnResource, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import Construct

from lambda_constructs import (
    LATEST_PYTHON,
    AppSyncDataSource,
    CognitoTriggers,
    Deployment,
    EdgeFunction,
    EventConsumer,
    FunctionFleet,
    HttpEndpoint,
    Invocation,
    KafkaConsumer,
    LoadBalancerTarget,
    ProductionFunction,
    ProductionReadinessChecks,
    QueueConsumer,
    RestEndpoint,
    S3Consumer,
    ScheduledFunction,
    ServiceDashboard,
    StreamConsumer,
    TopicConsumer,
    WebSocketEndpoint,
    WorkflowTask,
    default_alarm_topic,
)
from lambda_constructs.cli.new import generate
from tests.conftest import INLINE, cli_context
from tests.test_checks import violations

SCHEMA = Path(__file__).parent / "fixtures" / "orders.graphql"
CLUSTER = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/6a3f1c2e-0b1d-4e5f-9a8b-7c6d5e4f3a2b-2"
ACK = Validations.ACKNOWLEDGED_RULES_METADATA_KEY

# Findings on what the test itself builds around the constructs (the service's own buckets, user pool, GraphQL
# API, VPC, load balancer, state machine), never on a library resource. Exact: a new finding fails the test.
SCAFFOLDING_FINDINGS = {
    "AwsSolutions-S1": ["Sources/Bucket/Resource", "Sources/B2/Resource"],
    "AwsSolutions-COG1": ["Apis/Pool/Resource"],
    "AwsSolutions-COG2": ["Apis/Pool/Resource"],
    "AwsSolutions-COG8": ["Apis/Pool/Resource"],
    "AwsSolutions-ASC3": ["Apis/Graph/Resource"],
    "AwsSolutions-VPC7": ["Apis/Vpc/Resource"],
    "AwsSolutions-ELB2": ["Apis/Alb/Resource"],
    "AwsSolutions-EC23": ["Apis/Alb/SecurityGroup/Resource"],
    "AwsSolutions-IAM5[Resource::*]": ["Apis/Machine/Role/DefaultPolicy/Resource"],  # aws-cdk-lib's X-Ray/logs
    "Serverless-AppSyncTracing": ["Apis/Graph/Resource"],
}


def _fn(scope: Construct, id: str, invocation: Invocation = Invocation.SYNC, **kw: Any) -> ProductionFunction:
    kw.setdefault("p99", cdk.Duration.seconds(1))
    return ProductionFunction(scope, id, code=INLINE, handler="index.handler", invocation=invocation, **kw)


def _sources(app: cdk.App, env: cdk.Environment) -> None:
    stack = cdk.Stack(app, "Sources", env=env)
    table = dynamodb.TableV2(
        stack,
        "T",
        partition_key=dynamodb.Attribute(name="k", type=dynamodb.AttributeType.STRING),
        dynamo_stream=dynamodb.StreamViewType.NEW_IMAGE,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    QueueConsumer(stack, "Orders", function=_fn(stack, "Worker", Invocation.QUEUE))
    StreamConsumer(stack, "Clicks", function=_fn(stack, "Streamer", Invocation.STREAM), table=table)
    KafkaConsumer(
        stack, "Payments", function=_fn(stack, "KafkaWorker", Invocation.STREAM), topic="payments", cluster_arn=CLUSTER
    )
    topic = sns.Topic(stack, "Topic", enforce_ssl=True)
    TopicConsumer(stack, "Fanout", function=_fn(stack, "TopicWorker", Invocation.QUEUE), topic=topic)
    bucket: dict[str, Any] = {"enforce_ssl": True, "block_public_access": s3.BlockPublicAccess.BLOCK_ALL}
    S3Consumer(
        stack,
        "Uploads",
        function=_fn(stack, "S3Worker", Invocation.QUEUE),
        bucket=s3.Bucket(stack, "Bucket", **bucket),
        via_queue=True,
    )
    S3Consumer(
        stack, "Direct", function=_fn(stack, "DirectFn", Invocation.ASYNC), bucket=s3.Bucket(stack, "B2", **bucket)
    )
    nightly = _fn(stack, "Async", Invocation.ASYNC)
    ScheduledFunction(stack, "Nightly", function=nightly, schedule=events.Schedule.rate(cdk.Duration.hours(1)))
    EventConsumer(
        stack,
        "OnOrder",
        function=_fn(stack, "OnOrderFn", Invocation.ASYNC),
        event_pattern=events.EventPattern(source=["orders"]),
    )


def _apis(app: cdk.App, env: cdk.Environment) -> None:
    stack = cdk.Stack(app, "Apis", env=env)
    sync = _fn(stack, "Sync")
    HttpEndpoint(stack, "Http", function=sync)
    HttpEndpoint(stack, "Url", function=_fn(stack, "UrlFn"), kind="function_url")
    RestEndpoint(stack, "Rest", function=_fn(stack, "RestFn"), routes=("GET /x", "POST /x/{id}"))
    pool = cognito.UserPool(stack, "Pool")
    RestEndpoint(
        stack,
        "RestCognito",
        function=_fn(stack, "RestCogFn"),
        routes=("GET /y",),
        authorizer=apigateway.CognitoUserPoolsAuthorizer(stack, "CogAuth", cognito_user_pools=[pool]),
    )
    WebSocketEndpoint(stack, "Chat", default=_fn(stack, "ChatFn"))
    api = appsync.GraphqlApi(
        stack,
        "Graph",
        name="orders",
        definition=appsync.Definition.from_schema(appsync.SchemaFile.from_asset(str(SCHEMA))),
    )
    data = AppSyncDataSource(stack, "Gql", function=_fn(stack, "Resolver"), api=api)
    data.data_source.create_resolver("OrderResolver", type_name="Query", field_name="order")
    triggers = {cognito.UserPoolOperation.PRE_SIGN_UP: _fn(stack, "PreSignUp", Invocation.WORKFLOW)}
    CognitoTriggers(stack, "Triggers", user_pool=pool, triggers=triggers)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    listener = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc).add_listener(
        "Http", port=80, default_action=elbv2.ListenerAction.fixed_response(404)
    )
    LoadBalancerTarget(
        stack,
        "AlbTarget",
        function=_fn(stack, "AlbFn"),
        listener=listener,
        priority=10,
        conditions=[elbv2.ListenerCondition.path_patterns(["/orders/*"])],
    )
    step = WorkflowTask(stack, "Step", function=_fn(stack, "StepFn", Invocation.WORKFLOW))
    sfn.StateMachine(
        stack,
        "Machine",
        definition_body=sfn.DefinitionBody.from_chainable(step.task),
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=logs.LogGroup(stack, "MachineLogs"), level=sfn.LogLevel.ALL),
    )
    ServiceDashboard(stack, "Dash", functions=[sync])
    _fn(stack, "Canary", deployment=Deployment("canary", percent=10, minutes=5))


@pytest.fixture(scope="module")
def every_construct(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("acceptance")
    app = cdk.App(outdir=str(tmp / "out"), context=cli_context())
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    alarms = cdk.Stack(app, "Alarms", env=env)
    default_alarm_topic(app, sns.Topic(alarms, "Alarms", enforce_ssl=True))
    _sources(app, env)
    _apis(app, env)
    edge = cdk.Stack(app, "Edge", env=cdk.Environment(account="123456789012", region="us-east-1"))
    default_alarm_topic(edge, sns.Topic(edge, "EdgeAlarms", enforce_ssl=True))
    EdgeFunction(
        edge,
        "Edge",
        code=INLINE,
        handler="index.handler",
        runtime=LATEST_PYTHON,
        event_type=cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
        p99=cdk.Duration.millis(500),
    )
    fleet = FunctionFleet(
        cdk.Stack(app, "Fleet", env=env), "Workers", placement_file=tmp / "p.json", new_placement=True
    )

    def worker(scope: Construct, id: str) -> ProductionFunction:
        fn = _fn(scope, id, Invocation.QUEUE)
        QueueConsumer(scope, f"{id}Queue", function=fn)
        return fn

    fleet.add("W1", worker)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app), ProductionReadinessChecks(app))
    return {"app": app, "found": violations(app)}


def test_every_construct_passes_the_three_packs(every_construct: dict[str, Any]) -> None:
    assert every_construct["found"] == SCAFFOLDING_FINDINGS


def _acknowledgements(app: cdk.App) -> list[tuple[Any, list[str]]]:
    return [
        (c, [rule for rule in m.data if not rule.startswith("CloudFormation-Validate::")])  # aws-cdk-lib's own
        for c in app.node.find_all()
        for m in c.node.metadata
        if m.type == ACK
    ]


def _off_resource(app: cdk.App) -> list[str]:
    return [
        f"{c.node.path}: {rules}"
        for c, rules in _acknowledgements(app)
        if rules
        and not CfnResource.is_cfn_resource(c)
        # aws-cdk-lib's framework function (a singleton under the stack), acknowledged as a whole: its code,
        # role and runtime are aws-cdk-lib's
        and not c.node.id.startswith("BucketNotificationsHandler")
    ]


def test_every_acknowledgement_is_on_the_resource_it_is_about(every_construct: dict[str, Any]) -> None:
    acknowledged = _acknowledgements(every_construct["app"])
    assert len(acknowledged) > 60
    assert _off_resource(every_construct["app"]) == []


def test_the_example_app_s_acknowledgements_are_on_their_resources(example_app: cdk.App) -> None:
    # the app's own acknowledgements on its plain function and state machine are the app's choice, not ours
    off = [line for line in _off_resource(example_app) if not line.startswith(("OrdersService/ReportExport:",))]
    assert off == []


def test_the_generated_service_passes_the_three_packs(tmp_path: Path) -> None:
    generate("acceptance-svc", tmp_path / "svc")
    spec = importlib.util.spec_from_file_location("acceptance_svc_app", tmp_path / "svc" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["acceptance_svc_app"] = module
    try:
        spec.loader.exec_module(module)
        app = module.build_app(context={**cli_context(), "@aws-cdk/core:outdir": str(tmp_path / "out")})
    finally:
        del sys.modules["acceptance_svc_app"]
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    assert violations(app) == {}
    assert _off_resource(app) == []


def _templates(app: cdk.App) -> dict[str, dict[str, Any]]:
    import json

    return {p.name: json.loads(p.read_text()) for p in Path(app.outdir).glob("*.template.json")}


def test_every_service_principal_is_scoped_to_its_caller(every_construct: dict[str, Any]) -> None:
    """Confused deputy: SourceArn on every service grant; SourceAccount too where the ARN has no account (S3)."""
    queue_policies, permissions = 0, 0
    for name, template in _templates(every_construct["app"]).items():
        for lid, resource in template["Resources"].items():
            props = resource.get("Properties", {})
            if resource["Type"] in ("AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
                for statement in props["PolicyDocument"]["Statement"]:
                    principal = statement.get("Principal")
                    service = principal.get("Service") if isinstance(principal, dict) else None  # "*": TLS deny
                    if service is None:
                        continue
                    queue_policies += 1
                    keys = {k for condition in statement.get("Condition", {}).values() for k in condition}
                    assert "aws:SourceArn" in keys, (name, lid)
                    assert service != "s3.amazonaws.com" or "aws:SourceAccount" in keys, (name, lid)
            if resource["Type"] == "AWS::Lambda::Permission" and props["Principal"].endswith(".amazonaws.com"):
                permissions += 1
                # ELB: the target group must be in the function's account, and naming it would be a cycle
                if props["Principal"] != "elasticloadbalancing.amazonaws.com":
                    assert "SourceArn" in props, (name, lid)
                assert props["Principal"] != "s3.amazonaws.com" or "SourceAccount" in props, (name, lid)
    # SNS -> queue and its subscription DLQ, S3 -> queue, two rule DLQs; HTTP 1, REST 4 + 2 (each route and its
    # test-invoke), WebSocket 1, S3 1, EventBridge 2, Cognito 1, ELB 1 (AppSync invokes through a role)
    assert (queue_policies, permissions) == (5, 13)
