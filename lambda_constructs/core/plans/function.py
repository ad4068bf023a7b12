"""The plan of a ProductionFunction: every decision and derived number, before any jsii object exists.

`plan_function()` takes plain facts (`FunctionRequest`: the props as given, with each
CDK value already read into a number or a [`Problem`][lambda_constructs.core.errors.Problem]) and returns a frozen
`FunctionPlan`, or records in ``problems`` why it cannot. It is the construct's one
validation path for everything that is not a question of CDK types; ``ProductionFunction`` then
builds from the plan in one pass. Tests, ``report`` and docs examples can reason about a function
without synthesizing it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lambda_constructs.core import limits
from lambda_constructs.core.config import DEFAULT, Invocation, ProvisionedConcurrency
from lambda_constructs.core.errors import ConfigurationError, Problem, Problems
from lambda_constructs.core.plans.common import (
    DEFAULT_REMOVAL_POLICY,
    DURATION_ALARM_FRACTION,
    Acknowledgement,
    AlarmPlan,
    Note,
    RemovalPolicyName,
    alarm_name,
    dead_letter_target_acks,
    queue_depth_alarm,
)
from lambda_constructs.core.sizing import DEFAULT_TIMEOUT_MULTIPLIER, Memory, Sizing, timeout_seconds_from_p99_ms

ALIAS_NAME = "live"
METADATA_KEY = "lambda-constructs"
SIZING_STALE_DAYS = 90
ROLLBACK_PERIOD_S = 60
ROLLBACK_EVALUATION_PERIODS = 3  # M-of-N: 2 of the last 3 minutes, so one stray error does not roll back
ROLLBACK_DATAPOINTS = 2

_ENV_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]+$")
_FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

FailurePath = Literal["caller", "source-redrive", "source-on-failure", "failure-queue", "on-failure"]
TimeoutSource = Literal["fixed", "p99", "sizing"]

NO_DLQ_REASON = {
    Invocation.SYNC: "Invoked synchronously: the caller receives the error; there is no event to dead-letter.",
    Invocation.QUEUE: "Invoked by an SQS event source mapping: the source queue's redrive DLQ is the failure path.",
    Invocation.STREAM: "Invoked by a stream event source mapping: its on-failure destination is the failure path.",
    Invocation.WORKFLOW: "Invoked synchronously by a machine (a workflow task, a hook): the caller receives the error "
    "and owns the retries; there is no event to dead-letter.",
}
XRAY_ACK: Acknowledgement = (
    "AwsSolutions-IAM5[Resource::*]",
    "Active X-Ray tracing: the role's inline XRayTracing policy grants xray:PutTraceSegments and "
    "xray:PutTelemetryRecords, which support no resource-level permissions, so AWS requires Resource '*'.",
)
XRAY_STAR_ACK: Acknowledgement = (
    "Serverless-LambdaStarPermissions",
    "The role's only inline policy is XRayTracing: xray:PutTraceSegments and xray:PutTelemetryRecords "
    "support no resource-level permissions, so AWS requires Resource '*'; grants go to the default policy.",
)
VPC_ROLE_ACK: Acknowledgement = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
    "A VPC function's role gets AWS's AWSLambdaVPCAccessExecutionRole, as aws-cdk-lib gives the roles it "
    "creates: Lambda needs its ENI actions (ec2:CreateNetworkInterface, ...) to create the function, and "
    "they support no resource-level scoping.",
)
ON_FAILURE_ACK: Acknowledgement = (
    "Serverless-LambdaDLQ",
    "Failed asynchronous events go to the onFailure destination, which supersedes a "
    "DeadLetterConfig: it records the request, the response and the error, for $LATEST and live.",
)


@dataclass(frozen=True)
class Reading:
    """A CDK value read into a plain number by the construct: the number, or why it could not be."""

    value: float | None = None
    problem: Problem | None = None


@dataclass(frozen=True)
class FunctionRequest:
    """The props of a ProductionFunction as plain facts (the construct reads each CDK value once).

    ``p99`` / ``timeout`` / ``max_event_age`` are `Reading` s (ms, s, s) or None when not
    given; everything else is the value as given, checked here.
    """

    path: str
    alarm_prefix: str
    invocation: object = Invocation.SYNC
    memory: object = None
    p99: Reading | None = None
    sizing: object = None
    timeout: Reading | None = None
    timeout_multiplier: object = DEFAULT_TIMEOUT_MULTIPLIER
    provisioned_concurrency: object = DEFAULT
    reserved_concurrency: object = None
    environment: object = None
    powertools_environment: Mapping[str, str] | None = None
    function_name: object = None
    retry_attempts: object = 2
    max_event_age: Reading | None = None
    on_failure: bool = False
    on_success: bool = False
    snap_start: bool = False
    tenancy: bool = False  # tenancy_config given (tenant isolation mode)
    role_given: bool = False
    vpc: bool = False
    security_groups_given: bool = False
    dead_letter_queue_enabled: bool = False
    powertools: bool = False
    events: int = 0
    deployment: str | None = None  # Deployment.kind
    deployment_hooks: int = 0
    unknown_resources: bool = False  # a forwarded prop whose resources aws-cdk-lib decides (filesystem, ...)
    tracing: object = None  # the name of a Tracing other than ACTIVE (None: ACTIVE, the default)
    package_bytes: int | None = None
    ecr_image: bool = False
    arm64: bool = True
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY  # of the failure queue


@dataclass(frozen=True)
class TimeoutPlan:
    """The timeout and where it came from: ``fixed`` (given), ``p99`` (measured, x multiplier) or ``sizing``."""

    seconds: int
    source: TimeoutSource
    p99_ms: float | None = None
    multiplier: float | None = None


@dataclass(frozen=True)
class FunctionPlan:
    """Every decision and derived number of one ProductionFunction."""

    path: str
    alarm_prefix: str
    invocation: Invocation
    memory: Memory
    timeout: TimeoutPlan
    owns_role: bool  # its own execution role (grants to it add statements, not resources)
    sizing: Sizing | None
    provisioned_concurrency: ProvisionedConcurrency | None
    alias_provisioned_executions: int | None  # the alias's static value (None with a Deployment: scaling owns it)
    reserved_concurrency: int | None
    environment: Mapping[str, str]  # Powertools' variables, then the user's (the user's win)
    failure_path: FailurePath
    async_config: bool  # an EventInvokeConfig on $LATEST and live
    failure_queue: bool  # the library's own encrypted failure queue as onFailure destination
    alarms: tuple[AlarmPlan, ...]  # the function's own, in creation order
    deployment_alarms: tuple[AlarmPlan, ...]  # the rollback alarms of a Deployment
    acknowledgements: tuple[Acknowledgement, ...]  # on the function resource
    notes: tuple[Note, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)  # the function resource's Metadata record
    resource_count: int | None = None  # CloudFormation resources it creates (None: aws-cdk-lib decides some)
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY  # of the failure queue (RETAIN: keeps its messages)
    role_acknowledgements: tuple[Acknowledgement, ...] = ()  # on its own role's resource
    failure_queue_acknowledgements: tuple[Acknowledgement, ...] = ()  # on the failure queue's resource

    @property
    def timeout_seconds(self) -> int:
        return self.timeout.seconds

    @property
    def alarm_count(self) -> int:
        return len(self.alarms) + len(self.deployment_alarms)


def resolve_memory(memory: object) -> Memory | Problem:
    if memory is None:
        return Memory.io_bound()
    if isinstance(memory, Memory):
        return memory
    if (isinstance(memory, int) and not isinstance(memory, bool)) or limits.is_unresolved(memory):
        return Memory.mb(memory)  # type: ignore[arg-type]  # a number token passes through, as Memory.mb(token)
    return Problem("memory", memory, "a Memory (Memory.io_bound(), Memory.mb(n), ...) or an int of MB")


def resolve_provisioned(value: object, invocation: object) -> ProvisionedConcurrency | Problem | None:
    if value is DEFAULT:
        return ProvisionedConcurrency() if invocation is Invocation.SYNC else None
    if value is None or isinstance(value, ProvisionedConcurrency):
        return value
    return Problem("provisioned_concurrency", value, "a ProvisionedConcurrency(...) or None")


def concurrency_problems(reserved: object, pc: ProvisionedConcurrency | Problem | None) -> list[Problem]:
    if reserved is None or limits.is_unresolved(reserved):
        return []
    problem = limits.check_int_range(
        "reserved_concurrency",
        reserved,
        limits.Range(1, 100_000),
        "0 would stop the function; leave it None for no cap",
    )
    if problem:
        return [problem]
    assert isinstance(reserved, int)
    if isinstance(pc, ProvisionedConcurrency) and not pc.problems() and reserved < pc.max_capacity:
        return [
            Problem(
                "reserved_concurrency",
                reserved,
                f">= provisioned_concurrency.max_capacity ({pc.max_capacity})",
                "reserved concurrency caps the function, so it must leave room for every provisioned environment",
            )
        ]
    return []


def environment_problems(environment: object) -> list[Problem]:
    """Names Lambda accepts and reserves, string values, 4 KB in total counted as Lambda counts it."""
    if environment is None:
        return []
    if not isinstance(environment, Mapping):
        return [Problem("environment", environment, "a mapping of str to str")]
    problems = []
    for key, value in environment.items():
        if not isinstance(key, str) or not _ENV_KEY.match(key):
            problems.append(Problem(f"environment[{key!r}]", key, "a name matching [a-zA-Z][a-zA-Z0-9_]+"))
        elif key in _RESERVED_ENV:
            problems.append(
                Problem(
                    f"environment[{key!r}]", key, "a name Lambda does not reserve", "Lambda sets this variable itself"
                )
            )
        if not isinstance(value, str):
            problems.append(Problem(f"environment[{key!r}]", value, "a string"))
    if problems:
        return problems
    resolved = {k: v for k, v in environment.items() if not limits.is_unresolved(v)}
    size = limits.environment_size_bytes(resolved)
    if size > limits.ENVIRONMENT_MAX_BYTES:
        return [
            Problem(
                "environment",
                f"{size} bytes",
                f"<= {limits.ENVIRONMENT_MAX_BYTES} bytes as Lambda counts them (the map as compact JSON)",
                "move large values to SSM Parameter Store",
            )
        ]
    return []


def _timeout(problems: Problems, request: FunctionRequest) -> tuple[TimeoutPlan | None, Sizing | None]:
    """The timeout from exactly one of p99, sizing, timeout (problems recorded, in the order a user reads them)."""
    given = [
        name
        for name, value in (("p99", request.p99), ("sizing", request.sizing), ("timeout", request.timeout))
        if value is not None
    ]
    if len(given) != 1:
        problems.add(
            Problem(
                "p99/sizing/timeout",
                ", ".join(given) or "none",
                "exactly one of p99=Duration (measured), sizing=Sizing.from_file(...) or timeout=Duration",
                "prefer p99: the timeout is then derived as p99 x multiplier",
            )
        )
        return None, None
    if request.timeout is not None:
        reading = request.timeout
        problem = reading.problem or limits.check_range(
            "timeout",
            reading.value,
            limits.Range(limits.TIMEOUT_MIN_S, limits.TIMEOUT_MAX_S - 1, "s"),
            "900 s is Lambda's maximum set 'just in case' (the rule pack refuses it); "
            "work that long belongs in Step Functions",
        )
        problems.add(problem)
        if problem is not None or reading.value is None:
            return None, None
        return TimeoutPlan(int(reading.value), "fixed"), None
    sizing: Sizing | None = None
    if request.sizing is not None:
        value = request.sizing
        if isinstance(value, str | os.PathLike):  # a path: read here, so errors name this construct
            value = Sizing.from_file(value)
        if not isinstance(value, Sizing):
            text = repr(value)
            shown = value if len(text) <= 80 else text[:77] + "..."
            problems.add(Problem("sizing", shown, "a Sizing, e.g. Sizing.from_file('sizing/orders.json')"))
            return None, None
        sizing, p99_ms, prop = value, value.p99_ms, "sizing"
    else:
        reading = request.p99  # type: ignore[assignment]
        assert reading is not None
        if reading.problem or reading.value is None:
            problems.add(reading.problem)
            return None, None
        p99_ms, prop = reading.value, "p99"
    multiplier = request.timeout_multiplier
    try:
        seconds = timeout_seconds_from_p99_ms(p99_ms, multiplier)  # type: ignore[arg-type]
    except ConfigurationError as error:
        problems.extend(
            Problem(
                prop if p.prop == "p99" else "timeout_multiplier" if p.prop == "multiplier" else p.prop,
                p.value,
                p.allowed,
                p.hint,
            )
            for p in error.problems
        )
        return None, sizing
    if seconds >= limits.TIMEOUT_MAX_S:
        problems.add(
            Problem(
                prop,
                f"{p99_ms:g} ms",
                f"p99 x {multiplier} < {limits.TIMEOUT_MAX_S} s (got {seconds} s)",
                "a 900 s timeout is the maximum the rule pack refuses; work this long belongs in Step Functions",
            )
        )
        return None, sizing
    return TimeoutPlan(seconds, "sizing" if sizing else "p99", p99_ms, multiplier), sizing  # type: ignore[arg-type]


def validate_function(problems: Problems, request: FunctionRequest) -> tuple[Any, ...] | None:
    """Every pure check of a ProductionFunction's props, in the order its error message lists them.

    Returns what `plan_function()` needs (memory, provisioned concurrency, timeout, sizing,
    environment) when nothing was wrong; the caller may add its own problems after these.
    """
    invocation = request.invocation
    if not isinstance(invocation, Invocation):
        problems.add(Problem("invocation", invocation, " | ".join(f"Invocation.{i.name}" for i in Invocation)))
    memory = resolve_memory(request.memory)
    if isinstance(memory, Problem):
        problems.add(memory)
    else:
        problems.extend(memory.problems())
    timeout, sizing = _timeout(problems, request)
    provisioned_value = request.provisioned_concurrency
    if request.snap_start and provisioned_value is DEFAULT:
        provisioned_value = None  # SnapStart is then the cold-start strategy (noted in the plan)
    if request.tenancy and provisioned_value is DEFAULT:
        provisioned_value = None  # tenant isolation excludes provisioned concurrency (noted in the plan)
    problems.extend(tenancy_problems(request))
    pc = resolve_provisioned(provisioned_value, invocation)
    if isinstance(pc, Problem):
        problems.add(pc)
    elif pc is not None:
        problems.extend(pc.problems())
    problems.extend(concurrency_problems(request.reserved_concurrency, pc))
    env = request.environment
    env = dict(env or {}) if isinstance(env, Mapping | None) else env
    if request.powertools_environment is not None and isinstance(env, dict):
        env = {**request.powertools_environment, **env}
    problems.extend(environment_problems(env))
    name = request.function_name
    if name is not None and not ((isinstance(name, str) and _FUNCTION_NAME.match(name)) or limits.is_unresolved(name)):
        problems.add(Problem("function_name", name, "1..64 characters of a-z, A-Z, 0-9, - and _"))
    if invocation is Invocation.ASYNC or request.on_failure or request.on_success:
        problems.add(
            limits.check_int_range(
                "retry_attempts",
                request.retry_attempts,
                limits.Range(limits.ASYNC_RETRY_MIN, limits.ASYNC_RETRY_MAX),
            )
        )
        if request.max_event_age is not None:
            problems.add(request.max_event_age.problem)
    if problems or timeout is None or isinstance(memory, Problem) or isinstance(pc, Problem):
        return None
    return memory, pc, timeout, sizing, env


def function_alarms(path: str, prefix: str, timeout_seconds: int, note: str = "") -> list[AlarmPlan]:
    """Errors >= 1, Throttles >= 1 and p99 Duration > 80 % of the timeout, per 5 minutes."""
    return [
        AlarmPlan(
            id="ErrorsAlarm",
            name=alarm_name(prefix, "ErrorsAlarm"),
            description=f"{path}: the function raised errors in the last 5 minutes.{note}",
            source="function",
            metric="Errors",
            statistic="Sum",
            threshold=1,
        ),
        AlarmPlan(
            id="ThrottlesAlarm",
            name=alarm_name(prefix, "ThrottlesAlarm"),
            description=f"{path}: invocations were throttled (concurrency limit reached).{note}",
            source="function",
            metric="Throttles",
            statistic="Sum",
            threshold=1,
        ),
        AlarmPlan(
            id="DurationAlarm",
            name=alarm_name(prefix, "DurationAlarm"),
            description=f"{path}: p99 duration above 80% of the {timeout_seconds} s timeout: "
            f"invocations are close to timing out.{note}",
            source="function",
            metric="Duration",
            statistic="p99",
            threshold=timeout_seconds * 1000 * DURATION_ALARM_FRACTION,
            comparison="GREATER_THAN_THRESHOLD",
        ),
    ]


def rollback_alarms(path: str, prefix: str, timeout_seconds: int) -> list[AlarmPlan]:
    """The alarms CodeDeploy rolls back on: the deployed version's own errors and p99, 2 of 3 minutes."""
    common: dict[str, Any] = {
        "source": "version",
        "period_s": ROLLBACK_PERIOD_S,
        "evaluation_periods": ROLLBACK_EVALUATION_PERIODS,
        "datapoints_to_alarm": ROLLBACK_DATAPOINTS,
    }
    return [
        AlarmPlan(
            id="DeploymentErrorsAlarm",
            name=alarm_name(prefix, "DeploymentErrorsAlarm"),
            description=f"{path}: the version being deployed raised errors in 2 of 3 minutes: CodeDeploy rolls back.",
            metric="Errors",
            statistic="Sum",
            threshold=1,
            **common,
        ),
        AlarmPlan(
            id="DeploymentDurationAlarm",
            name=alarm_name(prefix, "DeploymentDurationAlarm"),
            description=f"{path}: the version being deployed has p99 above 80% of its timeout in 2 of 3 minutes.",
            metric="Duration",
            statistic="p99",
            threshold=timeout_seconds * 1000 * DURATION_ALARM_FRACTION,
            comparison="GREATER_THAN_THRESHOLD",
            evaluate_low_sample_count_percentile="ignore",
            **common,
        ),
    ]


