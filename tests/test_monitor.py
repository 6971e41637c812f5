"""neuron_stats, confusion_matrix and the NeuronMonitor callback: known dead/saturated units, warnings, records."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import myelin
from myelin import nn
from myelin.monitor import MonitorWarning, NeuronMonitor, confusion_matrix, neuron_stats
from myelin.optim import SGD, Adam
from myelin.train.fit import TrainingDivergedError

DEAD = [1, 4, 9]
SATURATED = [2, 5, 11]


def _data(n: int = 512, d: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def _sick_mlp() -> nn.Sequential:
    """ReLU units DEAD never fire (bias -100); sigmoid/tanh units SATURATED sit at their bounds (weights x1000)."""
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.Sigmoid(),
                          nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2))
    model[0].bias.data[DEAD] = -100.0
    model[2].weight.data[SATURATED] *= 1000.0
    model[4].weight.data[SATURATED] *= 1000.0
    return model


# ------------------------------------------------------------------------------------------ neuron_stats


def test_neuron_stats_finds_exactly_the_dead_units():
    x, _ = _data()
    model = _sick_mlp()
    z = np.sort(x @ model[0].weight.data[20] + model[0].bias.data[20])
    model[0].bias.data[20] -= (z[-1] + z[-2]) / 2  # unit 20 fires on exactly one sample: alive
    stats = neuron_stats(model, x, "1")
    assert stats.summary["dead_units"] == DEAD
    assert np.flatnonzero(stats.dead).tolist() == DEAD
    assert stats.units == 32 and stats.samples == len(x)
    assert np.all(stats.fraction_active[DEAD] == 0)
    assert stats.fraction_active[20] == 1 / len(x)
    alive = np.setdiff1d(np.arange(32), DEAD)
    assert np.all(stats.fraction_active[alive] > 0)
    assert stats.fraction_saturated is None and stats.summary["saturated_fraction"] is None
    assert stats.summary["dead_fraction"] == pytest.approx(3 / 32)


def test_neuron_stats_finds_exactly_the_saturated_units():
    x, _ = _data()
    model = _sick_mlp()
    for layer in ("3", model[5]):  # by name and by module
        stats = neuron_stats(model, x, layer)
        assert stats.summary["saturated_units"] == SATURATED
        assert np.flatnonzero(stats.saturated).tolist() == SATURATED
        assert np.all(stats.fraction_saturated[SATURATED] > 0.9)


def test_neuron_stats_mean_std_match_numpy_and_modes_are_restored():
    x, _ = _data(300)
    model = nn.Sequential(nn.Linear(20, 8), nn.Tanh(), nn.Linear(8, 2))
    model.train()
    stats = neuron_stats(model, x, "1", batch_size=64)
    ref = np.tanh(x @ model[0].weight.data.T + model[0].bias.data)
    np.testing.assert_allclose(stats.mean, ref.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats.std, ref.std(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(stats.fraction_active, (ref > 0).mean(0))
    assert model.training and model[1].training
    assert not model[1]._forward_hooks and not model[0]._forward_hooks


def test_neuron_stats_conv_channels_and_dataloader():
    from myelin.data import DataLoader, TensorDataset

    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 1, 8, 8)).astype(np.float32)
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 64, 2))
    model[0].bias.data[[0, 3]] = -100.0
    loader = DataLoader(TensorDataset(x, np.zeros(40, dtype=np.int64)), batch_size=16)
    stats = neuron_stats(model, loader, "1")
    assert stats.units == 6
    assert stats.summary["dead_units"] == [0, 3]
    assert stats.samples == 40 * 64


def test_neuron_stats_unknown_layer_names_the_choices():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with pytest.raises(KeyError, match="'1'"):
        neuron_stats(model, np.zeros((4, 2), np.float32), "7")


# ------------------------------------------------------------------------------------------ confusion_matrix


def test_confusion_matrix_counts_labels_and_scores():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), expected)
    scores = np.eye(3)[y_pred] * 5.0 - 1.0
    np.testing.assert_array_equal(confusion_matrix(y_true, scores), expected)
    assert confusion_matrix(y_true, y_pred, num_classes=5).shape == (5, 5)
    with pytest.raises(ValueError, match="6 labels but y_pred has 5"):
        confusion_matrix(y_true, y_pred[:5])
    with pytest.raises(ValueError, match="num_classes=2"):
        confusion_matrix(y_true, y_pred, num_classes=2)


# ------------------------------------------------------------------------------------------ NeuronMonitor


def _fit(model, monitor, *, lr=1e-3, opt=Adam, epochs=3, x=None, y=None, **kw):
    if x is None:
        x, y = _data()
    return myelin.fit(model, (x, y), loss="cross_entropy", optimizer=opt(model.parameters(), lr=lr), epochs=epochs,
                      batch_size=64, callbacks=[monitor], verbose=0, **kw)


def test_monitor_reports_exactly_the_sick_units_and_warns_once():
    model = _sick_mlp()
    messages: list[str] = []
    monitor = NeuronMonitor(dead_threshold=0.05, saturated_fraction=0.1, log=messages.append)
    history = _fit(model, monitor)
    assert len(monitor.records) == 3
    for record in monitor.records:
        layers = record["layers"]
        assert layers["1"]["dead_units"] == DEAD
        assert layers["3"]["saturated_units"] == SATURATED
        assert layers["5"]["saturated_units"] == SATURATED
        assert record["batches"] == 2 and record["samples"] == 128
    assert len(messages) == 3  # dead '1', saturated '3' and '5': each said once, not every epoch
    assert "layer '1' (ReLU): 9% of 32 neurons are dead" in messages[0]
    assert "LeakyReLU or He initialisation" in messages[0]
    assert any("layer '3' (Sigmoid): 19% of 16 neurons are saturated" in m for m in messages)
    assert any("layer '5' (Tanh)" in m for m in messages)
    assert monitor.warnings == messages
    assert history["dead_fraction/1"] == pytest.approx([3 / 32] * 3)
    assert history["saturated_fraction/3"] == pytest.approx([3 / 16] * 3)


def test_healthy_network_gets_no_warning():
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 2))
    monitor = NeuronMonitor()
    with warnings.catch_warnings():
        warnings.simplefilter("error", MonitorWarning)
        _fit(model, monitor)
    assert monitor.warnings == []
    assert all(not r["warnings"] for r in monitor.records)
    last = monitor.records[-1]["layers"]
    assert last["1"]["dead_fraction"] == 0.0 and last["3"]["saturated_fraction"] == 0.0
    for name in ("0", "2", "4"):
        assert 0 < last[name]["grad_norm"] < 10
        assert 0 < last[name]["update_ratio"] < 1
        assert last[name]["weight_norm"] == pytest.approx(
            math.sqrt(sum(float((p.data.astype(np.float64) ** 2).sum()) for p in model[int(name)].parameters())))


def test_too_high_learning_rate_gets_the_exploding_warning():
    x, y = _data(2048)  # 32 batches: the statistics batches (30, 31) come after the damage is done
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    monitor = NeuronMonitor(warn=False)
    try:
        _fit(model, monitor, opt=SGD, lr=3.0, x=x * 10, y=y, epochs=1)
    except TrainingDivergedError:
        pass  # should fit stop on a NaN loss, the monitor has spoken before
    exploding = [w for w in monitor.warnings if w.startswith("exploding gradients: layer '")]
    assert len(exploding) == 1 and "above 1000" in exploding[0] and "clip_grad_norm" in exploding[0]
    assert monitor.warnings[0] == exploding[0]  # seen by an early probe batch, before the ReLUs died


def test_deep_sigmoid_stack_gets_the_vanishing_warning():
    layers: list[nn.Module] = [nn.Linear(20, 32), nn.Sigmoid()]
    for _ in range(7):
        layers += [nn.Linear(32, 32), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(32, 2))
    monitor = NeuronMonitor()
    with pytest.warns(MonitorWarning, match=r"vanishing gradients: the first layer '0' \(Linear\)"):
        _fit(model, monitor, opt=SGD, lr=0.1, epochs=2)
    norms = [monitor.records[-1]["layers"][str(i)]["grad_norm"] for i in range(0, 17, 2)]
    assert norms[0] < 1e-3 * norms[-1]


def test_history_keys_align_with_epochs_and_every():
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 2))
    monitor = NeuronMonitor(every=2)
    history = _fit(model, monitor, epochs=5)
    assert [r["epoch"] for r in monitor.records] == [0, 2, 4]
    for key in ("dead_fraction/1", "act_mean/1", "act_std/0", "grad_norm/0", "weight_norm/2", "update_ratio/2"):
        column = history[key]
        assert len(column) == len(history["loss"]) == 5
        assert [v is None for v in column] == [False, True, False, True, False]
    assert "dead_fraction/0" not in history and "saturated_fraction/1" not in history


def test_hooks_are_removed_and_history_survives_a_checkpoint(tmp_path):
    from myelin.io import load_checkpoint
    from myelin.train.callbacks import ModelCheckpoint

    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 2))
    monitor = NeuronMonitor()
    x, y = _data()
    myelin.fit(model, (x, y), loss="cross_entropy", optimizer=Adam(model.parameters()), epochs=2, batch_size=64,
               callbacks=[monitor, ModelCheckpoint(tmp_path / "ckpt.safetensors")], verbose=0)
    assert all(not m._forward_hooks for m in model.modules())
    assert all(not p._hooks for p in model.parameters())
    ckpt = load_checkpoint(tmp_path / "ckpt.safetensors")  # History values must be numbers or None
    assert ckpt.history["grad_norm/0"] == pytest.approx(monitor.history["grad_norm/0"])


def test_save_writes_strict_json(tmp_path):
    model = _sick_mlp()
    monitor = NeuronMonitor(warn=False, dead_threshold=0.05, saturated_fraction=0.1)
    _fit(model, monitor, epochs=2)
    path = monitor.save(tmp_path / "run")
    text = path.read_text()
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert data["format"] == "myelin.monitor" and data["version"] == 1
    assert [entry["name"] for entry in data["layers"]] == [str(i) for i in range(7)]
    assert data["epochs"][-1]["layers"]["1"]["dead_units"] == DEAD
    assert data["warnings"] == monitor.warnings and len(data["warnings"]) == 3
    assert data["settings"]["sample_batches"] == 2


def test_conv_monitor_counts_channels():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((96, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 2, 96)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 16, 2))
    model[0].bias.data[:4] = -100.0
    messages: list[str] = []
    monitor = NeuronMonitor(log=messages.append)
    _fit(model, monitor, x=x, y=y, epochs=1)
    assert monitor.records[0]["layers"]["1"]["dead_units"] == [0, 1, 2, 3]
    assert messages == [messages[0]] and "50% of 8 channels are dead" in messages[0]


class _SharedActivation(nn.Module):
    """One ReLU module applied after two layers of different widths (a common PyTorch style)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.out = nn.Linear(20, 32), nn.Linear(32, 16), nn.Linear(16, 2)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.out(self.act(self.fc2(self.act(self.fc1(x)))))


