"""Resource limits for playground sessions: from time and memory, not from fixed caps on the page.

A network may have as many layers and neurons, a batch as many samples and a data set as many
points as the server's budget allows. :meth:`Budget.check` estimates, before anything is built,

* the memory a session needs: data, parameters (with gradients and two optimizer buffers), and the
  activations of one batch and of one frame (the view grid plus every data point);
* the time of one training step (about ``6 * batch * weights`` floating-point operations, plus a
  fixed Python cost per layer) and of one frame (``2 * (grid + points) * weights``) at the
  machine's measured speed (:func:`measure_flops`);
* the size of one frame sent to the page (every drawn neuron's map);

and refuses, with the numbers, what would not fit.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from .._plural import counted

__all__ = ["Budget", "BudgetError", "Estimate", "measure_flops"]


class BudgetError(ValueError):
    """A request larger than the server's budget (the message gives the estimate and the limit)."""


@dataclass
class Estimate:
    """What a session would cost."""

    parameters: int
    memory_bytes: int
    step_seconds: float
    frame_seconds: float
    frame_bytes: int


def measure_flops(size: int = 192, repeats: int = 5) -> float:
    """This machine's float32 matrix-product speed in FLOP/s (best of ``repeats``; ~10 ms)."""
    a = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t0)
    return 2.0 * size ** 3 / max(best, 1e-9)


def _fmt_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


@dataclass
class Budget:
    """The server's limits per session (and on the number of sessions).

    Args:
        memory_mb: memory one session may use.
        step_seconds: the longest one training step may take at ``flops`` FLOP/s.
        frame_seconds: the longest one frame (evaluation and maps) may take.
        flops: the machine's speed; ``None`` measures it (:func:`measure_flops`).
        max_sessions: sessions held at once (the least recently used one is freed beyond that).
        idle_seconds: a session not polled for this long is freed (a tab closed without saying so).
        max_upload_mb: the largest CSV upload.
        max_frame_mb: the largest frame (all drawn maps) sent to the page at each update.
    """

    memory_mb: float = 512.0
    step_seconds: float = 0.5
    frame_seconds: float = 1.0
    flops: float | None = None
    max_sessions: int = 16
    idle_seconds: float = 120.0
    max_upload_mb: float = 20.0
    max_frame_mb: float = 4.0

    #: Python cost of one layer in one step (forward, backward, update, monitor hooks): measured ~1 ms on a
    #: loaded 2-core machine with 41 layers of 2 neurons and every step monitored (2 batches per epoch)
    LAYER_SECONDS = 1e-3

    def __post_init__(self) -> None:
        if self.flops is None:
            self.flops = measure_flops()

    def estimate(self, widths: list[int], batch: int, points: int, grid_points: int, raw_dim: int = 2,
                 drawn: int = 24) -> Estimate:
        """The cost of a network with layer ``widths`` (inputs, hidden..., outputs) trained at ``batch``;
        ``drawn``: neurons drawn per layer."""
        weights = sum(a * b for a, b in pairwise(widths))
        params = weights + sum(widths[1:])
        units = sum(widths)
        rows = max(3 * min(batch, points), grid_points + points)  # a batch's graph, or a frame's forward
        memory = 4 * (5 * params + 3 * rows * units + points * (raw_dim + widths[0] + 4))
        layers = len(widths) - 1
        step = 6.0 * min(batch, points) * weights / float(self.flops or 1.0) + self.LAYER_SECONDS * layers
        frame = 2.0 * (grid_points + points) * weights / float(self.flops or 1.0) + self.LAYER_SECONDS * layers
        maps = sum(min(w, drawn) for w in widths)  # one byte per grid point, base64
        frame_bytes = maps * grid_points * 4 // 3 + 8 * drawn * drawn * layers + 40 * points
        return Estimate(params, int(memory), step, frame, int(frame_bytes))

    def check(self, widths: list[int], batch: int, points: int, grid_points: int, raw_dim: int = 2,
              drawn: int = 24) -> Estimate:
        """:meth:`estimate`, raising :class:`BudgetError` when it is over budget."""
        est = self.estimate(widths, batch, points, grid_points, raw_dim, drawn)
        shape = f"{len(widths) - 2} hidden layer(s), {counted(est.parameters, 'parameter', spec=',')}, batch {batch}, {counted(points, 'point', spec=',')}"
        if est.memory_bytes > self.memory_mb * 2 ** 20:
            raise BudgetError(f"too large for this server: {shape} need about {_fmt_bytes(est.memory_bytes)}, "
                              f"above its budget of {self.memory_mb:g} MB per session; use fewer or smaller "
                              f"layers, a smaller batch or fewer points")
        if est.step_seconds > self.step_seconds:
            raise BudgetError(f"too slow for this server: {shape} take about {est.step_seconds:.2g} s per "
                              f"training step at its {self.flops:.2g} FLOP/s, above its budget of "
                              f"{self.step_seconds:g} s; use fewer or smaller layers or a smaller batch")
        if est.frame_seconds > self.frame_seconds:
            raise BudgetError(f"too slow for this server: {shape} take about {est.frame_seconds:.2g} s to draw "
                              f"one frame at its {self.flops:.2g} FLOP/s, above its budget of "
                              f"{self.frame_seconds:g} s; use fewer points or smaller layers")
        if est.frame_bytes > self.max_frame_mb * 2 ** 20:
            raise BudgetError(f"too large to draw: {shape} make frames of about {_fmt_bytes(est.frame_bytes)} "
                              f"per update, above this server's {self.max_frame_mb:g} MB; use fewer layers or "
                              f"fewer points")
        return est

    def describe(self) -> dict[str, Any]:
        """The limits in plain numbers, for the page; ``max_parameters_at_batch_16`` is a rule of thumb."""
        info = asdict(self)
        by_time = self.step_seconds * float(self.flops or 1.0) / (6.0 * 16)
        by_memory = self.memory_mb * 2 ** 20 / (4 * 5)
        info["max_parameters_at_batch_16"] = int(min(by_time, by_memory))
        return info
