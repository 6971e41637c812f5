"""``myelin.nn.init`` against ``torch.nn.init``: gains, fans, distributions, in-place semantics."""

from __future__ import annotations

import math

import numpy as np
import pytest

import myelin
from myelin.nn import init
from myelin.nn.parameter import Parameter


@pytest.mark.parametrize("name, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None), ("conv_transpose1d", None),
])
def test_calculate_gain_matches_pytorch(torch, name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_rejects_unknown_names():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "big")


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (2, 3, 4), (6, 2, 7)])
def test_fan_in_and_fan_out_match_pytorch(torch, shape):
    ours = init._calculate_fan_in_and_fan_out(np.empty(shape, dtype=np.float32))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(Parameter(np.zeros(5, dtype=np.float32)))


SHAPES = [(300, 400), (64, 32, 3, 3)]


def _spread(arr):
    return arr.std(), np.abs(arr).max()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, kwargs, kind, scale", [
    ("xavier_uniform_", {}, "uniform", lambda fi, fo: math.sqrt(6 / (fi + fo))),
    ("xavier_uniform_", {"gain": 2.0}, "uniform", lambda fi, fo: 2 * math.sqrt(6 / (fi + fo))),
    ("xavier_normal_", {}, "normal", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    ("kaiming_uniform_", {}, "uniform", lambda fi, fo: math.sqrt(2 / (1 + 0.0)) * math.sqrt(3 / fi)),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, "uniform", lambda fi, fo: 1 / math.sqrt(fi)),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, "uniform",
     lambda fi, fo: math.sqrt(2) * math.sqrt(3 / fo)),
    ("kaiming_normal_", {}, "normal", lambda fi, fo: math.sqrt(2 / fi)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "tanh"}, "normal", lambda fi, fo: 5 / 3 / math.sqrt(fo)),
])
def test_random_inits_have_pytorchs_distribution(torch, shape, name, kwargs, kind, scale):
    p = Parameter(np.empty(shape, dtype=np.float32))
    out = getattr(init, name)(p, **kwargs)
    assert out is p
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(p)
    s = scale(fan_in, fan_out)  # the uniform bound or the normal std
    w = p.data
    expected_std = s / math.sqrt(3) if kind == "uniform" else s
    assert abs(w.std() - expected_std) < 0.03 * expected_std
    assert abs(w.mean()) < 0.03 * expected_std
    if kind == "uniform":
        assert np.abs(w).max() <= s * (1 + 1e-6) and np.abs(w).max() > 0.99 * s
    else:
        assert np.abs(w).max() > 3 * s  # a normal, not a bounded, distribution
    t = torch.empty(shape)
    getattr(torch.nn.init, name)(t, **kwargs)
    assert abs(w.std() - t.std().item()) < 0.03 * expected_std


def test_uniform_normal_and_trunc_normal():
    p = Parameter(np.empty((200, 500), dtype=np.float32))
    init.uniform_(p, -2.0, 3.0)
    assert p.data.min() >= -2.0 and p.data.max() <= 3.0 and abs(p.data.mean() - 0.5) < 0.02
    init.normal_(p, 1.0, 0.5)
    assert abs(p.data.mean() - 1.0) < 0.01 and abs(p.data.std() - 0.5) < 0.01
    init.trunc_normal_(p, 0.0, 1.0, -1.0, 2.0)
    assert p.data.min() >= -1.0 and p.data.max() <= 2.0 and p.data.min() < -0.99


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (8, 4, 3, 3)])
def test_orthogonal(torch, shape):
    p = Parameter(np.empty(shape, dtype=np.float32))
    init.orthogonal_(p, gain=2.0)
    flat = p.data.reshape(shape[0], -1) / 2.0
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(np.zeros(3, dtype=np.float32))


def test_constant_fills_and_in_place_semantics():
    t = myelin.zeros(3, 4)
    data = t.data
    assert init.ones_(t) is t and t.data is data and np.all(data == 1)
    init.zeros_(t)
    assert np.all(data == 0)
    init.constant_(t, 0.25)
    assert np.all(data == 0.25)
    init.eye_(t)
    np.testing.assert_array_equal(data, np.eye(3, 4))
    arr = np.empty((5, 5), dtype=np.float64)
    assert init.xavier_uniform_(arr) is arr and arr.dtype == np.float64
    assert np.abs(arr).max() <= math.sqrt(6 / 10)
    view = np.zeros((4, 4), dtype=np.float32)[1:3]  # views are filled in place too
    init.ones_(view)
    assert np.all(view == 1)


def test_errors():
    with pytest.raises(TypeError, match="expected a floating-point tensor"):
        init.ones_(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="expected a myelin Tensor, Parameter or NumPy array"):
        init.zeros_([1.0, 2.0])
    with pytest.raises(ValueError, match="mode 'fan_avg' is not supported"):
        init.kaiming_uniform_(np.zeros((2, 2), dtype=np.float32), mode="fan_avg")


def test_seeded_inits_are_reproducible():
    myelin.manual_seed(3)
    a = init.kaiming_normal_(np.empty((4, 4), dtype=np.float32)).copy()
    myelin.manual_seed(3)
    b = init.kaiming_normal_(np.empty((4, 4), dtype=np.float32))
    np.testing.assert_array_equal(a, b)
