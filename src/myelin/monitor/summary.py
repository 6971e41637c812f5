"""``myelin.summary(model, input_shape)``: a table of every layer, its output shape and its parameters.

One forward pass on zeros (under ``no_grad``, in eval mode; modes are restored afterwards) with a
forward hook on every module records each module's output shape. Nested modules are expanded and
named by their dotted place in the model (``features.0``), indented by depth.

Memory estimates: *parameter memory* is the bytes of all (distinct) parameters; *activation
memory* is the bytes of the outputs of every leaf module (no children) for the given batch size,
counting each call, i.e. about what a training step keeps for backward.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LayerRow", "ModelSummary", "summary"]


@dataclass
class LayerRow:
    """One line of the summary.

    Attributes:
        name: dotted place in the model (``''`` for the model itself).
        type: class name.
        depth: nesting depth (0 for the model, 1 for its children...).
        output_shape: the shape of the first call's output, a tuple or nested tuples for
            modules returning several tensors (LSTM: ``((N, L, H), ((1, N, H), (1, N, H)))``);
            ``None`` when the module was not called (or no input shape was given).
        params: parameters of the module and everything inside it.
        trainable: those of them that require grad.
        own_params: parameters registered directly on the module.
        output_bytes: bytes of this module's outputs, summed over its calls.
        calls: how many times the forward pass called the module.
        leaf: True when the module has no sub-modules.
    """

    name: str
    type: str
    depth: int
    output_shape: Any
    params: int
    trainable: int
    own_params: int
    output_bytes: int = 0
    calls: int = 0
    leaf: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "depth": self.depth,
                "output_shape": _jsonable_shape(self.output_shape), "params": self.params,
                "trainable": self.trainable, "own_params": self.own_params, "output_bytes": self.output_bytes,
                "calls": self.calls, "leaf": self.leaf}


def _jsonable_shape(shape: Any) -> Any:
    if isinstance(shape, tuple):
        return [_jsonable_shape(s) for s in shape]
    return shape


def format_shape(shape: Any) -> str:
    """``(1, 10)``; nested shapes as ``((1, 5, 20), ((1, 1, 20), (1, 1, 20)))``; ``None`` as ``--``."""
    if shape is None:
        return "--"
    if shape and all(isinstance(s, int) for s in shape):
        return "(" + ", ".join(str(s) for s in shape) + ")"
    if shape == ():
        return "()"
    return "(" + ", ".join(format_shape(s) for s in shape) + ")"


def format_bytes(n: float) -> str:
    """``1.53 MB`` (decimal units)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000
    return f"{n:.2f} TB"  # pragma: no cover


