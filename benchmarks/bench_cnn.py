"""Benchmark (not a test): one training step of a small MNIST-shaped CNN, Myelin vs PyTorch.

Model: Conv2d(1,32,3,padding=1)-ReLU-MaxPool2d(2)-Conv2d(32,64,3,padding=1)-ReLU-MaxPool2d(2)-Flatten-
Linear(3136,128)-ReLU-Linear(128,10); batch 64 of 1x28x28; a step is forward, cross-entropy, backward.
Both libraries run in one process, alternating step by step after a warm-up, with PyTorch limited to
as many threads as NumPy's BLAS uses (threadpoolctl, else 2). Prints median milliseconds and the
ratio, then forward/backward times of the two convolutions alone.

    python benchmarks/bench_cnn.py [--steps 40] [--threads N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import myelin
from myelin.nn.conv import Conv2d

__all__ = ["main"]


def blas_info() -> str:
    """NumPy's BLAS library and kernel architecture (the kernel choice halves or doubles GEMM speed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown BLAS"
    libs = [f"{p.get('internal_api')} {p.get('architecture', '')}".strip() for p in threadpool_info()
            if p.get("user_api") == "blas"]
    return ", ".join(libs) or "unknown BLAS"


def blas_threads() -> int:
    """NumPy's BLAS thread count (threadpoolctl), or 2 when it cannot be read."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return 2
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return counts[0] if counts else 2


def build_myelin() -> Any:
    """The benchmark CNN from Myelin's layers."""
    from myelin import nn

    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def build_torch(torch: Any, model: Any) -> Any:
    """The same architecture in PyTorch, loaded with ``model``'s weights."""
    nn = torch.nn
    twin = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    return twin


def alternate(
    fns: dict[str, Callable[[], Any]], steps: int, warmup: int = 5, before: dict[str, Callable[[], Any]] | None = None
) -> dict[str, float]:
    """Median milliseconds per call of each function, calling them in turn (fair under machine noise).

    Also stored: ``name + ' min'`` (the fastest call) and ``name + ' cpu'`` (median process CPU
    time, which on a shared machine does not count the time other processes hold the cores).
    ``before[name]``, when given, runs untimed before each call of ``fns[name]``.
    """
    for _ in range(warmup):
        for name, fn in fns.items():
            if before:
                before[name]()
            fn()
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(steps):
        for name, fn in fns.items():
            if before:
                before[name]()
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    result = {name: 1e3 * float(np.median(ts)) for name, ts in wall.items()}
    result.update({f"{name} min": 1e3 * min(ts) for name, ts in wall.items()})
    result.update({f"{name} cpu": 1e3 * float(np.median(ts)) for name, ts in cpu.items()})
    return result


def bench_step(torch: Any, steps: int) -> None:
    from myelin.nn.functional import cross_entropy

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    model = build_myelin()
    twin = build_torch(torch, model)
    xm, ym = myelin.tensor(x), myelin.tensor(y)
    xt, yt = torch.tensor(x), torch.tensor(y)

    def step_myelin() -> float:
        model.zero_grad()
        loss = cross_entropy(model(xm), ym)
        loss.backward()
        return loss.item()

    def step_torch() -> float:
        twin.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(twin(xt), yt)
        loss.backward()
        return loss.item()

    lm, lt = step_myelin(), step_torch()
    assert abs(lm - lt) < 1e-4 * max(1.0, abs(lt)), f"losses differ: myelin {lm}, torch {lt}"
    ms = alternate({"myelin": step_myelin, "torch": step_torch}, steps)
    print(f"training step (batch 64), median: myelin {ms['myelin']:.2f} ms, torch {ms['torch']:.2f} ms, "
          f"ratio {ms['myelin'] / ms['torch']:.2f}  (fastest: {ms['myelin min']:.2f} / {ms['torch min']:.2f} ms, "
          f"ratio {ms['myelin min'] / ms['torch min']:.2f}; CPU time: {ms['myelin cpu']:.2f} / {ms['torch cpu']:.2f} ms)")


def _channels_last(a: np.ndarray) -> np.ndarray:
    """The same (N, C, H, W) values stored as (N, H, W, C)."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _leaf(a: np.ndarray, requires_grad: bool) -> Any:
    """A leaf tensor around ``a`` without copying (``myelin.tensor`` copies into C order)."""
    return myelin.Tensor._wrap(a, requires_grad=requires_grad)


def _bench_conv(torch: Any, name: str, cin: int, cout: int, hw: int, needs_input_grad: bool, steps: int) -> None:
    rng = np.random.default_rng(cin)
    layer = Conv2d(cin, cout, 3, padding=1)
    twin = torch.nn.Conv2d(cin, cout, 3, padding=1)
    twin.load_state_dict({k: torch.tensor(v) for k, v in layer.state_dict().items()})
    x = rng.standard_normal((64, cin, hw, hw)).astype(np.float32)
    g = rng.standard_normal((64, cout, hw, hw)).astype(np.float32)
    xt, gt = torch.tensor(x, requires_grad=needs_input_grad), torch.tensor(g)
    # In the model, Myelin's conv2 input (a max-pool output) and both convs' incoming gradients
    # (from ReLU backward) are channels-last; feed the same values in that memory layout.
    x, g = _channels_last(x), _channels_last(g)
    xm = _leaf(x, needs_input_grad)
    outs: dict[str, Any] = {}

    def fwd_m() -> None:
        outs["myelin"] = layer(xm)

    def fwd_t() -> None:
        outs["torch"] = twin(xt)

    fwd = alternate({"myelin": fwd_m, "torch": fwd_t}, steps)
    # backward needs a fresh graph each time: build it untimed, time the backward call only
    bwd = alternate({
        "myelin": lambda: outs["myelin"].backward(g),
        "torch": lambda: outs["torch"].backward(gt),
    }, steps, warmup=0, before={"myelin": fwd_m, "torch": fwd_t})
    print(f"{name} ({cin}->{cout}, {hw}x{hw}): forward myelin {fwd['myelin']:.2f} ms / torch {fwd['torch']:.2f} ms "
          f"(x{fwd['myelin'] / fwd['torch']:.2f}); backward myelin {bwd['myelin']:.2f} ms / torch "
          f"{bwd['torch']:.2f} ms (x{bwd['myelin'] / bwd['torch']:.2f})  [CPU time: fwd {fwd['myelin cpu']:.2f} / "
          f"{fwd['torch cpu']:.2f}, bwd {bwd['myelin cpu']:.2f} / {bwd['torch cpu']:.2f} ms]")


def bench_convs(torch: Any, steps: int) -> None:
    """Forward and backward of each convolution alone, with the input it sees in the model."""
    _bench_conv(torch, "conv1", 1, 32, 28, False, steps)
    _bench_conv(torch, "conv2", 32, 64, 14, True, steps)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per library (default 40)")
    parser.add_argument("--threads", type=int, default=None, help="threads for both (default: NumPy's BLAS count)")
    args = parser.parse_args(argv)
    import torch

    threads = args.threads or blas_threads()
    if args.threads:
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(args.threads)
        except ImportError:
            pass
    torch.set_num_threads(threads)
    print(f"numpy {np.__version__} ({blas_info()}), torch {torch.__version__}, threads {threads}")
    bench_step(torch, args.steps)
    bench_convs(torch, args.steps)


if __name__ == "__main__":
    main()
