"""``F.bilinear``: ``y = x1^T A x2 + b`` for every pair of rows, one graph node (einsum forward and backward)."""

from __future__ import annotations

import numpy as np

from ...core.node import make_node
from ...core.tensor import Tensor, as_tensor

__all__ = ["bilinear"]


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]``, as ``torch.nn.functional.bilinear``.

    input1 ``(*, in1)``, input2 ``(*, in2)`` (same leading shape), weight ``(out, in1, in2)``, bias ``(out,)``.
    Output ``(*, out)``.
    """
    op = "bilinear"
    t1 = input1 if isinstance(input1, Tensor) else as_tensor(input1)
    t2 = input2 if isinstance(input2, Tensor) else as_tensor(input2)
    a, b, w = t1.data, t2.data, weight.data
    if w.ndim != 3 or a.shape[:-1] != b.shape[:-1] or a.shape[-1:] != w.shape[1:2] or b.shape[-1:] != w.shape[2:]:
        raise ValueError(f"{op}: expected input1 (*, {w.shape[1] if w.ndim == 3 else 'in1'}), input2 (*, "
                         f"{w.shape[2] if w.ndim == 3 else 'in2'}) with the same leading shape and weight "
                         f"(out, in1, in2), received {tuple(a.shape)}, {tuple(b.shape)}, {tuple(w.shape)}")
    lead = a.shape[:-1]
    a2, b2 = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    aw = np.einsum("ni,oij->noj", a2, w, optimize=True)  # (M, out, in2)
    out = np.einsum("noj,nj->no", aw, b2, optimize=True)
    if bias is not None:
        out = out + bias.data
    parents = (t1, t2, weight) + ((bias,) if bias is not None else ())

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(-1, w.shape[0])
        ga = np.einsum("no,oij,nj->ni", g2, w, b2, optimize=True).reshape(a.shape) if t1.requires_grad else None
        gb = np.einsum("no,noj->nj", g2, aw, optimize=True).reshape(b.shape) if t2.requires_grad else None
        gw = np.einsum("no,ni,nj->oij", g2, a2, b2, optimize=True) if weight.requires_grad else None
        grads = (ga, gb, gw)
        if bias is not None:
            grads += (g2.sum(axis=0) if bias.requires_grad else None,)
        return grads

    return make_node(out.reshape(lead + (w.shape[0],)).astype(a.dtype, copy=False), parents, backward, op)
