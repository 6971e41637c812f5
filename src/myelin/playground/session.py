"""One playground run as a plain Python object: data, network, optimizer, monitor; testable without a server.

>>> s = TrainingSession({"data": "spirals", "layers": [8, 8]}, budget=Budget(flops=1e9))
>>> s.run(steps=100)                 # train 100 steps
>>> frame = s.frame()                # losses, accuracy, decision boundary, every neuron's map
>>> info = s.neuron(1, 0)            # hidden layer 1, unit 0: weights, bias, gradients, warnings
>>> s.model_bytes(), s.script()      # a Myelin model file; a script that reproduces this run

The training loop is the one :func:`myelin.playground.script.make_script` writes out, step for
step: the model is built right after ``myelin.manual_seed(seed)``, the batches follow
``np.random.default_rng([seed, 1])`` permutations, dropout draws from the library RNG (kept per
session, so sessions do not disturb each other), and L1/L2 penalties on the weights are added to
the loss. Running the script for the same number of steps gives the same weights.
"""

from __future__ import annotations

import base64
import json
import math
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from .boundary import parse_boundary
from .budget import Budget, Estimate
from .data import GRID, LINE, PlayData, Table, build_data
from .settings import ACTIVATIONS, DATASETS, OPTIMIZERS, SettingsError, check_settings

__all__ = ["COMPUTE_LOCK", "MAX_DRAWN", "TrainingSession"]

#: Every session's computing runs under this lock: the library RNG is process-wide, and on a
#: small machine one step at a time is as fast as several interleaved.
COMPUTE_LOCK = threading.RLock()

