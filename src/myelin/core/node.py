"""How an operation joins the graph: the one protocol every differentiable op follows.

An op computes its result with NumPy, then calls::

    out = make_node(result_array, (a, b), backward, "mul")

``backward(g)`` receives the gradient of the loss with respect to ``out`` (a NumPy array of
``out``'s shape, which it must not modify) and returns one gradient per parent, in order,
each of that parent's shape, or ``None`` for a parent that needs none. It is only called
when at least one parent requires grad; ``needs_grad(t)`` lets it skip work for the others.
Under ``no_grad`` (or when no parent requires grad) no closure is kept: the result is a
plain tensor and the graph stays empty.

An op whose backward allocates every gradient it returns (and keeps no reference to them)
may return them as ``Fresh((gx, gw))`` instead of a plain tuple: a leaf then takes the array
as its ``.grad`` without a copy. Never wrap ``g`` itself, a view of it, a cached array or one
array returned for two parents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.grad_mode import STATE

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["FLOAT_TYPES", "Fresh", "ensure_tensor", "make_node", "to_array", "unbroadcast"]

BackwardFn = Callable[[np.ndarray], Sequence[Any]]
FLOAT_TYPES = (np.float16, np.float32, np.float64)

#: Set by ``myelin.core.tensor`` once the class exists (keeps this module import-free).
TENSOR_CLASS: Any = None

#: ``None``, or a callable ``TRACER(out, parents, op, attrs)`` that sees every op as it runs
#: (set by ``myelin.onnx`` while it traces a model; one ``is not None`` test per op otherwise).
TRACER: Any = None

#: Creation numbers of graph nodes: a node is always numbered after its parents (see the engine).
_next_seq = count(1).__next__


class Fresh(tuple):
    """A backward's gradients, each freshly allocated and referenced nowhere else (the leaves may keep them)."""

    __slots__ = ()


def make_node(data: np.ndarray, parents: tuple, backward: BackwardFn, op: str, attrs: dict | None = None) -> Tensor:
    """Wrap ``data`` as the output of ``op`` on ``parents``; record the graph when needed.

    ``attrs`` holds the op's non-tensor arguments (shapes, dims, scalar operands) for the tracer.
    """
    out = TENSOR_CLASS.__new__(TENSOR_CLASS)
    if type(data) is not np.ndarray:  # NumPy hands back scalars for 0-d results
        data = np.asarray(data)
    out.data = data
    out.grad = None
    out._op = op
    out._freed = False
    out._hooks = None
    out._retains_grad = False
    if TRACER is not None:
        TRACER(out, parents, op, attrs)
    if STATE.enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = backward
                out._seq = _next_seq()
                return out
    out._seq = 0
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    return out


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes broadcasting added, so it has ``shape`` again."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(axis=axes).reshape(shape)


def to_array(x: Any, like: np.ndarray | None = None) -> np.ndarray | float | int:
    """The NumPy value of an op's non-tensor operand.

    Python scalars stay scalars (NumPy then keeps the tensor's dtype); arrays of another
    float dtype are cast to ``like``'s float dtype so that ``float32 * float64-array`` stays
    float32, as with PyTorch's scalar-type promotion.
    """
    if isinstance(x, TENSOR_CLASS):
        return x.data
    if isinstance(x, (bool, int, float)):
        return x
    arr = np.asarray(x)
    if like is not None and arr.dtype != like.dtype:
        if like.dtype.kind == "f" and arr.dtype.kind in "fiub":
            arr = arr.astype(like.dtype)
    return arr


def ensure_tensor(x: Any, like: np.ndarray | None = None) -> Tensor:
    """``x`` as a tensor (constants become tensors that do not require grad)."""
    if isinstance(x, TENSOR_CLASS):
        return x
    arr = to_array(x, like)
    if not isinstance(arr, np.ndarray):
        dtype = like.dtype if like is not None and like.dtype.kind == "f" else None
        arr = np.asarray(arr, dtype=dtype)
        if dtype is None and arr.dtype == np.float64:
            arr = arr.astype(np.float32)
    return TENSOR_CLASS._wrap(arr)