def test_shared_activation_gets_one_entry_per_call_site():
    model = _SharedActivation()
    model.fc1.bias.data[[0, 7]] = -100.0
    monitor = NeuronMonitor(warn=False)
    _fit(model, monitor, epochs=1)
    layers = monitor.records[0]["layers"]
    assert list(layers) == ["fc1", "act", "fc2", "act#1", "out"]  # forward order
    assert layers["act"]["units"] == 32 and layers["act"]["dead_units"] == [0, 7]
    assert layers["act#1"]["units"] == 16 and "dead_fraction" in layers["act#1"]


class _SequenceNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm, self.fc = nn.LSTM(5, 12, batch_first=True), nn.Linear(12, 2)

    def forward(self, x):
        out, _ = self.lstm(x)  # a tuple output: (output, (h_n, c_n))
        return self.fc(out[:, -1])


def test_lstm_model_is_monitored():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((128, 7, 5)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.int64)
    model = _SequenceNet()
    monitor = NeuronMonitor(warn=False)
    _fit(model, monitor, x=x, y=y, epochs=2)
    lstm = monitor.records[-1]["layers"]["lstm"]
    assert lstm["type"] == "LSTM" and lstm["units"] == 12
    assert lstm["grad_norm"] > 0 and lstm["weight_norm"] > 0 and lstm["update_ratio"] > 0
    assert -1 < lstm["act_mean"] < 1
    stats = neuron_stats(model, x, "lstm")
    assert stats.units == 12 and stats.samples == 128 * 7


def test_monitor_validates_its_arguments():
    with pytest.raises(ValueError, match="sample_batches"):
        NeuronMonitor(sample_batches=0)
    with pytest.raises(TypeError, match="every"):
        NeuronMonitor(every=1.5)
    with pytest.raises(ValueError, match="dead_threshold"):
        NeuronMonitor(dead_threshold=2)
    with pytest.raises(TypeError, match="log"):
        NeuronMonitor(log="print")
