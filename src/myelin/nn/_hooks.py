"""Calling a module: input wrapping, the removable hook handle, the nodes behind backward hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.node import make_node
from ..core.tensor import Tensor, as_tensor

if TYPE_CHECKING:
    from .module import Module

__all__ = ["BackwardHookTracker", "RemovableHandle"]


def _as_input_tensor(arr: np.ndarray) -> Tensor:
    """A NumPy input as a tensor; float arrays become float32, the models' dtype (a convenience of
    calling a module on NumPy data: ``myelin.tensor`` itself keeps float64 as PyTorch does)."""
    if arr.dtype.kind == "f" and arr.dtype != np.float32:
        arr = arr.astype(np.float32)
    return as_tensor(arr)


def wrap_input(a: Any) -> Any:
    """NumPy arrays (and lists of numbers) become tensors; tuples are wrapped element-wise."""
    t = type(a)
    if t is np.ndarray:
        return _as_input_tensor(a)
    if t is tuple:
        return tuple(wrap_input(e) for e in a)
    if t is list:
        arr = np.asarray(a) if a and not any(isinstance(e, (Tensor, np.ndarray, tuple)) for e in a) else None
        return _as_input_tensor(arr) if arr is not None and arr.dtype.kind in "fiub" else a
    return a


class RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` (or ``with handle:``) takes the hook out."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Callable[..., Any]]) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class BackwardHookTracker:
    """Identity nodes around a module's inputs and outputs that report their gradients to hooks."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.grad_inputs: list[Any] = []
        self.grad_outputs: list[Any] = []
        self.pending = 0
        self.fired = False

    def wrap_inputs(self, args: tuple) -> tuple:
        self.grad_inputs = [None] * len(args)
        wrapped = list(args)
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad:
                self.pending += 1
                wrapped[i] = make_node(a.data, (a,), self._input_backward(i), "BackwardHook")
        return tuple(wrapped)

    def _input_backward(self, i: int) -> Callable[[np.ndarray], tuple]:
        def backward(g: np.ndarray) -> tuple:
            self.grad_inputs[i] = g
            self.pending -= 1
            if self.pending == 0:
                self._fire()
            return (g,)

        return backward

    def wrap_outputs(self, output: Any) -> Any:
        outs = output if isinstance(output, tuple) else (output,)
        self.grad_outputs = [None] * len(outs)
        wrapped = list(outs)
        for i, o in enumerate(outs):
            if isinstance(o, Tensor) and o.requires_grad:
                wrapped[i] = make_node(o.data, (o,), self._output_backward(i), "BackwardHook")
        return tuple(wrapped) if isinstance(output, tuple) else wrapped[0]

    def _output_backward(self, i: int) -> Callable[[np.ndarray], tuple]:
        def backward(g: np.ndarray) -> tuple:
            self.grad_outputs[i] = g
            if self.pending == 0:  # no input needs a gradient: report now
                self._fire()
            return (g,)

        return backward

    def _fire(self) -> None:
        grad_inputs = tuple(None if g is None else Tensor._wrap(g) for g in self.grad_inputs)
        grad_outputs = tuple(None if g is None else Tensor._wrap(g) for g in self.grad_outputs)
        for hook in list(self.module._backward_hooks.values()):  # gradients as Tensors, as in PyTorch
            if hook(self.module, grad_inputs, grad_outputs) is not None:
                raise RuntimeError(
                    f"a backward hook of {type(self.module).__name__} returned a value; Myelin's module backward "
                    f"hooks only observe gradients (use Tensor.register_hook to change one)"
                )
