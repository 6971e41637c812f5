"""Your own data in the playground: a CSV table, its target (classes or a number), and a 2-D view.

The file is read by the same reader as ``myelin train --data FILE.csv`` (:func:`myelin.data.csv_table.read_csv`:
a header row, numbers everywhere but a text target, each bad cell reported with its line and
column), then checked for what a playground run needs: finite values (empty or ``nan`` cells are
refused with their column), at least two classes or a target that varies, at least 4 rows.

The network trains on every feature column, standardised with the training rows' mean and
standard deviation; a regression target is standardised the same way (losses are in those
units). The page draws a 2-D view: with two feature columns, those columns; with more, the first
two principal components of the standardised training rows (``view='pca'``, by SVD in NumPy) or
two named columns (``view='a,b'``), the model evaluated on the plane through the training mean.
With one feature column (regression only) the page draws the target against it, as for ``sine``.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._plural import counted
from .settings import SettingsError

__all__ = ["MAX_CLASSES", "TableError", "output_count", "parse_table", "read_table", "table_data",
           "table_script_lines", "table_widths"]

MAX_CLASSES = 50  # a numeric target with at most this many integer values counts as classes ("auto")


class TableError(ValueError):
    """A CSV the playground cannot use (the message names the file, the column or line)."""


def _read_csv(path: Path, target: str | None) -> Any:
    from ..data.csv_table import TableFileError, read_csv

    try:
        x, _, names, _ = read_csv(path, None, label=False)  # all numeric: the target is among the columns
    except TableFileError as numeric_error:
        try:  # a text target (class names)?
            x, y, names, classes = read_csv(path, target, label=True)
        except TableFileError as exc:
            raise TableError(str(exc)) from None
        if classes is None:
            raise TableError(str(numeric_error)) from None
        if target is None:
            with open(path, newline="", encoding="utf-8-sig") as f:
                target = next(csv.reader(f))[-1].strip()
        return x, y.astype(np.int64), names, classes, target
    if target is None:
        k = len(names) - 1
    elif target in names:
        k = names.index(target)
    else:
        raise TableError(f"{path.name}: no column named {target!r}; columns are {', '.join(map(repr, names))}")
    if len(names) < 2:
        raise TableError(f"{path.name}: expected at least one feature column and a target column")
    keep = [i for i in range(len(names)) if i != k]
    return x[:, keep], x[:, k].astype(np.float64), [names[i] for i in keep], None, names[k]


def read_table(path: Path, target: str | None = None, name: str | None = None) -> Any:
    """A :class:`~.data.Table` from a CSV file (``target``: the target column, default the last)."""
    from .data import Table

    x, y, names, classes, target_name = _read_csv(path, target)
    shown = name or path.name
    if len(x) < 4:
        raise TableError(f"{shown}: expected at least 4 rows (some to train on, some to test), found {len(x)}")
    bad = ~np.isfinite(x)
    if bad.any():
        col = int(np.argmax(bad.any(axis=0)))
        raise TableError(f"{shown}: column {names[col]!r} has {int(bad[:, col].sum())} missing or non-finite "
                         f"value(s) (first at data row {int(np.argmax(bad[:, col])) + 1}); fill or drop them")
    if classes is None and not np.isfinite(y).all():
        raise TableError(f"{shown}: the target column {target_name!r} has missing or non-finite values")
    if len(np.unique(y)) < 2:
        raise TableError(f"{shown}: every row has the same target ({y[0]!r} in {target_name!r}): nothing to learn")
    if len(set(names)) != len(names):
        raise TableError(f"{shown}: repeated column names in the header")
    return Table(shown, x, y, names, target_name, classes)


def parse_table(body: bytes, name: str, target: str | None = None) -> Any:
    """A :class:`~.data.Table` from an uploaded CSV's bytes (read through a temporary file)."""
    if not body.strip():
        raise TableError(f"{name}: the file is empty")
    safe = "".join(c for c in Path(name).name if c.isalnum() or c in "._-")[:80] or "upload.csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (safe if safe.lower().endswith(".csv") else safe + ".csv")
        path.write_bytes(body)
        try:
            return read_table(path, target, name=safe)
        except TableError as exc:
            raise TableError(str(exc).replace(str(path), safe)) from None


