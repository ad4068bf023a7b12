"""Lambda event filtering: the pattern syntax event source mappings accept, checked before deploy.

Pure Python, no CDK imports. Lambda rejects a malformed ``FilterCriteria`` only when CloudFormation
creates the mapping ("Control which events Lambda sends to your function", AWS Lambda developer
guide, https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html), so the
constructs check it at construction:

- a pattern is a JSON object; each key maps to a nested object or to a non-empty array;
- an array holds literal values (string, number, true/false, null) or one-key matcher objects:
  ``prefix``, ``suffix``, ``equals-ignore-case``, ``anything-but``, ``numeric``, ``exists``
  (plus ``wildcard`` and ``cidr`` from the shared EventBridge syntax);
- ``exists`` takes true/false; ``numeric`` takes operator/number pairs (``=``, ``<``, ``<=``,
  ``>``, ``>=``); ``prefix`` / ``suffix`` / ``equals-ignore-case`` take a string;
- the serialized pattern is at most 4,096 characters (AWS::Lambda::EventSourceMapping Filter);
- at most 5 filters per mapping by default, 10 with a quota increase (same guide).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from lambda_constructs.core import limits
from lambda_constructs.core.errors import Problem
from lambda_constructs.core.plans.common import Note

FILTERING_PAGE = (
    "'Control which events Lambda sends to your function' "
    "(https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html)"
)
MATCHERS = ("prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "wildcard", "cidr")
NUMERIC_OPERATORS = ("=", "<", "<=", ">", ">=")


def pattern_text(item: object) -> str | None:
    """The JSON text of one filter: ``FilterCriteria.filter(...)``'s ``{"pattern": "<json>"}``, or the
    pattern itself (a mapping, as ``FilterCriteria.filter`` takes it). None when it is neither."""
    if isinstance(item, Mapping):
        if set(item) == {"pattern"} and isinstance(item["pattern"], str):
            return item["pattern"]
        try:
            return json.dumps(item, separators=(",", ":"))
        except (TypeError, ValueError):
            return None
    return None


def filters_problems(prop: str, filters: object) -> list[Problem]:
    """Problems with a ``filters=`` list; an empty or None list is "no filtering"."""
    if filters is None:
        return []
    if not isinstance(filters, Sequence) or isinstance(filters, str | bytes):
        return [Problem(prop, filters, "a list of filter patterns (aws_lambda.FilterCriteria.filter({...}))")]
    found: list[Problem] = []
    if len(filters) > limits.FILTERS_MAX:
        found.append(
            Problem(
                prop,
                f"{len(filters)} filters",
                f"at most {limits.FILTERS_MAX} per event source mapping",
                f"Lambda allows {limits.FILTERS_DEFAULT_QUOTA} by default and {limits.FILTERS_MAX} with a quota "
                "increase; filters are ORed, so merge patterns with the same keys into one",
            )
        )
    for index, item in enumerate(filters):
        found.extend(pattern_problems(f"{prop}[{index}]", item))
    return found


def quota_notes(count: int) -> list[Note]:
    """A warning above the default quota of 5 filters per mapping: it needs a quota increase first."""
    if count <= limits.FILTERS_DEFAULT_QUOTA:
        return []
    return [
        Note(
            "warning",
            "lambda-constructs:filter-quota",
            f"{count} filters: Lambda allows {limits.FILTERS_DEFAULT_QUOTA} per event source mapping unless the "
            f"account has a quota increase (up to {limits.FILTERS_MAX}); request it first or the deploy fails "
            f"({FILTERING_PAGE}).",
        )
    ]


def pattern_problems(prop: str, item: object) -> list[Problem]:
    text = pattern_text(item)
    if text is None:
        return [Problem(prop, item, "a filter pattern: a mapping, or aws_lambda.FilterCriteria.filter({...})")]
    if len(text) > limits.FILTER_PATTERN_MAX_CHARS:
        return [Problem(prop, f"{len(text)} characters", f"<= {limits.FILTER_PATTERN_MAX_CHARS} characters")]
    try:
        pattern = json.loads(text)
    except ValueError as error:
        return [Problem(prop, text[:80], "a JSON object", f"not JSON: {error}")]
    if not isinstance(pattern, dict) or not pattern:
        return [Problem(prop, text[:80], 'a non-empty JSON object such as {"body": {"type": ["order"]}}')]
    return _object_problems(prop, pattern, [])


def _object_problems(prop: str, node: dict[str, object], path: list[str]) -> list[Problem]:
    found: list[Problem] = []
    for key, value in node.items():
        where = [*path, key]
        if key == "$or" and isinstance(value, list):
            if len(value) < 2 or not all(isinstance(v, dict) and v for v in value):
                found.append(_bad(prop, where, value, "a list of at least two non-empty objects"))
            else:
                for index, branch in enumerate(value):
                    found.extend(_object_problems(prop, branch, [*where, str(index)]))
        elif isinstance(value, dict):
            if not value:
                found.append(_bad(prop, where, value, "a non-empty object or a non-empty list of values"))
            else:
                found.extend(_object_problems(prop, value, where))
        elif isinstance(value, list):
            if not value:
                found.append(_bad(prop, where, value, "a non-empty list of values"))
            for element in value:
                problem = _element_problem(prop, where, element)
                if problem:
                    found.append(problem)
        else:
            found.append(
                _bad(
                    prop,
                    where,
                    value,
                    'a list of values, e.g. ["INSERT"]',
                    "every leaf of a filter pattern is a list: use FilterRule.is_equal(...) or [value]",
                )
            )
    return found


def _element_problem(prop: str, where: list[str], element: object) -> Problem | None:
    if element is None or isinstance(element, str | bool | int | float):
        return None
    if not isinstance(element, dict) or len(element) != 1:
        return _bad(prop, where, element, f"a value or a one-key matcher ({', '.join(MATCHERS)})")
    (matcher, argument), *_ = element.items()
    if matcher not in MATCHERS:
        return _bad(prop, where, element, f"a matcher among {', '.join(MATCHERS)}")
    if matcher == "exists" and not isinstance(argument, bool):
        return _bad(prop, where, element, '{"exists": true} or {"exists": false}')
    if matcher in ("prefix", "suffix", "equals-ignore-case", "wildcard", "cidr") and not (
        isinstance(argument, str) or (isinstance(argument, dict) and set(argument) == {"equals-ignore-case"})
    ):
        return _bad(prop, where, element, f'{{"{matcher}": "<string>"}}')
    if matcher == "numeric" and not _numeric_ok(argument):
        return _bad(
            prop, where, element, '{"numeric": [op, number, ...]} with op one of ' + " ".join(NUMERIC_OPERATORS)
        )
    if matcher == "anything-but" and not (
        isinstance(argument, str | int | float)
        or (isinstance(argument, list) and argument and all(isinstance(a, str | int | float) for a in argument))
        or (isinstance(argument, dict) and len(argument) == 1 and next(iter(argument)) in ("prefix", "suffix"))
    ):
        return _bad(prop, where, element, '{"anything-but": value | [values] | {"prefix": "..."}}')
    return None


def _numeric_ok(argument: object) -> bool:
    if not isinstance(argument, list) or not argument or len(argument) % 2 or len(argument) > 4:
        return False
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return all(op in NUMERIC_OPERATORS and isinstance(n, int | float) and not isinstance(n, bool) for op, n in pairs)


def _bad(prop: str, where: list[str], value: object, expected: str, hint: str = "") -> Problem:
    shown = json.dumps(value)[:80] if not isinstance(value, str) else value[:80]
    return Problem(f"{prop}.{'.'.join(where)}", shown, expected, hint)
