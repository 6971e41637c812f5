"""Checkpoints: what they hold, how states come back (types included), atomic writes."""

from __future__ import annotations

import os

import numpy as np
import pytest

import myelin
from myelin import nn, optim
from myelin.io import Checkpoint, ModelFileError, load_checkpoint, read_safetensors, save_checkpoint


def _setup():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.95))
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    x = myelin.tensor(np.random.default_rng(0).random((16, 4), dtype=np.float32))
    y = np.arange(16) % 3
    for _ in range(3):
        opt.zero_grad()
        myelin.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        sched.step()
    return model, opt, sched


def test_checkpoint_round_trip_restores_every_state(tmp_path):
    model, opt, sched = _setup()
    path = tmp_path / "ckpt.safetensors"
    history = {"loss": [1.0, 0.5, float("nan")], "lr": [0.01, 0.01, 0.005]}
    myelin.manual_seed(123)
    save_checkpoint(path, model, optimizer=opt, scheduler=sched, epoch=3, step=42, history=history,
                    loader_epoch=3, extra={"note": "hi", "arr": np.arange(3)})
    expected_draw = myelin.get_rng().random(4)

    ckpt = load_checkpoint(path)
    assert isinstance(ckpt, Checkpoint)
    assert (ckpt.epoch, ckpt.step, ckpt.batch, ckpt.loader_epoch) == (3, 42, 0, 3)
    assert ckpt.history["loss"][:2] == [1.0, 0.5] and np.isnan(ckpt.history["loss"][2])
    assert ckpt.extra["note"] == "hi" and ckpt.extra["arr"].tolist() == [0, 1, 2]
    assert ckpt.config == model.get_config()

    model2 = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=7, gamma=0.1)
    myelin.manual_seed(999)
    ckpt.restore(model2, opt2, sched2)
    assert np.array_equal(myelin.get_rng().random(4), expected_draw)
    for k, v in model.state_dict().items():
        assert np.array_equal(model2.state_dict()[k], v)
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    assert isinstance(opt2.param_groups[0]["betas"], tuple)
    assert set(s2["state"]) == set(s1["state"]) and all(isinstance(k, int) for k in s2["state"])
    for i, st in s1["state"].items():
        for name, value in st.items():
            other = s2["state"][i][name]
            assert type(other) is type(value)
            assert np.array_equal(other, value)
    assert sched2.state_dict() == sched.state_dict()


def test_checkpoint_tensor_names_are_flat_paths(tmp_path):
    model, opt, sched = _setup()
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, optimizer=opt, scheduler=sched)
    tensors, meta = read_safetensors(path)
    assert "optimizer.state.0.exp_avg" in tensors and "optimizer.state.3.exp_avg_sq" in tensors
    assert "model.0.weight" in tensors and "model.1.running_mean" in tensors
    assert meta["myelin.kind"] == "checkpoint" and "myelin.checkpoint" in meta
    # the model inside a checkpoint loads with myelin.load and load_weights
    rebuilt = myelin.load(path)
    for k, v in model.state_dict().items():
        assert np.array_equal(rebuilt.state_dict()[k], v)
    assert set(myelin.load_weights(path)) == set(model.state_dict())


def test_numpy_scalars_tuples_and_int_keys_keep_their_types(tmp_path):
    path = tmp_path / "c.safetensors"
    extra = {"s": np.float32(1.5), "i": np.int64(3), "t": (1, (2.5, "x")), 7: {"deep": [np.ones(2)]}, "__x__": 1}
    save_checkpoint(path, {"w": np.zeros(2, np.float32)}, extra=extra)
    got = load_checkpoint(path).extra
    assert type(got["s"]) is np.float32 and got["s"] == np.float32(1.5)
    assert type(got["i"]) is np.int64
    assert got["t"] == (1, (2.5, "x"))
    assert np.array_equal(got[7]["deep"][0], np.ones(2))
    assert got["__x__"] == 1


def test_unstorable_state_raises_and_leaves_the_old_file(tmp_path):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, {"w": np.zeros(2, np.float32)}, epoch=1)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot store 'extra.fn'"):
        save_checkpoint(path, {"w": np.ones(2, np.float32)}, extra={"fn": print})
    assert path.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_restore_into_a_mismatched_model_or_optimizer_is_a_model_file_error(tmp_path):
    model, opt, _ = _setup()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, optimizer=opt)
    ckpt = load_checkpoint(path)
    with pytest.raises(ModelFileError, match="0.weight"):
        ckpt.restore(nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)))
    small = nn.Linear(4, 8)
    with pytest.raises(ModelFileError, match="optimizer state does not fit|params must list"):
        ckpt.restore(None, optim.Adam(small.parameters()))
    with pytest.raises(ModelFileError, match="no scheduler state"):
        ckpt.restore(None, None, optim.lr_scheduler.StepLR(opt, 1))
    save_checkpoint(path, model, scheduler=optim.lr_scheduler.StepLR(opt, 1))
    with pytest.raises(ModelFileError, match="scheduler state has keys .* that ExponentialLR lacks"):
        load_checkpoint(path).restore(None, None, optim.lr_scheduler.ExponentialLR(opt, 0.9))


