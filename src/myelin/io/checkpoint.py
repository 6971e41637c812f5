"""Training checkpoints: everything needed to continue a run bit for bit, in one safetensors file.

Layout:

- tensors ``model.<key>``: the model's ``state_dict`` (parameters and buffers);
- tensors ``optimizer.<path>``, ``scheduler.<path>``, ``callbacks.<path>``, ``partial.<path>``: every
  NumPy array found inside those states, named by its path, e.g. ``optimizer.state.3.exp_avg``;
- metadata ``"myelin.kind": "checkpoint"``, ``"myelin.format_version": "1"``, ``"myelin.config"``
  (the architecture, when the model has ``get_config``) and ``"myelin.checkpoint"``: JSON with
  epoch, step, batch, loader_epoch, rng_state, history, and the optimizer (param_groups and scalar
  state), scheduler, callback and partial-epoch states, where each array is replaced by
  ``{"__tensor__": name}`` (NumPy scalars by ``{"__scalar__": name}``, stored 0-d), tuples by
  ``{"__tuple__": [...]}`` and dicts with non-string keys by ``{"__items__": [[key, value], ...]}``,
  so every state comes back with the same types (int keys, tuples, NumPy scalar dtypes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ModelFileError
from .model_file import (
    FORMAT_VERSION,
    KEY_CONFIG,
    KEY_KIND,
    KEY_VERSION,
    _check_version,
    _dump_config,
    _state_dict_of,
    build_model,
    check_state_dict,
    parse_config,
    warn_non_finite,
)
from .safetensors_file import read_safetensors, write_safetensors

__all__ = ["Checkpoint", "check_rng_state", "load_checkpoint", "save_checkpoint"]

KEY_STATE = "myelin.checkpoint"
_MODEL = "model."
_SECTIONS = ("optimizer", "scheduler", "callbacks", "partial", "extra")
_MAX_DEPTH = 100
_RNG_NAMES = {"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"}


@dataclass
class Checkpoint:
    """A loaded checkpoint.

    Attributes:
        model_state: the model's ``state_dict``.
        optimizer_state, scheduler_state: their ``state_dict()`` s, or ``None``.
        rng_state: :func:`myelin.random.get_rng_state` at save time, or ``None``.
        epoch: epochs completed; step: optimizer steps taken in the whole run.
        batch: batches already done in epoch ``epoch + 1`` (0 at an epoch boundary; see ``partial``).
        history: ``{key: [value per epoch]}``.
        config: the architecture (``model.get_config()``) or ``None``.
        loader_epoch: the training DataLoader's next epoch, or ``None``.
        callbacks: per-callback states saved by ``fit``, or ``None``.
        partial: the state of an interrupted epoch (``fit`` uses it to resume mid-epoch), or ``None``.
        extra: any other JSON/array data given to :func:`save_checkpoint`.
    """

    model_state: dict[str, np.ndarray]
    optimizer_state: dict[str, Any] | None = None
    scheduler_state: dict[str, Any] | None = None
    rng_state: dict[str, Any] | None = None
    epoch: int = 0
    step: int = 0
    batch: int = 0
    history: dict[str, list[Any]] = field(default_factory=dict)
    config: dict[str, Any] | None = None
    loader_epoch: int | None = None
    callbacks: list[Any] | None = None
    partial: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = "<checkpoint>"

    def build_model(self) -> Any:
        """A new model built from ``config`` with ``model_state`` loaded (needs a config)."""
        if self.config is None:
            raise ModelFileError(f"{self.source}: the checkpoint has no architecture config")
        model = build_model(self.config, self.source, self.model_state)
        check_state_dict(model, self.model_state, self.source)
        warn_non_finite(self.model_state, self.source)
        return model

    def restore(self, model: Any = None, optimizer: Any = None, scheduler: Any = None, rng: bool = True) -> None:
        """Load the saved states into ``model``, ``optimizer``, ``scheduler`` and (``rng``) the library RNG."""
        from .state_checks import check_optimizer_state, check_scheduler_state

        pairs = (("optimizer", optimizer, self.optimizer_state), ("scheduler", scheduler, self.scheduler_state))
        for name, obj, state in pairs:  # every state checked before anything is loaded
            if obj is None:
                continue
            if state is None:
                raise ModelFileError(f"{self.source}: the checkpoint holds no {name} state")
            if name == "scheduler":  # schedulers restore attributes: the same fields, each of its type
                check_scheduler_state(obj, state, self.source)
            else:
                check_optimizer_state(obj, state, self.source)
        if model is not None:
            check_state_dict(model, self.model_state, self.source)
        for name, obj, state in pairs:
            if obj is None:
                continue
            try:
                obj.load_state_dict(state)
            except Exception as exc:  # noqa: BLE001 - a state from a file that does not fit
                raise ModelFileError(
                    f"{self.source}: the {name} state does not fit {type(obj).__name__}: {type(exc).__name__}: {exc}"
                ) from None
        if rng and self.rng_state is not None:
            from ..random import set_rng_state

            set_rng_state(self.rng_state)


# ----------------------------------------------------------------------------------------- encoding


class _Encoder:
    """Turns nested states into JSON data plus named arrays (see the module docstring)."""

    def __init__(self) -> None:
        self.tensors: dict[str, np.ndarray] = {}

    def _name(self, path: str) -> str:
        name, k = path, 1
        while name in self.tensors:
            name, k = f"{path}#{k}", k + 1
        return name

    def __call__(self, obj: Any, path: str) -> Any:
        if obj is None or isinstance(obj, (bool, str, int, float)):
            return obj
        if isinstance(obj, np.generic):
            name = self._name(path)
            self.tensors[name] = np.asarray(obj)
            return {"__scalar__": name}
        data = getattr(obj, "data", None)
        if isinstance(obj, np.ndarray) or isinstance(data, np.ndarray):
            name = self._name(path)
            self.tensors[name] = np.asarray(obj if isinstance(obj, np.ndarray) else data)
            return {"__tensor__": name}
        if isinstance(obj, tuple):
            return {"__tuple__": [self(v, f"{path}.{i}") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self(v, f"{path}.{i}") for i, v in enumerate(obj)]
        if isinstance(obj, Mapping):
            tagged = len(obj) == 1 and str(next(iter(obj))).startswith("__")  # could read back as a tag
            plain = all(isinstance(k, str) for k in obj) and not tagged
            if plain:
                return {k: self(v, f"{path}.{k}") for k, v in obj.items()}
            return {"__items__": [[self(k, f"{path}.key{i}"), self(v, f"{path}.{k}")]
                                  for i, (k, v) in enumerate(obj.items())]}
        raise TypeError(
            f"save_checkpoint: cannot store {path!r}: {type(obj).__name__} is not an array, number, string, "
            "list, tuple or dict"
        )


class _Decoder:
    def __init__(self, tensors: dict[str, np.ndarray], source: str) -> None:
        self.tensors = tensors
        self.source = source
        self.used: set[str] = set()

    def _tensor(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name not in self.tensors:
            raise ModelFileError(f"{self.source}: checkpoint state refers to a missing tensor {name!r:.80}")
        self.used.add(name)
        return self.tensors[name]

    def __call__(self, obj: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ModelFileError(f"{self.source}: checkpoint state is nested deeper than {_MAX_DEPTH} levels")
        if obj is None or isinstance(obj, (bool, str, int, float)):
            return obj
        if isinstance(obj, list):
            return [self(v, depth + 1) for v in obj]
        if not isinstance(obj, dict):  # pragma: no cover - json.loads gives nothing else
            raise ModelFileError(f"{self.source}: unexpected {type(obj).__name__} in checkpoint state")
        if len(obj) == 1:
            ((tag, value),) = obj.items()
            if tag == "__tensor__":
                return self._tensor(value)
            if tag == "__scalar__":
                arr = self._tensor(value)
                if arr.ndim != 0:
                    raise ModelFileError(f"{self.source}: scalar tensor {value!r} has shape {arr.shape}, expected ()")
                return arr[()]
            if tag == "__tuple__" and isinstance(value, list):
                return tuple(self(v, depth + 1) for v in value)
            if tag == "__items__" and isinstance(value, list):
                out = {}
                for item in value:
                    if not (isinstance(item, list) and len(item) == 2):
                        raise ModelFileError(f"{self.source}: bad '__items__' entry {item!r:.80} in checkpoint state")
                    key = self(item[0], depth + 1)
                    try:
                        out[key] = self(item[1], depth + 1)
                    except TypeError:
                        raise ModelFileError(f"{self.source}: unhashable key {key!r:.80} in checkpoint state") from None
                return out
            if tag.startswith("__") and tag.endswith("__"):
                raise ModelFileError(f"{self.source}: unknown tag {tag!r:.40} in checkpoint state")
        return {k: self(v, depth + 1) for k, v in obj.items()}


# ----------------------------------------------------------------------------------------- save / load


def _history_dict(history: Any) -> dict[str, list[Any]]:
    if history is None:
        return {}
    record = getattr(history, "history", history)
    if not isinstance(record, Mapping):
        raise TypeError(f"save_checkpoint: expected history as a History or dict, received {type(history).__name__}")
    return {str(k): list(v) for k, v in record.items()}


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Any,
    *,
    optimizer: Any = None,
    scheduler: Any = None,
    epoch: int = 0,
    step: int = 0,
    batch: int = 0,
    history: Any = None,
    rng_state: dict[str, Any] | None = None,
    loader_epoch: int | None = None,
    callbacks: list[Any] | None = None,
    partial: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write a checkpoint to ``path`` atomically (a temporary file renamed over the old one).

    ``model`` is a Module or a ``state_dict``; ``optimizer``/``scheduler`` objects with
    ``state_dict()``; ``rng_state`` defaults to the library RNG's current state.
    """
    if rng_state is None:
        from ..random import get_rng_state

        rng_state = get_rng_state()
    encode = _Encoder()
    state = {
        "epoch": int(epoch),
        "step": int(step),
        "batch": int(batch),
        "loader_epoch": None if loader_epoch is None else int(loader_epoch),
        "rng_state": encode(rng_state, "rng"),
        "history": encode(_history_dict(history), "history"),
        "optimizer": encode(None if optimizer is None else optimizer.state_dict(), "optimizer"),
        "scheduler": encode(None if scheduler is None else scheduler.state_dict(), "scheduler"),
        "callbacks": encode(callbacks, "callbacks"),
        "partial": encode(partial, "partial"),
        "extra": encode(extra or {}, "extra"),
    }
    tensors = {_MODEL + k: v for k, v in _state_dict_of(model, "save_checkpoint").items()}
    clash = set(tensors) & set(encode.tensors)
    if clash:  # pragma: no cover - prefixes differ
        raise ValueError(f"save_checkpoint: tensor names clash: {sorted(clash)[:3]}")
    tensors.update(encode.tensors)
    metadata = {
        KEY_KIND: "checkpoint",
        KEY_VERSION: str(FORMAT_VERSION),
        KEY_STATE: json.dumps(state, separators=(",", ":")),
    }
    get_config = getattr(model, "get_config", None)
    if callable(get_config):
        try:
            config_text: str | None = _dump_config(get_config(), "save_checkpoint")
        except Exception:  # noqa: BLE001 - a model without a storable config still checkpoints
            config_text = None
        if config_text is not None:
            metadata[KEY_CONFIG] = config_text
    write_safetensors(path, tensors, metadata)


