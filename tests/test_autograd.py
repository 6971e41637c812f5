"""The engine's known traps: reuse, long chains, second backward, no_grad, accumulation, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin.autograd import GradcheckError, gradcheck


def test_tensor_used_twice_gradients_add_up():
    x = myelin.tensor(3.0, requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == pytest.approx(7.0)


def test_shared_intermediate_gets_summed_gradient():
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    out = (h * h).sum() + h.sum()  # d/dx = 2*(2h) + 2 = 8x + 2
    out.backward()
    np.testing.assert_allclose(x.grad, [10.0, 18.0])


def test_chain_of_100000_ops_does_not_recurse():
    x = myelin.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.backward()
    assert x.grad == pytest.approx(1.0)


def test_second_backward_through_freed_graph_raises():
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_second_backward_via_shared_intermediate_raises():
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 3).sum().backward()


def test_retain_graph_allows_second_backward_and_accumulates():
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [4.0, 8.0])


def test_gradients_accumulate_across_calls_like_pytorch():
    x = myelin.tensor([1.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 4).sum().backward()
    np.testing.assert_allclose(x.grad, [7.0])


def test_backward_on_non_scalar_without_grad_raises():
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()
    y = x * 2
    y.backward(np.array([1.0, 1.0]))
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


def test_backward_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        myelin.tensor(1.0).backward()


def test_no_grad_builds_no_graph_and_works_as_decorator():
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    with myelin.no_grad():
        y = x * 2 + 1
    assert not y.requires_grad and y.is_leaf and y._parents == ()

    @myelin.no_grad()
    def f(t):
        return t.exp()

    @myelin.no_grad
    def g(t):
        return t.exp()

    assert not f(x).requires_grad and not g(x).requires_grad
    assert myelin.is_grad_enabled()
    with myelin.no_grad(), myelin.enable_grad():
        assert (x * 2).requires_grad


def test_dtype_defaults():
    assert myelin.tensor(1.5).dtype == np.float32
    assert myelin.tensor(np.zeros(3)).dtype == np.float64  # NumPy float64 data stays float64, as torch.tensor
    assert myelin.tensor(np.zeros(3), dtype=np.float64).dtype == np.float64
    assert myelin.tensor([1, 2]).dtype == np.int64
    x = myelin.tensor([1.0], requires_grad=True)
    assert (x * np.float64(2.0)).dtype == np.float32
    assert (x * np.ones(1)).dtype == np.float32
    assert (myelin.tensor([1, 2]) * 0.5).dtype == np.float32
    with pytest.raises(TypeError, match="floating-point"):
        myelin.tensor([1, 2], requires_grad=True)


def test_grad_dtype_and_shape_follow_data():
    w = myelin.tensor(np.ones((3, 1), dtype=np.float32), requires_grad=True)
    (w * myelin.tensor(np.ones((3, 4), dtype=np.float64), dtype=np.float64)).sum().backward()
    assert w.grad.shape == (3, 1) and w.grad.dtype == np.float32


def test_properties_and_repr():
    x = myelin.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.size() == (2, 3) and x.size(1) == 3
    assert x.T.shape == (3, 2)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<mul>" in repr(x * 2)
    assert repr(myelin.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert myelin.tensor(2.5).item() == 2.5
    d = x.detach()
    assert not d.requires_grad and d.data is x.data


def test_inplace_update_under_no_grad():
    w = myelin.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with pytest.raises(RuntimeError, match="in-place"):
        w -= 0.1
    with myelin.no_grad():
        w -= 0.5 * myelin.tensor(w.grad)
    np.testing.assert_allclose(w.data, [0.0, 0.0])


def test_retain_grad_and_hooks():
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    seen = []
    x.register_hook(lambda g: seen.append(g.clone()))  # hooks see Tensors, as in PyTorch
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, [6.0, 12.0])
    np.testing.assert_allclose(seen[0], [18.0, 36.0])


def test_gradcheck_reports_input_and_element():
    def wrong(x):
        return myelin.core.node.make_node(x.data ** 2, (x,), lambda g: (g * x.data,), "bad_square")

    x = myelin.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=np.float64)
    with pytest.raises(GradcheckError, match=r"input 0 .* element \(2,\)"):
        gradcheck(wrong, [x])
    assert gradcheck(lambda t: t ** 2, [x])


def test_manual_seed_reproducible():
    myelin.manual_seed(3)
    a = myelin.randn(4).data
    myelin.manual_seed(3)
    assert np.array_equal(a, myelin.randn(4).data)
    state = myelin.get_rng_state()
    b = myelin.rand(3).data
    myelin.set_rng_state(state)
    assert np.array_equal(b, myelin.rand(3).data)


def test_setitem_rules():
    x = myelin.zeros(3)
    x[1] = 5.0
    assert x.tolist() == [0.0, 5.0, 0.0]
    y = myelin.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem"):
        y[0] = 1.0


def test_numpy_operand_on_left_defers_to_tensor():
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, myelin.Tensor) and y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 4.0])


def test_zero_dim_results_are_arrays():
    t = myelin.tensor(2.0, requires_grad=True)
    y = t.exp()
    assert isinstance(y.data, np.ndarray)
    y.detach().zero_()


def test_gradcheck_on_fortran_ordered_input():
    a = np.asfortranarray(np.random.default_rng(0).standard_normal((3, 4)))
    assert gradcheck(lambda x: x * x, [a])


def test_grad_mode_is_per_thread():
    import threading

    seen = []
    entered, release = threading.Event(), threading.Event()

    def other():
        with myelin.no_grad():
            entered.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    entered.wait(5)
    x = myelin.tensor([1.0], requires_grad=True)
    seen.append((x * 2).requires_grad)
    release.set()
    t.join()
    assert seen == [True]
