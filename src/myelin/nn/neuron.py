"""``Neuron``: one artificial neuron, ``activation(w . x + b)``, with the perceptron learning rule."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from . import functional as F
from . import init
from ._layers import check_bool, check_choice, check_float, check_int
from .module import Module
from .parameter import Parameter

__all__ = ["Neuron"]

ACTIVATIONS = ("step", "sigmoid", "tanh", "relu", "leaky_relu", "identity")


class Neuron(Module):
    """A single neuron: ``y = activation(w . x + b)``.

    Args:
        in_features: the number of inputs.
        activation: ``'step'`` (fires 1 when ``w . x + b >= 0``, else 0; no gradient: train it with
            :meth:`perceptron_update`), ``'sigmoid'``, ``'tanh'``, ``'relu'``, ``'leaky_relu'`` or ``'identity'``.
        bias: learn a bias (a 0-d parameter).

    Shapes:
        Input: ``(in_features,)`` or ``(N, in_features)``. Output: ``()`` or ``(N,)``.

    Attributes:
        weight: ``(in_features,)``; bias: ``()``. Both start from U(-1/sqrt(in_features), 1/sqrt(in_features)),
        as a ``Linear`` layer's neurons do.
    """

    def __init__(self, in_features: int, activation: str = "sigmoid", bias: bool = True) -> None:
        super().__init__()
        self.in_features = check_int("Neuron", "in_features", in_features)
        self.activation = check_choice("Neuron", "activation", activation, ACTIVATIONS)
        self.weight = Parameter(np.empty((self.in_features,), dtype=np.float32))
        if check_bool("Neuron", "bias", bias):
            self.bias = Parameter(np.zeros((), dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def _check(self, shape: tuple[int, ...]) -> None:
        if len(shape) not in (1, 2) or shape[-1] != self.in_features:
            self._shape_error(f"({self.in_features},) or (N, {self.in_features})", shape)

    def pre_activation(self, input: Tensor) -> Tensor:
        """``w . x + b``: shape ``()`` or ``(N,)``."""
        self._check(input.shape)
        z = input @ self.weight
        return z + self.bias if self.bias is not None else z

    def forward(self, input: Tensor) -> Tensor:
        z = self.pre_activation(input)
        act = self.activation
        if act == "step":
            return Tensor._wrap((z.data >= 0).astype(z.data.dtype))
        if act == "sigmoid":
            return F.sigmoid(z)
        if act == "tanh":
            return F.tanh(z)
        if act == "relu":
            return F.relu(z)
        if act == "leaky_relu":
            return F.leaky_relu(z, 0.01)
        return z

    # ------------------------------------------------------------------ the perceptron rule
    def _samples(self, x: Any, target: Any, fn: str) -> tuple[np.ndarray, np.ndarray]:
        dtype = self.weight.data.dtype
        xs = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=dtype)
        self._check(xs.shape)
        xs = xs.reshape(-1, self.in_features)
        ts = np.asarray(target.data if isinstance(target, Tensor) else target, dtype=dtype).reshape(-1)
        if ts.shape[0] != xs.shape[0]:
            raise ValueError(f"{fn}: {xs.shape[0]} sample(s) but {ts.shape[0]} target(s)")
        if not np.isin(ts, (0, 1)).all():
            raise ValueError(f"{fn}: targets must be 0 or 1 (the step neuron's outputs), received {np.unique(ts)}")
        return xs, ts

    def perceptron_update(self, x: Any, target: Any, lr: float = 1.0) -> int:
        """One pass of Rosenblatt's rule over ``x`` (one sample or a batch, in order); returns the mistakes.

        For each sample the prediction is ``y = 1 if w . x + b >= 0 else 0`` (the step output, whatever
        the activation) and, when ``y != t``, ``w += lr * (t - y) * x`` and ``b += lr * (t - y)``.
        Targets are 0 or 1. The weights change in place, without building a graph.
        """
        lr = check_float("perceptron_update", "lr", lr, low=0.0, low_open=True)
        xs, ts = self._samples(x, target, "perceptron_update")
        w = self.weight.data
        b = self.bias.data if self.bias is not None else None
        mistakes = 0
        for xi, ti in zip(xs, ts):  # sequential by definition: each update changes the next prediction
            z = float(xi @ w) + (float(b) if b is not None else 0.0)
            error = ti - (1.0 if z >= 0 else 0.0)
            if error:
                mistakes += 1
                w += lr * error * xi
                if b is not None:
                    b += lr * error
        return mistakes

    def fit_perceptron(self, x: Any, y: Any, epochs: int = 100, lr: float = 1.0) -> list[int]:
        """Repeat :meth:`perceptron_update` over the data set; returns the mistakes of each epoch.

        Stops after the first epoch without a mistake (the data are then separated), so the list is
        shorter than ``epochs`` exactly when training converged. On linearly separable data the
        perceptron convergence theorem guarantees that this happens after finitely many updates.
        """
        epochs = check_int("fit_perceptron", "epochs", epochs)
        history = []
        for _ in range(epochs):
            history.append(self.perceptron_update(x, y, lr))
            if history[-1] == 0:
                break
        return history

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        text = f"in_features={self.in_features}, activation={self.activation!r}"
        return text + (", bias=False" if self.bias is None else "")

    def __repr__(self) -> str:
        w = np.array2string(self.weight.data, precision=4, separator=", ", threshold=10, edgeitems=3)
        b = "" if self.bias is None else f", bias={float(self.bias.data):.4g}"
        return f"Neuron(in_features={self.in_features}, activation={self.activation!r}, weight={w}{b})"
