"""The bounds Myelin puts on what an untrusted file can make it spend, each overridable by the user.

Every file from outside (model file, checkpoint, run directory, ``.npz``, CSV, image) is hostile
input: a few bytes must not make Myelin allocate gigabytes or run for minutes. Each bound has a
default that fits every ordinary model and data set, and an environment variable that raises it::

    MYELIN_MAX_TENSORS=500000 myelin evaluate big.safetensors

Errors that hit a bound name it and its variable (see :func:`hint`).
"""

from __future__ import annotations

import os

__all__ = ["LIMITS", "hint", "limit"]

#: name -> (default, what it bounds)
LIMITS: dict[str, tuple[int, str]] = {
    "MYELIN_MAX_HEADER_BYTES": (100_000_000, "bytes of a safetensors header"),
    "MYELIN_MAX_TENSORS": (100_000, "tensors in one safetensors file"),
    "MYELIN_MAX_FORWARD_BYTES": (256 * 1024**2, "bytes one forward pass of a loaded model may allocate (batch of 1)"),
    "MYELIN_MAX_ARRAY_BYTES": (320 * 1024**2, "bytes of the arrays in one .npz file, counted as float32 (MNIST: 220 MB)"),
    "MYELIN_MAX_CSV_BYTES": (128 * 1024**2, "bytes of one CSV file"),
    "MYELIN_MAX_CLASSES": (10_000, "classes (largest label + 1) in a data set or predictions file"),
}


def limit(name: str) -> int:
    """The bound ``name`` (a key of :data:`LIMITS`): its environment variable when set to an int > 0, else the default."""
    default = LIMITS[name][0]
    text = os.environ.get(name, "").strip().replace("_", "")
    if text.isdigit() and int(text) > 0:
        return int(text)
    return default


def hint(name: str) -> str:
    """``"limit N; set NAME to raise it"``, for error messages."""
    return f"limit {limit(name):,}; set {name} to raise it"
