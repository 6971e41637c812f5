"""The export driver: two traced runs, aligned, converted record by record into one ONNX graph."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper

from .._plural import counted
from ..core.tensor import Tensor, as_tensor
from ..nn.module import Module
from . import attention, layers_extra, rnn, spatial
from .errors import ONNXExportError
from .graph import Graph, onnx_dtype
from .modules import LAYER_CONVERTERS, is_opaque
from .ops import OP_CONVERTERS, module_hint
from .trace import LayerCall, OpCall, Trace, flatten_tensors, trace_model

__all__ = ["describe", "export_model"]

MIN_OPSET = 13
CONVERTER_MODULES = (attention, layers_extra, rnn, spatial)  # they register their layer converters when imported


def describe(record: Any) -> str:
    """How error messages name a record: ``op 'mul' in forward of 'Net' (used at net.py:12)``."""
    if isinstance(record, LayerCall):
        return f"layer '{record.path}' ({type(record.module).__name__})"
    at = f" (used at {record.location})" if record.location else ""
    return f"op '{record.op}' in forward of '{record.module}'{at}"


# ---------------------------------------------------------------------------------- inputs
def _float_dtype(model: Module) -> np.dtype | None:
    """The dtype of the model's floating-point parameters (None without any)."""
    return next((p.data.dtype for p in model.parameters() if p.data.dtype.kind == "f"), None)


def _structure(example: Any, float_dtype: np.dtype | None) -> Any:
    """The example as the model receives it: tensors, in (nested) tuples; floating-point NumPy arrays
    take the dtype of the model's parameters (a float64 model gets a float64 example)."""
    if isinstance(example, (tuple, list)):
        return tuple(_structure(e, float_dtype) for e in example)
    if isinstance(example, Tensor):
        return example
    a = np.asarray(example)
    return as_tensor(a, dtype=float_dtype if float_dtype is not None and a.dtype.kind == "f" else None)


def _first_use(t: Tensor, trace: Trace) -> Any:
    for rec in trace.records:
        if isinstance(rec, LayerCall):
            if any(a is t for a in flatten_tensors((rec.args, rec.kwargs))):
                return rec
        elif any(p is t for p in rec.parents):
            return rec
    return None


def _batch_axes(inputs: list[Tensor], trace: Trace) -> list[int | None]:
    """Which dimension of each input is the batch.

    An input that goes straight into a recurrent layer or a ``MultiheadAttention`` has it where the layer
    expects it (dim 1 for sequence-first input and for ``h0``/``c0``); otherwise it is dim 0 of the first input and, for the
    others, the first dimension of the same size (none if there is no such dimension).
    """
    axes: list[int | None] = []
    for t in inputs:
        use = _first_use(t, trace)
        axis = rnn.batch_axis(use, t) if isinstance(use, LayerCall) else "unknown"
        if axis == "unknown" and isinstance(use, LayerCall):
            axis = attention.batch_axis(use, t)
        if axis == "unknown":
            if not axes:
                axis = 0 if t.ndim else None
            else:
                b = inputs[0].shape[axes[0]] if axes[0] is not None else None
                axis = next((i for i, n in enumerate(t.shape) if n == b), None)
        axes.append(axis)  # type: ignore[arg-type]
    if axes[0] is None:
        raise ONNXExportError("dynamic_batch=True needs a first input with a batch dimension; "
                              "pass dynamic_batch=False")
    return axes


def _perturbed(x: Tensor, axis: int | None, size: int | None, rng: np.random.Generator) -> Tensor:
    """Another input like ``x``: resampled to ``size`` along the batch axis, with other values."""
    a = x.data
    if axis is not None and size is not None and a.shape[axis] > 0:
        a = np.take(a, rng.integers(0, a.shape[axis], size), axis=axis)
    if a.size == 0:
        return as_tensor(a.copy(), dtype=a.dtype)
    if a.dtype.kind == "f":
        scale = float(np.std(a)) or 1.0
        a = (a + rng.standard_normal(a.shape) * (0.1 * scale)).astype(x.data.dtype)
    elif a.dtype.kind == "b":
        a = rng.random(a.shape) < 0.5
    elif a.dtype.kind in "iu":
        a = rng.integers(int(a.min()), int(a.max()) + 1, a.shape).astype(a.dtype)
    return as_tensor(np.ascontiguousarray(a), dtype=x.data.dtype)  # as_tensor alone would make float64 float32


