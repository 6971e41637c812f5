"""fit's L1/L2 penalties act on weights chosen by role (issue 13, item 5), never by number of dimensions."""

import inspect

import numpy as np
import pytest

import myelin
from myelin import nn
from myelin.nn.utils import penalized_parameters


def _layers() -> list[nn.Module]:
    return [
        nn.Neuron(3, activation="sigmoid"),
        nn.Linear(3, 2),
        nn.Conv1d(2, 3, 3),
        nn.Conv2d(2, 3, 3),
        nn.ConvTranspose2d(2, 3, 3),
        nn.RNN(3, 4, num_layers=2, bidirectional=True),
        nn.LSTM(3, 4, proj_size=2),
        nn.GRU(3, 4),
        nn.Embedding(10, 4),
        nn.MultiheadAttention(4, 2),
        nn.TransformerEncoderLayer(4, 2, dim_feedforward=8),
        nn.BatchNorm1d(3),
        nn.BatchNorm2d(3),
        nn.LayerNorm(3),
        nn.GroupNorm(1, 3),
        nn.InstanceNorm2d(3, affine=True),
        nn.PReLU(3),
    ]


def _owner_is_exempt(model: nn.Module, name: str) -> bool:
    owner = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
    return not owner.penalize_weights


@pytest.mark.parametrize("layer", _layers(), ids=lambda m: type(m).__name__)
def test_every_weight_and_nothing_else_is_penalised(layer):
    chosen = {name for name, _ in penalized_parameters(layer)}
    for name, p in layer.named_parameters():
        expected = "bias" not in name.rpartition(".")[2] and not _owner_is_exempt(layer, name)
        assert (name in chosen) == expected, f"{type(layer).__name__}.{name}: penalised={name in chosen}"


def test_every_normalisation_layer_opts_out():
    for name, cls in inspect.getmembers(nn, inspect.isclass):
        if issubclass(cls, nn.Module) and "Norm" in name:
            assert cls.penalize_weights is False, name


def test_frozen_and_shared_weights():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared, nn.Linear(2, 1))
    model[3].weight.requires_grad_(False)
    assert [n for n, _ in penalized_parameters(model)] == ["0.weight"]


def _neuron_run(**penalty):
    myelin.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.float32)
    neuron = nn.Neuron(2, activation="sigmoid")
    history = myelin.fit(neuron, (x, y), loss="bce", optimizer=myelin.optim.SGD(neuron.parameters(), lr=0.5),
                         epochs=5, batch_size=64, shuffle=False, verbose=0, **penalty)
    return neuron, history


def test_a_neurons_1d_weights_are_penalised_and_the_penalty_is_recorded():
    plain, h0 = _neuron_run()
    shrunk, h2 = _neuron_run(l2=1.0)
    assert "penalty" not in h0.history
    assert np.linalg.norm(shrunk.weight.data) < 0.5 * np.linalg.norm(plain.weight.data)
    w = shrunk.weight.data.astype(np.float64)
    assert h2.history["penalty"][-1] == pytest.approx(float(w @ w), rel=1e-6)
    assert len(h2.history["penalty"]) == 5 and h2.history["penalty"][0] > h2.history["penalty"][-1]


def test_one_step_gradient_is_data_loss_plus_the_penalty_on_weights_only():
    """One full-batch SGD step of fit(l1, l2) equals the step on loss + l1*sum|w| + l2*sum w^2 by autograd."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.integers(0, 2, 8)

    def build():
        myelin.manual_seed(3)
        return nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Tanh(), nn.Linear(4, 2))

    l1, l2, lr = 0.01, 0.05, 0.1
    a = build()
    myelin.fit(a, (x, y), loss="cross_entropy", optimizer=myelin.optim.SGD(a.parameters(), lr=lr), epochs=1,
               batch_size=8, shuffle=False, verbose=0, l1=l1, l2=l2)
    b = build()
    loss = nn.functional.cross_entropy(b(myelin.tensor(x)), myelin.tensor(y))
    for w in (b[0].weight, b[3].weight):
        loss = loss + l1 * w.abs().sum() + l2 * (w * w).sum()
    loss.backward()
    with myelin.no_grad():
        for p in b.parameters():
            p -= lr * p.grad
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_allclose(pa.data, pb.data, rtol=1e-5, atol=1e-6, err_msg=name)
