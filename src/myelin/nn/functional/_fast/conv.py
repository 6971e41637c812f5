"""Convolutions as single graph nodes: channels-last im2col + one GEMM per group.

Optimised: the readable twin is :func:`myelin.nn.reference.conv2d` (a loop over kernel offsets).

Forward: the input is padded into an NHWC buffer, one copy from a strided window view builds the
columns ``(G, N*Ho*Wo, kh*kw*C/G)`` and one GEMM per group gives the output, returned as an
``(N, O, Ho, Wo)`` view of channels-last memory (element-wise ops and pooling keep that layout,
and the next convolution reads it without a transpose copy). Backward: the weight gradient is
one GEMM against the saved columns, the input gradient (skipped when the input needs none) one
GEMM per kernel offset, each followed by a strided ``+=`` into the padded input (``col2im_gemm``),
the bias gradient one GEMV. Depthwise convolutions (one input channel per group) skip the columns:
a broadcast multiply-add per kernel offset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...._plural import counted
from ....core.node import make_node
from ....core.tensor import Tensor
from ... import reference
from ...reference._switch import STATE as _REFERENCE
from .im2col import (
    check_positive,
    col2im_gemm,
    conv_out_size,
    conv_padding,
    im2col,
    pair,
    to_nhwc_padded,
    window_slices,
)

__all__ = ["conv1d", "conv2d", "pad2d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _check_conv_args(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, groups: int, op: str) -> None:
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), received {tuple(x.shape)}")
    if w.ndim != 4:
        raise ValueError(
            f"{op}: expected weight of shape (out_channels, in_channels/groups, kH, kW), received {tuple(w.shape)}"
        )
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: expected groups to be a positive int, received {groups!r}")
    if w.shape[0] % groups:
        raise ValueError(f"{op}: out_channels={w.shape[0]} (weight {tuple(w.shape)}) is not divisible by groups={groups}")
    channels = x.shape[-3]
    if channels != w.shape[1] * groups:
        raise ValueError(
            f"{op}: input has {counted(channels, 'channel')} (shape {tuple(x.shape)}) but weight {tuple(w.shape)} with "
            f"groups={groups} expects {w.shape[1] * groups}"
        )
    if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        bdt = "" if b is None else f", bias {b.dtype}"
        raise TypeError(f"{op}: expected input, weight and bias of one float dtype, received input {x.dtype}, "
                        f"weight {w.dtype}{bdt}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, received dtype {x.dtype}")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"{op}: expected bias of shape ({w.shape[0]},), received {tuple(b.shape)}")


def _geometry(
    hw: tuple[int, int], kernel: tuple[int, int], stride: Any, padding: Any, dilation: Any, op: str
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int, int, int], tuple[int, int]]:
    """Validated ``(stride, dilation, (top, bottom, left, right) padding, (Ho, Wo))``."""
    stride_, dilation_ = pair(stride, "stride", op), pair(dilation, "dilation", op)
    check_positive(stride_, "stride", op)
    check_positive(dilation_, "dilation", op)
    pads = conv_padding(padding, kernel, dilation_, stride_, op)
    ho = conv_out_size(hw[0], pads[0], pads[1], kernel[0], stride_[0], dilation_[0])
    wo = conv_out_size(hw[1], pads[2], pads[3], kernel[1], stride_[1], dilation_[1])
    if ho < 1 or wo < 1:
        raise ValueError(
            f"{op}: input size (H, W) = {hw} with padding {pads[0] + pads[1], pads[2] + pads[3]} is too small "
            f"for kernel size {kernel} with dilation {dilation_}: the output would be ({ho}, {wo})"
        )
    return stride_, dilation_, pads, (ho, wo)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``, in one graph node.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        weight: ``(O, C/groups, kh, kw)``.
        bias: ``(O,)`` or None.
        stride, dilation: an int or a pair.
        padding: an int, a pair, ``'valid'`` or ``'same'`` (stride 1; odd extra on the bottom/right).
        groups: ``C`` and ``O`` must both be divisible by it (``groups == C`` is depthwise).
    Returns:
        ``(N, O, Ho, Wo)`` (or ``(O, Ho, Wo)``) with ``Ho = floor((H + pads - d*(kh-1) - 1) / s) + 1``.
    """
    op = "conv2d"
    x, w = input.data, weight.data
    b = None if bias is None else bias.data
    _check_conv_args(x, w, b, groups, op)
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    n, _, h, width = x.shape
    o, cg, kh, kw = w.shape
    stride_, dilation_, pads, (ho, wo) = _geometry((h, width), (kh, kw), stride, padding, dilation, op)
    if _REFERENCE.enabled:
        return reference.conv2d(input, weight, bias, stride_, padding, dilation_, int(groups))
    g_, m = int(groups), n * ho * wo
    xp = to_nhwc_padded(x, pads)
    kernel = _direct_conv if cg == 1 and g_ > 1 else _gemm_conv
    out, kernel_backward = kernel(xp, w, (ho, wo), stride_, dilation_, g_)
    if b is not None:
        out += b
    result = out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)
    if unbatched:
        result = result[0]

    def backward(grad: np.ndarray) -> tuple:
        gr = grad[None] if unbatched else grad
        g2 = gr.transpose(0, 2, 3, 1).reshape(m, o)  # a view when grad is channels-last
        gb = None
        if bias is not None and bias.requires_grad:  # a GEMV: far faster than g2.sum(axis=0)
            gb = np.ones(m, dtype=g2.dtype) @ g2
        dxp, gw = kernel_backward(g2, input.requires_grad, weight.requires_grad)
        gx = None
        if dxp is not None:
            gx = dxp[:, pads[0]:pads[0] + h, pads[2]:pads[2] + width].transpose(0, 3, 1, 2)
            if unbatched:
                gx = gx[0]
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (input, weight) if bias is None else (input, weight, bias)
    return make_node(result, parents, backward, op)


