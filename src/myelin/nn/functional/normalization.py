"""Batch and layer normalisation, each one fused node with an analytical backward."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._plural import counted
from ...core.node import make_node
from ...core.tensor import Tensor, as_tensor

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm"]


def _buffer(op: str, name: str, buf: Any, n: int) -> np.ndarray | None:
    """A running-statistics buffer as the NumPy array to update in place."""
    if buf is None:
        return None
    arr = buf.data if isinstance(buf, Tensor) else buf
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{op}: {name} must be a NumPy array or tensor (updated in place), received {type(buf).__name__}")
    if arr.shape != (n,):
        raise ValueError(f"{op}: {name} has shape {tuple(arr.shape)}, expected ({n},)")
    return arr


def _affine(op: str, name: str, p: Any, shape: tuple[int, ...], like: np.ndarray) -> Tensor | None:
    if p is None:
        return None
    t = p if isinstance(p, Tensor) else as_tensor(np.asarray(p, dtype=like.dtype))
    if t.data.shape != shape:
        raise ValueError(f"{op}: {name} has shape {tuple(t.data.shape)}, expected {shape}")
    return t


def batch_norm(input: Tensor, running_mean: Any, running_var: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel over the batch (and spatial) axes, then scale and shift.

    Input: ``(N, C)`` or ``(N, C, *)``; running stats, weight and bias: ``(C,)``. In training (or
    without running stats) the batch statistics are used, and the running stats, when given, are
    updated in place as PyTorch does: ``r = (1 - momentum) * r + momentum * stat``, with the
    unbiased batch variance for ``running_var``. Otherwise the running stats normalise.
    """
    op = "batch_norm"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    a = x.data
    if a.ndim < 2:
        raise ValueError(f"{op}: expected input (N, C) or (N, C, *), received shape {tuple(a.shape)}")
    n_ch = a.shape[1]
    rm = _buffer(op, "running_mean", running_mean, n_ch)
    rv = _buffer(op, "running_var", running_var, n_ch)
    w = _affine(op, "weight", weight, (n_ch,), a)
    b = _affine(op, "bias", bias, (n_ch,), a)
    axes = (0,) + tuple(range(2, a.ndim))
    bshape = (1, n_ch) + (1,) * (a.ndim - 2)
    gamma = None if w is None else w.data.reshape(bshape)
    parents = (x,) + tuple(p for p in (w, b) if p is not None)

    if training or rm is None or rv is None:
        n = a.size // n_ch if n_ch else 0
        if training and n <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got input size {a.shape}")
        mean = a.mean(axis=axes, keepdims=True)
        xhat = a - mean
        var = np.mean(xhat * xhat, axis=axes, keepdims=True)
        invstd = var + eps
        np.sqrt(invstd, out=invstd)
        np.divide(1, invstd, out=invstd)
        xhat *= invstd
        if training:
            if rm is not None:
                rm *= 1 - momentum
                rm += momentum * mean.reshape(n_ch)
            if rv is not None:
                rv *= 1 - momentum
                rv += (momentum * n / (n - 1)) * var.reshape(n_ch)
        out = xhat * gamma if gamma is not None else xhat.copy()
        if b is not None:
            out += b.data.reshape(bshape)

        def backward(g: np.ndarray) -> tuple:
            sum_g = g.sum(axis=axes, keepdims=True)
            sum_gx = (g * xhat).sum(axis=axes, keepdims=True)
            grads: list = []
            if x.requires_grad:
                k = invstd * gamma if gamma is not None else invstd
                gx = xhat * (sum_gx * (-1 / n))
                gx += g
                gx -= sum_g * (1 / n)
                gx *= k
                grads.append(gx)
            else:
                grads.append(None)
            if w is not None:
                grads.append(sum_gx.reshape(w.data.shape) if w.requires_grad else None)
            if b is not None:
                grads.append(sum_g.reshape(b.data.shape) if b.requires_grad else None)
            return grads

        return make_node(out, parents, backward, op)

    # evaluation with running statistics: an affine map per channel
    invstd = (rv + eps).astype(a.dtype, copy=False)
    invstd = (1 / np.sqrt(invstd)).reshape(bshape)
    mean = rm.astype(a.dtype, copy=False).reshape(bshape)
    scale = invstd * gamma if gamma is not None else invstd
    shift = -mean * scale
    if b is not None:
        shift = shift + b.data.reshape(bshape)
    out = a * scale
    out += shift

    def backward_eval(g: np.ndarray) -> tuple:
        grads: list = [g * scale if x.requires_grad else None]
        if w is not None:
            grads.append((g * ((a - mean) * invstd)).sum(axis=axes).reshape(w.data.shape) if w.requires_grad else None)
        if b is not None:
            grads.append(g.sum(axis=axes).reshape(b.data.shape) if b.requires_grad else None)
        return grads

    return make_node(out, parents, backward_eval, op)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dimensions, then scale and shift elementwise.

    Input: ``(*, *normalized_shape)``; weight and bias: ``normalized_shape``; Output: the input's shape.
    """
    op = "layer_norm"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    a = x.data
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else tuple(
        int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or a.shape[a.ndim - k:] != ns or a.ndim < k:
        raise ValueError(f"{op}: input {tuple(a.shape)} does not end with normalized_shape {ns}")
    w = _affine(op, "weight", weight, ns, a)
    b = _affine(op, "bias", bias, ns, a)
    d = int(np.prod(ns))
    a2 = a.reshape(-1, d)
    xhat = a2 - a2.mean(axis=1, keepdims=True)
    var = np.mean(xhat * xhat, axis=1, keepdims=True)
    var += eps
    invstd = np.sqrt(var, out=var)
    np.divide(1, invstd, out=invstd)
    xhat *= invstd
    w2 = None if w is None else w.data.reshape(d)
    out = xhat * w2 if w2 is not None else xhat.copy()
    if b is not None:
        out += b.data.reshape(d)
    parents = (x,) + tuple(p for p in (w, b) if p is not None)

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(-1, d)
        grads: list = []
        if x.requires_grad:
            dxhat = g2 * w2 if w2 is not None else g2
            gx = xhat * (dxhat * xhat).mean(axis=1, keepdims=True)
            gx += dxhat.mean(axis=1, keepdims=True)
            np.subtract(dxhat, gx, out=gx)
            gx *= invstd
            grads.append(gx.reshape(a.shape))
        else:
            grads.append(None)
        if w is not None:
            grads.append((g2 * xhat).sum(axis=0).reshape(w.data.shape) if w.requires_grad else None)
        if b is not None:
            grads.append(g2.sum(axis=0).reshape(b.data.shape) if b.requires_grad else None)
        return grads

    return make_node(out.reshape(a.shape), parents, backward, op)


def _grouped_norm(op: str, x: Tensor, groups: int, w: Tensor | None, b: Tensor | None, eps: float
                  ) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """Normalise ``(N, C, *)`` over each of ``groups`` channel groups per sample, then scale and shift per channel.

    Returns the output node and the per-(sample, group) mean and biased variance (for running stats).
    """
    a = x.data
    n, c = a.shape[0], a.shape[1]
    a3 = a.reshape(n, groups, -1)
    mean = a3.mean(axis=2, keepdims=True)
    xhat = a3 - mean
    var = np.mean(xhat * xhat, axis=2, keepdims=True)
    invstd = 1 / np.sqrt(var + eps)
    xhat *= invstd
    cshape = (1, c) + (1,) * (a.ndim - 2)
    gamma = None if w is None else w.data.reshape(cshape)
    xh = xhat.reshape(a.shape)
    out = xh * gamma if gamma is not None else xh.copy()
    if b is not None:
        out += b.data.reshape(cshape)
    axes = (0,) + tuple(range(2, a.ndim))
    parents = (x,) + tuple(p for p in (w, b) if p is not None)

    def backward(g: np.ndarray) -> tuple:
        grads: list = []
        if x.requires_grad:
            dxhat = (g * gamma if gamma is not None else g).reshape(n, groups, -1)
            gx = xhat * (dxhat * xhat).mean(axis=2, keepdims=True)
            gx += dxhat.mean(axis=2, keepdims=True)
            np.subtract(dxhat, gx, out=gx)
            gx *= invstd
            grads.append(gx.reshape(a.shape))
        else:
            grads.append(None)
        if w is not None:
            grads.append((g * xh).sum(axis=axes) if w.requires_grad else None)
        if b is not None:
            grads.append(g.sum(axis=axes) if b.requires_grad else None)
        return grads

    return make_node(out, parents, backward, op), mean.reshape(n, groups), var.reshape(n, groups)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalisation (Wu & He, 2018), as ``torch.nn.functional.group_norm``.

    Input ``(N, C, *)`` with ``C`` divisible by ``num_groups``: each sample's channels are split into
    groups, each group normalised over its channels and positions; weight and bias ``(C,)``.
    Output: the input's shape.
    """
    op = "group_norm"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    a = x.data
    if a.ndim < 2:
        raise ValueError(f"{op}: expected input (N, C, *), received shape {tuple(a.shape)}")
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) or num_groups < 1 \
            or a.shape[1] % num_groups:
        raise ValueError(f"{op}: expected num_groups to divide the {counted(a.shape[1], 'channel')} of input "
                         f"{tuple(a.shape)}, received {num_groups!r}")
    c = a.shape[1]
    w = _affine(op, "weight", weight, (c,), a)
    b = _affine(op, "bias", bias, (c,), a)
    return _grouped_norm(op, x, int(num_groups), w, b, eps)[0]