@dataclass
class ModelSummary:
    """What :func:`summary` returns: ``str()`` is the table, ``rows`` the data.

    Attributes:
        model_type: the model's class name.
        rows: one :class:`LayerRow` per module, in ``named_modules()`` order (the model first).
        input_shape: the input shape(s) given (without the batch dimension), or ``None``.
        batch_size: the batch size of the forward pass.
        total_params, trainable_params, non_trainable_params: counts over distinct parameters.
        param_bytes: bytes of the parameters; buffer_bytes: of the buffers (running statistics).
        activation_bytes: bytes of every leaf module's outputs for this batch size.
        input_bytes: bytes of the input batch.
    """

    model_type: str
    rows: list[LayerRow]
    input_shape: Any
    batch_size: int
    total_params: int
    trainable_params: int
    param_bytes: int
    buffer_bytes: int
    activation_bytes: int
    input_bytes: int
    notes: list[str] = field(default_factory=list)

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def total_bytes(self) -> int:
        """Parameters, buffers, activations and input together."""
        return self.param_bytes + self.buffer_bytes + self.activation_bytes + self.input_bytes

    def table_rows(self) -> list[tuple[str, str, str, str]]:
        """``(layer, type, output shape, params)`` strings per row, the layer indented by depth."""
        out = []
        for r in self.rows:
            name = r.name or "(model)"
            label = "  " * max(r.depth - 1, 0) + name if r.depth else name
            params = f"{r.params:,}"
            if not r.leaf and r.depth:
                params = f"({params})"  # a container: its children's parameters, not counted twice
            out.append((label, r.type, format_shape(r.output_shape), params))
        return out

    def __str__(self) -> str:
        header = ("Layer", "Type", "Output shape", "Params")
        body = self.table_rows()
        widths = [max(len(header[i]), *(len(row[i]) for row in body)) for i in range(4)]
        fmt = f"{{:<{widths[0]}}}  {{:<{widths[1]}}}  {{:<{widths[2]}}}  {{:>{widths[3]}}}"
        rule = "-" * (sum(widths) + 6)
        lines = [(f"{self.model_type} summary (batch size {self.batch_size}, input "
                 f"{format_shape(self.batched_shape)})"), rule, fmt.format(*header), rule]
        lines += [fmt.format(*row) for row in body]
        lines += [
            rule,
            f"Total params:          {self.total_params:,}",
            f"Trainable params:      {self.trainable_params:,}",
            f"Non-trainable params:  {self.non_trainable_params:,}",
            rule,
            f"Input size:            {format_bytes(self.input_bytes)}",
            (f"Activation memory:     {format_bytes(self.activation_bytes)} (outputs of every layer, batch "
            f"{self.batch_size})"),
            f"Parameter memory:      {format_bytes(self.param_bytes)}"
            + (f" (+ {format_bytes(self.buffer_bytes)} buffers)" if self.buffer_bytes else ""),
            f"Estimated total:       {format_bytes(self.total_bytes)}",
        ]
        lines += self.notes
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    @property
    def batched_shape(self) -> Any:
        """The shape(s) of the input batch of the forward pass (``None`` without an input shape)."""
        if self.input_shape is None:
            return None
        shapes = self.input_shape if _is_multi(self.input_shape) else (self.input_shape,)
        batched = tuple((self.batch_size, *s) for s in shapes)
        return batched if len(batched) > 1 else batched[0]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the summary."""
        return {"model_type": self.model_type, "input_shape": _jsonable_shape(self.input_shape),
                "batch_size": self.batch_size, "total_params": self.total_params,
                "trainable_params": self.trainable_params, "param_bytes": self.param_bytes,
                "buffer_bytes": self.buffer_bytes, "activation_bytes": self.activation_bytes,
                "input_bytes": self.input_bytes, "rows": [r.as_dict() for r in self.rows]}


def _is_multi(shape: Any) -> bool:
    """True for several input shapes (a sequence of sequences)."""
    return isinstance(shape, (list, tuple)) and bool(shape) and all(isinstance(s, (list, tuple)) for s in shape)


def _check_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, (list, tuple)) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise TypeError(f"summary: expected input_shape as a tuple of sizes without the batch dimension, "
                        f"e.g. (784,) or (1, 28, 28), received {shape!r}")
    return tuple(int(s) for s in shape)


def _output_info(output: Any) -> tuple[Any, int]:
    """(shape, bytes) of an output: a tensor, an array, or nested tuples/lists of them."""
    if isinstance(output, (tuple, list)):
        parts = [_output_info(o) for o in output]
        return tuple(p[0] for p in parts), sum(p[1] for p in parts)
    data = getattr(output, "data", output)
    if isinstance(data, np.ndarray):
        return tuple(int(s) for s in data.shape), int(data.nbytes)
    return None, 0


def infer_input_shape(model: Any) -> tuple[int, ...] | None:
    """``(in_features,)`` when the model's first layer with parameters is a ``Linear``, else ``None``."""
    for _, m in model.named_modules():
        params = getattr(m, "_parameters", {})
        if any(p is not None for p in params.values()):
            if "Linear" in [c.__name__ for c in type(m).__mro__] and isinstance(getattr(m, "in_features", None), int):
                return (m.in_features,)
            return None
    return None


