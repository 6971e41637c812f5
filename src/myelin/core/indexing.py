"""Indexing and slicing: basic, integer-array and boolean, with scatter-add gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import node
from .grad_mode import STATE
from .node import make_node

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["getitem", "setitem"]


def _convert(index: Any) -> tuple[Any, bool]:
    """NumPy form of ``index`` and whether it uses advanced (array) indexing."""
    if isinstance(index, tuple):
        parts = [_convert(i) for i in index]
        return tuple(p for p, _ in parts), any(adv for _, adv in parts)
    if isinstance(index, node.TENSOR_CLASS):
        return index.data, index.data.ndim > 0 or index.data.dtype == np.bool_
    if isinstance(index, (list, np.ndarray)):
        arr = np.asarray(index)
        return arr, True
    return index, False


def getitem(x: Tensor, index: Any) -> Tensor:
    a = x.data
    idx, advanced = _convert(index)
    try:
        out = a[idx]
    except IndexError as err:
        raise IndexError(f"index: {err} (tensor shape {a.shape})") from None
    shape = a.shape

    if advanced:
        def backward(g: np.ndarray) -> tuple:
            gx = np.zeros(shape, dtype=g.dtype)
            np.add.at(gx, idx, g)  # repeated indices add up
            return (gx,)
    else:
        def backward(g: np.ndarray) -> tuple:
            gx = np.zeros(shape, dtype=g.dtype)
            gx[idx] = g
            return (gx,)

    if not isinstance(out, np.ndarray):
        out = np.asarray(out)
    return make_node(out, (x,), backward, "index", {"index": index})


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """Write into ``x.data`` in place; allowed where no gradient is being recorded for ``x``."""
    if STATE.enabled and (x.requires_grad or (isinstance(value, node.TENSOR_CLASS) and value.requires_grad)):
        raise RuntimeError(
            "setitem: in-place assignment into a tensor that takes part in a graph is not differentiable here; "
            "build the result with cat/stack/where, or assign under myelin.no_grad()"
        )
    idx, _ = _convert(index)
    x.data[idx] = node.to_array(value, x.data)