def _task(settings: dict[str, Any], table: Any) -> tuple[str, np.ndarray, list[str]]:
    """Classification or regression, the class indices (or raw values), the class names."""
    kind, y = settings["target_kind"], table.target
    if table.class_names is not None:
        if kind == "regression":
            raise SettingsError(f"setting 'target_kind': the target {table.target_name!r} holds text, so it can "
                                f"only be classes")
        return "classification", y, list(table.class_names)
    values = np.unique(y)
    integral = bool(np.all(values == np.round(values)))
    if kind == "auto":
        kind = "classification" if integral and len(values) <= MAX_CLASSES else "regression"
    if kind == "regression":
        return "regression", y, []
    if len(values) > MAX_CLASSES:
        raise SettingsError(f"setting 'target_kind': {table.target_name!r} has {len(values)} distinct values, "
                            f"more than {MAX_CLASSES} classes; choose regression")
    return "classification", np.searchsorted(values, y).astype(np.int64), [f"{v:g}" for v in values]


def output_count(settings: dict[str, Any], table: Any) -> int:
    """The network's outputs for this table: classes, or 1 for regression."""
    task, _, names = _task(settings, table)
    return len(names) if task == "classification" else 1


def table_widths(settings: dict[str, Any], table: Any) -> list[int]:
    return [table.x.shape[1], *settings["layers"], output_count(settings, table)]


def _view_columns(settings: dict[str, Any], table: Any) -> tuple[int, int] | None:
    """The two columns to draw, or ``None`` for PCA."""
    view = settings["view"].strip()
    if table.x.shape[1] == 2 and view in ("pca", ""):
        return 0, 1
    if view in ("pca", ""):
        return None
    parts = [p.strip() for p in view.split(",")]
    if len(parts) != 2 or any(p not in table.columns for p in parts) or parts[0] == parts[1]:
        raise SettingsError(f"setting 'view': expected 'pca' or two different columns such as "
                            f"{table.columns[0]},{table.columns[-1]}; columns are {', '.join(table.columns)}")
    return table.columns.index(parts[0]), table.columns.index(parts[1])


def table_data(settings: dict[str, Any], table: Any) -> Any:
    """The :class:`~.data.PlayData` of a table under ``settings`` (split, standardise, task, view)."""
    from .data import LINE, PlayData, _extent, _plane, split_indices

    task, y, class_names = _task(settings, table)
    x = table.x
    dims = x.shape[1]
    if dims < 2 and task == "classification":
        raise SettingsError(f"{table.name}: classification needs at least two feature columns to draw, found {dims}")
    train, test = split_indices(len(x), settings["train_fraction"], settings["seed"])
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    std[std == 0] = 1
    xs = (x - mean) / std
    notes = [(f"{table.name}: {counted(len(x), 'row')}, {dims} feature column(s), target {table.target_name!r} "
              f"({task}); features standardised with the training rows' mean and std")]
    prep: dict[str, Any] = {"input_mean": mean.tolist(), "input_std": std.tolist(), "columns": list(table.columns)}
    if task == "regression":
        t = y.astype(np.float32)
        t_mean, t_std = t[train].mean(), t[train].std()
        t_std = t_std if t_std > 0 else np.float32(1)
        yy = ((t - t_mean) / t_std)[:, None]
        prep.update(target_mean=float(t_mean), target_std=float(t_std))
        notes.append(f"target standardised: (value - {float(t_mean):.4g}) / {float(t_std):.4g}; losses in those units")
    else:
        yy = y.astype(np.int64)
    if dims == 1:  # regression on one column: target against it
        view = np.concatenate([x, yy], axis=1).astype(np.float32)
        extent = _extent(view)
        line = np.linspace(extent[0], extent[1], LINE)[:, None]
        grid = ((line - mean) / std).astype(np.float32)
        return PlayData(task, 1, [], list(table.columns), xs[train], yy[train], xs[test], yy[test], view[train],
                        view[test], extent, grid, 1, (table.columns[0], table.target_name), (extent[2], extent[3]),
                        notes, prep)
    cols = _view_columns(settings, table)
    if cols is None:
        _, s, vt = np.linalg.svd(xs[train].astype(np.float64), full_matrices=False)
        basis = vt[:2]
        view = (xs @ basis.T).astype(np.float32)
        share = (s[:2] ** 2).sum() / max((s ** 2).sum(), 1e-12)
        extent = _extent(view[train])
        grid = (_plane(extent) @ basis).astype(np.float32)
        axes = ("PC1", "PC2")
        notes.append(f"view: the first two principal components ({share:.0%} of the variance); the model is "
                     f"drawn on their plane through the training mean")
    else:
        a, b = cols
        view = x[:, [a, b]].astype(np.float32)
        extent = _extent(view[train])
        plane = _plane(extent)
        grid = np.zeros((len(plane), dims), dtype=np.float32)  # other columns at their training mean
        grid[:, a] = (plane[:, 0] - mean[a]) / std[a]
        grid[:, b] = (plane[:, 1] - mean[b]) / std[b]
        axes = (table.columns[a], table.columns[b])
        if dims > 2:
            notes.append(f"view: columns {axes[0]!r} and {axes[1]!r}; the model is drawn with the other columns "
                         f"at their training mean")
    outputs = len(class_names) if task == "classification" else 1
    lo, hi = (float(yy.min()), float(yy.max())) if task == "regression" else (0.0, 1.0)
    return PlayData(task, outputs, class_names, list(table.columns), xs[train], yy[train], xs[test], yy[test],
                    view[train], view[test], extent, grid, 2, axes, (lo, hi), notes, prep)


