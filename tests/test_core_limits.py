"""The pure core's range checks and derived numbers, at their boundaries (fast: no CDK, no jsii)."""

from __future__ import annotations

import math

import pytest

from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation, ProvisionedConcurrency
from lambda_constructs.core.errors import ConfigurationError, Problem, Problems
from lambda_constructs.core.limits import Range, check_int_range, check_range


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (128, True),
        (127, False),
        (10_240, True),
        (10_241, False),
        (128.0, True),
        (math.nan, False),
        (math.inf, False),
        (-math.inf, False),
        (True, False),
        ("512", False),
        (None, True),
    ],
)
def test_check_range_boundaries(value: object, ok: bool) -> None:
    problem = check_range("memory", value, Range(128, 10_240, "MB"))
    assert (problem is None) is ok
    if problem is not None:
        assert (problem.prop == "memory" and problem.value == value) or problem.value != problem.value


@pytest.mark.parametrize(("value", "ok"), [(1, True), (0, False), (5, True), (6, False), (2.0, False), (False, False)])
def test_check_int_range_wants_whole_numbers(value: object, ok: bool) -> None:
    assert (check_int_range("n", value, Range(1, 5)) is None) is ok


def test_range_messages() -> None:
    assert str(Range(1, 900, "s")) == "1..900 s"
    assert str(Range(1000, math.inf, "invocations")) == ">= 1000 invocations"
    assert str(Range(0.5, 1)) == "0.5..1"
    problem = check_range("timeout", 901, Range(1, 900, "s"), "use Step Functions")
    assert problem == Problem("timeout", 901, "1..900 s", "use Step Functions")
    assert problem.describe() == "timeout=901 is invalid; allowed: 1..900 s. use Step Functions"


def test_unresolved_values_are_left_to_deploy_time() -> None:
    original = limits.is_unresolved
    try:
        limits.is_unresolved = lambda v: v == -1.8e289  # what the CDK layer registers for tokens
        assert check_range("memory", -1.8e289, Range(128, 10_240)) is None
        assert check_int_range("memory", -1.8e289, Range(128, 10_240)) is None
    finally:
        limits.is_unresolved = original


@pytest.mark.parametrize(("timeout", "window", "visibility"), [(1, 0, 6), (6, 5, 41), (10, 5, 65), (900, 300, 5700)])
def test_sqs_visibility_is_six_times_the_timeout_plus_the_window(timeout: int, window: int, visibility: int) -> None:
    assert limits.sqs_visibility_timeout_s(timeout, window) == visibility
    assert limits.sqs_visibility_problem(timeout, window) is None


def test_sqs_visibility_above_the_sqs_maximum_is_a_problem() -> None:
    assert limits.sqs_visibility_problem(7_200, 0) is None  # 43,200 s exactly
    problem = limits.sqs_visibility_problem(7_200, 1)
    assert problem is not None and "this needs 43201 s" in problem.allowed


@pytest.mark.parametrize(
    ("pc", "props"),
    [
        (ProvisionedConcurrency(), []),
        (ProvisionedConcurrency(1, 1), []),
        (ProvisionedConcurrency(0, 10), ["provisioned_concurrency.min_capacity"]),
        (ProvisionedConcurrency(1, 10_001), ["provisioned_concurrency.max_capacity"]),
        (ProvisionedConcurrency(5, 4), ["provisioned_concurrency.min_capacity"]),
        (ProvisionedConcurrency(target_utilization=0), ["provisioned_concurrency.target_utilization"]),
        (ProvisionedConcurrency(target_utilization=1), ["provisioned_concurrency.target_utilization"]),
        (ProvisionedConcurrency(target_utilization=0.99), []),
        (ProvisionedConcurrency(target_utilization=True), ["provisioned_concurrency.target_utilization"]),  # type: ignore[arg-type]
    ],
)
def test_provisioned_concurrency_rules(pc: ProvisionedConcurrency, props: list[str]) -> None:
    assert [p.prop for p in pc.problems()] == props


def test_defaults_are_the_documented_figures() -> None:
    assert ProvisionedConcurrency() == ProvisionedConcurrency(1, 10, 0.7)
    assert (limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB, limits.TIMEOUT_MAX_S) == (128, 10_240, 900)
    assert (limits.ENVIRONMENT_MAX_BYTES, limits.SQS_VISIBILITY_MAX_S, limits.BATCHING_WINDOW_MAX_S) == (
        4096,
        43_200,
        300,
    )
    assert (limits.HTTP_API_INTEGRATION_TIMEOUT_S, limits.REST_API_INTEGRATION_TIMEOUT_S) == (30, 29)
    assert (limits.SQS_BATCH_MAX_FIFO, limits.SQS_BATCH_MAX_STANDARD, limits.SQS_BATCH_MAX_WITHOUT_WINDOW) == (
        10,
        10_000,
        10,
    )
    assert (limits.ASYNC_RETRY_MAX, limits.ASYNC_EVENT_AGE_MIN_S, limits.ASYNC_EVENT_AGE_MAX_S) == (2, 60, 21_600)
    assert [i.value for i in Invocation] == ["sync", "async", "queue", "stream", "workflow"]


