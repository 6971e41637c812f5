"""One training step of a recurrent classifier, Myelin vs PyTorch in the same process.

    python benchmarks/bench_rnn.py [--repeats 30] [--warmup 5] [--clock wall|cpu] [--profile]

Model: ``LSTM(64, 128, batch_first=True)`` (then the same with ``GRU``), input (32, 50, 64),
the last hidden state -> ``Linear(128, 10)`` -> cross-entropy, backward. Both libraries get
the same weights and data; steps alternate between the two after a warm-up, and PyTorch uses
as many threads as NumPy's BLAS. Prints the median (and min) milliseconds and the ratio
Myelin / PyTorch, plus PyTorch without oneDNN (its portable per-step path) for reference, and
the NumPy calls per time step of the fused kernels (counted, not estimated).

``--clock cpu`` times with the process CPU clock instead of the wall clock: on a machine shared
with other jobs it is far steadier, and comparable between the libraries when both run one
thread (``OPENBLAS_NUM_THREADS=1``; PyTorch then gets one thread too).

This is a measurement, not a test: nothing here decides pass or fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

import myelin
from myelin.nn import functional as F
from myelin.nn.functional._fast import rnn_kernels as K
from myelin.nn.linear import Linear
from myelin.nn.rnn import GRU, LSTM

BATCH, SEQ, IN, HIDDEN, CLASSES = 32, 50, 64, 128, 10


def blas_threads() -> int:
    try:
        from threadpoolctl import threadpool_info

        counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if counts:
            return int(counts[0])
    except ImportError:
        pass
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def make_pair(kind: str, torch: Any) -> tuple[Callable[[], float], Callable[[], float]]:
    """Two closures running one training step each (Myelin, PyTorch) on identical weights and data."""
    tcls, mcls = (torch.nn.LSTM, LSTM) if kind == "LSTM" else (torch.nn.GRU, GRU)
    torch.manual_seed(0)
    t_rnn, t_fc = tcls(IN, HIDDEN, batch_first=True), torch.nn.Linear(HIDDEN, CLASSES)
    m_rnn, m_fc = mcls(IN, HIDDEN, batch_first=True), Linear(HIDDEN, CLASSES)
    m_rnn.load_state_dict({k: v.detach().numpy() for k, v in t_rnn.state_dict().items()})
    m_fc.load_state_dict({k: v.detach().numpy() for k, v in t_fc.state_dict().items()})
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((BATCH, SEQ, IN)).astype(np.float32)
    y_np = rng.integers(0, CLASSES, BATCH)
    x_m, y_m = myelin.tensor(x_np), myelin.tensor(y_np)
    x_t, y_t = torch.from_numpy(x_np), torch.from_numpy(y_np)
    m_params = list(m_rnn.parameters()) + list(m_fc.parameters())
    t_params = list(t_rnn.parameters()) + list(t_fc.parameters())

    def last_hidden(out: Any) -> Any:
        h = out[1]
        return (h[0] if isinstance(h, tuple) else h)[-1]

    def step_myelin() -> float:
        for p in m_params:
            p.grad = None
        loss = F.cross_entropy(m_fc(last_hidden(m_rnn(x_m))), y_m)
        loss.backward()
        return loss.item()

    def step_torch() -> float:
        for p in t_params:
            p.grad = None
        loss = torch.nn.functional.cross_entropy(t_fc(last_hidden(t_rnn(x_t))), y_t)
        loss.backward()
        return loss.item()

    a, b = step_myelin(), step_torch()
    assert abs(a - b) < 1e-4 * max(1.0, abs(b)), (a, b)
    return step_myelin, step_torch


def time_alternating(fns: list[Callable[[], float]], repeats: int, warmup: int,
                     clock: Callable[[], float] = time.perf_counter) -> list[list[float]]:
    for _ in range(warmup):
        for f in fns:
            f()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for f, acc in zip(fns, times):
            t0 = clock()
            f()
            acc.append((clock() - t0) * 1e3)
    return times


class _CountingNumPy:
    """Stands in for ``np`` inside the kernels and counts the NumPy functions called."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(np, name)
        if not callable(attr) or isinstance(attr, type) or name in ("errstate", "dtype"):
            return attr
        counts = self.counts

        def counted(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return attr(*args, **kwargs)

        return counted


def calls_per_step(kind: str) -> tuple[float, float]:
    """NumPy calls per time step, forward and backward: the difference between 2L and L steps, over L
    (amortised: the LSTM backward's per-chunk bulk calls count too)."""
    fwd, bwd = {"LSTM": (K.lstm_forward, K.lstm_backward), "GRU": (K.gru_forward, K.gru_backward)}[kind]
    gates = 4 if kind == "LSTM" else 3
    rng = np.random.default_rng(0)
    w = [rng.standard_normal(s).astype(np.float32) * 0.1
         for s in ((gates * HIDDEN, IN), (gates * HIDDEN, HIDDEN), (gates * HIDDEN,), (gates * HIDDEN,))]
    n_states = 2 if kind == "LSTM" else 1
    result = []
    real_np = K.np
    try:
        for length in (SEQ, 2 * SEQ):
            x = rng.standard_normal((length, BATCH, IN)).astype(np.float32)
            for _ in range(2):  # the first run warms the kernels' buffer pool
                proxy = _CountingNumPy()
                K.np = proxy
                _, finals, ctx = fwd(x, *([None] * n_states), *w, keep=True)
                n_fwd = sum(proxy.counts.values())
                bwd(ctx, None, [np.ones_like(finals[0])] + [None] * (n_states - 1),
                    (False,) + (False,) * n_states + (True,) * 4)
                del ctx
            result.append((n_fwd, sum(proxy.counts.values()) - n_fwd))
    finally:
        K.np = real_np
    return (result[1][0] - result[0][0]) / SEQ, (result[1][1] - result[0][1]) / SEQ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--profile", action="store_true", help="profile the Myelin LSTM step with pyinstrument")
    args = parser.parse_args()
    import torch

    threads = blas_threads()
    torch.set_num_threads(threads)
    print(f"NumPy {np.__version__} (BLAS threads: {threads}), torch {torch.__version__} "
          f"(threads: {torch.get_num_threads()}); batch {BATCH}, seq {SEQ}, {IN} -> {HIDDEN}, "
          f"{args.repeats} alternating repeats after {args.warmup} warm-up, {args.clock} clock")
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    for kind in ("LSTM", "GRU"):
        mine, theirs = make_pair(kind, torch)

        def theirs_portable(f: Callable[[], float] = theirs) -> float:
            with torch.backends.mkldnn.flags(enabled=False):
                return f()

        tm, tt, tp = time_alternating([mine, theirs, theirs_portable], args.repeats, args.warmup, clock)
        med = [statistics.median(v) for v in (tm, tt, tp)]
        fwd, bwd = calls_per_step(kind)
        print(f"{kind}: myelin {med[0]:7.2f} ms (min {min(tm):6.2f})   torch {med[1]:7.2f} ms (min {min(tt):6.2f})"
              f"   ratio {med[0] / med[1]:.2f}   | torch without oneDNN {med[2]:7.2f} ms, ratio {med[0] / med[2]:.2f}"
              f"   | NumPy calls per step: {fwd:.1f} forward + {bwd:.1f} backward (amortised)")
        if args.profile and kind == "LSTM":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
            for _ in range(20):
                mine()
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
