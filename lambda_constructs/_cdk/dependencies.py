"""The one DependsOn aws-cdk-lib renders that the template already implies: a function's on its own role.

aws-cdk-lib's ``Function`` depends on its whole role construct (``resource.node.addDependency(role)``), so the
function's ``DependsOn`` names the role *and* the role's default policy. The role is also referenced by
``Fn::GetAtt <role>.Arn`` in ``Role``, which already orders it before the function: cfn-lint W3005 ("obsolete
DependsOn"). CloudFormation creates a resource after every resource it references with ``Ref`` or
``Fn::GetAtt``, so that edge adds nothing ("DependsOn attribute", AWS CloudFormation User Guide:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html).

Only that edge goes. The default-policy edge stays (the role's grants must exist before the function is
created: Lambda checks a dead-letter queue's ``sqs:SendMessage`` at CreateFunction), and so does every other
dependency a user or aws-cdk-lib adds (a VPC's routes, an EFS mount target, a security group rule), and every
other resource under the role, including the ``OverflowPolicy`` managed policies aws-cdk-lib splits off a large
default policy in an aspect at synthesis.

How: the function's construct dependency on the role is replaced by one on ``_RoleWithoutResource``, a
dependable whose roots are the role's children other than its ``AWS::IAM::Role`` resource, read when aws-cdk-lib
turns construct dependencies into resource dependencies (once per synthesis, after every aspect ran). aws-cdk-lib
then renders ``DependsOn`` itself, in its own order; nothing runs in Python while templates are rendered, which
aws-cdk-lib does once per nested stack for every resource of the app (a lazy ``DependsOn`` override made each
function cost two kernel round trips per rendering: quadratic in the size of a fleet).
"""

from __future__ import annotations

import builtins
import typing

import jsii
from aws_cdk import CfnResource
from aws_cdk import aws_iam as iam
from constructs import Dependable, IConstruct, IDependable


def drop_role_depends_on(function: CfnResource, role_resource: CfnResource, *, role: iam.IRole | None = None) -> None:
    """Render ``function``'s DependsOn without ``role_resource``, which its ``Fn::GetAtt`` in ``Role`` implies.

    ``role``: the role construct ``role_resource`` belongs to, when the caller has it (read from it otherwise:
    one kernel round trip).
    """
    owner = role if role is not None else typing.cast(iam.IRole, role_resource.node.scope)
    without = _RoleWithoutResource(owner, role_resource)
    Dependable.implement(without, without)
    function_node = function.node
    function_node.remove_dependency(owner)
    function_node.add_dependency(without)


@jsii.implements(IDependable)
class _RoleWithoutResource(Dependable):
    """The role's children but its ``AWS::IAM::Role`` resource, as a dependency (read at synthesis)."""

    def __init__(self, role: iam.IRole, resource: CfnResource) -> None:
        super().__init__()
        self._role = role
        self._resource = typing.cast(typing.Any, resource).__jsii_ref__.ref

    @builtins.property
    def dependency_roots(self) -> list[IConstruct]:
        return [c for c in self._role.node.children if typing.cast(typing.Any, c).__jsii_ref__.ref != self._resource]
