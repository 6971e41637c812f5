"""Scaled dot-product attention, ``softmax(q k^T * scale + mask) v``, as one graph node.

The forward keeps the attention probabilities (and the dropout mask); the backward is the
softmax Jacobian written out: ``dS = P * (dP - sum(dP * P))``, then three batched GEMMs give
the query, key and value gradients (and ``dS`` itself is the gradient of a float mask that
requires one). Rows whose every key is masked out give zeros (PyTorch's safe softmax).
Its readable twin, :func:`attention_reference`, spells the same computation with Tensor ops
(it is what ``MultiheadAttention`` uses when the attention weights are asked for).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...core.node import make_node, unbroadcast
from ...core.tensor import Tensor, as_tensor
from ...random import get_rng
from .activation import softmax
from .dropout import dropout as _dropout

__all__ = ["attention_reference", "causal_mask", "scaled_dot_product_attention"]


def causal_mask(length: int, source_length: int) -> np.ndarray:
    """Boolean ``(L, S)`` mask, True where query ``i`` may attend key ``j`` (``j <= i``), as PyTorch's is_causal."""
    return np.tril(np.ones((length, source_length), dtype=bool))


def _additive(mask: Any, dtype: np.dtype, op: str) -> tuple[np.ndarray | None, Tensor | None]:
    """``attn_mask`` as an additive float array (bool True = take part, as PyTorch's SDPA), and
    the mask tensor when its gradient is wanted."""
    if mask is None:
        return None, None
    t = mask if isinstance(mask, Tensor) else None
    m = mask.data if t is not None else np.asarray(mask)
    if m.dtype == np.bool_:
        return np.where(m, 0, -np.inf).astype(dtype), None
    if m.dtype.kind != "f":
        raise TypeError(f"{op}: attn_mask must be bool or float, received dtype {m.dtype}")
    return m.astype(dtype, copy=False), (t if t is not None and t.requires_grad else None)


def _check(q: np.ndarray, k: np.ndarray, v: np.ndarray, op: str) -> None:
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError(f"{op}: expected query (..., L, E), key (..., S, E) and value (..., S, Ev), received "
                         f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{op}: query {tuple(q.shape)} and key {tuple(k.shape)} need the same last dimension, and "
                         f"key and value {tuple(v.shape)} the same sequence length (dimension -2)")
    if q.dtype.kind != "f" or q.dtype != k.dtype or q.dtype != v.dtype:
        raise TypeError(f"{op}: expected query, key and value of one float dtype, received {q.dtype}, {k.dtype}, "
                        f"{v.dtype}")


