"""Pictures of a network and its training (matplotlib, an optional extra: ``pip install ".[plot]"`` in a
checkout, or ``pip install "myelin-nn[plot]"`` from PyPI once published).

Every function returns a :class:`matplotlib.figure.Figure` and, given ``path``, also saves it as a
PNG. Figures are built with the Agg renderer directly (no ``pyplot``): nothing is shown, no GUI
backend is touched, and figures are freed as soon as they are dropped.

- :func:`learning_curves`: loss and accuracy (and other metrics), training and validation.
- :func:`first_layer_weights`: each first-layer neuron's incoming weights as an image.
- :func:`activation_histograms`: the distribution of every activation layer's outputs on some data.
- :func:`gradient_flow`: each layer's gradient norm (and update-to-weight ratio) over epochs.
- :func:`decision_boundary`: the regions a 2-D classifier assigns to each class, and each hidden neuron's.
- :func:`confusion_matrix`: counts of true versus predicted classes.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._figure import PathLike, _figure, _finish
from ._plural import counted

__all__ = [
    "activation_histograms",
    "confusion_matrix",
    "decision_boundary",
    "first_layer_weights",
    "gradient_flow",
    "learning_curves",
]

def _epoch_axis(ax: Any) -> None:
    """Label the x axis 'epoch' with whole-number ticks."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _grid(n: int, max_cols: int = 8) -> tuple[int, int]:
    cols = min(max_cols, max(1, math.ceil(math.sqrt(n))))
    return math.ceil(n / cols), cols


# ----------------------------------------------------------------------------------------- learning curves


def _history_dict(history: Any) -> dict[str, list[Any]]:
    """``{key: values}`` from a History, a dict, or a path to ``history.csv`` / a JSON file."""
    if isinstance(history, (str, os.PathLike)):
        path = Path(history)
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            return {str(k): list(v) for k, v in data.items() if isinstance(v, list)}
        return read_history_csv(path)
    record = getattr(history, "history", history)
    if not isinstance(record, Mapping):
        raise TypeError(f"expected a History, a dict of lists or a path to history.csv, received "
                        f"{type(history).__name__}")
    return {str(k): list(v) for k, v in record.items() if isinstance(v, (list, tuple))}


