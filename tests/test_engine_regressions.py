"""Bugs the engine fuzzer (test_engine_fuzz.py) found, each kept as a minimal example against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
import myelin.nn.functional as F


def _grad(t):
    g = t.grad
    return None if g is None else np.asarray(g.data if isinstance(g, myelin.Tensor) else g)


def _pair(torch, values, requires_grad=True):
    mine = myelin.tensor(np.asarray(values, np.float64), dtype=np.float64, requires_grad=requires_grad)
    theirs = torch.tensor(np.asarray(values, np.float64), requires_grad=requires_grad)
    return mine, theirs


def _same(mine, theirs):
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(np.asarray(mine.data), theirs.detach().numpy(), rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------- the root bug
def test_zero_dim_leaf_used_twice_accumulates_both_contributions(torch):
    """``x * x`` on a 0-d leaf: NumPy returned a scalar and ``+=`` rebound a name (gradient 1.5, not 3.0)."""
    x, xt = _pair(torch, 1.5)
    y, yt = x * x + x * 3.0, xt * xt + xt * 3.0
    y.backward()
    yt.backward()
    assert _grad(x).shape == ()
    np.testing.assert_allclose(_grad(x), xt.grad.numpy())
    assert float(_grad(x)) == pytest.approx(6.0)


# ----------------------------------------------------------------------------- reductions on 0-d tensors
@pytest.mark.parametrize("fn", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("dim", [0, -1, (0,)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reduction_with_dim_on_zero_dim_tensor(fn, dim, keepdim, torch):
    """``x.sum(dim=0)`` on a 0-d tensor raised NumPy's AxisError; PyTorch accepts dim 0 and -1."""
    x, xt = _pair(torch, 0.18859533164008996)
    y, yt = getattr(x, fn)(dim=dim, keepdim=keepdim), getattr(xt, fn)(dim=dim, keepdim=keepdim)
    _same(y, yt)
    y.backward(myelin.tensor(0.5, dtype=np.float64))
    yt.backward(torch.tensor(0.5, dtype=torch.float64))
    np.testing.assert_allclose(_grad(x), xt.grad.numpy())


@pytest.mark.parametrize("fn", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_on_zero_dim_tensor(fn, keepdim, torch):
    x, xt = _pair(torch, -0.75)
    y, yt = getattr(x, fn)(0, keepdim=keepdim), getattr(xt, fn)(0, keepdim=keepdim)
    _same(y.values, yt.values)
    assert int(y.indices.item()) == int(yt.indices.item()) == 0
    (y.values * 3).backward()
    (yt.values * 3).backward()
    np.testing.assert_allclose(_grad(x), xt.grad.numpy())


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is")
@pytest.mark.parametrize("correction", [0, 1])
def test_var_with_dim_on_zero_dim_tensor(correction, torch):
    x, xt = _pair(torch, 2.0)
    y, yt = x.var(dim=0, correction=correction), xt.var(dim=0, correction=correction)
    assert y.shape == ()
    if correction == 0:
        _same(y, yt)
    else:  # 0 / 0, as PyTorch
        assert np.isnan(y.data) and torch.isnan(yt)


def test_argmax_argmin_with_dim_on_zero_dim_tensor(torch):
    x, xt = _pair(torch, 2.0, requires_grad=False)
    assert x.argmax(0).item() == xt.argmax(0).item() == 0
    assert x.argmin(-1).shape == tuple(xt.argmin(-1).shape) == ()


def test_reduction_dim_out_of_range_on_zero_dim_tensor_still_raises():
    with pytest.raises(IndexError, match="out of range"):
        myelin.tensor(1.0).sum(dim=1)
    with pytest.raises(IndexError, match="out of range"):
        myelin.tensor(1.0).max(dim=-2)


# ----------------------------------------------------------------------------- softmax family
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_on_zero_dim_tensor(fn, dim, torch):
    """``x.softmax(0)`` on a 0-d tensor raised IndexError; PyTorch gives 1 (log_softmax: 0) and gradient 0."""
    x, xt = _pair(torch, 0.37)
    y, yt = getattr(F, fn)(x, dim=dim), getattr(torch.nn.functional, fn)(xt, dim=dim)
    _same(y, yt)
    (y * 2.0).backward()
    (yt * 2.0).backward()
    np.testing.assert_allclose(_grad(x), xt.grad.numpy())


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((0,), 0), ((0, 3), 0), ((0, 3), 1), ((2, 0), 0)])
def test_softmax_on_empty_tensor(fn, shape, dim, torch):
    """Softmax along an empty dim raised NumPy's "zero-size array to reduction operation maximum"."""
    x, xt = _pair(torch, np.zeros(shape))
    y, yt = getattr(x, fn)(dim), getattr(xt, fn)(dim)
    _same(y, yt)
    y.backward(myelin.zeros(shape, dtype=np.float64))
    yt.backward(torch.zeros(shape, dtype=torch.float64))
    assert _grad(x).shape == tuple(xt.grad.shape)


