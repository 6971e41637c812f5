"""Tensor factories: zeros, ones, full, arange, eye and random draws from the library generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from .shape import _sizes
from .tensor import Tensor

__all__ = [
    "arange",
    "empty",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "randint",
    "randn",
    "zeros",
    "zeros_like",
]


def _dtype(dtype: Any, default: Any = np.float32) -> np.dtype:
    return np.dtype(default if dtype is None else dtype)


def _leaf(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.zeros(_sizes(size), dtype=_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.ones(_sizes(size), dtype=_dtype(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.empty(_sizes(size), dtype=_dtype(dtype)), requires_grad)


def full(size: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.full(_sizes((size,)), fill_value, dtype=_dtype(dtype)), requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    a = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _leaf(np.zeros(a.shape, dtype=_dtype(dtype, a.dtype)), requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    a = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _leaf(np.ones(a.shape, dtype=_dtype(dtype, a.dtype)), requires_grad)


def full_like(t: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    a = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _leaf(np.full(a.shape, fill_value, dtype=_dtype(dtype, a.dtype)), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Like ``torch.arange``: integers give int64, any float gives float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else np.float32
    return Tensor._wrap(np.arange(start, end, step).astype(dtype))


def linspace(start: float, end: float, steps: int, dtype: Any = None) -> Tensor:
    return Tensor._wrap(np.linspace(start, end, steps).astype(_dtype(dtype)))


def eye(n: int, m: int | None = None, dtype: Any = None) -> Tensor:
    return Tensor._wrap(np.eye(n, m, dtype=_dtype(dtype)))


def get_rng() -> np.random.Generator:
    """The library generator (``myelin.random`` imports ``numpy.random``: ~10 ms, so only on first use)."""
    from ..random import get_rng as library_rng

    return library_rng()


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), drawn from the library generator (see ``myelin.manual_seed``)."""
    return _leaf(get_rng().random(_sizes(size)).astype(_dtype(dtype)), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal, drawn from the library generator."""
    return _leaf(get_rng().standard_normal(_sizes(size)).astype(_dtype(dtype)), requires_grad)


def randint(low: int, high: int, size: Any, dtype: Any = np.int64) -> Tensor:
    return Tensor._wrap(get_rng().integers(low, high, size=_sizes((size,))).astype(dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """Share memory with ``array`` and keep its dtype (as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, received {type(array).__name__}")
    return Tensor._wrap(array)
