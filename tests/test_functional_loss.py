"""myelin.nn.functional losses: PyTorch parity across options, gradchecks, extremes and error messages."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import myelin
import myelin.nn.functional as F
from conftest import assert_close
from myelin.autograd import gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def _run(fn, a, *args, grad_seed=1, **kwargs):
    """Forward + backward of a myelin loss with a random upstream gradient; returns (out, input grad, seed)."""
    x = myelin.tensor(a, dtype=a.dtype, requires_grad=True)
    y = fn(x, *args, **kwargs)
    g = np.random.default_rng(grad_seed).standard_normal(y.shape).astype(a.dtype)
    y.backward(g)
    return y, x.grad, g


def _torch_run(torch, fn, a, g, *args, **kwargs):
    x = torch.tensor(a, requires_grad=True)
    y = fn(x, *args, **kwargs)
    y.backward(torch.tensor(g))
    return y, x.grad


# ----------------------------------------------------------------------------- regression losses
REGRESSION = [
    ("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.7}), ("huber_loss", {}),
    ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}), ("smooth_l1_loss", {}),
]


REGRESSION_WEIGHTED = [(n, k, w) for n, k in REGRESSION for w in (False, True) if not (w and n == "smooth_l1_loss")]


@pytest.mark.parametrize(("name", "kwargs", "weighted"), REGRESSION_WEIGHTED,
                         ids=[f"{n}-{k}-{'w' if w else 'nw'}" for n, k, w in REGRESSION_WEIGHTED])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_torch(torch, name, kwargs, reduction, weighted, rng):
    a = rng.standard_normal((6, 5)).astype(np.float32)
    b = rng.standard_normal((6, 5)).astype(np.float32)
    extra = dict(kwargs, reduction=reduction)
    w = rng.random((6, 5)).astype(np.float32) if weighted else None
    x, t = myelin.tensor(a, requires_grad=True), myelin.tensor(b, requires_grad=True)
    y = getattr(F, name)(x, t, **extra, **({"weight": w} if weighted else {}))
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    tx, tt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ty = getattr(torch.nn.functional, name)(tx, tt, **extra, **({"weight": torch.tensor(w)} if weighted else {}))
    ty.backward(torch.tensor(g))
    assert y.dtype == np.float32 and y.shape == tuple(ty.shape)
    assert_close(y, ty, what=f"{name} forward")
    assert_close(x.grad, tx.grad, what=f"{name} input grad")
    assert_close(t.grad, tt.grad, what=f"{name} target grad")


@pytest.mark.parametrize(("name", "kwargs"), REGRESSION, ids=[f"{n}-{k}" for n, k in REGRESSION])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_gradcheck(name, kwargs, reduction, rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    fn = getattr(F, name)
    assert gradcheck(lambda x, t: fn(x, t, reduction=reduction, **kwargs), [a, b])


def test_mse_target_as_numpy_and_legacy_flags(torch, rng):
    a = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal((4, 3))  # float64 target is cast to the input's dtype
    y = F.mse_loss(myelin.tensor(a), b)
    assert y.dtype == np.float32
    assert_close(y, torch.nn.functional.mse_loss(torch.tensor(a), torch.tensor(b, dtype=torch.float32)))
    y_sum = F.mse_loss(myelin.tensor(a), b, size_average=False)
    assert_close(y_sum, ((a - b.astype(np.float32)) ** 2).sum(), rtol=1e-5)
    assert F.mse_loss(myelin.tensor(a), b, reduce=False).shape == (4, 3)


def test_zero_dim_losses(torch):
    for name in ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"):
        for reduction in REDUCTIONS:
            x = myelin.tensor(0.3, requires_grad=True)
            y = getattr(F, name)(x, myelin.tensor(1.5), reduction=reduction)
            y.backward()
            tx = torch.tensor(0.3, requires_grad=True)
            ty = getattr(torch.nn.functional, name)(tx, torch.tensor(1.5), reduction=reduction)
            ty.backward()
            assert y.shape == () and isinstance(y.data, np.ndarray)
            assert_close(y, ty)
            assert_close(x.grad, tx.grad)


# ----------------------------------------------------------------------------- cross_entropy grid
CE_SHAPES = {"2d": (7, 5), "3d": (4, 5, 3), "4d": (3, 5, 2, 3), "unbatched": (5,)}


def _class_target(rng, shape, ignore_index, n_ignored=2):
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    t = rng.integers(0, shape[-1] if len(shape) == 1 else shape[1], size=tshape)
    if ignore_index is not None and t.size > 1:
        t.reshape(-1)[:n_ignored] = ignore_index
    return t


@pytest.mark.parametrize(
    ("shape", "weighted", "ignore_index", "smoothing", "reduction"),
    list(itertools.product(CE_SHAPES, [False, True], [None, -100, 2], [0.0, 0.2], REDUCTIONS)),
)
def test_cross_entropy_class_targets_match_torch(torch, shape, weighted, ignore_index, smoothing, reduction, rng):
    shp = CE_SHAPES[shape]
    a = (rng.standard_normal(shp) * 3).astype(np.float32)
    t = _class_target(rng, shp, ignore_index)
    n_classes = shp[0] if len(shp) == 1 else shp[1]
    w = rng.random(n_classes).astype(np.float32) + 0.5 if weighted else None
    kwargs = {"reduction": reduction, "label_smoothing": smoothing}
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    y, grad, g = _run(F.cross_entropy, a, t, weight=w, **kwargs)
    ty, tgrad = _torch_run(torch, torch.nn.functional.cross_entropy, a, g, torch.tensor(t),
                           weight=None if w is None else torch.tensor(w), **kwargs)
    assert y.shape == tuple(ty.shape)
    assert y.dtype == np.float32 and grad.dtype == np.float32
    assert_close(y, ty, what="cross_entropy forward")
    assert_close(grad, tgrad, what="cross_entropy backward")


@pytest.mark.parametrize(
    ("shape", "weighted", "smoothing", "reduction"),
    list(itertools.product(CE_SHAPES, [False, True], [0.0, 0.3], REDUCTIONS)),
)
def test_cross_entropy_probability_targets_match_torch(torch, shape, weighted, smoothing, reduction, rng):
    shp = CE_SHAPES[shape]
    a = (rng.standard_normal(shp) * 3).astype(np.float32)
    class_axis = 0 if len(shp) == 1 else 1
    p = rng.random(shp).astype(np.float32)
    p /= p.sum(axis=class_axis, keepdims=True)
    w = rng.random(shp[class_axis]).astype(np.float32) + 0.5 if weighted else None
    x, tgt = myelin.tensor(a, requires_grad=True), myelin.tensor(p, requires_grad=True)
    y = F.cross_entropy(x, tgt, weight=w, reduction=reduction, label_smoothing=smoothing)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    tx, tt = torch.tensor(a, requires_grad=True), torch.tensor(p, requires_grad=True)
    ty = torch.nn.functional.cross_entropy(tx, tt, weight=None if w is None else torch.tensor(w),
                                           reduction=reduction, label_smoothing=smoothing)
    ty.backward(torch.tensor(g))
    assert_close(y, ty, what="forward")
    assert_close(x.grad, tx.grad, what="input grad")
    assert_close(tgt.grad, tt.grad, what="target grad")


@pytest.mark.parametrize("shape", ["2d", "3d", "unbatched"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_gradcheck(shape, weighted, smoothing, reduction, rng):
    shp = CE_SHAPES[shape]
    a = rng.standard_normal(shp) * 2
    n_classes = shp[0] if len(shp) == 1 else shp[1]
    w = rng.random(n_classes) + 0.5 if weighted else None
    t = _class_target(rng, shp, 1 if len(shp) > 1 else None, n_ignored=1)
    assert gradcheck(lambda x: F.cross_entropy(x, t, weight=w, ignore_index=1, reduction=reduction,
                                               label_smoothing=smoothing), [a])
    p = rng.random(shp)
    p /= p.sum(axis=0 if len(shp) == 1 else 1, keepdims=True)
    assert gradcheck(lambda x, q: F.cross_entropy(x, q, weight=w, label_smoothing=smoothing, reduction=reduction),
                     [a, p])


def test_cross_entropy_float64_and_tensor_target(torch, rng):
    a = rng.standard_normal((5, 4))
    t = myelin.tensor(rng.integers(0, 4, 5), dtype=np.int64)
    x = myelin.tensor(a, dtype=np.float64, requires_grad=True)
    y = F.cross_entropy(x, t)
    y.backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float64
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.nn.functional.cross_entropy(tx, torch.tensor(t.data))
    ty.backward()
    assert_close(y, ty, rtol=1e-12, atol=1e-12)
    assert_close(x.grad, tx.grad, rtol=1e-12, atol=1e-12)


def test_cross_entropy_all_ignored_is_nan_like_torch(torch):
    a = np.zeros((3, 4), dtype=np.float32)
    t = np.full(3, -100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.cross_entropy(myelin.tensor(a, requires_grad=True), t)
    assert np.isnan(y.item())
    assert np.isnan(torch.nn.functional.cross_entropy(torch.tensor(a), torch.tensor(t)).item())


def test_cross_entropy_at_extreme_logits(torch):
    a = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], dtype=np.float32)
    t = np.array([1, 2])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        y, grad, g = _run(F.cross_entropy, a, t, reduction="none")
    ty, tgrad = _torch_run(torch, torch.nn.functional.cross_entropy, a, g, torch.tensor(t), reduction="none")
    assert np.isfinite(y.data).all() and np.isfinite(grad).all()
    assert_close(y, ty)
    assert_close(grad, tgrad)


# ----------------------------------------------------------------------------- nll_loss
@pytest.mark.parametrize(
    ("shape", "weighted", "ignore_index", "reduction"),
    list(itertools.product(CE_SHAPES, [False, True], [None, 3], REDUCTIONS)),
)
def test_nll_loss_matches_torch(torch, shape, weighted, ignore_index, reduction, rng):
    shp = CE_SHAPES[shape]
    a = rng.standard_normal(shp).astype(np.float32)
    t = _class_target(rng, shp, ignore_index)
    n_classes = shp[0] if len(shp) == 1 else shp[1]
    w = rng.random(n_classes).astype(np.float32) + 0.5 if weighted else None
    kwargs = {"reduction": reduction} if ignore_index is None else {"reduction": reduction, "ignore_index": 3}
    y, grad, g = _run(F.nll_loss, a, t, weight=w, **kwargs)
    ty, tgrad = _torch_run(torch, torch.nn.functional.nll_loss, a, g, torch.tensor(t),
                           weight=None if w is None else torch.tensor(w), **kwargs)
    assert_close(y, ty, what="nll forward")
    assert_close(grad, tgrad, what="nll backward")


def test_nll_of_log_softmax_equals_cross_entropy(rng):
    a = rng.standard_normal((6, 4, 2))
    t = rng.integers(0, 4, (6, 2))
    ce = F.cross_entropy(myelin.tensor(a, dtype=np.float64), t)
    nll = F.nll_loss(F.log_softmax(myelin.tensor(a, dtype=np.float64), dim=1), t)
    assert_close(ce, nll, rtol=1e-12)
    assert gradcheck(lambda x: F.nll_loss(x, t, weight=np.arange(1.0, 5.0)), [a])


# ----------------------------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(torch, reduction, weighted, rng):
    p = rng.random((5, 3)).astype(np.float32)
    p[0, :3] = [0.0, 1.0, 1e-30]  # log clamped at -100, as PyTorch
    y_true = rng.random((5, 3)).astype(np.float32)
    y_true[0, :3] = [1.0, 0.0, 1.0]
    w = rng.random(3).astype(np.float32) if weighted else None  # broadcasts over the batch
    x, t = myelin.tensor(p, requires_grad=True), myelin.tensor(y_true, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        y = F.binary_cross_entropy(x, t, weight=w, reduction=reduction)
        g = rng.standard_normal(y.shape).astype(np.float32)
        y.backward(g)
    tx, tt = torch.tensor(p, requires_grad=True), torch.tensor(y_true, requires_grad=True)
    ty = torch.nn.functional.binary_cross_entropy(tx, tt, weight=None if w is None else torch.tensor(w),
                                                   reduction=reduction)
    ty.backward(torch.tensor(g))
    assert_close(y, ty, what="bce forward")
    # PyTorch divides by max(x (1 - x), 1e-12): at x in {0, 1} the gradient is ~1e12, as here
    assert_close(x.grad, tx.grad, what="bce input grad")
    # PyTorch's target gradient is -logit(x), infinite at x in {0, 1}; ours uses the clamped logs (finite)
    finite = np.isfinite(tt.grad.numpy())
    assert_close(t.grad[finite], tt.grad.numpy()[finite], what="bce target grad")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("weighted", "pos_weighted"), [(False, False), (True, False), (False, True), (True, True)])
def test_bce_with_logits_matches_torch(torch, reduction, weighted, pos_weighted, rng):
    a = (rng.standard_normal((6, 4)) * 4).astype(np.float32)
    b = rng.random((6, 4)).astype(np.float32)
    w = rng.random((6, 1)).astype(np.float32) if weighted else None
    pw = (rng.random(4) * 3).astype(np.float32) if pos_weighted else None
    x, t = myelin.tensor(a, requires_grad=True), myelin.tensor(b, requires_grad=True)
    y = F.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction, pos_weight=pw)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    tx, tt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ty = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, tt, weight=None if w is None else torch.tensor(w), reduction=reduction,
        pos_weight=None if pw is None else torch.tensor(pw))
    ty.backward(torch.tensor(g))
    assert_close(y, ty, what="forward")
    assert_close(x.grad, tx.grad, what="input grad")
    assert_close(t.grad, tt.grad, what="target grad")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_at_extremes(torch, dtype):
    a = np.array([-1000.0, -1000.0, 1000.0, 1000.0, -50.0, 50.0, 0.0], dtype=dtype)
    b = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.5], dtype=dtype)
    pw = np.array(2.0, dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        y, grad, g = _run(F.binary_cross_entropy_with_logits, a, b, reduction="none")
        y2, grad2, _ = _run(F.binary_cross_entropy_with_logits, a, b, reduction="none", pos_weight=pw)
    assert_close(y, [0.0, 1000.0, 1000.0, 0.0, 50.0, 50.0, np.log(2.0)], rtol=1e-6)
    ty, tgrad = _torch_run(torch, torch.nn.functional.binary_cross_entropy_with_logits, a, g, torch.tensor(b),
                           reduction="none")
    ty2, tgrad2 = _torch_run(torch, torch.nn.functional.binary_cross_entropy_with_logits, a, g, torch.tensor(b),
                             reduction="none", pos_weight=torch.tensor(pw))
    for mine, theirs in [(y, ty), (grad, tgrad), (y2, ty2), (grad2, tgrad2)]:
        assert np.isfinite(np.asarray(mine.data if isinstance(mine, myelin.Tensor) else mine)).all()
        assert_close(mine, theirs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_gradcheck(reduction, rng):
    p = rng.random((3, 4)) * 0.9 + 0.05
    a = rng.standard_normal((3, 4)) * 3
    b = rng.random((3, 4))
    w = rng.random(4)
    assert gradcheck(lambda x, t: F.binary_cross_entropy(x, t, weight=w, reduction=reduction), [p, b])
    assert gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, weight=w, pos_weight=np.array([1.0, 2.0, 0.5, 3.0]), reduction=reduction), [a, b])


def test_float32_kept_with_float64_constants(rng):
    """float64 NumPy targets, weights and pos_weight never widen a float32 loss or its gradient."""
    a = rng.standard_normal((4, 3)).astype(np.float32)
    p64, w64 = rng.random((4, 3)), rng.random(3)
    cases = [
        lambda x: F.mse_loss(x, p64, weight=rng.random((4, 3))),
        lambda x: F.huber_loss(x, p64, reduction="sum"),
        lambda x: F.smooth_l1_loss(x, p64, beta=0.5),
        lambda x: F.binary_cross_entropy_with_logits(x, p64, weight=w64, pos_weight=w64),
        lambda x: F.binary_cross_entropy(F.sigmoid(x), p64, weight=w64),
        lambda x: F.cross_entropy(x, np.array([0, 2, 1, 1]), weight=w64, label_smoothing=0.1),
        lambda x: F.cross_entropy(x, p64 / p64.sum(1, keepdims=True), weight=w64),
        lambda x: F.nll_loss(x, np.array([0, 2, 1, 1], dtype=np.int32), weight=w64),
    ]
    for i, fn in enumerate(cases):
        x = myelin.tensor(a, requires_grad=True)
        y = fn(x)
        # the op's own backward (before the engine's cast to the parent's dtype) stays float32 too
        raw = y._backward(np.ones(y.shape, np.float32))
        assert y.dtype == np.float32 and all(r.dtype == np.float32 for r in raw if r is not None), i


# ----------------------------------------------------------------------------- errors a user can act on
def test_class_target_out_of_range_names_op_value_and_classes():
    x = myelin.randn(4, 10)
    with pytest.raises(IndexError, match=r"cross_entropy: target 12 is out of range for 10 classes"):
        F.cross_entropy(x, np.array([1, 12, 3, 0]))
    with pytest.raises(IndexError, match=r"nll_loss: target -3 is out of range for 10 classes"):
        F.nll_loss(x, np.array([1, -3, 3, 0]))


def test_shape_mismatches_name_both_shapes():
    x = myelin.randn(4, 10)
    with pytest.raises(ValueError, match=r"cross_entropy: input \(4, 10\) needs a target of shape \(4,\), "
                                         r"received \(5,\)"):
        F.cross_entropy(x, np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(4, 1\) differs from input shape \(4,\)"):
        F.mse_loss(myelin.randn(4), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\), expected \(10,\)"):
        F.cross_entropy(x, np.zeros(4, dtype=np.int64), weight=np.ones(3))


def test_other_validation():
    x = myelin.randn(4, 3)
    with pytest.raises(TypeError, match="must hold integers"):
        F.cross_entropy(x, np.zeros(4, dtype=np.float32))
    with pytest.raises(ValueError, match="reduction must be"):
        F.mse_loss(x, np.zeros((4, 3)), reduction="average")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, np.zeros(4, dtype=np.int64), label_smoothing=1.5)
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        F.binary_cross_entropy(myelin.tensor([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(x, np.full((4, 3), 1 / 3, dtype=np.float32), ignore_index=0)
