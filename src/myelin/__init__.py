"""Myelin: neurons, networks and backpropagation on NumPy, with a PyTorch-like API.

The engine (``Tensor``, autograd) is imported eagerly; everything heavier (``nn``, ``optim``,
``data``, training, file formats, plots) is imported on first use so ``import myelin`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from .autograd import enable_grad, gradcheck, is_grad_enabled, no_grad, set_grad_enabled
from .core import (
    Size,
    Tensor,
    arange,
    as_tensor,
    cat,
    chunk,
    concatenate,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    matmul,
    maximum,
    minimum,
    ones,
    ones_like,
    pad,
    rand,
    randint,
    randn,
    split,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)

__version__ = "0.1.0"

float32 = "float32"
float64 = "float64"
int64 = "int64"
int32 = "int32"
bool_ = "bool"

_SUBMODULES = {
    "nn", "optim", "data", "datasets", "train", "io", "monitor", "plot", "report", "sklearn",
    "distributed", "onnx", "cli", "autograd", "random", "core", "utils", "config",
}

# name -> (module, attribute): imported on first access
_LAZY = {
    "fit": ("myelin.train", "fit"),
    "evaluate": ("myelin.train", "evaluate"),
    "predict": ("myelin.train", "predict"),
    "save": ("myelin.io", "save"),
    "load": ("myelin.io", "load"),
    "save_weights": ("myelin.io", "save_weights"),
    "load_weights": ("myelin.io", "load_weights"),
    "ModelFileError": ("myelin.io", "ModelFileError"),
    "summary": ("myelin.monitor", "summary"),
    # myelin.random imports numpy.random (~10 ms): only when randomness is first asked for
    "manual_seed": ("myelin.random", "manual_seed"),
    "get_rng": ("myelin.random", "get_rng"),
    "get_rng_state": ("myelin.random", "get_rng_state"),
    "set_rng_state": ("myelin.random", "set_rng_state"),
}

__all__ = [
    "Tensor", "Size", "tensor", "as_tensor", "from_numpy", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "gradcheck", "matmul", "maximum", "minimum", "where", "cat", "concatenate", "stack", "split",
    "chunk", "pad",
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "arange", "linspace", "eye",
    "rand", "randn", "randint", "float32", "float64", "int64", "int32", "bool_", "__version__",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"myelin.{name}")
    raise AttributeError(f"module 'myelin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
