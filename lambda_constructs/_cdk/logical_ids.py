"""Logical ids that do not depend on the order of routes.

aws-cdk-lib creates an API Gateway v2 integration (``HttpLambdaIntegration``, ``WebSocketLambdaIntegration``)
in the scope of the *first* route it is bound to, so its logical id is derived from that route: removing or
reordering the route replaces the integration (and with it every route's ``Target``). `pin_integrations`
gives each integration the logical id it would have as a child of the API named after what it targets, with
aws-cdk-lib's own algorithm (the path's alphanumerics, ``Resource`` and ``Default`` hidden, and an 8-character
MD5 of the path: "Logical IDs", AWS CDK developer guide, https://docs.aws.amazon.com/cdk/v2/guide/identifiers.html).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

from aws_cdk import Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from constructs import Construct

_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")


def logical_id_at(components: Sequence[str]) -> str:
    """The logical id aws-cdk-lib gives a resource at ``components`` (its path under its stack)."""
    parts = [c for c in components if c != "Default"]
    if len(parts) == 1 and len(_NON_ALNUM.sub("", parts[0])) <= 255:
        return _NON_ALNUM.sub("", parts[0])
    digest = hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    human: list[str] = []
    for part in parts:
        if not human or not human[-1].endswith(part):
            human.append(part)
    return "".join(_NON_ALNUM.sub("", p) for p in human if p != "Resource")[:240] + digest


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
