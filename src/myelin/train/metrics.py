"""What ``fit`` measures: losses and metrics by name, and streaming metrics over an epoch.

Metric names are normalised (case, ``_``/``-``/spaces ignored), so ``"acc"``, ``"Accuracy"`` and
``"sparse_categorical_accuracy"`` all give the History key ``accuracy``; ``"mae"`` /
``"mean_absolute_error"`` give ``mae`` and ``"mse"`` / ``"mean_squared_error"`` give ``mse``.
A callable ``metric(output, target) -> float`` is recorded under its ``__name__``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = [
    "Accuracy",
    "FunctionMetric",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "is_regression_loss",
    "loss_name",
    "resolve_loss",
    "resolve_metrics",
]


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_LOSSES = {
    "cross_entropy": ("crossentropy", "ce", "categoricalcrossentropy", "sparsecategoricalcrossentropy",
                      "crossentropyloss"),
    "mse_loss": ("mse", "meansquarederror", "mseloss", "l2", "l2loss"),
    "l1_loss": ("mae", "l1", "meanabsoluteerror", "l1loss"),
    "binary_cross_entropy_with_logits": ("bcewithlogits", "binarycrossentropywithlogits", "bcewithlogitsloss"),
    "binary_cross_entropy": ("bce", "binarycrossentropy", "bceloss"),
    "nll_loss": ("nll", "nllloss", "negativeloglikelihood"),
    "huber_loss": ("huber", "huberloss"),
    "smooth_l1_loss": ("smoothl1", "smoothl1loss"),
}
_LOSS_BY_ALIAS = {alias: fn for fn, aliases in _LOSSES.items() for alias in (*aliases, _norm(fn))}
_REGRESSION = {"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"}


def loss_name(loss: Any) -> str:
    """The canonical F-function name of ``loss`` (a name, F function or loss module), or its own name."""
    if isinstance(loss, str):
        raw = loss
    else:
        raw = getattr(loss, "__name__", None) or type(loss).__name__
    return _LOSS_BY_ALIAS.get(_norm(raw), raw)


def is_regression_loss(loss: Any) -> bool:
    """True for MSE, L1, Huber and smooth-L1 losses (accuracy makes no sense for them)."""
    return loss_name(loss) in _REGRESSION


def resolve_loss(loss: Any) -> Callable[[Any, Any], Any]:
    """A callable ``loss(output, target) -> scalar Tensor`` from a name, an F function or a loss module."""
    if callable(loss):
        return loss
    if not isinstance(loss, str):
        raise TypeError(f"fit: expected loss as a name or a callable, received {type(loss).__name__}")
    key = _norm(loss)
    if key not in _LOSS_BY_ALIAS:
        names = ", ".join(sorted({aliases[0] for aliases in _LOSSES.values()}))
        raise ValueError(f"fit: unknown loss {loss!r}, expected a callable or one of: {names}, cross_entropy")
    from ..nn import functional as F

    fn = getattr(F, _LOSS_BY_ALIAS[key], None)
    if fn is None:
        raise ValueError(f"fit: loss {loss!r} maps to myelin.nn.functional.{_LOSS_BY_ALIAS[key]}, which does not exist")
    return fn


class Metric:
    """A value averaged over an epoch: ``update(output, target)`` per batch, then ``result()``."""

    name = "metric"

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def reset(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update(self, output: np.ndarray, target: np.ndarray) -> None:
        raise NotImplementedError

    def result(self) -> float:
        return self.total / self.count if self.count else float("nan")

    def state(self) -> list[float]:
        """``[total, count]`` (checkpoints keep it to resume mid-epoch)."""
        return [self.total, self.count]

    def load_state(self, state: list[float]) -> None:
        self.total, self.count = float(state[0]), float(state[1])


def _aligned(output: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if target.shape != output.shape and target.size == output.size:
        target = target.reshape(output.shape)
    return output, target


class Accuracy(Metric):
    """Fraction of correct predictions.

    Outputs ``(N, C, ...)`` with ``C > 1``: argmax over dim 1 against class labels ``(N, ...)``
    (targets < 0, like ``ignore_index=-100``, are skipped) or one-hot targets of the output's shape.
    Outputs ``(N,)`` / ``(N, 1)``: binary, ``output > threshold`` against ``target > 0.5``
    (``threshold`` is 0 for logits, 0.5 for probabilities).
    """

    name = "accuracy"

    def __init__(self, threshold: float = 0.5) -> None:
        super().__init__()
        self.threshold = threshold

    def update(self, output: np.ndarray, target: np.ndarray) -> None:
        if output.ndim >= 2 and output.shape[1] > 1:
            pred = output.argmax(axis=1)
            if target.shape == output.shape:
                target = target.argmax(axis=1)
            target = target.reshape(pred.shape) if target.size == pred.size else target
            if target.shape != pred.shape:
                raise ValueError(
                    f"accuracy: expected targets of shape {pred.shape} or {output.shape} for outputs "
                    f"{output.shape}, received {target.shape}"
                )
            valid = target >= 0 if target.dtype.kind in "iu" else np.ones(target.shape, dtype=bool)
            self.total += float(np.count_nonzero((pred == target) & valid))
            self.count += float(np.count_nonzero(valid))
            return
        output, target = _aligned(output, target)
        self.total += float(np.count_nonzero((output > self.threshold) == (target > 0.5)))
        self.count += float(output.size)


class MeanAbsoluteError(Metric):
    """Mean of ``|output - target|`` over all elements."""

    name = "mae"

    def update(self, output: np.ndarray, target: np.ndarray) -> None:
        output, target = _aligned(output, target)
        diff = output - target
        self.total += float(np.abs(diff).sum(dtype=np.float64))
        self.count += float(diff.size)


class MeanSquaredError(Metric):
    """Mean of ``(output - target)**2`` over all elements."""

    name = "mse"

    def update(self, output: np.ndarray, target: np.ndarray) -> None:
        output, target = _aligned(output, target)
        diff = output - target
        self.total += float(np.square(diff).sum(dtype=np.float64))
        self.count += float(diff.size)


class FunctionMetric(Metric):
    """``fn(output, target) -> float`` per batch, averaged weighted by batch size."""

    def __init__(self, fn: Callable[[np.ndarray, np.ndarray], Any], name: str | None = None) -> None:
        super().__init__()
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)

    def update(self, output: np.ndarray, target: np.ndarray) -> None:
        n = len(output) if output.ndim else 1
        self.total += float(self.fn(output, target)) * n
        self.count += n


_METRICS: dict[str, Callable[[], Metric]] = {}
for _cls, _aliases in (
    (Accuracy, ("accuracy", "acc", "categoricalaccuracy", "sparsecategoricalaccuracy", "binaryaccuracy")),
    (MeanAbsoluteError, ("mae", "meanabsoluteerror", "l1")),
    (MeanSquaredError, ("mse", "meansquarederror")),
):
    for _alias in _aliases:
        _METRICS[_alias] = _cls


def resolve_metrics(metrics: Iterable[Any] | str | None, logits: bool = True) -> list[Metric]:
    """Metric objects for ``metrics`` (names, callables or :class:`Metric` instances), duplicates removed.

    ``logits`` sets the binary accuracy threshold (0 for logits, 0.5 for probabilities).
    """
    if metrics is None:
        return []
    if isinstance(metrics, str) or callable(metrics) or isinstance(metrics, Metric):
        metrics = [metrics]
    out: list[Metric] = []
    for m in metrics:
        if isinstance(m, Metric):
            metric = m
        elif isinstance(m, str):
            factory = _METRICS.get(_norm(m))
            if factory is None:
                raise ValueError(f"fit: unknown metric {m!r}, expected one of accuracy, mae, mse or a callable")
            metric = factory()
            if isinstance(metric, Accuracy):
                metric.threshold = 0.0 if logits else 0.5
        elif callable(m):
            metric = FunctionMetric(m)
        else:
            raise TypeError(f"fit: expected metrics as names or callables, received {m!r:.60}")
        if metric.name in ("loss", "lr", "epoch_time") or metric.name.startswith("val_"):
            raise ValueError(f"fit: metric name {metric.name!r} is reserved")
        if all(metric.name != o.name for o in out):
            out.append(metric)
    return out
