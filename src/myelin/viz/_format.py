"""Short text for arrays in pictures and step listings."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_array", "brief"]


def as_array(value: Any) -> np.ndarray | None:
    """The ndarray of a Tensor, a gradient (array or Tensor) or a number; None stays None."""
    if value is None:
        return None
    data = getattr(value, "data", value)
    return data if isinstance(data, np.ndarray) else np.asarray(data)


def brief(value: Any, small: int = 6, precision: int = 4) -> str:
    """All values when there are at most ``small`` of them, else the mean and range."""
    a = as_array(value)
    if a is None:
        return "-"
    if a.size <= small:
        if a.ndim == 0:
            return f"{float(a):.{precision}g}"
        return np.array2string(a, precision=precision, separator=", ", suppress_small=True).replace("\n", "")
    if a.dtype.kind not in "fiub":
        return f"{a.dtype} {a.shape}"
    return f"mean {float(a.mean()):.3g}, range [{float(a.min()):.3g}, {float(a.max()):.3g}]"
