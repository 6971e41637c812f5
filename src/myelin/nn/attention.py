"""``MultiheadAttention``, as PyTorch's: same arguments, parameter names and layout, init, masks and outputs.

Parameters (PyTorch's state_dict): ``in_proj_weight`` ``(3E, E)`` holding the query, key and value
projections stacked (or ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when ``kdim``/``vdim``
differ from ``E``), ``in_proj_bias`` ``(3E,)``, and ``out_proj`` (a ``Linear(E, E)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.shape import cat
from ..core.tensor import Tensor, as_tensor
from . import init
from ._layers import check_bool, check_float, check_int
from .functional._fast.linear import linear
from .functional.attention import attention_reference, scaled_dot_product_attention
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention"]


def _additive(mask: Any, dtype: np.dtype) -> np.ndarray:
    """A mask as an additive float array: bool True (= not allowed, PyTorch's MHA convention) becomes -inf."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == np.bool_:
        return np.where(m, -np.inf, 0).astype(dtype)
    if m.dtype.kind != "f":
        raise TypeError(f"expected a bool or float mask, got dtype {m.dtype}")
    return m.astype(dtype, copy=False)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017): ``num_heads`` scaled dot-product attentions in parallel.

    Args:
        embed_dim: ``E``, split into ``num_heads`` heads of ``E / num_heads``.
        num_heads: divides ``embed_dim``.
        dropout: dropout on the attention weights (training only).
        bias: learn ``in_proj_bias`` and ``out_proj.bias``.
        add_bias_kv: learn an extra key and value (``bias_k``, ``bias_v``: ``(1, 1, E)``, xavier_normal_)
            appended to every sequence. add_zero_attn: append a zero key and value.
        kdim, vdim: key and value feature sizes (default ``E``).
        batch_first: inputs and outputs are ``(N, L, E)`` instead of ``(L, N, E)``.

    Shapes (``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)``):
        query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)`` (batch first: ``(N, L, E)``...), or
        unbatched ``(L, E)``, ``(S, kdim)``, ``(S, vdim)``. key_padding_mask ``(N, S)``: bool True = ignore
        that key, or float added. attn_mask ``(L, S)`` or ``(N*num_heads, L, S)``: bool True = not allowed,
        or float added. Returns ``(attn_output, attn_weights)``: ``(L, N, E)`` and ``(N, L, S)`` averaged
        over heads (``(N, num_heads, L, S)`` with ``average_attn_weights=False``; None without
        ``need_weights``).

    Attributes:
        in_proj_weight: ``(3E, E)``, xavier_uniform_ (as PyTorch); in_proj_bias: ``(3E,)`` zeros;
        out_proj: ``Linear(E, E)`` with a zero bias.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False) -> None:
        super().__init__()
        owner = "MultiheadAttention"
        self.embed_dim = check_int(owner, "embed_dim", embed_dim)
        self.num_heads = check_int(owner, "num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"{owner}: embed_dim={self.embed_dim} must be divisible by num_heads={self.num_heads}")
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout = check_float(owner, "dropout", dropout, 0.0, 1.0)
        self.batch_first = check_bool(owner, "batch_first", batch_first)
        self.add_zero_attn = check_bool(owner, "add_zero_attn", add_zero_attn)
        add_bias_kv = check_bool(owner, "add_bias_kv", add_bias_kv)
        self.kdim = self.embed_dim if kdim is None else check_int(owner, "kdim", kdim)
        self.vdim = self.embed_dim if vdim is None else check_int(owner, "vdim", vdim)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * e, e), dtype=np.float32))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(np.empty((e, e), dtype=np.float32))
            self.k_proj_weight = Parameter(np.empty((e, self.kdim), dtype=np.float32))
            self.v_proj_weight = Parameter(np.empty((e, self.vdim), dtype=np.float32))
        if check_bool(owner, "bias", bias):
            self.in_proj_bias = Parameter(np.zeros((3 * e,), dtype=np.float32))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(e, e, bias=bias)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, e), dtype=np.float32))
            self.bias_v = Parameter(np.empty((1, 1, e), dtype=np.float32))
        else:
            self.bias_k = self.bias_v = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's ``_reset_parameters``: xavier_uniform_ projections, zero biases (out_proj's weight keeps
        ``Linear``'s init)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def extra_repr(self) -> str:
        s = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if not self._qkv_same_embed_dim:
            s += f", kdim={self.kdim}, vdim={self.vdim}"
        if self.batch_first:
            s += ", batch_first=True"
        return s

    # ------------------------------------------------------------------ forward
    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The query, key and value projections, each ``(N, len, E)``."""
        e, b = self.embed_dim, self.in_proj_bias
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one GEMM for all three
                qkv = linear(query, w, b)
                return qkv[..., :e], qkv[..., e:2 * e], qkv[..., 2 * e:]
            ws = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        bs = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        return linear(query, ws[0], bs[0]), linear(key, ws[1], bs[1]), linear(value, ws[2], bs[2])

    def _extra_keys(self, k: Tensor, v: Tensor, n: int) -> tuple[Tensor, Tensor, int]:
        """Append ``bias_k``/``bias_v`` (``add_bias_kv``) and a zero key/value (``add_zero_attn``), as PyTorch."""
        extra = 0
        e = self.embed_dim
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(n, 1, e)], dim=1)
            v = cat([v, self.bias_v.expand(n, 1, e)], dim=1)
            extra += 1
        if self.add_zero_attn:
            zeros = as_tensor(np.zeros((n, 1, e), dtype=k.data.dtype))
            k, v = cat([k, zeros], dim=1), cat([v, zeros], dim=1)
            extra += 1
        return k, v, extra

    def _mask(self, attn_mask: Any, key_padding_mask: Any, n: int, lq: int, s: int, batched: bool,
              dtype: np.dtype) -> np.ndarray | None:
        """The two masks as one additive array broadcastable to ``(N, H, L, S)``."""
        h = self.num_heads
        total = None
        if attn_mask is not None:
            m = _additive(attn_mask, dtype)
            if m.shape == (lq, s):
                total = m
            elif m.shape == (n * h, lq, s) or (not batched and m.shape == (h, lq, s)):
                total = m.reshape(n, h, lq, s)
            else:
                want = f"({lq}, {s}) or ({n * h}, {lq}, {s})" if batched else f"({lq}, {s}) or ({h}, {lq}, {s})"
                self._input_error(f"expected attn_mask of shape {want}, got {tuple(m.shape)}")
        if key_padding_mask is not None:
            m = _additive(key_padding_mask, dtype)
            want = (n, s) if batched else (s,)
            if m.shape != want:
                self._input_error(f"expected key_padding_mask of shape {want}, got {tuple(m.shape)}")
            m = m.reshape(n, 1, 1, s)
            total = m if total is None else total + m
        return total

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        e, h, d = self.embed_dim, self.num_heads, self.head_dim
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or query.shape[-1] != e:
            self._shape_error(f"query (L, N, {e}), (N, L, {e}) with batch_first, or (L, {e})", query.shape)
        if key.ndim != query.ndim or value.ndim != query.ndim or key.shape[-1] != self.kdim \
                or value.shape[-1] != self.vdim or key.shape[:-1] != value.shape[:-1]:
            self._input_error(f"expected key (..., S, {self.kdim}) and value (..., S, {self.vdim}) shaped like the "
                              f"query {tuple(query.shape)}, got {tuple(key.shape)} and {tuple(value.shape)}")
        if is_causal and attn_mask is None:
            self._input_error("is_causal=True is only a hint: pass the causal attn_mask too (as PyTorch)")
        same = query is key and key is value
        if not batched:
            q_in, k_in, v_in = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        elif self.batch_first:
            q_in, k_in, v_in = query, key, value
        else:
            q_in, k_in, v_in = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        if same:
            k_in = v_in = q_in
        n, lq, s = q_in.shape[0], q_in.shape[1], k_in.shape[1]
        if k_in.shape[0] != n:
            self._input_error(f"query batch {n} differs from key batch {k_in.shape[0]}")
        q, k, v = self._project(q_in, k_in, v_in)
        mask = self._mask(attn_mask, key_padding_mask, n, lq, s, batched, q.data.dtype)
        k, v, extra = self._extra_keys(k, v, n)
        q = q.reshape(n, lq, h, d).transpose(1, 2)
        k = k.reshape(n, s + extra, h, d).transpose(1, 2)
        v = v.reshape(n, s + extra, h, d).transpose(1, 2)
        if mask is not None and extra:  # the appended positions are never masked
            full = np.broadcast_to(mask, mask.shape[:-1] + (s,))
            mask = np.concatenate([full, np.zeros(mask.shape[:-1] + (extra,), dtype=mask.dtype)], axis=-1)
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            out, weights = attention_reference(q, k, v, mask, p)
        else:
            out = scaled_dot_product_attention(q, k, v, mask, p)
        out = linear(out.transpose(1, 2).reshape(n, lq, e), self.out_proj.weight, self.out_proj.bias)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(dim=1)
            if not batched:
                weights = weights.squeeze(0)
        return out, weights
