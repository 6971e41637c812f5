"""Data for the ``myelin`` command: built-in sets, ``.npz`` and ``.csv`` files, text corpora.

Every loader returns a :class:`Data`: float32 inputs, int64 class labels, a train and a test part.
Images are ``(N, C, H, W)``; tabular rows ``(N, D)``; text windows int64 ``(N, T)``.
``uint8`` inputs are divided by 255 (the same rule ``evaluate`` and ``predict`` apply).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._plural import counted
from ..data import csv_table
from ._errors import CLIError

__all__ = ["BUILTIN", "Data", "check_data_options", "load_data", "load_inputs", "prepare_inputs", "read_csv",
           "read_npz"]

BUILTIN = ("digits", "mnist", "fashion-mnist")


@dataclass
class Data:
    """Train and test arrays plus what the model builder needs to know about them."""

    name: str
    kind: str  # "image", "table" or "text"
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    classes: list[str] | None = None
    vocab: list[str] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])


def prepare_inputs(x: np.ndarray, where: str) -> np.ndarray:
    """Inputs as float32: uint8 scaled to ``[0, 1]``; ``(N, H, W)`` images get a channel axis."""
    if x.dtype.kind not in "iuf":
        raise CLIError(f"{where}: expected numeric inputs, found dtype {x.dtype}")
    if x.ndim < 2:
        raise CLIError(f"{where}: expected inputs of shape (N, features...), found shape {x.shape}")
    out = x.astype(np.float32) / np.float32(255.0) if x.dtype == np.uint8 else x.astype(np.float32, copy=False)
    if out.ndim == 3:
        out = out[:, None]
    if not np.isfinite(out).all():
        raise CLIError(f"{where}: inputs contain NaN or infinite values")
    return out


def _labels(y: np.ndarray, where: str) -> np.ndarray:
    try:
        return csv_table.class_labels(y, where)
    except csv_table.TableFileError as exc:
        raise CLIError(str(exc)) from None


def read_csv(path: Path, target: str | None, label: bool = True) -> tuple[np.ndarray, np.ndarray, list[str], list[str] | None]:
    """:func:`myelin.data.csv_table.read_csv`, its errors as the command line's one-line ``CLIError``."""
    try:
        return csv_table.read_csv(path, target, label)
    except csv_table.TableFileError as exc:
        raise CLIError(str(exc)) from None


def _split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = max(1, round(len(x) * fraction))
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return x[train], y[train], x[test], y[test]


def _finish(name: str, x_tr: Any, y_tr: Any, x_te: Any, y_te: Any, classes: list[str] | None = None,
            notes: list[str] | None = None) -> Data:
    x_tr, x_te = prepare_inputs(np.asarray(x_tr), name), prepare_inputs(np.asarray(x_te), name)
    y_tr, y_te = _labels(y_tr, name), _labels(y_te, name)
    for xs, ys, part in ((x_tr, y_tr, "training"), (x_te, y_te, "test")):
        if len(xs) != len(ys):
            raise CLIError(f"{name}: {counted(len(xs), f'{part} input')} but {counted(len(ys), 'label')}")
    if len(x_tr) < 2:
        raise CLIError(f"{name}: expected at least 2 training samples, found {len(x_tr)}")
    if len(x_te) < 1:
        raise CLIError(f"{name}: the test part has no samples (x_test/y_test are empty)")
    present = np.unique(y_tr)
    if len(present) < 2:
        raise CLIError(f"{name}: every training label is {_class_text(int(present[0]), classes)}: a classifier "
                       "needs at least two classes")
    if x_tr.shape[1:] != x_te.shape[1:]:
        raise CLIError(f"{name}: training samples have shape {x_tr.shape[1:]} but test samples {x_te.shape[1:]}")
    num_classes = int(max(y_tr.max(), y_te.max() if len(y_te) else 0)) + 1
    if classes is not None:
        num_classes = max(num_classes, len(classes))
    kind = "image" if x_tr.ndim == 4 else "table"
    return Data(name, kind, x_tr, y_tr, x_te, y_te, num_classes, classes, notes=notes or [])


