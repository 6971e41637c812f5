"""``myelin report RUN_DIR``: one self-contained HTML page about a training run.

:func:`write_report` reads a run directory and writes ``report.html`` next to its files: no
external resources (inline CSS; figures embedded as base64 PNG ``data:`` URIs), so the page can be
mailed or archived as one file. Everything taken from the files is HTML-escaped.

The run directory (as ``myelin train`` writes it; every file is optional):

==================== ==================================================================================
``config.json``      the run's settings; ``input_shape`` (without batch) sizes the model summary and
                     ``classes`` names the confusion matrix's classes
``metrics.json``     final numbers (``test_accuracy``, ``test_loss``, ``epochs``, ``seconds``...)
``history.csv``      one row per epoch: ``epoch`` then the History keys (``loss``, ``val_loss``,
                     ``accuracy``...; a NeuronMonitor's ``<stat>/<layer>`` keys are ignored here)
``model.safetensors`` the model (``myelin.save``), for the summary and the first layer's weights
``monitor.json``     written by ``NeuronMonitor.save(run_dir)``: the neuron health table, warnings and
                     gradient flow
``predictions.npz``  test-set predictions for the confusion matrix: arrays ``y_true`` (labels, ``(N,)``)
                     and ``y_pred`` (labels ``(N,)`` or scores ``(N, C)``), e.g.
                     ``np.savez(run_dir / "predictions.npz", y_true=y_test, y_pred=myelin.predict(model, x_test))``;
                     read with ``allow_pickle=False``
==================== ==================================================================================

Without ``predictions.npz``, pass ``model`` (or let the report load ``model.safetensors``) and
``test_data=(x, y)`` to compute the predictions. Without matplotlib the page is still written,
without figures, and says how to get them (``pip install ".[plot]"`` in a checkout, or
``pip install "myelin-nn[plot]"`` from PyPI once published).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._extras import install_hint
from ._plural import counted

__all__ = ["render_report", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:1.7em;margin:0 0 4px}h2{font-size:1.25em;margin:0 0 12px;border-bottom:2px solid #e3e6ec;padding-bottom:6px}
section{background:#fff;border-radius:10px;padding:18px 22px;margin:18px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.meta{color:#667085;margin:0 0 8px}nav a{margin-right:14px;color:#2356c7;text-decoration:none}
table{border-collapse:collapse;font-size:.9em;margin:6px 0}th,td{padding:4px 10px;border-bottom:1px solid #e6e8ee;text-align:left}
th{background:#f0f2f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:#fdecec}img{max-width:100%;height:auto;display:block;margin:8px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#eef3fd;border-radius:8px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:1.4em}.card span{color:#4a5468;font-size:.85em}
ul.warnings li{background:#fff4e5;border-left:4px solid #f59e0b;padding:6px 10px;margin:6px 0;list-style:none}
ul.warnings{padding:0}.ok{color:#16803c}.note{color:#667085;font-style:italic}
pre{background:#f6f8fa;padding:10px;border-radius:6px;overflow-x:auto;font-size:.85em}
"""

_esc = html.escape


_MAX_JSON_BYTES = 16 * 1024 * 1024
_MAX_MATRIX_CLASSES = 100


def _read_json(path: Path, notes: list[str]) -> Any:
    """A run file's JSON, or ``None`` with a note (missing, too big, unreadable, nested too deeply)."""
    if not path.is_file():
        return None
    try:
        if path.stat().st_size > _MAX_JSON_BYTES:
            notes.append(f"{path.name} is larger than {_MAX_JSON_BYTES >> 20} MB; not read")
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as err:
        notes.append(f"could not read {path.name}: {type(err).__name__}: {err}")
        return None


