"""A hand-written, framework-free NumPy MLP training step: the floor of cases 3 and 6.

Cases 3 and 6 ask how close Myelin comes to what NumPy itself allows. The GEMM floor (only the
matrix products) leaves out work that no NumPy training step can skip: the bias adds, ReLU and
its mask, the loss gradient and the optimizer's passes over every parameter. This module writes
that step by hand as tightly as we know how (no graph, no modules, no checks, buffers allocated
once, the products in their fastest layouts, the optimizer in the fewest NumPy passes: two for
plain SGD, four for momentum), so ``myelin / numpy`` is the price of the framework and
``numpy / peer`` is the best any NumPy implementation could hope for against that peer.

    step = numpy_mlp_step((784, 512, 256, 10), lr=0.01, momentum=0.9)
    loss = step(xb, yb)          # xb (B, 784) float32, yb (B,) int
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

__all__ = ["affine", "numpy_mlp_step"]


def affine(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``a @ w.T`` in the faster of its two GEMM layouts (OpenBLAS, measured; the choice Myelin's ``linear``
    makes too): ``(w @ a.T).T`` when ``a`` is F-ordered, or for at most 128 rows and a weight of at least
    32768 entries; the plain product otherwise."""
    if (a.flags.f_contiguous and not a.flags.c_contiguous) or (a.shape[0] <= 128 and w.size >= 32768):
        return (w @ a.T).T
    return a @ w.T


def numpy_mlp_step(sizes: Sequence[int], lr: float = 0.01, momentum: float = 0.0,
                   seed: int = 0) -> Callable[[np.ndarray, np.ndarray], float]:
    """One SGD step (forward, mean cross-entropy, backward, update) of a ReLU MLP, in plain NumPy.

    Weights are initialised as PyTorch's ``Linear`` does. Returns ``step(xb, yb) -> loss``, whose
    ``params`` attribute lists ``[W1, b1, W2, b2, ...]`` (updated in place; assign into them to load weights).
    """
    rng = np.random.default_rng(seed)
    f32 = np.float32
    ws, bs = [], []
    for fan_in, fan_out in pairwise(sizes):
        bound = 1.0 / np.sqrt(fan_in)
        ws.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(f32))
        bs.append(rng.uniform(-bound, bound, fan_out).astype(f32))
    params = [p for pair in zip(ws, bs) for p in pair]
    bufs = [np.zeros_like(p) for p in params] if momentum else []
    tmps = [np.empty_like(p) for p in params]
    lr32, mu32 = f32(lr), f32(momentum)
    last = len(ws) - 1

    def step(xb: np.ndarray, yb: np.ndarray) -> float:
        B = len(xb)
        acts = [xb]
        for k, (w, b) in enumerate(zip(ws, bs)):
            z = affine(acts[-1], w)
            z += b
            if k < last:
                np.maximum(z, 0, out=z)
            acts.append(z)
        logits = acts[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        np.exp(shifted, out=logits)  # logits is not needed any more: reuse it for the softmax
        total = logits.sum(axis=1, keepdims=True)
        rows = np.arange(B)
        loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, yb]))
        g = logits / total
        g[rows, yb] -= 1
        g *= f32(1.0 / B)
        grads: list[np.ndarray] = [None] * len(params)  # type: ignore[list-item]
        for k in range(last, -1, -1):
            a = acts[k]
            grads[2 * k] = g.T @ a
            grads[2 * k + 1] = g.sum(axis=0)
            if k:
                g = (ws[k].T @ g.T).T if (a.flags.f_contiguous and not a.flags.c_contiguous) else g @ ws[k]
                g *= a > 0
        for i, (p, gr, tmp) in enumerate(zip(params, grads, tmps)):
            if momentum:
                buf = bufs[i]
                buf *= mu32
                buf += gr
                gr = buf
            np.multiply(gr, lr32, out=tmp)
            p -= tmp
        return loss

    step.params = params  # type: ignore[attr-defined]
    return step
