"""myelin.playground without a server: settings, budget, the training session, the script it writes."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import myelin
from myelin.playground import Budget, BudgetError, SettingsError, TrainingSession, check_settings
from myelin.playground.session import MAX_DRAWN

BUDGET = Budget(flops=1e9)  # fixed speed: the tests do not depend on the machine's load


def session(**settings):
    return TrainingSession(settings, budget=BUDGET)


# ----------------------------------------------------------------------------- settings


def test_settings_defaults_and_canonical_forms():
    s = check_settings({})
    assert s["data"] == "spirals" and s["layers"] == [8, 8] and s["features"] == ["x1", "x2"]
    s = check_settings({"layers": "4,3", "features": "x2,x1,x1^2", "lr": 1, "seed": 3.0})
    assert s["layers"] == [4, 3] and s["features"] == ["x1", "x2", "x1^2"] and s["lr"] == 1.0 and s["seed"] == 3
    assert check_settings({"data": "sine", "features": ["x1", "sin(x1)"]})["features"] == ["x1", "sin(x1)"]


@pytest.mark.parametrize("bad, match", [
    ({"lr": float("nan")}, "'lr': expected a finite number"),
    ({"lr": float("inf")}, "'lr'"),
    ({"lr": 0}, "'lr': expected a number in \\(0"),
    ({"lr": "0.1"}, "'lr'"),
    ({"batch": 0}, "'batch'"),
    ({"batch": True}, "'batch'"),
    ({"layers": [8, -1]}, "'layers\\[1\\]'"),
    ({"layers": "8,x"}, "'layers'"),
    ({"layers": list(range(1, 5000))}, "'layers'"),
    ({"features": ["x3"]}, "'features'"),
    ({"features": []}, "'features'"),
    ({"data": "sine", "features": ["x2"]}, "'features'"),
    ({"data": "mnist"}, "'data': expected one of"),
    ({"dropout": 1.0}, "'dropout'"),
    ({"train_fraction": 1.0}, "'train_fraction'"),
    ({"seed": -1}, "'seed'"),
    ({"boundary": "x" * 300}, "'boundary'"),
    ({"hack": 1, "__class__": 2}, "unknown setting\\(s\\) '__class__', 'hack'"),
])
def test_settings_refuse_bad_values_with_the_field_name(bad, match):
    with pytest.raises(SettingsError, match=match):
        check_settings(bad)
    with pytest.raises(SettingsError):
        TrainingSession(bad, budget=BUDGET)


def test_settings_must_be_a_dict():
    with pytest.raises(SettingsError, match="JSON object"):
        check_settings([1, 2])


# ----------------------------------------------------------------------------- budget


def test_budget_refuses_by_memory_and_time_before_building_anything():
    with pytest.raises(BudgetError, match="MB per session"):
        session(layers=[100_000, 100_000])
    with pytest.raises(BudgetError, match="per training step"):
        TrainingSession({"layers": [1000, 1000], "batch": 1000}, budget=Budget(flops=1e8, memory_mb=4096))
    with pytest.raises(BudgetError, match="MB per session"):
        session(points=10**10)
    small = Budget(flops=1e9, memory_mb=1)
    with pytest.raises(BudgetError):
        TrainingSession({"layers": [64] * 10}, budget=small)
    # what fits is built: many layers are fine when the budget allows them
    s = session(layers=[4] * 12, points=60)
    assert len(s.widths) == 14 and s.estimate.parameters == s.model.num_parameters()


def test_budget_counts_layers_and_the_size_of_a_frame():
    with pytest.raises(BudgetError, match="per training step"):  # many tiny layers: the per-layer cost adds up
        session(layers=[2] * 1000)
    with pytest.raises(BudgetError, match="too large to draw"):
        TrainingSession({"layers": [24] * 150}, budget=Budget(flops=1e12, step_seconds=10, frame_seconds=10))
    assert session(layers=[24] * 20, points=40).estimate.frame_bytes < 4 * 2 ** 20


def test_budget_describe_and_measure():
    info = Budget().describe()  # measures this machine
    assert info["flops"] > 1e6 and info["max_parameters_at_batch_16"] > 1000


# ----------------------------------------------------------------------------- training and frames


def test_session_trains_spirals_and_frames_describe_the_page():
    s = session(data="spirals", layers=[8, 8], features=["x1", "x2", "x1^2", "x2^2", "sin(x1)", "sin(x2)"])
    first = s.frame()
    assert first["steps"] == 0 and first["history"] == [[0, first["train_loss"], first["test_loss"]]]
    s.run(steps=500)
    f = s.frame(since=1)
    assert f["steps"] == 500 and f["epoch"] == 500 // s.steps_per_epoch == 500 // 13
    assert f["test_accuracy"] > 0.9 and f["train_loss"] < first["train_loss"]
    assert f["history_start"] == 1 and f["history"][-1][0] == 500
    grid = s.describe()["grid"]
    assert len(f["layers"]) == 3 and [len(layer["maps"]) for layer in f["layers"]] == [6, 8, 8]
    assert len(np.frombuffer(__import__("base64").b64decode(f["layers"][1]["maps"][0]), np.uint8)) == grid * grid
    assert f["output"]["kind"] == "classes" and f["output"]["classes"] == 2
    assert [np.array(w).shape for w in f["weights"]] == [(8, 6), (8, 8), (2, 8)]
    json.dumps(f, allow_nan=False)  # the page gets strict JSON
    json.dumps(s.describe(), allow_nan=False)


def test_run_by_time_takes_at_least_one_step_and_stops():
    s = session()
    assert s.run(seconds=1e-6) == 1
    assert 1 <= s.run(seconds=0.05) < 10_000


def test_neuron_details_match_the_model_and_the_last_step():
    s = session(layers=[5, 3])
    s.run(steps=20)
    n = s.neuron(1, 2)
    lin = s.model[0]
    np.testing.assert_allclose(n["weights"], lin.weight.data[2])
    assert n["bias"] == pytest.approx(float(lin.bias.data[2]))
    grad = np.asarray(getattr(lin.weight.grad, "data", lin.weight.grad))
    np.testing.assert_allclose(n["weight_grads"], grad[2])
    assert n["inputs"] == ["x1", "x2"] and n["activation"] == "tanh" and not n["output"]
    assert -1 <= n["activation_stats"]["min"] <= n["activation_stats"]["mean"] <= n["activation_stats"]["max"] <= 1
    out = s.neuron(3, 1)
    assert out["output"] and out["inputs"] == ["h2.0", "h2.1", "h2.2"] and out["activation"] == "softmax"
    for layer, unit in ((0, 0), (4, 0), (1, 5), (1, -1), ("1", 0), (True, 0)):
        with pytest.raises(SettingsError):
            s.neuron(layer, unit)


def test_monitor_flags_dead_neurons_on_the_page():
    # a huge learning rate with ReLU kills most units within an epoch or two
    s = session(activation="relu", lr=5.0, optimizer="sgd", layers=[16], batch=20)
    s.run(steps=40)
    f = s.frame()
    assert f["dead"].get("1"), f
    assert any("hidden layer 1 (ReLU)" in w and "dead" in w for w in f["warnings"])
    unit = f["dead"]["1"][0]
    assert s.neuron(1, unit)["dead"] is True


def test_divergence_is_reported_not_raised():
    s = session(lr=1e30, optimizer="sgd", activation="relu")
    s.run(steps=50)
    f = s.frame()
    assert f["diverged"] and f["train_loss"] is None
    json.dumps(f, allow_nan=False)


def test_regression_on_sine_draws_curves():
    s = session(data="sine", features=["x1"], layers=[16, 16], points=200, noise=0.05)
    s.run(steps=1500)
    f = s.frame()
    info = s.describe()
    assert info["dim"] == 1 and info["task"] == "regression" and f["test_accuracy"] is None
    assert f["test_loss"] < 0.05
    assert f["output"]["kind"] == "values" and len(__import__("base64").b64decode(f["output"]["values"])) == info["line"]


def test_every_data_set_builds_and_trains_a_step():
    for data in ("spirals", "moons", "xor", "circles", "gaussians", "checkerboard", "function", "sine"):
        feats = ["x1"] if data == "sine" else ["x1", "x2"]
        s = session(data=data, features=feats, points=40)
        s.run(steps=2)
        assert math.isfinite(s.frame()["train_loss"])


def test_drawn_neurons_are_capped_but_all_are_trained():
    s = session(layers=[40], points=40)
    f = s.frame()
    assert len(f["layers"][1]["maps"]) == MAX_DRAWN and np.array(f["weights"][0]).shape == (MAX_DRAWN, 2)
    assert s.neuron(1, 39)["unit"] == 39


def test_sessions_do_not_disturb_each_others_random_numbers():
    """Dropout draws from the library RNG: interleaving two sessions must not change either run."""
    a, b = session(dropout=0.3, seed=1), session(dropout=0.3, seed=2)
    for _ in range(10):
        a.step()
        myelin.manual_seed(99)  # someone else uses the global RNG meanwhile
        b.step()
    alone = session(dropout=0.3, seed=1)
    alone.run(steps=10)
    for p, q in zip(a.model.parameters(), alone.model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


# ----------------------------------------------------------------------------- model file and script


@pytest.mark.parametrize("settings", [
    {"data": "spirals", "layers": [6, 4], "features": ["x1", "x2", "x1*x2", "sin(x1)"], "optimizer": "adam",
     "dropout": 0.2, "l1": 1e-4, "l2": 1e-3, "batch": 10, "seed": 5},
    {"data": "sine", "features": ["x1", "x1^2"], "layers": [5], "optimizer": "sgd", "momentum": 0.9, "lr": 0.01,
     "activation": "relu", "points": 64, "noise": 0.1},
    {"data": "function", "boundary": "x**3 - x", "layers": [4], "optimizer": "rmsprop", "lr": 0.01, "points": 80,
     "noise": 0.05, "activation": "sigmoid"},
])
def test_script_reproduces_the_session_bit_for_bit(tmp_path, settings):
    s = session(**settings)
    s.run(steps=37)  # not a whole number of epochs
    model_file = tmp_path / "session.safetensors"
    model_file.write_bytes(s.model_bytes())
    script = tmp_path / "run.py"
    script.write_text(s.script())
    out = tmp_path / "script.safetensors"
    result = subprocess.run([sys.executable, str(script), str(out)], check=False, capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test: loss" in result.stdout
    mine, theirs = myelin.io.load_weights(model_file), myelin.io.load_weights(out)
    assert mine.keys() == theirs.keys()
    for key in mine:
        np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
    loaded = myelin.load(model_file)
    meta = myelin.io.read_metadata(model_file)
    assert json.loads(meta["playground.settings"]) == s.settings and meta["playground.steps"] == "37"
    x = s.data.x_test[:5]
    with myelin.no_grad():
        s.model.eval()
        np.testing.assert_allclose(loaded(myelin.tensor(x)).data, s.model(myelin.tensor(x)).data, rtol=1e-6)


def test_reset_gives_the_same_start():
    s = session(seed=4)
    before = [p.data.copy() for p in s.model.parameters()]
    s.run(steps=5)
    s.reset()
    assert s.steps == 0 and s.history == []
    for p, q in zip(before, s.model.parameters()):
        np.testing.assert_array_equal(p, q.data)


# ----------------------------------------------------------------------------- the math of one step


@pytest.mark.parametrize("settings", [
    {"optimizer": "adam", "activation": "tanh"},
    {"optimizer": "sgd", "momentum": 0.9, "activation": "relu", "dropout": 0.2, "l2": 1e-3},
    {"optimizer": "rmsprop", "activation": "sigmoid", "data": "moons"},
    {"optimizer": "adagrad", "activation": "linear"},
    {"optimizer": "adamw", "data": "sine", "features": ["x1"]},
])
def test_step_math_replays_the_real_step(settings):
    s = session(layers=[5, 4], **settings)
    assert s.neuron(1, 0)["step"] is None  # no step yet
    s.run(steps=12)
    before = [p.copy() for p in s._before["params"]]
    for layer, unit in ((1, 3), (2, 1), (3, 0)):
        st = s.neuron(layer, unit)["step"]
        assert st["matches_engine"] is True and "backward_steps" in st["source"]
        lin = s.model[s.linear_index[layer - 1]]
        grad_w = np.asarray(getattr(lin.weight.grad, "data", lin.weight.grad))[unit]
        grad_b = float(np.asarray(getattr(lin.bias.grad, "data", lin.bias.grad))[unit])
        assert st["db"] == pytest.approx(grad_b, rel=1e-5, abs=1e-7)  # dL/db = sum of dL/dz
        if not s.settings["l2"]:
            np.testing.assert_allclose(st["dw"], grad_w, rtol=1e-4, atol=1e-7)  # dL/dw = sum dL/dz * x
        if st["local"] is not None:
            assert st["product"] == pytest.approx(st["incoming"] * st["local"], rel=1e-4, abs=1e-8)  # chain rule
        change = float(lin.bias.data[unit]) - float(before[2 * (layer - 1) + 1][unit])
        assert any(f"change of b in this step: {change:.4g}" in line for line in st["update"]), st["update"]
        assert any("<-" in line for line in st["lines"])


def test_step_math_falls_back_on_the_kept_gradients(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_viz(name, *args, **kwargs):
        if name == "myelin.viz":
            raise ImportError("no viz")
        return real_import(name, *args, **kwargs)

    s = session(layers=[3])
    s.run(steps=5)
    replayed = s.neuron(1, 1)["step"]
    monkeypatch.setattr(builtins, "__import__", no_viz)
    kept = s.neuron(1, 1)["step"]
    assert "retain_grad" in kept["source"] and kept["matches_engine"] is None
    for key in ("z", "a", "incoming", "product", "db"):
        assert kept[key] == pytest.approx(replayed[key], rel=1e-6, abs=1e-9), key
