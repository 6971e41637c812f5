"""Pooling layers: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``, ``AdaptiveMaxPool2d`` (PyTorch's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.tensor import Tensor
from ._layers import check_bool
from .functional import pooling1d as P1
from .functional._fast import pooling as P
from .functional._fast.im2col import pair
from .module import Module

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d",
    "MaxPool1d", "MaxPool2d",
]


def _check_pair(owner: str, name: str, value: Any, minimum: int) -> None:
    """Validate an int-or-pair argument up front (the layer keeps it as given, like PyTorch)."""
    try:
        h, w = pair(value, name, owner)
    except TypeError:
        raise TypeError(f"{owner}: {name} must be an int or a pair of ints, received {value!r}") from None
    if min(h, w) < minimum:
        raise ValueError(f"{owner}: {name} must be at least {minimum}, received {value!r}")


class _Pool2d(Module):
    """Shared input check and error wording for the 2-D pooling layers."""

    def _run(self, input: Tensor, fn: Callable[[], Any]) -> Any:
        shape = input.shape
        if len(shape) not in (3, 4):
            self._shape_error("(N, C, H, W) or (C, H, W)", shape)
        try:
            return fn()
        except ValueError as err:  # the input is too small for the window: say where
            message = str(err)
            self._input_error(message.split(": ", 1)[-1] + f" (input {tuple(shape)})")


class MaxPool2d(_Pool2d):
    """Max over ``kernel_size`` windows.

    Args:
        kernel_size: an int or a pair. stride: defaults to kernel_size. padding: implicit -inf,
        at most half the kernel. dilation: spacing of window elements. return_indices: also return
        the flat ``h * W + w`` index of each maximum. ceil_mode: round the output size up.

    Shapes:
        Input: ``(N, C, H, W)`` or ``(C, H, W)``. Output: ``(N, C, Ho, Wo)``,
        ``Ho = floor((H + 2*padding - dilation*(k-1) - 1) / stride) + 1`` (ceil with ``ceil_mode``).
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        _check_pair("MaxPool2d", "kernel_size", kernel_size, 1)
        if stride is not None:
            _check_pair("MaxPool2d", "stride", stride, 1)
        _check_pair("MaxPool2d", "padding", padding, 0)
        _check_pair("MaxPool2d", "dilation", dilation, 1)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = check_bool("MaxPool2d", "return_indices", return_indices)
        self.ceil_mode = check_bool("MaxPool2d", "ceil_mode", ceil_mode)

    def forward(self, input: Tensor) -> Any:
        return self._run(input, lambda: P.max_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        ))

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool2d):
    """Mean over ``kernel_size`` windows.

    Args:
        kernel_size: an int or a pair. stride: defaults to kernel_size. padding: zeros, at most half
        the kernel. ceil_mode: round the output size up. count_include_pad: count padded zeros in
        the divisor. divisor_override: divide every window sum by this instead.

    Shapes:
        Input: ``(N, C, H, W)`` or ``(C, H, W)``. Output: ``(N, C, Ho, Wo)``.
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        _check_pair("AvgPool2d", "kernel_size", kernel_size, 1)
        if stride is not None:
            _check_pair("AvgPool2d", "stride", stride, 1)
        _check_pair("AvgPool2d", "padding", padding, 0)
        if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(divisor_override, int)
                                             or divisor_override == 0):
            raise ValueError(f"AvgPool2d: divisor_override must be a non-zero int or None, received {divisor_override!r}")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = check_bool("AvgPool2d", "ceil_mode", ceil_mode)
        self.count_include_pad = check_bool("AvgPool2d", "count_include_pad", count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return self._run(input, lambda: P.avg_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
            self.divisor_override,
        ))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _check_output_size(owner: str, output_size: Any) -> None:
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        values = [v for v in output_size if v is not None]
    else:
        values = [output_size]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{owner}: output_size must be an int or a pair of ints (or None), received {output_size!r}")
        if v < 1:
            raise ValueError(f"{owner}: output_size must be positive, received {output_size!r}")


class AdaptiveAvgPool2d(_Pool2d):
    """Average pooling to a fixed output size, whatever the input size.

    Args:
        output_size: an int or ``(oh, ow)``; a None entry keeps that input size.

    Shapes:
        Input: ``(N, C, H, W)`` or ``(C, H, W)``. Output: ``(N, C, oh, ow)``; window ``i`` spans
        ``[floor(i*H/oh), ceil((i+1)*H/oh))``.
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        _check_output_size("AdaptiveAvgPool2d", output_size)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return self._run(input, lambda: P.adaptive_avg_pool2d(input, self.output_size))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_Pool2d):
    """Max pooling to a fixed output size, whatever the input size.

    Args:
        output_size: an int or ``(oh, ow)``; a None entry keeps that input size.
        return_indices: also return the flat ``h * W + w`` index of each maximum.

    Shapes:
        Input: ``(N, C, H, W)`` or ``(C, H, W)``. Output: ``(N, C, oh, ow)``.
    """

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        _check_output_size("AdaptiveMaxPool2d", output_size)
        self.output_size = output_size
        self.return_indices = check_bool("AdaptiveMaxPool2d", "return_indices", return_indices)

    def forward(self, input: Tensor) -> Any:
        return self._run(input, lambda: P.adaptive_max_pool2d(input, self.output_size, self.return_indices))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


