"""HttpEndpoint: an API Gateway HTTP API or a Function URL in front of a ProductionFunction."""

from __future__ import annotations

import re
import typing
from collections.abc import Sequence
from typing import Literal

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs._cdk import logical_ids as _logical_ids
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.function.production_function import (
    DEFAULT_LOG_RETENTION,
)
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget

KINDS = ("http_api", "function_url")
CATCH_ALL = "$default"
METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_ROUTE = re.compile(r"^(?P<method>[A-Z]+) (?P<path>/[A-Za-z0-9._~{}+/-]*)$")


def route_problems(prop: str, routes: object, methods: Sequence[str] = METHODS) -> list[Problem]:
    """Problems with route keys such as ``"POST /orders"`` or ``"GET /orders/{id}"`` (pure)."""
    if not isinstance(routes, list | tuple) or not routes:
        return [Problem(prop, _cdk.short(routes), "a non-empty list of route keys such as 'POST /orders'")]
    found = []
    seen: set[str] = set()
    for index, route in enumerate(routes):
        match = _ROUTE.match(route) if isinstance(route, str) else None
        if route == CATCH_ALL and methods is METHODS:
            continue
        if not match or match.group("method") not in methods or "//" in match.group("path"):
            found.append(
                Problem(
                    f"{prop}[{index}]",
                    _cdk.short(route),
                    f"'METHOD /path' with METHOD one of {', '.join(methods)} and a path such as /orders/{{id}}",
                )
            )
        elif route in seen:
            found.append(Problem(f"{prop}[{index}]", route, "each route once"))
        seen.add(route) if isinstance(route, str) else None
    return found


DEFAULT_THROTTLE_RATE = 1000  # requests/s; API Gateway's account default is 10,000 shared by all APIs
DEFAULT_THROTTLE_BURST = 500
DEFAULT_CLIENT_ERROR_THRESHOLD = 100  # 4xx per 5 minutes: tune to your traffic
_ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status",'
    '"protocol":"$context.protocol","responseLength":"$context.responseLength",'
    '"integrationLatency":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage"}'
)


