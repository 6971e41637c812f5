"""Reverse-mode differentiation: the chain rule, applied over the recorded graph.

Each non-leaf tensor keeps its ``_parents`` and a ``_backward`` closure mapping the
gradient of the output to a tuple of gradients, one per parent (``None`` where a parent
needs none). :func:`run_backward` orders the graph with an iterative depth-first search
(no recursion, so a chain of 100,000 ops is fine), then walks it once from the output
down, summing the gradients of tensors used more than once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..core.tensor import Tensor

__all__ = ["run_backward"]

_FREED_MESSAGE = (
    "backward: trying to backward through the graph a second time (or to use an "
    "intermediate result after its graph was freed); call backward(retain_graph=True) "
    "the first time if you need to backward twice"
)


def _topological_order(root: "Tensor") -> list["Tensor"]:
    """Non-leaf tensors reachable from ``root``, each after all of its parents."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    push, pop, seen, mark, key = stack.append, stack.pop, visited.__contains__, visited.add, id
    while stack:
        node, expanded = pop()
        if expanded:
            order.append(node)
            continue
        k = key(node)
        if seen(k):
            continue
        mark(k)
        push((node, True))
        for parent in node._parents:
            if parent._backward is not None and not seen(key(parent)):
                push((parent, False))
    return order


def _accumulate_leaf(leaf: "Tensor", grad: np.ndarray) -> None:
    if leaf._hooks:
        for hook in leaf._hooks:
            new = hook(grad)
            if new is not None:
                grad = np.asarray(new)
    if leaf.grad is None:
        leaf.grad = grad.copy() if grad.dtype == leaf.data.dtype else grad.astype(leaf.data.dtype)
    else:
        leaf.grad += grad


def run_backward(root: "Tensor", grad: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate ``grad`` (d out / d root) to every leaf that requires grad."""
    if root._freed:
        raise RuntimeError(_FREED_MESSAGE)
    if root._backward is None:  # a leaf: its gradient is the seed itself
        _accumulate_leaf(root, grad)
        return
    order = _topological_order(root)
    grads: dict[int, np.ndarray] = {id(root): grad}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:  # no path from root carried a gradient here
            continue
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
        for parent, pg in zip(node._parents, parent_grads):
            if pg is None or not parent.requires_grad:
                continue
            if pg.shape != parent.data.shape:
                raise RuntimeError(
                    f"backward of '{node._op}': gradient shape {pg.shape} does not match "
                    f"input shape {parent.data.shape} (a bug in that op)"
                )
            if pg.dtype != parent.data.dtype:
                pg = pg.astype(parent.data.dtype)
            if parent._freed:
                raise RuntimeError(_FREED_MESSAGE)
            if parent._backward is None:
                _accumulate_leaf(parent, pg)
            else:
                key = id(parent)
                prev = grads.get(key)
                grads[key] = pg if prev is None else prev + pg
        if not retain_graph:
            node._parents = ()
            node._backward = None
            node._freed = True
