"""A multi-layer perceptron on MNIST: 784 pixels -> 512 -> 256 -> 10 classes, about 98% test accuracy.

Each 28x28 image is flattened to 784 numbers; two hidden layers of ReLU neurons (with batch
normalisation and dropout) and an output layer of 10 scores, one per digit. ``myelin.fit`` runs
the training loop (mini-batches, Adam, validation after every epoch); ``myelin.evaluate`` measures
the test accuracy.

Data: ``../shared/data/mnist.npz`` next to the repository when present, else ``myelin.datasets.mnist()``
(``$MYELIN_DATA``, ``~/.cache/myelin``, or a verified download).

Run:  python examples/mnist_mlp.py              (10 epochs, about 25 s on one core: 98.3% with seed 0)
      python examples/mnist_mlp.py --quick      (2,000 images, 1 epoch, for tests)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import myelin
from myelin import nn

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def load_mnist() -> tuple:
    """((x_train, y_train), (x_test, y_test)): float32 images (N, 1, 28, 28) in [0, 1], int64 labels."""
    root = SHARED if (SHARED / "mnist.npz").is_file() else None
    return myelin.datasets.mnist(root=root)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="a tiny run on 2,000 images (for tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = load_mnist()
    epochs = args.epochs
    if args.quick:
        x_train, y_train, x_test, y_test, epochs = x_train[:2000], y_train[:2000], x_test[:500], y_test[:500], 1

    myelin.manual_seed(args.seed)  # the same weights, dropout masks and batch order every run
    model = nn.Sequential(
        nn.Flatten(),                                                   # (N, 1, 28, 28) -> (N, 784)
        nn.MLP([784, 512, 256, 10], activation="relu", dropout=0.2, batch_norm=True),
    )
    print(model)

    start = time.perf_counter()
    history = myelin.fit(
        model, (x_train, y_train),
        loss="cross_entropy",                    # softmax + negative log-likelihood, from raw scores
        optimizer=myelin.optim.Adam(model.parameters(), lr=1e-3),
        epochs=epochs, batch_size=128,
        validation_split=0.1,                    # the last 6,000 training images check for overfitting
        seed=args.seed,
    )
    seconds = time.perf_counter() - start
    test = myelin.evaluate(model, (x_test, y_test), loss="cross_entropy")
    print(f"test accuracy {test['accuracy']:.2%} (loss {test['loss']:.4f}) after {len(history['loss'])} epochs, "
          f"{seconds:.0f} s ({seconds / max(len(history['loss']), 1):.1f} s per epoch)")
    return {"test_accuracy": test["accuracy"], "seconds": seconds}


if __name__ == "__main__":
    main()
