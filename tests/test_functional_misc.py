"""myelin.nn.functional: linear, dropout, batch_norm, layer_norm, embedding, one_hot, penalties, pad."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
import myelin.nn.functional as F
from conftest import assert_close
from myelin.autograd import gradcheck
from myelin.core.shape import pad as core_pad

# Layers sum over batches/features: float32 parity at rtol 1e-4 / atol 1e-5 (docs/DESIGN.md, summation order).
LAYER = {"rtol": 1e-4, "atol": 1e-5}


def _leaf(a: np.ndarray, requires_grad: bool = True) -> myelin.Tensor:
    return myelin.tensor(a, dtype=a.dtype, requires_grad=requires_grad)


# ----------------------------------------------------------------------------- linear
@pytest.mark.parametrize("xshape", [(8, 6), (2, 3, 6), (6,)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_torch(torch, xshape, with_bias, rng):
    a = rng.standard_normal(xshape).astype(np.float32)
    w = rng.standard_normal((4, 6)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    x, wt, bt = _leaf(a), _leaf(w), _leaf(b)
    y = F.linear(x, wt, bt if with_bias else None)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (a, w, b))
    ty = torch.nn.functional.linear(tx, tw, tb if with_bias else None)
    ty.backward(torch.tensor(g))
    assert y.shape == tuple(ty.shape) and y.dtype == np.float32
    assert_close(y, ty, **LAYER)
    assert_close(x.grad, tx.grad, **LAYER)
    assert_close(wt.grad, tw.grad, **LAYER)
    if with_bias:
        assert_close(bt.grad, tb.grad, **LAYER)


def test_linear_gradcheck(rng):
    a, w, b = rng.standard_normal((2, 3, 5)), rng.standard_normal((4, 5)), rng.standard_normal(4)
    assert gradcheck(lambda x, w_, b_: F.linear(x, w_, b_), [a, w, b])
    assert gradcheck(lambda x, w_: F.linear(x, w_), [rng.standard_normal(5), w])


def test_linear_skips_input_grad_and_keeps_float64(rng):
    x = _leaf(rng.standard_normal((3, 5)), requires_grad=False)
    w = _leaf(rng.standard_normal((2, 5)))
    y = F.linear(x, w)
    y.sum().backward()
    assert x.grad is None and w.grad.dtype == np.float64 and y.dtype == np.float64
    assert_close(w.grad, np.ones((3, 2)).T @ x.data, rtol=1e-12)


def test_linear_shape_error_message():
    with pytest.raises(ValueError, match=r"^linear: input \(32, 64\) does not match weight \(10, 128\): "
                                         r"expected last dimension 128$"):
        F.linear(myelin.randn(32, 64), myelin.randn(10, 128))
    with pytest.raises(ValueError, match=r"bias \(3,\)"):
        F.linear(myelin.randn(2, 4), myelin.randn(5, 4), myelin.randn(3))


# ----------------------------------------------------------------------------- dropout
def test_dropout_statistics():
    x = myelin.ones(200_000, requires_grad=True)
    p = 0.3
    y = F.dropout(x, p=p)
    dropped = float((y.data == 0).mean())
    assert abs(dropped - p) < 0.005
    assert abs(float(y.data.mean()) - 1.0) < 0.01  # expectation kept by the 1 / (1 - p) scale
    assert np.allclose(y.data[y.data != 0], 1 / (1 - p))
    y.backward(np.full(y.shape, 2.0, dtype=np.float32))
    assert_close(x.grad, 2.0 * y.data)  # the same mask, scaled
    assert y.dtype == np.float32


def test_dropout_eval_identity_and_edge_probabilities():
    x = myelin.randn(5, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert (y.data == 0).all()
    y.sum().backward()
    assert (x.grad == 0).all()
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            F.dropout(x, bad)


def test_dropout_gradcheck(rng):
    def fn(x):
        myelin.manual_seed(3)  # the same mask on every evaluation
        return F.dropout(x, 0.4)

    assert gradcheck(fn, [rng.standard_normal((4, 5))])


def test_dropout_is_reproducible_and_keeps_float64():
    x = myelin.ones(1000, dtype=np.float64)
    myelin.manual_seed(7)
    a = F.dropout(x, 0.5).data
    myelin.manual_seed(7)
    b = F.dropout(x, 0.5).data
    assert a.dtype == np.float64 and np.array_equal(a, b)
    assert F.dropout(myelin.tensor(2.0), 0.5).shape == ()


# ----------------------------------------------------------------------------- batch_norm
@pytest.mark.parametrize("shape", [(16, 4), (8, 4, 5), (6, 4, 3, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_and_running_stats_match_torch(torch, shape, affine, rng):
    c = shape[1]
    w = (rng.random(c) + 0.5).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    rm, rv = np.zeros(c, np.float32), np.ones(c, np.float32)
    trm, trv = torch.zeros(c), torch.ones(c)
    wt, bt = _leaf(w), _leaf(b)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    for step in range(4):
        a = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        x = _leaf(a)
        y = F.batch_norm(x, rm, rv, wt if affine else None, bt if affine else None, training=True, momentum=0.2)
        y.backward(g)
        tx = torch.tensor(a, requires_grad=True)
        ty = torch.nn.functional.batch_norm(tx, trm, trv, tw if affine else None, tb if affine else None,
                                            training=True, momentum=0.2)
        ty.backward(torch.tensor(g))
        assert_close(y, ty, **LAYER)
        assert_close(x.grad, tx.grad, **LAYER)
    assert_close(rm, trm, **LAYER)
    assert_close(rv, trv, **LAYER)
    if affine:
        assert_close(wt.grad, tw.grad, **LAYER)
        assert_close(bt.grad, tb.grad, **LAYER)
    # evaluation uses the running statistics
    a = rng.standard_normal(shape).astype(np.float32)
    x = _leaf(a)
    y = F.batch_norm(x, rm, rv, wt if affine else None, bt if affine else None, training=False)
    y.backward(np.ones(shape, np.float32))
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.nn.functional.batch_norm(tx, trm, trv, tw if affine else None, tb if affine else None)
    ty.backward(torch.ones(shape))
    assert_close(y, ty, **LAYER)
    assert_close(x.grad, tx.grad, **LAYER)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training, rng):
    a = rng.standard_normal((5, 3, 2)) * 2 + 1
    w, b = rng.random(3) + 0.5, rng.standard_normal(3)
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    assert gradcheck(lambda x, w_, b_: F.batch_norm(x, rm.copy(), rv.copy(), w_, b_, training=training), [a, w, b])
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), [a])


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        F.batch_norm(myelin.randn(1, 3), np.zeros(3), np.ones(3), training=True)
    with pytest.raises(ValueError, match=r"running_mean has shape \(4,\), expected \(3,\)"):
        F.batch_norm(myelin.randn(2, 3), np.zeros(4), np.ones(3), training=True)


# ----------------------------------------------------------------------------- layer_norm
@pytest.mark.parametrize(("shape", "normalized"), [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5)), ((3, 7), 7)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(torch, shape, normalized, affine, rng):
    ns = (normalized,) if isinstance(normalized, int) else normalized
    a = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    w = (rng.random(ns) + 0.5).astype(np.float32)
    b = rng.standard_normal(ns).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    x, wt, bt = _leaf(a), _leaf(w), _leaf(b)
    y = F.layer_norm(x, normalized, wt if affine else None, bt if affine else None)
    y.backward(g)
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (a, w, b))
    ty = torch.nn.functional.layer_norm(tx, ns, tw if affine else None, tb if affine else None)
    ty.backward(torch.tensor(g))
    assert_close(y, ty, **LAYER)
    assert_close(x.grad, tx.grad, **LAYER)
    if affine:
        assert_close(wt.grad, tw.grad, **LAYER)
        assert_close(bt.grad, tb.grad, **LAYER)


def test_layer_norm_gradcheck_and_errors(rng):
    a = rng.standard_normal((3, 2, 4))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), [a, rng.random((2, 4)), rng.random((2, 4))])
    assert gradcheck(lambda x: F.layer_norm(x, 4), [a])
    with pytest.raises(ValueError, match=r"layer_norm: input \(3, 2, 4\) does not end with normalized_shape \(3,\)"):
        F.layer_norm(myelin.tensor(a), 3)


# ----------------------------------------------------------------------------- embedding and one_hot
@pytest.mark.parametrize("n_idx", [(4, 5), (30, 7)])  # few rows: np.add.at; many: the sorted reduceat path
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_embedding_matches_torch(torch, n_idx, padding_idx, scale_grad_by_freq, rng):
    w = rng.standard_normal((10, 3)).astype(np.float32)
    idx = rng.integers(0, 10, n_idx)
    idx[0, :3] = [2, 2, 9]  # repeats and padding rows
    wt = _leaf(w)
    y = F.embedding(myelin.tensor(idx), wt, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    tw = torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=padding_idx,
                                       scale_grad_by_freq=scale_grad_by_freq)
    ty.backward(torch.tensor(g))
    assert y.shape == n_idx + (3,)
    assert_close(y, ty)
    assert_close(wt.grad, tw.grad, **LAYER)


def test_embedding_max_norm_renormalises_like_torch(torch, rng):
    w = (rng.standard_normal((6, 4)) * 3).astype(np.float32)
    idx = np.array([[0, 1, 1], [4, 5, 0]])
    wt, tw = _leaf(w.copy()), torch.tensor(w.copy(), requires_grad=True)
    y = F.embedding(idx, wt, max_norm=1.5)
    ty = torch.nn.functional.embedding(torch.tensor(idx), tw, max_norm=1.5)
    assert_close(y, ty)
    assert_close(wt.data, tw.detach())  # rows 0, 1, 4, 5 renormalised in place; 2, 3 untouched


def test_embedding_gradcheck_and_errors(rng):
    idx = np.array([[1, 3, 1], [0, 3, 3]])
    assert gradcheck(lambda w: F.embedding(idx, w), [rng.standard_normal((4, 2))])
    big = rng.integers(0, 5, 80)  # more than 64 lookups: the sort + reduceat scatter
    assert gradcheck(lambda w: F.embedding(big, w), [rng.standard_normal((5, 2))])
    w = _leaf(rng.standard_normal((4, 2)))
    F.embedding(idx, w, padding_idx=0).sum().backward()  # padding row: used forward, never updated
    assert (w.grad[0] == 0).all() and (w.grad[3] == 3).all()
    with pytest.raises(IndexError, match=r"embedding: index 4 is out of range for 4 embeddings"):
        F.embedding(np.array([0, 4]), myelin.randn(4, 2))
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        F.embedding(np.array([-1, 2]), myelin.randn(4, 2))
    with pytest.raises(TypeError, match="indices must be integers"):
        F.embedding(np.array([0.0, 1.0]), myelin.randn(4, 2))


def test_one_hot_matches_torch(torch):
    labels = np.array([[0, 2], [3, 1]])
    for n in (-1, 6):
        y = F.one_hot(myelin.tensor(labels), n)
        ty = torch.nn.functional.one_hot(torch.tensor(labels), n)
        assert y.dtype == np.int64 and not y.requires_grad
        assert np.array_equal(y.data, ty.numpy())
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        F.one_hot(labels, 3)


# ----------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ops_keep_the_input_dtype(dtype, rng):
    def t(*shape):
        return _leaf(rng.standard_normal(shape).astype(dtype))

    x, w, b = t(6, 4), t(4), t(4)
    cases = {
        "linear": lambda: F.linear(x, t(3, 4), t(3)),
        "dropout": lambda: F.dropout(x, 0.5),
        "batch_norm train": lambda: F.batch_norm(x, np.zeros(4), np.ones(4), w, b, training=True),
        "batch_norm eval": lambda: F.batch_norm(x, np.zeros(4), np.ones(4), w, b, training=False),
        "layer_norm": lambda: F.layer_norm(x, (4,), w, b),
        "embedding": lambda: F.embedding(np.array([1, 0, 3]), x),
        "l2_penalty": lambda: F.l2_penalty([x, w]),
    }
    for name, fn in cases.items():
        y = fn()
        raw = y._backward(np.ones(y.shape, dtype))  # each op's own gradients, before the engine casts them
        assert y.dtype == dtype, name
        assert all(r.dtype == dtype for r in raw if r is not None), name


# ----------------------------------------------------------------------------- penalties and pad
def test_penalties_values_and_gradients(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(5)
    p, q = _leaf(a.astype(np.float32)), _leaf(b.astype(np.float32))
    loss = 0.1 * F.l2_penalty(iter([p, q])) + 0.01 * F.l1_penalty([p, q])
    loss.backward()
    assert loss.dtype == np.float32
    assert_close(loss, 0.1 * ((a**2).sum() + (b**2).sum()) + 0.01 * (np.abs(a).sum() + np.abs(b).sum()), rtol=1e-5)
    assert_close(p.grad, 0.2 * a + 0.01 * np.sign(a), rtol=1e-5)
    assert_close(q.grad, 0.2 * b + 0.01 * np.sign(b), rtol=1e-5)
    assert gradcheck(lambda x, y: F.l2_penalty([x, y]), [a, b])
    assert gradcheck(lambda x: F.l1_penalty(x), [a])  # a single tensor is accepted too
    assert F.l2_penalty([]).item() == 0.0
    with pytest.raises(TypeError, match="item 1 is a ndarray"):
        F.l2_penalty([p, a])


def test_penalties_match_torch_expressions(torch, rng):
    arrays = [rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(7).astype(np.float32)]
    mine = [_leaf(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = F.l2_penalty(mine) + 0.5 * F.l1_penalty(mine)
    ty = sum((p**2).sum() for p in theirs) + 0.5 * sum(p.abs().sum() for p in theirs)
    y.backward()
    ty.backward()
    assert_close(y, ty)
    for p, tp in zip(mine, theirs):
        assert_close(p.grad, tp.grad)


def test_pad_constant_mode_is_the_core_op():
    # F.pad adds PyTorch's reflect/replicate/circular modes (nn/functional/padding.py); constant padding
    # (any number of dimensions, negative pads crop) is the core op itself
    x = myelin.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(F.pad(x, (2, -1, 1, 0), value=3.0).data, core_pad(x, (2, -1, 1, 0), value=3.0).data)
    assert F.pad(x, (1, 1))._op == "pad"  # the core op's node (ONNX exports it as Pad)
    y = F.pad(myelin.ones(2, 2), (1, 1))
    assert y.shape == (2, 4)
