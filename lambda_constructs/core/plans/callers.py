"""The plans of the synchronous callers that wait on a function: AppSyncDataSource, CognitoTriggers, WorkflowTask.

Pure Python. Each caller waits a bounded time for the function's answer, so each refuses a function
timeout that reaches it (``core.limits.caller_timeout_problem``, shared with the other synchronous
callers); the other `*_problems` helpers are the pure halves of the constructs' checks (the construct
adds the problems that are questions of CDK types, in their place). `plan_appsync()`,
`plan_cognito()` and `plan_workflow_task()` make every decision of their construct: names and
descriptions, the triggers and their permissions, the task's timeout and its service-error retrier, the
alarms (ids, names, thresholds, periods; a WorkflowTask's ``watch(...)`` alarms too), the annotations
and the number of CloudFormation resources each creates under itself.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, short
from lambda_constructs.core.plans.common import DURATION_ALARM_FRACTION, AlarmPlan, Note, alarm_name
from lambda_constructs.core.plans.endpoint import invocation_note

# ------------------------------------------------------------------ what the callers share


@dataclass(frozen=True)
class CallerMetrics:
    """Where a caller's alarms read their metrics: a CloudWatch namespace and the one dimension they filter by
    (its value is the caller's resource: an API id, an alias or state machine ARN)."""

    namespace: str
    dimension: str


def _failure_alarm(prefix: str, id: str, metric: str, description: str, source: str) -> AlarmPlan:
    """A count of failures that alarms at the first one in 5 minutes."""
    return AlarmPlan(
        id=id,
        name=alarm_name(prefix, id),
        description=description,
        source=source,
        metric=metric,
        statistic="Sum",
        threshold=1,
    )


def _notes(*notes: Note | None) -> tuple[Note, ...]:
    return tuple(n for n in notes if n is not None)


# ------------------------------------------------------------------ AppSyncDataSource

# "AWS AppSync endpoints and quotas" (https://docs.aws.amazon.com/general/latest/gr/appsync.html): request
# execution time for queries, mutations and subscriptions, 30 s, not adjustable
APPSYNC_METRICS = CallerMetrics("AWS/AppSync", "GraphQLAPIId")
APPSYNC_DATA_SOURCE_ID = "DataSource"
APPSYNC_DESCRIPTION_MAX = 256
_DATA_SOURCE_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,64}$")


def data_source_name(id: str, name: str | None) -> object:
    """The data source name: the one given, else the construct id without other characters than ``[_0-9A-Za-z]``
    (``_`` first when it starts with a digit; ``LambdaDataSource`` when nothing is left)."""
    if name is not None:
        return name
    derived = re.sub(r"[^_0-9A-Za-z]", "", str(id)) or "LambdaDataSource"
    return f"_{derived}" if derived[0].isdigit() else derived


def data_source_problems(name: object, description: object) -> list[Problem]:
    """The data source's name (``[_A-Za-z][_0-9A-Za-z]*``, 1..65 characters) and description (at most 256)."""
    found = []
    if not (isinstance(name, str) and _DATA_SOURCE_NAME.match(name)):
        found.append(Problem("name", short(name), "1..65 characters matching [_A-Za-z][_0-9A-Za-z]*"))
    if description is not None and not (isinstance(description, str) and len(description) <= APPSYNC_DESCRIPTION_MAX):
        found.append(Problem("description", short(description), "a string of at most 256 characters"))
    return found


def appsync_timeout_problem(timeout_s: int) -> Problem | None:
    return limits.caller_timeout_problem(
        "function.timeout",
        timeout_s,
        limits.APPSYNC_REQUEST_TIMEOUT_S,
        "AWS AppSync's request execution time (not adjustable)",
        "the GraphQL client gets an error while the function keeps running; shorten the work or start "
        "it asynchronously and return a handle",
    )


@dataclass(frozen=True)
class AppSyncRequest:
    """The plain facts an AppSyncDataSource reads from its props (after its checks found no problem)."""

    path: str
    alarm_prefix: str
    function_path: str
    timeout_s: int
    invocation: Invocation
    name: str  # data_source_name(id, name)
    description: str | None = None


