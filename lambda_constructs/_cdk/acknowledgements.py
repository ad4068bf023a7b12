"""Rule-pack acknowledgements: sent to jsii only when cdk-nag can read them (see `acknowledge_all()`)."""

from __future__ import annotations

import sys

import jsii
from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct, IValidation

from lambda_constructs._cdk import recording
from lambda_constructs._cdk.paths import node_of, stack_of
from lambda_constructs.core.plans.common import dead_letter_target_acks


def resource_of(construct: IConstruct) -> IConstruct:
    """The CloudFormation resource of an L2 (its default child), where a finding about it is reported.

    An acknowledgement covers the construct it is on and all its children, so one on an L2 (a role, a queue, a
    REST API) would also hide findings on what it contains (a role's default policy, a queue's policy, every
    method): acknowledgements go on the one resource a finding is about.
    """
    child = node_of(construct).default_child
    return child if child is not None else construct


def default_policy_of(role: object) -> IConstruct | None:
    """The resource of a role's default policy (where grants land), None if the role has none (imported)."""
    node = getattr(role, "node", None)
    policy = node.try_find_child("DefaultPolicy") if node is not None else None
    return resource_of(policy) if policy is not None else None


def acknowledge_dead_letter_target(queue: sqs.IQueue, what: str) -> None:
    """Acknowledge `dead_letter_target_acks()` on ``queue``'s resource (``what``: the queue's role)."""
    acknowledge_all(resource_of(queue), dead_letter_target_acks(f"This queue ({what})"))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge a rule-pack finding on ``scope`` (and its children), with its reason."""
    acknowledge_all(scope, [(rule_id, reason)])


def acknowledge_all(scope: IConstruct, rules: list[tuple[str, str]]) -> None:
    """Acknowledge several rule-pack findings on ``scope``, with their reasons.

    The acknowledged ids are cdk-nag rules, read only by cdk-nag's validation plugins, and a Python
    app can add such a plugin only by importing ``cdk_nag``. So while ``cdk_nag`` is not imported,
    nothing is sent to jsii (two round trips and the node metadata saved per construct): the
    acknowledgements wait in one validation per stack, which runs at synthesis, before the plugins
    read them, and applies them if ``cdk_nag`` has been imported by then.
    """
    if not rules:
        return
    recording.record("ack", scope, list(rules))
    if "cdk_nag" in sys.modules:
        _apply_acknowledgements(scope, rules)
        return
    _pending(stack_of(scope)).entries.append((scope, rules))


def acknowledge_resource(construct: IConstruct, rules: list[tuple[str, str]]) -> None:
    """`acknowledge_all()` on the CloudFormation resource of the L2 ``construct`` (`resource_of()`), if it has one.

    While ``cdk_nag`` is not imported and no prototype bundle is recorded, the resource is looked up only if the
    acknowledgements are applied at synthesis (the two round trips of ``node.default_child`` saved otherwise); an
    L2 without a resource of its own (an imported queue) gets none, as before.
    """
    if not rules:
        return
    if "cdk_nag" in sys.modules or recording.is_open():
        resource = resource_of(construct)
        if resource is not construct:
            acknowledge_all(resource, rules)
        return
    _pending(stack_of(construct)).entries.append((_ResourceOf(construct), rules))


class _ResourceOf:
    """An L2 whose resource receives acknowledgements when they are applied."""

    def __init__(self, construct: IConstruct) -> None:
        self.construct = construct


def _pending(stack: IConstruct) -> _PendingAcknowledgements:
    pending: _PendingAcknowledgements | None = getattr(stack, "_lc_pending_acks", None)
    if pending is None:
        pending = _PendingAcknowledgements()
        node_of(stack).add_validation(pending)
        object.__setattr__(stack, "_lc_pending_acks", pending)
    return pending


def _apply_acknowledgements(scope: IConstruct | _ResourceOf, rules: list[tuple[str, str]]) -> None:
    if isinstance(scope, _ResourceOf):
        resource = resource_of(scope.construct)
        if resource is scope.construct:  # no resource of its own (imported): nothing to acknowledge
            return
        scope = resource
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule, reason in rules))


@jsii.implements(IValidation)
class _PendingAcknowledgements:
    """A stack's acknowledgements made while cdk-nag was not imported; applied at synthesis if it is by then."""

    def __init__(self) -> None:
        self.entries: list[tuple[IConstruct | _ResourceOf, list[tuple[str, str]]]] = []

    def validate(self) -> list[str]:
        if "cdk_nag" in sys.modules:
            entries, self.entries = self.entries, []
            for scope, rules in entries:
                _apply_acknowledgements(scope, rules)
        return []
