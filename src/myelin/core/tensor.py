"""The Tensor: a NumPy array that remembers how it was computed.

``Tensor.data`` is the array, ``Tensor.grad`` the gradient (a NumPy array of the same shape
and dtype, or ``None``). Arithmetic here, reductions in ``reductions.py``, shape ops in
``shape.py`` and indexing in ``indexing.py`` each build one graph node (see ``node.py``);
``backward()`` hands the graph to ``myelin.autograd.engine``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Self

import numpy as np

from . import engine, indexing, node, reductions, shape
from .grad_mode import STATE
from .node import make_node, to_array, unbroadcast
from .tensor_api import TensorMethods

__all__ = ["Size", "SizeCount", "Tensor", "as_tensor", "tensor"]


def _default_array(data: Any, dtype: Any = None) -> np.ndarray:
    """``data`` as a fresh NumPy array with PyTorch's dtype inference.

    NumPy arrays and NumPy scalars keep their dtype (float64 stays float64, as ``torch.tensor``
    does); Python floats, and sequences of them, become float32 (the default dtype); Python
    ints become int64 and bools bool.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=np.dtype(dtype))
    arr = np.array(data)
    kind = arr.dtype.kind
    if kind in "OUS":
        raise TypeError(f"tensor: expected numbers, received an array of dtype {arr.dtype}")
    if kind == "c":
        raise TypeError("tensor: complex numbers are not supported")
    if arr.dtype == np.float64 and not isinstance(data, (np.ndarray, np.generic)) and not _holds_float64(data):
        arr = arr.astype(np.float32)
    return arr


def _holds_float64(data: Any) -> bool:
    """True when a (nested) sequence holds a NumPy float64 array or scalar (PyTorch then infers float64)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (np.ndarray, np.generic)):
            if item.dtype == np.float64:
                return True
        elif isinstance(item, Tensor) and item.data.dtype == np.float64:
            return True
    return False


def _promote_result(out: np.ndarray, a: np.ndarray, b: Any) -> np.ndarray:
    """Keep float32 when NumPy widened an integer op with a Python float to float64."""
    widened = out.dtype == np.float64 and a.dtype != np.float64
    if widened and not (isinstance(b, np.ndarray) and b.dtype == np.float64):
        return out.astype(np.float32)
    return out


def _category(dtype: np.dtype) -> str:
    kind = dtype.kind
    return "i" if kind == "u" else kind


def _promote_tensors(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PyTorch's promotion between two tensors, where NumPy's differs.

    A 0-d tensor does not widen a dimensioned one of the same category (``float64 scalar tensor
    * float32 vector`` is float32), and integer true division gives the default float32.
    """
    da, db, do = a.dtype, b.dtype, out.dtype
    if da == db:
        return out if do == da or do != np.float64 else out.astype(np.float32)
    if (a.ndim == 0) != (b.ndim == 0) and _category(da) == _category(db):
        keep = db if a.ndim == 0 else da
        if _category(do) == _category(keep):
            return out if do == keep else out.astype(keep)
    if do == np.float64 and da != np.float64 and db != np.float64:
        return out.astype(np.float32)
    return out


def _broadcast_error(op: str, a: np.ndarray, b: Any) -> ValueError:
    bshape = getattr(b, "shape", ())
    return ValueError(f"{op}: shapes {tuple(a.shape)} and {tuple(bshape)} cannot be broadcast together")


def _apply(fn: Callable[[Any, Any], Any], a: Any, b: Any, op: str) -> np.ndarray:
    """``fn(a, b)``, with a broadcast failure reported as ``op`` and both shapes."""
    try:
        return fn(a, b)
    except ValueError:
        raise _broadcast_error(op, a, b) from None


class Size(tuple):
    """A shape: ``torch.Size``'s spelling (``myelin.Size([2, 3])``, a tuple of ints with ``numel()``)."""

    def __new__(cls, sizes: Any = ()) -> Self:
        return super().__new__(cls, (int(v) for v in sizes))

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __getitem__(self, key: Any) -> Any:
        out = super().__getitem__(key)
        return Size(out) if isinstance(key, slice) else out

    def __repr__(self) -> str:
        return f"myelin.Size({list(self)})"


