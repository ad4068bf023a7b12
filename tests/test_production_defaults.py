"""ProductionDefaults: the property injector on raw aws-cdk-lib functions, a third-party-style construct,
aws-cdk-lib's framework functions, and this library's own constructs (left alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import PropertyInjectors
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3d
from aws_cdk import custom_resources as cr
from aws_cdk.assertions import Annotations, Match, Template
from constructs import Construct

from lambda_constructs import ConfigurationError, ProductionDefaults, ProductionFunction
from lambda_constructs.checks.rules import evaluate
from lambda_constructs.core.defaults import FunctionFacts, plan_defaults, scan_asset
from lambda_constructs.function.defaults import OPT_OUT_CONTEXT
from tests.conftest import INLINE, raw_l2_service

HANDLERS = Path(__file__).resolve().parents[1] / "handlers"
PY = lambda_.Runtime.PYTHON_3_12


class ThirdPartyWidget(Construct):
    """Stands for a construct from another package: it builds its own function and tunes it afterwards."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.handler = lambda_.Function(self, "Handler", runtime=PY, handler="index.handler", code=INLINE)
        self.handler.add_environment("WIDGET", "1")


def _fn(scope: Construct, id: str, **kwargs: Any) -> lambda_.Function:
    kwargs.setdefault("runtime", PY)
    kwargs.setdefault("code", INLINE)
    return lambda_.Function(scope, id, handler="index.handler", **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    native = tmp_path_factory.mktemp("native")
    (native / "index.py").write_text("import fast\n")
    (native / "fast.cpython-312-x86_64-linux-gnu.so").write_bytes(b"\x7fELF\x02\x01\x01")
    deps = tmp_path_factory.mktemp("deps")
    (deps / "index.py").write_text("import requests\n")
    (deps / "requirements.txt").write_text("requests\n")
    app = cdk.App()
    before = cdk.Stack(app, "Before")
    early = _fn(before, "Early")  # built before the injector is added: untouched
    PropertyInjectors.of(app).add(ProductionDefaults(exclude=["Service/Legacy*"]))
    stack = cdk.Stack(app, "Service")
    fns: dict[str, Any] = {
        "raw": _fn(stack, "Raw"),
        "asset": _fn(stack, "Asset", code=lambda_.Code.from_asset(str(HANDLERS / "billing"))),
        "native": _fn(stack, "Native", code=lambda_.Code.from_asset(str(native))),
        "deps": _fn(stack, "Deps", code=lambda_.Code.from_asset(str(deps))),
        "layered": _fn(
            stack,
            "Layered",
            layers=[lambda_.LayerVersion(stack, "Layer", code=lambda_.Code.from_asset(str(HANDLERS / "billing")))],
        ),
        "java": _fn(stack, "Java", runtime=lambda_.Runtime.JAVA_21, code=lambda_.Code.from_asset(str(native))),
        "s3": _fn(
            stack, "FromS3", code=lambda_.Code.from_bucket(s3.Bucket.from_bucket_name(stack, "Src", "src"), "a.zip")
        ),
        "image": lambda_.DockerImageFunction(
            stack, "Image", code=lambda_.DockerImageCode.from_ecr(ecr.Repository(stack, "Repo"))
        ),
        "chosen": _fn(
            stack,
            "Chosen",
            architecture=lambda_.Architecture.X86_64,
            logging_format=lambda_.LoggingFormat.TEXT,
            tracing=lambda_.Tracing.PASS_THROUGH,
            log_group=logs.LogGroup(stack, "ChosenLogs", retention=logs.RetentionDays.ONE_YEAR),
            retry_attempts=0,
            max_event_age=cdk.Duration.minutes(5),
            recursive_loop=lambda_.RecursiveLoop.ALLOW,
        ),
        "legacy": _fn(stack, "LegacyJob"),
        "widget": ThirdPartyWidget(stack, "Widget").handler,
        "singleton": lambda_.SingletonFunction(
            stack, "Single", uuid="0b7e6f6c-2f7e-4d5c-9d1e-2b8f0d1a9c3e", runtime=PY, handler="i.h", code=INLINE
        ),
        "ours": ProductionFunction(stack, "Ours", code=INLINE, handler="index.handler", p99=cdk.Duration.millis(200)),
    }
    wrapper = Construct(stack, "OptedOut")
    wrapper.node.set_context(OPT_OUT_CONTEXT, False)
    fns["opted_out"] = ThirdPartyWidget(wrapper, "Widget").handler
    # aws-cdk-lib's framework functions
    s3d.BucketDeployment(
        stack, "Site", sources=[s3d.Source.data("a.txt", "x")], destination_bucket=s3.Bucket(stack, "B")
    )
    cr.Provider(stack, "Provider", on_event_handler=_fn(stack, "OnEvent"))
    cr.AwsCustomResource(
        stack,
        "Sdk",
        on_create=cr.AwsSdkCall(service="s3", action="listBuckets", physical_resource_id=cr.PhysicalResourceId.of("x")),
        policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE),
    )
    tpl = Template.from_stack(stack)
    return {"stack": stack, "tpl": tpl, "fns": fns, "early": Template.from_stack(before), "early_fn": early}


