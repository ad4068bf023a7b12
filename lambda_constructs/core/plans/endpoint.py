"""The plans of a function's HTTP front doors: HttpEndpoint, RestEndpoint, LoadBalancerTarget, and what they share.

Pure Python. `route_problems()`, `http_timeout_problem()` and `throttle_problems()` are the pure
halves of the endpoints' checks (the construct adds the problems that are questions of CDK types, in
their place); `plan_http()` makes every decision of an HttpEndpoint: its routes, the integration and
its pinned logical id, throttling, access logging, the alarms, the annotations and the number of
CloudFormation resources it creates; `plan_rest()` those of a RestEndpoint. `api_alarms()` are the 5xx,
4xx and p99-latency alarms of an API Gateway HTTP or REST API. `plan_load_balancer()` decides a
LoadBalancerTarget (an Application Load Balancer listener rule and Lambda target group): its alarms, the
idle-timeout warning, resource count; `priority_problem()`, `conditions_problem()`,
`target_option_problems()` and `same_environment_problems()` are the pure halves of its checks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, short
from lambda_constructs.core.plans.common import DURATION_ALARM_FRACTION, Acknowledgement, AlarmPlan, Note, alarm_name

HttpKind = Literal["http_api", "function_url"]
KINDS: tuple[HttpKind, ...] = ("http_api", "function_url")
CATCH_ALL = "$default"
METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_ROUTE = re.compile(r"^(?P<method>[A-Z]+) (?P<path>/[A-Za-z0-9._~{}+/-]*)$")

DEFAULT_THROTTLE_RATE = 1000  # requests/s; API Gateway's account default is 10,000 shared by all APIs
DEFAULT_THROTTLE_BURST = 500
DEFAULT_CLIENT_ERROR_THRESHOLD = 100  # 4xx per 5 minutes: tune to your traffic
THROTTLE_RATE_RANGE = limits.Range(1, 10_000, "requests/s")
THROTTLE_BURST_RANGE = limits.Range(1, 5_000, "requests")
CLIENT_ERROR_RANGE = limits.Range(1, 1_000_000)

HTTP_ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status",'
    '"protocol":"$context.protocol","responseLength":"$context.responseLength",'
    '"integrationLatency":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage"}'
)
HTTP_INTEGRATION_ID = "LiveAlias"  # the HttpLambdaIntegration's id
HTTP_INTEGRATION_NAME = "LiveAliasIntegration"  # the child of the API its resource is pinned as

# What an HTTP API route authorizer is, as the construct reads it from its class: the aws-cdk-lib ones that
# create an AWS::ApiGatewayV2::Authorizer under the API (JWT, Cognito user pool, Lambda), the two that create
# nothing (IAM, none), and any other implementation (what it creates is unknown)
AuthorizerKind = Literal["iam", "none", "jwt", "user_pool", "lambda", "other"]
_AUTHORIZER_RESOURCES: dict[str, int | None] = {
    "iam": 0,
    "none": 0,
    "jwt": 1,
    "user_pool": 1,
    "lambda": 2,  # and Lambda's permission for API Gateway to invoke the authorizer, made under the API too
    "other": None,
}
API_ALARM_IDS = ("ServerErrorsAlarm", "ClientErrorsAlarm", "LatencyAlarm")
ApiFamily = Literal["http", "rest"]
_API_METRICS: dict[ApiFamily, tuple[str, str, str]] = {
    "http": ("5xx", "4xx", "Latency"),  # AWS/ApiGateway metrics of an HTTP API
    "rest": ("5XXError", "4XXError", "Latency"),  # of a REST API
}


# ------------------------------------------------------------------ the pure halves of the checks


def kind_problem(kind: object) -> Problem | None:
    if kind in KINDS:
        return None
    return Problem("kind", short(kind), " | ".join(f"'{k}'" for k in KINDS))


def route_problems(prop: str, routes: object, methods: Sequence[str] = METHODS) -> list[Problem]:
    """Problems with route keys such as ``"POST /orders"`` or ``"GET /orders/{id}"`` (pure)."""
    if not isinstance(routes, list | tuple) or not routes:
        return [Problem(prop, short(routes), "a non-empty list of route keys such as 'POST /orders'")]
    found = []
    seen: set[str] = set()
    for index, route in enumerate(routes):
        match = _ROUTE.match(route) if isinstance(route, str) else None
        catch_all = route == CATCH_ALL and methods is METHODS
        if not catch_all and (not match or match.group("method") not in methods or "//" in match.group("path")):
            found.append(
                Problem(
                    f"{prop}[{index}]",
                    short(route),
                    f"'METHOD /path' with METHOD one of {', '.join(methods)} and a path such as /orders/{{id}}",
                )
            )
        elif route in seen:
            found.append(Problem(f"{prop}[{index}]", route, "each route once"))
        seen.add(route) if isinstance(route, str) else None
    return found


def http_timeout_problem(timeout_s: int) -> Problem | None:
    """An HTTP API waits 30 s for its integration, cold start included, and that cannot be raised ("Amazon API
    Gateway quotas", https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html)."""
    limit = limits.HTTP_API_INTEGRATION_TIMEOUT_S
    if timeout_s < limit:
        return None
    return Problem(
        "function.timeout",
        f"{timeout_s} s",
        f"< {limit} s, the API Gateway HTTP API integration timeout (cannot be raised; it includes the cold start)",
        f"the function's {timeout_s} s timeout reaches API Gateway's {limit} s: "
        "callers get a 503 while the function keeps running; shorten the work, make it "
        "asynchronous, or use kind='function_url'",
    )


def throttle_problems(rate: object, burst: object, client_errors: object) -> list[Problem]:
    """Stage throttling (requests/s, burst) and the 4xx alarm threshold, in the order the error lists them."""
    found = (
        limits.check_int_range("throttle_rate_limit", rate, THROTTLE_RATE_RANGE),
        limits.check_int_range("throttle_burst_limit", burst, THROTTLE_BURST_RANGE),
        limits.check_int_range("client_error_threshold", client_errors, CLIENT_ERROR_RANGE),
    )
    return [p for p in found if p is not None]


def latency_problem(latency_ms: object, timeout_s: int) -> Problem | None:
    return limits.check_range("latency_threshold_ms", latency_ms, limits.Range(1, timeout_s * 1000, "ms"))


# ------------------------------------------------------------------ shared pieces


def logical_id_at(components: Sequence[str]) -> str:
    """The logical id aws-cdk-lib gives a resource at ``components`` (its path under its stack).

    aws-cdk-lib's own algorithm ("Logical IDs", AWS CDK developer guide,
    https://docs.aws.amazon.com/cdk/v2/guide/identifiers.html): the path's alphanumerics, ``Resource``
    and ``Default`` hidden, and an 8-character MD5 of the path.
    """
    parts = [c for c in components if c != "Default"]
    if len(parts) == 1 and len(_NON_ALNUM.sub("", parts[0])) <= 255:
        return _NON_ALNUM.sub("", parts[0])
    digest = hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    human: list[str] = []
    for part in parts:
        if not human or not human[-1].endswith(part):
            human.append(part)
    return "".join(_NON_ALNUM.sub("", p) for p in human if p != "Resource")[:240] + digest


_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")


def under_stack(path: str, stack_path: str) -> list[str]:
    """The components of ``path`` below its stack's path."""
    return [p for p in path[len(stack_path) :].split("/") if p] if stack_path else path.split("/")


@dataclass(frozen=True)
class IntegrationPlan:
    """One API Gateway v2 integration on a ``live`` alias, pinned under its API whatever route it was first bound to."""

    id: str  # the integration object's id
    name: str  # the child of the API it is pinned as
    logical_id: str  # its CloudFormation logical id


def pinned_integration(path: str, stack_path: str, api_id: str, id: str, name: str) -> IntegrationPlan:
    """The integration ``id`` pinned as ``<path>/<api_id>/<name>`` (see ``_cdk/logical_ids.pin_integrations``)."""
    return IntegrationPlan(id, name, logical_id_at([*under_stack(path, stack_path), api_id, name, "Resource"]))


def api_alarms(
    path: str,
    prefix: str,
    family: ApiFamily,
    *,
    timeout_s: int,
    client_errors: int,
    latency_ms: float | None = None,
) -> tuple[AlarmPlan, ...]:
    """5xx >= 1, 4xx >= ``client_errors`` and p99 latency above ``latency_ms`` per 5 minutes, on the API.

    The latency threshold defaults to 80 % of the function timeout: the API answers 5xx once the
    function times out, so a p99 that close is the warning before that.
    """
    server, client, latency = _API_METRICS[family]
    threshold = latency_ms or timeout_s * 1000 * DURATION_ALARM_FRACTION
    return (
        AlarmPlan(
            id="ServerErrorsAlarm",
            name=alarm_name(prefix, "ServerErrorsAlarm"),
            description=f"{path}: the API returned 5xx responses.",
            source="api",
            metric=server,
            statistic="Sum",
            threshold=1,
        ),
        AlarmPlan(
            id="ClientErrorsAlarm",
            name=alarm_name(prefix, "ClientErrorsAlarm"),
            description=f"{path}: {client_errors} or more 4xx responses in 5 minutes.",
            source="api",
            metric=client,
            statistic="Sum",
            threshold=client_errors,
        ),
        AlarmPlan(
            id="LatencyAlarm",
            name=alarm_name(prefix, "LatencyAlarm"),
            description=f"{path}: p99 latency above {threshold:g} ms (80% of the {timeout_s} s function timeout).",
            source="api",
            metric=latency,
            statistic="p99",
            threshold=threshold,
            comparison="GREATER_THAN_THRESHOLD",
        ),
    )


def invocation_note(
    function_path: str, invocation: Invocation, kind: str, expected: Invocation = Invocation.SYNC
) -> Note | None:
    """A warning when a caller is wired to a function declared with another invocation kind than ``expected``."""
    if invocation is expected:
        return None
    return Note(
        "warning",
        f"lambda-constructs:{kind}-invocation",
        f"{function_path} is declared invocation={invocation.name}; a {kind} consumer "
        f"should use Invocation.{expected.name}.",
    )


# ------------------------------------------------------------------ HttpEndpoint


@dataclass(frozen=True)
class RoutePlan:
    key: str  # "POST /orders"
    method: str
    path: str


@dataclass(frozen=True)
class HttpRequest:
    """The plain facts an HttpEndpoint reads from its props (after its checks found no problem)."""

    path: str
    stack_path: str
    alarm_prefix: str
    function_path: str
    timeout_s: int
    invocation: Invocation
    kind: HttpKind = "http_api"
    routes: tuple[str, ...] = (CATCH_ALL,)
    authorizer: AuthorizerKind | None = None  # None: not given (IAM)
    auth_type: str | None = None  # Function URL: the FunctionUrlAuthType's name, None for AWS_IAM
    invoke_mode: str | None = None  # Function URL: the InvokeMode's name
    runtime: str = ""  # the function's runtime name, read only for RESPONSE_STREAM
    cors: bool = False
    throttle_rate_limit: int = DEFAULT_THROTTLE_RATE
    throttle_burst_limit: int = DEFAULT_THROTTLE_BURST
    client_error_threshold: int = DEFAULT_CLIENT_ERROR_THRESHOLD
    latency_threshold_ms: float | None = None


@dataclass(frozen=True)
class HttpPlan:
    """Every decision and derived number of one HttpEndpoint."""

    path: str
    kind: HttpKind
    routes: tuple[RoutePlan, ...]  # the routes other than $default; empty for a Function URL
    catch_all: bool  # a $default route: the API's default integration answers what no other route matches
    description: str | None  # of the HTTP API
    authorizer: AuthorizerKind  # iam unless one was given
    auth_type: str | None  # Function URL: AWS_IAM unless NONE was given
    invoke_mode: str | None  # Function URL: None (BUFFERED, Lambda's default) or RESPONSE_STREAM
    cors: bool  # API Gateway answers the OPTIONS preflight
    throttle_rate_limit: int | None  # default-route throttling of the $default stage
    throttle_burst_limit: int | None
    access_log_format: str | None  # JSON access logs of the $default stage
    integration: IntegrationPlan | None
    alarms: tuple[AlarmPlan, ...]
    notes: tuple[Note, ...]
    # CloudFormation resources under the construct (None: an authorizer of unknown kind). A Function URL is
    # made under the function's alias: the construct holds none
    resource_count: int | None


def _method_and_path(route: str) -> tuple[str, str]:
    method, _, path = route.partition(" ")
    return method, path


def plan_http(request: HttpRequest) -> HttpPlan:
    """The decisions of an HttpEndpoint whose props passed its checks."""
    notes: list[Note] = []
    if request.kind == "function_url":
        if request.invoke_mode == "RESPONSE_STREAM" and request.runtime and not request.runtime.startswith("nodejs"):
            # native on the Node.js managed runtimes only ("Response streaming for Lambda functions", AWS Lambda
            # developer guide); elsewhere the handler needs a custom runtime or an adapter
            notes.append(
                Note(
                    "warning",
                    "lambda-constructs:response-stream-runtime",
                    f"invoke_mode=RESPONSE_STREAM on {request.runtime}: Lambda streams responses natively on the "
                    "Node.js runtimes only; on this runtime the handler needs a custom runtime or the Lambda Web "
                    "Adapter, or callers get a buffered or failed response.",
                )
            )
        note = invocation_note(request.function_path, request.invocation, "HTTP")
        return HttpPlan(
            path=request.path,
            kind="function_url",
            routes=(),
            catch_all=False,
            description=None,
            authorizer="iam",
            auth_type=request.auth_type or "AWS_IAM",
            invoke_mode=request.invoke_mode,
            cors=False,
            throttle_rate_limit=None,
            throttle_burst_limit=None,
            access_log_format=None,
            integration=None,
            alarms=(),
            notes=(*notes, *([note] if note else [])),
            resource_count=0,
        )
    # "$default" beside other routes is API Gateway's fallback: the others match first ("Working with routes for
    # HTTP APIs", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html)
    catch_all = CATCH_ALL in request.routes
    routes = tuple(RoutePlan(key, *_method_and_path(key)) for key in request.routes if key != CATCH_ALL)
    authorizer: AuthorizerKind = request.authorizer or "iam"
    created = _AUTHORIZER_RESOURCES[authorizer]
    alarms = api_alarms(
        request.path,
        request.alarm_prefix,
        "http",
        timeout_s=request.timeout_s,
        client_errors=request.client_error_threshold,
        latency_ms=request.latency_threshold_ms,
    )
    note = invocation_note(request.function_path, request.invocation, "HTTP")
    # the API, its $default stage, the integration, a route and Lambda's permission for it per route (one
    # $default route for the catch-all), the access log group, the alarms, and the authorizer if it makes one
    count = None if created is None else 3 + 2 * (len(routes) + catch_all) + 1 + len(alarms) + created
    return HttpPlan(
        path=request.path,
        kind="http_api",
        routes=routes,
        catch_all=catch_all,
        description=f"HTTP API for {request.function_path} (live alias)",
        authorizer=authorizer,
        auth_type=None,
        invoke_mode=None,
        cors=request.cors,
        throttle_rate_limit=request.throttle_rate_limit,
        throttle_burst_limit=request.throttle_burst_limit,
        access_log_format=HTTP_ACCESS_LOG_FORMAT,
        integration=pinned_integration(
            request.path, request.stack_path, "HttpApi", HTTP_INTEGRATION_ID, HTTP_INTEGRATION_NAME
        ),
        alarms=alarms,
        notes=(note,) if note else (),
        resource_count=count,
    )


# ------------------------------------------------------------------ RestEndpoint

REST_METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
INTEGRATION_TIMEOUT_MIN_MS = 50
# the JSON access log fields of a REST stage (AccessLogFormat.json_with_standard_fields)
REST_ACCESS_LOG_FIELDS = (
    "caller",
    "http_method",
    "ip",
    "protocol",
    "request_time",
    "resource_path",
    "response_length",
    "status",
    "user",
)
COG4_ACK: Acknowledgement = (
    "AwsSolutions-COG4",
    "The API authorizes with IAM (SigV4) by default or the authorizer the service passes; a Cognito "
    "user pool is one choice among several, not a requirement.",
)
APIG6_ACK: Acknowledgement = (
    "AwsSolutions-APIG6",
    "Execution logging needs the account's API Gateway CloudWatch Logs role "
    "(AWS::ApiGateway::Account, one per account and region), which a service stack must not "
    "own; without it the stage fails to deploy. JSON access logs are on for every method; "
    "pass execution_logging=MethodLoggingLevel.ERROR where the platform has set the role.",
)
APIG3_ACK: Acknowledgement = (
    "AwsSolutions-APIG3",
    "A WAF web ACL is an organisation-level edge decision (shared ACLs, Firewall Manager); associate "
    "one with the stage where the platform provides it.",
)


def rest_methods(cors: bool) -> list[str]:
    """The methods a route may name: OPTIONS is API Gateway's own (the preflight) when CORS is on."""
    return [m for m in REST_METHODS if m != "OPTIONS" or not cors]


def rest_timeout_problems(integration_timeout_ms: float, endpoint_type: str, timeout_s: int) -> list[Problem]:
    """The integration timeout (50 ms..29 s; above 29 s, up to 900 s, for REGIONAL and PRIVATE endpoints with a
    quota increase: "Amazon API Gateway quotas", https://docs.aws.amazon.com/apigateway/latest/developerguide/
    limits.html) and the function's timeout below it."""
    ms = integration_timeout_ms
    raisable = endpoint_type != "EDGE"
    high = (
        limits.REST_API_INTEGRATION_TIMEOUT_MAX_S * 1000 if raisable else limits.REST_API_INTEGRATION_TIMEOUT_S * 1000
    )
    found = [
        limits.check_range(
            "integration_timeout",
            ms,
            limits.Range(INTEGRATION_TIMEOUT_MIN_MS, high, "ms"),
            "above 29 s needs a REGIONAL or PRIVATE endpoint and a quota increase" if not raisable else "",
        )
    ]
    if timeout_s * 1000 >= ms:
        found.append(
            Problem(
                "function.timeout",
                f"{timeout_s} s",
                f"< the integration timeout ({ms / 1000:g} s)",
                "API Gateway returns 504 when the integration times out while the function keeps running; "
                "shorten the function timeout or raise integration_timeout (REGIONAL/PRIVATE, with a quota "
                "increase)",
            )
        )
    return [p for p in found if p is not None]


@dataclass(frozen=True)
class RestRequest:
    """The plain facts a RestEndpoint reads from its props (after its checks found no problem)."""

    path: str
    alarm_prefix: str
    function_path: str
    timeout_s: int
    invocation: Invocation
    routes: tuple[str, ...]
    integration_timeout_ms: float = limits.REST_API_INTEGRATION_TIMEOUT_S * 1000
    endpoint_type: str = "REGIONAL"  # the EndpointType's name
    authorization_type: str | None = None  # the AuthorizationType's name, if given
    authorizer_type: str | None = None  # the AuthorizationType an authorizer given needs (None: not one it says)
    authorizer: bool = False  # an authorizer was given
    cors: bool = False
    execution_logging: str | None = None  # the MethodLoggingLevel's name
    throttle_rate_limit: int = DEFAULT_THROTTLE_RATE
    throttle_burst_limit: int = DEFAULT_THROTTLE_BURST
    client_error_threshold: int = DEFAULT_CLIENT_ERROR_THRESHOLD


@dataclass(frozen=True)
class RestPlan:
    """Every decision and derived number of one RestEndpoint."""

    path: str
    description: str
    routes: tuple[RoutePlan, ...]
    resources: tuple[str, ...]  # the API resources the routes need below the root, e.g. /orders, /orders/{id}
    cors: bool  # an OPTIONS preflight method on the root and on every resource
    endpoint_type: str
    authorization_type: str  # IAM unless given; derived from an authorizer (COGNITO, else CUSTOM)
    integration_timeout_ms: float
    execution_logging: str | None  # stage execution logging (off unless given: it needs the account's role)
    tracing: bool
    throttle_rate_limit: int
    throttle_burst_limit: int
    access_log_fields: tuple[str, ...]
    method_acknowledgements: tuple[Acknowledgement, ...]  # on every method, CORS preflights included
    stage_acknowledgements: tuple[Acknowledgement, ...]
    alarms: tuple[AlarmPlan, ...]
    notes: tuple[Note, ...]
    resource_count: int


def plan_rest(request: RestRequest) -> RestPlan:
    """The decisions of a RestEndpoint whose props passed its checks."""
    routes = tuple(RoutePlan(key, *_method_and_path(key)) for key in request.routes)
    resources: dict[str, None] = {}
    for route in routes:
        parts = [p for p in route.path.split("/") if p]
        for depth in range(1, len(parts) + 1):
            resources["/" + "/".join(parts[:depth])] = None
    authorization = request.authorization_type or (
        (request.authorizer_type or "CUSTOM") if request.authorizer else "IAM"
    )
    notes: list[Note] = []
    if request.integration_timeout_ms > limits.REST_API_INTEGRATION_TIMEOUT_S * 1000:
        notes.append(
            Note(
                "warning",
                "lambda-constructs:rest-integration-timeout-quota",
                f"integration_timeout={request.integration_timeout_ms / 1000:g} s is above 29 s: request the Service "
                "Quotas increase 'Maximum integration timeout in milliseconds' (API Gateway) for this account and "
                "region first, or the deploy fails; latency-sensitive callers still wait that long.",
            )
        )
    note = invocation_note(request.function_path, request.invocation, "REST")
    notes.extend([note] if note else [])
    alarms = api_alarms(
        request.path,
        request.alarm_prefix,
        "rest",
        timeout_s=request.timeout_s,
        client_errors=request.client_error_threshold,
    )
    methods = len(routes) + (len(resources) + 1 if request.cors else 0)
    return RestPlan(
        path=request.path,
        description=f"REST API for {request.function_path} (live alias)",
        routes=routes,
        resources=tuple(resources),
        cors=request.cors,
        endpoint_type=request.endpoint_type,
        authorization_type=authorization,
        integration_timeout_ms=request.integration_timeout_ms,
        execution_logging=request.execution_logging,
        tracing=True,
        throttle_rate_limit=request.throttle_rate_limit,
        throttle_burst_limit=request.throttle_burst_limit,
        access_log_fields=REST_ACCESS_LOG_FIELDS,
        method_acknowledgements=(COG4_ACK,),
        stage_acknowledgements=(*(() if request.execution_logging else (APIG6_ACK,)), APIG3_ACK),
        alarms=alarms,
        notes=tuple(notes),
        # the access log group, the API, its deployment and stage, the request validator, the resources, the
        # methods (CORS preflights included) and Lambda's two permissions per route (the stage and test-invoke),
        # the alarms
        resource_count=5 + len(resources) + methods + 2 * len(routes) + len(alarms),
    )


# ------------------------------------------------------------------ LoadBalancerTarget

# Lambda targets of an Application Load Balancer: the same account and Region, a request body and a response JSON of
# at most 1 MB each, health checks off unless enabled
LAMBDA_TARGETS_PAGE = (
    "'Use Lambda functions as targets of an Application Load Balancer' "
    "(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html)"
)
DEFAULT_SERVER_ERROR_THRESHOLD = 1  # HTTPCode_Target_5XX_Count per 5 minutes
SERVER_ERROR_RANGE = limits.Range(1, 1_000_000)
ALB_ALARM_IDS = ("Target5xxAlarm", "LambdaUserErrorAlarm", "LambdaInternalErrorAlarm")
ALB_TARGET_5XX_METRIC = "HTTPCode_Target_5XX_Count"  # AWS/ApplicationELB, per target group


def priority_problem(priority: object) -> Problem | None:
    """A listener rule's priority: 1..50,000, unique on its listener."""
    return limits.check_int_range(
        "priority",
        priority,
        limits.Range(limits.ALB_RULE_PRIORITY_MIN, limits.ALB_RULE_PRIORITY_MAX),
        "each rule on a listener needs its own priority (lower is evaluated first)",
    )


def conditions_problem(count: int) -> Problem | None:
    """A rule needs a condition, and the load balancer evaluates at most 5."""
    if 1 <= count <= limits.ALB_RULE_CONDITIONS_MAX:
        return None
    return Problem(
        "conditions",
        f"{count} conditions",
        f"1..{limits.ALB_RULE_CONDITIONS_MAX} (a rule needs a condition; ALB evaluates at most 5)",
    )


def target_option_problems(multi_value_headers: object, server_error_threshold: object) -> list[Problem]:
    found = []
    if not isinstance(multi_value_headers, bool):
        found.append(Problem("multi_value_headers", short(multi_value_headers), "True or False"))
    problem = limits.check_int_range("server_error_threshold", server_error_threshold, SERVER_ERROR_RANGE)
    return found + ([problem] if problem else [])


Environment = tuple[str | None, str | None]  # (account, region); None: a deploy-time token


def same_environment_problems(function: Environment, listener: Environment) -> list[Problem]:
    """A Lambda target must be in the same account and Region as its load balancer (`LAMBDA_TARGETS_PAGE`); a
    token on either side is left to deploy time."""
    return [
        Problem(
            f"listener.{what}",
            theirs,
            f"the function's {what} ({ours})",
            "a Lambda target must be in the same account and Region as its load balancer",
        )
        for what, ours, theirs in zip(("account", "region"), function, listener, strict=True)
        if ours is not None and theirs is not None and ours != theirs
    ]


@dataclass(frozen=True)
class LoadBalancerRequest:
    """The plain facts a LoadBalancerTarget reads from its props (after its checks found no problem)."""

    path: str
    alarm_prefix: str
    function_path: str
    timeout_s: int
    invocation: Invocation
    priority: int
    conditions: int  # how many ListenerConditions
    multi_value_headers: bool = False
    server_error_threshold: int = DEFAULT_SERVER_ERROR_THRESHOLD
    idle_timeout_s: int | None = None  # of the listener's load balancer when it is made in this app


@dataclass(frozen=True)
class LoadBalancerPlan:
    """Every decision and derived number of one LoadBalancerTarget."""

    path: str
    priority: int  # of the listener rule
    conditions: int
    target_type: str  # LAMBDA: the target group holds the function's live alias
    multi_value_headers: bool  # repeated headers and query parameters passed as lists (the handler answers so too)
    # health checks stay off, ELB's default for a Lambda target group (each check would invoke the function)
    health_check: bool
    idle_timeout_s: int | None  # None: the load balancer is imported, its idle timeout unknown here
    alarms: tuple[AlarmPlan, ...]
    acknowledgements: tuple[Acknowledgement, ...]  # none: the rule packs find nothing on a rule and a target group
    notes: tuple[Note, ...]
    # the target group, the listener rule and the alarms. Lambda's permission for the load balancer to invoke
    # ``live`` is made under the function's alias, so it is the function's (its plan did not count it)
    resource_count: int


def load_balancer_alarms(path: str, prefix: str, server_errors: int) -> tuple[AlarmPlan, ...]:
    """The target group's 5xx (>= ``server_errors``), LambdaUserError and LambdaInternalError (>= 1) per 5 minutes."""
    target_5xx, user, internal = ALB_ALARM_IDS
    return (
        AlarmPlan(
            id=target_5xx,
            name=alarm_name(prefix, target_5xx),
            description=f"{path}: the function answered the load balancer with 5xx, or failed.",
            source="target_group",
            metric=ALB_TARGET_5XX_METRIC,
            statistic="Sum",
            threshold=server_errors,
        ),
        AlarmPlan(
            id=user,
            name=alarm_name(prefix, user),
            description=f"{path}: the load balancer could not use the function's answer: a request or "
            "response over 1 MB, malformed JSON, or a missing permission (clients got 502).",
            source="target_group",
            metric="LambdaUserError",
            statistic="Sum",
            threshold=1,
        ),
        AlarmPlan(
            id=internal,
            name=alarm_name(prefix, internal),
            description=f"{path}: requests to the function failed inside the load balancer or Lambda.",
            source="target_group",
            metric="LambdaInternalError",
            statistic="Sum",
            threshold=1,
        ),
    )


def plan_load_balancer(request: LoadBalancerRequest) -> LoadBalancerPlan:
    """The decisions of a LoadBalancerTarget whose props passed its checks."""
    notes: list[Note] = []
    idle = request.idle_timeout_s
    if idle is not None and request.timeout_s >= idle:
        notes.append(
            Note(
                "warning",
                "lambda-constructs:alb-idle-timeout",
                f"{request.function_path} times out after {request.timeout_s} s but the load balancer stops "
                f"waiting after its idle timeout of {idle} s: the client gets a 504 while the function keeps "
                "running. Shorten the function, or raise idle_timeout on the load balancer.",
            )
        )
    note = invocation_note(request.function_path, request.invocation, "load balancer")
    notes.extend([note] if note else [])
    alarms = load_balancer_alarms(request.path, request.alarm_prefix, request.server_error_threshold)
    return LoadBalancerPlan(
        path=request.path,
        priority=request.priority,
        conditions=request.conditions,
        target_type="LAMBDA",
        multi_value_headers=request.multi_value_headers,
        health_check=False,
        idle_timeout_s=idle,
        alarms=alarms,
        acknowledgements=(),
        notes=tuple(notes),
        resource_count=2 + len(alarms),
    )
