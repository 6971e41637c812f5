"""``Module``: the base class of every layer and model.

As in PyTorch, assigning a :class:`Parameter`, a sub-module or a registered buffer to an attribute
registers it, which gives ``named_parameters()``, ``state_dict()`` (NumPy arrays under PyTorch's
key names) and ``load_state_dict()`` for free.

Two Myelin additions:

* **Configs.** ``Module.__new__`` records the constructor's arguments (bound to the class's
  ``__init__`` signature) before ``__init__`` runs, so no wrapper stands between a user's call and
  their ``__init__``; ``get_config()`` turns them into JSON and :func:`myelin.nn.from_config`
  rebuilds the model from registered classes only.
* **Places.** Every module knows its dotted path in the model (``'features.0'``). The first parent
  a module is attached to owns it and sets its ``_path`` (again whenever its own path changes:
  wrapping a model in another one updates every path below). Later containers that share the
  module (a slice ``model[:2]``, a module used twice) do not move it. So a layer can say where it
  sits when its input is wrong, at no cost per call: see :meth:`Module._shape_error`.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

import numpy as np

from ..autograd.grad_mode import STATE
from ..core.tensor import Tensor
from ..devices import check_device, parse_to
from ._factory import accept_factory_kwargs, strip_factory_kwargs
from ._hooks import BackwardHookTracker, RemovableHandle, wrap_input
from ._state import IncompatibleKeys, LoadStateDictError, load_arrays
from .parameter import Parameter
from .registry import ConfigError, encode_value, init_args, register_module, registered_name

__all__ = ["IncompatibleKeys", "LoadStateDictError", "Module", "RemovableHandle"]

_STORES = ("_parameters", "_buffers", "_modules")


def _join(prefix: str | None, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _as_buffer(value: Any) -> np.ndarray | None:
    if value is None or isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return value.data
    arr = np.asarray(value)
    return arr.astype(np.float32) if arr.dtype == np.float64 else arr


_WRAPPED = (np.ndarray, tuple, list)


class Module:
    """Base class for all layers and models (PyTorch's ``nn.Module``).

    Subclasses call ``super().__init__()`` first, assign parameters and sub-modules as
    attributes, and define ``forward``. Calling the module runs the hooks and ``forward``;
    NumPy inputs are wrapped as tensors first.
    """

    training: bool
    _path: str | None
    #: Whether ``fit``'s ``l1``/``l2`` penalise this module's weights (False for normalisation
    #: layers and learned activation slopes; biases are never penalised): see ``nn.utils.penalized_parameters``.
    penalize_weights: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("myelin.") and "__init__" in cls.__dict__:
            cls.__init__ = accept_factory_kwargs(cls.__dict__["__init__"])  # device=, dtype= (PyTorch's)
        if cls.__module__.startswith("myelin.") and not cls.__name__.startswith("_"):
            register_module(cls)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        self = super().__new__(cls)
        if kwargs:
            kwargs = strip_factory_kwargs(cls.__init__, kwargs)
        recorded = init_args(cls.__init__, self, args, kwargs)  # the outermost call's arguments
        if recorded is not None:
            self.__dict__["_init_args"] = recorded
        return self

    def __init__(self) -> None:
        d = self.__dict__
        d.setdefault("_init_args", {})  # a subclass without its own __init__ takes no arguments
        d["training"] = True
        d["_path"] = None
        d["_owner_ref"] = None
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = {}
        d["_forward_hooks"] = {}
        d["_backward_hooks"] = {}

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define forward(self, ...) in the subclass")

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for a in args:
            if type(a) in _WRAPPED:
                args = tuple(wrap_input(a) for a in args)
                break
        if kwargs:
            kwargs = {k: wrap_input(v) for k, v in kwargs.items()}
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        tracker = BackwardHookTracker(self) if self._backward_hooks and STATE.enabled else None
        if tracker is not None:
            args = tracker.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if tracker is not None:
            output = tracker.wrap_outputs(output)
        return output

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, args)`` runs before ``forward``; it may return new args (a tuple or one value)."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, args, output)`` runs after ``forward``; it may return a replacement output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs when the input gradients are computed.

        ``grad_input`` and ``grad_output`` are tuples of NumPy arrays (``None`` for tensors that
        need no gradient). Hooks observe; they cannot replace gradients (use ``Tensor.register_hook``).
        """
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ places and errors
    def _owner(self) -> Module | None:
        """The parent that gives this module its path: the first one it was attached to."""
        ref = self.__dict__.get("_owner_ref")
        return ref() if ref is not None else None

    def _claim(self, child: Module) -> bool:
        """Become ``child``'s owner unless another live parent already is (shared modules, slices)."""
        owner = child._owner()
        if owner is None or owner is self:
            child.__dict__["_owner_ref"] = weakref.ref(self)
            return True
        return False

    def _set_path(self, path: str | None, _seen: set[int] | None = None) -> None:
        """Record this module's dotted path and update the paths of the children it owns."""
        seen = set() if _seen is None else _seen
        if id(self) in seen:
            return
        seen.add(id(self))
        self.__dict__["_path"] = path
        for name, child in self._modules.items():
            if child is not None and self._claim(child):
                child._set_path(_join(path, name), seen)

    def _location(self) -> str:
        """The dotted path in the model, or the class name for a module that is not inside another."""
        return self._path or type(self).__name__

    def _describe(self) -> str:
        """A one-line description: ``Linear(in_features=128, out_features=10, bias=True)``."""
        return f"{type(self).__name__}({' '.join(self.extra_repr().splitlines())})"

    def _input_error(self, message: str) -> NoReturn:
        """Raise ``ValueError("<module> at '<path>' <message>")``."""
        raise ValueError(f"{self._describe()} at '{self._location()}' {message}")

    def _shape_error(self, expected: str, got: Any) -> NoReturn:
        """Raise ``ValueError("Linear(...) at 'classifier.2' expected input (..., 128), got (32, 64)")``."""
        self._input_error(f"expected input {expected}, got {tuple(got)}")

    # ------------------------------------------------------------------ registration
    # Registered parameters, buffers and children live in ``_parameters`` / ``_buffers`` / ``_modules``
    # (the source of truth, in registration order) and are mirrored in the instance ``__dict__``, so
    # that ``self.weight`` is an ordinary attribute lookup (~0.1 us) rather than a failed lookup
    # followed by ``__getattr__`` (~1.4 us): it matters for small models. Only the methods below
    # change the stores, and each keeps the mirror in step.
    def _store(self, store: str, name: str, value: Any) -> None:
        d = self.__dict__
        d[store][name] = value
        d[name] = value

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(f"cannot assign parameters before Module.__init__() call ({name!r})")
            self._remove_name(name)
            self._store("_parameters", name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter '{name}' of {type(self).__name__} "
                    f"(a myelin.nn.Parameter or None is expected)"
                )
            self._store("_parameters", name, None)
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError(f"cannot assign a module before Module.__init__() call ({name!r})")
            self._remove_name(name)
            self._attach(name, value)
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module '{name}' of {type(self).__name__} "
                    f"(a Module or None is expected)"
                )
            self._detach(name)
            self._store("_modules", name, None)
        elif params is not None and name in d["_buffers"]:
            self._store("_buffers", name, _as_buffer(value))
        else:
            object.__setattr__(self, name, value)

    def _remove_name(self, name: str) -> None:
        d = self.__dict__
        d.pop(name, None)
        d["_parameters"].pop(name, None)
        d["_buffers"].pop(name, None)
        d["_non_persistent_buffers"].discard(name)
        if name in d["_modules"]:
            self._detach(name)
            del d["_modules"][name]

    def _attach(self, name: str, module: Module | None) -> None:
        self._store("_modules", name, module)
        if module is not None and self._claim(module):
            module._set_path(_join(self._path, name))

    def _detach(self, name: str) -> None:
        old = self._modules.get(name)
        if old is not None and old._owner() is self:
            old.__dict__["_owner_ref"] = None
            old._set_path(None)

    def _clear_modules(self) -> None:
        """Detach and forget every child (containers that renumber use it)."""
        for name in list(self._modules):
            self._detach(name)
            self.__dict__.pop(name, None)
        self._modules.clear()

    def __getstate__(self) -> dict[str, Any]:
        """Copies (``copy.deepcopy``) start without an owner; their new parent claims them."""
        state = dict(self.__dict__)
        state["_owner_ref"] = None
        return state

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in _STORES:
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        if any(name in d.get(store, ()) for store in _STORES):
            self._remove_name(name)
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        for store in _STORES:
            names.update(self.__dict__.get(store, ()))
        return sorted(names)

    def _check_new_name(self, name: Any, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot register a {what} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{what} name should be a string, received {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{what} name can't be empty or contain '.', received {name!r}")
        if hasattr(self, name) and not any(name in self.__dict__[s] for s in _STORES):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (a :class:`Parameter` or ``None``) under ``name``."""
        self._check_new_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter '{name}' (Parameter or None expected)")
        self._remove_name(name)
        self._store("_parameters", name, param)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Add a NumPy array (or ``None``) that is state but not a parameter (e.g. ``running_mean``).

        Persistent buffers appear in ``state_dict()``; tensors and array-likes are stored as NumPy arrays.
        """
        self._check_new_name(name, "buffer")
        self._remove_name(name)
        self._store("_buffers", name, _as_buffer(tensor))
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (as ``setattr``, but the name may be any string without a dot)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name(name, "module")
        self._remove_name(name)
        self._attach(name, module)

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path ``target`` (``''`` is ``self``)."""
        module: Module = self
        for i, part in enumerate(target.split(".") if target else []):
            child = module._modules.get(part)
            if child is None:
                where = ".".join(target.split(".")[:i]) or type(self).__name__
                raise AttributeError(f"{where} has no submodule '{part}'")
            module = child
        return module

    # ------------------------------------------------------------------ walking the tree
    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, _join(prefix, name), remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool = True) -> Iterator:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in module.__dict__[store].items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield _join(mod_prefix, name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, np.ndarray]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[np.ndarray]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalar weights (only those that require grad with ``trainable_only``)."""
        return sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError(f"train: the training mode is expected to be a bool, received {mode!r}")  # noqa: TRY004
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on ``self``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """PyTorch's ``to``: ``to("cpu")``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` (in place; returns self).

        The device must be the CPU (anything else raises a ``DeviceError`` that says what to write);
        a dtype casts floating-point parameters, gradients and buffers.
        """
        _, dtype = parse_to(args, kwargs, "Module.to")
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"to: only floating-point dtypes are supported, received {dtype}")
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None and p.data.dtype != dtype:
                    p.data = p.data.astype(dtype)
                    if p.grad is not None:
                        p.grad = p.grad.astype(dtype)
            for name, b in m._buffers.items():
                if b is not None and b.dtype.kind == "f" and b.dtype != dtype:
                    m._store("_buffers", name, b.astype(dtype))
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def half(self) -> Module:
        return self.to(np.float16)

    def type(self, dst_type: Any) -> Module:
        """Cast floating-point parameters and buffers to ``dst_type`` (as ``to(dst_type)``)."""
        return self.to(dst_type)

    def cpu(self) -> Module:
        """Myelin's modules always live on the CPU: returns self."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Raises a ``DeviceError``: Myelin runs on the CPU only (write ``.to(device)`` with ``device = "cpu"``)."""
        check_device("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}",
                     "Module.cuda")
        return self

    # ------------------------------------------------------------------ state
    def _state_entries(self, prefix: str = "") -> Iterator[tuple[str, Module, str, bool]]:
        """(key, owner, attribute, is_parameter) for every entry of the state dict, in order."""
        for mod_prefix, m in self.named_modules(prefix=prefix, remove_duplicate=False):
            for name, p in m._parameters.items():
                if p is not None:
                    yield _join(mod_prefix, name), m, name, True
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent_buffers:
                    yield _join(mod_prefix, name), m, name, False

    def state_dict(self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
                   ) -> OrderedDict[str, Any]:
        """An ordered dict of copies of every parameter and persistent buffer, as NumPy arrays.

        Keys follow PyTorch (``'layers.0.weight'``, ``'bn.running_mean'``); ``keep_vars=True``
        returns the live ``Parameter`` objects and buffer arrays instead of copies.
        """
        out: Any = OrderedDict() if destination is None else destination
        prefix = prefix.rstrip(".")
        for key, m, name, is_param in self._state_entries(prefix):
            value = m._parameters[name] if is_param else m._buffers[name]
            if keep_vars:
                out[key] = value
            else:
                out[key] = (value.data if is_param else value).copy()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters and buffers in place, casting to their dtypes.

        Values may be NumPy arrays, Myelin tensors, torch tensors or nested lists. Nothing is
        changed unless every value fits: mis-shaped values always raise; with ``strict`` (the
        default) missing and unexpected keys do too. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to arrays, received {type(state_dict).__name__}"
            )
        if not isinstance(strict, bool):
            raise TypeError(f"load_state_dict: strict must be a bool, received {strict!r}")
        entries = {key: (m._parameters[name].data if is_param else m._buffers[name])
                   for key, m, name, is_param in self._state_entries()}
        return load_arrays(entries, state_dict, strict, type(self).__name__)

    # ------------------------------------------------------------------ configs
    def _config_args(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module (containers describe their current children)."""
        args = self.__dict__.get("_init_args")
        if args is None:
            raise ConfigError(
                f"{type(self).__name__} has no recorded constructor arguments (was Module.__init__ bypassed?)"
            )
        return args

    def get_config(self) -> dict[str, Any]:
        """``{"type": "Linear", "args": {...}}``: JSON that :func:`myelin.nn.from_config` rebuilds.

        Sub-modules passed to the constructor are nested as configs; only registered classes can be
        described (call ``myelin.nn.register_module(MyBlock)`` for your own).
        """
        cls = type(self)
        name = registered_name(cls)
        if name is None:
            raise ConfigError(
                f"{cls.__name__} cannot be described as a config because it is not registered: call "
                f"myelin.nn.register_module({cls.__name__}) after defining it (its constructor arguments must "
                f"be numbers, strings, lists, dicts or modules), or save only its weights with "
                f"myelin.save_weights / model.state_dict()"
            )
        args = self._config_args()
        return {"type": name, "args": {k: encode_value(v, name, k) for k, v in args.items()}}

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _indent(repr(child), 2) for key, child in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"

    def _repr_html_(self) -> str:
        """In Jupyter: the printed model and a table of its parameters (gradient norms after backward)."""
        from ._display import module_html
        return module_html(self)


def _indent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])
