"""Inverted dropout: zero elements with probability ``p`` and scale the rest by ``1 / (1 - p)``."""

from __future__ import annotations

import numpy as np

from ...core.node import make_node
from ...core.tensor import Tensor, as_tensor
from ...random import get_rng

__all__ = ["dropout"]


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` (mask drawn from ``myelin.random.get_rng()``), scale the rest.

    Input: ``(*)``; Output: ``(*)``. Returns the input itself when ``training`` is false or ``p == 0``.
    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if not training or p == 0:
        return x
    a = x.data
    dtype = a.dtype if a.dtype == np.float32 or a.dtype == np.float64 else np.dtype(np.float32)
    if p == 1:
        mask = np.zeros(a.shape, dtype=dtype)
    else:
        mask = get_rng().random(a.shape or (1,), dtype=dtype)
        np.greater_equal(mask, p, out=mask, casting="unsafe")  # 1.0 where kept, 0.0 where dropped
        mask *= 1.0 / (1.0 - p)
        if not a.shape:
            mask = mask.reshape(())
    out = a * mask
    if not a.shape:
        out = np.asarray(out)
    return make_node(out, (x,), lambda g: (g * mask,), "dropout")
