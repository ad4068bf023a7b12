"""What the synchronous caller constructs share (load balancer, WebSocket, AppSync, Cognito, Step Functions)."""

from __future__ import annotations

from lambda_constructs.core.limits import caller_timeout_problem as timeout_problem

__all__ = ["timeout_problem"]
