"""Inverted dropout: zero elements (or whole channels) with probability ``p`` and scale the rest by ``1 / (1 - p)``."""

from __future__ import annotations

import numpy as np

from ..._plural import counted
from ...core.node import make_node
from ...core.tensor import Tensor, as_tensor
from ...random import get_rng

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d"]


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


def _channel_dropout(input: Tensor, p: float, training: bool, spatial: int, op: str) -> Tensor:
    """Zero whole channels: one draw per ``(sample, channel)`` of an ``(N, C, *spatial)`` or ``(C, *spatial)`` input."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected input of {spatial + 1} or {counted(spatial + 2, 'dimension')} ((C, *spatial) or "
                         f"(N, C, *spatial)), received shape {tuple(x.shape)}")
    if not training or p == 0:
        return x
    a = x.data
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)
    lead = a.shape[:a.ndim - spatial]
    if p == 1:
        mask = np.zeros(lead + (1,) * spatial, dtype=dtype)
    else:
        mask = (get_rng().random(lead, dtype=dtype) >= p).astype(dtype).reshape(lead + (1,) * spatial)
        mask *= dtype.type(1.0 / (1.0 - p))
    return x * as_tensor(mask)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout for ``(N, C, L)`` or ``(C, L)``: each channel of each sample is zeroed with probability ``p``."""
    return _channel_dropout(input, p, training, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout for ``(N, C, H, W)`` or ``(C, H, W)`` (Tompson et al., 2015)."""
    return _channel_dropout(input, p, training, 2, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout for ``(N, C, D, H, W)`` or ``(C, D, H, W)``."""
    return _channel_dropout(input, p, training, 3, "dropout3d")
