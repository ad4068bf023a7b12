"""WorkflowTask: a Step Functions ``LambdaInvoke`` task on the function's ``live`` alias, with service retries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from lambda_constructs import _cdk, _relations
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import ConfigurationError, Problem, Problems
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget

# "Handle Lambda service exceptions" (AWS Step Functions developer guide,
# https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html): transient Lambda
# service errors to retry, and TooManyRequestsException, the error when Lambda throttles the invoke.
SERVICE_ERRORS = (
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
DEFAULT_INTERVAL = Duration.seconds(2)  # the guide's example: 2 s, 6 attempts, backoff 2
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_BACKOFF_RATE = 2.0
EXPRESS_MAX_S = 300  # an Express workflow runs at most 5 minutes


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
            for name, value in (("result_path", result_path), ("output_path", output_path)):
                if value is not None and not (isinstance(value, str) and value.startswith("$")):
                    problems.add(Problem(name, _cdk.short(value), "a JSONPath starting with $"))
            if result_selector is not None and not isinstance(result_selector, Mapping):
                problems.add(Problem("result_selector", _cdk.short(result_selector), "a mapping"))
            for name, flag in (("payload_response_only", payload_response_only), ("express", express)):
                if not isinstance(flag, bool):
                    problems.add(Problem(name, _cdk.short(flag), "True or False"))
            problems.add(_cdk.duration_range_problem("interval", interval, 1, 3600))
            problems.add(limits.check_int_range("max_attempts", max_attempts, limits.Range(1, 20)))
            problems.add(limits.check_range("backoff_rate", backoff_rate, limits.Range(1, 10)))
            if express is True and function.timeout_seconds >= EXPRESS_MAX_S:
                problems.add(
                    Problem(
                        "function.timeout",
                        f"{function.timeout_seconds} s",
                        f"< {EXPRESS_MAX_S} s in an Express workflow",
                        "an Express workflow stops after 5 minutes; use a Standard workflow for longer steps",
                    )
                )
            if state_name is not None and not (isinstance(state_name, str) and 1 <= len(state_name) <= 80):
                problems.add(Problem("state_name", _cdk.short(state_name), "1..80 characters"))

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.function = function
        self.task = tasks.LambdaInvoke(
            self,
            "Task",
            state_name=state_name or id,
            lambda_function=function.alias,
            payload=payload,
            payload_response_only=payload_response_only,
            retry_on_service_exceptions=False,
            result_path=result_path,
            result_selector=result_selector,
            output_path=output_path,
            task_timeout=sfn.Timeout.duration(Duration.seconds(function.timeout_seconds + 5)),
        )
        self.task.add_retry(
            errors=list(SERVICE_ERRORS),
            interval=interval,
            max_attempts=max_attempts,
            backoff_rate=backoff_rate,
            jitter_strategy=sfn.JitterType.FULL,
        )
        _source.warn_invocation(self, function, Invocation.WORKFLOW, "workflow")
        self.alarms: list[cloudwatch.Alarm] = []
        if payload_response_only:
            topic = _source.alarm_topic(function, alarm_topic)
            path = _cdk.path_of(self)

            def metric(name: str) -> cloudwatch.Metric:
                return cloudwatch.Metric(
                    namespace="AWS/States",
                    metric_name=name,
                    dimensions_map={"LambdaFunctionArn": function.alias.function_arn},
                    period=_cdk.ALARM_PERIOD,
                    statistic="Sum",
                )

            self.alarms = function.add_alarms(
                _cdk.make_alarm(
                    self,
                    "FailedAlarm",
                    metric=metric("LambdaFunctionsFailed"),
                    threshold=1,
                    topic=topic,
                    description=f"{path}: the workflow step failed after its service-error retries.",
                ),
                _cdk.make_alarm(
                    self,
                    "TimedOutAlarm",
                    metric=metric("LambdaFunctionsTimedOut"),
                    threshold=1,
                    topic=topic,
                    description=f"{path}: the workflow step timed out ({function.timeout_seconds} s function timeout).",
                ),
            )

    def watch(
        self, state_machine: sfn.IStateMachine, *, alarm_topic: sns.ITopic | None = None
    ) -> list[cloudwatch.Alarm]:
        """Alarms on the workflow this task runs in: ``ExecutionsFailed``, ``ExecutionsTimedOut`` and
        ``ExecutionThrottled`` (AWS/States, by StateMachineArn), >= 1 in 5 minutes, registered with the
        function. Call it once per state machine, on any of its tasks."""
        problems: list[Problem | None] = []
        if not _cdk.implements(state_machine, "state_machine_arn") and not hasattr(state_machine, "state_machine_arn"):
            problems.append(
                Problem("watch(state_machine)", _cdk.short(state_machine), "an aws_stepfunctions.IStateMachine")
            )
        else:
            problems.append(_relations.same_app_problem(self, state_machine, "watch(state_machine)"))
        problems.append(_source.topic_problem(alarm_topic, "watch(alarm_topic)"))
        if getattr(self, "_watched", False):
            problems.append(Problem("watch", "called twice", "one call per WorkflowTask"))
        found = [p for p in problems if p]
        if found:
            raise ConfigurationError(found, _cdk.path_of(self))
        object.__setattr__(self, "_watched", True)
        topic = _source.alarm_topic(self.function, alarm_topic)
        path = _cdk.path_of(self)
        alarms = [
            _cdk.make_alarm(
                self,
                f"Workflow{name}Alarm",
                metric=cloudwatch.Metric(
                    namespace="AWS/States",
                    metric_name=name,
                    dimensions_map={"StateMachineArn": state_machine.state_machine_arn},
                    period=_cdk.ALARM_PERIOD,
                    statistic="Sum",
                ),
                threshold=1,
                topic=topic,
                description=f"{path}: the state machine {what}.",
            )
            for name, what in (
                ("ExecutionsFailed", "had failed executions"),
                ("ExecutionsTimedOut", "had executions that timed out"),
                ("ExecutionThrottled", "was throttled (StartExecution or state transitions)"),
            )
        ]
        self.alarms.extend(self.function.add_alarms(*alarms))
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