def _number(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return v


def read_history_csv(path: str | os.PathLike[str]) -> dict[str, list[float]]:
    """Columns of a ``history.csv`` (a header row, one row per epoch) as lists of floats (NaN if empty)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    return {name: [_number(r[i]) if i < len(r) else float("nan") for r in body] for i, name in enumerate(header)}


_SKIP_CURVES = {"epoch", "epoch_time", "lr"}


def _metric_groups(record: dict[str, list[Any]]) -> dict[str, dict[str, list[float]]]:
    """``{"loss": {"loss": [...], "val_loss": [...]}, "accuracy": {...}}`` (monitor keys and lr left out)."""
    groups: dict[str, dict[str, list[float]]] = {}
    for key, values in record.items():
        if "/" in key or key in _SKIP_CURVES:
            continue
        series = [_number(v) for v in values]
        if not any(math.isfinite(v) for v in series):
            continue
        base = key.removeprefix("val_")
        groups.setdefault(base, {})[key] = series
    order = sorted(groups, key=lambda k: (k != "loss", k != "accuracy", k))
    return {k: groups[k] for k in order}


def learning_curves(history: Any, path: PathLike = None) -> Any:
    """Loss and metrics per epoch, training (solid) and validation (dashed), one panel per quantity.

    Args:
        history: a ``History`` from ``fit``, a ``{key: [value per epoch]}`` dict, or a path to a
            run's ``history.csv``. Keys ``val_<name>`` go with ``<name>``; ``lr``, ``epoch_time`` and
            the monitor's ``<stat>/<layer>`` keys are left out.
        path: save a PNG there.
    """
    groups = _metric_groups(_history_dict(history))
    if not groups:
        raise ValueError("learning_curves: the history has no numeric series to plot (expected e.g. 'loss')")
    fig = _figure(5.0 * min(len(groups), 3), 3.6)
    axes = fig.subplots(1, min(len(groups), 3), squeeze=False)[0]
    for ax, (base, series) in zip(axes, list(groups.items())[:3]):
        for key, values in sorted(series.items()):
            epochs = np.arange(1, len(values) + 1)
            val = key.startswith("val_")
            ax.plot(epochs, values, "--" if val else "-", marker="o", markersize=3,
                    label="validation" if val else "training", color="tab:orange" if val else "tab:blue")
        ax.set_title(base.replace("_", " "))
        _epoch_axis(ax)
        ax.grid(True, alpha=0.3)
        ax.legend()
    return _finish(fig, path)


# ----------------------------------------------------------------------------------------- weights


def _first_weighted_layer(model: Any) -> tuple[str, Any]:
    for name, m in model.named_modules():
        names = [c.__name__ for c in type(m).__mro__]
        if ("Linear" in names or any(n.startswith("Conv") for n in names)) and getattr(m, "weight", None) is not None:
            return name, m
    raise ValueError(f"first_layer_weights: {type(model).__name__} has no Linear or Conv layer")


def _guess_image_shape(n_in: int) -> tuple[int, ...]:
    side = math.isqrt(n_in)
    if side * side == n_in:
        return (side, side)
    side = math.isqrt(n_in // 3)
    if 3 * side * side == n_in:
        return (3, side, side)
    raise ValueError(f"first_layer_weights: cannot show {n_in} input weights as an image; pass "
                     f"image_shape, e.g. (height, width) or (channels, height, width)")


def first_layer_weights(model: Any, image_shape: Sequence[int] | None = None, max_neurons: int = 64,
                        path: PathLike = None) -> Any:
    """Each first-layer neuron's incoming weights drawn as an image: what that neuron looks for.

    Red is a positive weight (the pixel excites the neuron), blue a negative one; each image is
    scaled to its own largest weight. For a ``Linear`` first layer the ``in_features`` weights are
    reshaped to ``image_shape`` (guessed for square grey or RGB images: 784 -> 28x28); for a
    ``Conv2d`` each filter is shown (the mean over input channels unless there are 3).
    """
    name, layer = _first_weighted_layer(model)
    w = np.asarray(layer.weight.data, dtype=np.float64)
    if w.ndim == 2:
        shape = tuple(image_shape) if image_shape is not None else _guess_image_shape(w.shape[1])
        if int(np.prod(shape)) != w.shape[1]:
            raise ValueError(f"first_layer_weights: image_shape {shape} has {int(np.prod(shape))} pixels but "
                             f"layer '{name}' has {counted(w.shape[1], 'input')}")
        images = w.reshape(w.shape[0], *shape)
    elif w.ndim == 4:
        images = w
    else:
        raise ValueError(f"first_layer_weights: cannot draw weights of shape {w.shape} from layer '{name}'")
    if images.ndim == 4:  # (n, C, H, W)
        images = images.transpose(0, 2, 3, 1) if images.shape[1] == 3 else images.mean(axis=1)
    n = min(len(images), max_neurons)
    rows, cols = _grid(n)
    fig = _figure(1.3 * cols + 0.6, 1.3 * rows + 0.6)
    fig.suptitle(f"first layer '{name}' ({type(layer).__name__}): weights of {n} of {counted(len(images), 'neuron')}")
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i >= n:
            continue
        img = images[i]
        scale = float(np.abs(img).max()) or 1.0
        if img.ndim == 3:  # RGB: map [-scale, scale] to [0, 1]
            ax.imshow(np.clip(0.5 + 0.5 * img / scale, 0, 1), interpolation="nearest")
        else:
            ax.imshow(img, cmap="RdBu_r", vmin=-scale, vmax=scale, interpolation="nearest")
        ax.set_title(str(i), fontsize=7)
    return _finish(fig, path)


# ----------------------------------------------------------------------------------------- activations


def activation_histograms(model: Any, data: Any, layers: Sequence[str] | None = None, bins: int = 50,
                          max_samples: int = 1024, path: PathLike = None) -> Any:
    """Histograms of each activation layer's outputs on ``data`` (one panel per layer, forward order).

    Args:
        data: inputs (array/Tensor), ``(x, y)`` arrays or an iterable of batches.
        layers: dotted names to show; default: every activation module (ReLU, Sigmoid, Tanh...), or
            the layers with parameters when the model has none.
        max_samples: use at most this many samples.

    A spike at 0 for ReLU is dead or inactive units; mass piled at 0 and 1 (sigmoid) or -1 and 1
    (tanh) is saturation.
    """
    from .autograd.grad_mode import no_grad
    from .monitor.stats import iter_batches, layer_kind, resolve_layer

    if layers is None:
        named = [(n, m) for n, m in model.named_modules() if layer_kind(m) in ("relu", "bounded")]
        if not named:
            named = [(n, m) for n, m in model.named_modules() if layer_kind(m) == "param"]
    else:
        named = [resolve_layer(model, n) for n in layers]
    if not named:
        raise ValueError(f"activation_histograms: {type(model).__name__} has no layers to show")
    collected: dict[str, list[np.ndarray]] = {}
    order: list[str] = []

    def make_hook(name: str) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            while isinstance(output, (tuple, list)):
                output = output[0]
            if name not in collected:
                order.append(name)
            collected.setdefault(name, []).append(np.asarray(output.data).ravel())

        return hook

    handles = [m.register_forward_hook(make_hook(n or type(m).__name__)) for n, m in named]
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad():
            for x in iter_batches(data, 256, max_samples):
                model(x)
    finally:
        for h in handles:
            h.remove()
        for m, training in modes:
            m.__dict__["training"] = training
    types = {n or type(m).__name__: type(m).__name__ for n, m in named}
    rows, cols = _grid(len(order), 4)
    fig = _figure(3.4 * cols, 2.6 * rows + 0.4)
    fig.suptitle("activation histograms")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.ravel(), order):
        values = np.concatenate(collected[name])
        values = values[np.isfinite(values)]
        ax.hist(values, bins=bins, color="tab:blue", alpha=0.85)
        ax.set_title(f"{name} ({types[name]})", fontsize=9)
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    for ax in axes.ravel()[len(order):]:
        ax.set_axis_off()
    return _finish(fig, path)


# ----------------------------------------------------------------------------------------- gradient flow


def _monitor_records(source: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """``(records, layer order)`` from a NeuronMonitor, its ``to_dict()``/monitor.json, or a History."""
    if isinstance(source, (str, os.PathLike)):
        source = json.loads(Path(source).read_text(encoding="utf-8"))
    if hasattr(source, "to_dict") and hasattr(source, "records"):
        source = source.to_dict()
    if isinstance(source, Mapping) and isinstance(source.get("epochs"), list):
        order = [entry["name"] for entry in source.get("layers", []) if isinstance(entry, Mapping)]
        return list(source["epochs"]), order
    record = _history_dict(source)
    by_epoch: dict[int, dict[str, Any]] = {}
    order = []
    for key, values in record.items():
        if "/" not in key:
            continue
        stat, layer = key.split("/", 1)
        if layer not in order:
            order.append(layer)
        for e, v in enumerate(values):
            by_epoch.setdefault(e, {"epoch": e, "layers": {}})["layers"].setdefault(layer, {})[stat] = v
    return [by_epoch[e] for e in sorted(by_epoch)], order


def gradient_flow(monitor_or_history: Any, path: PathLike = None) -> Any:
    """Each layer's gradient norm over epochs (log scale), and its update-to-weight ratio.

    Accepts a :class:`~myelin.monitor.NeuronMonitor`, a History that one filled
    (``grad_norm/<layer>`` keys), a ``monitor.json`` dict or its path. Lines falling towards the
    first layers mean vanishing gradients; lines shooting up mean exploding ones. A healthy update
    ratio per epoch is small but not tiny (roughly 1e-3 to 1e-1).
    """
    records, order = _monitor_records(monitor_or_history)
    stats = ("grad_norm", "update_ratio")
    series: dict[str, dict[str, tuple[list[float], list[float]]]] = {s: {} for s in stats}
    for rec in records:
        for layer, entry in (rec.get("layers") or {}).items():
            for stat in stats:
                v = _number(entry.get(stat))
                if math.isfinite(v) and v > 0:
                    xs, ys = series[stat].setdefault(layer, ([], []))
                    xs.append(_number(rec.get("epoch")) + 1)
                    ys.append(v)
    if not series["grad_norm"]:
        raise ValueError("gradient_flow: no gradient norms found (train with a NeuronMonitor callback)")
    fig = _figure(11.0, 4.0)
    axes = fig.subplots(1, 2, squeeze=False)[0]
    layers = [name for name in order if name in series["grad_norm"]] + \
        [name for name in series["grad_norm"] if name not in order]
    colors = _colors(len(layers))
    for ax, stat, title in zip(axes, stats, ("gradient norm per layer", "update / weight ratio per epoch")):
        for color, layer in zip(colors, layers):
            if layer in series[stat]:
                xs, ys = series[stat][layer]
                ax.plot(xs, ys, marker="o", markersize=3, color=color, label=layer)
        ax.set_yscale("log")
        _epoch_axis(ax)
        ax.set_title(title)
        ax.grid(True, alpha=0.3, which="both")
    # one legend for both panels (same colours), beside them: inside an axes it covered curves
    handles, labels = axes[0].get_legend_handles_labels()
    axes[1].legend(handles, labels, fontsize=8, title="layer (first to last)", loc="upper left",
                   bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, ncols=1 + len(labels) // 16)
    return _finish(fig, path)


def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(i / max(n - 1, 1) * 0.9) for i in range(n)]


# ----------------------------------------------------------------------------------------- 2-D classifiers


def _class_of(out: np.ndarray) -> np.ndarray:
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    flat = out.reshape(len(out), -1)[:, 0]
    threshold = 0.5 if flat.min() >= 0 and flat.max() <= 1 else 0.0
    return (flat > threshold).astype(np.int64)


def decision_boundary(model: Any, x: Any, y: Any, hidden_neurons: bool = False, resolution: int = 200,
                      max_neurons: int = 16, path: PathLike = None) -> Any:
    """The class regions of a classifier with 2-D inputs, with the data points on top.

    Args:
        x: ``(N, 2)`` inputs; y: ``(N,)`` labels.
        hidden_neurons: also draw, for each neuron of the first hidden layer (up to ``max_neurons``),
            its activation over the plane and its own boundary (where its pre-activation is 0):
            the lines the network combines into its decision.
        resolution: grid points per axis.
    """
    from .autograd.grad_mode import no_grad
    from .core.tensor import Tensor
    from .monitor.stats import layer_kind

    x = np.asarray(getattr(x, "data", x), dtype=np.float64)
    y = np.asarray(getattr(y, "data", y)).reshape(-1)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision_boundary: expected x of shape (N, 2), got {x.shape}")
    if len(y) != len(x):
        raise ValueError(f"decision_boundary: x has {counted(len(x), 'row')} but y has {counted(len(y), 'label')}")
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-6)
    gx, gy = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution),
                         np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    captured: dict[str, np.ndarray] = {}
    handles = []
    if hidden_neurons:
        named = list(model.named_modules())
        first = next(((n, m) for n, m in named if layer_kind(m) == "param"), None)
        act = None
        if first is not None:
            after = named[[m for _, m in named].index(first[1]) + 1:]
            act = next(((n, m) for n, m in after if layer_kind(m) in ("relu", "bounded")), None)
        if first is None:
            raise ValueError("decision_boundary: hidden_neurons=True needs a layer with parameters")
        handles.append(first[1].register_forward_hook(lambda m, a, o: captured.setdefault("pre", o.data)))
        if act is not None:
            handles.append(act[1].register_forward_hook(lambda m, a, o: captured.setdefault("act", o.data)))
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad():
            out = np.asarray(model(Tensor._wrap(grid)).data)
    finally:
        for h in handles:
            h.remove()
        for m, training in modes:
            m.__dict__["training"] = training
    classes = _class_of(out).reshape(gx.shape)
    n_classes = int(max(classes.max(), y.max() if y.size else 0)) + 1
    n_hidden = 0
    if hidden_neurons:
        n_hidden = min(captured["pre"].shape[1], max_neurons)
    rows, cols = (1, 1) if not n_hidden else _grid(n_hidden, 4)
    fig = _figure(5.5 + (2.6 * cols if n_hidden else 0), max(4.8, 2.4 * rows + 0.6))
    if n_hidden:
        outer = fig.add_gridspec(1, 2, width_ratios=[5.5, 2.6 * cols])
        ax = fig.add_subplot(outer[0])
        inner = outer[1].subgridspec(rows, cols)
    else:
        ax = fig.add_subplot(1, 1, 1)
    cmap = "tab10" if n_classes <= 10 else "tab20"
    ax.contourf(gx, gy, classes, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.3,
                vmin=-0.5, vmax=(9.5 if n_classes <= 10 else 19.5))
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=(9.5 if n_classes <= 10 else 19.5),
               s=12, edgecolors="k", linewidths=0.3)
    ax.set_title(f"decision regions of {type(model).__name__}")
    ax.set_xlim(gx.min(), gx.max())
    ax.set_ylim(gy.min(), gy.max())
    if n_hidden:
        values = captured.get("act", captured["pre"])
        pre = captured["pre"]
        for i in range(n_hidden):
            sub = fig.add_subplot(inner[i // cols, i % cols])
            sub.imshow(values[:, i].reshape(gx.shape), origin="lower", cmap="viridis", aspect="auto",
                       extent=(gx.min(), gx.max(), gy.min(), gy.max()))
            level = pre[:, i].reshape(gx.shape)
            if level.min() < 0 < level.max():
                sub.contour(gx, gy, level, levels=[0.0], colors="white", linewidths=1.0)
            sub.set_title(f"neuron {i}", fontsize=8)
            sub.set_xticks([])
            sub.set_yticks([])
    return _finish(fig, path)


def confusion_matrix(y_true: Any, y_pred: Any, classes: Sequence[Any] | None = None, normalize: bool = False,
                     path: PathLike = None) -> Any:
    """A heat map of :func:`myelin.monitor.confusion_matrix`: rows are true classes, columns predictions.

    Args:
        y_true: labels ``(N,)``; y_pred: labels ``(N,)`` or scores ``(N, C)``.
        classes: class names for the axes (their count fixes the matrix size).
        normalize: show each row as fractions of that class (recall on the diagonal).
    """
    from .monitor.stats import confusion_matrix as counts_of

    counts = counts_of(y_true, y_pred, None if classes is None else len(classes))
    n = counts.shape[0]
    labels = [str(c) for c in classes] if classes is not None else [str(i) for i in range(n)]
    values = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    size = min(max(4.0, 0.55 * n + 2.0), 16.0)
    fig = _figure(size + 1.0, size)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(values, cmap="Blues", interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(range(n), labels, rotation=45 if n > 10 else 0, fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"confusion matrix (accuracy {accuracy:.1%})")
    if n <= 20:
        top = values.max() if values.size else 0
        for i in range(n):
            for j in range(n):
                text = f"{values[i, j]:.2f}" if normalize else str(int(values[i, j]))
                ax.text(j, i, text, ha="center", va="center", fontsize=7 if n > 10 else 9,
                        color="white" if values[i, j] > 0.6 * top else "black")
    return _finish(fig, path)
