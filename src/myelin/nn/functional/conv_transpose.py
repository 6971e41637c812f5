"""Transposed convolutions (``conv_transpose2d``, ``conv_transpose1d``) as single graph nodes.

A transposed convolution is the input gradient of a convolution: every input pixel scatters a
``kh x kw`` patch of the weight into the output. Forward, channels-last: one GEMM per group gives
every pixel's patches ``(N*H*W, kh*kw*O/G)``, then one strided ``+=`` per kernel offset adds them
into the (full, unpadded) output, which is finally cropped by ``padding``. Backward: the output
gradient is gathered back per kernel offset (im2col of the gradient), after which the input
gradient and the weight gradient are one GEMM per group each, the bias gradient one sum.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._plural import counted
from ...core.node import make_node
from ...core.tensor import Tensor, as_tensor
from ._fast.im2col import check_positive, pair, window_slices

__all__ = ["conv_transpose1d", "conv_transpose2d", "transposed_size"]


def transposed_size(size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int) -> int:
    """``(size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1`` (PyTorch's rule)."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _check(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, groups: Any, op: str) -> int:
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), received {tuple(x.shape)}")
    if w.ndim != 4:
        raise ValueError(
            f"{op}: expected weight of shape (in_channels, out_channels/groups, kH, kW), received {tuple(w.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: expected groups to be a positive int, received {groups!r}")
    if w.shape[0] != x.shape[-3] or w.shape[0] % groups:
        raise ValueError(f"{op}: input has {counted(x.shape[-3], 'channel')} (shape {tuple(x.shape)}) but weight "
                         f"{tuple(w.shape)} with groups={groups} expects {w.shape[0]} (divisible by groups)")
    if x.dtype.kind != "f" or x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        raise TypeError(f"{op}: expected input, weight and bias of one float dtype, received input {x.dtype}, "
                        f"weight {w.dtype}" + ("" if b is None else f", bias {b.dtype}"))
    o = w.shape[1] * groups
    if b is not None and b.shape != (o,):
        raise ValueError(f"{op}: expected bias of shape ({o},), received {tuple(b.shape)}")
    return int(groups)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        weight: ``(C, O/groups, kh, kw)``; bias: ``(O,)`` or None.
        stride, padding, output_padding, dilation: an int or a pair; ``output_padding`` (extra rows
        and columns on the bottom/right) must be smaller than the stride or the dilation.
        groups: ``C`` and ``O`` are split into this many independent groups.
    Returns:
        ``(N, O, Ho, Wo)`` with ``Ho = (H-1)*stride - 2*padding + dilation*(kh-1) + output_padding + 1``.
    """
    op = "conv_transpose2d"
    x, w = input.data, weight.data
    b = None if bias is None else bias.data
    g_ = _check(x, w, b, groups, op)
    s, p = pair(stride, "stride", op), pair(padding, "padding", op)
    op_, d = pair(output_padding, "output_padding", op), pair(dilation, "dilation", op)
    check_positive(s, "stride", op)
    check_positive(d, "dilation", op)
    check_positive(p, "padding", op, allow_zero=True)
    check_positive(op_, "output_padding", op, allow_zero=True)
    if any(op_[a] >= max(s[a], d[a]) for a in (0, 1)):
        raise ValueError(f"{op}: output_padding {op_} must be smaller than either stride {s} or dilation {d}")
    unbatched = x.ndim == 3
    x4 = x[None] if unbatched else x
    n, c, h, width = x4.shape
    _, og, kh, kw = w.shape
    o, cg = og * g_, c // g_
    full = (transposed_size(h, kh, s[0], 0, op_[0], d[0]), transposed_size(width, kw, s[1], 0, op_[1], d[1]))
    ho, wo = full[0] - 2 * p[0], full[1] - 2 * p[1]
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: padding {p} is too large for input (H, W) = ({h}, {width}) with kernel ({kh}, {kw}): "
                         f"the output would be ({ho}, {wo})")
    m = n * h * width
    xg = x4.transpose(0, 2, 3, 1).reshape(m, g_, cg).transpose(1, 0, 2)  # (G, M, C/G)
    wm = w.reshape(g_, cg, og, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g_, cg, kh * kw * og)
    cols = np.matmul(xg, wm).reshape(g_, n, h, width, kh, kw, og)
    outf = np.zeros((n, full[0], full[1], g_, og), dtype=x.dtype)
    offsets = [(i, j) + window_slices(i, j, (h, width), s, d) for i in range(kh) for j in range(kw)]
    for i, j, sh, sw in offsets:
        outf[:, sh, sw] += cols[:, :, :, :, i, j].transpose(1, 2, 3, 0, 4)
    del cols
    out = outf.reshape(n, full[0], full[1], o)[:, p[0]:p[0] + ho, p[1]:p[1] + wo]
    if b is not None:
        out = out + b
    result = out.transpose(0, 3, 1, 2)

    def backward(grad: np.ndarray) -> tuple:
        g4 = (grad[None] if unbatched else grad).transpose(0, 2, 3, 1)  # (N, Ho, Wo, O)
        gf = np.zeros((n, full[0], full[1], o), dtype=grad.dtype)
        gf[:, p[0]:p[0] + ho, p[1]:p[1] + wo] = g4
        gcols = np.empty((g_, n, h, width, kh, kw, og), dtype=grad.dtype)
        gfg = gf.reshape(n, full[0], full[1], g_, og)
        for i, j, sh, sw in offsets:
            gcols[:, :, :, :, i, j] = gfg[:, sh, sw].transpose(3, 0, 1, 2, 4)
        gcols = gcols.reshape(g_, m, kh * kw * og)
        gx = gw = gb = None
        if input.requires_grad:
            gxg = np.matmul(gcols, wm.transpose(0, 2, 1))  # (G, M, C/G)
            gx = gxg.transpose(1, 0, 2).reshape(n, h, width, c).transpose(0, 3, 1, 2)
            gx = gx[0] if unbatched else gx
        if weight.requires_grad:
            gwm = np.matmul(xg.transpose(0, 2, 1), gcols)  # (G, C/G, kh*kw*O/G)
            gw = gwm.reshape(g_, cg, kh, kw, og).transpose(0, 1, 4, 2, 3).reshape(w.shape)
        if bias is not None and bias.requires_grad:
            gb = g4.sum(axis=(0, 1, 2))
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (input, weight) if bias is None else (input, weight, bias)
    return make_node(result[0] if unbatched else result, parents, backward, op)


def _one(value: Any, name: str, op: str) -> int:
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}: expected {name} as an int or a 1-tuple of int, received {value!r}")
    return int(value)


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d`` (height-1 2-D).

    Args:
        input: ``(N, C, L)`` or ``(C, L)``; weight: ``(C, O/groups, k)``; bias: ``(O,)`` or None.
    Returns:
        ``(N, O, Lo)``, ``Lo = (L-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1``.
    """
    op = "conv_transpose1d"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.ndim not in (2, 3) or weight.ndim != 3:
        raise ValueError(f"{op}: expected input (N, C, L) or (C, L) and weight (C, O/groups, k), received "
                         f"{tuple(x.shape)} and {tuple(weight.shape)}")
    axis = x.ndim - 1
    out = conv_transpose2d(
        x.unsqueeze(axis), weight.unsqueeze(2), bias, (1, _one(stride, "stride", op)), (0, _one(padding, "padding", op)),
        (0, _one(output_padding, "output_padding", op)), groups, (1, _one(dilation, "dilation", op)),
    )
    return out.squeeze(axis)