def _rebuild(structure: Any, tensors: list[Tensor]) -> Any:
    it = iter(tensors)

    def walk(s: Any) -> Any:
        return tuple(walk(e) for e in s) if isinstance(s, tuple) else next(it)

    return walk(structure)


# ---------------------------------------------------------------------------------- alignment
def _align(t1: Trace, t2: Trace) -> None:
    """Both runs must have recorded the same layers and ops in the same order."""
    for r1, r2 in zip(t1.records, t2.records):
        same = type(r1) is type(r2) and (
            r1.module is r2.module if isinstance(r1, LayerCall) else (r1.op == r2.op and r1.module == r2.module)
        )
        if not same:
            raise ONNXExportError(
                f"the forward pass took different paths for two example inputs: {describe(r1)} in one run, "
                f"{describe(r2)} in the other; control flow that depends on the input values or the batch "
                f"size cannot be exported"
            )
    if len(t1.records) != len(t2.records):
        longer = t1.records if len(t1.records) > len(t2.records) else t2.records
        extra = longer[min(len(t1.records), len(t2.records))]
        raise ONNXExportError(
            f"the forward pass took different paths for two example inputs (one run also has {describe(extra)}); "
            f"control flow that depends on the input values or the batch size cannot be exported"
        )


# ---------------------------------------------------------------------------------- conversion
def _convert(g: Graph, r1: Any, r2: Any) -> None:
    g.where = describe(r1)
    if isinstance(r1, OpCall):
        converter = OP_CONVERTERS.get(r1.op)
        if converter is None:
            raise ONNXExportError(f"cannot export {g.where}: no ONNX converter for this op{module_hint(r1.op)}")
        g.scope = ""
        name = converter(g, r1, r2)
        g.bind(r1.out, r2.out, name)
        return
    converter = LAYER_CONVERTERS.get(type(r1.module))
    if converter is None:
        raise ONNXExportError(f"{g.where} has no ONNX converter")
    g.scope = r1.path
    try:
        names = converter(g, r1, r2)
    finally:
        g.scope = ""
    outs1, outs2 = flatten_tensors(r1.output), flatten_tensors(r2.output)
    if len(names) != len(outs1):
        raise ONNXExportError(f"internal error: the converter of {g.where} gave {counted(len(names), 'output')} for "
                              f"{counted(len(outs1), 'tensor')}")
    for t1, t2, name in zip(outs1, outs2, names):
        g.bind(t1, t2, name)


def _record_inputs(record: Any) -> list[Tensor]:
    if isinstance(record, LayerCall):
        return flatten_tensors((record.args, record.kwargs))
    return list(record.parents) + flatten_tensors(list((record.attrs or {}).values()))


def _needed(trace: Trace) -> list[bool]:
    """Which records the outputs depend on (ops whose results are unused are not exported)."""
    wanted = {id(t) for t in flatten_tensors(trace.output)}
    keep = [False] * len(trace.records)
    for k in range(len(trace.records) - 1, -1, -1):
        record = trace.records[k]
        outs = flatten_tensors(record.output) if isinstance(record, LayerCall) else [record.out]
        if any(id(t) in wanted for t in outs):
            keep[k] = True
            wanted.update(id(t) for t in _record_inputs(record))
    return keep


def _value_info(name: str, t1: Tensor, t2: Tensor, g: Graph) -> onnx.ValueInfoProto:
    dims: list[Any] = []
    for d1, d2 in zip(t1.shape, t2.shape):
        if d1 == d2:
            dims.append(int(d1))
        else:
            k = g.batch_factor(int(d1), int(d2))
            dims.append("batch" if k == 1 else None)
    return helper.make_tensor_value_info(name, onnx_dtype(t1.data.dtype), dims)


def _names(given: Sequence[str], n: int, what: str) -> list[str]:
    if isinstance(given, str):
        given = (given,)
    names = [str(s) for s in given][:n]
    if len(given) > n:
        raise ONNXExportError(f"{counted(len(given), f'{what} name')} given, but the model has {counted(n, what)}")
    base = names[-1] if names else what
    names += [f"{base}_{i}" for i in range(len(names), n)]
    return names


