"""What every plan is made of: alarms, annotations and rule-pack acknowledgements, as plain values."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

ALARM_PERIOD_S = 300  # alarms judge 5-minute windows (the rollback alarms 1-minute ones)
DURATION_ALARM_FRACTION = 0.8  # p99 above 80 % of the timeout: close to timing out

Comparison = Literal["GREATER_THAN_OR_EQUAL_TO_THRESHOLD", "GREATER_THAN_THRESHOLD"]


@dataclass(frozen=True)
class AlarmPlan:
    """One CloudWatch alarm: every property the library sets on it.

    ``source`` says whose metric it reads (the builder asks that object for ``metric``):
    ``function`` ($LATEST and every version), ``alias`` (``live``), ``version`` (the version being
    deployed, through ``live``), ``failure_queue``, or a source construct's own resource (``queue``,
    ``dead_letter_queue``, ``mapping``, ``rule``...). Missing data never breaches.
    """

    id: str
    name: str
    description: str
    source: str
    metric: str
    statistic: str
    threshold: float
    comparison: Comparison = "GREATER_THAN_OR_EQUAL_TO_THRESHOLD"
    period_s: int = ALARM_PERIOD_S
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    evaluate_low_sample_count_percentile: str | None = None


@dataclass(frozen=True)
class Note:
    """An annotation the construct emits: ``info`` or a ``warning`` with its id (for acknowledging)."""

    level: Literal["info", "warning"]
    id: str
    message: str


Acknowledgement = tuple[str, str]  # (rule-pack id, reason)


ALARM_NAME_MAX = 255  # CloudWatch (PutMetricAlarm AlarmName: 1..255 characters)


def alarm_name(prefix: str, suffix: str) -> str:
    """``<stack>-<path under the stack>-<suffix>``, within CloudWatch's 255 characters.

    CloudFormation refuses two alarms of one name, so a longer name keeps its start and its suffix and
    replaces the rest of the path by 8 hex digits of the full name's SHA-256: still unique, still stable
    across syntheses.
    """
    full = f"{prefix}-{suffix}"
    if len(full) <= ALARM_NAME_MAX:
        return full
    digest = hashlib.sha256(full.encode("utf-8")).hexdigest()[:8]
    keep = ALARM_NAME_MAX - len(suffix) - len(digest) - 2
    if keep < 1:  # a suffix of its own near 255 characters: the digest alone keeps it unique
        return f"{full[: ALARM_NAME_MAX - len(digest) - 1]}-{digest}"
    return f"{prefix[:keep]}-{digest}-{suffix}"


def alarm_prefix(stack_name: str, stack_path: str, path: str) -> str:
    """The readable, stable part of a construct's alarm names: its stack's name and its path under the stack."""
    relative = path[len(stack_path) :].strip("/").replace("/", "-")
    return "-".join(p for p in (stack_name, relative) if p)


def queue_depth_alarm(id: str, prefix: str, what: str, source: str) -> AlarmPlan:
    """A dead-letter / failure queue holding any message: each one is a lost event."""
    return AlarmPlan(
        id=id,
        name=alarm_name(prefix, id),
        description=f"{what} holds messages: events failed after all retries. "
        "Inspect them, fix the cause, then redrive.",
        source=source,
        metric="ApproximateNumberOfMessagesVisible",
        statistic="Maximum",
        threshold=0,
        comparison="GREATER_THAN_THRESHOLD",
    )


def dead_letter_target_acks(queue: str) -> list[Acknowledgement]:
    """A queue that *is* a failure path needs no DLQ of its own (AwsSolutions-SQS3, Serverless-SQSRedrivePolicy)."""
    reason = f"{queue} is itself a failure path; a dead-letter target needs no dead-letter queue or redrive of its own."
    return [("AwsSolutions-SQS3", reason), ("Serverless-SQSRedrivePolicy", reason)]


# What happens to the stateful resources a construct creates (its queues) when CloudFormation replaces them
# or the stack is deleted, as the name of an aws_cdk.RemovalPolicy member. RETAIN by default: a queue holds
# in-flight messages and parked failures, and "DeletionPolicy attribute" (AWS CloudFormation user guide,
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html) deletes
# them with the resource otherwise. SNAPSHOT is not offered: SQS queues have no snapshots.
RemovalPolicyName = Literal["RETAIN", "RETAIN_ON_UPDATE_OR_DELETE", "DESTROY"]
REMOVAL_POLICIES: tuple[RemovalPolicyName, ...] = ("RETAIN", "RETAIN_ON_UPDATE_OR_DELETE", "DESTROY")
DEFAULT_REMOVAL_POLICY: RemovalPolicyName = "RETAIN"
REMOVAL_POLICY_ALLOWED = (
    "aws_cdk.RemovalPolicy.RETAIN (the default), RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE or RemovalPolicy.DESTROY"
)
