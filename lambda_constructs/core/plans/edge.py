"""The plan of an EdgeFunction (Lambda@Edge): the edge's limits per event type, and every decision and number.

Pure Python. Lambda@Edge runs a copy of the function in CloudFront's regions and takes a narrower set of
Lambda features ("Restrictions on Lambda@Edge", Amazon CloudFront developer guide,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-edge-function-restrictions.html)
and smaller quotas for viewer events than for origin events ("Quotas on Lambda@Edge", same guide,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-lambda-at-edge).
`surface_problems()`, `sizing_problems()` and `option_problems()` are the pure halves of the construct's
checks (it adds the questions of CDK types in their place); `plan_edge()` makes its decisions: the
timeout and memory within the event type's quotas, the numbered version, the role, the replica logs'
permissions and their acknowledgements, the alarms and the number of CloudFormation resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from lambda_constructs.core import limits
from lambda_constructs.core.errors import ConfigurationError, Problem, short
from lambda_constructs.core.plans.common import Acknowledgement, AlarmPlan, Note
from lambda_constructs.core.plans.endpoint import logical_id_at, under_stack
from lambda_constructs.core.plans.function import Reading, TimeoutPlan, function_alarms
from lambda_constructs.core.sizing import DEFAULT_TIMEOUT_MULTIPLIER, Memory, timeout_seconds_from_p99_ms

EDGE_REGION = "us-east-1"
RESTRICTIONS = "Restrictions on Lambda@Edge (Amazon CloudFront developer guide)"
# Quotas on Lambda@Edge (Amazon CloudFront developer guide): per event type
VIEWER_MAX_TIMEOUT_S, ORIGIN_MAX_TIMEOUT_S = 5, 30
VIEWER_MAX_MEMORY_MB, ORIGIN_MAX_MEMORY_MB = 128, 10_240
VIEWER_EVENT_TYPES = ("VIEWER_REQUEST", "VIEWER_RESPONSE")  # LambdaEdgeEventType names; the others are origin events
RUNTIMES = ("nodejs", "python")  # the runtime families Lambda@Edge supports (runtime name prefixes)
HANDLER_MAX = 128
DESCRIPTION_MAX = 256
UNSUPPORTED = {
    "environment": "environment variables",
    "layers": "Lambda layers",
    "vpc": "VPC access",
    "provisioned_concurrency": "provisioned concurrency",
    "reserved_concurrency": "reserved concurrency",
    "dead_letter_queue": "dead-letter queues",
    "snap_start": "SnapStart",
}
ARCHITECTURE = "x86_64"
ALARM_NOTE = " (us-east-1 metrics)"  # each edge region reports its own metrics
ROLE_ID = "ServiceRole"
ROLE_PRINCIPALS = ("lambda.amazonaws.com", "edgelambda.amazonaws.com")
ROLE_DESCRIPTION = "Lambda@Edge execution role: writes to its own log group only"
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")  # on its own (us-east-1) log group
REPLICA_LOGS_ID = "ReplicaLogs"
REPLICA_LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
FUNCTION_ID = "Function"
_NO_FEATURE = f"Lambda@Edge does not support this ({RESTRICTIONS}); CloudFront returns the error to the viewer."
# on the function resource alone: Lambda@Edge supports neither a dead-letter queue nor X-Ray tracing
# ("Restrictions on Lambda@Edge", Amazon CloudFront developer guide:
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-edge-function-restrictions.html)
FUNCTION_ACKS: tuple[Acknowledgement, ...] = (
    ("Serverless-LambdaDLQ", "Lambda@Edge supports no dead-letter queue: " + _NO_FEATURE),
    ("Serverless-LambdaTracing", "Lambda@Edge supports no AWS X-Ray tracing: " + _NO_FEATURE),
)
REPLICA_LOGS_REASON = (
    "Lambda@Edge replicas log in the region of the edge location that ran them, which is not known at "
    "deploy time: the log group ARN's region is '*'; account and log group name are this function's."
)

EventKind = Literal["viewer", "origin"]
CodeKind = Literal["zip", "image", "other"]


@dataclass(frozen=True)
class EdgeLimits:
    """The Lambda@Edge quotas of one event type, and the memory it gets unless one is given."""

    kind: EventKind
    max_timeout_s: int
    max_memory_mb: int
    default_memory: Memory  # viewer: 128 MB (its maximum); origin: Memory.io_bound() (1,024 MB)


def edge_limits(event_type: str) -> EdgeLimits:
    """The quotas of ``event_type`` (a ``LambdaEdgeEventType`` name): viewer request/response, else origin."""
    if event_type in VIEWER_EVENT_TYPES:
        return EdgeLimits("viewer", VIEWER_MAX_TIMEOUT_S, VIEWER_MAX_MEMORY_MB, Memory.mb(VIEWER_MAX_MEMORY_MB))
    return EdgeLimits("origin", ORIGIN_MAX_TIMEOUT_S, ORIGIN_MAX_MEMORY_MB, Memory.io_bound())


# ------------------------------------------------------------------ the pure halves of the checks


def surface_problems(
    given: Mapping[str, object],
    *,
    code: CodeKind,
    code_shown: object,
    handler: object,
    runtime: str | None,
    runtime_shown: object,
    architecture: object,
) -> list[Problem]:
    """The features Lambda@Edge lacks, the code, handler, runtime and architecture, in the order the error lists them.

    ``given``: each keyword of `UNSUPPORTED` with its value (None: not given). ``runtime``: the runtime's
    name, None when it is not an ``aws_lambda.Runtime``. ``architecture``: None for x86_64 (or not given),
    else what to show of the one given.
    """
    found = [
        Problem(name, short(value), "None", f"Lambda@Edge does not support {UNSUPPORTED[name]} ({RESTRICTIONS})")
        for name, value in given.items()
        if value is not None
    ]
    if code == "image":
        found.append(
            Problem(
                "code",
                "a container image",
                "zip code (Code.from_asset)",
                f"Lambda@Edge does not support container images ({RESTRICTIONS})",
            )
        )
    elif code == "other":
        found.append(Problem("code", code_shown, "an aws_lambda.Code"))
    if not isinstance(handler, str) or not handler.strip() or len(handler) > HANDLER_MAX:
        found.append(Problem("handler", short(handler), f"a non-empty string of at most {HANDLER_MAX} characters"))
    if runtime is None or not runtime.startswith(RUNTIMES):
        found.append(
            Problem(
                "runtime",
                runtime_shown,
                "a Node.js or Python runtime",
                f"Lambda@Edge supports only these ({RESTRICTIONS})",
            )
        )
    if architecture is not None:
        found.append(Problem("architecture", architecture, "X86_64", f"Lambda@Edge runs x86_64 only ({RESTRICTIONS})"))
    return found


def region_problem(region: str | None) -> Problem | None:
    """Lambda@Edge functions are created in us-east-1 (``region`` None: an env-agnostic stack's token)."""
    if region == EDGE_REGION:
        return None
    return Problem(
        "stack.region",
        "unresolved (env-agnostic stack)" if region is None else region,
        EDGE_REGION,
        f"Lambda@Edge functions are created in {EDGE_REGION}: put this one in a stack with "
        f"env=Environment(region='{EDGE_REGION}') (and cross_region_references=True on the "
        "distribution's stack if it lives elsewhere)",
    )


def _timeout(p99: Reading | None, timeout: Reading | None, multiplier: object) -> TimeoutPlan | list[Problem]:
    """The timeout from exactly one of p99 (x multiplier, rounded up) and timeout (both read in ms)."""
    given = [n for n, v in (("p99", p99), ("timeout", timeout)) if v is not None]
    if len(given) != 1:
        return [Problem("p99/timeout", ", ".join(given) or "none", "exactly one of p99=Duration or timeout=Duration")]
    reading = p99 if p99 is not None else timeout
    assert reading is not None
    if reading.problem is not None or reading.value is None:
        return [reading.problem] if reading.problem is not None else []
    ms = reading.value
    if p99 is None:
        return TimeoutPlan(int(ms // 1000), "fixed")
    try:
        seconds = timeout_seconds_from_p99_ms(ms, multiplier)  # type: ignore[arg-type]
    except ConfigurationError as error:
        return list(error.problems)
    return TimeoutPlan(seconds, "p99", ms, multiplier)  # type: ignore[arg-type]


def _memory_mb(memory: object, edge: EdgeLimits) -> object:
    """The memory given (a Memory or an int of MB), else the event type's default, in MB."""
    size = memory if memory is not None else edge.default_memory
    return size.size_mb if isinstance(size, Memory) else size


def sizing_problems(
    event_type: str,
    region: str | None,
    p99: Reading | None,
    timeout: Reading | None,
    multiplier: object,
    memory: object,
) -> list[Problem]:
    """The region, and the timeout and memory within the event type's quotas (p99 and timeout read in ms)."""
    edge = edge_limits(event_type)
    found: list[Problem | None] = [region_problem(region)]
    planned = _timeout(p99, timeout, multiplier)
    if isinstance(planned, list):
        found.extend(planned)
    elif not 1 <= planned.seconds <= edge.max_timeout_s:
        prop, reading = ("p99", p99) if p99 is not None else ("timeout", timeout)
        assert reading is not None
        found.append(
            Problem(
                prop,
                f"{reading.value:g} ms",
                f"a timeout of 1..{edge.max_timeout_s} s for {edge.kind} events (got {planned.seconds} s)",
                f"the Lambda@Edge quota for {edge.kind} events ({RESTRICTIONS})",
            )
        )
    size_mb = _memory_mb(memory, edge)
    if isinstance(size_mb, bool) or not isinstance(size_mb, int):
        found.append(Problem("memory", short(memory), "a Memory or an int of MB"))
    else:
        found.append(
            limits.check_int_range(
                "memory",
                size_mb,
                limits.Range(limits.MEMORY_MIN_MB, edge.max_memory_mb, "MB"),
                f"the Lambda@Edge quota for {edge.kind} events",
            )
        )
    return [p for p in found if p is not None]


def option_problems(include_body: object, description: object) -> list[Problem]:
    found = []
    if not isinstance(include_body, bool):
        found.append(Problem("include_body", short(include_body), "True or False"))
    if description is not None and not (isinstance(description, str) and len(description) <= DESCRIPTION_MAX):
        found.append(Problem("description", short(description), f"a string of at most {DESCRIPTION_MAX} characters"))
    return found


# ------------------------------------------------------------------ the plan


def replica_log_group_arn(partition: str, account: str, function_name: str) -> str:
    """The log group a replica writes to: ``/aws/lambda/us-east-1.<function name>`` in any region of the account.

    "Amazon CloudWatch metrics and logs for Lambda@Edge functions", CloudFront developer guide:
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html.
    """
    return f"arn:{partition}:logs:*:{account}:log-group:/aws/lambda/{EDGE_REGION}.{function_name}"


@dataclass(frozen=True)
class ReplicaLogsPlan:
    """The replicas' permission to log in every region: a policy of its own on the role, with its acknowledgements.

    Not the role's default policy: the function depends on that one, and naming the function in it would
    be a dependency cycle.
    """

    id: str
    actions: tuple[str, ...]
    # exactly the two AwsSolutions-IAM5 findings of its statement (cdk-nag names each wildcard resource, with a
    # pseudo parameter as <AWS::...>, a concrete one as its value, the function's name as <its logical id>)
    acknowledgements: tuple[Acknowledgement, ...]


@dataclass(frozen=True)
class EdgeRequest:
    """The plain facts an EdgeFunction reads from its props (after its checks found no problem)."""

    path: str
    stack_path: str
    alarm_prefix: str
    event_type: str  # the LambdaEdgeEventType's name
    p99_ms: float | None = None
    timeout_ms: float | None = None
    timeout_multiplier: float = DEFAULT_TIMEOUT_MULTIPLIER
    memory: Memory | int | None = None
    include_body: bool = False
    description: str | None = None
    partition: str | None = None  # the stack's, None when it is a deploy-time pseudo parameter
    account: str | None = None


@dataclass(frozen=True)
class EdgePlan:
    """Every decision and derived number of one EdgeFunction."""

    path: str
    alarm_prefix: str
    event_type: str  # the LambdaEdgeEventType's name
    limits: EdgeLimits  # the event type's quotas
    timeout: TimeoutPlan  # fixed, or p99 x multiplier; within limits.max_timeout_s
    memory_mb: int  # given, else limits.default_memory
    architecture: str  # x86_64, the only one Lambda@Edge runs
    include_body: bool
    description: str | None
    versioned: bool  # a numbered version (the current version): CloudFront takes neither an alias nor $LATEST
    role_principals: tuple[str, ...]
    role_description: str
    log_actions: tuple[str, ...]  # the role's own statement on its us-east-1 log group
    function_logical_id: str
    acknowledgements: tuple[Acknowledgement, ...]  # on the function resource
    replica_logs: ReplicaLogsPlan
    alarms: tuple[AlarmPlan, ...]  # on the us-east-1 metrics
    notes: tuple[Note, ...]
    # log group, role and its default policy, function, replica-logs policy, version, the alarms
    resource_count: int

    @property
    def timeout_seconds(self) -> int:
        return self.timeout.seconds


def plan_edge(request: EdgeRequest) -> EdgePlan:
    """The decisions of an EdgeFunction whose props passed its checks."""
    edge = edge_limits(request.event_type)
    multiplier = request.timeout_multiplier
    timeout = _timeout(
        None if request.p99_ms is None else Reading(request.p99_ms),
        None if request.timeout_ms is None else Reading(request.timeout_ms),
        multiplier,
    )
    assert isinstance(timeout, TimeoutPlan), "plan_edge() plans props that passed sizing_problems()"
    memory_mb = _memory_mb(request.memory, edge)
    assert isinstance(memory_mb, int)
    function_id = logical_id_at([*under_stack(request.path, request.stack_path), FUNCTION_ID, "Resource"])
    finding = replica_log_group_arn(
        request.partition or "<AWS::Partition>", request.account or "<AWS::AccountId>", f"<{function_id}>"
    )
    alarms = function_alarms(request.path, request.alarm_prefix, timeout.seconds, ALARM_NOTE)
    return EdgePlan(
        path=request.path,
        alarm_prefix=request.alarm_prefix,
        event_type=request.event_type,
        limits=edge,
        timeout=timeout,
        memory_mb=memory_mb,
        architecture=ARCHITECTURE,
        include_body=request.include_body,
        description=request.description,
        versioned=True,
        role_principals=ROLE_PRINCIPALS,
        role_description=ROLE_DESCRIPTION,
        log_actions=LOG_ACTIONS,
        function_logical_id=function_id,
        acknowledgements=FUNCTION_ACKS,
        replica_logs=ReplicaLogsPlan(
            id=REPLICA_LOGS_ID,
            actions=REPLICA_LOG_ACTIONS,
            acknowledgements=(
                (f"AwsSolutions-IAM5[Resource::{finding}]", REPLICA_LOGS_REASON),
                (f"AwsSolutions-IAM5[Resource::{finding}:*]", REPLICA_LOGS_REASON),
            ),
        ),
        alarms=tuple(alarms),
        notes=(),
        resource_count=6 + len(alarms),
    )
