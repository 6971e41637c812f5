"""Callbacks: the event order, EarlyStopping in both endings, ModelCheckpoint, CSVLogger, LambdaCallback, History."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest

import myelin
from myelin import nn
from myelin.io import load_checkpoint
from myelin.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
)


def _data(n: int = 40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def _model() -> nn.Module:
    myelin.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def _state(model):
    return {k: np.array(v, copy=True) for k, v in model.state_dict().items()}


def _scripted(scores):
    """Puts ``scores[epoch]`` into the logs as ``score`` (runs before the callbacks that read it)."""
    return LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(score=scores[epoch]))


def _snapshots(model, into):
    return LambdaCallback(on_epoch_end=lambda epoch, logs: into.append(_state(model)))


def _fit(model, callbacks, epochs=6, **kw):
    x, y = _data()
    return myelin.fit(model, (x, y), loss="cross_entropy", optimizer="adam", epochs=epochs, batch_size=10,
                      callbacks=callbacks, verbose=0, **kw)


def _equal(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_events_arrive_in_order_with_context():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append(("train_begin", self.model is not None, self.params["epochs"], self.params["steps"]))

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch_begin", epoch))

        def on_batch_begin(self, batch, logs=None):
            events.append(("batch_begin", batch))

        def on_batch_end(self, batch, logs=None):
            events.append(("batch_end", batch, logs["size"], np.isfinite(logs["loss"])))

        def on_epoch_end(self, epoch, logs=None):
            events.append(("epoch_end", epoch, sorted(logs), len(self.history)))

        def on_train_end(self, logs=None):
            events.append(("train_end",))

    x, y = _data(25)
    myelin.fit(_model(), (x, y), loss="ce", optimizer="sgd", epochs=2, batch_size=10, callbacks=[Recorder()],
               verbose=0)
    keys = ["accuracy", "epoch_time", "loss", "lr"]
    epoch = [("batch_begin", 0), ("batch_end", 0, 10, True), ("batch_begin", 1), ("batch_end", 1, 10, True),
             ("batch_begin", 2), ("batch_end", 2, 5, True)]
    assert events == [("train_begin", True, 2, 3), ("epoch_begin", 0), *epoch, ("epoch_end", 0, keys, 1),
                      ("epoch_begin", 1), *epoch, ("epoch_end", 1, keys, 2), ("train_end",)]


def test_early_stopping_when_patience_runs_out_restores_the_best_weights():
    model = _model()
    snaps = []
    stop = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    h = _fit(model, [_scripted([3.0, 1.0, 2.0, 1.5, 0.5, 0.1]), _snapshots(model, snaps), stop], epochs=6)
    assert len(h) == 4 and h.stopped_early and stop.stopped_epoch == 3 and stop.best_epoch == 1
    assert _equal(_state(model), snaps[1])
    assert not _equal(snaps[3], snaps[1])


def test_early_stopping_restores_the_best_weights_when_epochs_run_out_first():
    model = _model()
    snaps = []
    stop = EarlyStopping(monitor="score", patience=10, restore_best_weights=True)
    h = _fit(model, [_scripted([3.0, 1.0, 2.0, 1.5]), _snapshots(model, snaps), stop], epochs=4)
    assert len(h) == 4 and not h.stopped_early and stop.stopped_epoch is None
    assert _equal(_state(model), snaps[1])


def test_early_stopping_mode_min_delta_and_no_restore():
    model = _model()
    snaps = []
    stop = EarlyStopping(monitor="val_accuracy_like", patience=1, min_delta=0.1, mode="auto")
    assert stop.mode == "max"
    scores = [0.5, 0.55, 0.9, 0.95]
    h = _fit(model, [LambdaCallback(on_epoch_end=lambda e, logs: logs.update(val_accuracy_like=scores[e])),
                     _snapshots(model, snaps), stop], epochs=4)
    assert len(h) == 2  # 0.55 is not 0.1 better than 0.5
    assert _equal(_state(model), snaps[-1])  # restore_best_weights=False keeps the last weights
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="lowest")


def test_early_stopping_warns_when_the_monitor_is_missing():
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs"):
        _fit(_model(), [EarlyStopping()], epochs=2)


def test_model_checkpoint_save_best_only(tmp_path):
    model = _model()
    snaps = []
    path = tmp_path / "best.safetensors"
    saver = ModelCheckpoint(path, monitor="score", save_best_only=True)
    _fit(model, [_scripted([3.0, 1.0, 2.0, 0.5, 0.7]), _snapshots(model, snaps), saver], epochs=5)
    ckpt = load_checkpoint(path)
    assert ckpt.epoch == 4 and saver.best == 0.5  # epoch 4 (1-based) had the best score
    assert _equal(ckpt.model_state, snaps[3])
    assert len(ckpt.history["loss"]) == 4  # the History up to that epoch


def test_model_checkpoint_every_epoch_with_formatted_names(tmp_path):
    model = _model()
    _fit(model, [ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{loss:.2f}.safetensors")], epochs=3)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3 and names[0].startswith("ckpt-01-") and names[2].startswith("ckpt-03-")
    assert load_checkpoint(tmp_path / names[2]).epoch == 3


def test_model_checkpoint_resume_keeps_its_best(tmp_path):
    path = tmp_path / "best.safetensors"
    model = _model()
    _fit(model, [_scripted([3.0, 1.0]), ModelCheckpoint(path, monitor="score", save_best_only=True)], epochs=2)
    saver = ModelCheckpoint(tmp_path / "best2.safetensors", monitor="score", save_best_only=True)
    _fit(_model(), [_scripted([3.0, 1.0, 2.0]), saver], epochs=3, resume_from=path)
    assert saver.best == 1.0 and not (tmp_path / "best2.safetensors").exists()  # 2.0 is worse than 1.0


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to itself with os.kill (POSIX)")
@pytest.mark.parametrize("best_only", [False, True])
def test_model_checkpoint_on_ctrl_c_with_a_name_pattern_writes_a_sibling(tmp_path, best_only):
    import os
    import signal

    def interrupt(batch, logs):
        if len(seen) == 5:  # second epoch, batch 1
            os.kill(os.getpid(), signal.SIGINT)
        seen.append(batch)

    seen: list[int] = []
    saver = ModelCheckpoint(tmp_path / "ck-{epoch}-{val_loss:.2f}.safetensors", save_best_only=best_only)
    h = _fit(_model(), [LambdaCallback(on_batch_end=interrupt), saver], epochs=3, validation_data=_data(8))
    assert h.interrupted and len(h) == 1
    assert saver.last_path.endswith("-interrupted.safetensors") and "ck-2-" in saver.last_path
    ckpt = load_checkpoint(saver.last_path)
    assert (ckpt.epoch, ckpt.batch) == (1, 2)
    assert len(list(tmp_path.iterdir())) == 2  # epoch 1's checkpoint and the interrupted one


def test_csv_logger_writes_the_history(tmp_path):
    path = tmp_path / "log.csv"
    h = _fit(_model(), [CSVLogger(path)], epochs=3, validation_data=_data(12))
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", *h.keys()]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert float(rows[3][rows[0].index("val_loss")]) == h["val_loss"][2]


def test_lambda_callback_and_stop_training_from_a_batch_hook():
    seen = []

    class StopAt(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)
            if batch == 1:
                self.stop_training = True

    h = _fit(_model(), [StopAt()], epochs=3)
    assert seen == [0, 1] and len(h) == 0 and h.stopped_early
    with pytest.raises(TypeError, match="callable"):
        LambdaCallback(on_epoch_end=3)
    with pytest.raises(TypeError, match="Callback instances"):
        _fit(_model(), [print], epochs=1)


def test_history_is_dict_like():
    h = History()
    h.on_epoch_end(0, {"loss": 1.0, "accuracy": np.float32(0.5)})
    h.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.7})
    assert h["loss"] == [1.0, 0.5] and h.history["val_loss"] == [None, 0.7]
    assert h["accuracy"] == [0.5, None] and type(h["accuracy"][0]) is float
    assert "loss" in h and list(h) == ["loss", "accuracy", "val_loss"] and len(h) == 2
    assert h.last("loss") == 0.5 and h.best("loss") == (1, 0.5)
    with pytest.raises(KeyError, match="has no key 'mae'"):
        h["mae"]
