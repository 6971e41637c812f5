"""``x[index]`` as ONNX: one ``Slice`` for ints and slices, a ``Gather`` for one integer-array index,
then ``Squeeze`` for the int positions and ``Unsqueeze`` for the ``None`` ones.

Slices keep Python's semantics through ONNX's clamping (``None`` bounds become +-INT64_MAX), so a
slice or an int on the batch dimension works for any batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from .errors import ONNXExportError
from .graph import INT64_MAX, INT64_MIN, Graph

__all__ = ["convert_index"]


def _kind(item: Any) -> str:
    if item is None:
        return "new"
    if item is Ellipsis:
        return "ellipsis"
    if isinstance(item, (bool, np.bool_)):
        return "bool"
    if isinstance(item, (int, np.integer)):
        return "int"
    if isinstance(item, slice):
        return "slice"
    arr = item.data if isinstance(item, Tensor) else np.asarray(item)
    if arr.dtype == np.bool_:
        return "bool"
    if arr.dtype.kind not in "iu":
        return "other"
    return "array"


def _error(g: Graph, what: str) -> ONNXExportError:
    return ONNXExportError(f"cannot export {g.where}: {what}")


def _static(g: Graph, a: Any, b: Any) -> None:
    if isinstance(a, slice):
        same = isinstance(b, slice) and (a.start, a.stop, a.step) == (b.start, b.stop, b.step)
    else:
        same = a == b
    if not same:
        raise _error(g, f"the index {a!r} changes with the batch size or the input values ({b!r} in a second run)")


def _prepare(g: Graph, items1: tuple, items2: tuple) -> tuple[list[str], list[Any], list[Any]]:
    """Kinds of the index items; constant 1-D boolean masks become integer arrays."""
    kinds, out1, out2 = [], [], []
    for a, b in zip(items1, items2):
        kind = _kind(a)
        if kind == "bool":
            arr_a = a.data if isinstance(a, Tensor) else np.asarray(a)
            arr_b = b.data if isinstance(b, Tensor) else np.asarray(b)
            if arr_a.ndim != 1 or arr_a.shape != arr_b.shape or not np.array_equal(arr_a, arr_b):
                raise _error(g, "boolean-mask indexing gives a result whose size depends on the values")
            a = b = np.flatnonzero(arr_a)
            kind = "array"
        elif kind == "other":
            raise _error(g, f"unsupported index element {type(a).__name__}")
        elif kind in ("int", "slice"):
            _static(g, a, b)
        kinds.append(kind)
        out1.append(a)
        out2.append(b)
    return kinds, out1, out2


def _check_layout(g: Graph, kinds: list[str]) -> None:
    arrays = [i for i, k in enumerate(kinds) if k == "array"]
    if len(arrays) > 1:
        raise _error(g, "indexing with more than one integer array is not supported")
    if kinds.count("ellipsis") > 1:
        raise _error(g, "an index can only have a single ellipsis")
    if arrays:
        advanced = [i for i, k in enumerate(kinds) if k in ("array", "int")]
        if advanced != list(range(advanced[0], advanced[-1] + 1)):
            raise _error(g, "integers separated from an integer-array index (NumPy then moves the result "
                            "dimensions to the front) are not supported")


def convert_index(g: Graph, x: str, shape: Sequence[int], index1: Any, index2: Any) -> str:
    """The graph value of ``x[index]`` for ``x`` of ``shape`` (``index2``: the index in the second run)."""
    items1 = index1 if isinstance(index1, tuple) else (index1,)
    items2 = index2 if isinstance(index2, tuple) else (index2,)
    if len(items1) != len(items2):
        raise _error(g, "the index changes with the batch size or the input values")
    kinds, items1_, items2_ = _prepare(g, items1, items2)
    _check_layout(g, kinds)
    ndim = len(shape)
    consumed = sum(1 for k in kinds if k in ("int", "slice", "array"))
    starts: list[int] = []
    ends: list[int] = []
    axes: list[int] = []
    steps: list[int] = []
    squeeze: list[int] = []
    new_axes: list[int] = []
    gather: tuple[int, str, int] | None = None
    ax = od = 0
    for kind, a, b in zip(kinds, items1_, items2_):
        if kind == "new":
            new_axes.append(od)
            od += 1
        elif kind == "ellipsis":
            ax += ndim - consumed
            od += ndim - consumed
        elif kind == "int":
            i = int(a)
            starts.append(i)
            ends.append(INT64_MAX if i == -1 else i + 1)
            axes.append(ax)
            steps.append(1)
            squeeze.append(ax)
            ax += 1
        elif kind == "slice":
            if (a.start, a.stop, a.step) != (None, None, None):
                step = 1 if a.step is None else int(a.step)
                starts.append((0 if step > 0 else INT64_MAX) if a.start is None else int(a.start))
                ends.append((INT64_MAX if step > 0 else INT64_MIN) if a.stop is None else int(a.stop))
                axes.append(ax)
                steps.append(step)
            ax += 1
            od += 1
        else:  # one integer array (or a 0-d integer tensor computed in the graph)
            arr = a.data if isinstance(a, Tensor) else np.asarray(a)
            gather = (ax, g.value(a, b, np.int64, "index"), arr.ndim)
            od += arr.ndim
            ax += 1
    y = x
    if axes:
        y = g.slice(y, starts, ends, axes, steps)
    if gather is not None:
        gax, idx, nd = gather
        y = g.node("Gather", [y, idx], axis=gax)
        squeeze = [s + nd - 1 if s > gax else s for s in squeeze]
    y = g.squeeze(y, squeeze)
    return g.unsqueeze(y, new_axes)
