"""``MLP``: a multi-layer perceptron built from ``Linear`` layers and activations in one ``Sequential``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.tensor import Tensor
from ._layers import check_bool, check_float, check_int
from .activation import make_activation
from .container import Sequential
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import BatchNorm1d

__all__ = ["MLP"]


class MLP(Module):
    """Fully connected layers of the given sizes, with an activation after every hidden layer.

    ``MLP([4, 32, 32, 3])`` is ``Linear(4, 32), ReLU(), Linear(32, 32), ReLU(), Linear(32, 3)`` held
    in ``self.layers`` (a :class:`Sequential`), so state-dict keys read ``layers.0.weight``,
    ``layers.2.weight``, ... Each hidden block is ``Linear`` [``BatchNorm1d``] activation [``Dropout``].

    Args:
        sizes: the widths ``[in_features, hidden..., out_features]`` (at least two).
        activation: the hidden activation's name (``'relu'``, ``'tanh'``, ``'sigmoid'``, ``'gelu'``,
            ``'leaky_relu'``, ``'elu'``, ``'silu'``, ``'softplus'``, ``'identity'``...) or a registered
            activation class.
        dropout: dropout probability after each hidden activation (0 adds no layer).
        output_activation: an activation after the last layer (``'softmax'``/``'log_softmax'`` act on
            the last dimension), or ``None`` for raw outputs (what the losses expect).
        batch_norm: a ``BatchNorm1d`` after each hidden ``Linear``.
        bias: biases in the ``Linear`` layers.

    Shapes:
        Input: ``(N, sizes[0])``, or ``(*, sizes[0])`` without batch norm. Output: ``(*, sizes[-1])``.
    """

    def __init__(self, sizes: Sequence[int], activation: Any = "relu", dropout: float = 0.0,
                 output_activation: Any = None, batch_norm: bool = False, bias: bool = True) -> None:
        super().__init__()
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 2:
            raise ValueError(f"MLP: sizes must be a list of at least two layer widths, received {sizes!r}")
        self.sizes = [check_int("MLP", f"sizes[{i}]", s) for i, s in enumerate(sizes)]
        dropout = check_float("MLP", "dropout", dropout, 0.0, 1.0)
        batch_norm = check_bool("MLP", "batch_norm", batch_norm)
        bias = check_bool("MLP", "bias", bias)
        make_activation(activation, "MLP", "activation")  # validate even when there is no hidden layer
        layers: list[Module] = []
        for n_in, n_out in zip(self.sizes[:-2], self.sizes[1:-1]):
            layers.append(Linear(n_in, n_out, bias=bias))
            if batch_norm:
                layers.append(BatchNorm1d(n_out))
            act = make_activation(activation, "MLP", "activation")
            if act is not None:
                layers.append(act)
            if dropout > 0:
                layers.append(Dropout(dropout))
        layers.append(Linear(self.sizes[-2], self.sizes[-1], bias=bias))
        out_act = make_activation(output_activation, "MLP", "output_activation")
        if out_act is not None:
            layers.append(out_act)
        self.layers = Sequential(*layers)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if not shape or shape[-1] != self.sizes[0]:
            self._shape_error(f"(..., {self.sizes[0]})", shape)
        return self.layers(input)

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}"
