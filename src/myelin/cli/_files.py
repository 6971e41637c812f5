"""Run directories and model files as the command line finds them."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from ._errors import CLIError

__all__ = ["RUN_FACTS_KEY", "json_text", "load_model_file", "model_path", "read_run_config", "write_json"]

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
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


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
    model = load(os.fspath(path))
    run = read_run_config(path.parent)
    if run is None:
        try:
            run = json.loads(read_metadata(path).get(RUN_FACTS_KEY, "null"))
        except ValueError:
            run = None
    return model, path, run if isinstance(run, dict) else {}
