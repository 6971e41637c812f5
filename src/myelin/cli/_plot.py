"""Learning curves for a run directory: ``myelin.plot.learning_curves`` when it exists, else a small figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_curves"]


def write_curves(history: dict[str, list[Any]], path: Path) -> Path | None:
    """Draw loss (and accuracy) per epoch, train and validation, to ``path``; ``None`` without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return None
    if not history.get("loss"):
        return None
    try:
        from ..plot import learning_curves
    except ImportError:  # an older Myelin without myelin.plot: draw it here
        learning_curves = None
    if learning_curves is not None:
        learning_curves(history, path=path)
        return path
    from matplotlib.figure import Figure

    del matplotlib
    panels = [k for k in ("loss", "accuracy") if history.get(k)]
    fig = Figure(figsize=(5 * len(panels), 3.6))
    for i, key in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.plot(range(1, len(history[key]) + 1), history[key], marker="o", ms=3, label="train")
        val = [v if v is not None else float("nan") for v in history.get(f"val_{key}", [])]
        if val:
            ax.plot(range(1, len(val) + 1), val, marker="o", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
