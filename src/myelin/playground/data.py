"""The playground's data: points from a generator or a table, the train/test split, the input
features, and the plane (or line) the page draws them on.

For the 2-D sets the drawing plane is the input plane itself. For the 1-D regression set
(``sine``) the page draws ``y`` against ``x`` and each neuron as a curve over ``x``. For a table
with more than two feature columns the network trains on every column (standardised with the
training rows' mean and std) and the page draws a 2-D view: the first two principal components
(PCA by SVD in NumPy) or two chosen columns; the model's output over that view is evaluated on
the plane through the training mean (the other directions held at their mean).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .settings import DATASETS, SettingsError

__all__ = ["GRID", "LINE", "PlayData", "Table", "build_data", "feature_columns", "split_indices"]

GRID = 40  # the view plane is sampled on GRID x GRID points
LINE = 120  # the 1-D view on LINE points


@dataclass
class Table:
    """A CSV table as the playground holds it: numeric features and a raw target column."""

    name: str
    x: np.ndarray  # float32 (N, D)
    target: np.ndarray  # (N,) float64 values, or int64 class indices when the target was text
    columns: list[str]
    target_name: str
    class_names: list[str] | None = None  # names of text classes (target is then int64 indices)


@dataclass
class PlayData:
    """Everything the session trains on and draws."""

    task: str  # "classification" or "regression"
    num_outputs: int  # classes, or 1 for regression
    class_names: list[str]
    input_names: list[str]  # the network's inputs
    x_train: np.ndarray  # float32 (n_train, n_inputs)
    y_train: np.ndarray  # int64 (n_train,) or float32 (n_train, 1)
    x_test: np.ndarray
    y_test: np.ndarray
    view_train: np.ndarray  # float32 (n_train, 2): where each point is drawn
    view_test: np.ndarray
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 of the drawing
    grid_inputs: np.ndarray  # network inputs on the view grid: (GRID*GRID, n_inputs) or (LINE, n_inputs)
    dim: int  # 2: a plane (heat maps); 1: a line (curves)
    axis_names: tuple[str, str] = ("x1", "x2")
    target_range: tuple[float, float] = (0.0, 1.0)  # regression colour scale
    notes: list[str] = field(default_factory=list)
    preprocess: dict[str, Any] = field(default_factory=dict)  # input (and target) standardisation of a table


def split_indices(n: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices: a permutation by ``default_rng(seed)``, the first part for training."""
    order = np.random.default_rng(seed).permutation(n)
    n_train = min(max(round(n * train_fraction), 1), n - 1)
    return order[:n_train], order[n_train:]


def feature_columns(raw: np.ndarray, names: list[str]) -> np.ndarray:
    """The named features (:data:`FEATURES`) of raw coordinates ``(N, 1 or 2)``, float32 ``(N, F)``."""
    x1 = raw[:, 0]
    x2 = raw[:, 1] if raw.shape[1] > 1 else None
    cols = {"x1": lambda: x1, "x2": lambda: x2, "x1^2": lambda: x1 ** 2, "x2^2": lambda: x2 ** 2,
            "x1*x2": lambda: x1 * x2, "sin(x1)": lambda: np.sin(x1), "sin(x2)": lambda: np.sin(x2)}
    return np.stack([cols[n]() for n in names], axis=1).astype(np.float32)


def _points(settings: dict[str, Any], boundary_fn: Any) -> tuple[np.ndarray, np.ndarray]:
    from .. import datasets

    name, n, noise, seed = settings["data"], settings["points"], settings["noise"], settings["seed"]
    if name == "spirals":
        return datasets.spirals(n, classes=settings["classes"], noise=noise, seed=seed)
    if name == "gaussians":
        return datasets.gaussians(n, classes=settings["classes"], noise=noise, seed=seed)
    if name == "function":
        return datasets.function_boundary(boundary_fn, n, noise=noise, seed=seed)
    generator = getattr(datasets, name)
    return generator(n, noise=noise, seed=seed)


def _extent(points: np.ndarray, pad: float = 0.1) -> tuple[float, float, float, float]:
    lo, hi = points.min(axis=0).astype(np.float64), points.max(axis=0).astype(np.float64)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def _plane(extent: tuple[float, float, float, float]) -> np.ndarray:
    """The GRID x GRID view points, row-major from the top-left (y decreasing down the rows)."""
    xs = np.linspace(extent[0], extent[1], GRID)
    ys = np.linspace(extent[3], extent[2], GRID)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _synthetic(settings: dict[str, Any], boundary_fn: Any) -> PlayData:
    kind, dim = DATASETS[settings["data"]]
    raw, y = _points(settings, boundary_fn)
    train, test = split_indices(len(raw), settings["train_fraction"], settings["seed"])
    names = list(settings["features"])
    x = feature_columns(raw, names)
    if dim == 1:  # regression on a line: y drawn against x
        view = np.concatenate([raw, y], axis=1)
        extent = _extent(view)
        line = np.linspace(extent[0], extent[1], LINE)[:, None]
        lo, hi = extent[2], extent[3]  # the colour (and curve) scale: the drawing's y range
        return PlayData("regression", 1, [], names, x[train], y[train], x[test], y[test], view[train], view[test],
                        extent, feature_columns(line, names), 1, ("x", "y"), (lo, hi))
    classes = int(y.max()) + 1
    if settings["data"] in ("spirals", "gaussians"):
        classes = max(classes, settings["classes"])
    extent = _extent(raw)
    return PlayData(kind, max(classes, 2), [f"class {c}" for c in range(max(classes, 2))], names,
                    x[train], y[train], x[test], y[test], raw[train], raw[test], extent,
                    feature_columns(_plane(extent), names), 2)


def build_data(settings: dict[str, Any], table: Table | None = None, boundary_fn: Any = None) -> PlayData:
    """The data ``settings`` describe (``table``: the CSV data when ``settings['data'] == 'csv'``)."""
    if settings["data"] != "csv":
        return _synthetic(settings, boundary_fn)
    if table is None:
        raise SettingsError("setting 'data': 'csv' needs a CSV file (upload one, or start the server with --data)")
    from .table import table_data

    return table_data(settings, table)
