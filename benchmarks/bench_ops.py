"""Per-op overhead of Myelin vs PyTorch (CPU), forward + backward, side by side in one process.

Not a test: timings decide nothing, they are printed. Each case runs both libraries in
alternating rounds (so drift in clock speed or load hits both alike) and reports the median
round. Small tensors, where per-call overhead dominates, are the point.

    python benchmarks/bench_ops.py [--rounds 41] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import myelin
import myelin.nn.functional as F


def _round(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def compare(name: str, mine: Callable[[], object], theirs: Callable[[], object], n_ops: int, rounds: int) -> float:
    """Print median seconds per call of both and per op; return the PyTorch / Myelin ratio."""
    for fn in (mine, theirs):  # warm up, and size a round to ~20 ms
        fn()
    per_call = _round(mine, 50)
    n = max(20, int(0.02 / max(per_call, 1e-7)))
    ours, torchs = [], []
    for _ in range(rounds):
        ours.append(_round(mine, n))
        torchs.append(_round(theirs, n))
    m, t = statistics.median(ours), statistics.median(torchs)
    print(f"{name:<44} {m * 1e6:9.2f} {t * 1e6:9.2f}   {m * 1e6 / n_ops:7.2f} {t * 1e6 / n_ops:7.2f}   {t / m:6.2f}x")
    return t / m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--rounds", type=int, default=41, help="alternating rounds per case (median reported)")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave the default)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    f32 = np.float32

    def pair(*shape: int, grad: bool = True) -> tuple[myelin.Tensor, torch.Tensor]:
        a = rng.standard_normal(shape).astype(f32)
        return myelin.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)

    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"median of {args.rounds} alternating rounds")
    print(f"{'case (forward + backward)':<44} {'myelin':>9} {'torch':>9}   {'us/op':>7} {'us/op':>7}   torch/myelin")
    print(f"{'':<44} {'us/call':>9} {'us/call':>9}   {'myelin':>7} {'torch':>7}")

    # a * b + c on (8,): 2 forward ops, their backward, gradient accumulation into 3 leaves
    (ma, ta), (mb, tb), (mc, tc) = pair(8), pair(8), pair(8)
    mg, tg = np.ones(8, f32), torch.ones(8)

    def m_abc() -> None:
        ma.grad = mb.grad = mc.grad = None
        (ma * mb + mc).backward(mg)

    def t_abc() -> None:
        ta.grad = tb.grad = tc.grad = None
        (ta * tb + tc).backward(tg)

    compare("a * b + c, (8,)", m_abc, t_abc, n_ops=2, rounds=args.rounds)

    (mx, tx) = pair(32, 128)
    mgx, tgx = np.ones((32, 128), f32), torch.ones(32, 128)

    def m_relu() -> None:
        mx.grad = None
        F.relu(mx).backward(mgx)

    def t_relu() -> None:
        tx.grad = None
        torch.relu(tx).backward(tgx)

    compare("relu, (32, 128)", m_relu, t_relu, n_ops=1, rounds=args.rounds)

    (mi, ti), (mw, tw), (mbias, tbias) = pair(32, 64), pair(128, 64), pair(128)
    mgo, tgo = np.ones((32, 128), f32), torch.ones(32, 128)

    def m_linear() -> None:
        mi.grad = mw.grad = mbias.grad = None
        F.linear(mi, mw, mbias).backward(mgo)

    def t_linear() -> None:
        ti.grad = tw.grad = tbias.grad = None
        torch.nn.functional.linear(ti, tw, tbias).backward(tgo)

    compare("linear, (32, 64) -> 128", m_linear, t_linear, n_ops=1, rounds=args.rounds)

    (ml, tl) = pair(32, 10)
    labels = rng.integers(0, 10, 32)
    tlabels = torch.tensor(labels)

    def m_ce() -> None:
        ml.grad = None
        F.cross_entropy(ml, labels).backward()

    def t_ce() -> None:
        tl.grad = None
        torch.nn.functional.cross_entropy(tl, tlabels).backward()

    compare("cross_entropy, (32, 10)", m_ce, t_ce, n_ops=1, rounds=args.rounds)

    # two-layer MLP training steps' graphs: linear, relu, linear, cross_entropy (4 ops)
    def mlp_case(name: str, batch: int, n_in: int, hidden: int, n_out: int) -> None:
        (mx2, tx2) = pair(batch, n_in, grad=False)
        (mw1, tw1), (mb1, tb1) = pair(hidden, n_in), pair(hidden)
        (mw2, tw2), (mb2, tb2) = pair(n_out, hidden), pair(n_out)
        y = rng.integers(0, n_out, batch)
        ty = torch.tensor(y)
        m_params, t_params = (mw1, mb1, mw2, mb2), (tw1, tb1, tw2, tb2)
        tf = torch.nn.functional

        def m_mlp() -> None:
            for p in m_params:
                p.grad = None
            F.cross_entropy(F.linear(F.relu(F.linear(mx2, mw1, mb1)), mw2, mb2), y).backward()

        def t_mlp() -> None:
            for p in t_params:
                p.grad = None
            tf.cross_entropy(tf.linear(tf.relu(tf.linear(tx2, tw1, tb1)), tw2, tb2), ty).backward()

        compare(name, m_mlp, t_mlp, n_ops=4, rounds=args.rounds)

    mlp_case("MLP 4-16-3, batch 8 (4 ops)", 8, 4, 16, 3)
    mlp_case("MLP 64-128-10, batch 32 (4 ops, GEMM-bound)", 32, 64, 128, 10)

    (ms, ts) = pair(32, 10)
    mgs, tgs = np.ones((32, 10), f32), torch.ones(32, 10)

    def m_sig() -> None:
        ms.grad = None
        F.sigmoid(ms).backward(mgs)

    def t_sig() -> None:
        ts.grad = None
        torch.sigmoid(ts).backward(tgs)

    compare("sigmoid, (32, 10)", m_sig, t_sig, n_ops=1, rounds=args.rounds)

    (mm, tm) = pair(32, 1)
    target = rng.standard_normal((32, 1)).astype(f32)
    ttarget = torch.tensor(target)

    def m_mse() -> None:
        mm.grad = None
        F.mse_loss(mm, target).backward()

    def t_mse() -> None:
        tm.grad = None
        torch.nn.functional.mse_loss(tm, ttarget).backward()

    compare("mse_loss, (32, 1)", m_mse, t_mse, n_ops=1, rounds=args.rounds)


if __name__ == "__main__":
    main()
