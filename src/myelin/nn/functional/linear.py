"""``linear``: the fused affine map ``x @ W.T + b`` as one graph node."""

from __future__ import annotations

import numpy as np

from ...core.node import ensure_tensor, make_node
from ...core.tensor import Tensor, as_tensor

__all__ = ["linear"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` in one node, with one backward.

    Input: ``(*, in_features)``; weight: ``(out_features, in_features)``; bias: ``(out_features,)``;
    Output: ``(*, out_features)``. The input gradient is skipped when the input needs none.
    """
    x = input if isinstance(input, Tensor) else as_tensor(input)
    w = weight if isinstance(weight, Tensor) else ensure_tensor(weight, x.data)
    a, wd = x.data, w.data
    if wd.ndim != 2 or a.ndim == 0 or a.shape[-1] != wd.shape[1]:
        expected = wd.shape[1] if wd.ndim == 2 else "a 2-D weight"
        raise ValueError(
            f"linear: input {tuple(a.shape)} does not match weight {tuple(wd.shape)}: expected last dimension {expected}"
        )
    if a.dtype != wd.dtype:
        raise TypeError(f"linear: input dtype {a.dtype} and weight dtype {wd.dtype} differ; convert one of them")
    two_d = a.ndim == 2
    if two_d or a.ndim == 1:
        out = a @ wd.T
    else:
        out = (a.reshape(-1, a.shape[-1]) @ wd.T).reshape(a.shape[:-1] + (wd.shape[0],))
    if bias is None:
        parents: tuple = (x, w)
    else:
        b = bias if isinstance(bias, Tensor) else ensure_tensor(bias, a)
        if b.data.shape != (wd.shape[0],):
            raise ValueError(f"linear: bias {tuple(b.data.shape)} does not match weight {tuple(wd.shape)}: "
                             f"expected ({wd.shape[0]},)")
        out += b.data
        parents = (x, w, b)

    def backward(g: np.ndarray) -> tuple:
        if two_d:
            g2, a2 = g, a
        else:
            g2, a2 = g.reshape(-1, wd.shape[0]), a.reshape(-1, wd.shape[1])
        gx = None
        if x.requires_grad:
            gx = g2 @ wd
            if not two_d:
                gx = gx.reshape(a.shape)
        gw = g2.T @ a2 if w.requires_grad else None
        if bias is None:
            return gx, gw
        return gx, gw, (g2.sum(axis=0) if parents[2].requires_grad else None)

    return make_node(out, parents, backward, "linear")
