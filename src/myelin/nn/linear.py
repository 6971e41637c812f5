"""``Linear``: a fully connected layer, and ``NeuronView``: one of its neurons, inspectable in place."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._plural import counted
from ..core.tensor import Tensor
from . import functional as F
from . import init
from ._layers import check_bool, check_int
from .module import Module
from .parameter import Parameter

__all__ = ["Linear", "NeuronView"]


class Linear(Module):
    """``y = x @ weight.T + bias``.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample (the number of neurons).
        bias: learn an additive bias.

    Shapes:
        Input: ``(*, in_features)``. Output: ``(*, out_features)``.

    Attributes:
        weight: ``(out_features, in_features)``, initialised from U(-1/sqrt(in_features), 1/sqrt(in_features))
            (PyTorch's ``kaiming_uniform_(a=sqrt(5))``).
        bias: ``(out_features,)``, from the same distribution.

    ``layer.neuron(i)`` gives a :class:`NeuronView` of neuron ``i`` (row ``i`` of ``weight``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = check_int("Linear", "in_features", in_features, minimum=0)
        self.out_features = check_int("Linear", "out_features", out_features, minimum=0)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=np.float32))
        if check_bool("Linear", "bias", bias):
            self.bias = Parameter(np.empty((self.out_features,), dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in), ..) for the bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            self._shape_error(f"(..., {self.in_features})", shape)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def neuron(self, index: int) -> NeuronView:
        """A live view of neuron ``index`` (negative indices count from the end)."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"neuron: index must be an int, received {type(index).__name__}")
        if not -self.out_features <= index < self.out_features:
            raise IndexError(f"neuron: index {index} is out of range for {self._describe()} "
                             f"(which has {counted(self.out_features, 'neuron')})")
        return NeuronView(self, int(index) % self.out_features)

    def neurons(self) -> Iterator[NeuronView]:
        """Views of every neuron, in order."""
        for i in range(self.out_features):
            yield NeuronView(self, i)


class NeuronView:
    """Neuron ``index`` of a :class:`Linear` layer: its weights and bias as NumPy views.

    ``view.weight`` is row ``index`` of the layer's weight and ``view.bias`` a 0-d view of its
    bias entry; both share memory with the layer, so ``view.weight[0] = 0.5`` or
    ``view.bias[...] = 0`` (or assigning ``view.weight = [...]``) changes the trained network in
    place. ``view(x)`` computes the neuron's pre-activation ``x . w + b`` with NumPy (no graph):
    any activation that follows the layer in the model is not applied.
    """

    __slots__ = ("index", "layer")

    def __init__(self, layer: Linear, index: int) -> None:
        self.layer = layer
        self.index = index

    @property
    def weight(self) -> np.ndarray:
        """The ``(in_features,)`` incoming weights (a view into ``layer.weight``)."""
        return self.layer.weight.data[self.index]

    @weight.setter
    def weight(self, value: Any) -> None:
        row = self.weight
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
        if value.shape != row.shape:
            raise ValueError(f"neuron {self.index}: expected weights of shape {row.shape}, got {value.shape}")
        row[...] = value

    @property
    def bias(self) -> np.ndarray | None:
        """A 0-d view of the bias entry (``None`` for a layer without bias)."""
        b = self.layer.bias
        return None if b is None else b.data[self.index, ...]

    @bias.setter
    def bias(self, value: Any) -> None:
        b = self.bias
        if b is None:
            raise AttributeError(f"neuron {self.index}: the layer was built with bias=False")
        b[...] = np.asarray(value.data if isinstance(value, Tensor) else value)

    @property
    def grad(self) -> np.ndarray | None:
        """Row ``index`` of ``layer.weight.grad`` (``None`` before a backward pass)."""
        g = _grad_array(self.layer.weight)
        return None if g is None else g[self.index]

    @property
    def bias_grad(self) -> np.ndarray | None:
        """The 0-d gradient of the bias entry (``None`` before a backward pass or without bias)."""
        b = self.layer.bias
        g = None if b is None else _grad_array(b)
        return None if g is None else g[self.index, ...]

    def __call__(self, x: Any) -> np.ndarray:
        """The weighted sum plus bias for ``x`` of shape ``(in_features,)`` or ``(N, in_features)``."""
        arr = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=self.weight.dtype)
        if arr.ndim == 0 or arr.shape[-1] != self.layer.in_features:
            raise ValueError(
                f"neuron {self.index} of {self.layer._describe()} expected input (..., {self.layer.in_features}), "
                f"got {arr.shape}"
            )
        out = arr @ self.weight
        b = self.bias
        return out + b if b is not None else out

    def __repr__(self) -> str:
        w = np.array2string(self.weight, precision=4, separator=", ", threshold=8, edgeitems=3)
        b = "None" if self.bias is None else f"{float(self.bias):.4g}"
        where = f"{self.layer._describe()} at '{self.layer._location()}'"
        grads = ""
        if self.grad is not None:
            gw = np.array2string(self.grad, precision=4, separator=", ", threshold=8, edgeitems=3)
            gb = self.bias_grad
            grads = f", grad={gw}" + ("" if gb is None else f", bias_grad={float(gb):.4g}")
        return f"NeuronView({self.index} of {where}, weight={w}, bias={b}{grads})"


def _grad_array(p: Any) -> np.ndarray | None:
    """A parameter's gradient as a NumPy array (``.grad`` may be an array or a Tensor), or None."""
    g = p.grad
    return g.data if isinstance(g, Tensor) else g
