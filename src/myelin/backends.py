"""``myelin.backends``: PyTorch's backend switches, as seen by a CPU-only library.

``backends.mps.is_available()`` and ``backends.cudnn.is_available()`` are False; the cuDNN flags
(``deterministic``, ``benchmark``) can be set and read and change nothing (NumPy is deterministic).
"""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["cuda", "cudnn", "mps"]


def _false() -> bool:
    return False


mps = SimpleNamespace(is_available=_false, is_built=_false)
cudnn = SimpleNamespace(is_available=_false, enabled=False, deterministic=False, benchmark=False)
cuda = SimpleNamespace(is_built=_false, matmul=SimpleNamespace(allow_tf32=False))
