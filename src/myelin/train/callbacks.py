"""Ready-made callbacks: ``EarlyStopping``, ``ModelCheckpoint``, ``CSVLogger``, ``LambdaCallback``.

``Callback`` and ``History`` live in :mod:`myelin.train.history` and are re-exported here.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .history import Callback, History

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "ModelCheckpoint",
]

_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1")


def _resolve_mode(mode: str, monitor: str, owner: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: expected mode 'auto', 'min' or 'max', received {mode!r}")
    if mode == "auto":
        return "max" if any(h in monitor.lower() for h in _MAX_HINTS) else "min"
    return mode


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_fields(state: Any, owner: str, fields: tuple[str, ...]) -> None:
    if not isinstance(state, dict):
        raise TypeError(f"{owner} state must be an object, received {state!r:.60}")
    missing = [f for f in fields if f not in state]
    if missing:
        raise ValueError(f"{owner} state lacks {missing}")


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights=True`` the model gets the weights (parameters and buffers) of its
    best epoch back at the end of training, whether patience ran out, the epochs ran out first, or
    the run was interrupted. ``mode`` ``"auto"`` maximises names containing "acc", minimises others.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: expected patience to be an int >= 0, received {patience!r}")
        if not isinstance(min_delta, (int, float)) or min_delta < 0:
            raise ValueError(f"EarlyStopping: expected min_delta >= 0, received {min_delta!r}")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = _resolve_mode(mode, monitor, "EarlyStopping")
        self.restore_best_weights = bool(restore_best_weights)
        self._loaded = False
        self._warned = False
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self._loaded:  # a resumed run keeps the state loaded from the checkpoint
            self._reset()
        self._loaded = False
        self.stop_training = False

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            if not self._warned:
                warnings.warn(
                    f"EarlyStopping: monitor {self.monitor!r} is not in the logs (available: {sorted(logs)}); "
                    "pass validation data or monitor 'loss'", RuntimeWarning, stacklevel=2,
                )
                self._warned = True
            return
        value = _finite(logs[self.monitor])
        if value is not None and self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights and self.model is not None:
                self.best_weights = {k: np.array(v, copy=True) for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None and self.model is not None:
            self.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {
            "wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output; a field of the wrong type raises ``ValueError`` naming it."""
        _check_fields(state, "EarlyStopping", ("wait", "best", "best_epoch", "stopped_epoch", "best_weights"))
        wait, best = state["wait"], state["best"]
        if not _is_int(wait) or wait < 0:
            raise ValueError(f"EarlyStopping.wait must be an int >= 0, received {wait!r:.40}")
        if not isinstance(best, (int, float)) or isinstance(best, bool) or math.isnan(best):
            raise ValueError(f"EarlyStopping.best must be a number, received {best!r:.40}")
        for key in ("best_epoch", "stopped_epoch"):
            if state[key] is not None and (not _is_int(state[key]) or state[key] < 0):
                raise ValueError(f"EarlyStopping.{key} must be an int >= 0 or null, received {state[key]!r:.40}")
        weights = state["best_weights"]
        if weights is not None:
            self._check_weights(weights)
        self.wait, self.best = int(wait), float(best)
        self.best_epoch = state["best_epoch"]
        self.stopped_epoch = state["stopped_epoch"]
        self.best_weights = weights
        self._loaded = True

    def _check_weights(self, weights: Any) -> None:
        if not isinstance(weights, dict) or not all(isinstance(v, np.ndarray) for v in weights.values()):
            raise ValueError(f"EarlyStopping.best_weights must map names to arrays, received {weights!r:.60}")
        if self.model is None:
            return
        expected = self.model.state_dict()
        if set(weights) != set(expected):
            raise ValueError(f"EarlyStopping.best_weights names {sorted(set(weights) ^ set(expected))[:5]} do not "
                             "match the model's")
        for key, want in expected.items():
            got = weights[key]
            if got.shape != np.shape(want) or got.dtype != np.asarray(want).dtype:
                raise ValueError(f"EarlyStopping.best_weights[{key!r}] is {got.dtype} {got.shape}, the model's "
                                 f"{np.asarray(want).dtype} {np.shape(want)}")


