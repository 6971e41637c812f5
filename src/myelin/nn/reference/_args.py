"""Argument spelling shared by the reference convolution and pooling (ints or pairs)."""

from __future__ import annotations

from typing import Any

__all__ = ["pair", "same_padding"]


def pair(value: Any) -> tuple[int, int]:
    """``3 -> (3, 3)``, ``(1, 2) -> (1, 2)``."""
    if isinstance(value, (tuple, list)):
        return (int(value[0]), int(value[-1]))
    return (int(value), int(value))


def same_padding(padding: Any, kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` for an int, a pair, ``'valid'`` or ``'same'`` (odd extra after)."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
        return th // 2, th - th // 2, tw // 2, tw - tw // 2
    ph, pw = pair(padding)
    return ph, ph, pw, pw