def _int_field(state: dict[str, Any], key: str, source: str, optional: bool = False) -> int | None:
    value = state.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ModelFileError(f"{source}: checkpoint field {key!r} must be an int >= 0, received {value!r:.40}")
    return value


def check_rng_state(rng: Any, source: str) -> None:
    """Raise :class:`ModelFileError` unless ``rng`` is ``None`` or a valid NumPy bit-generator state."""
    if rng is None:
        return
    name = rng.get("bit_generator") if isinstance(rng, dict) else None
    if not isinstance(name, str) or name not in _RNG_NAMES:
        raise ModelFileError(f"{source}: rng_state must be a NumPy bit-generator state, received {rng!r:.80}")
    try:
        getattr(np.random, name)().state = rng
    except Exception as exc:  # noqa: BLE001 - NumPy validates the state; any failure is the file's
        raise ModelFileError(f"{source}: bad rng_state: {type(exc).__name__}: {exc}") from None


def _check_history(history: Any, source: str) -> dict[str, list[Any]]:
    if not isinstance(history, dict):
        raise ModelFileError(f"{source}: checkpoint history must be an object, received {type(history).__name__}")
    for key, values in history.items():
        ok = isinstance(values, list) and all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values
        )
        if not ok:
            raise ModelFileError(f"{source}: history[{key!r:.40}] must be a list of numbers")
    lengths = {key: len(values) for key, values in history.items()}
    if len(set(lengths.values())) > 1:
        raise ModelFileError(f"{source}: checkpoint history lists differ in length (one per epoch expected): "
                             f"{dict(list(lengths.items())[:6])}")
    return history


