"""Backpropagation, step by step, on the real engine.

:func:`backward_steps` runs ``loss.backward()`` with an observer on the engine
(:func:`myelin.autograd.engine.observe`) and records, for every node in the order the engine runs
them: the gradient that arrives (``dL/d out``), and for each input the local derivative
(``d out / d input``, as a formula and, for element-wise ops, as numbers) and the product the
chain rule passes on (``dL/d input``). Gradients that reach a leaf are recorded too: they are what
ends up in ``.grad``. :func:`format_steps` prints them::

    steps = myelin.viz.backward_steps(loss, names={"w1": w1, "b1": b1})
    print(myelin.viz.format_steps(steps))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.engine import observe
from ..core.tensor import Tensor
from ._format import as_array, brief
from .graph import _names

__all__ = ["ParentStep", "Step", "backward_steps", "format_steps", "local_derivative"]

Local = Callable[[np.ndarray, list[np.ndarray], dict, int], np.ndarray | None]


def _c(attrs: dict) -> Any:
    return attrs.get("c")


# op -> (formula per input, element-wise derivative d out / d input k or None)
_UNARY: dict[str, tuple[str, Local]] = {
    "tanh": ("1 - tanh(x)^2", lambda o, x, a, k: 1 - o * o),
    "sigmoid": ("s(x) (1 - s(x))", lambda o, x, a, k: o * (1 - o)),
    "relu": ("1 where x > 0, else 0", lambda o, x, a, k: (x[0] > 0).astype(o.dtype)),
    "exp": ("exp(x)", lambda o, x, a, k: o),
    "log": ("1 / x", lambda o, x, a, k: 1 / x[0]),
    "sqrt": ("1 / (2 sqrt(x))", lambda o, x, a, k: 0.5 / o),
    "neg": ("-1", lambda o, x, a, k: -np.ones_like(o)),
    "abs": ("sign(x)", lambda o, x, a, k: np.sign(x[0])),
    "rsub": ("-1  (c - x)", lambda o, x, a, k: -np.ones_like(o)),
    "rdiv": ("-c / x^2  (c / x)", lambda o, x, a, k: -o / x[0]),
    "rpow": ("c^x log(c)  (c ** x)", lambda o, x, a, k: o * np.log(_c(a))),
}
_BINARY: dict[str, tuple[tuple[str, str], Local]] = {
    "add": (("1", "1"), lambda o, x, a, k: np.ones_like(x[k])),
    "sub": (("1", "-1"), lambda o, x, a, k: (1.0 if k == 0 else -1.0) * np.ones_like(x[k])),
    "mul": (("b (the other input)", "a (the other input)"), lambda o, x, a, k: x[1 - k]),
    "div": (("1 / b", "-a / b^2"), lambda o, x, a, k: 1 / x[1] if k == 0 else -x[0] / x[1] ** 2),
}
_SCALAR: dict[str, tuple[str, Local]] = {   # one tensor input and a Python number c
    "add": ("1  (x + c)", lambda o, x, a, k: np.ones_like(x[0])),
    "sub": ("1  (x - c)", lambda o, x, a, k: np.ones_like(x[0])),
    "mul": ("c  (x * c)", lambda o, x, a, k: np.full_like(x[0], _c(a))),
    "div": ("1 / c  (x / c)", lambda o, x, a, k: np.full_like(x[0], 1 / _c(a))),
    "pow": ("c x^(c-1)  (x ** c)", lambda o, x, a, k: _c(a) * x[0] ** (_c(a) - 1)),
}
_WORDS = {
    "matmul": ("g @ B^T  (for A in A @ B)", "A^T @ g  (for B in A @ B)"),
    "linear": ("g @ W  (dL/dx)", "g^T @ x  (dL/dW)", "sum of g over the batch  (dL/db)"),
    "sum": ("1 for every element: g is copied back to each",),
    "mean": ("1/n for every element",),
    "cross_entropy": ("softmax(z) - onehot(y), divided by N for the mean",),
    "mse_loss": ("2 (x - y) / n", "-2 (x - y) / n"),
    "log_softmax": ("g - softmax(z) * sum(g)",),
    "softmax": ("s * (g - sum(g * s))",),
    "conv2d": ("g correlated with the flipped filters (dL/dx)", "g correlated with the inputs (dL/dw)",
               "sum of g per output channel (dL/db)"),
    "max_pool2d": ("1 at the maximum of each window, 0 elsewhere",),
    "dropout": ("the mask: 1/(1-p) where kept, 0 where dropped",),
    "reshape": ("moves values: the gradient is reshaped back",),
    "transpose": ("moves values: the gradient is transposed back",),
    "permute": ("moves values: the gradient is permuted back",),
    "index": ("1 at the selected elements, 0 elsewhere",),
    "stack": ("the slice of g for this input",),
    "cat": ("the slice of g for this input",),
    "split": ("g in this piece, 0 elsewhere",),
    "unsqueeze": ("moves values: the gradient is squeezed back",),
    "squeeze": ("moves values: the gradient is unsqueezed back",),
    "pad": ("the gradient without the padding",),
    "max": ("1 at the maximum, 0 elsewhere",),
}


def local_derivative(op: str, out: np.ndarray, inputs: list[np.ndarray], attrs: dict, k: int
                     ) -> tuple[str, np.ndarray | None]:
    """``(formula, numbers)`` of ``d out / d input k`` for op ``op``; numbers only for element-wise ops."""
    with np.errstate(all="ignore"):
        if len(inputs) == 1 and op in _SCALAR and "c" in attrs:
            text, fn = _SCALAR[op]
            return text, np.broadcast_to(fn(out, inputs, attrs, k), out.shape)
        if len(inputs) == 1 and op in _UNARY:
            text, fn = _UNARY[op]
            return text, np.broadcast_to(fn(out, inputs, attrs, k), out.shape)
        if len(inputs) == 2 and op in _BINARY:
            texts, fn = _BINARY[op]
            return texts[k], np.broadcast_to(fn(out, inputs, attrs, k), out.shape)
    words = _WORDS.get(op)
    if words:
        return words[min(k, len(words) - 1)], None
    return f"the backward of {op!r} (not element-wise: see the op's code)", None


@dataclass
class ParentStep:
    """One input of a node: its label, the local derivative and the gradient passed to it."""

    label: str
    shape: tuple
    local: str
    local_value: np.ndarray | None
    passed: np.ndarray | None

    @property
    def product(self) -> np.ndarray | None:
        """``local_value * incoming`` summed back to the input's shape (None when not element-wise)."""
        return self._product

    _product: np.ndarray | None = field(default=None, repr=False)