def test_load_checkpoint_of_a_model_file_says_so(tmp_path):
    path = tmp_path / "m.safetensors"
    myelin.save(nn.Linear(2, 2), path)
    with pytest.raises(ModelFileError, match="not a checkpoint"):
        load_checkpoint(path)


# ------------------------------------------------------------------ states that load but would crash training later


def _adam_state(model, opt):
    state = opt.state_dict()
    return model, opt, state


def _bad_optimizer_states():
    """(label, change to the saved Adam state, expected message)."""
    def step(v):
        return lambda st: st["state"][0].__setitem__("step", v)

    return [
        ("step -1", step(-1), r"optimizer.state.0.step must be an integer >= 0"),
        ("step x", step("x"), r"optimizer.state.0.step must be a finite number"),
        ("step nan", step(float("nan")), r"optimizer.state.0.step must be a finite number"),
        ("int exp_avg", lambda st: st["state"][0].__setitem__("exp_avg", st["state"][0]["exp_avg"].astype(np.int64)),
         r"optimizer.state.0.exp_avg must be a float array"),
        ("exp_avg shape", lambda st: st["state"][0].__setitem__("exp_avg", np.zeros(3, np.float32)),
         r"optimizer.state.0.exp_avg must be a float array of shape \(8, 4\)"),
        ("missing exp_avg", lambda st: st["state"][0].pop("exp_avg"), r"optimizer.state.0 has .*Adam keeps"),
        ("inf exp_avg_sq", lambda st: st["state"][0]["exp_avg_sq"].__setitem__((0, 0), np.inf), "NaN or infinite"),
        ("lr text", lambda st: st["param_groups"][0].__setitem__("lr", "x"), r"param_groups\[0\].lr must be a finite"),
        ("betas short", lambda st: st["param_groups"][0].__setitem__("betas", [0.9]), r"betas must be a list of 2"),
    ]


@pytest.mark.parametrize("label, change, message", _bad_optimizer_states(), ids=lambda v: v if isinstance(v, str) else "")
def test_an_optimizer_state_that_would_crash_later_is_refused_at_load(tmp_path, label, change, message):
    model, opt, _ = _setup()
    state = opt.state_dict()
    change(state)
    ckpt = Checkpoint(model_state=model.state_dict(), optimizer_state=state, source="c.safetensors")
    fresh = optim.Adam(model.parameters(), lr=0.01)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(ModelFileError, match=message):
        ckpt.restore(model, fresh)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())  # nothing loaded


def test_an_sgd_state_resumed_into_adam_names_the_missing_settings(tmp_path):
    model, _, _ = _setup()
    sgd = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = myelin.tensor(np.ones((4, 4), np.float32))
    sgd.zero_grad()
    myelin.nn.functional.cross_entropy(model(x), np.arange(4) % 3).backward()
    sgd.step()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, optimizer=sgd)
    with pytest.raises(ModelFileError, match=r"param_groups\[0\] lacks .*betas.* Adam needs"):
        load_checkpoint(path).restore(model, optim.Adam(model.parameters()))


@pytest.mark.parametrize("change, message", [
    (lambda st: st.__setitem__("last_epoch", "x"), r"scheduler.last_epoch must be a finite number"),
    (lambda st: st.pop("last_epoch"), r"lacks \['last_epoch'\]"),
    (lambda st: st.__setitem__("gamma", None), r"scheduler.gamma must be a finite number"),
])
def test_a_scheduler_state_of_the_wrong_type_is_refused(change, message):
    model, opt, sched = _setup()
    state = sched.state_dict()
    change(state)
    ckpt = Checkpoint(model_state=model.state_dict(), scheduler_state=state, source="c")
    with pytest.raises(ModelFileError, match=message):
        ckpt.restore(None, None, optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5))


def test_history_lists_of_unequal_length_are_refused(tmp_path):
    model, _, _ = _setup()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, epoch=2, history={"loss": [1.0, 0.5], "val_loss": [1.0]})
    with pytest.raises(ModelFileError, match="history lists differ in length"):
        load_checkpoint(path)
