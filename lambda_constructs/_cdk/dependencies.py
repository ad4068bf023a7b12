"""The one DependsOn aws-cdk-lib renders that the template already implies: a function's on its own role.

aws-cdk-lib's ``Function`` depends on its whole role construct (``resource.node.addDependency(role)``), so the
function's ``DependsOn`` names the role *and* the role's default policy. The role is also referenced by
``Fn::GetAtt <role>.Arn`` in ``Role``, which already orders it before the function: cfn-lint W3005 ("obsolete
DependsOn"). CloudFormation creates a resource after every resource it references with ``Ref`` or
``Fn::GetAtt``, so that edge adds nothing ("DependsOn attribute", AWS CloudFormation User Guide:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html).

Only that edge goes. The default-policy edge stays (the role's grants must exist before the function is
created: Lambda checks a dead-letter queue's ``sqs:SendMessage`` at CreateFunction), and so does every other
dependency a user or aws-cdk-lib adds (a VPC's routes, an EFS mount target, a security group rule).

Construct dependencies become resource dependencies while the app is prepared for synthesis, after every
construct and aspect ran, so the list cannot be edited at construction. It is rendered instead by a lazy
``DependsOn`` override (uncached: computed at each rendering) that reads the resource's dependencies when the
template is written (also when a nested stack's template is rendered for its asset hash, so the hash and the
file agree) and leaves out the role: in the order aws-cdk-lib renders them (by construct path), nothing at all
when only the role was there.
"""

from __future__ import annotations

import typing
from typing import Any

import jsii
from aws_cdk import CfnResource, IAnyProducer, IResolveContext, Lazy, Stack

from lambda_constructs._cdk.paths import path_of


def drop_role_depends_on(function: CfnResource, role: CfnResource) -> None:
    """Render ``function``'s DependsOn without ``role``, which its ``Fn::GetAtt`` in ``Role`` implies."""
    function.add_override("DependsOn", Lazy.uncached_any(_WithoutRole(function, path_of(role)), omit_empty_array=True))


@jsii.implements(IAnyProducer)
class _WithoutRole:
    """The resource's dependencies at render time, as aws-cdk-lib renders them, minus the role."""

    def __init__(self, function: CfnResource, role_path: str) -> None:
        self._function = function
        self._role_path = role_path
        self._stack_path: str | None = None
        self._rendered: tuple[tuple[str, ...], list[str]] | None = None  # (kernel ids of the dependencies, result)

    def produce(self, context: IResolveContext) -> Any:
        # aws-cdk-lib renders a template many times in one synthesis (the template, the nested stack's asset hash,
        # validation...): the dependencies are asked for each time (one round trip), and the answer is worked out
        # again only when they changed, keyed by the kernel's ids of the dependency objects (no round trip)
        dependencies = self._function.obtain_dependencies()
        key = tuple(typing.cast(Any, d).__jsii_ref__.ref for d in dependencies)
        if self._rendered is None or self._rendered[0] != key:
            self._rendered = (key, self._logical_ids(dependencies))
        return list(self._rendered[1])

    def _logical_ids(self, dependencies: typing.Sequence[Any]) -> list[str]:
        # obtain_dependencies also lists what other stacks the resource depends on (never in DependsOn): only
        # resources of its own stack are kept, in the order aws-cdk-lib renders them (by construct path)
        if self._stack_path is None:
            self._stack_path = Stack.of(self._function).node.path
        stack = self._stack_path
        kept = [
            d
            for d in dependencies
            if CfnResource.is_cfn_resource(d) and Stack.of(d).node.path == stack and d.node.path != self._role_path
        ]
        return [typing.cast(CfnResource, d).logical_id for d in sorted(kept, key=lambda d: d.node.path)]
