"""Reverse-mode differentiation: the chain rule, applied over the recorded graph.

Each non-leaf tensor keeps its ``_parents``, a ``_backward`` closure mapping the gradient of
the output to a tuple of gradients, one per parent (``None`` where a parent needs none), and
``_seq``, its creation number. A tensor is always created after its parents, so visiting
nodes from the highest creation number down is a topological order: :func:`run_backward`
keeps the nodes that have received a gradient in a heap keyed by ``-_seq`` and pops them
one at a time, so every node runs its backward once, after all of its consumers have added
their share (no recursion: a chain of 100,000 ops is fine; no separate sorting pass).

Leaf gradients: the first gradient that reaches a leaf becomes its ``.grad``. It is copied
unless the op returned it inside :class:`~myelin.core.node.Fresh` (freshly allocated and
referenced nowhere else: the leaf may own it) or it was just created by a dtype cast; later
gradients are added in place.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import TYPE_CHECKING

import numpy as np

from ..core.node import Fresh

if TYPE_CHECKING:
    from ..core.tensor import Tensor

__all__ = ["run_backward"]

_FREED_MESSAGE = (
    "backward: trying to backward through the graph a second time (or to use an "
    "intermediate result after its graph was freed); call backward(retain_graph=True) "
    "the first time if you need to backward twice"
)


def _accumulate_leaf(leaf: Tensor, grad: np.ndarray, owned: bool = False) -> None:
    """Add ``grad`` into ``leaf.grad``; adopt it without a copy when ``owned`` (and no hook saw it)."""
    if leaf._hooks:
        for hook in leaf._hooks:
            new = hook(grad)
            if new is not None:
                grad = np.asarray(new)
        owned = False  # a hook may have kept a reference to the array it was shown
    current = leaf.grad
    if current is None:
        dtype = leaf.data.dtype
        if grad.dtype != dtype:
            leaf.grad = grad.astype(dtype)
        elif owned:
            leaf.grad = grad
        else:
            leaf.grad = grad.copy()
    else:
        current += grad


def run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate ``grad`` (d out / d root) to every leaf that requires grad."""
    if root._freed:
        raise RuntimeError(_FREED_MESSAGE)
    if root._backward is None:  # a leaf: its gradient is the seed itself
        _accumulate_leaf(root, grad)
        return
    grads: dict[int, np.ndarray] = {id(root): grad}
    heap: list = [(-root._seq, root)]
    free = not retain_graph
    while heap:
        node = heappop(heap)[1]
        g = grads.pop(id(node))
        if node._hooks:
            for hook in node._hooks:
                new = hook(g)
                if new is not None:
                    g = np.asarray(new)
        if node._retains_grad:
            node.grad = np.array(g, copy=True) if node.grad is None else node.grad + g
        backward = node._backward
        if backward is None:
            raise RuntimeError(_FREED_MESSAGE)
        parent_grads = backward(g)
        fresh = type(parent_grads) is Fresh
        for parent, pg in zip(node._parents, parent_grads):
            if pg is None or not parent.requires_grad:
                continue
            data = parent.data
            if pg.shape != data.shape:
                raise RuntimeError(
                    f"backward of '{node._op}': gradient shape {pg.shape} does not match "
                    f"input shape {data.shape} (a bug in that op)"
                )
            owned = fresh
            if pg.dtype != data.dtype:
                pg = pg.astype(data.dtype)
                owned = True
            if parent._backward is None:
                if parent._freed:
                    raise RuntimeError(_FREED_MESSAGE)
                _accumulate_leaf(parent, pg, owned)
            else:
                key = id(parent)
                prev = grads.get(key)
                if prev is None:
                    grads[key] = pg
                    heappush(heap, (-parent._seq, parent))
                else:
                    grads[key] = prev + pg
        if free:
            node._parents = ()
            node._backward = None
            node._freed = True
