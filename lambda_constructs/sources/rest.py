"""RestEndpoint: an API Gateway REST API with Lambda proxy integration to the ``live`` alias."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations, Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans.endpoint import (
    DEFAULT_CLIENT_ERROR_THRESHOLD,
    DEFAULT_THROTTLE_BURST,
    DEFAULT_THROTTLE_RATE,
    route_problems,
)
from lambda_constructs.function.production_function import DEFAULT_LOG_RETENTION
from lambda_constructs.sources import _base
from lambda_constructs.sources._base import FunctionTarget

DEFAULT_INTEGRATION_TIMEOUT = Duration.seconds(limits.REST_API_INTEGRATION_TIMEOUT_S)
INTEGRATION_TIMEOUT_MIN_MS = 50
REST_METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


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
        timeout_ms: list[float] = []

        def check(problems: Problems) -> None:
            if not _base.check_function(problems, function, tenant_ok=True, scope=scope):
                return
            problems.add(_base.topic_problem(alarm_topic))
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            problems.extend(
                route_problems("routes", routes, [m for m in REST_METHODS if m != "OPTIONS" or cors is None])
            )
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
            timeout_ms.append(ms)
            raisable = endpoint_type is not apigateway.EndpointType.EDGE
            high = (
                limits.REST_API_INTEGRATION_TIMEOUT_MAX_S * 1000
                if raisable
                else limits.REST_API_INTEGRATION_TIMEOUT_S * 1000
            )
            problems.add(
                limits.check_range(
                    "integration_timeout",
                    ms,
                    limits.Range(INTEGRATION_TIMEOUT_MIN_MS, high, "ms"),
                    "above 29 s needs a REGIONAL or PRIVATE endpoint and a quota increase" if not raisable else "",
                )
            )
            if function.timeout_seconds * 1000 >= ms:
                problems.add(
                    Problem(
                        "function.timeout",
                        f"{function.timeout_seconds} s",
                        f"< the integration timeout ({ms / 1000:g} s)",
                        "API Gateway returns 504 when the integration times out while the function keeps running; "
                        "shorten the function timeout or raise integration_timeout (REGIONAL/PRIVATE, with a quota "
                        "increase)",
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
        self.function = function
        self.routes = tuple(routes)
        self.access_log_group = _keys.log_group(
            self, "AccessLogs", retention=DEFAULT_LOG_RETENTION, key=_keys.key_for(self, encryption_key)
        )
        auth = authorization_type or (
            (_authorizer_type(authorizer) or apigateway.AuthorizationType.CUSTOM)
            if authorizer is not None
            else apigateway.AuthorizationType.IAM
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            description=f"REST API for {function.node.path} (live alias)",
            endpoint_types=[endpoint_type],
            cloud_watch_role=False,  # an account-wide setting: see docs/rest-endpoint.md
            default_cors_preflight_options=cors,
            default_method_options=apigateway.MethodOptions(authorization_type=auth, authorizer=authorizer),
            deploy_options=apigateway.StageOptions(
                access_log_destination=apigateway.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                tracing_enabled=True,
                logging_level=execution_logging,
                throttling_rate_limit=throttle_rate_limit,
                throttling_burst_limit=throttle_burst_limit,
            ),
        )
        # both on (AwsSolutions-APIG2): parameters a method requires must be present, and a body is checked
        # against the method's model for its content type; with no model (Lambda proxy) no body validation is
        # performed ("Request validation for REST APIs in API Gateway", API Gateway developer guide)
        validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_parameters=True, validate_request_body=True
        )
        integration = apigateway.LambdaIntegration(function.alias, proxy=True, timeout=integration_timeout)
        for route in self.routes:
            method, _, route_path = route.partition(" ")
            resource = self.rest_api.root.resource_for_path(route_path) if route_path != "/" else self.rest_api.root
            resource.add_method(method, integration, request_validator=validator)
        if timeout_ms and timeout_ms[0] > limits.REST_API_INTEGRATION_TIMEOUT_S * 1000:
            Annotations.of(self).add_warning_v2(
                "lambda-constructs:rest-integration-timeout-quota",
                f"integration_timeout={timeout_ms[0] / 1000:g} s is above 29 s: request the Service Quotas increase "
                "'Maximum integration timeout in milliseconds' (API Gateway) for this account and region first, "
                "or the deploy fails; latency-sensitive callers still wait that long.",
            )
        self._acknowledge(execution_logging)
        _base.warn_invocation(self, function, Invocation.SYNC, "REST")
        self.url: str = self.rest_api.url
        self.alarms: list[cloudwatch.Alarm] = _base.api_alarms(
            self,
            function,
            self.rest_api,
            client_errors=client_error_threshold,
            latency_ms=None,
            topic=_base.alarm_topic(function, alarm_topic),
        )

    def _acknowledge(self, execution_logging: apigateway.MethodLoggingLevel | None) -> None:
        """The cdk-nag findings the construct cannot fix, each acknowledged on the resources it is about.

        COG4 on every method (CORS preflights included), APIG6 and APIG3 on the stage; an acknowledgement on the
        RestApi would cover everything under it.
        """
        for cfn_method in [c for c in self.rest_api.node.find_all() if isinstance(c, apigateway.CfnMethod)]:
            _cdk.acknowledge(
                cfn_method,
                "AwsSolutions-COG4",
                "The API authorizes with IAM (SigV4) by default or the authorizer the service passes; a Cognito "
                "user pool is one choice among several, not a requirement.",
            )
        _cdk.acknowledge_all(
            _cdk.resource_of(self.rest_api.deployment_stage),
            [
                *(
                    []
                    if execution_logging is not None
                    else [
                        (
                            "AwsSolutions-APIG6",
                            "Execution logging needs the account's API Gateway CloudWatch Logs role "
                            "(AWS::ApiGateway::Account, one per account and region), which a service stack must not "
                            "own; without it the stage fails to deploy. JSON access logs are on for every method; "
                            "pass execution_logging=MethodLoggingLevel.ERROR where the platform has set the role.",
                        )
                    ]
                ),
                (
                    "AwsSolutions-APIG3",
                    "A WAF web ACL is an organisation-level edge decision (shared ACLs, Firewall Manager); associate "
                    "one with the stage where the platform provides it.",
                ),
            ],
        )


def _authorizer_type(authorizer: object) -> apigateway.AuthorizationType | None:
    """The authorization type an authorizer needs (COGNITO for user pools, CUSTOM for Lambda authorizers)."""
    value = getattr(authorizer, "authorization_type", None)
    return value if isinstance(value, apigateway.AuthorizationType) else None