MAX_DRAWN = 24  # neurons drawn per layer (the rest are trained but not drawn)
_HISTORY_MAX = 1000  # loss-curve points kept (thinned by half beyond that)
_BOUNDS = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def _b64(values: np.ndarray, lo: float, hi: float) -> str:
    """``values`` quantised to bytes over ``[lo, hi]`` (clipped), base64: compact maps for the page."""
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    q = np.clip(np.rint((np.nan_to_num(values, nan=lo) - lo) * scale), 0, 255).astype(np.uint8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def _array(grad: Any) -> np.ndarray | None:
    """A gradient as an ndarray (``.grad`` may be an array or a Tensor, depending on the engine)."""
    if grad is None:
        return None
    return np.asarray(getattr(grad, "data", grad))


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _strict(obj: Any) -> Any:
    """``obj`` with non-finite floats as ``None``: the page gets strict JSON even from a diverged run."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    return obj


def _widths(settings: dict[str, Any], table: Table | None) -> tuple[list[int], int]:
    """Layer widths (inputs, hidden..., outputs) and the raw input dimension, before any data is built."""
    kind, dim = DATASETS[settings["data"]]
    if settings["data"] == "csv":
        if table is None:
            raise SettingsError("setting 'data': 'csv' needs a CSV file (upload one, or start the server with --data)")
        from .table import output_count

        return [table.x.shape[1], *settings["layers"], output_count(settings, table)], table.x.shape[1]
    outputs = 1 if kind == "regression" else max(2, settings["classes"] if settings["data"] in (
        "spirals", "gaussians") else 2)
    return [len(settings["features"]), *settings["layers"], outputs], dim


class TrainingSession:
    """A playground run (see the module docstring). Not thread-safe by itself: the server holds one lock
    per session, and every computation also takes :data:`COMPUTE_LOCK`.

    Args:
        settings: a (possibly partial) settings dict, checked by :func:`~.settings.check_settings`.
        table: the CSV data for ``data='csv'``.
        budget: the resource limits (:class:`~.budget.Budget`); a default one is measured if omitted.
    """

    def __init__(self, settings: dict[str, Any] | None = None, *, table: Table | None = None,
                 budget: Budget | None = None) -> None:
        self.settings = check_settings(settings or {})
        self.table = table
        self.budget = budget if budget is not None else Budget()
        widths, raw_dim = _widths(self.settings, table)
        points = self.settings["points"] if self.settings["data"] != "csv" else len(table.x)  # type: ignore[union-attr]
        grid = GRID * GRID if raw_dim != 1 else LINE
        self.estimate: Estimate = self.budget.check(widths, self.settings["batch"], points, grid, max(raw_dim, 2),
                                                    MAX_DRAWN)
        self.boundary = parse_boundary(self.settings["boundary"]) if self.settings["data"] == "function" else None
        self.data: PlayData = build_data(self.settings, table, self.boundary)
        self.widths = [self.data.x_train.shape[1], *self.settings["layers"], self.data.num_outputs]
        self.last_used = time.monotonic()
        self.reset()

    # ------------------------------------------------------------------ building
    def reset(self) -> None:
        """Fresh weights, optimizer, data order and monitor (the data stay)."""
        import myelin
        from myelin.monitor import NeuronMonitor

        s = self.settings
        with COMPUTE_LOCK:
            myelin.manual_seed(s["seed"])
            self.model = self._build_model()
            self._rng_state = myelin.get_rng_state()
        self.optimizer = self._build_optimizer()
        self._weights = [p for p in self.model.parameters() if p.ndim >= 2]
        self._order = np.random.default_rng([s["seed"], 1])
        self._perm: np.ndarray | None = None
        self._pos = 0
        self.steps = 0
        self.epoch = 0
        self.diverged = False
        self.history: list[list[float | None]] = []  # [step, train loss, test loss]
        self.warnings: list[str] = []
        self._flags: dict[str, dict[int, list[int]]] = {"dead": {}, "saturated": {}}
        self.last_step: dict[str, Any] = {}
        self._before: dict[str, Any] | None = None
        self.monitor = NeuronMonitor(sample_batches=2, warn=True, log=self._warn)
        self.monitor.set_context(model=self.model, optimizer=self.optimizer,
                                 params={"steps": self.steps_per_epoch, "epochs": None})
        self.monitor.on_train_begin()
        self.train_seconds = 0.0

    def _build_model(self) -> Any:
        from myelin import nn

        s = self.settings
        act = ACTIVATIONS[s["activation"]]
        layers: list[Any] = []
        self.linear_index: list[int] = []  # position in the Sequential of each Linear (hidden..., output)
        self.act_index: list[int] = []  # position of each hidden layer's output (activation, or its Linear)
        for a, b in zip(self.widths[:-2], self.widths[1:-1]):
            self.linear_index.append(len(layers))
            layers.append(nn.Linear(a, b))
            if act is not None:
                layers.append(getattr(nn, act)())
            self.act_index.append(len(layers) - 1)
            if s["dropout"] > 0:
                layers.append(nn.Dropout(s["dropout"]))
        self.linear_index.append(len(layers))
        layers.append(nn.Linear(self.widths[-2], self.widths[-1]))
        return nn.Sequential(*layers)

    def _build_optimizer(self) -> Any:
        from myelin import optim

        s = self.settings
        cls = getattr(optim, OPTIMIZERS[s["optimizer"]])
        if s["optimizer"] == "sgd":
            return cls(self.model.parameters(), lr=s["lr"], momentum=s["momentum"])
        return cls(self.model.parameters(), lr=s["lr"])

    @property
    def steps_per_epoch(self) -> int:
        n, b = len(self.data.x_train), self.settings["batch"]
        return -(-n // b)

    def _loss(self, out: Any, target: np.ndarray) -> Any:
        import myelin.nn.functional as F

        if self.data.task == "classification":
            return F.cross_entropy(out, target)
        return F.mse_loss(out, target)

    # ------------------------------------------------------------------ training
    def step(self) -> float:
        """One training step (one batch); returns its loss (data loss plus penalties)."""
        import myelin
        import myelin.nn.functional as F

        s, d = self.settings, self.data
        t0 = time.perf_counter()
        if self._pos == 0:
            self._perm = self._order.permutation(len(d.x_train))
            self.monitor.on_epoch_begin(self.epoch)
        assert self._perm is not None
        batch_no = self._pos // s["batch"]
        idx = self._perm[self._pos:self._pos + s["batch"]]
        self.monitor.on_batch_begin(batch_no)
        record = self._record_hooks()
        # what the step starts from, for replaying it (the math of one step, :mod:`.stepmath`)
        self._before = {"params": [p.data.copy() for p in self.model.parameters()], "idx": idx,
                        "rng": self._rng_state, "step": self.steps + 1}
        with COMPUTE_LOCK, np.errstate(all="ignore"):
            myelin.set_rng_state(self._rng_state)
            try:
                self.model.train()
                out = self.model(myelin.tensor(d.x_train[idx]))
                loss = self._loss(out, d.y_train[idx])
                if s["l1"]:
                    loss = loss + s["l1"] * F.l1_penalty(self._weights)
                if s["l2"]:
                    loss = loss + s["l2"] * F.l2_penalty(self._weights)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            finally:
                self._rng_state = myelin.get_rng_state()
                for handle in record.pop("handles"):
                    handle.remove()
        value = float(loss.item())
        self._keep_step(record, d.x_train[idx], value)
        self.monitor.on_batch_end(batch_no, {"loss": value, "size": len(idx)})
        self._pos += s["batch"]
        if self._pos >= len(d.x_train):
            self._pos = 0
            self.monitor.on_epoch_end(self.epoch)
            self._read_monitor()
            self.epoch += 1
        self.steps += 1
        if not math.isfinite(value):
            self.diverged = True
        self.train_seconds += time.perf_counter() - t0
        return value

    def run(self, steps: int | None = None, seconds: float | None = None) -> int:
        """Train ``steps`` steps, or as many as fit in ``seconds`` (at least one); returns the steps taken."""
        if steps is None and seconds is None:
            raise ValueError("run: give steps or seconds")
        deadline = time.perf_counter() + (seconds if seconds is not None else math.inf)
        done = 0
        while not self.diverged and (steps is None or done < steps):
            self.step()
            done += 1
            if time.perf_counter() >= deadline:
                break
        return done

    def _record_hooks(self) -> dict[str, Any]:
        """Forward hooks keeping each hidden layer's pre-activation ``z`` and activation ``a`` (with their
        gradients retained) for the step's inspection."""
        record: dict[str, Any] = {"handles": [], "z": {}, "a": {}}
        for layer, (li, ai) in enumerate(zip(self.linear_index, [*self.act_index, self.linear_index[-1]]), 1):
            def keep(store: str, layer: int = layer) -> Any:
                def hook(module: Any, args: Any, output: Any) -> None:
                    if output.requires_grad:
                        output.retain_grad()
                    record[store][layer] = output
                return hook
            record["handles"].append(self.model[li].register_forward_hook(keep("z")))
            if ai != li:
                record["handles"].append(self.model[ai].register_forward_hook(keep("a")))
        return record

    def _keep_step(self, record: dict[str, Any], x: np.ndarray, loss: float) -> None:
        """The last step's numbers per hidden layer: z, a, dL/dz, dL/da (batch arrays), for :meth:`neuron`."""
        keep: dict[str, Any] = {"x": x, "loss": loss, "layers": {}}
        for layer, z in record["z"].items():
            a = record["a"].get(layer, z)
            keep["layers"][layer] = {"z": z.data, "a": a.data, "dz": _array(z.grad), "da": _array(a.grad)}
        self.last_step = keep

    def _warn(self, message: str) -> None:
        """Keep a monitor warning, naming layers as the page does ("hidden layer 2", not "layer '3'")."""
        for layer, ai in enumerate(self.act_index, 1):
            message = message.replace(f"layer '{ai}'", f"hidden layer {layer}")
        for layer, li in enumerate(self.linear_index, 1):
            into = "the output" if layer == len(self.linear_index) else f"hidden layer {layer}"
            message = message.replace(f"layer '{li}' (Linear)", f"the weights into {into}")
        def key(text: str) -> tuple[str, str]:  # one warning per layer and kind: the latest numbers
            kind = next((k for k in ("dead", "saturated", "exploding", "vanishing") if k in text), text)
            return text.split(":")[0], kind

        self.warnings = [m for m in self.warnings if key(m) != key(message)]
        self.warnings.append(message)

    def _read_monitor(self) -> None:
        """Dead and saturated units of the monitor's latest epoch, per hidden layer (1-based)."""
        if not self.monitor.records:
            return
        layers = self.monitor.records[-1]["layers"]
        flags: dict[str, dict[int, list[int]]] = {"dead": {}, "saturated": {}}
        for layer, ai in enumerate(self.act_index, 1):
            entry = layers.get(str(ai), {})
            for kind, found in flags.items():
                units = entry.get(f"{kind}_units")
                if units:
                    found[layer] = [int(u) for u in units]
        self._flags = flags

    # ------------------------------------------------------------------ looking
    def _forward_all(self, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Hidden-layer outputs and the network output for inputs ``x`` (eval mode, no graph)."""
        import myelin

        hidden: list[np.ndarray] = []
        with COMPUTE_LOCK, myelin.no_grad(), np.errstate(all="ignore"):
            self.model.eval()
            h = myelin.tensor(x)
            for i, module in enumerate(self.model):
                h = module(h)
                if i in self.act_index:
                    hidden.append(h.data)
            self.model.train()
        return hidden, h.data

    def _scores(self, x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
        import myelin

        if len(x) == 0:
            return None, None
        _, out = self._forward_all(x)
        with myelin.no_grad(), np.errstate(all="ignore"):
            loss = float(self._loss(myelin.tensor(out), y).item())
        acc = float((out.argmax(axis=1) == y).mean()) if self.data.task == "classification" else None
        return _finite(loss), acc

    def _output_map(self, out: np.ndarray) -> dict[str, Any]:
        if self.data.task == "classification":
            e = np.exp(out - out.max(axis=1, keepdims=True))
            probs = e / e.sum(axis=1, keepdims=True)
            return {"kind": "classes", "classes": out.shape[1], "values": _b64(probs.T.ravel(), 0.0, 1.0)}
        lo, hi = self.data.target_range
        return {"kind": "values", "lo": lo, "hi": hi, "values": _b64(out[:, 0], lo, hi)}

    def _maps(self, hidden: list[np.ndarray]) -> list[dict[str, Any]]:
        """Each drawn neuron's activation over the view (inputs first), quantised per layer."""
        layers = []
        x = self.data.grid_inputs
        scale = max(float(np.abs(x).max()), 1e-6)
        layers.append({"lo": -scale, "hi": scale, "maps": [_b64(x[:, j], -scale, scale)
                                                         for j in range(min(x.shape[1], MAX_DRAWN))]})
        bounds = _BOUNDS.get(self.settings["activation"])
        for h in hidden:
            finite = np.abs(h[np.isfinite(h)])
            m = max(float(finite.max()) if finite.size else 0.0, 1e-6)
            lo, hi = bounds if bounds else (-m, m)
            layers.append({"lo": lo, "hi": hi, "maps": [_b64(h[:, j], lo, hi) for j in range(min(h.shape[1], MAX_DRAWN))]})
        return layers

    def _drawn_weights(self) -> list[list[list[float]]]:
        out = []
        for li in self.linear_index:
            w = self.model[li].weight.data[:MAX_DRAWN, :MAX_DRAWN]
            out.append(np.round(np.nan_to_num(w.astype(np.float64)), 4).tolist())
        return out

    def frame(self, since: int = 0) -> dict[str, Any]:
        """The page's picture now: scores, new loss-curve points after index ``since``, maps and flags."""
        with np.errstate(all="ignore"):
            return _strict(self._frame(since))

    def _frame(self, since: int) -> dict[str, Any]:
        d = self.data
        train_loss, train_acc = self._scores(d.x_train, d.y_train)
        test_loss, test_acc = self._scores(d.x_test, d.y_test)
        if not self.history or self.history[-1][0] != self.steps:
            self.history.append([self.steps, train_loss, test_loss])
            if len(self.history) > _HISTORY_MAX:
                self.history = self.history[::2]
                since = 0
        hidden, out = self._forward_all(d.grid_inputs)
        since = since if isinstance(since, int) and 0 <= since <= len(self.history) else 0
        return {
            "steps": self.steps, "epoch": self.epoch, "diverged": self.diverged,
            "train_loss": train_loss, "test_loss": test_loss, "train_accuracy": train_acc, "test_accuracy": test_acc,
            "history": self.history[since:], "history_start": since, "history_length": len(self.history),
            "output": self._output_map(out), "layers": self._maps(hidden), "weights": self._drawn_weights(),
            "dead": {str(k): v for k, v in self._flags["dead"].items()},
            "saturated": {str(k): v for k, v in self._flags["saturated"].items()},
            "warnings": self.warnings[-3:],
        }

    def describe(self) -> dict[str, Any]:
        """What does not change while training: settings, data points, view, network shape, estimate."""
        d = self.data

        def pts(view: np.ndarray, y: np.ndarray) -> list[list[float]]:
            target = y[:, 0] if y.ndim == 2 else y
            return np.round(np.concatenate([view, target[:, None].astype(np.float64)], axis=1), 4).tolist()

        return {
            "settings": self.settings, "task": d.task, "dim": d.dim, "extent": d.extent, "grid": GRID, "line": LINE,
            "axis_names": list(d.axis_names), "inputs": d.input_names, "classes": d.class_names,
            "target_range": list(d.target_range), "widths": self.widths, "drawn": MAX_DRAWN,
            "train_points": pts(d.view_train, d.y_train), "test_points": pts(d.view_test, d.y_test),
            "notes": d.notes, "parameters": self.estimate.parameters,
            "estimate": {"memory_bytes": self.estimate.memory_bytes, "step_seconds": self.estimate.step_seconds},
        }

    def neuron(self, layer: int, unit: int) -> dict[str, Any]:
        """A neuron's weights, bias, activation on the training data, last step's gradients and warnings.

        ``layer`` 1..L are the hidden layers, L+1 the output layer; ``unit`` counts from 0.
        """
        n_layers = len(self.linear_index)
        if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= n_layers:
            raise SettingsError(f"neuron: expected layer in [1, {n_layers}], received {layer!r}")
        width = self.widths[layer]
        if isinstance(unit, bool) or not isinstance(unit, int) or not 0 <= unit < width:
            raise SettingsError(f"neuron: layer {layer} has units 0..{width - 1}, received {unit!r}")
        lin = self.model[self.linear_index[layer - 1]]
        sources = self.data.input_names if layer == 1 else [f"h{layer - 1}.{k}" for k in range(self.widths[layer - 1])]
        w, b = lin.weight.data[unit], lin.bias.data[unit]
        gw, gb = _array(lin.weight.grad), _array(lin.bias.grad)
        info: dict[str, Any] = {
            "layer": layer, "unit": unit, "output": layer == n_layers,
            "activation": self.settings["activation"] if layer < n_layers else (
                "softmax" if self.data.task == "classification" else "identity"),
            "inputs": sources, "weights": w.astype(np.float64).tolist(), "bias": float(b),
            "weight_grads": None if gw is None else gw[unit].astype(np.float64).tolist(),
            "bias_grad": None if gb is None else float(gb[unit]),
            "dead": unit in self._flags["dead"].get(layer, []),
            "saturated": unit in self._flags["saturated"].get(layer, []),
            "warnings": [m for m in self.warnings if f"hidden layer {layer} " in m] if layer < n_layers else [],
        }
        if layer < n_layers:
            hidden, _ = self._forward_all(self.data.x_train)
            a = hidden[layer - 1][:, unit]
            info["activation_stats"] = {"mean": float(a.mean()), "min": float(a.min()), "max": float(a.max()),
                                        "active_fraction": float((a > 0).mean())}
        from .stepmath import step_math

        info["step"] = step_math(self, layer, unit)
        return _strict(info)

    # ------------------------------------------------------------------ taking it away
    def model_bytes(self) -> bytes:
        """The trained model as a Myelin model file (safetensors; settings and input names in its metadata)."""
        import myelin

        meta = {"playground.settings": json.dumps(self.settings), "playground.inputs": json.dumps(self.data.input_names),
                "playground.steps": str(self.steps)}
        if self.data.preprocess:  # a table's standardisation: apply it to new rows before the model
            meta["playground.preprocess"] = json.dumps(self.data.preprocess)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.safetensors"
            with COMPUTE_LOCK:
                myelin.save(self.model, path, metadata=meta)
            return path.read_bytes()

    def script(self) -> str:
        """A Python script that builds and trains the same network the same way for :attr:`steps` steps."""
        from .script import make_script

        return make_script(self.settings, self.steps, table=self.table, boundary=self.boundary)
