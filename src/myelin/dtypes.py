"""PyTorch's dtype names (``myelin.float32``, ``myelin.float``, ``myelin.long`` ...) as NumPy dtypes.

A Myelin tensor's ``.dtype`` is a ``numpy.dtype``; these names are those dtypes, so
``x.dtype == myelin.float32`` and ``x.to(myelin.long)`` read as in PyTorch.
:func:`as_dtype` turns anything a user may write for a dtype (a name here, a NumPy dtype, a
string, the Python types ``float``/``int``/``bool`` or a torch dtype) into a ``numpy.dtype``.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

__all__ = [
    "as_dtype", "bfloat16", "bool", "double", "float", "float16", "float32", "float64", "get_default_dtype", "half",
    "int", "int8", "int16", "int32", "int64", "is_dtype", "is_floating_point", "long", "set_default_dtype", "short",
    "uint8",
]

float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
float16 = half = np.dtype(np.float16)
int64 = long = np.dtype(np.int64)
int32 = int = np.dtype(np.int32)
int16 = short = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)

_PYTHON_TYPES = {builtins.float: float64, builtins.int: int64, builtins.bool: bool}  # as torch: float -> float64


class _Unsupported:
    """A dtype name PyTorch has and NumPy lacks: using it raises a clear error."""

    def __init__(self, name: str, instead: str) -> None:
        self.name, self.instead = name, instead

    def __repr__(self) -> str:
        return f"myelin.{self.name} (not supported)"


bfloat16 = _Unsupported("bfloat16", "myelin.float32 (or myelin.float16)")


def is_dtype(value: Any) -> builtins.bool:
    """Whether ``value`` names a dtype (and not, e.g., a device string)."""
    if isinstance(value, (np.dtype, _Unsupported)) or (isinstance(value, type) and value in _PYTHON_TYPES):
        return True
    if isinstance(value, type) and issubclass(value, np.generic):
        return True
    if type(value).__name__ == "dtype" and type(value).__module__.startswith("torch"):
        return True
    if isinstance(value, str):
        try:
            np.dtype(value.removeprefix("torch."))
        except TypeError:
            return False
        return True
    return False


def as_dtype(value: Any, where: str = "dtype") -> np.dtype:
    """``value`` (a dtype name, NumPy dtype, string, Python type or torch dtype) as a ``numpy.dtype``."""
    if isinstance(value, np.dtype):
        return value
    if isinstance(value, _Unsupported):
        raise TypeError(f"{where}: {value.name} is not supported by Myelin (NumPy has no {value.name}); "
                        f"use {value.instead}")
    if isinstance(value, type) and value in _PYTHON_TYPES:
        return _PYTHON_TYPES[value]
    text = str(value)
    if text.startswith("torch."):  # a torch dtype: same name in NumPy
        text = text[len("torch."):]
        text = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
                "short": "int16"}.get(text, text)
        value = text
    try:
        return np.dtype(value)
    except TypeError:
        raise TypeError(f"{where}: expected a dtype such as myelin.float32 or myelin.long, received {value!r}") from None


def get_default_dtype() -> np.dtype:
    """The floating-point dtype new tensors and parameters get: always float32 in Myelin."""
    return float32


def set_default_dtype(dtype: Any) -> None:
    """Accepts float32 only: Myelin keeps float32 as the default (ask for float64 per tensor or module)."""
    if as_dtype(dtype, "set_default_dtype") != float32:
        raise ValueError(
            f"set_default_dtype: Myelin's default dtype is always float32, received {dtype!r}; create float64 "
            "tensors with dtype=myelin.float64 and convert a model with model.double()"
        )


def is_floating_point(x: Any) -> builtins.bool:
    """Whether the tensor (or array) ``x`` holds floating-point numbers."""
    return np.asarray(getattr(x, "data", x)).dtype.kind == "f"
