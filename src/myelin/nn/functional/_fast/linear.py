"""``linear``: the fused affine map ``x @ W.T + b`` as one graph node.

Optimised (GEMM layout choices, one backward): the readable twin is
:func:`myelin.nn.reference.linear`, ``x @ w.T + b`` in Tensor operations.
"""

from __future__ import annotations

import functools

import numpy as np

from ....core.node import Fresh, ensure_tensor, make_node
from ....core.tensor import Tensor, as_tensor
from ... import reference
from ...reference._switch import STATE as _REFERENCE

__all__ = ["linear"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` in one node, with one backward.

    Input: ``(*, in_features)``; weight: ``(out_features, in_features)``; bias: ``(out_features,)``;
    Output: ``(*, out_features)``. The input gradient is skipped when the input needs none.
    """
    x = input if isinstance(input, Tensor) else as_tensor(input)
    w = weight if isinstance(weight, Tensor) else ensure_tensor(weight, x.data)
    a, wm = x.data, w.data
    if wm.ndim != 2 or a.ndim == 0 or a.shape[-1] != wm.shape[1]:
        expected = wm.shape[1] if wm.ndim == 2 else "a 2-D weight"
        raise ValueError(
            f"linear: input {tuple(a.shape)} does not match weight {tuple(wm.shape)}: expected last dimension {expected}"
        )
    if a.dtype != wm.dtype:
        raise TypeError(f"linear: input dtype {a.dtype} and weight dtype {wm.dtype} differ; convert one of them")
    if _REFERENCE.enabled:
        return reference.linear(x, w, None if bias is None else ensure_tensor(bias, a))
    two_d = a.ndim == 2
    if two_d:
        out = _affine(a, wm)
    elif a.ndim == 1:
        out = a @ wm.T
    else:  # the plain product keeps C order, so the reshape back stays a view
        out = (a.reshape(-1, a.shape[-1]) @ wm.T).reshape(a.shape[:-1] + (wm.shape[0],))
    if bias is None:
        parents: tuple = (x, w)
    else:
        b = bias if isinstance(bias, Tensor) else ensure_tensor(bias, a)
        if b.data.shape != (wm.shape[0],):
            raise ValueError(f"linear: bias {tuple(b.data.shape)} does not match weight {tuple(wm.shape)}: "
                             f"expected ({wm.shape[0]},)")
        out += b.data
        parents = (x, w, b)

    def backward(g: np.ndarray) -> tuple:
        if two_d:
            g2, a2 = g, a
        else:
            g2, a2 = g.reshape(-1, wm.shape[0]), a.reshape(-1, wm.shape[1])
        gx = None
        if x.requires_grad:
            if two_d and a.flags.f_contiguous and not a.flags.c_contiguous:
                gx = np.dot(wm.T, g2.T).T  # in the input's layout, so the elementwise backward before it stays fast
            else:
                gx = np.dot(g2, wm)
                if not two_d:
                    gx = gx.reshape(a.shape)
        gw = None
        if w.requires_grad:
            # one row: an outer product, which a GEMM with K = 1 computes ten times slower
            gw = np.multiply(g2.T, a2) if g2.shape[0] == 1 and a2.ndim == 2 else np.dot(g2.T, a2)
            if not gw.flags.c_contiguous:
                gw = np.ascontiguousarray(gw)
        if bias is None:
            return Fresh((gx, gw))
        return Fresh((gx, gw, (np.dot(_ones(g2.shape[0], g2.dtype), g2) if parents[2].requires_grad else None)))

    return make_node(out, parents, backward, "linear")


@functools.lru_cache(maxsize=32)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only ``(n,)`` vector of ones: ``ones @ g`` sums the rows of ``g`` as one GEMV, 3 to 5 times
    faster than ``g.sum(axis=0)`` (which also adds row by row) and indifferent to ``g``'s layout."""
    out = np.ones(n, dtype)
    out.flags.writeable = False
    return out


def _affine(a: np.ndarray, wm: np.ndarray) -> np.ndarray:
    """``a @ wm.T`` for 2-D ``a`` (rows, in), choosing the faster of two equal GEMMs.

    OpenBLAS computes ``(wm @ a.T).T`` (the output's transpose, as PyTorch's column-major
    ``addmm`` does) up to twice as fast as ``a @ wm.T`` when the batch is small: e.g. 143 vs
    249 us for (32, 784) x (784, 512) on one core. The result is then an F-ordered (rows, out)
    array, which the next layer takes again as a C-ordered transpose (its fastest case).
    For large batches, or small weights, the plain product is as fast and keeps the usual C order.
    """
    if a.flags.f_contiguous and not a.flags.c_contiguous:
        return np.dot(wm, a.T).T  # a.T is C-ordered: the fastest case of all
    if a.shape[0] <= 128 and wm.size >= 32768:
        return np.dot(wm, a.T).T
    return np.dot(a, wm.T)  # np.dot: the same GEMM as @ for 2-D operands, ~0.2 us less overhead
