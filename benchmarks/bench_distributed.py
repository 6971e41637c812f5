"""Benchmark (not a test): MNIST MLP training time per epoch on 1 and 2 MPI ranks, and the share spent communicating.

Model 784-512-256-10 (ReLU), SGD(lr=0.05, momentum=0.9), global batch 128 (64 per rank with 2 ranks),
cross-entropy, data from ``shared/data/mnist.npz`` (``--samples`` training images, all 60000 by default).
Run without mpirun: the script launches its own workers and prints one table row per configuration:

- 1 rank x 1 BLAS thread, 1 rank x 2 BLAS threads (a plain process, no MPI);
- 2 ranks x 1 BLAS thread (``mpirun -n 2`` with ``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=1`` in each rank:
  two ranks of two threads each would put four busy threads on two cores).

Columns: seconds per epoch (median over the epochs after the first), the time inside the gradient
``Allreduce`` calls (which includes waiting for the slower rank), the same Allreduce alone on idle
ranks (pure transfer), and the final training loss.

    python benchmarks/bench_distributed.py [--samples 60000] [--epochs 3] [--ranks 1,2] [--mpirun-args "..."]

On a node shared with other jobs (load average above the core count) add
``--mpirun-args "--mca mpi_yield_when_idle 1"``: a rank waiting in the Allreduce then yields its core
instead of spinning on it (Open MPI does this by itself only with ``--oversubscribe``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"


def load_mnist(samples: int) -> tuple[np.ndarray, np.ndarray]:
    with np.load(MNIST) as data:
        x = data["x_train"][:samples].reshape(-1, 784).astype(np.float32) / 255.0
        y = data["y_train"][:samples].astype(np.int64)
    return x, y


def worker(args: argparse.Namespace) -> None:
    """One rank: train, time every epoch and the Allreduce calls; rank 0 prints a ``RESULT`` line."""
    import myelin
    from myelin import distributed as dist
    from myelin import nn, optim
    from myelin.data import DataLoader, TensorDataset
    from myelin.nn import functional as F

    comm = dist.init()
    x, y = load_mnist(args.samples)
    myelin.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.05, momentum=0.9), model)
    loader = dist.shard_loader(DataLoader(TensorDataset(x, y), batch_size=args.batch_size, shuffle=True, seed=0))
    epochs, comm_times, losses = [], [], []
    for _ in range(args.epochs):
        dist.barrier()
        start, comm_start, loss_sum = time.perf_counter(), opt.reducer.seconds, 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            loss_sum += float(loss.data)
        dist.barrier()
        epochs.append(time.perf_counter() - start)
        comm_times.append(opt.reducer.seconds - comm_start)
        losses.append(dist.allreduce_sum([loss_sum])[0] / (len(loader) * comm.size))
    pure = 0.0
    if comm.size > 1:  # the same Allreduce with nothing else running: transfer cost alone
        buf = opt.reducer.buffer
        dist.barrier()
        start = time.perf_counter()
        for _ in range(50):
            comm.allreduce_(buf)
        pure = (time.perf_counter() - start) / 50 * len(loader)
    if dist.is_main():
        steady = slice(1, None) if len(epochs) > 1 else slice(None)  # the first epoch warms up
        print("RESULT " + json.dumps({
            "ranks": comm.size, "threads": os.environ.get("OMP_NUM_THREADS", "?"), "steps": len(loader),
            "per_rank_batch": loader.batch_size, "epoch_s": statistics.median(epochs[steady]),
            "all_epochs_s": epochs, "allreduce_s": statistics.median(comm_times[steady]), "pure_allreduce_s": pure, "buffer_mb": opt.reducer.nbytes / 2**20,
            "loss": losses[-1],
        }), flush=True)


def _launch(ranks: int, threads: int, args: argparse.Namespace) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--worker", "--samples", str(args.samples), "--epochs", str(args.epochs),
           "--batch-size", str(args.batch_size)]
    if ranks > 1:
        mpirun = shutil.which("mpirun")
        if mpirun is None:
            raise SystemExit("bench_distributed: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)")
        root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
        oversubscribe = ["--oversubscribe"] if ranks > (os.cpu_count() or 1) else []
        forward = ["-x", "OMP_NUM_THREADS", "-x", "OPENBLAS_NUM_THREADS", "-x", "MKL_NUM_THREADS"]
        cmd = [mpirun, "-n", str(ranks), *root, *oversubscribe, *shlex.split(args.mpirun_args), *forward, *cmd]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        raise SystemExit(f"bench_distributed: {' '.join(cmd)} failed\n{out.stdout}\n{out.stderr}")
    return json.loads(lines[0][7:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch")
    parser.add_argument("--ranks", default="1,2", help="comma-separated world sizes to run")
    parser.add_argument("--mpirun-args", default="", help="extra mpirun arguments, e.g. MCA parameters")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return
    cores = os.cpu_count() or 1
    configs = []
    for n in (int(v) for v in args.ranks.split(",")):
        if n == 1:
            configs += [(1, 1), (1, min(cores, 2))] if cores > 1 else [(1, 1)]
        else:
            configs.append((n, max(1, cores // n)))
    print(f"MNIST MLP 784-512-256-10, {args.samples} samples, global batch {args.batch_size}, SGD momentum, "
          f"{args.epochs} epochs, {cores} cores, load average {os.getloadavg()[0]:.1f}"
          + (f", mpirun {args.mpirun_args}" if args.mpirun_args else ""))
    print(f"{'ranks x threads':>16} {'batch/rank':>10} {'s/epoch':>8} {'speed-up':>8} {'allreduce s':>11} "
          f"{'share':>6} {'pure s':>7} {'buffer MB':>9} {'loss':>7}")
    base = None
    for ranks, threads in dict.fromkeys(configs):
        r = _launch(ranks, threads, args)
        base = base or r["epoch_s"]
        print(f"{f'{ranks} x {threads}':>16} {r['per_rank_batch']:>10} {r['epoch_s']:>8.2f} "
              f"{base / r['epoch_s']:>7.2f}x {r['allreduce_s']:>11.3f} {r['allreduce_s'] / r['epoch_s']:>6.1%} "
              f"{r['pure_allreduce_s']:>7.3f} {r['buffer_mb']:>9.2f} {r['loss']:>7.4f}", flush=True)


if __name__ == "__main__":
    main()
