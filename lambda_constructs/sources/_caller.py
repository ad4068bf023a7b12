"""What the synchronous caller constructs share (load balancer, WebSocket, AppSync, Cognito, Step Functions)."""

from __future__ import annotations

from lambda_constructs.core.errors import Problem


def timeout_problem(prop: str, timeout_s: int, limit_s: int, caller: str, why: str) -> Problem | None:
    """A problem when a function's timeout reaches the time its caller waits (``limit_s``).

    The caller gives up at ``limit_s`` while the function keeps running and billing, and its answer
    is lost: refuse, naming both numbers.
    """
    if timeout_s < limit_s:
        return None
    return Problem(
        prop,
        f"{timeout_s} s",
        f"< {limit_s} s, {caller}",
        f"the function's {timeout_s} s timeout reaches the {limit_s} s the caller waits: {why}",
    )
