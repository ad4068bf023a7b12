"""HttpEndpoint: an API Gateway HTTP API or a Function URL in front of a ProductionFunction."""

from __future__ import annotations

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
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import endpoint as plans
from lambda_constructs.core.plans.common import alarm_prefix
from lambda_constructs.core.plans.endpoint import (
    CATCH_ALL,
    DEFAULT_CLIENT_ERROR_THRESHOLD,
    DEFAULT_THROTTLE_BURST,
    DEFAULT_THROTTLE_RATE,
    KINDS,
    METHODS,
    AuthorizerKind,
    HttpPlan,
    route_problems,
)
from lambda_constructs.function import _bundle
from lambda_constructs.function.production_function import DEFAULT_LOG_RETENTION
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget

__all__ = [
    "CATCH_ALL",
    "DEFAULT_CLIENT_ERROR_THRESHOLD",
    "DEFAULT_THROTTLE_BURST",
    "DEFAULT_THROTTLE_RATE",
    "KINDS",
    "METHODS",
    "HttpEndpoint",
    "route_problems",
]

# what each aws-cdk-lib HTTP API authorizer is (the plan knows which of them create a resource under the API)
_AUTHORIZERS: tuple[tuple[type, AuthorizerKind], ...] = (
    (authorizers.HttpIamAuthorizer, "iam"),
    (apigwv2.HttpNoneAuthorizer, "none"),
    (authorizers.HttpJwtAuthorizer, "jwt"),
    (authorizers.HttpUserPoolAuthorizer, "user_pool"),
    (authorizers.HttpLambdaAuthorizer, "lambda"),
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
        routes: route keys, e.g. ``("POST /orders", "GET /orders/{id}")``; default ``("$default",)``, the
            catch-all. ``"$default"`` beside other routes answers whatever they do not match.
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
            problems.add(plans.kind_problem(kind))
            if not _source.check_function(problems, function, tenant_ok=kind == "http_api", scope=scope):
                return
            problems.add(_source.topic_problem(alarm_topic))
            problems.add(_keys.key_problem(encryption_key, scope=scope if kind == "http_api" else None))
            if kind == "http_api":
                problems.add(plans.http_timeout_problem(function.timeout_seconds))
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
            problems.extend(plans.throttle_problems(throttle_rate_limit, throttle_burst_limit, client_error_threshold))
            problems.add(plans.latency_problem(latency_threshold_ms, function.timeout_seconds))
            if not problems:
                planned.append(plans.plan_http(_request(problems.path)))

        def _request(path: str) -> plans.HttpRequest:
            stack_name, stack_path = _cdk.stack_info(scope)[1:] if kind == "http_api" else ("", "")  # alarm names
            streaming = invoke_mode is lambda_.InvokeMode.RESPONSE_STREAM
            return plans.HttpRequest(
                path=path,
                stack_path=stack_path,
                alarm_prefix=alarm_prefix(stack_name, stack_path, path),
                function_path=_cdk.path_of(typing.cast(Construct, function)),
                timeout_s=function.timeout_seconds,
                invocation=function.invocation,
                kind=kind,
                routes=tuple(routes),
                authorizer=None if authorizer is None else _authorizer_kind(authorizer),
                auth_type=None if auth_type is None else auth_type.name,
                invoke_mode=None if invoke_mode is None else invoke_mode.name,
                runtime=_runtime_name(function) if streaming else "",
                cors=cors is not None,
                throttle_rate_limit=throttle_rate_limit,
                throttle_burst_limit=throttle_burst_limit,
                client_error_threshold=client_error_threshold,
                latency_threshold_ms=latency_threshold_ms,
            )

        planned: list[HttpPlan] = []
        path = _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: HttpPlan = planned[0]
        self.function = function
        self.kind = kind
        self.routes = tuple(routes)
        self.alarms: list[cloudwatch.Alarm] = []
        self.http_api: apigwv2.HttpApi | None = None
        self.function_url: lambda_.FunctionUrl | None = None
        self.access_log_group: logs.LogGroup | None = None
        if self.plan.kind == "function_url":
            self.function_url = function.alias.add_function_url(
                auth_type=auth_type or lambda_.FunctionUrlAuthType.AWS_IAM, invoke_mode=invoke_mode
            )
            _bundle.unknown(function)  # the URL is made under the function's alias, which its plan did not count
            _source.remember(function, "function_url", path)
            self.url: str = self.function_url.url
        else:
            self.url = self._build_http_api(self.plan, authorizer, cors, encryption_key)
            self.alarms = _source.build_api_alarms(
                self, function, self.http_api, self.plan.alarms, _source.alarm_topic(function, alarm_topic)
            )
        _cdk.annotate(self, self.plan.notes)
        _bundle.note(self, scope, id, self.plan.resource_count)

    def _build_http_api(
        self,
        plan: HttpPlan,
        authorizer: apigwv2.IHttpRouteAuthorizer | None,
        cors: apigwv2.CorsPreflightOptions | None,
        key: kms.IKey | None = None,
    ) -> str:
        assert plan.integration is not None
        integration = integrations.HttpLambdaIntegration(plan.integration.id, self.function.alias)
        api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description=plan.description,
            default_integration=integration if plan.catch_all else None,
            default_authorizer=authorizer or authorizers.HttpIamAuthorizer(),
            cors_preflight=cors,
        )
        for route in plan.routes:
            api.add_routes(path=route.path, methods=[apigwv2.HttpMethod(route.method)], integration=integration)
        # aws-cdk-lib puts the integration under the first route: its logical id is the API's and the alias's
        _logical_ids.pin_integrations(api, {plan.integration.id: plan.integration.name})
        self.access_log_group = _keys.log_group(
            self, "AccessLogs", retention=DEFAULT_LOG_RETENTION, key=_keys.key_for(self, key)
        )
        stage = typing.cast(apigwv2.CfnStage, api.default_stage.node.default_child)  # type: ignore[union-attr]
        stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_log_group.log_group_arn, format=plan.access_log_format
        )
        stage.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
            throttling_rate_limit=plan.throttle_rate_limit, throttling_burst_limit=plan.throttle_burst_limit
        )
        self.http_api = api
        return api.api_endpoint


def _authorizer_kind(authorizer: object) -> AuthorizerKind:
    """What an HTTP API authorizer is, from its Python class (no jsii round trip)."""
    return next((kind for cls, kind in _AUTHORIZERS if isinstance(authorizer, cls)), "other")


def _runtime_name(function: FunctionTarget) -> str:
    runtime = getattr(getattr(function, "function", None), "runtime", None)
    return str(getattr(runtime, "name", "") or "")
