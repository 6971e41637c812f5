"""Loss functions, each one fused graph node with PyTorch's semantics and argument order.

``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'``; the deprecated ``size_average`` /
``reduce`` flags map onto it as in PyTorch. Targets may be tensors or NumPy arrays; a target
tensor that requires grad receives its gradient too (class indices, being integers, do not).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._plural import counted
from ...core.node import Fresh, make_node
from ...core.tensor import Tensor, as_tensor
from .. import reference
from ..reference._switch import STATE as _REFERENCE

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "l1_loss", "mse_loss",
    "nll_loss", "smooth_l1_loss",
]


def reduction_mode(op: str, reduction: str, size_average: Any = None, reduce: Any = None) -> str:
    """The reduction string, honouring PyTorch's deprecated ``size_average`` / ``reduce`` flags."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
    if reduction != "mean" and reduction != "sum" and reduction != "none":
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', received {reduction!r}")
    return reduction


def _input(x: Any, op: str) -> Tensor:
    x = x if isinstance(x, Tensor) else as_tensor(x)
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, received dtype {x.data.dtype}")
    return x


def float_target(op: str, target: Any, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, Tensor | None]:
    """``(a, target, target tensor if it needs a gradient)``: the target as an array of ``a``'s shape and dtype.

    0-d operands come back as 1-element arrays (NumPy ufuncs would turn them into scalars).
    """
    if isinstance(target, Tensor):
        t = target.data
        tt = target if target.requires_grad else None
    else:
        t = np.asarray(target)
        tt = None
    if t.shape != a.shape:
        raise ValueError(
            f"{op}: target shape {tuple(t.shape)} differs from input shape {tuple(a.shape)}; "
            f"reshape one of them (PyTorch would silently broadcast)"
        )
    if t.dtype != a.dtype:
        t = t.astype(a.dtype)
    if a.ndim == 0:
        return a.reshape(1), t.reshape(1), tt
    return a, t, tt


def _broadcast_shape(s1: tuple, s2: tuple) -> tuple | None:
    try:
        return np.broadcast_shapes(s1, s2)
    except ValueError:
        return None


def _weight_array(op: str, weight: Any, a: np.ndarray, exact: bool) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if exact and w.shape != a.shape:
        raise ValueError(f"{op}: weight shape {tuple(w.shape)} must equal the input shape {tuple(a.shape)}")
    if not exact and _broadcast_shape(w.shape, a.shape) != a.shape:
        raise ValueError(f"{op}: weight shape {tuple(w.shape)} cannot be broadcast to input shape {tuple(a.shape)}")
    return w if w.dtype == a.dtype else w.astype(a.dtype)


def _pointwise(op: str, x: Tensor, tt: Tensor | None, loss: np.ndarray, deriv: Callable[[], np.ndarray],
               reduction: str, w: np.ndarray | None, mean_by_weight: bool,
               target_deriv: Callable[[], np.ndarray] | None = None) -> Tensor:
    """Weight, reduce and wrap an elementwise loss; ``deriv()`` gives d loss / d input elementwise (a fresh array).

    ``target_deriv()`` gives d loss / d target; by default it is ``-deriv()`` (losses of ``input - target``).
    """
    if w is not None:
        loss = loss * w
    shape = x.data.shape
    if reduction == "none":
        out = loss if loss.shape == shape else loss.reshape(shape)
        scale: Any = None
    elif reduction == "sum":
        out = np.asarray(loss.sum())
        scale = 1
    else:
        n = w.sum() if (w is not None and mean_by_weight) else loss.size
        out = np.asarray(loss.sum() / n) if n else np.asarray(np.nan, dtype=loss.dtype)
        scale = 1 / n if n else np.nan

    def backward(g: np.ndarray) -> tuple:
        coef = g if scale is None else g * scale
        if scale is None and g.shape != loss.shape:
            coef = g.reshape(loss.shape)
        gx = gt = None
        if x.requires_grad or (tt is not None and target_deriv is None):
            gx = deriv()
            if w is not None:
                gx = gx * w  # w may broadcast
            gx *= coef
        if tt is not None:
            if target_deriv is None:
                gt = -gx
            else:
                gt = target_deriv()
                if w is not None:
                    gt = gt * w
                gt *= coef
        if gx is not None and gx.shape != shape:
            gx = gx.reshape(shape)
        if tt is None:
            return (gx,)
        return (gx if x.requires_grad else None), gt.reshape(tt.data.shape)

    return make_node(out, (x,) if tt is None else (x, tt), backward, op)


