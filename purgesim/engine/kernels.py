"""Compiled kernels, compiled on first call: importing a module that defines one costs nothing.

``purgesim check`` validates a scenario, which imports every mechanism's parameters, and
should not pay for loading numba. A kernel is written as a plain function decorated with
:func:`njit`; numba is imported and the function compiled (or read from numba's cache) the
first time it is called. Kernels decorated here must not call one another (a compiled kernel
cannot call the wrapper); kernels that do use ``numba.njit`` directly, in modules that load it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def njit(**options: Any) -> Callable[[F], F]:
    """``numba.njit(**options)``, applied when the kernel is first called."""

    def wrap(function: F) -> F:
        compiled: Callable[..., Any] | None = None

        @functools.wraps(function)
        def call(*args: Any) -> Any:
            nonlocal compiled
            if compiled is None:
                import numba

                compiled = numba.njit(**options)(function)
            return compiled(*args)

        call.py_func = function  # type: ignore[attr-defined]  # as numba's dispatchers have
        return call  # type: ignore[return-value]

    return wrap
