"""Per-neuron activation statistics: :func:`neuron_stats`, :func:`confusion_matrix` and shared helpers.

A *unit* is one neuron of a fully connected layer (the last axis of a ``(N, F)`` output) or one
channel of a convolution (axis 1 of ``(N, C, H, W)``; for a ``(N, C, L)`` output, axis 1 after a
``Conv1d`` and the last axis otherwise, as for a ``Linear`` applied to every step of a sequence).
Statistics of a unit pool every sample (and every position, for a channel).

* **active**: output ``> 0``. For ReLU, LeakyReLU, GELU, ELU, SiLU... this is the same as a
  positive pre-activation. A unit that is never active on the data is **dead**: no gradient
  flows through it (LeakyReLU leaks a little), so it usually stays dead.
* **saturated** (bounded activations only: Sigmoid ``[0, 1]``, Tanh ``[-1, 1]``, Hardsigmoid,
  Hardtanh, Softsign): output within ``saturation_threshold`` of a bound. A unit saturated on
  most samples (more than half: :data:`SATURATED_SHARE`) learns slowly, as its gradient is ~0.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._plural import counted

__all__ = [
    "BOUNDED",
    "RELU_LIKE",
    "SATURATED_SHARE",
    "NeuronStats",
    "UnitStats",
    "activation_bounds",
    "confusion_matrix",
    "iter_batches",
    "layer_kind",
    "neuron_stats",
    "resolve_layer",
    "unit_axis",
]

#: A unit counts as saturated when its output is near a bound on more than this share of samples.
SATURATED_SHARE = 0.5

#: Activations whose output is positive exactly when their input is (so "never positive" means dead).
RELU_LIKE = frozenset({"ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "GELU", "ELU", "SELU", "CELU", "SiLU", "Mish"})

#: Bounded activations and their output ranges.
BOUNDED: dict[str, tuple[float, float]] = {
    "Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0), "Hardsigmoid": (0.0, 1.0), "Hardtanh": (-1.0, 1.0),
    "Softsign": (-1.0, 1.0),
}


def _class_names(module: Any) -> list[str]:
    return [c.__name__ for c in type(module).__mro__]


def layer_kind(module: Any) -> str | None:
    """``'relu'`` (ReLU-like activation), ``'bounded'`` (Sigmoid, Tanh...), ``'param'`` (a layer
    with its own parameters: Linear, Conv, LSTM, norms...) or ``None`` (containers, Flatten, pooling...).

    Classes are recognised by name along their MRO, so subclasses of the built-in layers count too.
    """
    for name in _class_names(module):
        if name in RELU_LIKE:
            return "relu"
        if name in BOUNDED:
            return "bounded"
    params = getattr(module, "_parameters", None)
    if params and any(p is not None for p in params.values()):
        return "param"
    return None


def activation_bounds(module: Any) -> tuple[float, float] | None:
    """The output range of a bounded activation (Hardtanh's own ``min_val``/``max_val``), else ``None``."""
    for name in _class_names(module):
        if name in BOUNDED:
            lo, hi = BOUNDED[name]
            if name == "Hardtanh":
                lo = float(getattr(module, "min_val", lo))
                hi = float(getattr(module, "max_val", hi))
            return lo, hi
    return None


def _is_conv(module: Any) -> bool:
    return any(n.startswith(("Conv", "_Conv")) for n in _class_names(module))


def unit_axis(ndim: int, after_conv: bool) -> int:
    """The axis that indexes units in an output of ``ndim`` dimensions (see the module docstring)."""
    if ndim == 3 and not after_conv:
        return 2
    return 1


def _first_array(output: Any) -> np.ndarray | None:
    """The NumPy data of an output (the first tensor of a tuple such as an LSTM's ``(out, (h, c))``)."""
    while isinstance(output, (tuple, list)) and output:
        output = output[0]
    data = getattr(output, "data", output)
    return data if isinstance(data, np.ndarray) else None


class UnitStats:
    """Running per-unit statistics of one layer's outputs, merged over batches.

    ``update(a, axis)`` adds a batch; ``count`` is the number of values pooled per unit.
    Sums are kept in float64.
    """

    def __init__(self, bounds: tuple[float, float] | None = None, threshold: float = 0.01) -> None:
        self.bounds = bounds
        self.threshold = float(threshold)
        self.count = 0
        self.sum: np.ndarray | None = None
        self.sumsq: np.ndarray | None = None
        self.active: np.ndarray | None = None
        self.saturated: np.ndarray | None = None
        self.nonfinite = 0

    @property
    def units(self) -> int:
        return 0 if self.sum is None else int(self.sum.shape[0])

    def update(self, a: np.ndarray, axis: int) -> None:
        """Add the batch ``a`` whose axis ``axis`` indexes units."""
        if a.ndim < 2:
            a = a.reshape(-1, 1)
            axis = 1
        axes = tuple(i for i in range(a.ndim) if i != axis)
        n = a.size // a.shape[axis]
        if a.ndim == 2 and axis == 1:
            s = a.sum(0, dtype=np.float64)
            sq = np.einsum("ij,ij->j", a, a, dtype=np.float64)
        else:
            s = a.sum(axes, dtype=np.float64)
            sq = np.square(a, dtype=np.float64).sum(axes)
        active = np.count_nonzero(a > 0, axis=axes)
        if not (np.isfinite(s).all() and np.isfinite(sq).all()):
            self.nonfinite += int(a.size - np.count_nonzero(np.isfinite(a)))
        sat = None
        if self.bounds is not None:
            lo, hi = self.bounds
            t = self.threshold
            sat = np.count_nonzero((a <= lo + t) | (a >= hi - t), axis=axes)
        if self.sum is None or self.sum.shape != s.shape:
            if self.sum is not None:
                raise ValueError(f"UnitStats: the number of units changed from {self.units} to {s.shape[0]}")
            self.sum, self.sumsq = s, sq
            self.active = active.astype(np.int64)
            self.saturated = None if sat is None else sat.astype(np.int64)
        else:
            self.sum += s
            self.sumsq += sq
            self.active += active
            if sat is not None and self.saturated is not None:
                self.saturated += sat
        self.count += n

    def merge(self, other: UnitStats) -> None:
        """Add another accumulator's batches to this one."""
        if other.sum is None:
            return
        if self.sum is None:
            self.sum, self.sumsq = other.sum.copy(), other.sumsq.copy()  # type: ignore[union-attr]
            self.active = other.active.copy()  # type: ignore[union-attr]
            self.saturated = None if other.saturated is None else other.saturated.copy()
        else:
            self.sum += other.sum
            self.sumsq += other.sumsq  # type: ignore[operator]
            self.active += other.active  # type: ignore[operator]
            if self.saturated is not None and other.saturated is not None:
                self.saturated += other.saturated
        self.count += other.count
        self.nonfinite += other.nonfinite

    # ---- per-unit results
    def mean(self) -> np.ndarray:
        return self.sum / max(self.count, 1)  # type: ignore[operator]

    def std(self) -> np.ndarray:
        m = self.mean()
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.maximum(self.sumsq / max(self.count, 1) - m * m, 0.0))  # type: ignore[operator]

    def fraction_active(self) -> np.ndarray:
        return self.active / max(self.count, 1)  # type: ignore[operator]

    def fraction_saturated(self) -> np.ndarray | None:
        return None if self.saturated is None else self.saturated / max(self.count, 1)

    # ---- layer-level results
    def layer_mean(self) -> float:
        return float(self.sum.sum() / max(self.count * self.units, 1)) if self.sum is not None else float("nan")

    def layer_std(self) -> float:
        if self.sum is None:
            return float("nan")
        n = max(self.count * self.units, 1)
        m = self.sum.sum() / n
        with np.errstate(invalid="ignore"):
            return float(np.sqrt(max(self.sumsq.sum() / n - m * m, 0.0)))  # type: ignore[union-attr]

    def dead_units(self) -> np.ndarray:
        """Indices of units never active."""
        return np.flatnonzero(self.active == 0) if self.active is not None else np.zeros(0, np.int64)

    def saturated_units(self) -> np.ndarray:
        """Indices of units saturated on more than :data:`SATURATED_SHARE` of the values."""
        frac = self.fraction_saturated()
        return np.zeros(0, np.int64) if frac is None else np.flatnonzero(frac > SATURATED_SHARE)


