"""lambda-constructs: AWS CDK v2 constructs for production Lambda functions.

The right configuration is the default and the wrong one is refused at construction time
with a [`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError]. Start with
[`ProductionFunction`][lambda_constructs.ProductionFunction].

The pure modules (errors, limits, sizing, pricing, report) import no CDK; the constructs are
loaded on first use, so ``lambda-constructs report`` and the sizing helpers start instantly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lambda_constructs.core.config import Invocation, ProvisionedConcurrency
from lambda_constructs.core.errors import ConfigurationError, Problem
from lambda_constructs.core.sizing import Memory, Sizing, timeout_seconds_from_p99_ms
from lambda_constructs.core.specs import WorkerSpec

if TYPE_CHECKING:
    from lambda_constructs.checks.pack import ProductionReadinessChecks, enable_checks
    from lambda_constructs.function.alarm_topic import default_alarm_topic
    from lambda_constructs.function.dashboard import ServiceDashboard
    from lambda_constructs.function.defaults import ProductionDefaults
    from lambda_constructs.function.deployment import Deployment
    from lambda_constructs.function.edge import EdgeFunction
    from lambda_constructs.function.encryption_key import default_encryption_key
    from lambda_constructs.function.fleet import FunctionFleet
    from lambda_constructs.function.powertools import Powertools
    from lambda_constructs.function.production_function import LATEST_PYTHON, ProductionFunction, timeout_from_p99
    from lambda_constructs.sources._base import FunctionTarget
    from lambda_constructs.sources.appsync import AppSyncDataSource
    from lambda_constructs.sources.cognito import CognitoTriggers
    from lambda_constructs.sources.eventbridge import EventConsumer
    from lambda_constructs.sources.http import HttpEndpoint
    from lambda_constructs.sources.kafka import KafkaConsumer
    from lambda_constructs.sources.load_balancer import LoadBalancerTarget
    from lambda_constructs.sources.queue import QueueConsumer
    from lambda_constructs.sources.rest import RestEndpoint
    from lambda_constructs.sources.s3 import S3Consumer
    from lambda_constructs.sources.schedule import ScheduledFunction
    from lambda_constructs.sources.stream import StreamConsumer
    from lambda_constructs.sources.topic import TopicConsumer
    from lambda_constructs.sources.websocket import WebSocketEndpoint
    from lambda_constructs.sources.workflow import WorkflowTask

_LAZY = {
    "LATEST_PYTHON": "function.production_function",
    "ProductionFunction": "function.production_function",
    "timeout_from_p99": "function.production_function",
    "Deployment": "function.deployment",
    "Powertools": "function.powertools",
    "ProductionDefaults": "function.defaults",
    "ServiceDashboard": "function.dashboard",
    "QueueConsumer": "sources.queue",
    "StreamConsumer": "sources.stream",
    "ScheduledFunction": "sources.schedule",
    "HttpEndpoint": "sources.http",
    "RestEndpoint": "sources.rest",
    "S3Consumer": "sources.s3",
    "TopicConsumer": "sources.topic",
    "EventConsumer": "sources.eventbridge",
    "LoadBalancerTarget": "sources.load_balancer",
    "WebSocketEndpoint": "sources.websocket",
    "AppSyncDataSource": "sources.appsync",
    "CognitoTriggers": "sources.cognito",
    "WorkflowTask": "sources.workflow",
    "KafkaConsumer": "sources.kafka",
    "EdgeFunction": "function.edge",
    "FunctionFleet": "function.fleet",
    "FunctionTarget": "sources._base",
    "ProductionReadinessChecks": "checks.pack",
    "enable_checks": "checks.pack",
    "default_alarm_topic": "function.alarm_topic",
    "default_encryption_key": "function.encryption_key",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lambda_constructs' has no attribute {name!r}")
    from lambda_constructs._node import ensure_node

    ensure_node()  # before aws-cdk-lib starts jsii: Node.js 22+, or one line saying how to get it
    from lambda_constructs._signature import expose_signature

    value = expose_signature(getattr(importlib.import_module(f".{module}", __name__), name))  # help() shows __init__
    globals()[name] = value
    return value


__all__ = [
    "LATEST_PYTHON",
    "AppSyncDataSource",
    "CognitoTriggers",
    "ConfigurationError",
    "Deployment",
    "EdgeFunction",
    "EventConsumer",
    "FunctionFleet",
    "FunctionTarget",
    "HttpEndpoint",
    "Invocation",
    "KafkaConsumer",
    "LoadBalancerTarget",
    "Memory",
    "Powertools",
    "Problem",
    "ProductionDefaults",
    "ProductionFunction",
    "ProductionReadinessChecks",
    "ProvisionedConcurrency",
    "QueueConsumer",
    "RestEndpoint",
    "S3Consumer",
    "ScheduledFunction",
    "ServiceDashboard",
    "Sizing",
    "StreamConsumer",
    "TopicConsumer",
    "WebSocketEndpoint",
    "WorkerSpec",
    "WorkflowTask",
    "default_alarm_topic",
    "default_encryption_key",
    "enable_checks",
    "timeout_from_p99",
    "timeout_seconds_from_p99_ms",
]
__version__ = "0.2.0"
