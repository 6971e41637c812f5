"""``Unfold`` and ``Fold``: sliding blocks as columns and back, as PyTorch's (over ``F.unfold``/``F.fold``)."""

from __future__ import annotations

from typing import Any

from ..core.tensor import Tensor
from .functional.fold import fold, unfold
from .module import Module

__all__ = ["Fold", "Unfold"]


class Unfold(Module):
    """``(N, C, H, W) -> (N, C*kh*kw, L)``: every ``kernel_size`` window as a column (im2col)."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        try:
            return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)
        except ValueError as err:
            self._input_error(str(err).split(": ", 1)[-1])

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """``(N, C*kh*kw, L) -> (N, C, *output_size)``: columns summed back into an image (col2im)."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        try:
            return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)
        except ValueError as err:
            self._input_error(str(err).split(": ", 1)[-1])

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
