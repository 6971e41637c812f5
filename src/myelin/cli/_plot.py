"""Learning curves for a run directory (``myelin.plot.learning_curves``), when matplotlib is installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_curves"]


def write_curves(history: dict[str, list[Any]], path: Path) -> Path | None:
    """Draw loss (and accuracy) per epoch, train and validation, to ``path``; ``None`` without matplotlib."""
    try:
        import matplotlib  # noqa: F401  (the optional extra)
    except ImportError:
        return None
    if not history.get("loss"):
        return None
    from ..plot import learning_curves

    learning_curves(history, path=path)
    return path
