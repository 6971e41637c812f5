"""Loading a state dict: every value checked before any is copied, errors that list every problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from ..core.tensor import Tensor

__all__ = ["IncompatibleKeys", "LoadStateDictError", "load_arrays", "to_numpy"]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` did not match (as PyTorch's ``_IncompatibleKeys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class LoadStateDictError(RuntimeError):
    """A state dict that does not fit the module (a ``RuntimeError``, as in PyTorch)."""


def to_numpy(value: Any) -> np.ndarray:
    """Any array-like (NumPy, a Myelin tensor, a torch tensor, nested lists) as a NumPy array."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _list_keys(keys: list[str], limit: int = 20) -> str:
    shown = ", ".join(f"'{k}'" for k in keys[:limit])
    return shown + (f", ... and {len(keys) - limit} more" if len(keys) > limit else "")


def load_arrays(targets: Mapping[str, np.ndarray], state_dict: Mapping[str, Any], strict: bool,
                owner: str) -> IncompatibleKeys:
    """Copy ``state_dict[key]`` into ``targets[key]`` in place (casting to its dtype) for every key.

    Nothing is copied unless every value fits: mis-shaped or non-numeric values always raise
    :class:`LoadStateDictError`; with ``strict`` missing and unexpected keys do too.
    """
    missing = [k for k in targets if k not in state_dict]
    unexpected = [k for k in state_dict if k not in targets]
    problems: list[str] = []
    if strict and missing:
        problems.append("missing key(s): " + _list_keys(missing))
    if strict and unexpected:
        problems.append("unexpected key(s): " + _list_keys(unexpected))
    loads: list[tuple[np.ndarray, np.ndarray]] = []
    for key, target in targets.items():
        if key not in state_dict:
            continue
        try:
            value = to_numpy(state_dict[key])
        except Exception as err:  # noqa: BLE001 - any conversion failure is reported with its key
            problems.append(f"{key}: cannot be read as an array ({type(err).__name__}: {err})")
            continue
        if value.dtype.kind not in "fiub":
            problems.append(f"{key}: expected an array of numbers, got dtype {value.dtype}")
        elif value.shape != target.shape:
            problems.append(f"{key}: expected shape {tuple(target.shape)}, got {tuple(value.shape)}")
        else:
            loads.append((target, value))
    if problems:
        raise LoadStateDictError(f"Error(s) in loading state_dict for {owner}:\n    " + "\n    ".join(problems))
    for target, value in loads:
        np.copyto(target, value, casting="unsafe")
    return IncompatibleKeys(missing, unexpected)
