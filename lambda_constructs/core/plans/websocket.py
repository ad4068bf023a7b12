"""The plan of a WebSocketEndpoint: an API Gateway WebSocket API whose routes invoke functions on ``live``.

Pure Python. `websocket_route_problems()`, `websocket_timeout_problem()`, `public_problems()` and
`websocket_option_problems()` are the pure halves of the construct's check (it adds the problems that are
questions of CDK types, in their place; throttling is `endpoint.throttle_problems`, shared with the HTTP and
REST endpoints); `plan_websocket()` makes every decision of a WebSocketEndpoint: its routes and the
function serving each, one integration per function pinned under the API, the ``$connect`` authorizer,
the stage, throttling, access logging, the cdk-nag acknowledgements, the alarms, the annotations and the
number of CloudFormation resources it creates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, short
from lambda_constructs.core.plans.common import DURATION_ALARM_FRACTION, Acknowledgement, AlarmPlan, Note, alarm_name
from lambda_constructs.core.plans.endpoint import (
    DEFAULT_CLIENT_ERROR_THRESHOLD,
    DEFAULT_THROTTLE_BURST,
    DEFAULT_THROTTLE_RATE,
    IntegrationPlan,
    invocation_note,
    logical_id_at,
    pinned_integration,
    under_stack,
)

__all__ = [
    "CALLBACK_URL_VARIABLE",
    "DEFAULT_CLIENT_ERROR_THRESHOLD",
    "DEFAULT_ROUTE_SELECTION_EXPRESSION",
    "DEFAULT_STAGE",
    "DEFAULT_THROTTLE_BURST",
    "DEFAULT_THROTTLE_RATE",
    "QUOTAS_PAGE",
    "WebSocketFunction",
    "WebSocketPlan",
    "WebSocketRequest",
    "WebSocketRoutePlan",
    "plan_websocket",
    "public_problems",
    "websocket_option_problems",
    "websocket_route_problems",
    "websocket_timeout_problem",
]

DEFAULT_STAGE = "live"
CALLBACK_URL_VARIABLE = "WEBSOCKET_CALLBACK_URL"
DEFAULT_ROUTE_SELECTION_EXPRESSION = "$request.body.action"
# the routes API Gateway predefines, each with its own keyword argument (connect=, disconnect=, default=)
PREDEFINED_ROUTES: dict[str, str] = {"$connect": "connect", "$disconnect": "disconnect", "$default": "default"}
QUOTAS_PAGE = (
    "'Quotas for configuring and running a WebSocket in API Gateway' "
    "(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html)"
)
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"eventType":"$context.eventType","routeKey":"$context.routeKey","connectionId":"$context.connectionId",'
    '"status":"$context.status","integrationLatency":"$context.integrationLatency",'
    '"integrationError":"$context.integrationErrorMessage","error":"$context.error.message"}'
)
API_ID = "Api"  # the WebSocketApi's id under the construct
ALARM_IDS = ("IntegrationErrorAlarm", "ExecutionErrorAlarm", "ClientErrorAlarm", "IntegrationLatencyAlarm")
_ROUTE_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_STAGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_VARIABLE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]+$")

# What a $connect authorizer is, as the construct reads it from its class: IAM (SigV4, aws-cdk-lib's
# WebSocketIamAuthorizer) and none (WebSocketNoneAuthorizer, or public=True) create nothing; a Lambda
# authorizer creates an AWS::ApiGatewayV2::Authorizer and Lambda's permission to invoke it, both under the
# API; any other implementation creates what it creates (unknown)
WebSocketAuthorizerKind = Literal["iam", "none", "lambda", "other"]
_AUTHORIZER_RESOURCES: dict[WebSocketAuthorizerKind, int | None] = {"iam": 0, "none": 0, "lambda": 2, "other": None}
# the AuthorizationType of the $connect route each kind gives (None: the authorizer says)
_AUTHORIZATION_TYPES: dict[WebSocketAuthorizerKind, str | None] = {
    "iam": "AWS_IAM",
    "none": "NONE",
    "lambda": "CUSTOM",
    "other": None,
}

ROUTE_ACK_REASON = (
    "WebSocket APIs authorize on $connect only; $connect uses IAM or the authorizer given, the other "
    "routes run on an authorized connection."
)
PUBLIC_ACK_REASON = "public=True was passed explicitly: this API accepts unauthenticated connections by design."
GRANT_ACK_REASON = (
    "execute-api:ManageConnections on this API's stage only: a handler posts to connection ids that exist "
    "only at run time, so the @connections path ends in a wildcard."
)


def route_prop(route_key: str) -> str:
    """The keyword argument a route's function was given as: ``connect``, ``disconnect``, ``default`` or
    ``routes['<key>']``."""
    return PREDEFINED_ROUTES.get(route_key, f"routes[{route_key!r}]")


# ------------------------------------------------------------------ the pure halves of the check


def websocket_route_problems(routes: object, route_count: int) -> list[Problem]:
    """The custom ``routes`` mapping (its keys, a function for each) and the number of routes with a function
    (``route_count``, the predefined ones included): at least one, at most 300 per API (``QUOTAS_PAGE``)."""
    found = []
    if routes is not None and not isinstance(routes, Mapping):
        found.append(Problem("routes", short(routes), "a mapping of route key to function"))
    if not route_count:
        found.append(Problem("connect/disconnect/default/routes", "none", "at least one route with a function"))
    for key in routes if isinstance(routes, Iterable) and not isinstance(routes, str | bytes) else ():
        if not isinstance(key, str) or key.startswith("$") or not _ROUTE_KEY.match(key):
            found.append(
                Problem(
                    f"routes[{key!r}]",
                    short(key),
                    "a custom route key of 1..128 characters (A-Z a-z 0-9 _ . : -), not starting with $",
                    "use connect=, disconnect= and default= for the predefined routes",
                )
            )
        elif isinstance(routes, Mapping) and routes[key] is None:
            found.append(Problem(f"routes[{key!r}]", None, "a function (a ProductionFunction) for the route"))
    if route_count > limits.WEBSOCKET_ROUTES_MAX:
        found.append(Problem("routes", f"{route_count} routes", f"<= {limits.WEBSOCKET_ROUTES_MAX} per API"))
    return found


def websocket_timeout_problem(route_key: str, timeout_s: int) -> Problem | None:
    """A route function's timeout must stay below the 29 s API Gateway waits for a WebSocket integration, which
    cannot be raised (``QUOTAS_PAGE``: "Integration timeout: 50 milliseconds - 29 seconds ... No")."""
    return limits.caller_timeout_problem(
        f"{route_prop(route_key)}.timeout",
        timeout_s,
        limits.WEBSOCKET_INTEGRATION_TIMEOUT_S,
        "the API Gateway WebSocket integration timeout (cannot be raised)",
        "the client's message gets an error while the function keeps running; shorten the work "
        "or hand it to a queue and answer through the callback URL",
    )


def public_problems(public: object, authorizer: object) -> list[Problem]:
    """``public`` is a bool, and a public API takes no authorizer (``authorizer`` is shown, never read)."""
    found = []
    if not isinstance(public, bool):
        found.append(Problem("public", short(public), "True or False"))
    if public and authorizer is not None:
        found.append(Problem("authorizer", short(authorizer), "None with public=True"))
    return found


def websocket_option_problems(
    *,
    authorizer: bool,
    connect: bool,
    stage_name: object,
    route_selection_expression: object,
    callback_url_variable: object,
) -> list[Problem]:
    """An authorizer needs a ``$connect`` route; the stage name, route selection expression and the callback URL's
    environment variable name."""
    found = []
    if authorizer and not connect:
        found.append(Problem("authorizer", "set", "a connect= function (WebSocket APIs authorize on $connect)"))
    if not (isinstance(stage_name, str) and _STAGE.match(stage_name)):
        found.append(Problem("stage_name", short(stage_name), "1..128 characters of A-Z a-z 0-9 _ -"))
    if not (isinstance(route_selection_expression, str) and route_selection_expression.startswith("$request.")):
        found.append(
            Problem(
                "route_selection_expression",
                short(route_selection_expression),
                "an expression such as $request.body.action",
            )
        )
    if not (isinstance(callback_url_variable, str) and _VARIABLE.match(callback_url_variable)):
        found.append(
            Problem("callback_url_variable", short(callback_url_variable), "a name matching [a-zA-Z][a-zA-Z0-9_]+")
        )
    return found


# ------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class WebSocketFunction:
    """One route function, as the construct reads it (each distinct function once)."""

    path: str
    timeout_s: int
    invocation: Invocation = Invocation.SYNC


@dataclass(frozen=True)
class WebSocketRequest:
    """The plain facts a WebSocketEndpoint reads from its props (after its checks found no problem)."""

    path: str
    stack_path: str
    alarm_prefix: str
    functions: tuple[WebSocketFunction, ...]  # distinct, in the order of their first route
    # (route key, index into functions): $connect, $disconnect, $default (those given), then the custom routes
    routes: tuple[tuple[str, int], ...]
    authorizer: WebSocketAuthorizerKind | None = None  # the $connect authorizer given (None: IAM, or none if public)
    public: bool = False
    stage_name: str = DEFAULT_STAGE
    route_selection_expression: str = DEFAULT_ROUTE_SELECTION_EXPRESSION
    callback_url_variable: str = CALLBACK_URL_VARIABLE
    throttle_rate_limit: int = DEFAULT_THROTTLE_RATE
    throttle_burst_limit: int = DEFAULT_THROTTLE_BURST
    client_error_threshold: int = DEFAULT_CLIENT_ERROR_THRESHOLD
    # the stack's partition, region and account as cdk-nag prints them in a finding's resource: a pseudo
    # parameter as <AWS::...>, a concrete value (an explicit env) as itself
    partition: str = "<AWS::Partition>"
    region: str = "<AWS::Region>"
    account: str = "<AWS::AccountId>"


@dataclass(frozen=True)
class WebSocketRoutePlan:
    key: str  # "$connect", "sendMessage"
    function: int  # the index of its function in the request, and of its integration in the plan
    authorization_type: str | None  # of the route: NONE but on $connect (None: what an unknown authorizer says)
    acknowledgements: tuple[Acknowledgement, ...]  # on the route's AWS::ApiGatewayV2::Route


@dataclass(frozen=True)
class WebSocketPlan:
    """Every decision and derived number of one WebSocketEndpoint."""

    path: str
    description: str  # of the API
    route_selection_expression: str
    routes: tuple[WebSocketRoutePlan, ...]  # in the order they are made: $connect, $disconnect, $default, custom
    # one Lambda proxy integration per distinct function (shared by its routes), named after the function,
    # pinned under the API whichever route was first bound to it
    integrations: tuple[IntegrationPlan, ...]
    authorizer: WebSocketAuthorizerKind  # of $connect: iam unless given; none with public=True
    public: bool
    api_logical_id: str  # of the AWS::ApiGatewayV2::Api (the grant's acknowledgement names it)
    stage_name: str
    auto_deploy: bool
    throttle_rate_limit: int  # default route throttling of the stage
    throttle_burst_limit: int
    access_log_format: str  # JSON access logs of the stage
    callback_url_variable: str  # the stage's callback URL, in every route function's environment
    # on each route function's role policy: execute-api:ManageConnections on this stage's @connections/*
    grant_acknowledgements: tuple[Acknowledgement, ...]
    alarms: tuple[AlarmPlan, ...]
    notes: tuple[Note, ...]
    resource_count: int | None  # CloudFormation resources under the construct (None: an authorizer of unknown kind)


def websocket_alarms(path: str, prefix: str, *, longest_timeout_s: int, client_errors: int) -> tuple[AlarmPlan, ...]:
    """IntegrationError and ExecutionError >= 1, ClientError >= ``client_errors`` per 5 minutes, and p99
    IntegrationLatency above 80 % of the longest route function's timeout, on the stage."""
    latency = longest_timeout_s * 1000 * DURATION_ALARM_FRACTION
    return (
        AlarmPlan(
            id="IntegrationErrorAlarm",
            name=alarm_name(prefix, "IntegrationErrorAlarm"),
            description=f"{path}: a route function returned an error or timed out (IntegrationError).",
            source="stage",
            metric="IntegrationError",
            statistic="Sum",
            threshold=1,
        ),
        AlarmPlan(
            id="ExecutionErrorAlarm",
            name=alarm_name(prefix, "ExecutionErrorAlarm"),
            description=f"{path}: API Gateway could not call a route's integration (ExecutionError).",
            source="stage",
            metric="ExecutionError",
            statistic="Sum",
            threshold=1,
        ),
        AlarmPlan(
            id="ClientErrorAlarm",
            name=alarm_name(prefix, "ClientErrorAlarm"),
            description=f"{path}: {client_errors} or more 4xx answers before the integration in 5 minutes "
            "(unauthorized connects, throttling, no matching route).",
            source="stage",
            metric="ClientError",
            statistic="Sum",
            threshold=client_errors,
        ),
        AlarmPlan(
            id="IntegrationLatencyAlarm",
            name=alarm_name(prefix, "IntegrationLatencyAlarm"),
            description=f"{path}: p99 integration latency above {latency:g} ms (80% of the longest route "
            f"function timeout, {longest_timeout_s} s).",
            source="stage",
            metric="IntegrationLatency",
            statistic="p99",
            threshold=latency,
            comparison="GREATER_THAN_THRESHOLD",
        ),
    )


