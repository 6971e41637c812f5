"""Tensor factories: zeros, ones, full, arange, eye and random draws from the library generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import check_device
from ..dtypes import as_dtype
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


def _dtype(dtype: Any, default: Any = np.float32, device: Any = None, where: str = "dtype") -> np.dtype:
    """The dtype to create (``default`` when None); ``device`` must be the CPU (None means the CPU)."""
    if device is not None:
        check_device(device, where)
    return np.dtype(default) if dtype is None else as_dtype(dtype, where)


def _leaf(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*shape: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
          ) -> Tensor:
    dims = _sizes(shape) if size is None else _sizes((size,))
    return _leaf(np.zeros(dims, dtype=_dtype(dtype, device=device, where="zeros")), requires_grad)


def ones(*shape: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
          ) -> Tensor:
    dims = _sizes(shape) if size is None else _sizes((size,))
    return _leaf(np.ones(dims, dtype=_dtype(dtype, device=device, where="ones")), requires_grad)


def empty(*shape: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
          ) -> Tensor:
    dims = _sizes(shape) if size is None else _sizes((size,))
    return _leaf(np.empty(dims, dtype=_dtype(dtype, device=device, where="empty")), requires_grad)


def full(size: Any, fill_value: float, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``size`` filled with ``fill_value``: float32 for a float, int64 for an int, bool for a bool (as PyTorch)."""
    default = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else np.float32
    return _leaf(np.full(_sizes((size,)), fill_value, dtype=_dtype(dtype, default, device, "full")), requires_grad)


def zeros_like(t: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    a = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _leaf(np.zeros(a.shape, dtype=_dtype(dtype, a.dtype, device, "zeros_like")), requires_grad)


def ones_like(t: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    a = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _leaf(np.ones(a.shape, dtype=_dtype(dtype, a.dtype, device, "ones_like")), requires_grad)


def full_like(t: Any, fill_value: float, dtype: Any = None, device: Any = None, requires_grad: bool = False
              ) -> Tensor:
    a = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _leaf(np.full(a.shape, fill_value, dtype=_dtype(dtype, a.dtype, device, "full_like")), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Like ``torch.arange``: integers give int64, any float gives float32."""
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dt = _dtype(dtype, np.int64 if is_int else np.float32, device, "arange")
    return _leaf(np.arange(start, end, step).astype(dt), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _leaf(np.linspace(start, end, steps).astype(_dtype(dtype, device=device, where="linspace")), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.eye(n, m, dtype=_dtype(dtype, device=device, where="eye")), requires_grad)


def get_rng() -> np.random.Generator:
    """The library generator (``myelin.random`` imports ``numpy.random``: ~10 ms, so only on first use)."""
    from ..random import get_rng as library_rng

    return library_rng()


def _source(generator: Any) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator`` (a myelin.Generator or NumPy one) or the library's."""
    if generator is None:
        return get_rng()
    return generator.rng if hasattr(generator, "rng") else generator


def rand(*shape: Any, size: Any = None, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), drawn from the library generator (see ``myelin.manual_seed``)."""
    dt = _dtype(dtype, device=device, where="rand")
    dims = _sizes(shape) if size is None else _sizes((size,))
    return _leaf(_source(generator).random(dims).astype(dt), requires_grad)


def randn(*shape: Any, size: Any = None, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Standard normal, drawn from the library generator."""
    dt = _dtype(dtype, device=device, where="randn")
    dims = _sizes(shape) if size is None else _sizes((size,))
    return _leaf(_source(generator).standard_normal(dims).astype(dt), requires_grad)


def randint(low: int, high: Any = None, size: Any = None, generator: Any = None, dtype: Any = None,
            device: Any = None) -> Tensor:
    """Integers in ``[low, high)`` (``randint(high, size)`` draws from ``[0, high)``), int64 by default."""
    if size is None:  # randint(high, size)
        if high is None:
            raise TypeError("randint: expected randint(low, high, size) or randint(high, size)")
        low, high, size = 0, low, high
    dt = _dtype(dtype, np.int64, device, "randint")
    return Tensor._wrap(_source(generator).integers(low, high, size=_sizes((size,))).astype(dt))


def from_numpy(array: np.ndarray) -> Tensor:
    """Share memory with ``array`` and keep its dtype (as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, received {type(array).__name__}")
    return Tensor._wrap(array)
