"""``LiveCurves``: learning curves that redraw in place in a Jupyter notebook while ``fit`` runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .history import Callback

__all__ = ["LiveCurves"]


class _Curves:
    """What the notebook shows: the HTML of the curves (inline SVG)."""

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


def _notebook_display() -> Callable[..., Any] | None:
    """IPython's ``display`` when running inside a kernel, else None."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    return display if shell is not None and getattr(shell, "kernel", None) is not None else None


class LiveCurves(Callback):
    """Draw the learning curves after every ``every`` epochs, updating ONE figure in the notebook.

    ``myelin.fit(model, data, ..., callbacks=[LiveCurves()])``. Outside a notebook it does nothing
    (the progress display already reports each epoch). The first epoch creates the display; later
    epochs replace its content (``display(..., display_id=True).update``), so a long run leaves one
    chart, not one per epoch.

    Args:
        every: redraw every this many epochs (the last epoch is always drawn).
        title: shown above the charts.
    """

    def __init__(self, every: int = 1, title: str = "") -> None:
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"LiveCurves: expected every to be a positive int, received {every!r}")
        self.every = every
        self.title = title
        self.handle: Any = None
        self.draws = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.handle = None

    def _draw(self) -> None:
        display = _notebook_display()
        if display is None or self.history is None:
            return
        from ..viz.curves import curves_html
        curves = _Curves(curves_html(self.history.history, self.title))
        if self.handle is None:
            self.handle = display(curves, display_id=True)
        else:
            self.handle.update(curves)
        self.draws += 1

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        last = self.params.get("epochs")
        if (epoch + 1) % self.every == 0 or (last is not None and epoch + 1 >= last):
            self._draw()
