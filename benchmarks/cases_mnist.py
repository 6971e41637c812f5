"""Case 6: one epoch of MNIST with the 784-512-256-10 MLP (batch 128, SGD lr 0.01 momentum 0.9).

Myelin trains with its own ``DataLoader`` over a ``TensorDataset`` (shuffled, one gather per
batch); PyTorch with the fastest idiomatic loop (a ``randperm`` and one index gather per batch:
its ``DataLoader`` would collate sample by sample and lose on data handling alone); scikit-learn
with ``MLPClassifier(hidden_layer_sizes=(512, 256), solver="sgd", momentum=0.9,
nesterovs_momentum=False, batch_size=128, max_iter=1, alpha=0)``, whose ``fit`` runs one epoch.

Run as a script, this file trains one epoch in a fresh process (used by case 8, peak memory)::

    python benchmarks/cases_mnist.py --epoch myelin|torch|sklearn [--n 60000]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MNIST_PATH", "build_case", "epoch_fn", "load_mnist"]

MNIST_PATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
SIZES = (784, 512, 256, 10)
BATCH = 128
LR = 0.01
MOMENTUM = 0.9


def load_mnist(n: int | None = None, path: Path = MNIST_PATH) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` training images as float32 rows in [0, 1] ``(n, 784)`` and int64 labels ``(n,)``.

    Falls back to random data of the same shape (and says so on stderr) where the file is missing,
    so the suite still runs on a machine without the data set.
    """
    if path.exists():
        with np.load(path) as d:
            x, y = d["x_train"], d["y_train"]
        if n is not None:
            x, y = x[:n], y[:n]
        x = x.reshape(len(x), -1).astype(np.float32)
        x *= np.float32(1 / 255)
        return x, y.astype(np.int64)
    print(f"cases_mnist: {path} not found; using random data of MNIST's shape", file=sys.stderr)
    rng = np.random.default_rng(0)
    n = 60000 if n is None else n
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)


def _myelin_epoch(x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    import myelin
    import myelin.nn.functional as F
    from myelin import nn
    from myelin.data import DataLoader, TensorDataset
    from myelin.optim import SGD

    myelin.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True, seed=0)

    def epoch() -> float:
        loss = None
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        return float(loss.item())

    return epoch


def _torch_epoch(x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    import torch

    torch.manual_seed(0)
    tn = torch.nn
    model = tn.Sequential(tn.Linear(784, 512), tn.ReLU(), tn.Linear(512, 256), tn.ReLU(), tn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = len(xt)
    cross_entropy = tn.functional.cross_entropy

    def epoch() -> float:
        perm = torch.randperm(n)
        loss = None
        for start in range(0, n, BATCH):
            idx = perm[start:start + BATCH]
            opt.zero_grad()
            loss = cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        return float(loss.item())

    return epoch


def _sklearn_epoch(x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    def epoch() -> float:
        clf = MLPClassifier(
            hidden_layer_sizes=SIZES[1:-1], activation="relu", solver="sgd", learning_rate_init=LR,
            momentum=MOMENTUM, nesterovs_momentum=False, batch_size=BATCH, max_iter=1, alpha=0.0,
            shuffle=True, random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x, y)
        return float(clf.loss_)

    return epoch


def _numpy_epoch(x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    """The hand-written NumPy step (``numpy_mlp.py``) over shuffled batches gathered with one ``np.take``."""
    from numpy_mlp import numpy_mlp_step

    step = numpy_mlp_step(SIZES, lr=LR, momentum=MOMENTUM)
    rng = np.random.default_rng(0)
    n = len(x)

    def epoch() -> float:
        order = rng.permutation(n)
        loss = float("nan")
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            loss = step(np.take(x, idx, axis=0), np.take(y, idx))
        return loss

    return epoch


def epoch_fn(lib: str, x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    """A callable training one more epoch of ``lib``'s model on ``(x, y)``."""
    return {"myelin": _myelin_epoch, "torch": _torch_epoch, "sklearn": _sklearn_epoch, "numpy": _numpy_epoch}[lib](x, y)


def build_case(quick: bool = False, n: int | None = None, with_sklearn: bool = True) -> Any:
    from _harness import Case, Ratio

    n = n if n is not None else (6000 if quick else None)
    x, y = load_mnist(n)
    impls = {"myelin": epoch_fn("myelin", x, y), "torch": epoch_fn("torch", x, y), "numpy": epoch_fn("numpy", x, y)}
    ratios = [Ratio("myelin", "torch", 1.15)]
    if with_sklearn:
        try:
            impls["sklearn"] = epoch_fn("sklearn", x, y)
            ratios += [Ratio("myelin", "sklearn", round(1 / 1.5, 3)), Ratio("numpy", "sklearn")]
        except ImportError:
            pass
    ratios.append(Ratio("myelin", "numpy"))
    return Case("6", f"MNIST epoch ({len(x)} images), MLP 784-512-256-10, b{BATCH}, SGD momentum", impls, ratios,
                rounds=1 if quick else 3, warmup=1, min_sample_s=0.0,
                note="myelin/sklearn target <= 0.667 means at least 1.5x faster than scikit-learn; numpy: the epoch "
                     "hand-written in plain NumPy (benchmarks/numpy_mlp.py), the floor of any NumPy implementation")


def main() -> None:
    parser = argparse.ArgumentParser(description="Train one MNIST epoch in this process (case 8's child).", allow_abbrev=False)
    parser.add_argument("--epoch", choices=("myelin", "torch", "sklearn"), required=True)
    parser.add_argument("--n", type=int, default=None, help="training images (default: all 60,000)")
    args = parser.parse_args()
    if args.epoch == "torch":
        import torch

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _harness import set_torch_threads

        set_torch_threads(torch)
    x, y = load_mnist(args.n)
    loss = epoch_fn(args.epoch, x, y)()
    print(f"{args.epoch}: final batch loss {loss:.4f}")
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            hwm = [line.split()[1] for line in f if line.startswith("VmHWM:")]
        if hwm:
            print(f"VmHWM {hwm[0]}")
    except OSError:
        pass


if __name__ == "__main__":
    main()