def _fmt(value: Any) -> str:
    """A short text for a number or value."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.extend(_flatten(value, name + "."))
        else:
            out.append((name, value))
    return out


def _table(header: list[str] | None, rows: list[list[str]], numeric: set[int] | None = None,
           bad: list[bool] | None = None) -> str:
    """A table of already-escaped cells (no header row when ``header`` is None)."""
    numeric = numeric or set()
    head = "<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead>" if header else ""
    body = []
    for i, row in enumerate(rows):
        cells = "".join(f'<td class="num">{c}</td>' if j in numeric else f"<td>{c}</td>" for j, c in enumerate(row))
        cls = ' class="bad"' if bad and bad[i] else ""
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table>{head}<tbody>{''.join(body)}</tbody></table>"


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{_esc(title)}</h2>{body}</section>'


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


class _Figures:
    """Renders figures to ``<img>`` tags with PNG data URIs; remembers whether matplotlib is missing."""

    def __init__(self) -> None:
        self.missing = False

    def img(self, draw: Callable[[], Any], alt: str) -> str:
        if self.missing:
            return ""
        try:
            fig = draw()
        except ImportError:
            self.missing = True
            return ""
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def _guarded(name: str, build: Callable[[], str]) -> str:
    """``build()``, or a note when it fails: one broken file must not lose the whole report."""
    try:
        return build()
    except Exception as err:  # noqa: BLE001 - shown on the page, the rest of the report still renders
        return _note(f"could not show the {name}: {type(err).__name__}: {err}")


# ----------------------------------------------------------------------------------------- sections


def _results(metrics: Mapping[str, Any] | None) -> str:
    if not metrics:
        return _note("no metrics.json in the run directory")
    cards = []
    for key in ("test_accuracy", "test_loss", "val_accuracy", "val_loss", "epochs", "seconds"):
        value = metrics.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = f"{value:.2%}" if key.endswith("accuracy") else _fmt(value)
            cards.append(f'<div class="card"><b>{_esc(text)}</b><span>{_esc(key.replace("_", " "))}</span></div>')
    rows = [[_esc(k), _esc(_fmt(v))] for k, v in _flatten(metrics) if not k.startswith("settings.")]
    return f'<div class="cards">{"".join(cards)}</div>' + _table(["metric", "value"], rows, {1})


def _curves(run_dir: Path, figures: _Figures) -> str:
    path = run_dir / "history.csv"
    if not path.is_file():
        return _note("no history.csv in the run directory")
    if path.stat().st_size > _MAX_JSON_BYTES // 4:
        return _note(f"history.csv is larger than {_MAX_JSON_BYTES >> 22} MB; not read")
    from .plot import _metric_groups, read_history_csv

    history = read_history_csv(path)
    groups = _metric_groups(history)
    if not groups:
        return _note("history.csv has no loss or metric columns")
    from . import plot

    image = figures.img(lambda: plot.learning_curves(history), "learning curves")
    keys = [k for g in groups.values() for k in g]
    n = max(len(v) for v in groups[next(iter(groups))].values())
    rows = [[_esc(str(e + 1))] + [_esc(_fmt(history[k][e])) if e < len(history[k]) else "" for k in keys]
            for e in range(n)]
    return image + _table(["epoch", *[_esc(k) for k in keys]], rows, set(range(len(keys) + 1)))


_HEALTH_COLUMNS = [("units", "units"), ("dead_fraction", "dead"), ("saturated_fraction", "saturated"),
                   ("act_mean", "act. mean"), ("act_std", "act. std"), ("grad_norm", "grad norm"),
                   ("weight_norm", "weight norm"), ("update_ratio", "update ratio")]


def _health(monitor: Mapping[str, Any] | None, figures: _Figures) -> str:
    if not monitor:
        return _note("no monitor.json in the run directory (train with myelin.monitor.NeuronMonitor and call "
                     "monitor.save(run_dir) to see dead and saturated neurons and gradient flow)")
    epochs = [e for e in monitor.get("epochs", []) if isinstance(e, Mapping)]
    settings = monitor.get("settings") or {}
    warnings = [str(w) for w in monitor.get("warnings", [])]
    parts = []
    if warnings:
        parts.append('<ul class="warnings">' + "".join(f"<li>{_esc(w)}</li>" for w in warnings) + "</ul>")
    else:
        parts.append('<p class="ok">No warnings: no dead or saturated layers, no vanishing or exploding gradients.</p>')
    if not epochs:
        return "".join(parts) + _note("monitor.json holds no epochs")
    last = epochs[-1]
    dead_t = float(settings.get("dead_threshold", 0.2))
    sat_t = float(settings.get("saturated_fraction", 0.2))
    rows, bad = [], []
    for name, entry in (last.get("layers") or {}).items():
        if not isinstance(entry, Mapping):
            continue
        cells = [_esc(str(name)), _esc(str(entry.get("type", "")))]
        for key, _ in _HEALTH_COLUMNS:
            value = entry.get(key)
            if value is None:
                cells.append("")
            elif key in ("dead_fraction", "saturated_fraction") and isinstance(value, (int, float)):
                cells.append(_esc(f"{value:.0%}"))
            else:
                cells.append(_esc(_fmt(value)))
        rows.append(cells)
        dead, sat = entry.get("dead_fraction"), entry.get("saturated_fraction")
        bad.append((isinstance(dead, (int, float)) and dead > dead_t) or (isinstance(sat, (int, float)) and sat > sat_t))
    epoch = last.get("epoch")
    shown = str(epoch + 1) if isinstance(epoch, int) else "?"
    parts.append(f"<p>Per layer at epoch {_esc(shown)}, on {_esc(_fmt(last.get('samples')))} sampled training "
                 "examples (dead: never active; saturated: stuck at a bound of the activation):</p>")
    parts.append(_table(["layer", "type", *[h for _, h in _HEALTH_COLUMNS]], rows, set(range(2, 10)), bad))
    from . import plot

    parts.append(_guarded("gradient flow", lambda: figures.img(lambda: plot.gradient_flow(dict(monitor)),
                                                               "gradient flow")))
    return "".join(parts)


def _class_names(config: Mapping[str, Any] | None, n: int) -> list[str] | None:
    classes = (config or {}).get("classes")
    if isinstance(classes, list) and len(classes) == n:
        return [str(c) for c in classes]
    return None


def _confusion(run_dir: Path, model: Any, test_data: Any, config: Mapping[str, Any] | None,
               figures: _Figures) -> str:
    from .io.npz import read_npz
    from .limits import hint, limit
    from .monitor.stats import confusion_matrix

    path = run_dir / "predictions.npz"
    if path.is_file():
        arrays = read_npz(path)
        if "y_true" not in arrays or "y_pred" not in arrays:
            return _note(f"predictions.npz must hold arrays 'y_true' and 'y_pred' (found {sorted(arrays)})")
        y_true, y_pred = arrays["y_true"], arrays["y_pred"]
        source = "predictions.npz"
    elif model is not None and test_data is not None:
        from .train import predict

        x, y_true = test_data
        y_pred = predict(model, x)
        y_true = np.asarray(getattr(y_true, "data", y_true))
        source = "the model on the given test data"
    else:
        return _note("no predictions.npz in the run directory (arrays y_true and y_pred) and no test data given")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels_ok = all(a.dtype.kind in "iub" or (a.dtype.kind == "f" and a.ndim == 2) for a in (y_true, y_pred))
    if not labels_ok or y_true.ndim != 1 or len(y_true) != len(y_pred):
        return _note(f"{source}: expected integer labels y_true (N,) and y_pred (N,) or scores (N, C), found "
                     f"{y_true.dtype} {y_true.shape} and {y_pred.dtype} {y_pred.shape}")
    classes = max([int(a.max()) + 1 for a in (y_true, y_pred) if a.ndim == 1 and a.size] +
                  [y_pred.shape[1] if y_pred.ndim == 2 else 0])
    if min([int(a.min()) for a in (y_true, y_pred) if a.ndim == 1 and a.size] or [0]) < 0 or \
            classes > limit("MYELIN_MAX_CLASSES"):
        return _note(f"{source}: labels must lie in [0, {limit('MYELIN_MAX_CLASSES')}) "
                     f"({hint('MYELIN_MAX_CLASSES')}); no confusion matrix drawn")
    if classes > _MAX_MATRIX_CLASSES:  # a matrix of classes^2 cells is neither drawable nor cheap
        pred = y_pred.argmax(axis=1) if y_pred.ndim == 2 else y_pred
        return _note(f"{source}: {counted(len(y_true), 'sample', spec=',')}, accuracy {float(np.mean(pred == y_true)):.2%}; labels up to "
                     f"{classes - 1:,}: more than {_MAX_MATRIX_CLASSES} classes, so no confusion matrix is drawn")
    counts = confusion_matrix(y_true, y_pred)
    names = _class_names(config, counts.shape[0])
    from . import plot

    image = figures.img(lambda: plot.confusion_matrix(y_true, y_pred, classes=names), "confusion matrix")
    support = counts.sum(axis=1)
    recall = np.divide(np.diag(counts), np.maximum(support, 1))
    labels = names or [str(i) for i in range(counts.shape[0])]
    rows = [[_esc(labels[i]), _esc(f"{int(support[i]):,}"), _esc(f"{recall[i]:.1%}")] for i in range(len(labels))]
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    head = f"<p>From {_esc(source)}: {counted(int(counts.sum()), 'sample', spec=',')}, accuracy {accuracy:.2%}.</p>"
    table = _table(["class", "samples", "recall"], rows, {1, 2})
    if image:
        return head + image + "<details><summary>per-class recall</summary>" + table + "</details>"
    raw = _table(["true \\ predicted", *[_esc(n) for n in labels]],
                 [[_esc(labels[i]), *[str(int(c)) for c in counts[i]]] for i in range(len(labels))],
                 set(range(1, len(labels) + 1)))
    return head + raw + table


def _model_section(model: Any, input_shape: Any, figures: _Figures) -> str:
    from .io.forward_budget import check_forward_budget
    from .monitor.summary import format_bytes, format_shape, summary

    notes = []
    if input_shape is not None:
        check_forward_budget(model, tuple(input_shape), "model.safetensors")
    try:
        s = summary(model, tuple(input_shape) if input_shape is not None else None)
    except RuntimeError as err:  # the config's input shape does not fit the model: parameters only
        notes.append(str(err))
        s = summary(model, None)
    rows = [[_esc(a), _esc(b), _esc(c), _esc(d)] for a, b, c, d in s.table_rows()]
    totals = [["total parameters", f"{s.total_params:,}"], ["trainable", f"{s.trainable_params:,}"],
              ["parameter memory", format_bytes(s.param_bytes)],
              ["activation memory (batch 1)", format_bytes(s.activation_bytes)],
              ["input", format_shape(s.batched_shape)]]
    parts = [_table(["layer", "type", "output shape", "params"], rows, {3}),
             _table(None, [[_esc(a), _esc(b)] for a, b in totals], {1})]
    parts += [_note(n) for n in notes + s.notes]
    from . import plot

    shape = _image_shape(input_shape)
    image = _guarded("first layer's weights", lambda: figures.img(
        lambda: plot.first_layer_weights(model, shape), "first layer weights")) if shape else ""
    if image:
        parts.append("<h3>What the first layer's neurons look for</h3>"
                     "<p>Each first-layer neuron's incoming weights as an image: red pixels excite it, "
                     "blue pixels inhibit it.</p>" + image)
    graph = _guarded("computation graph", lambda: _graph_svg(model, input_shape)) if input_shape is not None else ""
    if graph:
        parts.append("<h3>The computation graph</h3><p>One forward pass on one input: each box is an operation "
                     "with the shape of its result; green boxes are parameters.</p>" + graph)
    return "".join(parts)


def _graph_svg(model: Any, input_shape: Any, max_boxes: int = 300) -> str:
    """The model's forward graph on one zero input, as inline SVG (:func:`myelin.viz.graph`)."""
    from . import viz
    from .core.tensor import Tensor

    x = Tensor(np.zeros((1, *tuple(input_shape)), np.float32))
    out = model(x)
    while isinstance(out, (tuple, list)):
        out = out[0]
    g = viz.graph(out, names={"input": x, **dict(model.named_parameters())}, keep_grads=False)
    if len(g) > max_boxes:
        return _note(f"the computation graph has {len(g):,} boxes, too many to draw here")
    return f'<div style="overflow-x:auto">{g.to_svg(standalone=False)}</div>'


