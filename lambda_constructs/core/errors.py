"""The one exception type the library raises for bad input, and a collector for it.

Pure Python: no CDK imports. Validation helpers elsewhere return [`Problem`][lambda_constructs.core.errors.Problem]
objects; a construct collects every problem it finds, then raises one
[`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError] naming its construct path, so a user sees all
mistakes at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One invalid property: what was given, and what is allowed.

    Attributes:
        prop: the keyword argument (or ``prop.sub_field``) that is wrong, as the user wrote it.
        value: the value given, shown with ``repr`` in the message.
        allowed: the allowed range or set, e.g. ``"128..10240 MB"``.
        hint: optional advice on what to change.
    """

    prop: str
    value: object
    allowed: str
    hint: str = ""

    def describe(self) -> str:
        text = f"{self.prop}={_shown(self.value)!r} is invalid; allowed: {self.allowed}"
        if self.hint:
            text += f". {self.hint}"
        return text


TOKEN = "a deploy-time token"


def _never_unresolved(value: object) -> bool:
    return False


# The CDK layer registers its token check here (see _cdk/tokens.py), as it does for limits.is_unresolved
is_unresolved: Callable[[object], bool] = _never_unresolved


def looks_like_token(value: object) -> bool:
    """A CDK token (a CloudFormation parameter's value, an attribute), as the CDK layer registers it in
    ``is_unresolved``; always False without CDK. So a message never shows a number token's placeholder
    (-1.888e+289)."""
    return not isinstance(value, bool) and isinstance(value, str | float) and is_unresolved(value)


def _shown(value: object) -> object:
    return TOKEN if looks_like_token(value) else value


def short(value: object, limit: int = 80) -> object:
    """``value`` for an error message: its repr cut to ``limit`` characters."""
    text = repr(value)
    return value if len(text) <= limit else text[: limit - 3] + "..."


def concrete_problem(prop: str, value: object, why: str) -> Problem | None:
    """A problem when ``value`` is a deploy-time token but the library derives something from it at synthesis."""
    if not looks_like_token(value):
        return None
    return Problem(prop, TOKEN, "a concrete value (not a CloudFormation parameter or other token)", why)


class ConfigurationError(ValueError):
    """Raised at construction time for any invalid property.

    The message names the construct path, each bad prop, the value given and the allowed
    range. ``problems`` holds the same information for programs; ``path`` is the construct
    path (``None`` when raised by a pure helper outside any construct).
    """

    def __init__(self, problems: Sequence[Problem], path: str | None = None) -> None:
        if not problems:
            raise ValueError("ConfigurationError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.path = path
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.path}: " if self.path else ""
        if len(self.problems) == 1:
            return where + self.problems[0].describe()
        lines = "\n".join(f"  - {p.describe()}" for p in self.problems)
        return f"{where}{len(self.problems)} invalid properties:\n{lines}"

    def at(self, path: str) -> ConfigurationError:
        """The same problems, reported at construct ``path``."""
        return ConfigurationError(self.problems, path)


class Problems:
    """Collects problems for one construct; `raise_if_any()` raises them together."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._items: list[Problem] = []

    def add(self, problem: Problem | None) -> None:
        if problem is not None:
            self._items.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        self._items.extend(problems)

    def absorb(self, error: ConfigurationError) -> None:
        """Add the problems of an error raised by a pure helper."""
        self._items.extend(error.problems)

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise ConfigurationError(self._items, self.path)
