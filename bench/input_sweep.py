"""Input sweep (`make sweep`, run by CI): every public constructor and ProductionFunction method, junk values.

For each construct and each of its keyword parameters, builds it with one parameter replaced by a
junk value (NaN, infinity, -1, 0, True, a string, a list, a dict, an object, 10**12). The outcome
must be success or a ConfigurationError that leaves the scope without a new child; anything else
(a TypeError, a jsii error, a dead jsii kernel) is an escape. Prints the count and exits 1 on any.
Each construct runs in its own process, so a kernel killed by one case cannot hide the others. The
``methods`` kind calls every public ProductionFunction method with each argument replaced by junk (and a
7 s period, an ARN string): success or a ConfigurationError that adds nothing to the function.
"""

import inspect
import subprocess
import sys

import aws_cdk as cdk
from aws_cdk import (
    aws_cloudfront as cf,
)
from aws_cdk import (
    aws_dynamodb as ddb,
)
from aws_cdk import (
    aws_events as ev,
)
from aws_cdk import (
    aws_lambda as l,
)
from aws_cdk import (
    aws_s3 as s3,
)
from aws_cdk import (
    aws_sns as sns,
)

from lambda_constructs import (
    ConfigurationError,
    EdgeFunction,
    EventConsumer,
    FunctionFleet,
    HttpEndpoint,
    Invocation,
    ProductionFunction,
    QueueConsumer,
    RestEndpoint,
    S3Consumer,
    ScheduledFunction,
    ServiceDashboard,
    StreamConsumer,
    TopicConsumer,
)

JUNK = [float("nan"), float("inf"), -1, 0, True, "x", ["x"], {"a": 1}, object(), 10**12]
CODE = l.Code.from_inline("def handler(e,c): return e")


def base_fn(st, inv=Invocation.SYNC, id="Base"):
    return ProductionFunction(st, id, code=CODE, handler="index.handler", p99=cdk.Duration.millis(200), invocation=inv)


def make(kind):
    st = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="111111111111", region="us-east-1"))
    if kind == "pf":
        return st, ProductionFunction, dict(code=CODE, handler="index.handler", p99=cdk.Duration.millis(200))
    if kind == "qc":
        return st, QueueConsumer, dict(function=base_fn(st, Invocation.QUEUE))
    if kind == "sc":
        t = ddb.Table(
            st,
            "T",
            partition_key=ddb.Attribute(name="k", type=ddb.AttributeType.STRING),
            stream=ddb.StreamViewType.NEW_IMAGE,
        )
        return st, StreamConsumer, dict(function=base_fn(st, Invocation.STREAM), table=t)
    if kind == "sf":
        return (
            st,
            ScheduledFunction,
            dict(function=base_fn(st, Invocation.ASYNC), schedule=ev.Schedule.rate(cdk.Duration.hours(1))),
        )
    if kind == "ec":
        return (
            st,
            EventConsumer,
            dict(function=base_fn(st, Invocation.ASYNC), event_pattern=ev.EventPattern(source=["x"])),
        )
    if kind == "s3":
        return st, S3Consumer, dict(function=base_fn(st, Invocation.ASYNC), bucket=s3.Bucket(st, "B"))
    if kind == "tc":
        return st, TopicConsumer, dict(function=base_fn(st, Invocation.QUEUE), topic=sns.Topic(st, "T"))
    if kind == "he":
        return st, HttpEndpoint, dict(function=base_fn(st))
    if kind == "re":
        return st, RestEndpoint, dict(function=base_fn(st), routes=("GET /x",))
    if kind == "ef":
        return (
            st,
            EdgeFunction,
            dict(
                code=CODE,
                handler="index.handler",
                runtime=l.Runtime.NODEJS_22_X,
                event_type=cf.LambdaEdgeEventType.VIEWER_REQUEST,
                p99=cdk.Duration.millis(20),
            ),
        )
    if kind == "ff":
        return st, FunctionFleet, dict(placement_file="/tmp/lambda-constructs-sweep-placement.json")
    if kind == "sd":
        return st, ServiceDashboard, dict(functions=[base_fn(st)])


KINDS = ["pf", "qc", "sc", "sf", "ec", "s3", "tc", "he", "re", "ef", "ff", "sd", "methods"]


