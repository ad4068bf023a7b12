"""Customer-managed keys: ``default_encryption_key`` and ``encryption_key=`` on every construct that creates a
queue or a log group (KafkaConsumer and WebSocketEndpoint included), keys in other stacks, imported keys, and the
NIST 800-53 R5 / HIPAA findings a key removes. One app for the template assertions (module-scoped)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import HIPAASecurityChecks, NIST80053R5Checks
from constructs import Construct

import lambda_constructs
from lambda_constructs import (
    ConfigurationError,
    EdgeFunction,
    EventConsumer,
    FunctionFleet,
    HttpEndpoint,
    Invocation,
    KafkaConsumer,
    ProductionDefaults,
    ProductionFunction,
    QueueConsumer,
    RestEndpoint,
    S3Consumer,
    ScheduledFunction,
    StreamConsumer,
    TopicConsumer,
    WebSocketEndpoint,
    _keys,
    default_encryption_key,
)
from tests.conftest import INLINE

CLUSTER = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/6a3f1c2e-0b1d-4e5f-9a8b-7c6d5e4f3a2b-2"
IMPORTED = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WARNING = "lambda-constructs:kms-key-policy"


def _fn(scope: Any, id: str, **overrides: Any) -> ProductionFunction:
    props: dict[str, Any] = {"code": INLINE, "handler": "index.handler", "p99": cdk.Duration.seconds(1)}
    props.update(overrides)
    return ProductionFunction(scope, id, **props)


def _every_construct(stack: cdk.Stack, *, only: tuple[str, ...] | None = None, **key: Any) -> dict[str, Any]:
    """Every construct that creates a queue or a log group (``only`` those), each with ``key`` (none: the default)."""
    table = dynamodb.Table(
        stack,
        "T",
        partition_key=dynamodb.Attribute(name="k", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_IMAGE,
    )
    async_fn = _fn(stack, "Async", invocation=Invocation.ASYNC, **key)
    sync = _fn(stack, "Sync", **key)
    builders = {
        "queue": lambda: QueueConsumer(
            stack, "Orders", function=_fn(stack, "Worker", invocation=Invocation.QUEUE, **key), **key
        ),
        "stream": lambda: StreamConsumer(
            stack, "Clicks", function=_fn(stack, "Streamer", invocation=Invocation.STREAM, **key), table=table, **key
        ),
        "kafka": lambda: KafkaConsumer(
            stack,
            "Payments",
            function=_fn(stack, "KafkaWorker", invocation=Invocation.STREAM, **key),
            topic="payments",
            cluster_arn=CLUSTER,
            **key,
        ),
        "topic": lambda: TopicConsumer(
            stack,
            "Fanout",
            function=_fn(stack, "TopicWorker", invocation=Invocation.QUEUE, **key),
            topic=sns.Topic(stack, "Topic"),
            **key,
        ),
        "s3": lambda: S3Consumer(
            stack,
            "Uploads",
            function=_fn(stack, "S3Worker", invocation=Invocation.QUEUE, **key),
            bucket=s3.Bucket(stack, "Bucket"),
            via_queue=True,
            **key,
        ),
        "schedule": lambda: ScheduledFunction(
            stack, "Nightly", function=async_fn, schedule=events.Schedule.rate(cdk.Duration.hours(1)), **key
        ),
        "events": lambda: EventConsumer(
            stack, "OnOrder", function=async_fn, event_pattern=events.EventPattern(source=["orders"]), **key
        ),
        "http": lambda: HttpEndpoint(stack, "Http", function=sync, **key),
        "rest": lambda: RestEndpoint(stack, "Rest", function=_fn(stack, "RestFn", **key), routes=("GET /x",), **key),
        "websocket": lambda: WebSocketEndpoint(stack, "Chat", default=_fn(stack, "ChatFn", **key), **key),
    }
    return {name: build() for name, build in builders.items() if only is None or name in only}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("keys")
    app = cdk.App(outdir=str(tmp / "out"))
    made: dict[str, Any] = {"app": app}
    # 1. a stack default reaches every construct (and a fleet's nested stacks); the ones with nothing to
    #    encrypt ignore it; an explicit key wins
    keyed = cdk.Stack(app, "Keyed")
    key = kms.Key(keyed, "Key", enable_key_rotation=True)
    made["default_returned"] = default_encryption_key(keyed, key)
    made["keyed"], made["key"] = keyed, key
    made["constructs"] = _every_construct(keyed)
    S3Consumer(
        keyed, "Direct", function=_fn(keyed, "DirectFn", invocation=Invocation.ASYNC), bucket=s3.Bucket(keyed, "B2")
    )
    HttpEndpoint(keyed, "Url", function=_fn(keyed, "UrlFn"), kind="function_url")
    own = kms.Key(keyed, "Own", enable_key_rotation=True)
    made["own_fn"] = _fn(keyed, "OwnKey", invocation=Invocation.ASYNC, encryption_key=own)
    fleet = FunctionFleet(keyed, "Fleet", placement_file=tmp / "placement.json")

    def worker(scope: Construct, id: str) -> ProductionFunction:
        fn = _fn(scope, id, invocation=Invocation.QUEUE)
        QueueConsumer(scope, f"{id}Queue", function=fn)
        return fn

    made["fleet_worker"] = fleet.add("W1", worker)
    made["buckets"] = (  # the hook for buckets the library will create (an on-failure bucket)
        s3.Bucket(keyed, "KeyedBucket", **_keys.bucket_encryption(_keys.key_for(keyed, None))),
        s3.Bucket(cdk.Stack(app, "NoKey"), "PlainBucket", **_keys.bucket_encryption(None)),
    )
    # 2. a key in another stack, as the app's default
    keys = cdk.Stack(app, "Keys")
    shared = kms.Key(keys, "Shared", enable_key_rotation=True)
    made["keys"], made["shared"] = keys, shared
    default_encryption_key(app, shared)
    svc = cdk.Stack(app, "Svc")
    made["svc"] = svc
    made["svc_constructs"] = _every_construct(svc, only=("topic", "s3", "schedule"))
    # 3. an imported key: what can be added is added, the rest is a warning with the statement
    imported_stack = cdk.Stack(app, "Imported", env=cdk.Environment(account="123456789012", region="us-east-1"))
    default_encryption_key(imported_stack, kms.Key.from_key_arn(imported_stack, "Imported", IMPORTED))
    made["imported"] = imported_stack
    made["imported_constructs"] = _every_construct(imported_stack, only=("queue", "topic", "s3", "schedule", "http"))
    # 4. ProductionDefaults' log groups (functions the library did not build) take the default key too
    injected = cdk.Stack(app, "Injected")
    cdk.PropertyInjectors.of(injected).add(ProductionDefaults())
    made["injected"], made["injected_key"] = injected, kms.Key(injected, "Key", enable_key_rotation=True)
    default_encryption_key(injected, made["injected_key"])
    lambda_.Function(injected, "Raw", code=INLINE, handler="index.handler", runtime=lambda_.Runtime.PYTHON_3_13)
    app.synth()  # no cycle between Keys and Svc, none through the key policies
    return made


def _arn(key_logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [key_logical_id, "Arn"]}


def _lid(stack: cdk.Stack, construct: Any) -> str:
    return str(stack.resolve(stack.get_logical_id(construct.node.default_child)))


def _encryption(stack: cdk.Stack) -> dict[str, Any]:
    """Logical id -> the key of every queue and log group in ``stack``'s template."""
    tpl = Template.from_stack(stack)
    found = {**tpl.find_resources("AWS::SQS::Queue"), **tpl.find_resources("AWS::Logs::LogGroup")}
    keys = {lid: r["Properties"].get("KmsMasterKeyId") or r["Properties"].get("KmsKeyId") for lid, r in found.items()}
    for lid, r in tpl.find_resources("AWS::S3::Bucket").items():  # the library's on-failure buckets
        if "OnFailureBucket" in lid:
            rule = r["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            keys[lid] = rule["ServerSideEncryptionByDefault"].get("KMSMasterKeyID")
    return keys


def _key_statements(stack: cdk.Stack, key: kms.Key) -> list[dict[str, Any]]:
    resource = Template.from_stack(stack).find_resources("AWS::KMS::Key")[_lid(stack, key)]
    return list(resource["Properties"]["KeyPolicy"]["Statement"])


def _kms_grants(stack: cdk.Stack) -> dict[str, tuple[list[str], Any]]:
    """Policy logical id -> (kms actions, resource) of its kms statement."""
    grants = {}
    for lid, r in Template.from_stack(stack).find_resources("AWS::IAM::Policy").items():
        for statement in r["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith("kms:") for a in actions):
                grants[lid.removesuffix(lid[-8:]).removesuffix("ServiceRoleDefaultPolicy")] = (
                    actions,
                    statement["Resource"],
                )
    return grants


LOGS_STATEMENT = {
    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
    "Condition": {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":logs:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":log-group:*",
                    ],
                ]
            }
        }
    },
    "Effect": "Allow",
    "Principal": {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}},
    "Resource": "*",
}
EVENTS_STATEMENT = {
    "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
    "Effect": "Allow",
    "Principal": {"Service": "events.amazonaws.com"},
    "Resource": "*",
}
ACCOUNT = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_exported_from_the_package(app: dict[str, Any]) -> None:
    assert "default_encryption_key" in lambda_constructs.__all__
    assert lambda_constructs.default_encryption_key is default_encryption_key
    assert app["default_returned"] is app["key"]


