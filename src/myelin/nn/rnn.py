"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (multi-layer, bidirectional) and the single-step cells.

Names, arguments, parameter names and shapes, initialisation and return values follow PyTorch,
so ``load_state_dict(torch_model.state_dict())`` works both ways. Each layer and direction runs
as one graph node (see ``functional/rnn.py``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..core.shape import cat, stack
from ..core.tensor import Tensor
from . import functional as F
from . import init
from ._layers import check_bool, check_choice, check_float, check_int
from .functional import rnn as R
from .module import Module
from .parameter import Parameter

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """Shared setup of :class:`RNN`, :class:`LSTM` and :class:`GRU` (PyTorch's ``RNNBase(mode, ...)``).

    Parameters per layer ``k`` and direction: ``weight_ih_l{k}`` ``(G*H, I_k)``, ``weight_hh_l{k}``
    ``(G*H, H)``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(G*H,)`` (suffix ``_reverse`` for the backward
    direction), with ``G`` gates (1, 4, 3), ``I_0 = input_size`` and ``I_k = D*H`` above, ``D = 2``
    when bidirectional. All drawn from U(-1/sqrt(H), 1/sqrt(H)). An LSTM with ``proj_size = P > 0``
    also has ``weight_hr_l{k}`` ``(P, H)``; then ``weight_hh_l{k}`` is ``(4H, P)`` and ``I_k = D*P``.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0) -> None:
        super().__init__()
        name = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
        self.mode = check_choice(name, "mode", mode, tuple(_GATES))
        self.input_size = check_int(name, "input_size", input_size, minimum=1)
        self.hidden_size = check_int(name, "hidden_size", hidden_size, minimum=1)
        self.num_layers = check_int(name, "num_layers", num_layers, minimum=1)
        self.bias = check_bool(name, "bias", bias)
        self.batch_first = check_bool(name, "batch_first", batch_first)
        self.dropout = check_float(name, "dropout", dropout, 0.0, 1.0)
        self.bidirectional = check_bool(name, "bidirectional", bidirectional)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(f"{name}: dropout={self.dropout} acts only between recurrent layers, and num_layers=1",
                          stacklevel=3)
        self.proj_size = check_int(name, "proj_size", proj_size, minimum=0)
        if self.proj_size and self.mode != "LSTM":
            raise ValueError(f"{name}: proj_size is supported only by LSTM, received proj_size={self.proj_size}")
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, received proj_size="
                             f"{self.proj_size} and hidden_size={self.hidden_size}")
        gates, H = _GATES[self.mode], self.hidden_size
        out = self.proj_size or H  # the size of h (and of each direction's output)
        D = 2 if self.bidirectional else 1
        self._weight_names: list[list[str | None]] = []
        for layer in range(self.num_layers):
            layer_in = self.input_size if layer == 0 else out * D
            for direction in range(D):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                names: list[str | None] = [f"weight_ih{sfx}", f"weight_hh{sfx}", None, None]
                setattr(self, names[0], Parameter(np.empty((gates * H, layer_in), np.float32)))
                setattr(self, names[1], Parameter(np.empty((gates * H, out), np.float32)))
                if self.bias:
                    names[2:] = [f"bias_ih{sfx}", f"bias_hh{sfx}"]
                    setattr(self, names[2], Parameter(np.empty((gates * H,), np.float32)))
                    setattr(self, names[3], Parameter(np.empty((gates * H,), np.float32)))
                if self.proj_size:
                    names.append(f"weight_hr{sfx}")
                    setattr(self, names[4], Parameter(np.empty((self.proj_size, H), np.float32)))
                self._weight_names.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ------------------------------------------------------------------ forward
    def _weights(self, index: int) -> list[Tensor | None]:
        d = self.__dict__
        return [None if n is None else d[n] for n in self._weight_names[index]]

    def _check_input(self, input: Any) -> bool:
        """Validate the input's shape; True when it is batched."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._describe()} expected a Tensor input, received {type(input).__name__}")
        shape, I = input.shape, self.input_size
        batched = f"(N, L, {I})" if self.batch_first else f"(L, N, {I})"
        if len(shape) == 3 and shape[2] == I and shape[0] > 0 and shape[1] > 0:
            return True
        if len(shape) == 2 and shape[1] == I and shape[0] > 0:
            return False
        if len(shape) == 3:
            self._shape_error(batched, shape)
        if len(shape) == 2:
            self._shape_error(f"(L, {I})", shape)
        self._shape_error(f"{batched} or unbatched (L, {I})", shape)

    def _check_state(self, name: str, state: Any, batch: int | None) -> Tensor:
        D = 2 if self.bidirectional else 1
        size = self.proj_size if (self.proj_size and name == "h0") else self.hidden_size
        expected = (self.num_layers * D, size) if batch is None else (self.num_layers * D, batch, size)
        if not isinstance(state, Tensor):
            self._input_error(f"expected {name} to be a Tensor of shape {expected}, received {type(state).__name__}")
        if tuple(state.shape) != expected:
            self._input_error(f"expected {name} of shape {expected}, got {tuple(state.shape)}")
        return state if batch is not None else state.unsqueeze(1)

    def _run(self, input: Tensor, states: list[Tensor | None]) -> tuple[Tensor, list[Tensor]]:
        """All layers and directions; ``states`` are ``(num_layers*D, N, H)`` or None."""
        D = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in states]
        x = input
        for layer in range(self.num_layers):
            outs = []
            for direction in range(D):
                k = layer * D + direction
                init_k = [None if s is None else s[k] for s in states]
                out, *fin = self._layer(x, init_k, self._weights(k), direction == 1)
                outs.append(out)
                for acc, f in zip(finals, fin):
                    acc.append(f)
            x = outs[0] if D == 1 else cat(outs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, [stack(f, 0) for f in finals]

    def _layer(self, x: Tensor, states: list[Tensor | None], w: list[Tensor | None], reverse: bool) -> tuple:
        raise NotImplementedError

    def _forward(self, input: Tensor, hx: tuple[Any, ...] | None, names: tuple[str, ...]) -> tuple[Tensor, list]:
        batched = self._check_input(input)
        x = input if batched else input.unsqueeze(1)
        if self.batch_first and batched:
            x = x.transpose(0, 1)
        batch = x.shape[1] if batched else None
        states: list[Tensor | None] = [None] * len(names)
        if hx is not None:
            states = [self._check_state(n, s, batch) for n, s in zip(names, hx)]
        out, finals = self._run(x, states)
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        return out, finals


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ReLU), stacked and
    optionally bidirectional, as PyTorch's ``nn.RNN``.

    Shapes (``D = 2`` if bidirectional else 1):
        Input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, or unbatched ``(L, H_in)``.
        h0: ``(num_layers*D, N, H)`` (``(num_layers*D, H)`` unbatched), zeros when omitted.
        Output: ``(output, h_n)``: output ``(L, N, D*H)`` (batch_first: ``(N, L, D*H)``), h_n like h0.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False) -> None:
        check_choice("RNN", "nonlinearity", nonlinearity, ("tanh", "relu"))
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional)

    def _layer(self, x: Tensor, states: list[Tensor | None], w: list[Tensor | None], reverse: bool) -> tuple:
        return R.rnn_layer(x, states[0], *w, nonlinearity=self.nonlinearity, reverse=reverse)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out, (h_n,) = self._forward(input, None if hx is None else (hx,), ("h0",))
        return out, h_n


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's ``nn.LSTM`` (gates i, f, g, o;
    ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``).

    Shapes (``D = 2`` if bidirectional else 1):
        Input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, or unbatched ``(L, H_in)``.
        hx: ``(h0, c0)``, each ``(num_layers*D, N, H)`` (unbatched ``(num_layers*D, H)``), zeros when omitted.
        Output: ``(output, (h_n, c_n))``: output ``(L, N, D*H)`` (batch_first: ``(N, L, D*H)``).

    ``proj_size = P > 0`` (as PyTorch's): ``h_t = W_hr (o_t tanh(c_t))`` has ``P`` features, so h0,
    h_n and the output use ``P`` where the shapes above say ``H``; c0 and c_n keep ``H``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size)

    def _layer(self, x: Tensor, states: list[Tensor | None], w: list[Tensor | None], reverse: bool) -> tuple:
        hx = None if states[0] is None else (states[0], states[1])
        return R.lstm_layer(x, hx, *w[:4], reverse=reverse, w_hr=w[4] if len(w) > 4 else None)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            self._input_error(f"expected hx to be a tuple (h0, c0), received {type(hx).__name__}")
        out, (h_n, c_n) = self._forward(input, None if hx is None else tuple(hx), ("h0", "c0"))
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's ``nn.GRU`` (gates r, z, n;
    ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``, ``h' = (1 - z) n + z h``).

    Shapes as :class:`RNN`: returns ``(output, h_n)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)

    def _layer(self, x: Tensor, states: list[Tensor | None], w: list[Tensor | None], reverse: bool) -> tuple:
        return R.gru_layer(x, states[0], *w, reverse=reverse)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out, (h_n,) = self._forward(input, None if hx is None else (hx,), ("h0",))
        return out, h_n