TENANCY_RULE = "tenant isolation (aws_lambda.TenancyConfig; 'Tenant isolation', AWS Lambda developer guide)"


def tenancy_problems(request: FunctionRequest) -> list[Problem]:
    """What tenant isolation excludes (aws-cdk-lib 2.275 aws_lambda.TenancyConfig; "Tenant isolation",
    https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html): SnapStart, provisioned concurrency."""
    if not request.tenancy:
        return []
    found = []
    if request.snap_start:
        found.append(Problem("snap_start", "set", "None with tenancy_config", f"{TENANCY_RULE} excludes SnapStart"))
    if isinstance(request.provisioned_concurrency, ProvisionedConcurrency):
        found.append(
            Problem(
                "provisioned_concurrency",
                request.provisioned_concurrency,
                "None with tenancy_config",
                f"{TENANCY_RULE} excludes provisioned concurrency: environments are created per tenant on demand",
            )
        )
    return found


def rare_traffic_message(kind: str, why: str) -> str:
    """The warning for a canary / linear Deployment on a function that runs rarely (see docs/operations.md)."""
    return (
        f"Deployment.{kind}(...) on a function that runs rarely ({why}): during the traffic shift it almost "
        "certainly gets no invocation, so its rollback alarms cannot fire. Use "
        "Deployment.all_at_once(pre_traffic_hook=...) with a hook that invokes the new version with a test event "
        "(see docs/operations.md)."
    )


