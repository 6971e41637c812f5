"""Gradient clipping: clip_grad_norm_ / clip_grad_value_ against torch.nn.utils."""

from __future__ import annotations

import math

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin.nn.parameter import Parameter
from myelin.nn.utils import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

SHAPES = [(4, 3), (3,), (2, 2, 5)]


def _pair(torch, rng, scale=1.0, missing=()):
    """Parameters with the same gradients in both libraries; indices in ``missing`` have no grad."""
    mine, theirs = [], []
    for i, shape in enumerate(SHAPES):
        p = Parameter(np.zeros(shape, np.float32))
        q = torch.nn.Parameter(torch.zeros(shape))
        if i not in missing:
            g = (rng.standard_normal(shape) * scale).astype(np.float32)
            p.grad = g.copy()
            q.grad = torch.tensor(g)
        mine.append(p)
        theirs.append(q)
    return mine, theirs


def _assert_same_grads(mine, theirs):
    for p, q in zip(mine, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            assert p.grad.dtype == np.float32
            assert_close(p.grad, q.grad)


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, 0.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.3, 1e4])
def test_clip_grad_norm_matches_torch(torch, rng, norm_type, max_norm):
    mine, theirs = _pair(torch, rng, missing=(1,))
    total = clip_grad_norm_(mine, max_norm, norm_type=norm_type)
    assert isinstance(total, myelin.Tensor) and total.dtype == np.float32 and total.shape == ()
    total = float(total)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total == pytest.approx(expected.item(), rel=1e-5)
    _assert_same_grads(mine, theirs)
    if max_norm < 1:
        assert get_total_norm([p.grad for p in mine if p.grad is not None], norm_type) == pytest.approx(
            max_norm, rel=1e-4
        )


@pytest.mark.torch
def test_clip_grad_norm_single_tensor_and_generator(torch, rng):
    mine, theirs = _pair(torch, rng, scale=10.0)
    total = float(clip_grad_norm_(mine[0], 1.0))
    expected = torch.nn.utils.clip_grad_norm_(theirs[0], 1.0)
    assert total == pytest.approx(expected.item(), rel=1e-6)
    total = float(clip_grad_norm_((p for p in mine[1:]), 0.5))
    expected = torch.nn.utils.clip_grad_norm_((q for q in theirs[1:]), 0.5)
    assert total == pytest.approx(expected.item(), rel=1e-6)
    _assert_same_grads(mine, theirs)


def test_clip_grad_norm_scales_in_place_and_keeps_small_grads(rng):
    p = Parameter(np.zeros(3, np.float32))
    p.grad = np.array([3.0, 4.0, 0.0], np.float32)
    grad = p.grad
    assert clip_grad_norm_([p], 1.0).item() == pytest.approx(5.0)
    assert p.grad is grad
    np.testing.assert_allclose(grad, np.array([3.0, 4.0, 0.0]) / (5.0 + 1e-6), rtol=1e-6)
    p.grad = np.array([0.3, 0.4, 0.0], np.float32)
    assert clip_grad_norm_([p], 1.0).item() == pytest.approx(0.5)
    np.testing.assert_array_equal(p.grad, np.array([0.3, 0.4, 0.0], np.float32))


@pytest.mark.torch
def test_clip_coefficient_includes_the_1e6(torch, rng):
    """With a total norm of 1e-5, the 1e-6 in max_norm / (total + 1e-6) changes the result by 10%."""
    mine, theirs = _pair(torch, rng, scale=1e-6)
    total = float(clip_grad_norm_(mine, 1e-6))
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1e-6)
    assert total == pytest.approx(expected.item(), rel=1e-5)
    _assert_same_grads(mine, theirs)
    after = get_total_norm([p.grad for p in mine])
    assert after == pytest.approx(1e-6 * total / (total + 1e-6), rel=1e-5)


def test_clip_grad_norm_without_grads_returns_zero():
    assert clip_grad_norm_([Parameter(np.ones(2, np.float32))], 1.0).item() == 0.0
    assert clip_grad_norm_([], 1.0).item() == 0.0


@pytest.mark.torch
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_norm(torch, rng, bad):
    mine, theirs = _pair(torch, rng)
    mine[0].grad[0, 0] = bad
    theirs[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(mine, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    total = float(clip_grad_norm_(mine, 1.0))  # like torch: scales by the non-finite norm anyway
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    if math.isnan(bad):
        assert math.isnan(total) and math.isnan(expected.item())
    else:
        assert total == expected.item() == math.inf
    for p, q in zip(mine, theirs):
        np.testing.assert_array_equal(np.isnan(p.grad), np.isnan(q.grad.numpy()))
        assert_close(np.nan_to_num(p.grad), np.nan_to_num(q.grad.numpy()))


@pytest.mark.torch
@pytest.mark.parametrize("clip_value", [0.1, 0.7, 5.0])
def test_clip_grad_value_matches_torch(torch, rng, clip_value):
    mine, theirs = _pair(torch, rng, missing=(2,))
    grad = mine[0].grad
    assert clip_grad_value_(mine, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert mine[0].grad is grad
    assert np.abs(grad).max() <= clip_value
    _assert_same_grads(mine, theirs)


@pytest.mark.torch
def test_get_total_norm_and_clip_with_norm_match_torch(torch, rng):
    mine, theirs = _pair(torch, rng)
    total = get_total_norm([p.grad for p in mine], 3.0)
    expected = torch.nn.utils.get_total_norm([q.grad for q in theirs], 3.0)
    assert total == pytest.approx(expected.item(), rel=1e-5)
    clip_grads_with_norm_(mine, 0.5, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.5, expected)
    _assert_same_grads(mine, theirs)


def test_float64_grads_stay_float64(rng):
    p = Parameter(np.zeros(4, np.float64))
    p.grad = rng.standard_normal(4) * 10
    total = clip_grad_norm_([p], 1.0)
    assert total.dtype == np.float64
    total = float(total)
    assert p.grad.dtype == np.float64
    assert total == pytest.approx(float(np.linalg.norm(p.grad)) * (total + 1e-6), rel=1e-9)
