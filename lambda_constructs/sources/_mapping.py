"""Event source mapping options shared by QueueConsumer, StreamConsumer and KafkaConsumer.

``filters=`` (Lambda event filtering), ``provisioned_poller_config=`` (provisioned mode) and
``metrics_config=`` (event source mapping metrics), under aws-cdk-lib's own names and types, and the
Durations of their windows and ages read once (`duration_reading`).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core import filters as _filters
from lambda_constructs.core import limits
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans.function import Reading

Kind = Literal["sqs", "kafka", "stream"]
FILTERING_PAGE = _filters.FILTERING_PAGE


def filter_criteria(filters: Sequence[object] | None) -> list[Mapping[str, Any]] | None:
    """What aws-cdk-lib's ``filters=`` takes: each pattern wrapped by ``FilterCriteria.filter``
    unless it already is (``{"pattern": "<json>"}``)."""
    if not filters:
        return None
    wrapped: list[Mapping[str, Any]] = []
    for item in filters:
        if isinstance(item, Mapping) and set(item) == {"pattern"} and isinstance(item["pattern"], str):
            wrapped.append(item)
        else:
            wrapped.append(lambda_.FilterCriteria.filter(dict(item)))  # type: ignore[call-overload]
    return wrapped


def check_mapping_options(
    problems: Problems,
    kind: Kind,
    *,
    filters: object = None,
    provisioned_poller_config: object = None,
    metrics_config: object = None,
) -> None:
    problems.extend(
        mapping_option_problems(
            kind, filters=filters, provisioned_poller_config=provisioned_poller_config, metrics_config=metrics_config
        )
    )


def mapping_option_problems(
    kind: Kind,
    *,
    filters: object = None,
    provisioned_poller_config: object = None,
    metrics_config: object = None,
) -> list[Problem]:
    """The problems of ``filters=``, ``provisioned_poller_config=`` and ``metrics_config=``, in that order."""
    found = [*_filters.filters_problems("filters", filters), *poller_problems(kind, provisioned_poller_config)]
    metrics = metrics_config_problem(kind, metrics_config)
    return found if metrics is None else [*found, metrics]


def warn_filters(scope: Construct, filters: Sequence[object] | None, kind: Kind) -> None:
    """Above the default quota of 5 needs a quota increase (``core.filters.quota_notes``); on SQS a filtered-out
    message is deleted."""
    _cdk.annotate(scope, _filters.quota_notes(len(filters or ())))


def poller_problems(kind: Kind, config: object) -> list[Problem]:
    """``lambda_.ProvisionedPollerConfig`` ranges: SQS 2..200 / 2..2,000, Kafka 1..200 / 1..2,000;
    minimum <= maximum (ProvisionedPollerConfig, AWS Lambda API reference)."""
    if config is None:
        return []
    if kind == "stream":
        return [Problem("provisioned_poller_config", _cdk.short(config), "None for Kinesis / DynamoDB Streams")]
    if isinstance(config, Mapping):
        try:
            config = lambda_.ProvisionedPollerConfig(**config)
        except TypeError:
            return [Problem("provisioned_poller_config", _cdk.short(config), "an aws_lambda.ProvisionedPollerConfig")]
    if not isinstance(config, lambda_.ProvisionedPollerConfig):
        return [Problem("provisioned_poller_config", _cdk.short(config), "an aws_lambda.ProvisionedPollerConfig")]
    low = limits.SQS_POLLERS_MIN if kind == "sqs" else limits.KAFKA_POLLERS_MIN
    min_high = limits.SQS_MIN_POLLERS_MAX if kind == "sqs" else limits.KAFKA_MIN_POLLERS_MAX
    max_high = limits.SQS_MAX_POLLERS_MAX if kind == "sqs" else limits.KAFKA_MAX_POLLERS_MAX
    source = "Amazon SQS" if kind == "sqs" else "Kafka"
    found = [
        limits.check_int_range(
            "provisioned_poller_config.minimum_pollers",
            config.minimum_pollers,
            limits.Range(low, min_high),
            f"the {source} range (ProvisionedPollerConfig, AWS Lambda API reference)",
        ),
        limits.check_int_range(
            "provisioned_poller_config.maximum_pollers",
            config.maximum_pollers,
            limits.Range(low, max_high),
            f"the {source} range (ProvisionedPollerConfig, AWS Lambda API reference)",
        ),
    ]
    problems = [p for p in found if p]
    lowest = config.minimum_pollers if config.minimum_pollers is not None else low
    highest = config.maximum_pollers if config.maximum_pollers is not None else 200  # AWS's default maximum
    if not problems and isinstance(lowest, int) and isinstance(highest, int) and lowest > highest:
        problems.append(Problem("provisioned_poller_config.minimum_pollers", lowest, f"<= maximum_pollers ({highest})"))
    if kind == "sqs" and config.poller_group_name is not None:
        problems.append(
            Problem(
                "provisioned_poller_config.poller_group_name",
                config.poller_group_name,
                "None for Amazon SQS (poller groups are for Amazon MSK and self-managed Kafka)",
            )
        )
    return problems


def metrics_config_problem(kind: Kind, config: object) -> Problem | None:
    """``lambda_.MetricsConfig(metrics=[MetricType.EVENT_COUNT, ...])``: at least one metric;
    KAFKA_METRICS on a Kafka mapping only."""
    if config is None:
        return None
    if isinstance(config, Mapping):
        try:
            config = lambda_.MetricsConfig(**config)
        except TypeError:
            return Problem("metrics_config", _cdk.short(config), "an aws_lambda.MetricsConfig")
    if not isinstance(config, lambda_.MetricsConfig):
        return Problem("metrics_config", _cdk.short(config), "an aws_lambda.MetricsConfig")
    metrics = list(config.metrics or ())
    if not metrics or not all(isinstance(m, lambda_.MetricType) for m in metrics):
        return Problem(
            "metrics_config.metrics",
            _cdk.short(metrics),
            "one or more aws_lambda.MetricType (EVENT_COUNT, ERROR_COUNT, KAFKA_METRICS)",
        )
    if kind != "kafka" and lambda_.MetricType.KAFKA_METRICS in metrics:
        return Problem(
            "metrics_config.metrics", "KAFKA_METRICS", "EVENT_COUNT | ERROR_COUNT (KAFKA_METRICS is Kafka only)"
        )
    return None


def bool_problem(prop: str, value: object) -> Problem | None:
    return None if isinstance(value, bool) else Problem(prop, _cdk.short(value), "True or False")


def duration_reading(prop: str, value: object, low_s: float, high_s: float) -> Reading:
    """A Duration read once: whole seconds within ``low_s..high_s``, its problem, or None for a token."""
    problem = _cdk.duration_range_problem(prop, value, low_s, high_s)
    if problem is not None or _cdk.milliseconds(typing.cast(Duration, value)) is None:
        return Reading(problem=problem)
    return Reading(_cdk.seconds(typing.cast(Duration, value)))
