"""default_alarm_topic: every library alarm reaches someone; alarms without actions are warned about and flagged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template

import lambda_constructs
from lambda_constructs import ConfigurationError, ProductionFunction, QueueConsumer, default_alarm_topic
from lambda_constructs.checks.rules import alarm_actions, evaluate
from tests.conftest import INLINE

WARNING = "lambda-constructs:alarm-without-action"


def worker(scope: Any, id: str, **kwargs: Any) -> ProductionFunction:
    return ProductionFunction(scope, id, code=INLINE, handler="index.handler", p99=cdk.Duration.millis(200), **kwargs)


def alarm_actions_of(tpl: Template) -> dict[str, Any]:
    return {lid: r["Properties"].get("AlarmActions") for lid, r in tpl.find_resources("AWS::CloudWatch::Alarm").items()}


def test_exported_from_the_package() -> None:
    assert "default_alarm_topic" in lambda_constructs.__all__
    assert lambda_constructs.default_alarm_topic is default_alarm_topic


def test_an_app_default_reaches_every_alarm_in_every_stack_and_nested_stack() -> None:
    app = cdk.App()
    ops = cdk.Stack(app, "Ops")
    topic = sns.Topic(ops, "Alarms")
    assert default_alarm_topic(app, topic) is topic
    stack = cdk.Stack(app, "Svc")
    fn = worker(stack, "Fn")
    QueueConsumer(stack, "Jobs", function=worker(stack, "Worker"))
    nested = cdk.NestedStack(stack, "Nested")
    worker(nested, "Inner")
    for s in (stack, nested):
        actions = alarm_actions_of(Template.from_stack(s))
        assert actions and all(a is not None and len(a) == 1 for a in actions.values()), actions
    assert len(fn.alarms) == 4  # Errors, Throttles, Duration, failure queue... every one with an action
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp(".*notify nobody.*"))


def test_a_stack_default_beats_the_app_default_and_alarm_topic_beats_both() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Svc")
    app_topic, stack_topic, own = (sns.Topic(stack, n) for n in ("AppTopic", "StackTopic", "Own"))
    default_alarm_topic(app, app_topic)
    default_alarm_topic(stack, stack_topic)
    worker(stack, "Default")
    worker(stack, "Explicit", alarm_topic=own)
    tpl = Template.from_stack(stack)
    by_fn: dict[str, set[str]] = {}
    for lid, props in tpl.find_resources("AWS::CloudWatch::Alarm").items():
        by_fn.setdefault("Explicit" if lid.startswith("Explicit") else "Default", set()).update(
            a["Ref"] for a in props["Properties"]["AlarmActions"]
        )
    assert {k: {r.rstrip("0123456789ABCDEF") for r in v} for k, v in by_fn.items()} == {
        "Default": {"StackTopic"},
        "Explicit": {"Own"},
    }


def test_no_topic_warns_once_per_construct_with_the_fix() -> None:
    stack = cdk.Stack(cdk.App(), "Svc")
    fn = worker(stack, "Fn")
    QueueConsumer(stack, "Jobs", function=fn)
    messages = [
        str(m.entry.data)
        for m in Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(".*notify nobody.*"))
    ]
    assert len(messages) == 2, messages  # the function and the consumer, one each (not one per alarm)
    assert all("alarm_topic=" in m and "default_alarm_topic(" in m for m in messages)
    assert all(a is None for a in alarm_actions_of(Template.from_stack(stack)).values())


def test_a_default_set_later_applies_to_constructs_created_after_it() -> None:
    stack = cdk.Stack(cdk.App(), "Svc")
    worker(stack, "Before")
    default_alarm_topic(stack, sns.Topic(stack, "Alarms"))
    worker(stack, "After")
    actions = alarm_actions_of(Template.from_stack(stack))
    assert {lid for lid, a in actions.items() if a} == {lid for lid in actions if lid.startswith("After")}


@pytest.mark.parametrize(
    ("scope", "topic", "prop", "allowed"),
    [
        ("construct", "topic", "scope", "an App, a Stage or a Stack"),
        ("stack", None, "topic", "an aws_sns.ITopic"),
        ("stack", "arn:aws:sns:us-east-1:123456789012:t", "topic", "an aws_sns.ITopic"),
    ],
)
def test_bad_input_is_a_configuration_error(scope: str, topic: Any, prop: str, allowed: str) -> None:
    from constructs import Construct

    stack = cdk.Stack(cdk.App(), "Svc")
    given_scope = Construct(stack, "Plain") if scope == "construct" else stack
    given_topic = sns.Topic(stack, "T") if topic == "topic" else topic
    with pytest.raises(ConfigurationError) as info:
        default_alarm_topic(given_scope, given_topic)  # type: ignore[arg-type]
    assert [(p.prop, p.allowed) for p in info.value.problems] == [(prop, allowed)]


def test_a_second_different_default_for_one_scope_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Svc")
    first = sns.Topic(stack, "First")
    default_alarm_topic(stack, first)
    default_alarm_topic(stack, first)  # the same topic again is fine
    with pytest.raises(ConfigurationError, match=r"default_alarm_topic\(Svc\).*one default per scope"):
        default_alarm_topic(stack, sns.Topic(stack, "Second"))
    worker(stack, "Fn")
    refs = {a[0]["Ref"] for a in alarm_actions_of(Template.from_stack(stack)).values()}
    assert len(refs) == 1 and next(iter(refs)).startswith("First")


# ------------------------------------------------------------------ the rule


def _template(actions: list[Any] | None, dimension: Any) -> dict[str, Any]:
    alarm: dict[str, Any] = {
        "Namespace": "AWS/Lambda",
        "MetricName": "Throttles",
        "Dimensions": [{"Name": "FunctionName", "Value": dimension}],
    }
    if actions is not None:
        alarm["AlarmActions"] = actions
    return {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Live": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Fn"}, "Name": "live"}},
            "Other": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "A": {"Type": "AWS::CloudWatch::Alarm", "Properties": alarm},
        }
    }


@pytest.mark.parametrize(
    ("actions", "dimension", "verdict"),
    [
        (None, {"Ref": "Fn"}, False),
        ([], {"Ref": "Fn"}, False),
        ([{"Ref": "Topic"}], {"Ref": "Fn"}, True),
        (None, {"Fn::Join": ["", [{"Ref": "Live"}]]}, False),  # through the alias
        (None, {"Ref": "Other"}, None),  # an alarm on another function: does not apply to Fn
    ],
)
def test_alarm_actions_rule(actions: list[Any] | None, dimension: Any, verdict: bool | None) -> None:
    assert alarm_actions(_template(actions, dimension), "Fn") is verdict


def test_the_rule_flags_a_library_function_without_a_topic_and_passes_it_with_one(tmp_path: Path) -> None:
    from lambda_constructs import enable_checks

    def findings(with_topic: bool) -> list[str]:
        app = cdk.App(outdir=str(tmp_path / str(with_topic)))
        stack = cdk.Stack(app, "Svc")
        if with_topic:
            default_alarm_topic(app, sns.Topic(stack, "Alarms"))
        worker(stack, "Fn")
        enable_checks(app)
        try:
            app.synth()
        except Exception as error:
            assert "ValidationFailed" in str(error)
        report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
        return [
            v["ruleName"] for p in report["pluginReports"] for v in p["violations"] if "AlarmActions" in v["ruleName"]
        ]

    assert findings(False) == ["LambdaProduction-AlarmActions"]
    assert findings(True) == []
    tpl = Template.from_stack(cdk.Stack(cdk.App(), "X"))
    assert evaluate(tpl.to_json()) == []
