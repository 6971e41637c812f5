"""Scalar expressions as a learner writes them from a tutorial (micrograd style), against PyTorch.

Every case runs twice, on 0-d tensors and on shape-(1,) tensors, and compares the value of the
output and the gradient of every input with PyTorch (float32, as a learner's ``tensor(1.5)``).
The cases are micrograd's own engine examples (README and ``test_engine.py``), the neuron of
the "building micrograd" lecture with tanh written both ways, a loss from scalar predictions,
and chains that reuse intermediates.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import myelin

SHAPES = [(), (1,)]
SHAPE_IDS = ["0d", "shape1"]


def _grad(t):
    """A gradient as a NumPy array, whether ``.grad`` is an array or a Tensor."""
    g = t.grad
    if g is None:
        return None
    return np.asarray(g.data if isinstance(g, myelin.Tensor) else g)


def _leaves(lib, shape, **values):
    """Named leaves of ``shape`` (a 0-d or a one-element tensor) that require grad."""
    return {k: lib.tensor(np.full(shape, v, dtype=np.float32), requires_grad=True) for k, v in values.items()}


def _compare(build, shape, torch, rtol=1e-5, **values):
    """Run ``build(lib, leaves)`` in both libraries, backward from its output, compare everything."""
    mine = _leaves(myelin, shape, **values)
    theirs = _leaves(torch, shape, **values)
    out_m = build(myelin, mine)
    out_t = build(torch, theirs)
    assert tuple(out_m.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_m.data, out_t.detach().numpy(), rtol=rtol, err_msg="output value")
    out_m.backward()
    out_t.backward()
    for name in values:
        gt = theirs[name].grad
        gm = _grad(mine[name])
        assert (gm is None) == (gt is None), f"gradient of {name}: myelin {gm}, torch {gt}"
        if gt is not None:
            assert gm.shape == tuple(gt.shape), f"gradient of {name} has shape {gm.shape}"
            np.testing.assert_allclose(gm, gt.numpy(), rtol=rtol, atol=1e-6, err_msg=f"gradient of {name}")
    return out_m, mine


# ----------------------------------------------------------------------------- the issue's example
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_issue_example_x_times_x_plus_3x(shape, torch):
    out, leaves = _compare(lambda lib, v: v["x"] * v["x"] + v["x"] * 3.0, shape, torch, x=1.5)
    assert float(_grad(leaves["x"]).reshape(())) == pytest.approx(6.0)  # 2x + 3
    assert float(out.data.reshape(())) == pytest.approx(6.75)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_x_times_x_alone(shape, torch):
    _, leaves = _compare(lambda lib, v: v["x"] * v["x"], shape, torch, x=1.5)
    assert float(_grad(leaves["x"]).reshape(())) == pytest.approx(3.0)


# ----------------------------------------------------------------------------- micrograd's examples
def _micrograd_readme(lib, v):
    a, b = v["a"], v["b"]
    c = a + b
    d = a * b + b**3
    c = c + c + 1  # micrograd: c += c + 1
    c = c + 1 + c + (-a)  # c += 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()  # d += d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()  # d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f  # g += 10.0 / f
    return g


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_micrograd_readme_example(shape, torch):
    out, leaves = _compare(_micrograd_readme, shape, torch, rtol=2e-5, a=-4.0, b=2.0)
    # the numbers micrograd's README prints
    assert float(out.data.reshape(())) == pytest.approx(24.7041, abs=1e-4)
    assert float(_grad(leaves["a"]).reshape(())) == pytest.approx(138.8338, abs=1e-3)
    assert float(_grad(leaves["b"]).reshape(())) == pytest.approx(645.5773, abs=1e-3)


def _micrograd_sanity_check(lib, v):
    x = v["x"]
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    return y


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_micrograd_sanity_check(shape, torch):
    out, leaves = _compare(_micrograd_sanity_check, shape, torch, x=-4.0)
    assert float(out.data.reshape(())) == pytest.approx(-20.0)
    assert float(_grad(leaves["x"]).reshape(())) == pytest.approx(46.0)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_micrograd_readme_first_lines(shape, torch):
    _compare(lambda lib, v: v["a"] + v["b"], shape, torch, a=-4.0, b=2.0)
    _compare(lambda lib, v: v["a"] * v["b"] + v["b"] ** 3, shape, torch, a=-4.0, b=2.0)


# ----------------------------------------------------------------------------- in-place versus rebinding
def _micrograd_readme_inplace(lib, v):
    """The README exactly as micrograd writes it, with ``+=`` on intermediates (PyTorch accepts it too)."""
    a, b = v["a"], v["b"]
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_micrograd_readme_with_inplace_adds_on_intermediates(shape, torch):
    """``c += c + 1`` on a non-leaf gives PyTorch's numbers (Myelin rebinds ``c`` to a new node)."""
    out, leaves = _compare(_micrograd_readme_inplace, shape, torch, rtol=2e-5, a=-4.0, b=2.0)
    assert float(out.data.reshape(())) == pytest.approx(24.7041, abs=1e-4)
    assert float(_grad(leaves["a"]).reshape(())) == pytest.approx(138.8338, abs=1e-3)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rebinding_form_of_inplace_add_matches_torch_inplace(shape, torch):
    """``c = c + c + 1`` in Myelin and PyTorch's in-place ``c += c + 1`` give the same numbers."""
    a_m = myelin.tensor(np.full(shape, -4.0, np.float32), requires_grad=True)
    c_m = a_m * 2
    c_m = c_m + c_m + 1
    c_m.backward()
    a_t = torch.tensor(np.full(shape, -4.0, np.float32), requires_grad=True)
    c_t = a_t * 2
    c_t += c_t + 1  # PyTorch allows this on a non-leaf
    c_t.backward()
    np.testing.assert_allclose(c_m.data, c_t.detach().numpy())
    np.testing.assert_allclose(_grad(a_m), a_t.grad.numpy())
    assert float(_grad(a_m).reshape(())) == pytest.approx(4.0)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_inplace_on_leaf_requiring_grad_raises_clearly(shape, op, torch):
    """A leaf that requires grad cannot be changed in place (PyTorch refuses too); nothing is changed."""
    a = myelin.tensor(np.full(shape, -4.0, np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place.*requires grad.*no_grad"):
        if op == "+=":
            a += a + 1
        elif op == "-=":
            a -= 1
        elif op == "*=":
            a *= 2
        else:
            a /= 2
    np.testing.assert_array_equal(a.data, np.full(shape, -4.0, np.float32))
    at = torch.tensor(np.full(shape, -4.0, np.float32), requires_grad=True)
    with pytest.raises(RuntimeError):
        at += 1
    with myelin.no_grad():  # the way to update a parameter by hand
        a -= 1
    np.testing.assert_array_equal(a.data, np.full(shape, -5.0, np.float32))


# ----------------------------------------------------------------------------- a neuron by hand
_NEURON = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}  # the lecture's numbers


def _neuron_tanh(lib, v):
    n = v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]
    return n.tanh()


