"""Counted nouns in messages: ``counted(1, "epoch")`` is ``"1 epoch"``, ``counted(2, "epoch")`` ``"2 epochs"``."""

from __future__ import annotations

__all__ = ["counted"]

_IRREGULAR = {"child": "children", "index": "indices", "matrix": "matrices", "axis": "axes", "entry": "entries",
              "directory": "directories", "batch": "batches", "process": "processes", "class": "classes"}


def counted(n: float, noun: str, plural: str | None = None, spec: str = "") -> str:
    """``n`` and ``noun`` in number agreement: singular for exactly 1, else ``plural`` (default: the
    noun with ``s``, or its irregular form). ``spec`` formats the number (``","`` gives ``12,000``)."""
    if n == 1:
        return f"{n:{spec}} {noun}"
    return f"{n:{spec}} {plural or _IRREGULAR.get(noun) or noun + 's'}"