def _class_text(k: int, classes: list[str] | None) -> str:
    return repr(classes[k]) if classes is not None and k < len(classes) else str(k)


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, refusing pickled objects and decompression bombs (see :mod:`myelin.io.npz`)."""
    from ..io.npz import NpzError
    from ..io.npz import read_npz as read_bounded

    try:
        return read_bounded(path)
    except NpzError as exc:
        raise CLIError(str(exc)) from None


def _load_npz(path: Path, seed: int) -> Data:
    arrays = read_npz(path)
    if {"x_train", "y_train"} <= arrays.keys():
        if ("x_test" in arrays) != ("y_test" in arrays):
            raise CLIError(f"{path}: has only one of x_test and y_test")
        if "x_test" in arrays:
            return _finish(str(path), arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"])
        x, y, note = arrays["x_train"], arrays["y_train"], "no x_test/y_test in the file: held out 20% for testing"
    elif {"x", "y"} <= arrays.keys():
        x, y, note = arrays["x"], arrays["y"], "held out 20% of x/y for testing"
    else:
        raise CLIError(f"{path}: expected arrays x_train and y_train (optionally x_test, y_test) or x and y, "
                       f"found {sorted(arrays) or 'none'}")
    x, y = np.asarray(x), _labels(y, str(path))
    if len(x) != len(y):
        raise CLIError(f"{path}: {counted(len(x), 'input')} but {counted(len(y), 'label')}")
    if len(x) < 3:
        raise CLIError(f"{path}: expected at least 3 samples to split into train and test, found {len(x)}")
    return _finish(str(path), *_split(x, y, 0.2, seed), notes=[note])


def _load_text(path: Path, seq_len: int = 100) -> Data:
    from ..datasets import text

    train, val = text(path, seq_len, val_fraction=0.1)
    x_tr, y_tr = train.arrays
    x_te, y_te = val.arrays
    return Data(str(path), "text", x_tr, y_tr, x_te, y_te, train.vocab_size, vocab=list(train.vocab))


def load_data(spec: str, data_dir: str | None = None, target: str | None = None, seed: int = 0,
              download: bool = True) -> Data:
    """The data set named by ``--data``: ``digits``, ``mnist``, ``fashion-mnist``, or a ``.npz``/``.csv``/``.txt`` path.

    ``download=False``: MNIST files must already be on disk (no network access)."""
    from .. import datasets

    key = spec.lower().replace("_", "-")
    if key == "digits":
        (x_tr, y_tr), (x_te, y_te) = datasets.digits()
        return _finish("digits", x_tr, y_tr, x_te, y_te)
    if key in ("mnist", "fashion-mnist"):
        loader = datasets.mnist if key == "mnist" else datasets.fashion_mnist
        try:
            (x_tr, y_tr), (x_te, y_te) = loader(root=data_dir, download=download)
        except datasets.DatasetNotFoundError as exc:
            raise datasets.DatasetNotFoundError(str(exc).replace("pass root=<that folder>", "pass --data-dir <that folder>")) from None
        return _finish(key, x_tr, y_tr, x_te, y_te)
    path = Path(spec).expanduser()
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".csv", ".txt"):
        raise CLIError(f"unknown data {spec!r}: expected digits, mnist, fashion-mnist, or a .npz, .csv or .txt file")
    if not path.is_file():
        raise FileNotFoundError(f"no data file at {path}")
    if suffix == ".npz":
        return _load_npz(path, seed)
    if suffix == ".txt":
        return _load_text(path)
    x, y, _, classes = read_csv(path, target)
    if len(x) < 3:
        raise CLIError(f"{path}: expected at least 3 rows to split into train and test, found {len(x)}")
    return _finish(str(path), *_split(x, y, 0.2, seed), classes=classes, notes=["held out 20% of the rows for testing"])


def check_data_options(spec: str, data_dir: str | None, target: str | None) -> None:
    """Refuse ``--data-dir`` and ``--target`` where ``--data spec`` does not use them: a flag that would be
    silently ignored is a mistake the user should hear about."""
    key = spec.lower().replace("_", "-")
    suffix = Path(spec).suffix.lower()
    if key not in BUILTIN and suffix not in (".npz", ".csv", ".txt"):
        return  # load_data names the unknown data
    what = "the built-in digits" if key == "digits" else key if key in BUILTIN else f"a {suffix} file"
    if data_dir is not None and key not in ("mnist", "fashion-mnist"):
        raise CLIError(f"--data-dir applies to mnist and fashion-mnist (the folder of their files), not to {what} "
                       f"(--data {spec}); leave it out")
    if target is not None and suffix != ".csv":
        raise CLIError(f"--target names the label column of a CSV file; {what} (--data {spec}) has no columns, "
                       f"leave it out")


def load_inputs(path: Path, target: str | None = None, n_features: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs (and labels when present) for ``myelin predict``: an ``.npz`` (``x``, ``x_test`` or one array) or a
    ``.csv`` (with ``n_features`` columns: all features; with one more: the last, or ``target``, is the label)."""
    suffix = path.suffix.lower()
    if suffix == ".npz":
        arrays = read_npz(path)
        for xk, yk in (("x", "y"), ("x_test", "y_test"), ("x_train", "y_train")):
            if xk in arrays:
                return prepare_inputs(arrays[xk], str(path)), arrays.get(yk)
        if len(arrays) == 1:
            return prepare_inputs(next(iter(arrays.values())), str(path)), None
        raise CLIError(f"{path}: expected an array named x (or x_test), found {sorted(arrays) or 'none'}")
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), [])
        if n_features is not None and len(header) == n_features and target is None:
            x, _, _, _ = read_csv(path, None, label=False)
            return x, None
        x, y, _, _ = read_csv(path, target)
        return x, y
    raise CLIError(f"{path}: expected a .png, .npz or .csv input")

