"""Converters for the built-in layers: each layer call becomes one small ONNX sub-graph.

A converter takes the graph and the layer's call in both traced runs (``LayerCall``: module,
arguments, output) and returns one value name per tensor of the output (flattened in order).
``LAYER_CONVERTERS`` maps layer classes to converters (``spatial.py`` and ``rnn.py`` add theirs when
imported, which ``exporter.py`` does); :func:`is_opaque` tells the tracer which
modules to record as one call (those, plus built-in layers without a converter, which then fail
with a clear message) and which to trace through (containers, ``MLP``, user modules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..nn import activation as A
from ..nn import padding as padding_layers
from ..nn.container import ModuleDict, ModuleList, Sequential
from ..nn.dropout import Dropout
from ..nn.embedding import Embedding
from ..nn.flatten import Flatten, Unflatten
from ..nn.linear import Linear
from ..nn.mlp import MLP
from ..nn.module import Module
from ..nn.neuron import Neuron
from ..nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm
from ..nn.padding import __all__ as _PADDING_LAYERS
from ..nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from ..nn.upsample import PixelShuffle, PixelUnshuffle
from .errors import ONNXExportError
from .graph import Graph, onnx_dtype
from .ops import gelu, linear, reshape_like, softplus
from .trace import LayerCall, flatten_tensors

__all__ = ["LAYER_CONVERTERS", "inp", "is_opaque", "register_layer"]

LayerConverter = Callable[[Graph, LayerCall, LayerCall], list]
LAYER_CONVERTERS: dict[type, LayerConverter] = {}
TRANSPARENT: tuple[type, ...] = (
    Sequential, ModuleList, ModuleDict, MLP, Transformer, TransformerDecoder, TransformerDecoderLayer,
    TransformerEncoder, TransformerEncoderLayer, A.SELU, A.LogSigmoid, PixelShuffle, PixelUnshuffle,
    *(getattr(padding_layers, name) for name in _PADDING_LAYERS),
)


def register_layer(*classes: type) -> Callable[[LayerConverter], LayerConverter]:
    """Decorator: ``fn`` converts calls of ``classes``."""

    def deco(fn: LayerConverter) -> LayerConverter:
        for cls in classes:
            LAYER_CONVERTERS[cls] = fn
        return fn

    return deco


def is_opaque(module: Module) -> bool:
    """Record ``module`` as one layer call (True) or trace through its forward (False)."""
    cls = type(module)
    if cls in LAYER_CONVERTERS:
        return True
    return cls.__module__.startswith("myelin.nn.") and cls not in TRANSPARENT


def inp(g: Graph, c1: LayerCall, c2: LayerCall, j: int = 0, dtype: Any = None) -> str:
    """The graph value of the layer's positional argument ``j``."""
    if j >= len(c1.args):
        raise ONNXExportError(f"{g.where}: expected at least {j + 1} positional argument(s)")
    return g.value(c1.args[j], c2.args[j], dtype)


