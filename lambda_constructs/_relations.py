"""Rules between constructs the library knows both sides of: stacks, apps, queues and mappings.

Each rule is checked where the second construct (or method call) is validated, so a relationship AWS
or aws-cdk-lib would reject at synthesis or deploy is a
[`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError] at that call:

- a source built in another stack than its function: aws-cdk-lib wires the reference both ways (the
  mapping or permission in one stack, the role's grant in the other), which is a dependency cycle at
  synthesis; built in another app, it fails at synthesis with "Cannot reference across apps";
- one queue given to two consumers: the second rewrites the queue's redrive policy, orphaning the
  first dead-letter queue and its alarm;
- the same source mapped twice to one function: Lambda refuses the second mapping
  (``ResourceConflictException``: "An event source mapping with ... already exists", AWS Lambda API
  reference, CreateEventSourceMapping).

The bookkeeping lives on the Python objects (no jsii round trip, nothing in the template).
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core.errors import Problem

_MAPPINGS = "_lc_mappings"
_CONSUMER = "_lc_consumer"
CREATE_MAPPING = (
    "Lambda refuses a second mapping of one source to one function (CreateEventSourceMapping, AWS Lambda API "
    "reference: https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html)"
)


def same_stack_problem(scope: object, function: object, prop: str = "function") -> Problem | None:
    """A problem when ``function`` lives in another stack (or app) than the construct built in ``scope``.

    The decision is a clear error, not a source built in the function's stack behind the user's back:
    the user chose ``scope``, and building elsewhere would put alarms and queues where nobody looks.
    """
    if not isinstance(scope, Construct) or not isinstance(function, Construct):
        return None
    try:
        mine, theirs = _cdk.stack_of(scope), _cdk.stack_of(function)
    except Exception:  # a duck-typed function that is not in any stack: other checks report it
        return None
    if mine is theirs:
        return None
    function_path = _cdk.path_of(function)
    if _cdk.node_of(mine).root is not _cdk.node_of(theirs).root:
        return Problem(
            prop,
            function_path,
            "a function of the same App",
            "it belongs to another aws_cdk.App: constructs of two apps cannot reference each other "
            "(aws-cdk-lib: 'Cannot reference across apps'); build both in one App",
        )
    return Problem(
        prop,
        function_path,
        f"a function in this construct's stack ({_cdk.path_of(mine) or '<app>'})",
        f"it is in stack {_cdk.path_of(theirs)}: the mapping or permission would sit in one stack and the "
        "function role's grant in the other, a dependency cycle at synthesis; build this construct with "
        f"scope= the function's stack ({_cdk.path_of(theirs)}) or a construct inside it",
    )


def same_app_problem(owner: object, other: object, prop: str) -> Problem | None:
    """A problem when construct ``other`` (an alarm, a grantee, a queue) belongs to another App than ``owner``.

    aws-cdk-lib accepts it at the call and fails at synthesis ("Cannot reference across apps"); a value
    that is not a construct (a service principal, an ARN) has no app and passes.
    """
    return _cdk.foreign_problem(owner, other, prop)


def mapping_problem(function: object, source_arn: object, prop: str, what: str = "") -> Problem | None:
    """A problem when ``function`` already has a mapping of ``source_arn`` (from any construct or method)."""
    if not isinstance(source_arn, str):
        return None
    first = getattr(function, _MAPPINGS, {}).get(source_arn)
    if first is None:
        return None
    return Problem(
        prop, what or first[1], f"a source not mapped to this function yet (mapped by {first[0]})", CREATE_MAPPING
    )


def remember_mapping(function: object, source_arn: object, by: str, what: str) -> None:
    """Record that ``by`` (a construct path or a method) mapped ``source_arn`` (described as ``what``)."""
    if not isinstance(source_arn, str):
        return
    mappings: dict[str, tuple[str, str]] | None = getattr(function, _MAPPINGS, None)
    if mappings is None:
        mappings = {}
        object.__setattr__(function, _MAPPINGS, mappings)
    mappings.setdefault(source_arn, (by, what))


def consumer_problem(queue: Any, prop: str = "queue") -> Problem | None:
    """A problem when another QueueConsumer (or S3/Topic consumer) already consumes ``queue``."""
    first = getattr(queue, _CONSUMER, None)
    if first is None:
        return None
    return Problem(
        prop,
        _cdk.path_of(queue),
        f"a queue no other consumer owns ({first} consumes it)",
        "a second consumer would rewrite the queue's redrive policy and orphan the first dead-letter queue and "
        "its alarm; give each consumer its own queue (or omit queue= and let the consumer create one)",
    )


def remember_consumer(queue: Any, path: str) -> None:
    if getattr(queue, _CONSUMER, None) is None:
        object.__setattr__(queue, _CONSUMER, path)


def remember_marker(function: object, marker: str, path: str) -> None:
    """Record that ``path`` gave ``function`` its one ``marker`` (a Function URL...): AWS allows one per function."""
    sources: dict[str, str] | None = getattr(function, "_lc_sources", None)
    if sources is None:
        sources = {}
        object.__setattr__(function, "_lc_sources", sources)
    sources[marker] = path
