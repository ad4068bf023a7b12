"""One validation path for every public method, and the rules between constructs (issue 22, fix at the root).

Each refusal is a ConfigurationError at the function's (or construct's) path naming the method and the
argument; nothing is added to the tree by a refused call.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from lambda_constructs import (
    ConfigurationError,
    HttpEndpoint,
    Invocation,
    Powertools,
    ProductionFunction,
    QueueConsumer,
    StreamConsumer,
)
from tests.conftest import INLINE


def _fn(scope: Any, id: str = "Fn", **overrides: Any) -> ProductionFunction:
    props: dict[str, Any] = {"code": INLINE, "handler": "index.handler", "p99": cdk.Duration.seconds(2)}
    props.update(overrides)
    return ProductionFunction(scope, id, **props)


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "S")


def _refused(fn: ProductionFunction, call: Any, pattern: str) -> ConfigurationError:
    """``call()`` raises a ConfigurationError at the function's path, adding nothing to the tree."""
    before = [c.node.path for c in fn.node.find_all()]
    with pytest.raises(ConfigurationError, match=pattern) as info:
        call()
    assert info.value.path == fn.node.path
    assert [c.node.path for c in fn.node.find_all()] == before, "a refused call left constructs behind"
    return info.value


# ------------------------------------------------------------------ add_event_source


def test_add_event_source_refuses_a_queue_visibility_below_the_function_timeout(stack: cdk.Stack) -> None:
    fn = _fn(stack, invocation=Invocation.QUEUE)  # 2 s x 3 = 6 s timeout
    queue = sqs.Queue(stack, "Q", visibility_timeout=cdk.Duration.seconds(5))
    error = _refused(
        fn,
        lambda: fn.add_event_source(sources.SqsEventSource(queue)),
        r"^S/Fn: add_event_source\(source\)\.queue\.visibility_timeout='5 s' is invalid; "
        r"allowed: >= the function timeout \(6 s\); recommended 36 s \(6 x timeout\)\. Lambda refuses",
    )
    assert "visibility_timeout=Duration.seconds(36)" in str(error)


