"""The plans of AppSyncDataSource, CognitoTriggers and WorkflowTask: decisions as pure values, counts against the tree.

The ``plan_*`` tests take no aws-cdk-lib (milliseconds each); the ``*_plan_resource_count_matches_the_tree``
tests build several configurations in ONE app and check each plan's resource count, alarms and the other
decisions against what the build really made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template
from constructs import Construct

from lambda_constructs import (
    AppSyncDataSource,
    CognitoTriggers,
    FunctionFleet,
    Invocation,
    ProductionFunction,
    WorkflowTask,
)
from lambda_constructs.core import limits
from lambda_constructs.core.errors import Problem
from lambda_constructs.core.plans import callers as plans
from lambda_constructs.core.plans.callers import (
    AppSyncRequest,
    CognitoTrigger,
    WorkflowTaskRequest,
    plan_appsync,
    plan_cognito,
    plan_workflow_task,
)
from tests.conftest import INLINE

PATH = "Stack/Orders/Caller"
PREFIX = "Stack-Orders-Caller"
SCHEMA = Path(__file__).parent / "fixtures" / "orders.graphql"


# ------------------------------------------------------------------ shared


def test_the_caller_timeout_is_refused_from_the_limit_on_naming_both_numbers() -> None:
    assert limits.caller_timeout_problem("function.timeout", 29, 30, "the caller's wait", "why") is None
    problem = limits.caller_timeout_problem("function.timeout", 30, 30, "the caller's wait", "shorten it")
    assert problem == Problem(
        "function.timeout",
        "30 s",
        "< 30 s, the caller's wait",
        "the function's 30 s timeout reaches the 30 s the caller waits: shorten it",
    )


# ------------------------------------------------------------------ AppSyncDataSource, pure


def appsync_plan(**overrides: Any) -> plans.AppSyncPlan:
    values: dict[str, Any] = {
        "path": PATH,
        "alarm_prefix": PREFIX,
        "function_path": "Stack/Orders/Fn",
        "timeout_s": 10,
        "invocation": Invocation.SYNC,
        "name": "Orders",
    }
    values.update(overrides)
    return plan_appsync(AppSyncRequest(**values))


def test_appsync_defaults_name_the_function_and_alarm_on_5xx_and_p99_latency() -> None:
    p = appsync_plan()
    assert (p.data_source_id, p.name) == ("DataSource", "Orders")
    assert p.description == "Lambda data source on Stack/Orders/Fn (live alias)"
    assert p.metrics == plans.CallerMetrics("AWS/AppSync", "GraphQLAPIId")
    errors, latency = p.alarms
    assert [a.name for a in p.alarms] == [f"{PREFIX}-ServerErrorsAlarm", f"{PREFIX}-LatencyAlarm"]
    assert (errors.metric, errors.statistic, errors.threshold, errors.comparison) == (
        "5XXError",
        "Sum",
        1,
        "GREATER_THAN_OR_EQUAL_TO_THRESHOLD",
    )
    assert errors.description == f"{PATH}: the GraphQL API answered with 5xx (a data source or resolver failed)."
    assert (latency.metric, latency.statistic, latency.threshold) == ("Latency", "p99", 8000)  # 80 % of 10 s
    assert latency.comparison == "GREATER_THAN_THRESHOLD" and latency.period_s == 300
    assert latency.description == f"{PATH}: p99 GraphQL latency above 8000 ms (80% of the 10 s function timeout)."
    assert p.notes == ()
    assert p.resource_count == 5  # the data source, its role and the role's policy, 2 alarms


def test_appsync_keeps_a_given_description_and_warns_on_a_function_not_sync() -> None:
    p = appsync_plan(description="orders", invocation=Invocation.WORKFLOW, timeout_s=3)
    assert p.description == "orders" and p.alarms[1].threshold == 2400
    (note,) = p.notes
    assert (note.level, note.id) == ("warning", "lambda-constructs:AppSync-invocation")
    assert (
        note.message
        == "Stack/Orders/Fn is declared invocation=WORKFLOW; a AppSync consumer should use Invocation.SYNC."
    )


@pytest.mark.parametrize(
    ("id", "name", "expected"),
    [
        ("Orders", None, "Orders"),
        ("1-orders.v2", None, "_1ordersv2"),
        ("---", None, "LambdaDataSource"),
        ("X", "y", "y"),
    ],
)
def test_appsync_data_source_name_defaults_to_the_id(id: str, name: str | None, expected: str) -> None:
    assert plans.data_source_name(id, name) == expected


def test_appsync_checks_are_pure() -> None:
    assert plans.data_source_problems("Orders_2", "x" * 256) == []
    assert plans.data_source_problems("2orders", "x" * 257) == [
        Problem("name", "2orders", "1..65 characters matching [_A-Za-z][_0-9A-Za-z]*"),
        Problem("description", "'" + "x" * 76 + "...", "a string of at most 256 characters"),
    ]
    assert [p.prop for p in plans.data_source_problems("a" * 66, None)] == ["name"]
    assert plans.appsync_timeout_problem(29) is None
    timeout = plans.appsync_timeout_problem(30)
    assert timeout is not None and timeout.describe().startswith(
        "function.timeout='30 s' is invalid; allowed: < 30 s, AWS AppSync's request execution time (not adjustable). "
        "the function's 30 s timeout reaches the 30 s the caller waits: the GraphQL client gets an error"
    )


# ------------------------------------------------------------------ CognitoTriggers, pure


def test_cognito_triggers_set_their_lambda_config_key_and_a_permission_under_the_pool() -> None:
    p = plan_cognito(
        PATH,
        (
            CognitoTrigger("preSignUp", "Stack/SignUp", Invocation.WORKFLOW),
            CognitoTrigger("preTokenGenerationConfig", "Stack/Tokens", Invocation.WORKFLOW),
        ),
    )
    assert [(t.operation, t.config_key, t.function_path, t.permission_id) for t in p.triggers] == [
        ("preSignUp", "preSignUp", "Stack/SignUp", "PreSignUpCognito"),
        ("preTokenGenerationConfig", "preTokenGenerationConfig", "Stack/Tokens", "PreTokenGenerationConfigCognito"),
    ]
    assert p.notes == () and p.resource_count == 0  # the triggers and their permissions live in the user pool


def test_cognito_warns_once_per_trigger_function_not_declared_workflow() -> None:
    p = plan_cognito(
        PATH,
        (
            CognitoTrigger("preSignUp", "Stack/A", Invocation.SYNC),
            CognitoTrigger("postConfirmation", "Stack/B", Invocation.WORKFLOW),
            CognitoTrigger("customMessage", "Stack/C", Invocation.QUEUE),
        ),
    )
    assert [n.id for n in p.notes] == ["lambda-constructs:Cognito trigger-invocation"] * 2
    assert [n.message for n in p.notes] == [
        "Stack/A is declared invocation=SYNC; a Cognito trigger consumer should use Invocation.WORKFLOW.",
        "Stack/C is declared invocation=QUEUE; a Cognito trigger consumer should use Invocation.WORKFLOW.",
    ]


def test_cognito_checks_are_pure() -> None:
    assert len(plans.COGNITO_OPERATIONS) == 13
    assert plans.taken_operation_problem("triggers[preSignUp]", "preSignUp", {"postConfirmation"}) is None
    assert plans.taken_operation_problem("triggers[preSignUp]", "preSignUp", {"preSignUp"}) == Problem(
        "triggers[preSignUp]",
        "preSignUp",
        "an operation without a trigger (a user pool has one function per operation)",
    )
    assert plans.cognito_timeout_problem("triggers[preSignUp].timeout", 4) is None
    timeout = plans.cognito_timeout_problem("triggers[preSignUp].timeout", 5)
    assert timeout is not None and timeout.describe().startswith(
        "triggers[preSignUp].timeout='5 s' is invalid; allowed: < 5 s, Amazon Cognito's trigger timeout "
        "(cannot be changed). the function's 5 s timeout reaches the 5 s the caller waits: Cognito retries"
    )


# ------------------------------------------------------------------ WorkflowTask, pure


def task_plan(**overrides: Any) -> plans.WorkflowTaskPlan:
    values: dict[str, Any] = {
        "path": PATH,
        "alarm_prefix": PREFIX,
        "function_path": "Stack/Orders/Fn",
        "timeout_s": 11,
        "invocation": Invocation.WORKFLOW,
        "state_name": "Caller",
    }
    values.update(overrides)
    return plan_workflow_task(WorkflowTaskRequest(**values))


def test_workflow_task_retries_the_service_errors_times_out_after_the_function_and_alarms() -> None:
    p = task_plan()
    assert (p.task_id, p.state_name, p.payload_response_only, p.express) == ("Task", "Caller", True, False)
    assert p.retry_on_service_exceptions is False  # aws-cdk-lib's retrier lacks TooManyRequestsException
    assert p.retry == plans.RetryPlan(
        errors=(
            "Lambda.ClientExecutionTimeoutException",
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
        ),
        interval_s=2,
        max_attempts=6,
        backoff_rate=2.0,
        jitter="FULL",
    )
    assert p.task_timeout_s == 16  # 11 s + 5 s
    assert p.metrics == plans.CallerMetrics("AWS/States", "LambdaFunctionArn")
    failed, timed_out = p.alarms
    assert [(a.id, a.name, a.metric, a.statistic, a.threshold) for a in p.alarms] == [
        ("FailedAlarm", f"{PREFIX}-FailedAlarm", "LambdaFunctionsFailed", "Sum", 1),
        ("TimedOutAlarm", f"{PREFIX}-TimedOutAlarm", "LambdaFunctionsTimedOut", "Sum", 1),
    ]
    assert failed.description == f"{PATH}: the workflow step failed after its service-error retries."
    assert timed_out.description == f"{PATH}: the workflow step timed out (11 s function timeout)."
    assert p.notes == () and p.resource_count == 2


def test_workflow_task_watch_alarms_are_planned_with_the_task() -> None:
    p = task_plan()
    assert p.watch_metrics == plans.CallerMetrics("AWS/States", "StateMachineArn")
    assert [(a.id, a.name, a.metric, a.threshold, a.period_s) for a in p.watch_alarms] == [
        ("WorkflowExecutionsFailedAlarm", f"{PREFIX}-WorkflowExecutionsFailedAlarm", "ExecutionsFailed", 1, 300),
        ("WorkflowExecutionsTimedOutAlarm", f"{PREFIX}-WorkflowExecutionsTimedOutAlarm", "ExecutionsTimedOut", 1, 300),
        ("WorkflowExecutionThrottledAlarm", f"{PREFIX}-WorkflowExecutionThrottledAlarm", "ExecutionThrottled", 1, 300),
    ]
    assert [a.description for a in p.watch_alarms] == [
        f"{PATH}: the state machine had failed executions.",
        f"{PATH}: the state machine had executions that timed out.",
        f"{PATH}: the state machine was throttled (StartExecution or state transitions).",
    ]
    assert plans.watch_problem(False) is None
    assert plans.watch_problem(True) == Problem("watch", "called twice", "one call per WorkflowTask")


def test_workflow_task_without_payload_response_only_has_no_step_alarms() -> None:
    p = task_plan(payload_response_only=False, interval_s=None, max_attempts=3, backoff_rate=1.5, express=True)
    assert p.alarms == () and p.resource_count == 0 and len(p.watch_alarms) == 3
    assert (p.retry.interval_s, p.retry.max_attempts, p.retry.backoff_rate) == (None, 3, 1.5)
    assert p.express


def test_workflow_task_warns_on_a_function_not_declared_workflow() -> None:
    (note,) = task_plan(invocation=Invocation.SYNC).notes
    assert (note.level, note.id) == ("warning", "lambda-constructs:workflow-invocation")
    assert note.message == (
        "Stack/Orders/Fn is declared invocation=SYNC; a workflow consumer should use Invocation.WORKFLOW."
    )


def test_workflow_task_checks_are_pure() -> None:
    assert plans.task_shape_problems("$.result", None, {"a.$": "$.b"}, True, False) == []
    assert plans.task_shape_problems("result", "out", ["a"], "yes", 1) == [
        Problem("result_path", "result", "a JSONPath starting with $"),
        Problem("output_path", "out", "a JSONPath starting with $"),
        Problem("result_selector", ["a"], "a mapping"),
        Problem("payload_response_only", "yes", "True or False"),
        Problem("express", 1, "True or False"),
    ]
    assert plans.task_limit_problems(20, 10, True, 299, "x" * 80) == []
    assert [p.prop for p in plans.task_limit_problems(0, 11, True, 300, "")] == [
        "max_attempts",
        "backoff_rate",
        "function.timeout",
        "state_name",
    ]
    (express,) = plans.task_limit_problems(6, 2.0, True, 300, None)
    assert (express.value, express.allowed) == ("300 s", "< 300 s in an Express workflow")
    assert plans.task_limit_problems(6, 2.0, False, 900, None) == []  # a Standard workflow waits a year


# ------------------------------------------------------------------ against the tree (one app)


def _fn(scope: Construct, id: str, invocation: Invocation = Invocation.SYNC, **kw: Any) -> ProductionFunction:
    kw.setdefault("p99", cdk.Duration.millis(1000))
    return ProductionFunction(scope, id, code=INLINE, handler="index.handler", invocation=invocation, **kw)


def _resources(construct: Construct) -> int:
    return sum(1 for c in construct.node.find_all() if isinstance(c, cdk.CfnResource))


def _api(scope: Construct, id: str = "Graph") -> appsync.GraphqlApi:
    return appsync.GraphqlApi(
        scope, id, name="orders", definition=appsync.Definition.from_schema(appsync.SchemaFile.from_asset(str(SCHEMA)))
    )


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, Any], cdk.Stack, Template]:
    app = cdk.App()
    stack = cdk.Stack(app, "Callers")
    nested = Construct(stack, "Nested")
    pool = cognito.UserPool(stack, "Pool")
    api = _api(stack)
    made: dict[str, Any] = {
        "appsync": AppSyncDataSource(stack, "Orders", function=_fn(stack, "Resolver"), api=api),
        "appsync_named": AppSyncDataSource(
            nested, "Items", function=_fn(stack, "Items", Invocation.WORKFLOW), api=api, name="items", description="d"
        ),
        "cognito": CognitoTriggers(
            stack,
            "Auth",
            user_pool=pool,
            triggers={
                cognito.UserPoolOperation.PRE_SIGN_UP: _fn(stack, "SignUp", Invocation.WORKFLOW),
                cognito.UserPoolOperation.POST_CONFIRMATION: _fn(stack, "Confirm", Invocation.WORKFLOW),
            },
        ),
        "task": WorkflowTask(stack, "Validate", function=_fn(stack, "V", Invocation.WORKFLOW)),
        "raw": WorkflowTask(
            nested,
            "Charge",
            function=_fn(stack, "C", Invocation.WORKFLOW, timeout=cdk.Duration.seconds(20), p99=None),
            payload_response_only=False,
            interval=cdk.Duration.minutes(1),
            max_attempts=3,
            backoff_rate=1.5,
            state_name="Charge the card",
        ),
    }
    made["counts"] = {name: _resources(made[name]) for name in ("task", "raw")}  # before watch
    machine = sfn.StateMachine(
        stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(made["task"].next(made["raw"].task))
    )
    made["watched"] = made["task"].watch(machine)
    return made, stack, Template.from_stack(stack)


def _alarms_in_the_template(tpl: Template, alarms: tuple[plans.AlarmPlan, ...]) -> None:
    by_name = {
        r["Properties"]["AlarmName"]: r["Properties"] for r in tpl.find_resources("AWS::CloudWatch::Alarm").values()
    }
    for alarm in alarms:
        props = by_name[alarm.name]
        assert (props["MetricName"], props["Statistic"] if "Statistic" in props else props["ExtendedStatistic"]) == (
            alarm.metric,
            alarm.statistic,
        )
        assert (props["Threshold"], props["Period"], props["AlarmDescription"]) == (
            alarm.threshold,
            alarm.period_s,
            alarm.description,
        )


@pytest.mark.parametrize("name", ["appsync", "appsync_named"])
def test_appsync_plan_resource_count_matches_the_tree(
    built: tuple[dict[str, Any], cdk.Stack, Template], name: str
) -> None:
    made, _stack, tpl = built
    source: AppSyncDataSource = made[name]
    assert source.plan.resource_count == _resources(source)
    assert [a.node.id for a in source.alarms] == [a.id for a in source.plan.alarms]
    _alarms_in_the_template(tpl, source.plan.alarms)
    (props,) = [
        r["Properties"]
        for r in tpl.find_resources("AWS::AppSync::DataSource").values()
        if r["Properties"]["Name"] == source.plan.name
    ]
    assert props["Description"] == source.plan.description and props["Type"] == "AWS_LAMBDA"
    assert source.data_source.node.id == source.plan.data_source_id


def test_cognito_plan_resource_count_matches_the_tree(built: tuple[dict[str, Any], cdk.Stack, Template]) -> None:
    made, stack, tpl = built
    triggers: CognitoTriggers = made["cognito"]
    assert triggers.plan.resource_count == _resources(triggers) == 0
    assert list(triggers.triggers) == [t.operation for t in triggers.plan.triggers]
    (pool,) = tpl.find_resources("AWS::Cognito::UserPool").values()
    assert sorted(pool["Properties"]["LambdaConfig"]) == sorted(
        t.config_key[:1].upper() + t.config_key[1:] for t in triggers.plan.triggers
    )
    for trigger in triggers.plan.triggers:  # Lambda's permission for Cognito: under the pool, where the plan says
        permission = triggers.user_pool.node.find_child(trigger.permission_id)
        assert isinstance(permission, lambda_.CfnPermission)
        assert stack.resolve(permission.principal) == "cognito-idp.amazonaws.com"


@pytest.mark.parametrize("name", ["task", "raw"])
def test_workflow_task_plan_resource_count_matches_the_tree(
    built: tuple[dict[str, Any], cdk.Stack, Template], name: str
) -> None:
    made, stack, tpl = built
    step: WorkflowTask = made[name]
    plan = step.plan
    watched = made["watched"] if name == "task" else []
    assert plan.resource_count == made["counts"][name]
    assert plan.resource_count + len(watched) == _resources(step)
    assert [a.node.id for a in step.alarms] == [a.id for a in (*plan.alarms, *plan.watch_alarms[: len(watched)])]
    _alarms_in_the_template(tpl, plan.alarms + (plan.watch_alarms if watched else ()))
    state = stack.resolve(step.task.to_state_json())
    assert state["TimeoutSeconds"] == plan.task_timeout_s
    (retry,) = state["Retry"]
    assert retry == {
        "ErrorEquals": list(plan.retry.errors),
        "IntervalSeconds": plan.retry.interval_s,
        "MaxAttempts": plan.retry.max_attempts,
        "BackoffRate": plan.retry.backoff_rate,
        "JitterStrategy": plan.retry.jitter,
    }
    assert (step.task.node.id, step.task.state_id) == (plan.task_id, plan.state_name)


def test_the_fleet_is_handed_the_planned_counts(tmp_path: Path) -> None:
    """A bundle of planned constructs only is sized by their plans (no tree walk): the nested stack holds that many.

    The API and the user pool are the parent stack's: the bundle's data source, triggers and task are planned.
    """
    app = cdk.App(outdir=str(tmp_path / "out"))
    parent = cdk.Stack(app, "F")
    api, pool = _api(parent), cognito.UserPool(parent, "Pool")
    fleet = FunctionFleet(parent, "Workers", placement_file=tmp_path / "p.json")

    def bundle(scope: Construct, id: str) -> None:
        AppSyncDataSource(scope, f"{id}Source", function=_fn(scope, f"{id}Resolver"), api=api)
        CognitoTriggers(
            scope,
            f"{id}Auth",
            user_pool=pool,
            triggers={cognito.UserPoolOperation.PRE_SIGN_UP: _fn(scope, f"{id}SignUp", Invocation.WORKFLOW)},
        )
        WorkflowTask(scope, f"{id}Step", function=_fn(scope, f"{id}StepFn", Invocation.WORKFLOW))

    fleet.add("W00", bundle)
    planned = fleet.resource_counts["Stack1"]
    assert fleet._planned_stacks == {"Stack1"}  # sized by the plans
    template = Template.from_stack(fleet.stack_of("W00"))
    assert planned == len(template.to_json()["Resources"])
    assert "PreSignUpCognito" in [c.node.id for c in pool.node.children]  # the permission: in the parent stack