def _check_one(owner: str, name: str, value: Any, minimum: int) -> None:
    """Validate an int (or 1-tuple) argument of a 1-D pooling layer."""
    v = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{owner}: {name} must be an int, received {value!r}")
    if v < minimum:
        raise ValueError(f"{owner}: {name} must be at least {minimum}, received {value!r}")


class _Pool1d(_Pool2d):
    """Shared input check of the 1-D pooling layers."""

    def _run(self, input: Tensor, fn: Callable[[], Any]) -> Any:
        shape = input.shape
        if len(shape) not in (2, 3):
            self._shape_error("(N, C, L) or (C, L)", shape)
        try:
            return fn()
        except ValueError as err:
            self._input_error(str(err).split(": ", 1)[-1] + f" (input {tuple(shape)})")


class MaxPool1d(_Pool1d):
    """Max over windows of ``kernel_size`` positions.

    Args:
        kernel_size: an int. stride: defaults to kernel_size. padding: implicit -inf, at most half the
        kernel. dilation: spacing of window elements. return_indices: also return the position of each
        maximum. ceil_mode: round the output length up.

    Shapes:
        Input: ``(N, C, L)`` or ``(C, L)``. Output: ``(N, C, Lo)``,
        ``Lo = floor((L + 2*padding - dilation*(k-1) - 1) / stride) + 1`` (ceil with ``ceil_mode``).
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        _check_one("MaxPool1d", "kernel_size", kernel_size, 1)
        if stride is not None:
            _check_one("MaxPool1d", "stride", stride, 1)
        _check_one("MaxPool1d", "padding", padding, 0)
        _check_one("MaxPool1d", "dilation", dilation, 1)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = check_bool("MaxPool1d", "return_indices", return_indices)
        self.ceil_mode = check_bool("MaxPool1d", "ceil_mode", ceil_mode)

    def forward(self, input: Tensor) -> Any:
        return self._run(input, lambda: P1.max_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        ))

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(_Pool1d):
    """Mean over windows of ``kernel_size`` positions.

    Args:
        kernel_size: an int. stride: defaults to kernel_size. padding: zeros, at most half the kernel.
        ceil_mode: round the output length up. count_include_pad: count padded zeros in the divisor.

    Shapes:
        Input: ``(N, C, L)`` or ``(C, L)``. Output: ``(N, C, Lo)``.
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        _check_one("AvgPool1d", "kernel_size", kernel_size, 1)
        if stride is not None:
            _check_one("AvgPool1d", "stride", stride, 1)
        _check_one("AvgPool1d", "padding", padding, 0)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = check_bool("AvgPool1d", "ceil_mode", ceil_mode)
        self.count_include_pad = check_bool("AvgPool1d", "count_include_pad", count_include_pad)

    def forward(self, input: Tensor) -> Tensor:
        return self._run(input, lambda: P1.avg_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        ))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(_Pool1d):
    """Average pooling to ``output_size`` positions, whatever the input length.

    Shapes: Input ``(N, C, L)`` or ``(C, L)``. Output ``(N, C, output_size)``.
    """

    def __init__(self, output_size: int) -> None:
        super().__init__()
        _check_one("AdaptiveAvgPool1d", "output_size", output_size, 1)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return self._run(input, lambda: P1.adaptive_avg_pool1d(input, self.output_size))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_Pool1d):
    """Max pooling to ``output_size`` positions, whatever the input length (``return_indices``: also the
    position of each maximum).

    Shapes: Input ``(N, C, L)`` or ``(C, L)``. Output ``(N, C, output_size)``.
    """

    def __init__(self, output_size: int, return_indices: bool = False) -> None:
        super().__init__()
        _check_one("AdaptiveMaxPool1d", "output_size", output_size, 1)
        self.output_size = output_size
        self.return_indices = check_bool("AdaptiveMaxPool1d", "return_indices", return_indices)

    def forward(self, input: Tensor) -> Any:
        return self._run(input, lambda: P1.adaptive_max_pool1d(input, self.output_size, self.return_indices))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