class ModelCheckpoint(Callback):
    """Write a full training checkpoint (``fit(resume_from=path)`` accepts it) after each epoch.

    Args:
        path: file to write; may hold format fields ``{epoch}`` (1-based) and log keys, e.g.
            ``"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"``.
        monitor: the log key judged by ``save_best_only`` (default ``val_loss``, else ``loss``).
        save_best_only: write only when ``monitor`` improved on the best value so far.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (as :class:`EarlyStopping`).

    On Ctrl-C, ``fit`` writes a final checkpoint of the interrupted state (resumable mid-epoch):
    to ``path`` itself when it has no format fields and ``save_best_only`` is False, otherwise to
    ``<stem>-interrupted<suffix>`` next to it. ``last_path`` is the file written last.
    Files are written atomically, so a crash never leaves a half-written checkpoint.
    """

    def __init__(
        self, path: str | os.PathLike[str], monitor: str | None = None, save_best_only: bool = False,
        mode: str = "auto",
    ) -> None:
        super().__init__()
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self._mode_arg = mode
        _resolve_mode(mode, monitor or "val_loss", "ModelCheckpoint")
        self.best: float | None = None
        self.last_path: str | None = None
        self._loaded = False

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self._loaded:
            self.best = None
        self._loaded = False

    def _format(self, epoch: int, logs: dict[str, Any]) -> str:
        if "{" not in self.path:
            return self.path
        try:
            return self.path.format(epoch=epoch + 1, **{k: v for k, v in logs.items() if k != "epoch"})
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ValueError(
                f"ModelCheckpoint: cannot format path {self.path!r} with the logs {sorted(logs)}: {exc}"
            ) from None

    def _save(self, path: str) -> None:
        saver = getattr(self.trainer, "save_checkpoint", None)
        if callable(saver):
            saver(path)
        else:  # used outside fit: what the context holds
            from ..io.checkpoint import save_checkpoint

            save_checkpoint(path, self.model, optimizer=self.optimizer, scheduler=self.scheduler, history=self.history)
        self.last_path = path

    def _after_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """Called by ``fit`` after every callback's ``on_epoch_end``, so the checkpoint sees their state."""
        if self.save_best_only:
            monitor = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
            value = _finite(logs.get(monitor))
            if value is None:
                return
            mode = _resolve_mode(self._mode_arg, monitor, "ModelCheckpoint")
            better = self.best is None or (value < self.best if mode == "min" else value > self.best)
            if not better:
                return
            self.best = value
        self._save(self._format(epoch, logs))

    def save_interrupted(self, epoch: int, logs: dict[str, Any] | None = None) -> str:
        """Write the state of an interrupted run (see the class docstring); returns the path."""
        if logs is None and self.history is not None:
            logs = {k: self.history.last(k) for k in self.history}
        try:
            path = self._format(epoch, logs or {})
        except ValueError:  # a log key the path needs is missing mid-epoch
            path = re.sub(r"\{[^{}]*\}", "", self.path)
        if self.save_best_only or "{" in self.path:
            stem, suffix = os.path.splitext(path)
            path = f"{stem}-interrupted{suffix}"
        saver = getattr(self.trainer, "save_checkpoint", None)
        if callable(saver):
            saver(path, partial=True)
        else:
            self._save(path)
        self.last_path = path
        return path

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "last_path": self.last_path}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output; a field of the wrong type raises ``ValueError`` naming it."""
        _check_fields(state, "ModelCheckpoint", ("best", "last_path"))
        best, last = state["best"], state["last_path"]
        if best is not None and (not isinstance(best, (int, float)) or isinstance(best, bool) or math.isnan(best)):
            raise ValueError(f"ModelCheckpoint.best must be a number or null, received {best!r:.40}")
        if last is not None and not isinstance(last, str):
            raise ValueError(f"ModelCheckpoint.last_path must be a string or null, received {last!r:.40}")
        self.best, self.last_path = best, last
        self._loaded = True


class CSVLogger(Callback):
    """Write the History as CSV (``epoch`` then one column per key) after every epoch.

    The whole file is rewritten atomically each epoch, so it always matches the History,
    also after ``fit(resume_from=...)``.
    """

    def __init__(self, path: str | os.PathLike[str], separator: str = ",") -> None:
        super().__init__()
        self.path = os.fspath(path)
        self.separator = separator

    def _after_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        # after every callback's on_epoch_end, so statistics other callbacks add (e.g. the
        # NeuronMonitor's) are in the row whatever the order of the callbacks
        from ..distributed import is_main

        history = self.history
        if history is None or not is_main():  # under mpirun only rank 0 writes
            return
        from ..io.safetensors_file import atomic_write

        keys = list(history.history)
        sep = self.separator
        with atomic_write(self.path, "w", encoding="utf-8", newline="") as f:
            f.write(sep.join(["epoch", *keys]) + "\n")
            for row, e in enumerate(history.epoch):
                cells = [str(e + 1)]
                for k in keys:
                    column = history.history[k]
                    value = column[row] if row < len(column) else None
                    cells.append("" if value is None else repr(value))
                f.write(sep.join(cells) + "\n")


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs))``."""

    def __init__(
        self,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_batch_begin: Callable[..., Any] | None = None,
        on_batch_end: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__()
        hooks = {
            "on_train_begin": on_train_begin, "on_train_end": on_train_end, "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end, "on_batch_begin": on_batch_begin, "on_batch_end": on_batch_end,
        }
        for name, fn in hooks.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"LambdaCallback: expected {name} to be callable, received {fn!r:.60}")
                setattr(self, name, fn)


class CallbackList:
    """Runs each event on every callback in order (internal to ``fit``)."""

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: expected callbacks to be Callback instances, received {type(cb).__name__}")

    def set_context(self, **context: Any) -> None:
        for cb in self.callbacks:
            cb.set_context(**context)

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        for cb in self.callbacks:
            cb.stop_training = False
            cb.on_train_begin(logs)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)
        for cb in self.callbacks:
            after = getattr(cb, "_after_epoch_end", None)
            if after is not None:
                after(epoch, logs)

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        for cb in self.callbacks:
            cb.on_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs)

    @property
    def stop_training(self) -> bool:
        return any(cb.stop_training for cb in self.callbacks)

    def of_type(self, cls: type) -> list[Any]:
        return [cb for cb in self.callbacks if isinstance(cb, cls)]

    def state_dicts(self) -> list[dict[str, Any]]:
        """``[{"type": class name, "state": ...}]`` for every callback but History (checkpoints)."""
        return [{"type": type(cb).__name__, "state": cb.state_dict()}
                for cb in self.callbacks if not isinstance(cb, History)]

    def load_state_dicts(self, states: list[Any] | None) -> None:
        """Give each callback (matched by position and class name) its saved state."""
        if not states:
            return
        own = [cb for cb in self.callbacks if not isinstance(cb, History)]
        for cb, saved in zip(own, states):
            if not isinstance(saved, dict) or saved.get("type") != type(cb).__name__:
                warnings.warn(
                    f"fit: the checkpoint's callback state {saved!r:.60} does not match {type(cb).__name__}; skipped",
                    RuntimeWarning, stacklevel=3,
                )
                continue
            if saved.get("state") is not None:
                cb.load_state_dict(saved["state"])
