"""Embedding lookup (with a scatter-add backward) and one-hot encoding."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core.node import make_node
from ...core.tensor import Tensor

__all__ = ["embedding", "one_hot"]


def _indices(op: str, indices: Any) -> np.ndarray:
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, received dtype {idx.dtype}")
    return idx


def _scatter_rows(shape: tuple[int, ...], idx: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``out[idx[k]] += rows[k]`` into zeros of ``shape``: sort + reduceat (np.add.at for few rows)."""
    out = np.zeros(shape, dtype=rows.dtype)
    m = idx.shape[0]
    if m <= 64:
        np.add.at(out, idx, rows)
        return out
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    first = np.empty(m, dtype=bool)
    first[0] = True
    np.not_equal(sorted_idx[1:], sorted_idx[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    out[sorted_idx[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by integer ``input``.

    Input: integer indices ``(*)`` in ``[0, num_embeddings)``; weight: ``(num_embeddings, embedding_dim)``;
    Output: ``(*, embedding_dim)``. The row at ``padding_idx`` gets no gradient; ``max_norm`` renormalises
    the looked-up rows of ``weight`` in place (as PyTorch); ``scale_grad_by_freq`` divides each row's
    gradient by its count in the batch. Gradients are dense (``sparse=True`` is not supported).
    """
    op = "embedding"
    if sparse:
        raise ValueError(f"{op}: sparse gradients are not supported; use sparse=False")
    idx = _indices(op, input)
    w = weight
    table = w.data
    if table.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), received {tuple(table.shape)}")
    n_emb = table.shape[0]
    if padding_idx is not None:
        if not -n_emb <= padding_idx < n_emb:
            raise ValueError(f"{op}: padding_idx {padding_idx} is out of range for {n_emb} embeddings")
        padding_idx %= n_emb
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= n_emb:
            bad = int(lo) if lo < 0 else int(hi)
            raise IndexError(f"{op}: index {bad} is out of range for {n_emb} embeddings (weight {tuple(table.shape)})")
    if max_norm is not None:
        rows = np.unique(idx)
        norms = np.linalg.norm(table[rows], ord=norm_type, axis=1)
        big = norms > max_norm
        if big.any():
            table[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(table.dtype)
    out = np.take(table, idx, axis=0)

    def backward(g: np.ndarray) -> tuple:
        flat = idx.reshape(-1)
        rows = g.reshape(-1, table.shape[1])
        if scale_grad_by_freq:
            counts = np.bincount(flat, minlength=n_emb)
            rows = rows / counts[flat][:, None].astype(rows.dtype)
        gw = _scatter_rows(table.shape, flat, rows)
        if padding_idx is not None:
            gw[padding_idx] = 0
        return (gw,)

    return make_node(out, (w,), backward, op)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Integer labels ``(*)`` as int64 one-hot vectors ``(*, num_classes)`` (no gradient).

    ``num_classes=-1`` infers ``max(labels) + 1``.
    """
    t = _indices("one_hot", tensor)
    if num_classes == -1:
        if t.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
        num_classes = int(t.max()) + 1
    if t.size:
        lo, hi = int(t.min()), int(t.max())
        if lo < 0 or hi >= num_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(f"one_hot: label {bad} is out of range for num_classes={num_classes}")
    out = np.zeros(t.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, t[..., None].astype(np.intp), 1, axis=-1)
    return Tensor._wrap(out)
