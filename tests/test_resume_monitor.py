"""A run stopped mid-epoch and resumed reports the same monitor statistics as one never stopped (issue 17)."""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import pytest

import myelin
from myelin import nn
from myelin.monitor import NeuronMonitor
from myelin.train import LambdaCallback, ModelCheckpoint


def _run(tmp_path, stop_at: tuple[int, int] | None, resume: bool = False):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    myelin.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    callbacks = [NeuronMonitor(log=lambda message: None), ModelCheckpoint(tmp_path / "c.safetensors")]
    if stop_at is not None:
        def stop(batch, logs):
            if (callbacks[0].history is not None and len(callbacks[0].history.epoch) == stop_at[0]
                    and batch == stop_at[1]):
                os.kill(os.getpid(), signal.SIGINT)
        callbacks.append(LambdaCallback(on_batch_end=stop))
    return myelin.fit(model, (x, y), loss="cross_entropy", optimizer="adam", epochs=3, batch_size=16, seed=0,
                      verbose=0, callbacks=callbacks, resume_from=(tmp_path / "c.safetensors") if resume else None)


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to itself (POSIX)")
def test_update_ratios_match_after_a_mid_epoch_resume(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    whole = _run(tmp_path / "a", None)
    stopped = _run(tmp_path / "b", (1, 5))
    assert stopped.interrupted
    resumed = _run(tmp_path / "b", None, resume=True)
    ratios = [k for k in whole.history if "update_ratio" in k]
    assert ratios, sorted(whole.history)
    for key in ratios:
        np.testing.assert_array_equal(np.array(resumed.history[key], float), np.array(whole.history[key], float),
                                      err_msg=key)
