#!/usr/bin/env python3
"""Example service: an orders API and an asynchronous notifier, with production defaults.

Run ``make synth`` to synthesize it into cdk.out/ (no AWS account needed).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import Invocation, Memory, ProductionFunction, ProvisionedConcurrency

HANDLERS = Path(__file__).parent / "handlers"


def handler_code(name: str) -> lambda_.Code:
    """The example handler folder ``handlers/<name>``, without bytecode caches (stable hashes)."""
    return lambda_.Code.from_asset(str(HANDLERS / name), exclude=["__pycache__", "*.pyc"])


class OrdersService(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)
        alarms = sns.Topic(self, "Alarms", enforce_ssl=True, master_key=None)

        # Synchronous API: measured p99 of 120 ms -> 1 s timeout; warm pool of 2..20.
        self.orders_api = ProductionFunction(
            self, "OrdersApi",
            code=handler_code("orders_api"), handler="app.handler",
            p99=cdk.Duration.millis(120),
            memory=Memory.io_bound(),
            provisioned_concurrency=ProvisionedConcurrency(min_capacity=2, max_capacity=20),
            reserved_concurrency=50,
            environment={"LOG_LEVEL": "INFO"},
            alarm_topic=alarms,
        )

        # Asynchronous notifier: failed events land in an encrypted failure queue.
        self.notifier = ProductionFunction(
            self, "Notifier",
            code=handler_code("notifier"), handler="app.handler",
            p99=cdk.Duration.millis(900),
            invocation=Invocation.ASYNC,
            alarm_topic=alarms,
        )


def build_app(**app_props: object) -> cdk.App:
    app = cdk.App(**app_props)  # type: ignore[arg-type]
    OrdersService(app, "OrdersService")
    return app


if __name__ == "__main__":
    build_app().synth()
