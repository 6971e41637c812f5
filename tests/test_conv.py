"""Convolution: float64 gradchecks, PyTorch parity across the argument grid, errors, modules."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import myelin
from conftest import assert_close
from myelin.autograd.gradcheck import gradcheck
from myelin.nn.conv import Conv1d, Conv2d
from myelin.nn.functional._fast.conv import conv1d, conv2d, pad2d
from myelin.nn.module import Module

RTOL, ATOL = 1e-4, 1e-5
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _t(rng: np.random.Generator, *shape: int, dtype: type = np.float32, grad: bool = True) -> myelin.Tensor:
    return myelin.tensor(rng.standard_normal(shape), requires_grad=grad, dtype=dtype)


# ----------------------------------------------------------------------------- gradchecks (float64)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"stride": 2, "padding": 1},
        {"padding": (1, 2), "dilation": (2, 1)},
        {"padding": "same", "dilation": 2},
        {"padding": "same"},  # even kernel width: asymmetric padding
        {"stride": (2, 1), "groups": 2},
        {"padding": 1, "groups": 4},  # depthwise
    ],
)
def test_conv2d_gradcheck(rng, kwargs):
    groups = kwargs.get("groups", 1)
    x = _t(rng, 2, 4, 5, 6, dtype=np.float64)
    w = _t(rng, 4, 4 // groups, 3, 2, dtype=np.float64)
    b = _t(rng, 4, dtype=np.float64)
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, **kwargs), [x, w, b])


def test_conv2d_depthwise_multiplier_gradcheck(rng):
    x, w, b = _t(rng, 2, 2, 5, 6, dtype=np.float64), _t(rng, 6, 1, 3, 2, dtype=np.float64), _t(rng, 6, dtype=np.float64)
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2), [x, w, b])


def test_conv2d_gradcheck_no_bias_unbatched(rng):
    x, w = _t(rng, 3, 5, 4, dtype=np.float64), _t(rng, 2, 3, 2, 2, dtype=np.float64)
    assert gradcheck(lambda x, w: conv2d(x, w, None, stride=(1, 2), padding=1), [x, w])


def test_conv1d_and_pad2d_gradcheck(rng):
    x, w = _t(rng, 2, 3, 7, dtype=np.float64), _t(rng, 4, 3, 3, dtype=np.float64)
    assert gradcheck(lambda x, w: conv1d(x, w, stride=2, padding=2, dilation=2), [x, w])
    y = _t(rng, 2, 2, 4, 5, dtype=np.float64)
    for mode in ("reflect", "replicate", "circular", "zeros"):
        assert gradcheck(lambda y, mode=mode: pad2d(y, (2, 1, 3, 1), mode), [y])


def test_gradcheck_catches_a_wrong_gradient(rng):
    """The oracle can fail: a conv whose weight gradient is scaled by 1.01 is rejected."""
    x, w = _t(rng, 1, 2, 4, 4, dtype=np.float64), _t(rng, 2, 2, 3, 3, dtype=np.float64)

    def bad(x, w):
        out = conv2d(x, w)
        inner = out._backward
        out._backward = lambda g: tuple(None if v is None else v * 1.01 for v in inner(g))
        return out

    with pytest.raises(AssertionError):
        gradcheck(bad, [x, w])


# ----------------------------------------------------------------------------- PyTorch parity
def _grid() -> list[tuple]:
    cases = []
    kernels = [3, (2, 3), (3, 1), 1]
    for n, (stride, padding, dilation, groups) in enumerate(
        itertools.product([1, 2], [0, 1, "same", "valid", (1, 2)], [1, 2], [1, 2, "dw"])
    ):
        if padding == "same" and stride != 1:
            continue
        cases.append((stride, padding, dilation, groups, n % 2 == 0, kernels[n % 4], 1 + 2 * (n % 2)))
    return cases


def _twin(torch, module: Conv2d | Conv1d):
    cls = torch.nn.Conv2d if isinstance(module, Conv2d) else torch.nn.Conv1d
    twin = cls(module.in_channels, module.out_channels, module.kernel_size, module.stride, module.padding,
               module.dilation, module.groups, module.bias is not None, module.padding_mode)
    twin.load_state_dict({k: torch.tensor(v) for k, v in module.state_dict().items()})
    return twin


def _compare(torch, module, twin, x: np.ndarray, rng, atol: float = ATOL) -> None:
    xm = myelin.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out, ref = module(xm), twin(xt)
    assert out.dtype == np.float32
    assert_close(out, ref, RTOL, atol, "output")
    g = rng.standard_normal(ref.shape).astype(np.float32)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert_close(xm.grad, xt.grad, RTOL, atol, "input grad")
    assert_close(module.weight.grad, twin.weight.grad, RTOL, atol * 10, "weight grad")
    if module.bias is not None:
        assert_close(module.bias.grad, twin.bias.grad, RTOL, atol * 10, "bias grad")


@pytest.mark.parametrize("stride,padding,dilation,groups,bias,kernel,batch", _grid())
def test_conv2d_matches_torch(torch, rng, stride, padding, dilation, groups, bias, kernel, batch):
    cin, cout = 4, 6 if groups != "dw" else 8
    g = cin if groups == "dw" else groups
    module = Conv2d(cin, cout, kernel, stride, padding, dilation, g, bias)
    _compare(torch, module, _twin(torch, module), rng.standard_normal((batch, cin, 9, 8)).astype(np.float32), rng)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding,stride", [(2, 1), ((1, 2), 2), ("same", 1)])
def test_conv2d_padding_modes_match_torch(torch, rng, mode, padding, stride):
    module = Conv2d(3, 4, (3, 4), stride=stride, padding=padding, padding_mode=mode)
    _compare(torch, module, _twin(torch, module), rng.standard_normal((2, 3, 7, 9)).astype(np.float32), rng)


def test_conv2d_unbatched_and_larger_matches_torch(torch, rng):
    module = Conv2d(3, 5, 3, padding=1)
    _compare(torch, module, _twin(torch, module), rng.standard_normal((3, 11, 13)).astype(np.float32), rng)
    module = Conv2d(32, 64, 3, padding=1)  # the benchmark CNN's second layer
    x = rng.standard_normal((4, 32, 14, 14)).astype(np.float32)
    # float32 sums of 288 (forward) and 784 (weight gradient) terms: atol scaled to the values' size
    _compare(torch, module, _twin(torch, module), x, rng, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs", [{}, {"stride": 2, "padding": 1}, {"padding": "same", "dilation": 2}, {"groups": 3, "bias": False},
               {"padding": 2, "padding_mode": "reflect"}, {"padding": "same", "padding_mode": "circular"}]
)
@pytest.mark.parametrize("shape", [(2, 3, 10), (3, 9)])
def test_conv1d_matches_torch(torch, rng, kwargs, shape):
    module = Conv1d(3, 6, 4, **kwargs)
    _compare(torch, module, _twin(torch, module), rng.standard_normal(shape).astype(np.float32), rng)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3), cin=st.integers(1, 4), cout=st.integers(1, 4), h=st.integers(1, 9), w=st.integers(1, 9),
    kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
    ph=st.integers(0, 2), pw=st.integers(0, 2), dh=st.integers(1, 2), dw=st.integers(1, 2),
)
def test_conv2d_random_geometry_matches_torch(n, cin, cout, h, w, kh, kw, sh, sw, ph, pw, dh, dw):
    torch = pytest.importorskip("torch")
    if h + 2 * ph < dh * (kh - 1) + 1 or w + 2 * pw < dw * (kw - 1) + 1:
        return  # no output; the error is tested separately
    rng = np.random.default_rng(n * 1000 + h * 10 + w)
    x, wt = rng.standard_normal((n, cin, h, w)), rng.standard_normal((cout, cin, kh, kw))
    x, wt = x.astype(np.float32), wt.astype(np.float32)
    xm, wm = myelin.tensor(x, requires_grad=True), myelin.tensor(wt, requires_grad=True)
    xt, wtt = torch.tensor(x, requires_grad=True), torch.tensor(wt, requires_grad=True)
    out = conv2d(xm, wm, None, (sh, sw), (ph, pw), (dh, dw))
    ref = torch.nn.functional.conv2d(xt, wtt, None, (sh, sw), (ph, pw), (dh, dw))
    assert_close(out, ref, RTOL, ATOL)
    g = rng.standard_normal(ref.shape).astype(np.float32)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert_close(xm.grad, xt.grad, RTOL, ATOL)
    assert_close(wm.grad, wtt.grad, RTOL, ATOL)


# ----------------------------------------------------------------------------- behaviour
def test_conv2d_skips_input_grad_and_builds_no_graph_under_no_grad(rng):
    x, w = _t(rng, 2, 3, 6, 6, grad=False), _t(rng, 4, 3, 3, 3)
    out = conv2d(x, w, padding=1)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert x.grad is None and w.grad is not None and w.grad.shape == w.shape
    expected = out.data.sum()
    assert np.isclose((w.grad * w.data).sum(), expected - 0, rtol=1e-4)  # linear in w, no bias
    with myelin.no_grad():
        y = conv2d(_t(rng, 2, 3, 6, 6), w)
    assert not y.requires_grad and y._backward is None


def test_conv2d_keeps_dtype(rng):
    for dtype in (np.float32, np.float64):
        out = conv2d(_t(rng, 1, 2, 5, 5, dtype=dtype), _t(rng, 3, 2, 3, 3, dtype=dtype), _t(rng, 3, dtype=dtype))
        assert out.dtype == dtype
        out.sum().backward()


def test_conv2d_module_init_follows_pytorch():
    myelin.manual_seed(3)
    a = Conv2d(8, 16, (3, 5), groups=2)
    bound = 1 / math.sqrt(4 * 3 * 5)
    assert a.weight.shape == (16, 4, 3, 5) and a.weight.dtype == np.float32
    assert np.abs(a.weight.data).max() <= bound and np.abs(a.weight.data).max() > 0.9 * bound
    assert np.abs(a.bias.data).max() <= bound
    assert a.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)  # U(-b, b) has std b/sqrt(3)
    myelin.manual_seed(3)
    b = Conv2d(8, 16, (3, 5), groups=2)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert Conv2d(2, 2, 1, bias=False).bias is None


def test_conv_reprs_and_state_dict_match_torch(torch):
    cases = [
        ((3, 16, 3), {}),
        ((3, 16, (3, 5)), {"stride": 2, "padding": 1, "dilation": 2, "groups": 1, "bias": False}),
        ((4, 8, 3), {"padding": "same", "groups": 4, "padding_mode": "reflect"}),
        ((4, 8, 2), {"padding": "valid"}),
    ]
    for args, kwargs in cases:
        assert repr(Conv2d(*args, **kwargs)) == repr(torch.nn.Conv2d(*args, **kwargs))
        assert list(Conv2d(*args, **kwargs).state_dict()) == list(torch.nn.Conv2d(*args, **kwargs).state_dict())
    assert repr(Conv1d(3, 4, 5, stride=2)) == repr(torch.nn.Conv1d(3, 4, 5, stride=2))
    assert repr(Conv2d(3, 16, 3)) == "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1))"


def test_conv2d_config_round_trip():
    m = Conv2d(3, 8, (3, 2), stride=2, padding=(1, 0), bias=False)
    cfg = m.get_config()
    assert cfg["type"] == "Conv2d" and cfg["args"]["out_channels"] == 8
    from myelin.nn.registry import from_config

    again = from_config(cfg)
    assert repr(again) == repr(m) and again.weight.shape == m.weight.shape


# ----------------------------------------------------------------------------- errors
def test_conv2d_module_shape_error_names_place_and_both_sides():
    parent = Module()
    parent.features = Module()
    parent.features.add_module("0", Conv2d(3, 16, 3))
    with pytest.raises(ValueError) as err:
        parent.features._modules["0"](myelin.randn(8, 1, 28, 28))
    msg = str(err.value)
    assert msg.startswith("Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1)) at 'features.0'")
    assert "expected input (N, 3, H, W), got (8, 1, 28, 28)" in msg
    with pytest.raises(ValueError, match=r"expected input \(N, 3, H, W\), got \(28, 28\)"):
        Conv2d(3, 16, 3)(myelin.randn(28, 28))


def test_conv2d_module_input_too_small_names_both_sizes():
    with pytest.raises(ValueError) as err:
        Conv2d(2, 4, 5, padding=1)(myelin.randn(1, 2, 2, 9))
    msg = str(err.value)
    assert "(2, 9)" in msg and "kernel_size=(5, 5)" in msg and "(0, 7)" in msg and "at 'Conv2d'" in msg
    with pytest.raises(ValueError, match="dilation"):
        Conv1d(2, 4, 3, dilation=4)(myelin.randn(1, 2, 6))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"in_channels": 3, "out_channels": 4, "kernel_size": 3, "groups": 2}, "in_channels=3 must be divisible by groups=2"),
        ({"in_channels": 4, "out_channels": 6, "kernel_size": 3, "groups": 4}, "out_channels=6 must be divisible by groups=4"),
        ({"in_channels": 4, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": "same"}, "strided"),
        ({"in_channels": 4, "out_channels": 4, "kernel_size": 3, "padding": "full"}, "padding"),
        ({"in_channels": 4, "out_channels": 4, "kernel_size": 0}, "kernel_size must be at least 1"),
        ({"in_channels": 4, "out_channels": 4, "kernel_size": 3, "padding": -1}, "padding must be at least 0"),
        ({"in_channels": 4, "out_channels": 4, "kernel_size": (3, 3, 3)}, "kernel_size must be an int or 2 ints"),
        ({"in_channels": 4, "out_channels": 4, "kernel_size": 3, "padding_mode": "mirror"}, "padding_mode"),
    ],
)
def test_conv2d_module_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2d(**kwargs)


def test_conv2d_functional_errors(rng):
    x, w = _t(rng, 2, 4, 6, 6), _t(rng, 8, 2, 3, 3)
    with pytest.raises(ValueError, match=r"input has 4 channels .* expects 2"):
        conv2d(x, w)
    with pytest.raises(ValueError, match=r"out_channels=8 .* not divisible by groups=3"):
        conv2d(x, _t(rng, 8, 1, 3, 3), groups=3)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C, H, W\)"):
        conv2d(_t(rng, 4, 6), w)
    with pytest.raises(ValueError, match="expected weight"):
        conv2d(x, _t(rng, 8, 4, 3))
    with pytest.raises(ValueError, match=r"bias of shape \(8,\)"):
        conv2d(x, w, _t(rng, 4), groups=2)
    with pytest.raises(ValueError, match="strided"):
        conv2d(x, w, stride=2, padding="same", groups=2)
    with pytest.raises(ValueError, match=r"\(6, 6\).* too small .*\(7, 7\).*\(0, 0\)"):
        conv2d(x, _t(rng, 8, 4, 7, 7))
    with pytest.raises(ValueError, match="stride to be positive"):
        conv2d(x, w, stride=0, groups=2)
    with pytest.raises(TypeError, match="dtype"):
        conv2d(x, _t(rng, 8, 2, 3, 3, dtype=np.float64), groups=2)
    with pytest.raises(TypeError, match="stride as an int or a pair"):
        conv2d(x, w, stride=(1, 2, 3), groups=2)
    with pytest.raises(ValueError, match="reflect padding"):
        pad2d(x, (6, 0, 0, 0), "reflect")
