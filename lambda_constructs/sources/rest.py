"""RestEndpoint: an API Gateway REST API with Lambda proxy integration to the ``live`` alias."""

from __future__ import annotations

import typing
from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core import limits
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import endpoint as plans
from lambda_constructs.core.plans.common import alarm_prefix
from lambda_constructs.core.plans.endpoint import (
    DEFAULT_CLIENT_ERROR_THRESHOLD,
    DEFAULT_THROTTLE_BURST,
    DEFAULT_THROTTLE_RATE,
    INTEGRATION_TIMEOUT_MIN_MS,
    REST_METHODS,
    RestPlan,
    route_problems,
)
from lambda_constructs.function import _bundle
from lambda_constructs.function.production_function import DEFAULT_LOG_RETENTION
from lambda_constructs.sources import _base
from lambda_constructs.sources._base import FunctionTarget

__all__ = ["DEFAULT_INTEGRATION_TIMEOUT", "INTEGRATION_TIMEOUT_MIN_MS", "REST_METHODS", "RestEndpoint"]

DEFAULT_INTEGRATION_TIMEOUT = Duration.seconds(limits.REST_API_INTEGRATION_TIMEOUT_S)


class RestEndpoint(Construct):
    """An API Gateway REST API in front of the function's ``live`` alias (the articles' SAM example).

    Lambda proxy integration on each route (``"POST /orders"``, ``"GET /orders/{id}"``), IAM
    authorization by default, CORS with OPTIONS preflight methods when ``cors`` is given, JSON
    access logs, X-Ray tracing, stage throttling, request validation, and alarms on 5XX, 4XX and
    p99 latency.

    The integration timeout is 50 ms..29 s by default (API Gateway quotas). Since June 2024 it can
    be raised above 29 s for REGIONAL and PRIVATE endpoints with a quota increase ("Maximum
    integration timeout"); that is allowed with a warning naming the quota, and refused for EDGE
    endpoints. The function timeout must be below the integration timeout, or callers get a 504
    while the function keeps running.

    Args:
        function: a ProductionFunction, normally ``Invocation.SYNC``.
        routes: route keys, e.g. ``("POST /orders", "GET /orders/{id}")``.
        cors: ``apigateway.CorsOptions(allow_origins=[...])``; default none.
        integration_timeout: default 29 s.
        endpoint_type: default ``EndpointType.REGIONAL``.
        authorization_type: default ``AuthorizationType.IAM``, or derived from ``authorizer``
            (``COGNITO`` for a Cognito user pools authorizer, ``CUSTOM`` for a token or request
            authorizer); ``AuthorizationType.NONE`` only explicitly.
        throttle_rate_limit: stage throttling, requests/s; default 1,000.
        throttle_burst_limit: stage throttling burst; default 500.
        client_error_threshold: 4XX per 5 minutes that alarms; default 100.
        alarm_topic: default the function's topic.
        execution_logging: stage execution logging for every method (``MethodLoggingLevel.ERROR`` or
            ``INFO``); default off, because it needs the account-level API Gateway CloudWatch Logs role
            (see docs/rest-endpoint.md). Access logs are always on.
        encryption_key: a customer-managed KMS key (``aws_kms.IKey``) for the access log group, with the
            CloudWatch Logs key-policy statement (see docs/encryption.md); default CloudWatch Logs' own
            encryption.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        routes: Sequence[str],
        cors: apigateway.CorsOptions | None = None,
        integration_timeout: Duration = DEFAULT_INTEGRATION_TIMEOUT,
        endpoint_type: apigateway.EndpointType = apigateway.EndpointType.REGIONAL,
        authorization_type: apigateway.AuthorizationType | None = None,
        authorizer: apigateway.IAuthorizer | None = None,
        throttle_rate_limit: int = DEFAULT_THROTTLE_RATE,
        throttle_burst_limit: int = DEFAULT_THROTTLE_BURST,
        client_error_threshold: int = DEFAULT_CLIENT_ERROR_THRESHOLD,
        alarm_topic: sns.ITopic | None = None,
        execution_logging: apigateway.MethodLoggingLevel | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        def check(problems: Problems) -> None:
            if not _base.check_function(problems, function, tenant_ok=True, scope=scope):
                return
            problems.add(_base.topic_problem(alarm_topic))
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            problems.extend(route_problems("routes", routes, plans.rest_methods(cors is not None)))
            if cors is not None and not isinstance(cors, apigateway.CorsOptions):
                problems.add(Problem("cors", _cdk.short(cors), "an apigateway.CorsOptions"))
            if not isinstance(endpoint_type, apigateway.EndpointType):
                problems.add(Problem("endpoint_type", _cdk.short(endpoint_type), "an apigateway.EndpointType"))
                return
            if authorization_type is not None and not isinstance(authorization_type, apigateway.AuthorizationType):
                problems.add(
                    Problem("authorization_type", _cdk.short(authorization_type), "an apigateway.AuthorizationType")
                )
            if authorizer is not None and not _cdk.implements(authorizer, "authorizer_id"):
                problems.add(Problem("authorizer", _cdk.short(authorizer), "an apigateway.IAuthorizer"))
            elif authorizer is not None and isinstance(authorization_type, apigateway.AuthorizationType):
                derived = _authorizer_type(authorizer)
                if derived is not None and authorization_type is not derived:
                    problems.add(
                        Problem(
                            "authorization_type",
                            authorization_type.name,
                            f"{derived.name} (what the authorizer is) or None",
                            "the method's authorization type must match its authorizer (API Gateway refuses "
                            "the method otherwise); leave it None and it is derived from the authorizer",
                        )
                    )
            if execution_logging is not None and not isinstance(execution_logging, apigateway.MethodLoggingLevel):
                problems.add(
                    Problem("execution_logging", _cdk.short(execution_logging), "an apigateway.MethodLoggingLevel")
                )
            problem = _cdk.duration_problem(
                "integration_timeout", integration_timeout, whole_seconds=False, concrete=True
            )
            if problem:
                problems.add(problem)
                return
            ms = integration_timeout.to_milliseconds(integral=False)
            problems.extend(plans.rest_timeout_problems(ms, endpoint_type.name, function.timeout_seconds))
            problems.extend(plans.throttle_problems(throttle_rate_limit, throttle_burst_limit, client_error_threshold))
            if not problems:
                planned.append(plans.plan_rest(_request(problems.path, ms)))

        def _request(path: str, ms: float) -> plans.RestRequest:
            _stack, stack_name, stack_path = _cdk.stack_info(scope)
            # what the authorizer needs, read only when the type is not given (one jsii round trip)
            derived = _authorizer_type(authorizer) if authorizer is not None and authorization_type is None else None
            return plans.RestRequest(
                path=path,
                alarm_prefix=alarm_prefix(stack_name, stack_path, path),
                function_path=_cdk.path_of(typing.cast(Construct, function)),
                timeout_s=function.timeout_seconds,
                invocation=function.invocation,
                routes=tuple(routes),
                integration_timeout_ms=ms,
                endpoint_type=endpoint_type.name,
                authorization_type=None if authorization_type is None else authorization_type.name,
                authorizer_type=None if derived is None else derived.name,
                authorizer=authorizer is not None,
                cors=cors is not None,
                execution_logging=None if execution_logging is None else execution_logging.name,
                throttle_rate_limit=throttle_rate_limit,
                throttle_burst_limit=throttle_burst_limit,
                client_error_threshold=client_error_threshold,
            )

        planned: list[RestPlan] = []
        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: RestPlan = planned[0]
        plan = self.plan
        self.function = function
        self.routes = tuple(routes)
        self.access_log_group = _keys.log_group(
            self, "AccessLogs", retention=DEFAULT_LOG_RETENTION, key=_keys.key_for(self, encryption_key)
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            description=plan.description,
            endpoint_types=[endpoint_type],
            cloud_watch_role=False,  # an account-wide setting: see docs/rest-endpoint.md
            default_cors_preflight_options=cors,
            default_method_options=apigateway.MethodOptions(
                authorization_type=apigateway.AuthorizationType[plan.authorization_type], authorizer=authorizer
            ),
            deploy_options=apigateway.StageOptions(
                access_log_destination=apigateway.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    **dict.fromkeys(plan.access_log_fields, True)
                ),
                tracing_enabled=plan.tracing,
                logging_level=execution_logging,
                throttling_rate_limit=plan.throttle_rate_limit,
                throttling_burst_limit=plan.throttle_burst_limit,
            ),
        )
        # both on (AwsSolutions-APIG2): parameters a method requires must be present, and a body is checked
        # against the method's model for its content type; with no model (Lambda proxy) no body validation is
        # performed ("Request validation for REST APIs in API Gateway", API Gateway developer guide)
        validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_parameters=True, validate_request_body=True
        )
        integration = apigateway.LambdaIntegration(function.alias, proxy=True, timeout=integration_timeout)
        for route in plan.routes:
            resource = self.rest_api.root.resource_for_path(route.path) if route.path != "/" else self.rest_api.root
            resource.add_method(route.method, integration, request_validator=validator)
        self._acknowledge(plan)
        _cdk.annotate(self, plan.notes)
        self.url: str = self.rest_api.url
        self.alarms: list[cloudwatch.Alarm] = _base.build_api_alarms(
            self, function, self.rest_api, plan.alarms, _base.alarm_topic(function, alarm_topic)
        )
        _bundle.note(self, scope, id, plan.resource_count)

    def _acknowledge(self, plan: RestPlan) -> None:
        """The cdk-nag findings the construct cannot fix, each acknowledged on the resources it is about.

        COG4 on every method (CORS preflights included), APIG6 and APIG3 on the stage; an acknowledgement on the
        RestApi would cover everything under it.
        """
        for cfn_method in [c for c in self.rest_api.node.find_all() if isinstance(c, apigateway.CfnMethod)]:
            for rule, reason in plan.method_acknowledgements:
                _cdk.acknowledge(cfn_method, rule, reason)
        _cdk.acknowledge_all(_cdk.resource_of(self.rest_api.deployment_stage), list(plan.stage_acknowledgements))


def _authorizer_type(authorizer: object) -> apigateway.AuthorizationType | None:
    """The authorization type an authorizer needs (COGNITO for user pools, CUSTOM for Lambda authorizers)."""
    value = getattr(authorizer, "authorization_type", None)
    return value if isinstance(value, apigateway.AuthorizationType) else None
