"""Converters for convolution and pooling layers (``Conv1d``, ``Conv2d``, the 2-D pools).

Spatial sizes are those of the example input (only the batch is dynamic), which lets every case
be exact: ``ceil_mode`` pools pad explicitly to PyTorch's output size, ``divisor_override`` and
ceil-mode averages divide a window sum by PyTorch's per-window divisors, and adaptive pools whose
windows are uneven become one slice-and-reduce per output row and column (an adaptive max pool that
also returns indices: one gather of every window at the largest window's offsets, then ``ArgMax``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..nn.conv import Conv1d, Conv2d
from ..nn.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from .graph import Graph
from .modules import inp, register_layer
from .trace import LayerCall

__all__: list[str] = []

_NUMPY_PAD = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pair(value: Any) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    v = tuple(int(a) for a in value)
    return v * 2 if len(v) == 1 else v


def _conv_pads(padding: Any, kernel: Sequence[int], dilation: Sequence[int]) -> tuple[list[int], list[int]]:
    """PyTorch's padding argument as (before, after) lists per spatial axis."""
    n = len(kernel)
    if padding == "valid":
        return [0] * n, [0] * n
    if padding == "same":  # total dilation*(k-1), the odd one after (as PyTorch)
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [t // 2 for t in total], [t - t // 2 for t in total]
    pads = [int(padding)] * n if isinstance(padding, (int, np.integer)) else [int(p) for p in padding]
    return pads, list(pads)


def _mode_pad(g: Graph, x: str, sizes: Sequence[int], before: Sequence[int], after: Sequence[int], mode: str) -> str:
    """Reflect / replicate / circular padding of the spatial axes as index gathers (sizes are static)."""
    for a, (n, lo, hi) in enumerate(zip(sizes, before, after)):
        if lo or hi:
            idx = np.pad(np.arange(n, dtype=np.int64), (lo, hi), mode=_NUMPY_PAD[mode])  # type: ignore[call-overload]
            x = g.node("Gather", [x, g.const(idx, hint="pad_index")], axis=2 + a)
    return x


def _batched(g: Graph, c1: LayerCall, x: str, spatial: int) -> tuple[str, bool]:
    """Unbatched inputs ``(C, *spatial)`` get a batch axis for the ONNX op (removed again after)."""
    unbatched = c1.args[0].ndim == spatial + 1
    return (g.unsqueeze(x, [0]) if unbatched else x), unbatched


def _finish(g: Graph, outs: list[str], unbatched: bool) -> list[str]:
    return [g.squeeze(o, [0]) for o in outs] if unbatched else outs


@register_layer(Conv1d, Conv2d)
def _conv(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m = c1.module
    kernel = list(m.kernel_size)
    n = len(kernel)
    x, unbatched = _batched(g, c1, inp(g, c1, c2), n)
    before, after = _conv_pads(m.padding, kernel, m.dilation)
    if m.padding_mode != "zeros":
        x = _mode_pad(g, x, c1.args[0].shape[-n:], before, after, m.padding_mode)
        before, after = [0] * n, [0] * n
    inputs = [x, g.param(m.weight)] + ([g.param(m.bias)] if m.bias is not None else [])
    y = g.node("Conv", inputs, kernel_shape=kernel, strides=list(m.stride), dilations=list(m.dilation),
               pads=before + after, group=int(m.groups))
    return _finish(g, [y], unbatched)


def _geometry(m: Any, dilation: bool) -> tuple[tuple[int, ...], ...]:
    k = _pair(m.kernel_size)
    s = k if m.stride is None or (isinstance(m.stride, (tuple, list)) and not m.stride) else _pair(m.stride)
    d = _pair(m.dilation) if dilation else (1, 1)
    return k, s, _pair(m.padding), d


def _ceil_pads(hw: Sequence[int], out: Sequence[int], k: Sequence[int], s: Sequence[int], p: Sequence[int],
               d: Sequence[int]) -> list[int]:
    """Explicit (top, left, bottom, right) padding that gives PyTorch's ceil-mode output size by floor rules."""
    after = [(o - 1) * st + dl * (kk - 1) + 1 - n - pp for n, o, kk, st, pp, dl in zip(hw, out, k, s, p, d)]
    return [p[0], p[1], after[0], after[1]]


def _pad4(g: Graph, x: str, pads: Sequence[int], value: float, dtype: Any) -> str:
    """Pad the H and W axes of an NCHW value by (top, left, bottom, right) (negative entries crop)."""
    full = [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]]
    return g.node("Pad", [x, g.ints(full), g.scalar(value, dtype)], mode="constant")


@register_layer(MaxPool2d)
def _max_pool(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, t = c1.module, c1.args[0]
    x, unbatched = _batched(g, c1, inp(g, c1, c2), 2)
    k, s, p, d = _geometry(m, dilation=True)
    hw = t.shape[-2:]
    out = (c1.output[0] if m.return_indices else c1.output).shape[-2:]
    attrs = {"kernel_shape": list(k), "strides": list(s), "dilations": list(d)}
    if m.return_indices:
        values, idx = g.node("MaxPool", [x], outputs=2, pads=[p[0], p[1], p[0], p[1]], ceil_mode=int(m.ceil_mode),
                             **attrs)
        plane = g.const(np.asarray(hw[0] * hw[1], dtype=np.int64), hint="plane")
        return _finish(g, [values, g.node("Mod", [idx, plane])], unbatched)  # ONNX counts over N*C*H*W
    if m.ceil_mode:
        x = _pad4(g, x, _ceil_pads(hw, out, k, s, p, d), -np.inf, t.data.dtype)
        return _finish(g, [g.node("MaxPool", [x], **attrs)], unbatched)
    return _finish(g, [g.node("MaxPool", [x], pads=[p[0], p[1], p[0], p[1]], **attrs)], unbatched)


def _avg_divisor(n: int, out: int, k: int, s: int, p: int, count_include_pad: bool) -> np.ndarray:
    """PyTorch's per-window divisors along one axis (windows clipped to the padded size)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if count_include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, n) - np.maximum(start, 0)).astype(np.float64)


@register_layer(AvgPool2d)
def _avg_pool(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, t = c1.module, c1.args[0]
    x, unbatched = _batched(g, c1, inp(g, c1, c2), 2)
    k, s, p, _ = _geometry(m, dilation=False)
    dt = t.data.dtype
    if not m.ceil_mode and m.divisor_override is None:
        y = g.node("AveragePool", [x], kernel_shape=list(k), strides=list(s), pads=[p[0], p[1], p[0], p[1]],
                   count_include_pad=int(m.count_include_pad))
        return _finish(g, [y], unbatched)
    # window sums by a depthwise convolution with ones, divided by PyTorch's divisors
    hw, out, channels = t.shape[-2:], c1.output.shape[-2:], t.shape[-3]
    x = _pad4(g, x, _ceil_pads(hw, out, k, s, p, (1, 1)), 0.0, dt)
    ones = g.const(np.ones((channels, 1) + tuple(k), dtype=dt), hint="window_ones")
    total = g.node("Conv", [x, ones], kernel_shape=list(k), strides=list(s), group=int(channels))
    if m.divisor_override is not None:
        divisor = g.scalar(m.divisor_override, dt)
    else:
        dh = _avg_divisor(hw[0], out[0], k[0], s[0], p[0], m.count_include_pad)
        dw = _avg_divisor(hw[1], out[1], k[1], s[1], p[1], m.count_include_pad)
        divisor = g.const(np.outer(dh, dw).astype(dt), hint="divisor")
    return _finish(g, [g.node("Div", [total, divisor])], unbatched)


def _adaptive_windows(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's windows: ``[floor(i*n/out), ceil((i+1)*n/out))``."""
    return [((i * n) // out, -((-(i + 1) * n) // out)) for i in range(out)]


def _window_offsets(n: int, out: int) -> np.ndarray:
    """``(k, out)`` positions: window ``i`` read at offsets ``0..k-1`` of the largest window ``k``, clamped
    to its own last position (a repeat, never a new first maximum)."""
    start, end = np.array(_adaptive_windows(n, out), dtype=np.int64).T
    k = int((end - start).max())
    return np.minimum(start[None, :] + np.arange(k)[:, None], end[None, :] - 1)


def _uneven_max_with_indices(g: Graph, x: str, h: int, w: int, oh: int, ow: int) -> list[str]:
    """Values and flat ``h * W + w`` indices of adaptive max windows of unequal sizes.

    Every window's candidates ``(N, C, K, oh, ow)`` come from one ``Gather`` over the flattened plane;
    ``ArgMax`` keeps the first maximum in row-major order, PyTorch's choice among equal values.
    """
    rows, cols = _window_offsets(h, oh), _window_offsets(w, ow)
    table = (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(-1, oh, ow)  # (K, oh, ow)
    plane = g.node("Reshape", [x, g.ints([0, 0, -1])])
    cand = g.node("Gather", [plane, g.const(table, hint="window_index")], axis=2)
    first = g.node("ArgMax", [cand], axis=2, keepdims=1)
    values = g.node("GatherElements", [cand, first], axis=2)
    where = g.node("Expand", [g.const(table[None, None], hint="window_index"), g.node("Shape", [cand])])
    index = g.node("GatherElements", [where, first], axis=2)
    return [g.squeeze(values, [2]), g.squeeze(index, [2])]


@register_layer(AdaptiveAvgPool2d, AdaptiveMaxPool2d)
def _adaptive(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, t = c1.module, c1.args[0]
    is_max = isinstance(m, AdaptiveMaxPool2d)
    indices = is_max and m.return_indices
    x, unbatched = _batched(g, c1, inp(g, c1, c2), 2)
    (h, w), out = t.shape[-2:], (c1.output[0] if indices else c1.output).shape[-2:]
    oh, ow = out
    even = h % oh == 0 and w % ow == 0
    if indices:
        if not even:
            return _finish(g, _uneven_max_with_indices(g, x, h, w, oh, ow), unbatched)
        kernel = [h // oh, w // ow]
        values, idx = g.node("MaxPool", [x], outputs=2, kernel_shape=kernel, strides=kernel)
        plane = g.const(np.asarray(h * w, dtype=np.int64), hint="plane")
        return _finish(g, [values, g.node("Mod", [idx, plane])], unbatched)
    if oh == 1 and ow == 1:
        return _finish(g, [g.node("GlobalMaxPool" if is_max else "GlobalAveragePool", [x])], unbatched)
    if even:
        kernel = [h // oh, w // ow]
        return _finish(g, [g.node("MaxPool" if is_max else "AveragePool", [x], kernel_shape=kernel, strides=kernel)],
                       unbatched)
    reduce = "ReduceMax" if is_max else "ReduceMean"
    y = x
    for axis, n, o in ((2, h, oh), (3, w, ow)):  # separable: a mean of means over equal rows is exact
        if n == o:
            continue
        pieces = [g.reduce(reduce, g.slice(y, [a], [b], [axis]), [axis], True) for a, b in _adaptive_windows(n, o)]
        y = g.node("Concat", pieces, axis=axis)
    return _finish(g, [y], unbatched)