def test_a_stack_default_encrypts_every_queue_and_log_group_the_library_creates(app: dict[str, Any]) -> None:
    stack = app["keyed"]
    found = _encryption(stack)
    own = _lid(stack, app["own_fn"].log_group), _lid(stack, app["own_fn"].failure_queue)
    # queues: Async failure, Orders 2, Payments on-failure, Fanout 3, Uploads 2, Nightly, OnOrder,
    # DirectFn's failure queue, OwnKey's failure queue = 13; Clicks' on-failure bucket; log groups: 12 functions
    # + HTTP, REST and WebSocket access logs = 15
    assert len(found) == 29
    assert {lid: v for lid, v in found.items() if lid not in own} == dict.fromkeys(
        set(found) - set(own), _arn(_lid(stack, app["key"]))
    )
    assert [found[lid] for lid in own] == [_arn(_lid(stack, app["own_fn"].encryption_key))] * 2  # explicit wins
    c = app["constructs"]
    assert c["kafka"].on_failure_bucket.encryption_key is app["key"]
    assert c["websocket"].access_log_group.node.default_child.kms_key_id is not None


def test_fleet_workers_in_nested_stacks_take_the_parent_stacks_default(app: dict[str, Any]) -> None:
    worker: ProductionFunction = app["fleet_worker"]
    nested = cdk.Stack.of(worker)
    assert nested is not app["keyed"]
    found = _encryption(nested)
    assert len(found) == 3  # the worker's log group, its queue and dead-letter queue
    refs = {json.dumps(v) for v in found.values()}
    assert len(refs) == 1 and "referencetoKeyedKey" in refs.pop()  # the parent's key, passed as a parameter


