"""Padding layers, as PyTorch's: ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad`` and
``CircularPad`` in 1, 2 and 3 dimensions, each a thin wrapper over ``F.pad``.

``padding`` is an int (the same on every side) or ``(left, right)`` / ``(left, right, top, bottom)`` /
``(left, right, top, bottom, front, back)``. Input: ``(N, C, *spatial)`` or ``(C, *spatial)``.
"""

from __future__ import annotations

from typing import Any

from ..core.tensor import Tensor
from ._layers import check_float, check_int
from .functional.padding import pad
from .module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]


class _PadNd(Module):
    """Shared setup: the padding as a ``2 * dims`` tuple, the mode, the input check."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding: Any) -> None:
        super().__init__()
        owner, n = type(self).__name__, 2 * self._dims
        if isinstance(padding, (tuple, list)):
            if len(padding) != n:
                raise ValueError(f"{owner}: padding must be an int or {n} ints, received {padding!r}")
            self.padding = tuple(check_int(owner, "padding", p, None) for p in padding)
        else:
            self.padding = (check_int(owner, "padding", padding, None),) * n

    def _pad(self, input: Tensor, value: float | None = None) -> Tensor:
        shape = input.shape
        if len(shape) not in (self._dims + 1, self._dims + 2):
            spatial = ", ".join("DHW"[3 - self._dims:]) if self._dims > 1 else "L"
            self._shape_error(f"(N, C, {spatial}) or (C, {spatial})", shape)
        try:
            return pad(input, self.padding, self._mode, value)
        except ValueError as err:
            self._input_error(str(err).split(": ", 1)[-1])

    def forward(self, input: Tensor) -> Tensor:
        return self._pad(input)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = check_float(type(self).__name__, "value", value)

    def forward(self, input: Tensor) -> Tensor:
        return self._pad(input, self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``. Input ``(N, C, L)`` or ``(C, L)``."""

    _dims = 1

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``. Input ``(N, C, H, W)`` or ``(C, H, W)``."""

    _dims = 2

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value``. Input ``(N, C, D, H, W)`` or ``(C, D, H, W)``."""

    _dims = 3

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dimension with zeros. Input ``(N, C, L)`` or ``(C, L)``."""

    _dims = 1

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dimensions with zeros. Input ``(N, C, H, W)`` or ``(C, H, W)``."""

    _dims = 2

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dimensions with zeros. Input ``(N, C, D, H, W)`` or ``(C, D, H, W)``."""

    _dims = 3

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


def _mode_class(name: str, mode: str, dims: int, what: str) -> type:
    def __init__(self: Any, padding: Any) -> None:
        _PadNd.__init__(self, padding)

    __init__.__qualname__ = f"{name}.__init__"
    doc = f"Pad the last {dims} dimension(s) by {what}. Input ``(N, C, *spatial)`` or ``(C, *spatial)``."
    return type(name, (_PadNd,), {"_dims": dims, "_mode": mode, "__init__": __init__, "__doc__": doc,
                                  "__module__": __name__})


_WHAT = {"reflect": "reflecting the input at its edges (edge not repeated; each pad below that size)",
         "replicate": "repeating the edge values", "circular": "wrapping around (each pad at most that size)"}
ReflectionPad1d = _mode_class("ReflectionPad1d", "reflect", 1, _WHAT["reflect"])
ReflectionPad2d = _mode_class("ReflectionPad2d", "reflect", 2, _WHAT["reflect"])
ReflectionPad3d = _mode_class("ReflectionPad3d", "reflect", 3, _WHAT["reflect"])
ReplicationPad1d = _mode_class("ReplicationPad1d", "replicate", 1, _WHAT["replicate"])
ReplicationPad2d = _mode_class("ReplicationPad2d", "replicate", 2, _WHAT["replicate"])
ReplicationPad3d = _mode_class("ReplicationPad3d", "replicate", 3, _WHAT["replicate"])
CircularPad1d = _mode_class("CircularPad1d", "circular", 1, _WHAT["circular"])
CircularPad2d = _mode_class("CircularPad2d", "circular", 2, _WHAT["circular"])
CircularPad3d = _mode_class("CircularPad3d", "circular", 3, _WHAT["circular"])
