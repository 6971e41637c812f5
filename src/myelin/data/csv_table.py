"""Reading a CSV table with a header row: float32 features, class labels, column and class names.

The one CSV reader of the library: ``myelin train --data table.csv``, ``myelin predict`` and the
playground's upload all use it. Every mistake a file can hold (no header row, a text cell in a
feature column, an empty label, a single column, a UTF-8 BOM, too many classes, an oversized file)
is a :class:`TableFileError` naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np

from .._plural import counted
from ..limits import hint, limit

__all__ = ["TableFileError", "class_labels", "read_csv"]


class TableFileError(ValueError):
    """A table file that cannot be used as it is (the message says where and why)."""


def class_labels(y: np.ndarray, where: str) -> np.ndarray:
    """Labels as int64 class indices ``(N,)``: integers >= 0, below ``MYELIN_MAX_CLASSES``."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise TableFileError(f"{where}: expected class labels of shape (N,), found shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            raise TableFileError(f"{where}: expected integer class labels, found non-integer values")
    elif y.dtype.kind not in "iub":
        raise TableFileError(f"{where}: expected integer class labels, found dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise TableFileError(f"{where}: expected class labels >= 0, found {int(y.min())}")
    max_classes = limit("MYELIN_MAX_CLASSES")
    if y.size and y.max() >= max_classes:
        raise TableFileError(f"{where}: label {int(y.max()):,} means {counted(int(y.max()) + 1, 'class', spec=',')} "
                       f"({hint('MYELIN_MAX_CLASSES')})")
    return y


def _label_column(path: Path, header: list[str], target: str | None, label: bool) -> int:
    if not label:
        return -1
    if label and len(header) < 2:
        raise TableFileError(f"{path}: expected at least one feature column and a label column")
    if target is None:
        return len(header) - 1
    if target in header:
        return header.index(target)
    raise TableFileError(f"{path}: no column named {target!r}; columns are {', '.join(map(repr, header))}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return bool(text.strip())


def _numeric_table(path: Path, columns: int) -> np.ndarray | None:
    """All rows after the header as one float array (NumPy's fast reader), or ``None`` if any cell is not a number."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2, encoding="utf-8-sig")
    except (ValueError, UserWarning, UnicodeDecodeError):
        return None
    return table if table.shape[1] == columns and len(table) else None


def _splitclass_labels(path: Path, labels: list[str]) -> tuple[np.ndarray, list[str] | None]:
    """Numeric labels as class indices, or text labels as classes in sorted order (and their names)."""
    try:
        numbers = np.array([float(v) for v in labels])
    except ValueError:
        classes = sorted(set(labels))
        if len(classes) > limit("MYELIN_MAX_CLASSES"):
            raise TableFileError(f"{path}: the labels name {counted(len(classes), 'class', spec=',')} ({hint('MYELIN_MAX_CLASSES')})") from None
        index = {c: k for k, c in enumerate(classes)}
        return np.array([index[v] for v in labels], dtype=np.int64), classes
    return class_labels(numbers, str(path)), None


def read_csv(path: Path, target: str | None, label: bool = True) -> tuple[np.ndarray, np.ndarray, list[str], list[str] | None]:
    """A CSV with a header row: features float32 ``(N, D)``, labels, feature names, class names.

    The label is the last column, or the column named ``target`` (``label=False``: no label column).
    Numeric labels are used as class indices; text labels become classes in sorted order
    (``classes`` is their names). A cell that is not a number is reported with its line and column.
    """
    if path.stat().st_size > limit("MYELIN_MAX_CSV_BYTES"):
        raise TableFileError(f"{path}: larger than {limit('MYELIN_MAX_CSV_BYTES') >> 20} MB ({hint('MYELIN_MAX_CSV_BYTES')})")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = [h.strip() for h in next(csv.reader(f), [])]
    except (csv.Error, UnicodeDecodeError) as exc:
        raise TableFileError(f"{path}: unreadable CSV ({exc})") from None
    if header and all(_is_number(h) for h in header):
        raise TableFileError(f"{path}: the first line ({', '.join(header[:4])}{', ...' if len(header) > 4 else ''}) holds only "
                       "numbers, so it is data, not a header: add a first line of column names")
    col = _label_column(path, header, target, label)
    features = [i for i in range(len(header)) if i != col]
    names = [header[i] for i in features]
    table = _numeric_table(path, len(header))
    if table is not None:  # every cell is a number: the fast path
        labels = table[:, col] if label else np.zeros(len(table))
        return table[:, features].astype(np.float32), (class_labels(labels, str(path)) if label else labels), names, None
    with open(path, newline="", encoding="utf-8-sig") as f:
        try:
            rows = [(n, r) for n, r in enumerate(csv.reader(f), start=1) if r and any(c.strip() for c in r)][1:]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise TableFileError(f"{path}: unreadable CSV ({exc})") from None
    if not rows:
        raise TableFileError(f"{path}: expected a header row and at least one data row")
    xs = np.empty((len(rows), len(features)), dtype=np.float32)
    labels_text: list[str] = []
    for k, (line, row) in enumerate(rows):
        if len(row) != len(header):
            raise TableFileError(f"{path}: line {line} has {counted(len(row), 'field')}, the header has {len(header)}")
        for j, i in enumerate(features):
            try:
                xs[k, j] = float(row[i])
            except ValueError:
                raise TableFileError(f"{path}: line {line}, column {header[i]!r}: {row[i]!r} is not a number") from None
        if label and not row[col].strip():
            raise TableFileError(f"{path}: line {line}, column {header[col]!r}: the label is empty")
        labels_text.append(row[col].strip() if label else "0")
    y, classes = _splitclass_labels(path, labels_text)
    return xs, y, names, classes
