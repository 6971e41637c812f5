"""Converters for ``RNN``, ``LSTM``, ``GRU`` and their cells: ONNX's ``RNN``/``LSTM``/``GRU`` ops.

PyTorch (and Myelin) stack the gates of ``weight_ih_l{k}`` as LSTM ``i, f, g, o`` and GRU ``r, z, n``;
ONNX wants LSTM ``i, o, f, c`` and GRU ``z, r, h``, so the weights are reordered into the
initializers ``W`` ``(D, G*H, I)``, ``R`` ``(D, G*H, H)`` and ``B`` ``(D, 2*G*H)``. PyTorch's GRU
applies the reset gate after the recurrent product, which is ONNX's ``linear_before_reset=1``.
Layers are stacked one ONNX op per layer (both directions in one op); ``batch_first`` and the
unbatched form are handled with ``Transpose``/``Unsqueeze``, and the outputs are reshaped to
PyTorch's ``(L, N, D*H)`` and ``h_n``/``c_n`` ``(num_layers*D, N, H)``. ``RNNOutput`` (the layer that
puts a recurrent layer in a ``Sequential``) keeps the output sequence, or slices out its last step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from ..nn.rnn_output import RNNOutput
from .errors import ONNXExportError
from .graph import INT64_MAX, Graph
from .modules import inp, register_layer
from .trace import LayerCall, flatten_tensors

__all__ = ["batch_axis"]

# PyTorch gate blocks -> ONNX order
_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN": [0]}


def batch_axis(call: LayerCall, t: Any) -> int | None | str:
    """The batch axis of ``t`` when it is an argument of the recurrent ``call`` ("unknown" otherwise).

    Sequence-first input ``(L, N, I)`` and the states ``(num_layers*D, N, H)`` carry the batch in dim 1,
    batch-first input in dim 0, unbatched ones nowhere.
    """
    m = call.module
    if not isinstance(m, (RNN, LSTM, GRU)):
        return "unknown"
    if call.args and call.args[0] is t:
        return (0 if m.batch_first else 1) if t.ndim == 3 else None
    return 1 if t.ndim == 3 else None


def _kind(m: Any) -> str:
    if isinstance(m, (LSTM, LSTMCell)):
        return "LSTM"
    if isinstance(m, (GRU, GRUCell)):
        return "GRU"
    return "RNN"


def _reorder(w: np.ndarray, kind: str, hidden: int) -> np.ndarray:
    blocks = [w[i * hidden:(i + 1) * hidden] for i in range(len(_ORDER[kind]))]
    return np.concatenate([blocks[i] for i in _ORDER[kind]], axis=0)


def _weights(g: Graph, kind: str, hidden: int, per_direction: list[tuple]) -> list[str]:
    """``W``, ``R`` and (when there are biases) ``B`` initializers for one layer, all directions."""
    w = np.stack([_reorder(wi.data, kind, hidden) for wi, _, _, _ in per_direction])
    r = np.stack([_reorder(wh.data, kind, hidden) for _, wh, _, _ in per_direction])
    names = [g.const(w, hint="W"), g.const(r, hint="R")]
    if per_direction[0][2] is not None:
        b = np.stack([np.concatenate([_reorder(bi.data, kind, hidden), _reorder(bh.data, kind, hidden)])
                      for _, _, bi, bh in per_direction])
        names.append(g.const(b, hint="B"))
    return names


def _op_attrs(m: Any, kind: str, directions: int) -> dict:
    attrs: dict[str, Any] = {"hidden_size": int(m.hidden_size),
                             "direction": "bidirectional" if directions == 2 else "forward"}
    if kind == "GRU":
        attrs["linear_before_reset"] = 1
    if kind == "RNN":
        attrs["activations"] = ["Relu" if m.nonlinearity == "relu" else "Tanh"] * directions
    return attrs


def _state(g: Graph, c1: LayerCall, c2: LayerCall) -> tuple[Any, Any]:
    """The ``hx`` argument (positional or keyword) in both runs."""
    if len(c1.args) > 1:
        return c1.args[1], c2.args[1]
    return c1.kwargs.get("hx"), c2.kwargs.get("hx")


def _state_names(g: Graph, hx1: Any, hx2: Any, kind: str, batched: bool) -> list[str | None]:
    """h0 (and c0) as ``(num_layers*D, N, H)`` values, or None when not given."""
    if hx1 is None:
        return [None, None] if kind == "LSTM" else [None]
    pairs = list(zip(hx1, hx2)) if kind == "LSTM" else [(hx1, hx2)]
    names = [g.value(a, b) for a, b in pairs]
    return names if batched else [g.unsqueeze(n, [1]) for n in names]


@register_layer(RNN, LSTM, GRU)
def _recurrent(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    m = c1.module
    kind = _kind(m)
    if getattr(m, "proj_size", 0):
        raise ONNXExportError(f"{g.where}: LSTM with proj_size is not supported")
    hidden, directions, layers = m.hidden_size, 2 if m.bidirectional else 1, m.num_layers
    batched = c1.args[0].ndim == 3
    x = inp(g, c1, c2)
    if not batched:
        x = g.unsqueeze(x, [1])
    elif m.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    states = _state_names(g, *_state(g, c1, c2), kind, batched)
    finals: list[list[str]] = [[] for _ in states]
    attrs = _op_attrs(m, kind, directions)
    for layer in range(layers):
        per_direction = []
        for direction in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if direction else "")
            per_direction.append(tuple(getattr(m, f"{p}{sfx}", None) for p in
                                       ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
        w = _weights(g, kind, hidden, per_direction)
        if len(w) == 2:
            w.append("")
        inits = ["" if s is None else g.slice(s, [layer * directions], [(layer + 1) * directions], [0])
                 for s in states]
        outs = g.node(kind, [x] + w + [""] + inits, outputs=1 + len(states), **attrs)
        y = outs[0]  # (L, D, N, H)
        if directions == 1:
            x = g.squeeze(y, [1])
        else:
            x = g.node("Reshape", [g.node("Transpose", [y], perm=[0, 2, 1, 3]), g.ints([0, 0, -1])])
        for acc, name in zip(finals, outs[1:]):
            acc.append(name)
    out = x
    if not batched:
        out = g.squeeze(out, [1])
    elif m.batch_first:
        out = g.node("Transpose", [out], perm=[1, 0, 2])
    results = [out]
    for acc in finals:
        h = acc[0] if len(acc) == 1 else g.node("Concat", acc, axis=0)
        results.append(h if batched else g.squeeze(h, [1]))
    return results


@register_layer(RNNCell, LSTMCell, GRUCell)
def _cell(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    """One step: the sequence op on a length-1 sequence."""
    m = c1.module
    kind = _kind(m)
    batched = c1.args[0].ndim == 2
    x = inp(g, c1, c2)
    x = g.unsqueeze(x, [0] if batched else [0, 1])  # (1, N, I)
    hx1, hx2 = _state(g, c1, c2)
    states: list[str | None] = [None, None] if kind == "LSTM" else [None]
    if hx1 is not None:
        pairs = list(zip(hx1, hx2)) if kind == "LSTM" else [(hx1, hx2)]
        states = [g.unsqueeze(g.value(a, b), [0] if batched else [0, 1]) for a, b in pairs]
    w = _weights(g, kind, m.hidden_size, [(m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh)])
    if len(w) == 2:
        w.append("")
    inits = ["" if s is None else s for s in states]
    outs = g.node(kind, [x] + w + [""] + inits, outputs=1 + len(states), **_op_attrs(m, kind, 1))
    finals = [g.squeeze(h, [0] if batched else [0, 1]) for h in outs[1:]]
    return finals


@register_layer(RNNOutput)
def _rnn_output(g: Graph, c1: LayerCall, c2: LayerCall) -> list:
    """``output`` of ``(output, state)`` (or of a bare ``output``); with ``last_step`` its last step."""
    m = c1.module
    ins1, ins2 = flatten_tensors(c1.args), flatten_tensors(c2.args)
    if not ins1:
        raise ONNXExportError(f"{g.where}: expected the output of a recurrent layer")
    y = g.value(ins1[0], ins2[0])
    if not m.last_step:
        return [y]
    axis = 1 if m.batch_first else 0
    return [g.squeeze(g.slice(y, [-1], [INT64_MAX], [axis]), [axis])]
