"""Recording one forward pass: the layers called and the tensor ops between them.

The model runs once in eval mode under ``no_grad`` with ``myelin.core.node.TRACER`` set. Every
module's ``forward`` is wrapped for the duration (an instance attribute, removed afterwards) so the
tracer knows which module is running. A module whose type has an ONNX converter is *opaque*: its
call is recorded as one :class:`LayerCall` (inputs, keyword arguments, output) and the ops inside
it are not recorded. Everything else (``Sequential``, ``MLP``, user modules) is transparent: its
tensor ops are recorded as :class:`OpCall` entries, in execution order.

Nothing here imports ``onnx``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..autograd.grad_mode import no_grad
from ..core import node
from ..core.tensor import Tensor
from ..nn.module import Module

__all__ = ["LayerCall", "OpCall", "Trace", "flatten_tensors", "trace_model"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MISSING = object()


@dataclass
class OpCall:
    """One tensor op run outside any opaque layer."""

    op: str
    out: Tensor
    parents: tuple
    attrs: dict | None
    module: str  # the module whose forward ran the op (path, or the class name for the root)
    location: str  # "file.py:line" of the user code that called the op, when found


@dataclass
class LayerCall:
    """One call of a layer that has an ONNX converter."""

    module: Module
    path: str
    args: tuple
    kwargs: dict
    output: Any


@dataclass
class Trace:
    """What one forward pass did: ``records`` in execution order, the inputs and the output."""

    inputs: tuple
    output: Any
    records: list = field(default_factory=list)


def flatten_tensors(value: Any) -> list[Tensor]:
    """The tensors in a nested structure of tuples, lists and dicts, in order."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in flatten_tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in flatten_tensors(v)]
    return []


def _user_location() -> str:
    """The innermost caller outside the myelin package, as ``file:line``."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR):
            return f"{os.path.basename(filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


class _Recorder:
    """The tracer callback plus the module stack it needs."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.stack: list[str] = []
        self.opaque_depth = 0

    def __call__(self, out: Tensor, parents: tuple, op: str, attrs: dict | None) -> None:
        if self.opaque_depth:
            return
        where = self.stack[-1] if self.stack else ""
        self.trace.records.append(OpCall(op, out, tuple(parents), attrs, where, _user_location()))

    def wrap(self, module: Module, path: str, opaque: bool) -> Callable[..., Any]:
        """A replacement for ``module.forward`` that keeps the stack and records opaque layers."""
        forward = module.forward

        def traced_forward(*args: Any, **kwargs: Any) -> Any:
            if self.opaque_depth:
                return forward(*args, **kwargs)
            self.stack.append(path)
            if opaque:
                self.opaque_depth += 1
            try:
                output = forward(*args, **kwargs)
            finally:
                self.stack.pop()
                if opaque:
                    self.opaque_depth -= 1
            if opaque:
                self.trace.records.append(LayerCall(module, path, args, dict(kwargs), output))
            return output

        return traced_forward


def module_paths(model: Module) -> Iterator[tuple[str, Module]]:
    """Every module once, with its dotted path (the root is named by its class)."""
    for path, module in model.named_modules():
        yield (path or type(model).__name__), module


def trace_model(model: Module, example: Any, is_opaque: Callable[[Module], bool]) -> Trace:
    """Run ``model`` once on ``example`` (a tensor, or a tuple of the positional arguments) and record it.

    The model is put in eval mode for the pass and its previous mode restored afterwards.
    """
    inputs = example if isinstance(example, tuple) else (example,)
    trace = Trace(inputs, None)
    recorder = _Recorder(trace)
    wrapped: list[tuple[Module, Any]] = []
    modes = [(m, m.training) for m in model.modules()]
    previous = node.TRACER
    try:
        for path, module in module_paths(model):
            wrapped.append((module, module.__dict__.get("forward", _MISSING)))
            object.__setattr__(module, "forward", recorder.wrap(module, path, is_opaque(module)))
        model.eval()
        node.TRACER = recorder
        with no_grad():
            trace.output = model(*inputs)
    finally:
        node.TRACER = previous
        for module, old in wrapped:
            if old is _MISSING:
                module.__dict__.pop("forward", None)
            else:
                module.__dict__["forward"] = old
        for m, mode in modes:
            m.__dict__["training"] = mode
    return trace

