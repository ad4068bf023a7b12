"""The plans of HttpEndpoint, RestEndpoint and WebSocketEndpoint: decisions as pure values, counts against the tree.

The ``plan_*`` tests take no aws-cdk-lib (milliseconds each); the ``*_plan_resource_count_matches_the_tree``
tests build several configurations in ONE app and check each plan's resource count, alarms and pinned
integration logical ids against what the build really made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template
from constructs import Construct

from lambda_constructs import (
    FunctionFleet,
    HttpEndpoint,
    Invocation,
    LoadBalancerTarget,
    ProductionFunction,
    RestEndpoint,
)
from lambda_constructs.core.errors import Problem
from lambda_constructs.core.plans import endpoint as plans
from lambda_constructs.core.plans.endpoint import HttpRequest, plan_http
from tests.conftest import INLINE

PATH = "Stack/Orders/Api"
PREFIX = "Stack-Orders-Api"


def http(**overrides: Any) -> plans.HttpPlan:
    values: dict[str, Any] = {
        "path": PATH,
        "stack_path": "Stack",
        "alarm_prefix": PREFIX,
        "function_path": "Stack/Orders/Fn",
        "timeout_s": 11,
        "invocation": Invocation.SYNC,
    }
    values.update(overrides)
    return plan_http(HttpRequest(**values))


# ------------------------------------------------------------------ HttpEndpoint, pure


def test_http_api_defaults_to_the_catch_all_route_iam_logs_throttling_and_three_alarms() -> None:
    p = http()
    assert p.kind == "http_api" and p.catch_all and p.routes == ()
    assert p.description == "HTTP API for Stack/Orders/Fn (live alias)"
    assert p.authorizer == "iam" and p.auth_type is None and p.invoke_mode is None and not p.cors
    assert (p.throttle_rate_limit, p.throttle_burst_limit) == (1000, 500)
    assert p.access_log_format is not None and '"routeKey":"$context.routeKey"' in p.access_log_format
    assert p.integration == plans.IntegrationPlan(
        "LiveAlias", "LiveAliasIntegration", "OrdersApiHttpApiLiveAliasIntegration59D03573"
    )
    server, client, latency = p.alarms
    assert [a.id for a in p.alarms] == list(plans.API_ALARM_IDS)
    assert [a.name for a in p.alarms] == [f"{PREFIX}-{a.id}" for a in p.alarms]
    assert (server.metric, server.statistic, server.threshold) == ("5xx", "Sum", 1)
    assert (client.metric, client.threshold) == ("4xx", 100)
    assert client.description == f"{PATH}: 100 or more 4xx responses in 5 minutes."
    assert (latency.metric, latency.statistic, latency.threshold) == ("Latency", "p99", 8800)  # 80 % of 11 s
    assert latency.comparison == "GREATER_THAN_THRESHOLD" and latency.period_s == 300
    assert latency.description == f"{PATH}: p99 latency above 8800 ms (80% of the 11 s function timeout)."
    assert p.notes == ()
    # API, $default stage, integration, $default route and its permission, access log group, 3 alarms
    assert p.resource_count == 9


def test_http_api_routes_each_get_a_route_and_a_permission() -> None:
    p = http(routes=("POST /orders", "GET /orders/{id}"), cors=True, latency_threshold_ms=500.0)
    assert not p.catch_all and p.cors
    assert [(r.key, r.method, r.path) for r in p.routes] == [
        ("POST /orders", "POST", "/orders"),
        ("GET /orders/{id}", "GET", "/orders/{id}"),
    ]
    assert p.alarms[2].threshold == 500.0
    assert p.resource_count == 11


def test_http_api_default_route_beside_other_routes_answers_what_they_do_not_match() -> None:
    p = http(routes=("POST /orders", "$default", "GET /orders/{id}"))
    assert p.catch_all
    assert [r.key for r in p.routes] == ["POST /orders", "GET /orders/{id}"]
    # API, stage, integration, three routes with a permission each, access log group, 3 alarms
    assert p.resource_count == 13


@pytest.mark.parametrize(
    ("authorizer", "count"),
    [("iam", 9), ("none", 9), ("jwt", 10), ("user_pool", 10), ("lambda", 11), ("other", None)],
)
def test_http_api_counts_the_authorizer_it_creates(authorizer: plans.AuthorizerKind, count: int | None) -> None:
    p = http(authorizer=authorizer)
    assert p.authorizer == authorizer and p.resource_count == count


def test_function_url_is_iam_buffered_without_api_alarms_or_resources_of_its_own() -> None:
    p = http(kind="function_url", timeout_s=120)
    assert p.kind == "function_url" and p.auth_type == "AWS_IAM" and p.invoke_mode is None
    assert p.integration is None and p.alarms == () and p.access_log_format is None and p.description is None
    assert p.resource_count == 0  # the URL is made under the function's alias
    assert http(kind="function_url", auth_type="NONE").auth_type == "NONE"


def test_response_streaming_on_a_non_node_runtime_is_warned() -> None:
    python = http(kind="function_url", invoke_mode="RESPONSE_STREAM", runtime="python3.13")
    assert [n.id for n in python.notes] == ["lambda-constructs:response-stream-runtime"]
    assert python.notes[0].message.startswith("invoke_mode=RESPONSE_STREAM on python3.13: ")
    assert http(kind="function_url", invoke_mode="RESPONSE_STREAM", runtime="nodejs22.x").notes == ()


def test_a_caller_on_a_function_not_declared_sync_is_warned() -> None:
    for kind in plans.KINDS:
        (note,) = http(kind=kind, invocation=Invocation.QUEUE).notes
        assert (note.level, note.id) == ("warning", "lambda-constructs:HTTP-invocation")
        assert note.message == (
            "Stack/Orders/Fn is declared invocation=QUEUE; a HTTP consumer should use Invocation.SYNC."
        )


def test_http_checks_are_pure() -> None:
    assert plans.http_timeout_problem(29) is None
    timeout = plans.http_timeout_problem(30)
    assert timeout is not None and timeout.describe().startswith("function.timeout='30 s' is invalid; allowed: < 30 s")
    assert plans.kind_problem("rest") == Problem("kind", "rest", "'http_api' | 'function_url'")
    assert [p.prop for p in plans.throttle_problems(0, 5_001, 1)] == ["throttle_rate_limit", "throttle_burst_limit"]
    assert plans.latency_problem(11_001.0, 11) == Problem("latency_threshold_ms", 11_001.0, "1..11000 ms")
    assert [p.prop for p in plans.route_problems("routes", ["POST /a", "POST /a", "FETCH /b"])] == [
        "routes[1]",
        "routes[2]",
    ]
    assert plans.route_problems("routes", ["$default", "POST /a", "$default"]) == [
        Problem("routes[2]", "$default", "each route once")
    ]


def test_logical_ids_follow_aws_cdk_lib() -> None:
    assert plans.logical_id_at(["Queue"]) == "Queue"
    assert plans.under_stack("App/Stack/Orders/Api", "App/Stack") == ["Orders", "Api"]


# ------------------------------------------------------------------ against the tree (one app)


def _fn(scope: Construct, id: str, **kw: Any) -> ProductionFunction:
    kw.setdefault("p99", cdk.Duration.millis(400))
    return ProductionFunction(scope, id, code=INLINE, handler="index.handler", invocation=Invocation.SYNC, **kw)


def _resources(construct: Construct) -> int:
    return sum(1 for c in construct.node.find_all() if isinstance(c, cdk.CfnResource))


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, Any], Template]:
    app = cdk.App()
    stack = cdk.Stack(app, "Endpoints")
    nested = Construct(stack, "Nested")
    auth_fn = _fn(stack, "Auth")
    made: dict[str, Any] = {
        "http": HttpEndpoint(stack, "Http", function=_fn(stack, "H1")),
        "routes": HttpEndpoint(
            nested,
            "Routes",
            function=_fn(stack, "H2"),
            routes=("POST /orders", "GET /orders/{id}", "DELETE /orders/{id}"),
            cors=apigwv2.CorsPreflightOptions(allow_origins=["https://shop.example.com"]),
        ),
        "jwt": HttpEndpoint(
            stack,
            "Jwt",
            function=_fn(stack, "H3"),
            routes=("GET /me",),
            authorizer=authorizers.HttpJwtAuthorizer("Jwt", "https://issuer.example.com", jwt_audience=["orders"]),
        ),
        "lambda": HttpEndpoint(
            stack,
            "LambdaAuth",
            function=_fn(stack, "H4"),
            authorizer=authorizers.HttpLambdaAuthorizer("Check", auth_fn.alias),
        ),
        "public": HttpEndpoint(stack, "Public", function=_fn(stack, "H5"), authorizer=apigwv2.HttpNoneAuthorizer()),
        "mixed": HttpEndpoint(stack, "Mixed", function=_fn(stack, "H6"), routes=("$default", "POST /orders")),
        "url": HttpEndpoint(
            stack,
            "Url",
            function=_fn(stack, "U1", timeout=cdk.Duration.seconds(120), p99=None),
            kind="function_url",
            invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM,
        ),
    }
    return made, Template.from_stack(stack)


@pytest.mark.parametrize("name", ["http", "routes", "jwt", "lambda", "public", "mixed", "url"])
def test_http_plan_resource_count_matches_the_tree(built: tuple[dict[str, Any], Template], name: str) -> None:
    made, tpl = built
    endpoint = made[name]
    assert endpoint.plan.resource_count == _resources(endpoint)
    assert [a.node.id for a in endpoint.alarms] == [a.id for a in endpoint.plan.alarms]
    if endpoint.plan.integration is not None:
        assert endpoint.plan.integration.logical_id in tpl.find_resources("AWS::ApiGatewayV2::Integration")
    for alarm in endpoint.plan.alarms:
        (props,) = [
            r["Properties"]
            for r in tpl.find_resources("AWS::CloudWatch::Alarm").values()
            if r["Properties"]["AlarmName"] == alarm.name
        ]
        assert props["Threshold"] == alarm.threshold and props["AlarmDescription"] == alarm.description


def test_http_default_route_beside_other_routes_is_built(built: tuple[dict[str, Any], Template]) -> None:
    made, tpl = built
    api = made["mixed"].http_api
    api_id = api.stack.get_logical_id(api.node.default_child)
    keys = sorted(
        r["Properties"]["RouteKey"]
        for r in tpl.find_resources("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": api_id}
    )
    assert keys == ["$default", "POST /orders"]


# ------------------------------------------------------------------ RestEndpoint, pure


def rest(**overrides: Any) -> plans.RestPlan:
    values: dict[str, Any] = {
        "path": PATH,
        "alarm_prefix": PREFIX,
        "function_path": "Stack/Orders/Fn",
        "timeout_s": 11,
        "invocation": Invocation.SYNC,
        "routes": ("POST /orders", "GET /orders/{id}"),
    }
    values.update(overrides)
    return plans.plan_rest(plans.RestRequest(**values))


def test_rest_defaults_are_iam_regional_29_s_traced_throttled_with_three_alarms() -> None:
    p = rest()
    assert p.description == "REST API for Stack/Orders/Fn (live alias)"
    assert [(r.method, r.path) for r in p.routes] == [("POST", "/orders"), ("GET", "/orders/{id}")]
    assert p.resources == ("/orders", "/orders/{id}")
    assert (p.authorization_type, p.endpoint_type, p.integration_timeout_ms) == ("IAM", "REGIONAL", 29_000)
    assert p.tracing and p.execution_logging is None and not p.cors
    assert (p.throttle_rate_limit, p.throttle_burst_limit) == (1000, 500)
    assert "resource_path" in p.access_log_fields and "user" in p.access_log_fields
    assert p.method_acknowledgements == (plans.COG4_ACK,)
    assert p.stage_acknowledgements == (plans.APIG6_ACK, plans.APIG3_ACK)
    server, client, latency = p.alarms
    assert (server.metric, client.metric, latency.metric) == ("5XXError", "4XXError", "Latency")
    assert (client.threshold, latency.threshold, latency.statistic) == (100, 8800, "p99")
    assert p.notes == ()
    # log group, API, deployment, stage, validator, 2 resources, 2 methods with 2 permissions each, 3 alarms
    assert p.resource_count == 16


def test_rest_cors_adds_a_preflight_on_the_root_and_every_resource() -> None:
    p = rest(cors=True, routes=("GET /", "POST /orders/{id}/items"))
    assert p.resources == ("/orders", "/orders/{id}", "/orders/{id}/items")
    assert p.resource_count == 5 + 3 + (2 + 4) + 2 * 2 + 3


def test_rest_authorization_is_given_or_derived_from_the_authorizer() -> None:
    assert rest(authorizer=True, authorizer_type="COGNITO").authorization_type == "COGNITO"
    assert rest(authorizer=True).authorization_type == "CUSTOM"
    assert rest(authorization_type="NONE").authorization_type == "NONE"


def test_rest_execution_logging_drops_its_acknowledgement() -> None:
    assert rest(execution_logging="ERROR").stage_acknowledgements == (plans.APIG3_ACK,)


def test_rest_above_29_s_warns_about_the_quota_and_a_caller_not_sync() -> None:
    p = rest(integration_timeout_ms=60_000.0, invocation=Invocation.ASYNC)
    assert [n.id for n in p.notes] == [
        "lambda-constructs:rest-integration-timeout-quota",
        "lambda-constructs:REST-invocation",
    ]
    assert p.notes[0].message.startswith("integration_timeout=60 s is above 29 s")


def test_rest_timeout_checks_are_pure() -> None:
    assert plans.rest_timeout_problems(29_000, "REGIONAL", 28) == []
    assert [p.prop for p in plans.rest_timeout_problems(29_000, "REGIONAL", 29)] == ["function.timeout"]
    (edge,) = plans.rest_timeout_problems(60_000, "EDGE", 10)
    assert edge.allowed == "50..29000 ms" and "REGIONAL or PRIVATE" in edge.hint
    assert plans.rest_timeout_problems(900_000, "PRIVATE", 10) == []
    assert "OPTIONS" not in plans.rest_methods(cors=True) and "OPTIONS" in plans.rest_methods(cors=False)


@pytest.fixture(scope="module")
def built_rest() -> tuple[dict[str, Any], Template]:
    app = cdk.App()
    stack = cdk.Stack(app, "Rests")
    pool = cognito.UserPool(stack, "Pool")
    made: dict[str, Any] = {
        "rest": RestEndpoint(stack, "Rest", function=_fn(stack, "R1"), routes=("POST /orders", "GET /orders/{id}")),
        "cors": RestEndpoint(
            stack,
            "Cors",
            function=_fn(stack, "R2"),
            routes=("GET /", "ANY /a/b/c", "PUT /a"),
            cors=apigateway.CorsOptions(allow_origins=["https://shop.example.com"]),
        ),
        "cognito": RestEndpoint(
            stack,
            "Cognito",
            function=_fn(stack, "R3", timeout=cdk.Duration.seconds(40), p99=None),
            routes=("GET /me",),
            integration_timeout=cdk.Duration.seconds(60),
            authorizer=apigateway.CognitoUserPoolsAuthorizer(stack, "CogAuth", cognito_user_pools=[pool]),
            execution_logging=apigateway.MethodLoggingLevel.ERROR,
        ),
    }
    return made, Template.from_stack(stack)


@pytest.mark.parametrize("name", ["rest", "cors", "cognito"])
def test_rest_plan_resource_count_matches_the_tree(built_rest: tuple[dict[str, Any], Template], name: str) -> None:
    made, tpl = built_rest
    endpoint = made[name]
    assert endpoint.plan.resource_count == _resources(endpoint)
    assert [a.node.id for a in endpoint.alarms] == [a.id for a in endpoint.plan.alarms]
    methods = [
        m["Properties"]
        for m in tpl.find_resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] != "OPTIONS"
        and f"{name.capitalize()}RestApi" in str(m["Properties"]["RestApiId"])
    ]
    cfn = {"IAM": "AWS_IAM", "COGNITO": "COGNITO_USER_POOLS", "CUSTOM": "CUSTOM", "NONE": "NONE"}
    assert {m["AuthorizationType"] for m in methods} == {cfn[endpoint.plan.authorization_type]}
    assert {m["Integration"]["TimeoutInMillis"] for m in methods} == {endpoint.plan.integration_timeout_ms}


# ------------------------------------------------------------------ LoadBalancerTarget, pure


def alb(**overrides: Any) -> plans.LoadBalancerPlan:
    values: dict[str, Any] = {
        "path": PATH,
        "alarm_prefix": PREFIX,
        "function_path": "Stack/Orders/Fn",
        "timeout_s": 11,
        "invocation": Invocation.SYNC,
        "priority": 10,
        "conditions": 2,
        "idle_timeout_s": 60,
    }
    values.update(overrides)
    return plans.plan_load_balancer(plans.LoadBalancerRequest(**values))


def test_alb_target_is_a_lambda_target_group_a_rule_and_three_alarms() -> None:
    p = alb()
    assert (p.priority, p.conditions, p.target_type) == (10, 2, "LAMBDA")
    assert not p.multi_value_headers and not p.health_check and p.idle_timeout_s == 60
    target_5xx, user, internal = p.alarms
    assert [a.id for a in p.alarms] == list(plans.ALB_ALARM_IDS)
    assert [a.name for a in p.alarms] == [f"{PREFIX}-{a.id}" for a in p.alarms]
    assert (target_5xx.metric, target_5xx.statistic, target_5xx.threshold) == ("HTTPCode_Target_5XX_Count", "Sum", 1)
    assert (user.metric, user.threshold, internal.metric, internal.threshold) == (
        "LambdaUserError",
        1,
        "LambdaInternalError",
        1,
    )
    assert {a.period_s for a in p.alarms} == {300}
    assert {a.comparison for a in p.alarms} == {"GREATER_THAN_OR_EQUAL_TO_THRESHOLD"}
    assert target_5xx.description == f"{PATH}: the function answered the load balancer with 5xx, or failed."
    assert "over 1 MB" in user.description and user.description.endswith("(clients got 502).")
    assert p.acknowledgements == () and p.notes == ()
    assert p.resource_count == 5  # target group, rule, 3 alarms (the invoke permission is the alias's)
    assert alb(multi_value_headers=True, server_error_threshold=7).alarms[0].threshold == 7


def test_alb_warns_when_the_function_can_outlive_the_idle_timeout() -> None:
    (idle,) = alb(timeout_s=30, idle_timeout_s=30).notes
    assert (idle.level, idle.id) == ("warning", "lambda-constructs:alb-idle-timeout")
    assert idle.message == (
        "Stack/Orders/Fn times out after 30 s but the load balancer stops waiting after its idle timeout of 30 s: "
        "the client gets a 504 while the function keeps running. Shorten the function, or raise idle_timeout on "
        "the load balancer."
    )
    assert alb(timeout_s=29, idle_timeout_s=30).notes == ()
    assert alb(timeout_s=900, idle_timeout_s=None).notes == ()  # an imported load balancer: not known here
    both = alb(timeout_s=60, invocation=Invocation.ASYNC).notes
    assert [n.id for n in both] == ["lambda-constructs:alb-idle-timeout", "lambda-constructs:load balancer-invocation"]
    assert both[1].message == (
        "Stack/Orders/Fn is declared invocation=ASYNC; a load balancer consumer should use Invocation.SYNC."
    )


def test_alb_checks_are_pure() -> None:
    assert plans.priority_problem(50_000) is None
    assert [p.prop for p in (plans.priority_problem(0), plans.priority_problem(1.5)) if p] == ["priority", "priority"]
    assert plans.conditions_problem(5) is None
    assert plans.conditions_problem(6) == Problem(
        "conditions", "6 conditions", "1..5 (a rule needs a condition; ALB evaluates at most 5)"
    )
    assert plans.conditions_problem(0) is not None
    assert plans.target_option_problems(True, 1) == []
    assert [p.prop for p in plans.target_option_problems("yes", 0)] == ["multi_value_headers", "server_error_threshold"]
    assert plans.same_environment_problems(("1", "us-east-1"), ("1", "us-east-1")) == []
    assert plans.same_environment_problems(("1", None), ("2", "eu-west-1")) == [
        Problem(
            "listener.account",
            "2",
            "the function's account (1)",
            "a Lambda target must be in the same account and Region as its load balancer",
        )
    ]
    assert [p.prop for p in plans.same_environment_problems(("1", "us-east-1"), ("2", "eu-west-1"))] == [
        "listener.account",
        "listener.region",
    ]


# ------------------------------------------------------------------ LoadBalancerTarget against the tree (one app)


@pytest.fixture(scope="module")
def built_alb() -> tuple[dict[str, Any], Template]:
    app = cdk.App()
    stack = cdk.Stack(app, "Albs")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    balancer = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc, idle_timeout=cdk.Duration.seconds(30))
    listener = balancer.add_listener("Http", port=80, default_action=elbv2.ListenerAction.fixed_response(404))
    imported = elbv2.ApplicationListener.from_application_listener_attributes(
        stack,
        "Shared",
        listener_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2",
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-0a1b2c3d4e5f60718"),
    )
    paths = elbv2.ListenerCondition.path_patterns(["/orders/*"])
    made: dict[str, Any] = {
        "default": LoadBalancerTarget(
            stack, "Orders", function=_fn(stack, "A1"), listener=listener, priority=10, conditions=[paths]
        ),
        "slow": LoadBalancerTarget(
            Construct(stack, "Nested"),
            "Slow",
            function=_fn(stack, "A2", timeout=cdk.Duration.seconds(40), p99=None),
            listener=listener,
            priority=20,
            conditions=[paths, elbv2.ListenerCondition.host_headers(["shop.example.com"])],
            multi_value_headers=True,
            server_error_threshold=5,
        ),
        "imported": LoadBalancerTarget(
            stack, "Imported", function=_fn(stack, "A3"), listener=imported, priority=3, conditions=[paths]
        ),
    }
    return made, Template.from_stack(stack)


@pytest.mark.parametrize("name", ["default", "slow", "imported"])
def test_alb_plan_resource_count_matches_the_tree(built_alb: tuple[dict[str, Any], Template], name: str) -> None:
    made, tpl = built_alb
    target = made[name]
    assert target.plan.resource_count == _resources(target) == 5
    assert [a.node.id for a in target.alarms] == [a.id for a in target.plan.alarms]
    assert target.plan.idle_timeout_s == (None if name == "imported" else 30)
    assert [n.id for n in target.plan.notes] == (["lambda-constructs:alb-idle-timeout"] if name == "slow" else [])
    (rule,) = [
        r["Properties"]
        for r in tpl.find_resources("AWS::ElasticLoadBalancingV2::ListenerRule").values()
        if r["Properties"]["Priority"] == target.plan.priority
    ]
    assert len(rule["Conditions"]) == target.plan.conditions
    for alarm in target.plan.alarms:
        (props,) = [
            r["Properties"]
            for r in tpl.find_resources("AWS::CloudWatch::Alarm").values()
            if r["Properties"]["AlarmName"] == alarm.name
        ]
        assert (props["MetricName"], props["Threshold"]) == (alarm.metric, alarm.threshold)
        assert props["AlarmDescription"] == alarm.description and props["Period"] == alarm.period_s


def test_an_alb_target_in_a_fleet_bundle_is_counted_with_the_invoke_permission(tmp_path: Path) -> None:
    """Lambda's permission is made under the function's alias: the fleet counts that bundle's tree, exactly."""
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Web")
    listener = elbv2.ApplicationListener.from_application_listener_attributes(
        stack,
        "Shared",
        listener_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2",
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-0a1b2c3d4e5f60718"),
    )
    fleet = FunctionFleet(stack, "Fleet", placement_file=tmp_path / "p.json")

    def bundle(scope: Construct, id: str) -> LoadBalancerTarget:
        return LoadBalancerTarget(
            scope,
            f"{id}Rule",
            function=_fn(scope, id),
            listener=listener,
            priority=1,
            conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
        )

    target = fleet.add("Shop", bundle)
    assert fleet.resource_counts["Stack1"] == _resources(fleet.stack_of("Shop"))
    assert fleet.resource_counts["Stack1"] == target.function.plan.resource_count + target.plan.resource_count + 1
