"""Containers: ``Sequential``, ``ModuleList`` and ``ModuleDict`` (as PyTorch's, with the same key names)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .._plural import counted
from .module import Module

__all__ = ["ModuleDict", "ModuleList", "Sequential"]


def _check_module(owner: str, value: Any, where: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{owner}: {where} is a {type(value).__name__}, not a Module")
    return value


def _index(owner: str, idx: Any, length: int) -> int:
    try:
        i = operator.index(idx)
    except TypeError:
        raise TypeError(f"{owner} indices must be integers or slices, not {type(idx).__name__}") from None
    if not -length <= i < length:
        raise IndexError(f"{owner}: index {i} is out of range for {counted(length, 'module')}")
    return i % length


class _ModuleSequence(Module):
    """Shared list behaviour of ``Sequential`` and ``ModuleList`` (modules under keys "0", "1", ...)."""

    def _replace_all(self, items: Iterable[tuple[str, Module]]) -> None:
        """Re-register ``items`` in order (detaching the old children first)."""
        items = list(items)
        self._clear_modules()
        for name, module in items:
            self._attach(name, module)

    def _renumber(self, modules: Iterable[Module]) -> None:
        self._replace_all((str(i), m) for i, m in enumerate(modules))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __delitem__(self, idx: int | slice) -> None:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_index(type(self).__name__, idx, len(mods))]
        self._renumber(mods)

    def __setitem__(self, idx: int, module: Module) -> None:
        i = _index(type(self).__name__, idx, len(self))
        key = list(self._modules)[i]
        _check_module(type(self).__name__, module, f"item {idx}")
        self._detach(key)
        self._attach(key, module)

    def append(self, module: Module) -> _ModuleSequence:
        """Add ``module`` at the end (key ``str(len(self))``)."""
        _check_module(type(self).__name__, module, "the appended value")
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> _ModuleSequence:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        _check_module(type(self).__name__, module, "the inserted value")
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._renumber(mods)

    def pop(self, idx: int = -1) -> Module:
        module = self[idx]
        del self[idx]
        return module

    def _config_args(self) -> dict[str, Any]:
        keys = list(self._modules)
        if keys == [str(i) for i in range(len(keys))]:
            return {"modules": list(self._modules.values())}
        return {"modules": [dict(self._modules)]}


class Sequential(_ModuleSequence):
    """Modules applied one after the other: ``Sequential(Linear(2, 4), Tanh(), Linear(4, 1))``.

    Children are named ``"0"``, ``"1"``, ... (so keys read ``'0.weight'``), or by the keys of an
    ``OrderedDict`` passed as the single argument. Indexing gives a module, slicing a new
    ``Sequential`` sharing the same modules (with their keys), ``len`` and iteration work as on lists.

    Shapes: whatever the first module takes to whatever the last one returns.
    """

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(str(name), _check_module("Sequential", module, f"entry {name!r}"))
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), _check_module("Sequential", module, f"argument {i}"))

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index("Sequential", idx, len(self))]

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            return NotImplemented
        return Sequential(*self, *other)

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the parent finds (keys ``'0'``, ``'1'``, ...); no ``forward``."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            if isinstance(modules, (Module, str, Mapping)):
                raise TypeError(f"ModuleList: expected an iterable of modules, received {type(modules).__name__}")
            for i, module in enumerate(modules):
                self.add_module(str(i), _check_module("ModuleList", module, f"item {i}"))

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return list(self._modules.values())[_index("ModuleList", idx, len(self))]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:  # noqa: PYI034
        self.extend(modules)
        return self

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def _config_args(self) -> dict[str, Any]:
        return {"modules": list(self._modules.values())}


class ModuleDict(Module):
    """An ordered dict of modules whose parameters the parent finds (keys ``'<name>.weight'``); no ``forward``."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r} (keys: {list(self._modules)})")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _check_module("ModuleDict", module, f"the value for {key!r}"))

    def __delitem__(self, key: str) -> None:
        self[key]
        self._remove_name(key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        if isinstance(modules, (Module, str)):
            raise TypeError(f"ModuleDict.update: expected a mapping or pairs, received {type(modules).__name__}")
        items = modules.items() if isinstance(modules, Mapping) else modules
        for j, item in enumerate(items):
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError(
                    f"ModuleDict.update: element {j} should be a (name, module) pair, received {item!r:.60}"
                )
            self[item[0]] = item[1]

    def _config_args(self) -> dict[str, Any]:
        return {"modules": dict(self._modules)}
