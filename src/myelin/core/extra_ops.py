"""Less common PyTorch ops a tutorial or small project still reaches for: logical ops, ``addmm``,
``dist``, ``diagonal``, ``erf``, ``atan2``, ``fmod``/``remainder``, ``median``, ``cummax``, binning
(``bincount``, ``histc``, ``searchsorted``, ``bucketize``), ``nan_to_num`` and ``logspace``.

Each is either a short composition of existing differentiable ops (so its gradient comes from them)
or one graph node with its backward next to the forward (see ``node.py``). ``myelin.functions`` and
``Tensor`` give them their PyTorch names.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from .node import make_node, unbroadcast

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "addcdiv", "addcmul", "addmm", "argwhere", "atan2", "baddbmm", "bincount", "bucketize", "cummax", "cummin",
    "diagonal", "dist", "erf", "finfo", "floor_divide", "fmod", "histc", "iinfo", "logical_and", "logical_not",
    "logical_or", "logical_xor", "logspace", "median", "mode", "nan_to_num", "remainder", "searchsorted",
    "trace",
]

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _t(x: Any) -> Tensor:
    from .tensor import Tensor, tensor

    return x if isinstance(x, Tensor) else tensor(x)


def _wrap(arr: Any) -> Tensor:
    from .tensor import Tensor

    return Tensor._wrap(np.asarray(arr))


def _float(a: np.ndarray) -> np.ndarray:
    """Integer and bool inputs of a floating function compute in float32 (PyTorch's default dtype)."""
    return a if a.dtype.kind in "fc" else a.astype(np.float32)


# --------------------------------------------------------------------- logical (no gradient)
def logical_and(x: Any, other: Any) -> Tensor:
    return _wrap(np.logical_and(_t(x).data, _t(other).data))


def logical_or(x: Any, other: Any) -> Tensor:
    return _wrap(np.logical_or(_t(x).data, _t(other).data))


def logical_xor(x: Any, other: Any) -> Tensor:
    return _wrap(np.logical_xor(_t(x).data, _t(other).data))


def logical_not(x: Any) -> Tensor:
    return _wrap(np.logical_not(_t(x).data))


def argwhere(x: Any) -> Tensor:
    """The indices of the non-zero elements, one row per element: shape (n, x.dim())."""
    return _wrap(np.argwhere(_t(x).data).astype(np.int64))


# --------------------------------------------------------------------- compositions of differentiable ops
def addmm(input: Any, mat1: Any, mat2: Any, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``."""
    prod = _t(mat1) @ _t(mat2)
    return (_t(input) if beta == 1 else _t(input) * beta) + (prod if alpha == 1 else prod * alpha)


def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return addmm(input, batch1, batch2, beta=beta, alpha=alpha)


def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    return _t(input) + _t(tensor1) * _t(tensor2) * value


def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:
    """``input + value * tensor1 / tensor2``."""
    return _t(input) + _t(tensor1) / _t(tensor2) * value


def dist(x: Any, other: Any, p: float = 2) -> Tensor:
    """The p-norm of ``x - other`` over all elements."""
    return ops.norm(_t(x) - _t(other), p=p)


def trace(x: Any) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor."""
    x = _t(x)
    if x.data.ndim != 2:
        raise ValueError(f"trace: expected a 2-D tensor, received shape {tuple(x.shape)}")
    return diagonal(x).sum()


# --------------------------------------------------------------------- one-node ops
def diagonal(x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, as a new last dimension (PyTorch's ``torch.diagonal``)."""
    x = _t(x)
    a = x.data
    out = np.diagonal(a, offset, dim1, dim2).copy()

    def backward(g: np.ndarray) -> tuple:
        full = np.zeros(a.shape, dtype=g.dtype)
        view = np.moveaxis(full, (dim1, dim2), (-2, -1))
        n = g.shape[-1]
        rows = np.arange(n) + max(-offset, 0)
        cols = np.arange(n) + max(offset, 0)
        view[..., rows, cols] = g
        return (full,)

    return make_node(out, (x,), backward, "diagonal", {"offset": offset, "dim1": dim1, "dim2": dim2})


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced (by 0 and the dtype's largest/smallest finite values by default)."""
    x = _t(x)
    a = x.data
    out = np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    if a.dtype.kind != "f":
        return _wrap(out)
    finite = np.isfinite(a)
    return make_node(out, (x,), lambda g: (g * finite,), "nan_to_num")


def erf(x: Any) -> Tensor:
    """The error function; gradient ``2 / sqrt(pi) * exp(-x^2)``."""
    x = _t(x)
    a = _float(x.data)
    out = np.frompyfunc(math.erf, 1, 1)(a).astype(a.dtype)
    scale = a.dtype.type(2 / math.sqrt(math.pi))
    return make_node(out, (x,), lambda g: (g * scale * np.exp(-a * a),), "erf")


def atan2(y: Any, x: Any) -> Tensor:
    """The angle of the point (x, y), elementwise with broadcasting, in (-pi, pi]."""
    y, x = _t(y), _t(x)
    b, a = _float(y.data), _float(x.data)
    out = np.arctan2(b, a)

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = a * a + b * b
            return unbroadcast(g * a / r2, b.shape), unbroadcast(-g * b / r2, a.shape)

    return make_node(out, (y, x), backward, "atan2")


def _mod(x: Any, other: Any, fn: Any, rounding: Any, op: str) -> Tensor:
    from .tensor import Tensor

    x = _t(x)
    a = x.data
    b = other.data if isinstance(other, Tensor) else other
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(fn(a, b))
    if isinstance(other, Tensor):
        out = out.astype(np.result_type(a, b), copy=False)
    elif a.dtype.kind == "f" or not isinstance(other, float):
        out = out.astype(a.dtype, copy=False)
    if out.dtype.kind != "f":
        return _wrap(out)
    parents = (x, other) if isinstance(other, Tensor) else (x,)

    def backward(g: np.ndarray) -> tuple:
        gx = unbroadcast(g, a.shape)
        if len(parents) == 1:
            return (gx,)
        with np.errstate(divide="ignore", invalid="ignore"):
            return gx, unbroadcast(-g * rounding(a / b), np.shape(b))

    return make_node(out, parents, backward, op)


def fmod(x: Any, other: Any) -> Tensor:
    """C's remainder: the result has the sign of ``x`` (``x - trunc(x / other) * other``)."""
    return _mod(x, other, np.fmod, np.trunc, "fmod")


def remainder(x: Any, other: Any) -> Tensor:
    """Python's modulus: the result has the sign of ``other`` (``x - floor(x / other) * other``)."""
    return _mod(x, other, np.remainder, np.floor, "remainder")


def floor_divide(x: Any, other: Any) -> Tensor:
    """``floor(x / other)`` elementwise, in the promoted dtype (no gradient, as PyTorch)."""
    from .tensor import Tensor

    a = _t(x).data
    b = other.data if isinstance(other, Tensor) else other
    out = np.asarray(np.floor_divide(a, b))
    if not isinstance(other, Tensor) and not (isinstance(other, float) and a.dtype.kind != "f"):
        out = out.astype(a.dtype, copy=False)
    return _wrap(out)


# --------------------------------------------------------------------- order statistics
def median(x: Any, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median of all elements (a 0-d tensor), or ``(values, indices)`` along ``dim``."""
    x = _t(x)
    if dim is None:
        flat = x.reshape(-1)
        k = (flat.shape[0] - 1) // 2
        return ops.sort(flat).values[k]
    d = dim % max(x.data.ndim, 1)
    k = (x.shape[d] - 1) // 2
    values, indices = ops.sort(x, d)
    index = np.asarray([k])
    values = ops.index_select(values, d, index)
    indices = ops.index_select(indices, d, index)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return ValuesIndices(values, indices)


def mode(x: Any, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent value along ``dim`` (the smallest on ties) and the index of its last occurrence."""
    x = _t(x)
    a = np.moveaxis(x.data, dim, -1)
    rows = a.reshape(-1, a.shape[-1]) if a.ndim else a.reshape(1, 1)
    vals = np.empty(rows.shape[0], dtype=a.dtype)
    idx = np.empty(rows.shape[0], dtype=np.int64)
    for i, row in enumerate(rows):
        uniq, counts = np.unique(row, return_counts=True)
        v = uniq[np.argmax(counts)]
        vals[i] = v
        idx[i] = np.flatnonzero(row == v)[-1]
    index = _wrap(idx.reshape(a.shape[:-1]))
    if keepdim:
        index = index.unsqueeze(dim % max(x.data.ndim, 1))
    values = ops.gather(x, dim, index if keepdim else index.unsqueeze(dim % max(x.data.ndim, 1)))
    if not keepdim:
        values = values.squeeze(dim % max(x.data.ndim, 1))
    return ValuesIndices(values, index)


def _cumulative(x: Any, dim: int, better: Any) -> Any:
    x = _t(x)
    a = np.moveaxis(x.data, dim, -1)
    idx = np.zeros(a.shape, dtype=np.int64)
    best = a[..., 0].copy() if a.shape[-1] else a[..., :0]
    cur = np.zeros(a.shape[:-1], dtype=np.int64)
    for j in range(a.shape[-1]):
        take = better(a[..., j], best) | np.isnan(a[..., j]) if j else np.ones(a.shape[:-1], bool)
        best = np.where(take, a[..., j], best)
        cur = np.where(take, j, cur)
        idx[..., j] = cur
    index = _wrap(np.moveaxis(idx, -1, dim).copy())
    return ValuesIndices(ops.gather(x, dim, index), index)


def cummax(x: Any, dim: int) -> Any:
    """Running maximum along ``dim`` and the index where it was reached (the latest on ties)."""
    return _cumulative(x, dim, np.greater_equal)


def cummin(x: Any, dim: int) -> Any:
    """Running minimum along ``dim`` and the index where it was reached (the latest on ties)."""
    return _cumulative(x, dim, np.less_equal)


# --------------------------------------------------------------------- binning (no gradient)
def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Tensor:
    """How often each value 0..max occurs in the 1-d non-negative integer tensor ``x`` (weighted sums)."""
    a = _t(x).data
    if a.ndim != 1 or a.dtype.kind not in "iub":
        raise ValueError(f"bincount: expected a 1-d integer tensor, received {a.dtype} of shape {a.shape}")
    w = None if weights is None else _t(weights).data
    out = np.bincount(a, weights=w, minlength=minlength)
    return _wrap(out.astype(np.int64) if w is None else out.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def histc(x: Any, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts in ``bins`` equal bins over [min, max] (the data's range when both are 0); others ignored."""
    a = _t(x).data
    lo, hi = (float(a.min()), float(a.max())) if min == max and a.size else (float(min), float(max))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(a, bins=bins, range=(lo, hi))
    return _wrap(counts.astype(_float(a).dtype))


def searchsorted(sorted_sequence: Any, values: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None) -> Tensor:
    """Where each value would be inserted to keep the (last-dim) sorted sequence sorted."""
    seq = _t(sorted_sequence).data
    vals = _t(values).data if not np.isscalar(values) else np.asarray(values)
    side = side or ("right" if right else "left")
    if seq.ndim == 1:
        out = np.searchsorted(seq, vals, side=side)
    else:
        out = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(seq.reshape(-1, seq.shape[-1]),
                                                                       vals.reshape(-1, vals.shape[-1]),
                                                                       strict=True)]).reshape(vals.shape)
    return _wrap(np.asarray(out).astype(np.int32 if out_int32 else np.int64))


def bucketize(input: Any, boundaries: Any, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value: ``boundaries[i-1] < x <= boundaries[i]`` (``<=``/``<`` with ``right``)."""
    return searchsorted(boundaries, input, out_int32=out_int32, side="right" if right else "left")


# --------------------------------------------------------------------- creation and dtype info
def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values from ``base**start`` to ``base**end``, evenly spaced in the exponent."""
    from ..dtypes import as_dtype

    arr = np.logspace(start, end, steps, base=base).astype(np.float32 if dtype is None else as_dtype(dtype))
    out = _wrap(arr)
    if requires_grad:
        out.requires_grad_(True)
    return out


class finfo:
    """Machine limits of a floating dtype, as Python floats: ``bits``, ``eps``, ``max``, ``min``, ``tiny``,
    ``smallest_normal``, ``resolution``."""

    def __init__(self, dtype: Any = None) -> None:
        from ..dtypes import as_dtype

        self.dtype = np.dtype(np.float32 if dtype is None else as_dtype(dtype))
        info = np.finfo(self.dtype)
        self.bits = int(info.bits)
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = float(info.resolution)

    def __repr__(self) -> str:
        return f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, eps={self.eps}, dtype={self.dtype})"


class iinfo:
    """Limits of an integer dtype, as Python ints: ``bits``, ``max``, ``min``."""

    def __init__(self, dtype: Any) -> None:
        from ..dtypes import as_dtype

        self.dtype = np.dtype(as_dtype(dtype))
        info = np.iinfo(self.dtype)
        self.bits, self.max, self.min = int(info.bits), int(info.max), int(info.min)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
