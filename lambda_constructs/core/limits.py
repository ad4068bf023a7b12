"""AWS limits the constructs enforce, in one table, and the pure range checks that use them.

No CDK imports. Each figure cites its source in docs/defaults.md (the AWS documentation):
change a number here and every construct, rule and test follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lambda_constructs.core.errors import Problem

# --- Lambda function (AWS Lambda developer guide: configuration-memory, quotas) ---
MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 10_240
TIMEOUT_MIN_S = 1
TIMEOUT_MAX_S = 900
ENVIRONMENT_MAX_BYTES = 4 * 1024

# --- Asynchronous invocation (AWS::Lambda::EventInvokeConfig) ---
ASYNC_RETRY_MIN, ASYNC_RETRY_MAX = 0, 2
ASYNC_EVENT_AGE_MIN_S, ASYNC_EVENT_AGE_MAX_S = 60, 21_600

# --- SQS (AWS::SQS::Queue, AWS::Lambda::EventSourceMapping, Lambda with-sqs guide) ---
SQS_VISIBILITY_MAX_S = 43_200
SQS_RETENTION_MIN_S, SQS_RETENTION_MAX_S = 60, 1_209_600
SQS_MAX_RECEIVE_MIN, SQS_MAX_RECEIVE_MAX = 1, 1_000
SQS_MAX_RECEIVE_RECOMMENDED = 5
SQS_BATCH_MAX_STANDARD = 10_000
SQS_BATCH_MAX_FIFO = 10
SQS_BATCH_MAX_WITHOUT_WINDOW = 10
SQS_VISIBILITY_MULTIPLIER = 6
BATCHING_WINDOW_MAX_S = 300
SQS_MAX_CONCURRENCY_MIN, SQS_MAX_CONCURRENCY_MAX = 2, 1_000

# --- Streams (AWS::Lambda::EventSourceMapping) ---
STREAM_BATCH_MIN, STREAM_BATCH_MAX = 1, 10_000
STREAM_RETRY_MIN, STREAM_RETRY_MAX = 0, 10_000
STREAM_RECORD_AGE_MIN_S, STREAM_RECORD_AGE_MAX_S = 60, 604_800
STREAM_PARALLELIZATION_MIN, STREAM_PARALLELIZATION_MAX = 1, 10

# --- HTTP front doors (API Gateway quotas) ---
HTTP_API_INTEGRATION_TIMEOUT_S = 30
REST_API_INTEGRATION_TIMEOUT_S = 29
# REGIONAL / PRIVATE REST APIs, with a Service Quotas increase (API Gateway, June 2024); the quota
# has no published ceiling, so the library stops at Lambda's own 900 s maximum.
REST_API_INTEGRATION_TIMEOUT_MAX_S = 900

# --- Synchronous callers other than HTTP (each cited in docs/defaults.md and the construct's page) ---
# "Quotas for configuring and running a WebSocket in API Gateway": integration timeout 50 ms - 29 s, not raisable
WEBSOCKET_INTEGRATION_TIMEOUT_S = 29
WEBSOCKET_ROUTES_MAX = 300
# "Customizing user pool workflows with Lambda triggers" (Amazon Cognito): a trigger must answer within 5 s
COGNITO_TRIGGER_TIMEOUT_S = 5
# "AWS AppSync endpoints and quotas": request execution time for queries, mutations and subscriptions 30 s
APPSYNC_REQUEST_TIMEOUT_S = 30
# "Use Lambda functions as targets of an Application Load Balancer": 1 MB request body and response JSON
ALB_LAMBDA_PAYLOAD_MAX_BYTES = 1024 * 1024
ALB_DEFAULT_IDLE_TIMEOUT_S = 60  # the load balancer attribute idle_timeout.timeout_seconds, AWS's default
ALB_RULE_PRIORITY_MIN, ALB_RULE_PRIORITY_MAX = 1, 50_000
ALB_RULE_CONDITIONS_MAX = 5

# --- Event source mappings: filters, provisioned mode, tumbling windows, Kafka ---
# "Control which events Lambda sends to your function": 5 filters per mapping, up to 10 with a quota increase
FILTERS_DEFAULT_QUOTA, FILTERS_MAX = 5, 10
FILTER_PATTERN_MAX_CHARS = 4096  # AWS::Lambda::EventSourceMapping Filter.Pattern
TUMBLING_WINDOW_MAX_S = 900
# ProvisionedPollerConfig (AWS Lambda API reference): SQS 2..200 minimum and 2..2,000 maximum pollers,
# Kafka 1..200 and 1..2,000
SQS_POLLERS_MIN, SQS_MIN_POLLERS_MAX, SQS_MAX_POLLERS_MAX = 2, 200, 2_000
KAFKA_POLLERS_MIN, KAFKA_MIN_POLLERS_MAX, KAFKA_MAX_POLLERS_MAX = 1, 200, 2_000
# The ENI actions Lambda's pollers need in the function's role to reach Kafka brokers inside a VPC
# ("Using Lambda with Amazon MSK" / "Using Lambda with self-managed Apache Kafka", execution role permissions):
# granted by KafkaConsumer for self-managed brokers, and checked by the deploy contract
KAFKA_VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)

# --- EventBridge target retry policy (AWS::Events::Rule RetryPolicy) ---
EVENTS_RETRY_MIN, EVENTS_RETRY_MAX = 0, 185
EVENTS_EVENT_AGE_MIN_S, EVENTS_EVENT_AGE_MAX_S = 60, 86_400

# --- Provisioned concurrency auto scaling ("Lambda in Production"; Lambda developer guide) ---
DEFAULT_TARGET_UTILIZATION = 0.7


@dataclass(frozen=True)
class Range:
    """An inclusive numeric range with a unit, used for both checks and messages."""

    low: float
    high: float
    unit: str = ""

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.high == float("inf"):
            return f">= {_num(self.low)}{unit}"
        return f"{_num(self.low)}..{_num(self.high)}{unit}"

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _never_unresolved(value: object) -> bool:
    return False


# The CDK layer registers aws_cdk.Token.is_unresolved here (see _cdk.py), so a CloudFormation
# parameter or other token is left for deploy time instead of being range-checked as a number.
is_unresolved: Callable[[object], bool] = _never_unresolved


def check_range(prop: str, value: object, allowed: Range, hint: str = "") -> Problem | None:
    """A [`Problem`][lambda_constructs.core.errors.Problem] if ``value`` is given and outside ``allowed`` (``None`` is
    "not set", an unresolved token is "decided at deploy time")."""
    if value is None or is_unresolved(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN
        return Problem(prop, value, f"a number in {allowed}", hint)
    if not allowed.contains(value):
        return Problem(prop, value, str(allowed), hint)
    return None


def check_int_range(prop: str, value: object, allowed: Range, hint: str = "") -> Problem | None:
    """As `check_range()`, and the value must be a whole number."""
    if value is None or is_unresolved(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return Problem(prop, value, f"a whole number in {allowed}", hint)
    return check_range(prop, value, allowed, hint)


def environment_size_bytes(environment: dict[str, str]) -> int:
    """Bytes Lambda counts toward the 4 KB environment limit: the map serialized as compact JSON.

    ``{"KEY":"value",...}``: keys, values, quotes, colons, commas and braces, with JSON escapes.
    This is how LocalStack's test, validated against AWS, measures it (localstack/localstack#6862);
    AWS's quota page only says "4 KB, total size of all environment variables". Counting keys
    plus values alone (as cfn-lint E3697 does) would accept maps that Lambda rejects with
    "exceeded the 4KB limit": the JSON form adds 6 bytes per variable and 1 in all.
    """
    import json

    return len(json.dumps(environment, separators=(",", ":")).encode("utf-8"))


def sqs_visibility_timeout_s(function_timeout_s: int, batching_window_s: int = 0) -> int:
    """AWS's recommended source-queue visibility timeout: 6 x function timeout + batching window.

    "Set the source queue's visibility timeout to at least six times the timeout that you
    configure on your function, plus the value of MaximumBatchingWindowInSeconds" (AWS Lambda
    developer guide, with-sqs; "AWS Lambda — Patterns and Production"). The extra time lets Lambda
    retry throttled batches.
    """
    return SQS_VISIBILITY_MULTIPLIER * function_timeout_s + batching_window_s


def sqs_visibility_problem(function_timeout_s: int, batching_window_s: int = 0) -> Problem | None:
    """A problem if the derived visibility timeout exceeds SQS's 43,200 s maximum.

    Unreachable under today's limits (6 x 900 s + 300 s = 5,700 s), kept so that a future
    raise of Lambda's timeout cannot silently produce an undeployable queue.
    """
    visibility = sqs_visibility_timeout_s(function_timeout_s, batching_window_s)
    if visibility <= SQS_VISIBILITY_MAX_S:
        return None
    return Problem(
        "function.timeout",
        f"{function_timeout_s} s",
        f"6 x timeout + batching window <= {SQS_VISIBILITY_MAX_S} s (SQS maximum visibility timeout); "
        f"this needs {visibility} s",
        "shorten the function's timeout",
    )


def caller_timeout_problem(prop: str, timeout_s: int, limit_s: int, caller: str, why: str) -> Problem | None:
    """A problem when a function's timeout reaches the time its synchronous caller waits (``limit_s``).

    The caller gives up at ``limit_s`` while the function keeps running and billing, and its answer
    is lost: refuse, naming both numbers.
    """
    if timeout_s < limit_s:
        return None
    return Problem(
        prop,
        f"{timeout_s} s",
        f"< {limit_s} s, {caller}",
        f"the function's {timeout_s} s timeout reaches the {limit_s} s the caller waits: {why}",
    )
