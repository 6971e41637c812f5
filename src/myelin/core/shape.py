"""Shape operations: reshape, transpose, permute, squeeze, expand, cat, stack, split, pad."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._plural import counted
from . import node
from .node import make_node, unbroadcast

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "broadcast_to",
    "cat",
    "chunk",
    "concatenate",
    "expand",
    "flatten",
    "pad",
    "permute",
    "reshape",
    "split",
    "squeeze",
    "stack",
    "transpose",
    "unsqueeze",
]


def _sizes(args: Sequence[Any]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` as well as ``f((2, 3))``."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def _axis(dim: int, ndim: int, op: str) -> int:
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {counted(ndim, 'dimension')}")
    return dim % ndim


def reshape(x: Tensor, shape: Sequence[Any]) -> Tensor:
    a = x.data
    new = _sizes(shape)
    try:
        out = a.reshape(new)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {a.shape} ({counted(a.size, 'element')}) into {new}") from None
    old = a.shape
    return make_node(out, (x,), lambda g: (g.reshape(old),), "reshape", {"shape": new})


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    nd = x.data.ndim
    d0, d1 = _axis(dim0, nd, "transpose"), _axis(dim1, nd, "transpose")
    return make_node(np.swapaxes(x.data, d0, d1), (x,), lambda g: (np.swapaxes(g, d0, d1),), "transpose",
                     {"dims": (d0, d1)})


def permute(x: Tensor, dims: Sequence[Any]) -> Tensor:
    nd = x.data.ndim
    order = tuple(_axis(d, nd, "permute") for d in _sizes(dims)) if len(dims) else ()
    if sorted(order) != list(range(nd)):
        raise ValueError(f"permute: {tuple(dims)} is not a permutation of the {counted(nd, 'dimension')} of shape {x.shape}")
    inverse = tuple(np.argsort(order))
    return make_node(np.transpose(x.data, order), (x,), lambda g: (np.transpose(g, inverse),), "permute",
                     {"perm": order})


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    a = x.data
    if dim is None:
        axes = tuple(i for i, s in enumerate(a.shape) if s == 1)
    else:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        axes = tuple(d for d in (_axis(int(d), max(a.ndim, 1), "squeeze") for d in dims) if a.ndim and a.shape[d] == 1)
    old = a.shape
    return make_node(np.squeeze(a, axes) if axes else a, (x,), lambda g: (g.reshape(old),), "squeeze", {"axes": axes})


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    a = x.data
    d = _axis(dim, a.ndim + 1, "unsqueeze")
    return make_node(np.expand_dims(a, d), (x,), lambda g: (np.squeeze(g, d),), "unsqueeze", {"axis": d})


def broadcast_to(x: Tensor, shape: Sequence[Any]) -> Tensor:
    a = x.data
    new = _sizes(shape) if not isinstance(shape, tuple) else tuple(int(s) for s in shape)
    try:
        out = np.broadcast_to(a, new)
    except ValueError:
        raise ValueError(f"broadcast_to: shape {a.shape} cannot be broadcast to {new}") from None
    old = a.shape
    return make_node(out, (x,), lambda g: (unbroadcast(g, old),), "expand", {"shape": new})


def expand(x: Tensor, sizes: Sequence[Any]) -> Tensor:
    """``broadcast_to`` where -1 keeps a dimension's size (PyTorch's ``expand``)."""
    new = list(_sizes(sizes))
    lead = len(new) - x.data.ndim
    if lead < 0:
        raise ValueError(f"expand: {tuple(new)} has fewer dimensions than the tensor's shape {x.shape}")
    for i, s in enumerate(new):
        if s == -1:
            if i < lead:
                raise ValueError(f"expand: -1 is not allowed for the new leading dimension {i}")
            new[i] = x.data.shape[i - lead]
    return broadcast_to(x, tuple(new))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    a = x.data
    if a.ndim == 0:
        return reshape(x, (1,))
    s, e = _axis(start_dim, a.ndim, "flatten"), _axis(end_dim, a.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    new = a.shape[:s] + (int(np.prod(a.shape[s:e + 1], dtype=np.int64)),) + a.shape[e + 1:]
    return reshape(x, new)


def _tensors(tensors: Sequence[Any], op: str) -> list[Tensor]:
    ts = list(tensors)
    if not ts:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    first = next((t for t in ts if isinstance(t, node.TENSOR_CLASS)), None)
    like = first.data if first is not None else None
    return [node.ensure_tensor(t, like) for t in ts]


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    ts = _tensors(tensors, "cat")
    arrays = [t.data for t in ts]
    d = _axis(dim, arrays[0].ndim, "cat")
    try:
        out = np.concatenate(arrays, axis=d)
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"cat: shapes {shapes} differ outside dim {dim}") from None
    bounds = np.cumsum([a.shape[d] for a in arrays])[:-1]

    def backward(g: np.ndarray) -> tuple:
        return tuple(np.split(g, bounds, axis=d))

    return make_node(out, tuple(ts), backward, "cat", {"dim": d})


concatenate = cat


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
    ts = _tensors(tensors, "stack")
    arrays = [t.data for t in ts]
    d = _axis(dim, arrays[0].ndim + 1, "stack")
    if any(a.shape != arrays[0].shape for a in arrays):
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"stack: expected tensors of one shape, got {shapes}")
    n = len(arrays)
    lead = (slice(None),) * d
    if n == 1:  # a copy with a new axis: np.stack's Python-level machinery costs more than the copy
        a = arrays[0]
        out = a.reshape(a.shape[:d] + (1,) + a.shape[d:]).copy()
    else:
        out = np.stack(arrays, axis=d)

    def backward(g: np.ndarray) -> tuple:
        return tuple(g[lead + (k,)] for k in range(n))  # views, as np.split would give

    return make_node(out, tuple(ts), backward, "stack", {"dim": d})


def _slice_along(x: Tensor, d: int, start: int, stop: int) -> Tensor:
    a = x.data
    index = (slice(None),) * d + (slice(start, stop),)
    shape = a.shape

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros(shape, dtype=g.dtype)
        gx[index] = g
        return (gx,)

    return make_node(a[index], (x,), backward, "split", {"dim": d, "start": start, "stop": stop})


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes."""
    d = _axis(dim, x.data.ndim, "split")
    n = x.data.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, received {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} sum to {sum(sizes)}, but dim {dim} has size {n}")
    out, start = [], 0
    for s in sizes:
        out.append(_slice_along(x, d, start, start + s))
        start += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most ``chunks`` pieces of equal size (the last may be smaller), as PyTorch."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, received {chunks}")
    n = x.data.shape[_axis(dim, x.data.ndim, "chunk")]
    size = max(-(-n // chunks), 1)
    return split(x, size, dim)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad with ``value``; ``pad`` lists (before, after) pairs from the last dimension backwards, as PyTorch."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, received {mode!r}")
    pads = [int(p) for p in pad]
    a = x.data
    if len(pads) % 2 or len(pads) // 2 > a.ndim:
        raise ValueError(f"pad: expected an even number of at most {counted(2 * a.ndim, 'value')}, received {len(pads)}")
    widths = [(0, 0)] * a.ndim
    for i in range(len(pads) // 2):
        widths[a.ndim - 1 - i] = (pads[2 * i], pads[2 * i + 1])
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        crop = tuple(slice(max(-lo, 0), a.shape[k] - max(-hi, 0)) for k, (lo, hi) in enumerate(widths))
        x = x[crop]
        a = x.data
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    out = np.pad(a, widths, mode="constant", constant_values=value)
    inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
    return make_node(out, (x,), lambda g: (g[inner],), "pad", {"widths": widths, "value": value})
