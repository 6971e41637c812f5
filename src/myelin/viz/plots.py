"""Teaching figures (matplotlib, the optional ``[plot]`` extra): loss surfaces with optimizer paths,
function fits with their hidden pieces, gradients through time and weight distributions.

Each returns a :class:`matplotlib.figure.Figure` (built on the Agg canvas, nothing shown) and, given
``path``, also writes it as a PNG (atomically).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._figure import _figure, _finish
from .._plural import counted

__all__ = ["function_fit", "gradient_through_time", "loss_surface", "weight_histograms"]


def loss_surface(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], paths: Mapping[str, Any],
                 xlim: tuple[float, float], ylim: tuple[float, float], minimum: Sequence[float] | None = None,
                 title: str = "", path: Any = None) -> Any:
    """Contours of ``fn(X, Y)`` (vectorised over a grid) and each optimizer's path ``(K, 2)`` over it;
    ``minimum`` (a point) is marked with a cross."""
    xs, ys = np.linspace(*xlim, 200), np.linspace(*ylim, 200)
    X, Y = np.meshgrid(xs, ys)
    Z = np.asarray(fn(X, Y), dtype=np.float64)
    fig = _figure(6.4, 4.8)
    ax = fig.subplots()
    levels = np.quantile(Z, np.linspace(0.0, 0.95, 25))
    ax.contourf(X, Y, Z, levels=np.unique(levels), cmap="Greys", alpha=0.6)
    ax.contour(X, Y, Z, levels=np.unique(levels), colors="grey", linewidths=0.4)
    for k, (name, pts) in enumerate(paths.items()):
        p = np.asarray(pts, dtype=np.float64)
        ax.plot(p[:, 0], p[:, 1], "-o", ms=2.5, lw=1.5, color=f"C{k}", label=f"{name} ({counted(len(p) - 1, 'step')})")
        ax.plot(p[-1, 0], p[-1, 1], "*", ms=12, color=f"C{k}")
    if minimum is not None:
        ax.plot(minimum[0], minimum[1], "x", ms=12, mew=3, color="red", label="minimum")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "loss surface and optimizer paths")
    return _finish(fig, path)


def function_fit(x: np.ndarray, target: np.ndarray, fits: Mapping[str, np.ndarray],
                 pieces: Sequence[np.ndarray] | None = None, errors: Mapping[int, float] | None = None,
                 title: str = "", path: Any = None) -> Any:
    """Left: the target and each fit. Middle (with ``pieces``): each hidden unit's contribution and
    their sum. Right (with ``errors``): the error against the hidden width, log-log."""
    panels = 1 + (pieces is not None) + (errors is not None)
    fig = _figure(4.6 * panels, 3.8)
    axes = np.atleast_1d(fig.subplots(1, panels))
    ax = axes[0]
    ax.plot(x, target, color="black", lw=3, alpha=0.35, label="target")
    for k, (name, y) in enumerate(fits.items()):
        ax.plot(x, y, color=f"C{k}", lw=1.3, label=name)
    ax.legend(fontsize=7)
    ax.set_title(title or "fits")
    ax.set_xlabel("x")
    k = 1
    if pieces is not None:
        ax = axes[k]
        for piece in pieces:
            ax.plot(x, piece, lw=0.8, alpha=0.7)
        ax.plot(x, np.sum(pieces, axis=0), color="black", lw=2, label="sum of the pieces (+ output bias)")
        ax.plot(x, target, color="black", lw=3, alpha=0.25, ls="--", label="target")
        span = float(np.ptp(target)) or 1.0
        ax.set_ylim(float(np.min(target)) - span, float(np.max(target)) + span)   # the sum stays readable
        ax.set_title("each hidden neuron's piece: v_j relu(w_j x + b_j)")
        ax.legend(fontsize=7)
        ax.set_xlabel("x")
        k += 1
    if errors is not None:
        ax = axes[k]
        widths = sorted(errors)
        ax.loglog(widths, [errors[w] for w in widths], "o-")
        ax.set_xlabel("hidden neurons")
        ax.set_ylabel("mean squared error")
        ax.set_title("error falls as the layer widens")
        ax.grid(True, which="both", alpha=0.3)
    return _finish(fig, path)


def gradient_through_time(norms: Mapping[str, Sequence[float]], title: str = "", path: Any = None) -> Any:
    """``|dL/dx_t|`` against the time step ``t`` for each model (log scale): how far back the error reaches."""
    fig = _figure(6.4, 3.8)
    ax = fig.subplots()
    for k, (name, values) in enumerate(norms.items()):
        v = np.maximum(np.asarray(values, dtype=np.float64), 1e-30)
        ax.semilogy(np.arange(len(v)), v, "o-", ms=3, color=f"C{k}", label=name)
    ax.set_xlabel("time step t (the loss is at the last step)")
    ax.set_ylabel("|dL / dx_t|")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(title or "gradient through time")
    return _finish(fig, path)


def weight_histograms(weights: Mapping[str, np.ndarray], bins: int = 60, title: str = "", path: Any = None) -> Any:
    """One histogram of weight values per model (log counts), to compare the effect of L1 and L2."""
    fig = _figure(4.2 * len(weights), 3.4)
    axes = np.atleast_1d(fig.subplots(1, len(weights), sharey=True))
    lim = max(float(np.abs(w).max()) for w in weights.values()) or 1.0
    for k, (ax, (name, w)) in enumerate(zip(axes, weights.items())):
        w = np.asarray(w, dtype=np.float64).ravel()
        ax.hist(w, bins=np.linspace(-lim, lim, bins), color=f"C{k}", log=True)
        zero = float(np.mean(np.abs(w) < 1e-3))
        ax.set_title(f"{name}: {zero:.0%} of weights ~ 0")
        ax.set_xlabel("weight")
    axes[0].set_ylabel("count")
    if title:
        fig.suptitle(title)
    return _finish(fig, path)
