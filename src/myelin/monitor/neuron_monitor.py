"""``NeuronMonitor``: a ``fit`` callback that watches every layer's neurons and gradients while training.

On a few sampled training batches per monitored epoch (the last ``sample_batches`` of the epoch,
so the statistics describe the network as the epoch ends; when the loader has no length, batches
0, 1, 2, 4, 8, ... of which the last ``sample_batches`` are kept), forward hooks on the activation
modules (ReLU-like, Sigmoid, Tanh...) and the layers with parameters (Linear, Conv, LSTM...)
accumulate activation statistics, and gradient hooks on the parameters capture each layer's
gradient norm. Batches 0, 1, 2, 4, 8, ... of every epoch are also *probed*: gradient hooks only,
to catch exploding gradients early, before a NaN loss stops ``fit``. Other batches run untouched.
At the end of the epoch the monitor computes, per layer:

* ``dead_fraction`` (ReLU-like): share of units never active (output > 0) on the sampled data;
  for a convolution, per channel;
* ``saturated_fraction`` (Sigmoid/Tanh...): share of units within ``saturation_threshold`` of a
  bound on most (> 50%) sampled values;
* ``act_mean``, ``act_std``: the activation's mean and standard deviation;
* ``grad_norm`` (layers with parameters): L2 norm of the gradient of all the layer's parameters,
  averaged over the sampled batches (taken before any clipping);
* ``weight_norm``: L2 norm of the layer's parameters at the end of the epoch;
* ``update_ratio``: ``||W_now - W_before|| / ||W_before||``, the change since the previous
  monitored epoch (or the start of training) relative to the weights' size.

and warns, in plain words with a suggestion, about dead or saturated layers and vanishing (the
earliest layer's gradient norm below ``vanishing_ratio`` times the last layer's) or exploding
gradients (a norm above ``exploding_norm``, NaN or infinite; checked right after each sampled or
probed batch). A condition is announced once; it is announced again only after it has cleared.

**Where the numbers go.** Into the ``History`` as flat keys ``"<stat>/<layer>"``, one number per
epoch (``None`` for epochs that were not monitored), e.g. ``history.history["dead_fraction/layers.1"]``
or ``history.history["grad_norm/layers.0"]``: flat lists of numbers keep the History storable in
checkpoints and CSV files. The full per-epoch records (with the indices of dead and saturated
units and the warnings) are in ``monitor.records``, and :meth:`NeuronMonitor.save` writes them to
``monitor.json``::

    {"format": "myelin.monitor", "version": 1,
     "settings": {"sample_batches": 2, "every": 1, ...},
     "layers": [{"name": "layers.0", "type": "Linear", "kind": "param"}, ...],   # forward order
     "epochs": [{"epoch": 0, "batches": 2, "samples": 256, "seconds": 0.004,
                 "layers": {"layers.0": {"type": "Linear", "kind": "param", "units": 128,
                                         "act_mean": 0.01, "act_std": 0.6, "grad_norm": 0.2,
                                         "weight_norm": 6.5, "update_ratio": 0.03},
                            "layers.1": {"type": "ReLU", "kind": "relu", "units": 128, "act_mean": 0.3,
                                         "act_std": 0.4, "dead_fraction": 0.0, "dead_units": []}, ...},
                 "warnings": ["..."]}, ...],
     "warnings": ["..."]}                # every distinct warning, in order

Non-finite numbers are written as ``null`` in ``monitor.json``.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings as _warnings
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..train.callbacks import Callback
from .stats import UnitStats, _first_array, _is_conv, activation_bounds, layer_kind, unit_axis

__all__ = ["MonitorWarning", "NeuronMonitor"]


class MonitorWarning(UserWarning):
    """The category of the warnings :class:`NeuronMonitor` issues through :mod:`warnings`."""


_DEAD_HINT = "try a lower learning rate, LeakyReLU or He initialisation"
_SAT_HINT = "try normalising the inputs, Xavier/Glorot initialisation, a lower learning rate or ReLU"
_VANISH_HINT = ("try ReLU instead of sigmoid/tanh, He or Xavier initialisation, batch normalisation "
                "or residual connections")
_EXPLODE_HINT = ("try a lower learning rate, gradient clipping (fit(..., clip_grad_norm=1.0)) "
                 "or normalising the inputs")


def _check_number(name: str, value: Any, low: float, high: float = math.inf, integer: bool = False) -> Any:
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        kind = "an int" if integer else "a number"
        raise TypeError(f"NeuronMonitor: expected {name} to be {kind}, received {value!r}")
    if not low <= value <= high:
        raise ValueError(f"NeuronMonitor: expected {name} in [{low}, {high}], received {value!r}")
    return value


def _norm_sq(arrays: list[np.ndarray]) -> float:
    total = 0.0
    for a in arrays:
        flat = a.reshape(-1)
        total += float(np.dot(flat, flat))
    return total


class _Sample:
    """What the hooks collect on one sampled batch (``full``: activations too, else gradients only)."""

    def __init__(self, full: bool) -> None:
        self.full = full
        self.acts: dict[str, UnitStats] = {}
        self.grads: dict[str, list[np.ndarray]] = {}
        self.grad_norms: dict[str, float] = {}
        self.samples = 0


class NeuronMonitor(Callback):
    """Watch neurons and gradients during :func:`myelin.fit` (see the module docstring for details).

    Args:
        sample_batches: training batches sampled per monitored epoch.
        every: monitor every ``every``-th epoch (epochs ``0, every, 2*every, ...`` as fit counts them).
        dead_threshold: warn when more than this share of a ReLU layer's units is dead.
        saturation_threshold: an output within this distance of a bound counts as saturated.
        saturated_fraction: warn when more than this share of a Sigmoid/Tanh layer's units is saturated.
        vanishing_ratio: warn when the earliest layer's gradient norm is below this times the last layer's.
        exploding_norm: warn when a layer's gradient norm exceeds this (or is NaN/infinite).
        warn: issue warnings at all (the records keep them either way).
        log: where warnings go: ``None`` uses :func:`warnings.warn` (category :class:`MonitorWarning`);
            any callable such as ``print`` receives each message.

    Attributes:
        records: one dict per monitored epoch (the ``"epochs"`` of ``monitor.json``).
        warnings: every distinct warning issued, in order.
        seconds: time spent in the monitor (hooks and statistics), for measuring its overhead.
    """

    def __init__(self, sample_batches: int = 2, every: int = 1, dead_threshold: float = 0.2,
                 saturation_threshold: float = 0.01, saturated_fraction: float = 0.2,
                 vanishing_ratio: float = 1e-3, exploding_norm: float = 1e3, warn: bool = True,
                 log: Callable[[str], Any] | None = None) -> None:
        super().__init__()
        self.sample_batches = _check_number("sample_batches", sample_batches, 1, integer=True)
        self.every = _check_number("every", every, 1, integer=True)
        self.dead_threshold = float(_check_number("dead_threshold", dead_threshold, 0.0, 1.0))
        self.saturation_threshold = float(_check_number("saturation_threshold", saturation_threshold, 0.0, 1.0))
        self.saturated_fraction = float(_check_number("saturated_fraction", saturated_fraction, 0.0, 1.0))
        self.vanishing_ratio = float(_check_number("vanishing_ratio", vanishing_ratio, 0.0, 1.0))
        self.exploding_norm = float(_check_number("exploding_norm", exploding_norm, 0.0))
        if log is not None and not callable(log):
            raise TypeError(f"NeuronMonitor: expected log to be None or a callable such as print, received {log!r}")
        self.warn = bool(warn)
        self.log = log
        self.records: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.seconds = 0.0
        self._reset_run()

    # ------------------------------------------------------------------ setup
    def _reset_run(self) -> None:
        self._handles: list[Any] = []
        self._grad_removers: list[Callable[[], Any]] = []
        self._layers: list[tuple[str, Any, str]] = []
        self._order: list[str] = []
        self._snapshot: dict[str, list[np.ndarray]] = {}
        self._steps: int | None = None
        self._current: _Sample | None = None
        self._samples: deque[_Sample] = deque(maxlen=self.sample_batches)
        self._batch = 0
        self._epochs_seen = 0
        self._history_offset = 0
        self._active: set[tuple[str, str]] = set()
        self._epoch_warnings: list[str] = []
        self._monitored = False
        self._last_conv = False
        self._channels: dict[str, bool] = {}
        self._epoch_start_seconds = self.seconds

    def _params(self, module: Any) -> list[Any]:
        return [p for p in module._parameters.values() if p is not None]

    def on_train_begin(self, logs: dict | None = None) -> None:
        t0 = time.perf_counter()
        self._remove_hooks()
        self._reset_run()
        model = self.model
        self._layers = [(name or type(m).__name__, m, kind) for name, m in model.named_modules()
                        if (kind := layer_kind(m)) is not None]
        loaded, self._loaded_snapshot = getattr(self, "_loaded_snapshot", None), None
        self._snapshot = loaded if loaded is not None else self._weights()  # a resumed run: the saved weights
        params = getattr(self, "params", None)
        steps = params.get("steps") if isinstance(params, dict) else None
        self._steps = steps if isinstance(steps, int) and steps > 0 else None
        history = getattr(self, "history", None)
        epochs = getattr(history, "epoch", None)
        record = getattr(history, "history", None)
        if isinstance(epochs, list):
            self._history_offset = len(epochs)
        elif isinstance(record, dict):
            self._history_offset = max((len(v) for v in record.values() if isinstance(v, list)), default=0)
        self.seconds += time.perf_counter() - t0

    def _weights(self) -> dict[str, list[np.ndarray]]:
        return {name: [p.data.copy() for p in self._params(m)] for name, m, kind in self._layers if kind == "param"}

    # ------------------------------------------------------------------ sampling
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._monitored = epoch % self.every == 0
        self._batch = 0
        self._samples = deque(maxlen=self.sample_batches)
        self._epoch_warnings = []
        self._epoch_start_seconds = self.seconds

    def _plan(self, batch: int) -> str | None:
        """``'full'`` (hooks and gradients), ``'probe'`` (gradients only: the exploding check) or ``None``."""
        early = batch < 3 or (batch & (batch - 1)) == 0  # 0, 1, 2, 4, 8, 16, ...
        if self._steps is None:
            return "full" if self._monitored and early else None
        if self._monitored and batch >= self._steps - self.sample_batches:
            return "full"
        return "probe" if early else None

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if isinstance(batch, int):
            self._batch = batch
        plan = self._plan(self._batch)
        if plan is None:
            return
        t0 = time.perf_counter()
        self._remove_hooks()  # left over if the previous batch raised
        self._current = sample = _Sample(full=plan == "full")
        for name, module, kind in self._layers:
            if sample.full:
                hook = self._forward_hook(name, module, kind, sample)
                self._handles.append(module.register_forward_hook(hook))
            if kind == "param":
                for p in self._params(module):
                    if p.requires_grad:
                        self._grad_removers.append(p.register_hook(self._grad_hook(name, sample)))
        self.seconds += time.perf_counter() - t0

    def _forward_hook(self, name: str, module: Any, kind: str, sample: _Sample) -> Callable[..., None]:
        bounds = activation_bounds(module) if kind == "bounded" else None
        is_conv = kind == "param" and _is_conv(module)
        threshold = self.saturation_threshold

        def hook(mod: Any, args: Any, output: Any) -> None:
            if self._current is not sample:  # stale: the batch that installed it raised
                return
            t0 = time.perf_counter()
            if kind == "param":
                self._last_conv = is_conv
            a = _first_array(output)
            if a is not None and a.size:
                axis = unit_axis(a.ndim, self._last_conv)
                key, k = name, 0
                while True:  # a module called on outputs of different widths gets one entry per width
                    acc = sample.acts.get(key)
                    if acc is None:
                        acc = sample.acts[key] = UnitStats(bounds, threshold)
                        self._channels[key] = self._last_conv and a.ndim >= 3
                        if key not in self._order:
                            self._order.append(key)
                    if acc.units in (0, a.shape[axis]):
                        break
                    k += 1
                    key = f"{name}#{k}"
                acc.update(a, axis)
                if not sample.samples:
                    sample.samples = int(a.shape[0]) if a.ndim else 1
            self.seconds += time.perf_counter() - t0

        return hook

    def _grad_hook(self, name: str, sample: _Sample) -> Callable[[Any], None]:
        def hook(grad: Any) -> None:  # a Tensor, as in PyTorch's hooks; the array is kept
            if self._current is sample:
                sample.grads.setdefault(name, []).append(grad.data)

        return hook

    def _remove_hooks(self) -> None:
        for h in self._handles:
            h.remove()
        for remove in self._grad_removers:
            remove()
        self._handles, self._grad_removers = [], []

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batch = (batch if isinstance(batch, int) else self._batch) + 1
        sample = self._current
        if sample is None:
            return
        t0 = time.perf_counter()
        self._current = None
        self._remove_hooks()
        for name, grads in sample.grads.items():
            sample.grad_norms[name] = math.sqrt(_norm_sq(grads))
        sample.grads = {}
        if sample.full:
            self._samples.append(sample)
        self._check_exploding(sample.grad_norms)
        self.seconds += time.perf_counter() - t0

    # ------------------------------------------------------------------ epoch statistics
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        t0 = time.perf_counter()
        if self._steps is None and self._batch:
            self._steps = self._batch
        record = self._epoch_record(epoch) if self._monitored else None
        self._to_history(record)
        self._epochs_seen += 1
        self.seconds += time.perf_counter() - t0
        if record is not None:
            record["seconds"] = round(self.seconds - self._epoch_start_seconds, 6)
            self.records.append(record)

    def _epoch_record(self, epoch: int) -> dict[str, Any]:
        samples = list(self._samples)
        kinds = {name: (module, kind) for name, module, kind in self._layers}
        weights = self._weights()
        layers: dict[str, dict[str, Any]] = {}
        for name in self._order:
            module, kind = kinds[name.split("#")[0]]
            acc = UnitStats(activation_bounds(module) if kind == "bounded" else None, self.saturation_threshold)
            for s in samples:
                if name in s.acts:
                    acc.merge(s.acts[name])
            entry: dict[str, Any] = {"type": type(module).__name__, "kind": kind, "units": acc.units}
            if acc.sum is not None:
                entry["act_mean"] = acc.layer_mean()
                entry["act_std"] = acc.layer_std()
                if acc.nonfinite:
                    entry["nonfinite"] = acc.nonfinite
                if kind == "relu":
                    dead = acc.dead_units()
                    entry["dead_fraction"] = len(dead) / max(acc.units, 1)
                    entry["dead_units"] = dead.tolist()
                elif kind == "bounded":
                    sat = acc.saturated_units()
                    entry["saturated_fraction"] = len(sat) / max(acc.units, 1)
                    entry["saturated_units"] = sat.tolist()
            if kind == "param":
                norms = [s.grad_norms[name] for s in samples if name in s.grad_norms]
                entry["grad_norm"] = float(np.mean(norms)) if norms else None
                now, before = weights.get(name, []), self._snapshot.get(name, [])
                entry["weight_norm"] = math.sqrt(_norm_sq(now))
                if before and len(before) == len(now) and all(b.shape == w.shape for b, w in zip(before, now)):
                    base = math.sqrt(_norm_sq(before))
                    change = math.sqrt(_norm_sq([w - b for w, b in zip(now, before)]))
                    entry["update_ratio"] = change / base if base > 0 else float("nan")
            layers[name] = entry
        self._snapshot = weights
        self._check_layers(layers)
        self._check_vanishing(layers)
        return {"epoch": int(epoch), "batches": len(samples), "samples": sum(s.samples for s in samples),
                "layers": layers, "warnings": list(self._epoch_warnings)}

    _HISTORY_STATS = ("dead_fraction", "saturated_fraction", "act_mean", "act_std", "grad_norm",
                      "weight_norm", "update_ratio")

    def _to_history(self, record: dict[str, Any] | None) -> None:
        """Put this epoch's numbers at its row of ``history.history`` (``None`` where there is none)."""
        history = getattr(getattr(self, "history", None), "history", None)
        if not isinstance(history, dict):
            return
        row = self._history_offset + self._epochs_seen
        values: dict[str, float | None] = {}
        if record is not None:
            for name, entry in record["layers"].items():
                for stat in self._HISTORY_STATS:
                    if stat in entry:
                        v = entry[stat]
                        values[f"{stat}/{name}"] = None if v is None else float(v)
        for key, value in values.items():
            column = history.setdefault(key, [])
            column.extend([None] * (row - len(column)))
            if len(column) > row:
                column[row] = value
            else:
                column.append(value)

    # ------------------------------------------------------------------ warnings
    def _emit(self, key: tuple[str, str], message: str, active: set[tuple[str, str]]) -> None:
        active.add(key)
        self._epoch_warnings.append(message)
        if key in self._active:
            return  # already warned and not yet recovered
        self._active.add(key)
        if message not in self.warnings:
            self.warnings.append(message)
        if self.warn:
            if self.log is None:
                _warnings.warn(message, MonitorWarning, stacklevel=2)
            else:
                self.log(message)

    def _describe(self, name: str) -> str:
        for n, m, _ in self._layers:
            if n == name.split("#")[0]:
                return f"layer '{name}' ({type(m).__name__})"
        return f"layer '{name}'"

    def _check_exploding(self, norms: dict[str, float]) -> None:
        """One warning per episode, naming the layer with the largest (or a non-finite) gradient norm."""
        active: set[tuple[str, str]] = set()
        names = [n for n in self._order or [n for n, _, k in self._layers if k == "param"] if n in norms]
        bad = [n for n in names if not math.isfinite(norms[n])]
        worst = bad[0] if bad else max(names, key=lambda n: norms[n], default=None)
        if worst is not None:
            norm = norms[worst]
            if not math.isfinite(norm):
                what = "NaN" if math.isnan(norm) else "infinite"
                self._emit(("exploding", ""), f"exploding gradients: {self._describe(worst)} has a {what} "
                           f"gradient norm; {_EXPLODE_HINT}", active)
            elif norm > self.exploding_norm:
                self._emit(("exploding", ""), f"exploding gradients: {self._describe(worst)} has gradient norm "
                           f"{norm:.3g}, above {self.exploding_norm:g}; {_EXPLODE_HINT}", active)
        self._active -= {k for k in self._active if k[0] == "exploding"} - active

    def _check_layers(self, layers: dict[str, dict[str, Any]]) -> None:
        active: set[tuple[str, str]] = set()
        for name, entry in layers.items():
            units = entry.get("units", 0)
            what = "channels" if self._channels.get(name) else "neurons"
            dead = entry.get("dead_fraction")
            if dead is not None and dead > self.dead_threshold:
                self._emit(("dead", name), f"{self._describe(name)}: {dead:.0%} of {units} {what} are dead "
                           f"(never active on the sampled data); {_DEAD_HINT}", active)
            sat = entry.get("saturated_fraction")
            if sat is not None and sat > self.saturated_fraction:
                self._emit(("saturated", name), f"{self._describe(name)}: {sat:.0%} of {units} {what} are "
                           f"saturated (output within {self.saturation_threshold:g} of a bound on most samples); "
                           f"{_SAT_HINT}", active)
        self._active -= {k for k in self._active if k[0] in ("dead", "saturated")} - active

    def _check_vanishing(self, layers: dict[str, dict[str, Any]]) -> None:
        active: set[tuple[str, str]] = set()
        with_grad = [(n, e["grad_norm"]) for n, e in layers.items() if e.get("grad_norm") is not None]
        if len(with_grad) >= 2:
            (first, g0), (last, g1) = with_grad[0], with_grad[-1]
            if math.isfinite(g0) and math.isfinite(g1) and g1 > 0 and g0 < self.vanishing_ratio * g1:
                norm = "0 (no gradient reaches it: are the units after it dead?)" if g0 == 0 else f"{g0:.3g}"
                self._emit(("vanishing", first), f"vanishing gradients: the first {self._describe(first)} has "
                           f"gradient norm {norm}, less than {self.vanishing_ratio:g} times that of the last "
                           f"{self._describe(last)} ({g1:.3g}); {_VANISH_HINT}", active)
        self._active -= {k for k in self._active if k[0] == "vanishing"} - active

    def on_train_end(self, logs: dict | None = None) -> None:
        self._remove_hooks()
        self._current = None

    def state_dict(self) -> dict[str, Any]:
        """Records, warnings and the weights ``update_ratio`` compares with (kept in ``fit`` checkpoints,
        restored on resume, so a run resumed mid-epoch reports the same ratios as one never stopped)."""
        return {"records": self.records, "warnings": self.warnings, "seconds": self.seconds,
                "snapshot": {name: list(arrays) for name, arrays in self._snapshot.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.records = list(state.get("records", []))
        self.warnings = list(state.get("warnings", []))
        self.seconds = float(state.get("seconds", 0.0))
        snapshot = state.get("snapshot")
        ok = isinstance(snapshot, dict) and all(
            isinstance(v, list) and all(isinstance(a, np.ndarray) for a in v) for v in snapshot.values())
        self._loaded_snapshot = {k: [np.array(a) for a in v] for k, v in snapshot.items()} if ok else None

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """The contents of ``monitor.json`` (non-finite numbers as ``None``)."""
        settings = {k: getattr(self, k) for k in (
            "sample_batches", "every", "dead_threshold", "saturation_threshold", "saturated_fraction",
            "vanishing_ratio", "exploding_norm")}
        kinds = {n: (m, k) for n, m, k in self._layers}
        layers = [{"name": n, "type": type(kinds[n.split("#")[0]][0]).__name__, "kind": kinds[n.split("#")[0]][1]}
                  for n in self._order]
        return _finite({"format": "myelin.monitor", "version": 1, "settings": settings, "layers": layers,
                        "epochs": self.records, "warnings": self.warnings})

    def save(self, run_dir: str | os.PathLike[str]) -> Path:
        """Write ``monitor.json`` into ``run_dir`` (atomically) and return its path."""
        folder = Path(run_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "monitor.json"
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1, allow_nan=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path


def _finite(obj: Any) -> Any:
    """``obj`` with NaN and infinities replaced by ``None`` (strict JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, np.generic):
        return _finite(obj.item())
    return obj
