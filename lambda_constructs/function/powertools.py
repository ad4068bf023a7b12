"""Powertools for AWS Lambda as one parameter: the official public layer and its environment.

By default the layer ARN is resolved **at deploy time** from the public SSM parameter Powertools
publishes in every commercial region, so a stack never pins a stale layer:

- Python: ``/aws/service/powertools/python/{x86_64|arm64}/python3.X/{latest|VERSION}``
  (Powertools for AWS Lambda (Python), "Installation", "Using SSM Parameter Store");
- TypeScript (Node.js): ``/aws/service/powertools/typescript/generic/all/{latest|VERSION}``
  (Powertools for AWS Lambda (TypeScript), "Lambda layers", "Lookup Layer ARN via AWS SSM Parameter Store").

``version="3.23.0"`` resolves that release's parameter instead of ``latest``; ``layer_version=N`` pins a
layer version ARN with no SSM lookup. Powertools publishes its SSM parameters in commercial regions
only; in AWS China (cn-north-1) and AWS GovCloud (US) it publishes layers under other accounts, so
there a ``layer_version`` is required; ISO and European Sovereign Cloud partitions get no layer and are
refused. Java and .NET Powertools publish no SSM parameter for a layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambda_constructs.core.errors import ConfigurationError, Problem

# Python: arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-{python_version}-{arch}:{version}
PYTHON_ACCOUNT = "017000801446"
PYTHON_LAYER_VERSION = 27  # the version this release was tested with, for layer_version=None in docs
PYTHON_VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
# TypeScript (Node.js): one layer for both architectures
NODE_ACCOUNT = "094274105915"
NODE_LAYER_VERSION = 44
NODE_VERSIONS = ("18", "20", "22", "24")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SERVICE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
SSM_PREFIX = "/aws/service/powertools"
# Layer accounts outside the commercial partition, per region, as Powertools documents them (Python
# "Installation": AWS China regions / AWS GovCloud regions; TypeScript "Lambda layers": the same accounts)
REGIONAL_ACCOUNTS = {
    "cn-north-1": "498634801083",
    "us-gov-east-1": "165087284144",
    "us-gov-west-1": "165093116878",
}
# region prefix -> partition (AWS General Reference, "AWS partitions"); the default is "aws"
_PARTITIONS = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("eusc-", "aws-eusc"),
)


def partition_of(region: str) -> str:
    """The partition of a region name (``aws`` for a commercial region)."""
    return next((partition for prefix, partition in _PARTITIONS if region.startswith(prefix)), "aws")


@dataclass(frozen=True)
class Powertools:
    """Powertools for AWS Lambda on a ProductionFunction: its public layer plus environment.

    Sets ``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE`` and
    ``POWERTOOLS_LOG_LEVEL``; adds the official layer for the function's runtime and
    architecture in the stack's region. Python 3.9-3.14 and Node.js 18-24 have layers; any
    other runtime is a ConfigurationError (bundle Powertools with your code instead).

    Args:
        service: the service name in every log line, metric and trace (1..128 of A-Z a-z 0-9 _ . -).
        metrics_namespace: CloudWatch namespace for custom metrics; default ``service``.
        log_level: default ``"INFO"``.
        version: a Powertools release (``"3.23.0"``) resolved from its public SSM parameter at deploy
            time; default ``None`` = the ``latest`` parameter, so each deploy takes the current layer.
        layer_version: pin a layer version number instead (no SSM lookup), e.g. 27; required in AWS
            China and AWS GovCloud (US), where Powertools publishes no SSM parameter.
    """

    service: str
    metrics_namespace: str | None = None
    log_level: str = "INFO"
    layer_version: int | None = None
    version: str | None = None

    def problems(self, runtime_name: str, prop: str = "powertools", *, region: str | None = None) -> list[Problem]:
        """Every problem with these settings for ``runtime_name`` in ``region`` (None: decided at deploy time)."""
        found = []
        if not isinstance(self.service, str) or not _SERVICE.match(self.service):
            found.append(Problem(f"{prop}.service", self.service, "1..128 characters of A-Z a-z 0-9 _ . -"))
        if self.metrics_namespace is not None and (
            not isinstance(self.metrics_namespace, str) or not 1 <= len(self.metrics_namespace) <= 255
        ):
            found.append(Problem(f"{prop}.metrics_namespace", self.metrics_namespace, "a string of 1..255 characters"))
        if self.log_level not in LOG_LEVELS:
            found.append(Problem(f"{prop}.log_level", self.log_level, " | ".join(LOG_LEVELS)))
        if self.layer_version is not None and (
            isinstance(self.layer_version, bool) or not isinstance(self.layer_version, int) or self.layer_version < 1
        ):
            found.append(Problem(f"{prop}.layer_version", self.layer_version, "a whole number >= 1"))
        if self.version is not None and (not isinstance(self.version, str) or not _VERSION.match(self.version)):
            found.append(Problem(f"{prop}.version", self.version, "a Powertools release such as '3.23.0'"))
        if self.version is not None and self.layer_version is not None:
            found.append(
                Problem(
                    f"{prop}.layer_version",
                    self.layer_version,
                    "not together with version=",
                    "version= resolves a release from SSM, layer_version= pins an ARN: choose one",
                )
            )
        if region is not None:
            found.extend(self._region_problems(region, prop))
        if _family(runtime_name) is None:
            found.append(
                Problem(
                    "runtime",
                    runtime_name,
                    f"a runtime with a Powertools layer: python{'/'.join(PYTHON_VERSIONS)}, "
                    f"nodejs{'/'.join(NODE_VERSIONS)}.x",
                    "Powertools publishes no layer for this runtime; bundle it with your code and drop powertools=",
                )
            )
        return found

    def _region_problems(self, region: str, prop: str) -> list[Problem]:
        partition = partition_of(region)
        if partition == "aws":
            return []
        if partition in ("aws-cn", "aws-us-gov") and region in REGIONAL_ACCOUNTS:
            if self.layer_version is None:
                return [
                    Problem(
                        f"{prop}.layer_version",
                        None,
                        f"a pinned layer version in {region} ({partition})",
                        "Powertools publishes its SSM parameters in commercial regions only; pin the layer "
                        "version it lists for this region (Powertools docs, Lambda layers)",
                    )
                ]
            return []
        return [
            Problem(
                "region",
                region,
                "a region where Powertools publishes a layer: commercial regions, cn-north-1, us-gov-east-1, "
                "us-gov-west-1",
                f"Powertools publishes no layer in {partition}: bundle Powertools with your code and drop powertools=",
            )
        ]

    def ssm_parameter(self, runtime_name: str, arm64: bool) -> str | None:
        """The public SSM parameter naming the layer ARN, or None when ``layer_version`` pins it."""
        _check_runtime_name("ssm_parameter", runtime_name)
        if self.layer_version is not None:
            return None
        release = self.version or "latest"
        if _family(runtime_name) == "python":
            return f"{SSM_PREFIX}/python/{'arm64' if arm64 else 'x86_64'}/{runtime_name}/{release}"
        return f"{SSM_PREFIX}/typescript/generic/all/{release}"

    def layer_arn(self, runtime_name: str, arm64: bool, region: str, partition: str) -> str:
        """The public layer version ARN for ``runtime_name`` on arm64 / x86_64 in ``region``, pinned at
        ``layer_version`` (the tested version when none is given). Regions outside the commercial
        partition use the account Powertools publishes there."""
        _check_runtime_name("layer_arn", runtime_name)
        for arg, value in (("region", region), ("partition", partition)):
            if not isinstance(value, str):
                raise ConfigurationError(
                    [
                        Problem(
                            f"layer_arn({arg})",
                            value,
                            "a string",
                        )
                    ],
                    "Powertools",
                )
        account = REGIONAL_ACCOUNTS.get(region)
        family = _family(runtime_name)
        if family == "python":
            version = runtime_name.removeprefix("python").replace(".", "")
            arch = "arm64" if arm64 else "x86_64"
            name = f"AWSLambdaPowertoolsPythonV3-python{version}-{arch}"
            return (
                f"arn:{partition}:lambda:{region}:{account or PYTHON_ACCOUNT}:layer:{name}:"
                f"{self.layer_version or PYTHON_LAYER_VERSION}"
            )
        return (
            f"arn:{partition}:lambda:{region}:{account or NODE_ACCOUNT}:layer:AWSLambdaPowertoolsTypeScriptV2:"
            f"{self.layer_version or NODE_LAYER_VERSION}"
        )

    def environment(self) -> dict[str, str]:
        return {
            "POWERTOOLS_SERVICE_NAME": self.service,
            "POWERTOOLS_METRICS_NAMESPACE": self.metrics_namespace or self.service,
            "POWERTOOLS_LOG_LEVEL": self.log_level,
        }


def _check_runtime_name(method: str, runtime_name: object) -> None:
    if not isinstance(runtime_name, str):
        raise ConfigurationError(
            [
                Problem(
                    f"{method}(runtime_name)",
                    runtime_name,
                    "a Lambda runtime name, e.g. 'python3.13'",
                )
            ],
            "Powertools",
        )


def _family(runtime_name: str) -> str | None:
    if runtime_name.startswith("python") and runtime_name.removeprefix("python") in PYTHON_VERSIONS:
        return "python"
    if runtime_name.startswith("nodejs") and runtime_name.removeprefix("nodejs").removesuffix(".x") in NODE_VERSIONS:
        return "node"
    return None
