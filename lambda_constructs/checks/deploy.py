"""The deploy contract: what AWS refuses at deploy time, or what fails on first invocation, read from templates.

Pure functions over synthesized templates (no CDK import), so they run on plain dicts, on a cloud
assembly read from disk (``lambda-constructs report``) and inside cdk-nag (``checks.pack``).

Two kinds of rule:

- per template: a function's execution role lacks what its configuration needs, an SQS queue's
  visibility timeout below the function timeout, a duplicate event source mapping or Function URL,
  provisioned concurrency on ``$LATEST`` or above reserved concurrency, SnapStart with what it excludes;
- per account and region, across every stack and nested stack of an app: duplicate function or alarm
  names, and the account concurrency ledger (reserved + provisioned against the account's concurrency).

Each rule is an error and names the AWS page it comes from. ``evaluate_app`` runs them all;
``ledger`` is what ``report`` prints.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_constructs.core import limits
from lambda_constructs.core.report import _read_json, function_of, load_templates, props, refs, resources_of
from lambda_constructs.core.table import render

Template = Mapping[str, Any]

FUNCTION = "AWS::Lambda::Function"
MAPPING = "AWS::Lambda::EventSourceMapping"
ALIAS = "AWS::Lambda::Alias"
VERSION = "AWS::Lambda::Version"
URL = "AWS::Lambda::Url"
ALARM = "AWS::CloudWatch::Alarm"

# The context key that sets the account's concurrency (Lambda's default quota is 1,000 per region,
# "Lambda quotas": https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). A contract.
ACCOUNT_CONCURRENCY_CONTEXT = "lambda-constructs:account-concurrency"
DEFAULT_ACCOUNT_CONCURRENCY = 1000
# Lambda keeps at least 100 unreserved for functions without reserved concurrency ("Configuring
# reserved concurrency for a function").
UNRESERVED_MINIMUM = 100


@dataclass(frozen=True)
class DeployRule:
    """One deploy-contract rule: id suffix, the resource types it attaches to, what AWS rejects, the fix, the source."""

    id: str
    resource_types: tuple[str, ...]
    info: str
    fix: str
    source_title: str
    source_url: str


@dataclass(frozen=True)
class Finding:
    """A deploy-rule violation: the rule id, the stack (its name in the app), the resource, and what is wrong."""

    rule: str
    stack: str
    logical_id: str
    detail: str


ROLE = DeployRule(
    "DeployRolePermissions",
    (FUNCTION,),
    "The function's execution role lacks actions its configuration needs: Lambda refuses CreateFunction / "
    "CreateEventSourceMapping (VPC, event sources) or the first invocation fails (destinations, DLQ, tracing, EFS).",
    "Grant the missing actions to the role (for example vpc -> AWSLambdaVPCAccessExecutionRole, "
    "queue.grant_consume_messages(fn), topic.grant_publish(fn)).",
    "Defining Lambda function permissions with an execution role",
    "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
)
SQS_VISIBILITY = DeployRule(
    "DeploySqsVisibilityTimeout",
    (MAPPING,),
    "The SQS queue's visibility timeout is below the function timeout: Lambda refuses CreateEventSourceMapping.",
    "Set the queue's VisibilityTimeout >= the function's Timeout (defaults: queue 30 s, function 3 s); "
    "6 x timeout is the production-readiness rule LambdaProduction-SqsVisibility.",
    "Using Lambda with Amazon SQS",
    "https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html",
)
DUPLICATE_MAPPING = DeployRule(
    "DeployDuplicateMapping",
    (MAPPING,),
    "A second event source mapping for the same SQS queue / Kinesis stream / DynamoDB stream and function: "
    "Lambda refuses it (ResourceConflictException).",
    "Keep one mapping per (source, function) pair; change the existing mapping's settings instead.",
    "CreateEventSourceMapping",
    "https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html",
)
DUPLICATE_URL = DeployRule(
    "DeployDuplicateFunctionUrl",
    (URL,),
    "A second Function URL for the same function and qualifier: Lambda refuses it (ResourceConflictException).",
    "Keep one Function URL per function and qualifier ($LATEST or an alias).",
    "CreateFunctionUrlConfig",
    "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunctionUrlConfig.html",
)
PROVISIONED = DeployRule(
    "DeployProvisionedConcurrency",
    (ALIAS, VERSION),
    "Provisioned concurrency on an alias of $LATEST (unpublished), or more provisioned concurrency on the "
    "function's aliases and versions than its reserved concurrency: Lambda refuses it.",
    "Put provisioned concurrency on an alias of a published version, and keep the function's provisioned "
    "total <= its ReservedConcurrentExecutions (or remove the reservation).",
    "Configuring provisioned concurrency for a function",
    "https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html",
)
SNAPSTART = DeployRule(
    "DeploySnapStart",
    (FUNCTION,),
    "SnapStart with what it does not support: a runtime other than Java 11+, Python 3.12+ or .NET 8+, a "
    "container image, provisioned concurrency, Amazon EFS, or ephemeral storage above 512 MB.",
    "Remove SnapStart or the excluded feature (use provisioned concurrency instead of SnapStart, not both).",
    "Improving startup performance with Lambda SnapStart",
    "https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html",
)
FUNCTION_NAME = DeployRule(
    "DeployUniqueFunctionName",
    (FUNCTION,),
    "Two functions with one FunctionName in the same account and region (any stack of the app): "
    "CloudFormation fails the second (the name already exists).",
    "Leave FunctionName unset (CloudFormation generates a unique one) or make the names unique.",
    "AWS::Lambda::Function",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-function.html",
)
ALARM_NAME = DeployRule(
    "DeployUniqueAlarmName",
    (ALARM,),
    "Two alarms with one AlarmName in the same account and region (any stack of the app): "
    "CloudFormation fails the second (the name already exists).",
    "Leave AlarmName unset or make the names unique per account and region.",
    "AWS::CloudWatch::Alarm",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html",
)
LEDGER = DeployRule(
    "DeployConcurrencyLedger",
    (FUNCTION, ALIAS, VERSION),
    "Across the app, reserved concurrency plus the provisioned concurrency of functions without a reservation "
    "leaves fewer than 100 unreserved out of the account's concurrency: Lambda refuses the setting "
    "(often half an hour into the deploy).",
    f"Lower reserved / provisioned concurrency, or request a higher account quota and set the context key "
    f"{ACCOUNT_CONCURRENCY_CONTEXT} to it (default {DEFAULT_ACCOUNT_CONCURRENCY}).",
    "Configuring reserved concurrency for a function",
    "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html",
)

KEY_POLICY = DeployRule(
    "DeployKeyPolicy",
    ("AWS::Logs::LogGroup", "AWS::SQS::Queue"),
    "A customer-managed KMS key of this template lacks the key-policy statement a service needs: a log group's "
    "key must let logs.<region>.amazonaws.com use it (CloudWatch Logs refuses the log group otherwise); a queue's "
    "key must let each AWS service that sends to the queue (SNS, EventBridge, S3) kms:GenerateDataKey and "
    "kms:Decrypt (the messages are dropped otherwise).",
    "Add the statement to the key policy (key.add_to_resource_policy with the service principal), or let "
    "the library's encryption_key= add it; see the AWS pages on CloudWatch Logs and SQS key management.",
    "Encrypt log data in CloudWatch Logs using AWS KMS",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
)
# the SQS side of KEY_POLICY: "Key management", Amazon SQS developer guide
SQS_KEY_SOURCE = (
    "Key management (Amazon SQS)",
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html",
)

DEPLOY_RULES: tuple[DeployRule, ...] = (
    ROLE,
    SQS_VISIBILITY,
    DUPLICATE_MAPPING,
    DUPLICATE_URL,
    PROVISIONED,
    SNAPSTART,
    FUNCTION_NAME,
    ALARM_NAME,
    LEDGER,
    KEY_POLICY,
)

# ------------------------------------------------------------------ AWS managed policies (their action lists)

_LOGS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
_VPC_ENI = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
# Lambda's ENIs in a Kafka cluster's VPC: the list KafkaConsumer grants (core/limits.py)
_KAFKA_ENI = limits.KAFKA_VPC_ACTIONS
_XRAY_WRITE = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
)
# Each as published in the "AWS managed policy reference guide",
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html (all Resource "*").
MANAGED_POLICIES: dict[str, tuple[str, ...]] = {
    "AWSLambdaBasicExecutionRole": _LOGS,
    "AWSLambdaVPCAccessExecutionRole": _LOGS + _VPC_ENI,
    "AWSXRayDaemonWriteAccess": _XRAY_WRITE,
    "AWSLambdaSQSQueueExecutionRole": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS),
    "AWSLambdaKinesisExecutionRole": (
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "kinesis:ListStreams",
        "kinesis:SubscribeToShard",
        *_LOGS,
    ),
    "AWSLambdaDynamoDBExecutionRole": (
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        *_LOGS,
    ),
    "AWSLambdaMSKExecutionRole": (
        "kafka:DescribeCluster",
        "kafka:DescribeClusterV2",
        "kafka:GetBootstrapBrokers",
        *_KAFKA_ENI,
        *_LOGS,
    ),
}

# Broad AWS managed policies a role may carry instead ("AWS managed policy reference guide"): each as one
# statement; any other managed policy not in the template makes the role unreadable (not judged).
BROAD_MANAGED_POLICIES: dict[str, Mapping[str, Any]] = {
    "AdministratorAccess": {"Effect": "Allow", "Action": "*", "Resource": "*"},
    "PowerUserAccess": {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
    "AmazonSQSFullAccess": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
    "AmazonSNSFullAccess": {"Effect": "Allow", "Action": "sns:*", "Resource": "*"},
    "AmazonKinesisFullAccess": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"},
    "AmazonS3FullAccess": {"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"},
    "AWSXrayWriteOnlyAccess": {
        "Effect": "Allow",
        "Action": list(_XRAY_WRITE),
        "Resource": "*",
    },
    "AWSLambdaENIManagementAccess": {
        "Effect": "Allow",
        "Action": [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
        ],
        "Resource": "*",
    },
}

# ------------------------------------------------------------------ what a configuration requires

# "Giving Lambda functions access to resources in an Amazon VPC": Lambda checks these at CreateFunction
# (DescribeNetworkInterfaces works only on Resource "*").
VPC_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface")
# "Using Lambda with Amazon SQS" (execution role permissions)
SQS_POLL = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
# "Using Lambda with Kinesis Data Streams" (execution role permissions); SubscribeToShard for a consumer
KINESIS_POLL = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
# "Using AWS Lambda with Amazon DynamoDB" (execution role permissions)
DYNAMODB_POLL = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
DYNAMODB_LIST = ("dynamodb:ListStreams",)
# "Using Lambda with Amazon MSK" (execution role permissions): the cluster, and ENIs in its VPC
MSK_POLL = ("kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers", *_KAFKA_ENI)
# "Capturing records of Lambda asynchronous invocations" / stream on-failure destinations
DESTINATION_ACTIONS = {
    "sqs": ("sqs:SendMessage",),
    "sns": ("sns:Publish",),
    "lambda": ("lambda:InvokeFunction",),
    "events": ("events:PutEvents",),
    "s3": ("s3:PutObject", "s3:ListBucket"),
}
# "Visualize Lambda function invocations using AWS X-Ray"
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
EFS_ACTIONS = ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite")  # "Configuring file system access"

_SERVICE_OF_TYPE = {
    "AWS::SQS::Queue": "sqs",
    "AWS::SNS::Topic": "sns",
    "AWS::Lambda::Function": "lambda",
    "AWS::Lambda::Alias": "lambda",
    "AWS::Lambda::Version": "lambda",
    "AWS::Events::EventBus": "events",
    "AWS::S3::Bucket": "s3",
    "AWS::Kinesis::Stream": "kinesis",
    "AWS::Kinesis::StreamConsumer": "kinesis-consumer",
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::DynamoDB::GlobalTable": "dynamodb",
    "AWS::MSK::Cluster": "kafka",
    "AWS::MSK::ServerlessCluster": "kafka",
    "AWS::KMS::Key": "kms",
}


@dataclass(frozen=True)
class Need:
    """One action the role must allow; ``resource`` is what it is needed on (None: not compared)."""

    action: str
    resource: Any
    why: str


# ------------------------------------------------------------------ IAM matching


def _pattern(glob: str, *, ignore_case: bool) -> re.Pattern[str]:
    """An IAM wildcard (``*`` any run, ``?`` one character) as a regular expression."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", re.IGNORECASE if ignore_case else 0)


