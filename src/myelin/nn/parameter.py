"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.tensor import Tensor, _default_array

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is found by ``Module.parameters()``."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        if isinstance(data, Tensor):
            arr = data.data
        elif isinstance(data, np.ndarray) and data.dtype.kind == "f" and data.dtype != np.float16:
            arr = data  # share memory, as torch.nn.Parameter does
        else:
            arr = _default_array(data)
        super().__init__(arr, requires_grad=False)
        self.data = arr
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
