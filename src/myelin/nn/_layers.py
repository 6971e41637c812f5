"""Argument checks shared by the layers: each names the layer, the argument and the value received."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["check_bool", "check_choice", "check_float", "check_int", "int_tuple"]


def check_int(owner: str, name: str, value: Any, minimum: int | None = 1) -> int:
    """``value`` as an int, at least ``minimum`` (``TypeError`` / ``ValueError`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, received {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{owner}: {name} must be at least {minimum}, received {value}")
    return int(value)


def check_float(owner: str, name: str, value: Any, low: float | None = None, high: float | None = None,
                low_open: bool = False) -> float:
    """``value`` as a float in ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, received {value!r} ({type(value).__name__})")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if too_low or too_high or math.isnan(value):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        bracket = "(" if low_open else "["
        raise ValueError(f"{owner}: {name} must be in {bracket}{lo}, {hi}], received {value}")
    return value


def check_bool(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, received {value!r}")
    return bool(value)


def check_choice(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{owner}: {name} must be one of {options}, received {value!r}")
    return value


def int_tuple(owner: str, name: str, value: Any) -> tuple[int, ...]:
    """An int or a sequence of positive ints as a tuple of ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value:
        raise TypeError(f"{owner}: {name} must be an int or a non-empty sequence of ints, received {value!r}")
    return tuple(check_int(owner, name, v) for v in value)
