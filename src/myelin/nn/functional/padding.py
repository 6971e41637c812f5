"""``F.pad`` with PyTorch's four modes: constant, reflect, replicate and circular.

``pad`` lists ``(before, after)`` pairs from the last dimension backwards, as PyTorch. Constant
padding (any number of dimensions, negative entries crop) is the core ``pad`` op. The other
modes pad the last 1, 2 or 3 dimensions of a batched or unbatched input and are one graph node:
the forward gathers every output position from its source index along each padded axis
(``np.take``), the backward adds each padded slice back onto its source with one ``+=`` per
padded position (no ``np.add.at``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._plural import counted
from ...core.node import make_node
from ...core.shape import pad as constant_pad
from ...core.tensor import Tensor, as_tensor

__all__ = ["pad", "pad_index"]

MODES = ("constant", "reflect", "replicate", "circular")


def pad_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each padded position along an axis of length ``n``, the index it copies (int64)."""
    pos = np.arange(-before, n + after, dtype=np.int64)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    if mode == "circular":
        return pos % n
    period = 2 * (n - 1) if n > 1 else 1  # reflect: the edge is not repeated
    pos = np.abs(pos) % period
    return np.where(pos >= n, period - pos, pos)


def _scatter(g: np.ndarray, index: np.ndarray, n: int, before: int, axis: int) -> np.ndarray:
    """The adjoint of ``np.take(x, index, axis)``: the interior, plus one ``+=`` per padded position."""
    def at(i: Any) -> tuple:
        return (slice(None),) * axis + (i,)

    out = g[at(slice(before, before + n))].copy()
    for p in [*range(before), *range(before + n, index.size)]:
        out[at(int(index[p]))] += g[at(p)]
    return out


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad ``input``, as ``torch.nn.functional.pad``.

    Args:
        input: any shape for ``'constant'``; for the other modes ``(*, L)`` with 2 or 3 dimensions,
            ``(*, H, W)`` with 3 or 4, or ``(*, D, H, W)`` with 4 or 5 (``len(pad)`` = 2, 4 or 6).
        pad: ``(last_before, last_after, second_last_before, ...)``.
        mode: ``'constant'`` (fill with ``value``, default 0), ``'reflect'`` (mirror without the edge,
            each pad smaller than its dimension), ``'replicate'`` (repeat the edge) or ``'circular'``
            (wrap around, each pad at most its dimension).
    Returns:
        The padded tensor: each padded dimension grows by its two pads.
    """
    op = "pad"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if isinstance(pad, (int, np.integer)) or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"{op}: expected pad as a sequence of ints, received {pad!r}")
    pads = [int(p) for p in pad]
    if mode not in MODES:
        raise ValueError(f"{op}: expected mode to be one of {', '.join(map(repr, MODES))}, received {mode!r}")
    if mode == "constant":
        return constant_pad(x, pads, "constant", 0.0 if value is None else value)
    if value is not None and value != 0:
        raise ValueError(f"{op}: padding mode {mode!r} does not take a fill value (received value={value!r})")
    k = len(pads) // 2
    if len(pads) % 2 or k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise ValueError(
            f"{op}: mode {mode!r} pads the last 1, 2 or 3 dimensions of a batched or unbatched input "
            f"(len(pad) 2, 4 or 6 with input of {k + 1} or {counted(k + 2, 'dimension')}), received len(pad)={len(pads)} "
            f"and input of shape {tuple(x.shape)}"
        )
    if min(pads) < 0:
        raise ValueError(f"{op}: mode {mode!r} expects non-negative pads, received {tuple(pads)}")
    a = x.data
    axes = []  # (axis, n, before, index) per padded axis
    for i in range(k):
        axis = a.ndim - 1 - i
        n, lo, hi = a.shape[axis], pads[2 * i], pads[2 * i + 1]
        limit_ok = (max(lo, hi) < n) if mode == "reflect" else (max(lo, hi) <= n or mode == "replicate")
        if not limit_ok or n == 0:
            rule = "smaller than" if mode == "reflect" else "at most"
            raise ValueError(f"{op}: {mode} padding ({lo}, {hi}) of dimension {axis} must be {rule} its size {n} "
                             f"(input of shape {tuple(a.shape)})")
        if lo or hi:
            axes.append((axis, n, lo, pad_index(n, lo, hi, mode)))
    out = a
    for axis, _, _, index in axes:
        out = np.take(out, index, axis=axis)
    if out is a:
        out = a.copy()

    def backward(g: np.ndarray) -> tuple:
        for axis, n, lo, index in reversed(axes):
            g = _scatter(g, index, n, lo, axis)
        return (g,)

    attrs = {"indices": [(axis, index) for axis, _, _, index in axes], "mode": mode}
    return make_node(out, (x,), backward, "pad_mode", attrs)
