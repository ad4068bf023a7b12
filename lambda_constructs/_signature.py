"""Real signatures for ``help()`` and IDEs on the library's jsii-based classes. Pure Python.

aws-cdk-lib's classes use jsii's metaclass, ``JSIIMeta``, whose ``__call__(cls, *args, **kwargs)``
registers each new object with the jsii kernel. ``inspect.signature(SomeClass)`` looks at the
metaclass's ``__call__`` before the class's ``__init__``, so ``help(ProductionFunction)`` showed
``(*args, **kwargs)``. A class's own ``__signature__`` comes first in ``inspect``, so setting it to
``__init__``'s (without ``self``) restores what users pass; the call itself is unchanged.
"""

from __future__ import annotations

import inspect
from typing import Any


def expose_signature(value: Any) -> Any:
    """Give a class whose metaclass overrides ``__call__`` the signature of its ``__init__``; returns it."""
    if not isinstance(value, type) or "__signature__" in vars(value):
        return value
    if type(value).__call__ is type.__call__ or "__init__" not in vars(value):
        return value  # the normal path already shows __init__, or the class adds no parameters of its own
    try:
        init = inspect.signature(vars(value)["__init__"])
    except (TypeError, ValueError):
        return value
    parameters = list(init.parameters.values())[1:]  # without self
    value.__signature__ = init.replace(parameters=parameters, return_annotation=inspect.Signature.empty)  # type: ignore[attr-defined]
    return value
