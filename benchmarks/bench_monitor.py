"""The NeuronMonitor's cost on an MNIST MLP epoch (784-512-256-10, batch 128, Adam), with and without it.

    python benchmarks/bench_monitor.py [--repeats 3] [--step-repeats 40] [--sample-batches 2] [--skip-epochs]
                                       [--cpu-time]

Two measurements:

1. **Steps** (robust on a busy machine): the minimum over ``--step-repeats`` runs of one training
   step (zero_grad, forward, loss, backward, Adam step) plain, with the monitor's full hooks (a
   statistics batch) and with its gradient probe, plus the monitor's end-of-epoch work. The epoch
   overhead is then ``(sample_batches * extra_full + probes * extra_probe + epoch_end) /
   (steps * plain_step)``. Minima are used because other processes only ever add time.
2. **Epochs**: whole ``fit`` epochs with and without the monitor in ABBA order (after a warm-up
   epoch); the minimum and median are compared, and the monitor's own timer (``monitor.seconds``:
   hooks, statistics and the epoch-end record) is printed.

Times are wall-clock by default. On a machine shared with other work, ``--cpu-time`` measures the
CPU time of the (then single-threaded: BLAS threads set to 1) process instead, which other
processes do not inflate; with several BLAS threads a plain step is faster, so the relative
overhead on a quiet multi-core machine can be up to about that many times larger.

MNIST is read from ``../shared/data/mnist.npz`` relative to the repository root.
"""

from __future__ import annotations

import os
import sys

if "--cpu-time" in sys.argv:  # before NumPy loads OpenBLAS: one thread, so thread CPU time is the whole cost
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import myelin
from myelin import nn
from myelin.monitor import NeuronMonitor
from myelin.nn import functional as F
from myelin.optim import Adam

__all__ = ["main"]

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
BATCH = 128
clock: Callable[[], float] = time.perf_counter


def _mnist(limit: int) -> tuple[np.ndarray, np.ndarray]:
    if not MNIST.is_file():
        raise SystemExit(f"bench_monitor: MNIST not found at {MNIST}")
    with np.load(MNIST, allow_pickle=False) as data:
        x = data["x_train"][:limit].reshape(-1, 784).astype(np.float32) / 255.0
        y = data["y_train"][:limit].astype(np.int64)
    return x, y


def _model() -> nn.Module:
    myelin.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def _probes(steps: int) -> int:
    return sum(1 for b in range(steps) if b < 3 or b & (b - 1) == 0)


