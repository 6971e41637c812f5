"""``myelin.autograd.grad``: the gradients of outputs with respect to chosen inputs, leaving every
``.grad`` as it was (PyTorch's ``torch.autograd.grad``, first derivatives only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._plural import counted
from ..core import node

__all__ = ["grad"]


def _leaves(outputs: Sequence[Any]) -> list[Any]:
    """Every tensor that requires grad reachable from ``outputs`` (iteratively: long graphs are fine)."""
    seen: set[int] = set()
    stack, found = list(outputs), []
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        found.append(t)
        stack.extend(p for p in t._parents if p.requires_grad)
    return found


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None, materialize_grads: bool = False
         ) -> tuple[Any, ...]:
    """``d sum(outputs * grad_outputs) / d input`` for each of ``inputs``, as a tuple of tensors.

    No tensor's ``.grad`` changes. An input the outputs do not depend on raises unless
    ``allow_unused=True`` (then its entry is None, or zeros with ``materialize_grads=True``).
    """
    if create_graph:
        raise NotImplementedError("autograd.grad(create_graph=True): Myelin computes first derivatives only")
    tensor = node.TENSOR_CLASS
    outs = [outputs] if isinstance(outputs, tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, tensor) else list(inputs)
    seeds = [grad_outputs] if isinstance(grad_outputs, tensor) or grad_outputs is None else list(grad_outputs)
    if grad_outputs is None:
        seeds = [None] * len(outs)
    if len(seeds) != len(outs):
        raise ValueError(f"autograd.grad: {counted(len(outs), 'output')} but {len(seeds)} grad_outputs")
    for k, x in enumerate(ins):
        if not isinstance(x, tensor) or not x.requires_grad:
            raise RuntimeError(f"autograd.grad: input {k} does not require grad")
    reachable = _leaves(outs)
    saved = {id(t): (t, t._grad, t._retains_grad) for t in reachable + ins}
    try:
        for t, _, _ in saved.values():
            t._grad = None
        for x in ins:
            x._retains_grad = True
        for k, (out, seed) in enumerate(zip(outs, seeds)):
            keep = True if k < len(outs) - 1 else bool(retain_graph)
            out.backward(seed, retain_graph=keep)
        results = []
        for k, x in enumerate(ins):
            g = x._grad
            if g is None:
                if not allow_unused and not materialize_grads:
                    raise RuntimeError(f"autograd.grad: input {k} was not used to compute the outputs; "
                                       "pass allow_unused=True if that is expected")
                if materialize_grads:
                    g = tensor._wrap(x.data * 0)
            results.append(g)
        return tuple(results)
    finally:
        for t, old, retains in saved.values():
            t._grad = old
            t._retains_grad = retains
