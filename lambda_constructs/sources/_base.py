"""What every event-source construct shares: the function check and its alarm topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_sns as sns

from lambda_constructs.core.errors import Problem, Problems

if TYPE_CHECKING:
    from lambda_constructs.function.production_function import ProductionFunction


def check_function(problems: Problems, function: object) -> bool:
    """Record a problem unless ``function`` is a ProductionFunction; True when it is."""
    from lambda_constructs.function.production_function import ProductionFunction

    if isinstance(function, ProductionFunction):
        return True
    problems.add(Problem("function", function, "a ProductionFunction (its live alias and timeout drive the limits)"))
    return False


def alarm_topic(function: ProductionFunction, topic: sns.ITopic | None) -> sns.ITopic | None:
    """The construct's own topic, else the function's."""
    return topic if topic is not None else function.alarm_topic
