"""Switching graph building on and off: ``no_grad`` and ``enable_grad``."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class _GradState(threading.local):
    """Per-thread switch, as PyTorch's grad mode: ``no_grad`` in one thread leaves others recording."""

    def __init__(self) -> None:
        self.enabled = True


STATE = _GradState()


def is_grad_enabled() -> bool:
    """True when operations record a graph for ``backward``."""
    return STATE.enabled


class set_grad_enabled:
    """Set graph recording on or off: as a plain call (``myelin.set_grad_enabled(False)`` switches it
    from then on, as in PyTorch), as a context manager (restored on exit) or as a decorator."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._prev: list[bool] = [STATE.enabled]
        self._applied = True  # PyTorch applies the mode at construction, so a bare call takes effect
        STATE.enabled = self.mode

    def __enter__(self) -> None:
        if self._applied:  # already switched by __init__; __exit__ restores
            self._applied = False
            return
        self._prev.append(STATE.enabled)
        STATE.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        STATE.enabled = self._prev.pop()

    def __call__(self, fn: F) -> F:
        if self._applied:  # used as a decorator: undo the switch made at construction
            self._applied = False
            STATE.enabled = self._prev.pop()
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(set_grad_enabled):
    """Build no graph inside: ``with myelin.no_grad(): ...``, ``@myelin.no_grad()`` or ``@myelin.no_grad``."""

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        self = super().__new__(cls)
        if func is not None:
            self.__init__()
            return self(func)
        return self

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        self.mode, self._prev, self._applied = False, [], False


class enable_grad(no_grad):
    """Record a graph again inside a ``no_grad`` block."""

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        self.mode, self._prev, self._applied = True, [], False
