"""Model files: ``save``/``load`` (architecture + weights) and ``save_weights``/``load_weights``.

A model file is one safetensors file: the ``state_dict`` as tensors, and in the metadata the
architecture ``model.get_config()`` as JSON (``"myelin.config"``), a kind (``"myelin.kind"``:
``"model"``) and a format version (``"myelin.format_version"``). ``load`` rebuilds the model with
``myelin.nn.registry.from_config`` (only registered layer classes and their constructor arguments:
no code, no pickle) and loads the weights strictly, checking names, shapes and dtypes first.

Weights files are plain safetensors files of a ``state_dict`` and interoperate with PyTorch's
``safetensors.torch.save_file(model.state_dict(), path)`` / ``load_file(path)``.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._plural import counted
from .config_budget import estimate_config
from .errors import ModelFileError
from .safetensors_file import read_safetensors, write_safetensors

__all__ = [
    "FORMAT_VERSION",
    "build_model",
    "check_state_dict",
    "load",
    "load_weights",
    "save",
    "save_weights",
    "warn_non_finite",
]

FORMAT_VERSION = 1
KEY_KIND = "myelin.kind"
KEY_VERSION = "myelin.format_version"
KEY_CONFIG = "myelin.config"

PathLike = str | os.PathLike[str]

# ``load`` refuses a config whose estimated size (see config_budget.py) exceeds this factor times the
# elements the file holds, or the floor (16 MB of float32), and builds at most 4 modules per tensor
# (or 1,000), 10,000 in all (building one takes ~0.3 ms).
_BUDGET_FACTOR = 16
_BUDGET_FLOOR = 2**22
_MAX_MODULES, _MODULE_FLOOR, _MODULES_PER_TENSOR = 10_000, 1_000, 4


def _version_string() -> str:
    from .. import __version__

    return str(__version__)


def _dump_config(config: Any, what: str) -> str:
    try:
        return json.dumps(config, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what}: get_config() must return JSON data (dicts, lists, numbers, strings): {exc}"
        ) from None


def _state_dict_of(model_or_state: Any, what: str) -> Mapping[str, Any]:
    if isinstance(model_or_state, Mapping):
        return model_or_state
    state_dict = getattr(model_or_state, "state_dict", None)
    if not callable(state_dict):
        raise TypeError(f"{what}: expected a Module or a state dict, received {type(model_or_state).__name__}")
    return state_dict()


def save(model: Any, path: PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``model``'s architecture and weights to one safetensors file at ``path`` (atomically).

    ``metadata``: your own strings to keep in the file (input shape, class names, data set...), read
    back with :func:`myelin.io.read_metadata`; keys starting with ``myelin.`` are reserved.
    """
    get_config = getattr(model, "get_config", None)
    if not callable(get_config):
        raise TypeError(f"save: expected a myelin Module with get_config(), received {type(model).__name__}")
    user = _user_metadata(metadata, "save")
    meta = {
        KEY_KIND: "model",
        KEY_VERSION: str(FORMAT_VERSION),
        KEY_CONFIG: _dump_config(get_config(), "save"),
        "myelin.version": _version_string(),
    }
    write_safetensors(path, model.state_dict(), {**user, **meta})


def _user_metadata(metadata: Mapping[str, str] | None, what: str) -> dict[str, str]:
    """``metadata`` checked: a mapping of str to str, no reserved ``myelin.`` key."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"{what}: expected metadata as a mapping of str to str, received {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"{what}: metadata must map str to str, received {key!r}: {type(value).__name__} "
                            f"(convert values with str() or json.dumps())")
        if key.startswith("myelin.") or key == "__metadata__":
            raise ValueError(f"{what}: metadata key {key!r} is reserved (keys starting with 'myelin.' are Myelin's own)")
    return dict(metadata)


def save_weights(model_or_state_dict: Any, path: PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write a ``state_dict`` (or a module's) to a plain safetensors file at ``path`` (atomically)."""
    meta = {**_user_metadata(metadata, "save_weights"), KEY_KIND: "weights", KEY_VERSION: str(FORMAT_VERSION)}
    write_safetensors(path, _state_dict_of(model_or_state_dict, "save_weights"), meta)


def load_weights(path: PathLike) -> dict[str, np.ndarray]:
    """The tensors of any safetensors file as ``{name: ndarray}``, ready for ``load_state_dict``.

    Reads files written by :func:`save_weights`, :func:`save` and PyTorch's ``safetensors.torch``.
    A malformed file raises :class:`ModelFileError`.
    """
    tensors, metadata = read_safetensors(path)
    if metadata.get(KEY_KIND) == "checkpoint":
        prefix = "model."
        return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    return tensors


def _check_version(metadata: Mapping[str, str], source: str) -> None:
    version = metadata.get(KEY_VERSION, str(FORMAT_VERSION))
    if not version.isdigit() or len(version) > 6:
        raise ModelFileError(f"{source}: bad format version {version!r:.40}, expected an integer")
    if int(version) > FORMAT_VERSION:
        raise ModelFileError(
            f"{source}: format version {version} is newer than this Myelin reads ({FORMAT_VERSION}); upgrade myelin"
        )


