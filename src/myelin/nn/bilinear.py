"""``Bilinear``: ``y = x1^T A x2 + b``, as PyTorch's (arguments, init, state_dict)."""

from __future__ import annotations

import math

import numpy as np

from ..core.tensor import Tensor
from . import init
from ._layers import check_bool, check_int
from .functional.bilinear import bilinear
from .module import Module
from .parameter import Parameter

__all__ = ["Bilinear"]


class Bilinear(Module):
    """A bilinear map of two inputs.

    Args:
        in1_features, in2_features: sizes of the two inputs. out_features: output size. bias: learn ``b``.

    Shapes:
        input1 ``(*, in1_features)``, input2 ``(*, in2_features)`` (same leading shape). Output ``(*, out_features)``.

    Attributes:
        weight: ``(out_features, in1_features, in2_features)``; bias: ``(out_features,)``; both
        U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as PyTorch.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in1_features = check_int("Bilinear", "in1_features", in1_features)
        self.in2_features = check_int("Bilinear", "in2_features", in2_features)
        self.out_features = check_int("Bilinear", "out_features", out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in1_features, self.in2_features), dtype=np.float32))
        if check_bool("Bilinear", "bias", bias):
            self.bias = Parameter(np.empty((self.out_features,), dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        if input1.shape[-1:] != (self.in1_features,) or input2.shape[-1:] != (self.in2_features,) \
                or input1.shape[:-1] != input2.shape[:-1]:
            self._input_error(f"expected inputs (*, {self.in1_features}) and (*, {self.in2_features}) with the same "
                              f"leading shape, got {tuple(input1.shape)} and {tuple(input2.shape)}")
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
