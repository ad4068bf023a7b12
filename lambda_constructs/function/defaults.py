"""ProductionDefaults: the library's function defaults for every ``aws_lambda.Function`` built in a scope.

aws-cdk-lib's own mechanism, a property injector::

    PropertyInjectors.of(app).add(lambda_constructs.ProductionDefaults())

It fills in, on functions built after that line anywhere under ``app`` (raw functions, functions
inside third-party constructs, aws-cdk-lib's framework functions), only what the caller left unset.
The decisions are pure (`lambda_constructs.core.defaults`); this module reads the props and
builds the values. docs/defaults.md ("ProductionDefaults") has the table and the reasons.
"""

from __future__ import annotations

import fnmatch
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Annotations, CfnResource, Duration, InjectionContext, IPropertyInjector, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct, IValidation

from lambda_constructs import _cdk, _keys
from lambda_constructs.core import limits
from lambda_constructs.core.defaults import (
    AssetScan,
    DefaultsPlan,
    DefaultsSettings,
    FunctionFacts,
    plan_defaults,
    scan_asset,
)
from lambda_constructs.core.errors import ConfigurationError, Problem
from lambda_constructs.core.report import FRAMEWORK_FUNCTION

OPT_OUT_CONTEXT = "lambda-constructs:production-defaults"
"""Context key: set it to ``False`` on a scope (before its children are added) to leave every function
under that scope alone, e.g. a wrapper around a third-party construct."""

DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH  # as ProductionFunction
DEFAULT_ASYNC_RETRY_ATTEMPTS = 2  # AWS's own default, stated (AWS::Lambda::EventInvokeConfig)
DEFAULT_MAX_EVENT_AGE = Duration.hours(6)  # AWS's own default (21,600 s), stated

# aws-cdk-lib's handler code ships inside its package: a function whose asset is there is aws-cdk-lib's own
_FRAMEWORK_ASSET = ("/node_modules/aws-cdk-lib/", "\\node_modules\\aws-cdk-lib\\")
_VALUES: dict[str, Callable[[], Any]] = {
    "architecture": lambda: lambda_.Architecture.ARM_64,
    "loggingFormat": lambda: lambda_.LoggingFormat.JSON,
    "applicationLogLevelV2": lambda: lambda_.ApplicationLogLevel.INFO,
    "systemLogLevelV2": lambda: lambda_.SystemLogLevel.INFO,
    "tracing": lambda: lambda_.Tracing.ACTIVE,
    "recursiveLoop": lambda: lambda_.RecursiveLoop.TERMINATE,
}


