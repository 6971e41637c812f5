"""PyTorch's top-level functions (``torch.sum``, ``torch.argmax``, ``torch.einsum`` ...) as ``myelin.*``.

Thin names over the one implementation in :mod:`myelin.core` (and :mod:`myelin.nn.functional` for
the activations, imported on first use): each function here turns its first argument into a tensor
and calls the op. Differences from PyTorch raise an error that says what to write instead.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._plural import counted
from .core import node, ops, reductions, shape
from .core.grad_mode import no_grad, set_grad_enabled
from .core.ops import nonzero, unique
from .core.tensor import Tensor, matmul, maximum, minimum
from .core.tensor import as_tensor as _core_as_tensor
from .core.tensor import tensor as _core_tensor
from .devices import check_device
from .dtypes import as_dtype

__all__ = [
    "BoolTensor",
    "ByteTensor",
    "DoubleTensor",
    "FloatTensor",
    "IntTensor",
    "LongTensor",
    "abs",
    "absolute",
    "add",
    "all",
    "allclose",
    "amax",
    "amin",
    "any",
    "are_deterministic_algorithms_enabled",
    "argmax",
    "argmin",
    "argsort",
    "as_tensor",
    "bernoulli",
    "bmm",
    "cdist",
    "ceil",
    "clamp",
    "clip",
    "compile",
    "concat",
    "cos",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "diag",
    "div",
    "dot",
    "e",
    "einsum",
    "empty_like",
    "eq",
    "equal",
    "exp",
    "expm1",
    "flatten",
    "flip",
    "floor",
    "gather",
    "ge",
    "get_default_device",
    "get_num_threads",
    "gt",
    "hstack",
    "index_select",
    "inf",
    "inference_mode",
    "is_nonzero",
    "is_tensor",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "le",
    "lerp",
    "log",
    "log1p",
    "log2",
    "log10",
    "log_softmax",
    "logsumexp",
    "lt",
    "masked_fill",
    "masked_select",
    "max",
    "mean",
    "meshgrid",
    "min",
    "mm",
    "moveaxis",
    "movedim",
    "mul",
    "multinomial",
    "mv",
    "nan",
    "narrow",
    "ne",
    "neg",
    "nonzero",
    "norm",
    "normal",
    "numel",
    "outer",
    "permute",
    "pi",
    "pow",
    "prod",
    "rand_like",
    "randint_like",
    "randn_like",
    "randperm",
    "reciprocal",
    "relu",
    "repeat_interleave",
    "reshape",
    "roll",
    "round",
    "rsqrt",
    "scatter",
    "scatter_add",
    "set_default_device",
    "set_num_threads",
    "set_printoptions",
    "sigmoid",
    "sign",
    "sin",
    "softmax",
    "sort",
    "sqrt",
    "square",
    "squeeze",
    "std",
    "std_mean",
    "sub",
    "sum",
    "swapaxes",
    "swapdims",
    "t",
    "tan",
    "tanh",
    "tensor",
    "topk",
    "transpose",
    "tril",
    "triu",
    "trunc",
    "unbind",
    "unique",
    "unsqueeze",
    "use_deterministic_algorithms",
    "var",
    "var_mean",
    "vstack",
]


pi, e, inf, nan = math.pi, math.e, math.inf, math.nan


def _t(x: Any) -> Tensor:
    """``x`` as a tensor (constants become leaves that need no gradient)."""
    return x if isinstance(x, Tensor) else node.ensure_tensor(x)


# --------------------------------------------------------------------- creating tensors
def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (float32 for floats unless ``dtype`` says otherwise)."""
    check_device(device, "tensor")
    return _core_tensor(data, requires_grad=requires_grad, dtype=None if dtype is None else as_dtype(dtype, "tensor"))


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory with a NumPy array or tensor when no conversion is needed."""
    check_device(device, "as_tensor")
    return _core_as_tensor(data, dtype=None if dtype is None else as_dtype(dtype, "as_tensor"))


def _legacy(dtype: Any, name: str) -> Any:
    def constructor(*args: Any) -> Tensor:
        if args and builtins.all(isinstance(a, int) and not isinstance(a, bool) for a in args):  # FloatTensor(2, 3): a shape
            return Tensor._wrap(np.zeros(args, dtype))
        if len(args) != 1:
            raise TypeError(f"{name}: expected data (a list or array) or a shape, received {args!r}")
        return _core_tensor(args[0], dtype=dtype)

    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = f"PyTorch's legacy ``{name}(data)`` / ``{name}(*shape)`` (zeros); prefer ``tensor(data, dtype=...)``."
    return constructor


FloatTensor, DoubleTensor = _legacy(np.float32, "FloatTensor"), _legacy(np.float64, "DoubleTensor")
LongTensor, IntTensor = _legacy(np.int64, "LongTensor"), _legacy(np.int32, "IntTensor")
BoolTensor, ByteTensor = _legacy(np.bool_, "BoolTensor"), _legacy(np.uint8, "ByteTensor")


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def numel(x: Any) -> int:
    return int(_t(x).data.size)


def _like(x: Any, dtype: Any, device: Any, where: str) -> tuple[np.ndarray, np.dtype]:
    check_device(device, where)
    a = _t(x).data
    return a, a.dtype if dtype is None else as_dtype(dtype, where)


def _leaf(arr: np.ndarray, requires_grad: bool) -> Tensor:
    out = Tensor._wrap(arr)
    return out.requires_grad_(True) if requires_grad else out


def _rng() -> np.random.Generator:
    from .random import get_rng

    return get_rng()


def _generator(generator: Any) -> np.random.Generator:
    if generator is None:
        return _rng()
    return generator.rng if hasattr(generator, "rng") else generator


def empty_like(x: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    a, dt = _like(x, dtype, device, "empty_like")
    return _leaf(np.empty(a.shape, dt), requires_grad)


def rand_like(x: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    a, dt = _like(x, dtype, device, "rand_like")
    return _leaf(_rng().random(a.shape).astype(dt), requires_grad)


def randn_like(x: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    a, dt = _like(x, dtype, device, "randn_like")
    return _leaf(_rng().standard_normal(a.shape).astype(dt), requires_grad)


def randint_like(x: Any, low: int, high: int | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    a, dt = _like(x, dtype, device, "randint_like")
    if high is None:
        low, high = 0, low
    return Tensor._wrap(_rng().integers(low, high, size=a.shape).astype(dt))


def randperm(n: int, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64)."""
    check_device(device, "randperm")
    dt = np.int64 if dtype is None else as_dtype(dtype, "randperm")
    return _leaf(_generator(generator).permutation(int(n)).astype(dt), requires_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, generator: Any = None) -> Tensor:
    """Normal draws with the given mean and std (numbers or tensors; ``size`` when both are numbers)."""
    m, s = np.asarray(getattr(mean, "data", mean)), np.asarray(getattr(std, "data", std))
    shp = tuple(size) if size is not None else np.broadcast_shapes(m.shape, s.shape)
    tensors = [v.data.dtype for v in (mean, std) if isinstance(v, Tensor) and v.data.dtype.kind == "f"]
    dt = np.result_type(*tensors) if tensors else np.float32  # numbers give float32, PyTorch's default
    return Tensor._wrap((m + s * _generator(generator).standard_normal(shp)).astype(dt))


