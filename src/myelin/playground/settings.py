"""The playground's settings: one flat dict of plain values, checked strictly.

Every setting is a JSON scalar or a list of them, so the whole state fits in the page's address
(``#data=spirals&layers=8,8&lr=0.03...``) and a link reproduces the run. :func:`check_settings`
fills defaults, refuses unknown names, wrong types and out-of-range values with a
:class:`SettingsError` naming the field, what it expects and what it received.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "ACTIVATIONS",
    "DATASETS",
    "DEFAULTS",
    "FEATURES",
    "OPTIMIZERS",
    "SettingsError",
    "check_settings",
    "features_for",
    "schema",
]


class SettingsError(ValueError):
    """A setting the playground cannot use (unknown name, wrong type, out of range)."""


#: Data sets: name -> (kind, input dimension). ``csv`` is the server's or an uploaded table.
DATASETS: dict[str, tuple[str, int]] = {
    "spirals": ("classification", 2), "moons": ("classification", 2), "xor": ("classification", 2),
    "circles": ("classification", 2), "gaussians": ("classification", 2), "checkerboard": ("classification", 2),
    "function": ("classification", 2), "sine": ("regression", 1), "csv": ("table", 0),
}

#: Input features computed from the raw coordinates (``x1``, ``x2``); the 1-D set uses the ``x1`` ones.
FEATURES: dict[str, str] = {
    "x1": "x1", "x2": "x2", "x1^2": "x1 ** 2", "x2^2": "x2 ** 2", "x1*x2": "x1 * x2",
    "sin(x1)": "np.sin(x1)", "sin(x2)": "np.sin(x2)",
}

#: Activation name -> the ``myelin.nn`` class (``linear`` adds no activation layer).
ACTIVATIONS: dict[str, str | None] = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "elu": "ELU",
    "gelu": "GELU", "silu": "SiLU", "linear": None,
}

#: Optimizer name -> the ``myelin.optim`` class.
OPTIMIZERS: dict[str, str] = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
                              "adagrad": "Adagrad"}

DEFAULTS: dict[str, Any] = {
    "data": "spirals",
    "points": 400,
    "noise": 0.1,
    "classes": 2,
    "boundary": "sin(3*x)",
    "train_fraction": 0.5,
    "seed": 0,
    "features": ["x1", "x2"],
    "layers": [8, 8],
    "activation": "tanh",
    "optimizer": "adam",
    "lr": 0.03,
    "momentum": 0.0,
    "batch": 16,
    "l1": 0.0,
    "l2": 0.0,
    "dropout": 0.0,
    "target_kind": "auto",
    "view": "pca",
}

_CHOICES: dict[str, tuple[str, ...]] = {
    "data": tuple(DATASETS),
    "activation": tuple(ACTIVATIONS),
    "optimizer": tuple(OPTIMIZERS),
    "target_kind": ("auto", "classification", "regression"),
}

_MAX_TEXT = 200  # longest string setting (a boundary formula, a view spec)
_MAX_LIST = 4096  # longest list setting before the resource budget even looks at it


def _fail(name: str, expected: str, value: Any) -> SettingsError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return SettingsError(f"setting {name!r}: expected {expected}, received {shown}")


def _int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        span = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise _fail(name, f"an integer {span}", value)
    return value


def _float(name: str, value: Any, low: float, high: float = math.inf, low_open: bool = False,
           high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(name, "a finite number", value)
    value = float(value)
    if value < low or (low_open and value == low) or value > high or (high_open and value == high):
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise _fail(name, f"a number in {lo}{low:g}, {high:g}{hi}", value)
    return value


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise _fail(name, f"a string of at most {_MAX_TEXT} characters", value)
    return value


def _choice(name: str, value: Any) -> str:
    options = _CHOICES[name]
    if not isinstance(value, str) or value not in options:
        raise _fail(name, "one of " + ", ".join(options), value)
    return value


def _int_list(name: str, value: Any, low: int) -> list[int]:
    if isinstance(value, str):  # "8,8" as in the address
        value = [v for v in value.split(",") if v.strip()] if len(value) <= _MAX_LIST * 8 else None
        try:
            value = [int(v) for v in value] if value is not None else None
        except ValueError:
            raise _fail(name, "a list of integers such as 8,8", value) from None
    if not isinstance(value, list) or len(value) > _MAX_LIST:
        raise _fail(name, f"a list of at most {_MAX_LIST} integers", value)
    return [_int(f"{name}[{i}]", v, low) for i, v in enumerate(value)]


def features_for(data: str) -> tuple[str, ...]:
    """The feature names a data set offers (2-D sets: all; the 1-D set: the ``x1`` ones; CSV: none)."""
    dim = DATASETS[data][1]
    return tuple(FEATURES) if dim == 2 else tuple(f for f in FEATURES if "x2" not in f) if dim == 1 else ()


def _features(value: Any, data: str) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v] if len(value) <= _MAX_TEXT else None
    allowed = features_for(data)
    if not allowed and value:
        raise _fail("features", f"no derived features for data {data!r} (the network uses the table's columns)",
                    value)
    if not isinstance(value, list) or len(value) > len(FEATURES):
        raise _fail("features", "a list of feature names", value)
    out: list[str] = []
    for v in value:
        if not isinstance(v, str) or v not in allowed:
            raise _fail("features", f"names among {', '.join(allowed)} for data {data!r}", v)
        if v not in out:
            out.append(v)
    if allowed and not out:
        raise _fail("features", "at least one feature", value)
    return [f for f in allowed if f in out]  # canonical order


def check_settings(raw: Any) -> dict[str, Any]:
    """``raw`` (a dict, possibly partial) checked and completed with :data:`DEFAULTS`.

    Raises :class:`SettingsError` for anything but a dict of known names with usable values.
    Resource limits (how big a network may be) are checked separately, by :mod:`.budget`.
    """
    if not isinstance(raw, dict):
        raise SettingsError(f"settings: expected a JSON object, received {type(raw).__name__}")
    unknown = sorted(str(k)[:40] for k in raw if k not in DEFAULTS)
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(map(repr, unknown))}; known: {', '.join(DEFAULTS)}")
    s = {**DEFAULTS, **raw}
    out: dict[str, Any] = {}
    for name in ("data", "activation", "optimizer", "target_kind"):
        out[name] = _choice(name, s[name])
    out["points"] = _int("points", s["points"], 4)
    out["noise"] = _float("noise", s["noise"], 0.0)
    out["classes"] = _int("classes", s["classes"], 2, 16)
    out["boundary"] = _text("boundary", s["boundary"])
    out["train_fraction"] = _float("train_fraction", s["train_fraction"], 0.0, 1.0, low_open=True, high_open=True)
    out["seed"] = _int("seed", s["seed"], 0, 2**32 - 1)
    csv_default = out["data"] == "csv" and "features" not in raw  # a table brings its own columns
    out["features"] = [] if csv_default else _features(s["features"], out["data"])
    out["layers"] = _int_list("layers", s["layers"], 1)
    out["lr"] = _float("lr", s["lr"], 0.0, low_open=True)
    out["momentum"] = _float("momentum", s["momentum"], 0.0, 1.0, high_open=True)
    out["batch"] = _int("batch", s["batch"], 1)
    out["l1"] = _float("l1", s["l1"], 0.0)
    out["l2"] = _float("l2", s["l2"], 0.0)
    out["dropout"] = _float("dropout", s["dropout"], 0.0, 1.0, high_open=True)
    out["view"] = _text("view", s["view"])
    return out


def schema() -> dict[str, Any]:
    """Defaults and choices, for the page to build its controls from."""
    return {"defaults": DEFAULTS, "choices": {k: list(v) for k, v in _CHOICES.items()},
            "features": {d: list(features_for(d)) for d in DATASETS}}