def _props(built: dict[str, Any], name: str) -> dict[str, Any]:
    stack, fn = built["stack"], built["fns"][name]
    fn = fn.function if isinstance(fn, ProductionFunction) else fn
    logical_id = stack.resolve(stack.get_logical_id(fn.node.default_child))
    return built["tpl"].to_json()["Resources"][logical_id]["Properties"]


def _by_path(tpl: Template, fragment: str) -> list[dict[str, Any]]:
    resources = tpl.to_json()["Resources"]
    return [r["Properties"] for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function" and fragment in lid]


def _infos(stack: cdk.Stack, path: str) -> list[str]:
    return [m.entry.data for m in Annotations.from_stack(stack).find_info(path, Match.string_like_regexp("^Prod"))]


def _invoke_config(built: dict[str, Any], name: str) -> dict[str, Any] | None:
    stack, fn = built["stack"], built["fns"][name]
    logical_id = stack.resolve(stack.get_logical_id(fn.node.default_child))
    configs = [
        r["Properties"]
        for r in built["tpl"].find_resources("AWS::Lambda::EventInvokeConfig").values()
        if r["Properties"]["FunctionName"] == {"Ref": logical_id}
    ]
    return configs[0] if configs else None


def test_raw_function_gets_every_default(built: dict[str, Any]) -> None:
    props = _props(built, "raw")
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["RecursiveLoop"] == "Terminate"
    logging = props["LoggingConfig"]
    assert (logging["LogFormat"], logging["ApplicationLogLevel"], logging["SystemLogLevel"]) == ("JSON", "INFO", "INFO")
    group = built["tpl"].to_json()["Resources"][logging["LogGroup"]["Ref"]]
    assert group["Type"] == "AWS::Logs::LogGroup" and group["Properties"]["RetentionInDays"] == 30
    assert _invoke_config(built, "raw") == {
        "FunctionName": {
            "Ref": built["stack"].resolve(built["stack"].get_logical_id(built["fns"]["raw"].node.default_child))
        },
        "MaximumEventAgeInSeconds": 21_600,
        "MaximumRetryAttempts": 2,
        "Qualifier": "$LATEST",
    }


def test_each_change_is_an_info_annotation_saying_from_what(built: dict[str, Any]) -> None:
    infos = _infos(built["stack"], "/Service/Raw")
    assert infos == [
        "ProductionDefaults: architecture x86_64 (default) -> arm64 (python3.12, inline code); about 20% cheaper "
        "per GB-second ('Lambda in Production')",
        "ProductionDefaults: log format Text (Lambda default) -> JSON",
        "ProductionDefaults: application log level unset (all levels) -> INFO",
        "ProductionDefaults: system log level unset -> INFO",
        "ProductionDefaults: log group /aws/lambda/<name> kept forever (created by Lambda) -> its own log group, "
        "retention one month",
        "ProductionDefaults: tracing Disabled (aws-cdk-lib default) -> Active (X-Ray)",
        "ProductionDefaults: recursive loop detection unset -> Terminate (stated, not left to the account default)",
        "ProductionDefaults: async retry attempts unset (AWS default 2) -> 2",
        "ProductionDefaults: async maximum event age unset (AWS default 21600 s) -> 21600 s",
    ]


def test_values_given_are_never_changed(built: dict[str, Any]) -> None:
    props = _props(built, "chosen")
    assert props["Architectures"] == ["x86_64"]
    assert props["TracingConfig"] == {"Mode": "PassThrough"}
    assert props["RecursiveLoop"] == "Allow"
    assert props["LoggingConfig"]["LogFormat"] == "Text" and "ApplicationLogLevel" not in props["LoggingConfig"]
    assert _invoke_config(built, "chosen") is not None
    assert (_invoke_config(built, "chosen") or {})["MaximumRetryAttempts"] == 0
    assert (_invoke_config(built, "chosen") or {})["MaximumEventAgeInSeconds"] == 300
    assert _infos(built["stack"], "/Service/Chosen") == []  # nothing was left for the injector


@pytest.mark.parametrize(
    ("name", "path", "reason"),
    [
        ("image", "/Service/Image", "a container image runs the architecture it was built for"),
        ("layered", "/Service/Layered", "its layers may hold x86_64 binaries"),
        ("java", "/Service/Java", "java21 code may be compiled for x86_64"),
        ("s3", "/Service/FromS3", "its code (s3) cannot be inspected at synthesis"),
        ("native", "/Service/Native", "fast.cpython-312-x86_64-linux-gnu.so is a native binary"),
        ("deps", "/Service/Deps", "requirements.txt lists dependencies a bundling step may compile for x86_64"),
    ],
)
def test_architecture_is_not_guessed(built: dict[str, Any], name: str, path: str, reason: str) -> None:
    props = _props(built, name)
    assert props.get("Architectures") in (None, ["x86_64"])
    assert props["TracingConfig"] == {"Mode": "Active"}  # the rest still applies
    (note,) = [i for i in _infos(built["stack"], path) if "architecture" in i]
    assert note.startswith("ProductionDefaults: architecture left at x86_64: ") and reason in note
    assert note.endswith("set architecture=ARM_64 yourself once it is built for arm64, or leave it")


def test_asset_without_native_code_goes_arm64(built: dict[str, Any]) -> None:
    assert _props(built, "asset")["Architectures"] == ["arm64"]
    assert "1 files, no native binary and no dependency manifest" in _infos(built["stack"], "/Service/Asset")[0]


def test_function_inside_a_third_party_construct(built: dict[str, Any]) -> None:
    props = _props(built, "widget")
    assert props["Architectures"] == ["arm64"] and props["TracingConfig"] == {"Mode": "Active"}
    assert props["Environment"] == {"Variables": {"WIDGET": "1"}}  # the construct's own later changes still apply
    assert len(_infos(built["stack"], "/Service/Widget/Handler")) == 9


def test_opt_out_by_path_pattern_and_by_scope_context(built: dict[str, Any]) -> None:
    for name in ("legacy", "opted_out"):
        props = _props(built, name)
        assert "Architectures" not in props and "TracingConfig" not in props and "LoggingConfig" not in props
        assert _invoke_config(built, name) is None
    assert _infos(built["stack"], "/Service/LegacyJob") == []


def test_only_functions_built_after_the_injector_in_its_scope(built: dict[str, Any]) -> None:
    (props,) = _by_path(built["early"], "Early")
    assert "Architectures" not in props and "TracingConfig" not in props


def test_singleton_function_is_a_function_too(built: dict[str, Any]) -> None:
    (props,) = _by_path(built["tpl"], "SingletonLambda")
    assert props["Architectures"] == ["arm64"] and props["LoggingConfig"]["LogFormat"] == "JSON"


def test_framework_functions_get_only_a_log_group(built: dict[str, Any]) -> None:
    tpl, stack = built["tpl"], built["stack"]
    for fragment in ("CustomCDKBucketDeployment", "ProviderframeworkonEvent", "AWS679f53fac002430cb0da5b7982bd2287"):
        (props,) = _by_path(tpl, fragment)
        assert "LogGroup" in props["LoggingConfig"], fragment
        assert "TracingConfig" not in props and "RecursiveLoop" not in props, fragment
        assert props["LoggingConfig"].get("LogFormat") != "JSON" or fragment == "ProviderframeworkonEvent"
    (provider,) = _by_path(tpl, "ProviderframeworkonEvent")
    assert provider["LoggingConfig"]["ApplicationLogLevel"] == "FATAL"  # aws-cdk-lib's own choice, kept
    (deployment,) = _by_path(tpl, "CustomCDKBucketDeployment")
    assert deployment["Architectures"] == ["arm64"]  # aws-cdk-lib's own choice
    infos = _infos(stack, "/Service/Provider/framework-onEvent")
    assert infos[-1].startswith("ProductionDefaults: aws-cdk-lib framework function: only the log group was set")
    # the user's onEvent handler is an ordinary function
    (on_event,) = _by_path(tpl, "OnEvent")
    assert on_event["Architectures"] == ["arm64"]


def test_framework_functions_can_be_left_alone_entirely() -> None:
    app = cdk.App()
    PropertyInjectors.of(app).add(ProductionDefaults(framework_functions=False))
    stack = cdk.Stack(app, "S")
    s3d.BucketDeployment(
        stack, "Site", sources=[s3d.Source.data("a.txt", "x")], destination_bucket=s3.Bucket(stack, "B")
    )
    (props,) = _by_path(Template.from_stack(stack), "CustomCDKBucketDeployment")
    assert "LoggingConfig" not in props


def test_library_functions_are_left_to_the_library(built: dict[str, Any]) -> None:
    bare = cdk.Stack(cdk.App(), "Service")
    ProductionFunction(bare, "Ours", code=INLINE, handler="index.handler", p99=cdk.Duration.millis(200))
    (alone,) = _by_path(Template.from_stack(bare), "OursFunction")
    assert _props(built, "ours") == alone
    assert _infos(built["stack"], "/Service/Ours/Function") == []


def test_structural_findings_stay_with_the_rule_pack() -> None:
    """Injectable settings stop being findings; an alarm and a failure path cannot be injected."""
    app = cdk.App()
    PropertyInjectors.of(app).add(ProductionDefaults())
    stack = cdk.Stack(app, "Raw")
    raw_l2_service(stack)
    findings = {rule for rule, _ in evaluate(Template.from_stack(stack).to_json())}
    assert {"Arm64", "LogRetention"}.isdisjoint(findings)
    assert {"ErrorsAlarm", "AsyncFailurePath", "TimeoutNotMax", "SqsRedrive"} <= findings


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retry_attempts": 3}, r"retry_attempts=3 is invalid; allowed: 0\.\.2"),
        ({"max_event_age": cdk.Duration.seconds(30)}, r"max_event_age=.* is invalid"),
        ({"exclude": "Service/Legacy"}, r"exclude='Service/Legacy' is invalid; allowed: a list of construct-path"),
        ({"log_retention": 30}, r"log_retention=30 is invalid; allowed: an aws_logs.RetentionDays"),
        ({"framework_functions": "yes"}, r"framework_functions='yes' is invalid; allowed: True \| False"),
    ],
)
def test_bad_settings_are_refused_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ProductionDefaults(**kwargs)


