"""The one exception of ``myelin.onnx`` (importable without the ``onnx`` package)."""

from __future__ import annotations

__all__ = ["ONNXExportError"]


class ONNXExportError(ValueError):
    """A model, layer or op that cannot be written as ONNX; the message names it and where it is used."""
