"""WebSocketEndpoint: an API Gateway WebSocket API whose routes invoke ProductionFunctions on ``live``."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping

from aws_cdk import CfnElement, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs._cdk import logical_ids as _logical_ids
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.function.production_function import DEFAULT_LOG_RETENTION
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget
from lambda_constructs.sources._caller import timeout_problem

DEFAULT_STAGE = "live"
CALLBACK_URL_VARIABLE = "WEBSOCKET_CALLBACK_URL"
DEFAULT_THROTTLE_RATE = 1000  # messages/s on the stage's routes; the account default is 10,000 shared
DEFAULT_THROTTLE_BURST = 500
DEFAULT_CLIENT_ERROR_THRESHOLD = 100
_ROUTE_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_STAGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"eventType":"$context.eventType","routeKey":"$context.routeKey","connectionId":"$context.connectionId",'
    '"status":"$context.status","integrationLatency":"$context.integrationLatency",'
    '"integrationError":"$context.integrationErrorMessage","error":"$context.error.message"}'
)
QUOTAS_PAGE = (
    "'Quotas for configuring and running a WebSocket in API Gateway' "
    "(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html)"
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

    def __init__(  # noqa: C901 - one flat validation closure, as ProductionFunction's
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
        route_selection_expression: str = "$request.body.action",
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

        def check(problems: Problems) -> None:  # noqa: C901 - a flat list of independent checks
            problems.add(_source.topic_problem(alarm_topic))
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            if routes is not None and not isinstance(routes, Mapping):
                problems.add(Problem("routes", _cdk.short(routes), "a mapping of route key to function"))
            if not given:
                problems.add(Problem("connect/disconnect/default/routes", "none", "at least one route with a function"))
            for key in routes or {}:
                if not isinstance(key, str) or key.startswith("$") or not _ROUTE_KEY.match(key):
                    problems.add(
                        Problem(
                            f"routes[{key!r}]",
                            _cdk.short(key),
                            "a custom route key of 1..128 characters (A-Z a-z 0-9 _ . : -), not starting with $",
                            "use connect=, disconnect= and default= for the predefined routes",
                        )
                    )
            if len(given) > limits.WEBSOCKET_ROUTES_MAX:
                problems.add(Problem("routes", f"{len(given)} routes", f"<= {limits.WEBSOCKET_ROUTES_MAX} per API"))
            for key, fn in given.items():
                prop = _prop(key)
                if not _source.check_function(problems, fn):
                    continue
                target = typing.cast(FunctionTarget, fn)
                problems.add(
                    timeout_problem(
                        f"{prop}.timeout",
                        target.timeout_seconds,
                        limits.WEBSOCKET_INTEGRATION_TIMEOUT_S,
                        "the API Gateway WebSocket integration timeout (cannot be raised)",
                        "the client's message gets an error while the function keeps running; shorten the work "
                        "or hand it to a queue and answer through the callback URL",
                    )
                )
            if not isinstance(public, bool):
                problems.add(Problem("public", _cdk.short(public), "True or False"))
            if public and authorizer is not None:
                problems.add(Problem("authorizer", _cdk.short(authorizer), "None with public=True"))
            if authorizer is not None and not _cdk.implements(authorizer, "bind"):
                problems.add(Problem("authorizer", _cdk.short(authorizer), "an apigwv2.IWebSocketRouteAuthorizer"))
            if authorizer is not None and connect is None:
                problems.add(Problem("authorizer", "set", "a connect= function (WebSocket APIs authorize on $connect)"))
            if not (isinstance(stage_name, str) and _STAGE.match(stage_name)):
                problems.add(Problem("stage_name", _cdk.short(stage_name), "1..128 characters of A-Z a-z 0-9 _ -"))
            if not (isinstance(route_selection_expression, str) and route_selection_expression.startswith("$request.")):
                problems.add(
                    Problem(
                        "route_selection_expression",
                        _cdk.short(route_selection_expression),
                        "an expression such as $request.body.action",
                    )
                )
            if not (
                isinstance(callback_url_variable, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9_]+$", callback_url_variable)
            ):
                problems.add(
                    Problem(
                        "callback_url_variable",
                        _cdk.short(callback_url_variable),
                        "a name matching [a-zA-Z][a-zA-Z0-9_]+",
                    )
                )
            for name, value, allowed in (
                ("throttle_rate_limit", throttle_rate_limit, limits.Range(1, 10_000, "requests/s")),
                ("throttle_burst_limit", throttle_burst_limit, limits.Range(1, 5_000, "requests")),
                ("client_error_threshold", client_error_threshold, limits.Range(1, 1_000_000)),
            ):
                problems.add(limits.check_int_range(name, value, allowed))

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        functions = typing.cast(dict[str, FunctionTarget], given)
        first = next(iter(functions.values()))
        made: list[tuple[FunctionTarget, integrations.WebSocketLambdaIntegration]] = []
        names: list[str] = []

        def integration(fn: FunctionTarget) -> integrations.WebSocketLambdaIntegration:
            """One integration per function, shared by its routes."""
            for known, made_integration in made:
                if known is fn:
                    return made_integration
            # named after the function, not the order of first use: adding a $connect function or reordering the
            # routes renames no integration (nor the per-route permissions aws-cdk-lib names after it)
            path = _cdk.path_of(typing.cast(Construct, fn))
            name = f"{path.rsplit('/', 1)[-1]}Integration"
            if name in names:  # two functions of the same id in different scopes: add their paths' hash
                name = f"{_logical_ids.logical_id_at(path.split('/'))}Integration"
            names.append(name)
            made.append((fn, integrations.WebSocketLambdaIntegration(name, fn.alias)))
            return made[-1][1]

        connect_auth = None if public else authorizer or authorizers.WebSocketIamAuthorizer()
        self.web_socket_api = apigwv2.WebSocketApi(
            self,
            "Api",
            description=f"WebSocket API for {first.node.path} (live aliases)",
            route_selection_expression=route_selection_expression,
            connect_route_options=(
                apigwv2.WebSocketRouteOptions(integration=integration(connect), authorizer=connect_auth)
                if connect is not None
                else None
            ),
            disconnect_route_options=(
                apigwv2.WebSocketRouteOptions(integration=integration(disconnect)) if disconnect is not None else None
            ),
            default_route_options=(
                apigwv2.WebSocketRouteOptions(integration=integration(default)) if default is not None else None
            ),
        )
        for key, fn in (routes or {}).items():
            self.web_socket_api.add_route(key, integration=integration(fn))
        # aws-cdk-lib puts each integration under the first route bound to it: pin it under the API instead
        _logical_ids.pin_integrations(self.web_socket_api, {n: n for n in names})
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.web_socket_api,
            stage_name=stage_name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle_rate_limit, burst_limit=throttle_burst_limit),
        )
        self.access_log_group = _keys.log_group(
            self, "AccessLogs", retention=DEFAULT_LOG_RETENTION, key=_keys.key_for(self, encryption_key)
        )
        cfn_stage = typing.cast(apigwv2.CfnStage, self.stage.node.default_child)
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_log_group.log_group_arn, format=_ACCESS_LOG_FORMAT
        )
        self.url: str = self.stage.url
        self.callback_url: str = self.stage.callback_url
        for fn in _distinct(functions.values()):
            lambda_fn = getattr(fn, "function", None)
            if lambda_fn is not None and hasattr(lambda_fn, "add_environment"):
                lambda_fn.add_environment(callback_url_variable, self.callback_url)
            self.stage.grant_management_api_access(fn.alias)
            self._acknowledge_grant(fn)
            _source.warn_invocation(self, fn, Invocation.SYNC, "WebSocket")
        # on each route resource (an acknowledgement on the API would cover every route, $connect included)
        for route in [c for c in self.web_socket_api.node.find_all() if isinstance(c, apigwv2.CfnRoute)]:
            if route.route_key != "$connect":
                reason = (
                    "WebSocket APIs authorize on $connect only; $connect uses IAM or the authorizer given, the other "
                    "routes run on an authorized connection."
                )
            elif public:
                reason = "public=True was passed explicitly: this API accepts unauthenticated connections by design."
            else:
                continue
            _cdk.acknowledge(route, "AwsSolutions-APIG4", reason)
        self.alarms: list[cloudwatch.Alarm] = self._alarms(first, functions, client_error_threshold, alarm_topic)

    def _acknowledge_grant(self, fn: FunctionTarget) -> None:
        """cdk-nag's IAM5 on the ``@connections/*`` grant: the connection ids are only known at run time."""
        role = getattr(fn, "role", None)
        cfn = self.web_socket_api.node.default_child
        if role is None or cfn is None:
            return
        stack = Stack.of(self)
        api_id = stack.resolve(stack.get_logical_id(typing.cast(CfnElement, cfn)))
        # cdk-nag prints a pseudo parameter as <AWS::...>, a concrete one (an explicit env) as its value
        partition, region, account = (
            f"<AWS::{name}>" if _cdk.is_token(value) else value
            for name, value in (("Partition", stack.partition), ("Region", stack.region), ("AccountId", stack.account))
        )
        _cdk.acknowledge(
            _cdk.default_policy_of(role) or role,  # the policy the grant lands in
            f"AwsSolutions-IAM5[Resource::arn:{partition}:execute-api:{region}:{account}:"
            f"<{api_id}>/{self.stage.stage_name}/*/@connections/*]",
            "execute-api:ManageConnections on this API's stage only: a handler posts to connection ids that exist "
            "only at run time, so the @connections path ends in a wildcard.",
        )

    def _alarms(
        self,
        first: FunctionTarget,
        functions: dict[str, FunctionTarget],
        client_errors: int,
        alarm_topic: sns.ITopic | None,
    ) -> list[cloudwatch.Alarm]:
        from lambda_constructs.function.production_function import DURATION_ALARM_FRACTION

        topic = _source.alarm_topic(first, alarm_topic)
        path = _cdk.path_of(self)
        period = _cdk.ALARM_PERIOD
        longest = max(fn.timeout_seconds for fn in functions.values())
        latency = longest * 1000 * DURATION_ALARM_FRACTION
        return first.add_alarms(
            _cdk.make_alarm(
                self,
                "IntegrationErrorAlarm",
                metric=self.stage.metric("IntegrationError", period=period, statistic="Sum"),
                threshold=1,
                topic=topic,
                description=f"{path}: a route function returned an error or timed out (IntegrationError).",
            ),
            _cdk.make_alarm(
                self,
                "ExecutionErrorAlarm",
                metric=self.stage.metric("ExecutionError", period=period, statistic="Sum"),
                threshold=1,
                topic=topic,
                description=f"{path}: API Gateway could not call a route's integration (ExecutionError).",
            ),
            _cdk.make_alarm(
                self,
                "ClientErrorAlarm",
                metric=self.stage.metric("ClientError", period=period, statistic="Sum"),
                threshold=client_errors,
                topic=topic,
                description=f"{path}: {client_errors} or more 4xx answers before the integration in 5 minutes "
                "(unauthorized connects, throttling, no matching route).",
            ),
            _cdk.make_alarm(
                self,
                "IntegrationLatencyAlarm",
                metric=self.stage.metric("IntegrationLatency", period=period, statistic="p99"),
                threshold=latency,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                topic=topic,
                description=f"{path}: p99 integration latency above {latency:g} ms (80% of the longest route "
                f"function timeout, {longest} s).",
            ),
        )


def _distinct(functions: typing.Iterable[FunctionTarget]) -> list[FunctionTarget]:
    found: list[FunctionTarget] = []
    for fn in functions:
        if not any(fn is known for known in found):
            found.append(fn)
    return found


def _prop(route_key: str) -> str:
    return {"$connect": "connect", "$disconnect": "disconnect", "$default": "default"}.get(
        route_key, f"routes[{route_key!r}]"
    )
