"""Converters for the layers added for PyTorch parity (issue 16), and the two recorded ops they bring.

Layers: MaxPool1d, AvgPool1d (the 2-D pools on a height-1 image), AdaptiveAvgPool1d, AdaptiveMaxPool1d, ConvTranspose1d/2d (``ConvTranspose``),
Upsample and its fixed-mode forms (one ``MatMul`` per resized axis with the very interpolation matrices
the forward used, so every mode is exact), GroupNorm (a reshape to groups and back), InstanceNorm1d/2d
(``InstanceNormalization``, or ``BatchNormalization`` with running stats in eval), PReLU, Mish,
Hardswish, Hardsigmoid, Softsign, CELU, GLU, Softmin, Softmax2d, Threshold, Soft/Hard/Tanhshrink, Bilinear and
the channel dropouts (identity in eval). (Padding layers, PixelShuffle, SELU and LogSigmoid are traced through.) Ops: ``pad_mode`` (F.pad's reflect/replicate/circular: one ``Gather`` per padded axis) and
``interpolate`` (F.interpolate).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.activation import (
    CELU,
    GLU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Mish,
    PReLU,
    Softmax2d,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from ..nn.bilinear import Bilinear
from ..nn.conv_transpose import ConvTranspose1d, ConvTranspose2d
from ..nn.dropout import Dropout1d, Dropout2d, Dropout3d
from ..nn.functional.upsample import interpolation_matrix
from ..nn.normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from ..nn.pooling import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, MaxPool1d
from ..nn.upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .errors import ONNXExportError
from .graph import Graph
from .modules import inp, register_layer
from .ops import OP_CONVERTERS, arg, attr
from .spatial import _adaptive_windows, _avg_divisor, _batched, _ceil_pads, _finish, _pad4
from .trace import LayerCall, OpCall

__all__: list[str] = []


def _int(value: Any) -> int:
    return int(value[0]) if isinstance(value, (tuple, list)) else int(value)


# ----------------------------------------------------------------------------- 1-D pooling
@register_layer(MaxPool1d, AvgPool1d)
def _pool1d(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, t = c1.module, c1.args[0]
    is_max = isinstance(m, MaxPool1d)
    indices = is_max and m.return_indices
    x, unbatched = _batched(g, c1, inp(g, c1, c2), 1)
    x = g.unsqueeze(x, [2])  # (N, C, 1, L)
    k, s, p = _int(m.kernel_size), _int(m.stride), _int(m.padding)
    d = _int(m.dilation) if is_max else 1
    length = t.shape[-1]
    out_len = (c1.output[0] if indices else c1.output).shape[-1]
    dt = t.data.dtype
    attrs = {"kernel_shape": [1, k], "strides": [1, s]}
    if is_max:
        attrs["dilations"] = [1, d]
        if indices:
            values, idx = g.node("MaxPool", [x], outputs=2, pads=[0, p, 0, p], ceil_mode=int(m.ceil_mode), **attrs)
            idx = g.node("Mod", [idx, g.const(np.asarray(length, dtype=np.int64), hint="length")])
            outs = [g.squeeze(values, [2]), g.squeeze(idx, [2])]
        elif m.ceil_mode:
            x = _pad4(g, x, _ceil_pads((1, length), (1, out_len), (1, k), (1, s), (0, p), (1, d)), -np.inf, dt)
            outs = [g.squeeze(g.node("MaxPool", [x], **attrs), [2])]
        else:
            outs = [g.squeeze(g.node("MaxPool", [x], pads=[0, p, 0, p], **attrs), [2])]
        return _finish(g, outs, unbatched)
    if not m.ceil_mode:
        y = g.node("AveragePool", [x], pads=[0, p, 0, p], count_include_pad=int(m.count_include_pad), **attrs)
        return _finish(g, [g.squeeze(y, [2])], unbatched)
    channels = t.shape[-2]
    x = _pad4(g, x, _ceil_pads((1, length), (1, out_len), (1, k), (1, s), (0, p), (1, 1)), 0.0, dt)
    ones = g.const(np.ones((channels, 1, 1, k), dtype=dt), hint="window_ones")
    total = g.node("Conv", [x, ones], kernel_shape=[1, k], strides=[1, s], group=int(channels))
    divisor = _avg_divisor(length, out_len, k, s, p, m.count_include_pad).astype(dt)
    y = g.node("Div", [total, g.const(divisor, hint="divisor")])
    return _finish(g, [g.squeeze(y, [2])], unbatched)


@register_layer(AdaptiveAvgPool1d, AdaptiveMaxPool1d)
def _adaptive_pool1d(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, t = c1.module, c1.args[0]
    is_max = isinstance(m, AdaptiveMaxPool1d)
    indices = is_max and m.return_indices
    x, unbatched = _batched(g, c1, inp(g, c1, c2), 1)
    length, out = t.shape[-1], _int(m.output_size)
    if indices:
        if length % out:
            raise ONNXExportError(f"{g.where}: return_indices=True needs an input length divisible by output_size, "
                                  f"got {length} -> {out}")
        k = length // out
        values, idx = g.node("MaxPool", [x], outputs=2, kernel_shape=[k], strides=[k])
        idx = g.node("Mod", [idx, g.const(np.asarray(length, dtype=np.int64), hint="length")])
        return _finish(g, [values, idx], unbatched)
    reduce = "ReduceMax" if is_max else "ReduceMean"
    pieces = [g.reduce(reduce, g.slice(x, [a], [b], [2]), [2], True) for a, b in _adaptive_windows(length, out)]
    return _finish(g, [pieces[0] if len(pieces) == 1 else g.node("Concat", pieces, axis=2)], unbatched)


# ----------------------------------------------------------------------------- transposed convolution
@register_layer(ConvTranspose1d, ConvTranspose2d)
def _conv_transpose(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, t = c1.module, c1.args[0]
    n = m._dims
    x, unbatched = _batched(g, c1, inp(g, c1, c2), n)
    out = c1.output
    # the output padding actually used (forward(..., output_size=) may choose it per call)
    spatial = t.shape[-n:]
    used = [out.shape[-n + a] - ((spatial[a] - 1) * m.stride[a] - 2 * m.padding[a]
                                 + m.dilation[a] * (m.kernel_size[a] - 1) + 1) for a in range(n)]
    inputs = [x, g.param(m.weight)] + ([g.param(m.bias)] if m.bias is not None else [])
    y = g.node("ConvTranspose", inputs, kernel_shape=list(m.kernel_size), strides=list(m.stride),
               pads=list(m.padding) * 2, output_padding=used, dilations=list(m.dilation), group=int(m.groups))
    return _finish(g, [y], unbatched)


# ----------------------------------------------------------------------------- resizing
def _resize(g: Graph, x: str, mats: list, ndim: int) -> str:
    """Apply ``(axis, matrix)`` pairs: ``x @ A^T`` on the last axis, ``A @ x`` on the one before, and a
    transpose around the ``MatMul`` for the depth axis of a 5-D input."""
    for axis, mat in mats:
        a = g.const(mat, hint="interpolation")
        if axis == ndim - 1:
            x = g.node("MatMul", [x, g.const(np.ascontiguousarray(mat.T), hint="interpolation")])
        elif axis == ndim - 2:
            x = g.node("MatMul", [a, x])
        else:
            perm = list(range(ndim))
            perm[axis], perm[ndim - 2] = perm[ndim - 2], perm[axis]
            x = g.node("Transpose", [x], perm=perm)
            x = g.node("Transpose", [g.node("MatMul", [a, x])], perm=perm)
    return x


@register_layer(Upsample, UpsamplingBilinear2d, UpsamplingNearest2d)
def _upsample(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, t = c1.module, c1.args[0]
    x = inp(g, c1, c2)
    a, out = t.data, c1.output.data
    factors = m.scale_factor if isinstance(m.scale_factor, (tuple, list)) else [m.scale_factor] * (a.ndim - 2)
    mats = []
    for i in range(a.ndim - 2):
        axis = 2 + i
        f = None if m.scale_factor is None or m.recompute_scale_factor else float(factors[i])
        if out.shape[axis] == a.shape[axis] and (f is None or f == 1.0):
            continue
        mats.append((axis, interpolation_matrix(a.shape[axis], out.shape[axis], m.mode, bool(m.align_corners), f,
                                                a.dtype)))
    return [_resize(g, x, mats, a.ndim)]


def _interpolate_op(g: Graph, r1: OpCall, r2: OpCall) -> str:
    mats = r1.attrs["matrices"]
    attr(g, r1, r2, "mode")
    return _resize(g, arg(g, r1, r2, 0), mats, r1.parents[0].ndim)


def _pad_mode_op(g: Graph, r1: OpCall, r2: OpCall) -> str:
    x = arg(g, r1, r2, 0)
    attr(g, r1, r2, "mode")
    for axis, index in r1.attrs["indices"]:
        x = g.node("Gather", [x, g.const(np.asarray(index, dtype=np.int64), hint="pad_index")], axis=int(axis))
    return x


OP_CONVERTERS["interpolate"] = _interpolate_op
OP_CONVERTERS["pad_mode"] = _pad_mode_op


# ----------------------------------------------------------------------------- normalisation
def _channel_shape(ndim: int, c: int) -> list[int]:
    return [1, c] + [1] * (ndim - 2)


@register_layer(GroupNorm)
def _group_norm(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, t = c1.module, c1.args[0]
    x, dt = inp(g, c1, c2), t.data.dtype
    grouped = g.node("Reshape", [x, g.ints([0, m.num_groups, -1])])
    centered = g.node("Sub", [grouped, g.reduce("ReduceMean", grouped, [2], True)])
    var = g.reduce("ReduceMean", g.node("Mul", [centered, centered]), [2], True)
    y = g.node("Div", [centered, g.node("Sqrt", [g.node("Add", [var, g.scalar(m.eps, dt)])])])
    y = g.node("Reshape", [y, g.node("Shape", [x])])
    if m.affine:
        shape = g.ints(_channel_shape(t.ndim, m.num_channels))
        y = g.node("Mul", [y, g.node("Reshape", [g.param(m.weight), shape])])
        y = g.node("Add", [y, g.node("Reshape", [g.param(m.bias), shape])])
    return [y]


@register_layer(InstanceNorm1d, InstanceNorm2d, InstanceNorm3d)
def _instance_norm(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, t = c1.module, c1.args[0]
    x, unbatched = _batched(g, c1, inp(g, c1, c2), m._spatial)
    c, dt = m.num_features, t.data.dtype
    scale = g.param(m.weight) if m.weight is not None else g.const(np.ones(c, dt), hint="ones")
    bias = g.param(m.bias) if m.bias is not None else g.const(np.zeros(c, dt), hint="zeros")
    if m.track_running_stats and not m.training:
        mean, var = g.array_const(m.running_mean), g.array_const(m.running_var)
        y = g.node("BatchNormalization", [x, scale, bias, mean, var], epsilon=float(m.eps))
    else:
        y = g.node("InstanceNormalization", [x, scale, bias], epsilon=float(m.eps))
    return _finish(g, [y], unbatched)


# ----------------------------------------------------------------------------- activations
@register_layer(PReLU)
def _prelu(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, t = c1.module, c1.args[0]
    slope = g.param(m.weight)
    if m.num_parameters > 1:
        slope = g.node("Reshape", [slope, g.ints([m.num_parameters] + [1] * (t.ndim - 2))])
    return [g.node("PRelu", [inp(g, c1, c2), slope])]


@register_layer(Mish)
def _mish(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    x = inp(g, c1, c2)
    return [g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])])]


@register_layer(Hardswish)
def _hardswish(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    x, dt = inp(g, c1, c2), c1.args[0].data.dtype
    gate = g.node("Clip", [g.node("Add", [x, g.scalar(3.0, dt)]), g.scalar(0.0, dt), g.scalar(6.0, dt)])
    return [g.node("Div", [g.node("Mul", [x, gate]), g.scalar(6.0, dt)])]


@register_layer(Hardsigmoid)
def _hardsigmoid(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    return [g.node("HardSigmoid", [inp(g, c1, c2)], alpha=1.0 / 6.0, beta=0.5)]


@register_layer(Softsign)
def _softsign(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    return [g.node("Softsign", [inp(g, c1, c2)])]


@register_layer(Dropout1d, Dropout2d, Dropout3d)
def _channel_dropout(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    return [inp(g, c1, c2)]  # the export runs in eval mode: dropout is the identity


@register_layer(CELU)
def _celu(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    return [g.node("Celu", [inp(g, c1, c2)], alpha=float(c1.module.alpha))]


@register_layer(Softmax2d, Softmin)
def _softmin_2d(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, x = c1.module, inp(g, c1, c2)
    if isinstance(m, Softmax2d):
        return [g.node("Softmax", [x], axis=-3)]
    nd = c1.args[0].ndim
    dim = m.dim if m.dim is not None else (0 if nd in (0, 1, 3) else 1)  # PyTorch's implicit choice
    return [g.node("Softmax", [g.node("Neg", [x])], axis=int(dim))]


@register_layer(Softshrink, Hardshrink)
def _shrink(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m = c1.module
    bias = float(m.lambd) if isinstance(m, Softshrink) else 0.0
    return [g.node("Shrink", [inp(g, c1, c2)], lambd=float(m.lambd), bias=bias)]


@register_layer(Tanhshrink)
def _tanhshrink(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    x = inp(g, c1, c2)
    return [g.node("Sub", [x, g.node("Tanh", [x])])]


@register_layer(Threshold)
def _threshold(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m, x, dt = c1.module, inp(g, c1, c2), c1.args[0].data.dtype
    keep = g.node("Greater", [x, g.scalar(m.threshold, dt)])
    return [g.node("Where", [keep, x, g.scalar(m.value, dt)])]


@register_layer(GLU)
def _glu(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    x = inp(g, c1, c2)
    axis = c1.module.dim % c1.args[0].ndim
    half = c1.args[0].shape[axis] // 2
    a = g.slice(x, [0], [half], [axis])
    b = g.slice(x, [half], [2 * half], [axis])
    return [g.node("Mul", [a, g.node("Sigmoid", [b])])]


@register_layer(Bilinear)
def _bilinear(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m = c1.module
    y = g.node("Einsum", [inp(g, c1, c2, 0), g.param(m.weight), inp(g, c1, c2, 1)], equation="...i,oij,...j->...o")
    return [g.node("Add", [y, g.param(m.bias)]) if m.bias is not None else y]
