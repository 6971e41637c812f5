"""One neuron learns AND, fails on XOR; two layers of neurons solve XOR.

A neuron computes ``sigmoid(w1*x1 + w2*x2 + b)``: it splits the plane with one straight line
``w1*x1 + w2*x2 + b = 0``. AND is "linearly separable" (one line puts (1, 1) apart from the rest),
XOR is not (no single line separates {(0,1), (1,0)} from {(0,0), (1,1)}). A hidden layer gives the
network several lines to combine, and XOR becomes easy.

Run:  python examples/neuron_and_xor.py            (about a second)
      python examples/neuron_and_xor.py --quick    (fewer steps, for tests)
"""

from __future__ import annotations

import argparse

import numpy as np

import myelin
from myelin import nn
from myelin.nn import functional as F

# The four possible inputs and the two truth tables we want to learn.
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
AND = np.array([0, 0, 0, 1], dtype=np.float32)
XOR = np.array([0, 1, 1, 0], dtype=np.float32)


def train(model: nn.Module, y: np.ndarray, steps: int, lr: float) -> np.ndarray:
    """Full-batch gradient descent on the binary cross-entropy; returns the final outputs."""
    optimizer = myelin.optim.SGD(model.parameters(), lr=lr)
    x, target = myelin.tensor(X), myelin.tensor(y)
    for _ in range(steps):
        optimizer.zero_grad()                       # forget the previous step's gradients
        p = model(x).reshape(-1)                    # forward: one probability per input row
        loss = F.binary_cross_entropy(p, target)    # how wrong are we?
        loss.backward()                             # backpropagation: d loss / d every weight
        optimizer.step()                            # move every weight a little downhill
    with myelin.no_grad():
        return model(x).reshape(-1).numpy()


def show(name: str, y: np.ndarray, p: np.ndarray) -> float:
    """Print a truth table with the model's outputs; returns the accuracy."""
    print(f"\n{name}\n  x1 x2 | target  output")
    for (x1, x2), t, out in zip(X, y, p):
        print(f"   {x1:.0f}  {x2:.0f} |   {t:.0f}     {out:.3f}")
    accuracy = float(((p > 0.5) == (y > 0.5)).mean())
    print(f"  accuracy: {accuracy:.0%}")
    return accuracy


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--epochs", type=int, default=2000, help="gradient steps per model (default: 2000)")
    parser.add_argument("--quick", action="store_true", help="a short run (for tests)")
    args = parser.parse_args(argv)
    steps = 300 if args.quick else args.epochs
    myelin.manual_seed(0)

    # 1. One neuron learns AND.
    neuron = nn.Neuron(2, activation="sigmoid")
    acc_and = show("One neuron, AND", AND, train(neuron, AND, steps, lr=1.0))
    w, b = neuron.weight.numpy(), float(neuron.bias.numpy())
    print(f"  its line: {w[0]:.2f}*x1 {w[1]:+.2f}*x2 {b:+.2f} = 0  (it fires only above the line)")

    # 2. The same kind of neuron cannot learn XOR. Any line gets at least one row wrong, so the
    #    neuron's best compromise under this loss is to answer 0.5 everywhere: it learns nothing.
    neuron = nn.Neuron(2, activation="sigmoid")
    acc_xor_neuron = show("One neuron, XOR (impossible: no straight line separates the classes)", XOR,
                          train(neuron, XOR, steps, lr=1.0))

    # 3. Two layers: 4 hidden neurons (4 lines), then one output neuron that combines them.
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    acc_xor_net = show("Two layers (2 -> 4 -> 1), XOR", XOR, train(net, XOR, steps, lr=1.0))

    print(f"\nsummary: neuron AND {acc_and:.0%}, neuron XOR {acc_xor_neuron:.0%}, two-layer XOR {acc_xor_net:.0%}")
    return {"neuron_and": acc_and, "neuron_xor": acc_xor_neuron, "net_xor": acc_xor_net}


if __name__ == "__main__":
    main()