def _min_time(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        fn()
        best = min(best, clock() - start)
    return best


def bench_steps(x: np.ndarray, y: np.ndarray, repeats: int, sample_batches: int) -> None:
    model = _model()
    optimizer = Adam(model.parameters(), lr=1e-3)
    xb, yb = myelin.tensor(x[:BATCH]), myelin.tensor(y[:BATCH])
    steps = -(-len(x) // BATCH)
    monitor = NeuronMonitor(sample_batches=sample_batches, warn=False)
    monitor.set_context(model=model, optimizer=optimizer, params={"steps": steps})
    monitor.on_train_begin({})
    monitor.on_epoch_begin(0, {})

    def step() -> None:
        optimizer.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        optimizer.step()

    def watched(batch: int) -> Callable[[], None]:
        def run() -> None:
            monitor.on_batch_begin(batch, {})
            step()
            monitor.on_batch_end(batch, {})
        return run

    for _ in range(3):  # warm-up
        step()
        watched(steps - 1)()
    plain, full, probe = [], [], []
    for _ in range(repeats):  # interleaved, so slow phases of the machine hit all three alike
        plain.append(_min_time(step, 1))
        full.append(_min_time(watched(steps - 1), 1))
        probe.append(_min_time(watched(0), 1))
    t_plain, t_full, t_probe = min(plain), min(full), min(probe)
    epoch_end = _min_time(lambda: monitor._epoch_record(0), max(3, repeats // 4))
    n_probes = _probes(steps)
    extra = sample_batches * (t_full - t_plain) + n_probes * (t_probe - t_plain) + epoch_end
    print(f"steps ({len(x)} samples, {steps} steps/epoch; minimum of {repeats} interleaved runs):")
    print(f"  plain step {1e3 * t_plain:.2f} ms, statistics step {1e3 * t_full:.2f} ms "
          f"(+{1e3 * (t_full - t_plain):.2f}), probe step {1e3 * t_probe:.2f} ms (+{1e3 * (t_probe - t_plain):.2f}), "
          f"epoch-end record {1e3 * epoch_end:.2f} ms")
    print(f"  overhead per epoch: {sample_batches} x statistics + {n_probes} x probe + epoch end = "
          f"{1e3 * extra:.1f} ms of {steps * t_plain:.2f} s = {100 * extra / (steps * t_plain):.2f}%")


def _epoch(model: nn.Module, optimizer: Adam, x: np.ndarray, y: np.ndarray, monitor: NeuronMonitor | None) -> float:
    callbacks = [monitor] if monitor is not None else []
    start = clock()
    myelin.fit(model, (x, y), loss="cross_entropy", optimizer=optimizer, epochs=1, batch_size=BATCH,
               callbacks=callbacks, verbose=0, seed=0)
    return clock() - start


def bench_epochs(x: np.ndarray, y: np.ndarray, repeats: int, sample_batches: int) -> None:
    model = _model()
    optimizer = Adam(model.parameters(), lr=1e-3)
    _epoch(model, optimizer, x, y, None)  # warm-up: BLAS threads, caches, allocator
    plain, watched, own = [], [], []
    for i in range(repeats):  # ABBA order, so a machine that speeds up or slows down favours neither
        for with_monitor in ((False, True) if i % 2 == 0 else (True, False)):
            if with_monitor:
                monitor = NeuronMonitor(sample_batches=sample_batches, warn=False)
                watched.append(_epoch(model, optimizer, x, y, monitor))
                own.append(monitor.seconds)
            else:
                plain.append(_epoch(model, optimizer, x, y, None))
    print(f"epochs ({repeats} each, in ABBA order):")
    print(f"  without monitor: {', '.join(f'{t:.3f}' for t in plain)} s")
    print(f"  with monitor:    {', '.join(f'{t:.3f}' for t in watched)} s")
    for name, stat in (("min", min), ("median", statistics.median)):
        a, b = stat(plain), stat(watched)
        print(f"  overhead ({name}): {b:.3f} vs {a:.3f} s = {100 * (b - a) / a:+.2f}%")
    print(f"  monitor's own timer (wall-clock): {1e3 * statistics.median(own):.1f} ms/epoch = "
          f"{100 * statistics.median(own) / min(plain):.3f}% of the fastest plain epoch")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--repeats", type=int, default=3, help="whole epochs with and without the monitor")
    parser.add_argument("--step-repeats", type=int, default=40, help="runs of each kind of step")
    parser.add_argument("--sample-batches", type=int, default=2)
    parser.add_argument("--train-samples", type=int, default=60000)
    parser.add_argument("--skip-epochs", action="store_true", help="only the step measurement")
    parser.add_argument("--cpu-time", action="store_true", help="single-threaded CPU time instead of wall-clock")
    args = parser.parse_args(argv)
    global clock
    clock = time.thread_time if args.cpu_time else time.perf_counter
    x, y = _mnist(args.train_samples)
    print(f"MNIST MLP 784-512-256-10, batch {BATCH}, Adam, NeuronMonitor(sample_batches={args.sample_batches}); "
          f"{'single-threaded CPU time' if args.cpu_time else 'wall-clock time'}")
    bench_steps(x, y, args.step_repeats, args.sample_batches)
    if not args.skip_epochs:
        bench_epochs(x, y, args.repeats, args.sample_batches)


if __name__ == "__main__":
    main()