@dataclass
class NeuronStats:
    """What :func:`neuron_stats` returns: per-unit arrays (length ``units``) and a small ``summary`` dict.

    Attributes:
        layer: the layer's dotted name in the model; ``type``: its class name.
        samples: values pooled per unit (samples, times positions for a convolution channel).
        mean, std: the activation's mean and standard deviation per unit.
        fraction_active: share of values ``> 0``; 0 means the unit is dead on this data.
        fraction_saturated: share of values within the threshold of a bound (``None`` for an unbounded layer).
    """

    layer: str
    type: str
    samples: int
    mean: np.ndarray
    std: np.ndarray
    fraction_active: np.ndarray
    fraction_saturated: np.ndarray | None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def units(self) -> int:
        return int(self.mean.shape[0])

    @property
    def dead(self) -> np.ndarray:
        """Boolean mask of the units that were never active."""
        return self.fraction_active == 0

    @property
    def saturated(self) -> np.ndarray:
        """Boolean mask of the units saturated on most values (all False for an unbounded layer)."""
        if self.fraction_saturated is None:
            return np.zeros(self.units, dtype=bool)
        return self.fraction_saturated > SATURATED_SHARE


def resolve_layer(model: Any, layer: Any) -> tuple[str, Any]:
    """``(name, module)`` for ``layer`` given as a dotted name (``'layers.1'``) or a module of ``model``."""
    if isinstance(layer, str):
        try:
            return layer, model.get_submodule(layer)
        except AttributeError as err:
            names = [n for n, _ in model.named_modules() if n]
            shown = ", ".join(repr(n) for n in names[:30]) + (" ..." if len(names) > 30 else "")
            raise KeyError(f"no layer named {layer!r} in {type(model).__name__} ({err}); layers: {shown}") from None
    for name, m in model.named_modules():
        if m is layer:
            return name, m
    raise KeyError(f"{type(layer).__name__} is not a sub-module of this {type(model).__name__}")