def _neuron_tanh_from_exp(lib, v):
    n = v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]
    e = (2 * n).exp()
    return (e - 1) / (e + 1)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("build", [_neuron_tanh, _neuron_tanh_from_exp], ids=["tanh", "exp_formula"])
def test_hand_written_neuron(build, shape, torch):
    out, leaves = _compare(build, shape, torch, rtol=1e-4, **_NEURON)
    assert float(out.data.reshape(())) == pytest.approx(math.sqrt(0.5), abs=1e-4)
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}  # the lecture's gradients
    for name, value in expected.items():
        assert float(_grad(leaves[name]).reshape(())) == pytest.approx(value, abs=1e-4), name


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_neuron_with_functional_tanh_and_sigmoid(shape, torch):
    def build(lib, v):
        F = myelin.nn.functional if lib is myelin else torch.nn.functional
        n = v["w1"] * v["x1"] + v["w2"] * v["x2"] + v["b"]
        return F.tanh(n) + F.sigmoid(n) * F.relu(n)

    _compare(build, shape, torch, x1=0.5, x2=-1.25, w1=0.7, w2=-0.3, b=0.1)


# ----------------------------------------------------------------------------- a loss from scalars
def _mse_from_scalars(lib, v):
    xs = [[2.0, 3.0], [3.0, -1.0], [0.5, 1.0], [1.0, 1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    preds = []
    for x1, x2 in xs:  # a two-input neuron per sample, as in the lecture's training loop
        n = v["w1"] * x1 + v["w2"] * x2 + v["b"]
        preds.append(n.tanh())
    # Python's sum starts from 0: 0 + tensor exercises the reflected add
    return sum((yout - ygt) ** 2 for ygt, yout in zip(ys, preds)) / len(ys)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_mse_loss_from_scalar_predictions(shape, torch):
    _compare(_mse_from_scalars, shape, torch, rtol=1e-4, w1=0.3, w2=-0.2, b=0.1)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_gradient_descent_steps_from_scalars_match_torch(shape, torch):
    """Ten manual SGD steps (``p.data -= lr * p.grad``, zeroing grads) on the scalar loss above."""
    values = {"w1": 0.3, "w2": -0.2, "b": 0.1}

    def run(lib):
        params = _leaves(lib, shape, **values)
        losses = []
        for _ in range(10):
            for p in params.values():
                p.grad = None
            loss = _mse_from_scalars(lib, params)
            loss.backward()
            with lib.no_grad():
                for p in params.values():
                    g = _grad(p) if lib is myelin else p.grad.numpy()
                    p -= lib.tensor(0.1 * g)
            losses.append(float(loss.detach().numpy().reshape(())) if lib is torch else float(loss.data.reshape(())))
        return losses, {k: (p.data if lib is myelin else p.detach().numpy()) for k, p in params.items()}

    losses_m, params_m = run(myelin)
    losses_t, params_t = run(torch)
    np.testing.assert_allclose(losses_m, losses_t, rtol=1e-4)
    assert losses_m[-1] < losses_m[0]
    for k in values:
        np.testing.assert_allclose(params_m[k], params_t[k], rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------- chains that reuse intermediates
def _reuse_chain(lib, v):
    x, y = v["x"], v["y"]
    h = x * y  # used four times below
    k = h + h  # both operands the same intermediate
    m = (h - 1) * (1 - h) + k / (h * h + 1)
    n = m.sigmoid() * h + (m * 0.5).exp() - x**3 + 2 ** y
    return n * k + n / 3 - (-n)


def _deep_reuse(lib, v):
    x = v["x"]
    t = x
    for i in range(6):  # each step uses t three times
        t = t * t * 0.5 + t - 0.25 * t + i
        t = t / (1 + t.abs())
    return t


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("build", [_reuse_chain, _deep_reuse], ids=["reuse_chain", "deep_reuse"])
def test_chains_reusing_intermediates(build, shape, torch):
    _compare(build, shape, torch, rtol=1e-4, x=0.8, y=-1.3)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_scalars_on_either_side(shape, torch):
    def build(lib, v):
        x, f = v["x"], v["f"]
        return 2 * x + x * 2 + 10.0 / f + f / 4 + x**3 + (-x) + (x - 1) * (1 - x) + 3 - x + 2.5**f + x**2.0

    _compare(build, shape, torch, rtol=1e-5, x=1.7, f=-0.6)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_backward_twice_with_retain_graph_accumulates(shape, torch):
    def run(lib):
        v = _leaves(lib, shape, a=-4.0, b=2.0)
        g = _micrograd_readme(lib, v)
        g.backward(retain_graph=True)
        g.backward()
        return {k: (_grad(t) if lib is myelin else t.grad.numpy()) for k, t in v.items()}

    mine, theirs = run(myelin), run(torch)
    for k in theirs:
        np.testing.assert_allclose(mine[k], theirs[k], rtol=2e-5, err_msg=k)
    assert float(mine["a"].reshape(())) == pytest.approx(2 * 138.8338, abs=2e-3)