def _check_args(model: Any, opset: Any, dynamic_batch: Any) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"export: expected a myelin.nn.Module, received {type(model).__name__}")
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"export: opset must be an int from {MIN_OPSET} to {newest}, received {opset!r}")
    if not isinstance(dynamic_batch, bool):
        raise TypeError(f"export: dynamic_batch must be True or False, received {dynamic_batch!r}")


def export_model(model: Module, example_input: Any, path: Any, opset: int, input_names: Sequence[str],
                 output_names: Sequence[str], dynamic_batch: bool) -> onnx.ModelProto:
    """Implementation of :func:`myelin.onnx.export` (see there)."""
    _check_args(model, opset, dynamic_batch)
    structure = _structure(example_input, _float_dtype(model))
    inputs1 = flatten_tensors(structure)
    if not inputs1:
        raise ONNXExportError("export: example_input holds no tensor")
    trace1 = trace_model(model, structure, is_opaque)
    axes = _batch_axes(inputs1, trace1) if dynamic_batch else [None] * len(inputs1)
    b1 = inputs1[0].shape[axes[0]] if axes[0] is not None else None
    b2 = b1 + 1 if b1 is not None else None
    rng = np.random.default_rng(20240917)
    inputs2 = [_perturbed(t, ax, b2 if ax is not None else None, rng) for t, ax in zip(inputs1, axes)]
    try:
        trace2 = trace_model(model, _rebuild(structure, inputs2), is_opaque)
    except Exception as err:
        hint = (f" with batch size {b2} (the export runs the model a second time to find the batch dimension); "
                f"pass dynamic_batch=False if dimension 0 of the first input is not a batch dimension"
                if dynamic_batch else " with other values")
        raise ONNXExportError(f"the model failed on a second example input{hint}: {type(err).__name__}: {err}") \
            from err
    _align(trace1, trace2)

    param_names = {id(p): name for name, p in model.named_parameters()}
    buffer_names = {id(b): name for name, b in model.named_buffers()}
    g = Graph(opset, (b1, b2) if dynamic_batch else None, param_names, buffer_names)
    in_names = _names(input_names, len(inputs1), "input")
    graph_inputs = []
    for name, t1, t2, ax in zip(in_names, inputs1, inputs2, axes):
        g.reserve(name)
        g.bind(t1, t2, name)
        dims: list[Any] = list(t1.shape)
        if ax is not None:
            dims[ax] = "batch"
        graph_inputs.append(helper.make_tensor_value_info(name, onnx_dtype(t1.data.dtype), dims))
    g.batch_source = (in_names[0], axes[0]) if dynamic_batch else None

    for r1, r2, needed in zip(trace1.records, trace2.records, _needed(trace1)):
        if needed:
            _convert(g, r1, r2)

    outs1, outs2 = flatten_tensors(trace1.output), flatten_tensors(trace2.output)
    if not outs1:
        raise ONNXExportError(f"the forward of '{type(model).__name__}' returned no tensor")
    out_names = _names(output_names, len(outs1), "output")
    graph_outputs = []
    g.where = f"the output of '{type(model).__name__}'"
    for name, t1, t2 in zip(out_names, outs1, outs2):
        g.reserve(name)
        source = g.name_of(t1)
        if source is None:
            raise ONNXExportError(
                f"output '{name}' of '{type(model).__name__}' was not computed by recorded layers or ops "
                f"(NumPy on .data, argmax indices of max(dim), or a constant); it cannot be exported"
            )
        g.value(t1, t2)  # checks that the second run returned the corresponding value
        g.node("Identity", [source], [name])
        graph_outputs.append(_value_info(name, t1, t2, g))

    graph = helper.make_graph(g.nodes, type(model).__name__, graph_inputs, graph_outputs, g.initializers)
    opset_id = helper.make_opsetid("", opset)
    model_proto = helper.make_model(graph, opset_imports=[opset_id], producer_name="myelin",
                                    producer_version=_version())
    model_proto.ir_version = helper.find_min_ir_version_for([opset_id])
    try:
        onnx.checker.check_model(model_proto, full_check=True)
    except Exception as err:
        raise ONNXExportError(f"internal error: the exported graph fails onnx.checker: {err}") from err
    _write(model_proto, path)
    return model_proto


def _version() -> str:
    from .. import __version__

    return __version__


def _write(model_proto: onnx.ModelProto, path: Any) -> None:
    from ..io import atomic_write

    with atomic_write(os.fspath(path)) as f:
        f.write(model_proto.SerializeToString())
