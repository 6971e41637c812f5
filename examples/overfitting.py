"""Overfitting on a 2-D problem, and how dropout and L2 weight decay fix it.

With only 80 noisy training points, a large network can memorise every one of them, noise included:
its training accuracy reaches 100% while its accuracy on new points (the validation set) stalls
or drops, and its validation loss climbs. That gap between training and validation is overfitting.

- Dropout switches off a random half of the hidden neurons at every step, so no neuron can rely
  on a few others to memorise a point; at test time all neurons work together.
- L2 regularisation adds ``l2 * sum(w ** 2)`` to the loss, pulling weights towards zero: the
  boundary between the classes becomes smoother.

Both shrink the gap; the table at the end shows by how much.

Run:  python examples/overfitting.py            (a few seconds)
      python examples/overfitting.py --quick    (fewer epochs, for tests)
"""

from __future__ import annotations

import argparse

import myelin
from myelin import nn


def run(name: str, data: tuple, epochs: int, dropout: float = 0.0, l2: float = 0.0) -> dict[str, float]:
    """Train one network on the training points and measure it on both sets."""
    (x_train, y_train), (x_val, y_val) = data
    myelin.manual_seed(0)  # every setting starts from the same weights
    model = nn.MLP([2, 128, 128, 2], activation="relu", dropout=dropout)
    myelin.fit(model, (x_train, y_train), loss="cross_entropy",
               optimizer=myelin.optim.Adam(model.parameters(), lr=3e-3),
               epochs=epochs, batch_size=len(x_train),  # one full-batch step per epoch
               l2=l2, seed=0, verbose=0)
    train = myelin.evaluate(model, (x_train, y_train), loss="cross_entropy")
    val = myelin.evaluate(model, (x_val, y_val), loss="cross_entropy")
    return {"name": name, "train_acc": train["accuracy"], "val_acc": val["accuracy"],
            "train_loss": train["loss"], "val_loss": val["loss"]}


def main(argv: list[str] | None = None) -> list[dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="50 epochs (for tests)")
    args = parser.parse_args(argv)
    epochs = 50 if args.quick else args.epochs

    # Two interleaving half-moons with plenty of noise: 80 points to learn from, 2,000 to check on.
    x_train, y_train = myelin.datasets.moons(n=80, noise=0.35, seed=1)
    x_val, y_val = myelin.datasets.moons(n=2000, noise=0.35, seed=2)
    data = ((x_train, y_train), (x_val, y_val))

    results = [
        run("no regularisation", data, epochs),
        run("dropout 0.5", data, epochs, dropout=0.5),
        run("L2 1e-2", data, epochs, l2=1e-2),
        run("dropout 0.5 + L2 3e-3", data, epochs, dropout=0.5, l2=3e-3),
    ]
    print(f"{'setting':<24} {'train acc':>9} {'val acc':>8} {'gap':>6}   {'train loss':>10} {'val loss':>9}")
    for r in results:
        gap = r["train_acc"] - r["val_acc"]
        print(f"{r['name']:<24} {r['train_acc']:>9.1%} {r['val_acc']:>8.1%} {gap:>6.1%}   "
              f"{r['train_loss']:>10.3f} {r['val_loss']:>9.3f}")
    print("\nThe unregularised network fits the training points best and new points worst: the gap is")
    print("overfitting. Dropout and L2 give up a little training fit for a smaller gap and a lower val loss.")
    return results


if __name__ == "__main__":
    main()
