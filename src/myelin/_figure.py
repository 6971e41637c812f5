"""A matplotlib figure on the Agg canvas, and saving it atomically: the one place figures are made.

``myelin.plot``, ``myelin.viz`` and the trace pictures all draw on figures from :func:`_figure`
(no ``pyplot``, no GUI backend) and save them with :func:`_finish` (a temporary name, then a rename).
matplotlib is an optional extra, imported on first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["PathLike"]

PathLike = str | os.PathLike[str] | None


def _figure(width: float, height: float) -> Any:
    """A new Figure on the Agg canvas, or an ImportError saying how to get matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - matplotlib is installed in the test environment
        from ._extras import install_hint

        raise ImportError(
            f"myelin.plot needs matplotlib, an optional dependency: {install_hint('plot')} (or pip install matplotlib)"
        ) from err
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Any, path: PathLike) -> Any:
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}.png")
        fig.savefig(tmp, format="png")
        os.replace(tmp, target)
    return fig