def mse_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean squared error ``(x - y)^2``. Input ``(*)``, target ``(*)`` the same shape.

    With ``weight`` (the input's shape), the mean divides by ``weight.sum()`` (as PyTorch).
    """
    x = _input(input, "mse_loss")
    a, t, tt = float_target("mse_loss", target, x.data)
    red = reduction_mode("mse_loss", reduction, size_average, reduce)
    w = _weight_array("mse_loss", weight, x.data, exact=True)
    d = a - t
    if red == "mean" and w is None and tt is None and d.ndim == x.data.ndim and d.size:  # the hot path: one dot product
        n = d.size
        flat = d.reshape(-1)
        out = np.asarray(np.dot(flat, flat) / n)
        return make_node(out, (x,), lambda g: (d * (g * (2 / n)),), "mse_loss")
    return _pointwise("mse_loss", x, tt, d * d, lambda: d * 2, red, w, True)


def l1_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean absolute error ``|x - y|``; the gradient is ``sign(x - y)`` (0 at 0)."""
    x = _input(input, "l1_loss")
    a, t, tt = float_target("l1_loss", target, x.data)
    red = reduction_mode("l1_loss", reduction, size_average, reduce)
    w = _weight_array("l1_loss", weight, x.data, exact=True)
    d = a - t
    return _pointwise("l1_loss", x, tt, np.abs(d), lambda: np.sign(d), red, w, True)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Any = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``, with ``d = x - y``.

    With ``weight``, the mean divides by the element count (as PyTorch).
    """
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, received {delta}")
    x = _input(input, "huber_loss")
    a, t, tt = float_target("huber_loss", target, x.data)
    red = reduction_mode("huber_loss", reduction)
    w = _weight_array("huber_loss", weight, x.data, exact=True)
    d = a - t
    ad = np.abs(d)
    small = ad < delta
    loss = ad - 0.5 * delta
    loss *= delta
    np.copyto(loss, 0.5 * d * d, where=small)
    return _pointwise("huber_loss", x, tt, loss, lambda: np.clip(d, -delta, delta), red, w, False)


def smooth_l1_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``beta=0`` is the L1 loss)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, received {beta}")
    x = _input(input, "smooth_l1_loss")
    a, t, tt = float_target("smooth_l1_loss", target, x.data)
    red = reduction_mode("smooth_l1_loss", reduction, size_average, reduce)
    d = a - t
    ad = np.abs(d)
    if beta == 0:
        return _pointwise("smooth_l1_loss", x, tt, ad, lambda: np.sign(d), red, None, False)
    loss = ad - 0.5 * beta
    np.copyto(loss, (0.5 / beta) * d * d, where=ad < beta)
    return _pointwise("smooth_l1_loss", x, tt, loss, lambda: np.clip(d * (1 / beta), -1, 1), red, None, False)


def _clamped_log(v: np.ndarray) -> np.ndarray:
    """``max(log(v), -100)`` without a divide-by-zero warning at 0."""
    out = np.full_like(v, -100)
    np.log(v, out=out, where=v > 0)
    return np.maximum(out, -100, out=out)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``-w (y log x + (1 - y) log(1 - x))`` for probabilities ``x``; each log is clamped at -100 (as PyTorch).

    Input ``(*)`` in [0, 1], target ``(*)`` the same shape; ``weight`` broadcasts to the input.
    """
    x = _input(input, "binary_cross_entropy")
    a, t, tt = float_target("binary_cross_entropy", target, x.data)
    red = reduction_mode("binary_cross_entropy", reduction, size_average, reduce)
    w = _weight_array("binary_cross_entropy", weight, x.data, exact=False)
    if a.size and (a.min() < 0 or a.max() > 1):
        raise ValueError(
            f"binary_cross_entropy: input values must be probabilities in [0, 1], found {a.min():.4g}..{a.max():.4g}; "
            f"pass logits to binary_cross_entropy_with_logits instead"
        )
    if t.size and (t.min() < 0 or t.max() > 1):
        raise ValueError(f"binary_cross_entropy: target values must lie in [0, 1], found {t.min():.4g}..{t.max():.4g}")
    log_x = _clamped_log(a)
    log_1mx = _clamped_log(1 - a)
    loss = log_x - log_1mx  # -(y log x + (1 - y) log(1 - x)) = -(log(1 - x) + y (log x - log(1 - x)))
    loss *= t
    loss += log_1mx
    np.negative(loss, out=loss)

    def deriv() -> np.ndarray:
        den = (1 - a) * a
        np.maximum(den, 1e-12, out=den)
        return np.divide(a - t, den, out=den)

    return _pointwise("binary_cross_entropy", x, tt, loss, deriv, red, w, False, lambda: log_1mx - log_x)


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean", pos_weight: Any = None) -> Tensor:
    """Sigmoid and binary cross-entropy fused: ``(1 - y) x + (1 + (p - 1) y) softplus(-x)``, stable at ±1000.

    Input ``(*)`` logits; target ``(*)`` the same shape; ``weight`` and ``pos_weight`` broadcast to the input
    (``pos_weight`` usually ``(C,)`` along the last dimension). Both are constants here (no gradient).
    """
    op = "binary_cross_entropy_with_logits"
    x = _input(input, op)
    a, t, tt = float_target(op, target, x.data)
    red = reduction_mode(op, reduction, size_average, reduce)
    w = _weight_array(op, weight, x.data, exact=False)
    pw = _weight_array(op + " (pos_weight)", pos_weight, x.data, exact=False)
    e = np.abs(a)
    np.negative(e, out=e)
    np.exp(e, out=e)  # exp(-|x|)
    sp = np.log1p(e)
    sp += np.maximum(-a, 0)  # softplus(-x) = -log sigmoid(x)
    loss = 1 - t
    loss *= a
    if pw is None:
        loss += sp
        lw = None
    else:
        lw = (pw - 1) * t
        lw += 1
        loss += lw * sp

    def deriv() -> np.ndarray:
        s = np.divide(e, 1 + e)
        np.subtract(1, s, out=s, where=a >= 0)  # sigmoid(x)
        if lw is None:
            s -= t
            return s
        s *= lw
        s -= pw * t
        return s

    def target_deriv() -> np.ndarray:
        return -a if pw is None else (pw - 1) * sp - a

    return _pointwise(op, x, tt, loss, deriv, red, w, False, target_deriv)


# ----------------------------------------------------------------------------- class-index losses
def _class_weight(op: str, weight: Any, n_classes: int, a: np.ndarray) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (n_classes,):
        raise ValueError(f"{op}: weight has shape {tuple(w.shape)}, expected ({n_classes},): one per class")
    return w if w.dtype == a.dtype else w.astype(a.dtype)


def _class_target(op: str, t: np.ndarray, shape: tuple, ignore_index: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Validated int64 class indices (ignored ones replaced by 0) and the mask of kept ones (None: all kept)."""
    n_classes = shape[1]
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class-index target must hold integers, received dtype {t.dtype} "
            f"(class probabilities must have the input's shape {tuple(shape)})"
        )
    expected = (shape[0],) + tuple(shape[2:])
    if t.shape != expected:
        raise ValueError(f"{op}: input {tuple(shape)} needs a target of shape {expected}, received {tuple(t.shape)}")
    if t.dtype != np.int64:
        t = t.astype(np.int64)
    if t.size == 0:
        return t, None
    if t.view(np.uint64).max() >= n_classes:  # negative values are huge as unsigned
        keep = t != ignore_index
        bad = keep & ((t < 0) | (t >= n_classes))
        if bad.any():
            raise IndexError(
                f"{op}: target {int(t[bad][0])} is out of range for {counted(n_classes, 'class')} "
                f"(expected 0 <= target < {n_classes}, or ignore_index={ignore_index})"
            )
        return np.where(keep, t, 0), keep
    if 0 <= ignore_index < n_classes:
        keep = t != ignore_index
        if not keep.all():
            return np.where(keep, t, 0), keep
    return t, None


def _class_reduce(loss: np.ndarray, red: str, wt: np.ndarray | None, keep: np.ndarray | None) -> tuple[Any, Any]:
    """(output, mean denominator) of per-sample class losses: a weighted mean divides by the kept weights."""
    if keep is not None:
        loss *= keep
    if red == "none":
        return loss, None
    if red == "sum":
        return np.asarray(loss.sum()), None
    if wt is not None:
        den = (wt * keep).sum() if keep is not None else wt.sum()
    else:
        den = int(keep.sum()) if keep is not None else loss.size
    if not den:  # every target ignored: NaN, as PyTorch
        return np.asarray(np.nan, dtype=loss.dtype), den
    return np.asarray(loss.sum() / den), den


def _class_coef(g: np.ndarray, red: str, den: Any, keep: np.ndarray | None, unbatched: bool) -> Any:
    """d loss / d per-sample loss: an array (N, *) or a 0-d scalar."""
    if red == "none":
        c = g.reshape(1) if unbatched else g
    elif red == "sum":
        c = g
    else:
        c = g / den if den else g * 0  # all targets ignored: NaN loss, zero gradient (as PyTorch)
    return c * keep if keep is not None else c


@functools.lru_cache(maxsize=32)
def _row_starts(n: int, n_classes: int) -> np.ndarray:
    return np.arange(0, n * n_classes, n_classes)


def _flat_targets(t: np.ndarray, shape: tuple) -> np.ndarray | None:
    """For a C-contiguous (N, C) input, the flat positions ``i * C + t_i``; None for K-dim inputs."""
    return t + _row_starts(shape[0], shape[1]) if len(shape) == 2 else None


def _add_at_targets(dz: np.ndarray, t: np.ndarray, value: Any, flat: np.ndarray | None) -> None:
    """``dz[i, t_i, ...] += value_i`` (each position is hit once); ``dz`` is C-contiguous."""
    if flat is not None:
        dz.reshape(-1)[flat] += value
    else:
        tk = t[:, None]
        vals = np.take_along_axis(dz, tk, axis=1)
        vals += value[:, None] if np.ndim(value) else value
        np.put_along_axis(dz, tk, vals, axis=1)


def _pick(a: np.ndarray, t: np.ndarray, flat: np.ndarray | None) -> np.ndarray:
    """``a[i, t_i, ...]``: shape (N, *)."""
    if flat is not None:
        return a.reshape(-1)[flat]
    return np.take_along_axis(a, t[:, None], axis=1)[:, 0]


def cross_entropy(input: Tensor, target: Any, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
                  reduce: Any = None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Log-softmax and negative log-likelihood fused into one node; the gradient is ``softmax - target``.

    Input: ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` logits. Target: class indices ``(N)``, ``(N, d1, ...)``
    or ``()`` (ints in ``[0, C)`` or ``ignore_index``), or class probabilities of the input's shape.
    ``weight``: ``(C,)``. With class indices, the weighted mean divides by the summed weights of the
    kept targets; with probabilities, by the number of samples (both as PyTorch).
    Readable twin: :func:`myelin.nn.reference.cross_entropy`.
    """
    op = "cross_entropy"
    if (not _REFERENCE.enabled and weight is None and reduction == "mean" and size_average is None and reduce is None and not label_smoothing
            and isinstance(input, Tensor)):
        out = _cross_entropy_mean(input, target, ignore_index)
        if out is not None:
            return out
    x = _input(input, op)
    red = reduction_mode(op, reduction, size_average, reduce)
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], received {label_smoothing}")
    a = x.data
    if a.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, (N, C) or (C,), received shape ()")
    unbatched = a.ndim == 1
    if unbatched:
        a = a[None]
    elif a.ndim == 2 and not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)  # the flat target positions below assume C order
    n_classes = a.shape[1]
    w = _class_weight(op, weight, n_classes, a)
    if _REFERENCE.enabled:
        return reference.cross_entropy(x, target, w, ignore_index, red, eps)
    if isinstance(target, Tensor):
        t = target.data
        tt = target if target.requires_grad else None
    else:
        t = np.asarray(target)
        tt = None
    if unbatched:
        t = t[None]
    z = a - a.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    lse = np.log(s)
    wb = None if w is None else w.reshape((1, n_classes) + (1,) * (a.ndim - 2))
    if t.shape == a.shape:
        return _cross_entropy_probs(x, t, tt, z, e, s, lse, wb, eps, red, ignore_index, unbatched)
    t, keep = _class_target(op, t, a.shape, ignore_index)
    flat = _flat_targets(t, a.shape)
    lse0 = lse[:, 0]
    loss = lse0 - _pick(z, t, flat)
    wt = None if w is None else w[t]
    if wt is not None:
        loss *= wt
    if eps:
        smooth = lse0 * (float(w.sum()) if w is not None else n_classes)
        smooth -= (z * wb).sum(axis=1) if wb is not None else z.sum(axis=1)
        loss *= 1 - eps
        loss += (eps / n_classes) * smooth
    out, den = _class_reduce(loss, red, wt, keep)
    if unbatched and red == "none":
        out = out.reshape(())

    def backward(g: np.ndarray) -> tuple:
        c = _class_coef(g, red, den, keep, unbatched)
        ck = c[:, None] if np.ndim(c) else c
        if wt is None:
            dz = e * (ck / s)
            onehot = c * (1 - eps) if eps else c
        else:
            total = wt[:, None] * (1 - eps)  # sum over classes of the weighted target distribution
            if eps:
                total += eps / n_classes * float(w.sum())
            total *= ck
            total /= s
            dz = e * total
            onehot = c * wt
            if eps:
                onehot *= 1 - eps
        if eps:
            dz -= (eps / n_classes) * (ck * wb if wb is not None else ck)
        _add_at_targets(dz, t, -onehot, flat)
        return (dz[0] if unbatched else dz,)

    return make_node(out, (x,), backward, op)


