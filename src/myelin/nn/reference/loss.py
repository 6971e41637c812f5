"""Cross-entropy from logits, written step by step (twin of the fused ``F.cross_entropy``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core.tensor import Tensor, as_tensor

__all__ = ["cross_entropy"]


def cross_entropy(input: Tensor, target: Any, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """``-sum_c q_c w_c log softmax(z)_c`` per sample, ``q`` the (smoothed) one-hot or given probabilities.

    Input: logits ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``. Target: class indices ``(N, d1, ...)``
    (``ignore_index`` skipped) or class probabilities shaped like the input. ``reduction='mean'``
    divides by the summed weight of the counted samples (class targets) or by the sample count.
    """
    z = input.unsqueeze(0) if input.ndim == 1 else input
    C = z.shape[1]
    z = z.permute(0, *range(2, z.ndim), 1)                                   # classes last: (N, ..., C)
    log_p = z - z.max(-1, keepdim=True)[0].detach()                          # shift: exp cannot overflow
    log_p = log_p - log_p.exp().sum(-1, keepdim=True).log()                  # log softmax
    w = as_tensor(np.ones(C, z.dtype) if weight is None else weight)
    t = target if isinstance(target, Tensor) else as_tensor(np.asarray(target))
    if t.dtype.kind == "f":                                                  # class probabilities
        q = t.unsqueeze(0) if input.ndim == 1 else t
        q = q.permute(0, *range(2, q.ndim), 1)
        keep, count = None, float(np.prod(q.shape[:-1]))
    else:                                                                    # class indices
        t = t.data.reshape(z.shape[:-1])
        keep = t != ignore_index
        q = as_tensor((np.where(keep, t, 0)[..., None] == np.arange(C)).astype(z.dtype))
        count = (w.data[np.where(keep, t, 0)] * keep).sum()
    q = q * (1 - label_smoothing) + label_smoothing / C
    loss = -(log_p * q * w).sum(-1)                                          # one value per sample
    if keep is not None:
        loss = loss * as_tensor(keep.astype(z.dtype))
    if reduction == "none":
        return loss.squeeze(0) if input.ndim == 1 else loss
    return loss.sum() if reduction == "sum" else loss.sum() / count
