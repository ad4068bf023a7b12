"""Values read without (or with one) jsii round trip: tokens, durations, interface checks, short reprs."""

from __future__ import annotations

import math
import typing

from aws_cdk import Duration, Token

from lambda_constructs.core import errors, limits


def is_token(value: object) -> bool:
    """True for an unresolved CDK token (a CfnParameter value, an attribute...): decided at deploy time.

    Plain Python values are recognised without a jsii round trip (each costs 100-180 us): a string
    token contains ``${Token[``, a list token ``#{Token[``, and a number token is an encoded
    double beyond 1e280; only such a number is confirmed with ``Token.is_unresolved``.
    """
    if isinstance(value, str):
        return "${Token[" in value or "#{Token[" in value
    if isinstance(value, bool | int):
        return False
    if isinstance(value, float):
        # never hand NaN or infinity to jsii: its JSON transport cannot carry them and its Node process dies
        return math.isfinite(value) and abs(value) > 1e280 and bool(Token.is_unresolved(value))
    if isinstance(value, list | tuple):
        return any(isinstance(v, str) and is_token(v) for v in value)
    return False


limits.is_unresolved = is_token  # tokens (e.g. CfnParameter values) are checked at deploy time
errors.is_unresolved = is_token  # and never shown as their placeholder numbers in a message


short = errors.short  # ``value`` for an error message: its repr cut to 80 characters (pure: core/errors.py)


def implements(value: object, attribute: str) -> bool:
    """Duck-typed check for a jsii interface (``IQueue``, ``IStream``...), which are not runtime-checkable.

    Looks the attribute up on the type: on a jsii proxy, ``hasattr(value, ...)`` would read the
    property through the kernel (a round trip per check).
    """
    if value is None or isinstance(value, str | bytes | int | float):
        return False
    delegates = getattr(value, "_delegates", None) if type(value).__name__ == "InterfaceDynamicProxy" else None
    if delegates:  # an imported resource (LayerVersion.from_layer_version_arn...): jsii's proxy of its interfaces
        return any(hasattr(type(d), attribute) for d in delegates)
    return hasattr(type(value), attribute) or attribute in getattr(value, "__dict__", {})


def milliseconds(value: Duration) -> float | None:
    """The Duration in ms (None for a deploy-time token), read from jsii once per Duration object."""
    cached = getattr(value, "_lc_ms", False)
    if cached is False:
        try:  # one round trip: a token Duration either refuses the conversion or converts to a number token
            cached = value.to_milliseconds(integral=False)
        except RuntimeError:
            cached = None
        if cached is not None and is_token(cached):
            cached = None
        object.__setattr__(value, "_lc_ms", cached)
    return typing.cast("float | None", cached)


def seconds(value: Duration) -> int:
    return int(typing.cast(float, milliseconds(value)) // 1000)


_DURATIONS: dict[int, Duration] = {}


def duration_seconds(seconds: int) -> Duration:
    """``Duration.seconds(seconds)``, one jsii object per value for the whole process (Durations are immutable)."""
    duration = _DURATIONS.get(seconds)
    if duration is None:
        duration = _DURATIONS[seconds] = Duration.seconds(seconds)
        object.__setattr__(duration, "_lc_ms", seconds * 1000)
    return duration
