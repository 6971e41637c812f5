"""Ranking, embedding and likelihood losses, as PyTorch's, written with Tensor operations.

``margin_ranking_loss``, ``hinge_embedding_loss``, ``soft_margin_loss``, ``multilabel_soft_margin_loss``,
``cosine_embedding_loss``, ``triplet_margin_loss``, ``poisson_nll_loss`` and ``gaussian_nll_loss``. Each
is a few differentiable Tensor ops (so its gradients follow from theirs); ``reduction`` is ``'mean'``
(default), ``'sum'`` or ``'none'``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...core.tensor import Tensor, as_tensor
from .activation import logsigmoid, relu, softplus
from .distance import pairwise_distance
from .loss import reduction_mode

__all__ = [
    "cosine_embedding_loss", "gaussian_nll_loss", "hinge_embedding_loss", "margin_ranking_loss",
    "multilabel_soft_margin_loss", "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss",
]


def _t(x: Any, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if like is not None and arr.dtype != like.data.dtype:
        arr = arr.astype(like.data.dtype)
    return as_tensor(arr)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0, size_average: Any = None,
                        reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``max(0, -y * (x1 - x2) + margin)`` with ``y`` in {1, -1}. Inputs and target: ``(N,)`` or ``()``."""
    red = reduction_mode("margin_ranking_loss", reduction, size_average, reduce)
    x1 = _t(input1)
    y = _t(target, x1)
    return _reduce(relu(-y * (x1 - _t(input2, x1)) + margin), red)


def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1``. Input and target: ``(*)``."""
    red = reduction_mode("hinge_embedding_loss", reduction, size_average, reduce)
    x = _t(input)
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    not_pos = as_tensor((y != 1).astype(x.data.dtype))
    not_neg = as_tensor((y != -1).astype(x.data.dtype))
    return _reduce(relu(margin - x) * not_pos + x * not_neg, red)


def soft_margin_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y * x))`` with ``y`` in {1, -1}, averaged over all elements. Input and target: ``(*)``."""
    red = reduction_mode("soft_margin_loss", reduction, size_average, reduce)
    x = _t(input)
    return _reduce(softplus(-_t(target, x) * x), red)


def multilabel_soft_margin_loss(input: Tensor, target: Any, weight: Any = None, size_average: Any = None,
                                reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Multi-label one-versus-all loss: ``-(y log sigmoid(x) + (1 - y) log sigmoid(-x))``, (weighted) mean
    over the ``C`` classes. Input and target: ``(N, C)``; weight: ``(C,)``; Output: scalar or ``(N,)``."""
    red = reduction_mode("multilabel_soft_margin_loss", reduction, size_average, reduce)
    x = _t(input)
    y = _t(target, x)
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * _t(weight, x)
    return _reduce(loss.mean(dim=-1), red)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0, size_average: Any = None,
                          reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where ``y == -1``.

    Inputs: ``(N, D)`` or ``(D,)``; target: ``(N,)`` or ``()``; cosine as PyTorch's (squared norms + 1e-12).
    """
    red = reduction_mode("cosine_embedding_loss", reduction, size_average, reduce)
    x1 = _t(input1)
    x2 = _t(input2, x1)
    eps = 1e-12
    dot = (x1 * x2).sum(dim=-1)
    cos = dot / (((x1 * x1).sum(dim=-1) + eps) * ((x2 * x2).sum(dim=-1) + eps)).sqrt()
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    pos = as_tensor((y == 1).astype(x1.data.dtype))
    neg = as_tensor((y == -1).astype(x1.data.dtype))
    return _reduce((1 - cos) * pos + relu(cos - margin) * neg, red)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the pairwise ``p``-norm distance (Schroff et al., 2015).

    ``swap``: use ``min(d(a, n), d(p, n))`` for the negative distance. Inputs: ``(N, D)`` or ``(D,)``.
    """
    red = reduction_mode("triplet_margin_loss", reduction, size_average, reduce)
    a, pos, neg = _t(anchor), _t(positive), _t(negative)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_swap = pairwise_distance(pos, neg, p, eps)
        d_neg = d_neg.minimum(d_swap)
    return _reduce(relu(d_pos - d_neg + margin), red)


def poisson_nll_loss(input: Tensor, target: Any, log_input: bool = True, full: bool = False, size_average: Any = None,
                     eps: float = 1e-8, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: ``exp(x) - y * x`` (``log_input``) or ``x - y * log(x + eps)``;
    ``full`` adds Stirling's ``y log y - y + log(2 pi y) / 2`` where ``y > 1``. Input and target: ``(*)``."""
    red = reduction_mode("poisson_nll_loss", reduction, size_average, reduce)
    x = _t(input)
    y = _t(target, x)
    loss = x.exp() - y * x if log_input else x - y * (x + eps).log()
    if full:
        yd = y.data
        safe = np.where(yd > 1, yd, 1)
        stirling = np.where(yd > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * math.pi * safe), 0)
        loss = loss + as_tensor(stirling.astype(x.data.dtype))
    return _reduce(loss, red)


def gaussian_nll_loss(input: Tensor, target: Any, var: Any, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood ``(log(var) + (x - y)^2 / var) / 2`` (``+ log(2 pi) / 2`` with ``full``).

    ``var`` is clamped at ``eps`` for the value only (the gradient passes as in PyTorch); it has the input's
    shape, or one dimension fewer, or a last dimension of 1 (one variance per sample).
    """
    red = reduction_mode("gaussian_nll_loss", reduction)
    x = _t(input)
    y, v = _t(target, x), _t(var, x)
    if v.shape != x.shape:
        if v.ndim == x.ndim - 1 and tuple(v.shape) == tuple(x.shape[:-1]):
            v = v.unsqueeze(-1)
        elif not (v.ndim == x.ndim and tuple(v.shape[:-1]) == tuple(x.shape[:-1]) and v.shape[-1] == 1):
            raise ValueError(f"gaussian_nll_loss: var of shape {tuple(v.shape)} does not match input {tuple(x.shape)}")
    if np.any(v.data < 0):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    v = v + as_tensor((np.maximum(v.data, eps) - v.data).astype(v.data.dtype))  # clamp the value, keep the gradient
    diff = x - y
    loss = 0.5 * (v.log() + diff * diff / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, red)
