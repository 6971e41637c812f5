"""The library's one source of randomness.

Every random draw in Myelin (weight initialisation, dropout masks, shuffling) goes through
:func:`get_rng`, so :func:`manual_seed` makes a whole run reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["get_rng", "get_rng_state", "manual_seed", "seed", "set_rng_state"]

_rng: np.random.Generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed every random source the library uses; returns the new generator."""
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: expected an int seed, received {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative seed, received {seed}")
    _rng = np.random.default_rng(int(seed))
    return _rng


seed = manual_seed


def get_rng() -> np.random.Generator:
    """The generator all library randomness draws from."""
    return _rng


def get_rng_state() -> dict[str, Any]:
    """A JSON-serialisable snapshot of the generator (for checkpoints)."""
    return _rng.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a snapshot taken by :func:`get_rng_state`."""
    global _rng
    name = state.get("bit_generator") if isinstance(state, dict) else None
    bitgen_cls = getattr(np.random, str(name), None) if name else None
    if bitgen_cls is None or not isinstance(bitgen_cls, type):
        raise ValueError(f"set_rng_state: expected a NumPy bit-generator state, received {state!r:.80}")
    bitgen = bitgen_cls()
    bitgen.state = state
    _rng = np.random.Generator(bitgen)
