"""Synchronous callers: LoadBalancerTarget, WebSocketEndpoint, AppSyncDataSource, CognitoTriggers, WorkflowTask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Annotations, Match, Template

from lambda_constructs import (
    AppSyncDataSource,
    CognitoTriggers,
    ConfigurationError,
    Invocation,
    LoadBalancerTarget,
    ProductionFunction,
    WebSocketEndpoint,
    WorkflowTask,
)
from tests.conftest import INLINE, only

SCHEMA = Path(__file__).parent / "fixtures" / "orders.graphql"


def fn(stack: cdk.Stack, id: str, invocation: Invocation = Invocation.SYNC, **kw: Any) -> ProductionFunction:
    if "timeout" not in kw:
        kw.setdefault("p99", cdk.Duration.millis(1000))  # 3 s timeout
    return ProductionFunction(stack, id, code=INLINE, handler="index.handler", invocation=invocation, **kw)


def by_path(tpl: Template, type_: str, fragment: str) -> dict[str, Any]:
    found = [r for r in tpl.find_resources(type_).values() if fragment in r.get("Metadata", {}).get("aws:cdk:path", "")]
    assert len(found) == 1, f"{type_} under {fragment}: {len(found)}"
    return found[0]["Properties"]


def app_stack(name: str) -> cdk.Stack:
    return cdk.Stack(cdk.App(context={"aws:cdk:enable-path-metadata": True}), name)


# ---------------------------------------------------------------- Invocation.WORKFLOW


def test_workflow_invocation_has_no_provisioned_concurrency_and_no_failure_queue() -> None:
    stack = app_stack("Wf")
    step = fn(stack, "Step", Invocation.WORKFLOW)
    assert step.provisioned_concurrency is None and step.failure_queue is None
    tpl = Template.from_stack(stack)
    tpl.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    tpl.resource_count_is("AWS::SQS::Queue", 0)
    assert "ProvisionedConcurrencyConfig" not in only(tpl, "AWS::Lambda::Alias")
    metadata = json.loads(json.dumps(tpl.find_resources("AWS::Lambda::Function")))
    assert any('"invocation": "workflow"' in json.dumps(r) for r in metadata.values())


# ---------------------------------------------------------------- LoadBalancerTarget


def _listener(stack: cdk.Stack, idle_timeout: cdk.Duration | None = None) -> elbv2.ApplicationListener:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    balancer = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc, idle_timeout=idle_timeout)
    return balancer.add_listener("Http", port=80, default_action=elbv2.ListenerAction.fixed_response(404))


@pytest.fixture(scope="module")
def alb() -> tuple[LoadBalancerTarget, Template]:
    stack = app_stack("Alb")
    target = LoadBalancerTarget(
        stack,
        "Orders",
        function=fn(stack, "Api"),
        listener=_listener(stack),
        priority=10,
        conditions=[elbv2.ListenerCondition.path_patterns(["/orders/*"])],
        multi_value_headers=True,
    )
    return target, Template.from_stack(stack)


def test_alb_rule_forwards_to_a_lambda_target_group_on_live(alb: tuple[LoadBalancerTarget, Template]) -> None:
    _, tpl = alb
    group = only(tpl, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["TargetType"] == "lambda"
    alias_id = next(iter(tpl.find_resources("AWS::Lambda::Alias")))
    assert group["Targets"] == [{"Id": {"Ref": alias_id}}]
    assert group["TargetGroupAttributes"] == [{"Key": "lambda.multi_value_headers.enabled", "Value": "true"}]
    rule = only(tpl, "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert rule["Priority"] == 10
    assert rule["Conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/orders/*"]}}]
    assert rule["Actions"][0]["Type"] == "forward"
    permission = only(tpl, "AWS::Lambda::Permission")
    assert permission["Principal"] == "elasticloadbalancing.amazonaws.com"
    assert permission["FunctionName"] == {"Ref": alias_id}


def test_alb_alarms_on_target_5xx_and_lambda_errors(alb: tuple[LoadBalancerTarget, Template]) -> None:
    target, tpl = alb
    assert [a.node.id for a in target.alarms] == ["Target5xxAlarm", "LambdaUserErrorAlarm", "LambdaInternalErrorAlarm"]
    assert all(a in target.function.alarms for a in target.alarms)  # type: ignore[attr-defined]
    five = by_path(tpl, "AWS::CloudWatch::Alarm", "Orders/Target5xxAlarm")
    assert (five["Namespace"], five["MetricName"], five["Threshold"]) == (
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        1,
    )
    assert {d["Name"] for d in five["Dimensions"]} == {"LoadBalancer", "TargetGroup"}
    user = by_path(tpl, "AWS::CloudWatch::Alarm", "Orders/LambdaUserErrorAlarm")
    assert user["MetricName"] == "LambdaUserError" and "over 1 MB" in user["AlarmDescription"]
    assert by_path(tpl, "AWS::CloudWatch::Alarm", "Orders/LambdaInternalErrorAlarm")["MetricName"] == (
        "LambdaInternalError"
    )


def test_alb_warns_when_the_function_outlives_the_idle_timeout() -> None:
    stack = app_stack("Idle")
    LoadBalancerTarget(
        stack,
        "T",
        function=fn(stack, "F", timeout=cdk.Duration.seconds(45)),
        listener=_listener(stack, idle_timeout=cdk.Duration.seconds(30)),
        priority=1,
        conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
    )
    assert Annotations.from_stack(stack).find_warning(
        "/Idle/T", Match.string_like_regexp("times out after 45 s but the load balancer stops waiting after .* 30 s")
    )


def test_alb_default_idle_timeout_is_60_seconds() -> None:
    stack = app_stack("Idle60")
    LoadBalancerTarget(
        stack,
        "T",
        function=fn(stack, "F", timeout=cdk.Duration.seconds(59)),
        listener=_listener(stack),
        priority=1,
        conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
    )
    assert not Annotations.from_stack(stack).find_warning("/Idle60/T", Match.string_like_regexp("idle timeout"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"priority": 0}, r"priority=0 is invalid; allowed: 1\.\.50000"),
        ({"priority": 50_001}, r"priority=50001 is invalid; allowed: 1\.\.50000"),
        ({"conditions": []}, r"conditions='0 conditions' is invalid; allowed: 1\.\.5"),
        ({"conditions": ["/orders"]}, r"conditions=.* is invalid; allowed: a list of 1\.\.5 elbv2\.ListenerCondition"),
        ({"listener": "arn:listener"}, r"listener='arn:listener' is invalid; allowed: an aws_elasticloadbalancingv2"),
        ({"multi_value_headers": "yes"}, r"multi_value_headers='yes' is invalid; allowed: True or False"),
    ],
)
def test_alb_refuses_bad_input(overrides: dict[str, Any], message: str) -> None:
    stack = app_stack("A")
    props: dict[str, Any] = {
        "function": fn(stack, "F"),
        "listener": _listener(stack),
        "priority": 5,
        "conditions": [elbv2.ListenerCondition.path_patterns(["/*"])],
        **overrides,
    }
    with pytest.raises(ConfigurationError, match=r"(?s)^A/T: .*" + message):
        LoadBalancerTarget(stack, "T", **props)
    assert stack.node.try_find_child("T") is None


# ---------------------------------------------------------------- WebSocketEndpoint


@pytest.fixture(scope="module")
def websocket() -> tuple[WebSocketEndpoint, Template, dict[str, ProductionFunction]]:
    stack = app_stack("Ws")
    fns = {"connect": fn(stack, "Connect"), "message": fn(stack, "Message", timeout=cdk.Duration.seconds(10))}
    endpoint = WebSocketEndpoint(
        stack,
        "Chat",
        connect=fns["connect"],
        disconnect=fns["connect"],
        default=fns["message"],
        routes={"sendMessage": fns["message"]},
    )
    return endpoint, Template.from_stack(stack), fns


def test_websocket_routes_on_live_with_iam_on_connect(websocket: Any) -> None:
    _, tpl, _ = websocket
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"] for r in tpl.find_resources("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {"$connect", "$disconnect", "$default", "sendMessage"}
    assert routes["$connect"]["AuthorizationType"] == "AWS_IAM"
    integrations = tpl.find_resources("AWS::ApiGatewayV2::Integration")
    assert len(integrations) == 2  # one per function, shared by its routes
    aliases = set(tpl.find_resources("AWS::Lambda::Alias"))
    for integration in integrations.values():
        uri = json.dumps(integration["Properties"]["IntegrationUri"])
        assert any(alias in uri for alias in aliases)
    assert only(tpl, "AWS::ApiGatewayV2::Api")["ProtocolType"] == "WEBSOCKET"


def test_websocket_stage_logs_throttles_and_callback_url(websocket: Any) -> None:
    _endpoint, tpl, _ = websocket
    stage = only(tpl, "AWS::ApiGatewayV2::Stage")
    assert stage["StageName"] == "live" and stage["AutoDeploy"] is True
    assert '"connectionId":"$context.connectionId"' in stage["AccessLogSettings"]["Format"]
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 500, "ThrottlingRateLimit": 1000}
    functions = tpl.find_resources("AWS::Lambda::Function")
    assert len(functions) == 2
    for function in functions.values():
        url = function["Properties"]["Environment"]["Variables"]["WEBSOCKET_CALLBACK_URL"]
        assert "https://" in json.dumps(url) and "/live" in json.dumps(url)


def test_websocket_grants_manage_connections_on_this_stage_only(websocket: Any) -> None:
    _, tpl, _ = websocket
    grants = [
        s
        for p in tpl.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "execute-api:ManageConnections"
    ]
    assert len(grants) == 2  # one per function role
    for grant in grants:
        assert "/live/*/@connections/*" in json.dumps(grant["Resource"])


def test_websocket_alarms(websocket: Any) -> None:
    endpoint, tpl, _fns = websocket
    assert [a.node.id for a in endpoint.alarms] == [
        "IntegrationErrorAlarm",
        "ExecutionErrorAlarm",
        "ClientErrorAlarm",
        "IntegrationLatencyAlarm",
    ]
    latency = by_path(tpl, "AWS::CloudWatch::Alarm", "Chat/IntegrationLatencyAlarm")
    assert latency["ExtendedStatistic"] == "p99" and latency["Threshold"] == 8000  # 80 % of the longest, 10 s
    errors = by_path(tpl, "AWS::CloudWatch::Alarm", "Chat/IntegrationErrorAlarm")
    assert errors["Namespace"] == "AWS/ApiGateway" and {d["Name"] for d in errors["Dimensions"]} == {"ApiId", "Stage"}
    assert by_path(tpl, "AWS::CloudWatch::Alarm", "Chat/ClientErrorAlarm")["Threshold"] == 100


def test_websocket_public_only_when_asked() -> None:
    stack = app_stack("Pub")
    WebSocketEndpoint(stack, "Chat", connect=fn(stack, "C"), public=True)
    routes = Template.from_stack(stack).find_resources("AWS::ApiGatewayV2::Route")
    assert [r["Properties"]["AuthorizationType"] for r in routes.values()] == ["NONE"]


@pytest.mark.parametrize(
    ("fn_kw", "overrides", "message"),
    [
        (
            {"timeout": cdk.Duration.seconds(29)},
            {},
            r"default\.timeout='29 s' is invalid; allowed: < 29 s, the API Gateway WebSocket integration timeout "
            r"\(cannot be raised\)\. the function's 29 s timeout reaches the 29 s the caller waits",
        ),
        (
            {},
            {"routes": {"$connect": None}},
            r"routes\['\$connect'\]='\$connect' is invalid; allowed: a custom route key",
        ),
        ({}, {"stage_name": "a/b"}, r"stage_name='a/b' is invalid"),
        ({}, {"public": True, "authorizer": object()}, r"authorizer=.* is invalid; allowed: None with public=True"),
        ({}, {"throttle_rate_limit": 0}, r"throttle_rate_limit=0 is invalid; allowed: 1\.\.10000 requests/s"),
    ],
)
def test_websocket_refuses_bad_input(fn_kw: dict[str, Any], overrides: dict[str, Any], message: str) -> None:
    stack = app_stack("W")
    props: dict[str, Any] = {"default": fn(stack, "F", **fn_kw), **overrides}
    with pytest.raises(ConfigurationError, match=r"(?s)^W/Chat: .*" + message):
        WebSocketEndpoint(stack, "Chat", **props)
    assert stack.node.try_find_child("Chat") is None


def test_websocket_needs_a_route() -> None:
    stack = app_stack("W")
    with pytest.raises(ConfigurationError, match=r"connect/disconnect/default/routes='none' is invalid"):
        WebSocketEndpoint(stack, "Chat")


# ---------------------------------------------------------------- AppSyncDataSource


def _api(stack: cdk.Stack) -> appsync.GraphqlApi:
    return appsync.GraphqlApi(
        stack,
        "Graph",
        name="orders",
        definition=appsync.Definition.from_schema(appsync.SchemaFile.from_asset(str(SCHEMA))),
    )


@pytest.fixture(scope="module")
def graph() -> tuple[AppSyncDataSource, Template]:
    stack = app_stack("Gql")
    source = AppSyncDataSource(stack, "Orders", function=fn(stack, "Resolver"), api=_api(stack))
    source.data_source.create_resolver("OrderResolver", type_name="Query", field_name="order")
    return source, Template.from_stack(stack)


def test_appsync_data_source_on_live_with_a_scoped_role(graph: tuple[AppSyncDataSource, Template]) -> None:
    _, tpl = graph
    alias_id = next(iter(tpl.find_resources("AWS::Lambda::Alias")))
    source = only(tpl, "AWS::AppSync::DataSource")
    assert source["Type"] == "AWS_LAMBDA" and source["Name"] == "Orders"
    assert source["LambdaConfig"] == {"LambdaFunctionArn": {"Ref": alias_id}}
    statements = [
        s
        for p in tpl.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "lambda:InvokeFunction"
    ]
    assert statements == [{"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Ref": alias_id}}]
    tpl.has_resource_properties("AWS::AppSync::Resolver", {"FieldName": "order", "TypeName": "Query"})


def test_appsync_alarms(graph: tuple[AppSyncDataSource, Template]) -> None:
    source, tpl = graph
    assert [a.node.id for a in source.alarms] == ["ServerErrorsAlarm", "LatencyAlarm"]
    errors = by_path(tpl, "AWS::CloudWatch::Alarm", "Orders/ServerErrorsAlarm")
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/AppSync", "5XXError")
    assert errors["Dimensions"][0]["Name"] == "GraphQLAPIId"
    assert by_path(tpl, "AWS::CloudWatch::Alarm", "Orders/LatencyAlarm")["Threshold"] == 2400  # 80 % of 3 s


@pytest.mark.parametrize(
    ("fn_kw", "overrides", "message"),
    [
        (
            {"timeout": cdk.Duration.seconds(30)},
            {},
            r"function\.timeout='30 s' is invalid; allowed: < 30 s, AWS AppSync's request execution time",
        ),
        ({}, {"name": "1orders"}, r"name='1orders' is invalid; allowed: 1\.\.65 characters"),
        ({}, {"api": "orders-api"}, r"api='orders-api' is invalid; allowed: an aws_appsync\.IGraphqlApi"),
    ],
)
def test_appsync_refuses_bad_input(fn_kw: dict[str, Any], overrides: dict[str, Any], message: str) -> None:
    stack = app_stack("G")
    props: dict[str, Any] = {"function": fn(stack, "F", **fn_kw), "api": _api(stack), **overrides}
    with pytest.raises(ConfigurationError, match=r"(?s)^G/Ds: .*" + message):
        AppSyncDataSource(stack, "Ds", **props)


# ---------------------------------------------------------------- CognitoTriggers


def test_cognito_triggers_on_live_scoped_to_the_pool() -> None:
    stack = app_stack("Auth")
    pool = cognito.UserPool(stack, "Pool")
    pre, post = (
        fn(stack, "Pre", Invocation.WORKFLOW, timeout=cdk.Duration.seconds(4)),
        fn(stack, "Post", Invocation.WORKFLOW, timeout=cdk.Duration.seconds(2)),
    )
    triggers = CognitoTriggers(
        stack,
        "Triggers",
        user_pool=pool,
        triggers={cognito.UserPoolOperation.PRE_SIGN_UP: pre, cognito.UserPoolOperation.POST_CONFIRMATION: post},
    )
    assert set(triggers.triggers) == {"preSignUp", "postConfirmation"}
    tpl = Template.from_stack(stack)
    aliases = {
        v["Metadata"]["aws:cdk:path"].split("/")[1]: k for k, v in tpl.find_resources("AWS::Lambda::Alias").items()
    }
    assert only(tpl, "AWS::Cognito::UserPool")["LambdaConfig"] == {
        "PreSignUp": {"Ref": aliases["Pre"]},
        "PostConfirmation": {"Ref": aliases["Post"]},
    }
    pool_id = next(iter(tpl.find_resources("AWS::Cognito::UserPool")))
    permissions = tpl.find_resources("AWS::Lambda::Permission")
    assert len(permissions) == 2
    for permission in permissions.values():
        assert permission["Properties"]["Principal"] == "cognito-idp.amazonaws.com"
        assert permission["Properties"]["SourceArn"] == {"Fn::GetAtt": [pool_id, "Arn"]}
    tpl.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)  # WORKFLOW: no provisioned concurrency


def test_cognito_refuses_a_trigger_of_five_seconds() -> None:
    stack = app_stack("Auth")
    slow = fn(stack, "Slow", Invocation.WORKFLOW, p99=cdk.Duration.millis(1500))  # 3 x 1.5 s -> 5 s
    with pytest.raises(
        ConfigurationError,
        match=r"(?s)^Auth/T: triggers\[preSignUp\]\.timeout='5 s' is invalid; allowed: < 5 s, Amazon Cognito's trigger "
        r"timeout \(cannot be changed\)",
    ):
        CognitoTriggers(
            stack,
            "T",
            user_pool=cognito.UserPool(stack, "Pool"),
            triggers={cognito.UserPoolOperation.PRE_SIGN_UP: slow},
        )


def test_cognito_refuses_a_second_trigger_for_an_operation() -> None:
    stack = app_stack("Auth")
    pool = cognito.UserPool(stack, "Pool")
    first = fn(stack, "A", Invocation.WORKFLOW)
    CognitoTriggers(stack, "T1", user_pool=pool, triggers={cognito.UserPoolOperation.PRE_SIGN_UP: first})
    with pytest.raises(
        ConfigurationError, match=r"triggers\[preSignUp\]='preSignUp' is invalid; allowed: an operation"
    ):
        CognitoTriggers(stack, "T2", user_pool=pool, triggers={cognito.UserPoolOperation.PRE_SIGN_UP: first})
    assert stack.node.try_find_child("T2") is None


def test_cognito_refuses_an_imported_pool_and_warns_on_sync() -> None:
    stack = app_stack("Auth")
    imported = cognito.UserPool.from_user_pool_id(stack, "Imported", "us-east-1_abc")
    with pytest.raises(ConfigurationError, match=r"user_pool=.* is invalid; allowed: an aws_cognito\.UserPool made"):
        CognitoTriggers(
            stack, "T", user_pool=imported, triggers={cognito.UserPoolOperation.PRE_SIGN_UP: fn(stack, "F")}
        )  # type: ignore[arg-type]
    CognitoTriggers(
        stack,
        "T2",
        user_pool=cognito.UserPool(stack, "Pool"),
        triggers={cognito.UserPoolOperation.PRE_SIGN_UP: fn(stack, "G")},
    )
    assert Annotations.from_stack(stack).find_warning(
        "/Auth/T2", Match.string_like_regexp("should use Invocation.WORKFLOW")
    )


# ---------------------------------------------------------------- WorkflowTask


@pytest.fixture(scope="module")
def workflow() -> tuple[WorkflowTask, dict[str, Any], Template]:
    stack = app_stack("Flow")
    validate = WorkflowTask(stack, "Validate", function=fn(stack, "V", Invocation.WORKFLOW))
    charge = WorkflowTask(
        stack, "Charge", function=fn(stack, "C", Invocation.WORKFLOW, timeout=cdk.Duration.seconds(20))
    )
    sfn.StateMachine(stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(validate.next(charge.task)))
    tpl = Template.from_stack(stack)
    definition = stack.resolve(only(tpl, "AWS::StepFunctions::StateMachine")["DefinitionString"])
    text = "".join(p if isinstance(p, str) else "ALIAS" for p in definition["Fn::Join"][1])  # the alias ARNs
    return validate, json.loads(text), tpl


def test_workflow_task_retries_the_lambda_service_errors(workflow: Any) -> None:
    _, definition, _ = workflow
    state = definition["States"]["Validate"]
    assert state["Next"] == "Charge"
    assert state["Retry"] == [
        {
            "ErrorEquals": [
                "Lambda.ClientExecutionTimeoutException",
                "Lambda.ServiceException",
                "Lambda.AWSLambdaException",
                "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException",
            ],
            "IntervalSeconds": 2,
            "MaxAttempts": 6,
            "BackoffRate": 2,
            "JitterStrategy": "FULL",
        }
    ]
    assert state["TimeoutSeconds"] == 8  # the 3 s function timeout + 5 s
    assert definition["States"]["Charge"]["TimeoutSeconds"] == 25


def test_workflow_task_invokes_live_and_alarms(workflow: Any) -> None:
    task, _, tpl = workflow
    alias_ids = set(tpl.find_resources("AWS::Lambda::Alias"))
    machine = json.dumps(only(tpl, "AWS::StepFunctions::StateMachine")["DefinitionString"])
    assert all(alias in machine for alias in alias_ids)
    assert [a.node.id for a in task.alarms] == ["FailedAlarm", "TimedOutAlarm"]
    failed = by_path(tpl, "AWS::CloudWatch::Alarm", "Validate/FailedAlarm")
    assert (failed["Namespace"], failed["MetricName"]) == ("AWS/States", "LambdaFunctionsFailed")
    assert failed["Dimensions"][0]["Name"] == "LambdaFunctionArn"
    tpl.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)


def test_workflow_task_refuses_a_long_step_in_an_express_workflow_and_warns_on_sync() -> None:
    stack = app_stack("F")
    with pytest.raises(
        ConfigurationError, match=r"function\.timeout='300 s' is invalid; allowed: < 300 s in an Express"
    ):
        WorkflowTask(
            stack, "T", function=fn(stack, "A", Invocation.WORKFLOW, timeout=cdk.Duration.seconds(300)), express=True
        )
    with pytest.raises(ConfigurationError, match=r"max_attempts=0 is invalid; allowed: 1\.\.20"):
        WorkflowTask(stack, "T", function=fn(stack, "B", Invocation.WORKFLOW), max_attempts=0)
    WorkflowTask(stack, "T", function=fn(stack, "C"))
    assert Annotations.from_stack(stack).find_warning(
        "/F/T", Match.string_like_regexp("should use Invocation.WORKFLOW")
    )


def test_alb_rule_on_an_imported_listener_alarms_by_its_load_balancer() -> None:
    stack = app_stack("Shared")
    listener = elbv2.ApplicationListener.from_application_listener_attributes(
        stack,
        "Listener",
        listener_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2",
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-0a1b2c3d4e5f60718"),
    )
    target = LoadBalancerTarget(
        stack,
        "T",
        function=fn(stack, "F"),
        listener=listener,
        priority=3,
        conditions=[elbv2.ListenerCondition.host_headers(["shop.example.com"])],
    )
    tpl = Template.from_stack(stack)
    assert only(tpl, "AWS::ElasticLoadBalancingV2::ListenerRule")["ListenerArn"].endswith("f2f7dc8efc522ab2")
    five = by_path(tpl, "AWS::CloudWatch::Alarm", "T/Target5xxAlarm")
    assert {d["Name"]: d["Value"] for d in five["Dimensions"]}["LoadBalancer"] == "app/shared/50dc6c495c0c9188"
    assert len(target.alarms) == 3


def test_workflow_task_watches_its_state_machine() -> None:
    stack = app_stack("Watched")
    step = WorkflowTask(stack, "Step", function=fn(stack, "F", Invocation.WORKFLOW))
    machine = sfn.StateMachine(stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(step.task))
    alarms = step.watch(machine)
    assert [a.node.id for a in alarms] == [
        "WorkflowExecutionsFailedAlarm",
        "WorkflowExecutionsTimedOutAlarm",
        "WorkflowExecutionThrottledAlarm",
    ]
    assert all(a in step.alarms and a in step.function.alarms for a in alarms)  # type: ignore[attr-defined]
    tpl = Template.from_stack(stack)
    machine_id = next(iter(tpl.find_resources("AWS::StepFunctions::StateMachine")))
    failed = by_path(tpl, "AWS::CloudWatch::Alarm", "Step/WorkflowExecutionsFailedAlarm")
    assert (failed["Namespace"], failed["MetricName"], failed["Threshold"]) == ("AWS/States", "ExecutionsFailed", 1)
    assert failed["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine_id}}]
    with pytest.raises(ConfigurationError, match=r"^Watched/Step: watch='called twice' is invalid"):
        step.watch(machine)
    with pytest.raises(ConfigurationError, match=r"watch\(state_machine\)='checkout' is invalid; allowed: an aws_step"):
        WorkflowTask(stack, "Other", function=fn(stack, "G", Invocation.WORKFLOW)).watch("checkout")  # type: ignore[arg-type]