class HttpEndpoint(Construct):
    """Synchronous HTTP in front of the function's ``live`` alias.

    ``kind="http_api"`` (default): an API Gateway HTTP API with a Lambda proxy integration on the
    ``routes`` given (default the catch-all ``$default`` route), IAM authorization by default, an
    optional CORS preflight answered by API Gateway, JSON access logs, default-route throttling, and
    alarms on 5xx, 4xx and p99 latency. API Gateway stops waiting after 30 s, cold start included, and
    that cannot be raised for HTTP APIs (API Gateway quotas), so a function timeout of 30 s or more
    is refused: the caller would get a 503 while the function keeps running and billing.

    ``kind="function_url"``: a Lambda Function URL on the alias, auth ``AWS_IAM`` by default;
    ``NONE`` only when passed explicitly (``auth_type=lambda_.FunctionUrlAuthType.NONE``). A
    Function URL waits up to the function's own timeout. AWS allows one per alias: a second is
    refused.

    Args:
        function: a ProductionFunction, normally ``Invocation.SYNC``.
        kind: ``"http_api"`` or ``"function_url"``.
        routes: route keys, e.g. ``("POST /orders", "GET /orders/{id}")``; default ``("$default",)``.
        cors: ``apigwv2.CorsPreflightOptions(allow_origins=[...], allow_methods=[...])``: API
            Gateway answers the OPTIONS preflight itself (a browser client fails without it).
        authorizer: HTTP API route authorizer; default ``HttpIamAuthorizer()``. Pass a JWT
            (``HttpJwtAuthorizer``) or Lambda authorizer, or ``HttpNoneAuthorizer()`` for a public API.
        auth_type: Function URL auth; default ``AWS_IAM``.
        invoke_mode: Function URL only: ``InvokeMode.RESPONSE_STREAM`` streams the response as the handler
            writes it (beyond the 6 MB buffered limit, first byte sooner); default ``BUFFERED``
            (Lambda's default). Streaming handlers are native on the Node.js runtimes; other runtimes need
            a custom runtime or the Lambda Web Adapter, so they get a warning.
        throttle_rate_limit: HTTP API default route, requests/s; default 1,000.
        throttle_burst_limit: HTTP API default route burst; default 500.
        client_error_threshold: 4xx per 5 minutes that alarms; default 100.
        latency_threshold_ms: p99 latency alarm; default 80 % of the function timeout.
        alarm_topic: default the function's topic.
        encryption_key: a customer-managed KMS key (``aws_kms.IKey``) for the access log group (``kind='http_api'``; a
            Function URL has none) this construct creates, with the key-policy statements CloudWatch Logs need (see
            docs/encryption.md); default CloudWatch Logs' own encryption.
    """

    def __init__(  # noqa: C901 - one flat validation closure per kind, as ProductionFunction's
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        kind: Literal["http_api", "function_url"] = "http_api",
        routes: Sequence[str] = (CATCH_ALL,),
        cors: apigwv2.CorsPreflightOptions | None = None,
        authorizer: apigwv2.IHttpRouteAuthorizer | None = None,
        auth_type: lambda_.FunctionUrlAuthType | None = None,
        invoke_mode: lambda_.InvokeMode | None = None,
        throttle_rate_limit: int = DEFAULT_THROTTLE_RATE,
        throttle_burst_limit: int = DEFAULT_THROTTLE_BURST,
        client_error_threshold: int = DEFAULT_CLIENT_ERROR_THRESHOLD,
        latency_threshold_ms: float | None = None,
        alarm_topic: sns.ITopic | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        def check(problems: Problems) -> None:
            if kind not in KINDS:
                problems.add(Problem("kind", _cdk.short(kind), " | ".join(f"'{k}'" for k in KINDS)))
            if not _source.check_function(problems, function, tenant_ok=kind == "http_api", scope=scope):
                return
            problems.add(_source.topic_problem(alarm_topic))
            problems.add(_keys.key_problem(encryption_key, scope=scope if kind == "http_api" else None))
            if kind == "http_api":
                limit = limits.HTTP_API_INTEGRATION_TIMEOUT_S
                if function.timeout_seconds >= limit:
                    problems.add(
                        Problem(
                            "function.timeout",
                            f"{function.timeout_seconds} s",
                            f"< {limit} s, the API Gateway HTTP API integration timeout (cannot be raised; "
                            "it includes the cold start)",
                            f"the function's {function.timeout_seconds} s timeout reaches API Gateway's {limit} s: "
                            "callers get a 503 while the function keeps running; shorten the work, make it "
                            "asynchronous, or use kind='function_url'",
                        )
                    )
                if auth_type is not None:
                    problems.add(
                        Problem("auth_type", _cdk.short(auth_type), "None for kind='http_api' (use authorizer=)")
                    )
                if invoke_mode is not None:
                    problems.add(
                        Problem(
                            "invoke_mode",
                            _cdk.short(invoke_mode),
                            "None for kind='http_api'",
                            "API Gateway buffers the whole response; response streaming needs kind='function_url'",
                        )
                    )
                problems.extend(route_problems("routes", routes))
                if cors is not None and not isinstance(cors, apigwv2.CorsPreflightOptions):
                    problems.add(Problem("cors", _cdk.short(cors), "an apigwv2.CorsPreflightOptions"))
                if authorizer is not None and not _cdk.implements(authorizer, "bind"):
                    problems.add(Problem("authorizer", _cdk.short(authorizer), "an apigwv2.IHttpRouteAuthorizer"))
            elif kind == "function_url":
                for name, value in (("authorizer", authorizer), ("cors", cors), ("encryption_key", encryption_key)):
                    if value is not None:
                        problems.add(Problem(name, _cdk.short(value), "None for kind='function_url'"))
                if tuple(routes) != (CATCH_ALL,):
                    problems.add(Problem("routes", _cdk.short(routes), "the default for kind='function_url'"))
                if auth_type is not None and not isinstance(auth_type, lambda_.FunctionUrlAuthType):
                    problems.add(Problem("auth_type", _cdk.short(auth_type), "an aws_lambda.FunctionUrlAuthType"))
                if invoke_mode is not None and not isinstance(invoke_mode, lambda_.InvokeMode):
                    problems.add(Problem("invoke_mode", _cdk.short(invoke_mode), "an aws_lambda.InvokeMode"))
                _source.once_per_function(problems, function, "function_url", "Function URL")
            problems.add(
                limits.check_int_range(
                    "throttle_rate_limit", throttle_rate_limit, limits.Range(1, 10_000, "requests/s")
                )
            )
            problems.add(
                limits.check_int_range("throttle_burst_limit", throttle_burst_limit, limits.Range(1, 5_000, "requests"))
            )
            problems.add(
                limits.check_int_range("client_error_threshold", client_error_threshold, limits.Range(1, 1_000_000))
            )
            problems.add(
                limits.check_range(
                    "latency_threshold_ms", latency_threshold_ms, limits.Range(1, function.timeout_seconds * 1000, "ms")
                )
            )

        path = _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.function = function
        self.kind = kind
        self.routes = tuple(routes)
        self.alarms: list[cloudwatch.Alarm] = []
        self.http_api: apigwv2.HttpApi | None = None
        self.function_url: lambda_.FunctionUrl | None = None
        self.access_log_group: logs.LogGroup | None = None
        if kind == "function_url":
            self.function_url = function.alias.add_function_url(
                auth_type=auth_type or lambda_.FunctionUrlAuthType.AWS_IAM, invoke_mode=invoke_mode
            )
            if invoke_mode is lambda_.InvokeMode.RESPONSE_STREAM:
                _warn_streaming_runtime(self, function)
            _source.remember(function, "function_url", path)
            self.url: str = self.function_url.url
        else:
            self.url = self._build_http_api(authorizer, cors, throttle_rate_limit, throttle_burst_limit, encryption_key)
            self.alarms = _source.api_alarms(
                self,
                function,
                self.http_api,
                client_errors=client_error_threshold,
                latency_ms=latency_threshold_ms,
                topic=_source.alarm_topic(function, alarm_topic),
            )
        _source.warn_invocation(self, function, Invocation.SYNC, "HTTP")

    def _build_http_api(
        self,
        authorizer: apigwv2.IHttpRouteAuthorizer | None,
        cors: apigwv2.CorsPreflightOptions | None,
        rate: int,
        burst: int,
        key: kms.IKey | None = None,
    ) -> str:
        integration = integrations.HttpLambdaIntegration("LiveAlias", self.function.alias)
        catch_all = self.routes == (CATCH_ALL,)
        api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description=f"HTTP API for {self.function.node.path} (live alias)",
            default_integration=integration if catch_all else None,
            default_authorizer=authorizer or authorizers.HttpIamAuthorizer(),
            cors_preflight=cors,
        )
        for route in () if catch_all else self.routes:
            method, _, route_path = route.partition(" ")
            api.add_routes(path=route_path, methods=[apigwv2.HttpMethod(method)], integration=integration)
        # aws-cdk-lib puts the integration under the first route: its logical id is the API's and the alias's
        _logical_ids.pin_integrations(api, {"LiveAlias": "LiveAliasIntegration"})
        self.access_log_group = _keys.log_group(
            self, "AccessLogs", retention=DEFAULT_LOG_RETENTION, key=_keys.key_for(self, key)
        )
        stage = typing.cast(apigwv2.CfnStage, api.default_stage.node.default_child)  # type: ignore[union-attr]
        stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_log_group.log_group_arn, format=_ACCESS_LOG_FORMAT
        )
        stage.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
            throttling_rate_limit=rate, throttling_burst_limit=burst
        )
        self.http_api = api
        return api.api_endpoint


def _warn_streaming_runtime(scope: Construct, function: FunctionTarget) -> None:
    """Response streaming is native on the Node.js managed runtimes only (AWS Lambda developer guide,
    "Response streaming for Lambda functions"); elsewhere the handler needs a custom runtime or an adapter."""
    from aws_cdk import Annotations

    runtime = getattr(getattr(function, "function", None), "runtime", None)
    name = getattr(runtime, "name", "")
    if name and not name.startswith("nodejs"):
        Annotations.of(scope).add_warning_v2(
            "lambda-constructs:response-stream-runtime",
            f"invoke_mode=RESPONSE_STREAM on {name}: Lambda streams responses natively on the Node.js runtimes only; "
            "on this runtime the handler needs a custom runtime or the Lambda Web Adapter, or callers get a buffered "
            "or failed response.",
        )
