"""The performance fast paths compute what the general code computes.

Each test pins one shortcut taken for speed (issue 5): leaf gradients adopted without a copy,
``linear``'s transposed GEMM layout, the GEMV bias gradient, the ``cross_entropy`` hot path,
``relu`` against a cached zero array, the creation-order backward walk and the lazy
``numpy.random`` import.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import myelin
import myelin.nn.functional as F
from myelin import nn
from myelin.core.node import Fresh, make_node


def _f64_linear(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a.astype(np.float64) @ w.astype(np.float64).T + b


# ----------------------------------------------------------------------------- leaf gradients
def test_leaf_adopts_fresh_gradient_and_later_ones_accumulate_in_place() -> None:
    w = myelin.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    x = myelin.tensor(np.ones((4, 3), np.float32))
    F.linear(x, w).sum().backward()
    first = w.grad.data
    assert first.flags.writeable and first.flags.c_contiguous
    F.linear(x, w).sum().backward()
    assert w.grad.data is first  # accumulated in place
    np.testing.assert_array_equal(w.grad, np.full((2, 3), 8.0, np.float32))


def test_weight_used_twice_gets_the_sum_of_both_gradients() -> None:
    rng = np.random.default_rng(0)
    w = myelin.tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    x = myelin.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    F.linear(F.linear(x, w), w).sum().backward()
    wd, xd = w.data.astype(np.float64), x.data.astype(np.float64)
    h = xd @ wd.T
    g_out = np.ones((5, 3))
    expected = g_out.T @ h + (g_out @ wd).T @ xd
    np.testing.assert_allclose(w.grad, expected, rtol=1e-5)


def test_a_hook_that_keeps_the_gradient_sees_it_unchanged_by_later_accumulation() -> None:
    w = myelin.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    seen = []
    w.register_hook(lambda g: seen.append(g))
    x = myelin.tensor(np.ones((1, 2), np.float32))
    F.linear(x, w).sum().backward()
    F.linear(x, w).sum().backward()
    np.testing.assert_array_equal(seen[0], np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(w.grad, np.full((2, 2), 2.0, np.float32))
    assert not np.shares_memory(seen[0], w.grad)


def test_not_fresh_gradients_are_copied_into_the_leaf() -> None:
    w = myelin.tensor(np.ones(3, np.float32), requires_grad=True)
    shared = np.full(3, 2.0, np.float32)
    out = make_node(w.data * 1, (w,), lambda g: (shared,), "test")  # returns an array it keeps
    out.backward(np.ones(3, np.float32))
    assert not np.shares_memory(w.grad, shared)
    w.grad += 1
    np.testing.assert_array_equal(shared, np.full(3, 2.0, np.float32))


def test_fresh_is_a_tuple_the_engine_unpacks_as_usual() -> None:
    a = myelin.tensor(np.ones(2, np.float32), requires_grad=True)
    b = myelin.tensor(np.ones(2, np.float32), requires_grad=True)
    out = make_node(a.data + b.data, (a, b), lambda g: Fresh((g * 2, g * 3)), "test")
    out.backward(np.ones(2, np.float32))
    np.testing.assert_array_equal(a.grad, [2, 2])
    np.testing.assert_array_equal(b.grad, [3, 3])


def test_backward_visits_consumers_before_producers_on_a_diamond_and_a_long_chain() -> None:
    x = myelin.tensor(np.array([2.0], np.float32), requires_grad=True)
    y = x * 3
    z = y * y + y.exp() * 0 + y  # y has three consumers
    z.backward(np.ones(1, np.float32))
    np.testing.assert_allclose(x.grad, [3 * (2 * 6 + 1)], rtol=1e-6)

    t = myelin.tensor(np.ones(1, np.float32), requires_grad=True)
    u = t
    for _ in range(20000):
        u = u * 1.0
    u.backward(np.ones(1, np.float32))
    np.testing.assert_array_equal(t.grad, [1.0])


# ----------------------------------------------------------------------------- linear layouts
@pytest.mark.parametrize("rows", [1, 2, 32, 128, 129, 300])
@pytest.mark.parametrize("order", ["C", "F"])
def test_linear_matches_float64_in_both_layouts(rows: int, order: str) -> None:
    rng = np.random.default_rng(rows)
    a = np.asarray(rng.standard_normal((rows, 200)).astype(np.float32), order=order)
    layer = nn.Linear(200, 256)
    x = myelin.tensor(a, requires_grad=True)
    x.data = a  # keep the layout (tensor() copies in C order)
    out = layer(x)
    ref = _f64_linear(a, layer.weight.data, layer.bias.data)
    np.testing.assert_allclose(out.data, ref, rtol=1e-4, atol=1e-4)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    g64 = g.astype(np.float64)
    np.testing.assert_allclose(x.grad, g64 @ layer.weight.data.astype(np.float64), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.weight.grad, g64.T @ a.astype(np.float64), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.bias.grad, g64.sum(axis=0), rtol=1e-4, atol=1e-4)
    assert layer.weight.grad.data.flags.c_contiguous


def test_linear_chain_in_transposed_layout_matches_torch(torch) -> None:
    rng = np.random.default_rng(0)
    m = nn.Sequential(nn.Linear(300, 200), nn.ReLU(), nn.Linear(200, 150), nn.ReLU(), nn.Linear(150, 7))
    t = torch.nn.Sequential(torch.nn.Linear(300, 200), torch.nn.ReLU(), torch.nn.Linear(200, 150), torch.nn.ReLU(),
                            torch.nn.Linear(150, 7))
    t.load_state_dict({k: torch.tensor(v) for k, v in m.state_dict().items()})
    x = rng.standard_normal((64, 300)).astype(np.float32)
    y = rng.integers(0, 7, 64)
    lm = F.cross_entropy(m(myelin.tensor(x)), myelin.tensor(y))
    lt = torch.nn.functional.cross_entropy(t(torch.tensor(x)), torch.tensor(y))
    lm.backward()
    lt.backward()
    np.testing.assert_allclose(lm.item(), lt.item(), rtol=1e-5)
    for (name, p), tp in zip(m.named_parameters(), t.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def test_linear_on_3d_input_keeps_working() -> None:
    rng = np.random.default_rng(1)
    layer = nn.Linear(200, 300)
    x = myelin.tensor(rng.standard_normal((4, 8, 200)).astype(np.float32), requires_grad=True)
    out = layer(x)
    assert out.shape == (4, 8, 300)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, np.broadcast_to(layer.weight.data.sum(axis=0), (4, 8, 200)), rtol=1e-4,
                               atol=1e-4)


# ----------------------------------------------------------------------------- cross_entropy
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("target_dtype", [np.int64, np.int32, np.uint8])
def test_cross_entropy_hot_path_equals_the_general_path(order: str, target_dtype: type) -> None:
    rng = np.random.default_rng(2)
    logits = np.asarray(rng.standard_normal((16, 5)).astype(np.float32) * 4, order=order)
    target = rng.integers(0, 5, 16).astype(target_dtype)
    fast_x = myelin.tensor(logits, requires_grad=True)
    slow_x = myelin.tensor(logits, requires_grad=True)
    fast = F.cross_entropy(fast_x, target)
    slow = F.cross_entropy(slow_x, target, weight=np.ones(5, np.float32))  # weights take the general path
    np.testing.assert_allclose(fast.item(), slow.item(), rtol=1e-6)
    fast.backward()
    slow.backward()
    np.testing.assert_allclose(fast_x.grad, slow_x.grad, rtol=1e-5, atol=1e-7)


def test_cross_entropy_hot_path_leaves_ignored_and_bad_targets_to_the_general_path() -> None:
    x = myelin.tensor(np.zeros((3, 4), np.float32), requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, -100, 2]))
    np.testing.assert_allclose(loss.item(), np.log(4), rtol=1e-6)
    loss = F.cross_entropy(x, np.array([0, 1, 2]), ignore_index=1)
    np.testing.assert_allclose(loss.item(), np.log(4), rtol=1e-6)
    with pytest.raises(IndexError):
        F.cross_entropy(x, np.array([0, 4, 2]))
    with pytest.raises(TypeError):
        F.cross_entropy(x, np.array([0.0, 1.0, 2.0]))


# ----------------------------------------------------------------------------- relu
@pytest.mark.parametrize("layout", ["C", "F", "strided", "small"])
def test_relu_against_cached_zeros_matches_the_definition(layout: str) -> None:
    rng = np.random.default_rng(3)
    base = rng.standard_normal((128, 96)).astype(np.float32)
    a = {"C": base, "F": np.asfortranarray(base), "strided": base[:, ::2], "small": base[:4, :4]}[layout]
    x = myelin.tensor(a, requires_grad=True)
    out = F.relu(x)
    np.testing.assert_array_equal(out.data, np.where(a > 0, a, 0))
    out.backward(np.ones(a.shape, np.float32))
    np.testing.assert_array_equal(x.grad, (a > 0).astype(np.float32))
    assert out.data.flags.writeable
    out.data[...] = 1  # the result is never the cached zero array, which stays zero
    np.testing.assert_array_equal(F.relu(myelin.tensor(np.full(a.shape, -1.0, np.float32))).data, 0)


# ----------------------------------------------------------------------------- import time
def test_import_myelin_leaves_numpy_random_for_first_use() -> None:
    code = (
        "import sys, myelin\n"
        "assert 'numpy.random' not in sys.modules, 'numpy.random imported eagerly'\n"
        "myelin.manual_seed(0)\n"
        "a = myelin.randn(3).numpy()\n"
        "myelin.manual_seed(0)\n"
        "assert (myelin.randn(3).numpy() == a).all()\n"
        "from myelin import get_rng, get_rng_state, set_rng_state\n"
        "set_rng_state(get_rng_state())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
