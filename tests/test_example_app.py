"""The example app: snapshots, cfn-lint, and a real `cdk synth` through the npm CDK CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import lint_template, normalize_assets

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_example_templates_match_snapshots(example_templates: dict[str, dict[str, Any]], snapshot_json) -> None:
    for name, template in sorted(example_templates.items()):
        assert normalize_assets(template) == snapshot_json(name=name)


# resources the library does not build, whose DependsOn on their own role aws-cdk-lib renders (cfn-lint W3005):
# the app's plain aws_lambda.Function and state machine, and aws-cdk-lib's framework handlers (bucket
# notifications, the VPC's default-security-group restriction)
NOT_THE_LIBRARY_S = {
    "ReportExportBF1DAA14": "ReportExportServiceRole5EA36080",
    "CheckoutB7CD3E82": "CheckoutRole279DF7A9",
    "BucketNotificationsHandler050a0587b7544547bf325f094a3db8347ECC3691": (
        "BucketNotificationsHandler050a0587b7544547bf325f094a3db834RoleB6FB88EC"
    ),
    "CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E": (
        "CustomVpcRestrictDefaultSGCustomResourceProviderRole26592FE0"
    ),
}


def test_example_templates_pass_cfn_lint(example_templates: dict[str, dict[str, Any]]) -> None:
    findings = {name: lint_template(t) for name, t in example_templates.items()}
    w3005 = {
        f.split("/")[1]: f.split("'")[1] for f in findings["OrdersService"] if f.startswith("W3005 ")
    }  # "W3005 '<role>' dependency already enforced ... (Resources/<function>/DependsOn/<i>)"
    assert w3005 == NOT_THE_LIBRARY_S
    assert {name: [f for f in found if not f.startswith("W3005 ")] for name, found in findings.items()} == {
        name: [] for name in example_templates
    }


def test_library_functions_depend_on_their_policy_not_on_the_role_they_get_att(
    example_templates: dict[str, dict[str, Any]],
) -> None:
    resources = example_templates["OrdersService"]["Resources"]
    functions = {
        lid: r for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function" and lid not in NOT_THE_LIBRARY_S
    }
    assert len(functions) == 13
    for lid, function in functions.items():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        depends_on = function["DependsOn"]
        assert role not in depends_on, lid
        # the role's default policy stays first (its grants must exist before CreateFunction)
        assert depends_on[0] == next(
            p
            for p, r in resources.items()
            if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == [{"Ref": role}]
        ), lid
    # the VPC function keeps aws-cdk-lib's edges on the private subnets' routes
    ledger = next(r for lid, r in functions.items() if lid.startswith("LedgerSyncFunction"))
    assert len(ledger["DependsOn"]) == 5
    assert all(d.startswith("VpcPrivateSubnet") for d in ledger["DependsOn"][1:])


def _cdk_cli() -> str:
    found = shutil.which("cdk", path=f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, "the CDK CLI is installed by `make setup` (npm ci); run the tests through `make test`"
    return found


@pytest.fixture(scope="module")
def cli_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cdk synth` of app.py with the pinned npm CDK CLI: no AWS account, no credentials."""
    out = tmp_path_factory.mktemp("cdk") / "cdk.out"
    env = {
        **os.environ,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(key, None)
    result = subprocess.run(
        [_cdk_cli(), "synth", "--quiet", "--no-notices", "--output", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_cli_synth_matches_in_process_synth(cli_assembly: Path, example_templates: dict[str, dict[str, Any]]) -> None:
    for name, template in example_templates.items():
        from_cli = json.loads((cli_assembly / f"{name}.template.json").read_text())
        assert from_cli == template


def test_report_reads_the_cli_assembly(cli_assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lambda_constructs.cli import main

    assert main(["report", str(cli_assembly), "--format", "json"]) == 0
    rows = {r["path"].split("/")[1]: r for r in json.loads(capsys.readouterr().out)["functions"]}
    assert rows["OrdersApi"]["timeout_s"] == 1
    assert rows["OrdersApi"]["p99_ms"] == 120
    assert rows["OrdersApi"]["provisioned_min"] == 2
    assert rows["OrdersApi"]["provisioned_max"] == 20
    assert rows["OrdersApi"]["target_utilization"] == 0.7
    assert rows["Notifier"]["failure_path"] == "onFailure"
