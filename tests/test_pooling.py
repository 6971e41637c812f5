"""Pooling: float64 gradchecks, PyTorch parity (forward, gradient, indices, ties), errors, modules."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin.autograd.gradcheck import gradcheck
from myelin.nn.functional._fast.pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from myelin.nn.module import Module
from myelin.nn.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d

MAX_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 2, "stride": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)},
    {"kernel_size": 2, "stride": 3},
    {"kernel_size": 3, "stride": 1, "dilation": 2, "padding": 1},
    {"kernel_size": (1, 3), "stride": (2, 2), "ceil_mode": True},
]
AVG_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1), "ceil_mode": True},
    {"kernel_size": 2, "stride": 3},
    {"kernel_size": 3, "stride": 2, "padding": 1, "divisor_override": 5},
]
SHAPES = [(2, 3, 8, 8), (1, 2, 7, 9), (3, 6, 5)]
ADAPTIVE_SIZES = [1, 2, 3, (2, 3), (5, 4), (4, None), (7, 9), (10, 3)]


def _x(rng, shape, ties: bool = False, dtype=np.float32) -> np.ndarray:
    x = rng.standard_normal(shape)
    return (np.round(x * 2) if ties else x).astype(dtype)


def _compare(torch, ours, theirs, x: np.ndarray, rng, indices: bool = False) -> None:
    xm, xt = myelin.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xm), theirs(xt)
    if indices:
        np.testing.assert_array_equal(out[1].data, ref[1].numpy())
        assert out[1].dtype == np.int64
        out, ref = out[0], ref[0]
    assert out.shape == tuple(ref.shape) and out.dtype == np.float32
    assert_close(out, ref, 1e-5, 1e-6, "output")
    g = rng.standard_normal(ref.shape).astype(np.float32)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert_close(xm.grad, xt.grad, 1e-5, 1e-6, "input grad")


# ----------------------------------------------------------------------------- PyTorch parity
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kwargs", MAX_CASES)
def test_max_pool2d_matches_torch_with_ties(torch, rng, kwargs, shape):
    """Rounded inputs tie often: the gradient must go to the first maximum in window order, as PyTorch."""
    x = _x(rng, shape, ties=True)
    F = torch.nn.functional
    _compare(torch, lambda t: max_pool2d(t, **kwargs), lambda t: F.max_pool2d(t, **kwargs), x, rng)
    _compare(torch, lambda t: max_pool2d(t, return_indices=True, **kwargs),
             lambda t: F.max_pool2d(t, return_indices=True, **kwargs), x, rng, indices=True)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("kwargs", AVG_CASES)
def test_avg_pool2d_matches_torch(torch, rng, kwargs, count_include_pad, shape):
    x = _x(rng, shape)
    F = torch.nn.functional
    _compare(torch, lambda t: avg_pool2d(t, count_include_pad=count_include_pad, **kwargs),
             lambda t: F.avg_pool2d(t, count_include_pad=count_include_pad, **kwargs), x, rng)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", ADAPTIVE_SIZES)
def test_adaptive_pools_match_torch(torch, rng, size, shape):
    F = torch.nn.functional
    _compare(torch, lambda t: adaptive_avg_pool2d(t, size), lambda t: F.adaptive_avg_pool2d(t, size),
             _x(rng, shape), rng)
    x = _x(rng, shape, ties=True)
    _compare(torch, lambda t: adaptive_max_pool2d(t, size), lambda t: F.adaptive_max_pool2d(t, size), x, rng)
    _compare(torch, lambda t: adaptive_max_pool2d(t, size, return_indices=True),
             lambda t: F.adaptive_max_pool2d(t, size, return_indices=True), x, rng, indices=True)


def test_pools_after_channels_last_conv_output_match_torch(torch, rng):
    """Conv outputs are channels-last views; pooling them (and their gradients) must not care."""
    from myelin.nn.functional._fast.conv import conv2d

    x, w = _x(rng, (4, 3, 12, 12)), _x(rng, (8, 3, 3, 3))
    xm, wm = myelin.tensor(x, requires_grad=True), myelin.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    F = torch.nn.functional
    out = max_pool2d(conv2d(xm, wm, padding=1), 2) + avg_pool2d(conv2d(xm, wm, padding=1), 3, 2, 1) [..., :6, :6]
    ref = F.max_pool2d(F.conv2d(xt, wt, padding=1), 2) + F.avg_pool2d(F.conv2d(xt, wt, padding=1), 3, 2, 1)[..., :6, :6]
    assert_close(out, ref, 1e-4, 1e-5)
    g = _x(rng, tuple(ref.shape))
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert_close(xm.grad, xt.grad, 1e-4, 1e-5)
    assert_close(wm.grad, wt.grad, 1e-4, 1e-4)


def test_pool_modules_match_torch_and_reprs(torch, rng):
    pairs = [
        (MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (MaxPool2d((3, 2), stride=1, padding=1, dilation=1, ceil_mode=True),
         torch.nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=1, ceil_mode=True)),
        (AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1)),
        (AvgPool2d(2, ceil_mode=True, count_include_pad=False), torch.nn.AvgPool2d(2, ceil_mode=True,
                                                                                   count_include_pad=False)),
        (AdaptiveAvgPool2d((None, 3)), torch.nn.AdaptiveAvgPool2d((None, 3))),
        (AdaptiveMaxPool2d(3), torch.nn.AdaptiveMaxPool2d(3)),
    ]
    x = _x(rng, (2, 3, 9, 7))
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        _compare(torch, ours, theirs, x, rng)
    _out, idx = MaxPool2d(2, return_indices=True)(myelin.tensor(x))
    _ref, ref_idx = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(idx.data, ref_idx.numpy())


# ----------------------------------------------------------------------------- gradchecks (float64)
@pytest.mark.parametrize("kwargs", MAX_CASES[:6])
def test_max_pool2d_gradcheck(rng, kwargs):
    x = myelin.tensor(rng.standard_normal((2, 2, 7, 6)), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda t: max_pool2d(t, **kwargs), [x])


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("kwargs", AVG_CASES)
def test_avg_pool2d_gradcheck(rng, kwargs, count_include_pad):
    x = myelin.tensor(rng.standard_normal((2, 2, 7, 6)), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda t: avg_pool2d(t, count_include_pad=count_include_pad, **kwargs), [x])


@pytest.mark.parametrize("size", [1, 2, 3, (4, 5), (6, 7)])
def test_adaptive_pools_gradcheck(rng, size):
    x = myelin.tensor(rng.standard_normal((2, 2, 6, 5)), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda t: adaptive_avg_pool2d(t, size), [x])
    assert gradcheck(lambda t: adaptive_max_pool2d(t, size), [x])
    y = myelin.tensor(rng.standard_normal((3, 5, 5)), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda t: max_pool2d(t, 2, 1, ceil_mode=True), [y])


def test_pools_keep_float64_and_build_no_graph_under_no_grad(rng):
    x = myelin.tensor(rng.standard_normal((1, 2, 6, 6)), requires_grad=True, dtype=np.float64)
    for f in (lambda t: max_pool2d(t, 2), lambda t: avg_pool2d(t, 3, 1, 1), lambda t: adaptive_avg_pool2d(t, 4),
              lambda t: adaptive_max_pool2d(t, 4)):
        assert f(x).dtype == np.float64
        with myelin.no_grad():
            y = f(x)
        assert not y.requires_grad and y._backward is None


def test_max_pool2d_nan_propagates(rng):
    x = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    x[0, 0, 1, 1] = np.nan
    out = max_pool2d(myelin.tensor(x), 2).data
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])


# ----------------------------------------------------------------------------- errors
def test_pool_module_errors_name_place_and_sizes():
    parent = Module()
    parent.pool = MaxPool2d(3)
    with pytest.raises(ValueError) as err:
        parent.pool(myelin.randn(1, 2, 2, 5))
    msg = str(err.value)
    assert msg.startswith("MaxPool2d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False) at 'pool'")
    assert "(2, 5)" in msg and "(3, 3)" in msg
    with pytest.raises(ValueError, match=r"expected input \(N, C, H, W\) or \(C, H, W\), got \(4, 4\)"):
        AvgPool2d(2)(myelin.randn(4, 4))
    with pytest.raises(ValueError, match=r"expected input \(N, C, H, W\)"):
        AdaptiveAvgPool2d(2)(myelin.randn(1, 1, 1, 4, 4))


@pytest.mark.parametrize(
    "build,exc,match",
    [
        (lambda: MaxPool2d(0), ValueError, "kernel_size must be at least 1"),
        (lambda: MaxPool2d(2, stride=0), ValueError, "stride must be at least 1"),
        (lambda: MaxPool2d(2, padding=-1), ValueError, "padding must be at least 0"),
        (lambda: MaxPool2d("2"), TypeError, "kernel_size must be an int or a pair"),
        (lambda: MaxPool2d(2, ceil_mode=1), TypeError, "ceil_mode"),
        (lambda: AvgPool2d(2, divisor_override=0), ValueError, "divisor_override"),
        (lambda: AdaptiveAvgPool2d(0), ValueError, "output_size must be positive"),
        (lambda: AdaptiveMaxPool2d((2, 2.5)), TypeError, "output_size"),
    ],
)
def test_pool_module_bad_arguments(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_pool_functional_errors(rng):
    x = myelin.tensor(rng.standard_normal((1, 2, 6, 6)).astype(np.float32))
    with pytest.raises(ValueError, match="at most half"):
        max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="at most half"):
        avg_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"\(6, 6\).*too small.*\(7, 7\)"):
        max_pool2d(x, 7)
    with pytest.raises(ValueError, match=r"expected input of shape"):
        avg_pool2d(myelin.tensor(np.zeros((6, 6), np.float32)), 2)
    with pytest.raises(ValueError, match="output_size"):
        adaptive_avg_pool2d(x, (0, 2))
    with pytest.raises(TypeError, match="floating-point"):
        max_pool2d(myelin.tensor(np.zeros((1, 1, 4, 4), np.int64)), 2)
