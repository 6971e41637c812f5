"""PyTorch's Tensor method spellings that are not the engine: devices, in-place updates, factories,
and methods over the ops in ``ops.py``.

:class:`TensorMethods` is a base class of :class:`~myelin.core.tensor.Tensor` (no state: ``__slots__ = ()``),
so ``x.norm()``, ``x.masked_fill(m, 0)``, ``x.add_(1)``, ``x.cpu()``, ``x.new_zeros(3)`` read as in
PyTorch while ``tensor.py`` keeps the engine and the arithmetic. Every method here is a thin name over
one implementation (``ops.py``, ``shape.py``, ``reductions.py`` or NumPy in place).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..devices import check_device, cpu_device, device, parse_to
from ..dtypes import as_dtype
from . import extra_ops, node, ops, shape
from .grad_mode import STATE

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["TensorMethods"]


def _sizes(args: tuple) -> tuple[int, ...]:
    return shape._sizes(args)


class TensorMethods:
    """PyTorch's spellings on :class:`~myelin.core.tensor.Tensor` (see the module docstring)."""

    __slots__ = ()
    data: np.ndarray
    requires_grad: bool

    # ----------------------------------------------------------------- devices and types
    @property
    def device(self) -> device:
        """Always ``device(type='cpu')``."""
        return cpu_device

    @property
    def is_cuda(self) -> bool:
        return False

    def cpu(self) -> Tensor:
        """Myelin's tensors always live on the CPU: returns self."""
        return self  # type: ignore[return-value]

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """Raises a ``DeviceError``: Myelin runs on the CPU only (write ``.to(device)`` with ``device = "cpu"``)."""
        check_device("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}",
                     "Tensor.cuda")
        return self  # type: ignore[return-value]  # pragma: no cover - check_device raised

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to("cpu")``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)`` as in PyTorch (the device must be the CPU)."""
        _, dtype = parse_to(args, kwargs, "Tensor.to")
        if dtype is None:
            return self  # type: ignore[return-value]
        return self.astype(dtype)  # type: ignore[attr-defined]

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """With a dtype, this tensor cast to it; without, the dtype's name (``'myelin.float32'``)."""
        if dtype is None:
            return f"myelin.{self.data.dtype}"
        return self.astype(as_dtype(dtype, "Tensor.type"))  # type: ignore[attr-defined]

    def type_as(self, other: Any) -> Tensor:
        return self.astype(other.dtype)  # type: ignore[attr-defined]

    def half(self) -> Tensor:
        return self.astype(np.float16)  # type: ignore[attr-defined]

    def byte(self) -> Tensor:
        return self.astype(np.uint8)  # type: ignore[attr-defined]

    def short(self) -> Tensor:
        return self.astype(np.int16)  # type: ignore[attr-defined]

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return True

    def element_size(self) -> int:
        return int(self.data.itemsize)

    def nelement(self) -> int:
        return int(self.data.size)

    def ndimension(self) -> int:
        return self.data.ndim

    def pin_memory(self) -> Tensor:
        """Nothing to pin on the CPU: returns self."""
        return self  # type: ignore[return-value]

    # ----------------------------------------------------------------- new tensors like this one
    def _new(self, arr: np.ndarray, requires_grad: bool) -> Tensor:
        out = node.TENSOR_CLASS._wrap(arr)
        return out.requires_grad_(True) if requires_grad else out

    def _like_dtype(self, dtype: Any, device_: Any, where: str) -> np.dtype:
        check_device(device_, where)
        return self.data.dtype if dtype is None else as_dtype(dtype, where)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self._new(np.zeros(_sizes(size), self._like_dtype(dtype, device, "new_zeros")), requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self._new(np.ones(_sizes(size), self._like_dtype(dtype, device, "new_ones")), requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self._new(np.empty(_sizes(size), self._like_dtype(dtype, device, "new_empty")), requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        dt = self._like_dtype(dtype, device, "new_full")
        return self._new(np.full(_sizes((size,)), fill_value, dt), requires_grad)

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        dt = self._like_dtype(dtype, device, "new_tensor")
        return self._new(np.array(getattr(data, "data", data), dtype=dt), requires_grad)

    # ----------------------------------------------------------------- shapes
    def t(self) -> Tensor:
        """The transpose of a matrix (0-d and 1-d tensors come back as they are)."""
        if self.data.ndim > 2:
            raise ValueError(f"t: expected a tensor with at most 2 dimensions, received shape {self.data.shape}; "
                             f"use transpose(dim0, dim1) or .mT")
        return shape.transpose(self, 0, 1) if self.data.ndim == 2 else self  # type: ignore[arg-type,return-value]

    def view_as(self, other: Any) -> Tensor:
        return shape.reshape(self, other.shape)  # type: ignore[arg-type]

    reshape_as = view_as

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, without that dimension."""
        d = dim % max(self.data.ndim, 1)
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.data.shape[d]))  # type: ignore[index]

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        d = dim % max(self.data.ndim, 1)
        return self[(slice(None),) * d + (slice(start, start + length),)]  # type: ignore[index]

    def movedim(self, source: Any, destination: Any) -> Tensor:
        nd = self.data.ndim
        src = [int(v) % nd for v in (source if isinstance(source, (list, tuple)) else [source])]
        dst = [int(v) % nd for v in (destination if isinstance(destination, (list, tuple)) else [destination])]
        if len(src) != len(dst):
            raise ValueError(f"movedim: {len(src)} source dims but {len(dst)} destination dims")
        order = [i for i in range(nd) if i not in src]
        for d, s_ in sorted(zip(dst, src)):
            order.insert(d, s_)
        return shape.permute(self, order)  # type: ignore[arg-type]

    moveaxis = movedim

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return shape.transpose(self, axis0, axis1)  # type: ignore[arg-type]

    swapdims = swapaxes

    def repeat_interleave(self, repeats: int, dim: int | None = None) -> Tensor:
        """Each element (or slice along ``dim``) repeated ``repeats`` times in place (a flattened tensor without ``dim``)."""
        x = shape.flatten(self) if dim is None else self  # type: ignore[arg-type]
        d = 0 if dim is None else dim
        n = x.data.shape[d % max(x.data.ndim, 1)]
        index = node.TENSOR_CLASS._wrap(np.repeat(np.arange(n), np.asarray(getattr(repeats, "data", repeats))))
        return ops.index_select(x, d, index)

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """``self + weight * (end - self)``."""
        return self + weight * (end - self)  # type: ignore[operator,return-value]

    def fill_diagonal_(self, fill_value: float, wrap: bool = False) -> Tensor:
        self._check_inplace("fill_diagonal_")
        np.fill_diagonal(self.data, fill_value, wrap=wrap)
        return self  # type: ignore[return-value]

    def repeat(self, *sizes: Any) -> Tensor:
        return ops.repeat(self, _sizes(sizes))  # type: ignore[arg-type]

    def tile(self, *dims: Any) -> Tensor:
        reps = _sizes(dims)
        return ops.repeat(self, (1,) * (self.data.ndim - len(reps)) + reps)  # type: ignore[arg-type]

    def flip(self, *dims: Any) -> Tensor:
        return ops.flip(self, _sizes(dims))  # type: ignore[arg-type]

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return ops.roll(self, shifts, dims)  # type: ignore[arg-type]

    def tril(self, diagonal: int = 0) -> Tensor:
        return ops.tril(self, diagonal)  # type: ignore[arg-type]

    def triu(self, diagonal: int = 0) -> Tensor:
        return ops.triu(self, diagonal)  # type: ignore[arg-type]

    def diag(self, diagonal: int = 0) -> Tensor:
        return ops.diag(self, diagonal)  # type: ignore[arg-type]

    # ----------------------------------------------------------------- reductions and ordering
    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.norm(self, p, dim, keepdim)  # type: ignore[arg-type]

    def prod(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return ops.prod(self, dim, keepdim)  # type: ignore[arg-type]

    def cumsum(self, dim: int) -> Tensor:
        return ops.cumsum(self, dim)  # type: ignore[arg-type]

    def cumprod(self, dim: int) -> Tensor:
        return ops.cumprod(self, dim)  # type: ignore[arg-type]

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return ops.logsumexp(self, dim, keepdim)  # type: ignore[arg-type]

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        return ops.sort(self, dim, descending, stable)  # type: ignore[arg-type]

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        return ops.argsort(self, dim, descending, stable)  # type: ignore[arg-type]

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        return ops.topk(self, k, dim, largest, sorted)  # type: ignore[arg-type]

    def count_nonzero(self, dim: Any = None) -> Tensor:
        return node.TENSOR_CLASS._wrap(np.asarray(np.count_nonzero(self.data, axis=dim), dtype=np.int64))

    def nonzero(self, as_tuple: bool = False) -> Any:
        return ops.nonzero(self, as_tuple)

    def unique(self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
               dim: int | None = None) -> Any:
        return ops.unique(self, sorted, return_inverse, return_counts, dim)

    def equal(self, other: Any) -> bool:
        o = getattr(other, "data", other)
        return self.data.shape == np.shape(o) and bool(np.array_equal(self.data, o))

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
        return bool(np.allclose(self.data, getattr(other, "data", other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def isclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
        return node.TENSOR_CLASS._wrap(np.isclose(self.data, getattr(other, "data", other), rtol=rtol, atol=atol,
                                                  equal_nan=equal_nan))

    def isinf(self) -> Tensor:
        return node.TENSOR_CLASS._wrap(np.isinf(self.data))

    # ----------------------------------------------------------------- indexing
    def gather(self, dim: int, index: Any) -> Tensor:
        return ops.gather(self, dim, index)  # type: ignore[arg-type]

    def scatter(self, dim: int, index: Any, src: Any = None, value: Any = None, reduce: str | None = None) -> Tensor:
        return ops.scatter(self, dim, index, value if src is None else src, reduce)  # type: ignore[arg-type]

    def scatter_add(self, dim: int, index: Any, src: Any) -> Tensor:
        return ops.scatter_add(self, dim, index, src)  # type: ignore[arg-type]

    def index_select(self, dim: int, index: Any) -> Tensor:
        return ops.index_select(self, dim, index)  # type: ignore[arg-type]

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return ops.masked_fill(self, mask, value)  # type: ignore[arg-type]

    def masked_select(self, mask: Any) -> Tensor:
        return ops.masked_select(self, mask)  # type: ignore[arg-type]

    # ----------------------------------------------------------------- elementwise functions
    def _unary(self, name: str) -> Tensor:
        return ops.unary(self, name)  # type: ignore[arg-type]

    def sin(self) -> Tensor:
        return self._unary("sin")

    def cos(self) -> Tensor:
        return self._unary("cos")

    def tan(self) -> Tensor:
        return self._unary("tan")

    def log1p(self) -> Tensor:
        return self._unary("log1p")

    def expm1(self) -> Tensor:
        return self._unary("expm1")

    def log2(self) -> Tensor:
        return self._unary("log2")

    def log10(self) -> Tensor:
        return self._unary("log10")

    def square(self) -> Tensor:
        return self._unary("square")

    def reciprocal(self) -> Tensor:
        return self._unary("reciprocal")

    def rsqrt(self) -> Tensor:
        return self._unary("rsqrt")

    def floor(self) -> Tensor:
        return self._unary("floor")

    def ceil(self) -> Tensor:
        return self._unary("ceil")

    def round(self, decimals: int = 0) -> Tensor:
        if decimals:  # through the graph, so the result requires grad (with a zero gradient) as in PyTorch
            scale = 10.0 ** decimals
            return (self * scale)._unary("round") / scale  # type: ignore[operator]
        return self._unary("round")

    def trunc(self) -> Tensor:
        return self._unary("trunc")

    # ----------------------------------------------------------------- in place (no graph)
    def _check_inplace(self, op: str) -> None:
        if STATE.enabled and self.requires_grad:
            raise RuntimeError(
                f"{op}: in-place change of a tensor that requires grad; wrap it in myelin.no_grad() "
                f"(or use the out-of-place {op.rstrip('_')})"
            )

    def _apply_(self, op: str, fn: Callable[[np.ndarray], Any]) -> Tensor:
        self._check_inplace(op)
        result = np.asarray(fn(self.data))
        np.copyto(self.data, result, casting="unsafe")
        return self  # type: ignore[return-value]

    @staticmethod
    def _value(other: Any) -> Any:
        return other.data if isinstance(other, node.TENSOR_CLASS) else other

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        v = self._value(other)
        return self._apply_("add_", lambda a: a + (v if alpha == 1 else v * alpha))

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        v = self._value(other)
        return self._apply_("sub_", lambda a: a - (v if alpha == 1 else v * alpha))

    def mul_(self, other: Any) -> Tensor:
        v = self._value(other)
        return self._apply_("mul_", lambda a: a * v)

    def div_(self, other: Any) -> Tensor:
        v = self._value(other)
        return self._apply_("div_", lambda a: a / v)

    def pow_(self, exponent: Any) -> Tensor:
        v = self._value(exponent)
        return self._apply_("pow_", lambda a: a ** v)

    def neg_(self) -> Tensor:
        return self._apply_("neg_", np.negative)

    def abs_(self) -> Tensor:
        return self._apply_("abs_", np.abs)

    def exp_(self) -> Tensor:
        return self._apply_("exp_", np.exp)

    def sqrt_(self) -> Tensor:
        return self._apply_("sqrt_", np.sqrt)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        lo, hi = self._value(min), self._value(max)
        return self._apply_("clamp_", lambda a: np.clip(a, lo, hi))

    clip_ = clamp_

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        m = self._value(mask)
        if np.asarray(m).dtype != np.bool_:
            raise TypeError(f"masked_fill_: expected a bool mask, received dtype {np.asarray(m).dtype}")
        v = self._value(value)
        return self._apply_("masked_fill_", lambda a: np.where(m, v, a))

    def scatter_(self, dim: int, index: Any, src: Any = None, value: Any = None, reduce: str | None = None) -> Tensor:
        self._check_inplace("scatter_")
        out = ops.scatter(node.TENSOR_CLASS._wrap(self.data), dim, index, value if src is None else src, reduce)
        np.copyto(self.data, out.data)
        return self  # type: ignore[return-value]

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Tensor:
        self._check_inplace("scatter_add_")
        np.copyto(self.data, ops.scatter_add(node.TENSOR_CLASS._wrap(self.data), dim, index, src).data)
        return self  # type: ignore[return-value]

    def index_fill_(self, dim: int, index: Any, value: Any) -> Tensor:
        self._check_inplace("index_fill_")
        idx = np.asarray(self._value(index)).reshape(-1)
        self.data[(slice(None),) * (dim % max(self.data.ndim, 1)) + (idx,)] = self._value(value)
        return self  # type: ignore[return-value]

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with draws from U(a, b) (the library generator, or ``generator``)."""
        rng = _rng(generator)
        return self._apply_("uniform_", lambda x: rng.uniform(a, b, x.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with draws from N(mean, std^2)."""
        rng = _rng(generator)
        return self._apply_("normal_", lambda x: rng.normal(mean, std, x.shape))

    def bernoulli_(self, p: float = 0.5, generator: Any = None) -> Tensor:
        rng = _rng(generator)
        return self._apply_("bernoulli_", lambda x: rng.random(x.shape) < p)

    def random_(self, low: int = 0, high: int | None = None, generator: Any = None) -> Tensor:
        if high is None:
            low, high = 0, low
        rng = _rng(generator)
        return self._apply_("random_", lambda x: rng.integers(low, high, x.shape))

    def detach_(self) -> Tensor:
        """Make this tensor a leaf that needs no gradient (drops its link to the graph)."""
        self._parents = ()  # type: ignore[attr-defined]
        self._backward = None  # type: ignore[attr-defined]
        self.requires_grad = False
        return self  # type: ignore[return-value]

    def share_memory_(self) -> Tensor:
        return self  # type: ignore[return-value]

    def apply_(self, fn: Callable[[Any], Any]) -> Tensor:
        """Replace each element by ``fn(element)`` (a Python function; slow, CPU only, as in PyTorch)."""
        self._check_inplace("apply_")
        flat = self.data.reshape(-1)
        for i, v in enumerate(flat.tolist()):
            flat[i] = fn(v)
        return self  # type: ignore[return-value]

    def _set_data_(self, op: str, arr: np.ndarray) -> Tensor:
        self._check_inplace(op)
        self.data = arr
        return self  # type: ignore[return-value]

    def unsqueeze_(self, dim: int) -> Tensor:
        return self._set_data_("unsqueeze_", np.expand_dims(self.data, dim % (self.data.ndim + 1)))

    def squeeze_(self, dim: Any = None) -> Tensor:
        return self._set_data_("squeeze_", shape.squeeze(self, dim).data)  # type: ignore[arg-type]

    def t_(self) -> Tensor:
        return self._set_data_("t_", self.t().data)

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        return self._set_data_("transpose_", np.swapaxes(self.data, dim0, dim1))

    def relu_(self) -> Tensor:
        return self._apply_("relu_", lambda a: np.maximum(a, 0))

    def sigmoid_(self) -> Tensor:
        return self._apply_("sigmoid_", lambda a: 1 / (1 + np.exp(-a)))

    def tanh_(self) -> Tensor:
        return self._apply_("tanh_", np.tanh)

    def log_(self) -> Tensor:
        return self._apply_("log_", np.log)

    def floor_(self) -> Tensor:
        return self._apply_("floor_", np.floor)

    def round_(self) -> Tensor:
        return self._apply_("round_", np.round)

    def sign_(self) -> Tensor:
        return self._apply_("sign_", np.sign)

    # ----------------------------------------------------------------- more PyTorch method spellings
    def mm(self, other: Any) -> Tensor:
        return self.matmul(other)  # type: ignore[attr-defined,no-any-return]

    bmm = mm

    def mv(self, vec: Any) -> Tensor:
        return self.matmul(vec)  # type: ignore[attr-defined,no-any-return]

    def dot(self, other: Any) -> Tensor:
        return (self * other).sum()  # type: ignore[operator,no-any-return]

    def outer(self, other: Any) -> Tensor:
        return shape.unsqueeze(self, 1) * shape.unsqueeze(other, 0)  # type: ignore[arg-type,no-any-return]

    def where(self, condition: Any, other: Any) -> Tensor:
        """``self`` where ``condition`` holds, else ``other`` (``torch.where(condition, self, other)``)."""
        from .tensor import where

        return where(condition, self, other)

    def fliplr(self) -> Tensor:
        return ops.flip(self, (1,))  # type: ignore[arg-type]

    def flipud(self) -> Tensor:
        return ops.flip(self, (0,))  # type: ignore[arg-type]

    def addcmul(self, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:
        return extra_ops.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:
        return extra_ops.addcdiv(self, tensor1, tensor2, value=value)

    def addmm(self, mat1: Any, mat2: Any, *, beta: float = 1, alpha: float = 1) -> Tensor:
        return extra_ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def logical_and(self, other: Any) -> Tensor:
        return extra_ops.logical_and(self, other)

    def logical_or(self, other: Any) -> Tensor:
        return extra_ops.logical_or(self, other)

    def logical_xor(self, other: Any) -> Tensor:
        return extra_ops.logical_xor(self, other)

    def logical_not(self) -> Tensor:
        return extra_ops.logical_not(self)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return extra_ops.diagonal(self, offset, dim1, dim2)

    def trace(self) -> Tensor:
        return extra_ops.trace(self)

    def dist(self, other: Any, p: float = 2) -> Tensor:
        return extra_ops.dist(self, other, p)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
        return extra_ops.nan_to_num(self, nan, posinf, neginf)

    def erf(self) -> Tensor:
        return extra_ops.erf(self)

    def atan2(self, other: Any) -> Tensor:
        return extra_ops.atan2(self, other)

    def fmod(self, other: Any) -> Tensor:
        return extra_ops.fmod(self, other)

    def remainder(self, other: Any) -> Tensor:
        return extra_ops.remainder(self, other)

    def floor_divide(self, other: Any) -> Tensor:
        return extra_ops.floor_divide(self, other)

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return extra_ops.median(self, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False) -> Any:
        return extra_ops.mode(self, dim, keepdim)

    def cummax(self, dim: int) -> Any:
        return extra_ops.cummax(self, dim)

    def cummin(self, dim: int) -> Any:
        return extra_ops.cummin(self, dim)

    def bincount(self, weights: Any = None, minlength: int = 0) -> Tensor:
        return extra_ops.bincount(self, weights, minlength)

    def argwhere(self) -> Tensor:
        return extra_ops.argwhere(self)

    # ----------------------------------------------------------------- Python protocol
    def __abs__(self) -> Tensor:
        return self.abs()  # type: ignore[attr-defined,no-any-return]

    def __floordiv__(self, other: Any) -> Tensor:
        return extra_ops.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return extra_ops.floor_divide(node.TENSOR_CLASS._wrap(np.asarray(other)), self)

    def __mod__(self, other: Any) -> Tensor:
        return extra_ops.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return extra_ops.remainder(node.TENSOR_CLASS._wrap(np.asarray(other)), self)

    def __xor__(self, other: Any) -> Tensor:
        return node.TENSOR_CLASS._wrap(np.bitwise_xor(self.data, self._value(other)))

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor's number, as in PyTorch."""
        if self.data.size == 1 and self.data.ndim == 0:
            return format(self.data.item(), spec)
        if not spec:
            return str(self)
        raise TypeError(f"unsupported format string passed to Tensor.__format__: {spec!r} (only 0-d tensors "
                        "take a format spec; format x.item() or x.tolist())")


def _rng(generator: Any) -> np.random.Generator:
    if generator is not None:
        return getattr(generator, "rng", generator)
    from ..random import get_rng

    return get_rng()