# ---------------------------------------------------------------- the pure decisions


def test_plan_for_a_text_format_sets_no_levels() -> None:
    facts = FunctionFacts("S/F", "nodejs22.x", "inline", frozenset({"loggingFormat"}), logging_format="Text")
    props = [c.prop for c in plan_defaults(facts).changes]
    assert props == ["architecture", "logGroup", "tracing", "recursiveLoop", "retryAttempts", "maxEventAge"]


def test_plan_keeps_a_deprecated_log_retention() -> None:
    facts = FunctionFacts("S/F", "python3.13", "inline", frozenset({"logRetention"}))
    assert "logGroup" not in [c.prop for c in plan_defaults(facts).changes]


def test_plan_for_a_compiled_custom_runtime() -> None:
    plan = plan_defaults(FunctionFacts("S/F", "provided.al2023", "asset", frozenset()))
    assert "architecture" not in [c.prop for c in plan.changes]
    assert "provided.al2023 code may be compiled for x86_64" in plan.notes[0]


def test_scan_finds_an_elf_without_a_suffix_and_stops_at_the_cap(tmp_path: Path) -> None:
    (tmp_path / "bootstrap").write_bytes(b"\x7fELF\x02\x01")
    assert scan_asset(str(tmp_path)).reason == "bootstrap is a native executable"
    big = tmp_path / "big"
    big.mkdir()
    from lambda_constructs.core import defaults

    for i in range(defaults.MAX_SCANNED_FILES + 1):
        (big / f"m{i}.py").write_text("")
    assert "more than 5,000 files" in scan_asset(str(big)).reason
    assert not scan_asset(str(tmp_path / "missing")).neutral
