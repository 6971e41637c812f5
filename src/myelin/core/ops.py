"""More differentiable tensor ops, each one graph node: PyTorch's gather, sort, topk, cumsum, norm, einsum ...

Every op here follows the node protocol (see ``node.py``): a NumPy forward, a backward next to
it that returns one gradient per parent. ``myelin.functions`` gives them their top-level names and
``Tensor`` its methods.
"""

from __future__ import annotations

import string
from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from .._plural import counted
from . import node
from .node import make_node, unbroadcast

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "SortResult",
    "argsort",
    "cumprod",
    "cumsum",
    "diag",
    "einsum",
    "flip",
    "gather",
    "index_select",
    "logsumexp",
    "masked_fill",
    "masked_select",
    "nonzero",
    "norm",
    "prod",
    "repeat",
    "roll",
    "scatter",
    "scatter_add",
    "sort",
    "topk",
    "tril",
    "triu",
    "unary",
    "unique",
]

SortResult = namedtuple("SortResult", ["values", "indices"])


def _t(x: Any, like: np.ndarray | None = None) -> Tensor:
    return node.ensure_tensor(x, like)


def _arr(x: Any) -> np.ndarray:
    return x.data if isinstance(x, node.TENSOR_CLASS) else np.asarray(x)


def _axis(dim: int, ndim: int, op: str) -> int:
    span = max(ndim, 1)
    if not -span <= dim < span:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {counted(ndim, 'dimension')}")
    return dim % span


def _index(index: Any, op: str) -> np.ndarray:
    idx = _arr(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected an integer (int64) index tensor, received dtype {idx.dtype}")
    return idx


# --------------------------------------------------------------------- elementwise functions
_UNARY: dict[str, tuple[Any, Any]] = {
    # name: (forward(a), backward(g, a, out)); None as backward means the gradient is zero (PyTorch's choice)
    "sin": (np.sin, lambda g, a, o: g * np.cos(a)),
    "cos": (np.cos, lambda g, a, o: -g * np.sin(a)),
    "tan": (np.tan, lambda g, a, o: g * (1 + o * o)),
    "log1p": (np.log1p, lambda g, a, o: g / (1 + a)),
    "expm1": (np.expm1, lambda g, a, o: g * (o + 1)),
    "log2": (np.log2, lambda g, a, o: g / (a * np.log(2).astype(a.dtype))),
    "log10": (np.log10, lambda g, a, o: g / (a * np.log(10).astype(a.dtype))),
    "square": (np.square, lambda g, a, o: 2 * g * a),
    "reciprocal": (np.reciprocal, lambda g, a, o: -g * o * o),
    "rsqrt": (lambda a: 1 / np.sqrt(a), lambda g, a, o: -0.5 * g * o * o * o),
    "floor": (np.floor, None),
    "ceil": (np.ceil, None),
    "round": (np.round, None),
    "trunc": (np.trunc, None),
}


def unary(x: Tensor, name: str) -> Tensor:
    """The elementwise function ``name`` (one of ``_UNARY``) of ``x``, with its gradient."""
    forward, grad = _UNARY[name]
    a = x.data
    if a.dtype.kind != "f" and name not in ("floor", "ceil", "round", "trunc", "square"):
        a = a.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(forward(a))
    if grad is None:
        return make_node(out, (x,), lambda g: (np.zeros_like(g),), name)

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad(g, a, out),)

    return make_node(out, (x,), backward, name)


