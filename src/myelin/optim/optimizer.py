"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, ``step`` and state dicts.

The layout follows ``torch.optim.Optimizer``. ``state_dict()`` returns
``{'state': {index: {name: value}}, 'param_groups': [{..., 'params': [indices]}]}`` where every
value is a NumPy array, a Python number, a bool, a string or a tuple/list of those, so the
arrays can go to a safetensors file and everything else to JSON. Subclasses implement
``_step_group(group)`` (one in-place update per parameter, NumPy ``out=`` arithmetic) and
``_validate_group(group)`` (``ValueError("Invalid learning rate: -0.1")`` as PyTorch words it).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._plural import counted
from ..autograd import enable_grad
from ..core.tensor import Tensor

__all__ = ["Optimizer", "ParamsT"]

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


_SET_MESSAGE = (
    "optimizer parameters need to be organized in ordered collections, but the ordering of "
    "tensors in sets will change between runs. Please use a list instead."
)


def _require(ok: bool, what: str, value: Any) -> None:
    """Raise ``ValueError("Invalid <what>: <value>")`` unless ``ok``."""
    if not ok:
        raise ValueError(f"Invalid {what}: {value}")


def _plain(value: Any) -> Any:
    """A deep copy of a state or group value with arrays copied and NumPy scalars as Python numbers."""
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else value.copy()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return copy.deepcopy(value)


def _as_index(key: Any) -> Any:
    """State-dict keys are ints; accept their JSON spelling ("3") too."""
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    if isinstance(key, np.integer):
        return int(key)
    return key


class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of parameters, of ``(name, parameter)`` pairs, or of dicts (parameter
            groups) holding ``'params'`` and any hyperparameters that override ``defaults``.
        defaults: the default hyperparameters of every group.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self._validate_group(defaults)
        self.defaults: dict[str, Any] = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._scratch_buffers: dict[tuple[np.dtype, int], np.ndarray] = {}
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__name__}"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with optional hyperparameter overrides) to ``param_groups``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self._validate_group(param_group)

        ids = [id(p) for p in tensors]
        if len(set(ids)) != len(ids):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
            if not set(ids).isdisjoint(id(p) for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's hyperparameters; subclasses raise ``ValueError("Invalid ...")``."""

    # ----------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad``: to ``None`` (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.data.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss when given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _scratch(self, like: np.ndarray, slot: int) -> np.ndarray:
        """A reusable buffer shaped like ``like`` (never part of the state; contents are garbage)."""
        key = (like.dtype, slot)
        buf = self._scratch_buffers.get(key)
        if buf is None or buf.size < like.size:
            buf = np.empty(like.size, dtype=like.dtype)
            self._scratch_buffers[key] = buf
        return buf[: like.size].reshape(like.shape)

    def _effective_grad(self, data: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool) -> np.ndarray:
        """``(-grad if maximize else grad) + weight_decay * data``, in scratch slot 0 unless it is ``grad``.

        ``p.grad`` itself is never modified.
        """
        if weight_decay == 0:
            return np.negative(grad, out=self._scratch(data, 0)) if maximize else grad
        out = np.multiply(data, weight_decay, out=self._scratch(data, 0))
        if maximize:
            return np.subtract(out, grad, out=out)
        return np.add(grad, out, out=out)

    # ----------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{'state': {index: {...}}, 'param_groups': [...]}`` (copies).

        Parameters are numbered in the order the groups list them. Unlike PyTorch, the arrays are
        copies, so stepping on does not change a state dict already taken.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _plain(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {k: _plain(v) for k, v in s.items()} for p, s in self.state.items() if id(p) in index}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict made by :meth:`state_dict` (of an optimizer over matching parameters).

        Arrays are copied and cast to their parameter's floating dtype; 0-d arrays become Python
        numbers; integer keys may be given as strings (as JSON writes them).
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"optimizer state dict must have 'state' and 'param_groups' entries, got {got}")
        groups, saved = self.param_groups, state_dict["param_groups"]
        if len(groups) != len(saved):
            raise ValueError(
                f"loaded state dict has {len(saved)} parameter groups, the optimizer has {len(groups)}"
            )
        id_map: dict[Any, Tensor] = {}
        for i, (group, saved_group) in enumerate(zip(groups, saved)):
            if len(group["params"]) != len(saved_group["params"]):
                raise ValueError(
                    f"loaded state dict has {counted(len(saved_group['params']), 'parameter')} in group {i}, "
                    f"the optimizer's group {i} has {len(group['params'])}"
                )
            for key, p in zip(saved_group["params"], group["params"]):
                id_map[_as_index(key)] = p

        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            k = _as_index(key)
            if k not in id_map:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which no parameter group lists")
            if not isinstance(values, dict):
                raise TypeError(f"state of parameter {key!r} must be a dict, got {type(values).__name__}")
            p = id_map[k]
            state[p] = {name: self._cast_state(p, k, name, v) for name, v in values.items()}

        new_groups = []
        for group, saved_group in zip(groups, saved):
            new = {k: _plain(v) for k, v in saved_group.items() if k != "params"}
            for k, v in new.items():  # JSON turns tuples (betas) into lists
                if isinstance(group.get(k), tuple) and isinstance(v, list):
                    new[k] = tuple(v)
            for name, default in self.defaults.items():
                new.setdefault(name, default)
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            new["params"] = group["params"]
            self._validate_group(new)
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups

    @staticmethod
    def _cast_state(p: Tensor, index: Any, name: str, value: Any) -> Any:
        if isinstance(value, Tensor):
            value = value.data
        elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor (PyTorch's state dict)
            value = value.detach().cpu().numpy()
        if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
            return value.item()  # PyTorch's Adam keeps step as a 0-d float tensor: a Python float here
        if isinstance(value, np.ndarray):
            if value.shape != p.data.shape:
                raise ValueError(
                    f"state {name!r} of parameter {index} has shape {value.shape}, "
                    f"the parameter has shape {p.data.shape}"
                )
            floating = value.dtype.kind == "f" and p.data.dtype.kind == "f"
            return np.array(value, dtype=p.data.dtype if floating else value.dtype, copy=True)
        return _plain(value)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k not in ("params", "param_names")]
        lines.append(")")
        return "\n".join(lines)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """``start.lerp_(end, weight)`` with PyTorch's two formulas (small / large weight); ``tmp`` is scratch."""
    w = start.dtype.type(weight)
    np.subtract(end, start, out=tmp)
    if abs(w) < 0.5:
        tmp *= w
        start += tmp
    else:
        tmp *= w - start.dtype.type(1)
        np.add(end, tmp, out=start)
