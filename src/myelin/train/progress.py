"""Progress display for ``fit``: a tqdm bar per epoch on a terminal, one summary line per epoch elsewhere.

``verbose``: ``"auto"`` / ``1`` / ``True`` show a live tqdm bar during each epoch when the stream
(stderr) is a terminal, replaced at the end of the epoch by the epoch's summary line; elsewhere
(log file, CI, captured output) one summary line per epoch, never a line per step, plus, during an
epoch that runs longer than ``interval`` seconds (default 30), one progress line per interval so a
log never stays silent for minutes.
``2`` always prints only the summary lines; ``0`` / ``False`` print nothing.
"""

from __future__ import annotations

import math
import sys
import time
from typing import IO, Any

__all__ = ["Progress", "format_logs"]

_VERBOSE = ("auto", 0, 1, 2)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4f}"
    return str(value)


def format_logs(logs: dict[str, Any]) -> str:
    """``"loss: 0.1234 - accuracy: 0.9650 - ..."`` (``epoch_time`` shown first as seconds)."""
    parts = []
    if "epoch_time" in logs and logs["epoch_time"] is not None:
        parts.append(f"{logs['epoch_time']:.2f}s")
    parts.extend(f"{k}: {_fmt(v)}" for k, v in logs.items() if k != "epoch_time" and v is not None)
    return " - ".join(parts)


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class Progress:
    """One epoch at a time: :meth:`epoch_begin`, :meth:`batch_end` per step, :meth:`epoch_end`."""

    def __init__(self, verbose: Any = "auto", epochs: int = 1, stream: IO[str] | None = None,
                 interval: float = 30.0) -> None:
        if isinstance(verbose, bool):
            verbose = int(verbose)
        if verbose not in _VERBOSE:
            raise ValueError(f"fit: expected verbose in {_VERBOSE} (or a bool), received {verbose!r}")
        self.stream = stream if stream is not None else sys.stderr
        self.epochs = epochs
        if verbose == 0:
            self.mode = "silent"
        elif verbose == 2 or not _isatty(self.stream):
            self.mode = "line"
        else:
            self.mode = "bar"
        self._bar: Any = None
        self.interval = float(interval)
        self._epoch, self._steps, self._done = 0, None, 0
        self._start = self._last = time.monotonic()

    def epoch_begin(self, epoch: int, steps: int | None, initial: int = 0) -> None:
        """Start epoch ``epoch`` (0-based) of ``steps`` batches (``initial`` already done)."""
        self._epoch, self._steps, self._done = epoch, steps, initial
        self._start = self._last = time.monotonic()
        if self.mode != "bar":
            return
        from tqdm.auto import tqdm

        self._bar = tqdm(
            total=steps, initial=initial, desc=f"Epoch {epoch + 1}/{self.epochs}", file=self.stream,
            unit="batch", leave=False, dynamic_ncols=True, mininterval=0.1,
        )

    def batch_end(self, mean_loss: float) -> None:
        """One batch done; ``mean_loss`` is the epoch's running mean."""
        self._done += 1
        if self._bar is not None:
            self._bar.set_postfix_str(f"loss: {_fmt(mean_loss)}", refresh=False)
            self._bar.update(1)
        elif self.mode == "line":
            now = time.monotonic()
            if now - self._last >= self.interval:
                self._last = now
                of = f"/{self._steps}" if self._steps else ""
                self.stream.write(f"Epoch {self._epoch + 1}/{self.epochs} - batch {self._done}{of} - "
                                  f"loss: {_fmt(mean_loss)} - {now - self._start:.0f}s\n")
                self.stream.flush()

    def epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """Finish the epoch: the bar (if any) is cleared and one summary line is written in its place."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self.mode != "silent":
            self.stream.write(f"Epoch {epoch + 1}/{self.epochs} - {format_logs(logs)}\n")
            self.stream.flush()

    def message(self, text: str) -> None:
        """A line of text (Ctrl-C notice...), unless silent."""
        if self.mode == "silent":
            return
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