KernelBackward = Callable[[np.ndarray, bool, bool], tuple]


def _gemm_conv(
    xp: np.ndarray, w: np.ndarray, out_hw: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
    groups: int,
) -> tuple[np.ndarray, KernelBackward]:
    """im2col + one GEMM per group.

    Args:
        xp: ``(N, Hp, Wp, C)`` padded input; w: ``(O, C/G, kh, kw)``.
    Returns:
        The output as ``(N*Ho*Wo, O)`` and ``backward(g2, need_dx, need_dw) -> (dxp, dw)`` taking the
        output gradient as ``(N*Ho*Wo, O)`` and giving the padded NHWC input gradient and the weight gradient.
    """
    o, cg, kh, kw = w.shape
    og, kg = o // groups, kh * kw * cg
    cols = im2col(xp, (kh, kw), out_hw, stride, dilation, groups)
    m = cols.shape[1] * cols.shape[2] * cols.shape[3]
    cols = cols.reshape(groups, m, kg)
    padded_shape = xp.shape
    # weight as (G, O/G, kh*kw*C/G), matching the column order (kh, kw, c)
    wmat = w.reshape(groups, og, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(groups, og, kg)
    if groups == 1:
        out = cols[0] @ wmat[0].T
    else:
        out3 = np.empty((m, groups, og), dtype=xp.dtype)
        np.matmul(cols, wmat.transpose(0, 2, 1), out=out3.transpose(1, 0, 2))
        out = out3.reshape(m, o)

    def backward(g2: np.ndarray, need_dx: bool, need_dw: bool) -> tuple:
        g3 = g2.reshape(m, groups, og).transpose(1, 0, 2)  # (G, M, O/G)
        dxp = gw = None
        if need_dw:
            dw = (g2.T @ cols[0])[None] if groups == 1 else np.matmul(g3.transpose(0, 2, 1), cols)
            gw = dw.reshape(groups, og, kh, kw, cg).transpose(0, 1, 4, 2, 3).reshape(w.shape)
        if need_dx:
            dxp = col2im_gemm(g3, wmat, padded_shape, out_hw, (kh, kw), stride, dilation)
        return dxp, gw

    return out, backward


def _direct_conv(
    xp: np.ndarray, w: np.ndarray, out_hw: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
    groups: int,
) -> tuple[np.ndarray, KernelBackward]:
    """Depthwise convolution (one input channel per group): a multiply-add per kernel offset.

    A GEMM per group would have a single input channel (``K = kh*kw``); streaming the channels-last
    input through ``kh * kw`` broadcast multiply-adds is an order of magnitude faster. Same
    contract as :func:`_gemm_conv`; ``w`` is ``(C * M, 1, kh, kw)`` for a channel multiplier ``M``
    (the input channels are then repeated ``M`` times, so every array is ``(..., O)``).
    """
    n = xp.shape[0]
    o, _, kh, kw = w.shape
    mult = o // groups
    ho, wo = out_hw
    m = n * ho * wo
    xr = xp if mult == 1 else np.repeat(xp, mult, axis=3)  # (N, Hp, Wp, O)
    wk = np.ascontiguousarray(w.reshape(o, kh, kw).transpose(1, 2, 0))  # (kh, kw, O)
    windows = [(i, j) + window_slices(i, j, out_hw, stride, dilation) for i in range(kh) for j in range(kw)]
    out = np.empty((n, ho, wo, o), dtype=xp.dtype)
    tmp = np.empty_like(out)
    for k, (i, j, sh, sw) in enumerate(windows):
        if k == 0:
            np.multiply(xr[:, sh, sw], wk[i, j], out=out)
        else:
            out += np.multiply(xr[:, sh, sw], wk[i, j], out=tmp)
    del tmp

    def backward(g2: np.ndarray, need_dx: bool, need_dw: bool) -> tuple:
        g4 = g2.reshape(n, ho, wo, o)
        buf = np.empty(g4.shape, dtype=g2.dtype)
        dxp = gw = None
        if need_dw:
            ones = np.ones(m, dtype=g2.dtype)
            dw = np.empty((kh, kw, o), dtype=w.dtype)
            for i, j, sh, sw in windows:
                dw[i, j] = ones @ np.multiply(xr[:, sh, sw], g4, out=buf).reshape(m, o)
            gw = dw.transpose(2, 0, 1).reshape(w.shape)
        if need_dx:
            dxr = np.zeros(xr.shape, dtype=g2.dtype)
            for i, j, sh, sw in windows:
                dxr[:, sh, sw] += np.multiply(g4, wk[i, j], out=buf)
            dxp = dxr if mult == 1 else dxr.reshape(xp.shape + (mult,)).sum(axis=-1)
        return dxp, gw

    return out.reshape(m, o), backward


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation, as ``torch.nn.functional.conv1d`` (runs :func:`conv2d` with height 1).

    Args:
        input: ``(N, C, L)`` or ``(C, L)``; weight: ``(O, C/groups, k)``; bias: ``(O,)`` or None.
        stride, padding, dilation: ints (or 1-tuples); padding may be ``'valid'`` or ``'same'``.
    Returns:
        ``(N, O, Lo)`` (or ``(O, Lo)``).
    """
    op = "conv1d"
    if input.data.ndim not in (2, 3):
        raise ValueError(f"{op}: expected input of shape (N, C, L) or (C, L), received {tuple(input.shape)}")
    if weight.data.ndim != 3:
        raise ValueError(
            f"{op}: expected weight of shape (out_channels, in_channels/groups, k), received {tuple(weight.shape)}"
        )
    s = pair(stride, "stride", op)[0]
    d = pair(dilation, "dilation", op)[0]
    p = padding if isinstance(padding, str) else (0, pair(padding, "padding", op)[0])
    axis = input.data.ndim - 1
    out = conv2d(input.unsqueeze(axis), weight.unsqueeze(2), bias, (1, s), p, (1, d), groups)
    return out.squeeze(axis)


def _pad_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each padded position along an axis of length ``n``, the source index for ``mode``."""
    pos = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    if mode == "circular":
        return pos % n
    # reflect (edge not repeated)
    period = 2 * (n - 1) if n > 1 else 1
    pos = np.abs(pos) % period
    return np.where(pos >= n, period - pos, pos)


def _scatter_axis(g: np.ndarray, index: np.ndarray, n: int, before: int, axis: int) -> np.ndarray:
    """The adjoint of ``take(x, index, axis)``: interior slice, then one ``+=`` per padded position."""
    def at(i: Any) -> tuple:
        return (slice(None),) * axis + (i,)

    out = g[at(slice(before, before + n))].copy()
    for p in [*range(before), *range(before + n, index.size)]:
        out[at(int(index[p]))] += g[at(p)]
    return out


def pad2d(input: Tensor, pads: tuple[int, int, int, int], mode: str) -> Tensor:
    """Pad the last two axes by ``(left, right, top, bottom)`` with ``mode``, as ``F.pad`` for 4-D input.

    Modes: ``'zeros'``/``'constant'``, ``'reflect'`` (each pad < that size), ``'replicate'`` and
    ``'circular'`` (each pad <= that size). Input ``(..., H, W)``, output ``(..., H + top + bottom, W + left + right)``.
    """
    op = "pad2d"
    x = input.data
    left, right, top, bottom = (int(p) for p in pads)
    h, w = x.shape[-2:]
    if mode in ("zeros", "constant"):
        mode = "constant"
    elif mode not in PADDING_MODES:
        raise ValueError(f"{op}: expected mode in {PADDING_MODES}, received {mode!r}")
    if mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError(f"{op}: reflect padding {tuple(pads)} must be smaller than the input size (H, W) = ({h}, {w})")
    if mode == "circular" and (max(top, bottom) > h or max(left, right) > w):
        raise ValueError(f"{op}: circular padding {tuple(pads)} must be at most the input size (H, W) = ({h}, {w})")
    ax_h, ax_w = x.ndim - 2, x.ndim - 1
    if mode == "constant":
        widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
        out = np.pad(x, widths)
        return make_node(out, (input,), lambda g: (g[..., top:top + h, left:left + w],), op)
    ih, iw = _pad_index(h, top, bottom, mode), _pad_index(w, left, right, mode)
    out = np.take(np.take(x, ih, axis=ax_h), iw, axis=ax_w)

    def backward(g: np.ndarray) -> tuple:
        gw = _scatter_axis(g, iw, w, left, ax_w)
        return (_scatter_axis(gw, ih, h, top, ax_h),)

    return make_node(out, (input,), backward, op)
