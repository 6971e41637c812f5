"""Convolution layers: ``Conv2d`` and ``Conv1d``, as PyTorch's (same arguments, init, repr, state_dict)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from . import init
from ._layers import check_bool, check_choice, check_int
from .functional._fast.conv import PADDING_MODES, conv1d, conv2d, pad2d
from .functional._fast.im2col import conv_out_size, conv_padding
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d"]


def _ints(owner: str, name: str, value: Any, n: int, minimum: int) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints as an ``n``-tuple, each at least ``minimum``."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{owner}: {name} must be an int or {n} ints, received {value!r}")
        return tuple(check_int(owner, name, v, minimum) for v in value)
    v = check_int(owner, name, value, minimum)
    return (v,) * n


class _ConvNd(Module):
    """Shared setup of ``Conv1d`` / ``Conv2d``: argument checks, parameters, init, repr."""

    _dims = 2

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
        groups: int, bias: bool, padding_mode: str,
    ) -> None:
        super().__init__()
        owner, n = type(self).__name__, self._dims
        self.in_channels = check_int(owner, "in_channels", in_channels)
        self.out_channels = check_int(owner, "out_channels", out_channels)
        self.groups = check_int(owner, "groups", groups)
        if self.in_channels % self.groups:
            raise ValueError(f"{owner}: in_channels={self.in_channels} must be divisible by groups={self.groups}")
        if self.out_channels % self.groups:
            raise ValueError(f"{owner}: out_channels={self.out_channels} must be divisible by groups={self.groups}")
        self.kernel_size = _ints(owner, "kernel_size", kernel_size, n, 1)
        self.stride = _ints(owner, "stride", stride, n, 1)
        self.dilation = _ints(owner, "dilation", dilation, n, 1)
        if isinstance(padding, str):
            check_choice(owner, "padding", padding, ("valid", "same"))
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{owner}: padding='same' is not supported for strided convolutions, "
                                 f"stride={self.stride}")
            self.padding: Any = padding
        else:
            self.padding = _ints(owner, "padding", padding, n, 0)
        self.padding_mode = check_choice(owner, "padding_mode", padding_mode, PADDING_MODES)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=np.float32))
        if check_bool(owner, "bias", bias):
            self.bias = Parameter(np.empty((self.out_channels,), dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in), ..) for the bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = (self.in_channels // self.groups) * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _pads(self) -> tuple[int, int, int, int]:
        """Explicit (top, bottom, left, right) padding; for Conv1d the first pair is (0, 0)."""
        k = (1,) * (2 - self._dims) + self.kernel_size
        d = (1,) * (2 - self._dims) + self.dilation
        s = (1,) * (2 - self._dims) + self.stride
        p = self.padding if isinstance(self.padding, str) else (0,) * (2 - self._dims) + self.padding
        return conv_padding(p, k, d, s, type(self).__name__)

    def _check_size(self, spatial: tuple[int, ...]) -> None:
        """Raise (naming both sizes) when the input is too small for the kernel."""
        pads = self._pads()[4 - 2 * self._dims:]
        out = tuple(
            conv_out_size(n, pads[2 * a], pads[2 * a + 1], self.kernel_size[a], self.stride[a], self.dilation[a])
            for a, n in enumerate(spatial)
        )
        if min(out) < 1:
            padded = tuple(n + pads[2 * a] + pads[2 * a + 1] for a, n in enumerate(spatial))
            effective = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))
            self._input_error(
                f"got an input of spatial size {spatial} (padded: {padded}), smaller than the kernel "
                f"(kernel_size={self.kernel_size}, dilation={self.dilation}: {effective}); the output would be {out}"
            )

    def _mode_padded(self, input: Tensor) -> Tensor:
        """The input padded with ``padding_mode`` (for modes other than 'zeros')."""
        top, bottom, left, right = self._pads()
        return pad2d(input, (left, right, top, bottom), self.padding_mode)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over ``(N, C, H, W)`` images.

    Args:
        in_channels, out_channels: channel counts, both divisible by ``groups``.
        kernel_size, stride, dilation: an int or a pair.
        padding: an int, a pair, ``'valid'`` or ``'same'`` (stride 1 only).
        groups: ``in_channels`` for a depthwise convolution.
        bias: learn an additive bias.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shapes:
        Input: ``(N, in_channels, H, W)`` or ``(in_channels, H, W)``.
        Output: ``(N, out_channels, Ho, Wo)``, ``Ho = floor((H + 2*pad - dilation*(k-1) - 1) / stride) + 1``.

    Attributes:
        weight: ``(out_channels, in_channels/groups, kh, kw)``, kaiming_uniform_(a=sqrt(5)) as PyTorch.
        bias: ``(out_channels,)`` from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """

    _dims = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if len(shape) not in (3, 4) or shape[-3] != self.in_channels:
            self._shape_error(f"(N, {self.in_channels}, H, W)", shape)
        self._check_size(tuple(shape[-2:]))
        if self.padding_mode != "zeros":
            return conv2d(self._mode_padded(input), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) over ``(N, C, L)`` sequences.

    Args: as :class:`Conv2d`, with ints (or 1-tuples) for kernel_size, stride, padding and dilation.

    Shapes:
        Input: ``(N, in_channels, L)`` or ``(in_channels, L)``. Output: ``(N, out_channels, Lo)``.

    Attributes:
        weight: ``(out_channels, in_channels/groups, k)``; bias: ``(out_channels,)`` (PyTorch's init).
    """

    _dims = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if len(shape) not in (2, 3) or shape[-2] != self.in_channels:
            self._shape_error(f"(N, {self.in_channels}, L)", shape)
        self._check_size(tuple(shape[-1:]))
        if self.padding_mode != "zeros":
            padded = self._mode_padded(input.unsqueeze(-2)).squeeze(-2)
            return conv1d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