def _image_shape(input_shape: Any) -> tuple[int, ...] | None:
    """How to draw first-layer weights for inputs of ``input_shape``, or ``None`` when they are not images.

    ``(C, H, W)`` / ``(H, W)`` inputs are images; a flat input is one when it is a square of at least
    8x8 pixels (MNIST's 784, the digits' 64).
    """
    if not isinstance(input_shape, (list, tuple)) or not all(isinstance(d, int) for d in input_shape):
        return None
    dims = [int(d) for d in input_shape]
    if len(dims) == 3 and dims[0] in (1, 3):
        return (dims[1], dims[2]) if dims[0] == 1 else tuple(dims)
    if len(dims) == 2:
        return tuple(dims)
    if len(dims) == 1 and dims[0] >= 64 and math.isqrt(dims[0]) ** 2 == dims[0]:
        side = math.isqrt(dims[0])
        return (side, side)
    return None


def _settings(config: Mapping[str, Any] | None) -> str:
    if not config:
        return _note("no config.json in the run directory")
    rows = [[_esc(k), _esc(_fmt(v))] for k, v in _flatten(config)]
    return _table(["setting", "value"], rows)


# ----------------------------------------------------------------------------------------- the page


def _load_model(run_dir: Path, notes: list[str]) -> Any:
    path = run_dir / "model.safetensors"
    if not path.is_file():
        return None
    try:
        from .io import load

        return load(path)
    except Exception as err:  # noqa: BLE001 - a model that cannot be loaded is a note on the page
        notes.append(f"could not load model.safetensors: {type(err).__name__}: {err}")
        return None