def _one(fn: Callable[[Graph, LayerCall, LayerCall, str], str]) -> LayerConverter:
    """Adapt a converter of one input to one output."""

    def convert(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
        return [fn(g, c1, c2, inp(g, c1, c2))]

    return convert


def _dtype(c1: LayerCall) -> np.dtype:
    return c1.args[0].data.dtype


# ----------------------------------------------------------------------------- dense and activations
@register_layer(Linear)
@_one
def _linear(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    m = c1.module
    b = g.param(m.bias) if m.bias is not None else None
    return linear(g, x, g.param(m.weight), b, c1.args[0].ndim)


@register_layer(A.Identity, Dropout)
def _identity(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    ins1, ins2 = flatten_tensors(c1.args), flatten_tensors(c2.args)
    return [g.value(a, b) for a, b in zip(ins1, ins2)]


_SIMPLE = {A.ReLU: "Relu", A.Sigmoid: "Sigmoid", A.Tanh: "Tanh"}


@register_layer(*_SIMPLE)
@_one
def _simple(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    return g.node(_SIMPLE[type(c1.module)], [x])


@register_layer(A.LeakyReLU)
@_one
def _leaky_relu(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    return g.node("LeakyRelu", [x], alpha=float(c1.module.negative_slope))


@register_layer(A.ELU)
@_one
def _elu(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    return g.node("Elu", [x], alpha=float(c1.module.alpha))


@register_layer(A.ReLU6, A.Hardtanh)
@_one
def _clip(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    m, dt = c1.module, _dtype(c1)
    lo, hi = (0.0, 6.0) if isinstance(m, A.ReLU6) else (m.min_val, m.max_val)
    return g.node("Clip", [x, g.scalar(lo, dt), g.scalar(hi, dt)])


@register_layer(A.GELU)
@_one
def _gelu(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    return gelu(g, x, c1.module.approximate, _dtype(c1))


@register_layer(A.SiLU)
@_one
def _silu(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


@register_layer(A.Softplus)
@_one
def _softplus(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    return softplus(g, x, float(c1.module.beta), float(c1.module.threshold), _dtype(c1))


@register_layer(A.Softmax, A.LogSoftmax)
@_one
def _softmax(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    m, nd = c1.module, c1.args[0].ndim
    dim = m.dim if m.dim is not None else (0 if nd in (0, 1, 3) else 1)  # PyTorch's implicit choice
    return g.node("Softmax" if isinstance(m, A.Softmax) else "LogSoftmax", [x], axis=int(dim))


@register_layer(Neuron)
@_one
def _neuron(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    m, dt = c1.module, _dtype(c1)
    z = g.node("MatMul", [x, g.param(m.weight)])
    if m.bias is not None:
        z = g.node("Add", [z, g.param(m.bias)])
    act = m.activation
    if act == "step":
        return g.node("Cast", [g.node("GreaterOrEqual", [z, g.scalar(0, dt)])], to=onnx_dtype(dt))
    if act == "leaky_relu":
        return g.node("LeakyRelu", [z], alpha=0.01)
    ops = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}
    return g.node(ops[act], [z]) if act in ops else z


# ----------------------------------------------------------------------------- normalisation
@register_layer(BatchNorm1d, BatchNorm2d, BatchNorm3d)
@_one
def _batch_norm(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    m, dt, nd = c1.module, _dtype(c1), c1.args[0].ndim
    c = m.num_features
    scale = g.param(m.weight) if m.weight is not None else g.const(np.ones(c, dt), hint="ones")
    bias = g.param(m.bias) if m.bias is not None else g.const(np.zeros(c, dt), hint="zeros")
    if m.running_mean is None:  # no running statistics: eval mode normalises with the batch's own
        axes = [0] + list(range(2, nd))
        shape = [1, c] + [1] * (nd - 2)
        mean = g.reduce("ReduceMean", x, axes, True)
        centered = g.node("Sub", [x, mean])
        var = g.reduce("ReduceMean", g.node("Mul", [centered, centered]), axes, True)
        std = g.node("Sqrt", [g.node("Add", [var, g.scalar(m.eps, dt)])])
        y = g.node("Div", [centered, std])
        y = g.node("Mul", [y, g.node("Reshape", [scale, g.ints(shape)])])
        return g.node("Add", [y, g.node("Reshape", [bias, g.ints(shape)])])
    mean, var = g.array_const(m.running_mean), g.array_const(m.running_var)
    x3 = g.unsqueeze(x, [2]) if nd == 2 else x
    y = g.node("BatchNormalization", [x3, scale, bias, mean, var], epsilon=float(m.eps))
    return g.squeeze(y, [2]) if nd == 2 else y


@register_layer(LayerNorm)
@_one
def _layer_norm(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    m, dt = c1.module, _dtype(c1)
    shape = tuple(m.normalized_shape)
    k = len(shape)
    scale = g.param(m.weight) if m.weight is not None else g.const(np.ones(shape, dt), hint="ones")
    bias = g.param(m.bias) if m.bias is not None else None
    if g.opset >= 17:
        return g.node("LayerNormalization", [x, scale] + ([bias] if bias else []), axis=-k, epsilon=float(m.eps))
    axes = list(range(-k, 0))
    centered = g.node("Sub", [x, g.reduce("ReduceMean", x, axes, True)])
    var = g.reduce("ReduceMean", g.node("Mul", [centered, centered]), axes, True)
    y = g.node("Div", [centered, g.node("Sqrt", [g.node("Add", [var, g.scalar(m.eps, dt)])])])
    y = g.node("Mul", [y, scale])
    return g.node("Add", [y, bias]) if bias else y


# ----------------------------------------------------------------------------- shapes and lookups
@register_layer(Flatten, Unflatten)
@_one
def _flatten(g: Graph, c1: LayerCall, c2: LayerCall, x: str) -> str:
    m, t1, t2 = c1.module, c1.args[0], c2.args[0]
    nd = t1.ndim
    if isinstance(m, Flatten) and nd >= 2 and m.start_dim % nd == 1 and m.end_dim % nd == nd - 1:
        return g.node("Flatten", [x], axis=1)
    return reshape_like(g, x, t1.shape, t2.shape, c1.output.shape, c2.output.shape)


@register_layer(Embedding)
def _embedding(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m = c1.module
    idx1 = c1.args[0]
    dtype = np.int64 if getattr(idx1, "dtype", np.dtype(np.int64)).kind not in "iu" else None
    rows = g.node("Gather", [g.param(m.weight), inp(g, c1, c2, 0, dtype)], axis=0)
    if m.max_norm is None:
        return [rows]
    # PyTorch rescales the looked-up rows whose norm exceeds max_norm (in place; here on the fly)
    dt, p = m.weight.data.dtype, float(m.norm_type)
    powered = g.node("Pow", [g.node("Abs", [rows]), g.scalar(p, dt)])
    norm = g.node("Pow", [g.reduce("ReduceSum", powered, [-1], True), g.scalar(1.0 / p, dt)])
    factor = g.node("Div", [g.scalar(m.max_norm, dt), g.node("Add", [norm, g.scalar(1e-7, dt)])])
    big = g.node("Greater", [norm, g.scalar(m.max_norm, dt)])
    scale = g.node("Where", [big, factor, g.scalar(1.0, dt)])
    return [g.node("Mul", [rows, scale])]

