"""The layer registry: which classes a config may name, and ``from_config`` to rebuild a model.

A config is plain JSON: ``{"type": "Linear", "args": {"in_features": 4, "out_features": 2, "bias": true}}``,
with sub-modules passed as constructor arguments nested as configs of the same shape. Model files
carry configs, never code, so :func:`from_config` instantiates only classes that were registered:
every public layer defined inside the ``myelin`` package registers itself when its class is
defined; user classes call :func:`register_module` (usable as a decorator).
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "ConfigError",
    "encode_value",
    "from_config",
    "get_registered",
    "init_args",
    "is_module_config",
    "register_module",
    "registered_name",
]


@functools.cache
def _init_signature(init: Callable[..., None]) -> tuple[inspect.Signature, dict[str, Any]]:
    sig = inspect.signature(init)
    return sig, {name: p.kind for name, p in sig.parameters.items()}


def init_args(init: Callable[..., None], instance: Any, args: tuple, kwargs: dict) -> dict[str, Any] | None:
    """The arguments of ``init(instance, *args, **kwargs)`` by name, defaults filled in (None when they
    do not bind: the ``__init__`` call then raises Python's own error).

    ``Module.__new__`` records them before ``__init__`` runs, so nothing wraps a user's ``__init__``
    and an error raised inside it shows the user's own frames only.
    """
    sig, kinds = _init_signature(init)
    try:
        bound = sig.bind(instance, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    recorded: dict[str, Any] = {}
    for i, (name, value) in enumerate(bound.arguments.items()):
        if i == 0:
            continue  # self
        kind = kinds[name]
        if kind is inspect.Parameter.VAR_POSITIONAL:
            recorded[name] = list(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            recorded.update(value)
        else:
            # shallow copies, so that mutating a list or dict after construction changes nothing
            recorded[name] = list(value) if type(value) is list else dict(value) if type(value) is dict else value
    return recorded


class ConfigError(ValueError):
    """A config that cannot be written or rebuilt: unknown type, bad arguments, malformed shape."""


_REGISTRY: dict[str, type] = {}


def register_module(cls: type | None = None, *, name: str | None = None) -> Any:
    """Allow ``from_config`` to rebuild ``cls``; returns ``cls`` (so it works as a decorator).

    ``register_module(MyBlock)``, ``@register_module`` and ``@register_module(name="Block")`` all work.
    Registering another class under a taken name raises :class:`ConfigError` (pass ``name=``);
    re-registering a class redefined with the same module and qualified name (a reloaded notebook
    cell) replaces the old one.
    """
    if cls is None:
        return lambda c: register_module(c, name=name)
    from .module import Module

    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register_module: expected a subclass of myelin.nn.Module, received {cls!r}")
    key = cls.__name__ if name is None else name
    if not isinstance(key, str) or not key:
        raise TypeError(f"register_module: name must be a non-empty string, received {key!r}")
    old = _REGISTRY.get(key)
    if old is not None and old is not cls:
        same = old.__module__ == cls.__module__ and old.__qualname__ == cls.__qualname__
        if not same:
            raise ConfigError(
                f"register_module: the name '{key}' is already taken by {old.__module__}.{old.__qualname__}; "
                f"register {cls.__qualname__} under another name with register_module({cls.__name__}, name=...)"
            )
    _REGISTRY[key] = cls
    return cls


def get_registered(name: str) -> type:
    """The class registered under ``name`` (:class:`ConfigError` when there is none)."""
    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(
            f"unknown layer type {name!r}{hint} (only registered classes can be rebuilt from a config; "
            f"register custom modules with myelin.nn.register_module)"
        )
    return cls


def registered_name(cls: type) -> str | None:
    """The name ``cls`` is registered under, or ``None``."""
    if _REGISTRY.get(cls.__name__) is cls:
        return cls.__name__
    for key, value in _REGISTRY.items():
        if value is cls:
            return key
    return None


def is_module_config(value: Any) -> bool:
    """True for a dict shaped like a module config: a string ``type`` and optionally a dict ``args``."""
    if not isinstance(value, Mapping) or "type" not in value or not isinstance(value["type"], str):
        return False
    return set(value) <= {"type", "args"} and isinstance(value.get("args", {}), Mapping)


def encode_value(value: Any, owner: str, arg: str) -> Any:
    """``value`` (argument ``arg`` of ``owner``) as JSON: modules become nested configs.

    Tuples become lists, NumPy scalars Python numbers, arrays and tensors nested lists, dtypes their
    names and registered module classes their names. Anything else (a function, an open file...)
    raises :class:`ConfigError`.
    """
    from ..core.tensor import Tensor
    from .module import Module

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Module):
        return value.get_config()
    if isinstance(value, (list, tuple)):
        return [encode_value(v, owner, f"{arg}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ConfigError(
                f"cannot be described as a config: argument '{arg}' of {owner} is a dict with non-string "
                f"keys {bad!r:.60}"
            )
        return {k: encode_value(v, owner, f"{arg}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (np.ndarray, Tensor)):
        return np.asarray(value).tolist()
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, type):
        if issubclass(value, np.generic):
            return np.dtype(value).name
        if issubclass(value, Module) and registered_name(value) is not None:
            return registered_name(value)
    raise ConfigError(
        f"cannot be described as a config: argument '{arg}' of {owner} is a {type(value).__name__} "
        f"({value!r:.60}); configs hold numbers, strings, lists, dicts and registered modules. Pass a "
        f"name instead (e.g. activation='relu'), or save only the weights with model.state_dict()"
    )


def _decode(value: Any, where: str) -> Any:
    """Turn nested configs back into modules; lists and other dicts are decoded element-wise."""
    if is_module_config(value):
        return _build(value, where)
    if isinstance(value, Mapping):
        return {k: _decode(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _signature(cls: type) -> inspect.Signature:
    init: Callable[..., Any] = getattr(cls.__init__, "__wrapped__", cls.__init__)
    return inspect.signature(init)


def _split_args(cls: type, name: str, args: Mapping[str, Any]) -> tuple[list, dict]:
    """Positional and keyword arguments for ``cls(...)`` from a config's ``args`` mapping."""
    params = list(_signature(cls).parameters.values())[1:]  # skip self
    by_name = {p.name: p for p in params}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    var_pos = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    for key in args:
        p = by_name.get(key)
        if (p is None and not var_kw) or (p is not None and p.kind is p.VAR_KEYWORD):
            expected = ", ".join(p.name for p in params if p.kind is not p.VAR_KEYWORD) or "no arguments"
            raise ConfigError(f"{name}: unknown argument '{key}' (expected: {expected})")
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    before_var_pos = var_pos is not None and var_pos in args
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            continue
        if p.kind is p.VAR_POSITIONAL:
            before_var_pos = False
            if p.name in args:
                value = args[p.name]
                if not isinstance(value, (list, tuple)):
                    raise ConfigError(
                        f"{name}: argument '{p.name}' (*{p.name}) must be a list, got {type(value).__name__}"
                    )
                positional.extend(value)
            continue
        if p.name not in args and p.default is p.empty:
            raise ConfigError(f"{name}: missing required argument '{p.name}'")
        value = args.get(p.name, p.default)
        if p.kind is p.POSITIONAL_ONLY or before_var_pos:
            positional.append(value)
        elif p.name in args:
            keywords[p.name] = value
    for key in args:
        if key not in by_name:
            keywords[key] = args[key]
    return positional, keywords


def _build(config: Mapping[str, Any], where: str) -> Any:
    if not isinstance(config, Mapping):
        raise ConfigError(f"{where}: a config must be a dict with 'type' and 'args', got {type(config).__name__}")
    extra = set(config) - {"type", "args"}
    if extra:
        raise ConfigError(f"{where}: unexpected config keys {sorted(map(str, extra))} (a config has 'type' and 'args')")
    if "type" not in config:
        raise ConfigError(f"{where}: the config has no 'type'")
    name = config["type"]
    if not isinstance(name, str):
        raise ConfigError(f"{where}: 'type' must be a string, got {type(name).__name__}")
    try:
        cls = get_registered(name)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    raw_args = config.get("args", {})
    if not isinstance(raw_args, Mapping):
        raise ConfigError(f"{where}: 'args' of {name} must be a dict, got {type(raw_args).__name__}")
    bad = [k for k in raw_args if not isinstance(k, str)]
    if bad:
        raise ConfigError(f"{where}: argument names of {name} must be strings, got {bad!r}")
    args = {k: _decode(v, f"{where}.{name}.{k}") for k, v in raw_args.items()}
    try:
        positional, keywords = _split_args(cls, name, args)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    try:
        return cls(*positional, **keywords)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: cannot build {name} with args {_short(raw_args)}: {err}") from err


def _short(args: Mapping[str, Any]) -> str:
    text = repr(dict(args))
    return text if len(text) <= 200 else text[:197] + "..."


def from_config(config: Mapping[str, Any]) -> Any:
    """Rebuild a module (with fresh weights) from ``module.get_config()``'s output.

    Only registered classes are instantiated. Problems raise :class:`ConfigError` naming the
    place in the config (``config.Sequential.modules[2]``), the type and the argument.
    """
    return _build(config, "config")