def render_report(run_dir: str | os.PathLike[str], model: Any = None, *, test_data: Any = None,
                  input_shape: Any = None, title: str | None = None) -> str:
    """The report page for ``run_dir`` as an HTML string (see :func:`write_report`)."""
    folder = Path(run_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"report: run directory {os.fspath(run_dir)!r} does not exist")
    notes: list[str] = []
    config = _read_json(folder / "config.json", notes)
    config = config if isinstance(config, dict) else None
    metrics = _read_json(folder / "metrics.json", notes)
    metrics = metrics if isinstance(metrics, dict) else None
    monitor = _read_json(folder / "monitor.json", notes)
    monitor = monitor if isinstance(monitor, dict) else None
    if model is None:
        model = _load_model(folder, notes)
    if input_shape is None and config and isinstance(config.get("input_shape"), list):
        input_shape = config["input_shape"]
    figures = _Figures()
    sections = [
        ("results", "Results", _guarded("results", lambda: _results(metrics))),
        ("curves", "Learning curves", _guarded("learning curves", lambda: _curves(folder, figures))),
        ("health", "Neuron health", _guarded("neuron health", lambda: _health(monitor, figures))),
        ("confusion", "Confusion matrix",
         _guarded("confusion matrix", lambda: _confusion(folder, model, test_data, config, figures))),
        ("model", "Model", _guarded("model summary", lambda: _model_section(model, input_shape, figures))
         if model is not None else _note("no model.safetensors in the run directory")),
        ("settings", "Settings", _guarded("settings", lambda: _settings(config))),
    ]
    if figures.missing:
        notes.append(f"matplotlib is not installed, so the report has no figures: {install_hint('plot')}")
    name = title or folder.resolve().name
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    nav = "".join(f'<a href="#{ident}">{_esc(label)}</a>' for ident, label, _ in sections)
    body = "".join(_section(ident, label, content) for ident, label, content in sections)
    note_html = "".join(_note(n) for n in notes)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Myelin report: {_esc(name)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>Training report: {_esc(name)}</h1>"
        f'<p class="meta">{_esc(os.fspath(folder.resolve()))} &middot; written {_esc(stamp)} by Myelin</p>'
        f"<nav>{nav}</nav>{note_html}{body}</main></body></html>\n"
    )


def write_report(run_dir: str | os.PathLike[str], model: Any = None, *, test_data: Any = None,
                 input_shape: Any = None, title: str | None = None,
                 path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``report.html`` for a run directory and return its path.

    Args:
        run_dir: the run directory (see the module docstring for the files it may hold).
        model: the trained model; default: loaded from ``model.safetensors`` when present.
        test_data: ``(x, y)`` used for the confusion matrix when there is no ``predictions.npz``.
        input_shape: input shape without the batch dimension for the summary; default:
            ``config.json``'s ``input_shape``, else inferred from a ``Linear`` first layer.
        title: the page title (default: the directory's name).
        path: where to write (default ``run_dir/report.html``); written atomically.
    """
    page = render_report(run_dir, model, test_data=test_data, input_shape=input_shape, title=title)
    from .io import atomic_write

    target = Path(path) if path is not None else Path(run_dir) / "report.html"
    with atomic_write(target, "w", encoding="utf-8") as f:
        f.write(page)
    return target