def method_cases(fn):
    """ProductionFunction's public methods, each argument in turn replaced by junk (``None`` marks the slot)."""
    from aws_cdk import aws_iam as iam

    principal = iam.ServicePrincipal("sns.amazonaws.com")
    arn = "arn:aws:sqs:us-east-1:111111111111:q"
    return [
        ("add_event_source", lambda j: fn.add_event_source(j)),
        ("add_event_source_mapping(id)", lambda j: fn.add_event_source_mapping(j, event_source_arn=arn)),
        ("add_event_source_mapping(batch_size)", lambda j: fn.add_event_source_mapping("M", batch_size=j)),
        ("add_function_url(auth_type)", lambda j: fn.add_function_url(auth_type=j)),
        ("add_permission(id)", lambda j: fn.add_permission(j, principal=principal)),
        ("add_permission(principal)", lambda j: fn.add_permission("P", principal=j)),
        ("add_to_role_policy", lambda j: fn.add_to_role_policy(j)),
        ("add_alarm", lambda j: fn.add_alarm(j)),
        ("add_alarms", lambda j: fn.add_alarms(j)),
        ("add_environment(key)", lambda j: fn.add_environment(j, "v")),
        ("add_environment(value)", lambda j: fn.add_environment("KEY_J", j)),
        ("grant_invoke", lambda j: fn.grant_invoke(j)),
        ("grant_invoke_url", lambda j: fn.grant_invoke_url(j)),
        ("grant_invoke_latest_version", lambda j: fn.grant_invoke_latest_version(j)),
        ("grant_invoke_version(version)", lambda j: fn.grant_invoke_version(iam.AccountRootPrincipal(), j)),
        ("grant_invoke_composite_principal", lambda j: fn.grant_invoke_composite_principal(j)),
        ("metric(metric_name)", lambda j: fn.metric(j)),
        ("metric(period)", lambda j: fn.metric("Errors", period=j)),
        ("metric(statistic)", lambda j: fn.metric("Errors", statistic=j)),
        ("metric(props)", lambda j: fn.metric("Errors", j)),
        ("metric_throttles(props)", lambda j: fn.metric_throttles(j)),
        ("add_function_url(options)", lambda j: fn.add_function_url(j)),
        ("add_event_source_mapping(options)", lambda j: fn.add_event_source_mapping("M2", j)),
        ("add_permission(permission)", lambda j: fn.add_permission("P2", j)),
        ("metric_errors(period)", lambda j: fn.metric_errors(period=j)),
        ("metric_duration(label)", lambda j: fn.metric_duration(label=j)),
        ("configure_async_invoke", lambda j: fn.configure_async_invoke(retry_attempts=j)),
        ("apply_removal_policy", lambda j: fn.apply_removal_policy(j)),
    ]


def sweep_methods():
    """Each method, each argument, each junk value: success or a ConfigurationError that adds nothing."""
    escapes = total = 0
    st = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="111111111111", region="us-east-1"))
    fn = base_fn(st)
    for name, call in method_cases(fn):
        for junk in [*JUNK, cdk.Duration.seconds(7), "arn:aws:iam::111111111111:role/r"]:
            before = len(fn.node.find_all())
            total += 1
            try:
                call(junk)
            except ConfigurationError:
                if len(fn.node.find_all()) != before:
                    print("HALF-BUILT", name, repr(junk)[:30])
                    escapes += 1
            except Exception as e:
                escapes += 1
                print("ESCAPE", name, repr(junk)[:30], type(e).__name__, str(e).splitlines()[0][:120])
    print(f"cases {total} escapes {escapes}")
    return escapes


def sweep(kinds):
    escapes = 0
    total = 0
    for kind in kinds:
        _, cls, _ = make(kind)
        params = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "scope", "id")]
        for p in params:
            for junk in JUNK:
                st, cls, kw = make(kind)
                kw = dict(kw)
                kw[p] = junk
                n = len(st.node.children)
                total += 1
                try:
                    cls(st, "C", **kw)
                except ConfigurationError:
                    if len(st.node.children) != n:
                        print("HALF-BUILT", kind, p, repr(junk))
                        escapes += 1
                except Exception as e:
                    escapes += 1
                    print("ESCAPE", kind, p, repr(junk)[:30], type(e).__name__, str(e).splitlines()[0][:120])
    print(f"cases {total} escapes {escapes}")
    return escapes


if __name__ == "__main__":
    if sys.argv[1:] == ["methods"]:
        sys.exit(1 if sweep_methods() else 0)
    if len(sys.argv) > 1:
        sys.exit(1 if sweep(sys.argv[1:]) else 0)
    failed, cases = 0, 0
    for kind in KINDS:
        done = subprocess.run([sys.executable, __file__, kind], capture_output=True, text=True)
        lines = done.stdout.strip().splitlines()
        summary = lines[-1] if lines else f"cases 0 escapes ? (exit {done.returncode})"
        print(f"{kind}: {summary}")
        for line in lines[:-1]:
            print("   ", line)
        cases += int(summary.split()[1]) if summary.startswith("cases") else 0
        failed += done.returncode != 0
    print(f"input sweep: {cases} cases over {len(KINDS)} constructs, {failed} constructs with escapes")
    sys.exit(1 if failed else 0)
