"""The NeuronMonitor's cost on an MNIST MLP epoch (784-512-256-10, batch 128, Adam), with and without it.

    python benchmarks/bench_monitor.py [--repeats 3] [--sample-batches 2] [--train-samples 60000]

Epochs with and without the monitor alternate (after a warm-up epoch); the minimum (robust to
other processes: interference only adds time) and the median are compared. The monitor also times itself (``monitor.seconds``: hooks, statistics and the epoch-end
record), which is the steadier figure when the difference is within the noise of an epoch.
MNIST is read from ``../shared/data/mnist.npz`` relative to the repository root.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import myelin
from myelin import nn
from myelin.monitor import NeuronMonitor
from myelin.optim import Adam

__all__ = ["main"]

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"


def _mnist(limit: int) -> tuple[np.ndarray, np.ndarray]:
    if not MNIST.is_file():
        raise SystemExit(f"bench_monitor: MNIST not found at {MNIST}")
    with np.load(MNIST, allow_pickle=False) as data:
        x = data["x_train"][:limit].reshape(-1, 784).astype(np.float32) / 255.0
        y = data["y_train"][:limit].astype(np.int64)
    return x, y


def _epoch(model: nn.Module, optimizer: Adam, x: np.ndarray, y: np.ndarray, monitor: NeuronMonitor | None) -> float:
    callbacks = [monitor] if monitor is not None else []
    start = time.perf_counter()
    myelin.fit(model, (x, y), loss="cross_entropy", optimizer=optimizer, epochs=1, batch_size=128,
               callbacks=callbacks, verbose=0, seed=0)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample-batches", type=int, default=2)
    parser.add_argument("--train-samples", type=int, default=60000)
    args = parser.parse_args(argv)
    x, y = _mnist(args.train_samples)
    myelin.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = Adam(model.parameters(), lr=1e-3)
    _epoch(model, optimizer, x, y, None)  # warm-up: BLAS threads, caches, allocator
    plain, watched, own = [], [], []
    for _ in range(args.repeats):
        plain.append(_epoch(model, optimizer, x, y, None))
        monitor = NeuronMonitor(sample_batches=args.sample_batches, warn=False)
        watched.append(_epoch(model, optimizer, x, y, monitor))
        own.append(monitor.seconds)
    base, self_timed = min(plain), statistics.median(own)
    steps = -(-len(x) // 128)
    print(f"MNIST MLP 784-512-256-10, batch 128, {len(x)} samples ({steps} steps), Adam; "
          f"{args.repeats} epochs each, alternating")
    print(f"  without monitor: {', '.join(f'{t:.3f}' for t in plain)} s/epoch")
    print(f"  with monitor:    {', '.join(f'{t:.3f}' for t in watched)} s/epoch")
    for name, stat in (("min", min), ("median", statistics.median)):
        a, b = stat(plain), stat(watched)
        print(f"  wall-clock overhead ({name}): {b:.3f} vs {a:.3f} s = {100 * (b - a) / a:+.2f}%")
    print(f"  monitor's own time:  {self_timed * 1000:.1f} ms/epoch = {100 * self_timed / base:.2f}% of an epoch "
          f"(sample_batches={args.sample_batches}, plus {len([b for b in range(steps) if b < 3 or b & (b - 1) == 0])}"
          f" gradient probes)")


if __name__ == "__main__":
    main()