def bernoulli(x: Any, p: float | None = None, generator: Any = None) -> Tensor:
    """1 with probability ``x`` (elementwise; or ``p`` for every element), else 0."""
    a = _t(x).data
    prob = a if p is None else np.full(a.shape, p)
    return Tensor._wrap((_generator(generator).random(a.shape) < prob).astype(a.dtype))


def multinomial(x: Any, num_samples: int, replacement: bool = False, generator: Any = None) -> Tensor:
    """Indices drawn with probabilities proportional to the rows of ``x`` (shape (C,) or (N, C))."""
    a = np.asarray(_t(x).data, dtype=np.float64)
    if a.ndim not in (1, 2):
        raise ValueError(f"multinomial: expected weights of shape (C,) or (N, C), received {a.shape}")
    if (a < 0).any() or not np.isfinite(a).all():
        raise ValueError("multinomial: weights must be finite and non-negative")
    rows = a.reshape(-1, a.shape[-1])
    if (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial: every row of weights needs a positive sum")
    if not replacement and num_samples > int((rows > 0).sum(axis=1).min()):
        raise ValueError(f"multinomial: cannot draw {counted(num_samples, 'sample')} without replacement from fewer "
                         f"non-zero weights")
    rng = _generator(generator)
    out = np.stack([rng.choice(r.size, size=num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return Tensor._wrap(out.reshape(a.shape[:-1] + (num_samples,)).astype(np.int64))


# --------------------------------------------------------------------- elementwise
def abs(x: Any) -> Tensor:
    return _t(x).abs()


absolute = abs


def exp(x: Any) -> Tensor:
    return _t(x).exp()


def log(x: Any) -> Tensor:
    return _t(x).log()


def sqrt(x: Any) -> Tensor:
    return _t(x).sqrt()


def sign(x: Any) -> Tensor:
    return _t(x).sign()


def neg(x: Any) -> Tensor:
    return -_t(x)


def _unary(name: str) -> Any:
    def fn(x: Any) -> Tensor:
        return ops.unary(_t(x), name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` (with its gradient)."
    return fn


sin, cos, tan = _unary("sin"), _unary("cos"), _unary("tan")
log1p, expm1, log2, log10 = _unary("log1p"), _unary("expm1"), _unary("log2"), _unary("log10")
square, reciprocal, rsqrt = _unary("square"), _unary("reciprocal"), _unary("rsqrt")
floor, ceil, trunc = _unary("floor"), _unary("ceil"), _unary("trunc")


def round(x: Any, *, decimals: int = 0) -> Tensor:
    """Round half to even (to ``decimals`` decimal places); the gradient is zero."""
    return _t(x).round(decimals=decimals)


def clamp(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """Limit to ``[min, max]`` (numbers, or tensors broadcast against ``x``)."""
    x = _t(x)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return x.clamp(min, max)


clip = clamp


def add(x: Any, other: Any, alpha: float = 1) -> Tensor:
    return _t(x) + (other if alpha == 1 else other * alpha)


def sub(x: Any, other: Any, alpha: float = 1) -> Tensor:
    return _t(x) - (other if alpha == 1 else other * alpha)


def mul(x: Any, other: Any) -> Tensor:
    return _t(x) * other


def div(x: Any, other: Any, rounding_mode: str | None = None) -> Tensor:
    """``x / other``; ``rounding_mode='floor'`` or ``'trunc'`` rounds the quotient (no gradient then)."""
    out = _t(x) / other
    if rounding_mode is None:
        return out
    if rounding_mode not in ("floor", "trunc"):
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', received {rounding_mode!r}")
    a = _t(x).data
    q = np.floor(out.data) if rounding_mode == "floor" else np.trunc(out.data)
    return Tensor._wrap(q.astype(a.dtype) if a.dtype.kind in "iu" and _t(other).data.dtype.kind in "iu" else q)


def pow(x: Any, exponent: Any) -> Tensor:
    if not isinstance(x, Tensor):
        return _t(exponent).__rpow__(x)
    return x ** exponent


# activations: the math is in nn.functional (imported on first use, to keep ``import myelin`` light)
def relu(x: Any) -> Tensor:
    return _t(x).relu()


def sigmoid(x: Any) -> Tensor:
    return _t(x).sigmoid()


def tanh(x: Any) -> Tensor:
    return _t(x).tanh()


def softmax(x: Any, dim: int, dtype: Any = None) -> Tensor:
    from .nn.functional import softmax as f

    return f(_t(x), dim=dim, dtype=dtype)


def log_softmax(x: Any, dim: int, dtype: Any = None) -> Tensor:
    from .nn.functional import log_softmax as f

    return f(_t(x), dim=dim, dtype=dtype)


# --------------------------------------------------------------------- comparisons (no gradient)
def _cmp(name: str) -> Any:
    def fn(x: Any, other: Any) -> Tensor:
        return getattr(_t(x), name)(other)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` comparison, as a bool tensor."
    return fn


eq, ne, lt, le, gt, ge = _cmp("eq"), _cmp("ne"), _cmp("lt"), _cmp("le"), _cmp("gt"), _cmp("ge")


def isnan(x: Any) -> Tensor:
    return Tensor._wrap(np.isnan(_t(x).data))


def isinf(x: Any) -> Tensor:
    return Tensor._wrap(np.isinf(_t(x).data))


def isfinite(x: Any) -> Tensor:
    return Tensor._wrap(np.isfinite(_t(x).data))


def isclose(x: Any, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    return Tensor._wrap(np.isclose(_t(x).data, _t(other).data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(x: Any, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether ``|x - other| <= atol + rtol * |other|`` everywhere (a Python bool, as PyTorch)."""
    return bool(np.allclose(_t(x).data, _t(other).data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(x: Any, other: Any) -> bool:
    """Whether both have the same shape and the same values (a Python bool)."""
    a, b = _t(x).data, _t(other).data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def is_nonzero(x: Any) -> bool:
    a = _t(x).data
    if a.size != 1:
        raise RuntimeError(f"is_nonzero: expected a one-element tensor, received shape {a.shape}")
    return bool(a.reshape(()))


def count_nonzero(x: Any, dim: Any = None) -> Tensor:
    return Tensor._wrap(np.asarray(np.count_nonzero(_t(x).data, axis=dim), dtype=np.int64))


# --------------------------------------------------------------------- reductions
def _dtype_cast(x: Tensor, dtype: Any) -> Tensor:
    return x if dtype is None else x.astype(as_dtype(dtype))


def sum(x: Any, dim: Any = None, keepdim: bool = False, dtype: Any = None, *, axis: Any = None) -> Tensor:
    dim = dim if axis is None else axis
    return reductions.sum(_dtype_cast(_t(x), dtype), dim, keepdim)


def mean(x: Any, dim: Any = None, keepdim: bool = False, dtype: Any = None, *, axis: Any = None) -> Tensor:
    dim = dim if axis is None else axis
    return reductions.mean(_dtype_cast(_t(x), dtype), dim, keepdim)


def prod(x: Any, dim: int | None = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    return ops.prod(_dtype_cast(_t(x), dtype), dim, keepdim)


def var(x: Any, dim: Any = None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None
        ) -> Tensor:
    return _t(x).var(dim, keepdim, correction=correction, unbiased=unbiased)


def std(x: Any, dim: Any = None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None
        ) -> Tensor:
    return _t(x).std(dim, keepdim, correction=correction, unbiased=unbiased)


def std_mean(x: Any, dim: Any = None, keepdim: bool = False, *, correction: int = 1) -> tuple[Tensor, Tensor]:
    x = _t(x)
    return x.std(dim, keepdim, correction=correction), reductions.mean(x, dim, keepdim)


def var_mean(x: Any, dim: Any = None, keepdim: bool = False, *, correction: int = 1) -> tuple[Tensor, Tensor]:
    x = _t(x)
    return x.var(dim, keepdim, correction=correction), reductions.mean(x, dim, keepdim)


def _extreme(x: Any, dim: Any, keepdim: bool, op: str) -> Any:
    if isinstance(dim, Tensor) or (dim is not None and not isinstance(dim, (int, np.integer))):
        return (maximum if op == "max" else minimum)(x, dim)  # torch.max(a, b): elementwise
    fn = reductions.max if op == "max" else reductions.min
    return fn(_t(x), dim, keepdim)


def max(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """The largest value; with ``dim``, ``(values, indices)``; with a tensor ``other``, the elementwise maximum."""
    return _extreme(x, dim, keepdim, "max")


def min(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """The smallest value; with ``dim``, ``(values, indices)``; with a tensor ``other``, the elementwise minimum."""
    return _extreme(x, dim, keepdim, "min")


def amax(x: Any, dim: Any = (), keepdim: bool = False) -> Tensor:
    return reductions.amax(_t(x), None if dim == () else dim, keepdim)


def amin(x: Any, dim: Any = (), keepdim: bool = False) -> Tensor:
    return reductions.amin(_t(x), None if dim == () else dim, keepdim)


def argmax(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return reductions.argmax(_t(x), dim, keepdim)


def argmin(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return reductions.argmin(_t(x), dim, keepdim)


def all(x: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    return Tensor._wrap(np.asarray(np.all(_t(x).data, axis=dim, keepdims=keepdim)))


def any(x: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    return Tensor._wrap(np.asarray(np.any(_t(x).data, axis=dim, keepdims=keepdim)))


def cumsum(x: Any, dim: int, dtype: Any = None) -> Tensor:
    return ops.cumsum(_dtype_cast(_t(x), dtype), dim)


def cumprod(x: Any, dim: int, dtype: Any = None) -> Tensor:
    return ops.cumprod(_dtype_cast(_t(x), dtype), dim)


def logsumexp(x: Any, dim: Any, keepdim: bool = False) -> Tensor:
    return ops.logsumexp(_t(x), dim, keepdim)


def norm(x: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    return ops.norm(_dtype_cast(_t(x), dtype), p, dim, keepdim)


# --------------------------------------------------------------------- ordering
def sort(x: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    return ops.sort(_t(x), dim, descending, stable)


def argsort(x: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return ops.argsort(_t(x), dim, descending, stable)


def topk(x: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    return ops.topk(_t(x), k, dim, largest, sorted)


# --------------------------------------------------------------------- shapes
def reshape(x: Any, shape_: Sequence[int]) -> Tensor:
    return shape.reshape(_t(x), shape_)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return shape.flatten(_t(x), start_dim, end_dim)


def squeeze(x: Any, dim: Any = None) -> Tensor:
    return shape.squeeze(_t(x), dim)


def unsqueeze(x: Any, dim: int) -> Tensor:
    return shape.unsqueeze(_t(x), dim)


def transpose(x: Any, dim0: int, dim1: int) -> Tensor:
    return shape.transpose(_t(x), dim0, dim1)


def permute(x: Any, dims: Sequence[int]) -> Tensor:
    return shape.permute(_t(x), dims)


def t(x: Any) -> Tensor:
    """Transpose a matrix (0-d and 1-d tensors come back as they are), as ``torch.t``."""
    x = _t(x)
    if x.data.ndim > 2:
        raise ValueError(f"t: expected a tensor with at most 2 dimensions, received shape {x.shape}; "
                         f"use transpose(dim0, dim1) or .mT")
    return shape.transpose(x, 0, 1) if x.data.ndim == 2 else x


def concat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    return shape.cat(tensors, dim)


def unbind(x: Any, dim: int = 0) -> tuple[Tensor, ...]:
    return _t(x).unbind(dim)


def narrow(x: Any, dim: int, start: int, length: int) -> Tensor:
    return _t(x).narrow(dim, start, length)


def movedim(x: Any, source: Any, destination: Any) -> Tensor:
    return _t(x).movedim(source, destination)


moveaxis = movedim


def swapaxes(x: Any, axis0: int, axis1: int) -> Tensor:
    return shape.transpose(_t(x), axis0, axis1)


swapdims = swapaxes


def repeat_interleave(x: Any, repeats: int, dim: int | None = None) -> Tensor:
    return _t(x).repeat_interleave(repeats, dim)


def lerp(x: Any, end: Any, weight: Any) -> Tensor:
    return _t(x).lerp(end, weight)


def hstack(tensors: Sequence[Any]) -> Tensor:
    ts = [_t(v) for v in tensors]
    return shape.cat(ts, 0 if ts[0].data.ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    ts = [_t(v) for v in tensors]
    return shape.cat([shape.unsqueeze(v, 0) if v.data.ndim == 1 else v for v in ts], 0)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids (no gradient); ``indexing='ij'`` (PyTorch's default) or ``'xy'``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', received {indexing!r}")
    vs = [_t(v).reshape(-1) for v in tensors]
    sizes = [v.shape[0] for v in vs]
    if indexing == "xy" and len(vs) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, v in enumerate(vs):
        axis = (1 - i if i < 2 else i) if indexing == "xy" and len(vs) >= 2 else i
        view = [1] * len(vs)
        view[axis] = v.shape[0]
        grids.append(v.reshape(*view).expand(*sizes))
    return tuple(grids)


def cdist(x1: Any, x2: Any, p: float = 2.0) -> Tensor:
    """Pairwise p-norm distances between the rows of ``x1`` (..., P, M) and ``x2`` (..., R, M): (..., P, R)."""
    a, b = _t(x1), _t(x2)
    diff = shape.unsqueeze(a, -2) - shape.unsqueeze(b, -3)
    return ops.norm(diff, p, -1)


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted: Myelin's NumPy kernels are deterministic already."""
    _deterministic[0] = bool(mode)


_deterministic = [False]


def are_deterministic_algorithms_enabled() -> bool:
    """What the last ``use_deterministic_algorithms`` call asked for (Myelin is deterministic either way)."""
    return _deterministic[0]


def compile(model: Any = None, **kwargs: Any) -> Any:
    """Myelin has no compiler: returns ``model`` unchanged (usable as ``compile(model)`` or ``@compile``)."""
    if model is None:
        return lambda fn: fn
    return model


def flip(x: Any, dims: Any) -> Tensor:
    return ops.flip(_t(x), dims)


def roll(x: Any, shifts: Any, dims: Any = None) -> Tensor:
    return ops.roll(_t(x), shifts, dims)


def diag(x: Any, diagonal: int = 0) -> Tensor:
    return ops.diag(_t(x), diagonal)


def tril(x: Any, diagonal: int = 0) -> Tensor:
    return ops.tril(_t(x), diagonal)


def triu(x: Any, diagonal: int = 0) -> Tensor:
    return ops.triu(_t(x), diagonal)


# --------------------------------------------------------------------- indexing
def gather(x: Any, dim: int, index: Any) -> Tensor:
    return ops.gather(_t(x), dim, index)


def scatter(x: Any, dim: int, index: Any, src: Any = None, value: Any = None, reduce: str | None = None) -> Tensor:
    return ops.scatter(_t(x), dim, index, value if src is None else src, reduce)


def scatter_add(x: Any, dim: int, index: Any, src: Any) -> Tensor:
    return ops.scatter_add(_t(x), dim, index, src)


def index_select(x: Any, dim: int, index: Any) -> Tensor:
    return ops.index_select(_t(x), dim, index)


def masked_fill(x: Any, mask: Any, value: Any) -> Tensor:
    return ops.masked_fill(_t(x), mask, value)


def masked_select(x: Any, mask: Any) -> Tensor:
    return ops.masked_select(_t(x), mask)


# --------------------------------------------------------------------- products
def _dims(name: str, x: Tensor, want: int) -> None:
    if x.data.ndim != want:
        raise ValueError(f"{name}: expected a {want}-d tensor, received shape {x.shape}")


def mm(x: Any, y: Any) -> Tensor:
    """Matrix product of (n, m) and (m, p) tensors."""
    x, y = _t(x), _t(y)
    _dims("mm", x, 2)
    _dims("mm", y, 2)
    return matmul(x, y)


def bmm(x: Any, y: Any) -> Tensor:
    """Batched matrix product of (b, n, m) and (b, m, p) tensors."""
    x, y = _t(x), _t(y)
    _dims("bmm", x, 3)
    _dims("bmm", y, 3)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: {x.shape} and {y.shape}")
    return matmul(x, y)


def mv(x: Any, v: Any) -> Tensor:
    x, v = _t(x), _t(v)
    _dims("mv", x, 2)
    _dims("mv", v, 1)
    return matmul(x, v)


def dot(x: Any, y: Any) -> Tensor:
    x, y = _t(x), _t(y)
    _dims("dot", x, 1)
    _dims("dot", y, 1)
    return matmul(x, y)


def outer(x: Any, y: Any) -> Tensor:
    """``x[:, None] * y[None, :]`` for 1-d tensors."""
    x, y = _t(x), _t(y)
    _dims("outer", x, 1)
    _dims("outer", y, 1)
    return shape.unsqueeze(x, 1) * shape.unsqueeze(y, 0)


def einsum(equation: str, *operands: Any) -> Tensor:
    return ops.einsum(equation, *operands)


# --------------------------------------------------------------------- modes and settings
class inference_mode(set_grad_enabled):
    """As ``no_grad`` (Myelin builds no graph either way): a context manager and a decorator."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # used as a bare decorator: @inference_mode
            return no_grad(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        super().__init__(not mode)


def set_default_device(device: Any) -> None:
    """Accepts the CPU only (Myelin's one device); anything else raises a ``DeviceError``."""
    check_device(device, "set_default_device")


def get_default_device() -> Any:
    """``device('cpu')``: where Myelin creates every tensor."""
    from .devices import cpu_device

    return cpu_device


def set_num_threads(n: int) -> None:
    """Limit the threads of NumPy's BLAS (and OpenMP) libraries to ``n`` (through threadpoolctl)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, received {n!r}")
    global _limits
    from threadpoolctl import threadpool_limits

    _limits = threadpool_limits(limits=int(n))
    _threads[0] = int(n)


_limits: Any = None
_threads = [0]


def get_num_threads() -> int:
    """The thread count set by :func:`set_num_threads`, else the BLAS library's own."""
    if _threads[0]:
        return _threads[0]
    from threadpoolctl import threadpool_info

    counts = [i.get("num_threads", 1) for i in threadpool_info() if i.get("user_api") == "blas"]
    return builtins.max(counts, default=1)


def set_printoptions(precision: int | None = None, threshold: int | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print (NumPy's print options underneath)."""
    kwargs = {k: v for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                                ("linewidth", linewidth)) if v is not None}
    if sci_mode is not None:
        kwargs["suppress"] = not sci_mode
    np.set_printoptions(**kwargs)