def _check_optional_dict(value: Any, name: str, source: str) -> Any:
    if value is not None and not isinstance(value, dict):
        raise ModelFileError(f"{source}: checkpoint {name} state must be an object, received {type(value).__name__}")
    return value


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`; any bad file raises :class:`ModelFileError`."""
    source = os.fspath(path)
    tensors, metadata = read_safetensors(path)
    _check_version(metadata, source)
    if metadata.get(KEY_KIND) != "checkpoint" or KEY_STATE not in metadata:
        raise ModelFileError(
            f"{source}: not a checkpoint (metadata {KEY_KIND!r} is {metadata.get(KEY_KIND)!r:.40}); "
            "model files load with myelin.load"
        )
    try:
        state = json.loads(metadata[KEY_STATE])
    except RecursionError:
        raise ModelFileError(f"{source}: checkpoint state is nested too deeply") from None
    except ValueError as exc:
        raise ModelFileError(f"{source}: checkpoint state is not valid JSON: {exc}") from None
    if not isinstance(state, dict):
        raise ModelFileError(f"{source}: checkpoint state must be a JSON object, received {type(state).__name__}")
    decode = _Decoder(tensors, source)
    try:
        sections = {key: decode(state.get(key)) for key in (*_SECTIONS, "rng_state", "history")}
    except RecursionError:
        raise ModelFileError(f"{source}: checkpoint state is nested too deeply") from None
    model_state = {k[len(_MODEL):]: v for k, v in tensors.items() if k.startswith(_MODEL)}
    stray = [k for k in tensors if not k.startswith(_MODEL) and k not in decode.used]
    if stray:
        raise ModelFileError(f"{source}: checkpoint has tensors no state refers to: {stray[:5]}")
    check_rng_state(sections["rng_state"], source)
    callbacks = sections["callbacks"]
    if callbacks is not None and not isinstance(callbacks, list):
        raise ModelFileError(
            f"{source}: checkpoint callbacks state must be a list, received {type(callbacks).__name__}"
        )
    extra = sections["extra"]
    config = parse_config(metadata[KEY_CONFIG], source) if KEY_CONFIG in metadata else None
    return Checkpoint(
        model_state=model_state,
        optimizer_state=_check_optional_dict(sections["optimizer"], "optimizer", source),
        scheduler_state=_check_optional_dict(sections["scheduler"], "scheduler", source),
        rng_state=sections["rng_state"],
        epoch=_int_field(state, "epoch", source),  # type: ignore[arg-type]
        step=_int_field(state, "step", source),  # type: ignore[arg-type]
        batch=_int_field(state, "batch", source),  # type: ignore[arg-type]
        history=_check_history(sections["history"] if sections["history"] is not None else {}, source),
        config=config,
        loader_epoch=_int_field(state, "loader_epoch", source, optional=True),
        callbacks=callbacks,
        partial=_check_optional_dict(sections["partial"], "partial", source),
        extra=_check_optional_dict(extra, "extra", source) or {},
        source=source,
    )