# ============================================================================ cells
class RNNCellBase(Module):
    """Shared setup of the cells: ``weight_ih (G*H, input_size)``, ``weight_hh (G*H, H)``,
    ``bias_ih``, ``bias_hh (G*H,)``, all from U(-1/sqrt(H), 1/sqrt(H))."""

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = check_int(name, "input_size", input_size, minimum=1)
        self.hidden_size = check_int(name, "hidden_size", hidden_size, minimum=1)
        G = self._gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((G, self.input_size), np.float32))
        self.weight_hh = Parameter(np.empty((G, self.hidden_size), np.float32))
        if check_bool(name, "bias", bias):
            self.bias_ih = Parameter(np.empty((G,), np.float32))
            self.bias_hh = Parameter(np.empty((G,), np.float32))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias_ih is None:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s

    def _weights(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _check_input(self, input: Any) -> bool:
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._describe()} expected a Tensor input, received {type(input).__name__}")
        shape = input.shape
        if len(shape) == 2 and shape[1] == self.input_size:
            return True
        if len(shape) == 1 and shape[0] == self.input_size:
            return False
        self._shape_error(f"(N, {self.input_size}) or unbatched ({self.input_size},)", shape)

    def _check_state(self, name: str, state: Any, input: Tensor, batched: bool) -> Tensor:
        expected = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if not isinstance(state, Tensor):
            self._input_error(f"expected {name} to be a Tensor of shape {expected}, received {type(state).__name__}")
        if tuple(state.shape) != expected:
            self._input_error(f"expected {name} of shape {expected}, got {tuple(state.shape)}")
        return state if batched else state.unsqueeze(0)


