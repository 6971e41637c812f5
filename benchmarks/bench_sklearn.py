"""NeuralNetClassifier vs scikit-learn's MLPClassifier on the digits set (a benchmark, not a test).

Both get the same split (``myelin.datasets.digits(flatten=True)``: 1,438 train / 359 test, pixels in
[0, 1], float32), the same architecture, epochs, batch size, Adam and learning rate, no weight
penalty, and a stopping rule that cannot fire (``n_iter_no_change = epochs``), so both run exactly
``epochs`` passes. Each seed is fitted by both; the table gives test accuracy and fit time.

    python benchmarks/bench_sklearn.py                      # 5 seeds, 100 epochs, (64,), batch 200, 1 BLAS thread
    python benchmarks/bench_sklearn.py --epochs 200 --batch-size 32 --threads 0   # 0: BLAS default threads
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["main"]


def _time_fit(make: Callable[[], Any], X: np.ndarray, y: np.ndarray, X_test: np.ndarray,
              y_test: np.ndarray) -> tuple[float, float]:
    est = make()
    start = time.perf_counter()
    est.fit(X, y)
    elapsed = time.perf_counter() - start
    return float(est.score(X_test, y_test)), elapsed


def run(epochs: int, batch_size: int, lr: float, hidden: tuple[int, ...], seeds: int) -> dict[str, np.ndarray]:
    """Fit both estimators once per seed; returns accuracy and time arrays per library."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from myelin.datasets import digits
    from myelin.sklearn import NeuralNetClassifier

    (X, y), (X_test, y_test) = digits(flatten=True)
    common = {"hidden_layer_sizes": hidden, "batch_size": batch_size, "n_iter_no_change": epochs, "tol": 0.0}
    makers = {
        "myelin": lambda s: NeuralNetClassifier(epochs=epochs, learning_rate=lr, optimizer="adam", l2=0.0,
                                                random_state=s, **common),
        "sklearn": lambda s: MLPClassifier(max_iter=epochs, learning_rate_init=lr, solver="adam", alpha=0.0,
                                           random_state=s, **common),
    }
    results = {f"{name}_{k}": np.zeros(seeds) for name in makers for k in ("acc", "time")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, make in makers.items():  # warm-up: imports, BLAS initialisation
            _time_fit(lambda m=make: m(0), X[:200], y[:200], X_test, y_test)
        for s in range(seeds):
            for name, make in makers.items():
                acc, sec = _time_fit(lambda m=make, s=s: m(s), X, y, X_test, y_test)
                results[f"{name}_acc"][s], results[f"{name}_time"][s] = acc, sec
                print(f"seed {s} {name:8s} accuracy {acc:.4f}  fit {sec:.3f} s", flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (0 leaves the default)")
    args = parser.parse_args(argv)

    print(f"digits, hidden={tuple(args.hidden)}, epochs={args.epochs}, batch={args.batch_size}, adam lr={args.lr}, "
          f"seeds={args.seeds}, BLAS threads={args.threads or 'default'}")
    if args.threads:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=args.threads):
            r = run(args.epochs, args.batch_size, args.lr, tuple(args.hidden), args.seeds)
    else:
        r = run(args.epochs, args.batch_size, args.lr, tuple(args.hidden), args.seeds)

    print(f"\n{'':10s}{'test accuracy (mean ± std)':>30s}{'fit time s (mean)':>20s}")
    for name in ("myelin", "sklearn"):
        acc, sec = r[f"{name}_acc"], r[f"{name}_time"]
        print(f"{name:10s}{acc.mean():>22.4f} ± {acc.std():.4f}{sec.mean():>20.3f}")
    print(f"\naccuracy difference (myelin - sklearn): {r['myelin_acc'].mean() - r['sklearn_acc'].mean():+.4f}")
    print(f"time ratio (myelin / sklearn): {r['myelin_time'].mean() / r['sklearn_time'].mean():.2f}")


if __name__ == "__main__":
    main()
