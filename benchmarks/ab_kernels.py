"""A/B two versions of the recurrent kernels (``nn/functional/_fast/rnn_kernels.py``) in one process.

    git show 212a824:src/myelin/nn/functional/_rnn_kernels.py > /tmp/old_kernels.py
    python benchmarks/ab_kernels.py /tmp/old_kernels.py src/myelin/nn/functional/_fast/rnn_kernels.py \
        [--kind LSTM|GRU] [--rounds 200] [--size L,N,I,H] [--torch-between] [--wall]

Runs one forward and backward of case 5's layer (input (32, 50, 64) batch-first, hidden 128, or
``--size L,N,I,H``; the backward asks for the weight gradients and a gradient of h_n, as the
benchmark step does) with
each version, alternating, and prints the medians and the ratio B / A. First it checks that both
versions give the same gradients. ``--torch-between`` runs a PyTorch LSTM training step before
every call, as the suite's alternation does (it evicts the caches); ``--wall`` times wall clock
instead of process CPU time. Use it to keep or drop a kernel change: the suite's ratio to PyTorch
moves by a few percent between runs, while this A/B resolves differences of about 1 %.

This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

SEQ, BATCH, IN, HIDDEN = 50, 32, 64, 128


def load_kernels(path: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"ab_kernels: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def step_fn(kernels: ModuleType, kind: str, size: tuple[int, int, int, int] = (SEQ, BATCH, IN, HIDDEN)
            ) -> Callable[[], Any]:
    """One forward + backward of the layer with ``kernels``, on fixed data of ``size = (L, N, I, H)``."""
    seq, batch, inputs, hidden = size
    gates = 4 if kind == "LSTM" else 3
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = rng.standard_normal((batch, seq, inputs)).astype(f32).transpose(1, 0, 2)  # batch_first, as the module sees it
    w_ih = (rng.standard_normal((gates * hidden, inputs)) * 0.1).astype(f32)
    w_hh = (rng.standard_normal((gates * hidden, hidden)) * 0.1).astype(f32)
    b_ih = (rng.standard_normal(gates * hidden) * 0.1).astype(f32)
    b_hh = (rng.standard_normal(gates * hidden) * 0.1).astype(f32)
    g_h = rng.standard_normal((batch, hidden)).astype(f32)
    if kind == "LSTM":
        def run() -> Any:
            _, _, ctx = kernels.lstm_forward(x, None, None, w_ih, w_hh, b_ih, b_hh, keep=True)
            return kernels.lstm_backward(ctx, None, [g_h, None], (False, False, False, True, True, True, True))
    else:
        def run() -> Any:
            _, _, ctx = kernels.gru_forward(x, None, w_ih, w_hh, b_ih, b_hh, keep=True)
            return kernels.gru_backward(ctx, None, [g_h], (False, False, True, True, True, True))
    return run


def torch_step() -> Callable[[], None]:
    import torch

    torch.set_num_threads(1)
    rnn, fc = torch.nn.LSTM(IN, HIDDEN, batch_first=True), torch.nn.Linear(HIDDEN, 10)
    x, y = torch.randn(BATCH, SEQ, IN), torch.randint(0, 10, (BATCH,))

    def run() -> None:
        _, (h, _) = rnn(x)
        torch.nn.functional.cross_entropy(fc(h[-1]), y).backward()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--kind", choices=("LSTM", "GRU"), default="LSTM")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--size", default=f"{SEQ},{BATCH},{IN},{HIDDEN}", metavar="L,N,I,H",
                        help="sequence length, batch, input and hidden size (default: case 5's)")
    parser.add_argument("--torch-between", action="store_true")
    parser.add_argument("--wall", action="store_true")
    args = parser.parse_args()
    try:
        size = tuple(int(v) for v in args.size.split(","))
    except ValueError:
        size = ()
    if len(size) != 4 or min(size) < 1:
        parser.error(f"--size expects four positive integers L,N,I,H, got {args.size!r}")
    runs = [step_fn(load_kernels(path, f"kernels_{k}"), args.kind, size) for k, path in enumerate((args.a, args.b))]
    grads = [run() for run in runs]
    for got_a, got_b in zip(grads[0][2:], grads[1][2:]):  # the weight and bias gradients
        if got_a is not None:
            # float32 sums in another order (other chunk sizes): tolerance relative to the largest entry
            np.testing.assert_allclose(got_a, got_b, rtol=2e-4, atol=1e-5 * max(1.0, float(np.abs(got_b).max())))
    noise = torch_step() if args.torch_between else None
    clock = time.perf_counter if args.wall else time.process_time
    times: list[list[float]] = [[], []]
    for r in range(args.rounds):
        for k in ((0, 1) if r % 2 else (1, 0)):
            if noise:
                noise()
            t0 = clock()
            runs[k]()
            times[k].append((clock() - t0) * 1e3)
    a, b = (statistics.median(t) for t in times)
    print(f"{args.kind} {args.size}: A {a:.3f} ms  B {b:.3f} ms  B/A {b / a:.3f}  ({args.rounds} rounds, "
          f"{'wall' if args.wall else 'cpu'} clock{', PyTorch between calls' if args.torch_between else ''})")


if __name__ == "__main__":
    main()
