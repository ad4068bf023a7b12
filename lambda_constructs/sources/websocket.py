"""WebSocketEndpoint: an API Gateway WebSocket API whose routes invoke ProductionFunctions on ``live``."""

from __future__ import annotations

import typing
from collections.abc import Mapping

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs._cdk import logical_ids as _logical_ids
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import endpoint as endpoint_plans
from lambda_constructs.core.plans import websocket as plans
from lambda_constructs.core.plans.common import alarm_prefix
from lambda_constructs.core.plans.endpoint import (  # where they are defined: the API reference shows their values
    DEFAULT_CLIENT_ERROR_THRESHOLD,
    DEFAULT_THROTTLE_BURST,
    DEFAULT_THROTTLE_RATE,
)
from lambda_constructs.core.plans.websocket import (
    CALLBACK_URL_VARIABLE,
    DEFAULT_ROUTE_SELECTION_EXPRESSION,
    DEFAULT_STAGE,
    QUOTAS_PAGE,
    WebSocketAuthorizerKind,
    WebSocketPlan,
)
from lambda_constructs.function import _bundle
from lambda_constructs.function.production_function import DEFAULT_LOG_RETENTION
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget

__all__ = [
    "CALLBACK_URL_VARIABLE",
    "DEFAULT_CLIENT_ERROR_THRESHOLD",
    "DEFAULT_STAGE",
    "DEFAULT_THROTTLE_BURST",
    "DEFAULT_THROTTLE_RATE",
    "QUOTAS_PAGE",
    "WebSocketEndpoint",
]

# what each aws-cdk-lib WebSocket route authorizer is (the plan knows which of them create resources under the API)
_AUTHORIZERS: tuple[tuple[type, WebSocketAuthorizerKind], ...] = (
    (authorizers.WebSocketIamAuthorizer, "iam"),
    (apigwv2.WebSocketNoneAuthorizer, "none"),
    (authorizers.WebSocketLambdaAuthorizer, "lambda"),
)


