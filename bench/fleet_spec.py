"""The hand-written side of the fleet benchmark, as data: one JSON spec read by the raw-Python and the Node builder.

``fleet_spec(n)`` returns every per-worker decision (memory, timeout, log settings, queue and
dead-letter queue settings, the mapping, each alarm's metric, statistic, period, threshold, name and
description) and the nested-stack layout, as plain JSON data. ``build_raw`` builds it with aws-cdk-lib
from Python; ``bench/node/app.ts`` builds it with aws-cdk-lib from Node.js (TypeScript). Neither
builder holds a number of its own, so the two sides cannot drift apart, and
``tests/test_bench_node.py`` compares their templates resource by resource.

The values are the ones ``ProductionFunction`` derives for ``p99=Duration.seconds(1)`` and
``invocation=Invocation.QUEUE`` with a ``QueueConsumer`` of default settings (what the library side of
``bench/fleet_bench.py`` builds): 1,024 MB, a 3 s timeout, a visibility timeout of 6x the timeout,
five receives before the dead-letter queue, and the five alarms with the library's names and
descriptions. ``tests/test_bench_node.py`` checks that too: one worker from the spec and one from the
library are the same 16 resources, property for property (only the logical ids differ).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PER_STACK = 450  # resources per nested stack, the library side's max_resources_per_stack
RESOURCES_PER_WORKER = 16
SPEC_VERSION = 1


def worker(name: str, place: str = "Bench/Workers/Stack1") -> dict[str, Any]:
    """One queue worker: a function with its role, log group and ``live`` alias, a queue, a DLQ, five alarms.

    Enumerations are aws-cdk-lib member names (``Runtime.PYTHON_3_14``, ``Tracing.ACTIVE``), the same
    in Python and TypeScript. Alarm names and descriptions are the library's text (its descriptions
    name the construct path ``place``/``name``); ``${AWS::StackName}`` in a name is the stack's name
    (``Aws.STACK_NAME``), as the library names alarms in a nested stack.
    """
    period = 300
    return {
        "name": name,
        "function": {
            "handler": "app.handler",
            "runtime": "PYTHON_3_14",
            "architecture": "ARM_64",
            "memory_mib": 1024,
            "timeout_s": 3,
            "tracing": "ACTIVE",
            # the role's own inline policy (acknowledged alone); the tracing mode is set on the L1
            "tracing_policy": {"name": "XRayTracing", "actions": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]},
            "recursive_loop": "TERMINATE",
            "log_retention": "ONE_MONTH",
            "role_description": "Execution role: writes to its own log group only",
            "log_actions": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "logging_format": "JSON",
            "application_log_level": "INFO",
            "system_log_level": "INFO",
            "alias": "live",
        },
        "queue": {"encryption": "SQS_MANAGED", "enforce_ssl": True, "visibility_timeout_s": 18,
                  "retention_days": 4, "max_receive_count": 5, "removal_policy": "RETAIN"},
        "dlq": {"encryption": "SQS_MANAGED", "enforce_ssl": True, "retention_days": 14, "removal_policy": "RETAIN"},
        "mapping": {"batch_size": 10, "report_batch_item_failures": True},
        "alarms": [
            {"id": id, "of": of, "metric": metric, "statistic": statistic, "period_s": period,
             "threshold": threshold, "comparison_operator": operator, "evaluation_periods": 1,
             "treat_missing_data": "NOT_BREACHING", "name": f"${{AWS::StackName}}-{owner}-{alarm}",
             "description": description}
            for id, of, metric, statistic, threshold, operator, owner, alarm, description in (
                ("Errors", "function", "Errors", "Sum", 1, "GREATER_THAN_OR_EQUAL_TO_THRESHOLD", name, "ErrorsAlarm",
                 f"{place}/{name}: the function raised errors in the last 5 minutes."),
                ("Throttles", "function", "Throttles", "Sum", 1, "GREATER_THAN_OR_EQUAL_TO_THRESHOLD", name,
                 "ThrottlesAlarm", f"{place}/{name}: invocations were throttled (concurrency limit reached)."),
                ("Duration", "function", "Duration", "p99", 2400, "GREATER_THAN_THRESHOLD", name, "DurationAlarm",
                 f"{place}/{name}: p99 duration above 80% of the 3 s timeout: invocations are close to timing out."),
                ("Oldest", "queue", "ApproximateAgeOfOldestMessage", "Maximum", 18, "GREATER_THAN_THRESHOLD",
                 f"{name}Queue", "OldestMessageAlarm",
                 f"{place}/{name}Queue: the oldest message is older than 18 s (one visibility cycle): the consumer "
                 "is not keeping up, or messages keep failing."),
                ("DlqDepth", "dlq", "ApproximateNumberOfMessagesVisible", "Maximum", 0, "GREATER_THAN_THRESHOLD",
                 f"{name}Queue", "DeadLetterQueueAlarm",
                 f"{place}/{name}Queue dead-letter queue holds messages: events failed after all retries. Inspect "
                 "them, fix the cause, then redrive."),
            )
        ],
    }  # fmt: skip


def fleet_spec(n: int, per_stack: int = PER_STACK) -> dict[str, Any]:
    """``n`` workers ``W0000``... in nested stacks ``Stack1``... of at most ``per_stack`` resources each."""
    workers_per_stack = per_stack // RESOURCES_PER_WORKER
    names = [f"W{i:04d}" for i in range(n)]
    return {
        "version": SPEC_VERSION,
        "stack": "Bench",
        "alarm_topic": "Alarms",
        "code": {"path": str(ROOT / "handlers" / "order_worker"), "exclude": ["__pycache__"]},
        "nested_stacks": [
            {
                "id": f"Stack{k // workers_per_stack + 1}",
                "workers": [
                    worker(name, f"Bench/Workers/Stack{k // workers_per_stack + 1}")
                    for name in names[k : k + workers_per_stack]
                ],
            }
            for k in range(0, n, workers_per_stack)
        ],
    }


def write_spec(path: Path, n: int, per_stack: int = PER_STACK) -> Path:
    path.write_text(json.dumps(fleet_spec(n, per_stack)))
    return path


def build_raw(stack: Any, topic: Any, spec: dict[str, Any]) -> None:
    """The spec's workers by hand in aws-cdk-lib Python: one NestedStack and one code asset per spec stack.

    The calls are those a hand-written program makes (the L2 constructs, ``grant_consume_messages``,
    ``add_alarm_action``); the only sharing is one ``SnsAction``, ``Aws.STACK_NAME`` and one ``Duration``
    per alarm period, as a hand-written loop would hoist them. ``bench/node/app.ts`` makes the same
    calls in the same order.
    """
    import aws_cdk as cdk
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_cloudwatch_actions as actions
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_sqs as sqs

    action = actions.SnsAction(topic)
    stack_name = cdk.Aws.STACK_NAME
    periods: dict[int, cdk.Duration] = {}
    for nested_spec in spec["nested_stacks"]:
        nested = cdk.NestedStack(stack, nested_spec["id"])
        code = lambda_.Code.from_asset(spec["code"]["path"], exclude=spec["code"]["exclude"])
        for w in nested_spec["workers"]:
            name, f, q, d, m = w["name"], w["function"], w["queue"], w["dlq"], w["mapping"]
            log_group = logs.LogGroup(nested, f"{name}Logs", retention=logs.RetentionDays[f["log_retention"]])
            role = iam.Role(
                nested,
                f"{name}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f["role_description"],
                inline_policies={
                    f["tracing_policy"]["name"]: iam.PolicyDocument(
                        statements=[iam.PolicyStatement(actions=f["tracing_policy"]["actions"], resources=["*"])]
                    )
                },
            )
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=f["log_actions"], resources=[log_group.log_group_arn])
            )
            fn = lambda_.Function(
                nested,
                name,
                code=code,
                handler=f["handler"],
                runtime=getattr(lambda_.Runtime, f["runtime"]),
                architecture=getattr(lambda_.Architecture, f["architecture"]),
                memory_size=f["memory_mib"],
                timeout=cdk.Duration.seconds(f["timeout_s"]),
                tracing=lambda_.Tracing.DISABLED,  # the role has the X-Ray statement: the mode is set below
                recursive_loop=lambda_.RecursiveLoop[f["recursive_loop"]],
                log_group=log_group,
                role=role,
                logging_format=lambda_.LoggingFormat[f["logging_format"]],
                application_log_level_v2=lambda_.ApplicationLogLevel[f["application_log_level"]],
                system_log_level_v2=lambda_.SystemLogLevel[f["system_log_level"]],
            )
            fn.node.default_child.tracing_config = lambda_.CfnFunction.TracingConfigProperty(  # type: ignore[union-attr]
                mode={"ACTIVE": "Active", "PASS_THROUGH": "PassThrough"}[f["tracing"]]
            )
            # as the library renders it: DependsOn the role's default policy, not the role its GetAtt implies (W3005)
            policy = role.node.find_child("DefaultPolicy").node.default_child
            fn.node.default_child.add_override("DependsOn", [nested.get_logical_id(policy)])  # type: ignore[union-attr,arg-type]
            alias = lambda_.Alias(nested, f"{name}Live", alias_name=f["alias"], version=fn.current_version)
            dlq = sqs.Queue(
                nested,
                f"{name}Dlq",
                encryption=sqs.QueueEncryption[d["encryption"]],
                enforce_ssl=d["enforce_ssl"],
                retention_period=cdk.Duration.days(d["retention_days"]),
                removal_policy=cdk.RemovalPolicy[d["removal_policy"]],
            )
            queue = sqs.Queue(
                nested,
                f"{name}Queue",
                encryption=sqs.QueueEncryption[q["encryption"]],
                enforce_ssl=q["enforce_ssl"],
                visibility_timeout=cdk.Duration.seconds(q["visibility_timeout_s"]),
                retention_period=cdk.Duration.days(q["retention_days"]),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=q["max_receive_count"]),
                removal_policy=cdk.RemovalPolicy[q["removal_policy"]],
            )
            lambda_.EventSourceMapping(
                nested,
                f"{name}Mapping",
                target=alias,
                event_source_arn=queue.queue_arn,
                batch_size=m["batch_size"],
                report_batch_item_failures=m["report_batch_item_failures"],
            )
            queue.grant_consume_messages(alias)
            sources = {"function": fn, "queue": queue, "dlq": dlq}
            for a in w["alarms"]:
                period = periods.get(a["period_s"])
                if period is None:
                    period = periods[a["period_s"]] = cdk.Duration.seconds(a["period_s"])
                alarm = cloudwatch.Alarm(
                    nested,
                    f"{name}{a['id']}",
                    alarm_name=a["name"].replace("${AWS::StackName}", stack_name),
                    alarm_description=a["description"],
                    metric=sources[a["of"]].metric(a["metric"], period=period, statistic=a["statistic"]),
                    threshold=a["threshold"],
                    comparison_operator=cloudwatch.ComparisonOperator[a["comparison_operator"]],
                    evaluation_periods=a["evaluation_periods"],
                    treat_missing_data=cloudwatch.TreatMissingData[a["treat_missing_data"]],
                )
                alarm.add_alarm_action(action)


if __name__ == "__main__":  # python bench/fleet_spec.py N > spec.json; node bench/node/app.ts spec.json cdk.out
    import sys

    print(json.dumps(fleet_spec(int(sys.argv[1]))))
