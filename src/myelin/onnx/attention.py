"""Converter for ``MultiheadAttention``: projections, heads, masked softmax and the output projection.

``TransformerEncoderLayer`` and ``TransformerEncoder`` are traced through (their residual additions,
layer norms, linear layers, activation and dropouts each export as usual, their attention through
this converter). Masks: an ``attn_mask`` or ``key_padding_mask`` that is the same in both traced runs
(a causal mask, say) is stored as a constant; one that is a graph input or computed by traced ops is
used as such (bool masks become ``-inf`` where True, as in PyTorch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.attention import MultiheadAttention
from .errors import ONNXExportError
from .graph import Graph
from .modules import inp, register_layer
from .ops import linear
from .trace import LayerCall

__all__ = ["batch_axis"]

_ARG_ORDER = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights",
              "is_causal")


def batch_axis(call: LayerCall, t: Any) -> int | None | str:
    """The batch axis of ``t`` when it is the query, key or value of a ``MultiheadAttention`` call ("unknown"
    otherwise): dim 1 of sequence-first input, dim 0 batch first, none unbatched."""
    m = call.module
    if not isinstance(m, MultiheadAttention) or not any(a is t for a in call.args[:3]):
        return "unknown"
    return (0 if m.batch_first else 1) if t.ndim == 3 else None


def _arguments(c: LayerCall) -> dict[str, Any]:
    named = dict(zip(_ARG_ORDER, c.args))
    named.update(c.kwargs)
    return named


def _additive_mask(g: Graph, m1: Any, m2: Any, dtype: np.dtype, shape: list[int] | None) -> str:
    """The graph value of a mask as an additive float (bool True becomes -inf), optionally reshaped."""
    data1 = getattr(m1, "data", m1)
    is_bool = np.asarray(data1).dtype == np.bool_
    try:
        value = g.value(m1, m2, None if is_bool else dtype, hint="mask")
    except ONNXExportError as err:
        raise ONNXExportError(f"{err}; pass the mask as a model input or build it with tensor ops") from None
    if is_bool:
        value = g.node("Where", [value, g.scalar(-np.inf, dtype), g.scalar(0.0, dtype)])
    return g.node("Reshape", [value, g.ints(shape)]) if shape is not None else value


@register_layer(MultiheadAttention)
def _multihead_attention(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m = c1.module
    if m.bias_k is not None or m.add_zero_attn:
        raise ONNXExportError(f"{g.where}: MultiheadAttention with add_bias_kv or add_zero_attn has no ONNX converter")
    a1, a2 = _arguments(c1), _arguments(c2)
    e, h, hd = m.embed_dim, m.num_heads, m.head_dim
    q_t = a1["query"]
    dt = q_t.data.dtype
    batched = q_t.ndim == 3
    names = [inp(g, c1, c2, j) for j in range(3)]
    if not batched:
        names = [g.unsqueeze(v, [0]) for v in names]
    elif not m.batch_first:
        names = [g.node("Transpose", [v], perm=[1, 0, 2]) for v in names]
    if m._qkv_same_embed_dim:
        w = m.in_proj_weight.data
        weights = [g.const(w[i * e:(i + 1) * e], hint="in_proj_weight") for i in range(3)]
    else:
        weights = [g.param(p) for p in (m.q_proj_weight, m.k_proj_weight, m.v_proj_weight)]
    biases: list = [None] * 3
    if m.in_proj_bias is not None:
        biases = [g.const(m.in_proj_bias.data[i * e:(i + 1) * e], hint="in_proj_bias") for i in range(3)]
    q, k, v = (linear(g, x, w_, b_, 3) for x, w_, b_ in zip(names, weights, biases))
    heads = g.ints([0, 0, h, hd])
    q = g.node("Transpose", [g.node("Reshape", [q, heads])], perm=[0, 2, 1, 3])  # (N, H, L, hd)
    k = g.node("Transpose", [g.node("Reshape", [k, heads])], perm=[0, 2, 3, 1])  # (N, H, hd, S)
    v = g.node("Transpose", [g.node("Reshape", [v, heads])], perm=[0, 2, 1, 3])  # (N, H, S, hd)
    scores = g.node("Mul", [g.node("MatMul", [q, k]), g.scalar(1.0 / np.sqrt(hd), dt)])
    seq_axis = 0 if batched and not m.batch_first else -2
    lq, s = q_t.shape[seq_axis], a1["key"].shape[seq_axis]
    if a1.get("attn_mask") is not None:
        am = np.asarray(getattr(a1["attn_mask"], "data", a1["attn_mask"]))
        shape = None if am.ndim == 2 else [-1, h, lq, s]
        scores = g.node("Add", [scores, _additive_mask(g, a1["attn_mask"], a2.get("attn_mask"), dt, shape)])
    if a1.get("key_padding_mask") is not None:
        kpm = _additive_mask(g, a1["key_padding_mask"], a2.get("key_padding_mask"), dt, [-1, 1, 1, s])
        scores = g.node("Add", [scores, kpm])
    probs = g.node("Softmax", [scores], axis=-1)
    out = g.node("Transpose", [g.node("MatMul", [probs, v])], perm=[0, 2, 1, 3])
    out = g.node("Reshape", [out, g.ints([0, 0, e])])
    bias = g.param(m.out_proj.bias) if m.out_proj.bias is not None else None
    out = linear(g, out, g.param(m.out_proj.weight), bias, 3)
    if not batched:
        out = g.squeeze(out, [0])
    elif not m.batch_first:
        out = g.node("Transpose", [out], perm=[1, 0, 2])
    results = [out]
    if c1.output[1] is not None:
        w_out = g.reduce("ReduceMean", probs, [1], False) if a1.get("average_attn_weights", True) else probs
        results.append(g.squeeze(w_out, [0]) if not batched else w_out)
    return results