def _notes(request: FunctionRequest, timeout: TimeoutPlan, sizing: Sizing | None, package_warn_mb: int) -> list[Note]:
    notes = []
    if request.tenancy and request.provisioned_concurrency is DEFAULT and request.invocation is Invocation.SYNC:
        notes.append(
            Note(
                "info",
                "",
                "tenancy_config is set, so the default provisioned concurrency is off: tenant isolation creates "
                "execution environments per tenant on demand and excludes provisioned concurrency.",
            )
        )
    if request.deployment in ("canary", "linear") and request.invocation is Invocation.WORKFLOW:
        notes.append(
            Note(
                "warning",
                "lambda-constructs:canary-without-traffic",
                rare_traffic_message(request.deployment, "it is declared Invocation.WORKFLOW: called by a machine"),
            )
        )
    if timeout.source == "fixed":
        notes.append(
            Note(
                "warning",
                "lambda-constructs:timeout-not-measured",
                f"timeout={timeout.seconds} s was not derived from a measured p99. Measure p99 "
                "(lambda-constructs measure) and pass p99= or sizing= instead (timeout = 2-3 x p99).",
            )
        )
    if sizing is not None and sizing.age_days() > SIZING_STALE_DAYS:
        notes.append(
            Note(
                "warning",
                "lambda-constructs:sizing-stale",
                f"sizing file {sizing.source} was measured {sizing.age_days():.0f} days ago "
                "(> 90): re-run 'lambda-constructs measure' so the timeout follows production.",
            )
        )
    if request.snap_start and request.provisioned_concurrency is DEFAULT and request.invocation is Invocation.SYNC:
        notes.append(
            Note(
                "info",
                "",
                "snap_start is set, so the default provisioned concurrency is off: AWS does not support SnapStart "
                "with provisioned concurrency, and SnapStart is then this function's cold-start strategy.",
            )
        )
    if request.tracing is not None:
        notes.append(
            Note(
                "warning",
                "lambda-constructs:tracing-not-active",
                f"tracing={request.tracing}: without active X-Ray tracing a slow or failing "
                "request cannot be followed across services; Tracing.ACTIVE is the default.",
            )
        )
    size = request.package_bytes
    if size is not None and size > package_warn_mb * 1024 * 1024:
        notes.append(
            Note(
                "warning",
                "lambda-constructs:package-size",
                f"the code asset is {size / 1024 / 1024:.1f} MB unzipped (> {package_warn_mb} MB): "
                "cold starts grow with package size; move dependencies to a Lambda layer (target under 3 MB).",
            )
        )
    if request.ecr_image:
        notes.append(
            Note(
                "warning",
                "lambda-constructs:ecr-image-platform",
                "an ECR image's platform cannot be checked at synthesis: make sure it was built for "
                f"{'linux/arm64' if request.arm64 else 'linux/amd64'}.",
            )
        )
    return notes


