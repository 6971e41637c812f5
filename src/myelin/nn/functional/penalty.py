"""Weight penalties over many parameters as one graph node each (PyTorch has no equivalent).

Add one to a loss for L1 / L2 regularisation::

    loss = F.cross_entropy(model(x), y) + 1e-4 * F.l2_penalty(model.parameters())

(``optim`` weight decay is the other way to get L2 regularisation.)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ...core.node import make_node
from ...core.tensor import Tensor

__all__ = ["l1_penalty", "l2_penalty"]


def _params(params: Iterable[Tensor] | Tensor, op: str) -> tuple[Tensor, ...]:
    ps = (params,) if isinstance(params, Tensor) else tuple(params)
    for i, p in enumerate(ps):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected tensors, item {i} is a {type(p).__name__}")
    return ps


def _dtype(ps: tuple[Tensor, ...]) -> np.dtype:
    return ps[0].data.dtype if ps and ps[0].data.dtype.kind == "f" else np.dtype(np.float32)


def l1_penalty(params: Iterable[Tensor] | Tensor) -> Tensor:
    """``sum(|w|)`` over every element of every tensor in ``params`` (any iterable of tensors, or one tensor).

    Output: a scalar ``()``; the gradient of each tensor is ``sign(w)``.
    """
    ps = _params(params, "l1_penalty")
    total = sum(float(np.abs(p.data).sum()) for p in ps)
    out = np.asarray(total, dtype=_dtype(ps))
    return make_node(out, ps, lambda g: tuple(np.sign(p.data) * g if p.requires_grad else None for p in ps),
                     "l1_penalty")


def l2_penalty(params: Iterable[Tensor] | Tensor) -> Tensor:
    """``sum(w ** 2)`` over every element of every tensor in ``params`` (no 1/2 factor).

    Output: a scalar ``()``; the gradient of each tensor is ``2 w``.
    """
    ps = _params(params, "l2_penalty")
    total = 0.0
    for p in ps:
        flat = p.data.reshape(-1)
        total += float(np.dot(flat, flat))
    out = np.asarray(total, dtype=_dtype(ps))
    return make_node(out, ps, lambda g: tuple(p.data * (2 * g) if p.requires_grad else None for p in ps),
                     "l2_penalty")