def _as_input(x: Any) -> Any:
    from ..core.tensor import Tensor

    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    return Tensor._wrap(arr)


def iter_batches(data: Any, batch_size: int = 256, max_samples: int | None = None) -> Iterator[Any]:
    """Model inputs from ``data``: an array/Tensor of inputs (batched here), a tuple ``(x, y)`` of
    arrays (``x`` is used), or an iterable of batches (a ``DataLoader``: the first element of each
    batch is the input). Stops after ``max_samples`` samples when given.
    """
    from ..core.tensor import Tensor

    if isinstance(data, tuple) and data and isinstance(data[0], (np.ndarray, Tensor)):
        data = data[0]
    if isinstance(data, (np.ndarray, Tensor, list)):
        x = data.data if isinstance(data, Tensor) else np.asarray(data)
        n = len(x) if max_samples is None else min(len(x), max_samples)
        for start in range(0, n, batch_size):
            yield _as_input(x[start:min(start + batch_size, n)])
        return
    seen = 0
    for batch in data:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        x = _as_input(x)
        if max_samples is not None and seen + len(x.data) > max_samples:
            x = _as_input(x.data[: max_samples - seen])
        yield x
        seen += len(x.data)
        if max_samples is not None and seen >= max_samples:
            return


def _modes(model: Any) -> list[tuple[Any, bool]]:
    return [(m, m.training) for m in model.modules()]


def _restore(modes: list[tuple[Any, bool]]) -> None:
    for m, training in modes:
        m.__dict__["training"] = training


