"""A griffe extension for the API reference (mkdocs.yml): parameters shown as users write them.

- a default that names a module constant (``multiplier=DEFAULT_TIMEOUT_MULTIPLIER``) shows the
  constant's value (``3``): the constant is private to the library, the number is what a user passes;
- a default that is an enum member or a call shows its whole expression (``Invocation.SYNC``, not
  ``SYNC``);
- the ``DEFAULT`` sentinel (a value derived from other arguments) shows as ``derived`` and its
  private type ``_Default`` leaves the annotation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import griffe

SENTINEL = "DEFAULT"
SENTINEL_TYPE = "_Default"


class UserDefaults(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for function in _functions(pkg):
            for parameter in function.parameters:
                parameter.default = _default(parameter.default, pkg)
                if isinstance(parameter.annotation, griffe.Expr):
                    parameter.annotation = _without_sentinel(parameter.annotation)
        for attribute in _dataclass_fields(pkg):  # their __init__ parameters are built from these
            attribute.value = _default(attribute.value, pkg)


def _functions(obj: griffe.Object | griffe.Alias) -> list[griffe.Function]:
    found: list[griffe.Function] = []
    if isinstance(obj, griffe.Alias):
        return found
    for member in obj.members.values():
        if isinstance(member, griffe.Alias):
            continue
        if isinstance(member, griffe.Function):
            found.append(member)
        elif isinstance(member, griffe.Module | griffe.Class):
            found.extend(_functions(member))
    return found


def _dataclass_fields(obj: griffe.Object) -> list[griffe.Attribute]:
    found: list[griffe.Attribute] = []
    for member in obj.members.values():
        if isinstance(member, griffe.Alias):
            continue
        if isinstance(member, griffe.Class):
            if "dataclass" in member.labels:
                found += [m for m in member.members.values() if isinstance(m, griffe.Attribute)]
            found += _dataclass_fields(member)
        elif isinstance(member, griffe.Module):
            found += _dataclass_fields(member)
    return found


def _default(value: str | griffe.Expr | None, pkg: griffe.Module) -> str | griffe.Expr | None:
    if not isinstance(value, griffe.Expr):
        return value
    if str(value) == SENTINEL:
        return "derived"
    for _ in range(3):  # a constant defined as another constant
        if not isinstance(value, griffe.ExprName | griffe.ExprAttribute):
            break
        try:
            target = pkg.modules_collection[value.canonical_path]
        except (KeyError, ValueError):
            break
        if not isinstance(target, griffe.Attribute) or target.value is None or not target.parent.is_module:
            break  # an enum member (Invocation.SYNC) is written as it is
        value = target.value
        if isinstance(value, str):
            break
    if isinstance(value, griffe.ExprCall):  # Duration.seconds(limits.X): the constant's value inside the call
        arguments = [str(_default(a, pkg)) if isinstance(a, griffe.Expr) else a for a in value.arguments]
        return f"{value.function}({', '.join(arguments)})"
    return str(value)  # a literal, or an expression shown whole (RetentionDays.ONE_MONTH, Invocation.SYNC)


def _without_sentinel(expr: griffe.Expr) -> griffe.Expr:
    if isinstance(expr, griffe.ExprBinOp) and expr.operator == "|":
        left, right = expr.left, expr.right
        if _is_sentinel(left) and isinstance(right, griffe.Expr):
            return _without_sentinel(right)
        if _is_sentinel(right) and isinstance(left, griffe.Expr):
            return _without_sentinel(left)
        return dataclasses.replace(
            expr,
            left=_without_sentinel(left) if isinstance(left, griffe.Expr) else left,
            right=_without_sentinel(right) if isinstance(right, griffe.Expr) else right,
        )
    return expr


def _is_sentinel(part: str | griffe.Expr) -> bool:
    return str(part) == SENTINEL_TYPE
