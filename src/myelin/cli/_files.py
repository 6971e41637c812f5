"""Run directories and model files as the command line finds them."""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from .._plural import counted
from ._errors import CLIError

__all__ = ["RUN_FACTS_KEY", "check_run_facts", "check_settings", "json_text", "load_model_file", "model_path",
           "read_run_config", "write_json"]

MAX_JSON_BYTES = 16 * 1024 * 1024
#: Metadata key of the model files ``myelin train`` writes: the input shape, classes and vocabulary as JSON.
RUN_FACTS_KEY = "cli.run"


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become null, tuples lists, NumPy scalars numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return _clean(value.item())
    return value


def json_text(obj: Any) -> str:
    """``obj`` as compact JSON (NaN/inf as null, NumPy scalars as numbers)."""
    return json.dumps(_clean(obj), allow_nan=False, separators=(",", ":"))


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically (temporary file, then rename)."""
    from ..io import atomic_write

    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(_clean(obj), f, indent=2, allow_nan=False)
        f.write("\n")


def read_run_config(run_dir: Path) -> dict[str, Any] | None:
    """The ``config.json`` a run directory holds, or ``None`` when there is none or it is unreadable."""
    path = Path(run_dir) / "config.json"
    try:
        if not path.is_file() or path.stat().st_size > MAX_JSON_BYTES:
            return None
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _setting_ok(key: str, value: Any) -> bool:
    def number(low: float, high: float = math.inf, closed_high: bool = False) -> bool:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return False
        return low <= value <= high if closed_high else low <= value < high

    if key in ("data", "model", "optimizer"):
        return isinstance(value, str) and 0 < len(value) <= 4096
    if key in ("data_dir", "target"):
        return value is None or (isinstance(value, str) and len(value) <= 4096)
    if key in ("epochs", "batch_size", "patience"):
        return value is None or (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10**9)
    if key == "seed":
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
    if key == "lr":
        return value is None or (number(0.0) and value > 0)
    if key in ("dropout", "val_split"):
        return number(0.0, 1.0)
    if key in ("l1", "l2"):
        return number(0.0)
    return True


_SETTING_TYPES = {
    "data": "a string", "model": "a string", "optimizer": "a string", "data_dir": "a string or null",
    "target": "a string or null", "epochs": "an int >= 1 or null", "batch_size": "an int >= 1 or null",
    "patience": "an int >= 1 or null", "seed": "an int >= 0", "lr": "a number > 0 or null",
    "dropout": "a number in [0, 1)", "val_split": "a number in [0, 1)", "l1": "a number >= 0", "l2": "a number >= 0",
}


def check_settings(settings: Any, source: str) -> dict[str, Any]:
    """The run settings stored in a ``config.json`` (or a model file), each checked by type and range.

    Raises :class:`~myelin.io.ModelFileError` naming the first bad field.
    """
    from ..io import ModelFileError

    if not isinstance(settings, dict):
        raise ModelFileError(f"{source}: 'settings' must be an object, received {type(settings).__name__}")
    for key, what in _SETTING_TYPES.items():
        if key in settings and not _setting_ok(key, settings[key]):
            raise ModelFileError(f"{source}: setting {key!r} must be {what}, received {settings[key]!r:.60}")
    return {k: v for k, v in settings.items() if k in _SETTING_TYPES}


def check_run_facts(run: Any, source: str) -> dict[str, Any]:
    """The run facts a model file or ``config.json`` carries (input shape, classes, data kind, vocabulary),
    checked by type and range; raises :class:`~myelin.io.ModelFileError` naming the field."""
    from ..io import ModelFileError
    from ..limits import hint, limit

    if not isinstance(run, dict):
        return {}
    out = dict(run)
    shape = run.get("input_shape")
    if shape is not None and not (isinstance(shape, list) and 0 < len(shape) <= 8 and all(
            isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 2**31 for d in shape)):
        raise ModelFileError(f"{source}: stored 'input_shape' must be a list of 1-8 positive ints, received {shape!r:.60}")
    max_classes = limit("MYELIN_MAX_CLASSES")
    for key in ("classes", "vocab"):
        value = run.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in value):
            raise ModelFileError(f"{source}: stored {key!r} must be a list of names, received {value!r:.60}")
        if len(value) > max_classes:
            raise ModelFileError(f"{source}: stored {key!r} has {counted(len(value), 'entry', spec=',')} ({hint('MYELIN_MAX_CLASSES')})")
    n = run.get("num_classes")
    if n is not None and not (isinstance(n, int) and not isinstance(n, bool) and 0 < n <= max_classes):
        raise ModelFileError(f"{source}: stored 'num_classes' must be an int in [1, {max_classes}], received {n!r:.40}")
    kind = run.get("data_kind")
    if kind is not None and kind not in ("image", "table", "text"):
        raise ModelFileError(f"{source}: stored 'data_kind' must be image, table or text, received {kind!r:.40}")
    if "settings" in run:
        out["settings"] = check_settings(run["settings"], source)
    return out


def model_path(spec: str) -> Path:
    """A model file path from ``MODEL``: a file, or a run directory holding ``model.safetensors``."""
    path = Path(spec).expanduser()
    if path.is_dir():
        inner = path / "model.safetensors"
        if not inner.is_file():
            raise FileNotFoundError(f"{path} is a directory without a model.safetensors")
        return inner
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    return path


def load_model_file(spec: str) -> tuple[Any, Path, dict[str, Any]]:
    """``(model, path, run config)``: the model loaded with ``myelin.load`` (eval mode), and the
    ``config.json`` next to it, else the run facts ``myelin train`` stored in the file (empty when neither)."""
    from .. import load
    from ..io import read_metadata

    path = model_path(spec)
    if path.suffix.lower() == ".toml":
        raise CLIError(f"{path} is a model config, not a trained model; train it with 'myelin train --model {path}'")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load(os.fspath(path))
    for warning in caught:  # e.g. NaN weights: one line each, not a Python warning with a source line
        sys.stderr.write(f"warning: {' '.join(str(warning.message).split())}\n")
    run = read_run_config(path.parent)
    source = str(path.parent / "config.json")
    if run is None:
        source = f"{path} (metadata {RUN_FACTS_KEY!r})"
        try:
            run = json.loads(read_metadata(path).get(RUN_FACTS_KEY, "null"))
        except (ValueError, RecursionError):
            run = None
    return model, path, check_run_facts(run, source)