class RNNCell(RNNCellBase):
    """One Elman RNN step: input ``(N, I)`` or ``(I,)``, hx ``(N, H)`` / ``(H,)`` or None -> h' of hx's shape."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh") -> None:
        self.nonlinearity = check_choice("RNNCell", "nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, bias)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check_input(input)
        x = input if batched else input.unsqueeze(0)
        h = None if hx is None else self._check_state("hx", hx, input, batched)
        h1 = R.rnn_cell(x, h, *self._weights(), nonlinearity=self.nonlinearity)
        return h1 if batched else h1.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: input ``(N, I)`` or ``(I,)``, hx ``(h, c)`` each ``(N, H)`` / ``(H,)`` or None
    -> ``(h', c')``."""

    _gates = 4

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        batched = self._check_input(input)
        x = input if batched else input.unsqueeze(0)
        state = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                self._input_error(f"expected hx to be a tuple (h, c), received {type(hx).__name__}")
            state = (self._check_state("h", hx[0], input, batched), self._check_state("c", hx[1], input, batched))
        h1, c1 = R.lstm_cell(x, state, *self._weights())
        return (h1, c1) if batched else (h1.squeeze(0), c1.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: input ``(N, I)`` or ``(I,)``, hx ``(N, H)`` / ``(H,)`` or None -> h'."""

    _gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check_input(input)
        x = input if batched else input.unsqueeze(0)
        h = None if hx is None else self._check_state("hx", hx, input, batched)
        h1 = R.gru_cell(x, h, *self._weights())
        return h1 if batched else h1.squeeze(0)
