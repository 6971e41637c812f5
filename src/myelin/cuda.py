"""``myelin.cuda``: Myelin has no GPU backend, so CUDA is never available.

As in a CPU-only PyTorch build, ``is_available()`` is False, ``device_count()`` is 0 and the seeding
functions do nothing; anything that needs a GPU raises a :class:`~myelin.device.DeviceError`.
"""

from __future__ import annotations

from typing import Any

from .devices import DeviceError

__all__ = ["current_device", "device_count", "empty_cache", "get_device_name", "is_available", "is_initialized",
           "manual_seed", "manual_seed_all", "synchronize"]


def is_available() -> bool:
    """Always False: Myelin computes with NumPy on the CPU."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Does nothing (no GPU generators), as in a CPU-only PyTorch; seed with ``myelin.manual_seed``."""


def manual_seed_all(seed: int) -> None:
    """Does nothing (no GPU generators); seed with ``myelin.manual_seed``."""


def empty_cache() -> None:
    """Does nothing: there is no GPU memory cache."""


def _no_gpu(what: str) -> DeviceError:
    return DeviceError(f"myelin.cuda.{what}: Myelin runs on the CPU only (NumPy) and has no CUDA device; "
                       f"check myelin.cuda.is_available() first (it is False)")


def synchronize(device: Any = None) -> None:
    raise _no_gpu("synchronize()")


def current_device() -> int:
    raise _no_gpu("current_device()")


def get_device_name(device: Any = None) -> str:
    raise _no_gpu("get_device_name()")