def test_problems_collect_and_raise_together() -> None:
    problems = Problems("S/Fn")
    assert not problems
    problems.add(None)
    problems.add(Problem("memory", 50, "128..10240 MB"))
    problems.extend([Problem("timeout", 0, "1..899 s")])
    with pytest.raises(ConfigurationError) as info:
        problems.raise_if_any()
    assert str(info.value) == (
        "S/Fn: 2 invalid properties:\n  - memory=50 is invalid; allowed: 128..10240 MB\n"
        "  - timeout=0 is invalid; allowed: 1..899 s"
    )
    assert info.value.at("Other").path == "Other"
    with pytest.raises(ValueError, match="at least one problem"):
        ConfigurationError([])


def test_problems_say_exactly_what_is_wrong() -> None:
    """Exact Problem objects: prop, value as given, allowed range, hint (what a user reads)."""
    assert check_range("m", "x", Range(1, 2, "MB"), "h") == Problem("m", "x", "a number in 1..2 MB", "h")
    assert check_range("m", 3, Range(1, 2, "MB"), "h") == Problem("m", 3, "1..2 MB", "h")
    assert check_int_range("m", 1.5, Range(1, 2), "h") == Problem("m", 1.5, "a whole number in 1..2", "h")
    assert check_int_range("m", 3, Range(1, 2), "h") == Problem("m", 3, "1..2", "h")
    assert limits.sqs_visibility_timeout_s(5) == 30  # no window by default
    assert limits.sqs_visibility_problem(7_200, 5) == Problem(
        "function.timeout",
        "7200 s",
        "6 x timeout + batching window <= 43200 s (SQS maximum visibility timeout); this needs 43205 s",
        "shorten the function's timeout",
    )


@pytest.mark.parametrize(
    ("p99", "multiplier", "problems"),
    [
        (0, 3, [Problem("p99", "0 ms", "a duration > 0 ms")]),
        (math.inf, 3, [Problem("p99", "inf ms", "a finite duration > 0 ms")]),
        ("5", 3, [Problem("p99", "5", "a duration > 0 ms")]),
        (
            100,
            0.5,
            [Problem("multiplier", 0.5, "1..10 x p99", "'Lambda in Production' recommends 2-3 x the measured p99")],
        ),
        (
            -1,
            11,
            [
                Problem("p99", "-1 ms", "a duration > 0 ms"),
                Problem("multiplier", 11, "1..10 x p99", "'Lambda in Production' recommends 2-3 x the measured p99"),
            ],
        ),
    ],
)
def test_timeout_from_p99_problems(p99: object, multiplier: float, problems: list[Problem]) -> None:
    from lambda_constructs.core.sizing import timeout_seconds_from_p99_ms

    with pytest.raises(ConfigurationError) as info:
        timeout_seconds_from_p99_ms(p99, multiplier)  # type: ignore[arg-type]
    assert list(info.value.problems) == problems


def test_timeout_above_900_points_at_step_functions() -> None:
    from lambda_constructs.core.sizing import timeout_seconds_from_p99_ms

    assert timeout_seconds_from_p99_ms(300_000, 3) == 900  # exactly Lambda's maximum
    with pytest.raises(ConfigurationError) as info:
        timeout_seconds_from_p99_ms(300_001, 3)
    (problem,) = info.value.problems
    assert (problem.prop, problem.value, problem.allowed) == ("p99", "300001 ms", "p99 x 3 <= 900 s (got 901 s)")
    assert "Step Functions" in problem.hint
    assert timeout_seconds_from_p99_ms(1, 1) == 1 and timeout_seconds_from_p99_ms(1000, 3) == 3
    assert timeout_seconds_from_p99_ms(1000.1, 3) == 4  # rounded up, never down


def test_a_caller_timeout_problem_names_both_numbers_from_the_limit_on() -> None:
    assert limits.caller_timeout_problem("default.timeout", 28, 29, "the wait", "why") is None
    assert limits.caller_timeout_problem("default.timeout", 29, 29, "the wait", "why") == Problem(
        "default.timeout",
        "29 s",
        "< 29 s, the wait",
        "the function's 29 s timeout reaches the 29 s the caller waits: why",
    )
    problem = limits.caller_timeout_problem("fn.timeout", 31, 30, "AppSync", "lost")
    assert problem is not None and (problem.value, problem.allowed) == ("31 s", "< 30 s, AppSync")
