"""myelin.trace: every layer's input, output and gradients by path; gates over time; feature-map pictures."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin import nn


def _grad(t):
    g = t.grad
    return g.data if isinstance(g, myelin.Tensor) else g


def not_blank(fig) -> None:
    """A rendered figure has real content: many distinct colours and visible contrast."""
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].reshape(-1, 3)
    assert rgb.std() > 20
    assert len(np.unique(rgb, axis=0)) > 50


def _cnn():
    myelin.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3))


def test_trace_records_every_layer_in_call_order_with_gradients():
    model = _cnn()
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    tr = myelin.trace(model, x, target=np.array([0, 2]))
    assert list(tr) == ["", "0", "1", "2", "3", "4"]
    assert tr["0"].output.shape == (2, 4, 8, 8) and tr["2"].output.shape == (2, 4, 4, 4)
    assert_close(tr.output, model(myelin.tensor(x)), 1e-6, 1e-6, "output")
    # the chain between layers: one layer's input gradient is the previous layer's output gradient
    for a, b in [("0", "1"), ("1", "2"), ("2", "3"), ("3", "4")]:
        assert_close(tr[b].grad_input, tr[a].grad_output, 1e-6, 1e-7, f"{a}->{b}")
    lin = tr["4"]
    assert_close(lin.grads["weight"], lin.grad_output.T @ lin.input.data, 1e-5, 1e-6, "dL/dW = g^T x")
    assert_close(lin.grads["bias"], lin.grad_output.sum(0), 1e-5, 1e-6, "dL/db = sum g")
    assert_close(lin.grads["weight"], _grad(model[4].weight), 0, 0, "same as .grad")
    assert tr["0"].grad_input.shape == x.shape  # gradient with respect to the data
    assert tr.loss is not None and "loss" in repr(tr) and "Conv2d" in repr(tr)
    assert "<table" in tr._repr_html_() and "MaxPool2d" in tr._repr_html_()
    assert "|dL/dout|" in repr(tr["0"]) or "dL/dout" in repr(tr["0"])


def test_trace_without_target_then_backward_and_float_target_uses_mse():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    tr = myelin.trace(model, x)
    assert tr["0"].grad_output is None and tr["2"].grads["weight"] is None
    tr.backward((tr.output ** 2).mean())
    assert tr["1"].grad_output.shape == (5, 4)
    y = np.zeros((5, 2), np.float32)
    model.zero_grad()
    tr2 = myelin.trace(model, x, target=y)
    assert_close(tr2.loss, (tr2.output.data ** 2).mean(), 1e-6, 1e-6, "mse")


def test_neuron_view_shows_weight_and_bias_gradients():
    model = _cnn()
    x = np.random.default_rng(2).standard_normal((3, 1, 8, 8)).astype(np.float32)
    myelin.trace(model, x, target=np.array([1, 0, 2]))
    n = model[4].neuron(2)
    assert_close(n.grad, _grad(model[4].weight)[2], 0, 0, "weight row")
    assert_close(n.bias_grad, _grad(model[4].bias)[2], 0, 0, "bias entry")
    assert "bias_grad=" in repr(n) and "grad=[" in repr(n)
    assert nn.Linear(2, 2, bias=False).neuron(0).bias_grad is None


def test_lstm_trace_records_gates_over_time_and_draws_them():
    myelin.manual_seed(4)
    model = nn.LSTM(3, 5)
    x = np.random.default_rng(3).standard_normal((6, 2, 3)).astype(np.float32)
    tr = myelin.trace(model, x)
    rec = tr[""]
    assert len(rec.steps) == 6
    f = rec.gates("f")
    assert f.shape == (6, 2, 5) and ((f > 0) & (f < 1)).all()
    assert_close(rec.gates("h")[-1], model(myelin.tensor(x))[1][0].data[0], 1e-5, 1e-6, "last h = h_n")
    not_blank(rec.plot_gates())
    with pytest.raises(KeyError, match="recorded"):
        rec.gates("q")


def test_conv_feature_maps_are_real_pictures(tmp_path):
    model = _cnn()
    x = np.random.default_rng(4).standard_normal((2, 1, 8, 8)).astype(np.float32)
    tr = myelin.trace(model, x, target=np.array([0, 1]))
    fig = tr["0"].plot_feature_maps(path=tmp_path / "maps.png")
    not_blank(fig)
    assert (tmp_path / "maps.png").stat().st_size > 2000
    not_blank(tr["0"].plot_feature_maps(grad=True))


def test_reused_module_gets_numbered_calls_and_errors_are_clear():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(self.lin(x))

    tr = myelin.trace(Twice(), np.ones((1, 2), np.float32))
    assert "lin" in tr and "lin#1" in tr
    assert tr["lin#1"].input is tr["lin"].output
    with pytest.raises(KeyError, match="traced layers"):
        tr["nope"]
    with pytest.raises(ValueError, match="recorded no steps"):
        tr["lin"].gates("f")
    with pytest.raises(TypeError, match="nn.Module"):
        myelin.trace(lambda v: v, np.ones(2))
