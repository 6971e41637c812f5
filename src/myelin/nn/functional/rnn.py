"""Recurrent layers as graph nodes: a whole sequence, forward and back-propagation through
time, is one node per layer and direction (as cuDNN does), computed by the optimised NumPy kernels of
``_fast/rnn_kernels.py`` (readable step-by-step twins: :mod:`myelin.nn.reference.rnn`).

The heavy node's outputs (the output sequence and the final states) are exposed as light
"routing" children: each hands its gradient to the heavy node, which runs the whole BPTT once
with all of them. Under ``no_grad`` (or when nothing requires grad) no graph is built and the
kernels keep no activations.

Layer functions take one direction of one layer with PyTorch's weight layouts::

    output, h_n, c_n = lstm_layer(x, (h0, c0), w_ih, w_hh, b_ih, b_hh)   # x (L, N, I)
    output, h_n = gru_layer(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=True)
    h1, c1 = lstm_cell(x_t, (h, c), w_ih, w_hh, b_ih, b_hh)               # x_t (N, I)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...autograd.grad_mode import STATE
from ...core.node import make_node
from ...core.tensor import Tensor
from .. import reference
from ..reference._switch import STATE as _REFERENCE
from ._fast import rnn_kernels as K

__all__ = ["gru_cell", "gru_layer", "lstm_cell", "lstm_layer", "rnn_cell", "rnn_layer"]

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_STATE_NAMES = ("h_n", "c_n")


def _check(op: str, x: Tensor, states: Sequence[Tensor | None], w_ih: Tensor, w_hh: Tensor,
           b_ih: Tensor | None, b_hh: Tensor | None, w_hr: Tensor | None = None) -> None:
    """Shape checks naming both sides (the modules give friendlier messages first)."""
    if x.ndim != 3:
        raise ValueError(f"{op}: expected input of shape (L, N, input_size), got {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, received dtype {x.dtype}")
    gates = _GATES[op.split("_")[0]]
    if w_hr is not None:  # LSTM with a projection: h has P entries, c has H
        if w_hr.ndim != 2 or w_hh.ndim != 2 or tuple(w_hh.shape) != (gates * w_hr.shape[1], w_hr.shape[0]):
            raise ValueError(f"{op}: expected weight_hh of shape (4*H, P) and weight_hr of shape (P, H), got "
                             f"{tuple(w_hh.shape)} and {tuple(w_hr.shape)}")
        P, H = w_hr.shape
        sizes = (P, H)
    else:
        if w_hh.ndim != 2 or w_hh.shape[0] != gates * w_hh.shape[1]:
            raise ValueError(f"{op}: expected weight_hh of shape ({gates}*H, H), got {tuple(w_hh.shape)}")
        H = w_hh.shape[1]
        sizes = (H, H)
    if tuple(w_ih.shape) != (gates * H, x.shape[2]):
        raise ValueError(f"{op}: expected weight_ih of shape {(gates * H, x.shape[2])}, got {tuple(w_ih.shape)}")
    for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if b is not None and tuple(b.shape) != (gates * H,):
            raise ValueError(f"{op}: expected {name} of shape {(gates * H,)}, got {tuple(b.shape)}")
    for name, s, size in zip(("h0", "c0"), states, sizes):
        if s is not None and tuple(s.shape) != (x.shape[1], size):
            raise ValueError(f"{op}: expected {name} of shape {(x.shape[1], size)}, got {tuple(s.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{op}: expected a sequence of length at least 1, got input of shape {tuple(x.shape)}")


def _sequence_node(
    op: str, forward: Callable[..., Any], backward: Callable[..., Any], x: Tensor,
    states: list[Tensor | None], weights: list[Tensor | None], reverse: bool, **kwargs: Any,
) -> list[Tensor]:
    """Run a whole-sequence kernel as one graph node; returns ``[output, *final_states]``."""
    tensors = [x, *states, *weights]
    present = tuple(t for t in tensors if t is not None)
    record = STATE.enabled and any(t.requires_grad for t in present)
    xd = x.data[::-1] if reverse else x.data
    arrays = [None if t is None else t.data for t in (*states, *weights)]
    out, finals, ctx = forward(xd, *arrays, keep=record, **kwargs)
    if reverse:
        out = out[::-1]
    if not record:
        return [Tensor._wrap(out), *(Tensor._wrap(f) for f in finals)]

    stash: dict[int, np.ndarray] = {}

    def bptt(_: np.ndarray) -> tuple:
        g_out = stash.pop(0, None)
        if g_out is not None and reverse:
            g_out = g_out[::-1]
        g_states = [stash.pop(k + 1, None) for k in range(len(finals))]
        need = tuple(t is not None and t.requires_grad for t in tensors)
        dx, d_states, *d_weights = backward(ctx, g_out, g_states, need)
        if dx is not None and reverse:
            dx = dx[::-1]
        grads = (dx, *d_states, *d_weights)
        return tuple(g for g, t in zip(grads, tensors) if t is not None)

    dt = xd.dtype
    core = make_node(np.zeros((), dt), present, bptt, op)
    zero = np.zeros((), dt)

    def route(slot: int) -> Callable[[np.ndarray], tuple]:
        def give(g: np.ndarray) -> tuple:
            stash[slot] = g
            return (zero,)
        return give

    results = [make_node(out, (core,), route(0), f"{op}_output")]
    for k, f in enumerate(finals):
        results.append(make_node(f, (core,), route(k + 1), f"{op}_{_STATE_NAMES[k]}"))
    return results


def rnn_layer(
    input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None, nonlinearity: str = "tanh", reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One Elman RNN layer, one direction: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Shapes: input ``(L, N, I)``, hx ``(N, H)`` or None (zeros), w_ih ``(H, I)``, w_hh ``(H, H)``,
    biases ``(H,)``. Returns output ``(L, N, H)`` and h_n ``(N, H)``. ``reverse=True`` runs from
    the last step to the first (the backward direction of a bidirectional layer).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_layer: nonlinearity must be 'tanh' or 'relu', received {nonlinearity!r}")
    _check("rnn_layer", input, [hx], w_ih, w_hh, b_ih, b_hh)
    if _REFERENCE.enabled:
        return reference.sequence(reference.rnn_cell, input, _zeros_if_none(hx, input, w_hh.shape[1]), w_ih, w_hh,
                                  b_ih, b_hh, reverse=reverse, nonlinearity=nonlinearity)
    out, h_n = _sequence_node("rnn_" + nonlinearity, K.rnn_forward, K.rnn_backward, input, [hx],
                              [w_ih, w_hh, b_ih, b_hh], reverse, nonlinearity=nonlinearity)
    return out, h_n


def lstm_layer(
    input: Tensor, hx: tuple[Tensor | None, Tensor | None] | None, w_ih: Tensor, w_hh: Tensor,
    b_ih: Tensor | None = None, b_hh: Tensor | None = None, reverse: bool = False, w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer, one direction, PyTorch's gates (i, f, g, o).

    Shapes: input ``(L, N, I)``, hx ``(h0, c0)`` each ``(N, H)`` (or None: zeros), w_ih ``(4H, I)``,
    w_hh ``(4H, H)``, biases ``(4H,)``. Returns output ``(L, N, H)``, h_n and c_n ``(N, H)``.
    With ``w_hr (P, H)`` (PyTorch's ``proj_size``), ``h_t = W_hr (o_t tanh(c_t))``: w_hh is
    ``(4H, P)``, h0, h_n and the output have ``P`` features, c0 and c_n keep ``H``.
    """
    h0, c0 = (None, None) if hx is None else hx
    _check("lstm_layer", input, [h0, c0], w_ih, w_hh, b_ih, b_hh, w_hr)
    if _REFERENCE.enabled:
        state = (_zeros_if_none(h0, input, w_hh.shape[1]), _zeros_if_none(c0, input, w_ih.shape[0] // 4))
        out, (h_n, c_n) = reference.sequence(reference.lstm_cell, input, state, w_ih, w_hh, b_ih, b_hh, w_hr,
                                             reverse=reverse)
        return out, h_n, c_n
    weights = [w_ih, w_hh, b_ih, b_hh] if w_hr is None else [w_ih, w_hh, b_ih, b_hh, w_hr]
    out, h_n, c_n = _sequence_node("lstm", K.lstm_forward, K.lstm_backward, input, [h0, c0], weights, reverse)
    return out, h_n, c_n


def gru_layer(
    input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None, reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One GRU layer, one direction, PyTorch's gates (r, z, n) and formula
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) n + z h``.

    Shapes: input ``(L, N, I)``, hx ``(N, H)`` or None, w_ih ``(3H, I)``, w_hh ``(3H, H)``,
    biases ``(3H,)``. Returns output ``(L, N, H)`` and h_n ``(N, H)``.
    """
    _check("gru_layer", input, [hx], w_ih, w_hh, b_ih, b_hh)
    if _REFERENCE.enabled:
        return reference.sequence(reference.gru_cell, input, _zeros_if_none(hx, input, w_hh.shape[1]), w_ih, w_hh,
                                  b_ih, b_hh, reverse=reverse)
    out, h_n = _sequence_node("gru", K.gru_forward, K.gru_backward, input, [hx],
                              [w_ih, w_hh, b_ih, b_hh], reverse)
    return out, h_n


def _zeros_if_none(state: Tensor | None, input: Tensor, size: int) -> Tensor:
    """The initial state for the reference path: zeros ``(N, size)`` when none is given."""
    return Tensor(np.zeros((input.shape[1], size), input.dtype)) if state is None else state


def _step_input(op: str, input: Tensor) -> Tensor:
    if input.ndim != 2:
        raise ValueError(f"{op}: expected input of shape (N, input_size), got {tuple(input.shape)}")
    return input.unsqueeze(0)


def rnn_cell(
    input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None, nonlinearity: str = "tanh",
) -> Tensor:
    """One Elman RNN step: input ``(N, I)``, hx ``(N, H)`` or None; returns h' ``(N, H)``."""
    _, h1 = rnn_layer(_step_input("rnn_cell", input), hx, w_ih, w_hh, b_ih, b_hh, nonlinearity)
    return h1


def lstm_cell(
    input: Tensor, hx: tuple[Tensor | None, Tensor | None] | None, w_ih: Tensor, w_hh: Tensor,
    b_ih: Tensor | None = None, b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step: input ``(N, I)``, hx ``(h, c)`` each ``(N, H)`` or None; returns ``(h', c')``."""
    _, h1, c1 = lstm_layer(_step_input("lstm_cell", input), hx, w_ih, w_hh, b_ih, b_hh)
    return h1, c1


def gru_cell(
    input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step: input ``(N, I)``, hx ``(N, H)`` or None; returns h' ``(N, H)``."""
    _, h1 = gru_layer(_step_input("gru_cell", input), hx, w_ih, w_hh, b_ih, b_hh)
    return h1