# --------------------------------------------------------------------- reductions
def prod(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Product of the elements (over ``dim``); the gradient is exact where zeros occur (as PyTorch)."""
    a = x.data
    d = None if dim is None else _axis(dim, a.ndim, "prod")
    if a.ndim == 0:  # dim 0 or -1 of a 0-d tensor: nothing to reduce
        d = None
    out = np.asarray(np.prod(a, axis=d, keepdims=keepdim))
    if a.dtype.kind == "f":
        out = out.astype(a.dtype)

    def backward(g: np.ndarray) -> tuple:
        axis = d
        src = a.reshape(-1) if axis is None else a
        axis = 0 if axis is None else axis
        # product of all the other elements: exclusive cumulative products from both sides
        moved = np.moveaxis(src, axis, -1)
        left = np.cumprod(np.concatenate([np.ones_like(moved[..., :1]), moved[..., :-1]], -1), -1)
        rev = moved[..., ::-1]
        right = np.cumprod(np.concatenate([np.ones_like(rev[..., :1]), rev[..., :-1]], -1), -1)[..., ::-1]
        others = np.moveaxis(left * right, -1, axis)
        gg = g if (keepdim or d is None) else np.expand_dims(g, d)
        result = gg * others
        return (result.reshape(a.shape),)

    return make_node(out, (x,), backward, "prod", {"dim": d, "keepdim": keepdim})


def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x), dim))`` computed stably."""
    a = x.data
    dims = tuple(_axis(int(d), a.ndim, "logsumexp") for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
    dims = dims if a.ndim else ()  # a 0-d tensor takes dim 0 or -1 and has no axis to reduce
    m = np.max(a, axis=dims, keepdims=True, initial=-np.inf)  # over nothing: log(0) = -inf, as PyTorch
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        kept = np.log(np.sum(np.exp(a - m), axis=dims, keepdims=True)) + m
    out = kept if keepdim else np.squeeze(kept, dims)

    def backward(g: np.ndarray) -> tuple:
        gg = g if keepdim else np.expand_dims(g, dims)
        return (gg * np.exp(a - kept),)

    return make_node(np.asarray(out, dtype=a.dtype), (x,), backward, "logsumexp", {"dims": dims})


def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over ``dim`` (all elements by default); ``'fro'`` is 2, ``inf`` the largest |x|.

    At zero the gradient is 0 (as PyTorch's subgradient).
    """
    a = x.data
    if a.dtype.kind != "f":
        raise TypeError(f"norm: expected a floating-point tensor, received dtype {a.dtype}")
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise TypeError(f"norm: p must be a number, 'fro' or inf, received {p!r}")
    dims = None if dim is None else tuple(
        _axis(int(d), a.ndim, "norm") for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
    if dims is not None and a.ndim == 0:  # dim 0 or -1 of a 0-d tensor: no axis to reduce
        dims = ()
    absa = np.abs(a)
    p = float(p)
    if p == np.inf:
        kept = np.max(absa, axis=dims, keepdims=True)
    elif p == 1:
        kept = np.sum(absa, axis=dims, keepdims=True)
    elif p == 2:
        kept = np.sqrt(np.sum(a * a, axis=dims, keepdims=True))
    elif p == 0:
        kept = np.sum(a != 0, axis=dims, keepdims=True).astype(a.dtype)
    else:
        kept = np.sum(absa ** p, axis=dims, keepdims=True) ** (1 / p)
    out = kept if keepdim else (kept.reshape(()) if dims is None else np.squeeze(kept, dims))

    def backward(g: np.ndarray) -> tuple:
        gg = g.reshape(kept.shape)
        sign = np.sign(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == np.inf:
                mask = absa == kept
                share = mask / np.sum(mask, axis=dims, keepdims=True)
                gx = gg * sign * share
            elif p == 1:
                gx = gg * sign
            elif p == 0:
                gx = np.zeros_like(a)
            elif p == 2:
                gx = np.where(kept == 0, 0, gg * a / kept)
            else:
                gx = np.where(kept == 0, 0, gg * sign * absa ** (p - 1) / kept ** (p - 1))
        return (gx.astype(a.dtype, copy=False),)

    return make_node(np.asarray(out, dtype=a.dtype), (x,), backward, "norm", {"p": p, "dims": dims})


def _scan(x: Tensor, dim: int, fn: Any, op: str) -> tuple[np.ndarray, int]:
    a = x.data
    d = _axis(dim, a.ndim, op)
    out = fn(a, axis=d) if a.ndim else a.copy()
    if a.dtype.kind in "iub":
        out = out.astype(np.int64)
    return out, d


def cumsum(x: Tensor, dim: int) -> Tensor:
    out, d = _scan(x, dim, np.cumsum, "cumsum")
    if x.data.ndim == 0:
        return make_node(out, (x,), lambda g: (g,), "cumsum")
    return make_node(out, (x,), lambda g: (np.flip(np.cumsum(np.flip(g, d), axis=d), d),), "cumsum", {"dim": d})


def cumprod(x: Tensor, dim: int) -> Tensor:
    """Cumulative product; the gradient assumes no zeros among the inputs of a scanned row."""
    out, d = _scan(x, dim, np.cumprod, "cumprod")
    a = x.data

    def backward(g: np.ndarray) -> tuple:
        if a.ndim == 0:
            return (g,)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.flip(np.cumsum(np.flip(g * out, d), axis=d), d) / a,)

    return make_node(out, (x,), backward, "cumprod", {"dim": d})


# --------------------------------------------------------------------- ordering
def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> SortResult:
    """``(values, indices)`` sorted along ``dim`` (a stable sort; ties keep their order)."""
    a = x.data
    if a.ndim == 0:
        return SortResult(x.clone() if hasattr(x, "clone") else x, node.TENSOR_CLASS._wrap(np.zeros((), np.int64)))
    d = _axis(dim, a.ndim, "sort")
    idx = np.argsort(-a if descending and a.dtype.kind != "b" else a, axis=d, kind="stable")
    if descending and a.dtype.kind == "b":
        idx = np.flip(idx, d)
    return _take_along(x, idx, d, "sort")


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(x, dim, descending, stable).indices


def _take_along(x: Tensor, idx: np.ndarray, d: int, op: str) -> SortResult:
    a = x.data
    values = np.take_along_axis(a, idx, axis=d)
    shape = a.shape

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros(shape, dtype=g.dtype)
        np.put_along_axis(gx, idx, g, axis=d)
        return (gx,)

    return SortResult(make_node(values, (x,), backward, op, {"dim": d}),
                      node.TENSOR_CLASS._wrap(idx.astype(np.int64, copy=False)))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> SortResult:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    a = x.data
    d = _axis(dim, a.ndim, "topk")
    n = a.shape[d] if a.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {n}")
    key = -a if largest else a
    idx = np.argsort(key, axis=d, kind="stable")
    idx = np.take(idx, np.arange(k), axis=d)
    return _take_along(x, idx, d, "topk")


# --------------------------------------------------------------------- gathering and scattering
def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """``out[i][j] = x[index[i][j]][j]`` for dim 0 (PyTorch's gather); ``index`` has x's number of dims."""
    a = x.data
    idx = _index(index, "gather")
    d = _axis(dim, a.ndim, "gather")
    if idx.ndim != a.ndim:
        raise ValueError(f"gather: index has {counted(idx.ndim, 'dimension')}, the input {a.ndim}")
    for k in range(a.ndim):
        if k != d and idx.shape[k] > a.shape[k]:
            raise ValueError(f"gather: index shape {idx.shape} exceeds the input shape {a.shape} at dim {k}")
    src = a[tuple(slice(0, idx.shape[k]) if k != d else slice(None) for k in range(a.ndim))]
    try:
        out = np.take_along_axis(src, idx, axis=d)
    except IndexError as err:
        raise IndexError(f"gather: {err} (input shape {a.shape})") from None
    shape, sub = a.shape, src.shape

    def backward(g: np.ndarray) -> tuple:
        gs = np.zeros(sub, dtype=g.dtype)
        _add_along(gs, idx, g, d)
        if sub == shape:
            return (gs,)
        gx = np.zeros(shape, dtype=g.dtype)
        gx[tuple(slice(0, s) for s in sub)] = gs
        return (gx,)

    return make_node(out, (x,), backward, "gather", {"dim": d})


def _along_index(idx: np.ndarray, d: int) -> tuple:
    """The full fancy index that addresses ``target[..., idx, ...]`` elementwise along ``d``."""
    grids = list(np.indices(idx.shape, sparse=True))
    grids[d] = idx
    return tuple(grids)


def _add_along(target: np.ndarray, idx: np.ndarray, values: np.ndarray, d: int) -> None:
    np.add.at(target, _along_index(idx, d), values)


def scatter(x: Tensor, dim: int, index: Any, src: Any, reduce: str | None = None) -> Tensor:
    """A copy of ``x`` with ``out[index[i][j]][j] = src[i][j]`` for dim 0 (PyTorch's out-of-place scatter)."""
    if reduce not in (None, "add"):
        raise ValueError(f"scatter: reduce must be None or 'add', received {reduce!r}")
    if reduce == "add":
        return scatter_add(x, dim, index, src)
    a = x.data
    idx = _index(index, "scatter")
    d = _axis(dim, a.ndim, "scatter")
    s = _t(src, a) if not isinstance(src, (int, float)) else None
    sval = np.broadcast_to(np.asarray(src, a.dtype), idx.shape) if s is None else s.data[
        tuple(slice(0, n) for n in idx.shape)]
    where = _along_index(idx, d)
    out = a.copy()
    out[where] = sval
    parents = (x,) if s is None else (x, s)
    sshape = None if s is None else s.data.shape

    def backward(g: np.ndarray) -> tuple:
        gx = g.copy()
        gx[where] = 0
        if s is None:
            return (gx,)
        gs = np.zeros(sshape, dtype=g.dtype)
        gs[tuple(slice(0, n) for n in idx.shape)] = g[where]
        return gx, gs

    return make_node(out, parents, backward, "scatter", {"dim": d})


def scatter_add(x: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of ``x`` with ``src[i][j]`` added at ``out[index[i][j]][j]`` for dim 0 (repeats add up)."""
    a = x.data
    idx = _index(index, "scatter_add")
    d = _axis(dim, a.ndim, "scatter_add")
    s = _t(src, a)
    part = tuple(slice(0, n) for n in idx.shape)
    where = _along_index(idx, d)
    out = a.copy()
    np.add.at(out, where, s.data[part])
    sshape = s.data.shape

    def backward(g: np.ndarray) -> tuple:
        gs = np.zeros(sshape, dtype=g.dtype)
        gs[part] = g[where]
        return g, gs

    return make_node(out, (x, s), backward, "scatter_add", {"dim": d})


def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
    """The slices of ``x`` at the 1-d ``index`` along ``dim``."""
    a = x.data
    idx = _index(index, "index_select")
    if idx.ndim > 1:
        raise ValueError(f"index_select: expected a 1-d index, received shape {idx.shape}")
    d = _axis(dim, a.ndim, "index_select")
    idx = idx.reshape(-1)
    try:
        out = np.take(a, idx, axis=d)
    except IndexError as err:
        raise IndexError(f"index_select: {err} (input shape {a.shape})") from None
    shape = a.shape

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros(shape, dtype=g.dtype)
        np.add.at(gx, (slice(None),) * d + (idx,), g)
        return (gx,)

    return make_node(out, (x,), backward, "index_select", {"dim": d})


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """``x`` with ``value`` where the boolean ``mask`` (broadcast to x's shape) is True."""
    a = x.data
    m = _arr(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: expected a bool mask, received dtype {m.dtype}")
    try:
        m = np.broadcast_to(m, a.shape)
    except ValueError:
        raise ValueError(f"masked_fill: mask of shape {m.shape} cannot be broadcast to {a.shape}") from None
    v = value.data if isinstance(value, node.TENSOR_CLASS) else value
    out = np.where(m, np.asarray(v, dtype=a.dtype), a)
    return make_node(out, (x,), lambda g: (np.where(m, np.zeros((), g.dtype), g),), "masked_fill")


def masked_select(x: Tensor, mask: Any) -> Tensor:
    """The elements of ``x`` where ``mask`` is True, as a 1-d tensor (both broadcast together)."""
    m = _arr(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: expected a bool mask, received dtype {m.dtype}")
    a = x.data
    shape = np.broadcast_shapes(a.shape, m.shape)
    ab, mb = np.broadcast_to(a, shape), np.broadcast_to(m, shape)

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros(shape, dtype=g.dtype)
        gx[mb] = g
        return (unbroadcast(gx, a.shape),)

    return make_node(ab[mb], (x,), backward, "masked_select")


# --------------------------------------------------------------------- rearranging
def repeat(x: Tensor, sizes: tuple[int, ...]) -> Tensor:
    """Tile ``x`` ``sizes[k]`` times along dim k (PyTorch's ``repeat``; numpy's ``tile``)."""
    a = x.data
    if len(sizes) < a.ndim:
        raise ValueError(f"repeat: expected at least {a.ndim} repeat counts for shape {a.shape}, received {sizes}")
    lead = len(sizes) - a.ndim
    src_shape = (1,) * lead + a.shape
    out = np.tile(a.reshape(src_shape), sizes)

    def backward(g: np.ndarray) -> tuple:
        split = []
        for r, n in zip(sizes, src_shape):
            split += [r, n]
        return (g.reshape(split).sum(axis=tuple(range(0, 2 * len(sizes), 2))).reshape(a.shape),)

    return make_node(out, (x,), backward, "repeat", {"sizes": tuple(sizes)})


def flip(x: Tensor, dims: Any) -> Tensor:
    a = x.data
    axes = tuple(_axis(int(d), a.ndim, "flip") for d in ((dims,) if isinstance(dims, int) else dims))
    return make_node(np.flip(a, axes).copy(), (x,), lambda g: (np.flip(g, axes),), "flip")


def roll(x: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    a = x.data
    out = np.roll(a, shifts, axis=dims)
    neg = tuple(-s for s in shifts) if isinstance(shifts, (tuple, list)) else -shifts
    return make_node(out, (x,), lambda g: (np.roll(g, neg, axis=dims),), "roll")


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-d tensor placed on a diagonal of a square matrix, or the diagonal of a 2-d tensor."""
    a = x.data
    if a.ndim == 1:
        n = a.shape[0] + abs(diagonal)
        out = np.zeros((n, n), dtype=a.dtype)
        rows = np.arange(a.shape[0]) + max(-diagonal, 0)
        cols = np.arange(a.shape[0]) + max(diagonal, 0)
        out[rows, cols] = a
        return make_node(out, (x,), lambda g: (g[rows, cols],), "diag")
    if a.ndim != 2:
        raise ValueError(f"diag: expected a 1-d or 2-d tensor, received shape {a.shape}")
    out = np.diagonal(a, diagonal).copy()
    shape = a.shape

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros(shape, dtype=g.dtype)
        k = np.arange(g.shape[0])
        gx[k + max(-diagonal, 0), k + max(diagonal, 0)] = g
        return (gx,)

    return make_node(out, (x,), backward, "diag")


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    keep = np.tril(np.ones(x.data.shape[-2:], dtype=bool), diagonal)
    return make_node(np.where(keep, x.data, np.zeros((), x.data.dtype)), (x,), lambda g: (g * keep,), "tril")


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    keep = np.triu(np.ones(x.data.shape[-2:], dtype=bool), diagonal)
    return make_node(np.where(keep, x.data, np.zeros((), x.data.dtype)), (x,), lambda g: (g * keep,), "triu")


# --------------------------------------------------------------------- einsum
def _parse_einsum(equation: str, arrays: list[np.ndarray]) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(arrays):
        raise ValueError(f"einsum: the equation {equation!r} names {len(terms)} operands, received {len(arrays)}")
    used = set(eq) - set(".,->")
    free = [c for c in string.ascii_letters if c not in used]
    ell_dims = max((a.ndim - len(t.replace("...", "")) for t, a in zip(terms, arrays) if "..." in t), default=0)
    ell = "".join(free[:ell_dims])
    out_terms = []
    for t, a in zip(terms, arrays):
        if "..." in t:
            n = a.ndim - len(t.replace("...", ""))
            t = t.replace("...", ell[ell_dims - n:])
        if len(t) != a.ndim:
            raise ValueError(f"einsum: operand {t!r} has {counted(a.ndim, 'dimension')}, the equation names {len(t)}")
        out_terms.append(t)
    if arrow:
        rhs = rhs.replace("...", ell)
    else:
        letters = "".join(out_terms)
        rhs = ell + "".join(sorted(c for c in set(letters) - set(ell) if letters.count(c) == 1))
    return out_terms, rhs


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation (``'ij,jk->ik'``, with ``...``) with gradients for every operand.

    Operands may be given one by one or as one list, as in PyTorch.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    like = next((o.data for o in operands if isinstance(o, node.TENSOR_CLASS)), None)
    ts = tuple(_t(o, like) for o in operands)
    arrays = [t.data for t in ts]
    terms, rhs = _parse_einsum(equation, arrays)
    spec = ",".join(terms) + "->" + rhs
    out = np.asarray(np.einsum(spec, *arrays, optimize=len(arrays) > 2))
    sizes = {c: n for t, a in zip(terms, arrays) for c, n in zip(t, a.shape)}

    def backward(g: np.ndarray) -> tuple:
        grads = []
        for i, t in enumerate(ts):
            if not t.requires_grad:
                grads.append(None)
                continue
            term = terms[i]
            if len(set(term)) != len(term):
                raise NotImplementedError(f"einsum: the gradient of an operand with a repeated index ({term!r}) "
                                          "is not supported")
            others = [terms[j] for j in range(len(ts)) if j != i]
            available = set(rhs).union(*others) if others else set(rhs)
            target = "".join(c for c in term if c in available)
            sub = ",".join([rhs, *others]) + "->" + target
            gi = np.einsum(sub, g, *[arrays[j] for j in range(len(ts)) if j != i], optimize=len(ts) > 2)
            if target != term:  # an index summed over in this operand alone: broadcast it back
                gi = np.broadcast_to(np.expand_dims(gi, tuple(k for k, c in enumerate(term) if c not in available)),
                                     tuple(sizes[c] for c in term))
            grads.append(unbroadcast(np.ascontiguousarray(gi), arrays[i].shape))
        return tuple(grads)

    return make_node(out, ts, backward, "einsum", {"equation": spec})


def nonzero(x: Any, as_tuple: bool = False) -> Any:
    """Indices of the non-zero elements: shape (n, ndim), or one 1-d tensor per dim with ``as_tuple``."""
    idx = np.nonzero(node.ensure_tensor(x).data)
    if as_tuple:
        return tuple(node.TENSOR_CLASS._wrap(i.astype(np.int64)) for i in idx)
    return node.TENSOR_CLASS._wrap(np.stack(idx, axis=1).astype(np.int64) if idx else np.zeros((0, 0), np.int64))


def unique(x: Any, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None) -> Any:
    a = node.ensure_tensor(x).data
    res = np.unique(a, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    if not (return_inverse or return_counts):
        return node.TENSOR_CLASS._wrap(res)
    values, *rest = res
    out = [node.TENSOR_CLASS._wrap(values)]
    for r in rest:
        out.append(node.TENSOR_CLASS._wrap(r.reshape(a.shape if r.size == a.size and dim is None else r.shape).astype(np.int64)))
    return tuple(out)