def test_add_event_source_accepts_a_queue_at_the_function_timeout(stack: cdk.Stack) -> None:
    fn = _fn(stack, invocation=Invocation.QUEUE)
    queue = sqs.Queue(stack, "Q", visibility_timeout=cdk.Duration.seconds(6))
    fn.add_event_source(sources.SqsEventSource(queue))
    mappings = Template.from_stack(stack).find_resources("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 1


def test_add_event_source_refuses_an_arn(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    _refused(
        fn,
        lambda: fn.add_event_source("arn:aws:sqs:us-east-1:123456789012:orders"),  # type: ignore[arg-type]
        r"^S/Fn: add_event_source\(source\)='arn:aws:sqs:us-east-1:123456789012:orders' is invalid; allowed: an "
        r"aws_lambda.IEventSource .*an ARN is not an event source: wrap the resource",
    )


def test_add_event_source_refuses_the_same_queue_twice(stack: cdk.Stack) -> None:
    fn = _fn(stack, invocation=Invocation.QUEUE)
    queue = sqs.Queue(stack, "Q", visibility_timeout=cdk.Duration.seconds(60))
    fn.add_event_source(sources.SqsEventSource(queue))
    _refused(
        fn,
        lambda: fn.add_event_source(sources.SqsEventSource(queue)),
        r"^S/Fn: add_event_source\(source\)='S/Q' is invalid; allowed: a source not mapped to this function yet "
        r"\(mapped by S/Fn.add_event_source\(\)\)\. Lambda refuses a second mapping",
    )


def test_add_event_source_refuses_a_queue_a_queue_consumer_maps(stack: cdk.Stack) -> None:
    fn = _fn(stack, invocation=Invocation.QUEUE)
    consumer = QueueConsumer(stack, "Orders", function=fn)
    _refused(
        fn,
        lambda: fn.add_event_source(sources.SqsEventSource(consumer.queue)),
        r"^S/Fn: add_event_source\(source\)='S/Orders/Queue' is invalid; .*\(mapped by S/Orders\)",
    )


def test_queue_consumer_refuses_a_queue_the_function_maps_already(stack: cdk.Stack) -> None:
    fn = _fn(stack, invocation=Invocation.QUEUE)
    queue = sqs.Queue(stack, "Q", visibility_timeout=cdk.Duration.seconds(60))
    fn.add_event_source(sources.SqsEventSource(queue))
    with pytest.raises(ConfigurationError, match=r"^S/Orders: queue='S/Q' is invalid; allowed: a source not mapped"):
        QueueConsumer(stack, "Orders", function=fn, queue=queue)
    assert stack.node.try_find_child("Orders") is None


def test_constructor_events_get_the_same_checks(stack: cdk.Stack) -> None:
    short = sqs.Queue(stack, "Short", visibility_timeout=cdk.Duration.seconds(5))
    ok = sqs.Queue(stack, "Ok", visibility_timeout=cdk.Duration.seconds(60))
    with pytest.raises(ConfigurationError) as info:
        _fn(
            stack,
            invocation=Invocation.QUEUE,
            events=[sources.SqsEventSource(short), sources.SqsEventSource(ok), sources.SqsEventSource(ok)],
        )
    props = [p.prop for p in info.value.problems]
    assert props == ["events[0].queue.visibility_timeout", "events[2]"]
    assert stack.node.try_find_child("Fn") is None


def test_kinesis_stream_mapped_twice_is_refused(stack: cdk.Stack) -> None:
    fn = _fn(stack, invocation=Invocation.STREAM)
    stream = kinesis.Stream(stack, "Stream")
    StreamConsumer(stack, "Clicks", function=fn, stream=stream)
    with pytest.raises(ConfigurationError, match=r"^S/Again: stream/table='S/Stream' is invalid; .*S/Clicks"):
        StreamConsumer(stack, "Again", function=fn, stream=stream)
    _refused(
        fn,
        lambda: fn.add_event_source(
            sources.KinesisEventSource(stream, starting_position=lambda_.StartingPosition.LATEST)
        ),
        r"^S/Fn: add_event_source\(source\)='S/Stream' is invalid; .*mapped by S/Clicks",
    )


def test_add_event_source_mapping_checks_id_options_and_duplicates(stack: cdk.Stack) -> None:
    fn = _fn(stack, invocation=Invocation.QUEUE)
    arn = "arn:aws:sqs:us-east-1:123456789012:orders"
    fn.add_event_source_mapping("M1", event_source_arn=arn)
    _refused(
        fn,
        lambda: fn.add_event_source_mapping("M2", event_source_arn=arn),
        r"^S/Fn: add_event_source_mapping\(event_source_arn\)='arn:aws:sqs:us-east-1:123456789012:orders' is "
        r"invalid; allowed: a source not mapped to this function yet \(mapped by S/Fn.add_event_source_mapping",
    )
    _refused(fn, lambda: fn.add_event_source_mapping("", event_source_arn="x"), r"add_event_source_mapping\(id\)=''")
    _refused(
        fn,
        lambda: fn.add_event_source_mapping("M3", batch_sise=10),
        r"add_event_source_mapping\(options\)=\{'batch_sise': 10\} is invalid; allowed: keyword arguments of "
        r"EventSourceMappingOptions",
    )


# ------------------------------------------------------------------ Function URLs


def test_second_function_url_is_refused(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    fn.add_function_url()
    _refused(
        fn,
        fn.add_function_url,
        r"^S/Fn: add_function_url='a second Function URL' is invalid; allowed: one Function URL per alias "
        r"\(the live alias has one from S/Fn.add_function_url\(\)\)",
    )


def test_function_url_after_http_endpoint_function_url_is_refused(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    HttpEndpoint(stack, "Url", function=fn, kind="function_url")
    _refused(fn, fn.add_function_url, r"the live alias has one from S/Url\)")


def test_http_endpoint_function_url_after_add_function_url_is_refused(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    fn.add_function_url()
    with pytest.raises(ConfigurationError, match=r"^S/Url: function='S/Fn.add_function_url\(\)' is invalid"):
        HttpEndpoint(stack, "Url", function=fn, kind="function_url")


def test_function_url_options_are_checked(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    _refused(
        fn,
        lambda: fn.add_function_url(auth_type="NONE"),
        r"^S/Fn: add_function_url\(options\)=\{'auth_type': 'NONE'\} is invalid; allowed: keyword arguments of "
        r"FunctionUrlOptions",
    )
    fn.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)  # still possible after a refusal


# ------------------------------------------------------------------ grants and permissions


@pytest.mark.parametrize(
    "method", ["grant_invoke", "grant_invoke_url", "grant_invoke_latest_version"], ids=lambda m: str(m)
)
def test_grant_methods_refuse_an_arn(stack: cdk.Stack, method: str) -> None:
    fn = _fn(stack)
    _refused(
        fn,
        lambda: getattr(fn, method)("arn:aws:iam::123456789012:role/caller"),
        rf"^S/Fn: {method}\(grantee\)='arn:aws:iam::123456789012:role/caller' is invalid; allowed: an "
        r"aws_iam.IGrantable .*an ARN is not a grantee",
    )


def test_grant_invoke_version_checks_both_arguments(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    error = _refused(fn, lambda: fn.grant_invoke_version("role", "1"), r"2 invalid properties")
    assert [p.prop for p in error.problems] == ["grant_invoke_version(grantee)", "grant_invoke_version(version)"]


def test_grant_invoke_composite_principal_type(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    _refused(
        fn,
        lambda: fn.grant_invoke_composite_principal(iam.ServicePrincipal("sns.amazonaws.com")),
        r"grant_invoke_composite_principal\(composite_principal\)=.* allowed: an aws_iam.CompositePrincipal",
    )


def test_grant_invoke_to_a_role_still_works(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    fn.grant_invoke(role)
    assert "lambda:InvokeFunction" in str(Template.from_stack(stack).find_resources("AWS::IAM::Policy"))


def test_add_permission_checks(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    _refused(fn, lambda: fn.add_permission("P"), r"^S/Fn: add_permission\(principal\)=None is invalid")
    _refused(
        fn,
        lambda: fn.add_permission("P", principal="sns.amazonaws.com"),
        r"^S/Fn: add_permission\(principal\)='sns.amazonaws.com' is invalid; allowed: an aws_iam.IPrincipal",
    )
    fn.add_permission("P", principal=iam.ServicePrincipal("sns.amazonaws.com"))
    _refused(
        fn,
        lambda: fn.add_permission("P", principal=iam.ServicePrincipal("sns.amazonaws.com")),
        r"^S/Fn: add_permission\(id\)='an id in use' is invalid; allowed: an id not used by another child",
    )


def test_add_to_role_policy_needs_a_statement(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    _refused(
        fn,
        lambda: fn.add_to_role_policy({"Action": "s3:GetObject"}),  # type: ignore[arg-type]
        r"^S/Fn: add_to_role_policy\(statement\)=\{'Action': 's3:GetObject'\} is invalid; allowed: an "
        r"aws_iam.PolicyStatement",
    )


def test_configure_async_invoke_names_the_method(stack: cdk.Stack) -> None:
    fn = _fn(stack, invocation=Invocation.ASYNC)
    _refused(fn, lambda: fn.configure_async_invoke(retry_attempts=0), r"^S/Fn: configure_async_invoke\(options\)=")


def test_apply_removal_policy_type(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    _refused(fn, lambda: fn.apply_removal_policy("retain"), r"apply_removal_policy\(policy\)='retain'")  # type: ignore[arg-type]


# ------------------------------------------------------------------ metrics and alarms


@pytest.mark.parametrize("seconds", [7, 45, 90])
def test_metric_period_must_be_one_cloudwatch_accepts(stack: cdk.Stack, seconds: int) -> None:
    fn = _fn(stack)
    _refused(
        fn,
        lambda: fn.metric("Errors", period=cdk.Duration.seconds(seconds)),
        rf"^S/Fn: metric\(period\)='{seconds} s' is invalid; allowed: 1, 5, 10 or 30 s, or a multiple of 60 s",
    )


@pytest.mark.parametrize("seconds", [1, 5, 10, 30, 60, 300])
def test_metric_periods_cloudwatch_accepts(stack: cdk.Stack, seconds: int) -> None:
    fn = _fn(stack)
    metric = fn.metric_errors(period=cdk.Duration.seconds(seconds))
    assert metric.period.to_seconds() == seconds


@pytest.mark.parametrize("method", ["metric_duration", "metric_errors", "metric_invocations", "metric_throttles"])
def test_named_metrics_check_their_props(stack: cdk.Stack, method: str) -> None:
    fn = _fn(stack)
    _refused(fn, lambda: getattr(fn, method)(period=cdk.Duration.millis(1500)), rf"^S/Fn: {method}\(period\)='1500 ms'")
    _refused(fn, lambda: getattr(fn, method)(statistics="Sum"), rf"^S/Fn: {method}\(props\)=\{{'statistics': 'Sum'\}}")


def test_metric_name_and_token_period(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    _refused(fn, lambda: fn.metric(""), r"^S/Fn: metric\(metric_name\)='' is invalid")
    param = cdk.CfnParameter(stack, "P", type="Number")
    error = _refused(
        fn,
        lambda: fn.metric("Errors", period=cdk.Duration.seconds(param.value_as_number)),
        r"^S/Fn: metric\(period\)='a deploy-time token' is invalid; allowed: a concrete Duration",
    )
    assert "e+" not in str(error)  # never a token's placeholder number


def test_add_alarm_refuses_a_name(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    before = len(fn.alarms)
    _refused(
        fn,
        lambda: fn.add_alarm("HighErrors"),  # type: ignore[arg-type]
        r"^S/Fn: add_alarm\(alarm\)='HighErrors' is invalid; allowed: an aws_cloudwatch.Alarm. a name is not an alarm",
    )
    assert len(fn.alarms) == before


def test_add_alarms_refuses_an_alarm_twice_and_keeps_the_count(stack: cdk.Stack) -> None:
    fn = _fn(stack, provisioned_concurrency=None)
    alarm = fn.metric_errors().create_alarm(stack, "Mine", threshold=5, evaluation_periods=1)
    fn.add_alarm(alarm)
    error = _refused(fn, lambda: fn.add_alarms(alarm), r"^S/Fn: add_alarms\(alarms\[0\]\)='S/Mine' is invalid")
    assert "not registered with this function yet" in str(error)
    assert fn.alarms[-1] is alarm and len(fn.alarms) == 4
    metadata = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    assert [r["Metadata"]["lambda-constructs"]["alarms"] for r in metadata.values()] == [4]


def test_add_alarm_accepts_an_alarm(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    alarm = cloudwatch.Alarm(stack, "A", metric=fn.metric_errors(), threshold=1, evaluation_periods=1)
    assert fn.add_alarm(alarm) is alarm


# ------------------------------------------------------------------ add_environment


def test_add_environment_sets_the_variable(stack: cdk.Stack) -> None:
    fn = _fn(stack, environment={"AA": "1"})
    assert fn.add_environment("TABLE", "orders") is fn
    props = next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()))["Properties"]
    assert props["Environment"]["Variables"] == {"AA": "1", "TABLE": "orders"}


@pytest.mark.parametrize(
    ("key", "value", "pattern"),
    [
        ("1BAD", "x", r"add_environment\(key, value\)\['1BAD'\]='1BAD' is invalid; allowed: a name matching"),
        (
            "AWS_REGION",
            "x",
            r"add_environment\(key, value\)\['AWS_REGION'\]='AWS_REGION' is invalid; allowed: a "
            r"name Lambda does not reserve",
        ),
        ("NN", 5, r"add_environment\(key, value\)\['NN'\]=5 is invalid; allowed: a string"),
        ("AA", "2", r"add_environment\(key\)='AA' is invalid; allowed: a variable not set yet. it is already '1'"),
        (["K"], "x", r"add_environment\(key\)=\['K'\] is invalid"),
        ("BIG", "x" * 4100, r"add_environment\(key, value\)='\d+ bytes' is invalid; allowed: <= 4096 bytes"),
    ],
    ids=["name", "reserved", "not-a-string", "already-set", "not-hashable", "4KB"],
)
def test_add_environment_refusals(stack: cdk.Stack, key: Any, value: Any, pattern: str) -> None:
    fn = _fn(stack, environment={"AA": "1"})
    _refused(fn, lambda: fn.add_environment(key, value), "^S/Fn: " + pattern)
    props = next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()))["Properties"]
    assert props["Environment"]["Variables"] == {"AA": "1"}


def test_add_environment_counts_the_powertools_variables(stack: cdk.Stack) -> None:
    fn = _fn(stack, powertools=Powertools(service="orders"))
    _refused(fn, lambda: fn.add_environment("POWERTOOLS_SERVICE_NAME", "x"), r"add_environment\(key\)=")


# ------------------------------------------------------------------ relations between constructs


def test_one_queue_two_consumers_is_refused(stack: cdk.Stack) -> None:
    queue = sqs.Queue(stack, "Q", visibility_timeout=cdk.Duration.seconds(60))
    QueueConsumer(stack, "First", function=_fn(stack, "A", invocation=Invocation.QUEUE), queue=queue)
    second = _fn(stack, "B", invocation=Invocation.QUEUE)
    with pytest.raises(
        ConfigurationError,
        match=r"^S/Second: queue='S/Q' is invalid; allowed: a queue no other consumer owns \(S/First consumes it\)"
        r"\. a second consumer would rewrite the queue's redrive policy",
    ):
        QueueConsumer(stack, "Second", function=second, queue=queue)
    assert stack.node.try_find_child("Second") is None


def test_a_function_from_another_stack_is_refused() -> None:
    app = cdk.App()
    functions, consumers = cdk.Stack(app, "Functions"), cdk.Stack(app, "Consumers")
    fn = _fn(functions, invocation=Invocation.QUEUE)
    with pytest.raises(
        ConfigurationError,
        match=r"^Consumers/Orders: function='Functions/Fn' is invalid; allowed: a function in this construct's stack "
        r"\(Consumers\)\. it is in stack Functions: .* dependency cycle at synthesis; build this construct with "
        r"scope= the function's stack \(Functions\)",
    ):
        QueueConsumer(consumers, "Orders", function=fn)
    assert consumers.node.try_find_child("Orders") is None
    app.synth()  # nothing half-built: the app still synthesizes


def test_a_function_from_another_app_is_refused() -> None:
    fn = _fn(cdk.Stack(cdk.App(), "One"), invocation=Invocation.SYNC)
    other = cdk.Stack(cdk.App(), "Two")
    with pytest.raises(
        ConfigurationError, match=r"^Two/Api: function='One/Fn' is invalid; allowed: a function of the same App"
    ):
        HttpEndpoint(other, "Api", function=fn)


def test_a_source_in_a_construct_of_the_function_stack_is_accepted() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _fn(stack, invocation=Invocation.QUEUE)
    group = cdk.aws_iam.Role(stack, "Unrelated", assumed_by=iam.AccountRootPrincipal())  # any construct scope
    QueueConsumer(group, "Orders", function=fn)
    Template.from_stack(stack).resource_count_is("AWS::Lambda::EventSourceMapping", 1)


def test_an_option_aws_cdk_lib_refuses_inside_its_constructor_leaves_nothing(stack: cdk.Stack) -> None:
    """aws-cdk-lib checks some options only after the mapping joined the tree: the library takes it back."""
    fn = _fn(stack, invocation=Invocation.QUEUE)
    _refused(
        fn,
        lambda: fn.add_event_source_mapping("M", batch_size=-1),
        r"^S/Fn: add_event_source_mapping\(id\)='refused by aws-cdk-lib' is invalid; allowed: arguments aws-cdk-lib "
        r"accepts\. EventSourceArnKafkaBootstrap: Either eventSourceArn or kafkaBootstrapServers must be set",
    )
    assert fn.alias.node.try_find_child("M") is None
    fn.add_event_source_mapping("M", event_source_arn="arn:aws:sqs:us-east-1:1:q")  # the id is free again


def test_nan_never_reaches_jsii(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    _refused(
        fn,
        lambda: fn.add_event_source_mapping("M", event_source_arn="arn:aws:sqs:us-east-1:1:q", batch_size=float("nan")),
        r"^S/Fn: add_event_source_mapping\(batch_size\)=nan is invalid; allowed: a finite number",
    )
    fn.metric_errors()  # the jsii kernel is alive


# ------------------------------------------------------------------ the audit of every public method (round 2)


def test_a_positional_struct_that_is_not_one_is_refused(stack: cdk.Stack) -> None:
    """``fn.metric("Errors", 5)`` was silently the default metric: a positional struct must be one."""
    fn = _fn(stack)
    cases: list[tuple[Any, str]] = [
        (
            lambda: fn.metric("Errors", 5),
            r"metric\(props\)=5 is invalid; allowed: None, a mapping or an aws_cdk "
            r"MetricOptions$",
        ),
        (lambda: fn.metric_errors("Sum"), r"metric_errors\(props\)='Sum' is invalid; allowed: None, a mapping or "),
        (
            lambda: fn.add_function_url("NONE"),
            r"add_function_url\(options\)='NONE' is invalid; allowed: None, a "
            r"mapping or an aws_cdk FunctionUrlOptions$",
        ),
        (
            lambda: fn.add_event_source_mapping("M", "arn:aws:sqs:us-east-1:1:q"),
            r"add_event_source_mapping\(options\)='arn:aws:sqs:us-east-1:1:q' is invalid; allowed: None, a mapping "
            r"or an aws_cdk EventSourceMappingOptions$",
        ),
        (
            lambda: fn.add_permission("P", "sns.amazonaws.com"),
            r"add_permission\(permission\)='sns.amazonaws.com' is "
            r"invalid; allowed: None, a mapping or an aws_cdk Permission$",
        ),
    ]
    for call, pattern in cases:
        _refused(fn, call, "^S/Fn: " + pattern)
    # the struct itself and a mapping still work
    assert fn.metric("Errors", cloudwatch.MetricOptions(statistic="Sum")).statistic == "Sum"
    assert fn.metric_throttles({"statistic": "Maximum"}).statistic == "Maximum"


@pytest.mark.parametrize("statistic", ["bogus", "p101", "tm()", "", "Sum Average"])
def test_metric_statistic_must_be_one_cloudwatch_computes(stack: cdk.Stack, statistic: str) -> None:
    fn = _fn(stack)
    _refused(
        fn,
        lambda: fn.metric_duration(statistic=statistic),
        rf"^S/Fn: metric_duration\(statistic\)='{re_escape(statistic)}' is invalid; allowed: a CloudWatch statistic: "
        r"Sum, Average, Minimum, Maximum, SampleCount, IQM, pNN \(0\.\.100\), tmNN, TM\(a%:b%\)\. CloudWatch "
        r"statistics definitions: https://docs\.aws\.amazon\.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions\.html$",
    )


def test_metric_statistics_cloudwatch_computes(stack: cdk.Stack) -> None:
    fn = _fn(stack)
    accepted = ["Sum", "avg", "SampleCount", "n", "max", "IQM", "p99", "p99.9", "tm90", "TM(2%:98%)", "PR(:300)"]
    assert (
        [fn.metric("Errors", statistic=s).statistic for s in accepted]
        == [
            *("Sum", "Average", "SampleCount", "SampleCount", "Maximum"),  # aws-cdk-lib normalizes the simple ones
            *accepted[5:],
        ]
    )


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_constructs_of_another_app_are_refused_by_every_method_that_takes_one() -> None:
    """aws-cdk-lib accepts them at the call and fails at synthesis ("Cannot reference across apps")."""
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    fn = _fn(stack, invocation=Invocation.QUEUE)
    other = cdk.Stack(cdk.App(), "Other")
    role = iam.Role(other, "Caller", assumed_by=iam.AccountRootPrincipal())
    alarm = cloudwatch.Alarm(other, "A", metric=fn.metric_errors(), threshold=1, evaluation_periods=1)
    queue = sqs.Queue(other, "Q", visibility_timeout=cdk.Duration.seconds(60))
    tail = r" is invalid; allowed: a construct of the same App\. it belongs to another aws_cdk\.App"
    cases: list[tuple[Any, str]] = [
        (lambda: fn.add_alarm(alarm), r"add_alarm\(alarm\)='Other/A'"),
        (lambda: fn.add_alarms(alarm), r"add_alarms\(alarms\[0\]\)='Other/A'"),
        (lambda: fn.grant_invoke(role), r"grant_invoke\(grantee\)='Other/Caller'"),
        (lambda: fn.grant_invoke_url(role), r"grant_invoke_url\(grantee\)='Other/Caller'"),
        (lambda: fn.grant_invoke_latest_version(role), r"grant_invoke_latest_version\(grantee\)='Other/Caller'"),
        (lambda: fn.add_event_source(sources.SqsEventSource(queue)), r"add_event_source\(source\)='Other/Q'"),
    ]
    for call, pattern in cases:
        _refused(fn, call, "^S/Fn: " + pattern + tail)
    assert len(fn.alarms) == 3
    app.synth()  # nothing of the other app reached this one


def test_a_queue_of_another_stack_of_the_app_works_with_add_event_source() -> None:
    """The mapping and the grant both sit in the function's stack: one reference, no cycle (decided: accepted)."""
    app = cdk.App()
    fn = _fn(cdk.Stack(app, "Functions"), invocation=Invocation.QUEUE)
    queue = sqs.Queue(cdk.Stack(app, "Queues"), "Q", visibility_timeout=cdk.Duration.seconds(60))
    fn.add_event_source(sources.SqsEventSource(queue))
    assembly = app.synth()
    assert assembly.get_stack_by_name("Functions").dependencies[0].id == "Queues"


def test_fleet_stack_of_an_unknown_bundle(tmp_path: Any) -> None:
    from lambda_constructs import FunctionFleet

    fleet = FunctionFleet(cdk.Stack(cdk.App(), "S"), "Fleet", placement_file=str(tmp_path / "p.json"))
    fleet.add("W1", lambda scope, id: _fn(scope, id))
    for bad, shown in (("nope", "'nope'"), (5, "5")):
        with pytest.raises(
            ConfigurationError,
            match=rf"^S/Fleet: stack_of\(id\)={shown} is invalid; allowed: a bundle id added to this fleet \(W1\)$",
        ):
            fleet.stack_of(bad)  # type: ignore[arg-type]
    assert fleet.stack_of("W1").node.id == "Stack1"


def test_workflow_task_next_and_watch_name_the_method() -> None:
    from aws_cdk import aws_stepfunctions as sfn

    from lambda_constructs import WorkflowTask

    stack = cdk.Stack(cdk.App(), "S")
    step = WorkflowTask(stack, "Step", function=_fn(stack, invocation=Invocation.WORKFLOW))
    for junk in ("Done", None):
        with pytest.raises(
            ConfigurationError,
            match=r"^S/Step: next\(next_state\)=.* is invalid; allowed: an aws_stepfunctions.IChainable \(a state, a "
            r"chain\)$",
        ):
            step.next(junk)  # type: ignore[arg-type]
    foreign = sfn.Pass(cdk.Stack(cdk.App(), "Other"), "Done")
    with pytest.raises(ConfigurationError, match=r"^S/Step: next\(next_state\)='Other/Done' is invalid; allowed: a "):
        step.next(foreign)
    with pytest.raises(ConfigurationError, match=r"^S/Step: 2 invalid properties") as info:
        step.watch("checkout", alarm_topic="ops")  # type: ignore[arg-type]
    assert [p.prop for p in info.value.problems] == ["watch(state_machine)", "watch(alarm_topic)"]
    assert step.next(sfn.Pass(stack, "Ok")) is not None


def test_powertools_helpers_refuse_a_runtime_that_is_not_a_name() -> None:
    tools = Powertools(service="orders")
    with pytest.raises(
        ConfigurationError,
        match=r"^Powertools: layer_arn\(runtime_name\)=5 is invalid; allowed: a Lambda runtime name, e.g. "
        r"'python3.13'$",
    ):
        tools.layer_arn(5, True, "us-east-1", "aws")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"^Powertools: layer_arn\(region\)=None is invalid; allowed: a str"):
        tools.layer_arn("python3.13", True, None, "aws")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"^Powertools: ssm_parameter\(runtime_name\)=None is invalid"):
        tools.ssm_parameter(None, True)  # type: ignore[arg-type]


def test_resources_of_another_app_or_a_cycle_making_stack_are_refused_at_construction() -> None:
    """Constructor arguments that are constructs: another App is aws-cdk-lib's "Cannot reference across apps"
    at synth; a given queue (QueueConsumer) or a via_queue bucket (S3Consumer) in another stack is a cycle."""
    from aws_cdk import aws_events as events
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sns as sns

    from lambda_constructs import EventConsumer, S3Consumer, TopicConsumer

    app = cdk.App()
    stack, sibling, foreign = cdk.Stack(app, "S"), cdk.Stack(app, "O"), cdk.Stack(cdk.App(), "X")
    queue_fn, async_fn = _fn(stack, "Q", invocation=Invocation.QUEUE), _fn(stack, "A", invocation=Invocation.ASYNC)
    stream_fn = _fn(stack, "K", invocation=Invocation.STREAM)
    cases: list[tuple[Any, str, str, str]] = [
        (lambda: QueueConsumer(stack, "C1", function=queue_fn, queue=sqs.Queue(foreign, "Q")), "C1", "queue", "X/Q"),
        (
            lambda: QueueConsumer(stack, "C2", function=queue_fn, alarm_topic=sns.Topic(foreign, "T")),
            "C2",
            "alarm_topic",
            "X/T",
        ),
        (
            lambda: StreamConsumer(stack, "C3", function=stream_fn, stream=kinesis.Stream(foreign, "K")),
            "C3",
            "stream/table",
            "X/K",
        ),
        (lambda: S3Consumer(stack, "C4", function=async_fn, bucket=s3.Bucket(foreign, "B")), "C4", "bucket", "X/B"),
        (lambda: TopicConsumer(stack, "C5", function=queue_fn, topic=sns.Topic(foreign, "T2")), "C5", "topic", "X/T2"),
        (
            lambda: EventConsumer(
                stack,
                "C6",
                function=async_fn,
                event_bus=events.EventBus(foreign, "Bus"),
                event_pattern=events.EventPattern(source=["orders"]),
            ),
            "C6",
            "event_bus",
            "X/Bus",
        ),
        (lambda: _fn(stack, "C7", alarm_topic=sns.Topic(foreign, "T3")), "C7", "alarm_topic", "X/T3"),
    ]
    for build, id, prop, value in cases:
        with pytest.raises(ConfigurationError) as info:
            build()
        assert info.value.path == f"S/{id}"
        [problem] = [p for p in info.value.problems if p.prop == prop]
        assert (problem.value, problem.allowed) == (value, "a construct of the same App")
        assert problem.hint == (
            "it belongs to another aws_cdk.App: constructs of two apps cannot reference each other "
            "(aws-cdk-lib: 'Cannot reference across apps'); build both in one App"
        )
    with pytest.raises(
        ConfigurationError,
        match=r"^S/C8: queue='O/Q' is invalid; allowed: a resource in this construct's stack \(S\)\. it is in stack O: "
        r"its redrive policy would name this construct's dead-letter queue while the mapping names the queue, so each "
        r"stack would reference the other \(a dependency cycle at synthesis\); build this construct in stack O$",
    ):
        QueueConsumer(
            stack, "C8", function=queue_fn, queue=sqs.Queue(sibling, "Q", visibility_timeout=cdk.Duration.minutes(1))
        )
    with pytest.raises(ConfigurationError, match=r"^S/C9: bucket='O/B' is invalid; allowed: a resource in this constr"):
        S3Consumer(stack, "C9", function=queue_fn, bucket=s3.Bucket(sibling, "B"), via_queue=True)
    # what works across stacks stays accepted, and the app synthesizes: nothing was half built
    S3Consumer(stack, "Direct", function=async_fn, bucket=s3.Bucket(sibling, "B2"))
    StreamConsumer(stack, "Stream", function=stream_fn, stream=kinesis.Stream(cdk.Stack(app, "P"), "K"))
    assert [c.node.id for c in stack.node.children if c.node.id.startswith("C")] == []
    app.synth()
