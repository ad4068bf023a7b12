"""The deploy contract on the library's own output: every public construct with each of its option groups.

Each configuration is built in its own scope; twenty share a stack (each stack its own account, so the
app-wide rules, function and alarm names and the concurrency ledger, see a realistic deployment unit),
and the whole matrix is one App synthesized once. The deploy rules (``lambda_constructs.checks.deploy``)
then run on the cloud assembly as ``lambda-constructs report`` reads it: the library must produce nothing
AWS would refuse. The configurations are counted, so the matrix cannot silently shrink.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
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
    Memory,
    Powertools,
    ProductionFunction,
    ProvisionedConcurrency,
    QueueConsumer,
    RestEndpoint,
    S3Consumer,
    ScheduledFunction,
    StreamConsumer,
    TopicConsumer,
    WebSocketEndpoint,
    WorkflowTask,
)
from lambda_constructs.checks import deploy
from lambda_constructs.core.report import is_framework_function
from tests.conftest import INLINE

SCHEMA = Path(__file__).parent / "fixtures" / "orders.graphql"
CLUSTER = "arn:aws:kafka:us-east-1:111111111111:cluster/orders/11111111-2222-3333-4444-555555555555-1"
PER_STACK = 20

Build = Callable[[Construct], Any]


class Shared:
    """What many configurations of one stack use (a VPC, a topic, a listener...), made on first use."""

    def __init__(self, stack: cdk.Stack) -> None:
        self.stack = stack
        self._made: dict[str, Any] = {}

    def get(self, name: str, make: Callable[[cdk.Stack], Any]) -> Any:
        if name not in self._made:
            self._made[name] = make(self.stack)
        return self._made[name]

    def vpc(self) -> ec2.Vpc:
        return self.get(
            "vpc",
            lambda s: ec2.Vpc(
                s,
                "Vpc",
                max_azs=2,
                nat_gateways=0,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
                    ec2.SubnetConfiguration(name="edge", subnet_type=ec2.SubnetType.PUBLIC),
                ],
            ),
        )

    def topic(self) -> sns.Topic:
        return self.get("topic", lambda s: sns.Topic(s, "Alarms", enforce_ssl=True))

    def listener(self) -> elbv2.ApplicationListener:
        def make(s: cdk.Stack) -> elbv2.ApplicationListener:
            balancer = elbv2.ApplicationLoadBalancer(s, "Alb", vpc=self.vpc())
            return balancer.add_listener("Http", port=80, default_action=elbv2.ListenerAction.fixed_response(404))

        return self.get("listener", make)

    def graph(self) -> appsync.GraphqlApi:
        return self.get(
            "graph",
            lambda s: appsync.GraphqlApi(
                s,
                "Graph",
                name="orders",
                definition=appsync.Definition.from_schema(appsync.SchemaFile.from_asset(str(SCHEMA))),
            ),
        )


def pf(scope: Construct, id: str = "Fn", invocation: Invocation = Invocation.SYNC, **kw: Any) -> ProductionFunction:
    if "timeout" not in kw and "sizing" not in kw:
        kw.setdefault("p99", cdk.Duration.millis(1000))  # 3 s
    return ProductionFunction(scope, id, code=INLINE, handler="index.handler", invocation=invocation, **kw)


# ---------------------------------------------------------------- the configurations

Config = tuple[str, Callable[[Construct, Shared], Any]]
CONFIGS: list[Config] = []


def config(name: str) -> Callable[[Callable[[Construct, Shared], Any]], Callable[[Construct, Shared], Any]]:
    def register(build: Callable[[Construct, Shared], Any]) -> Callable[[Construct, Shared], Any]:
        CONFIGS.append((name, build))
        return build

    return register


INVOCATIONS = list(Invocation)
SIZINGS: dict[str, dict[str, Any]] = {
    "p99": {"p99": cdk.Duration.millis(2500)},
    "timeout": {"timeout": cdk.Duration.seconds(30)},
    "p99 x2 + memory": {"p99": cdk.Duration.seconds(4), "timeout_multiplier": 2, "memory": Memory(1769)},
}
CONCURRENCY: dict[str, dict[str, Any]] = {
    "default": {},
    "off": {"provisioned_concurrency": None},
    "2..5": {"provisioned_concurrency": ProvisionedConcurrency(min_capacity=2, max_capacity=5)},
    "reserved 12": {"reserved_concurrency": 12},
}
ARCHITECTURES = {"arm64": {}, "x86_64": {"architecture": lambda_.Architecture.X86_64}}

# every invocation x sizing x concurrency; the architecture alternates (arm64 / x86_64)
for _n, (_inv, (_sz, _s), (_pc, _c)) in enumerate(itertools.product(INVOCATIONS, SIZINGS.items(), CONCURRENCY.items())):
    _arch, _a = list(ARCHITECTURES.items())[_n % 2]
    config(f"ProductionFunction {_inv.name} {_sz} pc={_pc} {_arch}")(
        lambda scope, shared, _inv=_inv, _kw={**_s, **_c, **_a}: pf(scope, "Fn", _inv, **_kw)
    )

# one option group at a time, on every invocation
OPTION_GROUPS: dict[str, Callable[[Construct, Shared], dict[str, Any]]] = {
    "vpc": lambda scope, shared: {"vpc": shared.vpc()},
    "vpc + security group": lambda scope, shared: {
        "vpc": shared.vpc(),
        "security_groups": [ec2.SecurityGroup(scope, "Sg", vpc=shared.vpc(), allow_all_outbound=False)],
    },
    "tracing pass-through": lambda scope, shared: {"tracing": lambda_.Tracing.PASS_THROUGH},
    "tracing off": lambda scope, shared: {"tracing": lambda_.Tracing.DISABLED},
    "alarm topic": lambda scope, shared: {"alarm_topic": shared.topic()},
    "environment": lambda scope, shared: {"environment": {"TABLE": "orders", "STAGE": "prod"}},
    "environment key": lambda scope, shared: {
        "environment": {"TABLE": "orders"},
        "environment_encryption": kms.Key(scope, "EnvKey", enable_key_rotation=True),
    },
    "log and queue key": lambda scope, shared: {"encryption_key": kms.Key(scope, "Key", enable_key_rotation=True)},
    "powertools": lambda scope, shared: {"powertools": Powertools(service="orders")},
    "function name": lambda scope, shared: {"function_name": f"lc-{scope.node.addr[:12]}"},
    "log retention one week": lambda scope, shared: {"log_retention": logs.RetentionDays.ONE_WEEK},
    "ephemeral storage 2 GB": lambda scope, shared: {"ephemeral_storage_size": cdk.Size.gibibytes(2)},
    "snap start": lambda scope, shared: {"snap_start": lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS},
    "initial policy": lambda scope, shared: {
        "initial_policy": [iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::orders/*"])]
    },
    "canary deployment": lambda scope, shared: {"deployment": Deployment.canary(percent=10, minutes=5)},
    "linear deployment": lambda scope, shared: {"deployment": Deployment.linear(percent=10, minutes=1)},
}
for (_group, _options), _inv in itertools.product(OPTION_GROUPS.items(), INVOCATIONS):
    config(f"ProductionFunction {_inv.name} {_group}")(
        lambda scope, shared, _inv=_inv, _options=_options: pf(scope, "Fn", _inv, **_options(scope, shared))
    )


def _async(**kw: Any) -> Callable[[Construct, Shared], Any]:
    def build(scope: Construct, shared: Shared) -> Any:
        made = {k: v(scope) if callable(v) else v for k, v in kw.items()}
        return pf(scope, "Fn", Invocation.ASYNC, **made)

    return build


config("ProductionFunction ASYNC on_failure SQS")(
    _async(on_failure=lambda s: destinations.SqsDestination(sqs.Queue(s, "F", enforce_ssl=True)))
)
config("ProductionFunction ASYNC on_failure SNS")(
    _async(on_failure=lambda s: destinations.SnsDestination(sns.Topic(s, "F", enforce_ssl=True)))
)
config("ProductionFunction ASYNC on_failure EventBridge")(
    _async(on_failure=lambda s: destinations.EventBridgeDestination(events.EventBus(s, "Bus")))
)
config("ProductionFunction ASYNC on_success Lambda")(
    _async(on_success=lambda s: destinations.LambdaDestination(pf(s, "Next", Invocation.ASYNC)))
)
config("ProductionFunction ASYNC on_success SQS + retry 0 + age 60 s")(
    _async(
        on_success=lambda s: destinations.SqsDestination(sqs.Queue(s, "S", enforce_ssl=True)),
        retry_attempts=0,
        max_event_age=cdk.Duration.seconds(60),
    )
)
config("ProductionFunction ASYNC dead-letter queue")(_async(dead_letter_queue_enabled=True))
config("ProductionFunction ASYNC dead-letter topic")(
    _async(dead_letter_topic=lambda s: sns.Topic(s, "Dlt", enforce_ssl=True))
)


@config("ProductionFunction custom role with the VPC policy")
def _custom_role(scope: Construct, shared: Shared) -> Any:
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaVPCAccessExecutionRole")
        ],
    )
    return pf(scope, "Fn", vpc=shared.vpc(), role=role)


@config("ProductionFunction imported role")
def _imported_role(scope: Construct, shared: Shared) -> Any:
    return pf(scope, "Fn", role=iam.Role.from_role_arn(scope, "Role", "arn:aws:iam::111111111111:role/existing"))


@config("ProductionFunction events= (SQS source on live)")
def _events(scope: Construct, shared: Shared) -> Any:
    from aws_cdk import aws_lambda_event_sources as sources

    queue = sqs.Queue(scope, "Q", visibility_timeout=cdk.Duration.seconds(60), enforce_ssl=True)
    return pf(scope, "Fn", Invocation.QUEUE, events=[sources.SqsEventSource(queue)])


# ---- QueueConsumer

QUEUE_OPTIONS: dict[str, Callable[[Construct, Shared], dict[str, Any]]] = {
    "default": lambda s, sh: {},
    "batch 100 + window 5 s + concurrency 20 + receive 8": lambda s, sh: {
        "batch_size": 100,
        "max_batching_window": cdk.Duration.seconds(5),
        "max_concurrency": 20,
        "max_receive_count": 8,
    },
    "fifo": lambda s, sh: {"fifo": True},
    "given queue": lambda s, sh: {
        "queue": sqs.Queue(s, "Given", visibility_timeout=cdk.Duration.seconds(300), enforce_ssl=True)
    },
    "given KMS queue": lambda s, sh: {
        "queue": sqs.Queue(
            s,
            "Given",
            visibility_timeout=cdk.Duration.seconds(300),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=kms.Key(s, "QKey", enable_key_rotation=True),
            enforce_ssl=True,
        )
    },
    "max message age": lambda s, sh: {"max_message_age": cdk.Duration.hours(1)},
    "filters": lambda s, sh: {
        "filters": [lambda_.FilterCriteria.filter({"body": {"kind": lambda_.FilterRule.is_equal("order")}})]
    },
    "no batch item failures": lambda s, sh: {"report_batch_item_failures": False},
    "alarm topic": lambda s, sh: {"alarm_topic": sh.topic()},
    "encryption key": lambda s, sh: {"encryption_key": kms.Key(s, "Key", enable_key_rotation=True)},
    "provisioned pollers": lambda s, sh: {
        "provisioned_poller_config": lambda_.ProvisionedPollerConfig(minimum_pollers=2, maximum_pollers=10)
    },
}
for (_name, _options), (_sz, _s) in itertools.product(QUEUE_OPTIONS.items(), list(SIZINGS.items())[:2]):
    config(f"QueueConsumer {_name} ({_sz})")(
        lambda scope, shared, _o=_options, _s=_s: QueueConsumer(
            scope, "Consumer", function=pf(scope, "Fn", Invocation.QUEUE, **_s), **_o(scope, shared)
        )
    )

# ---- TopicConsumer

TOPIC_OPTIONS: dict[str, Callable[[Construct, Shared], dict[str, Any]]] = {
    "default": lambda s, sh: {},
    "filter policy": lambda s, sh: {
        "filter_policy": {"kind": sns.SubscriptionFilter.string_filter(allowlist=["order"])}
    },
    "envelope": lambda s, sh: {"raw_message_delivery": False},
    "batch 50 + window 10 s + concurrency 5": lambda s, sh: {
        "batch_size": 50,
        "max_batching_window": cdk.Duration.seconds(10),
        "max_concurrency": 5,
    },
    "receive 10": lambda s, sh: {"max_receive_count": 10},
    "alarm topic": lambda s, sh: {"alarm_topic": sh.topic()},
    "encryption key": lambda s, sh: {"encryption_key": kms.Key(s, "Key", enable_key_rotation=True)},
}
for _name, _options in TOPIC_OPTIONS.items():
    config(f"TopicConsumer {_name}")(
        lambda scope, shared, _o=_options: TopicConsumer(
            scope,
            "Consumer",
            function=pf(scope, "Fn", Invocation.QUEUE),
            topic=sns.Topic(scope, "Topic", enforce_ssl=True),
            **_o(scope, shared),
        )
    )

# ---- S3Consumer

S3_OPTIONS: dict[str, tuple[Invocation, Callable[[Construct, Shared], dict[str, Any]]]] = {
    "direct": (Invocation.ASYNC, lambda s, sh: {}),
    "direct, removed + prefix filter": (
        Invocation.ASYNC,
        lambda s, sh: {
            "events": (s3.EventType.OBJECT_REMOVED,),
            "filters": (s3.NotificationKeyFilter(prefix="incoming/"),),
        },
    ),
    "via queue": (Invocation.QUEUE, lambda s, sh: {"via_queue": True}),
    "via queue, batch 20 + window 2 s": (
        Invocation.QUEUE,
        lambda s, sh: {"via_queue": True, "batch_size": 20, "max_batching_window": cdk.Duration.seconds(2)},
    ),
    "via queue, concurrency 10 + receive 6": (
        Invocation.QUEUE,
        lambda s, sh: {"via_queue": True, "max_concurrency": 10, "max_receive_count": 6},
    ),
    "via queue, alarm topic": (Invocation.QUEUE, lambda s, sh: {"via_queue": True, "alarm_topic": sh.topic()}),
    "via queue, encryption key": (
        Invocation.QUEUE,
        lambda s, sh: {"via_queue": True, "encryption_key": kms.Key(s, "Key", enable_key_rotation=True)},
    ),
}
for _name, (_inv, _options) in S3_OPTIONS.items():
    config(f"S3Consumer {_name}")(
        lambda scope, shared, _inv=_inv, _o=_options: S3Consumer(
            scope,
            "Consumer",
            function=pf(scope, "Fn", _inv),
            bucket=s3.Bucket(scope, "Bucket", enforce_ssl=True),
            **_o(scope, shared),
        )
    )

# ---- StreamConsumer


def _table(scope: Construct) -> dynamodb.Table:
    return dynamodb.Table(
        scope,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    )


STREAM_OPTIONS: dict[str, Callable[[Construct, Shared], dict[str, Any]]] = {
    "default": lambda s, sh: {},
    "batch 500 + retries 3 + parallel 4 + age 2 h + trim horizon": lambda s, sh: {
        "batch_size": 500,
        "retry_attempts": 3,
        "parallelization_factor": 4,
        "max_record_age": cdk.Duration.hours(2),
        "starting_position": lambda_.StartingPosition.TRIM_HORIZON,
    },
    "window 5 s + iterator age 1 min": lambda s, sh: {
        "max_batching_window": cdk.Duration.seconds(5),
        "iterator_age_threshold": cdk.Duration.minutes(1),
    },
    "no bisect, no batch item failures": lambda s, sh: {
        "bisect_batch_on_error": False,
        "report_batch_item_failures": False,
    },
    "tumbling window": lambda s, sh: {"tumbling_window": cdk.Duration.minutes(1)},
    "filters": lambda s, sh: {
        "filters": [lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("INSERT")})]
    },
    "alarm topic": lambda s, sh: {"alarm_topic": sh.topic()},
    "encryption key": lambda s, sh: {"encryption_key": kms.Key(s, "Key", enable_key_rotation=True)},
}
for (_name, _options), _source in itertools.product(STREAM_OPTIONS.items(), ("kinesis", "table")):
    config(f"StreamConsumer {_source} {_name}")(
        lambda scope, shared, _o=_options, _source=_source: StreamConsumer(
            scope,
            "Consumer",
            function=pf(scope, "Fn", Invocation.STREAM),
            **({"stream": kinesis.Stream(scope, "Stream")} if _source == "kinesis" else {"table": _table(scope)}),
            **_o(scope, shared),
        )
    )


@config("StreamConsumer kinesis, KMS-encrypted stream")
def _kms_stream(scope: Construct, shared: Shared) -> Any:
    stream = kinesis.Stream(
        scope,
        "Stream",
        encryption=kinesis.StreamEncryption.KMS,
        encryption_key=kms.Key(scope, "StreamKey", enable_key_rotation=True),
    )
    return StreamConsumer(scope, "Consumer", function=pf(scope, "Fn", Invocation.STREAM), stream=stream)


# ---- KafkaConsumer

KAFKA_OPTIONS: dict[str, Callable[[Construct, Shared], dict[str, Any]]] = {
    "MSK": lambda s, sh: {"cluster_arn": CLUSTER},
    "MSK, consumer group + batch 500 + provisioned pollers": lambda s, sh: {
        "cluster_arn": CLUSTER,
        "consumer_group_id": "orders-lambda",
        "batch_size": 500,
        "provisioned_poller_config": lambda_.ProvisionedPollerConfig(minimum_pollers=1, maximum_pollers=10),
    },
    "MSK, trim horizon + window 5 s": lambda s, sh: {
        "cluster_arn": CLUSTER,
        "starting_position": lambda_.StartingPosition.TRIM_HORIZON,
        "max_batching_window": cdk.Duration.seconds(5),
    },
    "MSK, offset lag alarm + topic": lambda s, sh: {
        "cluster_arn": CLUSTER,
        "offset_lag_threshold": 1000,
        "alarm_topic": sh.topic(),
    },
    "self-managed, SASL/SCRAM secret": lambda s, sh: {
        "bootstrap_servers": ["b-1.kafka.example.com:9096", "b-2.kafka.example.com:9096"],
        "secret": secretsmanager.Secret(s, "BrokerSecret"),
    },
    "self-managed, in a VPC": lambda s, sh: {
        "bootstrap_servers": ["10.0.0.10:9096"],
        "secret": secretsmanager.Secret(s, "BrokerSecret"),
        "vpc": sh.vpc(),
        "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        "security_group": ec2.SecurityGroup(s, "Sg", vpc=sh.vpc()),
    },
}
for _name, _options in KAFKA_OPTIONS.items():
    config(f"KafkaConsumer {_name}")(
        lambda scope, shared, _o=_options: KafkaConsumer(
            scope, "Consumer", function=pf(scope, "Fn", Invocation.STREAM), topic="orders", **_o(scope, shared)
        )
    )

# ---- ScheduledFunction and EventConsumer

SCHEDULES = {
    "rate 5 min": events.Schedule.rate(cdk.Duration.minutes(5)),
    "cron": events.Schedule.cron(minute="0", hour="3"),
}
SCHEDULE_OPTIONS: dict[str, Callable[[Construct, Shared], dict[str, Any]]] = {
    "default": lambda s, sh: {},
    "input + retries 0 + age 1 h": lambda s, sh: {
        "input": events.RuleTargetInput.from_object({"job": "nightly"}),
        "retry_attempts": 0,
        "max_event_age": cdk.Duration.hours(1),
    },
    "disabled": lambda s, sh: {"enabled": False},
    "alarm topic": lambda s, sh: {"alarm_topic": sh.topic()},
    "encryption key": lambda s, sh: {"encryption_key": kms.Key(s, "Key", enable_key_rotation=True)},
}
for (_sched, _schedule), (_name, _options) in itertools.product(SCHEDULES.items(), SCHEDULE_OPTIONS.items()):
    config(f"ScheduledFunction {_sched} {_name}")(
        lambda scope, shared, _schedule=_schedule, _o=_options: ScheduledFunction(
            scope, "Job", function=pf(scope, "Fn", Invocation.ASYNC), schedule=_schedule, **_o(scope, shared)
        )
    )

EVENT_OPTIONS: dict[str, Callable[[Construct, Shared], dict[str, Any]]] = {
    "default bus": lambda s, sh: {},
    "own bus + description": lambda s, sh: {"event_bus": events.EventBus(s, "Bus"), "description": "orders"},
    "input + retries 1": lambda s, sh: {
        "input": events.RuleTargetInput.from_event_path("$.detail"),
        "retry_attempts": 1,
    },
    "disabled": lambda s, sh: {"enabled": False},
    "alarm topic": lambda s, sh: {"alarm_topic": sh.topic()},
    "encryption key": lambda s, sh: {"encryption_key": kms.Key(s, "Key", enable_key_rotation=True)},
}
for _name, _options in EVENT_OPTIONS.items():
    config(f"EventConsumer {_name}")(
        lambda scope, shared, _o=_options: EventConsumer(
            scope,
            "Consumer",
            function=pf(scope, "Fn", Invocation.ASYNC),
            event_pattern=events.EventPattern(source=["orders"], detail_type=["OrderPlaced"]),
            **_o(scope, shared),
        )
    )

# ---- HttpEndpoint and RestEndpoint

HTTP_OPTIONS: dict[str, Callable[[Construct, Shared], dict[str, Any]]] = {
    "HTTP API": lambda s, sh: {},
    "HTTP API routes + CORS": lambda s, sh: {
        "routes": ("GET /orders", "POST /orders"),
        "cors": apigwv2.CorsPreflightOptions(allow_origins=["https://example.com"]),
    },
    "HTTP API throttling + thresholds": lambda s, sh: {
        "throttle_rate_limit": 50,
        "throttle_burst_limit": 20,
        "client_error_threshold": 10,
        "latency_threshold_ms": 800,
    },
    "HTTP API alarm topic": lambda s, sh: {"alarm_topic": sh.topic()},
    "HTTP API encryption key": lambda s, sh: {"encryption_key": kms.Key(s, "Key", enable_key_rotation=True)},
    "Function URL": lambda s, sh: {"kind": "function_url"},
    "Function URL streaming": lambda s, sh: {"kind": "function_url", "invoke_mode": lambda_.InvokeMode.RESPONSE_STREAM},
    "Function URL, public": lambda s, sh: {"kind": "function_url", "auth_type": lambda_.FunctionUrlAuthType.NONE},
}
for _name, _options in HTTP_OPTIONS.items():
    config(f"HttpEndpoint {_name}")(
        lambda scope, shared, _o=_options: HttpEndpoint(scope, "Api", function=pf(scope, "Fn"), **_o(scope, shared))
    )


def _cognito_authorizer(scope: Construct) -> apigateway.CognitoUserPoolsAuthorizer:
    pool = cognito.UserPool(scope, "Pool")
    return apigateway.CognitoUserPoolsAuthorizer(scope, "Authorizer", cognito_user_pools=[pool])


REST_OPTIONS: dict[str, Callable[[Construct, Shared], dict[str, Any]]] = {
    "IAM": lambda s, sh: {},
    "two routes + CORS": lambda s, sh: {
        "routes": ("GET /orders", "POST /orders/{id}"),
        "cors": apigateway.CorsOptions(allow_origins=["https://example.com"]),
    },
    "integration timeout 10 s": lambda s, sh: {"integration_timeout": cdk.Duration.seconds(10)},
    "edge endpoint": lambda s, sh: {"endpoint_type": apigateway.EndpointType.EDGE},
    "Cognito authorizer": lambda s, sh: {"authorizer": _cognito_authorizer(s)},
    "throttling + alarm topic": lambda s, sh: {
        "throttle_rate_limit": 100,
        "throttle_burst_limit": 50,
        "alarm_topic": sh.topic(),
    },
    "execution logging ERROR": lambda s, sh: {"execution_logging": apigateway.MethodLoggingLevel.ERROR},
    "encryption key": lambda s, sh: {"encryption_key": kms.Key(s, "Key", enable_key_rotation=True)},
}
for _name, _options in REST_OPTIONS.items():
    config(f"RestEndpoint {_name}")(
        lambda scope, shared, _o=_options: RestEndpoint(
            scope, "Api", function=pf(scope, "Fn"), **{"routes": ("GET /orders",), **_o(scope, shared)}
        )
    )

# ---- WebSocket, ALB, AppSync, Cognito, Step Functions


@config("WebSocketEndpoint connect + disconnect + default + route")
def _websocket(scope: Construct, shared: Shared) -> Any:
    connect, message = pf(scope, "Connect"), pf(scope, "Message", timeout=cdk.Duration.seconds(10))
    return WebSocketEndpoint(
        scope, "Chat", connect=connect, disconnect=connect, default=message, routes={"sendMessage": message}
    )


@config("WebSocketEndpoint public connect, throttling, alarm topic")
def _websocket_public(scope: Construct, shared: Shared) -> Any:
    return WebSocketEndpoint(
        scope,
        "Chat",
        connect=pf(scope, "Connect"),
        default=pf(scope, "Default"),
        public=True,
        stage_name="v1",
        throttle_rate_limit=100,
        throttle_burst_limit=50,
        alarm_topic=shared.topic(),
    )


@config("WebSocketEndpoint routes only")
def _websocket_routes(scope: Construct, shared: Shared) -> Any:
    return WebSocketEndpoint(scope, "Chat", connect=pf(scope, "Connect"), routes={"join": pf(scope, "Join")})


_priority = itertools.count(1)
for _name, _kw in {
    "path": {},
    "multi-value headers, 5xx threshold 5": {"multi_value_headers": True, "server_error_threshold": 5},
    "alarm topic": {"alarm_topic": True},
}.items():
    config(f"LoadBalancerTarget {_name}")(
        lambda scope, shared, _kw=_kw: LoadBalancerTarget(
            scope,
            "Target",
            function=pf(scope, "Fn"),
            listener=shared.listener(),
            priority=next(_priority),
            conditions=[elbv2.ListenerCondition.path_patterns([f"/{scope.node.id.lower()}/*"])],
            **{k: (shared.topic() if k == "alarm_topic" else v) for k, v in _kw.items()},
        )
    )


for _name, _kw in {"default": {}, "named + described": {"name": "orders", "description": "orders"}}.items():
    config(f"AppSyncDataSource {_name}")(
        lambda scope, shared, _kw=_kw: AppSyncDataSource(
            scope,
            "Source",
            function=pf(scope, "Fn"),
            api=shared.graph(),
            **{k: (f"{v}{scope.node.id}" if k == "name" else v) for k, v in _kw.items()},
        )
    )
config("AppSyncDataSource alarm topic")(
    lambda scope, shared: AppSyncDataSource(
        scope,
        "Source",
        function=pf(scope, "Fn"),
        api=shared.graph(),
        name=f"a{scope.node.id}",
        alarm_topic=shared.topic(),
    )
)


@config("CognitoTriggers pre sign-up + post confirmation")
def _cognito(scope: Construct, shared: Shared) -> Any:
    return CognitoTriggers(
        scope,
        "Triggers",
        user_pool=cognito.UserPool(scope, "Pool"),
        triggers={
            cognito.UserPoolOperation.PRE_SIGN_UP: pf(
                scope, "Pre", Invocation.WORKFLOW, timeout=cdk.Duration.seconds(4)
            ),
            cognito.UserPoolOperation.POST_CONFIRMATION: pf(scope, "Post", Invocation.WORKFLOW),
        },
    )


@config("CognitoTriggers pre token generation")
def _cognito_token(scope: Construct, shared: Shared) -> Any:
    return CognitoTriggers(
        scope,
        "Triggers",
        user_pool=cognito.UserPool(scope, "Pool"),
        triggers={cognito.UserPoolOperation.PRE_TOKEN_GENERATION: pf(scope, "Token", Invocation.WORKFLOW)},
    )


WORKFLOW_OPTIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "payload + paths + whole response": {
        "payload": sfn.TaskInput.from_object({"order.$": "$.order"}),
        "result_path": "$.charged",
        "payload_response_only": False,
    },
    "retries 3 x 1 s, backoff 1.5": {"interval": cdk.Duration.seconds(1), "max_attempts": 3, "backoff_rate": 1.5},
    "express": {"express": True},
    "named state + alarm topic": {"state_name": "Charge", "alarm_topic": True},
}
for _name, _kw in WORKFLOW_OPTIONS.items():

    def _workflow(scope: Construct, shared: Shared, _kw: dict[str, Any] = _kw) -> Any:
        task = WorkflowTask(
            scope,
            "Task",
            function=pf(scope, "Fn", Invocation.WORKFLOW),
            **{k: (shared.topic() if k == "alarm_topic" else v) for k, v in _kw.items()},
        )
        sfn.StateMachine(scope, "Machine", definition_body=sfn.DefinitionBody.from_chainable(task.task))
        return task

    config(f"WorkflowTask {_name}")(_workflow)

# ---- EdgeFunction and FunctionFleet

EDGE_EVENTS = {
    "viewer request": cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
    "origin response": cloudfront.LambdaEdgeEventType.ORIGIN_RESPONSE,
}
for (_name, _event), _body in itertools.product(EDGE_EVENTS.items(), (False, True)):
    if _body and _event is not cloudfront.LambdaEdgeEventType.VIEWER_REQUEST:
        continue
    config(f"EdgeFunction {_name}{' with body' if _body else ''}")(
        lambda scope, shared, _event=_event, _body=_body: EdgeFunction(
            scope,
            "Edge",
            code=INLINE,
            handler="index.handler",
            runtime=LATEST_PYTHON,
            event_type=_event,
            p99=cdk.Duration.millis(100),
            include_body=_body,
            alarm_topic=shared.topic(),
        )
    )
config("EdgeFunction environment-free, memory 256")(
    lambda scope, shared: EdgeFunction(
        scope,
        "Edge",
        code=INLINE,
        handler="index.handler",
        runtime=LATEST_PYTHON,
        event_type=cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST,
        p99=cdk.Duration.millis(400),
        memory=256,
        alarm_topic=shared.topic(),
    )
)


def _fleet(bundles: int, limit: int) -> Callable[[Construct, Shared], Any]:
    def build(scope: Construct, shared: Shared) -> Any:
        placement = Path(FLEET_DIR[0]) / f"{scope.node.addr}.json"
        fleet = FunctionFleet(
            scope, "Workers", max_resources_per_stack=limit, placement_file=placement, new_placement=True
        )

        def bundle(inner: Construct, id: str) -> Any:
            return QueueConsumer(inner, f"{id}Queue", function=pf(inner, id, Invocation.QUEUE))

        for i in range(bundles):
            fleet.add(f"W{i}", bundle)
        return fleet

    return build


def _fleet_on_parent_topic(scope: Construct, shared: Shared) -> Any:
    # the topic lives in the parent stack, the consumers in a nested one (aws-cdk-lib's SqsSubscription would
    # make the nested stack depend on its parent: CannotDependOnParent)
    topic = shared.get("events", lambda s: sns.Topic(s, "Events", enforce_ssl=True))
    placement = Path(FLEET_DIR[0]) / f"{scope.node.addr}.json"
    fleet = FunctionFleet(scope, "Workers", placement_file=placement, new_placement=True)
    for i in range(2):
        fleet.add(
            f"T{i}",
            lambda inner, id: TopicConsumer(inner, f"{id}Sub", function=pf(inner, id, Invocation.QUEUE), topic=topic),
        )
    return fleet


FLEET_DIR: list[str] = []
config("FunctionFleet 3 queue workers in one nested stack")(_fleet(3, 450))
config("FunctionFleet 4 queue workers over two nested stacks")(_fleet(4, 40))
config("FunctionFleet 2 topic consumers on the parent stack's topic")(_fleet_on_parent_topic)


# ---------------------------------------------------------------- the matrix


def synthesize(root: Path) -> list[str]:
    """Every configuration synthesized into ``root/cdk.out``: twenty per stack, each stack its own account."""
    FLEET_DIR[:] = [str(root)]
    # aws-cdk-lib's own CloudFormation validation, stack traces and tree.json are not what is tested here, and
    # they are most of the synthesis time
    app = cdk.App(
        outdir=str(root / "cdk.out"),
        context={"aws:cdk:enable-path-metadata": True},
        builtin_cloud_formation_validation=False,
        stack_traces=False,
        tree_metadata=False,
    )
    names = []
    stacks: list[cdk.Stack] = []
    for index, (name, build) in enumerate(CONFIGS):
        if index % PER_STACK == 0:
            env = cdk.Environment(account=f"{300000000000 + len(stacks)}", region="us-east-1")
            stacks.append(cdk.Stack(app, f"Matrix{len(stacks):02d}", env=env))
            shared = Shared(stacks[-1])
        build(Construct(stacks[-1], f"C{index:03d}"), shared)
        names.append(name)
    app.synth()
    return names


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The matrix synthesized in a child process: its few thousand constructs never live in this session's
    jsii kernel (which keeps every object it was given until the process ends, slowing later tests)."""
    import json
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("matrix")
    script = (
        "import json, sys; from pathlib import Path; from tests.test_deploy_matrix import synthesize; "
        "print(json.dumps(synthesize(Path(sys.argv[1]))))"
    )
    repo = Path(__file__).parent.parent
    run = subprocess.run(
        [sys.executable, "-c", script, str(root)], cwd=repo, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr[-4000:]
    names = json.loads(run.stdout.strip().splitlines()[-1])
    assert names == [name for name, _ in CONFIGS]
    return root / "cdk.out", names


def test_the_matrix_is_a_few_hundred_configurations_of_every_public_construct(
    matrix: tuple[Path, list[str]],
) -> None:
    _, names = matrix
    assert len(names) == len(set(names)) >= 250, len(names)
    constructs = {name.split()[0] for name in names}
    assert constructs == {
        "ProductionFunction",
        "QueueConsumer",
        "TopicConsumer",
        "S3Consumer",
        "StreamConsumer",
        "KafkaConsumer",
        "ScheduledFunction",
        "EventConsumer",
        "HttpEndpoint",
        "RestEndpoint",
        "WebSocketEndpoint",
        "LoadBalancerTarget",
        "AppSyncDataSource",
        "CognitoTriggers",
        "WorkflowTask",
        "EdgeFunction",
        "FunctionFleet",
    }


def test_the_library_s_output_violates_no_deploy_rule(matrix: tuple[Path, list[str]]) -> None:
    out, names = matrix
    templates = deploy.load_templates(out)
    assert len(templates) > len(names) // PER_STACK  # the stacks, the fleets' nested stacks, the Edge stacks
    functions = sum(len(deploy.resources_of(t, deploy.FUNCTION)) for t in templates.values())
    assert functions > len(names)
    # the rules read what they judge: a role for nearly every function, a need for every one of them
    judged = [
        (template, fid)
        for template in templates.values()
        for fid in deploy.resources_of(template, deploy.FUNCTION)
        if not is_framework_function(template, fid)
    ]
    read = [(t, fid) for t, fid in judged if deploy.missing_actions(t, fid) is not None]
    assert len(read) >= len(judged) - 5  # the imported role (and nothing else) is skipped
    needs = [need.why.split(" ")[0] for t, fid in read for need in deploy.needs_of(t, fid)]
    assert {"VpcConfig", "TracingConfig", "event", "EventInvokeConfig", "DeadLetterConfig"} <= set(needs)
    # customer-managed keys the library wires: log groups, and queues AWS services send to
    keyed_logs = [
        gid
        for t in templates.values()
        for gid, g in deploy.resources_of(t, "AWS::Logs::LogGroup").items()
        if deploy._template_key(t, g.get("Properties", {}).get("KmsKeyId"))
    ]
    keyed_sent = [
        qid
        for t in templates.values()
        for qid in deploy._queue_senders(t)
        if deploy._template_key(t, t["Resources"].get(qid, {}).get("Properties", {}).get("KmsMasterKeyId"))
    ]
    assert len(keyed_logs) >= 7 and len(keyed_sent) >= 6, (len(keyed_logs), len(keyed_sent))
    mappings = sum(len(deploy.resources_of(t, deploy.MAPPING)) for t in templates.values())
    assert mappings >= 60
    found = deploy.evaluate_assembly(out)

    def config_of(logical_id: str, stack: str) -> str:
        template = templates[stack]
        path = template["Resources"][logical_id].get("Metadata", {}).get("aws:cdk:path", "")
        part = next((p for p in path.split("/") if p.startswith("C") and p[1:].isdigit()), None)
        return names[int(part[1:])] if part else path

    assert [f"{config_of(f.logical_id, f.stack)}: {f.rule} {f.logical_id} {f.detail}" for f in found] == []


def test_the_matrix_would_catch_a_role_without_its_grants(matrix: tuple[Path, list[str]]) -> None:
    """The same templates with every AWS::IAM::Policy removed: each function with a mapping, a destination or
    a VPC is caught (so the clean result above is the library's doing, not a blind check)."""
    out, _ = matrix
    templates = deploy.load_templates(out)
    stripped = {
        name: {
            **t,
            "Resources": {k: v for k, v in t["Resources"].items() if v.get("Type") != "AWS::IAM::Policy"},
        }
        for name, t in templates.items()
    }
    found = [f for f in deploy.evaluate_app(stripped) if f.rule == deploy.ROLE.id]
    assert len(found) >= 100
    assert any("sqs:ReceiveMessage" in f.detail for f in found)
    assert any("kinesis:GetRecords" in f.detail for f in found)
    assert any("dynamodb:GetRecords" in f.detail for f in found)
    assert any("sqs:SendMessage" in f.detail for f in found)
