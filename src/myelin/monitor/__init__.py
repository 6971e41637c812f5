"""Look inside a network: layer summaries, per-neuron statistics and a training monitor.

- :func:`summary`: every layer, its output shape, parameter count and memory estimates.
- :func:`neuron_stats`: per-neuron activation statistics of one layer on given data.
- :class:`NeuronMonitor`: a ``fit`` callback that tracks dead and saturated units, activation
  statistics, gradient and weight norms per layer and epoch, and warns in plain words.
- :func:`confusion_matrix`: class-by-class counts of predictions (used by :mod:`myelin.plot`).
- :func:`trace`: one forward (and backward) pass with every layer's input, output and gradients.

``NeuronMonitor`` is imported on first use (it builds on :mod:`myelin.train`).
"""

from __future__ import annotations

import importlib
from typing import Any

from .stats import NeuronStats, confusion_matrix, neuron_stats
from .summary import LayerRow, ModelSummary, summary
from .tracing import LayerRecord, Trace, trace

__all__ = [
    "LayerRecord",
    "LayerRow",
    "ModelSummary",
    "MonitorWarning",
    "NeuronMonitor",
    "NeuronStats",
    "Trace",
    "confusion_matrix",
    "neuron_stats",
    "summary",
    "trace",
]

_LAZY = {"NeuronMonitor": "neuron_monitor", "MonitorWarning": "neuron_monitor"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