def integration_names(function_paths: Iterable[str]) -> list[str]:
    """Each distinct function's integration, named after the function rather than the order of first use (adding a
    $connect function or reordering the routes renames no integration, nor the per-route permissions aws-cdk-lib
    names after it); two functions of one id in different scopes: the second adds its path's hash."""
    names: list[str] = []
    for path in function_paths:
        name = f"{path.rsplit('/', 1)[-1]}Integration"
        if name in names:
            name = f"{logical_id_at(path.split('/'))}Integration"
        names.append(name)
    return names


def _route_acknowledgements(route_key: str, public: bool) -> tuple[Acknowledgement, ...]:
    """AwsSolutions-APIG4 on each route but an authorized $connect (on the API it would cover $connect too)."""
    if route_key != "$connect":
        return (("AwsSolutions-APIG4", ROUTE_ACK_REASON),)
    return (("AwsSolutions-APIG4", PUBLIC_ACK_REASON),) if public else ()


def plan_websocket(request: WebSocketRequest) -> WebSocketPlan:
    """The decisions of a WebSocketEndpoint whose props passed its checks."""
    authorizer: WebSocketAuthorizerKind = request.authorizer or ("none" if request.public else "iam")
    routes = tuple(
        WebSocketRoutePlan(
            key=key,
            function=index,
            authorization_type=_AUTHORIZATION_TYPES[authorizer] if key == "$connect" else "NONE",
            acknowledgements=_route_acknowledgements(key, request.public),
        )
        for key, index in request.routes
    )
    integrations = tuple(
        pinned_integration(request.path, request.stack_path, API_ID, name, name)
        for name in integration_names(f.path for f in request.functions)
    )
    api_logical_id = logical_id_at([*under_stack(request.path, request.stack_path), API_ID, "Resource"])
    # cdk-nag's IAM5 on the @connections/* grant: the connection ids are only known at run time
    grant = (
        f"AwsSolutions-IAM5[Resource::arn:{request.partition}:execute-api:{request.region}:{request.account}:"
        f"<{api_logical_id}>/{request.stage_name}/*/@connections/*]",
        GRANT_ACK_REASON,
    )
    alarms = websocket_alarms(
        request.path,
        request.alarm_prefix,
        longest_timeout_s=max(f.timeout_s for f in request.functions),
        client_errors=request.client_error_threshold,
    )
    notes = [invocation_note(f.path, f.invocation, "WebSocket") for f in request.functions]
    # the authorizer binds to $connect only, and makes its resources under the API
    created = _AUTHORIZER_RESOURCES[authorizer] if any(r.key == "$connect" for r in routes) else 0
    # the API, a route and Lambda's permission for it per route, an integration per function, the stage, the
    # access log group, the alarms, and the authorizer's resources
    count = None if created is None else 1 + 2 * len(routes) + len(integrations) + 2 + len(alarms) + created
    return WebSocketPlan(
        path=request.path,
        description=f"WebSocket API for {request.functions[0].path} (live aliases)",
        route_selection_expression=request.route_selection_expression,
        routes=routes,
        integrations=integrations,
        authorizer=authorizer,
        public=request.public,
        api_logical_id=api_logical_id,
        stage_name=request.stage_name,
        auto_deploy=True,
        throttle_rate_limit=request.throttle_rate_limit,
        throttle_burst_limit=request.throttle_burst_limit,
        access_log_format=ACCESS_LOG_FORMAT,
        callback_url_variable=request.callback_url_variable,
        grant_acknowledgements=(grant,),
        alarms=alarms,
        notes=tuple(n for n in notes if n is not None),
        resource_count=count,
    )
