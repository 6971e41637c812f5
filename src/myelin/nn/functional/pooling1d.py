"""1-D max, average and adaptive pooling over ``(N, C, L)``: the 2-D kernels run on a height-1 image.

Both keep the 2-D ops' single graph node (the reshapes around it are views), their tie rule
(first maximum in window order) and PyTorch's padding and ``ceil_mode`` rules.
"""

from __future__ import annotations

from typing import Any

from ...core.tensor import Tensor, as_tensor
from ._fast.pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

__all__ = ["adaptive_avg_pool1d", "adaptive_max_pool1d", "avg_pool1d", "max_pool1d"]


def _one(value: Any, name: str, op: str) -> int:
    """An int or a 1-tuple/list of one int, as an int."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}: expected {name} as an int or a 1-tuple of int, received {value!r}")
    return int(value)


def _input3d(input: Any, op: str) -> Tensor:
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: expected input of shape (N, C, L) or (C, L), received {tuple(x.shape)}")
    return x


def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """1-D max pooling, as ``torch.nn.functional.max_pool1d``.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        kernel_size, stride (default: kernel_size), padding (implicit -inf, at most half the
        kernel), dilation: ints (or 1-tuples).
    Returns:
        ``(N, C, Lo)``, ``Lo = floor((L + 2*padding - dilation*(k-1) - 1) / stride) + 1`` (ceil with
        ``ceil_mode``), and with ``return_indices`` the int64 position of each maximum along ``L``.
    """
    op = "max_pool1d"
    x = _input3d(input, op)
    k = _one(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _one(stride, "stride", op)
    p, d = _one(padding, "padding", op), _one(dilation, "dilation", op)
    axis = x.ndim - 1
    out = max_pool2d(x.unsqueeze(axis), (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(axis), out[1].squeeze(axis)
    return out.squeeze(axis)


def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling, as ``torch.nn.functional.avg_pool1d``.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        kernel_size, stride (default: kernel_size), padding (zeros, at most half the kernel): ints.
        ceil_mode: round the output length up. count_include_pad: count padded zeros in the divisor.
    Returns:
        ``(N, C, Lo)`` (or ``(C, Lo)``).
    """
    op = "avg_pool1d"
    x = _input3d(input, op)
    k = _one(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _one(stride, "stride", op)
    p = _one(padding, "padding", op)
    axis = x.ndim - 1
    out = avg_pool2d(x.unsqueeze(axis), (1, k), (1, s), (0, p), ceil_mode, count_include_pad)
    return out.squeeze(axis)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Adaptive 1-D average pooling, as ``torch.nn.functional.adaptive_avg_pool1d``.

    Input ``(N, C, L)`` or ``(C, L)``; output ``(N, C, output_size)``: window ``i`` spans
    ``[floor(i*L/out), ceil((i+1)*L/out))``.
    """
    op = "adaptive_avg_pool1d"
    x = _input3d(input, op)
    axis = x.ndim - 1
    return adaptive_avg_pool2d(x.unsqueeze(axis), (1, _one(output_size, "output_size", op))).squeeze(axis)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Adaptive 1-D max pooling, as ``torch.nn.functional.adaptive_max_pool1d`` (with ``return_indices``,
    also the int64 position of each maximum along ``L``)."""
    op = "adaptive_max_pool1d"
    x = _input3d(input, op)
    axis = x.ndim - 1
    out = adaptive_max_pool2d(x.unsqueeze(axis), (1, _one(output_size, "output_size", op)), return_indices)
    if return_indices:
        return out[0].squeeze(axis), out[1].squeeze(axis)
    return out.squeeze(axis)