def summary(model: Any, input_shape: Any = None, batch_size: int = 1, dtype: Any = None) -> ModelSummary:
    """Describe ``model`` layer by layer.

    Args:
        model: a ``Module``.
        input_shape: one input's shape without the batch dimension (``(784,)``, ``(1, 28, 28)``,
            ``(seq_len, features)`` for a ``batch_first`` LSTM), or a list of shapes for a model
            with several inputs. ``None``: inferred when the first layer is a ``Linear``; otherwise
            the summary lists parameters only, without output shapes.
        batch_size: batch dimension of the forward pass (scales the activation memory).
        dtype: input dtype (default float32; use an integer dtype for an ``Embedding`` first layer).

    Returns:
        A :class:`ModelSummary`; ``print(myelin.summary(model, (784,)))`` shows the table.
    """
    from ..autograd.grad_mode import no_grad
    from ..core.tensor import Tensor

    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"summary: expected batch_size to be a positive int, received {batch_size!r}")
    named = list(model.named_modules())
    notes: list[str] = []
    if input_shape is None:
        input_shape = infer_input_shape(model)
        if input_shape is None:
            notes.append("(no input_shape given: output shapes and activation memory are not shown)")
    shapes = None
    if input_shape is not None:
        shapes = [_check_shape(s) for s in input_shape] if _is_multi(input_shape) else [_check_shape(input_shape)]
        input_shape = tuple(shapes) if len(shapes) > 1 else shapes[0]
    arr_dtype = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)

    records: dict[int, dict[str, Any]] = {}

    def make_hook(key: int) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            shape, nbytes = _output_info(output)
            rec = records.setdefault(key, {"shape": shape, "bytes": 0, "calls": 0})
            rec["bytes"] += nbytes
            rec["calls"] += 1

        return hook

    input_bytes = 0
    if shapes is not None:
        inputs = [Tensor._wrap(np.zeros((int(batch_size), *s), dtype=arr_dtype)) for s in shapes]
        input_bytes = sum(int(x.data.nbytes) for x in inputs)
        handles = [m.register_forward_hook(make_hook(id(m))) for _, m in named]
        modes = [(m, m.training) for _, m in named]
        try:
            model.eval()
            with no_grad():
                model(*inputs)
        except Exception as err:
            batched = ", ".join(format_shape((int(batch_size), *s)) for s in shapes)
            raise RuntimeError(f"summary: the forward pass of {type(model).__name__} on zeros of shape {batched} "
                               f"failed ({type(err).__name__}: {err}); check input_shape (without the batch "
                               f"dimension)") from err
        finally:
            for h in handles:
                h.remove()
            for m, training in modes:
                m.__dict__["training"] = training

    rows: list[LayerRow] = []
    activation_bytes = 0
    for name, m in named:
        params = list(m.parameters())
        own = [p for p in m._parameters.values() if p is not None]
        rec = records.get(id(m), {})
        leaf = not any(c is not None for c in m._modules.values())
        row = LayerRow(name=name, type=type(m).__name__, depth=0 if not name else name.count(".") + 1,
                       output_shape=rec.get("shape"), params=sum(p.data.size for p in params),
                       trainable=sum(p.data.size for p in params if p.requires_grad),
                       own_params=sum(p.data.size for p in own), output_bytes=rec.get("bytes", 0),
                       calls=rec.get("calls", 0), leaf=leaf)
        if leaf:
            activation_bytes += row.output_bytes
        rows.append(row)
    params = list(model.parameters())
    return ModelSummary(
        model_type=type(model).__name__, rows=rows, input_shape=input_shape, batch_size=int(batch_size),
        total_params=sum(p.data.size for p in params),
        trainable_params=sum(p.data.size for p in params if p.requires_grad),
        param_bytes=sum(p.data.nbytes for p in params),
        buffer_bytes=sum(b.nbytes for b in model.buffers()),
        activation_bytes=activation_bytes, input_bytes=input_bytes, notes=notes)

