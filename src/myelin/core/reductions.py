"""Reductions: sum, mean, var, std, max, min and arg-variants, with ``dim`` and ``keepdim``."""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from .._plural import counted
from . import node
from .node import make_node

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["MaxMin", "amax", "amin", "argmax", "argmin", "max", "mean", "min", "std", "sum", "var"]

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    span = builtins.max(ndim, 1)
    for d in dims:
        d = int(d)
        if not -span <= d < span:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {counted(ndim, 'dimension')}")
        out.append(d % span)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} repeats a dimension")
    if ndim == 0:  # a 0-d tensor takes dim 0 or -1 (as PyTorch) and has no axis to reduce
        return ()
    return tuple(sorted(out))


def _expand_back(g: np.ndarray, shape: tuple[int, ...], dims: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
    """Broadcast the gradient of a reduction back over the reduced axes."""
    if dims is None:
        return np.full(shape, g, dtype=g.dtype)
    if dims is not None and not keepdim and len(shape) > 0:
        g = np.expand_dims(g, dims)
    return np.broadcast_to(g, shape)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    a = x.data
    dims = normalize_dims(dim, a.ndim, "sum")
    out = np.asarray(a.sum(axis=dims, keepdims=keepdim))
    if out.dtype != a.dtype and a.dtype.kind == "f":
        out = out.astype(a.dtype)
    shape = a.shape
    return make_node(out, (x,), lambda g: (_expand_back(g, shape, dims, keepdim),), "sum",
                     {"dims": dims, "keepdim": keepdim})


def _count(shape: tuple[int, ...], dims: tuple[int, ...] | None) -> int:
    if dims is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[d] for d in dims], dtype=np.int64))


def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    a = x.data
    if a.dtype.kind != "f":
        raise TypeError(f"mean: expected a floating-point tensor, received dtype {a.dtype}")
    dims = normalize_dims(dim, a.ndim, "mean")
    out = np.asarray(a.mean(axis=dims, keepdims=keepdim), dtype=a.dtype)
    shape, n = a.shape, _count(a.shape, dims)
    return make_node(out, (x,), lambda g: (_expand_back(g / n, shape, dims, keepdim),), "mean",
                     {"dims": dims, "keepdim": keepdim})


def var(x: Tensor, dim: Any = None, keepdim: bool = False, correction: int = 1) -> Tensor:
    a = x.data
    dims = normalize_dims(dim, a.ndim, "var")
    n = _count(a.shape, dims)
    centered = a - a.mean(axis=dims, keepdims=True)
    denom = builtins.max(n - correction, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray((centered * centered).sum(axis=dims, keepdims=keepdim) / denom, dtype=a.dtype)
    shape = a.shape

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (_expand_back(g, shape, dims, keepdim) * (2.0 / denom) * centered,)

    return make_node(out, (x,), backward, "var", {"dims": dims, "keepdim": keepdim, "correction": correction})


def std(x: Tensor, dim: Any = None, keepdim: bool = False, correction: int = 1) -> Tensor:
    v = var(x, dim, keepdim, correction)
    return v.sqrt()


def _reduce_extreme(x: Tensor, dim: Any, keepdim: bool, fn: Any, argfn: Any, op: str) -> Any:
    a = x.data
    if dim is None:
        if a.size == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor")
        return _amax_like(x, None, False, fn, op)
    if a.ndim == 0:  # dim 0 or -1 of a 0-d tensor: the value itself, at index 0
        normalize_dims(dim, 0, op)
        return MaxMin(make_node(a.copy(), (x,), lambda g: (g,), op, {"dim": 0, "keepdim": keepdim}),
                      node.TENSOR_CLASS._wrap(np.zeros((), np.int64)))
    (d,) = normalize_dims(dim, a.ndim, op)
    if a.shape[d] == 0:  # other dims may be empty (an empty result), the reduced one may not
        raise ValueError(f"{op}: cannot reduce over dim {d} of size 0 (shape {a.shape})")
    idx = np.expand_dims(argfn(a, axis=d), d)
    values = np.take_along_axis(a, idx, axis=d)
    shape = a.shape

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros(shape, dtype=g.dtype)
        np.put_along_axis(gx, idx, g if keepdim else np.expand_dims(g, d), axis=d)
        return (gx,)

    out_values = values if keepdim else np.squeeze(values, d)
    out_idx = idx if keepdim else np.squeeze(idx, d)
    return MaxMin(make_node(out_values, (x,), backward, op, {"dim": d, "keepdim": keepdim}),
                  node.TENSOR_CLASS._wrap(out_idx.astype(np.int64)))


def _amax_like(x: Tensor, dim: Any, keepdim: bool, fn: Any, op: str) -> Tensor:
    a = x.data
    dims = normalize_dims(dim, a.ndim, op)
    out = np.asarray(fn(a, axis=dims, keepdims=keepdim))
    kept = np.asarray(fn(a, axis=dims, keepdims=True))
    shape = a.shape

    def backward(g: np.ndarray) -> tuple:
        mask = a == kept
        share = mask / mask.sum(axis=dims, keepdims=True)
        return (_expand_back(g, shape, dims, keepdim) * share.astype(g.dtype),)

    return make_node(out, (x,), backward, op, {"dims": dims, "keepdim": keepdim})


def max(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Largest value; with ``dim``, the named tuple ``(values, indices)`` as in PyTorch."""
    return _reduce_extreme(x, dim, keepdim, np.max, np.argmax, "max")


def min(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Smallest value; with ``dim``, the named tuple ``(values, indices)`` as in PyTorch."""
    return _reduce_extreme(x, dim, keepdim, np.min, np.argmin, "min")


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Largest values over ``dim``; ties share the gradient equally."""
    return _amax_like(x, dim, keepdim, np.max, "amax")


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _amax_like(x, dim, keepdim, np.min, "amin")


def _arg(x: Tensor, dim: int | None, keepdim: bool, fn: Any, op: str) -> Tensor:
    a = x.data
    if dim is None:
        out = np.asarray(fn(a))
        if keepdim:
            out = out.reshape((1,) * a.ndim)
    elif a.ndim == 0:
        normalize_dims(dim, 0, op)
        out = np.zeros((), np.int64)
    else:
        (d,) = normalize_dims(dim, a.ndim, op)
        out = fn(a, axis=d, keepdims=keepdim)
    result = node.TENSOR_CLASS._wrap(np.asarray(out, dtype=np.int64))
    if node.TRACER is not None:  # no gradient, so no graph node: only the tracer hears of it
        node.TRACER(result, (x,), op, {"dim": dim, "keepdim": keepdim})
    return result


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, np.argmax, "argmax")


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, np.argmin, "argmin")
