#!/usr/bin/env python3
"""Example service: orders API, async notifier, queue worker, nightly cleanup, order-events stream,
live order updates over WebSocket, a storefront behind a load balancer, a checkout workflow, payment
events from Kafka.

Run ``make synth`` to synthesize it into cdk.out/ (no AWS account needed).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambda_constructs import (
    EventConsumer,
    HttpEndpoint,
    Invocation,
    KafkaConsumer,
    LoadBalancerTarget,
    Memory,
    Powertools,
    ProductionDefaults,
    ProductionFunction,
    ProvisionedConcurrency,
    QueueConsumer,
    S3Consumer,
    ScheduledFunction,
    ServiceDashboard,
    StreamConsumer,
    TopicConsumer,
    WebSocketEndpoint,
    WorkflowTask,
    default_alarm_topic,
)

HANDLERS = Path(__file__).parent / "handlers"
LAYERS = Path(__file__).parent / "layers"


def handler_code(name: str) -> lambda_.Code:
    """The example handler folder ``handlers/<name>``, without bytecode caches (stable hashes)."""
    return lambda_.Code.from_asset(str(HANDLERS / name), exclude=["__pycache__", "*.pyc"])


class OrdersService(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)
        alarms = sns.Topic(self, "Alarms", enforce_ssl=True)
        default_alarm_topic(self, alarms)  # every library construct below not given alarm_topic= notifies it
        orders = dynamodb.TableV2(
            self,
            "Orders",
            partition_key=dynamodb.Attribute(name="order_id", type=dynamodb.AttributeType.STRING),
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
        )

        # Synchronous API: measured p99 of 120 ms -> 1 s timeout; warm pool of 2..20.
        self.orders_api = ProductionFunction(
            self,
            "OrdersApi",
            code=handler_code("orders_api"),
            handler="app.handler",
            p99=cdk.Duration.millis(120),
            memory=Memory.io_bound(),
            provisioned_concurrency=ProvisionedConcurrency(min_capacity=2, max_capacity=20),
            reserved_concurrency=50,
            environment={"LOG_LEVEL": "INFO"},
            alarm_topic=alarms,
        )
        # POST /orders and GET /orders/{id} through an HTTP API (IAM auth), with the CORS preflight a
        # browser client needs answered by API Gateway; a timeout of 30 s or more would be refused.
        self.api = HttpEndpoint(
            self,
            "OrdersHttpApi",
            function=self.orders_api,
            routes=("POST /orders", "GET /orders/{id}"),
            cors=apigwv2.CorsPreflightOptions(
                allow_origins=["https://shop.example.com"],
                allow_methods=[apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST],
                allow_headers=["Authorization", "Content-Type"],
                max_age=cdk.Duration.hours(1),
            ),
        )

        # Asynchronous notifier: failed events land in an encrypted failure queue.
        self.notifier = ProductionFunction(
            self,
            "Notifier",
            code=handler_code("notifier"),
            handler="app.handler",
            p99=cdk.Duration.millis(900),
            invocation=Invocation.ASYNC,
            alarm_topic=alarms,
        )

        # OrderPlaced events on the service's own bus -> the notifier (rule DLQ + the function's onFailure).
        self.bus = events.EventBus(self, "OrdersBus")
        self.order_placed = EventConsumer(
            self,
            "OrderPlaced",
            function=self.notifier,
            event_bus=self.bus,
            event_pattern=events.EventPattern(source=["orders"], detail_type=["OrderPlaced"]),
        )

        # SNS fan-out: order events -> an SQS queue per consumer -> billing ("never SNS direct to Lambda").
        self.order_topic = sns.Topic(self, "OrderTopic", enforce_ssl=True)
        self.billing = ProductionFunction(
            self,
            "Billing",
            code=handler_code("billing"),
            handler="app.handler",
            p99=cdk.Duration.millis(600),
            invocation=Invocation.QUEUE,
            alarm_topic=alarms,
        )
        self.billing_feed = TopicConsumer(
            self,
            "BillingFeed",
            function=self.billing,
            topic=self.order_topic,
            filter_policy={"type": sns.SubscriptionFilter.string_filter(allowlist=["OrderPlaced"])},
        )

        # Queue worker: p99 2 s -> 6 s timeout; with a 5 s batching window the queue gets 6 x 6 + 5 = 41 s.
        self.order_worker = ProductionFunction(
            self,
            "OrderWorker",
            code=handler_code("order_worker"),
            handler="app.handler",
            p99=cdk.Duration.seconds(2),
            invocation=Invocation.QUEUE,
            alarm_topic=alarms,
        )
        self.work_queue = QueueConsumer(
            self,
            "OrderQueue",
            function=self.order_worker,
            batch_size=10,
            max_batching_window=cdk.Duration.seconds(5),
            max_concurrency=50,
        )

        # Nightly cleanup at 03:00 UTC, invoked asynchronously by EventBridge.
        self.cleanup = ProductionFunction(
            self,
            "NightlyCleanup",
            code=handler_code("cleanup"),
            handler="app.handler",
            p99=cdk.Duration.seconds(40),
            memory=Memory.cpu_bound(),
            invocation=Invocation.ASYNC,
            alarm_topic=alarms,
        )
        self.schedule = ScheduledFunction(
            self,
            "NightlySchedule",
            function=self.cleanup,
            schedule=events.Schedule.cron(minute="0", hour="3"),
        )

        # Order events from the table's stream, with a bounded failure path.
        self.order_events = ProductionFunction(
            self,
            "OrderEvents",
            code=handler_code("order_events"),
            handler="app.handler",
            p99=cdk.Duration.millis(300),
            invocation=Invocation.STREAM,
            alarm_topic=alarms,
        )
        self.events_stream = StreamConsumer(self, "OrderEventsStream", function=self.order_events, table=orders)

        # Thumbnailer: Powertools (public layer, service name, JSON logs) plus the team's imaging layer.
        imaging = lambda_.LayerVersion(
            self,
            "ImagingLayer",
            code=lambda_.Code.from_asset(str(LAYERS / "imaging"), exclude=["__pycache__", "*.pyc"]),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_14],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="Shared imaging helpers",
        )
        self.thumbnailer = ProductionFunction(
            self,
            "Thumbnailer",
            code=handler_code("thumbnailer"),
            handler="app.handler",
            p99=cdk.Duration.millis(1500),
            memory=Memory.cpu_bound(),
            invocation=Invocation.ASYNC,
            powertools=Powertools(service="thumbnailer", metrics_namespace="Orders"),
            layers=[imaging],
            alarm_topic=alarms,
        )
        # Uploaded images -> thumbnails: S3 invokes the alias asynchronously; failures land in the
        # thumbnailer's failure queue.
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        )
        self.uploads = s3.Bucket(
            self,
            "Uploads",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="uploads/",
        )
        self.thumbnails = S3Consumer(
            self,
            "Thumbnails",
            function=self.thumbnailer,
            bucket=self.uploads,
            filters=[s3.NotificationKeyFilter(prefix="images/", suffix=".jpg")],
        )
        # least privilege: read originals under images/, write thumbnails under thumbnails/ (exact actions)
        self.thumbnailer.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.uploads.arn_for_objects("images/*")])
        )
        self.thumbnailer.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[self.uploads.arn_for_objects("thumbnails/*")])
        )
        uploads_id = self.resolve(self.get_logical_id(self.uploads.node.default_child))  # type: ignore[arg-type]
        # on the policy the statements land in, not the role: a later grant elsewhere stays visible
        thumbnailer_policy = self.thumbnailer.role.node.find_child("DefaultPolicy").node.default_child
        for prefix in ("images", "thumbnails"):
            cdk.Validations.of(thumbnailer_policy).acknowledge(  # type: ignore[arg-type]
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::<{uploads_id}.Arn>/{prefix}/*]",
                    reason=f"Object-level permission on the {prefix}/ prefix of the uploads bucket: S3 object "
                    "ARNs for a prefix are written with a trailing wildcard; the actions are exact.",
                )
            )

        # Ledger sync: in private subnets of the service VPC, reaching the database through a security group.
        vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=1)
        vpc.add_flow_log("FlowLog")
        database = ec2.SecurityGroup(
            self, "DatabaseSg", vpc=vpc, description="Ledger database", allow_all_outbound=False
        )
        self.ledger_sync = ProductionFunction(
            self,
            "LedgerSync",
            code=handler_code("ledger_sync"),
            handler="app.handler",
            p99=cdk.Duration.millis(800),
            invocation=Invocation.QUEUE,
            vpc=vpc,
            security_groups=[
                ec2.SecurityGroup(self, "LedgerSyncSg", vpc=vpc, description="Ledger sync", allow_all_outbound=False)
            ],
            alarm_topic=alarms,
        )
        self.ledger_sync.connections.allow_to(database, ec2.Port.tcp(5432), "ledger sync -> database")
        self.ledger_queue = QueueConsumer(self, "LedgerQueue", function=self.ledger_sync)

        # Written with plain aws-cdk-lib (as in a third-party construct): the app's ProductionDefaults
        # injector (build_app) gives it arm64, JSON logs, a log group with retention, tracing and explicit
        # async settings. An alarm is structural, not injectable: added here (LambdaProduction-ErrorsAlarm).
        self.report_export = lambda_.Function(
            self,
            "ReportExport",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="app.handler",
            code=handler_code("report_export"),
            memory_size=512,
            timeout=cdk.Duration.seconds(10),
        )
        self.report_export.metric_errors(period=cdk.Duration.minutes(5)).create_alarm(
            self, "ReportExportErrors", threshold=1, evaluation_periods=1
        ).add_alarm_action(cw_actions.SnsAction(alarms))  # an alarm that notifies nobody: LambdaProduction-AlarmActions
        sync = "Invoked synchronously by the reporting job: a failure returns to the caller, nothing is queued."
        cdk.Validations.of(self.report_export).acknowledge(
            cdk.Acknowledgment(id="Serverless-LambdaDLQ", reason=sync),
            cdk.Acknowledgment(id="Serverless-LambdaAsyncFailureDestination", reason=sync),
            cdk.Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                reason="aws-cdk-lib's default role for a plain function: the managed policy grants log writing only.",
            ),
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="Active tracing (injected): xray:PutTraceSegments and PutTelemetryRecords support only '*'.",
            ),
        )

        # Live order updates over WebSocket: one function serves every route and answers through the
        # callback URL in its environment; IAM on $connect; a timeout of 29 s or more would be refused.
        self.order_updates = ProductionFunction(
            self,
            "OrderUpdates",
            code=handler_code("order_updates"),
            handler="app.handler",
            p99=cdk.Duration.millis(150),
            alarm_topic=alarms,
        )
        self.updates_api = WebSocketEndpoint(
            self,
            "OrderUpdatesApi",
            connect=self.order_updates,
            disconnect=self.order_updates,
            default=self.order_updates,
            routes={"subscribe": self.order_updates},
        )

        # Storefront pages behind the platform team's shared Application Load Balancer: the service adds
        # a listener rule and a Lambda target group; the listener's ARN is published in SSM.
        listener = elbv2.ApplicationListener.from_application_listener_attributes(
            self,
            "SharedListener",
            listener_arn=ssm.StringParameter.value_for_string_parameter(self, "/platform/alb/https-listener-arn"),
            security_group=ec2.SecurityGroup.from_security_group_id(
                self, "SharedAlbSg", self.node.try_get_context("sharedAlbSecurityGroupId") or "sg-0a1b2c3d4e5f60718"
            ),
        )
        self.storefront = ProductionFunction(
            self,
            "Storefront",
            code=handler_code("storefront"),
            handler="app.handler",
            p99=cdk.Duration.millis(250),
            alarm_topic=alarms,
        )
        self.storefront_rule = LoadBalancerTarget(
            self,
            "StorefrontRule",
            function=self.storefront,
            listener=listener,
            priority=10,
            conditions=[elbv2.ListenerCondition.path_patterns(["/shop/*"])],
        )

        # Checkout workflow: validate then charge, each a Lambda step with the service-error retries.
        # Called by Step Functions, not by a waiting user: Invocation.WORKFLOW (no provisioned concurrency).
        self.validate_order = ProductionFunction(
            self,
            "ValidateOrder",
            code=handler_code("checkout"),
            handler="app.validate",
            p99=cdk.Duration.millis(100),
            invocation=Invocation.WORKFLOW,
            alarm_topic=alarms,
        )
        self.charge_order = ProductionFunction(
            self,
            "ChargeOrder",
            code=handler_code("checkout"),
            handler="app.charge",
            p99=cdk.Duration.millis(900),
            invocation=Invocation.WORKFLOW,
            alarm_topic=alarms,
        )
        validate = WorkflowTask(self, "Validate", function=self.validate_order)
        charge = WorkflowTask(self, "Charge", function=self.charge_order)
        self.checkout = sfn.StateMachine(
            self,
            "Checkout",
            definition_body=sfn.DefinitionBody.from_chainable(validate.next(charge.task)),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(self, "CheckoutLogs", retention=logs.RetentionDays.ONE_MONTH),
                level=sfn.LogLevel.ALL,
            ),
        )
        validate.watch(self.checkout)  # the workflow's failed / timed-out / throttled executions
        checkout_policy = self.checkout.role.node.find_child("DefaultPolicy").node.default_child
        cdk.Validations.of(checkout_policy).acknowledge(  # type: ignore[arg-type]  # the policy, not the whole role
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="Step Functions' X-Ray (PutTraceSegments) and log delivery (CreateLogDelivery, ...) actions "
                "support no resource-level scoping; aws-cdk-lib grants them for tracing and logging.",
            )
        )

        # Payment events from the platform's Amazon MSK cluster (its ARN published in SSM).
        self.payment_events = ProductionFunction(
            self,
            "PaymentEvents",
            code=handler_code("payment_events"),
            handler="app.handler",
            p99=cdk.Duration.millis(400),
            invocation=Invocation.STREAM,
            alarm_topic=alarms,
        )
        self.payments_feed = KafkaConsumer(
            self,
            "PaymentsFeed",
            function=self.payment_events,
            topic="payments",
            cluster_arn=ssm.StringParameter.value_for_string_parameter(self, "/platform/msk/payments-cluster-arn"),
            consumer_group_id="orders-payment-events",
            filters=[{"value": {"status": ["CAPTURED", "REFUNDED"]}}],
        )

        # One dashboard for the service: traffic, duration vs timeout, PC utilization, cold vs warm.
        ServiceDashboard(
            self,
            "ServiceDashboard",
            functions=[
                self.orders_api,
                self.notifier,
                self.order_worker,
                self.cleanup,
                self.order_events,
                self.thumbnailer,
                self.ledger_sync,
                self.billing,
                self.order_updates,
                self.storefront,
                self.validate_order,
                self.charge_order,
                self.payment_events,
            ],
        )


def build_app(**app_props: object) -> cdk.App:
    app = cdk.App(**app_props)  # type: ignore[arg-type]
    # the library's defaults on every aws_lambda.Function the library did not build (ReportExport here)
    cdk.PropertyInjectors.of(app).add(ProductionDefaults())
    OrdersService(app, "OrdersService")
    return app


if __name__ == "__main__":
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    from lambda_constructs import enable_checks

    service = build_app()
    enable_checks(service)  # production-readiness rules for every Lambda in the app: the one-liner
    cdk.Validations.of(service).add_plugins(AwsSolutionsChecks(service), ServerlessChecks(service))
    service.synth()  # any unacknowledged finding fails `cdk synth`
