"""Transposed convolution layers: ``ConvTranspose2d`` and ``ConvTranspose1d``, as PyTorch's.

Same arguments, default init, repr and state_dict as PyTorch: the weight is
``(in_channels, out_channels/groups, *kernel_size)`` (transposed relative to ``Conv2d``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from . import init
from ._layers import check_bool, check_choice, check_int
from .functional.conv_transpose import conv_transpose1d, conv_transpose2d, transposed_size
from .module import Module
from .parameter import Parameter

__all__ = ["ConvTranspose1d", "ConvTranspose2d"]


def _ints(owner: str, name: str, value: Any, n: int, minimum: int) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{owner}: {name} must be an int or {n} ints, received {value!r}")
        return tuple(check_int(owner, name, v, minimum) for v in value)
    return (check_int(owner, name, value, minimum),) * n


class _ConvTransposeNd(Module):
    """Shared setup: argument checks, parameters, PyTorch's init, repr, ``output_size`` handling."""

    _dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 output_padding: Any, groups: int, bias: bool, dilation: Any, padding_mode: str) -> None:
        super().__init__()
        owner, n = type(self).__name__, self._dims
        self.in_channels = check_int(owner, "in_channels", in_channels)
        self.out_channels = check_int(owner, "out_channels", out_channels)
        self.groups = check_int(owner, "groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{owner}: in_channels={self.in_channels} and out_channels={self.out_channels} must be "
                             f"divisible by groups={self.groups}")
        self.kernel_size = _ints(owner, "kernel_size", kernel_size, n, 1)
        self.stride = _ints(owner, "stride", stride, n, 1)
        self.padding = _ints(owner, "padding", padding, n, 0)
        self.output_padding = _ints(owner, "output_padding", output_padding, n, 0)
        self.dilation = _ints(owner, "dilation", dilation, n, 1)
        if any(o >= max(s, d) for o, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError(f"{owner}: output_padding {self.output_padding} must be smaller than either stride "
                             f"{self.stride} or dilation {self.dilation}")
        self.padding_mode = check_choice(owner, "padding_mode", padding_mode, ("zeros",))
        shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=np.float32))
        if check_bool(owner, "bias", bias):
            self.bias = Parameter(np.empty((self.out_channels,), dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)); bias U(-1/sqrt(fan_in), ..), fan_in = out/groups * k."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = (self.out_channels // self.groups) * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        n = self._dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        n = self._dims
        shape = input.shape
        if len(shape) not in (n + 1, n + 2) or shape[-n - 1] != self.in_channels:
            self._shape_error(f"(N, {self.in_channels}, {self._spatial_text})", shape)
        op = self._output_padding(tuple(shape[-n:]), output_size)
        try:
            return self._function(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                  self.dilation)
        except ValueError as err:
            self._input_error(str(err).split(": ", 1)[-1])

    def _output_padding(self, spatial: tuple[int, ...], output_size: Any) -> tuple[int, ...]:
        """The output padding that gives ``output_size`` (PyTorch's rule), or the layer's own."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        size = [int(v) for v in (output_size if isinstance(output_size, (tuple, list)) else [output_size])]
        size = size[-n:]
        if len(size) != n:
            self._input_error(f"expected output_size with {n} spatial sizes, got {output_size!r}")
        pads = []
        for a in range(n):
            low = transposed_size(spatial[a], self.kernel_size[a], self.stride[a], self.padding[a], 0, self.dilation[a])
            high = low + self.stride[a] - 1
            if not low <= size[a] <= high:
                self._input_error(f"requested output_size {tuple(size)}, but valid sizes along dimension {a} range "
                                  f"from {low} to {high} for an input of spatial size {spatial}")
            pads.append(size[a] - low)
        return tuple(pads)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (the gradient of ``Conv2d`` with respect to its input), e.g. to upsample.

    Args:
        in_channels, out_channels: channel counts, both divisible by ``groups``.
        kernel_size, stride, padding, output_padding, dilation: an int or a pair.
        groups: independent channel groups. bias: learn an additive bias.
        padding_mode: only ``'zeros'`` (as PyTorch).

    Shapes:
        Input: ``(N, in_channels, H, W)`` or ``(in_channels, H, W)``.
        Output: ``(N, out_channels, Ho, Wo)``,
        ``Ho = (H-1)*stride - 2*padding + dilation*(kh-1) + output_padding + 1``.

    Attributes:
        weight: ``(in_channels, out_channels/groups, kh, kw)``; bias: ``(out_channels,)`` (PyTorch's init).
    """

    _dims = 2
    _spatial_text = "H, W"
    _function = staticmethod(conv_transpose2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                         dilation, padding_mode)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution. Args: as :class:`ConvTranspose2d`, with ints.

    Shapes:
        Input: ``(N, in_channels, L)`` or ``(in_channels, L)``. Output: ``(N, out_channels, Lo)``.

    Attributes:
        weight: ``(in_channels, out_channels/groups, k)``; bias: ``(out_channels,)``.
    """

    _dims = 1
    _spatial_text = "L"
    _function = staticmethod(conv_transpose1d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                         dilation, padding_mode)
