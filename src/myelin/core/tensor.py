"""The Tensor: a NumPy array that remembers how it was computed.

``Tensor.data`` is the array, ``Tensor.grad`` the gradient (a NumPy array of the same shape
and dtype, or ``None``). Arithmetic here, reductions in ``reductions.py``, shape ops in
``shape.py`` and indexing in ``indexing.py`` each build one graph node (see ``node.py``);
``backward()`` hands the graph to ``myelin.autograd.engine``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..autograd import engine
from ..autograd.grad_mode import STATE
from . import indexing, node, reductions, shape
from .node import make_node, to_array, unbroadcast

__all__ = ["Size", "Tensor", "as_tensor", "tensor"]

_FLOAT_KINDS = "f"


def _default_array(data: Any, dtype: Any = None) -> np.ndarray:
    """``data`` as a fresh NumPy array with Myelin's default dtypes (float32 for floats)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=np.dtype(dtype))
    arr = np.array(data)
    if arr.dtype == np.float64 or arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    elif arr.dtype.kind in "OUS":
        raise TypeError(f"tensor: expected numbers, received an array of dtype {arr.dtype}")
    elif arr.dtype.kind == "c":
        raise TypeError("tensor: complex numbers are not supported")
    return arr


def _promote_result(out: np.ndarray, a: np.ndarray, b: Any) -> np.ndarray:
    """Keep float32 when NumPy widened an integer op with a Python float to float64."""
    if out.dtype == np.float64 and a.dtype != np.float64:
        if not (isinstance(b, np.ndarray) and b.dtype == np.float64):
            return out.astype(np.float32)
    return out


def _broadcast_error(op: str, a: np.ndarray, b: Any) -> ValueError:
    bshape = getattr(b, "shape", ())
    return ValueError(f"{op}: shapes {tuple(a.shape)} and {tuple(bshape)} cannot be broadcast together")


