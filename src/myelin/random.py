"""The library's one source of randomness.

Every random draw in Myelin (weight initialisation, dropout masks, shuffling) goes through
:func:`get_rng`, so :func:`manual_seed` makes a whole run reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Generator", "get_rng", "get_rng_state", "manual_seed", "seed", "set_rng_state"]

_rng: np.random.Generator = np.random.default_rng()


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: expected an int seed, received {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative seed, received {seed}")
    return int(seed)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed every random source the library uses; returns the new generator."""
    global _rng
    _rng = np.random.default_rng(_check_seed(seed))
    return _rng


class Generator:
    """PyTorch's ``torch.Generator``: a random source of its own, for ``random_split``, ``DataLoader``,
    ``randperm`` ... (``generator=``). ``.rng`` is the NumPy generator underneath.

    ``Generator().manual_seed(42)`` returns the generator, so it can be written inline.
    """

    def __init__(self, device: Any = "cpu") -> None:
        from .devices import check_device

        check_device(device, "Generator")
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = _check_seed(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict[str, Any]:
        return self.rng.bit_generator.state

    def set_state(self, state: dict[str, Any]) -> Generator:
        self.rng.bit_generator.state = state
        return self

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed})"


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
