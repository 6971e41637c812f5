"""Checks of optimizer and scheduler states read from a checkpoint, against the objects they restore.

A checkpoint may parse and still hold a state that crashes training epochs later (Adam's ``step``
of ``-1`` divides by zero, an integer ``exp_avg`` breaks the in-place update, an SGD state has no
``exp_avg`` for Adam). These checks compare every field with what the live object would hold
and raise :class:`ModelFileError` naming the field, before anything is loaded.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from typing import Any

import numpy as np

from .._plural import counted
from .errors import ModelFileError

__all__ = ["check_optimizer_state", "check_scheduler_state"]

_SKIP_GROUP_KEYS = {"params", "param_names"}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _same_kind(want: Any, got: Any, where: str, source: str, depth: int = 0) -> None:
    """``got`` must have the type of ``want`` (numbers finite; lists, tuples and dicts compared item by item)."""
    def fail(expected: str) -> None:
        raise ModelFileError(f"{source}: {where} must be {expected}, received {got!r:.60}")

    if depth > 20:
        fail("less deeply nested")
    if isinstance(want, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)):
            fail("true or false")
    elif _is_number(want):
        if not _is_number(got) or math.isnan(float(got)) or (math.isfinite(float(want)) and not math.isfinite(float(got))):
            fail("a finite number")
        if isinstance(want, (int, np.integer)) and isinstance(got, (float, np.floating)) and not float(got).is_integer():
            fail("an integer")
    elif isinstance(want, str):
        if not isinstance(got, str):
            fail("a string")
    elif isinstance(want, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(want):
            fail(f"a list of {counted(len(want), 'item')}")
        for i, (w, g) in enumerate(zip(want, got)):
            _same_kind(w, g, f"{where}[{i}]", source, depth + 1)
    elif isinstance(want, dict):
        if not isinstance(got, dict):
            fail("an object")
        missing = [k for k in want if k not in got]
        if missing:
            raise ModelFileError(f"{source}: {where} lacks {missing[:5]}")
        for k in want:
            _same_kind(want[k], got[k], f"{where}.{k}", source, depth + 1)
    elif isinstance(want, np.ndarray) and (not isinstance(got, np.ndarray) or got.shape != want.shape):
        fail(f"an array of shape {want.shape}")
    # None or any other live value: the file may hold anything the object's own load_state_dict accepts


def _probe_state(optimizer: Any, group: dict[str, Any]) -> dict[str, Any]:
    """The per-parameter state ``optimizer``'s class creates with ``group``'s settings (one step on a scratch parameter)."""
    from .. import nn

    fake = nn.Parameter(np.ones(2, dtype=np.float32))
    (fake * 1.0).sum().backward()
    probe = copy.copy(optimizer)
    probe.param_groups = [{**group, "params": [fake]}]
    probe.state = defaultdict(dict)
    probe.step()
    return dict(probe.state.get(fake, {}))


def _index(key: Any) -> int | None:
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str) and key.isdigit():
        return int(key)
    return None


def check_optimizer_state(optimizer: Any, state: Any, source: str) -> None:
    """Raise :class:`ModelFileError` unless ``state`` fits ``optimizer`` (a :class:`myelin.optim.Optimizer`)."""
    from ..optim import Optimizer

    if not isinstance(optimizer, Optimizer):  # a wrapper (DistributedOptimizer) checks through its own load
        return
    name = type(optimizer).__name__
    if not isinstance(state, dict) or not isinstance(state.get("state"), dict) or not isinstance(
            state.get("param_groups"), list):
        raise ModelFileError(f"{source}: optimizer state must hold 'state' and 'param_groups', received "
                             f"{sorted(state) if isinstance(state, dict) else type(state).__name__}")
    groups, saved_groups = optimizer.param_groups, state["param_groups"]
    if len(groups) != len(saved_groups):
        raise ModelFileError(f"{source}: optimizer.param_groups has {counted(len(saved_groups), 'group')}, {name} has {len(groups)}")
    params: dict[int, tuple[Any, dict[str, Any]]] = {}
    for i, (group, saved) in enumerate(zip(groups, saved_groups)):
        where = f"optimizer.param_groups[{i}]"
        if not isinstance(saved, dict):
            raise ModelFileError(f"{source}: {where} must be an object, received {saved!r:.60}")
        want = {k: v for k, v in group.items() if k not in _SKIP_GROUP_KEYS}
        got = {k: v for k, v in saved.items() if k not in _SKIP_GROUP_KEYS}
        missing = sorted(set(want) - set(got))
        if missing:  # extra keys are a scheduler's bookkeeping (initial_lr, max_lr...): numbers, checked below
            raise ModelFileError(
                f"{source}: {where} lacks {missing} that {name} needs; it has {sorted(got)} "
                "(a state saved by another optimizer?)"
            )
        for key in set(got) - set(want):
            value = got[key]
            if not (value is None or isinstance(value, (bool, int, float, list, tuple))):
                raise ModelFileError(f"{source}: {where}.{key} must be a number, received {value!r:.60}")
        for key, value in want.items():
            _same_kind(value, got[key], f"{where}.{key}", source)
        indices = saved.get("params")
        if not isinstance(indices, list) or len(indices) != len(group["params"]):
            raise ModelFileError(f"{source}: {where}.params must list {len(group['params'])} parameter indices")
        try:
            template = _probe_state(optimizer, {**group, **got})
        except Exception as exc:  # noqa: BLE001 - settings the optimizer cannot step with are the file's fault
            raise ModelFileError(f"{source}: {where}: {name} cannot step with these settings: "
                                 f"{type(exc).__name__}: {exc}") from None
        for key, p in zip(indices, group["params"]):
            k = _index(key)
            if k is None:
                raise ModelFileError(f"{source}: {where}.params holds {key!r:.40}, expected integer indices")
            params[k] = (p, template)
    for key, values in state["state"].items():
        k = _index(key)
        if k is None or k not in params:
            raise ModelFileError(f"{source}: optimizer.state has an entry for parameter {key!r:.40}, which no group lists")
        where = f"optimizer.state.{k}"
        if not isinstance(values, dict):
            raise ModelFileError(f"{source}: {where} must be an object, received {values!r:.60}")
        if not values:
            continue
        p, template = params[k]
        if set(values) != set(template):
            raise ModelFileError(f"{source}: {where} has {sorted(values)}, {name} keeps {sorted(template)}")
        for field, want in template.items():
            _check_state_value(want, values[field], p, f"{where}.{field}", source)


def _check_state_value(want: Any, got: Any, param: Any, where: str, source: str) -> None:
    if isinstance(want, np.ndarray) and want.ndim > 0:
        shape = tuple(param.data.shape)
        if not isinstance(got, np.ndarray) or got.dtype.kind != "f" or got.shape != shape:
            described = f"{got.dtype} array of shape {got.shape}" if isinstance(got, np.ndarray) else repr(got)[:60]
            raise ModelFileError(f"{source}: {where} must be a float array of shape {shape}, received {described}")
        if not np.isfinite(got).all():
            raise ModelFileError(f"{source}: {where} holds NaN or infinite values")
        return
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got.item()
    if isinstance(want, np.ndarray):
        want = want.item()
    if _is_number(want):
        if not _is_number(got) or not math.isfinite(float(got)):
            raise ModelFileError(f"{source}: {where} must be a finite number, received {got!r:.60}")
        if isinstance(want, (int, np.integer)) and (not float(got).is_integer() or got < 0):
            raise ModelFileError(f"{source}: {where} must be an integer >= 0, received {got!r:.60}")
        return
    _same_kind(want, got, where, source)


def check_scheduler_state(scheduler: Any, state: Any, source: str) -> None:
    """Raise :class:`ModelFileError` unless ``state`` has every field of ``scheduler.state_dict()``, each of its type."""
    if not isinstance(state, dict):
        raise ModelFileError(f"{source}: scheduler state must be an object, received {type(state).__name__}")
    current = scheduler.state_dict()
    name = type(scheduler).__name__
    unknown = sorted(set(state) - set(current))
    if unknown:
        raise ModelFileError(f"{source}: the scheduler state has keys {unknown[:5]} that {name} lacks")
    missing = sorted(set(current) - set(state))
    if missing:
        raise ModelFileError(f"{source}: the scheduler state lacks {missing[:5]}, which {name} needs")
    for key, want in current.items():
        _same_kind(want, state[key], f"scheduler.{key}", source)