def test_the_key_policy_has_exactly_the_statements_the_services_need(app: dict[str, Any]) -> None:
    stack, key = app["keyed"], app["key"]
    statements = _key_statements(stack, key)
    topic = _lid(stack, app["constructs"]["topic"].topic)
    bucket = _lid(stack, app["constructs"]["s3"].bucket)
    assert statements.count(LOGS_STATEMENT) == 1  # one statement for the 14 log groups
    assert EVENTS_STATEMENT in statements
    assert {  # the subscription DLQ: SNS of this topic only
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Condition": {"ArnLike": {"aws:SourceArn": {"Ref": topic}}},
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Resource": "*",
    } in statements
    assert {  # S3 event notifications: this bucket of this account
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Condition": {"ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [bucket, "Arn"]}}, **ACCOUNT},
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Resource": "*",
    } in statements
    own = _key_statements(stack, app["own_fn"].encryption_key)
    assert own[1:] == [LOGS_STATEMENT]  # the function's own key: its log group only (the role sends)


def test_roles_are_granted_what_they_do_with_the_key(app: dict[str, Any]) -> None:
    key = _arn(_lid(app["keyed"], app["key"]))
    grants = _kms_grants(app["keyed"])
    sends = ["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
    # pollers decrypt; the async function (onFailure destination) sends with the function's role; the stream and
    # Kafka mappings write their on-failure buckets (SSE-KMS: a data key)
    assert grants["Worker"] == grants["TopicWorker"] == grants["S3Worker"] == (["kms:Decrypt"], key)
    assert grants["Async"] == (sends, key)
    assert grants["Streamer"] == grants["KafkaWorker"] == (["kms:GenerateDataKey"], key)
    assert "Sync" not in grants and "RestFn" not in grants  # nothing to send or poll


def test_a_key_in_another_stack_is_scoped_by_account_so_the_stacks_do_not_cycle(app: dict[str, Any]) -> None:
    svc, keys, shared = app["svc"], app["keys"], app["shared"]
    found = _encryption(svc)
    assert len(found) == 11  # queues: Async 1, Fanout 3, Uploads 2, Nightly 1; log groups of 4 functions
    assert {json.dumps(v) for v in found.values()} == {
        json.dumps({"Fn::ImportValue": f"Keys:ExportsOutputFnGetAttSharedDACC02AAArn{'C693039C'}"})
    }
    statements = _key_statements(keys, shared)
    assert "Svc" not in json.dumps(Template.from_stack(keys).to_json())  # Keys references nothing in Svc
    assert LOGS_STATEMENT in statements and EVENTS_STATEMENT in statements
    for service, actions in (
        ("sns", ["kms:GenerateDataKey", "kms:Decrypt"]),
        ("s3", ["kms:GenerateDataKey*", "kms:Decrypt"]),
    ):
        assert {
            "Action": actions,
            "Condition": ACCOUNT,
            "Effect": "Allow",
            "Principal": {"Service": f"{service}.amazonaws.com"},
            "Resource": "*",
        } in statements
    # the queue policy still names the bucket (it lives in Svc): the confused-deputy guard is kept
    queue_policies = json.dumps(Template.from_stack(svc).find_resources("AWS::SQS::QueuePolicy"))
    assert "aws:SourceArn" in queue_policies and "aws:SourceAccount" in queue_policies


def test_an_imported_default_key_warns_with_the_statement_and_grants_the_roles(app: dict[str, Any]) -> None:
    stack = app["imported"]
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(f".*{WARNING}.*"))
    texts = [str(w.entry.data) for w in warnings]
    logs = [t for t in texts if "CloudWatch Logs" in t]
    assert len(logs) == 6  # 5 functions + the HTTP API's access log group, one warning each
    statement = json.loads(
        logs[0].split("or the service cannot use the key: ", 1)[1].removesuffix(f" [ack: {WARNING}]")
    )
    assert statement["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:log-group:*"}
    }
    assert sum("events.amazonaws.com" in t for t in texts) == 1  # Nightly's rule DLQ
    assert sum("sns.amazonaws.com" in t for t in texts) == 1 and sum("s3.amazonaws.com" in t for t in texts) == 1
    assert all("is imported, so its key policy cannot be changed here" in t for t in texts)
    grants = _kms_grants(stack)  # what can be added is added: the roles' side
    assert grants["Worker"] == (["kms:Decrypt"], IMPORTED)