@dataclass(frozen=True)
class AppSyncPlan:
    """Every decision and derived number of one AppSyncDataSource."""

    path: str
    data_source_id: str  # the LambdaDataSource's id under the construct
    name: str
    description: str
    metrics: CallerMetrics  # AWS/AppSync, by GraphQLAPIId
    alarms: tuple[AlarmPlan, ...]  # 5XXError >= 1, p99 Latency above 80 % of the function timeout
    notes: tuple[Note, ...]
    # the data source, its service role and the role's policy (invoke the live alias), the alarms; the
    # resolvers made from it later live under the API
    resource_count: int


def plan_appsync(request: AppSyncRequest) -> AppSyncPlan:
    """The decisions of an AppSyncDataSource whose props passed its checks."""
    path, prefix = request.path, request.alarm_prefix
    latency = request.timeout_s * 1000 * DURATION_ALARM_FRACTION
    alarms = (
        _failure_alarm(
            prefix,
            "ServerErrorsAlarm",
            "5XXError",
            f"{path}: the GraphQL API answered with 5xx (a data source or resolver failed).",
            "api",
        ),
        AlarmPlan(
            id="LatencyAlarm",
            name=alarm_name(prefix, "LatencyAlarm"),
            description=f"{path}: p99 GraphQL latency above {latency:g} ms "
            f"(80% of the {request.timeout_s} s function timeout).",
            source="api",
            metric="Latency",
            statistic="p99",
            threshold=latency,
            comparison="GREATER_THAN_THRESHOLD",
        ),
    )
    return AppSyncPlan(
        path=path,
        data_source_id=APPSYNC_DATA_SOURCE_ID,
        name=request.name,
        description=request.description or f"Lambda data source on {request.function_path} (live alias)",
        metrics=APPSYNC_METRICS,
        alarms=alarms,
        notes=_notes(invocation_note(request.function_path, request.invocation, "AppSync")),
        resource_count=3 + len(alarms),
    )


# ------------------------------------------------------------------ CognitoTriggers

TRIGGERS_PAGE = (
    "'Customizing user pool workflows with Lambda triggers' "
    "(https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html)"
)
# UserPoolOperation name -> the key it sets in the user pool's lambdaConfig (as aws-cdk-lib spells it: the
# template's LambdaConfig capitalizes it)
COGNITO_OPERATIONS: Mapping[str, str] = {
    "createAuthChallenge": "createAuthChallenge",
    "customEmailSender": "customEmailSender",
    "customMessage": "customMessage",
    "customSmsSender": "customSmsSender",
    "defineAuthChallenge": "defineAuthChallenge",
    "postAuthentication": "postAuthentication",
    "postConfirmation": "postConfirmation",
    "preAuthentication": "preAuthentication",
    "preSignUp": "preSignUp",
    "preTokenGeneration": "preTokenGeneration",
    "preTokenGenerationConfig": "preTokenGenerationConfig",
    "userMigration": "userMigration",
    "verifyAuthChallengeResponse": "verifyAuthChallengeResponse",
}


def taken_operation_problem(prop: str, operation: str, existing: Collection[str]) -> Problem | None:
    """A user pool has one function per operation: refuse one whose LambdaConfig key is ``existing`` already."""
    if COGNITO_OPERATIONS[operation] not in existing:
        return None
    return Problem(prop, operation, "an operation without a trigger (a user pool has one function per operation)")


def cognito_timeout_problem(prop: str, timeout_s: int) -> Problem | None:
    """Cognito waits 5 s for a trigger, retries, then fails the sign-up or sign-in; the 5 s cannot be changed
    (TRIGGERS_PAGE)."""
    return limits.caller_timeout_problem(
        prop,
        timeout_s,
        limits.COGNITO_TRIGGER_TIMEOUT_S,
        "Amazon Cognito's trigger timeout (cannot be changed)",
        "Cognito retries while the first run still works, then fails the sign-up or sign-in; "
        "keep the trigger short, move slow work to a queue",
    )


@dataclass(frozen=True)
class CognitoTrigger:
    """One trigger as the construct reads it: the operation's name and its function."""

    operation: str  # a COGNITO_OPERATIONS name
    function_path: str
    invocation: Invocation


@dataclass(frozen=True)
class TriggerPlan:
    operation: str
    config_key: str  # the key in the user pool's lambdaConfig (LambdaConfig.PreSignUp for preSignUp)
    function_path: str
    # aws-cdk-lib's id of Lambda's permission for cognito-idp.amazonaws.com (SourceArn: the pool), made under
    # the user pool
    permission_id: str


