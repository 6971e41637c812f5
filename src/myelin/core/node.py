"""How an operation joins the graph: the one protocol every differentiable op follows.

An op computes its result with NumPy, then calls::

    out = make_node(result_array, (a, b), backward, "mul")

``backward(g)`` receives the gradient of the loss with respect to ``out`` (a NumPy array of
``out``'s shape, which it must not modify) and returns one gradient per parent, in order,
each of that parent's shape, or ``None`` for a parent that needs none. It is only called
when at least one parent requires grad; testing ``parent.requires_grad`` lets it skip work for
the others.
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

from .grad_mode import STATE

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["AccumulateGrad", "Fresh", "Node", "ensure_tensor", "make_node", "to_array", "unbroadcast"]

BackwardFn = Callable[[np.ndarray], Sequence[Any]]

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

    ``attrs`` holds the op's non-tensor arguments (shapes, dims, scalar operands): the tracer
    reads them, and ``out.grad_fn.saved`` shows them.
    """
    if type(data) is not np.ndarray:  # NumPy hands back scalars for 0-d results
        data = np.asarray(data)
    out = TENSOR_CLASS._wrap(data)
    out._op = op
    if TRACER is not None:
        TRACER(out, parents, op, attrs)
    if STATE.enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = backward
                out._attrs = attrs
                out._seq = _next_seq()
                return out
    return out


def _backward_name(op: str) -> str:
    """PyTorch-style node name: ``"log_softmax"`` -> ``"LogSoftmaxBackward0"``."""
    return "".join(part.capitalize() for part in op.split("_")) + "Backward0"


class Node:
    """The op that made a tensor, as PyTorch's ``grad_fn``: a view onto the recorded graph.

    ``name()`` is PyTorch's spelling (``"MulBackward0"``), ``op`` Myelin's (``"mul"``);
    ``next_functions`` leads to the inputs' nodes (an :class:`AccumulateGrad` for a leaf that
    requires grad, ``None`` for a constant); ``saved`` holds what the op keeps for its
    backward that a learner would want to see: its constant arguments and its inputs' values.
    ``tensor`` is the op's output. Backward frees the graph (unless ``retain_graph=True``),
    after which ``next_functions`` is empty.
    """

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor

    def name(self) -> str:
        return _backward_name(self.tensor._op)

    @property
    def op(self) -> str:
        return self.tensor._op

    @property
    def parents(self) -> tuple:
        """The op's input tensors (empty once backward has freed the graph)."""
        return self.tensor._parents

    @property
    def next_functions(self) -> tuple:
        return tuple((_node_of(p), 0) for p in self.tensor._parents)

    @property
    def saved(self) -> dict:
        attrs = self.tensor._attrs
        out = dict(attrs) if attrs else {}
        for i, p in enumerate(self.tensor._parents):
            out[f"input{i}"] = p.data
        return out

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.tensor is self.tensor

    def __hash__(self) -> int:
        return id(self.tensor)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad:
    """The end of the graph at a leaf that requires grad: its gradient is added into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    next_functions: tuple = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def _node_of(t: Tensor) -> Node | AccumulateGrad | None:
    if t._backward is not None:
        return Node(t)
    if t.requires_grad:
        return AccumulateGrad(t)
    return None


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
    if like is not None and arr.dtype != like.dtype and like.dtype.kind == "f" and arr.dtype.kind in "fiub":
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
