"""The Kullback-Leibler divergence loss, ``F.kl_div``, as one graph node (PyTorch's argument order)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ...core.node import make_node
from ...core.tensor import Tensor, as_tensor
from .loss import float_target, reduction_mode

__all__ = ["kl_div"]


def kl_div(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """``target * (log(target) - input)`` per element, as ``torch.nn.functional.kl_div``.

    ``input`` holds log-probabilities; ``target`` probabilities (log-probabilities with
    ``log_target``); a zero target contributes 0. ``reduction``: ``'mean'`` (over all elements, which
    PyTorch warns is not the divergence), ``'batchmean'`` (sum divided by the batch size ``input.shape[0]``:
    the true KL divergence per sample), ``'sum'`` or ``'none'``. Input and target: the same shape.
    """
    op = "kl_div"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, received dtype {x.data.dtype}")
    if reduction == "batchmean" and size_average is None and reduce is None:
        red = "batchmean"
    else:
        red = reduction_mode(op, reduction, size_average, reduce)
        if red == "mean" and reduction == "mean" and size_average is None and reduce is None:
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size. "
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition.",
                          UserWarning, stacklevel=2)
    a, t, tt = float_target(op, target, x.data)
    if log_target:
        et = np.exp(t)
        loss = et * (t - a)
    else:
        pos = t > 0
        logt = np.log(np.where(pos, t, 1))
        loss = np.where(pos, t * logt, 0) - t * a
    loss = loss.astype(a.dtype, copy=False)
    n = a.shape[0] if x.data.ndim > 0 else 1
    if red == "none":
        out = loss.reshape(x.data.shape)
    elif red == "sum":
        out = loss.sum()
    elif red == "mean":
        out = loss.mean() if loss.size else np.asarray(np.nan, dtype=a.dtype)
    else:
        out = loss.sum() / a.dtype.type(n)
    out = np.asarray(out, dtype=a.dtype)
    parents = (x,) if tt is None else (x, tt)

    def backward(g: np.ndarray) -> tuple:
        if red == "none":
            gl = g.reshape(a.shape)
        elif red == "sum":
            gl = g
        elif red == "mean":
            gl = g / a.dtype.type(max(a.size, 1))
        else:
            gl = g / a.dtype.type(n)
        gx = gt = None
        if x.requires_grad:
            gx = (-(et if log_target else t) * gl).astype(a.dtype, copy=False).reshape(x.data.shape)
        if tt is not None:
            d = et * (t - a + 1) if log_target else np.where(pos, logt + 1, 0) - a
            gt = (d * gl).astype(a.dtype, copy=False).reshape(tt.data.shape)
        return (gx,) if tt is None else (gx, gt)

    return make_node(out, parents, backward, op)
