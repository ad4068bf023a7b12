"""Production-readiness rules for any Lambda in a CloudFormation template: pure functions.

Each rule looks at one resource of a (resolved) template and answers ``True`` (compliant),
``False`` (a finding) or ``None`` (does not apply). No CDK import: ``checks.py`` runs them
inside cdk-nag, and they can run on any template dict, ours or not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lambda_constructs.core import limits
from lambda_constructs.core.report import function_of, is_framework_function, mapping_queue, props, refs, resources_of

Template = Mapping[str, Any]
Check = Callable[[Template, str], bool | None]

FUNCTION = "AWS::Lambda::Function"
MAPPING = "AWS::Lambda::EventSourceMapping"
ASYNC_PRINCIPALS = ("s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com")


@dataclass(frozen=True)
class Rule:
    """One rule: id suffix, resource type, one-line explanation, the fix, and the check."""

    id: str
    resource_type: str
    info: str
    fix: str
    check: Check

    def judge(self, template: Template, logical_id: str) -> bool | None:
        """The check's verdict, or None (does not apply) for aws-cdk-lib's own framework functions."""
        if self.resource_type == FUNCTION and is_framework_function(template, logical_id):
            return None
        return self.check(template, logical_id)


def _resource(template: Template, logical_id: str) -> Mapping[str, Any]:
    return template.get("Resources", {}).get(logical_id, {})


def _timeout(template: Template, function_id: str) -> int | None:
    """The function timeout in seconds (Lambda's default 3), None when it is a deploy-time value."""
    value = props(_resource(template, function_id)).get("Timeout", 3)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# ------------------------------------------------------------------ function rules


EDGE_PRINCIPAL = "edgelambda.amazonaws.com"


def is_edge_function(template: Template, function_id: str) -> bool:
    """A Lambda@Edge function: its execution role (in this template) trusts ``edgelambda.amazonaws.com``.

    CloudFront requires that trust of every Lambda@Edge role ("Set up IAM permissions and roles for
    Lambda@Edge", CloudFront developer guide:
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-permissions.html).
    """
    role_ids = refs(props(_resource(template, function_id)).get("Role"))
    roles = resources_of(template, "AWS::IAM::Role")
    for role_id in role_ids:
        document = props(roles.get(role_id, {})).get("AssumeRolePolicyDocument") or {}
        if EDGE_PRINCIPAL in str(document.get("Statement")):
            return True
    return False


def arm64(template: Template, function_id: str) -> bool | None:
    """arm64, except Lambda@Edge: it runs x86_64 only ("Restrictions on Lambda@Edge", CloudFront developer
    guide: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html)."""
    if is_edge_function(template, function_id):
        return None
    return (props(_resource(template, function_id)).get("Architectures") or ["x86_64"]) == ["arm64"]


def timeout_not_max(template: Template, function_id: str) -> bool | None:
    timeout = _timeout(template, function_id)
    return None if timeout is None else timeout < limits.TIMEOUT_MAX_S


def _front_door_limits_ms(template: Template, function_id: str) -> list[float]:
    """The integration timeouts (ms) of every API Gateway integration that invokes the function.

    HTTP API integrations wait at most 30 s (cold start included) and cannot be raised; a REST API
    integration waits its TimeoutInMillis (default 29 s, above that with a quota increase).
    """
    found: list[float] = []
    for integration in resources_of(template, "AWS::ApiGatewayV2::Integration").values():
        p = props(integration)
        if function_of(template, p.get("IntegrationUri")) == function_id:
            found.append(_number(p.get("TimeoutInMillis"), limits.HTTP_API_INTEGRATION_TIMEOUT_S * 1000))
    for method in resources_of(template, "AWS::ApiGateway::Method").values():
        integration = props(method).get("Integration") or {}
        if function_of(template, integration.get("Uri")) == function_id:
            found.append(_number(integration.get("TimeoutInMillis"), limits.REST_API_INTEGRATION_TIMEOUT_S * 1000))
    return found


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def timeout_within_api_gateway(template: Template, function_id: str) -> bool | None:
    """The function must time out before the integration in front of it (strictly below)."""
    front = _front_door_limits_ms(template, function_id)
    timeout = _timeout(template, function_id)
    if not front or timeout is None:
        return None
    return timeout * 1000 < min(front)


def _invoked_async(template: Template, function_id: str) -> bool:
    for perm in resources_of(template, "AWS::Lambda::Permission").values():
        p = props(perm)
        if p.get("Principal") in ASYNC_PRINCIPALS and function_of(template, p.get("FunctionName")) == function_id:
            return True
    for rule in resources_of(template, "AWS::Events::Rule").values():
        if any(function_of(template, t.get("Arn")) == function_id for t in props(rule).get("Targets") or []):
            return True
    # an EventInvokeConfig that ProductionDefaults added only states AWS's defaults: no evidence of async use
    return any(
        (c.get("Metadata") or {}).get("lambda-constructs", {}).get("injectedBy") != "ProductionDefaults"
        for c in resources_of(template, "AWS::Lambda::EventInvokeConfig").values()
        if function_of(template, props(c).get("FunctionName")) == function_id
    )


def _invoke_configs(template: Template, function_id: str) -> list[Mapping[str, Any]]:
    return [
        props(c)
        for c in resources_of(template, "AWS::Lambda::EventInvokeConfig").values()
        if function_of(template, props(c).get("FunctionName")) == function_id
    ]


def async_failure_path(template: Template, function_id: str) -> bool | None:
    if not _invoked_async(template, function_id):
        return None
    if (props(_resource(template, function_id)).get("DeadLetterConfig") or {}).get("TargetArn"):
        return True
    configs = _invoke_configs(template, function_id)
    return bool(configs) and all((c.get("DestinationConfig") or {}).get("OnFailure") for c in configs)


def log_retention(template: Template, function_id: str) -> bool:
    group_ref = (props(_resource(template, function_id)).get("LoggingConfig") or {}).get("LogGroup")
    groups = resources_of(template, "AWS::Logs::LogGroup")
    candidates = [groups[r] for r in refs(group_ref) if r in groups]
    candidates += [
        g
        for g in groups.values()
        if "/aws/lambda/" in str(props(g).get("LogGroupName"))
        and function_id in set(refs(props(g).get("LogGroupName")))
    ]
    # aws-cdk-lib's ``log_retention=``: its LogRetention custom resource sets the retention of the group
    # /aws/lambda/<function name> (Custom::LogRetention, with LogGroupName and RetentionInDays)
    candidates += [
        r
        for r in resources_of(template, "Custom::LogRetention").values()
        if "/aws/lambda/" in str(props(r).get("LogGroupName"))
        and function_id in set(refs(props(r).get("LogGroupName")))
    ]
    return any(props(g).get("RetentionInDays") for g in candidates)


def errors_alarm(template: Template, function_id: str) -> bool:
    for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values():
        p = props(alarm)
        metrics = [p] + [(m.get("MetricStat") or {}).get("Metric", {}) for m in p.get("Metrics") or []]
        for metric in metrics:
            if (
                metric.get("MetricName") == "Errors"
                and metric.get("Namespace") == "AWS/Lambda"
                and any(function_of(template, d.get("Value")) == function_id for d in metric.get("Dimensions") or [])
            ):
                return True
    return False


def _alarms_on(template: Template, function_id: str) -> list[Mapping[str, Any]]:
    """The properties of every alarm whose metric dimensions name the function (directly, through an alias or
    a version), single-metric or metric-math alike."""
    found = []
    for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values():
        p = props(alarm)
        metrics = [p] + [(m.get("MetricStat") or {}).get("Metric", {}) for m in p.get("Metrics") or []]
        if any(
            function_of(template, d.get("Value")) == function_id
            for metric in metrics
            for d in metric.get("Dimensions") or []
        ):
            found.append(p)
    return found


def alarm_actions(template: Template, function_id: str) -> bool | None:
    """Every alarm on the function has an alarm action; None when no alarm watches it (ErrorsAlarm says so)."""
    alarms = _alarms_on(template, function_id)
    if not alarms:
        return None
    return all(p.get("AlarmActions") for p in alarms)


# ------------------------------------------------------------------ event source mapping rules


def _queue_of(template: Template, mapping_id: str) -> Mapping[str, Any] | None:
    return mapping_queue(template, _resource(template, mapping_id))


def _is_stream(template: Template, mapping_id: str) -> bool:
    p = props(_resource(template, mapping_id))
    if p.get("StartingPosition"):
        return True
    resources = template.get("Resources", {})
    return any(
        resources.get(r, {}).get("Type")
        in ("AWS::Kinesis::Stream", "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
        for r in refs(p.get("EventSourceArn"))
    )


def sqs_visibility(template: Template, mapping_id: str) -> bool | None:
    queue = _queue_of(template, mapping_id)
    p = props(_resource(template, mapping_id))
    function_id = function_of(template, p.get("FunctionName"))
    if queue is None or function_id is None:
        return None
    visibility = props(queue).get("VisibilityTimeout", 30)
    if not isinstance(visibility, int | float):
        return None
    window = p.get("MaximumBatchingWindowInSeconds") or 0
    timeout = _timeout(template, function_id)
    if timeout is None or not isinstance(window, int):
        return None
    return visibility >= limits.sqs_visibility_timeout_s(timeout, window)


def sqs_batch_item_failures(template: Template, mapping_id: str) -> bool | None:
    if _queue_of(template, mapping_id) is None:
        return None
    return "ReportBatchItemFailures" in (props(_resource(template, mapping_id)).get("FunctionResponseTypes") or [])


def sqs_redrive(template: Template, mapping_id: str) -> bool | None:
    queue = _queue_of(template, mapping_id)
    return None if queue is None else bool(props(queue).get("RedrivePolicy"))


def stream_failure_path(template: Template, mapping_id: str) -> bool | None:
    if not _is_stream(template, mapping_id):
        return None
    p = props(_resource(template, mapping_id))
    on_failure = bool((p.get("DestinationConfig") or {}).get("OnFailure"))
    if p.get("Topics") and not p.get("ProvisionedPollerConfig"):
        # Kafka outside provisioned mode has no retry controls; with an OnFailure destination Lambda stops
        # after 10 retries ("Configuring error handling controls for Kafka event sources")
        return on_failure
    bounded = all(
        isinstance(p.get(key), int) and p.get(key) != -1
        for key in ("MaximumRetryAttempts", "MaximumRecordAgeInSeconds")
    )  # unset or -1 means: retry until the record expires, blocking the shard
    return (
        bool((p.get("DestinationConfig") or {}).get("OnFailure"))
        and p.get("BisectBatchOnFunctionError") is True
        and bounded
    )


# ------------------------------------------------------------------ provisioned concurrency


def provisioned_concurrency_autoscaled(template: Template, qualifier_id: str) -> bool | None:
    p = props(_resource(template, qualifier_id))
    if not (p.get("ProvisionedConcurrencyConfig") or {}).get("ProvisionedConcurrentExecutions"):
        return None
    function_id = function_of(template, p.get("FunctionName"))
    for target in resources_of(template, "AWS::ApplicationAutoScaling::ScalableTarget").values():
        tp = props(target)
        # a hand-built target names the function; alias.add_auto_scaling() derives it from the alias ARN
        if tp.get("ScalableDimension") == "lambda:function:ProvisionedConcurrency" and {
            function_id,
            qualifier_id,
        } & set(refs(tp.get("ResourceId"))):
            return True
    return False


RULES: tuple[Rule, ...] = (
    Rule(
        "Arm64",
        FUNCTION,
        "The Lambda function does not run on arm64.",
        "Set architecture=ARM_64: about 20% cheaper per GB-second ('Lambda in Production'; "
        "'AWS Lambda in production: patterns'). Lambda@Edge functions (x86_64 only) are exempt.",
        arm64,
    ),
    Rule(
        "TimeoutNotMax",
        FUNCTION,
        "The Lambda function timeout is the 900 s maximum 'just in case'.",
        "Derive the timeout from the measured p99 (2-3 x p99, 'Lambda in Production'); "
        "long work belongs in Step Functions.",
        timeout_not_max,
    ),
    Rule(
        "TimeoutApiGateway",
        FUNCTION,
        "The function timeout exceeds the API Gateway integration timeout in front of it.",
        "Keep the timeout below the integration timeout: < 30 s behind an HTTP API (cold start included), "
        "< TimeoutInMillis (default 29 s) behind a REST API; the caller is gone after that.",
        timeout_within_api_gateway,
    ),
    Rule(
        "AsyncFailurePath",
        FUNCTION,
        "The asynchronously invoked function has no onFailure destination or DLQ.",
        "Add an onFailure destination (EventInvokeConfig) or a DeadLetterConfig; failed events are dropped otherwise.",
        async_failure_path,
    ),
    Rule(
        "LogRetention",
        FUNCTION,
        "The function has no log group with a retention period.",
        "Give it a log group (LoggingConfig.LogGroup) with RetentionInDays, or aws-cdk-lib's log_retention.",
        log_retention,
    ),
    Rule(
        "ErrorsAlarm",
        FUNCTION,
        "No CloudWatch alarm watches the function's Errors metric.",
        "Add an alarm on AWS/Lambda Errors for this function.",
        errors_alarm,
    ),
    Rule(
        "AlarmActions",
        FUNCTION,
        "An alarm on the function has no alarm action: it changes state and notifies nobody.",
        "Give the alarm an action (an SNS topic): pass alarm_topic= to the construct, or call "
        "lambda_constructs.default_alarm_topic(app_or_stack, topic) once before creating the constructs.",
        alarm_actions,
    ),
    Rule(
        "SqsVisibility",
        MAPPING,
        "The SQS queue's visibility timeout is below 6 x function timeout + batching window.",
        "Raise the queue's VisibilityTimeout (AWS Lambda developer guide, with-sqs).",
        sqs_visibility,
    ),
    Rule(
        "SqsBatchItemFailures",
        MAPPING,
        "The SQS event source mapping does not report batch item failures.",
        "Set FunctionResponseTypes: [ReportBatchItemFailures] and return failed message ids.",
        sqs_batch_item_failures,
    ),
    Rule(
        "SqsRedrive",
        MAPPING,
        "The SQS source queue has no redrive policy (dead-letter queue).",
        "Give the queue a RedrivePolicy with maxReceiveCount >= 5.",
        sqs_redrive,
    ),
    Rule(
        "StreamFailurePath",
        MAPPING,
        "The stream event source mapping lacks an on-failure destination, bisect-on-error, or bounded retries.",
        "Set DestinationConfig.OnFailure, BisectBatchOnFunctionError, and MaximumRetryAttempts / "
        "MaximumRecordAgeInSeconds other than -1, so a poison record cannot block the shard.",
        stream_failure_path,
    ),
    Rule(
        "ProvisionedConcurrencyScaling",
        "AWS::Lambda::Alias",
        "Provisioned concurrency on the alias has no auto scaling.",
        "Register a ScalableTarget (lambda:function:ProvisionedConcurrency) with target tracking at 0.7.",
        provisioned_concurrency_autoscaled,
    ),
    Rule(
        "ProvisionedConcurrencyScaling",
        "AWS::Lambda::Version",
        "Provisioned concurrency on the version has no auto scaling.",
        "Register a ScalableTarget (lambda:function:ProvisionedConcurrency) with target tracking at 0.7.",
        provisioned_concurrency_autoscaled,
    ),
)


def evaluate(template: Template) -> list[tuple[str, str]]:
    """Every finding in ``template``: (rule id suffix, logical id). For use outside cdk-nag."""
    findings = []
    for rule in RULES:
        for logical_id in sorted(resources_of(template, rule.resource_type)):
            if rule.judge(template, logical_id) is False:
                findings.append((rule.id, logical_id))
    return findings