def _metadata(plan_timeout: TimeoutPlan, memory: Memory, invocation: Invocation, pc: Any, sizing: Any) -> dict:
    timeout: dict[str, Any] = {"seconds": plan_timeout.seconds}
    if plan_timeout.source == "fixed":
        timeout["source"] = "fixed"
    else:
        timeout.update(source=plan_timeout.source, p99Ms=plan_timeout.p99_ms, multiplier=plan_timeout.multiplier)
    data: dict[str, Any] = {
        "timeout": timeout,
        "memory": memory.metadata(),
        "invocation": invocation.value,
        "alias": ALIAS_NAME,
    }
    if pc is not None:
        data["provisionedConcurrency"] = {
            "min": pc.min_capacity,
            "max": pc.max_capacity,
            "targetUtilization": pc.target_utilization,
        }
    if sizing is not None:
        data["sizing"] = {k: v for k, v in sizing.to_dict().items() if v is not None and k != "source"}
        data["sizing"]["file"] = sizing.source
    return data


def resource_count(
    request: FunctionRequest, *, provisioned: bool, failure_queue: bool, async_config: bool
) -> int | None:
    """The CloudFormation resources a ProductionFunction creates in its own subtree, or None when aws-cdk-lib decides.

    Log group, function, version, alias (4); role and its default policy unless a role is given (2);
    scalable target and scaling policy with provisioned concurrency (2); an EventInvokeConfig on
    $LATEST and on ``live`` (2); the failure queue and its TLS-only queue policy (2); a security
    group for a VPC function without one given (1); aws-cdk-lib's dead-letter queue when
    ``dead_letter_queue_enabled`` (1); one alarm each. Event sources, user destinations, a
    Deployment and forwarded props whose resources aws-cdk-lib decides make it None.
    """
    if request.events or request.on_failure or request.on_success or request.unknown_resources:
        return None
    if request.deployment is not None:
        return None
    count = 4
    count += 0 if request.role_given else 2
    count += 2 if provisioned else 0
    count += 2 if async_config else 0
    count += 2 if failure_queue else 0
    count += 1 if request.vpc and not request.security_groups_given else 0
    count += 1 if request.dead_letter_queue_enabled else 0
    return count


