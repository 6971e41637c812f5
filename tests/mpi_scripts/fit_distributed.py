"""``fit(..., distributed=True)`` on N ranks ends where ``fit`` on one process ends, and resumes on any N.

``mpirun -n 2 python fit_distributed.py train DIR``: 3 epochs with ModelCheckpoint and CSVLogger writing
into ``DIR/rank<r>/`` (only rank 0 may write); rank 0 compares weights and History with one process.
``[mpirun -n M] python fit_distributed.py resume DIR``: resume ``DIR/rank0/ckpt.safetensors`` to epoch 5.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from _common import SEED, flat_weights, gather_weights, make_data, make_model, report

import myelin
from myelin import distributed as dist
from myelin import optim
from myelin.train import CSVLogger, ModelCheckpoint

GLOBAL_BATCH = 16


def run(model: object, epochs: int, distributed: bool, folder: str | None = None, resume: str | None = None):
    data = make_data("mlp")
    callbacks = []
    if folder is not None:
        os.makedirs(folder, exist_ok=True)
        callbacks = [ModelCheckpoint(os.path.join(folder, "ckpt.safetensors")),
                     CSVLogger(os.path.join(folder, "log.csv"))]
    return myelin.fit(model, (data.arrays[0], data.arrays[1]), loss="cross_entropy",
                      optimizer=optim.SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=epochs,
                      batch_size=GLOBAL_BATCH, seed=SEED, verbose=0, callbacks=callbacks, clip_grad_norm=1.0,
                      resume_from=resume, distributed=distributed)


def reference(epochs: int) -> tuple[np.ndarray, list[float]]:
    myelin.manual_seed(100)  # rank 0's initial weights
    model = make_model("mlp")
    history = run(model, epochs, distributed=False)
    return flat_weights(model), history.history["loss"]


def compare(phase: str, model: object, history: object, epochs: int, **extra: object) -> None:
    weights = gather_weights(model)
    if dist.is_main():
        expected, losses = reference(epochs)
        report(phase=phase, ranks=dist.world_size(), epochs=len(history.history["loss"]),
               max_abs_diff=float(np.max(np.abs(weights[0] - expected))),
               allclose=bool(np.allclose(weights[0], expected, rtol=1e-5, atol=1e-6)),
               ranks_identical=bool(all(np.array_equal(weights[0], w) for w in weights[1:])),
               loss_matches=bool(np.allclose(history.history["loss"], losses[-len(history.history["loss"]):],
                                             rtol=1e-5)), **extra)


if __name__ == "__main__":
    phase, folder = sys.argv[1], sys.argv[2]
    rank = dist.init().rank
    myelin.manual_seed(100 + rank)  # different initial weights per rank: fit must broadcast rank 0's
    model = make_model("mlp")
    if phase == "train":
        history = run(model, 3, distributed=True, folder=os.path.join(folder, f"rank{rank}"))
        dist.barrier()
        compare(phase, model, history, 3, files={d: sorted(os.listdir(os.path.join(folder, d)))
                                                 for d in sorted(os.listdir(folder))})
    else:
        history = run(model, 5, distributed=True, resume=os.path.join(folder, "rank0", "ckpt.safetensors"))
        compare(phase, model, history, 5)
