"""AppSyncDataSource: a Lambda data source on an AWS AppSync GraphQL API, on the function's ``live`` alias."""

from __future__ import annotations

import re

from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget
from lambda_constructs.sources._caller import timeout_problem

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,64}$")


class AppSyncDataSource(Construct):
    """A Lambda data source on an AppSync GraphQL API, invoking the function's ``live`` alias.

    AppSync runs a query, mutation or subscription for at most 30 s ("AWS AppSync endpoints and
    quotas", request execution time; not adjustable), so a function timeout of 30 s or more is
    refused: the client would get an error while the function keeps running. ``.data_source`` is
    the ``appsync.LambdaDataSource`` to attach resolvers to
    (``data_source.create_resolver("GetOrder", type_name="Query", field_name="order")``); its service
    role may invoke this alias only.

    Alarms: the API's ``5XXError`` (>= 1 in 5 minutes) and p99 ``Latency`` above 80 % of the
    function timeout (AWS/AppSync, by GraphQLAPIId). Errors a resolver maps into the GraphQL
    ``errors`` field are answered with 200: the function's own Errors alarm sees those.

    Args:
        function: a ProductionFunction, normally ``Invocation.SYNC``.
        api: the ``appsync.IGraphqlApi``.
        name: the data source name (``[_A-Za-z][_0-9A-Za-z]*``); default the construct id without
            other characters.
        description: default names the function.
        alarm_topic: default the function's topic.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        api: appsync.IGraphqlApi,
        name: str | None = None,
        description: str | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        source_name = name
        if source_name is None:
            source_name = re.sub(r"[^_0-9A-Za-z]", "", str(id)) or "LambdaDataSource"
            source_name = f"_{source_name}" if source_name[0].isdigit() else source_name

        def check(problems: Problems) -> None:
            if not _source.check_function(problems, function):
                return
            problems.add(_source.topic_problem(alarm_topic))
            if not _cdk.implements(api, "api_id"):
                problems.add(Problem("api", _cdk.short(api), "an aws_appsync.IGraphqlApi"))
            if not (isinstance(source_name, str) and _NAME.match(source_name)):
                problems.add(
                    Problem("name", _cdk.short(source_name), "1..65 characters matching [_A-Za-z][_0-9A-Za-z]*")
                )
            if description is not None and not (isinstance(description, str) and len(description) <= 256):
                problems.add(Problem("description", _cdk.short(description), "a string of at most 256 characters"))
            problems.add(
                timeout_problem(
                    "function.timeout",
                    function.timeout_seconds,
                    limits.APPSYNC_REQUEST_TIMEOUT_S,
                    "AWS AppSync's request execution time (not adjustable)",
                    "the GraphQL client gets an error while the function keeps running; shorten the work or start "
                    "it asynchronously and return a handle",
                )
            )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.function = function
        self.api = api
        self.data_source = appsync.LambdaDataSource(
            self,
            "DataSource",
            api=api,
            lambda_function=function.alias,
            name=source_name,
            description=description or f"Lambda data source on {function.node.path} (live alias)",
        )
        _source.warn_invocation(self, function, Invocation.SYNC, "AppSync")
        from lambda_constructs.function.production_function import DURATION_ALARM_FRACTION

        topic = _source.alarm_topic(function, alarm_topic)
        path = _cdk.path_of(self)
        latency = function.timeout_seconds * 1000 * DURATION_ALARM_FRACTION

        def metric(metric_name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/AppSync",
                metric_name=metric_name,
                dimensions_map={"GraphQLAPIId": api.api_id},
                period=_cdk.ALARM_PERIOD,
                statistic=statistic,
            )

        self.alarms: list[cloudwatch.Alarm] = function.add_alarms(
            _cdk.make_alarm(
                self,
                "ServerErrorsAlarm",
                metric=metric("5XXError", "Sum"),
                threshold=1,
                topic=topic,
                description=f"{path}: the GraphQL API answered with 5xx (a data source or resolver failed).",
            ),
            _cdk.make_alarm(
                self,
                "LatencyAlarm",
                metric=metric("Latency", "p99"),
                threshold=latency,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                topic=topic,
                description=f"{path}: p99 GraphQL latency above {latency:g} ms "
                f"(80% of the {function.timeout_seconds} s function timeout).",
            ),
        )
