"""Plain option types for the constructs: how a function is invoked, provisioned concurrency.

Pure Python, no CDK imports: these are values a user builds and a construct validates.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lambda_constructs.core import limits
from lambda_constructs.core.errors import Problem, concrete_problem


class Invocation(enum.Enum):
    """How a function is invoked; it decides the defaults that depend on the caller.

    - ``SYNC``: a caller waits (API Gateway, Function URL). Latency-sensitive, so provisioned
      concurrency is on by default ("Lambda in Production"; "AWS Lambda in production: patterns").
    - ``ASYNC``: Lambda queues the event (S3, SNS, EventBridge). An SQS failure queue is wired
      as the onFailure destination, because without one failed events are dropped ("Lambda in Production").
    - ``QUEUE``: an SQS event source mapping polls; failures go to the queue's redrive DLQ.
    - ``STREAM``: Kinesis / DynamoDB Streams / Kafka (Amazon MSK or self-managed): a poll-based log;
      failures go to the mapping's on-failure destination.
    - ``WORKFLOW``: a machine waits for the answer (a Step Functions task, a CodeDeploy hook, a
      CloudFormation custom resource, a Cognito trigger). Synchronous, so there is no event to
      dead-letter, but nobody is waiting on a page load: no provisioned concurrency by default
      (about $9 a month per 1 GB function kept warm). The caller owns the retries: Step Functions
      retries what its ``Retry`` field says ("Handle Lambda service exceptions", AWS Step Functions
      developer guide), CodeDeploy fails the deployment, CloudFormation fails the stack operation,
      Cognito retries three times within its 5 s limit.
    """

    SYNC = "sync"
    ASYNC = "async"
    QUEUE = "queue"
    STREAM = "stream"
    WORKFLOW = "workflow"


class _Default(enum.Enum):
    """Sentinel: "use the library default for this invocation type"."""

    DEFAULT = "default"


DEFAULT = _Default.DEFAULT


@dataclass(frozen=True)
class ProvisionedConcurrency:
    """Provisioned concurrency on the ``live`` alias, scaled by Application Auto Scaling.

    Args:
        min_capacity: environments kept warm at all times; also the alias's static value,
            so CloudFormation and auto scaling agree (aws-cdk#30503). Default 1.
        max_capacity: the most auto scaling may provision. Default 10.
        target_utilization: target tracking on LambdaProvisionedConcurrencyUtilization.
            Default 0.7: AWS's own example, scaling out above 70 % and in below about 63 %
            ("Lambda in Production", AWS Lambda developer guide). Must be strictly between 0 and 1.
    """

    min_capacity: int = 1
    max_capacity: int = 10
    target_utilization: float = limits.DEFAULT_TARGET_UTILIZATION

    def problems(self, prop: str = "provisioned_concurrency") -> list[Problem]:
        why = "auto scaling, the reserved-concurrency check and the report use it at synthesis"
        tokens = [
            concrete_problem(f"{prop}.{name}", getattr(self, name), why)
            for name in ("min_capacity", "max_capacity", "target_utilization")
        ]
        if any(tokens):
            return [p for p in tokens if p]
        found = [
            limits.check_int_range(f"{prop}.min_capacity", self.min_capacity, limits.Range(1, 10_000)),
            limits.check_int_range(f"{prop}.max_capacity", self.max_capacity, limits.Range(1, 10_000)),
        ]
        if not (
            isinstance(self.target_utilization, int | float)
            and not isinstance(self.target_utilization, bool)
            and 0 < self.target_utilization < 1
        ):
            found.append(
                Problem(
                    f"{prop}.target_utilization",
                    self.target_utilization,
                    "strictly between 0 and 1 (exclusive)",
                    "0.7 is AWS's own example",
                )
            )
        problems = [p for p in found if p]
        if not problems and self.min_capacity > self.max_capacity:
            problems.append(
                Problem(f"{prop}.min_capacity", self.min_capacity, f"<= max_capacity ({self.max_capacity})")
            )
        return problems
