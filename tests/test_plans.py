"""Plans without synthesis: every decision of ProductionFunction and the source constructs as pure values.

No aws-cdk-lib here: a plan is computed from plain facts (``FunctionRequest``), so each decision is
asserted directly. ``tests/test_function.py`` checks the same decisions on synthesized templates,
and ``test_plan_resource_count_matches_the_tree`` there ties the resource count to the real tree.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lambda_constructs import ConfigurationError, Invocation, Memory, ProvisionedConcurrency, Sizing
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import queue as queues
from lambda_constructs.core.plans import schedule as schedules
from lambda_constructs.core.plans import stream as streams
from lambda_constructs.core.plans.common import alarm_name, alarm_prefix
from lambda_constructs.core.plans.function import (
    NO_DLQ_REASON,
    ON_FAILURE_ACK,
    VPC_ROLE_ACK,
    XRAY_ACK,
    XRAY_STAR_ACK,
    FunctionPlan,
    FunctionRequest,
    Reading,
    plan_function,
)

PATH = "Stack/Orders"
PREFIX = "Stack-Orders"


def request(**overrides: Any) -> FunctionRequest:
    values: dict[str, Any] = {"path": PATH, "alarm_prefix": PREFIX, "p99": Reading(250.0)}
    values.update(overrides)
    return FunctionRequest(**values)


def plan(**overrides: Any) -> FunctionPlan:
    problems = Problems(PATH)
    planned = plan_function(problems, request(**overrides))
    problems.raise_if_any()
    assert planned is not None
    return planned


def refusal(**overrides: Any) -> list[Problem]:
    problems = Problems(PATH)
    assert plan_function(problems, request(**overrides)) is None
    with pytest.raises(ConfigurationError) as error:
        problems.raise_if_any()
    return list(error.value.problems)


def test_defaults_are_a_sync_function_with_provisioned_concurrency() -> None:
    p = plan()
    assert p.invocation is Invocation.SYNC
    assert p.memory == Memory.io_bound() and p.memory.size_mb == 1024
    assert p.timeout.seconds == 1 and p.timeout.source == "p99" and p.timeout.multiplier == 3
    assert p.provisioned_concurrency == ProvisionedConcurrency(1, 10, 0.7)
    assert p.alias_provisioned_executions == 1  # the alias's static value = min capacity (aws-cdk#30503)
    assert p.reserved_concurrency is None
    assert p.failure_path == "caller" and not p.async_config and not p.failure_queue
    assert [a.id for a in p.alarms] == ["ErrorsAlarm", "ThrottlesAlarm", "DurationAlarm", "SpilloverAlarm"]
    assert p.acknowledgements == (("Serverless-LambdaDLQ", NO_DLQ_REASON[Invocation.SYNC]),)
    assert p.role_acknowledgements == (XRAY_ACK, XRAY_STAR_ACK)  # on the role resource alone (inline X-Ray policy)
    assert plan(tracing="DISABLED").role_acknowledgements == ()
    assert plan(role_given=True).role_acknowledgements == ()
    assert p.notes == ()
    # log group, role + policy, function, version, alias, scalable target + policy, 4 alarms
    assert p.resource_count == 12


def test_timeout_is_p99_times_the_multiplier_rounded_up() -> None:
    p = plan(p99=Reading(1_200.0), timeout_multiplier=2.5)
    assert (p.timeout.seconds, p.timeout.p99_ms, p.timeout.multiplier) == (3, 1_200.0, 2.5)
    duration = next(a for a in p.alarms if a.id == "DurationAlarm")
    assert duration.threshold == 2_400 and duration.comparison == "GREATER_THAN_THRESHOLD"
    assert duration.statistic == "p99" and duration.period_s == 300
    assert "80% of the 3 s timeout" in duration.description


def test_fixed_timeout_is_recorded_as_fixed_and_warned() -> None:
    p = plan(p99=None, timeout=Reading(30))
    assert p.timeout.seconds == 30 and p.timeout.source == "fixed" and p.timeout.p99_ms is None
    assert p.metadata["timeout"] == {"seconds": 30, "source": "fixed"}
    assert [n.id for n in p.notes] == ["lambda-constructs:timeout-not-measured"]
    assert "timeout=30 s was not derived from a measured p99" in p.notes[0].message


def _sizing_file(tmp_path: Path, days_ago: int) -> Path:
    measured = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    path = tmp_path / "orders.json"
    path.write_text(
        json.dumps(
            {"function": "orders", "p99_ms": 700, "sample_count": 5000, "window_days": 14, "measured_at": measured}
        )
    )
    return path


def test_sizing_file_is_read_and_recorded(tmp_path: Path) -> None:
    path = _sizing_file(tmp_path, days_ago=3)
    p = plan(p99=None, sizing=str(path))
    assert p.timeout.seconds == 3 and p.timeout.source == "sizing" and p.timeout.p99_ms == 700
    assert isinstance(p.sizing, Sizing) and p.sizing.source == str(path)
    assert p.metadata["sizing"]["file"] == str(path) and p.metadata["sizing"]["p99_ms"] == 700
    assert p.notes == ()


def test_stale_sizing_file_is_noted(tmp_path: Path) -> None:
    p = plan(p99=None, sizing=_sizing_file(tmp_path, days_ago=120))
    assert [n.id for n in p.notes] == ["lambda-constructs:sizing-stale"]
    assert "measured 120 days ago" in p.notes[0].message


def test_async_gets_a_failure_queue_its_alarm_and_acknowledgements() -> None:
    p = plan(invocation=Invocation.ASYNC)
    assert p.provisioned_concurrency is None and p.alias_provisioned_executions is None
    assert p.failure_path == "failure-queue" and p.async_config and p.failure_queue
    queue = p.alarms[-1]
    assert (queue.id, queue.source, queue.metric, queue.statistic) == (
        "FailureQueueAlarm",
        "failure_queue",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
    )
    assert (queue.threshold, queue.comparison) == (0, "GREATER_THAN_THRESHOLD")
    assert queue.description.startswith(f"{PATH} failure queue holds messages")
    # each on its resource: the function, the role (X-Ray), the failure queue
    assert p.acknowledgements == (ON_FAILURE_ACK,)
    assert [rule for rule, _ in p.role_acknowledgements] == [
        "AwsSolutions-IAM5[Resource::*]",
        "Serverless-LambdaStarPermissions",
    ]
    assert [rule for rule, _ in p.failure_queue_acknowledgements] == [
        "AwsSolutions-SQS3",
        "Serverless-SQSRedrivePolicy",
    ]
    # log group, role + policy, function, version, alias, 2 invoke configs, queue + policy, 4 alarms
    assert p.resource_count == 14


@pytest.mark.parametrize(
    ("invocation", "path"), [(Invocation.QUEUE, "source-redrive"), (Invocation.STREAM, "source-on-failure")]
)
def test_source_invocations_leave_the_failure_path_to_the_source(invocation: Invocation, path: str) -> None:
    p = plan(invocation=invocation)
    assert p.failure_path == path and not p.async_config and p.provisioned_concurrency is None
    assert ("Serverless-LambdaDLQ", NO_DLQ_REASON[invocation]) in p.acknowledgements
    assert len(p.alarms) == 3 and p.resource_count == 9


def test_a_user_destination_replaces_the_failure_queue() -> None:
    p = plan(on_failure=True, retry_attempts=0, max_event_age=Reading(problem=None))
    assert p.failure_path == "on-failure" and p.async_config and not p.failure_queue
    assert p.acknowledgements[-1] == ON_FAILURE_ACK
    assert p.resource_count is None  # what a destination creates is aws-cdk-lib's to decide


def test_a_deployment_moves_provisioned_concurrency_to_scaling_and_adds_rollback_alarms() -> None:
    p = plan(p99=Reading(2_000.0), deployment="canary")
    assert p.provisioned_concurrency is not None and p.alias_provisioned_executions is None
    errors, duration = p.deployment_alarms
    assert (errors.name, errors.period_s, errors.evaluation_periods, errors.datapoints_to_alarm) == (
        f"{PREFIX}-DeploymentErrorsAlarm",
        60,
        3,
        2,
    )
    assert (duration.threshold, duration.evaluate_low_sample_count_percentile) == (4_800, "ignore")
    assert p.metadata["alarms"] == p.alarm_count == 6


def test_snap_start_turns_the_default_provisioned_concurrency_off_with_a_note() -> None:
    p = plan(snap_start=True)
    assert p.provisioned_concurrency is None
    assert [n.level for n in p.notes] == ["info"] and "SnapStart" in p.notes[0].message
    explicit_none = plan(snap_start=True, provisioned_concurrency=None)
    assert explicit_none.notes == ()


def test_the_metadata_record() -> None:
    p = plan(memory=Memory.mb(512), provisioned_concurrency=ProvisionedConcurrency(2, 20))
    assert p.metadata == {
        "timeout": {"seconds": 1, "source": "p99", "p99Ms": 250.0, "multiplier": 3},
        "memory": {"sizeMb": 512, "source": "explicit"},
        "invocation": "sync",
        "alias": "live",
        "provisionedConcurrency": {"min": 2, "max": 20, "targetUtilization": 0.7},
        "alarms": 4,
    }


def test_environment_merges_powertools_under_the_user() -> None:
    p = plan(environment={"POWERTOOLS_LOG_LEVEL": "DEBUG", "TABLE": "t"}, powertools_environment=_POWERTOOLS)
    assert p.environment == {**_POWERTOOLS, "POWERTOOLS_LOG_LEVEL": "DEBUG", "TABLE": "t"}


_POWERTOOLS = {"POWERTOOLS_SERVICE_NAME": "orders", "POWERTOOLS_LOG_LEVEL": "INFO"}


def test_notes_for_tracing_package_size_and_ecr_images() -> None:
    p = plan(tracing="PASS_THROUGH", package_bytes=12 * 1024 * 1024, ecr_image=True, arm64=False)
    assert [n.id for n in p.notes] == [
        "lambda-constructs:tracing-not-active",
        "lambda-constructs:package-size",
        "lambda-constructs:ecr-image-platform",
    ]
    assert "12.0 MB unzipped" in p.notes[1].message and "linux/amd64" in p.notes[2].message


def test_vpc_function_gets_a_security_group_and_the_vpc_role_acknowledgement() -> None:
    p = plan(vpc=True)
    assert VPC_ROLE_ACK in p.role_acknowledgements and VPC_ROLE_ACK not in p.acknowledgements
    assert p.resource_count == 13
    assert VPC_ROLE_ACK not in plan(vpc=True, role_given=True).role_acknowledgements
    assert plan(vpc=True, security_groups_given=True).resource_count == 12
    assert plan(role_given=True).resource_count == 10


def test_alarm_names_are_stack_and_path_within_255_and_unique() -> None:
    assert alarm_prefix("Stack", "Stack", "Stack/Api/Fn") == "Stack-Api-Fn"
    assert alarm_prefix("Stage-Stack", "Stage/Stack", "Stage/Stack/Api") == "Stage-Stack-Api"
    # cutting at 255 gave two long paths one name; the cut part is replaced by a hash of the full name
    import hashlib

    full = "x" * 250 + "A-ErrorsAlarm"
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    assert alarm_name("x" * 250 + "A", "ErrorsAlarm") == "x" * 234 + f"-{digest}-ErrorsAlarm"
    assert len(alarm_name("x" * 250 + "A", "ErrorsAlarm")) == 255
    assert alarm_name("x" * 250 + "A", "ErrorsAlarm") != alarm_name("x" * 250 + "B", "ErrorsAlarm")
    assert alarm_name("x" * 243, "ErrorsAlarm") == "x" * 243 + "-ErrorsAlarm"  # 255 exactly: unchanged
    assert len(alarm_name("p", "s" * 300)) == 255
    assert plan().alarms[0].name == f"{PREFIX}-ErrorsAlarm"


@pytest.mark.parametrize(
    ("overrides", "props"),
    [
        ({"memory": 64}, ["memory"]),
        ({"memory": "big"}, ["memory"]),
        ({"invocation": "sync"}, ["invocation"]),
        ({"timeout": Reading(30)}, ["p99/sizing/timeout"]),
        ({"p99": None}, ["p99/sizing/timeout"]),
        ({"p99": Reading(400_000.0)}, ["p99"]),
        ({"timeout_multiplier": 0}, ["timeout_multiplier"]),
        ({"provisioned_concurrency": ProvisionedConcurrency(5, 2)}, ["provisioned_concurrency.min_capacity"]),
        ({"reserved_concurrency": 5}, ["reserved_concurrency"]),  # < the default max capacity 10
        ({"reserved_concurrency": 0}, ["reserved_concurrency"]),
        ({"environment": {"AWS_REGION": "x"}}, ["environment['AWS_REGION']"]),
        ({"environment": {"BIG": "x" * 5000}}, ["environment"]),
        ({"function_name": "has space"}, ["function_name"]),
        ({"invocation": Invocation.ASYNC, "retry_attempts": 3}, ["retry_attempts"]),
        # every problem at once, in the order the error lists them
        (
            {"memory": 64, "p99": None, "reserved_concurrency": 0},
            ["memory", "p99/sizing/timeout", "reserved_concurrency"],
        ),
    ],
)
def test_refusals(overrides: dict[str, Any], props: list[str]) -> None:
    assert [p.prop for p in refusal(**overrides)] == props


def test_a_deploy_time_reserved_concurrency_is_left_to_deploy_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_constructs.core import limits

    token = -1.8881545897087626e289  # how CDK encodes a number token
    monkeypatch.setattr(limits, "is_unresolved", lambda value: value == token)
    assert plan(reserved_concurrency=token).reserved_concurrency == token


def test_a_plan_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan().memory = Memory.mb(128)  # type: ignore[misc]


# ---------------------------------------------------------------- source constructs


def _queue_problems(**overrides: Any) -> tuple[list[str], tuple[int, int]]:
    values: dict[str, Any] = {
        "fifo": False,
        "is_fifo": False,
        "topic_problem": None,
        "window": None,
        "batch_size": 10,
        "max_receive_count": 5,
        "max_concurrency": None,
        "max_message_age": None,
        "queue_problem": None,
        "timeout_s": 30,
    }
    values.update(overrides)
    problems = Problems("S/Q")
    derived = queues.queue_problems(problems, **values)
    found = [] if not problems else [p.prop for p in _raised(problems)]
    return found, derived


def _raised(problems: Problems) -> list[Problem]:
    with pytest.raises(ConfigurationError) as error:
        problems.raise_if_any()
    return list(error.value.problems)


def test_queue_visibility_is_six_timeouts_plus_the_window() -> None:
    assert _queue_problems() == ([], (180, 0))
    assert _queue_problems(window=Reading(20), batch_size=100) == ([], (200, 20))
    # above SQS's 12-hour maximum: refused with the number
    assert _queue_problems(timeout_s=7_300)[0] == ["function.timeout"]


@pytest.mark.parametrize(
    ("overrides", "props"),
    [
        ({"batch_size": 11}, ["batch_size"]),  # > 10 needs a window
        ({"is_fifo": True, "window": Reading(5)}, ["max_batching_window"]),
        ({"is_fifo": True, "batch_size": 11}, ["batch_size"]),
        ({"max_receive_count": 0}, ["max_receive_count"]),
        ({"max_concurrency": 1}, ["max_concurrency"]),
        ({"fifo": "yes"}, ["fifo"]),
    ],
)
def test_queue_refusals(overrides: dict[str, Any], props: list[str]) -> None:
    assert _queue_problems(**overrides)[0] == props


def _queue_plan(**overrides: Any) -> queues.QueuePlan:
    values: dict[str, Any] = {
        "path": "S/Q",
        "alarm_prefix": "S-Q",
        "queue": "new",
        "fifo": False,
        "visibility_timeout_s": 180,
        "batching_window_s": 0,
        "batch_size": 10,
        "max_receive_count": 5,
    }
    values.update(overrides)
    return queues.plan_queue(queues.QueueRequest(**values))


def test_queue_plan_alarms_notes_and_resources() -> None:
    p = _queue_plan()
    oldest, dlq = p.alarms
    assert (oldest.name, oldest.threshold, oldest.comparison) == (
        "S-Q-OldestMessageAlarm",
        180,
        "GREATER_THAN_THRESHOLD",
    )
    assert (dlq.source, dlq.threshold) == ("dead_letter_queue", 0)
    assert p.notes == () and p.resource_count == 7  # 2 queues + 2 policies, mapping, 2 alarms
    assert p.acknowledgements[0] == queues.ESM_DESTINATION_ACK
    assert _queue_plan(max_message_age_s=60).alarms[0].threshold == 60
    assert _queue_plan(queue="app-without-dlq").resource_count == 5
    assert _queue_plan(queue="app-with-dlq").resource_count == 3
    imported = _queue_plan(queue="imported", queue_path="S/Imported")
    assert [a.id for a in imported.alarms] == ["OldestMessageAlarm"] and imported.resource_count == 2
    assert imported.notes[0].id == "lambda-constructs:imported-queue" and ">= 180 s" in imported.notes[0].message
    assert _queue_plan(function_owns_role=False).resource_count is None


def test_queue_plan_warnings() -> None:
    p = _queue_plan(
        max_receive_count=2,
        max_concurrency=50,
        function_reserved_concurrency=20,
        function_invocation=Invocation.SYNC,
        function_path="S/Fn",
    )
    assert [n.id for n in p.notes] == [
        "lambda-constructs:queue-invocation",
        "lambda-constructs:max-concurrency-above-reserved",
        "lambda-constructs:max-receive-count",
    ]
    assert p.notes[0].message.startswith("S/Fn is declared invocation=SYNC")


def test_stream_plan_iterator_age_threshold() -> None:
    p = streams.plan_stream(streams.StreamRequest(path="S/St", alarm_prefix="S-St"))
    assert p.iterator_age_threshold_ms == 300_000  # 5 minutes, well before 1-day records expire
    assert p.alarms[0].threshold == 300_000 and "waited over 300 s" in p.alarms[0].description
    short = streams.plan_stream(streams.StreamRequest(path="S/St", alarm_prefix="S-St", max_record_age_s=240))
    assert short.iterator_age_threshold_ms == 120_000  # half of a shorter max_record_age
    given = streams.plan_stream(
        streams.StreamRequest(path="S/St", alarm_prefix="S-St", iterator_age_threshold_ms=42_000.0)
    )
    assert given.iterator_age_threshold_ms == 42_000.0
    assert [a.id for a in p.alarms] == ["IteratorAgeAlarm", "OnFailureBucketAlarm"] and p.resource_count == 5
    assert (p.on_failure, p.failure_expiration_days, p.starting_position) == ("bucket", 14, "TRIM_HORIZON")
    assert p.notes == ()
    queue = streams.plan_stream(streams.StreamRequest(path="S/St", alarm_prefix="S-St", on_failure="queue"))
    assert [a.id for a in queue.alarms] == ["IteratorAgeAlarm", "OnFailureQueueAlarm"] and queue.resource_count == 5
    assert queue.failure_expiration_days is None
    assert [n.id for n in queue.notes] == ["lambda-constructs:on-failure-metadata-only"]
    custom = streams.plan_stream(
        streams.StreamRequest(path="S/St", alarm_prefix="S-St", on_failure="custom", custom_is_bucket=True)
    )
    assert [a.id for a in custom.alarms] == ["IteratorAgeAlarm"] and custom.resource_count == 2 and custom.notes == ()


def _stream_problems(**overrides: Any) -> list[str]:
    values: dict[str, Any] = {
        "at_timestamp": False,
        "starting_position_timestamp": None,
        "batch_size": 100,
        "retry_attempts": 10,
        "max_record_age": Reading(86_400),
        "parallelization_factor": 1,
        "window": None,
        "iterator_age_threshold": None,
        "bisect_batch_on_error": True,
    }
    values.update(overrides)
    problems = Problems("S/St")
    streams.stream_problems(problems, **values)
    return [p.prop for p in _raised(problems)] if problems else []


@pytest.mark.parametrize(
    ("overrides", "props"),
    [
        ({}, []),
        ({"retry_attempts": -1}, ["retry_attempts"]),  # "forever" would let a poison record block the shard
        ({"at_timestamp": True}, ["starting_position_timestamp"]),
        ({"starting_position_timestamp": 1_700_000_000}, ["starting_position_timestamp"]),
        ({"parallelization_factor": 11}, ["parallelization_factor"]),
        ({"bisect_batch_on_error": "yes"}, ["bisect_batch_on_error"]),
        ({"max_record_age": Reading(None)}, ["max_record_age"]),  # a token age leaves no alarm threshold
        ({"max_record_age": Reading(None), "iterator_age_threshold": Reading(60_000)}, []),
    ],
)
def test_stream_refusals(overrides: dict[str, Any], props: list[str]) -> None:
    assert _stream_problems(**overrides) == props


def test_schedule_plan_failure_path() -> None:
    p = schedules.plan_schedule("S/Nightly", "S-Nightly", expression="rate(1 day)", enabled=True, function_path="S/Fn")
    assert p.description == "Schedule for S/Fn (live alias)"
    assert [a.id for a in p.alarms] == ["FailedInvocationsAlarm", "DeadLetterQueueAlarm"]
    assert p.alarms[0].name == "S-Nightly-FailedInvocationsAlarm" and p.alarms[0].source == "rule"
    assert [rule for rule, _ in p.target.dead_letter_queue_acknowledgements] == [
        "AwsSolutions-SQS3",
        "Serverless-SQSRedrivePolicy",
    ]
    assert (p.target.retry_attempts, p.target.max_event_age_s, p.resource_count) == (2, 3600, 6)


@pytest.mark.parametrize(
    ("expression", "valid"),
    [
        ("rate(1 day)", True),
        ("rate(1 days)", False),
        ("rate(5 minutes)", True),
        ("cron(0 3 * * ? *)", True),
        ("cron(0 3 * * *)", False),  # five fields: EventBridge needs the year
        ("cron(0 3 * * * *)", False),  # neither day field is ?
        ("cron(0 25 * * ? *)", False),
    ],
)
def test_schedule_expressions(expression: str, valid: bool) -> None:
    assert (schedules.schedule_problem(expression) is None) is valid