def neuron_stats(model: Any, data: Any, layer: Any, *, batch_size: int = 256, max_samples: int | None = None,
                 saturation_threshold: float = 0.01) -> NeuronStats:
    """Per-neuron activation statistics of one layer of ``model`` on ``data``.

    Args:
        model: a ``Module``.
        data: inputs (array or Tensor), ``(x, y)`` arrays, or an iterable of batches (see :func:`iter_batches`).
        layer: the layer's dotted name (``'layers.1'``) or the module itself. Point it at the
            activation (``ReLU``, ``Sigmoid``) to see dead or saturated units, or at a ``Linear``
            to see pre-activations.
        batch_size: batch size when ``data`` is an array.
        max_samples: use at most this many samples.
        saturation_threshold: distance to a bound that counts as saturated.

    Returns:
        :class:`NeuronStats` with arrays ``mean``, ``std``, ``fraction_active``, ``fraction_saturated``
        and ``summary``: ``{"layer", "type", "units", "samples", "dead_units", "dead_fraction",
        "saturated_units", "saturated_fraction", "mean", "std"}`` (unit indices as lists).

    The model runs in eval mode under ``no_grad``; its train/eval modes are restored afterwards.
    """
    from ..autograd.grad_mode import no_grad

    name, module = resolve_layer(model, layer)
    acc = UnitStats(activation_bounds(module), saturation_threshold)
    last_conv = {"seen": _is_conv(module)}
    watched = [m for _, m in model.named_modules() if layer_kind(m) == "param" and m is not module]

    def on_param(mod: Any, args: Any, output: Any) -> None:
        last_conv["seen"] = _is_conv(mod)

    def on_layer(mod: Any, args: Any, output: Any) -> None:
        a = _first_array(output)
        if a is not None:
            acc.update(a, unit_axis(a.ndim, last_conv["seen"] or _is_conv(mod)))

    handles = [m.register_forward_hook(on_param) for m in watched]
    handles.append(module.register_forward_hook(on_layer))
    modes = _modes(model)
    try:
        model.eval()
        with no_grad():
            for x in iter_batches(data, batch_size, max_samples):
                model(x)
    finally:
        for h in handles:
            h.remove()
        _restore(modes)
    if acc.sum is None:
        raise ValueError(f"neuron_stats: layer {name!r} ({type(module).__name__}) was not called on this data")
    dead = acc.dead_units()
    sat = acc.saturated_units()
    frac_sat = acc.fraction_saturated()
    summary = {
        "layer": name, "type": type(module).__name__, "units": acc.units, "samples": acc.count,
        "dead_units": dead.tolist(), "dead_fraction": len(dead) / max(acc.units, 1),
        "saturated_units": sat.tolist() if frac_sat is not None else [],
        "saturated_fraction": len(sat) / max(acc.units, 1) if frac_sat is not None else None,
        "mean": acc.layer_mean(), "std": acc.layer_std(),
    }
    return NeuronStats(name, type(module).__name__, acc.count, acc.mean(), acc.std(), acc.fraction_active(),
                       frac_sat, summary)


def _labels(y: Any, what: str) -> np.ndarray:
    arr = np.asarray(getattr(y, "data", y))
    if arr.ndim == 2:
        arr = arr.argmax(axis=1) if arr.shape[1] > 1 else (arr[:, 0] > (0.5 if arr.min() >= 0 else 0.0))
    if arr.ndim != 1:
        raise ValueError(f"confusion_matrix: {what} must be labels (N,) or scores (N, C), got shape {arr.shape}")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"confusion_matrix: {what} must hold integer class labels")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"confusion_matrix: {what} must hold integer class labels, got dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"confusion_matrix: {what} has a negative label ({arr.min()})")
    return arr.astype(np.int64)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j`` (scikit-learn's layout).

    ``y_true`` holds labels ``(N,)`` (or one-hot rows); ``y_pred`` labels ``(N,)`` or scores/logits
    ``(N, C)`` (the arg-max is taken). ``num_classes`` defaults to the largest label + 1 (or C).
    """
    t = _labels(y_true, "y_true")
    p = _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"confusion_matrix: y_true has {counted(t.shape[0], 'label')} but y_pred has {p.shape[0]}")
    n = int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    scores = np.asarray(getattr(y_pred, "data", y_pred))
    if scores.ndim == 2 and scores.shape[1] > 1:
        n = max(n, scores.shape[1])
    if num_classes is not None:
        if n > num_classes:
            raise ValueError(f"confusion_matrix: found label {n - 1}, but num_classes={num_classes}")
        n = int(num_classes)
    return np.bincount(t * n + p, minlength=n * n).reshape(n, n).astype(np.int64)

