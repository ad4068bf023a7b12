"""The checks of a ProductionFunction's props that need aws-cdk-lib types, and its plan from them.

`plan_production_function()` is the construct's one validation path: it checks the scope and id,
reads every CDK value once into plain facts (a Duration into seconds, the code into image / zip and
its size, the runtime into its name), runs these checks and the pure ones of
`lambda_constructs.core.plans.function` in the order the error message lists them, and returns
the `FunctionPlan`. Nothing is built before it returns.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Size
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core import limits
from lambda_constructs.core.config import DEFAULT, Invocation, ProvisionedConcurrency
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans.common import alarm_prefix
from lambda_constructs.core.plans.function import (
    FunctionPlan,
    FunctionRequest,
    Reading,
    plan_from_checked,
    validate_function,
)
from lambda_constructs.function import code as code_info
from lambda_constructs.function import methods, modes, options
from lambda_constructs.function.deployment import Deployment
from lambda_constructs.function.powertools import Powertools

LATEST_PYTHON = lambda_.Runtime.PYTHON_3_14
SNAPSTART_RUNTIMES = re.compile(r"^(java(11|17|21|25)|python3\.(1[2-9])|dotnet([89]|1\d))$")
SNAPSTART_MAX_EPHEMERAL_MB = 512
EPHEMERAL_MIN_MB, EPHEMERAL_MAX_MB = 512, 10_240
MAX_LAYERS = 5
HANDLER_MAX = 128
# forwarded props whose resources aws-cdk-lib decides (the plan's resource count is then unknown)
_RESOURCES_UNKNOWN = ("filesystem", "profiling", "profiling_group", "tenancy_config", "durable_config")


@dataclass(frozen=True)
class Facts:
    """What the build needs besides the plan: read from the CDK values once, during validation."""

    image: bool
    arm64: bool
    runtime_name: str
    passthrough: Mapping[str, Any]


def plan_production_function(
    scope: Construct, id: str, owner: Construct, props: Mapping[str, Any]
) -> tuple[FunctionPlan, Facts]:
    """Validate ``props`` (ProductionFunction's keywords) and plan the function; raises ConfigurationError."""
    p = props
    given = {k: v for k, v in p.items() if k in options.FORWARDED}
    passthrough = {k: given[k] for k in options.PASS_THROUGH if given.get(k) is not None}
    code, runtime, architecture, invocation = p["code"], p["runtime"], p["architecture"], p["invocation"]
    provisioned = p["provisioned_concurrency"]
    snap_start = p["snap_start"]
    if (snap_start is not None or p["tenancy_config"] is not None) and provisioned is DEFAULT:
        provisioned = None  # SnapStart / tenant isolation: no provisioned concurrency (the plan notes it)
    image = code_info.is_image(code)
    arm64 = architecture is None or architecture is _arm64()
    runtime_name = _runtime_name(runtime, image)
    package_bytes = code_info.asset_unzipped_bytes(code)
    powertools, deployment = p["powertools"], p["deployment"]
    is_async = invocation is Invocation.ASYNC or p["on_failure"] is not None or p["on_success"] is not None
    tracing = p["tracing"]
    found: list[FunctionPlan] = []

    def check(problems: Problems) -> None:
        problems.extend(options.forwarded_problems(given))
        problems.add(_cdk.topic_problem(p["alarm_topic"], scope=scope))
        problems.add(_keys.key_problem(p["encryption_key"], scope=scope))
        removal_problem = _cdk.removal_policy_problem(p["removal_policy"])
        problems.add(removal_problem)
        check_code(problems, code, p["handler"], runtime, image, arm64)
        request = FunctionRequest(
            path=problems.path,
            alarm_prefix="",
            invocation=invocation,
            memory=p["memory"],
            p99=None if p["p99"] is None else _reading("p99", p["p99"], whole_seconds=False),
            sizing=p["sizing"],
            timeout=None if p["timeout"] is None else _reading("timeout", p["timeout"]),
            timeout_multiplier=p["timeout_multiplier"],
            provisioned_concurrency=p["provisioned_concurrency"],
            reserved_concurrency=p["reserved_concurrency"],
            environment=p["environment"],
            powertools_environment=powertools.environment() if isinstance(powertools, Powertools) else None,
            function_name=p["function_name"],
            retry_attempts=p["retry_attempts"],
            max_event_age=(
                Reading(
                    problem=_cdk.duration_range_problem(
                        "max_event_age", p["max_event_age"], limits.ASYNC_EVENT_AGE_MIN_S, limits.ASYNC_EVENT_AGE_MAX_S
                    )
                )
                if is_async
                else None
            ),
            on_failure=p["on_failure"] is not None,
            on_success=p["on_success"] is not None,
            snap_start=snap_start is not None,
            tenancy=p["tenancy_config"] is not None,
            role_given=p["role"] is not None,
            vpc=p["vpc"] is not None,
            security_groups_given=p["security_groups"] is not None,
            dead_letter_queue_enabled=bool(p["dead_letter_queue_enabled"]),
            powertools=powertools is not None,
            events=len(p["events"]) if isinstance(p["events"], Sequence) else 0,
            deployment=deployment.kind if isinstance(deployment, Deployment) else None,
            unknown_resources=any(p[name] is not None for name in _RESOURCES_UNKNOWN),
            tracing=None if tracing is None or tracing is lambda_.Tracing.ACTIVE else getattr(tracing, "name", tracing),
            package_bytes=package_bytes,
            ecr_image=isinstance(code, lambda_.EcrImageCode),
            arm64=arm64,
            removal_policy=_cdk.removal_policy_name(p["removal_policy"]) if removal_problem is None else "RETAIN",
        )
        checked = validate_function(problems, request)
        if checked is not None:  # the constructor's events= get add_event_source's checks
            problems.extend(q for q in methods.events_problems(p["events"], checked[2].seconds) if q)
        if deployment is not None:
            problems.extend(_deployment_problems(deployment))
        if powertools is not None:
            if isinstance(powertools, Powertools):
                region = _cdk.stack_of(scope).region
                problems.extend(powertools.problems(runtime_name, region=None if _cdk.is_token(region) else region))
            else:
                problems.add(Problem("powertools", powertools, "a Powertools(service=...)"))
        problems.extend(
            _surface_problems(
                runtime_name=runtime_name,
                image=image,
                provisioned=provisioned,
                snap_start=snap_start,
                filesystem=p["filesystem"],
                ephemeral=p["ephemeral_storage_size"],
                layers=p["layers"],
                extra_layers=1 if powertools is not None else 0,
                vpc=p["vpc"],
                vpc_subnets=p["vpc_subnets"],
                security_groups=p["security_groups"],
                allow_public_subnet=p["allow_public_subnet"],
                allow_all_outbound=p["allow_all_outbound"],
                allow_all_ipv6_outbound=p["allow_all_ipv6_outbound"],
                ipv6_allowed_for_dual_stack=p["ipv6_allowed_for_dual_stack"],
                logging_format=p["logging_format"],
                levels=(p["application_log_level_v2"], p["system_log_level_v2"]),
                architecture_name="arm64" if arm64 else "x86_64",
            )
        )
        problems.add(code_info.package_size_problem(package_bytes))
        problems.extend(modes.durable_problems(p["durable_config"]))
        if problems or checked is None:
            return
        # the alarm names' prefix: the stack's name and the path under it (read once per stack)
        _stack, stack_name, stack_path = _cdk.stack_info(scope)
        request = dataclasses.replace(request, alarm_prefix=alarm_prefix(stack_name, stack_path, problems.path))
        found.append(plan_from_checked(request, checked, package_warn_mb=code_info.PACKAGE_WARN_MB))

    _cdk.validated(scope, id, check, owner=owner)
    return found[0], Facts(image=image, arm64=arm64, runtime_name=runtime_name, passthrough=passthrough)


def _reading(prop: str, value: object, *, whole_seconds: bool = True) -> Reading:
    """A Duration read once: ms for ``p99`` (``whole_seconds=False``), else whole seconds."""
    problem = _cdk.duration_problem(prop, value, whole_seconds=whole_seconds, concrete=True)
    if problem is not None:
        return Reading(problem=problem)
    duration = typing.cast("Any", value)
    return Reading(_cdk.milliseconds(duration) if not whole_seconds else _cdk.seconds(duration))


def check_code(problems: Problems, code: object, handler: object, runtime: object, image: bool, arm64: bool) -> None:
    if not isinstance(code, lambda_.Code | lambda_.DockerImageCode):
        problems.add(Problem("code", _cdk.short(code), "an aws_lambda.Code or aws_lambda.DockerImageCode"))
        return
    if runtime is not None and not isinstance(runtime, lambda_.Runtime):
        problems.add(Problem("runtime", runtime, "an aws_lambda.Runtime, e.g. Runtime.PYTHON_3_13"))
    if image:
        problems.add(code_info.image_platform_problem(code, arm64))
        if handler is not None and handler != lambda_.Handler.FROM_IMAGE:
            problems.add(Problem("handler", handler, "None for a container image (the image's CMD is the handler)"))
        if runtime is not None and getattr(runtime, "name", runtime) != "FROM_IMAGE":
            problems.add(
                Problem(
                    "runtime",
                    getattr(runtime, "name", runtime),
                    "None (or Runtime.FROM_IMAGE) for a container image",
                    "the image brings its own runtime",
                )
            )
        return
    if isinstance(runtime, lambda_.Runtime) and runtime.name == "FROM_IMAGE":
        problems.add(
            Problem(
                "runtime",
                "FROM_IMAGE",
                "a zip runtime such as Runtime.PYTHON_3_14 (FROM_IMAGE is for container images)",
                "pass code=Code.from_asset_image(...) for an image, or a runtime for zip code",
            )
        )
    if not isinstance(handler, str) or not handler.strip() or len(handler) > HANDLER_MAX:
        problems.add(
            Problem(
                "handler",
                _cdk.short(handler),
                f"a non-empty string of at most {HANDLER_MAX} characters, such as 'app.handler'",
            )
        )


def _struct_kwargs(struct: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments from a jsii struct that aws-cdk-lib passed back positionally, plus ``kwargs``."""
    if struct is None:
        return dict(kwargs)
    if isinstance(struct, Mapping):
        return {**struct, **kwargs}
    return {**getattr(struct, "_values", {}), **kwargs}


_STATIC: dict[str, Any] = {}


def _arm64() -> lambda_.Architecture:
    """``Architecture.ARM_64``, read from jsii once per process."""
    if "arm64" not in _STATIC:
        _STATIC["arm64"] = lambda_.Architecture.ARM_64
    return typing.cast(lambda_.Architecture, _STATIC["arm64"])


def _runtime_name(runtime: object, image: bool) -> str:
    if image:
        return "FROM_IMAGE"
    if runtime is None:
        if "latest" not in _STATIC:
            _STATIC["latest"] = LATEST_PYTHON.name
        return typing.cast(str, _STATIC["latest"])
    return runtime.name if isinstance(runtime, lambda_.Runtime) else str(runtime)


def _surface_problems(
    *,
    runtime_name: str,
    image: bool,
    provisioned: object,
    snap_start: object,
    filesystem: object,
    ephemeral: object,
    layers: object,
    extra_layers: int,
    vpc: object,
    vpc_subnets: object,
    security_groups: object,
    allow_public_subnet: object,
    allow_all_outbound: object,
    allow_all_ipv6_outbound: object = None,
    ipv6_allowed_for_dual_stack: object = None,
    logging_format: object = None,
    levels: tuple[object, object],
    architecture_name: str = "arm64",
) -> list[Problem]:
    """The combinations AWS rejects or that fail in production (AWS Lambda developer guide)."""
    found: list[Problem | None] = []
    ephemeral_mb: float | None = None
    if isinstance(ephemeral, Size) and not _cdk.is_token(ephemeral.to_mebibytes()):
        ephemeral_mb = ephemeral.to_mebibytes()
        found.append(
            limits.check_range(
                "ephemeral_storage_size",
                ephemeral_mb,
                limits.Range(EPHEMERAL_MIN_MB, EPHEMERAL_MAX_MB, "MB"),
                "Lambda's /tmp is 512..10,240 MB",
            )
        )
    if snap_start is not None:
        rule = "SnapStart (AWS Lambda developer guide, 'Improving startup performance with Lambda SnapStart')"
        if image or not SNAPSTART_RUNTIMES.match(runtime_name):
            found.append(
                Problem(
                    "snap_start",
                    runtime_name,
                    "a SnapStart runtime: Java 11+, Python 3.12+, .NET 8+ (zip packages only)",
                    f"{rule} does not support this runtime",
                )
            )
        if isinstance(provisioned, ProvisionedConcurrency):
            found.append(
                Problem(
                    "provisioned_concurrency",
                    provisioned,
                    "None with snap_start",
                    f"AWS does not support {rule} with provisioned concurrency: pick one cold-start strategy",
                )
            )
        if filesystem is not None:
            found.append(Problem("filesystem", "an EFS file system", "None with snap_start", f"{rule}: no EFS"))
        if ephemeral_mb is not None and ephemeral_mb > SNAPSTART_MAX_EPHEMERAL_MB:
            found.append(
                Problem(
                    "ephemeral_storage_size",
                    f"{ephemeral_mb:g} MB",
                    f"<= {SNAPSTART_MAX_EPHEMERAL_MB} MB with snap_start",
                    f"{rule}: ephemeral storage above 512 MB is not supported",
                )
            )
    layer_list = list(layers) if isinstance(layers, Sequence) else []
    if len(layer_list) + extra_layers > MAX_LAYERS:
        found.append(
            Problem(
                "layers",
                f"{len(layer_list)} layers" + (" + the Powertools layer" if extra_layers else ""),
                f"at most {MAX_LAYERS} layers per function (Lambda quota)",
            )
        )
    if image and (layer_list or extra_layers):
        found.append(
            Problem(
                "layers",
                f"{len(layer_list) + extra_layers} layers",
                "none for a container image",
                "a container image cannot use layers: add the files to the image",
            )
        )
    for index, layer in enumerate(layer_list):
        found.append(_layer_architecture_problem(index, layer, architecture_name))
        runtimes = getattr(layer, "compatible_runtimes", None)
        if runtimes and not image and runtime_name not in {r.name for r in runtimes}:
            found.append(
                Problem(
                    f"layers[{index}]",
                    getattr(layer, "node", None) and layer.node.path,
                    f"a layer compatible with {runtime_name} (it lists {', '.join(sorted(r.name for r in runtimes))})",
                )
            )
    found.extend(
        _vpc_problems(
            vpc,
            vpc_subnets,
            security_groups,
            allow_public_subnet,
            allow_all_outbound,
            allow_all_ipv6_outbound,
            ipv6_allowed_for_dual_stack,
        )
    )
    if logging_format is lambda_.LoggingFormat.TEXT and any(level is not None for level in levels):
        found.append(
            Problem(
                "application_log_level_v2/system_log_level_v2",
                "set",
                "None with logging_format=TEXT",
                "log levels filter JSON logs only; keep the default JSON format",
            )
        )
    return [p for p in found if p]


def _layer_architecture_problem(index: int, layer: object, architecture: str) -> Problem | None:
    """A layer made in this app whose compatible architectures exclude the function's.

    aws-cdk-lib's ``ILayerVersion`` exposes no compatible architectures, but a ``LayerVersion`` made in the
    app carries them on its ``AWS::Lambda::LayerVersion`` (``CompatibleArchitectures``). An imported layer
    (``LayerVersion.from_layer_version_arn``) is an ARN only: its architectures cannot be read at synthesis.
    A layer built for the other architecture deploys, and its native code fails on the first import.
    """
    if not isinstance(layer, lambda_.LayerVersion):
        return None
    cfn = layer.node.default_child
    architectures = getattr(cfn, "compatible_architectures", None)
    if not isinstance(architectures, list) or not architectures or architecture in architectures:
        return None
    return Problem(
        f"layers[{index}]",
        _cdk.path_of(layer),
        f"a layer compatible with {architecture} (it lists {', '.join(architectures)})",
        "build the layer for the function's architecture (compatible_architectures=[...]) or change architecture=",
    )


def _vpc_problems(
    vpc: object,
    vpc_subnets: object,
    security_groups: object,
    allow_public_subnet: object,
    allow_all_outbound: object,
    allow_all_ipv6_outbound: object = None,
    ipv6_allowed_for_dual_stack: object = None,
) -> list[Problem]:
    found = []
    if vpc is None:
        for name, value in (
            ("security_groups", security_groups),
            ("vpc_subnets", vpc_subnets),
            ("allow_public_subnet", allow_public_subnet),
            ("allow_all_outbound", allow_all_outbound),
            ("allow_all_ipv6_outbound", allow_all_ipv6_outbound),
            ("ipv6_allowed_for_dual_stack", ipv6_allowed_for_dual_stack),
        ):
            if value is not None:
                found.append(Problem(name, _cdk.short(value), "None without vpc=", "pass vpc= to run in a VPC"))
        return found
    if security_groups is not None and allow_all_outbound is not None:
        found.append(
            Problem(
                "allow_all_outbound",
                allow_all_outbound,
                "None with security_groups=",
                "configure allow_all_outbound on the security group you pass",
            )
        )
    if not _cdk.implements(vpc, "select_subnets"):
        return found
    selection = _struct_kwargs(vpc_subnets, {})
    try:
        selected = vpc.select_subnets(**selection)  # type: ignore[attr-defined]
    except Exception as error:  # jsii raises RuntimeError for a selection the VPC cannot satisfy
        return [
            *found,
            Problem("vpc_subnets", _cdk.short(selection), "a selection the VPC has", str(error).split("\n")[0]),
        ]
    if selected.has_public and not allow_public_subnet:
        found.append(
            Problem(
                "vpc_subnets",
                _cdk.short(selection) if selection else "the VPC's default selection",
                "private subnets (or allow_public_subnet=True)",
                "a function in a public subnet gets no public IP and so no internet access; use private subnets "
                "with a NAT gateway or VPC endpoints",
            )
        )
    return found


def _deployment_problems(deployment: object) -> list[Problem]:
    if not isinstance(deployment, Deployment):
        return [
            Problem("deployment", deployment, "a Deployment (Deployment.canary(...), .linear(...), .all_at_once())")
        ]
    return deployment.problems()