def _cross_entropy_mean(x: Tensor, target: Any, ignore_index: int) -> Tensor | None:
    """The training hot path of :func:`cross_entropy`: (N, C) float logits, N class indices all in range,
    no weight, no smoothing, mean reduction. Returns None for anything else (the general code handles it).

    Same arithmetic as the general path, with fewer NumPy calls and temporaries.
    """
    a = x.data
    t = target.data if isinstance(target, Tensor) else target
    if (a.ndim != 2 or a.dtype.kind != "f" or not isinstance(t, np.ndarray) or t.dtype.kind not in "iu"
            or t.shape != (a.shape[0],) or a.shape[0] == 0):
        return None
    n, n_classes = a.shape
    if t.dtype != np.int64:
        t = t.astype(np.int64)
    if np.maximum.reduce(t.view(np.uint64)) >= n_classes:  # negative (ignored) or out of range: general path
        return None
    if 0 <= ignore_index < n_classes and (t == ignore_index).any():
        return None
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)  # the flat target positions assume C order
    z = a - np.maximum.reduce(a, axis=1, keepdims=True)
    flat = t + _row_starts(n, n_classes)
    loss = z.reshape(-1)[flat]  # z at the targets
    e = np.exp(z, out=z)
    s = np.add.reduce(e, axis=1, keepdims=True)
    np.subtract(np.log(s[:, 0]), loss, out=loss)
    out = np.asarray(np.add.reduce(loss) / n)

    def backward(g: np.ndarray) -> tuple:
        c = g / n
        dz = e * (c / s)
        dz.reshape(-1)[flat] -= c
        return Fresh((dz,))

    return make_node(out, (x,), backward, "cross_entropy")


