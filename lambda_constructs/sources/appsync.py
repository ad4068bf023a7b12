"""AppSyncDataSource: a Lambda data source on an AWS AppSync GraphQL API, on the function's ``live`` alias."""

from __future__ import annotations

import typing

from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import callers as plans
from lambda_constructs.core.plans.callers import AppSyncPlan
from lambda_constructs.core.plans.common import alarm_prefix
from lambda_constructs.function import _bundle
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget
from lambda_constructs.sources._caller import build_caller_alarms


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

    ``.plan`` is its ``AppSyncPlan`` (``core/plans/callers.py``): the name, the description, the alarms
    and the resource count, decided before anything is built.

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
        source_name = plans.data_source_name(id, name)

        def check(problems: Problems) -> None:
            if not _source.check_function(problems, function):
                return
            problems.add(_source.topic_problem(alarm_topic))
            if not _cdk.implements(api, "api_id"):
                problems.add(Problem("api", _cdk.short(api), "an aws_appsync.IGraphqlApi"))
            problems.extend(plans.data_source_problems(source_name, description))
            problems.add(plans.appsync_timeout_problem(function.timeout_seconds))
            if not problems:
                _stack, stack_name, stack_path = _cdk.stack_info(scope)
                request = plans.AppSyncRequest(
                    path=problems.path,
                    alarm_prefix=alarm_prefix(stack_name, stack_path, problems.path),
                    function_path=_cdk.path_of(typing.cast(Construct, function)),
                    timeout_s=function.timeout_seconds,
                    invocation=function.invocation,
                    name=typing.cast(str, source_name),
                    description=description,
                )
                planned.append(plans.plan_appsync(request))

        planned: list[AppSyncPlan] = []
        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: AppSyncPlan = planned[0]
        plan = self.plan
        self.function = function
        self.api = api
        self.data_source = appsync.LambdaDataSource(
            self,
            plan.data_source_id,
            api=api,
            lambda_function=function.alias,
            name=plan.name,
            description=plan.description,
        )
        _cdk.annotate(self, plan.notes)
        self.alarms: list[cloudwatch.Alarm] = build_caller_alarms(
            self, function, plan.alarms, plan.metrics, api.api_id, _source.alarm_topic(function, alarm_topic)
        )
        _bundle.note(self, scope, id, plan.resource_count)
