"""Small NumPy preprocessing helpers: standardisation, min-max scaling, one-hot, :class:`Compose`.

All functions take and return NumPy arrays (myelin Tensors are viewed as their arrays).
Statistics are per feature: reduced over ``axis`` (default 0, the sample axis).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .dataset import to_numpy

__all__ = ["Compose", "Standardize", "one_hot", "scale", "standardize"]

Axis = int | tuple[int, ...]


def _float(x: Any) -> np.ndarray:
    a = to_numpy(x)
    return a if a.dtype.kind == "f" else a.astype(np.float32)


class Standardize:
    """``(x - mean) / max(std, eps)`` with ``mean`` and ``std`` learned by :meth:`fit`.

    Args:
        axis: axes reduced to get per-feature statistics; ``0`` for ``(N, F)`` data,
            ``(0, 2, 3)`` for per-channel statistics of ``(N, C, H, W)`` images.
        eps: lower bound on ``std`` so constant features do not divide by zero.
    """

    def __init__(self, axis: Axis = 0, eps: float = 1e-8) -> None:
        if eps <= 0:
            raise ValueError(f"Standardize: expected eps > 0, received {eps}")
        self.axis = axis
        self.eps = float(eps)
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, x: Any) -> Standardize:
        """Learn per-feature mean and std of ``x``; returns ``self``."""
        a = _float(x)
        if a.size == 0:
            raise ValueError(f"Standardize.fit: expected a non-empty array, received shape {a.shape}")
        self.mean_ = a.mean(axis=self.axis, keepdims=True)
        self.std_ = a.std(axis=self.axis, keepdims=True)
        return self

    def _stats(self, where: str) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError(f"Standardize.{where}: call fit(x) first")
        return self.mean_, np.maximum(self.std_, self.eps)

    def transform(self, x: Any) -> np.ndarray:
        """Standardise ``x`` with the fitted statistics (same shape as ``x``)."""
        mean, std = self._stats("transform")
        a = _float(x)
        try:
            return ((a - mean) / std).astype(a.dtype, copy=False)
        except ValueError:
            raise ValueError(
                f"Standardize.transform: fitted on features of shape {mean.shape}, received {a.shape}"
            ) from None

    def inverse_transform(self, x: Any) -> np.ndarray:
        """Undo :meth:`transform`."""
        mean, std = self._stats("inverse_transform")
        a = _float(x)
        return (a * std + mean).astype(a.dtype, copy=False)

    def fit_transform(self, x: Any) -> np.ndarray:
        return self.fit(x).transform(x)

    __call__ = transform

    def __repr__(self) -> str:
        return f"Standardize(axis={self.axis}, eps={self.eps})"


def standardize(
    x: Any,
    mean: Any = None,
    std: Any = None,
    axis: Axis = 0,
    eps: float = 1e-8,
) -> np.ndarray:
    """``(x - mean) / max(std, eps)``; ``mean``/``std`` default to ``x``'s own per-feature statistics.

    Pass the training set's ``mean`` and ``std`` to standardise a test set the same way.
    """
    a = _float(x)
    m = a.mean(axis=axis, keepdims=True) if mean is None else np.asarray(mean, dtype=a.dtype)
    s = a.std(axis=axis, keepdims=True) if std is None else np.asarray(std, dtype=a.dtype)
    if np.any(s < 0):
        raise ValueError("standardize: expected std >= 0, received a negative value")
    return ((a - m) / np.maximum(s, eps)).astype(a.dtype, copy=False)


def scale(
    x: Any,
    low: float = 0.0,
    high: float = 1.0,
    data_min: Any = None,
    data_max: Any = None,
    axis: Axis = 0,
) -> np.ndarray:
    """Min-max scale each feature of ``x`` linearly onto ``[low, high]``.

    ``data_min``/``data_max`` default to ``x``'s per-feature extremes (pass the training set's to
    scale a test set the same way). Constant features map to ``low``.
    """
    if not low < high:
        raise ValueError(f"scale: expected low < high, received low={low}, high={high}")
    a = _float(x)
    lo = a.min(axis=axis, keepdims=True) if data_min is None else np.asarray(data_min, dtype=a.dtype)
    hi = a.max(axis=axis, keepdims=True) if data_max is None else np.asarray(data_max, dtype=a.dtype)
    span = hi - lo
    if np.any(span < 0):
        raise ValueError("scale: expected data_max >= data_min for every feature")
    unit = (a - lo) / np.where(span > 0, span, 1)
    return (low + unit * (high - low)).astype(a.dtype, copy=False)


def one_hot(labels: Any, num_classes: int | None = None, dtype: Any = np.float32) -> np.ndarray:
    """One-hot encode integer ``labels`` of shape ``S`` into shape ``(*S, num_classes)``.

    ``num_classes`` defaults to ``labels.max() + 1``. Labels must lie in ``[0, num_classes)``.
    """
    y = to_numpy(labels)
    if y.dtype.kind not in "iub":
        if y.size:
            raise ValueError(f"one_hot: expected integer labels, received dtype {y.dtype}")
        y = y.astype(np.int64)
    if num_classes is None:
        if y.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from empty labels; pass num_classes")
        num_classes = int(y.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"one_hot: expected num_classes to be an int >= 1, received {num_classes!r}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"one_hot: expected labels in [0, {num_classes}), received values in [{y.min()}, {y.max()}]")
    out = np.zeros((*y.shape, int(num_classes)), dtype=dtype)
    np.put_along_axis(out, y.astype(np.intp)[..., None], 1, axis=-1)
    return out


class Compose:
    """Apply ``transforms`` in order: ``Compose([f, g])(x) == g(f(x))``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)
        for k, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"Compose: expected callables, received {t!r} at position {k}")

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = ", ".join(repr(t) for t in self.transforms)
        return f"Compose([{inner}])"