class SizeCount(int):
    """``x.size``: the number of elements, as NumPy's ``.size``; call it for the shape (a :class:`Size`),
    as PyTorch's ``.size()``."""

    _shape: tuple[int, ...]

    def __new__(cls, shape: tuple[int, ...]) -> Self:
        self = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        self._shape = shape
        return self

    def __call__(self, dim: int | None = None) -> Any:
        return Size(self._shape) if dim is None else self._shape[dim]


class Tensor(TensorMethods):
    """An n-dimensional array with reverse-mode automatic differentiation.

    Create one with :func:`myelin.tensor`. Operators broadcast as NumPy does. The engine and the
    arithmetic live here; PyTorch's other method spellings (``to``, ``cpu``, ``norm``, ``add_`` ...)
    come from :class:`~myelin.core.tensor_api.TensorMethods`.
    """

    __slots__ = (
        "__weakref__",
        "_attrs",
        "_backward",
        "_freed",
        "_grad",
        "_hooks",
        "_op",
        "_parents",
        "_retains_grad",
        "_seq",
        "data",
        "requires_grad",
    )
    __hash__ = object.__hash__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if dtype is None and isinstance(data, (list, tuple)):  # torch.Tensor([1, 2]): the default dtype
            dtype = np.float32
        self._init_fields(_default_array(data, dtype))
        if requires_grad:
            self.requires_grad_(True)

    def _init_fields(self, arr: np.ndarray, requires_grad: bool = False) -> None:
        """Every slot's starting value: the one place a tensor is initialised."""
        self.data = arr
        self._grad = None
        self.requires_grad = requires_grad
        self._parents = ()
        self._backward = None
        self._attrs = None
        self._op = ""
        self._freed = False
        self._hooks = None
        self._retains_grad = False
        self._seq = 0

    @classmethod
    def _wrap(cls, arr: np.ndarray, requires_grad: bool = False) -> Tensor:
        """A leaf around ``arr`` without copying it (internal fast path)."""
        t = cls.__new__(cls)
        t._init_fields(arr, requires_grad)
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
    def size(self) -> SizeCount:
        """Element count (``t.size``); ``t.size()`` / ``t.size(dim)`` give the shape as in PyTorch."""
        return SizeCount(self.data.shape)

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
        return self._backward is None and not self._freed

    @property
    def grad_fn(self) -> node.Node | None:
        """The op that made this tensor (a :class:`~myelin.core.node.Node`), or None for a leaf."""
        if self._backward is None and not self._freed:
            return None
        return node.Node(self)

    @property
    def grad(self) -> Tensor | None:
        """d loss / d self after ``backward()``: a Tensor of this tensor's shape, or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        if isinstance(value, Tensor):
            arr = value.data
        else:  # a NumPy array or number: taken in this tensor's dtype
            arr = np.asarray(value)
            if arr.dtype != self.data.dtype:
                arr = arr.astype(self.data.dtype)
        if arr.shape != self.data.shape:
            raise ValueError(f"grad: assigned a gradient of shape {arr.shape} to a tensor of shape {self.shape}")
        if arr.dtype != self.data.dtype:
            raise TypeError(
                f"grad: assigned a gradient of dtype {arr.dtype} to a tensor of dtype {self.dtype} (as in PyTorch, "
                f"they must match: convert it with .to({self.dtype}))"
            )
        self._grad = value if isinstance(value, Tensor) else Tensor._wrap(arr)

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

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy functions on tensors: differentiable ones run as Tensor ops, others on the arrays.

        ``array * tensor`` and ``np.exp(tensor)`` keep the graph (they call the Tensor op);
        any other ufunc (``np.sign(t.grad)``, ``np.isfinite(t)``) computes on the arrays and
        returns a tensor without gradient, and refuses an input that requires grad.
        """
        if method == "__call__" and not kwargs:
            op = _UFUNC_OPS.get(ufunc.__name__)
            if op is not None:
                return op(*[x if isinstance(x, Tensor) else node.ensure_tensor(x, self.data) for x in inputs])
        for x in inputs:
            if isinstance(x, Tensor) and x.requires_grad and STATE.enabled:
                raise TypeError(
                    f"numpy.{ufunc.__name__}: the tensor requires grad and NumPy would drop its gradient; "
                    f"use the Tensor method or call .detach() first"
                )
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.data if isinstance(o, Tensor) else o for o in kwargs["out"])
        result = getattr(ufunc, method)(*arrays, **kwargs)
        if isinstance(result, tuple):
            return tuple(Tensor._wrap(np.asarray(r)) for r in result)
        return result if result is None else Tensor._wrap(np.asarray(result))

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

    def _repr_html_(self) -> str:
        """In Jupyter: shape, dtype, grad_fn and the values as a shaded table (and ``.grad`` when set)."""
        from ._display import tensor_html
        return tensor_html(self)

    # ----------------------------------------------------------------- autograd
    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
        *,
        grad: Any = None,
    ) -> None:
        """Accumulate d self / d leaf into every leaf's ``.grad`` (PyTorch semantics).

        ``gradient`` (alias ``grad``) is d loss / d self, required when self has more than one
        element. ``retain_graph=True`` keeps the graph for another backward.
        """
        if create_graph:
            raise NotImplementedError(
                "backward(create_graph=True): Myelin computes first derivatives only (no graph of the backward pass)"
            )
        if inputs is not None:
            raise NotImplementedError("backward(inputs=...): not supported; read .grad of the leaves you need")
        if grad is not None:
            if gradient is not None:
                raise TypeError("backward: pass the gradient once, as gradient= (grad= is its alias)")
            gradient = grad
        if not self.requires_grad:
            raise RuntimeError("backward: the tensor does not require grad and has no graph")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs, this output has shape "
                    f"{self.shape}; pass gradient= of the same shape"
                )
            seed = np.ones(self.data.shape, self.data.dtype)
        else:
            seed = np.array(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=self.data.dtype)
            if seed.shape != self.data.shape:
                raise ValueError(
                    f"backward: gradient has shape {seed.shape}, expected the output's shape {self.shape}"
                )
        engine.run_backward(self, seed, retain_graph=bool(retain_graph))

    # ----------------------------------------------------------------- arithmetic
    # Tensor (op) Tensor follows PyTorch's promotion (``_promote_tensors``); Tensor (op) Python
    # number keeps the tensor's dtype (``_promote_result``), as PyTorch's scalar rules do.
    def __add__(self, other: Any) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            out = _promote_tensors(_apply(np.add, a, b, "add"), a, b)
            sa, sb = a.shape, b.shape
            return make_node(out, (self, other), lambda g: (unbroadcast(g, sa), unbroadcast(g, sb)), "add")
        b = to_array(other, a)
        out = _promote_result(_apply(np.add, a, b, "add"), a, b)
        sa = a.shape
        return make_node(out, (self,), lambda g: (unbroadcast(g, sa),), "add", {"c": b})

    __radd__ = __add__

    def __sub__(self, other: Any) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            out = _promote_tensors(_apply(np.subtract, a, b, "sub"), a, b)
            sa, sb = a.shape, b.shape
            return make_node(out, (self, other), lambda g: (unbroadcast(g, sa), unbroadcast(-g, sb)), "sub")
        b = to_array(other, a)
        out = _promote_result(_apply(np.subtract, a, b, "sub"), a, b)
        sa = a.shape
        return make_node(out, (self,), lambda g: (unbroadcast(g, sa),), "sub", {"c": b})

    def __rsub__(self, other: Any) -> Tensor:
        a = self.data
        b = to_array(other, a)
        out = _promote_result(_apply(np.subtract, b, a, "sub"), a, b)
        sa = a.shape
        return make_node(out, (self,), lambda g: (unbroadcast(-g, sa),), "rsub", {"c": b})

    def __mul__(self, other: Any) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            out = _promote_tensors(_apply(np.multiply, a, b, "mul"), a, b)
            ta, tb = self, other

            def backward(g: np.ndarray) -> tuple:
                ga = unbroadcast(g * b, a.shape) if ta.requires_grad else None
                gb = unbroadcast(g * a, b.shape) if tb.requires_grad else None
                return ga, gb

            return make_node(out, (self, other), backward, "mul")
        b = to_array(other, a)
        out = _promote_result(_apply(np.multiply, a, b, "mul"), a, b)
        return make_node(out, (self,), lambda g: (unbroadcast(g * b, a.shape),), "mul", {"c": b})

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            out = _promote_tensors(_apply(np.true_divide, a, b, "div"), a, b)
            ta, tb = self, other

            def backward(g: np.ndarray) -> tuple:
                ga = unbroadcast(g / b, a.shape) if ta.requires_grad else None
                gb = unbroadcast(-g * out / b, b.shape) if tb.requires_grad else None
                return ga, gb

            return make_node(out, (self, other), backward, "div")
        b = to_array(other, a)
        out = _promote_result(_apply(np.true_divide, a, b, "div"), a, b)
        return make_node(out, (self,), lambda g: (unbroadcast(g / b, a.shape),), "div", {"c": b})

    def __rtruediv__(self, other: Any) -> Tensor:
        a = self.data
        b = to_array(other, a)
        out = _promote_result(_apply(np.true_divide, b, a, "div"), a, b)
        return make_node(out, (self,), lambda g: (unbroadcast(-g * out / a, a.shape),), "rdiv", {"c": b})

    def __pow__(self, exponent: Any) -> Tensor:
        a = self.data
        if isinstance(exponent, Tensor):
            b = exponent.data
            out = _promote_tensors(_apply(np.power, a, b, "pow"), a, b)
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
        out = _promote_result(_apply(np.power, a, p, "pow"), a, p)
        if isinstance(p, (int, float)) and p == 2:
            return make_node(out, (self,), lambda g: (unbroadcast(g * 2 * a, a.shape),), "pow", {"c": p})
        return make_node(out, (self,), lambda g: (unbroadcast(g * p * np.power(a, p - 1), a.shape),), "pow",
                         {"c": p})

    def __rpow__(self, base: Any) -> Tensor:
        a = self.data
        b = to_array(base, a)
        out = _promote_result(_apply(np.power, b, a, "pow"), a, b)
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
    # or under ``no_grad``, as in PyTorch's ``with no_grad(): w -= lr * w.grad``. On a result inside
    # a graph (``total += loss``) they record the out-of-place op and rebind the name, as PyTorch's
    # graph does; on a leaf that requires grad they raise, as PyTorch does.
    def _inplace(self, op: str, other: Any, fn: Callable[[np.ndarray, Any], Any]) -> Tensor:
        if STATE.enabled and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            if self._backward is not None or not self.requires_grad:
                return _OUT_OF_PLACE[op](self, other)
            raise RuntimeError(
                f"{op}: in-place change of a leaf tensor that requires grad; wrap it in myelin.no_grad() "
                f"or write x = x {op[0]} y"
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
        out = Tensor._wrap(np.asarray(_apply(fn, self.data, b, op)))
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

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return Tensor._wrap(np.asarray(self.data.any(axis=dim, keepdims=keepdim)))

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return Tensor._wrap(np.asarray(self.data.all(axis=dim, keepdims=keepdim)))

    def isnan(self) -> Tensor:
        return Tensor._wrap(np.isnan(self.data))

    def isfinite(self) -> Tensor:
        return Tensor._wrap(np.isfinite(self.data))

    # ----------------------------------------------------------------- elementwise functions
    def _float_data(self) -> np.ndarray:
        """The array, as float32 when it holds integers or bools (PyTorch's result dtype for exp, log ...)."""
        a = self.data
        return a if a.dtype.kind in "fc" else a.astype(np.float32)

    def exp(self) -> Tensor:
        out = np.exp(self._float_data())
        return make_node(out, (self,), lambda g: (g * out,), "exp")

    def log(self) -> Tensor:
        a = self._float_data()
        return make_node(np.log(a), (self,), lambda g: (g / a,), "log")

    def sqrt(self) -> Tensor:
        out = np.sqrt(self._float_data())
        return make_node(out, (self,), lambda g: (g / (2 * out),), "sqrt")

    def abs(self) -> Tensor:
        a = self.data
        return make_node(np.abs(a), (self,), lambda g: (g * np.sign(a),), "abs")

    def sign(self) -> Tensor:
        """-1, 0 or 1; its gradient is zero (it stays in the graph, as in PyTorch)."""
        if self.data.dtype.kind != "f":
            return Tensor._wrap(np.sign(self.data))
        return make_node(np.sign(self.data), (self,), lambda g: (np.zeros_like(g),), "sign")

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
    def add(self, other: Any, *, alpha: float = 1) -> Tensor:
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: float = 1) -> Tensor:
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any) -> Tensor:
        return self / other

    def pow(self, exponent: Any) -> Tensor:
        return self ** exponent

    def neg(self) -> Tensor:
        return -self

    # Activations as methods (``x.relu()``), as in PyTorch; they live in ``core/pointwise.py``
    # (imported on first use: that module builds on this one).
    def relu(self) -> Tensor:
        from .pointwise import relu

        return relu(self)

    def sigmoid(self) -> Tensor:
        from .pointwise import sigmoid

        return sigmoid(self)

    def tanh(self) -> Tensor:
        from .pointwise import tanh

        return tanh(self)

    def softmax(self, dim: int) -> Tensor:
        from .pointwise import softmax

        return softmax(self, dim=dim)

    def log_softmax(self, dim: int) -> Tensor:
        from .pointwise import log_softmax

        return log_softmax(self, dim=dim)

    # ----------------------------------------------------------------- reductions
    # ``axis=`` is accepted where PyTorch accepts it (the NumPy spelling of ``dim``)
    def sum(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        return reductions.sum(self, dim if axis is None else axis, keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        return reductions.mean(self, dim if axis is None else axis, keepdim)

    def var(self, dim: Any = None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None) -> Tensor:
        return reductions.var(self, dim, keepdim, correction=correction if unbiased is None else int(unbiased))

    def std(self, dim: Any = None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None) -> Tensor:
        return reductions.std(self, dim, keepdim, correction=correction if unbiased is None else int(unbiased))

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
        """The largest value, ``(values, indices)`` along ``dim``, or ``maximum(self, other)`` for a tensor."""
        if isinstance(dim, Tensor):
            return maximum(self, dim)
        return reductions.max(self, dim if axis is None else axis, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
        """The smallest value, ``(values, indices)`` along ``dim``, or ``minimum(self, other)`` for a tensor."""
        if isinstance(dim, Tensor):
            return minimum(self, dim)
        return reductions.min(self, dim if axis is None else axis, keepdim)

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

_OUT_OF_PLACE: dict[str, Callable[[Tensor, Any], Tensor]] = {
    "+=": Tensor.__add__, "-=": Tensor.__sub__, "*=": Tensor.__mul__, "/=": Tensor.__truediv__,
}

#: NumPy ufuncs that run as the differentiable Tensor op of the same meaning.
_UFUNC_OPS: dict[str, Callable[..., Tensor]] = {
    "add": Tensor.__add__,
    "subtract": Tensor.__sub__,
    "multiply": Tensor.__mul__,
    "true_divide": Tensor.__truediv__,
    "power": Tensor.__pow__,
    "negative": Tensor.__neg__,
    "exp": Tensor.exp,
    "log": Tensor.log,
    "sqrt": Tensor.sqrt,
    "absolute": Tensor.abs,
    "matmul": lambda x, y: matmul(x, y),
    "maximum": lambda x, y: maximum(x, y),
    "minimum": lambda x, y: minimum(x, y),
}


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data``, with PyTorch's dtype inference (``torch.tensor``;
    the class call ``Tensor([1, 2])`` gives float32, as ``torch.Tensor`` does)."""
    out = Tensor._wrap(_default_array(data, dtype))
    if requires_grad:
        out.requires_grad_(True)
    return out


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory with a NumPy array when no conversion is needed.

    As ``torch.as_tensor``: a NumPy array keeps its dtype (float64 stays float64).
    """
    if isinstance(data, Tensor):
        return data if dtype is None else data.astype(dtype)
    if isinstance(data, np.ndarray):
        if dtype is not None:
            dtype = np.dtype(dtype)
            return Tensor._wrap(data if data.dtype == dtype else data.astype(dtype))
        if data.dtype.kind in "fiub":
            return Tensor._wrap(data)
    return tensor(data, dtype=dtype)


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
    if a.dtype != b.dtype:
        raise TypeError(
            f"matmul: operands have dtypes {a.dtype} and {b.dtype}; as in PyTorch, both must have the same "
            f"dtype: convert one with .float() or .double()"
        )
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
    out = _promote_tensors(_apply(np.maximum, a, b, "maximum"), a, b)

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
    out = _promote_tensors(_apply(np.minimum, a, b, "minimum"), a, b)

    def backward(g: np.ndarray) -> tuple:
        wa = (a < b) + 0.5 * (a == b)
        ga = unbroadcast(g * wa, a.shape) if x.requires_grad else None
        gb = unbroadcast(g * (1 - wa), b.shape) if y.requires_grad else None
        return ga, gb

    return make_node(out, (x, y), backward, "minimum")


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """``x`` where ``condition`` holds, else ``y`` (broadcasting all three); ``where(condition)`` alone is
    ``nonzero(condition, as_tuple=True)``."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    if x is None and y is None:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(cond))
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither (where(condition) lists the True positions)")
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
