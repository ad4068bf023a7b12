"""The one validation path of every construct, and the checks of durations and topics it uses."""

from __future__ import annotations

import contextlib
import typing
from collections.abc import Callable, Iterator

from aws_cdk import Duration, Stack
from constructs import Construct

from lambda_constructs._cdk.paths import child_path, path_of, root_of, stack_of
from lambda_constructs._cdk.tokens import implements, milliseconds, seconds, short
from lambda_constructs.core.errors import ConfigurationError, Problem, Problems
from lambda_constructs.core.limits import Range, check_range


def validated(scope: Construct, id: str, check: Callable[[Problems], None], *, owner: object | None = None) -> str:
    """The one validation path of every construct: run ``check``, raise once, before anything is built.

    ``scope`` and ``id`` are checked first (a construct scope; a non-empty string id without ``/``),
    then ``check`` collects every problem of the props; an id a sibling already uses is refused when the
    construct is attached (`unique_id()`). A
    [`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError] from a pure helper is reported at this
    path; any other exception from a check (a jsii error on a value of the wrong type) becomes a ConfigurationError too,
    so no foreign exception escapes and nothing is added to the tree.
    """
    if not isinstance(scope, Construct):
        raise ConfigurationError(
            [Problem("scope", short(scope), "a Construct (an App, a Stack, a construct)")], str(id)
        )
    if not isinstance(id, str) or not id or "/" in id:
        raise ConfigurationError(
            [Problem("id", short(id), "a non-empty string without '/'")], path_of(scope) or "<app>"
        )
    problems = Problems(child_path(scope, id))
    try:
        check(problems)
    except ConfigurationError as error:  # a pure helper raised: report it at this path
        problems.absorb(error)
    except Exception as error:  # a value of the wrong type reached aws-cdk-lib or Python arithmetic
        if not problems:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            problems.add(Problem("props", type(error).__name__, "values of the documented types", first))
    problems.raise_if_any()
    if owner is not None:  # the construct about to be created keeps its path and stack: no jsii reads later
        object.__setattr__(owner, "_lc_path", problems.path)
        if isinstance(scope, Stack):
            object.__setattr__(owner, "_lc_stack", scope)
        root = getattr(scope, "_lc_root", None)  # the same App as its scope, when that is known already
        if root is not None:
            object.__setattr__(owner, "_lc_root", root)
    return problems.path


@contextlib.contextmanager
def unique_id(scope: Construct, id: str) -> Iterator[None]:
    """Around ``super().__init__(scope, id)``: an id a sibling already uses becomes a ConfigurationError.

    constructs itself refuses the duplicate and adds nothing to the tree; asking first
    (``node.try_find_child``) would cost a jsii round trip on every construct.
    """
    try:
        yield
    except RuntimeError as error:
        if "There is already a Construct with name" not in str(error):
            raise
        raise ConfigurationError(
            [Problem("id", id, f"an id not used by another child of {path_of(scope) or 'the app'}")],
            child_path(scope, id),
        ) from None


def duration_problem(prop: str, value: object, *, whole_seconds: bool = True, concrete: bool = False) -> Problem | None:
    """A problem if ``value`` is not a Duration (of whole seconds, when asked).

    A token Duration (``Duration.seconds(param.value_as_number)``) is left to deploy time, unless
    ``concrete``: then the library derives numbers from it (alarm thresholds, queue visibility) and
    says so.
    """
    if not isinstance(value, Duration):
        return Problem(prop, short(value), "an aws_cdk.Duration")
    if milliseconds(value) is None:
        if concrete:
            return Problem(
                prop,
                "a deploy-time token",
                "a concrete Duration",
                "alarm thresholds and queue visibility timeouts are derived from it at synthesis",
            )
        return None
    ms = typing.cast(float, milliseconds(value))
    if ms != ms or ms in (float("inf"), float("-inf")):
        return Problem(prop, f"{ms} ms", "a finite duration")
    if whole_seconds and ms % 1000:
        return Problem(prop, f"{ms:g} ms", "a whole number of seconds")
    return None


def duration_range_problem(prop: str, value: object, low_s: float, high_s: float, hint: str = "") -> Problem | None:
    """A problem unless ``value`` is a Duration of whole seconds within ``low_s..high_s`` (tokens pass)."""
    problem = duration_problem(prop, value)
    if problem or milliseconds(typing.cast(Duration, value)) is None:
        return problem
    return check_range(prop, seconds(typing.cast(Duration, value)), Range(low_s, high_s, "s"), hint)


def topic_problem(topic: object, prop: str = "alarm_topic", scope: object = None) -> Problem | None:
    """A problem unless ``topic`` is an SNS topic (or None); with ``scope``, one of the same App."""
    if topic is None:
        return None
    if implements(topic, "topic_arn"):
        return foreign_problem(scope, topic, prop)
    return Problem(prop, short(topic), "an aws_sns.ITopic or None")


CROSS_APP = (
    "it belongs to another aws_cdk.App: constructs of two apps cannot reference each other "
    "(aws-cdk-lib: 'Cannot reference across apps'); build both in one App"
)


def foreign_problem(scope: object, value: object, prop: str, *, same_stack_why: str = "") -> Problem | None:
    """A problem when construct ``value`` belongs to another App than ``scope`` (aws-cdk-lib fails at synthesis
    with "Cannot reference across apps") or, with ``same_stack_why``, to another stack (a dependency cycle at
    synthesis, as ``same_stack_why`` says). A value that is not a construct (an imported ARN proxy, None) passes.
    """
    if not isinstance(scope, Construct) or not isinstance(value, Construct):
        return None
    if root_of(scope) is not root_of(value):
        return Problem(prop, path_of(value), "a construct of the same App", CROSS_APP)
    if not same_stack_why:
        return None
    mine, theirs = stack_of(scope), stack_of(value)
    if mine is theirs:
        return None
    return Problem(
        prop,
        path_of(value),
        f"a resource in this construct's stack ({path_of(mine) or '<app>'})",
        f"it is in stack {path_of(theirs)}: {same_stack_why}; build this construct in stack {path_of(theirs)}",
    )
