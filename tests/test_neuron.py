"""One neuron: forward, the perceptron rule (AND, OR, never XOR), gradient descent, and XOR with two layers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin.autograd import gradcheck
from myelin.nn import functional as F
from myelin.nn.activation import Sigmoid, Tanh
from myelin.nn.container import Sequential
from myelin.nn.linear import Linear
from myelin.nn.neuron import Neuron

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
AND = np.array([0, 0, 0, 1], dtype=np.float32)
OR = np.array([0, 1, 1, 1], dtype=np.float32)
XOR = np.array([0, 1, 1, 0], dtype=np.float32)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("activation, fn", [
    ("step", lambda z: (z >= 0).astype(np.float32)),
    ("sigmoid", _sigmoid),
    ("tanh", np.tanh),
    ("relu", lambda z: np.maximum(z, 0)),
    ("leaky_relu", lambda z: np.where(z >= 0, z, 0.01 * z)),
    ("identity", lambda z: z),
])
def test_forward_on_one_sample_and_a_batch(activation, fn, rng):
    n = Neuron(3, activation)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    z = x @ n.weight.data + n.bias.data
    out = n(x)
    assert out.shape == (5,)
    assert_close(out, fn(z), 1e-5, 1e-6)
    one = n(x[0])
    assert one.shape == ()
    assert_close(one, fn(z[0]), 1e-5, 1e-6)
    assert_close(n.pre_activation(myelin.tensor(x)), z, 1e-5, 1e-6)


def test_weights_bias_and_init():
    n = Neuron(400)
    assert n.weight.shape == (400,) and n.bias.shape == ()
    assert [k for k in n.state_dict()] == ["weight", "bias"]
    bound = 1 / np.sqrt(400)
    assert np.abs(n.weight.data).max() <= bound and n.weight.data.std() > 0.5 * bound / np.sqrt(3)
    assert Neuron(2, bias=False).bias is None
    assert Neuron(2, bias=False)(np.ones(2, dtype=np.float32)).shape == ()


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "leaky_relu", "identity"])
def test_gradients_pass_the_gradient_check(activation, rng):
    n = Neuron(3, activation).double()
    x = myelin.tensor(rng.normal(size=(4, 3)), dtype=np.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: n(x), [x, n.weight, n.bias])


def test_step_neuron_has_no_gradient():
    n = Neuron(2, "step")
    out = n(myelin.tensor(X, requires_grad=True))
    assert not out.requires_grad
    assert set(np.unique(out.data)) <= {0.0, 1.0}


def test_invalid_arguments():
    with pytest.raises(ValueError, match="activation must be one of 'step', 'sigmoid'"):
        Neuron(2, "softmax")
    with pytest.raises(ValueError, match="in_features must be at least 1"):
        Neuron(0)
    n = Neuron(2, "step")
    with pytest.raises(ValueError, match="targets must be 0 or 1"):
        n.perceptron_update(X, [0, 1, 2, 1])
    with pytest.raises(ValueError, match="4 sample\\(s\\) but 3 target\\(s\\)"):
        n.perceptron_update(X, [0, 1, 1])
    with pytest.raises(ValueError, match=r"expected input \(2,\) or \(N, 2\), got \(4, 3\)"):
        n.perceptron_update(np.ones((4, 3)), AND)


def test_repr_shows_weights_and_bias():
    n = Neuron(2, "step")
    n.weight.data[...] = [0.5, -1.25]
    n.bias.data[...] = 0.75
    assert repr(n) == "Neuron(in_features=2, activation='step', weight=[ 0.5 , -1.25], bias=0.75)"
    assert "bias" not in repr(Neuron(2, bias=False)).split("weight")[1]


# ---------------------------------------------------------------------- the perceptron rule
def test_one_update_follows_rosenblatts_rule():
    n = Neuron(2, "step")
    n.weight.data[...] = [0.0, 0.0]
    n.bias.data[...] = -0.5
    # x = (1, 1), target 1, prediction step(-0.5) = 0: w += 0.1 * (1 - 0) * x, b += 0.1
    assert n.perceptron_update([1.0, 1.0], 1, lr=0.1) == 1
    assert_close(n.weight.data, [0.1, 0.1])
    assert_close(n.bias.data, -0.4)
    # a correct prediction changes nothing
    n.bias.data[...] = 1.0
    assert n.perceptron_update([1.0, 1.0], 1, lr=0.1) == 0
    assert_close(n.weight.data, [0.1, 0.1])


@pytest.mark.parametrize("target", [AND, OR], ids=["AND", "OR"])
def test_step_neuron_learns_and_and_or(target):
    n = Neuron(2, "step")
    mistakes = n.fit_perceptron(X, target, epochs=100, lr=0.5)
    assert mistakes[-1] == 0 and len(mistakes) < 100  # converged (the convergence theorem promises it)
    np.testing.assert_array_equal(n(X).data, target)


def test_step_neuron_never_learns_xor():
    # Why no single neuron can compute XOR: it fires when w1*x1 + w2*x2 + b >= 0, so it needs
    #   (0,0) -> 0:  b < 0            (1,0) -> 1:  w1 + b >= 0
    #   (1,1) -> 0:  w1 + w2 + b < 0  (0,1) -> 1:  w2 + b >= 0
    # Adding the two right-hand conditions gives w1 + w2 + 2b >= 0, i.e. w1 + w2 + b >= -b > 0,
    # which contradicts the bottom-left one. Geometrically, the points of one class lie on the two
    # diagonals' opposite corners, and no straight line puts (0,1), (1,0) on one side and (0,0),
    # (1,1) on the other. The perceptron therefore keeps making mistakes forever.
    n = Neuron(2, "step")
    history = n.fit_perceptron(X, XOR, epochs=1000, lr=0.5)
    assert len(history) == 1000 and min(history) >= 1
    assert np.sum(n(X).data != XOR) >= 1
    # The same holds for every weight vector, not just those the rule visits: a dense search finds none.
    grid = np.linspace(-3, 3, 61)
    params = np.array(list(itertools.product(grid, grid, grid)))  # (w1, w2, b) rows
    fired = (X @ params[:, :2].T + params[:, 2] >= 0)  # (4 points, 61**3 neurons)
    assert not np.any(np.all(fired == (XOR[:, None] > 0), axis=0))


# ---------------------------------------------------------------------- gradient descent
def test_sigmoid_neuron_learns_and_by_gradient_descent():
    n = Neuron(2, "sigmoid")
    x, t = myelin.tensor(X), myelin.tensor(AND)
    for _ in range(2000):
        n.zero_grad()
        loss = F.binary_cross_entropy(n(x), t)
        loss.backward()
        with myelin.no_grad():
            for p in n.parameters():
                p -= 1.0 * p.grad
    out = n(x).data
    np.testing.assert_array_equal(out > 0.5, AND > 0.5)
    assert float(loss.item()) < 0.05


def test_two_layer_network_learns_xor():
    model = Sequential(Linear(2, 4), Tanh(), Linear(4, 1), Sigmoid())
    x, t = myelin.tensor(X), myelin.tensor(XOR[:, None])
    try:
        from myelin.optim import Adam
    except ImportError:  # pragma: no cover - the optimizers are written by another engineer
        Adam = None
    opt = Adam(model.parameters(), lr=0.05) if Adam is not None else None
    for _ in range(1000):
        model.zero_grad()
        loss = F.binary_cross_entropy(model(x), t)
        loss.backward()
        if opt is not None:
            opt.step()
        else:
            with myelin.no_grad():
                for p in model.parameters():
                    p -= 0.5 * p.grad
    out = model(x).data[:, 0]
    np.testing.assert_array_equal(out > 0.5, XOR > 0.5)
    assert float(loss.item()) < 0.05
    # the hidden neurons can be inspected one by one
    h = model[0].neuron(0)
    assert_close(h(X), (X @ model[0].weight.data.T + model[0].bias.data)[:, 0], 1e-6, 1e-6)
