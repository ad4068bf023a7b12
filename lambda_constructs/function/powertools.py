"""Powertools for AWS Lambda as one parameter: the official public layer and its environment.

The layer ARNs are the ones Powertools publishes in every commercial region under its own AWS
accounts (Powertools for AWS Lambda (Python), "Install: Lambda Layer"; Powertools for AWS Lambda
(TypeScript), "Lambda layers"). The region and partition come from the stack, never hard-coded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambda_constructs.core.errors import Problem

# Python: arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-{python_version}-{arch}:{version}
PYTHON_ACCOUNT = "017000801446"
PYTHON_LAYER_VERSION = 27
PYTHON_VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
# TypeScript (Node.js): one layer for both architectures
NODE_ACCOUNT = "094274105915"
NODE_LAYER_VERSION = 44
NODE_VERSIONS = ("18", "20", "22", "24")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SERVICE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


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
        layer_version: pin another published layer version; default the version this release
            was tested with (Python 27, TypeScript 44).
    """

    service: str
    metrics_namespace: str | None = None
    log_level: str = "INFO"
    layer_version: int | None = None

    def problems(self, runtime_name: str, prop: str = "powertools") -> list[Problem]:
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

    def layer_arn(self, runtime_name: str, arm64: bool, region: str, partition: str) -> str:
        """The public layer version ARN for ``runtime_name`` on arm64 / x86_64 in ``region``."""
        family = _family(runtime_name)
        if family == "python":
            version = runtime_name.removeprefix("python").replace(".", "")
            arch = "arm64" if arm64 else "x86_64"
            name = f"AWSLambdaPowertoolsPythonV3-python{version}-{arch}"
            return (
                f"arn:{partition}:lambda:{region}:{PYTHON_ACCOUNT}:layer:{name}:"
                f"{self.layer_version or PYTHON_LAYER_VERSION}"
            )
        return (
            f"arn:{partition}:lambda:{region}:{NODE_ACCOUNT}:layer:AWSLambdaPowertoolsTypeScriptV2:"
            f"{self.layer_version or NODE_LAYER_VERSION}"
        )

    def environment(self) -> dict[str, str]:
        return {
            "POWERTOOLS_SERVICE_NAME": self.service,
            "POWERTOOLS_METRICS_NAMESPACE": self.metrics_namespace or self.service,
            "POWERTOOLS_LOG_LEVEL": self.log_level,
        }


def _family(runtime_name: str) -> str | None:
    if runtime_name.startswith("python") and runtime_name.removeprefix("python") in PYTHON_VERSIONS:
        return "python"
    if runtime_name.startswith("nodejs") and runtime_name.removeprefix("nodejs").removesuffix(".x") in NODE_VERSIONS:
        return "node"
    return None