def _cross_entropy_probs(x: Tensor, t: np.ndarray, tt: Tensor | None, z: np.ndarray, e: np.ndarray, s: np.ndarray,
                         lse: np.ndarray, wb: np.ndarray | None, eps: float, red: str, ignore_index: int,
                         unbatched: bool) -> Tensor:
    """cross_entropy with class-probability targets (same shape as the input)."""
    if t.dtype.kind != "f":
        raise TypeError(f"cross_entropy: probability targets must be floating point, received dtype {t.dtype}")
    if ignore_index >= 0:
        raise ValueError("cross_entropy: ignore_index is not supported with class-probability targets")
    n_classes = z.shape[1]
    q = t if t.dtype == z.dtype else t.astype(z.dtype)
    if eps:
        q = q * (1 - eps) + eps / n_classes
    qw = q * wb if wb is not None else q
    logp = z - lse
    loss = (qw * logp).sum(axis=1)
    np.negative(loss, out=loss)
    n = loss.size
    if red == "none":
        out = loss.reshape(()) if unbatched else loss
    elif red == "sum":
        out = np.asarray(loss.sum())
    else:
        out = np.asarray(loss.sum() / n) if n else np.asarray(np.nan, dtype=loss.dtype)

    def backward(g: np.ndarray) -> tuple:
        if red == "none":
            ck = g.reshape((1, 1)) if unbatched else g[:, None]
        else:
            ck = g if red == "sum" else g * (1 / n)
        gx = gt = None
        if x.requires_grad:
            gx = e * (qw.sum(axis=1, keepdims=True) / s)
            gx -= qw
            gx *= ck
            if unbatched:
                gx = gx[0]
        if tt is not None:
            gt = logp * wb if wb is not None else logp.copy()
            gt *= ck * -(1 - eps)
            if unbatched:
                gt = gt[0]
        return (gx,) if tt is None else (gx, gt)

    return make_node(out, (x,) if tt is None else (x, tt), backward, "cross_entropy")


