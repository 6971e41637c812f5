"""``myelin.autograd.Function``: a differentiable operation written by the user (PyTorch's ``torch.autograd.Function``).

Subclass it with two static methods, ``forward(ctx, *inputs)`` and ``backward(ctx, *grad_outputs)``, and
call ``MyFunction.apply(*inputs)``. ``forward`` runs without recording a graph; its result joins the graph
as one node whose backward calls yours (also without recording), with tensors in and tensors (or ``None``)
out, one per input of ``forward``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._plural import counted
from ..core import node
from ..core.grad_mode import no_grad

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """What ``forward`` hands to ``backward``: ``save_for_backward(*tensors)`` / ``saved_tensors``,
    ``needs_input_grad`` and any attribute you set."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple[Any, ...] = ()

    def save_for_backward(self, *tensors: Any) -> None:
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        return self._saved

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Accepted for PyTorch's sake: outputs that are not floats get no gradient anyway."""

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch's sake: gradients of unused outputs are always zeros."""


class Function:
    """Base class of user-defined differentiable operations; see the module docstring."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("define forward(ctx, *inputs) as a @staticmethod")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("define backward(ctx, *grad_outputs) as a @staticmethod")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        tensor_class = node.TENSOR_CLASS
        ctx = FunctionCtx(tuple(isinstance(a, tensor_class) and a.requires_grad for a in args))
        with no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        outputs = result if isinstance(result, tuple) else (result,)
        for k, out in enumerate(outputs):
            if not isinstance(out, tensor_class):
                raise TypeError(f"{cls.__name__}.forward must return tensors, output {k} is {type(out).__name__}")
        positions = [i for i, a in enumerate(args) if isinstance(a, tensor_class)]
        parents = tuple(args[i] for i in positions)
        shapes = [o.data.shape for o in outputs]

        def make_backward(k: int) -> Any:
            def backward(g: np.ndarray) -> tuple:
                grads_out = [tensor_class._wrap(g if j == k else np.zeros(s, g.dtype)) for j, s in enumerate(shapes)]
                with no_grad():
                    grads = cls.backward(ctx, *grads_out)
                grads = grads if isinstance(grads, tuple) else (grads,)
                if len(grads) < len(args):
                    raise ValueError(f"{cls.__name__}.backward returned {len(grads)} gradients, forward took "
                                     f"{counted(len(args), 'input')} (return None for inputs that need none)")
                picked = []
                for i in positions:
                    gi = grads[i]
                    picked.append(None if gi is None else np.asarray(gi.data if isinstance(gi, tensor_class) else gi))
                return tuple(picked)

            return backward

        joined = tuple(node.make_node(o.data, parents, make_backward(k), cls.__name__) for k, o in enumerate(outputs))
        return joined if isinstance(result, tuple) else joined[0]
