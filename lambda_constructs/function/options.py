"""Every property of aws-cdk-lib's ``aws_lambda.FunctionOptions``: forwarded unchanged, or owned.

``FORWARDED`` properties are accepted by [`ProductionFunction`][lambda_constructs.ProductionFunction] under the
same snake_case keyword, type-checked here, and passed to ``aws_lambda.Function`` unchanged.
``OWNED`` properties are set by the library through its own parameter, for the reason given.
A test reads the property list from aws-cdk-lib itself and fails when a new aws-cdk-lib adds one
that is in neither table, so the table in docs/production-function.md cannot go stale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy, Size
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from lambda_constructs import _cdk
from lambda_constructs.core.errors import Problem


@dataclass(frozen=True)
class Forwarded:
    """A FunctionOptions property passed through unchanged; ``check`` says whether a value is acceptable."""

    expected: str
    check: Callable[[object], bool]


def _is(*types: type) -> Callable[[object], bool]:
    return lambda v: isinstance(v, types) and (bool in types or not isinstance(v, bool))


def _has(attribute: str) -> Callable[[object], bool]:
    return lambda v: _cdk.implements(v, attribute)


def _seq_of(item: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda v: isinstance(v, Sequence) and not isinstance(v, str | bytes) and all(item(i) for i in v)


def _struct(cls: type) -> Callable[[object], bool]:
    """The jsii struct, or a mapping of its keyword arguments (checked by building the struct)."""

    def check(value: object) -> bool:
        if isinstance(value, cls):
            return True
        if not isinstance(value, Mapping) or cls is Mapping:
            return isinstance(value, Mapping)
        try:
            cls(**value)
        except TypeError:
            return False
        return True

    return check


_BOOL = Forwarded("True or False", lambda v: isinstance(v, bool))

FORWARDED: dict[str, Forwarded] = {
    "adot_instrumentation": Forwarded(
        "an aws_lambda.AdotInstrumentationConfig", _struct(lambda_.AdotInstrumentationConfig)
    ),
    "allow_all_ipv6_outbound": _BOOL,
    "allow_all_outbound": _BOOL,
    "allow_public_subnet": _BOOL,
    "code_signing_config": Forwarded("an aws_lambda.ICodeSigningConfig", _has("code_signing_config_arn")),
    "current_version_options": Forwarded("an aws_lambda.VersionOptions", _struct(lambda_.VersionOptions)),
    "dead_letter_queue": Forwarded("an aws_sqs.IQueue", _has("queue_arn")),
    "dead_letter_queue_enabled": _BOOL,
    "dead_letter_topic": Forwarded("an aws_sns.ITopic", _has("topic_arn")),
    "durable_config": Forwarded("an aws_lambda.DurableConfig", _struct(getattr(lambda_, "DurableConfig", Mapping))),
    "environment_encryption": Forwarded("an aws_kms.IKey", _has("key_arn")),
    "ephemeral_storage_size": Forwarded("an aws_cdk.Size, e.g. Size.mebibytes(2048)", _is(Size)),
    "filesystem": Forwarded("an aws_lambda.FileSystem", _is(lambda_.FileSystem)),
    "initial_policy": Forwarded("a list of aws_iam.PolicyStatement", _seq_of(_is(iam.PolicyStatement))),
    "insights_version": Forwarded("an aws_lambda.LambdaInsightsVersion", _is(lambda_.LambdaInsightsVersion)),
    "ipv6_allowed_for_dual_stack": _BOOL,
    "layers": Forwarded("a list of aws_lambda.ILayerVersion", _seq_of(_has("layer_version_arn"))),
    "logging_format": Forwarded("an aws_lambda.LoggingFormat", _is(lambda_.LoggingFormat)),
    "application_log_level_v2": Forwarded("an aws_lambda.ApplicationLogLevel", _is(lambda_.ApplicationLogLevel)),
    "system_log_level_v2": Forwarded("an aws_lambda.SystemLogLevel", _is(lambda_.SystemLogLevel)),
    "on_failure": Forwarded("an aws_lambda.IDestination", _has("bind")),
    "on_success": Forwarded("an aws_lambda.IDestination", _has("bind")),
    "params_and_secrets": Forwarded(
        "an aws_lambda.ParamsAndSecretsLayerVersion", _is(lambda_.ParamsAndSecretsLayerVersion)
    ),
    "profiling": _BOOL,
    "profiling_group": Forwarded("an aws_codeguruprofiler.IProfilingGroup", _has("profiling_group_name")),
    "recursive_loop": Forwarded("an aws_lambda.RecursiveLoop", _is(lambda_.RecursiveLoop)),
    "runtime_management_mode": Forwarded("an aws_lambda.RuntimeManagementMode", _is(lambda_.RuntimeManagementMode)),
    "security_groups": Forwarded("a list of aws_ec2.ISecurityGroup", _seq_of(_has("security_group_id"))),
    "snap_start": Forwarded("an aws_lambda.SnapStartConf", _is(lambda_.SnapStartConf)),
    "tenancy_config": Forwarded("an aws_lambda.TenancyConfig", _is(getattr(lambda_, "TenancyConfig", object))),
    "tracing": Forwarded("an aws_lambda.Tracing", _is(lambda_.Tracing)),
    "vpc": Forwarded("an aws_ec2.IVpc", _has("vpc_id")),
    "vpc_subnets": Forwarded("an aws_ec2.SubnetSelection", _struct(ec2.SubnetSelection)),
    # accepted under the same keyword, but the library applies them itself (see below)
    "architecture": Forwarded("an aws_lambda.Architecture", _is(lambda_.Architecture)),
    "description": Forwarded("a string of at most 256 characters", lambda v: isinstance(v, str) and len(v) <= 256),
    "environment": Forwarded("a mapping of str to str", lambda v: isinstance(v, Mapping)),
    "events": Forwarded("a list of aws_lambda.IEventSource", _seq_of(_has("bind"))),
    "function_name": Forwarded("a string", lambda v: isinstance(v, str)),
    "log_removal_policy": Forwarded("an aws_cdk.RemovalPolicy", _is(RemovalPolicy)),
    "log_retention": Forwarded("an aws_logs.RetentionDays", lambda v: type(v).__name__ == "RetentionDays"),
    "max_event_age": Forwarded("an aws_cdk.Duration", lambda v: type(v).__name__ == "Duration"),
    "retry_attempts": Forwarded("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "role": Forwarded("an aws_iam.IRole", _has("role_arn")),
}

# Keywords of FORWARDED that ProductionFunction applies itself rather than passing straight through.
APPLIED_BY_LIBRARY: dict[str, str] = {
    "architecture": "default ARM_64 (about 20% cheaper per GB-second than x86_64)",
    "description": "checked against Lambda's 256-character limit",
    "function_name": "checked against Lambda's naming rule (1..64 of a-z A-Z 0-9 - _)",
    "layers": "at most 5 with the Powertools layer, compatible runtimes checked",
    "environment": "validated against the 4 KB limit; Powertools variables are merged in",
    "events": "attached to the `live` alias, never to $LATEST",
    "log_removal_policy": "applied to the function's own log group",
    "log_retention": "set on the function's own AWS::Logs::LogGroup (no LogRetention custom resource)",
    "max_event_age": "async invoke config on $LATEST and `live`; 60 s..6 h, default 6 h",
    "retry_attempts": "async invoke config on $LATEST and `live`; 0..2, default 2",
    "on_failure": "replaces the library's failure queue, on $LATEST and `live`",
    "on_success": "added beside the failure destination, on $LATEST and `live`",
    "role": "default a new least-privilege role; either way granted its own log group only",
    "tracing": "default ACTIVE; anything else adds a warning",
    "logging_format": "default JSON (structured logs with the request id in every line)",
    "application_log_level_v2": "default INFO with JSON logs",
    "system_log_level_v2": "default INFO with JSON logs (WARN would drop START/REPORT lines)",
}

OWNED: dict[str, str] = {
    "memory_size": "set through memory= (Memory.io_bound(), Memory.cpu_bound(), Memory.from_power_tuning(...))",
    "timeout": "derived through p99= / sizing= (timeout = ceil(multiplier x p99)), or timeout= with a warning",
    "reserved_concurrent_executions": "set through reserved_concurrency=, checked against provisioned concurrency",
    "log_group": "the library creates the function's own log group (retention, removal policy, least-privilege "
    "logging grant)",
    "log_format": "deprecated in aws-cdk-lib; use logging_format=",
    "application_log_level": "deprecated in aws-cdk-lib; use application_log_level_v2=",
    "system_log_level": "deprecated in aws-cdk-lib; use system_log_level_v2=",
    "log_retention_retry_options": "not applicable: no LogRetention custom resource, the log group is a real "
    "AWS::Logs::LogGroup",
    "log_retention_role": "not applicable: no LogRetention custom resource, the log group is a real "
    "AWS::Logs::LogGroup",
}

# Everything else a FunctionProps has on top of FunctionOptions.
FUNCTION_PROPS = ("code", "handler", "runtime")

PASS_THROUGH = tuple(name for name in FORWARDED if name not in APPLIED_BY_LIBRARY and name not in FUNCTION_PROPS)


def forwarded_problems(values: Mapping[str, object]) -> list[Problem]:
    """A problem for every forwarded keyword whose value is not of the type aws-cdk-lib takes."""
    problems = []
    for name, value in values.items():
        spec = FORWARDED.get(name)
        if value is None or spec is None or _cdk.is_token(value):
            continue
        if not spec.check(value):
            problems.append(Problem(name, _cdk.short(value), spec.expected))
    return problems