class Size(int):
    """The number of elements, as NumPy's ``.size``; call it for the shape, as PyTorch's ``.size()``."""

    _shape: tuple[int, ...]

    def __new__(cls, shape: tuple[int, ...]) -> Size:
        self = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        self._shape = shape
        return self

    def __call__(self, dim: int | None = None) -> Any:
        return self._shape if dim is None else self._shape[dim]


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Create one with :func:`myelin.tensor`. Operators broadcast as NumPy does.
    """

    __slots__ = (
        "__weakref__",
        "_backward",
        "_freed",
        "_hooks",
        "_op",
        "_parents",
        "_retains_grad",
        "_seq",
        "data",
        "grad",
        "requires_grad",
    )
    __array_ufunc__ = None  # NumPy defers to our reflected operators
    __hash__ = object.__hash__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        arr = _default_array(data, dtype)
        self.data = arr
        self.grad = None
        self._parents = ()
        self._backward = None
        self._op = ""
        self._freed = False
        self._hooks = None
        self._retains_grad = False
        self._seq = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr: np.ndarray, requires_grad: bool = False) -> Tensor:
        """A leaf around ``arr`` without copying it (internal fast path)."""
        t = cls.__new__(cls)
        t.data = arr
        t.grad = None
        t.requires_grad = requires_grad
        t._parents = ()
        t._backward = None
        t._op = ""
        t._freed = False
        t._hooks = None
        t._retains_grad = False
        t._seq = 0
        return t

    # ----------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> Size:
        """Element count (``t.size``); ``t.size()`` / ``t.size(dim)`` give the shape as in PyTorch."""
        return Size(self.data.shape)

    def numel(self) -> int:
        return int(self.data.size)

    def dim(self) -> int:
        return self.data.ndim

    @property
    def T(self) -> Tensor:
        return shape.permute(self, tuple(reversed(range(self.data.ndim))))

    @property
    def mT(self) -> Tensor:
        return shape.transpose(self, -2, -1)

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    @property
    def grad_fn(self) -> str | None:
        """The name of the op that made this tensor, or None for a leaf."""
        return self._op if self._backward is not None else None

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, received dtype {self.data.dtype}"
            )
        if not requires_grad and self._backward is not None:
            raise RuntimeError("requires_grad_: cannot turn off gradients of a non-leaf tensor; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def register_hook(self, hook: Callable[[np.ndarray], Any]) -> Callable[[], None]:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        hooks = self._hooks
        return lambda: hooks.remove(hook) if hook in hooks else None

    # ----------------------------------------------------------------- conversion
    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, this one has shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        return Tensor._wrap(self.data)

    def clone(self) -> Tensor:
        return make_node(self.data.copy(), (self,), lambda g: (g,), "clone")

    def copy_(self, src: Any) -> Tensor:
        """Overwrite this tensor's values in place (no gradient)."""
        self.data[...] = to_array(src, self.data)
        return self

    def zero_(self) -> Tensor:
        self.data[...] = 0
        return self

    def fill_(self, value: float) -> Tensor:
        self.data[...] = value
        return self

    def astype(self, dtype: Any) -> Tensor:
        dtype = np.dtype(dtype)
        src = self.data.dtype
        if dtype == src:
            return self
        out = self.data.astype(dtype)
        if dtype.kind != "f":
            return Tensor._wrap(out)
        return make_node(out, (self,), lambda g: (g.astype(src),), "astype")

    to = astype

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def bool(self) -> Tensor:
        return self.astype(np.bool_)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.data.dtype != np.float32 and self.data.dtype != np.int64 or self.data.size == 0:
            extras.append(f"dtype={self.data.dtype}")
        if self._backward is not None or self._freed:
            extras.append(f"grad_fn=<{self._op}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ----------------------------------------------------------------- autograd
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d self / d leaf into every leaf's ``.grad`` (PyTorch semantics)."""
        if not self.requires_grad:
            raise RuntimeError("backward: the tensor does not require grad and has no graph")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs, this output has shape "
                    f"{self.shape}; pass grad= of the same shape"
                )
            seed = np.ones(self.data.shape, self.data.dtype)
        else:
            seed = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.data.dtype)
            if seed.shape != self.data.shape:
                raise ValueError(f"backward: grad has shape {seed.shape}, expected the output's shape {self.shape}")
        engine.run_backward(self, seed, retain_graph=retain_graph)

    # ----------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a + b
            except ValueError:
                raise _broadcast_error("add", a, b) from None
            sa, sb = a.shape, b.shape
            return make_node(out, (self, other), lambda g: (unbroadcast(g, sa), unbroadcast(g, sb)), "add")
        b = to_array(other, a)
        try:
            out = _promote_result(a + b, a, b)
        except ValueError:
            raise _broadcast_error("add", a, b) from None
        sa = a.shape
        return make_node(out, (self,), lambda g: (unbroadcast(g, sa),), "add", {"c": b})

    __radd__ = __add__

    def __sub__(self, other: Any) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a - b
            except ValueError:
                raise _broadcast_error("sub", a, b) from None
            sa, sb = a.shape, b.shape
            return make_node(out, (self, other), lambda g: (unbroadcast(g, sa), unbroadcast(-g, sb)), "sub")
        b = to_array(other, a)
        try:
            out = _promote_result(a - b, a, b)
        except ValueError:
            raise _broadcast_error("sub", a, b) from None
        sa = a.shape
        return make_node(out, (self,), lambda g: (unbroadcast(g, sa),), "sub", {"c": b})

    def __rsub__(self, other: Any) -> Tensor:
        a = self.data
        b = to_array(other, a)
        try:
            out = _promote_result(b - a, a, b)
        except ValueError:
            raise _broadcast_error("sub", b, a) from None
        sa = a.shape
        return make_node(out, (self,), lambda g: (unbroadcast(-g, sa),), "rsub", {"c": b})

    def __mul__(self, other: Any) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a * b
            except ValueError:
                raise _broadcast_error("mul", a, b) from None
            ta, tb = self, other

            def backward(g: np.ndarray) -> tuple:
                ga = unbroadcast(g * b, a.shape) if ta.requires_grad else None
                gb = unbroadcast(g * a, b.shape) if tb.requires_grad else None
                return ga, gb

            return make_node(out, (self, other), backward, "mul")
        b = to_array(other, a)
        try:
            out = _promote_result(a * b, a, b)
        except ValueError:
            raise _broadcast_error("mul", a, b) from None
        return make_node(out, (self,), lambda g: (unbroadcast(g * b, a.shape),), "mul", {"c": b})

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a / b
            except ValueError:
                raise _broadcast_error("div", a, b) from None
            out = _promote_result(out, a, b)
            ta, tb = self, other

            def backward(g: np.ndarray) -> tuple:
                ga = unbroadcast(g / b, a.shape) if ta.requires_grad else None
                gb = unbroadcast(-g * out / b, b.shape) if tb.requires_grad else None
                return ga, gb

            return make_node(out, (self, other), backward, "div")
        b = to_array(other, a)
        try:
            out = _promote_result(a / b, a, b)
        except ValueError:
            raise _broadcast_error("div", a, b) from None
        return make_node(out, (self,), lambda g: (unbroadcast(g / b, a.shape),), "div", {"c": b})

    def __rtruediv__(self, other: Any) -> Tensor:
        a = self.data
        b = to_array(other, a)
        try:
            out = _promote_result(b / a, a, b)
        except ValueError:
            raise _broadcast_error("div", b, a) from None
        return make_node(out, (self,), lambda g: (unbroadcast(-g * out / a, a.shape),), "rdiv", {"c": b})

    def __pow__(self, exponent: Any) -> Tensor:
        a = self.data
        if isinstance(exponent, Tensor):
            b = exponent.data
            try:
                out = _promote_result(np.power(a, b), a, b)
            except ValueError:
                raise _broadcast_error("pow", a, b) from None
            ta, tb = self, exponent

            def backward(g: np.ndarray) -> tuple:
                ga = gb = None
                if ta.requires_grad:
                    ga = unbroadcast(g * b * np.power(a, b - 1), a.shape)
                if tb.requires_grad:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        logs = np.where(a > 0, np.log(np.where(a > 0, a, 1)), np.where(a == 0, 0.0, np.nan))
                    gb = unbroadcast(g * out * logs.astype(out.dtype), b.shape)
                return ga, gb

            return make_node(out, (self, exponent), backward, "pow")
        p = to_array(exponent, a)
        out = _promote_result(np.power(a, p), a, p)
        if isinstance(p, (int, float)) and p == 2:
            return make_node(out, (self,), lambda g: (unbroadcast(g * 2 * a, a.shape),), "pow", {"c": p})
        return make_node(out, (self,), lambda g: (unbroadcast(g * p * np.power(a, p - 1), a.shape),), "pow",
                         {"c": p})

    def __rpow__(self, base: Any) -> Tensor:
        a = self.data
        b = to_array(base, a)
        out = _promote_result(np.power(b, a), a, b)
        logb = np.log(b).astype(out.dtype) if isinstance(b, np.ndarray) else np.log(b)
        return make_node(out, (self,), lambda g: (unbroadcast(g * out * logb, a.shape),), "rpow", {"c": b})

    def __neg__(self) -> Tensor:
        return make_node(-self.data, (self,), lambda g: (-g,), "neg")

    def __pos__(self) -> Tensor:
        return self

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(node.ensure_tensor(other, self.data), self)

    # In-place operators change ``.data`` (no graph): allowed on tensors that need no gradient
    # or under ``no_grad``, as in PyTorch's ``with no_grad(): w -= lr * w.grad``.
    def _inplace(self, op: str, other: Any, fn: Callable[[np.ndarray, Any], Any]) -> Tensor:
        if STATE.enabled and self.requires_grad:
            raise RuntimeError(
                f"{op}: in-place change of a tensor that requires grad; wrap it in myelin.no_grad() "
                f"or write x = x {op[1]} y"
            )
        fn(self.data, to_array(other, self.data))
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace("+=", other, lambda a, b: np.add(a, b, out=a, casting="unsafe"))

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace("-=", other, lambda a, b: np.subtract(a, b, out=a, casting="unsafe"))

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace("*=", other, lambda a, b: np.multiply(a, b, out=a, casting="unsafe"))

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace("/=", other, lambda a, b: np.divide(a, b, out=a, casting="unsafe"))

    # ----------------------------------------------------------------- comparisons (no gradient)
    def _compare(self, other: Any, fn: Callable[[Any, Any], np.ndarray], op: str) -> Tensor:
        b = to_array(other, self.data)
        try:
            out = Tensor._wrap(np.asarray(fn(self.data, b)))
        except ValueError:
            raise _broadcast_error(op, self.data, b) from None
        if node.TRACER is not None:  # no gradient, so no graph node: only the tracer hears of it
            node.TRACER(out, (self, other) if isinstance(other, Tensor) else (self,), op, {"c": b})
        return out

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal, "eq")

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal, "ne")

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less, "lt")

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal, "le")

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater, "gt")

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal, "ge")

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self) -> Tensor:
        return Tensor._wrap(~self.data)

    def __and__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_and, "and")

    def __or__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_or, "or")

    def any(self) -> Tensor:
        return Tensor._wrap(np.asarray(self.data.any()))

    def all(self) -> Tensor:
        return Tensor._wrap(np.asarray(self.data.all()))

    def isnan(self) -> Tensor:
        return Tensor._wrap(np.isnan(self.data))

    def isfinite(self) -> Tensor:
        return Tensor._wrap(np.isfinite(self.data))

    # ----------------------------------------------------------------- elementwise functions
    def exp(self) -> Tensor:
        out = np.exp(self.data)
        return make_node(out, (self,), lambda g: (g * out,), "exp")

    def log(self) -> Tensor:
        a = self.data
        return make_node(np.log(a), (self,), lambda g: (g / a,), "log")

    def sqrt(self) -> Tensor:
        out = np.sqrt(self.data)
        return make_node(out, (self,), lambda g: (g / (2 * out),), "sqrt")

    def abs(self) -> Tensor:
        a = self.data
        return make_node(np.abs(a), (self,), lambda g: (g * np.sign(a),), "abs")

    def sign(self) -> Tensor:
        return Tensor._wrap(np.sign(self.data))

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Limit values to [min, max]; the gradient passes where min <= x <= max (as PyTorch)."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        a = self.data
        out = np.clip(a, min, max)
        if min is not None and max is not None:
            mask = (a >= min) & (a <= max)
        elif min is not None:
            mask = a >= min
        else:
            mask = a <= max
        return make_node(out, (self,), lambda g: (g * mask,), "clamp", {"min": min, "max": max})

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        return maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return minimum(self, other)

    def matmul(self, other: Any) -> Tensor:
        return matmul(self, other)

    # PyTorch's method spellings of the operators
    def add(self, other: Any) -> Tensor:
        return self + other

    def sub(self, other: Any) -> Tensor:
        return self - other

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any) -> Tensor:
        return self / other

    def pow(self, exponent: Any) -> Tensor:
        return self ** exponent

    def neg(self) -> Tensor:
        return -self

    # Activations as methods (``x.relu()``), as in PyTorch; the math lives in nn.functional,
    # imported on first use so the engine keeps no import-time dependency on it.
    def relu(self) -> Tensor:
        from ..nn.functional import relu

        return relu(self)

    def sigmoid(self) -> Tensor:
        from ..nn.functional import sigmoid

        return sigmoid(self)

    def tanh(self) -> Tensor:
        from ..nn.functional import tanh

        return tanh(self)

    def softmax(self, dim: int) -> Tensor:
        from ..nn.functional import softmax

        return softmax(self, dim=dim)

    def log_softmax(self, dim: int) -> Tensor:
        from ..nn.functional import log_softmax

        return log_softmax(self, dim=dim)

    # ----------------------------------------------------------------- reductions
    def sum(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reductions.sum(self, dim, keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reductions.mean(self, dim, keepdim)

    def var(self, dim: Any = None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None) -> Tensor:
        return reductions.var(self, dim, keepdim, correction=correction if unbiased is None else int(unbiased))

    def std(self, dim: Any = None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None) -> Tensor:
        return reductions.std(self, dim, keepdim, correction=correction if unbiased is None else int(unbiased))

    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return reductions.max(self, dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return reductions.min(self, dim, keepdim)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reductions.amax(self, dim, keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reductions.amin(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return reductions.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return reductions.argmin(self, dim, keepdim)

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape_: Any) -> Tensor:
        return shape.reshape(self, shape_)

    view = reshape

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return shape.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> Tensor:
        return shape.permute(self, dims)

    def squeeze(self, dim: Any = None) -> Tensor:
        return shape.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return shape.unsqueeze(self, dim)

    def expand(self, *sizes: Any) -> Tensor:
        return shape.expand(self, sizes)

    def broadcast_to(self, shape_: Any) -> Tensor:
        return shape.broadcast_to(self, shape_)

    def expand_as(self, other: Tensor) -> Tensor:
        return shape.broadcast_to(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return shape.flatten(self, start_dim, end_dim)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return shape.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return shape.chunk(self, chunks, dim)

    def contiguous(self) -> Tensor:
        return self

    # ----------------------------------------------------------------- indexing
    def __getitem__(self, index: Any) -> Tensor:
        return indexing.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        indexing.setitem(self, index, value)


node.TENSOR_CLASS = Tensor


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (float32 unless ``dtype`` says otherwise)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory with a NumPy array when no conversion is needed."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.astype(dtype)
    if isinstance(data, np.ndarray):
        if dtype is not None:
            dtype = np.dtype(dtype)
            return Tensor._wrap(data if data.dtype == dtype else data.astype(dtype))
        if data.dtype == np.float64 or data.dtype == np.float16:
            return Tensor._wrap(data.astype(np.float32))
        if data.dtype.kind in "fiub":
            return Tensor._wrap(data)
    return Tensor(data, dtype=dtype)


# --------------------------------------------------------------------- functions of several tensors
def _shape_str(a: np.ndarray) -> str:
    return str(tuple(a.shape))


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product with NumPy's rules for 1-D, 2-D and batched operands."""
    if not isinstance(x, Tensor):
        x = node.ensure_tensor(x, y.data if isinstance(y, Tensor) else None)
    if not isinstance(y, Tensor):
        y = node.ensure_tensor(y, x.data)
    a, b = x.data, y.data
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes {_shape_str(a)} and {_shape_str(b)}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {_shape_str(a)} and {_shape_str(b)} are not aligned")
    try:
        out = np.matmul(a, b)
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of {_shape_str(a)} and {_shape_str(b)} cannot be broadcast") from None

    def backward(g: np.ndarray) -> tuple:
        a2 = a if a.ndim > 1 else a[None, :]
        b2 = b if b.ndim > 1 else b[:, None]
        g2 = g
        if a.ndim == 1 or b.ndim == 1:
            batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
            g2 = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        ga = gb = None
        if x.requires_grad:
            ga = unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if y.requires_grad:
            gb = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape)
        return node.Fresh((ga, gb))  # new arrays (or views of them) only: leaves may keep them

    return make_node(out, (x, y), backward, "matmul")


def _pair(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    if isinstance(x, Tensor):
        return x, node.ensure_tensor(y, x.data)
    y = node.ensure_tensor(y)
    return node.ensure_tensor(x, y.data), y


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; at ties the gradient is split equally (as PyTorch)."""
    x, y = _pair(x, y)
    a, b = x.data, y.data
    try:
        out = np.maximum(a, b)
    except ValueError:
        raise _broadcast_error("maximum", a, b) from None

    def backward(g: np.ndarray) -> tuple:
        wa = (a > b) + 0.5 * (a == b)
        ga = unbroadcast(g * wa, a.shape) if x.requires_grad else None
        gb = unbroadcast(g * (1 - wa), b.shape) if y.requires_grad else None
        return ga, gb

    return make_node(out, (x, y), backward, "maximum")


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; at ties the gradient is split equally (as PyTorch)."""
    x, y = _pair(x, y)
    a, b = x.data, y.data
    try:
        out = np.minimum(a, b)
    except ValueError:
        raise _broadcast_error("minimum", a, b) from None

    def backward(g: np.ndarray) -> tuple:
        wa = (a < b) + 0.5 * (a == b)
        ga = unbroadcast(g * wa, a.shape) if x.requires_grad else None
        gb = unbroadcast(g * (1 - wa), b.shape) if y.requires_grad else None
        return ga, gb

    return make_node(out, (x, y), backward, "minimum")


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (broadcasting all three)."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    x, y = _pair(x, y)
    a, b = x.data, y.data
    try:
        out = np.where(cond, a, b)
    except ValueError:
        raise ValueError(
            f"where: shapes {cond.shape}, {_shape_str(a)} and {_shape_str(b)} cannot be broadcast together"
        ) from None

    def backward(g: np.ndarray) -> tuple:
        zero = np.zeros((), dtype=g.dtype)
        ga = unbroadcast(np.where(cond, g, zero), a.shape) if x.requires_grad else None
        gb = unbroadcast(np.where(cond, zero, g), b.shape) if y.requires_grad else None
        return ga, gb

    return make_node(out, (x, y), backward, "where", {"cond": condition})
