"""ProductionFunction fits real functions: the whole FunctionOptions surface, IFunction use, refusals."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template
from aws_cdk.aws_ecr_assets import Platform

from lambda_constructs import ConfigurationError, Invocation, Powertools, ProductionFunction, ProvisionedConcurrency
from lambda_constructs.function import options
from lambda_constructs.function.powertools import NODE_LAYER_VERSION

ROOT = Path(__file__).resolve().parents[1]
HANDLER_DIR = str(ROOT / "handlers" / "orders_api")
IMAGE_DIR = str(ROOT / "tests" / "fixtures" / "image")


def _code() -> lambda_.Code:
    return lambda_.Code.from_asset(HANDLER_DIR)


def _fn(scope: Any, id: str = "Fn", **overrides: Any) -> ProductionFunction:
    props: dict[str, Any] = {"code": _code(), "handler": "app.handler", "p99": cdk.Duration.millis(200)}
    props.update(overrides)
    return ProductionFunction(scope, id, **props)


def _function_props(template: Template) -> dict[str, Any]:
    found = template.find_resources("AWS::Lambda::Function")
    ours = [r for lid, r in found.items() if lid.startswith("Fn")]
    assert len(ours) == 1
    return ours[0]["Properties"]


def _refused(build: Any, pattern: str) -> ConfigurationError:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError, match=pattern) as info:
        build(stack)
    assert len(stack.node.children) == before, "a refused construct left children behind"
    assert info.value.path == "S/Fn"
    return info.value


# ------------------------------------------------------------------ the surface table


def test_every_function_option_is_forwarded_or_owned() -> None:
    """Reads FunctionOptions from aws-cdk-lib itself: a new property fails here until it is classified."""
    from_cdk = set(inspect.signature(lambda_.FunctionOptions.__init__).parameters) - {"self"}
    classified = set(options.FORWARDED) | set(options.OWNED)
    assert from_cdk - classified == set(), "classify these in lambda_constructs/function/options.py and the docs"
    keywords = set(inspect.signature(ProductionFunction.__init__).parameters)
    missing = {name for name in options.FORWARDED if name in from_cdk} - keywords
    assert missing == set(), "forwarded options must be ProductionFunction keywords"
    assert set(options.OWNED) & keywords == {"timeout"}  # timeout= is our own (fixed, with a warning)


def test_docs_table_lists_every_function_option() -> None:
    text = (ROOT / "docs" / "production-function.md").read_text()
    from_cdk = set(inspect.signature(lambda_.FunctionOptions.__init__).parameters) - {"self"}
    assert {name for name in from_cdk if f"`{name}`" not in text} == set()


# ------------------------------------------------------------------ forwarded groups, one synth


@pytest.fixture(scope="module")
def surface() -> dict[str, Any]:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    sg = ec2.SecurityGroup(stack, "Sg", vpc=vpc, allow_all_outbound=False)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    layer = lambda_.LayerVersion(
        stack, "Pillow", code=_code(), compatible_runtimes=[lambda_.Runtime.PYTHON_3_14, lambda_.Runtime.PYTHON_3_13]
    )
    dlq = sqs.Queue(stack, "Dlq")
    success = sqs.Queue(stack, "Success")
    fn = _fn(
        stack,
        vpc=vpc,
        security_groups=[sg],
        layers=[layer],
        ephemeral_storage_size=cdk.Size.mebibytes(2048),
        environment_encryption=key,
        params_and_secrets=lambda_.ParamsAndSecretsLayerVersion.from_version(lambda_.ParamsAndSecretsVersions.V1_0_103),
        insights_version=lambda_.LambdaInsightsVersion.VERSION_1_0_333_0,
        dead_letter_queue=dlq,
        runtime_management_mode=lambda_.RuntimeManagementMode.AUTO,
        recursive_loop=lambda_.RecursiveLoop.TERMINATE,
        initial_policy=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/*"])],
        current_version_options=lambda_.VersionOptions(description="orders"),
        log_removal_policy=cdk.RemovalPolicy.RETAIN,
        powertools=Powertools(service="orders"),
        invocation=Invocation.ASYNC,
        on_success=destinations.SqsDestination(success),
    )
    bucket = s3.Bucket(stack, "Bucket")
    table = dynamodb.Table(
        stack, "Table", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )
    secret = secretsmanager.Secret(stack, "Secret")
    bucket.grant_read(fn)
    table.grant_read_write_data(fn)
    secret.grant_read(fn)
    key.grant_decrypt(fn)
    fn.connections.allow_to(ec2.Peer.ipv4("10.0.0.0/16"), ec2.Port.tcp(5432))
    return {"template": Template.from_stack(stack), "fn": fn, "stack": stack}


def test_forwarded_props_reach_the_function(surface: dict[str, Any]) -> None:
    props = _function_props(surface["template"])
    assert props["EphemeralStorage"] == {"Size": 2048}
    assert props["KmsKeyArn"] == {"Fn::GetAtt": [Match.string_like_regexp("Key"), "Arn"]} or "Key" in str(
        props["KmsKeyArn"]
    )
    assert len(props["VpcConfig"]["SubnetIds"]) == 2 and "Private" in str(props["VpcConfig"]["SubnetIds"])
    assert "Sg" in str(props["VpcConfig"]["SecurityGroupIds"])
    assert props["RuntimeManagementConfig"] == {"UpdateRuntimeOn": "Auto"}
    assert props["RecursiveLoop"] == "Terminate"
    assert "Dlq" in str(props["DeadLetterConfig"])
    layers = str(props["Layers"])
    assert "Pillow" in layers and "AWS-Parameters-and-Secrets-Lambda-Extension-Arm64" in layers
    assert "LambdaInsightsExtension-Arm64" in layers
    assert props["Environment"]["Variables"]["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"] == "2773"


def test_json_logs_at_info_by_default(surface: dict[str, Any]) -> None:
    props = _function_props(surface["template"])
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert props["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
    assert props["LoggingConfig"]["SystemLogLevel"] == "INFO"  # WARN would drop START/REPORT


def test_powertools_layer_and_environment(surface: dict[str, Any]) -> None:
    props = _function_props(surface["template"])
    # resolved at deploy time from Powertools' public SSM parameter for the runtime and architecture
    (ref,) = [layer["Ref"] for layer in props["Layers"] if "SsmParameterValue" in str(layer)]
    assert surface["template"].to_json()["Parameters"][ref] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": "/aws/service/powertools/python/arm64/python3.14/latest",
    }
    env = props["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "orders"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "orders"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_pinned_powertools_on_node_x86_uses_the_typescript_layer_in_the_stack_region() -> None:
    stack = cdk.Stack(cdk.App(), "S")  # env-agnostic: the region is a deploy-time reference
    _fn(
        stack,
        handler="index.handler",
        runtime=lambda_.Runtime.NODEJS_22_X,
        architecture=lambda_.Architecture.X86_64,
        powertools=Powertools(service="web", metrics_namespace="Shop", log_level="DEBUG", layer_version=44),
    )
    props = _function_props(Template.from_stack(stack))
    arn = (
        cdk.Stack.of(stack).resolve(props["Layers"][0]) if isinstance(props["Layers"][0], dict) else props["Layers"][0]
    )
    text = str(arn)
    assert "094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:" + str(NODE_LAYER_VERSION) in text
    assert "AWS::Region" in text and "AWS::Partition" in text
    assert props["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "Shop"


def test_powertools_refuses_a_runtime_without_a_layer() -> None:
    _refused(
        lambda s: _fn(s, runtime=lambda_.Runtime.JAVA_21, handler="a.B::handle", powertools=Powertools(service="x")),
        r"runtime='java21'.*Powertools publishes no layer",
    )


def test_user_on_success_beside_failure_queue_on_latest_and_live(surface: dict[str, Any]) -> None:
    configs = surface["template"].find_resources("AWS::Lambda::EventInvokeConfig")
    assert len(configs) == 2
    qualifiers = sorted(str(c["Properties"]["Qualifier"]) for c in configs.values())
    assert qualifiers[0] == "$LATEST"
    assert "'Fn::Select': [7" in qualifiers[1] and "FnLiveAlias" in qualifiers[1]  # "live", from the alias ARN
    for config in configs.values():
        destination = config["Properties"]["DestinationConfig"]
        assert "FnFailureQueue" in str(destination["OnFailure"])
        assert "Success" in str(destination["OnSuccess"])


def test_user_on_failure_replaces_the_failure_queue() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    mine = sqs.Queue(stack, "Mine")
    fn = _fn(stack, invocation=Invocation.ASYNC, on_failure=destinations.SqsDestination(mine))
    assert fn.failure_queue is None
    template = Template.from_stack(stack)
    for config in template.find_resources("AWS::Lambda::EventInvokeConfig").values():
        assert "Mine" in str(config["Properties"]["DestinationConfig"]["OnFailure"])
    assert not [k for k in template.find_resources("AWS::SQS::Queue") if "FailureQueue" in k]


def test_grants_go_to_the_execution_role(surface: dict[str, Any]) -> None:
    template: Template = surface["template"]
    role_policy = [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if "FnServiceRole" in str(p["Properties"]["Roles"])
    ]
    text = str(role_policy)
    for action in ("s3:GetObject*", "dynamodb:PutItem", "secretsmanager:GetSecretValue", "kms:Decrypt"):
        assert action in text, action


def test_connections_work_in_a_vpc(surface: dict[str, Any]) -> None:
    egress = surface["template"].find_resources("AWS::EC2::SecurityGroup")
    assert "5432" in str(egress)
    assert surface["fn"].is_bound_to_vpc is True


# ------------------------------------------------------------------ IFunction: the live alias everywhere


@pytest.fixture(scope="module")
def integrations_template() -> Template:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _fn(stack, invocation=Invocation.ASYNC)
    events.Rule(
        stack, "Rule", schedule=events.Schedule.rate(cdk.Duration.hours(1)), targets=[targets.LambdaFunction(fn)]
    )
    apigwv2.HttpApi(stack, "Http", default_integration=integrations.HttpLambdaIntegration("I", fn))
    rest = apigateway.RestApi(stack, "Rest", deploy=False)
    rest.root.add_method("GET", apigateway.LambdaIntegration(fn))
    bucket = s3.Bucket(stack, "Bucket")
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(fn))
    sns.Topic(stack, "Topic").add_subscription(subscriptions.LambdaSubscription(fn))
    fn.add_event_source(sources.SqsEventSource(sqs.Queue(stack, "Queue", visibility_timeout=cdk.Duration.seconds(60))))
    return Template.from_stack(stack)


def test_every_integration_invokes_the_live_alias(integrations_template: Template) -> None:
    alias = next(iter(integrations_template.find_resources("AWS::Lambda::Alias")))
    permissions = integrations_template.find_resources("AWS::Lambda::Permission")
    assert len(permissions) >= 5  # events, HTTP API, REST (x2), S3, SNS
    for lid, perm in permissions.items():
        assert _is_alias(perm["Properties"]["FunctionName"], alias), lid
    rule = next(iter(integrations_template.find_resources("AWS::Events::Rule").values()))
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Ref": alias}
    mapping = next(iter(integrations_template.find_resources("AWS::Lambda::EventSourceMapping").values()))
    assert _is_alias(mapping["Properties"]["FunctionName"], alias)
    sub = next(iter(integrations_template.find_resources("AWS::SNS::Subscription").values()))
    assert _is_alias(sub["Properties"]["Endpoint"], alias)


def _is_alias(value: object, alias: str) -> bool:
    """The alias ARN, or the function name qualified with :live taken from the alias ARN."""
    return value == {"Ref": alias} or (alias in str(value) and ":live" in str(value))


def test_configure_async_invoke_points_at_the_keywords() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _fn(stack, invocation=Invocation.ASYNC)
    with pytest.raises(ConfigurationError, match=r"S/Fn: configure_async_invoke\(options\)=.*on_success="):
        fn.configure_async_invoke(retry_attempts=1)


def test_user_and_aws_cdk_dependencies_survive() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    other = sqs.Queue(stack, "MountTarget")
    fn = _fn(stack)
    fn.function.node.add_dependency(other)
    depends = _function_props_resource(Template.from_stack(stack))["DependsOn"]
    assert any(d.startswith("MountTarget") for d in depends)
    assert any("ServiceRoleDefaultPolicy" in d for d in depends)


def _function_props_resource(template: Template) -> dict[str, Any]:
    return next(r for lid, r in template.find_resources("AWS::Lambda::Function").items() if lid.startswith("Fn"))


# ------------------------------------------------------------------ SnapStart, images, layers, VPC, sizes


def test_snap_start_turns_default_provisioned_concurrency_off_with_info() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _fn(stack, runtime=lambda_.Runtime.PYTHON_3_13, snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS)
    assert fn.provisioned_concurrency is None and fn.scalable_target is None
    template = Template.from_stack(stack)
    assert _function_props(template)["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    alias = next(iter(template.find_resources("AWS::Lambda::Alias").values()))
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    Annotations.from_stack(stack).has_info("/S/Fn", Match.string_like_regexp("SnapStart is then this function's"))


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"runtime": lambda_.Runtime.NODEJS_22_X}, r"snap_start='nodejs22.x'.*Java 11\+, Python 3.12\+, .NET 8\+"),
        ({"runtime": lambda_.Runtime.PYTHON_3_11}, r"snap_start='python3.11'"),
        ({"provisioned_concurrency": ProvisionedConcurrency()}, r"provisioned_concurrency=.*None with snap_start"),
        ({"ephemeral_storage_size": cdk.Size.mebibytes(1024)}, r"ephemeral_storage_size='1024 MB'.*<= 512 MB"),
    ],
)
def test_snap_start_refusals(overrides: dict[str, Any], pattern: str) -> None:
    _refused(lambda s: _fn(s, snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS, **overrides), pattern)


def test_snap_start_refuses_efs() -> None:
    def build(stack: cdk.Stack) -> None:
        vpc = ec2.Vpc(stack, "Vpc", max_azs=1)
        fs = efs.FileSystem(stack, "Fs", vpc=vpc)
        ap = fs.add_access_point("Ap", path="/data")
        before = len(stack.node.children)
        try:
            _fn(
                stack,
                snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS,
                vpc=vpc,
                filesystem=lambda_.FileSystem.from_efs_access_point(ap, "/mnt/data"),
            )
        finally:
            assert len(stack.node.children) == before
        raise AssertionError("not refused")

    with pytest.raises(ConfigurationError, match=r"filesystem=.*None with snap_start"):
        build(cdk.Stack(cdk.App(), "S"))


def test_image_with_arm64_platform_is_accepted_with_from_image() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = ProductionFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_asset_image(IMAGE_DIR, platform=Platform.LINUX_ARM64),
        p99=cdk.Duration.millis(300),
    )
    props = _function_props(Template.from_stack(stack))
    assert props["PackageType"] == "Image" and props["Architectures"] == ["arm64"]
    assert "Handler" not in props and "Runtime" not in props
    assert fn.alias.alias_name == "live"


def test_docker_image_code_is_accepted() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    ProductionFunction(
        stack,
        "Fn",
        code=lambda_.DockerImageCode.from_image_asset(IMAGE_DIR, platform=Platform.LINUX_ARM64),
        p99=cdk.Duration.millis(300),
    )
    assert _function_props(Template.from_stack(stack))["PackageType"] == "Image"


@pytest.mark.parametrize(
    ("platform", "pattern"),
    [
        (None, r"code.platform=None is invalid; allowed: linux/arm64.*exec format error.*Platform.LINUX_ARM64"),
        (Platform.LINUX_AMD64, r"code.platform='linux/amd64' is invalid; allowed: linux/arm64"),
    ],
)
def test_image_platform_must_match_the_architecture(platform: Platform | None, pattern: str) -> None:
    kwargs = {"platform": platform} if platform else {}
    _refused(
        lambda s: ProductionFunction(
            s, "Fn", code=lambda_.Code.from_asset_image(IMAGE_DIR, **kwargs), p99=cdk.Duration.millis(300)
        ),
        pattern,
    )


def test_layers_limit_and_runtime_compatibility() -> None:
    def many(stack: cdk.Stack) -> None:
        layers = [
            lambda_.LayerVersion.from_layer_version_arn(stack, f"L{i}", f"arn:aws:lambda:us-east-1:1:layer:l{i}:1")
            for i in range(5)
        ]
        n = len(stack.node.children)
        try:
            _fn(stack, layers=layers, powertools=Powertools(service="x"))
        finally:
            assert len(stack.node.children) == n

    with pytest.raises(ConfigurationError, match=r"layers='5 layers \+ the Powertools layer'.*at most 5"):
        many(cdk.Stack(cdk.App(), "S"))

    def node_layer(stack: cdk.Stack) -> None:
        layer = lambda_.LayerVersion(stack, "NodeOnly", code=_code(), compatible_runtimes=[lambda_.Runtime.NODEJS_22_X])
        _fn(stack, layers=[layer])

    with pytest.raises(ConfigurationError, match=r"layers\[0\]='S/NodeOnly'.*compatible with python3.14"):
        node_layer(cdk.Stack(cdk.App(), "S"))


def test_vpc_refusals() -> None:
    def public(stack: cdk.Stack) -> None:
        vpc = ec2.Vpc(
            stack,
            "Vpc",
            max_azs=1,
            subnet_configuration=[ec2.SubnetConfiguration(name="pub", subnet_type=ec2.SubnetType.PUBLIC)],
        )
        _fn(stack, vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC))

    with pytest.raises(ConfigurationError, match=r"vpc_subnets=.*private subnets \(or allow_public_subnet=True\)"):
        public(cdk.Stack(cdk.App(), "S"))

    def sg_only(stack: cdk.Stack) -> None:
        vpc = ec2.Vpc(stack, "Vpc", max_azs=1)
        _fn(stack, security_groups=[ec2.SecurityGroup(stack, "Sg", vpc=vpc)])

    with pytest.raises(ConfigurationError, match=r"security_groups=.*None without vpc="):
        sg_only(cdk.Stack(cdk.App(), "S"))


@pytest.mark.parametrize("mb", [256, 10_241])
def test_ephemeral_storage_range(mb: int) -> None:
    _refused(
        lambda s: _fn(s, ephemeral_storage_size=cdk.Size.mebibytes(mb)),
        rf"ephemeral_storage_size={mb} is invalid; allowed: 512\.\.10240 MB",
    )


def test_package_size_warning_and_limit(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.mkdir()
    (big / "app.py").write_text("def handler(e, c): return e\n")
    with open(big / "deps.bin", "wb") as f:  # a sparse file: its size counts, no disk is used
        f.truncate(12 * 1024 * 1024)
    stack = cdk.Stack(cdk.App(), "S")
    ProductionFunction(
        stack, "Fn", code=lambda_.Code.from_asset(str(big)), handler="app.handler", p99=cdk.Duration.millis(50)
    )
    Annotations.from_stack(stack).has_warning("/S/Fn", Match.string_like_regexp(r"12\.0 MB unzipped .*Lambda layer"))

    huge = tmp_path / "huge"
    huge.mkdir()
    with open(huge / "deps.bin", "wb") as f:
        f.truncate(300 * 1024 * 1024)
    _refused(
        lambda s: ProductionFunction(
            s, "Fn", code=lambda_.Code.from_asset(str(huge)), handler="app.handler", p99=cdk.Duration.millis(50)
        ),
        r"code='300\.0 MB unzipped' is invalid; allowed: <= 250 MB unzipped",
    )
    os.remove(huge / "deps.bin")


def test_tracing_other_than_active_warns() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    _fn(stack, tracing=lambda_.Tracing.PASS_THROUGH)
    assert _function_props(Template.from_stack(stack))["TracingConfig"] == {"Mode": "PassThrough"}
    Annotations.from_stack(stack).has_warning("/S/Fn", Match.string_like_regexp("tracing=PASS_THROUGH"))


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"layers": "arn:aws:lambda:us-east-1:1:layer:x:1"}, r"layers=.*a list of aws_lambda.ILayerVersion"),
        ({"vpc": "vpc-123"}, r"vpc='vpc-123' is invalid; allowed: an aws_ec2.IVpc"),
        ({"snap_start": True}, r"snap_start=True is invalid; allowed: an aws_lambda.SnapStartConf"),
        ({"ephemeral_storage_size": 2048}, r"ephemeral_storage_size=2048 is invalid; allowed: an aws_cdk.Size"),
        ({"logging_format": "JSON"}, r"logging_format='JSON' is invalid"),
        ({"allow_public_subnet": "yes"}, r"allow_public_subnet='yes' is invalid; allowed: True or False"),
        (
            {"logging_format": lambda_.LoggingFormat.TEXT, "system_log_level_v2": lambda_.SystemLogLevel.WARN},
            r"None with logging_format=TEXT",
        ),
    ],
)
def test_forwarded_props_of_the_wrong_type_are_refused(overrides: dict[str, Any], pattern: str) -> None:
    _refused(lambda s: _fn(s, **overrides), pattern)
