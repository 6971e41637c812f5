"""``F.unfold`` (im2col) and ``F.fold`` (col2im) in PyTorch's layout; each is the other's adjoint.

``unfold`` turns ``(N, C, H, W)`` into ``(N, C*kh*kw, L)`` (row ``c*kh*kw + i*kw + j`` holds kernel offset
``(i, j)`` of channel ``c`` at each of the ``L`` window positions); ``fold`` sums such columns back into
``(N, C, H, W)``. One strided copy (or ``+=``) per kernel offset, no loop over pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core.node import make_node
from ...core.tensor import Tensor, as_tensor
from ._fast.im2col import check_positive, pair, window_slices

__all__ = ["fold", "unfold"]


def _geometry(kernel_size: Any, dilation: Any, padding: Any, stride: Any, op: str) -> tuple:
    k, d, p, s = (pair(v, n, op) for v, n in ((kernel_size, "kernel_size"), (dilation, "dilation"),
                                                (padding, "padding"), (stride, "stride")))
    check_positive(k, "kernel_size", op)
    check_positive(d, "dilation", op)
    check_positive(s, "stride", op)
    check_positive(p, "padding", op, allow_zero=True)
    return k, d, p, s


def _blocks(hw: tuple[int, int], k: tuple, d: tuple, p: tuple, s: tuple) -> tuple[int, int]:
    return tuple((hw[a] + 2 * p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in (0, 1))  # type: ignore[return-value]


def _im2col(x: np.ndarray, k: tuple, d: tuple, p: tuple, s: tuple, blocks: tuple) -> np.ndarray:
    n, c, _h, _w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]))) if p[0] or p[1] else x
    cols = np.empty((n, c, k[0], k[1]) + blocks, dtype=x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            cols[:, :, i, j] = xp[(slice(None), slice(None)) + window_slices(i, j, blocks, s, d)]
    return cols.reshape(n, c * k[0] * k[1], blocks[0] * blocks[1])


def _col2im(cols: np.ndarray, c: int, hw: tuple, k: tuple, d: tuple, p: tuple, s: tuple, blocks: tuple) -> np.ndarray:
    n = cols.shape[0]
    c6 = cols.reshape((n, c, k[0], k[1]) + blocks)
    out = np.zeros((n, c, hw[0] + 2 * p[0], hw[1] + 2 * p[1]), dtype=cols.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            out[(slice(None), slice(None)) + window_slices(i, j, blocks, s, d)] += c6[:, :, i, j]
    return out[:, :, p[0]:p[0] + hw[0], p[1]:p[1] + hw[1]]


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sliding local blocks as columns, as ``torch.nn.functional.unfold``: ``(N, C, H, W)`` (or ``(C, H, W)``)
    to ``(N, C*kh*kw, L)`` with ``L`` the number of window positions."""
    op = "unfold"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    a = x.data
    if a.ndim not in (3, 4):
        raise ValueError(f"{op}: expected input (N, C, H, W) or (C, H, W), received {tuple(a.shape)}")
    unbatched = a.ndim == 3
    a4 = a[None] if unbatched else a
    k, d, p, s = _geometry(kernel_size, dilation, padding, stride, op)
    hw = a4.shape[2:]
    blocks = _blocks(hw, k, d, p, s)
    if min(blocks) < 1:
        raise ValueError(f"{op}: input (H, W) = {hw} with padding {p} is too small for kernel {k} with dilation {d}")
    cols = _im2col(a4, k, d, p, s, blocks)

    def backward(g: np.ndarray) -> tuple:
        g3 = g[None] if unbatched else g
        gx = _col2im(g3, a4.shape[1], hw, k, d, p, s, blocks)
        return (gx[0] if unbatched else gx,)

    return make_node(cols[0] if unbatched else cols, (x,), backward, op)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum columns back into an image, as ``torch.nn.functional.fold``: ``(N, C*kh*kw, L)`` (or unbatched) to
    ``(N, C, *output_size)``; overlapping positions add up (``fold(unfold(x))`` counts each pixel's windows)."""
    op = "fold"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    a = x.data
    if a.ndim not in (2, 3):
        raise ValueError(f"{op}: expected input (N, C*kh*kw, L) or (C*kh*kw, L), received {tuple(a.shape)}")
    unbatched = a.ndim == 2
    a3 = a[None] if unbatched else a
    k, d, p, s = _geometry(kernel_size, dilation, padding, stride, op)
    hw = pair(output_size, "output_size", op)
    blocks = _blocks(hw, k, d, p, s)
    kk = k[0] * k[1]
    if a3.shape[1] % kk or a3.shape[2] != blocks[0] * blocks[1]:
        raise ValueError(f"{op}: expected input (N, C*{kk}, {blocks[0] * blocks[1]}) for output_size {hw}, kernel {k}, "
                         f"dilation {d}, padding {p}, stride {s}; received {tuple(a.shape)}")
    c = a3.shape[1] // kk
    out = _col2im(a3, c, hw, k, d, p, s, blocks)

    def backward(g: np.ndarray) -> tuple:
        g4 = g[None] if unbatched else g
        cols = _im2col(np.ascontiguousarray(g4), k, d, p, s, blocks)
        return (cols[0] if unbatched else cols,)

    return make_node(out[0] if unbatched else out, (x,), backward, op)