def instance_norm(input: Tensor, running_mean: Any = None, running_var: Any = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Instance normalisation (Ulyanov et al., 2016), as ``torch.nn.functional.instance_norm``.

    Input ``(N, C, *)``: each sample's channels are normalised separately over their positions
    (``use_input_stats``), and the running stats, when given, are updated in place with the mean
    over the batch of the per-instance mean and unbiased variance. Without ``use_input_stats`` the
    running stats normalise (as ``batch_norm`` in evaluation). Weight and bias ``(C,)``.
    """
    op = "instance_norm"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    a = x.data
    if a.ndim < 3:
        raise ValueError(f"{op}: expected input (N, C, *) with at least one spatial dimension, "
                         f"received shape {tuple(a.shape)}")
    c = a.shape[1]
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: expected running_mean and running_var when use_input_stats=False")
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    rm = _buffer(op, "running_mean", running_mean, c)
    rv = _buffer(op, "running_var", running_var, c)
    m = a.size // (a.shape[0] * c) if a.size else 0
    if m <= 1:
        raise ValueError(f"{op}: expected more than 1 spatial element per channel when training, got input size "
                         f"{tuple(a.shape)}")
    w = _affine(op, "weight", weight, (c,), a)
    b = _affine(op, "bias", bias, (c,), a)
    out, mean, var = _grouped_norm(op, x, c, w, b, eps)
    if rm is not None:
        rm *= 1 - momentum
        rm += momentum * mean.mean(axis=0)
    if rv is not None:
        rv *= 1 - momentum
        rv += (momentum * m / (m - 1)) * var.mean(axis=0)
    return out
