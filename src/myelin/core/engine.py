"""Reverse-mode differentiation: the chain rule, applied over the recorded graph.

Each non-leaf tensor keeps its ``_parents``, a ``_backward`` closure mapping the gradient of
the output to a tuple of gradients, one per parent (``None`` where a parent needs none), and
``_seq``, its creation number. A tensor is always created after its parents, so visiting
nodes from the highest creation number down is a topological order: :func:`run_backward`
keeps the nodes that have received a gradient in a heap keyed by ``-_seq`` and pops them
one at a time, so every node runs its backward once, after all of its consumers have added
their share (no recursion: a chain of 100,000 ops is fine; no separate sorting pass).

Gradients are always NumPy arrays of their tensor's shape, never NumPy scalars: NumPy hands
back scalars for 0-d results, and ``x += g`` on a scalar rebinds a name instead of adding, so
every array that enters the engine goes through :func:`as_grad_array` first.

Leaf gradients: ``leaf.grad`` is a Tensor wrapping an array. The first gradient that reaches
a leaf becomes that array; it is copied unless the op returned it inside
:class:`~myelin.core.node.Fresh` (freshly allocated and referenced nowhere else: the leaf may
own it) or it was just created by a dtype cast. Later gradients are added in place.

:func:`observe` lets a caller watch the real backward pass node by node (the step-by-step
replay of ``myelin.viz`` is built on it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np

from . import node as _node
from .node import Fresh

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["Observer", "accumulate_grad", "as_grad_array", "observe", "run_backward"]

_FREED_MESSAGE = (
    "backward: trying to backward through the graph a second time (or to use an "
    "intermediate result after its graph was freed); call backward(retain_graph=True) "
    "the first time if you need to backward twice"
)

#: ``observer(out, grad, parents, parent_grads)`` for every node as backward runs, and
#: ``observer(leaf, grad, (), ())`` for every gradient that reaches a leaf (see :func:`observe`).
Observer = Callable[["Tensor", np.ndarray, tuple, tuple], Any]
_OBSERVERS: list[Observer] = []


@contextmanager
def observe(callback: Observer) -> Iterator[None]:
    """Call ``callback`` for each step of every ``backward()`` run inside the block.

    For a node (an op's output ``out``): ``callback(out, grad, parents, parent_grads)`` where
    ``grad`` is d loss / d out as it arrived (after hooks), ``parents`` the op's inputs and
    ``parent_grads`` what the chain rule passes to each of them (``None`` where an input needs
    none). For a leaf: ``callback(leaf, grad, (), ())`` with the gradient added to ``leaf.grad``.
    Nodes are reported in the order the engine runs them. The arrays are the engine's own: read
    them, do not modify them.
    """
    _OBSERVERS.append(callback)
    try:
        yield
    finally:
        _OBSERVERS.remove(callback)


def as_grad_array(grad: Any, like: np.ndarray) -> np.ndarray:
    """``grad`` as an ndarray of ``like``'s shape (0-d scalars and Tensors included)."""
    if isinstance(grad, _node.TENSOR_CLASS):
        grad = grad.data
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad)
    if grad.shape != like.shape:
        raise RuntimeError(f"gradient of shape {grad.shape} does not match the tensor's shape {like.shape}")
    return grad


def _run_hooks(hooks: list, grad: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Each hook sees the gradient as a Tensor and may return a replacement."""
    wrap = _node.TENSOR_CLASS._wrap
    for hook in hooks:
        new = hook(wrap(grad))
        if new is not None:
            grad = as_grad_array(new, like)
    return grad


def accumulate_grad(leaf: Tensor, grad: np.ndarray, owned: bool = False) -> None:
    """Add ``grad`` into ``leaf.grad``; adopt it without a copy when ``owned`` (and no hook saw it)."""
    if leaf._hooks:
        grad = _run_hooks(leaf._hooks, grad, leaf.data)
        owned = False  # a hook may have kept a reference to the array it was shown
    if _OBSERVERS:
        for callback in _OBSERVERS:
            callback(leaf, grad, (), ())
    current = leaf._grad
    if current is None:
        dtype = leaf.data.dtype
        if grad.dtype != dtype:
            arr = grad.astype(dtype)
        elif owned and grad.flags.writeable:
            arr = grad
        else:
            arr = grad.copy()
        leaf._grad = _node.TENSOR_CLASS._wrap(arr)
    else:
        acc = current.data
        if acc.flags.writeable:  # shapes agree: the engine and the .grad setter both check them
            np.add(acc, grad, out=acc, casting="unsafe")
        else:  # a gradient the user set to a read-only array: replace it
            current.data = (acc + grad).astype(leaf.data.dtype, copy=False)


def run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate ``grad`` (d out / d root) to every leaf that requires grad."""
    if root._freed:
        raise RuntimeError(_FREED_MESSAGE)
    grad = as_grad_array(grad, root.data)
    if root._backward is None:  # a leaf: its gradient is the seed itself
        accumulate_grad(root, grad)
        return
    grads: dict[int, np.ndarray] = {id(root): grad}
    heap: list = [(-root._seq, root)]
    free = not retain_graph
    observers = list(_OBSERVERS)
    while heap:
        node = heappop(heap)[1]
        g = grads.pop(id(node))
        if node._hooks:
            g = _run_hooks(node._hooks, g, node.data)
        if node._retains_grad:
            if node._grad is None:
                node._grad = _node.TENSOR_CLASS._wrap(np.array(g, copy=True))
            else:
                node._grad.data = node._grad.data + g
        backward = node._backward
        if backward is None:
            raise RuntimeError(_FREED_MESSAGE)
        parents = node._parents
        parent_grads = backward(g)
        fresh = type(parent_grads) is Fresh
        passed: list = []
        for parent, pg in zip(parents, parent_grads):
            if pg is None or not parent.requires_grad:
                passed.append(None)
                continue
            data = parent.data
            if type(pg) is not np.ndarray:  # NumPy scalars from 0-d arithmetic
                pg = np.asarray(pg)
            if pg.shape != data.shape:
                raise RuntimeError(
                    f"backward of '{node._op}': gradient shape {pg.shape} does not match "
                    f"input shape {data.shape} (a bug in that op)"
                )
            passed.append(pg)
        if observers:
            for callback in observers:
                callback(node, g, parents, tuple(passed))
        for parent, pg in zip(parents, passed):
            if pg is None:
                continue
            owned = fresh
            if pg.dtype != parent.data.dtype:
                pg = pg.astype(parent.data.dtype)
                owned = True
            if parent._backward is None:
                if parent._freed:
                    raise RuntimeError(_FREED_MESSAGE)
                accumulate_grad(parent, pg, owned)
            else:
                key = id(parent)
                prev = grads.get(key)
                if prev is None:
                    grads[key] = pg
                    heappush(heap, (-parent._seq, parent))
                else:
                    total = prev + pg
                    grads[key] = total if type(total) is np.ndarray else np.asarray(total)
        if free:
            node._parents = ()
            node._backward = None
            node._freed = True
