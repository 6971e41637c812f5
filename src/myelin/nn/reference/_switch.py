"""The switch that runs whole models on the reference layers, and the recorder of their insides.

``enabled()`` makes ``F.linear``, ``F.conv2d``, ``F.max_pool2d``, ``F.cross_entropy`` and the
recurrent layers and cells (so every ``nn`` module built on them) call the readable functions of
:mod:`myelin.nn.reference` instead of the optimised kernels. ``record()`` collects what the
reference recurrent cells compute at each step (gates, cell state, hidden state), so a learner can
read an LSTM's gates over time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["STATE", "enabled", "is_enabled", "note", "record"]


class _State:
    """Process-wide switch (like ``no_grad``, it is meant for one thread at a time)."""

    def __init__(self) -> None:
        self.enabled = False
        self.recorders: list[list[dict[str, Any]]] = []


STATE = _State()


def is_enabled() -> bool:
    """True inside ``with myelin.nn.reference.enabled():``."""
    return STATE.enabled


@contextlib.contextmanager
def enabled(on: bool = True) -> Iterator[None]:
    """Run every supported op on its readable reference twin inside the block (``on=False`` turns it off).

    Example::

        with myelin.nn.reference.enabled():
            out, (h, c) = lstm(x)      # one LSTM cell call per time step, every gate a graph node
    """
    before, STATE.enabled = STATE.enabled, bool(on)
    try:
        yield
    finally:
        STATE.enabled = before


@contextlib.contextmanager
def record() -> Iterator[list[dict[str, Any]]]:
    """Collect one dict per reference recurrent step (keys such as ``'i', 'f', 'g', 'o', 'c', 'h'``).

    Each dict also has ``'cell'`` (``'rnn'``, ``'lstm'`` or ``'gru'``). Values are Tensors of shape
    ``(N, H)``, still part of the graph (call ``.retain_grad()`` on them before ``backward()`` to read
    their gradients). Use it with :func:`enabled`::

        with reference.enabled(), reference.record() as steps:
            lstm(x)
        forget = [s["f"] for s in steps]
    """
    steps: list[dict[str, Any]] = []
    STATE.recorders.append(steps)
    try:
        yield steps
    finally:
        STATE.recorders.remove(steps)


def note(cell: str, **values: Any) -> None:
    """Give one step's named values to every open :func:`record` (a no-op when none is open)."""
    for steps in STATE.recorders:
        steps.append({"cell": cell, **values})
