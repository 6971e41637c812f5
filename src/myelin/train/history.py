"""``Callback`` (the base of every training hook) and ``History`` (the per-epoch record ``fit`` returns)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["HISTORY_KEYS", "Callback", "History"]

#: The keys ``fit`` writes, in display order (``val_*`` only with validation data; ``mae``/``mse`` when asked).
HISTORY_KEYS = ("loss", "penalty", "accuracy", "mae", "mse", "val_loss", "val_accuracy", "val_mae", "val_mse", "lr", "epoch_time")


class Callback:
    """Hooks called by :func:`myelin.fit`; override the ones you need.

    ``fit`` calls :meth:`set_context` first, which sets ``model``, ``optimizer``, ``history``,
    ``scheduler``, ``params`` (``epochs``, ``steps``, ``initial_epoch``...) and ``trainer``.
    ``epoch`` and ``batch`` arguments count from 0; ``logs`` is a dict of numbers
    (batch: ``loss``, ``size``; epoch: the History keys of that epoch).
    Set ``self.stop_training = True`` to stop: after the current batch when set in a batch hook,
    after the current epoch otherwise.

    Callbacks that must survive a resume implement :meth:`state_dict` / :meth:`load_state_dict`
    (JSON data and NumPy arrays), which checkpoints store.
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.optimizer: Any = None
        self.scheduler: Any = None
        self.history: History | None = None
        self.trainer: Any = None
        self.params: dict[str, Any] = {}
        self.stop_training = False

    def set_context(self, **context: Any) -> None:
        """Attach the training objects (``model``, ``optimizer``, ``history``, ``params``...)."""
        for key, value in context.items():
            setattr(self, key, value)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """After the last epoch, early stopping or Ctrl-C (not after an exception)."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Before epoch ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """After epoch ``epoch``, with its training and validation results in ``logs``."""

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Before batch ``batch`` of the current epoch."""

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """After the optimizer step of batch ``batch``; ``logs`` has ``loss`` and ``size``."""

    def state_dict(self) -> dict[str, Any] | None:
        """State to keep in checkpoints (``None``: nothing)."""
        return None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output."""


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class History(Callback):
    """The per-epoch record of a run: ``history.history["val_loss"]`` or ``history["val_loss"]``.

    Keys are fixed whatever the metric spelling: ``loss``, ``val_loss``, ``accuracy``,
    ``val_accuracy``, ``lr``, ``epoch_time`` (plus ``mae``, ``mse``, ... when requested).
    ``epoch`` lists the (0-based) epochs recorded; ``interrupted`` is True after Ctrl-C and
    ``stopped_early`` when a callback stopped the run.
    """

    def __init__(self, history: Mapping[str, list[Any]] | None = None, epoch: list[int] | None = None) -> None:
        super().__init__()
        record = {k: list(v) for k, v in (history or {}).items()}
        self.history: dict[str, list[Any]] = record  # type: ignore[assignment]
        n = max((len(v) for v in self.history.values()), default=0)
        self.epoch: list[int] = list(epoch) if epoch is not None else list(range(n))
        self.interrupted = False
        self.stopped_early = False

    def set_context(self, **context: Any) -> None:
        context.pop("history", None)  # that is this object; ``self.history`` is the record
        super().set_context(**context)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        n = len(self.epoch)
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            number = _number(value)
            if number is None and value is not None:
                continue
            column = self.history.setdefault(key, [None] * n)
            column.extend([None] * (n - len(column)))
            column.append(number)
        for column in self.history.values():  # keys missing this epoch get None
            column.extend([None] * (n + 1 - len(column)))

    # dict-like access -------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> list[Any]:
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"History has no key {key!r}; it has {sorted(self.history)}") from None

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __iter__(self) -> Iterator[str]:
        return iter(self.history)

    def __len__(self) -> int:
        """The number of epochs recorded."""
        return len(self.epoch)

    def keys(self) -> list[str]:
        return list(self.history)

    def items(self) -> list[tuple[str, list[Any]]]:
        return list(self.history.items())

    def get(self, key: str, default: Any = None) -> Any:
        return self.history.get(key, default)

    def last(self, key: str, default: Any = None) -> Any:
        """The most recent value of ``key`` (``default`` when absent)."""
        values = self.history.get(key)
        return values[-1] if values else default

    def best(self, key: str = "val_loss", mode: str = "min") -> tuple[int, float]:
        """``(epoch, value)`` of the best finite value of ``key``."""
        values = [(e, v) for e, v in zip(self.epoch, self[key]) if v is not None and math.isfinite(v)]
        if not values:
            raise ValueError(f"History: no finite values of {key!r}")
        pick = min if mode == "min" else max
        return pick(values, key=lambda ev: ev[1])

    def to_dict(self) -> dict[str, list[Any]]:
        """A copy of the record as ``{key: [value per epoch]}``."""
        return {k: list(v) for k, v in self.history.items()}

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={list(self.history)})"

    def _repr_html_(self) -> str:
        """In Jupyter: the learning curves (inline SVG, no matplotlib needed)."""
        from ..viz.curves import curves_html
        note = " (interrupted)" if self.interrupted else " (stopped early)" if self.stopped_early else ""
        return curves_html(self.history, f"History{note}")
