"""Read a synthesized cloud assembly (cdk.out) and describe every Lambda function in it.

Pure Python over JSON: no CDK import, so CI can run it on any cdk.out, including templates
our constructs did not make. Used by ``lambda-constructs report`` and ``make synth``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lambda_constructs.core.pricing import (
    DEFAULT_PRICES,
    FREE_EPHEMERAL_MB,
    PLATFORM_LOG_BYTES,
    Prices,
    Usage,
    cost_components,
)
from lambda_constructs.core.sizing import Sizing

Template = Mapping[str, Any]
# resources per template ("AWS CloudFormation quotas": Resources, 500)
STACK_RESOURCE_LIMIT = 500


@dataclass
class FunctionReport:
    stack: str
    logical_id: str
    path: str
    memory_mb: int | str  # "deploy-time" when the template holds an intrinsic (a Ref to a parameter)
    architecture: str
    timeout_s: int | str
    p99_ms: float | None
    timeout_source: str
    alias: str | None = None
    provisioned_min: Any = None
    provisioned_max: int | None = None
    target_utilization: float | None = None
    reserved_concurrency: Any = None
    failure_path: str = "none"
    sqs_visibility_s: int | None = None
    alarm_count: int = 0
    monthly_cost_usd: float | None = None
    cost_basis: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class AssemblyError(Exception):
    """cdk.out is missing or unreadable; the message says which file."""


class AssemblyUnreadable(AssemblyError):
    """A file of cdk.out could not be read at all (missing, permissions): I/O, not its content."""


def load_templates(assembly_dir: str | Path) -> dict[str, Template]:
    """Stack name -> template, for every CloudFormation stack in a cloud assembly, nested stacks included.

    A nested stack is named ``<parent>/<logical id>``. Anything that is not a cloud assembly (a
    manifest that is not an object, an artifact without its template, a template whose Resources is
    not an object) is an `AssemblyError` naming the file.
    """
    root = Path(assembly_dir)
    manifest_path = root / "manifest.json"
    manifest = _read_json(manifest_path)
    artifacts = manifest.get("artifacts", {}) if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        raise AssemblyError(f"{manifest_path} is not a cloud assembly manifest (no 'artifacts' object)")
    templates: dict[str, Template] = {}
    for name, artifact in sorted(artifacts.items()):
        kind = artifact.get("type") if isinstance(artifact, dict) else None
        properties = artifact.get("properties") if isinstance(artifact, dict) else None
        if kind == "aws:cloudformation:stack":
            file = properties.get("templateFile") if isinstance(properties, dict) else None
            if not isinstance(file, str):
                raise AssemblyError(f"{manifest_path}: stack artifact {name!r} names no templateFile")
            templates[name] = _template(root / file)
            templates.update(_nested(root, name, templates[name]))
        elif kind == "cdk:cloud-assembly":  # nested stage
            directory = properties.get("directoryName") if isinstance(properties, dict) else None
            if not isinstance(directory, str):
                raise AssemblyError(f"{manifest_path}: assembly artifact {name!r} names no directoryName")
            templates.update(load_templates(root / directory))
    return templates


def stack_regions(assembly_dir: str | Path) -> dict[str, str | None]:
    """Stack artifact name -> its region from the manifest (``aws://ACCOUNT/REGION``), None when agnostic."""
    manifest = _read_json(Path(assembly_dir) / "manifest.json")
    found: dict[str, str | None] = {}
    for name, artifact in (manifest.get("artifacts", {}) if isinstance(manifest, dict) else {}).items():
        if isinstance(artifact, dict) and artifact.get("type") == "aws:cloudformation:stack":
            region = str(artifact.get("environment", "")).rsplit("/", 1)[-1]
            found[name] = None if region in ("", "unknown-region") or "${" in region else region
    return found


def _read_json(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssemblyUnreadable(f"cannot read {file}: {exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise AssemblyError(f"cannot read {file}: {exc}") from None


def _template(file: Path) -> Template:
    template = _read_json(file)
    if not isinstance(template, dict) or not isinstance(template.get("Resources", {}), dict):
        raise AssemblyError(f"{file} is not a CloudFormation template (Resources must be an object)")
    return template


def _nested(root: Path, parent: str, template: Template) -> dict[str, Template]:
    """The nested stacks of ``template``: AWS::CloudFormation::Stack resources whose template is an asset."""
    found: dict[str, Template] = {}
    for logical_id, resource in resources_of(template, "AWS::CloudFormation::Stack").items():
        path = (resource.get("Metadata") or {}).get("aws:asset:path")
        if isinstance(path, str) and path.endswith(".template.json") and (root / path).is_file():
            name = f"{parent}/{logical_id}"
            found[name] = _template(root / path)
            found.update(_nested(root, name, found[name]))
    if not found and resources_of(template, "AWS::CloudFormation::Stack"):
        # no asset metadata (an in-process synth): the nested templates are the *.nested.template.json files
        for file in sorted(root.glob(f"{parent}*.nested.template.json")):
            found[f"{parent}/{file.name.removesuffix('.nested.template.json').removeprefix(parent)}"] = _template(file)
    return found


def stack_sizes(templates: Mapping[str, Template]) -> dict[str, int]:
    """Resources per stack (CloudFormation allows 500 per template)."""
    return {name: len(template.get("Resources", {})) for name, template in templates.items()}


def refs(value: Any) -> Iterator[str]:
    """Every logical id that ``value`` references (Ref / Fn::GetAtt), anywhere inside it."""
    if isinstance(value, Mapping):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            yield target[0] if isinstance(target, list) else str(target).split(".")[0]
        for item in value.values():
            yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def resources_of(template: Template, type_: str) -> dict[str, Mapping[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") == type_}


def props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("Properties", {}) or {}


def function_of(template: Template, value: Any) -> str | None:
    """The Lambda function logical id a FunctionName / Arn value points at, through its alias or version."""
    resources = template.get("Resources", {})
    for rid in refs(value):
        kind = resources.get(rid, {}).get("Type")
        if kind == "AWS::Lambda::Function":
            return rid
        if kind in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            return function_of(template, props(resources[rid]).get("FunctionName"))
    return None


def targeting(template: Template, type_: str, function_id: str, key: str = "FunctionName") -> dict[str, Any]:
    """Resources of ``type_`` whose ``key`` names the function, directly or through its alias/version."""
    return {
        rid: res
        for rid, res in resources_of(template, type_).items()
        if function_of(template, props(res).get(key)) == function_id
    }


def referencing(
    template: Template, type_: str, logical_id: str, key: str | None = None
) -> dict[str, Mapping[str, Any]]:
    """Resources of ``type_`` whose properties (or property ``key``) reference ``logical_id``."""
    found = {}
    for rid, res in resources_of(template, type_).items():
        scope = props(res).get(key) if key else props(res)
        if logical_id in set(refs(scope)):
            found[rid] = res
    return found


def describe_function(
    stack: str,
    template: Template,
    logical_id: str,
    *,
    invocations: float | None = None,
    prices: Prices = DEFAULT_PRICES,
) -> FunctionReport:
    res = template["Resources"][logical_id]
    p = props(res)
    meta = (res.get("Metadata") or {}).get("lambda-constructs", {})
    meta = meta if isinstance(meta, dict) else {}
    timeout_meta = meta.get("timeout", {}) if isinstance(meta.get("timeout"), dict) else {}
    report = FunctionReport(
        stack=stack,
        logical_id=logical_id,
        path=(res.get("Metadata") or {}).get("aws:cdk:path", logical_id),
        memory_mb=_number(p.get("MemorySize", 128)),
        architecture=_architecture(p.get("Architectures")),
        timeout_s=_number(p.get("Timeout", 3)),
        p99_ms=_opt_number(timeout_meta.get("p99Ms")),
        timeout_source=str(timeout_meta.get("source", "unknown")),
        reserved_concurrency=_opt_number(p.get("ReservedConcurrentExecutions")),
    )
    aliases = referencing(template, "AWS::Lambda::Alias", logical_id, "FunctionName")
    if aliases:
        alias = sorted(aliases.items())[0][1]
        report.alias = props(alias).get("Name")
        static_pc = (props(alias).get("ProvisionedConcurrencyConfig") or {}).get("ProvisionedConcurrentExecutions")
        _provisioned(template, logical_id, report, static_pc)
    report.failure_path = _failure_path(template, logical_id, p)
    report.sqs_visibility_s = _sqs_visibility(template, logical_id)
    # our functions record how many alarms watch them (incl. queue / stream / API alarms); others: by dimension
    counted = meta.get("alarms") if isinstance(meta, dict) else None
    report.alarm_count = (
        counted
        if isinstance(counted, int) and not isinstance(counted, bool)
        else len(referencing(template, "AWS::CloudWatch::Alarm", logical_id))
    )
    if report.failure_path == "none" and meta.get("invocation") in ("sync", "workflow"):
        report.failure_path = f"caller ({meta['invocation']})"
    if invocations is not None:
        estimate(report, res, prices=prices, invocations=invocations)
    return report


DEPLOY_TIME = "deploy-time"


def _number(value: Any) -> Any:
    """A whole number from the template, or "deploy-time" for an intrinsic (Ref, Fn::If ...)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return DEPLOY_TIME


def _opt_number(value: Any) -> Any:
    return None if value is None else _number(value) if not isinstance(value, float) else value


def _architecture(value: Any) -> str:
    if value is None:
        return "x86_64"
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return DEPLOY_TIME


def _provisioned(template: Template, function_id: str, report: FunctionReport, static_pc: int | None) -> None:
    for tid, target in resources_of(template, "AWS::ApplicationAutoScaling::ScalableTarget").items():
        tp = props(target)
        if tp.get("ScalableDimension") == "lambda:function:ProvisionedConcurrency" and function_id in set(refs(tp)):
            report.provisioned_min, report.provisioned_max = tp.get("MinCapacity"), tp.get("MaxCapacity")
            for policy in resources_of(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values():
                if tid in set(refs(props(policy))):
                    cfg = props(policy).get("TargetTrackingScalingPolicyConfiguration") or {}
                    report.target_utilization = cfg.get("TargetValue")
            return
    report.provisioned_min = report.provisioned_max = static_pc


def _failure_path(template: Template, function_id: str, function_props: Mapping[str, Any]) -> str:
    paths = []
    if (function_props.get("DeadLetterConfig") or {}).get("TargetArn"):
        paths.append("DLQ")
    for cfg in targeting(template, "AWS::Lambda::EventInvokeConfig", function_id).values():
        if (props(cfg).get("DestinationConfig") or {}).get("OnFailure"):
            paths.append("onFailure")
            break
    for mapping in targeting(template, "AWS::Lambda::EventSourceMapping", function_id).values():
        if (props(mapping).get("DestinationConfig") or {}).get("OnFailure"):
            paths.append("stream onFailure")
        elif (queue := mapping_queue(template, mapping)) is not None:
            paths.append("SQS redrive" if props(queue).get("RedrivePolicy") else "SQS (no redrive!)")
    return ", ".join(dict.fromkeys(paths)) or "none"


def mapping_queue(template: Template, mapping: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The SQS queue (resource) an event source mapping reads, when it is in the template."""
    resources = template.get("Resources", {})
    for rid in refs(props(mapping).get("EventSourceArn")):
        if resources.get(rid, {}).get("Type") == "AWS::SQS::Queue":
            return resources[rid]
    return None


def _sqs_visibility(template: Template, function_id: str) -> int | None:
    for mapping in targeting(template, "AWS::Lambda::EventSourceMapping", function_id).values():
        queue = mapping_queue(template, mapping)
        if queue is not None:
            value = _number(props(queue).get("VisibilityTimeout", 30))
            return value if isinstance(value, int) else None
    return None


ASSUMED_COLD_START_RATE = 0.01  # for a SnapStart restore estimate without a measured rate: 1 % of invocations


def estimate(
    report: FunctionReport,
    resource: Mapping[str, Any] | None,
    *,
    prices: Prices = DEFAULT_PRICES,
    invocations: float | None = None,
    sizing: Sizing | None = None,
) -> None:
    """Fill in ``report``'s monthly cost from its own traffic (``sizing``, measured) or ``invocations``
    (assumed), saying for each figure whether it was measured, assumed or read from the template."""
    if (
        not isinstance(report.memory_mb, int)
        or not isinstance(report.timeout_s, int)
        or report.architecture == DEPLOY_TIME
    ):
        report.cost_basis = "not estimated: memory, timeout or architecture is decided at deploy time"
        return
    basis: dict[str, str] = {}
    if sizing is not None and sizing.invocations_per_month is not None:
        monthly, basis["invocations"] = sizing.invocations_per_month, "measured"
    elif invocations is not None:
        monthly, basis["invocations"] = invocations, "assumed (--invocations-per-month)"
    else:
        report.cost_basis = "not estimated: no invocations (measure records them; or --invocations-per-month)"
        return
    if sizing is not None and sizing.average_duration_ms is not None:
        duration, report.cost_basis = sizing.average_duration_ms, "measured average duration"
        basis["duration"] = "measured (average)"
    elif isinstance(report.p99_ms, int | float):
        duration, report.cost_basis = report.p99_ms, "p99"
        basis["duration"] = "assumed: the recorded p99 (an upper bound)"
    else:
        duration, report.cost_basis = report.timeout_s * 1000 / 3, "timeout/3 (no p99 recorded)"
        basis["duration"] = "assumed: timeout / 3"
    p = props(resource) if resource is not None else {}
    ephemeral = _number((p.get("EphemeralStorage") or {}).get("Size", FREE_EPHEMERAL_MB))
    snap_start = (p.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions" and not str(
        p.get("Runtime", "")
    ).startswith("java")  # SnapStart for Java managed runtimes is not charged (AWS Lambda pricing)
    cold = sizing.cold_start_rate if sizing is not None and sizing.cold_start_rate is not None else None
    if snap_start:
        basis["cold_start_rate"] = "measured" if cold is not None else f"assumed {ASSUMED_COLD_START_RATE:.0%}"
    log_format = str((p.get("LoggingConfig") or {}).get("LogFormat", "Text"))
    basis["memory, provisioned, storage, alarms, log format"] = "template"
    basis["logs"] = "Lambda's own records per invocation; the application's lines are not included"
    usage = Usage(
        memory_mb=report.memory_mb,
        architecture=report.architecture,
        invocations=monthly,
        duration_ms=duration,
        provisioned_min=report.provisioned_min if isinstance(report.provisioned_min, int | float) else 0,
        ephemeral_mb=ephemeral if isinstance(ephemeral, int) else FREE_EPHEMERAL_MB,
        snap_start=snap_start,
        cold_start_rate=cold if cold is not None else ASSUMED_COLD_START_RATE,
        alarms=report.alarm_count,
        log_format=log_format if log_format in PLATFORM_LOG_BYTES else "Text",
    )
    components = cost_components(usage, prices)
    report.monthly_cost_usd = round(sum(components.values()), 2)
    report.extra["cost"] = {k: round(v, 2) for k, v in components.items()}
    report.extra["cost_basis"] = basis
    report.extra["prices"] = {"region": prices.region, "basis": prices.basis}


# aws-cdk-lib's framework functions: singletons and custom-resource providers it adds for its own
# features (S3 notifications, log retention, auto-delete objects, AwsCustomResource, bucket
# deployment, the Provider framework). Their code, runtime and role are aws-cdk-lib's; a service
# cannot make them arm64 or give them alarms, so the rules leave them out.
FRAMEWORK_FUNCTION = re.compile(
    r"^(BucketNotificationsHandler[0-9a-f]{32}"
    r"|LogRetention[0-9a-f]{32}"
    r"|AWS[0-9a-f]{32}"
    r"|CustomCDKBucketDeployment[0-9A-Fa-f]{32}"
    r"|Custom[A-Za-z0-9]*CustomResourceProvider(Handler)?[0-9A-F]{8}?"
    r"|.*Providerframework(onEvent|isComplete|onTimeout)[0-9A-F]{8}"
    r"|.*/framework-(onEvent|isComplete|onTimeout)"
    r")"
)


def is_framework_function(template: Template, logical_id: str) -> bool:
    """True for aws-cdk-lib's own framework functions (by logical id or construct path)."""
    if FRAMEWORK_FUNCTION.match(logical_id):
        return True
    path = str((template.get("Resources", {}).get(logical_id, {}).get("Metadata") or {}).get("aws:cdk:path", ""))
    return any(FRAMEWORK_FUNCTION.match(part) for part in path.split("/")[1:-1])


def build_report(
    assembly_dir: str | Path,
    *,
    invocations: float | None = None,
    prices: Prices = DEFAULT_PRICES,
    templates: Mapping[str, Template] | None = None,
) -> list[FunctionReport]:
    """One FunctionReport per function; pass ``templates`` already loaded to read the assembly only once."""
    reports = []
    for stack, template in (templates if templates is not None else load_templates(assembly_dir)).items():
        for logical_id in sorted(resources_of(template, "AWS::Lambda::Function")):
            if is_framework_function(template, logical_id):
                continue  # aws-cdk-lib's own (S3 notifications, custom resources): not the service's
            reports.append(describe_function(stack, template, logical_id, invocations=invocations, prices=prices))
    return reports


def _function_name(report: FunctionReport) -> str:
    """The function's construct path under its stack (a nested stack's path includes its parents)."""
    path = report.path.removesuffix("/Resource").removesuffix("/Function")
    return path.split("/", 1)[-1] if "/" in path else path


COLUMNS = [
    ("stack", lambda r: r.stack),
    ("function", _function_name),
    ("memory", lambda r: f"{r.memory_mb} MB"),
    ("arch", lambda r: r.architecture),
    ("timeout", lambda r: f"{r.timeout_s} s"),
    ("from", lambda r: f"p99 {duration(r.p99_ms)}" if isinstance(r.p99_ms, int | float) else r.timeout_source),
    ("alias", lambda r: r.alias or "-"),
    (
        "provisioned",
        lambda r: (
            f"{r.provisioned_min}..{r.provisioned_max}@{r.target_utilization}"
            if r.target_utilization
            else (str(r.provisioned_min) if r.provisioned_min else "-")
        ),
    ),
    ("reserved", lambda r: str(r.reserved_concurrency) if r.reserved_concurrency is not None else "-"),
    ("failure path", lambda r: r.failure_path),
    ("sqs visibility", lambda r: f"{r.sqs_visibility_s} s" if r.sqs_visibility_s is not None else "-"),
    ("alarms", lambda r: str(r.alarm_count)),
    ("$/month", lambda r: f"{r.monthly_cost_usd:.2f}" if r.monthly_cost_usd is not None else "-"),
    ("traffic", lambda r: str(r.extra.get("cost_basis", {}).get("invocations", "-")).split(" ")[0]),
]


def duration(ms: float) -> str:
    """``120 ms`` below a second, ``40 s`` / ``1.5 s`` from a second up: a long p99 reads in seconds."""
    if ms < 1000:
        return f"{ms:g} ms"
    return f"{ms / 1000:.1f}".removesuffix(".0") + " s"


def rows(reports: list[FunctionReport]) -> tuple[list[str], list[list[str]]]:
    return [c[0] for c in COLUMNS], [[fn(r) for _, fn in COLUMNS] for r in reports]


def format_table(reports: list[FunctionReport], *, width: int | None = None) -> str:
    """Aligned columns; with ``width`` (a terminal's), cells wrap, or rows become records, to fit it."""
    from lambda_constructs.core.table import render

    header, body = rows(reports)
    return render(header, body, width=width)


def format_markdown(reports: list[FunctionReport]) -> str:
    header, body = rows(reports)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def report_data(reports: list[FunctionReport], sizes: Mapping[str, int]) -> dict[str, Any]:
    """What ``report --json`` prints: every function, and every stack's resources against the 500 limit."""
    return {
        "functions": [asdict(r) for r in reports],
        "stacks": [{"stack": name, "resources": count, "limit": STACK_RESOURCE_LIMIT} for name, count in sizes.items()],
    }


def format_json(reports: list[FunctionReport], sizes: Mapping[str, int] | None = None) -> str:
    return json.dumps(report_data(reports, sizes or {}), indent=2, sort_keys=True)


def format_stacks(sizes: Mapping[str, int], *, markdown: bool = False) -> str:
    """Resources per stack against CloudFormation's 500 (nested stacks as parent/child)."""
    if markdown:
        lines = ["| stack | resources |", "|---|---|"] + [f"| {n} | {c} / 500 |" for n, c in sizes.items()]
        return "\n".join(lines)
    width = max((len(n) for n in sizes), default=5)
    lines = [f"{'stack'.ljust(width)}  resources", f"{'-' * width}  ---------"]
    lines += [f"{name.ljust(width)}  {count} / 500" for name, count in sizes.items()]
    return "\n".join(lines)
