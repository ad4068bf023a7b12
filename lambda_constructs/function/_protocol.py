"""What the function's add-ons (safe deployments, dashboards) need of a ProductionFunction, as a protocol.

``production_function`` imports ``deployment`` and ``dashboard``; they must not import it back (no
circular imports, tests/test_import_graph.py). So they take a `LiveFunction` and recognise a
ProductionFunction by a class attribute (`is_live_function()`): exact, and without a jsii round
trip (``hasattr`` on a jsii proxy would read the property through the kernel).
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Protocol, TypeGuard

if TYPE_CHECKING:
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_sqs as sqs
    from constructs import Construct, Node

    from lambda_constructs.core.config import ProvisionedConcurrency

MARKER = "_lc_live_function"


class LiveFunction(Protocol):
    """A function behind a ``live`` alias with its own alarms: what ProductionFunction is."""

    @property
    def node(self) -> Node: ...

    @property
    def function(self) -> lambda_.Function: ...

    @property
    def alias(self) -> lambda_.Alias: ...

    @property
    def version(self) -> lambda_.Version: ...

    @property
    def timeout_seconds(self) -> int: ...

    @property
    def memory_size(self) -> int: ...

    @property
    def provisioned_concurrency(self) -> ProvisionedConcurrency | None: ...

    @property
    def failure_queue(self) -> sqs.IQueue | None: ...

    @property
    def log_group(self) -> logs.LogGroup: ...

    def add_alarms(self, *alarms: cloudwatch.Alarm) -> list[cloudwatch.Alarm]: ...


def is_live_function(value: object) -> TypeGuard[LiveFunction]:
    """True for a ProductionFunction (or a subclass): its class carries `MARKER`."""
    return getattr(type(value), MARKER, False) is True


def as_construct(function: LiveFunction) -> Construct:
    """``function`` as the construct it is (a ProductionFunction is a Construct; the protocol cannot say so)."""
    return typing.cast("Construct", function)
