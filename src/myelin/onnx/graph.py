"""The ONNX graph under construction: value names, nodes, initializers and the batch dimension.

Every converter works on a :class:`Graph`. Values are named by the tensors of the first traced run
(``name_of``); the second run (another batch size, other input values) gives each tensor a
*counterpart*, which is how the graph tells constants from values that depend on the input, and
static sizes from sizes that follow the batch (see :meth:`Graph.value` and :meth:`Graph.shape_input`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..core.tensor import Tensor
from ..nn.parameter import Parameter
from .errors import ONNXExportError

__all__ = ["INT64_MAX", "INT64_MIN", "Graph", "onnx_dtype"]

INT64_MAX = int(np.iinfo(np.int64).max)
INT64_MIN = int(np.iinfo(np.int64).min)


def onnx_dtype(dtype: Any) -> int:
    """The ONNX element type of a NumPy dtype."""
    try:
        return int(helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))
    except (KeyError, TypeError, ValueError):
        raise ONNXExportError(f"dtype {dtype} has no ONNX equivalent") from None


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _uniform(a: np.ndarray) -> bool:
    return a.size > 0 and bool((a == a.flat[0]).all())


class Graph:
    """Nodes and initializers of one export, with the naming and constant rules.

    Args:
        opset: the target opset.
        batch: ``(B1, B2)``, the batch sizes of the two traced runs, or ``None`` for a static batch.
        param_names: ``id(parameter) -> 'layer.weight'`` for naming initializers.
        buffer_names: ``id(array) -> 'bn.running_mean'`` for naming constants that are buffers.
    """

    def __init__(self, opset: int, batch: tuple[int, int] | None, param_names: dict[int, str],
                 buffer_names: dict[int, str]) -> None:
        self.opset = opset
        self.batch = batch
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: dict[int, str] = {}
        self._names2: dict[int, str] = {}
        self._keep: list[Any] = []  # keeps traced tensors alive so their ids stay unique
        self._used: set[str] = set()
        self._param_names = param_names
        self._buffer_names = buffer_names
        self._params: dict[int, str] = {}
        self._int_consts: dict[tuple, str] = {}
        self._batch_value: str | None = None
        self.batch_source: tuple[str, int] | None = None  # (graph input, axis) that holds the batch size
        self.scope = ""
        self.where = ""  # what is being converted, for error messages

    # ------------------------------------------------------------------ names
    def fresh(self, hint: str, scoped: bool = True) -> str:
        """A new unique value name based on ``hint`` (inside the current scope when ``scoped``)."""
        base = f"{self.scope}/{hint}" if self.scope and scoped else hint
        name, k = base, 1
        while name in self._used:
            name = f"{base}_{k}"
            k += 1
        self._used.add(name)
        return name

    def reserve(self, name: str) -> None:
        if name in self._used:
            raise ONNXExportError(f"the name {name!r} is used twice (input and output names must be unique)")
        self._used.add(name)

    def bind(self, t1: Any, t2: Any, name: str) -> None:
        """Name the tensor ``t1`` (first run) and its counterpart ``t2`` (second run)."""
        if isinstance(t1, Tensor):
            self._names[id(t1)] = name
            self._keep.append(t1)
        if isinstance(t2, Tensor):
            self._names2[id(t2)] = name
            self._keep.append(t2)

    def name_of(self, t: Tensor) -> str | None:
        return self._names.get(id(t))

    # ------------------------------------------------------------------ nodes and constants
    def node(self, op_type: str, inputs: Sequence[str], outputs: int | Sequence[str] = 1, **attrs: Any) -> Any:
        """Add a node; returns its output name (or the list of names when ``outputs`` is not 1)."""
        if isinstance(outputs, int):
            names = [self.fresh(op_type if outputs == 1 else f"{op_type}_out{i}") for i in range(outputs)]
        else:
            names = list(outputs)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        inputs = list(inputs)
        while inputs and inputs[-1] == "":  # omitted trailing optional inputs
            inputs.pop()
        node_name = self.fresh(f"{op_type}_node")
        self.nodes.append(helper.make_node(op_type, inputs, names, name=node_name, **attrs))
        return names[0] if isinstance(outputs, int) and outputs == 1 else names

    def const(self, value: Any, dtype: Any = None, hint: str = "const", scoped: bool = True) -> str:
        """An initializer holding ``value`` (cast to ``dtype`` when given)."""
        arr = np.asarray(value, dtype=dtype) if dtype is not None else np.asarray(value)
        name = self.fresh(hint, scoped)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def ints(self, values: Sequence[int]) -> str:
        """A 1-D int64 initializer (shared between uses)."""
        key = tuple(int(v) for v in values)
        if key not in self._int_consts:
            self._int_consts[key] = self.const(np.array(key, dtype=np.int64), hint="ints", scoped=False)
        return self._int_consts[key]

    def param(self, p: Tensor, hint: str = "param") -> str:
        """The initializer of a parameter, named by its path in the model (one per parameter)."""
        return self._named_array(id(p), p.data, self._param_names.get(id(p)) or hint, p)

    def array_const(self, arr: np.ndarray, hint: str = "const") -> str:
        """An initializer for a NumPy array, named (and shared) when the array is a module buffer."""
        name = self._buffer_names.get(id(arr))
        if name is None:
            return self.const(arr, hint=hint)
        return self._named_array(id(arr), arr, name, arr)

    def _named_array(self, key: int, arr: np.ndarray, name: str, owner: Any) -> str:
        if key not in self._params:
            self._params[key] = self.const(arr, hint=name, scoped=False)
            self._keep.append(owner)
        return self._params[key]

    # ------------------------------------------------------------------ values of the two runs
    def value(self, v1: Any, v2: Any, dtype: Any = None, hint: str = "const") -> str:
        """The graph value for an operand: a traced tensor, a parameter, or a constant.

        ``v1`` / ``v2`` are the operand in the first and second traced runs. An operand that no traced
        op produced is a constant only if both runs agree on it; a constant whose size follows the
        batch and that holds one repeated value (``zeros(x.shape[0], 8)``) becomes an ``Expand``.
        Anything else was computed from the input outside the graph and cannot be exported.
        """
        if isinstance(v1, Tensor):
            name = self._names.get(id(v1))
            if name is not None:
                if v2 is not None and self._names2.get(id(v2)) != name:
                    raise ONNXExportError(
                        f"{self.where}: the forward pass used different values for two example inputs; "
                        f"control flow that depends on the input values or the batch size cannot be exported"
                    )
                return self._cast_to(name, v1.data.dtype, dtype)
            if isinstance(v1, Parameter):
                return self._cast_to(self.param(v1), v1.data.dtype, dtype)
        a1 = _array(v1)
        if dtype is not None and a1.dtype != np.dtype(dtype):
            a1 = a1.astype(dtype)
        if v2 is None:
            return self.array_const(a1, hint) if a1 is _array(v1) else self.const(a1, hint=hint)
        a2 = _array(v2)
        if dtype is not None and a2.dtype != np.dtype(dtype):
            a2 = a2.astype(dtype)
        if _same_values(a1, a2):
            return self.array_const(a1, hint) if a1 is _array(v1) else self.const(a1, hint=hint)
        if _uniform(a1) and _uniform(a2) and a1.ndim == a2.ndim and a1.flat[0] == a2.flat[0]:
            shape = self.shape_input(a1.shape, a2.shape)
            return self.node("Expand", [self.const(a1.flat[0:1].reshape(()), hint=hint), shape])
        if a1.ndim == 0 and a2.ndim == 0 and self.batch is not None:
            batch_number = self._batch_number(float(a1), float(a2), a1.dtype)
            if batch_number is not None:
                return batch_number
        raise ONNXExportError(
            f"{self.where}: an operand of shape {a1.shape} was computed from the input outside the traced graph "
            f"(with NumPy, .data, .item() or an op that does not record itself), so its value would be frozen "
            f"into the file; compute it with tensor ops"
        )

    def _batch_number(self, v1: float, v2: float, dtype: np.dtype) -> str | None:
        """A scalar computed from the batch size: ``k * N`` (``x.shape[0]``) or ``q / N`` (``1 / len(x)``)."""
        b1, b2 = self.batch  # type: ignore[misc]
        if v1 == int(v1) and v2 == int(v2) and self.batch_factor(int(v1), int(v2)) is not None:
            k = self.batch_factor(int(v1), int(v2))
            n = self.batch_value() if k == 1 else self.node("Mul", [self.batch_value(), self.ints([k])])
            return self.node("Cast", [self.squeeze(n, [0])], to=onnx_dtype(dtype))
        if v1 and np.isclose(v1 * b1, v2 * b2, rtol=1e-6, atol=0.0):
            n = self.node("Cast", [self.squeeze(self.batch_value(), [0])], to=onnx_dtype(dtype))
            return self.node("Div", [self.const(np.asarray(v1 * b1, dtype=dtype), hint="c"), n])
        return None

    def _cast_to(self, name: str, have: np.dtype, want: Any) -> str:
        if want is None or np.dtype(want) == have:
            return name
        return self.node("Cast", [name], to=onnx_dtype(want))

    def cast(self, name: str, have: Any, want: Any) -> str:
        """``name`` cast from dtype ``have`` to ``want`` (no node when they agree)."""
        return self._cast_to(name, np.dtype(have), want)

    # ------------------------------------------------------------------ the batch dimension
    def batch_value(self) -> str:
        """A 1-D int64 value ``[N]``: the batch size of the running input."""
        if self.batch is None or self.batch_source is None:
            raise ONNXExportError(f"{self.where}: needs the batch size, but the export has no dynamic batch")
        if self._batch_value is None:
            name, axis = self.batch_source
            shape = self.node("Shape", [name])
            self._batch_value = self.node("Slice", [shape, self.ints([axis]), self.ints([axis + 1])])
        return self._batch_value

    def batch_factor(self, d1: int, d2: int) -> int | None:
        """``k`` when a size is ``k * batch`` in both runs, else None (a size that does not follow the batch)."""
        if self.batch is None or d1 == d2:
            return None
        b1, b2 = self.batch
        if b1 and d1 % b1 == 0 and d1 // b1 * b2 == d2:
            return d1 // b1
        return None

    def dims(self, shape1: Sequence[int], shape2: Sequence[int] | None) -> list[int | None]:
        """Per dimension: the static size, or ``None`` where the size follows the batch."""
        if shape2 is None:
            return [int(d) for d in shape1]
        if len(shape1) != len(shape2):
            raise ONNXExportError(f"{self.where}: the number of dimensions changes with the batch size")
        out: list[int | None] = []
        for d1, d2 in zip(shape1, shape2):
            if d1 == d2:
                out.append(int(d1))
            elif self.batch_factor(int(d1), int(d2)) is not None:
                out.append(None)
            else:
                raise ONNXExportError(
                    f"{self.where}: a size ({d1}) changes with the batch size in a way that cannot be expressed "
                    f"(batch {self.batch[0] if self.batch else '?'} gives {d1}, batch "
                    f"{self.batch[1] if self.batch else '?'} gives {d2})"
                )
        return out

    def shape_input(self, shape1: Sequence[int], shape2: Sequence[int] | None) -> str:
        """A 1-D int64 shape value: constants, with ``k * N`` where a size follows the batch."""
        static = self.dims(shape1, shape2)
        if all(d is not None for d in static):
            return self.ints(static)  # type: ignore[arg-type]
        pieces, run = [], []
        for d1, d2, s in zip(shape1, shape2 or shape1, static):
            if s is not None:
                run.append(s)
                continue
            if run:
                pieces.append(self.ints(run))
                run = []
            k = self.batch_factor(int(d1), int(d2))
            n = self.batch_value()
            pieces.append(n if k == 1 else self.node("Mul", [n, self.ints([k])]))
        if run:
            pieces.append(self.ints(run))
        return pieces[0] if len(pieces) == 1 else self.node("Concat", pieces, axis=0)

    # ------------------------------------------------------------------ opset-dependent helpers
    def reduce(self, op_type: str, x: str, axes: Sequence[int] | None, keepdims: bool) -> str:
        """``ReduceSum``/``ReduceMean``/``ReduceMax``/... over ``axes`` (all when None)."""
        keep = int(bool(keepdims))
        if axes is None:
            return self.node(op_type, [x], keepdims=keep)
        axes = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.node(op_type, [x, self.ints(axes)], keepdims=keep)
        return self.node(op_type, [x], axes=axes, keepdims=keep)

    def squeeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Squeeze", [x, self.ints(axes)]) if len(axes) else x

    def unsqueeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Unsqueeze", [x, self.ints(axes)]) if len(axes) else x

    def slice(self, x: str, starts: Sequence[int], ends: Sequence[int], axes: Sequence[int],
              steps: Sequence[int] | None = None) -> str:
        inputs = [x, self.ints(starts), self.ints(ends), self.ints(axes)]
        if steps is not None and any(s != 1 for s in steps):
            inputs.append(self.ints(steps))
        return self.node("Slice", inputs)

    def scalar(self, value: float, dtype: Any) -> str:
        return self.const(np.asarray(value, dtype=dtype), hint="scalar")