def action_matches(granted: str, action: str) -> bool:
    """IAM action matching: case-insensitive, ``*`` and ``?`` wildcards (``sqs:*``, ``sqs:Receive*``, ``*``)."""
    return bool(_pattern(granted, ignore_case=True).match(action))


def _literal(value: Any) -> str | None:
    """A string value, with Fn::Join of literal parts joined; None when a token (Ref, GetAtt, Sub ...) is inside."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and list(value) == ["Fn::Join"]:
        sep, parts = value["Fn::Join"]
        pieces = [_literal(p) for p in parts]
        return None if any(p is None for p in pieces) else str(sep).join(p for p in pieces if p is not None)
    return None


def _sole_ref(value: Any) -> str | None:
    """The logical id of a plain ``Fn::GetAtt [id, Arn]`` (nothing around it), else None."""
    if isinstance(value, Mapping) and list(value) == ["Fn::GetAtt"]:
        target = value["Fn::GetAtt"]
        if isinstance(target, list) and len(target) == 2 and target[1] in ("Arn", "StreamArn"):
            return str(target[0])
    return None


def resource_matches(granted: Any, needed: Any) -> bool:
    """Whether a statement resource covers the needed one.

    Both literal ARNs: IAM wildcard matching (case-sensitive). A token on either side counts as
    granted, except two plain ``Fn::GetAtt`` of different resources, which are different ARNs.
    """
    if needed is None:
        return True
    g, n = _literal(granted), _literal(needed)
    if g is not None and n is not None:
        return bool(_pattern(g, ignore_case=False).match(n))
    if g == "*":
        return True
    g_ref, n_ref = _sole_ref(granted), _sole_ref(needed)
    return not (g_ref is not None and n_ref is not None and g_ref != n_ref)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _statement_allows(statement: Mapping[str, Any], need: Need) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        if any(isinstance(a, str) and action_matches(a, need.action) for a in _as_list(statement["NotAction"])):
            return False
    elif not any(isinstance(a, str) and action_matches(a, need.action) for a in _as_list(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        return True  # everything but some resources: treated as granted
    return any(resource_matches(r, need.resource) for r in _as_list(statement.get("Resource")))


def _managed_policy_name(arn: Any) -> str | None:
    text = _flatten(arn)
    match = re.search(r":iam::aws:policy/(?:.*/)?([A-Za-z0-9+=,.@_-]+)$", text)
    return match.group(1) if match else None


def _flatten(value: Any) -> str:
    """A string with every token inside replaced by ``*`` (enough to read a managed policy ARN's name)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(_flatten(p) for p in parts)
    if isinstance(value, Mapping) and "Fn::Sub" in value:
        body = value["Fn::Sub"]
        return re.sub(r"\$\{[^}]*\}", "*", body if isinstance(body, str) else str(body[0]))
    return "*"


class UnreadablePolicy(Exception):
    """A policy attached to the role whose statements the template does not hold (an unknown managed policy)."""


def role_statements(template: Template, role_id: str) -> list[Mapping[str, Any]]:
    """Every statement that applies to the role: inline, AWS::IAM::Policy / RolePolicy / ManagedPolicy attached,
    AWS managed. Raises `UnreadablePolicy` for a managed policy this module does not know the actions of."""
    resources = template.get("Resources", {})
    role = props(resources.get(role_id, {}))
    statements: list[Mapping[str, Any]] = []
    for policy in role.get("Policies") or []:
        statements += _as_list((policy.get("PolicyDocument") or {}).get("Statement"))
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in resources_of(template, kind).values():
            if role_id in set(refs(props(policy).get("Roles"))):
                statements += _as_list((props(policy).get("PolicyDocument") or {}).get("Statement"))
    for policy in resources_of(template, "AWS::IAM::RolePolicy").values():
        if role_id in set(refs(props(policy).get("RoleName"))):
            statements += _as_list((props(policy).get("PolicyDocument") or {}).get("Statement"))
    for arn in role.get("ManagedPolicyArns") or []:
        in_template = [rid for rid in refs(arn) if resources.get(rid, {}).get("Type") == "AWS::IAM::ManagedPolicy"]
        for rid in in_template:
            statements += _as_list((props(resources[rid]).get("PolicyDocument") or {}).get("Statement"))
        name = _managed_policy_name(arn)
        if name in MANAGED_POLICIES:
            statements.append({"Effect": "Allow", "Action": list(MANAGED_POLICIES[name]), "Resource": "*"})
        elif name in BROAD_MANAGED_POLICIES:
            statements.append(BROAD_MANAGED_POLICIES[name])
        elif not in_template:
            raise UnreadablePolicy(_flatten(arn))
    return statements


def role_of(template: Template, function_id: str) -> str | None:
    """The logical id of the function's role when it is an AWS::IAM::Role of this template, else None."""
    resources = template.get("Resources", {})
    for rid in refs(props(resources.get(function_id, {})).get("Role")):
        if resources.get(rid, {}).get("Type") == "AWS::IAM::Role":
            return rid
    return None


# ------------------------------------------------------------------ needs


def _service_of(template: Template, arn: Any) -> str | None:
    """Which service an ARN (a reference into the template or a literal ARN) belongs to."""
    resources = template.get("Resources", {})
    for rid in refs(arn):
        kind = resources.get(rid, {}).get("Type")
        if kind in _SERVICE_OF_TYPE:
            return _SERVICE_OF_TYPE[kind]
    text = _literal(arn) or _flatten(arn)
    match = re.match(r"arn:[^:*]*:([a-z0-9-]+):", text) or re.match(r"arn:\*:([a-z0-9-]+):", text)
    if not match:
        return None
    service = match.group(1)
    if service == "kinesis" and "/consumer/" in text:
        return "kinesis-consumer"
    return service


def _destination_needs(template: Template, arn: Any, why: str) -> list[Need]:
    service = _service_of(template, arn)
    actions = DESTINATION_ACTIONS.get(service or "", ())
    needs = []
    for action in actions:
        resource: Any = arn
        if action == "s3:PutObject":
            literal = _literal(arn)
            resource = f"{literal}/*" if literal is not None else None
        needs.append(Need(action, resource, why))
    return needs


def _queue_key(template: Template, arn: Any) -> Any:
    """The KMS key of an SQS queue in the template that ``arn`` references (None: SSE-SQS, aws/sqs or none)."""
    resources = template.get("Resources", {})
    for rid in refs(arn):
        queue = resources.get(rid, {})
        if queue.get("Type") == "AWS::SQS::Queue":
            key = props(queue).get("KmsMasterKeyId")
            if key is None or (isinstance(key, str) and key.startswith("alias/aws/")):
                return None
            return _key_arn(template, key)
    return None


def _key_arn(template: Template, key: Any) -> Any:
    resources = template.get("Resources", {})
    for rid in refs(key):
        if resources.get(rid, {}).get("Type") == "AWS::KMS::Key":
            return {"Fn::GetAtt": [rid, "Arn"]}
    return key


def needs_of(template: Template, function_id: str) -> list[Need]:
    """Every action the function's configuration requires of its execution role."""
    p = props(template.get("Resources", {}).get(function_id, {}))
    needs: list[Need] = []
    if (p.get("VpcConfig") or {}).get("SubnetIds"):
        needs += [Need(a, None, "VpcConfig (ENIs, checked at CreateFunction)") for a in VPC_ACTIONS]
    if (p.get("TracingConfig") or {}).get("Mode") == "Active":
        needs += [Need(a, None, "TracingConfig Active") for a in XRAY_ACTIONS]
    if p.get("FileSystemConfigs"):
        needs += [Need(a, None, "FileSystemConfigs (EFS mount)") for a in EFS_ACTIONS]
    # KmsKeyArn (environment variables) is not a need of the role: Lambda creates a KMS grant for the
    # execution role when it creates the function ("Securing Lambda environment variables"; "Grants in AWS KMS").
    target = (p.get("DeadLetterConfig") or {}).get("TargetArn")
    if target is not None:
        needs += _destination_needs(template, target, "DeadLetterConfig")
    for config in resources_of(template, "AWS::Lambda::EventInvokeConfig").values():
        cp = props(config)
        if function_of(template, cp.get("FunctionName")) != function_id:
            continue
        for outcome in ("OnSuccess", "OnFailure"):
            dest = ((cp.get("DestinationConfig") or {}).get(outcome) or {}).get("Destination")
            if dest is not None:
                needs += _destination_needs(template, dest, f"EventInvokeConfig {outcome}")
    for mapping_id, mapping in sorted(resources_of(template, MAPPING).items()):
        mp = props(mapping)
        if function_of(template, mp.get("FunctionName")) != function_id:
            continue
        needs += _mapping_needs(template, mapping_id, mp)
    return needs


def _mapping_needs(template: Template, mapping_id: str, mp: Mapping[str, Any]) -> list[Need]:
    source = mp.get("EventSourceArn")
    why = f"event source mapping {mapping_id}"
    needs: list[Need] = []
    if source is not None:
        service = _service_of(template, source)
        if service == "sqs":
            needs += [Need(a, source, why) for a in SQS_POLL]
            key = _queue_key(template, source)
            if key is not None:
                needs.append(Need("kms:Decrypt", key, f"{why}: the queue's customer-managed key"))
        elif service == "kinesis":
            needs += [Need(a, source, why) for a in KINESIS_POLL]
        elif service == "kinesis-consumer":
            needs += [Need("kinesis:SubscribeToShard", source, why)]
        elif service == "dynamodb":
            needs += [Need(a, source, why) for a in DYNAMODB_POLL]
            needs += [Need(a, None, why) for a in DYNAMODB_LIST]
        elif service == "kafka":
            needs += [Need(a, source if a.startswith("kafka:") else None, why) for a in MSK_POLL]
    elif mp.get("SelfManagedEventSource") is not None:
        needs += _self_managed_kafka_needs(mp, why)
    on_failure = ((mp.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if on_failure is not None:
        needs += _destination_needs(template, on_failure, f"{why} OnFailure")
    return needs


# "Using Lambda with self-managed Apache Kafka" (execution role permissions): the secret of each
# authentication method, and ENIs when the brokers are reached through a VPC
KAFKA_SECRET_TYPES = (
    "BASIC_AUTH",
    "SASL_SCRAM_256_AUTH",
    "SASL_SCRAM_512_AUTH",
    "CLIENT_CERTIFICATE_TLS_AUTH",
    "SERVER_ROOT_CA_CERTIFICATE",
)
KAFKA_VPC_ACTIONS = _KAFKA_ENI


def _self_managed_kafka_needs(mp: Mapping[str, Any], why: str) -> list[Need]:
    needs: list[Need] = []
    configs = _as_list(mp.get("SourceAccessConfigurations"))
    for config in configs:
        if isinstance(config, Mapping) and config.get("Type") in KAFKA_SECRET_TYPES:
            needs.append(Need("secretsmanager:GetSecretValue", config.get("URI"), f"{why}: {config['Type']} secret"))
    if any(isinstance(c, Mapping) and c.get("Type") == "VPC_SUBNET" for c in configs):
        needs += [Need(a, None, f"{why}: brokers in a VPC") for a in KAFKA_VPC_ACTIONS]
    return needs


def _key_policy_statements(template: Template, role_id: str, needs: Iterable[Need]) -> list[Mapping[str, Any]]:
    """Statements of KMS key policies in the template that name the role as principal (scoped to that key).

    A key policy may grant the role directly, with no IAM statement ("Key policies in AWS KMS").
    """
    resources = template.get("Resources", {})
    found: list[Mapping[str, Any]] = []
    for key_id in {rid for need in needs if need.action.startswith("kms:") for rid in refs(need.resource)}:
        key = resources.get(key_id, {})
        if key.get("Type") != "AWS::KMS::Key":
            continue
        for statement in _as_list((props(key).get("KeyPolicy") or {}).get("Statement")):
            principal = statement.get("Principal") if isinstance(statement, Mapping) else None
            aws = principal.get("AWS") if isinstance(principal, Mapping) else None
            if role_id in set(refs(aws)):
                found.append({**statement, "Resource": {"Fn::GetAtt": [key_id, "Arn"]}})
    return found


def missing_actions(template: Template, function_id: str) -> list[Need] | None:
    """The needs no statement of the role grants; None when the role is not in the template (imported)."""
    role_id = role_of(template, function_id)
    if role_id is None:
        return None
    needs = needs_of(template, function_id)
    try:
        statements = role_statements(template, role_id) + _key_policy_statements(template, role_id, needs)
    except UnreadablePolicy:
        return None  # a managed policy whose actions are not known here: the role cannot be judged, so it is not
    return [need for need in needs if not any(_statement_allows(s, need) for s in statements)]


# ------------------------------------------------------------------ per-template rules


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _timeout(template: Template, function_id: str) -> int | None:
    return _number(props(template.get("Resources", {}).get(function_id, {})).get("Timeout", 3))


def _mapping_source(template: Template, mp: Mapping[str, Any]) -> str | None:
    """A comparable identity of a mapping's source: the logical id it references, or the literal ARN."""
    ids = list(refs(mp.get("EventSourceArn")))
    if ids:
        return "ref:" + ids[0]
    literal = _literal(mp.get("EventSourceArn"))
    return "arn:" + literal if literal else None


def _qualifier_of(template: Template, value: Any) -> str:
    """$LATEST, or the alias/version logical id a FunctionName / TargetFunctionArn value points at."""
    resources = template.get("Resources", {})
    for rid in refs(value):
        if resources.get(rid, {}).get("Type") in (ALIAS, VERSION):
            return rid
    return "$LATEST"


def _provisioned(resource: Mapping[str, Any]) -> int:
    config = props(resource).get("ProvisionedConcurrencyConfig") or {}
    return _number(config.get("ProvisionedConcurrentExecutions")) or 0


SNAPSTART_RUNTIME = re.compile(r"^(java(1[1-9]|[2-9]\d)|python3\.(1[2-9]|[2-9]\d)|dotnet([89]|\d\d))")


def template_findings(template: Template, stack: str = "") -> list[Finding]:
    """The per-template deploy rules on one template."""
    found = _role_findings(template, stack)
    found += _mapping_findings(template, stack)
    found += _url_findings(template, stack)
    provisioned, totals = _provisioned_findings(template, stack)
    return found + provisioned + _snapstart_findings(template, stack, totals) + _key_policy_findings(template, stack)


LOGS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
SENDER_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


def _template_key(template: Template, value: Any) -> str | None:
    """The logical id of the AWS::KMS::Key of this template that ``value`` (a KmsKeyId) references."""
    resources = template.get("Resources", {})
    for rid in refs(value):
        if resources.get(rid, {}).get("Type") == "AWS::KMS::Key":
            return rid
    return None


def _services(principal: Any) -> list[str]:
    """The service principals of a key-policy statement, tokens flattened to ``*`` (``logs.*.amazonaws.com``)."""
    if not isinstance(principal, Mapping):
        return []
    return [_flatten(v) for v in _as_list(principal.get("Service"))]


def key_allows_service(template: Template, key_id: str, service: str, actions: Iterable[str]) -> bool:
    """Whether the key's policy has Allow statements naming ``service`` (an IAM wildcard) for every action."""
    statements = _as_list((props(template["Resources"][key_id]).get("KeyPolicy") or {}).get("Statement"))
    granted = [
        st
        for st in statements
        if isinstance(st, Mapping)
        and st.get("Effect") == "Allow"
        and any(
            _pattern(name, ignore_case=True).match(service) or _pattern(service, ignore_case=True).match(name)
            for name in _services(st.get("Principal"))
        )
    ]
    return all(
        any(isinstance(a, str) and action_matches(a, action) for st in granted for a in _as_list(st.get("Action")))
        for action in actions
    )


def _queue_senders(template: Template) -> dict[str, set[str]]:
    """Queue logical id -> the AWS services that send to it: SNS subscriptions (and their DLQs), EventBridge
    rule targets (and their DLQs), S3 event notifications."""
    senders: dict[str, set[str]] = defaultdict(set)
    for sub in resources_of(template, "AWS::SNS::Subscription").values():
        sp = props(sub)
        if sp.get("Protocol") == "sqs":
            for rid in refs(sp.get("Endpoint")):
                senders[rid].add("sns.amazonaws.com")
        redrive = sp.get("RedrivePolicy")
        if isinstance(redrive, Mapping):
            for rid in refs(redrive.get("deadLetterTargetArn")):
                senders[rid].add("sns.amazonaws.com")
    for rule in resources_of(template, "AWS::Events::Rule").values():
        for target in _as_list(props(rule).get("Targets")):
            if isinstance(target, Mapping):
                for rid in refs(target.get("Arn")):
                    senders[rid].add("events.amazonaws.com")
                for rid in refs((target.get("DeadLetterConfig") or {}).get("Arn")):
                    senders[rid].add("events.amazonaws.com")
    for rid in _notified_queues(template):
        senders[rid].add("s3.amazonaws.com")
    return senders


def _notified_queues(template: Template) -> list[str]:
    """Queues S3 event notifications send to: a bucket's own NotificationConfiguration or aws-cdk-lib's
    ``Custom::S3BucketNotifications``."""
    configs = [props(b).get("NotificationConfiguration") for b in resources_of(template, "AWS::S3::Bucket").values()]
    configs += [
        props(c).get("NotificationConfiguration")
        for c in resources_of(template, "Custom::S3BucketNotifications").values()
    ]
    queues = [
        queue_config.get("Queue") or queue_config.get("QueueArn")
        for config in configs
        if isinstance(config, Mapping)
        for queue_config in _as_list(config.get("QueueConfigurations"))
        if isinstance(queue_config, Mapping)
    ]
    return [rid for queue in queues for rid in refs(queue)]


def _key_policy_findings(template: Template, stack: str) -> list[Finding]:
    """Log groups and queues whose customer-managed key (in this template) the service that needs it may not use.

    A key of another stack or an imported key cannot be read here: not flagged.
    """
    found = []
    for gid, group in sorted(resources_of(template, "AWS::Logs::LogGroup").items()):
        key_id = _template_key(template, props(group).get("KmsKeyId"))
        if key_id and not key_allows_service(template, key_id, "logs.*.amazonaws.com", LOGS_KEY_ACTIONS):
            detail = f"key {key_id} lets no logs.<region>.amazonaws.com statement {', '.join(LOGS_KEY_ACTIONS)}"
            found.append(Finding(KEY_POLICY.id, stack, gid, detail))
    senders = _queue_senders(template)
    for qid, queue in sorted(resources_of(template, "AWS::SQS::Queue").items()):
        key_id = _template_key(template, props(queue).get("KmsMasterKeyId"))
        if not key_id:
            continue
        missing = sorted(
            service
            for service in senders.get(qid, ())
            if not key_allows_service(template, key_id, service, SENDER_KEY_ACTIONS)
        )
        if missing:
            detail = (
                f"key {key_id} does not let {', '.join(missing)} {' and '.join(SENDER_KEY_ACTIONS)}, "
                f"which send to this queue ({SQS_KEY_SOURCE[0]}: {SQS_KEY_SOURCE[1]})"
            )
            found.append(Finding(KEY_POLICY.id, stack, qid, detail))
    return found


def _role_findings(template: Template, stack: str) -> list[Finding]:
    from lambda_constructs.core.report import is_framework_function

    found = []
    for fid in sorted(resources_of(template, FUNCTION)):
        if is_framework_function(template, fid):
            continue
        missing = missing_actions(template, fid)
        if missing:
            detail = "; ".join(f"{n.action} ({n.why})" for n in missing)
            found.append(Finding(ROLE.id, stack, fid, f"the role {role_of(template, fid)} does not allow {detail}"))
    return found


def _mapping_findings(template: Template, stack: str) -> list[Finding]:
    """SQS visibility >= function timeout; one mapping per (source, function)."""
    resources = template.get("Resources", {})
    found = []
    seen: dict[tuple[str, str], str] = {}
    for mid, mapping in sorted(resources_of(template, MAPPING).items()):
        mp = props(mapping)
        fid_or_none = function_of(template, mp.get("FunctionName"))
        for rid in refs(mp.get("EventSourceArn")):
            queue = resources.get(rid, {})
            if queue.get("Type") == "AWS::SQS::Queue" and fid_or_none is not None:
                visibility = _number(props(queue).get("VisibilityTimeout", 30))
                timeout = _timeout(template, fid_or_none)
                if visibility is not None and timeout is not None and visibility < timeout:
                    found.append(
                        Finding(
                            SQS_VISIBILITY.id,
                            stack,
                            mid,
                            f"queue {rid} VisibilityTimeout {visibility} s < "
                            f"function {fid_or_none} Timeout {timeout} s",
                        )
                    )
        source = _mapping_source(template, mp)
        service = _service_of(template, mp.get("EventSourceArn")) if mp.get("EventSourceArn") is not None else None
        if source is None or service not in ("sqs", "kinesis", "kinesis-consumer", "dynamodb"):
            continue  # Kafka: one cluster may feed several mappings (topics, consumer groups)
        # Lambda refuses a mapping whose (EventSourceArn, FunctionArn) exists; an alias or version is
        # another function ARN, so the qualifier is part of the pair
        target = fid_or_none or str(_literal(mp.get("FunctionName")))
        key = (source, f"{target}:{_qualifier_of(template, mp.get('FunctionName'))}")
        if key in seen:
            found.append(Finding(DUPLICATE_MAPPING.id, stack, mid, f"same source and function as {seen[key]}"))
        else:
            seen[key] = mid
    return found


def _url_findings(template: Template, stack: str) -> list[Finding]:
    """One Function URL per (function, qualifier)."""
    found = []
    urls: dict[tuple[str, str], str] = {}
    for uid, url in sorted(resources_of(template, URL).items()):
        up = props(url)
        fn = function_of(template, up.get("TargetFunctionArn")) or str(_literal(up.get("TargetFunctionArn")))
        qualifier = up.get("Qualifier") or _qualifier_of(template, up.get("TargetFunctionArn"))
        if isinstance(qualifier, Mapping):
            qualifier = _qualifier_of(template, qualifier)
        key = (fn, str(qualifier))
        if key in urls:
            detail = f"function {fn} qualifier {qualifier} already has {urls[key]}"
            found.append(Finding(DUPLICATE_URL.id, stack, uid, detail))
        else:
            urls[key] = uid
    return found


def _provisioned_findings(template: Template, stack: str) -> tuple[list[Finding], dict[str, int]]:
    """Provisioned concurrency: not on $LATEST; the function's total <= its reserved concurrency."""
    resources = template.get("Resources", {})
    found = []
    totals: dict[str, int] = defaultdict(int)
    qualifiers: dict[str, list[str]] = defaultdict(list)
    for qid, qualifier in sorted({**resources_of(template, ALIAS), **resources_of(template, VERSION)}.items()):
        pc = _provisioned(qualifier)
        if not pc:
            continue
        qp = props(qualifier)
        if qualifier.get("Type") == ALIAS and qp.get("FunctionVersion") == "$LATEST":
            found.append(Finding(PROVISIONED.id, stack, qid, "provisioned concurrency on an alias of $LATEST"))
            continue
        fid = function_of(template, qp.get("FunctionName"))
        if fid is not None:
            totals[fid] += pc
            qualifiers[fid].append(qid)
    for fid, total in totals.items():
        reserved = _number(props(resources.get(fid, {})).get("ReservedConcurrentExecutions"))
        if reserved is not None and total > reserved:
            for qid in qualifiers[fid]:
                found.append(
                    Finding(PROVISIONED.id, stack, qid, f"provisioned {total} > reserved {reserved} on function {fid}")
                )
    return found, totals


def _snapstart_findings(template: Template, stack: str, totals: Mapping[str, int]) -> list[Finding]:
    resources = template.get("Resources", {})
    found = []
    for fid in sorted(resources_of(template, FUNCTION)):
        p = props(resources[fid])
        if (p.get("SnapStart") or {}).get("ApplyOn") != "PublishedVersions":
            continue
        problems = []
        runtime = p.get("Runtime")
        if p.get("PackageType") == "Image" or "ImageUri" in (p.get("Code") or {}):
            problems.append("a container image")
        elif isinstance(runtime, str) and not SNAPSTART_RUNTIME.match(runtime):
            problems.append(f"runtime {runtime}")
        if p.get("FileSystemConfigs"):
            problems.append("Amazon EFS")
        storage = _number((p.get("EphemeralStorage") or {}).get("Size"))
        if storage is not None and storage > 512:
            problems.append(f"ephemeral storage {storage} MB")
        if fid in totals:
            problems.append("provisioned concurrency")
        if problems:
            found.append(Finding(SNAPSTART.id, stack, fid, "SnapStart with " + ", ".join(problems)))
    return found


# ------------------------------------------------------------------ app-wide: names and the ledger


def _env_groups(envs: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Account/region -> the stacks deployed there. An env-agnostic stack can land in any: it joins every group."""
    concrete = sorted({e for e in envs.values() if e})
    agnostic = [s for s, e in envs.items() if not e]
    if not concrete:
        return {"env-agnostic": list(envs)}
    return {env: [s for s, e in envs.items() if e == env] + agnostic for env in concrete}


def _env_of(stack: str, envs: Mapping[str, str | None]) -> str | None:
    """A nested stack (``parent/child``) deploys where its root stack does."""
    if stack in envs:
        return envs[stack]
    return envs.get(stack.split("/")[0])


@dataclass(frozen=True)
class Ledger:
    """The concurrency of one account and region: what ``report`` shows."""

    environment: str
    account_concurrency: int
    reserved: int
    provisioned: int
    provisioned_unreserved: int  # provisioned concurrency of functions with no reservation: from the unreserved pool
    stacks: tuple[str, ...]

    @property
    def unreserved_left(self) -> int:
        return self.account_concurrency - self.reserved - self.provisioned_unreserved

    @property
    def fits(self) -> bool:
        return self.unreserved_left >= UNRESERVED_MINIMUM


def _concurrency_of(template: Template) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Function -> reserved; qualifier -> provisioned; function -> provisioned total (concrete values only)."""
    reserved = {
        fid: value
        for fid, fn in resources_of(template, FUNCTION).items()
        if (value := _number(props(fn).get("ReservedConcurrentExecutions"))) is not None
    }
    provisioned: dict[str, int] = {}
    totals: dict[str, int] = defaultdict(int)
    for qid, q in {**resources_of(template, ALIAS), **resources_of(template, VERSION)}.items():
        pc = _provisioned(q)
        if pc:
            provisioned[qid] = pc
            fid = function_of(template, props(q).get("FunctionName"))
            totals[fid or qid] += pc
    return reserved, provisioned, dict(totals)


def ledger(
    templates: Mapping[str, Template],
    envs: Mapping[str, str | None] | None = None,
    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
) -> list[Ledger]:
    """The concurrency ledger per account and region across every stack (nested stacks included).

    Reserved concurrency comes out of the account's pool; provisioned concurrency of a function with a
    reservation comes out of that reservation, of one without from the unreserved pool; Lambda keeps
    100 unreserved ("Configuring reserved concurrency for a function", "Configuring provisioned
    concurrency for a function").
    """
    roots = {name: _env_of(name, envs or {}) for name in templates}
    result = []
    for env, stacks in _env_groups(roots).items():
        reserved = provisioned = from_unreserved = 0
        for name in stacks:
            r, p, totals = _concurrency_of(templates[name])
            reserved += sum(r.values())
            provisioned += sum(p.values())
            from_unreserved += sum(total for fid, total in totals.items() if fid not in r)
        result.append(Ledger(env, account_concurrency, reserved, provisioned, from_unreserved, tuple(stacks)))
    return result


def concurrency_value(value: Any) -> int | None:
    """The account's concurrency from a context value (an integer >= 100, or its digits); None if not one."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        return None
    number = int(str(value).strip())
    return number if number >= UNRESERVED_MINIMUM else None


def ledger_data(entries: Iterable[Ledger]) -> list[dict[str, Any]]:
    """What ``report --json`` prints under ``concurrency``: one object per account and region."""
    return [
        {
            "environment": e.environment,
            "account_concurrency": e.account_concurrency,
            "reserved": e.reserved,
            "provisioned": e.provisioned,
            "provisioned_outside_reservations": e.provisioned_unreserved,
            "unreserved_left": e.unreserved_left,
            "unreserved_minimum": UNRESERVED_MINIMUM,
            "fits": e.fits,
            "stacks": list(e.stacks),
        }
        for e in entries
    ]


# "quota": the account's concurrency; "from unreserved": provisioned concurrency of functions without a reservation
LEDGER_HEADER = ("environment", "quota", "reserved", "provisioned", "from unreserved", "unreserved left")


def _ledger_rows(entries: Iterable[Ledger]) -> list[tuple[str, ...]]:
    return [
        (
            e.environment,
            f"{e.account_concurrency:,}",
            f"{e.reserved:,}",
            f"{e.provisioned:,}",
            f"{e.provisioned_unreserved:,}",
            f"{e.unreserved_left:,}" + ("" if e.fits else f" (< {UNRESERVED_MINIMUM}: refused)"),
        )
        for e in entries
    ]


def format_ledger(entries: Iterable[Ledger], *, markdown: bool = False, width: int | None = None) -> str:
    """The concurrency ledger as a table (plain text within ``width``, or Markdown), one row per account and region."""
    rows = _ledger_rows(entries)
    if markdown:
        lines = ["| " + " | ".join(LEDGER_HEADER) + " |", "|" + "---|" * len(LEDGER_HEADER)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    return render(LEDGER_HEADER, rows, width=width, right=(1, 2, 3, 4))


def findings_data(findings: Iterable[Finding]) -> list[dict[str, str]]:
    """What ``report --json`` prints under ``deploy_findings``: each with its rule's fix and AWS source."""
    rules = by_id()
    return [
        {
            "rule": f"LambdaProduction-{f.rule}",
            "stack": f.stack,
            "logical_id": f.logical_id,
            "detail": f.detail,
            "fix": rules[f.rule].fix,
            "source": f"{rules[f.rule].source_title}, {rules[f.rule].source_url}",
        }
        for f in findings
    ]


def format_findings(findings: Iterable[Finding], *, width: int | None = None) -> str:
    """One line per deploy-contract finding, wrapped within ``width`` (empty when there is none)."""
    lines = [f"LambdaProduction-{f.rule}  {f.stack}/{f.logical_id}: {f.detail}" for f in findings]
    if width is None:
        return "\n".join(lines)
    return "\n".join(
        "\n".join(textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False)) for line in lines
    )


def app_findings(
    templates: Mapping[str, Template],
    envs: Mapping[str, str | None] | None = None,
    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
) -> list[Finding]:
    """The app-wide rules: unique function and alarm names per account and region, and the ledger."""
    roots = {name: _env_of(name, envs or {}) for name in templates}
    found: set[Finding] = set()
    for env, stacks in _env_groups(roots).items():
        for rule, kind, key in ((FUNCTION_NAME, FUNCTION, "FunctionName"), (ALARM_NAME, ALARM, "AlarmName")):
            owners: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for name in stacks:
                for rid, res in sorted(resources_of(templates[name], kind).items()):
                    value = props(res).get(key)
                    literal = _literal(value)
                    if literal:
                        owners[literal].append((name, rid))
                    elif value is not None:
                        # a name built from intrinsics: equal expressions in one stack resolve to one name
                        owners[f"{json.dumps(value, sort_keys=True)} in {name}"].append((name, rid))
            for value, where in owners.items():
                if len(where) > 1:
                    for name, rid in where:
                        others = ", ".join(f"{s}/{r}" for s, r in where if (s, r) != (name, rid))
                        found.add(Finding(rule.id, name, rid, f"{key} {value!r} also used by {others} in {env}"))
    for entry in ledger(templates, envs, account_concurrency):
        if entry.fits:
            continue
        detail = (
            f"{entry.environment}: reserved {entry.reserved} + provisioned outside reservations "
            f"{entry.provisioned_unreserved} leaves {entry.unreserved_left} unreserved of {entry.account_concurrency} "
            f"(Lambda keeps {UNRESERVED_MINIMUM})"
        )
        for name in entry.stacks:
            template = templates[name]
            r, p, _ = _concurrency_of(template)
            # the contributors: every reservation, and provisioned concurrency outside a reservation
            contributors = [fid for fid, value in r.items() if value]
            contributors += [
                q for q in p if function_of(template, props(template["Resources"][q]).get("FunctionName")) not in r
            ]
            for rid in contributors:
                found.add(Finding(LEDGER.id, name, rid, detail))
    return sorted(found, key=lambda f: (f.rule, f.stack, f.logical_id))


def evaluate_app(
    templates: Mapping[str, Template],
    envs: Mapping[str, str | None] | None = None,
    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
) -> list[Finding]:
    """Every deploy-contract finding of an app: stack name -> template (nested stacks as ``parent/child``)."""
    found = [f for name, template in templates.items() for f in template_findings(template, name)]
    return found + app_findings(templates, envs, account_concurrency)


def rule_ids(findings: Iterable[Finding]) -> set[str]:
    return {f.rule for f in findings}


def by_id() -> dict[str, DeployRule]:
    return {rule.id: rule for rule in DEPLOY_RULES}


def iter_rules() -> Iterator[DeployRule]:
    yield from DEPLOY_RULES


def stack_environments(assembly_dir: str | Path) -> dict[str, str | None]:
    """Stack artifact name -> ``account/region`` from a cloud assembly's manifest, None when env-agnostic.

    Nested stages are read too; a nested stack (``parent/child``) deploys where its parent does.
    """
    root = Path(assembly_dir)
    manifest = _read_json(root / "manifest.json")
    found: dict[str, str | None] = {}
    for name, artifact in (manifest.get("artifacts", {}) if isinstance(manifest, dict) else {}).items():
        if not isinstance(artifact, dict):
            continue
        if artifact.get("type") == "aws:cloudformation:stack":
            env = str(artifact.get("environment", "")).removeprefix("aws://")
            account, _, region = env.partition("/")
            unknown = ("", "unknown-account", "unknown-region")
            found[name] = None if account in unknown or region in unknown or "${" in env else f"{account}/{region}"
        elif artifact.get("type") == "cdk:cloud-assembly":
            directory = (artifact.get("properties") or {}).get("directoryName")
            if isinstance(directory, str):
                found.update(stack_environments(root / directory))
    return found


def evaluate_assembly(
    assembly_dir: str | Path, account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY
) -> list[Finding]:
    """Every deploy-contract finding of a cloud assembly (cdk.out), nested stacks and stages included."""
    return evaluate_app(load_templates(assembly_dir), stack_environments(assembly_dir), account_concurrency)