def plan_function(problems: Problems, request: FunctionRequest, *, package_warn_mb: int = 10) -> FunctionPlan | None:
    """The plan of one ProductionFunction; None (with ``problems`` recorded) when a prop is invalid.

    The caller adds the problems that depend on CDK types after `validate_function()`'s and
    raises them all at once; ``plan_function`` only plans when there were none.
    """
    checked = validate_function(problems, request)
    if checked is None:
        return None
    return plan_from_checked(request, checked, package_warn_mb=package_warn_mb)


def plan_from_checked(request: FunctionRequest, checked: tuple[Any, ...], *, package_warn_mb: int) -> FunctionPlan:
    """The plan once `validate_function()` found nothing wrong (it returned ``checked``)."""
    memory, pc, timeout, sizing, env = checked
    invocation: Invocation = request.invocation  # type: ignore[assignment]
    path, prefix = request.path, request.alarm_prefix
    async_config = invocation is Invocation.ASYNC or request.on_failure or request.on_success
    failure_queue = invocation is Invocation.ASYNC and not request.on_failure
    if request.on_failure:
        failure_path: FailurePath = "on-failure"
    elif failure_queue:
        failure_path = "failure-queue"
    else:
        failure_path = {
            Invocation.SYNC: "caller",
            Invocation.WORKFLOW: "caller",
            Invocation.QUEUE: "source-redrive",
            Invocation.STREAM: "source-on-failure",
        }[invocation]  # type: ignore[assignment]
    acks: list[Acknowledgement] = []  # on the AWS::Lambda::Function resource
    role_acks: list[Acknowledgement] = []  # on the AWS::IAM::Role resource (its inline X-Ray policy, managed VPC one)
    if not request.role_given and request.tracing in (None, "PASS_THROUGH"):
        role_acks += [XRAY_ACK, XRAY_STAR_ACK]
    if invocation is not Invocation.ASYNC:
        acks.append(("Serverless-LambdaDLQ", NO_DLQ_REASON[invocation]))
    if request.vpc and not request.role_given:
        role_acks.append(VPC_ROLE_ACK)
    queue_acks = (
        dead_letter_target_acks("The FailureQueue (the function's onFailure destination)") if failure_queue else []
    )
    if failure_queue or request.on_failure:
        acks.append(ON_FAILURE_ACK)
    alarms = function_alarms(path, prefix, timeout.seconds)
    if pc is not None:
        alarms.append(
            AlarmPlan(
                id="SpilloverAlarm",
                name=alarm_name(prefix, "SpilloverAlarm"),
                description=f"{path}: invocations spilled over provisioned concurrency onto cold "
                "starts; auto scaling reacts to 3-minute averages, so raise min/max capacity.",
                source="alias",
                metric="ProvisionedConcurrencySpilloverInvocations",
                statistic="Sum",
                threshold=1,
            )
        )
    if failure_queue:
        alarms.append(queue_depth_alarm("FailureQueueAlarm", prefix, f"{path} failure queue", "failure_queue"))
    deployment_alarms = rollback_alarms(path, prefix, timeout.seconds) if request.deployment is not None else []
    metadata = _metadata(timeout, memory, invocation, pc, sizing)
    metadata["alarms"] = len(alarms) + len(deployment_alarms)
    count = resource_count(request, provisioned=pc is not None, failure_queue=failure_queue, async_config=async_config)
    return FunctionPlan(
        path=path,
        alarm_prefix=prefix,
        invocation=invocation,
        memory=memory,
        timeout=timeout,
        owns_role=not request.role_given,
        sizing=sizing,
        provisioned_concurrency=pc,
        alias_provisioned_executions=pc.min_capacity if pc is not None and request.deployment is None else None,
        reserved_concurrency=request.reserved_concurrency,  # type: ignore[arg-type]
        environment=env,
        failure_path=failure_path,
        async_config=bool(async_config),
        failure_queue=failure_queue,
        alarms=tuple(alarms),
        deployment_alarms=tuple(deployment_alarms),
        acknowledgements=tuple(acks),
        role_acknowledgements=tuple(role_acks),
        failure_queue_acknowledgements=tuple(queue_acks),
        notes=tuple(_notes(request, timeout, sizing, package_warn_mb)),
        metadata=metadata,
        resource_count=None if count is None else count + len(alarms),
        removal_policy=request.removal_policy,
    )