def parse_config(text: str, source: str) -> dict[str, Any]:
    """The architecture JSON as a dict; :class:`ModelFileError` when it is not one."""
    try:
        config = json.loads(text)
    except RecursionError:
        raise ModelFileError(f"{source}: architecture config is nested too deeply") from None
    except ValueError as exc:
        raise ModelFileError(f"{source}: architecture config is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ModelFileError(f"{source}: architecture config must be a JSON object, received {type(config).__name__}")
    return config


def build_model(config: dict[str, Any], source: str, tensors: Mapping[str, Any] | None = None) -> Any:
    """``from_config(config)`` with every failure mapped to :class:`ModelFileError`.

    With ``tensors`` (the weights the file holds), a config describing far more parameters or layers
    than they could fill is refused before anything is built (bounded time and memory).
    """
    if tensors is not None:
        n_elements = sum(int(np.size(t)) for t in tensors.values())
        budget = max(_BUDGET_FLOOR, _BUDGET_FACTOR * n_elements)
        estimate, modules = estimate_config(config, source)
        if estimate > budget:
            raise ModelFileError(
                f"{source}: the architecture describes up to {counted(estimate, 'parameter')} and buffers but the file "
                f"holds {counted(n_elements, 'value')}; refusing to build it"
            )
        max_modules = min(_MAX_MODULES, max(_MODULE_FLOOR, _MODULES_PER_TENSOR * len(tensors)))
        if modules > max_modules:
            raise ModelFileError(
                f"{source}: the architecture has {counted(modules, 'layer')}, more than the {max_modules} allowed for a "
                f"file of {counted(len(tensors), 'tensor')}; refusing to build it"
            )
    from ..nn.registry import ConfigError, from_config

    try:
        return from_config(config)
    except ConfigError as exc:
        raise ModelFileError(f"{source}: bad architecture config: {exc}") from None
    except MemoryError:
        raise ModelFileError(f"{source}: the architecture config is too large to build") from None
    except RecursionError:
        raise ModelFileError(f"{source}: architecture config is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - the config is untrusted input: any failure is the file's
        raise ModelFileError(f"{source}: bad architecture config: {type(exc).__name__}: {exc}") from None


def _describe(arr: Any) -> str:
    return f"{tuple(np.shape(arr))} {np.asarray(arr).dtype}"


def check_state_dict(model: Any, tensors: Mapping[str, np.ndarray], source: str) -> None:
    """Check ``tensors`` against ``model.state_dict()`` (names, shapes, dtypes), then load them strictly."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} tensor(s) {missing[:5]}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} tensor(s) {unexpected[:5]}")
        raise ModelFileError(f"{source}: weights do not match the architecture: {'; '.join(parts)}")
    for key, want in expected.items():
        got = tensors[key]
        if np.shape(got) != np.shape(want) or np.asarray(got).dtype != np.asarray(want).dtype:
            raise ModelFileError(
                f"{source}: tensor {key!r}: expected {_describe(want)} from the architecture, file has {_describe(got)}"
            )
    try:
        model.load_state_dict(dict(tensors), strict=True)
    except Exception as exc:  # noqa: BLE001 - any failure here comes from the file's contents
        raise ModelFileError(f"{source}: weights do not fit the architecture: {type(exc).__name__}: {exc}") from None


def warn_non_finite(tensors: Mapping[str, np.ndarray], source: str) -> list[str]:
    """Warn (``RuntimeWarning``) when float tensors hold NaN or infinite values; returns their names."""
    bad = [k for k, v in tensors.items() if np.asarray(v).dtype.kind == "f" and not np.isfinite(v).all()]
    if bad:
        warnings.warn(f"{source}: the weights hold NaN or infinite values in {len(bad)} tensor(s) {bad[:3]}; "
                      "the model's outputs will be NaN", RuntimeWarning, stacklevel=3)
    return bad


def load(path: PathLike) -> Any:
    """Rebuild the model saved by :func:`save` (or from a checkpoint that carries its config).

    Returns the model in eval mode. A malformed or mismatched file raises :class:`ModelFileError`.
    """
    tensors, metadata = read_safetensors(path)
    source = os.fspath(path)
    _check_version(metadata, source)
    kind = metadata.get(KEY_KIND, "model")
    if kind == "checkpoint":
        from .checkpoint import load_checkpoint

        return load_checkpoint(path).build_model()
    if KEY_CONFIG not in metadata:
        raise ModelFileError(
            f"{source}: no architecture in the file (metadata key {KEY_CONFIG!r}); "
            "for a weights-only file use model.load_state_dict(myelin.load_weights(path))"
        )
    config = parse_config(metadata[KEY_CONFIG], source)
    model = build_model(config, source, tensors)
    check_state_dict(model, tensors, source)
    warn_non_finite(tensors, source)
    eval_ = getattr(model, "eval", None)
    if callable(eval_):
        eval_()
    return model