@jsii.implements(IPropertyInjector)
class ProductionDefaults:
    """A property injector for ``aws_lambda.Function``: production defaults where the props leave them unset.

    ``PropertyInjectors.of(scope).add(ProductionDefaults())`` applies to every function built
    afterwards under ``scope`` (subclasses too: ``DockerImageFunction``, ``SingletonFunction``,
    ``NodejsFunction``, ``PythonFunction``). It never changes a value that was given. Each change is an
    info annotation on the function saying what changed from what; each thing deliberately left alone
    (an architecture it cannot verify) is an info annotation too.

    Filled in: arm64 where the code is architecture-neutral (interpreted runtime, no layers, inline code
    or an asset without native binaries or dependency manifests); JSON logs with INFO application and
    system levels; its own log group with ``log_retention``; active X-Ray tracing; recursive-loop
    termination; async ``retry_attempts`` and ``max_event_age``. aws-cdk-lib's framework functions get
    only the log group. Functions built by this library's constructs are skipped (they decide all of it).

    Not injectable, so left to the rule pack with its fix: an alias, provisioned concurrency, alarms,
    failure destinations (LambdaProduction-ErrorsAlarm, -AsyncFailurePath, ...).

    Args:
        log_retention: retention of the log group created for a function; default one month (as
            ProductionFunction).
        retry_attempts: async retries, 0..2; default 2 (AWS's default, stated explicitly).
        max_event_age: async event age, 60 s..6 h; default 6 h (AWS's default, stated explicitly).
        exclude: construct-path patterns (``fnmatch``, e.g. ``"Service/Legacy/*"``) of functions to leave
            alone: the per-function opt-out. A scope can opt out too: set the context key
            ``OPT_OUT_CONTEXT`` to ``False`` on it before its children are added.
        framework_functions: give aws-cdk-lib's framework functions their log group; default True.

    A function whose code later calls ``configure_async_invoke()`` fails with aws-cdk-lib's "An
    EventInvokeConfig has already been configured": pass ``retry_attempts`` / ``max_event_age`` as props
    instead, or exclude that function.
    """

    def __init__(
        self,
        *,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        retry_attempts: int = DEFAULT_ASYNC_RETRY_ATTEMPTS,
        max_event_age: Duration = DEFAULT_MAX_EVENT_AGE,
        exclude: Sequence[str] = (),
        framework_functions: bool = True,
    ) -> None:
        problems: list[Problem | None] = []
        if type(log_retention).__name__ != "RetentionDays":
            problems.append(Problem("log_retention", _cdk.short(log_retention), "an aws_logs.RetentionDays"))
        problems.append(
            limits.check_int_range(
                "retry_attempts", retry_attempts, limits.Range(limits.ASYNC_RETRY_MIN, limits.ASYNC_RETRY_MAX)
            )
        )
        problems.append(
            _cdk.duration_range_problem(
                "max_event_age", max_event_age, limits.ASYNC_EVENT_AGE_MIN_S, limits.ASYNC_EVENT_AGE_MAX_S
            )
        )
        if isinstance(exclude, str) or not all(isinstance(p, str) and p for p in exclude):
            problems.append(
                Problem("exclude", _cdk.short(exclude), "a list of construct-path patterns, e.g. ['Stack/Legacy/*']")
            )
        if not isinstance(framework_functions, bool):
            problems.append(Problem("framework_functions", _cdk.short(framework_functions), "True | False"))
        found = [p for p in problems if p]
        if found:
            raise ConfigurationError(found, "ProductionDefaults")
        self.log_retention = log_retention
        self.retry_attempts = retry_attempts
        self.max_event_age = max_event_age
        self.exclude: tuple[str, ...] = tuple(exclude)
        self.framework_functions = framework_functions
        self._settings = DefaultsSettings(
            log_retention=str(getattr(log_retention, "value", log_retention)),
            retry_attempts=retry_attempts,
            max_event_age_s=int(max_event_age.to_seconds()),
            framework_functions=framework_functions,
        )

    @property
    def construct_unique_id(self) -> str:
        return typing.cast(str, lambda_.Function.PROPERTY_INJECTION_ID)

    def inject(
        self,
        original_props: Any,
        context: InjectionContext | None = None,
        *,
        id: str | None = None,
        scope: Construct | None = None,
    ) -> Any:
        """aws-cdk-lib's callback: the props a function is about to be built with, and its scope and id.

        jsii passes the ``InjectionContext`` positionally; the keyword form matches the typed protocol
        (``inject(original_props, *, id, scope)``), so a type checker accepts the injector too.
        """
        if context is not None:
            scope, id = context.scope, context.id
        if scope is None or id is None:
            return original_props
        return self._inject(original_props, scope, id)

    def _inject(self, original_props: Any, scope: Construct, id_: str) -> Any:
        props: dict[str, Any] = dict(original_props or {})
        if type(scope).__module__.startswith("lambda_constructs."):
            return original_props  # our constructs decide every one of these settings themselves
        path = f"{_cdk.path_of(scope)}/{id_}"
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in self.exclude) or _opted_out(scope):
            return original_props
        facts = _facts(path, id_, props)
        plan = plan_defaults(facts, self._settings)
        if not plan.messages:
            return original_props
        props.update(self._values(plan, scope, id_))
        # an invoke config of ours alone (no retry, age or destination given) says nothing about how it is invoked
        ours_alone = {"retryAttempts", "maxEventAge"} <= {c.prop for c in plan.changes} and not (
            facts.set_props & {"onFailure", "onSuccess"}
        )
        _annotate_later(scope, id_, plan.messages, ours_alone)
        return props

    def _values(self, plan: DefaultsPlan, scope: Construct, id_: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for change in plan.changes:
            if change.prop == "logGroup":
                # encrypted with the default_encryption_key of the scope, if one is set (with its Logs statement)
                values["logGroup"] = _keys.log_group(
                    scope, f"{id_}LogGroup", retention=self.log_retention, key=_keys.usable_default_key(scope)
                )
            elif change.prop == "retryAttempts":
                values["retryAttempts"] = self.retry_attempts
            elif change.prop == "maxEventAge":
                values["maxEventAge"] = self.max_event_age
            else:
                values[change.prop] = _VALUES[change.prop]()
        return values


def _opted_out(scope: IConstruct) -> bool:
    value = _cdk.node_of(scope).try_get_context(OPT_OUT_CONTEXT)
    return value is False or (isinstance(value, str) and value.lower() in ("false", "off", "0"))


def _facts(path: str, id_: str, props: Mapping[str, Any]) -> FunctionFacts:
    code = props.get("code")
    runtime = props.get("runtime")
    runtime_name = str(runtime.name) if runtime is not None else "unknown"
    kind, asset = _code(code)
    framework = (kind == "asset" and asset is None) or bool(FRAMEWORK_FUNCTION.match(id_.replace("::", "")))
    fmt = props.get("loggingFormat")
    return FunctionFacts(
        path=path,
        runtime=runtime_name,
        code_kind=kind,
        set_props=frozenset(k for k, v in props.items() if v is not None),
        has_layers=bool(props.get("layers")),
        asset=None if framework else asset,
        framework=framework,
        logging_format=None if fmt is None else str(getattr(fmt, "value", fmt)),
    )


def _code(code: object) -> tuple[str, AssetScan | None]:
    if isinstance(code, lambda_.InlineCode):
        return "inline", None
    if isinstance(code, lambda_.AssetImageCode | lambda_.EcrImageCode):
        return "image", None
    if isinstance(code, lambda_.AssetCode):
        return "asset", None if _in_cdk(code.path) else scan_asset(str(code.path))
    if isinstance(code, lambda_.S3Code | lambda_.S3CodeV2):
        return "s3", None
    return "other", None


def _in_cdk(path: str) -> bool:
    return any(marker in str(path) for marker in _FRAMEWORK_ASSET)


def _annotate_later(scope: Construct, id_: str, messages: list[str], invoke_config: bool) -> None:
    """Info annotations on the function, which does not exist yet: one validation per stack adds them."""
    stack = Stack.of(scope)
    pending: _PendingAnnotations | None = getattr(stack, "_lc_pending_defaults", None)
    if pending is None:
        pending = _PendingAnnotations()
        _cdk.node_of(stack).add_validation(pending)
        object.__setattr__(stack, "_lc_pending_defaults", pending)
    pending.entries.append((scope, id_, messages, invoke_config))


@jsii.implements(IValidation)
class _PendingAnnotations:
    """ProductionDefaults' annotations for a stack's functions, added at synthesis once the functions exist."""

    def __init__(self) -> None:
        self.entries: list[tuple[Construct, str, list[str], bool]] = []

    def validate(self) -> list[str]:
        entries, self.entries = self.entries, []
        for scope, id_, messages, invoke_config in entries:
            target = _cdk.node_of(scope).try_find_child(id_) or scope
            annotations = Annotations.of(target)
            for message in messages:
                annotations.add_info(message)
            config = _cdk.node_of(target).try_find_child("EventInvokeConfig") if invoke_config else None
            if config is not None:  # the rule pack does not read an injected config as async use
                typing.cast(CfnResource, config.node.default_child).add_metadata(
                    "lambda-constructs", {"injectedBy": "ProductionDefaults"}
                )
        return []
