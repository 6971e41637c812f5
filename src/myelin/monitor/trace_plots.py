"""Pictures of traced activations: convolution feature maps and recurrent gates over time (matplotlib)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._figure import _figure, _finish

__all__ = ["feature_maps", "gates_over_time"]


def feature_maps(data: np.ndarray, sample: int = 0, max_maps: int = 32, title: str = "", path: Any = None) -> Any:
    """Channels of ``data (N, C, H, W)`` (or ``(C, H, W)``) for one sample as a grid of images.

    Each map has its own colour scale (dark = low, bright = high): what matters is where a filter
    responds, not how strongly compared with another filter.
    """
    a = np.asarray(data, dtype=np.float64)
    if a.ndim == 4:
        a = a[sample]
    if a.ndim != 3:
        raise ValueError(f"feature_maps: expected (N, C, H, W) or (C, H, W), received shape {np.shape(data)}")
    maps = a[:max_maps]
    cols = min(8, len(maps))
    rows = math.ceil(len(maps) / cols)
    fig = _figure(1.4 * cols + 0.4, 1.4 * rows + 0.5)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k < len(maps):
            ax.imshow(maps[k], cmap="viridis", interpolation="nearest")
            ax.set_title(f"channel {k}", fontsize=8)
        else:
            ax.axis("off")
    if title:
        fig.suptitle(f"{title} (sample {sample})")
    return _finish(fig, path)


_LABELS = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o",
           "c": "cell state c", "h": "hidden state h", "r": "reset gate r", "z": "update gate z",
           "n": "candidate n", "a": "pre-activation a"}


def gates_over_time(series: dict[str, np.ndarray], title: str = "", path: Any = None) -> Any:
    """One heat map per gate or state: hidden units (rows) against time steps (columns).

    ``series`` maps a name (``'i'``, ``'f'``, ``'c'``...) to an ``(L, H)`` array for one sample. Gates
    use a fixed 0..1 scale (0 = closed, 1 = open); states and candidates a symmetric one.
    """
    if not series:
        raise ValueError("gates_over_time: nothing to draw (no recorded steps)")
    names = list(series)
    fig = _figure(2.6 * len(names) + 0.6, 3.0)
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    for ax, name in zip(axes, names):
        v = np.asarray(series[name], dtype=np.float64).T  # (H, L)
        if name in ("i", "f", "o", "r", "z"):
            im = ax.imshow(v, cmap="viridis", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        else:
            lim = float(np.abs(v).max()) or 1.0
            im = ax.imshow(v, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
        ax.set_title(_LABELS.get(name, name), fontsize=9)
        ax.set_xlabel("time step")
        fig.colorbar(im, ax=ax, shrink=0.8)
    axes[0].set_ylabel("hidden unit")
    from matplotlib.ticker import MaxNLocator
    for ax in axes:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title)
    return _finish(fig, path)