@dataclass
class Step:
    """One step of the backward pass: a node (an op's output) or a leaf receiving its gradient.

    ``incoming`` is dL/d(output) as it arrived; ``parents`` say what each input receives. For a leaf
    step (``leaf=True``) ``incoming`` is the gradient added into ``tensor.grad`` and ``parents`` is empty.
    """

    index: int
    op: str
    name: str
    label: str
    output_shape: tuple
    output: np.ndarray
    incoming: np.ndarray
    parents: list[ParentStep]
    leaf: bool
    tensor: Tensor = field(repr=False)


def _sum_to(a: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a broadcast array back to ``shape`` (what the chain rule does for broadcast inputs)."""
    while a.ndim > len(shape):
        a = a.sum(axis=0)
    for ax, n in enumerate(shape):
        if n == 1 and a.shape[ax] != 1:
            a = a.sum(axis=ax, keepdims=True)
    return a


def backward_steps(loss: Tensor, grad: Any = None, names: Any = None, retain_graph: bool = False) -> list[Step]:
    """Run ``loss.backward(grad)`` on the real engine and return every step it took, in order.

    Args:
        loss: the result to differentiate (a scalar unless ``grad`` is given).
        grad: the seed gradient (default: 1 for a scalar).
        names: ``{"w": w, ...}`` or a Module, to label inputs and leaves.
        retain_graph: passed to ``backward``.
    Returns:
        a list of :class:`Step`. Leaves' ``.grad`` are filled as by a plain ``backward()``.
    """
    labels = _names(names)
    steps: list[Step] = []

    counts: dict[str, int] = {}

    def label(t: Tensor) -> str:
        """The given name, else the op numbered in order of appearance (``mul``, ``mul_2``...)."""
        if id(t) not in labels:
            base = t._op if t._op and (t.grad_fn is not None or t._freed) else (
                "leaf" if t.requires_grad else "const")
            counts[base] = counts.get(base, 0) + 1
            labels[id(t)] = base if counts[base] == 1 else f"{base}_{counts[base]}"
        return labels[id(t)]

    def observer(out: Tensor, g: np.ndarray, parents: tuple, passed: tuple) -> None:
        g = np.array(g, copy=True)
        if not parents:
            steps.append(Step(len(steps), "accumulate", "AccumulateGrad", label(out), tuple(out.shape),
                              out.data.copy(), g, [], True, out))
            return
        op = out._op
        attrs = dict(getattr(out, "_attrs", None) or {})
        inputs = [p.data for p in parents]
        rows = []
        for k, (p, pg) in enumerate(zip(parents, passed)):
            text, value = local_derivative(op, out.data, inputs, attrs, k)
            product = None if value is None or pg is None else _sum_to(value * g, p.data.shape)
            rows.append(ParentStep(label(p), tuple(p.shape), text, None if value is None else np.array(value),
                                   None if pg is None else np.array(pg, copy=True), product))
        steps.append(Step(len(steps), op, out.grad_fn.name() if out.grad_fn is not None else op, label(out),
                          tuple(out.shape), out.data.copy(), g, rows, False, out))

    with observe(observer):
        loss.backward(grad, retain_graph=retain_graph)
    return steps


def format_steps(steps: list[Step], small: int = 6) -> str:
    """The steps as text: for each node, what arrives and what each input receives, with numbers."""
    lines = []
    for s in steps:
        if s.leaf:
            lines.append(f"[{s.index}] {s.label}.grad += {brief(s.incoming, small)}")
            continue
        lines.append(f"[{s.index}] {s.name} ({s.label}), output {s.output_shape}: value {brief(s.output, small)}")
        lines.append(f"      incoming dL/d{s.label} = {brief(s.incoming, small)}")
        for p in s.parents:
            if p.passed is None:
                lines.append(f"      -> {p.label}: needs no gradient")
                continue
            local = f"d{s.label}/d{p.label} = {p.local}"
            if p.local_value is not None:
                local += f" = {brief(p.local_value, small)}"
            lines.append(f"      -> {p.label}: {local}")
            how = "local x incoming" if p.local_value is not None else "backward(incoming)"
            lines.append(f"         chain rule: dL/d{p.label} = {how}"
                         f" = {brief(as_array(p.passed), small)}")
    return "\n".join(lines)
