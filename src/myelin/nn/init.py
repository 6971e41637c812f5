"""Weight initialisation, as ``torch.nn.init``: each function fills a tensor in place and returns it.

Every function accepts a :class:`~myelin.Tensor` / :class:`~myelin.nn.Parameter` (its ``.data`` is
overwritten in place, so views and optimizer references stay valid) or a NumPy array. Random
values come from :func:`myelin.random.get_rng` in float64 and are cast to the tensor's dtype.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

from ..core.tensor import Tensor
from ..random import get_rng

__all__ = [
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

T = TypeVar("T")

_LINEAR_FNS = {
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
}


def _array(tensor: Any, fn: str) -> np.ndarray:
    if isinstance(tensor, Tensor):
        return tensor.data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"{fn}: expected a myelin Tensor, Parameter or NumPy array, received {type(tensor).__name__}")


def _fill(tensor: T, values: Any, fn: str) -> T:
    arr = _array(tensor, fn)
    if arr.dtype.kind != "f":
        raise TypeError(f"{fn}: expected a floating-point tensor, received dtype {arr.dtype}")
    arr[...] = values
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (PyTorch's table).

    linear / conv / sigmoid: 1, tanh: 5/3, relu: sqrt(2), leaky_relu: sqrt(2 / (1 + slope^2))
    (slope ``param``, default 0.01), selu: 3/4.
    """
    if nonlinearity in _LINEAR_FNS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out): ``size(1) * receptive field`` and ``size(0) * receptive field``."""
    shape = _array(tensor, "fan_in_and_fan_out").shape
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape {shape})"
        )
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: T, a: float = 0.0, b: float = 1.0) -> T:
    """Fill with values drawn from U(a, b)."""
    shape = _array(tensor, "uniform_").shape
    return _fill(tensor, get_rng().uniform(a, b, size=shape), "uniform_")


def normal_(tensor: T, mean: float = 0.0, std: float = 1.0) -> T:
    """Fill with values drawn from N(mean, std^2)."""
    shape = _array(tensor, "normal_").shape
    return _fill(tensor, get_rng().normal(mean, std, size=shape), "normal_")


def trunc_normal_(tensor: T, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0) -> T:
    """Fill with N(mean, std^2) values redrawn until they lie in [a, b]."""
    shape = _array(tensor, "trunc_normal_").shape
    rng = get_rng()
    out = rng.normal(mean, std, size=shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out, "trunc_normal_")


def constant_(tensor: T, val: float) -> T:
    """Fill with ``val``."""
    return _fill(tensor, val, "constant_")


def ones_(tensor: T) -> T:
    return _fill(tensor, 1.0, "ones_")


def zeros_(tensor: T) -> T:
    return _fill(tensor, 0.0, "zeros_")


def eye_(tensor: T) -> T:
    """Fill a 2-D tensor with the identity matrix."""
    shape = _array(tensor, "eye_").shape
    if len(shape) != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, received shape {shape}")
    return _fill(tensor, np.eye(*shape), "eye_")


def dirac_(tensor: T, groups: int = 1) -> T:
    """Fill a 3-, 4- or 5-D convolution weight ``(out, in, *k)`` with the Dirac delta: the convolution
    then passes its input through (in each of ``groups`` groups, as many channels as fit)."""
    arr = _array(tensor, "dirac_")
    if arr.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, received {arr.shape}")
    if groups < 1 or arr.shape[0] % groups != 0:
        raise ValueError(f"dirac_: dim 0 ({arr.shape[0]}) must be divisible by groups ({groups})")
    per_group = arr.shape[0] // groups
    values = np.zeros(arr.shape, dtype=arr.dtype)
    centre = tuple(k // 2 for k in arr.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, arr.shape[1])):
            values[(g * per_group + d, d, *centre)] = 1
    return _fill(tensor, values, "dirac_")


def xavier_uniform_(tensor: T, gain: float = 1.0) -> T:
    """U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: T, gain: float = 1.0) -> T:
    """N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std)


def kaiming_uniform_(tensor: T, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> T:
    """U(-bound, bound) with ``bound = gain * sqrt(3 / fan)`` (He et al., 2015).

    ``Linear`` and ``Conv`` use ``a=sqrt(5)``, which gives ``bound = 1 / sqrt(fan_in)``.
    """
    if 0 in _array(tensor, "kaiming_uniform_").shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: T, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> T:
    """N(0, std^2) with ``std = gain / sqrt(fan)``."""
    if 0 in _array(tensor, "kaiming_normal_").shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std)


def orthogonal_(tensor: T, gain: float = 1.0) -> T:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (Saxe et al., 2013).

    Dimensions after the first are flattened: rows = size(0), columns = numel / rows.
    """
    arr = _array(tensor, "orthogonal_")
    if arr.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, received {arr.shape}")
    if arr.size == 0:
        return tensor
    rows = arr.shape[0]
    cols = arr.size // rows
    flat = get_rng().normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(arr.shape), "orthogonal_")