def test_production_defaults_log_groups_take_the_default_key(app: dict[str, Any]) -> None:
    stack, key = app["injected"], app["injected_key"]
    assert _encryption(stack) == {"RawLogGroupBC4C4088": _arn(_lid(stack, key))}
    assert LOGS_STATEMENT in _key_statements(stack, key)


def test_bucket_encryption_is_the_hook_for_buckets_the_library_will_create(app: dict[str, Any]) -> None:
    keyed, plain = app["buckets"]
    props = Template.from_stack(cdk.Stack.of(keyed)).find_resources("AWS::S3::Bucket")[_lid(cdk.Stack.of(keyed), keyed)]
    assert props["Properties"]["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {
                "BucketKeyEnabled": True,
                "ServerSideEncryptionByDefault": {
                    "KMSMasterKeyID": _arn(_lid(app["keyed"], app["key"])),
                    "SSEAlgorithm": "aws:kms",
                },
            }
        ]
    }
    plain_props = Template.from_stack(cdk.Stack.of(plain)).find_resources("AWS::S3::Bucket")
    assert next(iter(plain_props.values()))["Properties"]["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }


def test_default_encryption_key_refusals() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    key = kms.Key(stack, "K", enable_key_rotation=True)
    with pytest.raises(
        ConfigurationError, match=r"^default_encryption_key: scope=.* is invalid; allowed: an App, a Stage or a Stack"
    ):
        default_encryption_key(key, key)  # type: ignore[arg-type]
    with pytest.raises(
        ConfigurationError, match=r"^default_encryption_key\(S\): key='alias/mine' is invalid; allowed: an aws_kms.IKey"
    ):
        default_encryption_key(stack, "alias/mine")  # type: ignore[arg-type]
    rsa = kms.Key(stack, "Rsa", key_spec=kms.KeySpec.RSA_2048, key_usage=kms.KeyUsage.ENCRYPT_DECRYPT)
    with pytest.raises(
        ConfigurationError,
        match=r"^default_encryption_key\(S\): key='a RSA_2048 / ENCRYPT_DECRYPT key' is invalid; allowed: a "
        r"symmetric encryption key \(KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT\)$",
    ):
        default_encryption_key(stack, rsa)
    assert default_encryption_key(stack, key) is key
    assert default_encryption_key(stack, key) is key  # the same key again is fine
    with pytest.raises(
        ConfigurationError, match=r"allowed: the key already set for this scope \(one default per scope\)"
    ):
        default_encryption_key(stack, kms.Key(stack, "Other", enable_key_rotation=True))
    assert _keys.default_key(stack) is key  # the refused key did not replace it


@pytest.mark.parametrize(
    ("build", "pattern"),
    [
        (
            lambda s, fn: KafkaConsumer(s, "C", function=fn, topic="t", cluster_arn=CLUSTER, encryption_key="alias/x"),
            r"^S/C: encryption_key='alias/x' is invalid; allowed: an aws_kms.IKey",
        ),
        (
            lambda s, fn: WebSocketEndpoint(s, "C", default=fn, encryption_key=42),
            r"^S/C: encryption_key=42 is invalid; allowed: an aws_kms.IKey",
        ),
        (
            lambda s, fn: QueueConsumer(
                s,
                "C",
                function=fn,
                encryption_key=kms.Key(
                    s, "Mac", key_spec=kms.KeySpec.HMAC_256, key_usage=kms.KeyUsage.GENERATE_VERIFY_MAC
                ),
            ),
            r"^S/C: encryption_key='a HMAC_256 / GENERATE_VERIFY_MAC key' is invalid; allowed: a symmetric",
        ),
    ],
    ids=["kafka", "websocket", "hmac-key"],
)
def test_what_is_not_a_symmetric_key_is_refused(build: Any, pattern: str, request: pytest.FixtureRequest) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    invocation = {"kafka": Invocation.STREAM, "websocket": Invocation.SYNC}.get(
        request.node.callspec.id, Invocation.QUEUE
    )
    fn = _fn(stack, "Fn", invocation=invocation)
    with pytest.raises(ConfigurationError, match=pattern):
        build(stack, fn)
    assert stack.node.try_find_child("C") is None


def test_nist_and_hipaa_log_group_findings_are_gone_with_a_key(tmp_path: Path) -> None:
    """cdk-nag's NIST 800-53 R5 and HIPAA packs flag every library log group without a key
    (CloudWatchLogGroupEncrypted); the SSE-SQS queues pass their SQS rules already."""
    app = cdk.App(outdir=str(tmp_path / "nag"))
    for name in ("Plain", "Keyed"):
        stack = cdk.Stack(app, name)
        if name == "Keyed":
            default_encryption_key(stack, kms.Key(stack, "Key", enable_key_rotation=True))
        worker = _fn(stack, "Worker", invocation=Invocation.QUEUE)
        QueueConsumer(stack, "Jobs", function=worker)
        HttpEndpoint(stack, "Api", function=_fn(stack, "ApiFn"))
    Validations.of(app).add_plugins(NIST80053R5Checks(app), HIPAASecurityChecks(app))
    try:
        app.synth()
    except Exception as error:  # the packs' other findings (VPC, concurrency, ...) fail the synthesis
        if "ValidationFailed" not in str(error):
            raise
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    found: dict[str, set[str]] = {}
    for plugin in report["pluginReports"]:
        for v in plugin["violations"]:
            for c in v["violatingConstructs"]:
                found.setdefault(v["ruleName"], set()).add(c["constructPath"].split("/", 1)[0])
    encryption = {rule: stacks for rule, stacks in found.items() if "Encrypt" in rule or "SSE" in rule or "KMS" in rule}
    assert encryption == {
        "NIST.800.53.R5-CloudWatchLogGroupEncrypted": {"Plain"},
        "HIPAA.Security-CloudWatchLogGroupEncrypted": {"Plain"},
    }


def test_a_key_of_another_region_or_account_is_refused_before_anything_is_built() -> None:
    """KMS keys are regional and aws-cdk-lib references a key only within one environment: refused at
    construction (explicit or default), not left to a foreign error at synth or to the deploy."""
    app = cdk.App()
    eu = cdk.Stack(app, "Eu", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    us = cdk.Stack(app, "Us", env=cdk.Environment(account="123456789012", region="us-east-1"))
    other = cdk.Stack(app, "Other", env=cdk.Environment(account="210987654321", region="eu-west-1"))
    eu_key = kms.Key(eu, "Key", enable_key_rotation=True)
    fn = _fn(us, "Fn", invocation=Invocation.QUEUE)
    with pytest.raises(
        ConfigurationError,
        match=r"^Us/Jobs: encryption_key='a key in eu-west-1' is invalid; allowed: a key in the construct's region, "
        r"us-east-1$",
    ):
        QueueConsumer(us, "Jobs", function=fn, encryption_key=eu_key)
    with pytest.raises(ConfigurationError, match=r"^Us/Other: encryption_key='a key in eu-west-1'"):
        _fn(
            us, "Other", encryption_key=kms.Key.from_key_arn(us, "Imported", IMPORTED.replace("us-east-1", "eu-west-1"))
        )
    with pytest.raises(
        ConfigurationError,
        match=r"^Other/Fn: encryption_key='a key in account 123456789012' is invalid; allowed: a key of this app in "
        r"the construct's account, 210987654321$",
    ):
        _fn(other, "Fn", encryption_key=eu_key)
    sync = _fn(us, "Sync")
    default_encryption_key(app, eu_key)
    with pytest.raises(ConfigurationError, match=r"^Us/Api: default_encryption_key='a key in eu-west-1' is invalid"):
        HttpEndpoint(us, "Api", function=sync)
    assert [c.node.id for c in us.node.children if isinstance(c, Construct)].count("Jobs") == 0
    with pytest.raises(ConfigurationError, match=r"^Us/Edge: default_encryption_key='a key in eu-west-1' is invalid"):
        EdgeFunction(
            us,
            "Edge",
            code=INLINE,
            handler="index.handler",
            runtime=lambda_.Runtime.PYTHON_3_13,
            event_type=cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
            p99=cdk.Duration.millis(100),
        )
    # where the default does not apply (nothing to encrypt), it is not checked
    HttpEndpoint(us, "Url", function=sync, kind="function_url")
    _fn(eu, "EuFn")  # in the key's own region the default applies
    cross_account_import = kms.Key.from_key_arn(us, "PartnerKey", IMPORTED.replace("123456789012", "999999999999"))
    _fn(us, "Partner", encryption_key=cross_account_import)  # another account's key: its key policy decides