class WebSocketEndpoint(Construct):
    """An API Gateway WebSocket API with a stage, its routes on each function's ``live`` alias.

    - ``$connect``, ``$disconnect`` and ``$default`` route to ``connect``, ``disconnect`` and
      ``default``; ``routes={"sendMessage": fn}`` adds custom routes, selected by
      ``$request.body.action`` unless ``route_selection_expression`` says otherwise.
    - ``$connect`` is authorized with IAM (SigV4) by default (WebSocket APIs authorize on connect
      only); pass ``authorizer=WebSocketLambdaAuthorizer(...)``, or ``public=True`` for an
      unauthenticated API (only when asked for explicitly).
    - Each function's timeout must stay below 29 s: API Gateway's WebSocket integration timeout, which
      cannot be raised (API Gateway WebSocket quotas). A function still running then answers nobody.
    - The stage's callback URL (``https://<api>.execute-api.<region>.amazonaws.com/<stage>``) is in every
      route function's environment as ``WEBSOCKET_CALLBACK_URL``, and each gets
      ``execute-api:ManageConnections`` on this stage's ``@connections`` only, to post to clients.
    - JSON access logs to a log group with one-month retention, stage throttling, and alarms on
      IntegrationError, ExecutionError, ClientError and p99 IntegrationLatency.

    Args:
        connect: the ``$connect`` function (optional; at least one route in all).
        disconnect: the ``$disconnect`` function.
        default: the ``$default`` function (messages no custom route matches).
        routes: custom route keys to functions, e.g. ``{"sendMessage": send_fn}``.
        authorizer: the ``$connect`` authorizer; default ``WebSocketIamAuthorizer()``.
        public: True leaves ``$connect`` unauthorized (a public chat); default False.
        stage_name: default ``"live"``.
        route_selection_expression: default ``"$request.body.action"``.
        callback_url_variable: the environment variable name; default ``WEBSOCKET_CALLBACK_URL``.
        throttle_rate_limit: stage default route throttling, requests/s; default 1,000.
        throttle_burst_limit: stage default route burst; default 500.
        client_error_threshold: ClientError per 5 minutes that alarms; default 100.
        alarm_topic: default the first function's topic.
        encryption_key: a customer-managed KMS key (``aws_kms.IKey``) for the access log group, with the
            CloudWatch Logs key-policy statement; default the key of ``default_encryption_key`` if one is
            set, else CloudWatch Logs' own encryption. See docs/encryption.md.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        connect: FunctionTarget | None = None,
        disconnect: FunctionTarget | None = None,
        default: FunctionTarget | None = None,
        routes: Mapping[str, FunctionTarget] | None = None,
        authorizer: apigwv2.IWebSocketRouteAuthorizer | None = None,
        public: bool = False,
        stage_name: str = DEFAULT_STAGE,
        route_selection_expression: str = DEFAULT_ROUTE_SELECTION_EXPRESSION,
        callback_url_variable: str = CALLBACK_URL_VARIABLE,
        throttle_rate_limit: int = DEFAULT_THROTTLE_RATE,
        throttle_burst_limit: int = DEFAULT_THROTTLE_BURST,
        client_error_threshold: int = DEFAULT_CLIENT_ERROR_THRESHOLD,
        alarm_topic: sns.ITopic | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        named: dict[str, object] = {"$connect": connect, "$disconnect": disconnect, "$default": default}
        if isinstance(routes, Mapping):
            named.update(routes)
        given = {key: fn for key, fn in named.items() if fn is not None}
        functions = typing.cast(list[FunctionTarget], _distinct(given.values()))  # each once, by first route

        def check(problems: Problems) -> None:
            problems.add(_source.topic_problem(alarm_topic))
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            problems.extend(plans.websocket_route_problems(routes, len(given)))
            for key, fn in given.items():
                if _source.check_function(problems, fn):
                    problems.add(plans.websocket_timeout_problem(key, typing.cast(FunctionTarget, fn).timeout_seconds))
            problems.extend(plans.public_problems(public, authorizer))
            if authorizer is not None and not _cdk.implements(authorizer, "bind"):
                problems.add(Problem("authorizer", _cdk.short(authorizer), "an apigwv2.IWebSocketRouteAuthorizer"))
            problems.extend(
                plans.websocket_option_problems(
                    authorizer=authorizer is not None,
                    connect=connect is not None,
                    stage_name=stage_name,
                    route_selection_expression=route_selection_expression,
                    callback_url_variable=callback_url_variable,
                )
            )
            problems.extend(
                endpoint_plans.throttle_problems(throttle_rate_limit, throttle_burst_limit, client_error_threshold)
            )
            if not problems:
                planned.append(plans.plan_websocket(_request(problems.path)))

        def _request(path: str) -> plans.WebSocketRequest:
            stack, stack_name, stack_path = _cdk.stack_info(scope)
            # cdk-nag prints a pseudo parameter as <AWS::...>, a concrete one (an explicit env) as its value
            partition, region, account = (
                f"<AWS::{name}>" if _cdk.is_token(value) else value
                for name, value in (
                    ("Partition", stack.partition),
                    ("Region", stack.region),
                    ("AccountId", stack.account),
                )
            )
            return plans.WebSocketRequest(
                path=path,
                stack_path=stack_path,
                alarm_prefix=alarm_prefix(stack_name, stack_path, path),
                functions=tuple(
                    plans.WebSocketFunction(_cdk.path_of(typing.cast(Construct, fn)), fn.timeout_seconds, fn.invocation)
                    for fn in functions
                ),
                routes=tuple((key, next(i for i, f in enumerate(functions) if f is fn)) for key, fn in given.items()),
                authorizer=None if authorizer is None else _authorizer_kind(authorizer),
                public=public,
                stage_name=stage_name,
                route_selection_expression=route_selection_expression,
                callback_url_variable=callback_url_variable,
                throttle_rate_limit=throttle_rate_limit,
                throttle_burst_limit=throttle_burst_limit,
                client_error_threshold=client_error_threshold,
                partition=partition,
                region=region,
                account=account,
            )

        planned: list[WebSocketPlan] = []
        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: WebSocketPlan = planned[0]
        plan = self.plan
        self.web_socket_api = self._build_api(plan, functions, authorizer)
        self.stage = self._build_stage(plan, encryption_key)
        self.url: str = self.stage.url
        self.callback_url: str = self.stage.callback_url
        for fn in functions:
            lambda_fn = getattr(fn, "function", None)
            if lambda_fn is not None and hasattr(lambda_fn, "add_environment"):
                lambda_fn.add_environment(plan.callback_url_variable, self.callback_url)
            self.stage.grant_management_api_access(fn.alias)
            role = getattr(fn, "role", None)
            if role is not None:  # the grant's acknowledgements, on the policy it lands in
                _cdk.acknowledge_all(_cdk.default_policy_of(role) or role, list(plan.grant_acknowledgements))
        _cdk.annotate(self, plan.notes)
        # on each route resource (an acknowledgement on the API would cover every route, $connect included)
        acknowledgements = {route.key: route.acknowledgements for route in plan.routes}
        for route in [c for c in self.web_socket_api.node.find_all() if isinstance(c, apigwv2.CfnRoute)]:
            _cdk.acknowledge_all(route, list(acknowledgements[route.route_key]))
        topic = _source.alarm_topic(functions[0], alarm_topic)
        self.alarms: list[cloudwatch.Alarm] = functions[0].add_alarms(
            *(
                _cdk.build_alarm(
                    self,
                    alarm,
                    self.stage.metric(alarm.metric, period=_cdk.ALARM_PERIOD, statistic=alarm.statistic),
                    topic,
                )
                for alarm in plan.alarms
            )
        )
        _bundle.note(self, scope, id, plan.resource_count)

    def _build_api(
        self,
        plan: WebSocketPlan,
        functions: list[FunctionTarget],
        authorizer: apigwv2.IWebSocketRouteAuthorizer | None,
    ) -> apigwv2.WebSocketApi:
        """The API and its routes, one integration per function (``plan.integrations``) pinned under the API."""
        made = [
            integrations.WebSocketLambdaIntegration(integration.id, fn.alias)
            for integration, fn in zip(plan.integrations, functions, strict=True)
        ]
        connect_auth = authorizer or (authorizers.WebSocketIamAuthorizer() if plan.authorizer == "iam" else None)
        predefined = {
            route.key: apigwv2.WebSocketRouteOptions(
                integration=made[route.function], authorizer=connect_auth if route.key == "$connect" else None
            )
            for route in plan.routes
            if route.key in plans.PREDEFINED_ROUTES
        }
        api = apigwv2.WebSocketApi(
            self,
            plans.API_ID,
            description=plan.description,
            route_selection_expression=plan.route_selection_expression,
            connect_route_options=predefined.get("$connect"),
            disconnect_route_options=predefined.get("$disconnect"),
            default_route_options=predefined.get("$default"),
        )
        for route in plan.routes:
            if route.key not in plans.PREDEFINED_ROUTES:
                api.add_route(route.key, integration=made[route.function])
        # aws-cdk-lib puts each integration under the first route bound to it: pin it under the API instead
        _logical_ids.pin_integrations(api, {i.id: i.name for i in plan.integrations})
        return api

    def _build_stage(self, plan: WebSocketPlan, key: kms.IKey | None) -> apigwv2.WebSocketStage:
        """The auto-deployed, throttled stage and its JSON access logs (to a log group encrypted with ``key`` or the
        default key, if any)."""
        stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.web_socket_api,
            stage_name=plan.stage_name,
            auto_deploy=plan.auto_deploy,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=plan.throttle_rate_limit, burst_limit=plan.throttle_burst_limit
            ),
        )
        self.access_log_group = _keys.log_group(
            self, "AccessLogs", retention=DEFAULT_LOG_RETENTION, key=_keys.key_for(self, key)
        )
        cfn_stage = typing.cast(apigwv2.CfnStage, stage.node.default_child)
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_log_group.log_group_arn, format=plan.access_log_format
        )
        return stage


def _authorizer_kind(authorizer: object) -> WebSocketAuthorizerKind:
    """What a WebSocket route authorizer is, from its Python class (no jsii round trip)."""
    return next((kind for cls, kind in _AUTHORIZERS if isinstance(authorizer, cls)), "other")


def _distinct(functions: typing.Iterable[object]) -> list[object]:
    found: list[object] = []
    for fn in functions:
        if not any(fn is known for known in found):
            found.append(fn)
    return found
