"""The Transformer (Vaswani et al., 2017) as PyTorch's: encoder and decoder layers and stacks, and ``Transformer``.

Arguments, sub-module names, masks and state dict keys match PyTorch's: ``self_attn.in_proj_weight``,
``linear1.weight``, ``norm1.weight``... and, in a stack, ``layers.0.self_attn.in_proj_weight``... (the
layers are deep copies of the one given, so they start with equal weights, as in PyTorch).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from . import functional as F
from . import init
from ._layers import check_bool, check_float, check_int
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = [
    "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer",
]

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation_name(owner: str, activation: Any) -> str | None:
    """'relu' / 'gelu' for those names or functions; None for a Module (used as a sub-module)."""
    if isinstance(activation, str) and activation in _ACTIVATIONS:
        return activation
    for name, fn in _ACTIVATIONS.items():
        if activation is fn:
            return name
    if isinstance(activation, Module):
        return None
    raise ValueError(f"{owner}: activation must be 'relu', 'gelu', F.relu, F.gelu or a Module instance "
                     f"(so the model can be saved as a config), received {activation!r}")


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and layer norm.

    Args:
        d_model: feature size ``E``. nhead: attention heads (divides ``E``).
        dim_feedforward: hidden size of the feed-forward block (default 2048).
        dropout: after attention, inside and after the feed-forward block, and on the attention weights.
        activation: ``'relu'`` (default), ``'gelu'``, ``F.relu``/``F.gelu`` or a Module instance.
        layer_norm_eps: the norms' eps. batch_first: ``(N, S, E)`` instead of ``(S, N, E)``.
        norm_first: pre-norm (``x + sa(norm1(x))``) instead of post-norm (``norm1(x + sa(x))``).
        bias: learn the biases of the linear layers and norms.

    Shapes (``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``):
        src ``(S, N, E)`` (batch first: ``(N, S, E)``) or unbatched ``(S, E)``; src_mask ``(S, S)`` or
        ``(N*nhead, S, S)``; src_key_padding_mask ``(N, S)`` (True = padding). Output: the shape of ``src``.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Any = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True) -> None:
        super().__init__()
        owner = "TransformerEncoderLayer"
        d_model = check_int(owner, "d_model", d_model)
        dim_feedforward = check_int(owner, "dim_feedforward", dim_feedforward)
        dropout = check_float(owner, "dropout", dropout, 0.0, 1.0)
        name = _activation_name(owner, activation)
        if name is not None and not isinstance(activation, str):
            self._init_args["activation"] = name  # record the function by name, so the config stays JSON
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = check_bool(owner, "norm_first", norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.batch_first = check_bool(owner, "batch_first", batch_first)
        self.activation_name = name
        if name is None:
            self.activation = activation  # a sub-module, as in PyTorch

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any) -> Tensor:
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False)[0]
        return self.dropout1(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        act = self.activation if self.activation_name is None else _ACTIVATIONS[self.activation_name]
        return self.dropout2(self.linear2(self.dropout(act(self.linear1(x)))))

    def forward(self, src: Tensor, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False) -> Tensor:
        if is_causal and src_mask is None:
            self._input_error("is_causal=True is only a hint: pass the causal src_mask too (as PyTorch)")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask))
        return self.norm2(x + self._ff_block(x))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer``, then an optional final ``norm``.

    Args:
        encoder_layer: a :class:`TransformerEncoderLayer` (deep-copied ``num_layers`` times).
        num_layers: how many layers. norm: a module applied to the output (e.g. ``LayerNorm``), or None.
        enable_nested_tensor, mask_check: accepted for PyTorch compatibility (nested tensors are a
            PyTorch speed path; outputs at padded positions are computed rather than zeroed).

    Shapes (``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``): as the layer's.
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        owner = "TransformerEncoder"
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"{owner}: encoder_layer must be a Module, received {type(encoder_layer).__name__}")
        self.num_layers = check_int(owner, "num_layers", num_layers)
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(self.num_layers)])
        if norm is not None and not isinstance(norm, Module):
            raise TypeError(f"{owner}: norm must be a Module or None, received {type(norm).__name__}")
        self.norm = norm
        self.enable_nested_tensor = check_bool(owner, "enable_nested_tensor", enable_nested_tensor)
        self.mask_check = check_bool(owner, "mask_check", mask_check)

    def forward(self, src: Tensor, mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool | None = None) -> Tensor:
        if is_causal and mask is None:
            self._input_error("is_causal=True is only a hint: pass the causal mask too (as PyTorch)")
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask)
        return self.norm(out) if self.norm is not None else out


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output (``memory``), then a feed-forward block; each
    with a residual connection and layer norm.

    Args: as :class:`TransformerEncoderLayer`.

    Shapes (``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``):
        tgt ``(T, N, E)``, memory ``(S, N, E)`` (batch first: ``(N, T, E)``, ``(N, S, E)``); tgt_mask ``(T, T)``,
        memory_mask ``(T, S)``; key padding masks ``(N, T)`` and ``(N, S)``. Output: the shape of ``tgt``.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Any = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True) -> None:
        super().__init__()
        owner = "TransformerDecoderLayer"
        d_model = check_int(owner, "d_model", d_model)
        dim_feedforward = check_int(owner, "dim_feedforward", dim_feedforward)
        dropout = check_float(owner, "dropout", dropout, 0.0, 1.0)
        name = _activation_name(owner, activation)
        if name is not None and not isinstance(activation, str):
            self._init_args["activation"] = name  # record the function by name, so the config stays JSON
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = check_bool(owner, "norm_first", norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.batch_first = check_bool(owner, "batch_first", batch_first)
        self.activation_name = name
        if name is None:
            self.activation = activation

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any) -> Tensor:
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False)[0]
        return self.dropout1(out)

    def _mha_block(self, x: Tensor, mem: Tensor, attn_mask: Any, key_padding_mask: Any) -> Tensor:
        out = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                  need_weights=False)[0]
        return self.dropout2(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        act = self.activation if self.activation_name is None else _ACTIVATIONS[self.activation_name]
        return self.dropout3(self.linear2(self.dropout(act(self.linear1(x)))))

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        if (tgt_is_causal and tgt_mask is None) or (memory_is_causal and memory_mask is None):
            self._input_error("tgt_is_causal/memory_is_causal are only hints: pass the causal masks too (as PyTorch)")
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask))
        return self.norm3(x + self._ff_block(x))


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer``, then an optional final ``norm``.

    Shapes (``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``): as the layer's.
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        owner = "TransformerDecoder"
        if not isinstance(decoder_layer, Module):
            raise TypeError(f"{owner}: decoder_layer must be a Module, received {type(decoder_layer).__name__}")
        self.num_layers = check_int(owner, "num_layers", num_layers)
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(self.num_layers)])
        if norm is not None and not isinstance(norm, Module):
            raise TypeError(f"{owner}: norm must be a Module or None, received {type(norm).__name__}")
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        if (tgt_is_causal and tgt_mask is None) or (memory_is_causal and memory_mask is None):
            self._input_error("tgt_is_causal/memory_is_causal are only hints: pass the causal masks too (as PyTorch)")
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask)
        return self.norm(out) if self.norm is not None else out


class Transformer(Module):
    """The encoder-decoder Transformer: ``TransformerEncoder`` and ``TransformerDecoder`` with final norms.

    Args:
        d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
        bias: as the layers (defaults 512, 8, 2048, 0.1, 'relu', 1e-5, False, False, True).
        num_encoder_layers, num_decoder_layers: stack depths (default 6 each).
        custom_encoder, custom_decoder: modules used instead of the built stacks.

    Every parameter with more than one dimension is re-initialised with xavier_uniform_, as PyTorch.

    Shapes (``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False)``): src ``(S, N, E)``, tgt ``(T, N, E)`` (batch first: ``(N, S, E)``...).
    Output: ``(T, N, E)``.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation: Any = "relu",
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True) -> None:
        super().__init__()
        name = _activation_name("Transformer", activation)
        if name is not None and not isinstance(activation, str):
            self._init_args["activation"] = name
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, LayerNorm(d_model, layer_norm_eps, bias=bias))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, LayerNorm(d_model, layer_norm_eps, bias=bias))
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """A ``(sz, sz)`` float mask: ``-inf`` above the diagonal (the future), 0 elsewhere, as PyTorch."""
        mask = np.triu(np.full((sz, sz), -np.inf, dtype=np.float32), k=1)
        return Tensor._wrap(mask if dtype is None else mask.astype(np.dtype(getattr(dtype, "numpy", dtype))))

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Any = None, tgt_mask: Any = None, memory_mask: Any = None,
                src_key_padding_mask: Any = None, tgt_key_padding_mask: Any = None,
                memory_key_padding_mask: Any = None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