def nll_loss(input: Tensor, target: Any, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
             reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood ``-w[y] * input[y]`` of log-probabilities (e.g. from ``log_softmax``).

    Input: ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; target: class indices ``(N)``, ``(N, d1, ...)`` or ``()``.
    """
    op = "nll_loss"
    x = _input(input, op)
    red = reduction_mode(op, reduction, size_average, reduce)
    a = x.data
    if a.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, (N, C) or (C,), received shape ()")
    unbatched = a.ndim == 1
    if unbatched:
        a = a[None]
    w = _class_weight(op, weight, a.shape[1], a)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if unbatched:
        t = t[None]
    t, keep = _class_target(op, t, a.shape, ignore_index)
    flat = _flat_targets(t, a.shape)
    loss = -_pick(a, t, flat)
    wt = None if w is None else w[t]
    if wt is not None:
        loss *= wt
    out, den = _class_reduce(loss, red, wt, keep)
    if unbatched and red == "none":
        out = out.reshape(())

    def backward(g: np.ndarray) -> tuple:
        c = _class_coef(g, red, den, keep, unbatched)
        gx = np.zeros(a.shape, dtype=a.dtype)
        _add_at_targets(gx, t, -(c * wt) if wt is not None else -c, flat)
        return (gx[0] if unbatched else gx,)

    return make_node(out, (x,), backward, op)