def test_softmax_dim_out_of_range_on_zero_dim_tensor_still_raises():
    with pytest.raises(IndexError, match="out of range"):
        F.softmax(myelin.tensor(1.0), dim=1)


# ----------------------------------------------------------------------------- max/min over a dim when another dim is empty
@pytest.mark.parametrize("fn", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_when_another_dim_is_empty(fn, keepdim, torch):
    """``x.max(0)`` on shape (2, 0, 2) raised "cannot reduce an empty tensor"; PyTorch returns shape (0, 2)."""
    x, xt = _pair(torch, np.zeros((2, 0, 2)))
    y, yt = getattr(x, fn)(0, keepdim=keepdim), getattr(xt, fn)(0, keepdim=keepdim)
    _same(y.values, yt.values)
    assert tuple(y.indices.shape) == tuple(yt.indices.shape)
    y.values.sum().backward()
    yt.values.sum().backward()
    assert _grad(x).shape == tuple(xt.grad.shape) == (2, 0, 2)


def test_max_over_an_empty_dim_still_raises(torch):
    with pytest.raises(ValueError, match="dim 1 of size 0"):
        myelin.zeros((2, 0, 2)).max(1)
    with pytest.raises(IndexError):  # PyTorch refuses too
        torch.zeros(2, 0, 2).max(1)


# ----------------------------------------------------------------------------- logsumexp on 0-d tensors
@pytest.mark.parametrize("dim", [0, -1, (0,)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_on_zero_dim_tensor(dim, keepdim, torch):
    """``x.logsumexp(0)`` on a 0-d tensor raised NumPy's AxisError; PyTorch gives x and gradient 1."""
    x, xt = _pair(torch, 0.18859533164008996)
    y, yt = x.logsumexp(dim, keepdim=keepdim), xt.logsumexp(dim, keepdim=keepdim)
    _same(y, yt)
    (y * 2.0).backward()
    (yt * 2.0).backward()
    np.testing.assert_allclose(_grad(x), xt.grad.numpy())


# ----------------------------------------------------------------------------- prod on 0-d tensors
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_with_dim_on_zero_dim_tensor(dim, keepdim, torch):
    """``x.prod(0)`` on a 0-d tensor: the backward raised NumPy's AxisError (moveaxis of a 0-d array)."""
    x, xt = _pair(torch, -1.25)
    y, yt = x.prod(dim, keepdim=keepdim), xt.prod(dim, keepdim=keepdim)
    _same(y, yt)
    (y * 2.0).backward()
    (yt * 2.0).backward()
    np.testing.assert_allclose(_grad(x), xt.grad.numpy())


# ----------------------------------------------------------------------------- norm on 0-d tensors
@pytest.mark.parametrize("p", [2, 1, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm_with_dim_on_zero_dim_tensor(p, keepdim, torch):
    """``x.norm(p=2, dim=0)`` on a 0-d tensor raised NumPy's AxisError; PyTorch gives |x|."""
    x, xt = _pair(torch, -0.6)
    y, yt = x.norm(p=p, dim=0, keepdim=keepdim), xt.norm(p=p, dim=0, keepdim=keepdim)
    _same(y, yt)
    (y * 2.0).backward()
    (yt * 2.0).backward()
    np.testing.assert_allclose(_grad(x), xt.grad.numpy())


# ----------------------------------------------------------------------------- logsumexp over an empty dim
@pytest.mark.parametrize("shape,dim", [((0, 0), 0), ((0, 3), 0), ((0, 3), 1), ((2, 0), (0, 1))])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_over_empty_dims(shape, dim, keepdim, torch):
    """``logsumexp`` over an empty dim raised "zero-size array to reduction operation maximum"; PyTorch gives -inf."""
    x, xt = _pair(torch, np.zeros(shape))
    y, yt = x.logsumexp(dim, keepdim=keepdim), xt.logsumexp(dim, keepdim=keepdim)
    _same(y, yt)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(_grad(x), xt.grad.numpy())
