"""Vector norms between and within tensors: ``normalize`` and ``cosine_similarity`` (one graph node each) and
``pairwise_distance``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._plural import counted
from ...core.node import make_node, unbroadcast
from ...core.tensor import Tensor, as_tensor

__all__ = ["cosine_similarity", "normalize", "pairwise_distance"]


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(x)


def _dim(dim: Any, ndim: int, op: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ValueError(f"{op}: dim {dim!r} is out of range for an input with {counted(ndim, 'dimension')}")
    return int(dim) % max(ndim, 1)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``, as ``torch.nn.functional.normalize``.

    Input: any shape (``dim`` in range); ``p``: a positive finite number. Output: the input's shape.
    """
    op = "normalize"
    if out is not None:
        raise ValueError(f"{op}: out= is not supported; use the returned tensor")
    x = _tensor(input)
    a = x.data
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not (0 < p < math.inf):
        raise ValueError(f"{op}: expected p to be a positive finite number, received {p!r}")
    if a.ndim == 0:
        raise ValueError(f"{op}: expected an input with at least one dimension, received a 0-d tensor")
    ax = _dim(dim, a.ndim, op)
    p = float(p)
    absx = np.abs(a)
    norm = np.sqrt((a * a).sum(axis=ax, keepdims=True)) if p == 2.0 else \
        (absx ** p).sum(axis=ax, keepdims=True) ** (1.0 / p)
    den = np.maximum(norm, a.dtype.type(eps))
    res = a / den

    def backward(g: np.ndarray) -> tuple:
        gx = g / den
        live = norm > eps
        # d norm / dx = sign(x) |x|^(p-1) / norm^(p-1)
        dnorm = a / np.where(live, norm, 1) if p == 2.0 else \
            np.sign(a) * absx ** (p - 1) / np.where(live, norm, 1) ** (p - 1)
        coef = np.where(live, (g * a).sum(axis=ax, keepdims=True) / (den * den), 0)
        gx -= coef * dnorm
        return (gx,)

    return make_node(res, (x,), backward, op)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``, as ``torch.nn.functional.cosine_similarity``.

    ``sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps))``; as in PyTorch, the gradient flows
    through each norm even where ``eps`` clamps it. Inputs broadcast against each other;
    Output: the broadcast shape without ``dim``.
    """
    op = "cosine_similarity"
    t1, t2 = _tensor(x1), _tensor(x2)
    a1, a2 = t1.data, t2.data
    try:
        shape = np.broadcast_shapes(a1.shape, a2.shape)
    except ValueError:
        raise ValueError(f"{op}: inputs of shapes {tuple(a1.shape)} and {tuple(a2.shape)} do not broadcast") from None
    ax = _dim(dim, len(shape), op)
    b1, b2 = np.broadcast_to(a1, shape), np.broadcast_to(a2, shape)
    dt = np.result_type(a1, a2)
    n1 = np.sqrt((b1 * b1).sum(axis=ax, keepdims=True))
    n2 = np.sqrt((b2 * b2).sum(axis=ax, keepdims=True))
    d1, d2 = np.maximum(n1, dt.type(eps)), np.maximum(n2, dt.type(eps))
    dot = (b1 * b2).sum(axis=ax, keepdims=True)
    cos = dot / (d1 * d2)

    def backward(g: np.ndarray) -> tuple:
        gk = np.expand_dims(g, ax)
        gx1 = gx2 = None
        if t1.requires_grad:
            gx1 = gk * (b2 / (d1 * d2) - cos / (d1 * np.where(n1 > 0, n1, 1)) * b1)
            gx1 = unbroadcast(gx1, a1.shape)
        if t2.requires_grad:
            gx2 = gk * (b1 / (d1 * d2) - cos / (d2 * np.where(n2 > 0, n2, 1)) * b2)
            gx2 = unbroadcast(gx2, a2.shape)
        return gx1, gx2

    return make_node(np.squeeze(cos, axis=ax).astype(dt, copy=False), (t1, t2), backward, op)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension, as ``torch.nn.functional.pairwise_distance``.

    Inputs ``(N, D)`` or ``(D,)`` (broadcasting); Output ``(N,)`` (``(N, 1)`` with ``keepdim``).
    """
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not (0 < p < math.inf):
        raise ValueError(f"pairwise_distance: expected p to be a positive finite number, received {p!r}")
    diff = _tensor(x1) - _tensor(x2) + eps
    if p == 2:
        return (diff * diff).sum(dim=-1, keepdim=keepdim).sqrt()
    return (diff.abs() ** float(p)).sum(dim=-1, keepdim=keepdim) ** (1.0 / p)
