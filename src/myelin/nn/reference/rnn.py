"""Recurrent cells as their textbook formulas, and a plain loop over time (twins of the fused kernels).

Each cell is one time step built from Tensor operations, so every gate is a graph node a learner
can print, hook or differentiate. ``sequence`` runs a cell over ``(L, N, I)``, which is all
back-propagation through time is: the graph of the loop, differentiated by the ordinary engine.
Weights use PyTorch's layouts and gate orders (LSTM i, f, g, o; GRU r, z, n).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...core.shape import stack
from ...core.tensor import Tensor
from ._switch import note
from .linear import linear

__all__ = ["gru_cell", "lstm_cell", "rnn_cell", "sequence"]


def rnn_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None, nonlinearity: str = "tanh") -> Tensor:
    """Elman step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU). x ``(N, I)``, h ``(N, H)``."""
    a = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)
    h = a.tanh() if nonlinearity == "tanh" else a.relu()
    note("rnn", a=a, h=h)
    return h


def lstm_cell(x: Tensor, state: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None, w_hr: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """LSTM step, state ``(h, c)`` each ``(N, H)`` (h ``(N, P)`` with the projection ``w_hr (P, H)``).

    Input gate ``i``, forget gate ``f`` and output gate ``o`` are sigmoids (0 = closed, 1 = open);
    ``g`` is the tanh candidate. The cell state is a running sum, ``c' = f c + i g``, so its gradient
    through time is multiplied by ``f`` (close to 1 keeps it alive), not by a squashing derivative.
    """
    h, c = state
    i, f, g, o = (linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)).chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c = f * c + i * g
    h = o * c.tanh()
    if w_hr is not None:
        h = h @ w_hr.T
    note("lstm", i=i, f=f, g=g, o=o, c=c, h=h)
    return h, c


def gru_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """GRU step: reset ``r`` and update ``z`` gates, candidate ``n = tanh(x_n + r * h_n)``,
    ``h' = (1 - z) n + z h``. x ``(N, I)``, h ``(N, H)``."""
    x_r, x_z, x_n = linear(x, w_ih, b_ih).chunk(3, 1)
    h_r, h_z, h_n = linear(h, w_hh, b_hh).chunk(3, 1)
    r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    h = (1 - z) * n + z * h
    note("gru", r=r, z=z, n=n, h=h)
    return h


def sequence(cell: Callable[..., Any], x: Tensor, state: Any, *weights: Any, reverse: bool = False,
             **options: Any) -> tuple[Tensor, Any]:
    """Run ``cell`` over the time steps of ``x (L, N, I)`` from ``state``; returns ``(output (L, N, H), state)``.

    ``reverse=True`` walks from the last step to the first (the second direction of a bidirectional
    layer); the output stays in time order. The state is ``h`` or, for the LSTM, ``(h, c)``.
    """
    outputs = [None] * x.shape[0]
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in steps:
        state = cell(x[t], state, *weights, **options)
        outputs[t] = state[0] if isinstance(state, tuple) else state
    return stack(outputs, 0), state