@dataclass(frozen=True)
class CognitoPlan:
    """Every decision and derived number of one CognitoTriggers."""

    path: str
    triggers: tuple[TriggerPlan, ...]
    notes: tuple[Note, ...]  # a trigger function not declared WORKFLOW
    # the triggers are part of the user pool's definition and aws-cdk-lib makes each permission under the
    # pool: the construct holds none
    resource_count: int


def plan_cognito(path: str, triggers: tuple[CognitoTrigger, ...]) -> CognitoPlan:
    """The decisions of a CognitoTriggers whose props passed its checks."""
    return CognitoPlan(
        path=path,
        triggers=tuple(
            TriggerPlan(
                t.operation,
                COGNITO_OPERATIONS[t.operation],
                t.function_path,
                f"{t.operation[:1].upper()}{t.operation[1:]}Cognito",
            )
            for t in triggers
        ),
        notes=_notes(
            *(invocation_note(t.function_path, t.invocation, "Cognito trigger", Invocation.WORKFLOW) for t in triggers)
        ),
        resource_count=0,
    )


# ------------------------------------------------------------------ WorkflowTask

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
DEFAULT_INTERVAL_S = 2  # the guide's example: 2 s, 6 attempts, backoff 2
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_BACKOFF_RATE = 2.0
INTERVAL_RANGE_S = (1, 3600)
MAX_ATTEMPTS_RANGE = limits.Range(1, 20)
BACKOFF_RATE_RANGE = limits.Range(1, 10)
# an Express workflow runs at most 5 minutes ("Choosing workflow type in Step Functions", AWS Step Functions
# developer guide, https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html)
EXPRESS_MAX_S = 300
TASK_TIMEOUT_MARGIN_S = 5  # the task times out a few seconds after the function would
STATE_NAME_MAX = 80
WORKFLOW_TASK_ID = "Task"
STEP_METRICS = CallerMetrics("AWS/States", "LambdaFunctionArn")  # with payload_response_only: the alias ARN
WORKFLOW_METRICS = CallerMetrics("AWS/States", "StateMachineArn")
WATCH_ALARMS = (  # (metric, what the state machine did)
    ("ExecutionsFailed", "had failed executions"),
    ("ExecutionsTimedOut", "had executions that timed out"),
    ("ExecutionThrottled", "was throttled (StartExecution or state transitions)"),
)


def task_shape_problems(
    result_path: object, output_path: object, result_selector: object, payload_response_only: object, express: object
) -> list[Problem]:
    """The task's JSONPaths (starting with ``$``), its result selector (a mapping) and its two flags."""
    found = [
        Problem(name, short(value), "a JSONPath starting with $")
        for name, value in (("result_path", result_path), ("output_path", output_path))
        if value is not None and not (isinstance(value, str) and value.startswith("$"))
    ]
    if result_selector is not None and not isinstance(result_selector, Mapping):
        found.append(Problem("result_selector", short(result_selector), "a mapping"))
    found.extend(
        Problem(name, short(flag), "True or False")
        for name, flag in (("payload_response_only", payload_response_only), ("express", express))
        if not isinstance(flag, bool)
    )
    return found


def task_limit_problems(
    max_attempts: object, backoff_rate: object, express: object, timeout_s: int, state_name: object
) -> list[Problem]:
    """The retrier's attempts (1..20) and backoff (1..10), a step too long for an Express workflow, the state's
    name (1..80 characters)."""
    found = [
        limits.check_int_range("max_attempts", max_attempts, MAX_ATTEMPTS_RANGE),
        limits.check_range("backoff_rate", backoff_rate, BACKOFF_RATE_RANGE),
    ]
    if express is True and timeout_s >= EXPRESS_MAX_S:
        found.append(
            Problem(
                "function.timeout",
                f"{timeout_s} s",
                f"< {EXPRESS_MAX_S} s in an Express workflow",
                "an Express workflow stops after 5 minutes; use a Standard workflow for longer steps",
            )
        )
    if state_name is not None and not (isinstance(state_name, str) and 1 <= len(state_name) <= STATE_NAME_MAX):
        found.append(Problem("state_name", short(state_name), "1..80 characters"))
    return [p for p in found if p is not None]


