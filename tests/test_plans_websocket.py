"""The plan of WebSocketEndpoint: decisions as pure values, the resource count against the tree.

The ``plan_websocket`` tests take no aws-cdk-lib (milliseconds each); the
``test_websocket_plan_resource_count_matches_the_tree`` tests build several configurations in ONE app and check
each plan's resource count, routes, alarms and logical ids against what the build really made.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk.assertions import Template
from constructs import Construct

from lambda_constructs import Invocation, WebSocketEndpoint
from lambda_constructs.core.errors import Problem
from lambda_constructs.core.plans import websocket as plans
from lambda_constructs.core.plans.endpoint import IntegrationPlan
from lambda_constructs.core.plans.websocket import WebSocketFunction, WebSocketRequest, plan_websocket
from tests.test_plans_endpoints import _fn, _resources

PATH = "Stack/Chat"
PREFIX = "Stack-Chat"
MESSAGE = WebSocketFunction("Stack/Message", 10)
CONNECT = WebSocketFunction("Stack/Connect", 3)
APIG4 = ("AwsSolutions-APIG4", plans.ROUTE_ACK_REASON)


def ws(*routes: tuple[str, int], functions: tuple[WebSocketFunction, ...] = (MESSAGE,), **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "path": PATH,
        "stack_path": "Stack",
        "alarm_prefix": PREFIX,
        "functions": functions,
        "routes": routes or (("$default", 0),),
    }
    values.update(overrides)
    return plan_websocket(WebSocketRequest(**values))


# ------------------------------------------------------------------ pure


def test_one_default_route_is_iam_live_throttled_logged_with_four_alarms() -> None:
    p = ws()
    assert p.description == "WebSocket API for Stack/Message (live aliases)"
    assert p.route_selection_expression == "$request.body.action"
    assert p.routes == (plans.WebSocketRoutePlan("$default", 0, "NONE", (APIG4,)),)
    assert p.integrations == (
        IntegrationPlan("MessageIntegration", "MessageIntegration", "ChatApiMessageIntegrationD82BC170"),
    )
    assert p.authorizer == "iam" and not p.public
    assert (p.stage_name, p.auto_deploy, p.throttle_rate_limit, p.throttle_burst_limit) == ("live", True, 1000, 500)
    assert '"connectionId":"$context.connectionId"' in p.access_log_format
    assert p.callback_url_variable == "WEBSOCKET_CALLBACK_URL"
    assert p.api_logical_id == "ChatApi86739009"
    assert p.grant_acknowledgements == (
        (
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
            "<ChatApi86739009>/live/*/@connections/*]",
            plans.GRANT_ACK_REASON,
        ),
    )
    assert [a.id for a in p.alarms] == list(plans.ALARM_IDS)
    assert [a.name for a in p.alarms] == [f"{PREFIX}-{a.id}" for a in p.alarms]
    assert [(a.metric, a.statistic, a.threshold, a.comparison, a.period_s, a.source) for a in p.alarms] == [
        ("IntegrationError", "Sum", 1, "GREATER_THAN_OR_EQUAL_TO_THRESHOLD", 300, "stage"),
        ("ExecutionError", "Sum", 1, "GREATER_THAN_OR_EQUAL_TO_THRESHOLD", 300, "stage"),
        ("ClientError", "Sum", 100, "GREATER_THAN_OR_EQUAL_TO_THRESHOLD", 300, "stage"),
        ("IntegrationLatency", "p99", 8000, "GREATER_THAN_THRESHOLD", 300, "stage"),
    ]
    assert p.alarms[2].description == (
        f"{PATH}: 100 or more 4xx answers before the integration in 5 minutes "
        "(unauthorized connects, throttling, no matching route)."
    )
    assert p.alarms[3].description == (
        f"{PATH}: p99 integration latency above 8000 ms (80% of the longest route function timeout, 10 s)."
    )
    assert p.notes == ()
    # the API, the route and its permission, the integration, the stage, the access log group, 4 alarms
    assert p.resource_count == 10


def test_connect_is_authorized_the_other_routes_acknowledged_and_functions_shared() -> None:
    p = ws(
        ("$connect", 0),
        ("$disconnect", 0),
        ("$default", 1),
        ("sendMessage", 1),
        functions=(CONNECT, MESSAGE),
        client_error_threshold=7,
        stage_name="v1",
        throttle_rate_limit=50,
        throttle_burst_limit=20,
    )
    assert [(r.key, r.function, r.authorization_type, r.acknowledgements) for r in p.routes] == [
        ("$connect", 0, "AWS_IAM", ()),
        ("$disconnect", 0, "NONE", (APIG4,)),
        ("$default", 1, "NONE", (APIG4,)),
        ("sendMessage", 1, "NONE", (APIG4,)),
    ]
    assert [i.name for i in p.integrations] == ["ConnectIntegration", "MessageIntegration"]
    assert p.description == "WebSocket API for Stack/Connect (live aliases)"
    assert (p.stage_name, p.throttle_rate_limit, p.throttle_burst_limit) == ("v1", 50, 20)
    assert p.grant_acknowledgements[0][0].endswith("<ChatApi86739009>/v1/*/@connections/*]")
    assert p.alarms[2].threshold == 7 and p.alarms[2].description.startswith(f"{PATH}: 7 or more 4xx answers")
    assert p.alarms[3].threshold == 8000  # the longest of 3 s and 10 s
    # the API, 4 routes with a permission each, 2 integrations, stage, log group, 4 alarms
    assert p.resource_count == 1 + 8 + 2 + 2 + 4


@pytest.mark.parametrize(
    ("authorizer", "public", "kind", "authorization", "created"),
    [
        (None, False, "iam", "AWS_IAM", 0),
        (None, True, "none", "NONE", 0),
        ("none", False, "none", "NONE", 0),
        ("iam", False, "iam", "AWS_IAM", 0),
        ("lambda", False, "lambda", "CUSTOM", 2),  # the authorizer and Lambda's permission to invoke it
        ("other", False, "other", None, None),
    ],
)
def test_the_connect_authorizer_decides_its_authorization_and_resources(
    authorizer: plans.WebSocketAuthorizerKind | None,
    public: bool,
    kind: str,
    authorization: str | None,
    created: int | None,
) -> None:
    p = ws(("$connect", 0), authorizer=authorizer, public=public)
    assert p.authorizer == kind and p.public is public
    ((route),) = p.routes
    assert route.authorization_type == authorization
    expected_acks = (("AwsSolutions-APIG4", plans.PUBLIC_ACK_REASON),) if public else ()
    assert route.acknowledgements == expected_acks
    assert p.resource_count == (None if created is None else 10 + created)


def test_without_connect_the_authorizer_makes_nothing() -> None:
    assert ws(("$default", 0), authorizer="lambda").resource_count == 10


def test_integrations_are_named_after_their_function_and_hashed_when_two_share_an_id() -> None:
    assert plans.integration_names(["Stack/Message", "Stack/Team/Message", "Stack/Ping"]) == [
        "MessageIntegration",
        "StackTeamMessageA7FE3884Integration",
        "PingIntegration",
    ]
    p = ws(
        ("$default", 0),
        ("ping", 1),
        functions=(MESSAGE, WebSocketFunction("Stack/Team/Message", 1)),
    )
    assert [(i.id, i.name) for i in p.integrations] == [
        ("MessageIntegration", "MessageIntegration"),
        ("StackTeamMessageA7FE3884Integration", "StackTeamMessageA7FE3884Integration"),
    ]


def test_an_explicit_environment_is_named_in_the_grant_acknowledgement() -> None:
    p = ws(partition="aws", region="eu-west-1", account="111122223333")
    assert p.grant_acknowledgements[0][0] == (
        "AwsSolutions-IAM5[Resource::arn:aws:execute-api:eu-west-1:111122223333:<ChatApi86739009>/live/*/@connections/*]"
    )


def test_a_function_not_declared_sync_is_warned_once_per_function() -> None:
    p = ws(
        ("$connect", 0),
        ("$default", 0),
        functions=(WebSocketFunction("Stack/Worker", 5, Invocation.QUEUE),),
    )
    (note,) = p.notes
    assert (note.level, note.id) == ("warning", "lambda-constructs:WebSocket-invocation")
    assert note.message == "Stack/Worker is declared invocation=QUEUE; a WebSocket consumer should use Invocation.SYNC."


def test_the_route_checks_are_pure() -> None:
    assert plans.websocket_route_problems(None, 1) == []
    assert plans.websocket_route_problems({"sendMessage": object()}, 1) == []
    assert plans.websocket_route_problems(None, 0) == [
        Problem("connect/disconnect/default/routes", "none", "at least one route with a function")
    ]
    assert plans.websocket_route_problems(["a"], 1) == [Problem("routes", ["a"], "a mapping of route key to function")]
    bad, unset = plans.websocket_route_problems({"$connect": object(), "later": None}, 1)
    assert (bad.prop, bad.value, bad.hint) == (
        "routes['$connect']",
        "$connect",
        "use connect=, disconnect= and default= for the predefined routes",
    )
    assert unset == Problem("routes['later']", None, "a function (a ProductionFunction) for the route")
    assert [p.prop for p in plans.websocket_route_problems({"a" * 129: object(), "a:b.c-d_e": object()}, 2)] == [
        f"routes['{'a' * 129}']"
    ]
    assert plans.websocket_route_problems(None, 301) == [Problem("routes", "301 routes", "<= 300 per API")]


def test_the_timeout_check_is_the_29_s_websocket_integration_timeout() -> None:
    assert plans.websocket_timeout_problem("$default", 28) is None
    problem = plans.websocket_timeout_problem("$connect", 29)
    assert problem is not None
    assert problem.describe() == (
        "connect.timeout='29 s' is invalid; allowed: < 29 s, the API Gateway WebSocket integration timeout "
        "(cannot be raised). the function's 29 s timeout reaches the 29 s the caller waits: the client's message "
        "gets an error while the function keeps running; shorten the work or hand it to a queue and answer "
        "through the callback URL"
    )
    custom = plans.websocket_timeout_problem("sendMessage", 60)
    assert custom is not None and custom.prop == "routes['sendMessage'].timeout"
    assert "apigateway-execution-service-websocket-limits-table.html" in plans.QUOTAS_PAGE


def test_the_option_checks_are_pure() -> None:
    assert plans.public_problems(False, object()) == []
    assert plans.public_problems(True, None) == []
    assert [p.prop for p in plans.public_problems("yes", "auth")] == ["public", "authorizer"]
    assert plans.public_problems(True, "auth") == [Problem("authorizer", "auth", "None with public=True")]
    options = {
        "authorizer": False,
        "connect": False,
        "stage_name": "live",
        "route_selection_expression": "$request.body.action",
        "callback_url_variable": "WEBSOCKET_CALLBACK_URL",
    }
    assert plans.websocket_option_problems(**options) == []
    assert plans.websocket_option_problems(**{**options, "authorizer": True}) == [
        Problem("authorizer", "set", "a connect= function (WebSocket APIs authorize on $connect)")
    ]
    found = plans.websocket_option_problems(
        **{**options, "stage_name": "a/b", "route_selection_expression": "body.action", "callback_url_variable": "1X"}
    )
    assert [(p.prop, p.value) for p in found] == [
        ("stage_name", "a/b"),
        ("route_selection_expression", "body.action"),
        ("callback_url_variable", "1X"),
    ]


# ------------------------------------------------------------------ against the tree (one app)


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, Any], Template]:
    app = cdk.App()
    stack = cdk.Stack(app, "Sockets")
    shared, connect, message, ping, auth = (_fn(stack, n) for n in ("Shared", "Connect", "Message", "Ping", "Auth"))
    team = Construct(stack, "Team")
    made: dict[str, Any] = {
        # one function for every route
        "one": WebSocketEndpoint(
            stack, "One", connect=shared, disconnect=shared, default=shared, routes={"send": shared, "ping": shared}
        ),
        # a function per route, two of them of one id
        "distinct": WebSocketEndpoint(
            stack,
            "Distinct",
            connect=connect,
            default=message,
            routes={"ping": ping, "team": _fn(team, "Message")},
            stage_name="v1",
            client_error_threshold=5,
        ),
        "lambda": WebSocketEndpoint(
            stack,
            "LambdaAuth",
            connect=_fn(stack, "C2"),
            default=_fn(stack, "D2"),
            authorizer=authorizers.WebSocketLambdaAuthorizer("Check", auth.alias),
        ),
        "public": WebSocketEndpoint(stack, "Public", connect=_fn(stack, "C3"), public=True),
        "none": WebSocketEndpoint(
            stack, "NoneAuth", connect=_fn(stack, "C4"), authorizer=apigwv2.WebSocketNoneAuthorizer()
        ),
    }
    return made, Template.from_stack(stack)


@pytest.mark.parametrize("name", ["one", "distinct", "lambda", "public", "none"])
def test_websocket_plan_resource_count_matches_the_tree(built: tuple[dict[str, Any], Template], name: str) -> None:
    made, tpl = built
    endpoint = made[name]
    plan = endpoint.plan
    assert plan.resource_count == _resources(endpoint)
    assert plan.api_logical_id in tpl.find_resources("AWS::ApiGatewayV2::Api")
    for integration in plan.integrations:
        assert integration.logical_id in tpl.find_resources("AWS::ApiGatewayV2::Integration")
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in tpl.find_resources("AWS::ApiGatewayV2::Route").values()
        if plan.api_logical_id in str(r["Properties"]["ApiId"])
    }
    assert list(routes) == [r.key for r in plan.routes]
    for route in plan.routes:
        assert routes[route.key]["AuthorizationType"] == route.authorization_type
        target = str(routes[route.key]["Target"])
        assert plan.integrations[route.function].logical_id in target
    (stage,) = [
        s["Properties"]
        for s in tpl.find_resources("AWS::ApiGatewayV2::Stage").values()
        if plan.api_logical_id in str(s["Properties"]["ApiId"])
    ]
    assert stage["StageName"] == plan.stage_name and stage["AccessLogSettings"]["Format"] == plan.access_log_format
    assert [a.node.id for a in endpoint.alarms] == [a.id for a in plan.alarms]
    for alarm in plan.alarms:
        (props,) = [
            r["Properties"]
            for r in tpl.find_resources("AWS::CloudWatch::Alarm").values()
            if r["Properties"]["AlarmName"] == alarm.name
        ]
        assert props["Threshold"] == alarm.threshold and props["AlarmDescription"] == alarm.description
        assert props.get("ExtendedStatistic", props.get("Statistic")) == alarm.statistic


def test_a_custom_route_without_a_function_is_refused_before_anything_is_built() -> None:
    from lambda_constructs.core.errors import ConfigurationError

    stack = cdk.Stack(cdk.App(), "W")
    fn = _fn(stack, "F")
    with pytest.raises(ConfigurationError, match=r"routes\['later'\]=None is invalid; allowed: a function"):
        WebSocketEndpoint(stack, "Chat", default=fn, routes={"later": None})  # type: ignore[dict-item]
    assert stack.node.try_find_child("Chat") is None
