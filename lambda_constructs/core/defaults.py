"""What ``ProductionDefaults`` changes on a function the library did not build: pure decisions.

The injector (`lambda_constructs.function.defaults`) reads the props a ``aws_lambda.Function``
is being built with into `FunctionFacts`; `plan_defaults()` decides, without CDK, which
props to fill in and why; the injector turns the plan into props and info annotations.

Rules (docs/defaults.md, "ProductionDefaults"):

- a value the user (or the construct that builds the function) set is never changed;
- arm64 only where the code is architecture-neutral: an interpreted runtime (Python, Node.js, Ruby),
  no layers, and inline code or an asset with no native binary and no dependency manifest a bundling
  step could compile for x86_64. Container images, layers, compiled runtimes and code in S3 are left
  alone, with an annotation saying why ("Lambda in Production": arm64 is about 20% cheaper per
  GB-second, but code built for x86_64 fails on arm64);
- aws-cdk-lib's own framework functions (custom-resource providers, BucketDeployment, AwsCustomResource)
  get only a log group with retention: their code, role and invocation are aws-cdk-lib's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

INTERPRETED_RUNTIMES = ("python", "nodejs", "ruby")
# files that say "a bundling step installs dependencies here": those may be compiled for the build machine
DEPENDENCY_MANIFESTS = frozenset(
    {
        "requirements.txt",
        "pyproject.toml",
        "Pipfile",
        "Pipfile.lock",
        "poetry.lock",
        "uv.lock",
        "setup.py",
        "package.json",
        "Gemfile",
        "Gemfile.lock",
    }
)
NATIVE_SUFFIXES = (".so", ".node", ".pyd", ".dylib", ".dll", ".a")
NATIVE_MAGIC = (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"MZ")
MAX_SCANNED_FILES = 5_000  # a larger asset (a whole repository, a node_modules) is "unknown", not scanned


@dataclass(frozen=True)
class AssetScan:
    """What a look through an asset found: ``neutral`` True, or the reason it may not be."""

    neutral: bool
    reason: str


@lru_cache(maxsize=256)
def scan_asset(path: str) -> AssetScan:
    """Look through an asset directory (or file) for native binaries and dependency manifests.

    Reads at most `MAX_SCANNED_FILES` files and 4 bytes of each; the result is cached per
    path, so functions sharing one asset cost one scan.
    """
    root = Path(path)
    if root.is_file():
        return _scan_file(root, root.parent) or AssetScan(True, f"{root.name} holds no native binary")
    if not root.is_dir():
        return AssetScan(False, f"the asset {path} is not on this machine")
    count = 0
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            count += 1
            if count > MAX_SCANNED_FILES:
                return AssetScan(False, f"the asset {path} has more than {MAX_SCANNED_FILES:,} files (not scanned)")
            found = _scan_file(Path(directory) / name, root)
            if found is not None:
                return found
    return AssetScan(True, f"{count} files, no native binary and no dependency manifest")


def _scan_file(file: Path, root: Path) -> AssetScan | None:
    relative = file.relative_to(root) if file != root else Path(file.name)
    if file.name in DEPENDENCY_MANIFESTS:
        return AssetScan(False, f"{relative} lists dependencies a bundling step may compile for x86_64")
    if file.name.endswith(NATIVE_SUFFIXES):
        return AssetScan(False, f"{relative} is a native binary")
    try:
        with file.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return None
    if head.startswith(NATIVE_MAGIC) and not file.name.endswith((".py", ".js", ".mjs", ".cjs", ".rb", ".json")):
        return AssetScan(False, f"{relative} is a native executable")
    return None


@dataclass(frozen=True)
class FunctionFacts:
    """What the injector knows about a function before aws-cdk-lib builds it.

    ``set_props`` are the props given (camelCase, as aws-cdk-lib names them) with a value other than None;
    ``code_kind`` is ``inline``, ``asset``, ``s3``, ``image`` or ``other``; ``asset`` the scan of an
    asset's files; ``logging_format`` the format given (``JSON`` / ``Text``) or None.
    """

    path: str
    runtime: str
    code_kind: str
    set_props: frozenset[str]
    has_layers: bool = False
    asset: AssetScan | None = None
    framework: bool = False
    logging_format: str | None = None


@dataclass(frozen=True)
class Change:
    """One prop filled in: ``prop`` (aws-cdk-lib's camelCase name), ``value`` (a key the injector maps to a
    CDK value), and the message for the info annotation."""

    prop: str
    value: str
    message: str


@dataclass(frozen=True)
class DefaultsPlan:
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()  # decisions not to change something, said as info annotations too

    @property
    def messages(self) -> list[str]:
        return [c.message for c in self.changes] + list(self.notes)


@dataclass(frozen=True)
class DefaultsSettings:
    """The values ProductionDefaults applies (validated by the injector)."""

    log_retention: str = "ONE_MONTH"  # an aws_logs.RetentionDays member name
    retry_attempts: int = 2
    max_event_age_s: int = 21_600
    framework_functions: bool = True


PREFIX = "ProductionDefaults"


def plan_defaults(facts: FunctionFacts, settings: DefaultsSettings = DefaultsSettings()) -> DefaultsPlan:
    """The props to fill in on one function, each with the annotation that says what changed from what."""
    given = facts.set_props
    changes: list[Change] = []
    notes: list[str] = []
    log_group = _log_group(given, settings)
    if facts.framework:
        if settings.framework_functions and log_group is not None:
            changes.append(log_group)
            notes.append(
                f"{PREFIX}: aws-cdk-lib framework function: only the log group was set; its architecture, "
                "logging format, tracing and async invocation are aws-cdk-lib's decisions"
            )
        return DefaultsPlan(tuple(changes), tuple(notes))
    arch = _architecture(facts)
    if isinstance(arch, Change):
        changes.append(arch)
    elif arch:
        notes.append(arch)
    changes += _logging(facts)
    if log_group is not None:
        changes.append(log_group)
    if "tracing" not in given:
        changes.append(
            Change("tracing", "ACTIVE", f"{PREFIX}: tracing Disabled (aws-cdk-lib default) -> Active (X-Ray)")
        )
    if "recursiveLoop" not in given:
        changes.append(
            Change(
                "recursiveLoop",
                "TERMINATE",
                f"{PREFIX}: recursive loop detection unset -> Terminate (stated, not left to the account default)",
            )
        )
    if "retryAttempts" not in given:
        changes.append(
            Change(
                "retryAttempts",
                str(settings.retry_attempts),
                f"{PREFIX}: async retry attempts unset (AWS default 2) -> {settings.retry_attempts}",
            )
        )
    if "maxEventAge" not in given:
        changes.append(
            Change(
                "maxEventAge",
                str(settings.max_event_age_s),
                f"{PREFIX}: async maximum event age unset (AWS default 21600 s) -> {settings.max_event_age_s} s",
            )
        )
    return DefaultsPlan(tuple(changes), tuple(notes))


def _log_group(given: frozenset[str], settings: DefaultsSettings) -> Change | None:
    if given & {"logGroup", "logRetention"}:
        return None  # the user chose where logs go (or the deprecated LogRetention custom resource)
    return Change(
        "logGroup",
        settings.log_retention,
        f"{PREFIX}: log group /aws/lambda/<name> kept forever (created by Lambda) -> its own log group, "
        f"retention {settings.log_retention.lower().replace('_', ' ')}",
    )


def _logging(facts: FunctionFacts) -> list[Change]:
    given = facts.set_props
    fmt = (facts.logging_format or "").upper()
    if "logFormat" in given or (fmt and fmt != "JSON"):
        return []  # a text format chosen: log levels need JSON (aws-cdk-lib refuses them otherwise)
    changes = []
    if not fmt:
        changes.append(Change("loggingFormat", "JSON", f"{PREFIX}: log format Text (Lambda default) -> JSON"))
    if not given & {"applicationLogLevelV2", "applicationLogLevel"}:
        changes.append(
            Change("applicationLogLevelV2", "INFO", f"{PREFIX}: application log level unset (all levels) -> INFO")
        )
    if not given & {"systemLogLevelV2", "systemLogLevel"}:
        changes.append(Change("systemLogLevelV2", "INFO", f"{PREFIX}: system log level unset -> INFO"))
    return changes


def _architecture(facts: FunctionFacts) -> Change | str | None:
    """arm64, or the reason it was not set (None when the user chose the architecture)."""
    if "architecture" in facts.set_props:
        return None
    keep = f"{PREFIX}: architecture left at x86_64"
    how = "set architecture=ARM_64 yourself once it is built for arm64, or leave it"
    if facts.code_kind == "image" or facts.runtime == "FROM_IMAGE":
        return f"{keep}: a container image runs the architecture it was built for; {how}"
    family = next((f for f in INTERPRETED_RUNTIMES if facts.runtime.startswith(f)), None)
    if family is None:
        return f"{keep}: {facts.runtime} code may be compiled for x86_64; {how}"
    if facts.has_layers:
        return f"{keep}: its layers may hold x86_64 binaries; {how}"
    if facts.code_kind == "inline":
        reason = "inline code"
    elif facts.code_kind == "asset" and facts.asset is not None:
        if not facts.asset.neutral:
            return f"{keep}: {facts.asset.reason}; {how}"
        reason = facts.asset.reason
    else:
        return f"{keep}: its code ({facts.code_kind}) cannot be inspected at synthesis; {how}"
    return Change(
        "architecture",
        "ARM_64",
        f"{PREFIX}: architecture x86_64 (default) -> arm64 ({facts.runtime}, {reason}); about 20% cheaper "
        "per GB-second ('Lambda in Production')",
    )