def watch_problem(watched: bool) -> Problem | None:
    """``watch`` alarms on one state machine: a second call on the same task is refused."""
    return Problem("watch", "called twice", "one call per WorkflowTask") if watched else None


@dataclass(frozen=True)
class WorkflowTaskRequest:
    """The plain facts a WorkflowTask reads from its props (after its checks found no problem)."""

    path: str
    alarm_prefix: str
    function_path: str
    timeout_s: int
    invocation: Invocation
    state_name: str  # the one given, else the construct id
    payload_response_only: bool = True
    interval_s: int | None = DEFAULT_INTERVAL_S  # None: a deploy-time token
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_rate: float = DEFAULT_BACKOFF_RATE
    express: bool = False


@dataclass(frozen=True)
class RetryPlan:
    """The task's one retrier, on the Lambda service errors (SERVICE_ERRORS)."""

    errors: tuple[str, ...]
    interval_s: int | None  # None: a deploy-time token
    max_attempts: int
    backoff_rate: float
    jitter: str  # the aws_stepfunctions.JitterType's name


@dataclass(frozen=True)
class WorkflowTaskPlan:
    """Every decision and derived number of one WorkflowTask, and the alarms its ``watch(...)`` adds."""

    path: str
    task_id: str  # the LambdaInvoke's id under the construct
    state_name: str
    payload_response_only: bool
    # aws-cdk-lib's own retrier (retry_on_service_exceptions) lacks TooManyRequestsException: replaced by ``retry``
    retry_on_service_exceptions: bool
    retry: RetryPlan
    task_timeout_s: int  # the function timeout + TASK_TIMEOUT_MARGIN_S
    express: bool  # checked: the function timeout is below EXPRESS_MAX_S
    metrics: CallerMetrics  # AWS/States, by LambdaFunctionArn (the alias ARN)
    alarms: tuple[AlarmPlan, ...]  # LambdaFunctionsFailed and LambdaFunctionsTimedOut, with payload_response_only
    watch_metrics: CallerMetrics  # AWS/States, by StateMachineArn
    watch_alarms: tuple[AlarmPlan, ...]  # what ``watch(state_machine)`` adds under the construct
    notes: tuple[Note, ...]
    # the alarms (a state is no CloudFormation resource: the state machine holding it renders it); watch(...)
    # adds len(watch_alarms) more
    resource_count: int


def plan_workflow_task(request: WorkflowTaskRequest) -> WorkflowTaskPlan:
    """The decisions of a WorkflowTask whose props passed its checks."""
    path, prefix = request.path, request.alarm_prefix
    alarms: tuple[AlarmPlan, ...] = ()
    if request.payload_response_only:  # the state's resource is the alias ARN: Step Functions reports it by that
        alarms = (
            _failure_alarm(
                prefix,
                "FailedAlarm",
                "LambdaFunctionsFailed",
                f"{path}: the workflow step failed after its service-error retries.",
                "task",
            ),
            _failure_alarm(
                prefix,
                "TimedOutAlarm",
                "LambdaFunctionsTimedOut",
                f"{path}: the workflow step timed out ({request.timeout_s} s function timeout).",
                "task",
            ),
        )
    watch_alarms = tuple(
        _failure_alarm(prefix, f"Workflow{metric}Alarm", metric, f"{path}: the state machine {what}.", "state_machine")
        for metric, what in WATCH_ALARMS
    )
    return WorkflowTaskPlan(
        path=path,
        task_id=WORKFLOW_TASK_ID,
        state_name=request.state_name,
        payload_response_only=request.payload_response_only,
        retry_on_service_exceptions=False,
        retry=RetryPlan(
            errors=SERVICE_ERRORS,
            interval_s=request.interval_s,
            max_attempts=request.max_attempts,
            backoff_rate=request.backoff_rate,
            jitter="FULL",
        ),
        task_timeout_s=request.timeout_s + TASK_TIMEOUT_MARGIN_S,
        express=request.express,
        metrics=STEP_METRICS,
        alarms=alarms,
        watch_metrics=WORKFLOW_METRICS,
        watch_alarms=watch_alarms,
        notes=_notes(invocation_note(request.function_path, request.invocation, "workflow", Invocation.WORKFLOW)),
        resource_count=len(alarms),
    )
