"""Logical ids that do not depend on the order of routes.

aws-cdk-lib creates an API Gateway v2 integration (``HttpLambdaIntegration``, ``WebSocketLambdaIntegration``)
in the scope of the *first* route it is bound to, so its logical id is derived from that route: removing or
reordering the route replaces the integration (and with it every route's ``Target``). `pin_integrations`
gives each integration the logical id it would have as a child of the API named after what it targets, with
aws-cdk-lib's own algorithm (the path's alphanumerics, ``Resource`` and ``Default`` hidden, and an 8-character
MD5 of the path: "Logical IDs", AWS CDK developer guide, https://docs.aws.amazon.com/cdk/v2/guide/identifiers.html).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from constructs import Construct

from lambda_constructs.core.plans.endpoint import logical_id_at

__all__ = ["logical_id_at", "pin_integrations"]


def pin_integrations(api: Construct, names: Mapping[str, str]) -> None:
    """Each integration under ``api`` made by an integration object of id ``k`` in ``names`` gets the logical
    id of ``<api>/<names[k]>/Resource``, whichever route it was first bound to."""
    stack = Stack.of(api)
    base = api.node.path.split("/")[len(stack.node.path.split("/")) if stack.node.path else 0 :]
    for child in api.node.find_all():
        if isinstance(child, apigwv2.CfnIntegration):
            owner = child.node.scope
            name = names.get(owner.node.id) if owner is not None else None
            if name is not None:
                child.override_logical_id(logical_id_at([*base, name, "Resource"]))
