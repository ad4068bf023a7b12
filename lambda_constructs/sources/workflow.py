"""WorkflowTask: a Step Functions ``LambdaInvoke`` task on the function's ``live`` alias, with service retries."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from lambda_constructs import _cdk, _relations
from lambda_constructs.core.errors import ConfigurationError, Problem, Problems
from lambda_constructs.core.plans import callers as plans
from lambda_constructs.core.plans.callers import (
    DEFAULT_BACKOFF_RATE,
    DEFAULT_INTERVAL_S,
    DEFAULT_MAX_ATTEMPTS,
    EXPRESS_MAX_S,
    SERVICE_ERRORS,
    WorkflowTaskPlan,
)
from lambda_constructs.core.plans.common import alarm_prefix
from lambda_constructs.function import _bundle
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget
from lambda_constructs.sources._caller import build_caller_alarms

DEFAULT_INTERVAL = Duration.seconds(DEFAULT_INTERVAL_S)  # the guide's example: 2 s, 6 attempts, backoff 2

__all__ = [
    "DEFAULT_BACKOFF_RATE",
    "DEFAULT_INTERVAL",
    "DEFAULT_MAX_ATTEMPTS",
    "EXPRESS_MAX_S",
    "SERVICE_ERRORS",
    "WorkflowTask",
]


class WorkflowTask(Construct):
    """A Step Functions task that invokes the function's ``live`` alias, ready to chain.

    ``.task`` is an ``aws_stepfunctions_tasks.LambdaInvoke`` on ``live`` (never $LATEST, so a
    Deployment's canary and rollback apply) with one retrier on the Lambda service errors the Step
    Functions guide names ("Handle Lambda service exceptions"): ClientExecutionTimeoutException,
    ServiceException, AWSLambdaException, SdkClientException, and TooManyRequestsException (Lambda
    throttled the invoke), every ``interval`` (2 s) for ``max_attempts`` (6) with ``backoff_rate`` 2 and full
    jitter. aws-cdk-lib's own default retrier (``retry_on_service_exceptions``) lacks the throttling error,
    so it is replaced, not doubled. Errors the function raises itself (``Lambda.Unknown``, your own error
    names) are the workflow's to retry or catch: ``task.add_retry(...)`` / ``task.add_catch(...)``.

    The payload is the function's answer (``payload_response_only=True``, no invocation metadata), the
    task times out a few seconds after the function would (``timeout + 5 s``), and the function is
    declared ``Invocation.WORKFLOW`` (no provisioned concurrency for a step that waits on nobody).
    With ``payload_response_only`` the state's resource is the alias ARN itself, so Step Functions
    reports it by ``LambdaFunctionArn`` (AWS/States): ``LambdaFunctionsFailed`` and
    ``LambdaFunctionsTimedOut`` alarm (>= 1 in 5 minutes), after the retries above are spent.

    ``task.watch(state_machine)`` adds the workflow's own alarms (failed, timed-out and throttled
    executions): call it once per state machine, on one of its tasks.

    ``.plan`` is its ``WorkflowTaskPlan`` (``core/plans/callers.py``): the retrier, the task timeout, the
    alarms (``watch``'s too) and the resource count, decided before anything is built.

    Args:
        function: a ProductionFunction, normally ``Invocation.WORKFLOW``.
        payload: ``sfn.TaskInput``; default the state input.
        result_path: as ``LambdaInvoke`` takes it.
        result_selector: as ``LambdaInvoke`` takes it.
        output_path: as ``LambdaInvoke`` takes it.
        payload_response_only: default True.
        interval: the service-error retrier's first wait, 1..3600 s; default 2 s.
        max_attempts: its attempts, 1..20; default 6.
        backoff_rate: its backoff, 1..10; default 2.
        express: the task runs in an Express workflow (5 minutes at most): a function timeout of
            300 s or more is refused.
        state_name: default the construct id.
        alarm_topic: default the function's topic.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        payload: sfn.TaskInput | None = None,
        result_path: str | None = None,
        result_selector: Mapping[str, Any] | None = None,
        output_path: str | None = None,
        payload_response_only: bool = True,
        interval: Duration = DEFAULT_INTERVAL,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_rate: float = DEFAULT_BACKOFF_RATE,
        express: bool = False,
        state_name: str | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        def check(problems: Problems) -> None:
            if not _source.check_function(problems, function):
                return
            problems.add(_source.topic_problem(alarm_topic))
            if payload is not None and not isinstance(payload, sfn.TaskInput):
                problems.add(Problem("payload", _cdk.short(payload), "an aws_stepfunctions.TaskInput"))
            problems.extend(
                plans.task_shape_problems(result_path, output_path, result_selector, payload_response_only, express)
            )
            problems.add(_cdk.duration_range_problem("interval", interval, *plans.INTERVAL_RANGE_S))
            problems.extend(
                plans.task_limit_problems(max_attempts, backoff_rate, express, function.timeout_seconds, state_name)
            )
            if not problems:
                _stack, stack_name, stack_path = _cdk.stack_info(scope)
                request = plans.WorkflowTaskRequest(
                    path=problems.path,
                    alarm_prefix=alarm_prefix(stack_name, stack_path, problems.path),
                    function_path=_cdk.path_of(typing.cast(Construct, function)),
                    timeout_s=function.timeout_seconds,
                    invocation=function.invocation,
                    state_name=state_name or id,
                    payload_response_only=payload_response_only,
                    interval_s=_source.seconds_or_none(interval),
                    max_attempts=max_attempts,
                    backoff_rate=backoff_rate,
                    express=express,
                )
                planned.append(plans.plan_workflow_task(request))

        planned: list[WorkflowTaskPlan] = []
        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: WorkflowTaskPlan = planned[0]
        plan = self.plan
        self.function = function
        self.task = tasks.LambdaInvoke(
            self,
            plan.task_id,
            state_name=plan.state_name,
            lambda_function=function.alias,
            payload=payload,
            payload_response_only=plan.payload_response_only,
            retry_on_service_exceptions=plan.retry_on_service_exceptions,
            result_path=result_path,
            result_selector=result_selector,
            output_path=output_path,
            task_timeout=sfn.Timeout.duration(Duration.seconds(plan.task_timeout_s)),
        )
        self.task.add_retry(
            errors=list(plan.retry.errors),
            interval=interval,  # the Duration given: plan.retry.interval_s unless a deploy-time token
            max_attempts=plan.retry.max_attempts,
            backoff_rate=plan.retry.backoff_rate,
            jitter_strategy=sfn.JitterType[plan.retry.jitter],
        )
        _cdk.annotate(self, plan.notes)
        self.alarms: list[cloudwatch.Alarm] = build_caller_alarms(
            self,
            function,
            plan.alarms,
            plan.metrics,
            function.alias.function_arn,
            _source.alarm_topic(function, alarm_topic),
        )
        _bundle.note(self, scope, id, plan.resource_count)

    def watch(
        self, state_machine: sfn.IStateMachine, *, alarm_topic: sns.ITopic | None = None
    ) -> list[cloudwatch.Alarm]:
        """Alarms on the workflow this task runs in: ``ExecutionsFailed``, ``ExecutionsTimedOut`` and
        ``ExecutionThrottled`` (AWS/States, by StateMachineArn), >= 1 in 5 minutes, registered with the
        function (``plan.watch_alarms``). Call it once per state machine, on any of its tasks."""
        problems: list[Problem | None] = []
        if not _cdk.implements(state_machine, "state_machine_arn") and not hasattr(state_machine, "state_machine_arn"):
            problems.append(
                Problem("watch(state_machine)", _cdk.short(state_machine), "an aws_stepfunctions.IStateMachine")
            )
        else:
            problems.append(_relations.same_app_problem(self, state_machine, "watch(state_machine)"))
        problems.append(_source.topic_problem(alarm_topic, "watch(alarm_topic)"))
        problems.append(plans.watch_problem(getattr(self, "_watched", False)))
        found = [p for p in problems if p]
        if found:
            raise ConfigurationError(found, _cdk.path_of(self))
        object.__setattr__(self, "_watched", True)
        alarms = build_caller_alarms(
            self,
            self.function,
            self.plan.watch_alarms,
            self.plan.watch_metrics,
            state_machine.state_machine_arn,
            _source.alarm_topic(self.function, alarm_topic),
        )
        self.alarms.extend(alarms)
        _bundle.unknown(self)  # adds the watch alarms to what its plan counted
        return alarms

    def next(self, next_state: sfn.IChainable) -> sfn.Chain:
        """``workflow_task.next(other)``: the same as ``workflow_task.task.next(other)``."""
        if not _cdk.implements(next_state, "start_state"):
            raise ConfigurationError(
                [
                    Problem(
                        "next(next_state)", _cdk.short(next_state), "an aws_stepfunctions.IChainable (a state, a chain)"
                    )
                ],
                _cdk.path_of(self),
            )
        problem = _relations.same_app_problem(self, next_state, "next(next_state)")
        if problem:
            raise ConfigurationError([problem], _cdk.path_of(self))
        return self.task.next(next_state)