def _mask_and_scale(q: np.ndarray, k: np.ndarray, attn_mask: Any, is_causal: bool, scale: float | None, op: str
                    ) -> tuple[np.ndarray | None, Tensor | None, Any]:
    ls = (q.shape[-2], k.shape[-2])
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both")
        attn_mask = causal_mask(*ls)
    add, mask_t = _additive(attn_mask, q.dtype, op)
    if add is not None:
        try:
            np.broadcast_shapes(add.shape, q.shape[:-2] + ls)
        except ValueError:
            raise ValueError(f"{op}: attn_mask of shape {tuple(add.shape)} does not broadcast to the attention "
                             f"scores' shape {q.shape[:-2] + ls}") from None
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    return add, mask_t, q.dtype.type(s)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attention of each query over the keys, as ``torch.nn.functional.scaled_dot_product_attention``.

    Args:
        query: ``(..., L, E)``; key: ``(..., S, E)``; value: ``(..., S, Ev)`` (batch dimensions broadcast).
        attn_mask: broadcastable to ``(..., L, S)``: bool (True = may attend) or float (added to the scores;
            its gradient is computed when it requires one).
        dropout_p: dropout on the attention probabilities (always applied when > 0, as PyTorch: pass 0 in eval).
        is_causal: mask out keys after each query (``j > i``); not together with ``attn_mask``.
        scale: multiplies ``q k^T`` (default ``1 / sqrt(E)``).
        enable_gqa: grouped-query attention is not supported (a clear error when True).
    Returns:
        ``(..., L, Ev)``.
    """
    op = "scaled_dot_product_attention"
    if enable_gqa:
        raise ValueError(f"{op}: enable_gqa=True is not supported; repeat the key and value heads "
                         f"(k.repeat_interleave) and call it with enable_gqa=False")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], received {dropout_p}")
    tq, tk, tv = (t if isinstance(t, Tensor) else as_tensor(t) for t in (query, key, value))
    q, k, v = tq.data, tk.data, tv.data
    _check(q, k, v, op)
    add, mask_t, s = _mask_and_scale(q, k, attn_mask, is_causal, scale, op)
    scores = np.matmul(q, np.swapaxes(k, -1, -2))
    scores *= s
    if add is not None:
        if np.broadcast_shapes(add.shape, scores.shape) == scores.shape:
            scores += add
        else:
            scores = scores + add
    top = scores.max(axis=-1, keepdims=True)
    dead = np.isneginf(top)  # every key masked: the row's probabilities are 0
    if dead.any():
        top = np.where(dead, 0, top)
    np.subtract(scores, top, out=scores)
    p = np.exp(scores, out=scores)
    total = p.sum(axis=-1, keepdims=True)
    if dead.any():
        total[dead] = 1
    p /= total
    keep = None
    if dropout_p > 0:
        keep = (get_rng().random(p.shape, dtype=p.dtype) >= dropout_p).astype(p.dtype)
        keep *= p.dtype.type(1.0 / (1.0 - dropout_p)) if dropout_p < 1 else 0
    pd = p if keep is None else p * keep
    out = np.matmul(pd, v)
    parents = (tq, tk, tv) + ((mask_t,) if mask_t is not None else ())

    def backward(g: np.ndarray) -> tuple:
        gv = unbroadcast(np.matmul(np.swapaxes(pd, -1, -2), g), v.shape) if tv.requires_grad else None
        dp = np.matmul(g, np.swapaxes(v, -1, -2))
        if keep is not None:
            dp *= keep
        dp -= np.einsum("...ij,...ij->...i", dp, p)[..., None]  # row sums of dp * p without a temporary
        ds = np.multiply(dp, p, out=dp)
        gm = unbroadcast(ds, mask_t.data.shape) if mask_t is not None and mask_t.requires_grad else None
        gq = gk = None
        if tq.requires_grad:
            gq = np.matmul(ds, k)
            gq *= s
            gq = unbroadcast(gq, q.shape)
        if tk.requires_grad:
            gk = np.matmul(np.swapaxes(ds, -1, -2), q)
            gk *= s
            gk = unbroadcast(gk, k.shape)
        return (gq, gk, gv) + ((gm,) if mask_t is not None else ())

    return make_node(out, parents, backward, op)


def attention_reference(
    query: Tensor, key: Tensor, value: Tensor, attn_mask: Any = None, dropout_p: float = 0.0,
    is_causal: bool = False, scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """The same attention from Tensor ops; returns ``(output, weights)`` with the (dropped-out) weights.

    Rows whose keys are all masked give NaN here (as PyTorch's ``MultiheadAttention`` weights do).
    """
    op = "attention"
    tq, tk, tv = (t if isinstance(t, Tensor) else as_tensor(t) for t in (query, key, value))
    _check(tq.data, tk.data, tv.data, op)
    add, mask_t, s = _mask_and_scale(tq.data, tk.data, attn_mask, is_causal, scale, op)
    scores = (tq @ tk.transpose(-1, -2)) * float(s)
    if mask_t is not None:
        scores = scores + mask_t
    elif add is not None:
        scores = scores + as_tensor(add)
    weights = softmax(scores, dim=-1)
    if dropout_p > 0:
        weights = _dropout(weights, dropout_p)
    return weights @ tv, weights
