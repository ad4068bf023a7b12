"""Logical ids do not depend on the order of routes (issue 20): aws-cdk-lib creates an API Gateway v2
integration under the first route bound to it, so its logical id followed that route. Each configuration is
synthesized twice in ONE app (stacks of the same content under different names: logical ids are per stack)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from lambda_constructs import HttpEndpoint, ProductionFunction, WebSocketEndpoint
from lambda_constructs._cdk.logical_ids import logical_id_at
from lambda_constructs.core.changes import diff
from tests.conftest import INLINE

ROUTES = ("GET /orders", "POST /orders", "GET /orders/{id}")


def _fn(stack: cdk.Stack, id: str) -> ProductionFunction:
    return ProductionFunction(stack, id, code=INLINE, handler="index.handler", p99=cdk.Duration.millis(500))


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, Any]]:
    app = cdk.App()

    def http(name: str, routes: tuple[str, ...]) -> None:
        stack = cdk.Stack(app, name)
        HttpEndpoint(stack, "Api", function=_fn(stack, "Fn"), routes=routes)

    def ws(name: str, connect: bool, routes: list[str]) -> None:
        stack = cdk.Stack(app, name)
        fns = {"Message": _fn(stack, "Message"), "Ping": _fn(stack, "Ping"), "Connect": _fn(stack, "Connect")}
        by_key = {"send": fns["Message"], "ping": fns["Ping"]}
        WebSocketEndpoint(
            stack,
            "Chat",
            connect=fns["Connect"] if connect else None,
            default=fns["Message"],
            routes={k: by_key[k] for k in routes},
        )

    http("Http", ROUTES)
    http("HttpReordered", tuple(reversed(ROUTES)))
    http("HttpWithoutFirst", ROUTES[1:])
    http("HttpCatchAll", ("ANY /{proxy+}",))
    ws("Ws", False, ["send", "ping"])
    ws("WsReordered", True, ["ping", "send"])
    assembly = app.synth()
    return {s.stack_name: s.template for s in assembly.stacks}


def _ids(template: dict[str, Any]) -> set[tuple[str, str]]:
    return {(lid, r["Type"]) for lid, r in template["Resources"].items()}


def _of_type(template: dict[str, Any], type_: str) -> dict[str, Any]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == type_}


def test_http_ids_do_not_depend_on_route_order(templates: dict[str, dict[str, Any]]) -> None:
    assert _ids(templates["Http"]) == _ids(templates["HttpReordered"])
    (integration,) = _of_type(templates["Http"], "AWS::ApiGatewayV2::Integration")
    assert integration == logical_id_at(["Api", "HttpApi", "LiveAliasIntegration", "Resource"])
    assert integration.startswith("ApiHttpApiLiveAliasIntegration")
    for route in _of_type(templates["HttpReordered"], "AWS::ApiGatewayV2::Route").values():
        assert route["Properties"]["Target"]["Fn::Join"][1][1] == {"Ref": integration}
    # the catch-all API's integration (bound to $default) has the same id
    assert set(_of_type(templates["HttpCatchAll"], "AWS::ApiGatewayV2::Integration")) == {integration}


def test_removing_the_first_route_removes_only_that_route(templates: dict[str, dict[str, Any]]) -> None:
    gone = _ids(templates["Http"]) - _ids(templates["HttpWithoutFirst"])
    assert {t for _, t in gone} == {"AWS::ApiGatewayV2::Route", "AWS::Lambda::Permission"}  # its route, its permission
    assert len(gone) == 2 and all(lid.startswith("ApiHttpApiGETorders") for lid, _ in gone)
    assert _ids(templates["HttpWithoutFirst"]) <= _ids(templates["Http"])
    # the change-safety check: nothing stateful or traffic-serving is replaced or deleted
    assert diff({"S": templates["Http"]}, {"S": templates["HttpWithoutFirst"]}).changes == []


def test_websocket_ids_do_not_depend_on_route_order_or_an_added_connect(
    templates: dict[str, dict[str, Any]],
) -> None:
    before, after = templates["Ws"], templates["WsReordered"]
    api = {(lid, t) for lid, t in _ids(before) if lid.startswith("Chat")}
    assert api <= _ids(after)  # adding $connect and reordering renames nothing of the API
    integrations = set(_of_type(before, "AWS::ApiGatewayV2::Integration"))
    assert integrations == {
        logical_id_at(["Chat", "Api", "MessageIntegration", "Resource"]),
        logical_id_at(["Chat", "Api", "PingIntegration", "Resource"]),
    }
    added = {lid for lid, t in _ids(after) - _ids(before) if t == "AWS::ApiGatewayV2::Integration"}
    assert added == {logical_id_at(["Chat", "Api", "ConnectIntegration", "Resource"])}


def test_logical_id_at_is_aws_cdk_libs_algorithm(templates: dict[str, dict[str, Any]]) -> None:
    # a resource aws-cdk-lib named itself: the route under the API
    routes = set(_of_type(templates["Http"], "AWS::ApiGatewayV2::Route"))
    assert logical_id_at(["Api", "HttpApi", "GET--orders", "Resource"]) in routes
    assert logical_id_at(["Only"]) == "Only" and logical_id_at(["A", "Default", "B"]) == logical_id_at(["A", "B"])
