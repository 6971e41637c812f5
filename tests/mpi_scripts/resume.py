"""Resume a checkpoint written by an N-rank run with any number of ranks.

``mpirun -n 2 python resume.py save DIR``: train epochs 1-2 on 2 ranks; rank 0 alone writes ``DIR/ckpt.safetensors``.
``[mpirun -n M] python resume.py resume DIR``: every rank loads it, rank 0's state is broadcast, epochs 3-4 follow;
rank 0 compares with one process trained 4 epochs straight through and prints a ``RESULT`` line.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from _common import SEED, flat_weights, gather_weights, make_data, make_model, make_optimizer, report, train

import myelin
from myelin import distributed as dist
from myelin.data import DataLoader
from myelin.io import load_checkpoint, save_checkpoint

GLOBAL_BATCH, SPLIT, EPOCHS = 16, 2, 4


def fresh(seed: int) -> tuple[object, object]:
    myelin.manual_seed(seed)
    model = make_model("mlp")
    return model, make_optimizer("adam", model)


@dist.main_only
def write(path: str, model: object, opt: object, loader: DataLoader, step: int) -> str:
    save_checkpoint(path, model, optimizer=opt, epoch=SPLIT, step=step, loader_epoch=loader.epoch)
    return path


def save(folder: str) -> None:
    comm = dist.init(required=True)
    model, opt = fresh(100 + comm.rank)
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(opt, model)
    loader = dist.shard_loader(DataLoader(make_data("mlp"), batch_size=GLOBAL_BATCH, shuffle=True, seed=SEED))
    train(model, opt, loader, range(SPLIT))
    written = write(os.path.join(folder, f"ckpt_rank{comm.rank}.safetensors"), model, opt, loader, SPLIT * len(loader))
    dist.barrier()
    report(phase="save", ranks=comm.size, written_by_this_rank=written is not None, files=sorted(os.listdir(folder)))


def resume(folder: str) -> None:
    comm = dist.init()
    model, opt = fresh(200 + comm.rank)  # whatever each rank built: the checkpoint and the broadcast decide
    opt = dist.DistributedOptimizer(opt, model)
    ckpt = load_checkpoint(os.path.join(folder, "ckpt_rank0.safetensors"))
    ckpt.restore(model, opt)
    epoch, step = dist.sync_training_state(model, opt, values=[ckpt.epoch, ckpt.step])
    loader = dist.shard_loader(DataLoader(make_data("mlp"), batch_size=GLOBAL_BATCH, shuffle=True, seed=SEED))
    train(model, opt, loader, range(epoch, EPOCHS))
    weights = gather_weights(model)
    if comm.rank != 0:
        return
    ref, ref_opt = fresh(100)  # rank 0's initial weights of the saving run
    train(ref, ref_opt, DataLoader(make_data("mlp"), batch_size=GLOBAL_BATCH, shuffle=True, seed=SEED), range(EPOCHS))
    expected = flat_weights(ref)
    report(phase="resume", ranks=comm.size, epoch=epoch, step=step,
           max_abs_diff=float(np.max(np.abs(weights[0] - expected))),
           allclose=bool(np.allclose(weights[0], expected, rtol=1e-5, atol=1e-6)),
           ranks_identical=bool(all(np.array_equal(weights[0], w) for w in weights[1:])))


if __name__ == "__main__":
    {"save": save, "resume": resume}[sys.argv[1]](sys.argv[2])