def table_script_lines(settings: dict[str, Any], table: Any) -> tuple[list[str], list[str], bool]:
    """Imports, the lines that make ``x`` and ``y`` from the CSV file, and whether it is a regression."""
    task, _, class_names = _task(settings, table)
    regression = task == "regression"
    from .data import split_indices

    n_train = len(split_indices(len(table.x), settings["train_fraction"], 0)[0])
    lines = [
        f"FILE = {table.name!r}  # put the CSV file next to this script",
        f"TARGET = {table.target_name!r}",
        "with open(FILE, newline=\"\", encoding=\"utf-8-sig\") as f:",
        "    rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]",
        "header = [h.strip() for h in rows[0]]",
        "t = header.index(TARGET)",
        "x = np.array([[float(r[i]) for i in range(len(header)) if i != t] for r in rows[1:]], dtype=np.float32)",
        "target = [r[t].strip() for r in rows[1:]]",
    ]
    if table.class_names is not None:
        lines += ["classes = sorted(set(target))  # text classes, in sorted order",
                  "y = np.array([classes.index(v) for v in target], dtype=np.int64)"]
    elif regression:
        lines += ["y = np.array([float(v) for v in target], dtype=np.float32)"]
    else:
        lines += ["values = np.unique(np.array([float(v) for v in target], dtype=np.float32).astype(np.float64))",
                  ("y = np.searchsorted(values, np.array([float(v) for v in target], dtype=np.float32)"
                   ".astype(np.float64)).astype(np.int64)"),
                  f"# classes: {', '.join(class_names)}"]
    lines += [
        "fit_rows = np.random.default_rng(SEED).permutation(len(x))[:N_TRAIN]  # the training rows",
        "mean, std = x[fit_rows].mean(axis=0), x[fit_rows].std(axis=0)",
        "std[std == 0] = 1",
        "x = (x - mean) / std  # standardised with the training rows",
    ]
    if regression:
        lines += [
            "t_mean, t_std = y[fit_rows].mean(), y[fit_rows].std()",
            "t_std = t_std if t_std > 0 else np.float32(1)",
            "y = ((y - t_mean) / t_std)[:, None]  # the target standardised too",
        ]
    lines = [line.replace("N_TRAIN", str(n_train)) for line in lines]
    return ["import csv"], lines, regression
