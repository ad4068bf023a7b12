"""Input sweep (`make sweep`, run by CI): every public constructor, every parameter, junk values.

For each construct and each of its keyword parameters, builds it with one parameter replaced by a
junk value (NaN, infinity, -1, 0, True, a string, a list, a dict, an object, 10**12). The outcome
must be success or a ConfigurationError that leaves the scope without a new child; anything else
(a TypeError, a jsii error, a dead jsii kernel) is an escape. Prints the count and exits 1 on any.
Each construct runs in its own process, so a kernel killed by one case cannot hide the others.
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


KINDS = ["pf", "qc", "sc", "sf", "ec", "s3", "tc", "he", "re", "ef", "ff", "sd"]


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
