"""Construct paths, nodes and stacks, each read from jsii once per Python object."""

from __future__ import annotations

import typing

from aws_cdk import Stack
from constructs import Construct, IConstruct, Node


def path_of(scope: IConstruct) -> str:
    """``scope.node.path``, read once per Python object (two jsii round trips saved on every later use)."""
    path: str | None = getattr(scope, "_lc_path", None)
    if path is None:
        path = node_of(scope).path
        object.__setattr__(scope, "_lc_path", path)
    return path


def node_of(scope: IConstruct) -> Node:
    """``scope.node``, read once per Python object."""
    node: Node | None = getattr(scope, "_lc_node", None)
    if node is None:
        node = scope.node
        object.__setattr__(scope, "_lc_node", node)
    return node


def root_of(scope: IConstruct) -> IConstruct:
    """``scope.node.root`` (its App, or the construct at the top of its tree), read once per Python object.

    A construct's scope is fixed when it is created, so its root never changes.
    """
    root: IConstruct | None = getattr(scope, "_lc_root", None)
    if root is None:
        root = node_of(scope).root
        object.__setattr__(scope, "_lc_root", root)
    return root


def known_child(child: IConstruct, parent: IConstruct, *ids: str) -> None:
    """Record on ``child`` (made by the library under ``parent`` with the ids ``ids``) what ``parent`` already knows.

    Its path (the parent's path and the ids), its stack and its root, each only when ``parent`` holds it: no jsii
    round trip, and none later when `path_of()`, `stack_of()` or `root_of()` asks. ``ids`` are the construct ids
    from ``parent`` down to ``child`` (an L2's CloudFormation resource is its child ``Resource``).
    """
    path: str | None = getattr(parent, "_lc_path", None)
    if path is not None and "_lc_path" not in vars(child):
        object.__setattr__(child, "_lc_path", "/".join(p for p in (path, *ids) if p))
    stack = parent if isinstance(parent, Stack) else getattr(parent, "_lc_stack", None)
    if stack is not None and not isinstance(child, Stack) and "_lc_stack" not in vars(child):
        object.__setattr__(child, "_lc_stack", stack)
    root = getattr(parent, "_lc_root", None)
    if root is not None and "_lc_root" not in vars(child):
        object.__setattr__(child, "_lc_root", root)


def id_of(construct: IConstruct) -> str:
    """A construct's id: from the path the library recorded when it made it, else from jsii."""
    path: str | None = getattr(construct, "_lc_path", None)
    return path.rsplit("/", 1)[-1] if path else node_of(construct).id


def stack_of(scope: IConstruct) -> Stack:
    """``Stack.of(scope)`` without the round trip when the construct was made directly in a stack."""
    stack = getattr(scope, "_lc_stack", None)
    if stack is None:
        stack = scope if isinstance(scope, Stack) else Stack.of(scope)
        object.__setattr__(scope, "_lc_stack", stack)
    return typing.cast(Stack, stack)


def stack_info(scope: IConstruct) -> tuple[Stack, str, str]:
    """The stack of ``scope``, its name and its path; name and path read once per stack."""
    stack = stack_of(scope)  # jsii hands back the same Python object for the same stack
    info: tuple[str, str] | None = getattr(stack, "_lc_info", None)
    if info is None:
        info = (stack.stack_name, path_of(stack))
        object.__setattr__(stack, "_lc_info", info)
    return stack, info[0], info[1]


def child_path(scope: Construct, id: str) -> str:
    """The construct path a child ``id`` of ``scope`` will have (before it exists)."""
    return "/".join(p for p in (path_of(scope), id) if p)
