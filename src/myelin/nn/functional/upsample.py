"""``F.interpolate``: nearest, nearest-exact, linear, bilinear and trilinear resizing, one graph node.

Every supported mode is separable: along each spatial axis the output is a fixed ``(out, in)``
matrix times the input (one or two non-zero weights per row, built with PyTorch's source-index
rules). The forward applies one matrix per axis, the backward their transposes in reverse order,
so there is no Python loop over pixels and no ``np.add.at``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...core.node import make_node
from ...core.tensor import Tensor, as_tensor

__all__ = ["interpolate", "interpolation_matrix", "pixel_shuffle", "pixel_unshuffle", "upsample"]

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}
MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear")


def _scale(n_in: int, n_out: int, align_corners: bool, factor: float | None) -> float:
    """PyTorch's source-pixels-per-output-pixel (``area_pixel_compute_scale``)."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / factor if factor is not None and factor > 0 else n_in / n_out


def interpolation_matrix(n_in: int, n_out: int, mode: str, align_corners: bool, factor: float | None,
                         dtype: Any) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix that resizes one axis (rows sum to 1)."""
    dst = np.arange(n_out)
    mat = np.zeros((n_out, n_in), dtype=np.float64)
    if mode in ("nearest", "nearest-exact"):
        s = np.float32(_scale(n_in, n_out, False, factor))  # PyTorch computes these indices in float32
        d = dst.astype(np.float32) + (np.float32(0.5) if mode == "nearest-exact" else np.float32(0))
        src = np.minimum(np.floor(d * s).astype(np.int64), n_in - 1)
        mat[dst, src] = 1.0
        return mat.astype(dtype)
    s = _scale(n_in, n_out, align_corners, factor)
    src = s * dst if align_corners else np.maximum(s * (dst + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = src - i0
    np.add.at(mat, (dst, i0), 1.0 - w1)  # small (n_out, n_in) matrix, built once per call
    np.add.at(mat, (dst, i1), w1)
    return mat.astype(dtype)


def _along(x: np.ndarray, mat: np.ndarray, axis: int) -> np.ndarray:
    """``mat`` applied to ``x`` along ``axis``."""
    if axis == x.ndim - 1:
        return x @ mat.T
    return np.moveaxis(np.tensordot(mat, x, axes=([1], [axis])), 0, axis)


def _sizes(shape: tuple[int, ...], size: Any, scale_factor: Any, recompute: Any, op: str
           ) -> tuple[list[int], list[float | None]]:
    k = len(shape) - 2
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: expected exactly one of size and scale_factor, received size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    if size is not None:
        sizes = list(size) if isinstance(size, (tuple, list)) else [size] * k
        if len(sizes) != k or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                                      for v in sizes):
            raise ValueError(f"{op}: expected size as a positive int or {k} positive ints for input of shape "
                             f"{tuple(shape)}, received {size!r}")
        return [int(v) for v in sizes], [None] * k
    factors = list(scale_factor) if isinstance(scale_factor, (tuple, list)) else [scale_factor] * k
    if len(factors) != k or not all(isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0
                                    for f in factors):
        raise ValueError(f"{op}: expected scale_factor as a positive number or {k} of them for input of shape "
                         f"{tuple(shape)}, received {scale_factor!r}")
    sizes = [math.floor(n * float(f)) for n, f in zip(shape[2:], factors)]
    if min(sizes) < 1:
        raise ValueError(f"{op}: scale_factor {scale_factor!r} gives an empty output for input {tuple(shape)}")
    return sizes, [None if recompute else float(f) for f in factors]


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dimensions, as ``torch.nn.functional.interpolate``.

    Args:
        input: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        size: the output spatial size (an int for all axes, or one per axis); or
        scale_factor: a multiplier per axis (output size ``floor(in * factor)``).
        mode: ``'nearest'`` (PyTorch's legacy floor rule), ``'nearest-exact'``, ``'linear'`` (3-D input),
            ``'bilinear'`` (4-D) or ``'trilinear'`` (5-D).
        align_corners: linear modes only: map the corner pixels' centres onto each other (default False).
        recompute_scale_factor: use ``in / out`` rather than ``1 / scale_factor`` for the source positions.
    Returns:
        ``(N, C, *out_size)``.
    """
    op = "interpolate"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    a = x.data
    if mode not in MODES:
        raise ValueError(f"{op}: mode {mode!r} is not supported; expected one of {', '.join(map(repr, MODES))}")
    if antialias:
        raise ValueError(f"{op}: antialias=True is not supported (it only changes downsampling in bilinear/bicubic)")
    if a.ndim not in (3, 4, 5) or a.dtype.kind != "f":
        raise ValueError(f"{op}: expected a float input of shape (N, C, L), (N, C, H, W) or (N, C, D, H, W), "
                         f"received {tuple(a.shape)} {a.dtype}")
    if mode in _LINEAR:
        if a.ndim != _LINEAR[mode]:
            raise ValueError(f"{op}: mode {mode!r} expects a {_LINEAR[mode]}-D input, received {tuple(a.shape)}")
    elif align_corners is not None:
        raise ValueError(f"{op}: align_corners can only be set with the interpolating modes linear, bilinear and "
                         f"trilinear, received mode={mode!r}")
    sizes, factors = _sizes(a.shape, size, scale_factor, recompute_scale_factor, op)
    corners = bool(align_corners)
    mats = []
    out = a
    for i, (n_out, f) in enumerate(zip(sizes, factors)):
        axis = 2 + i
        if n_out == a.shape[axis] and (f is None or f == 1.0):
            continue  # identity along this axis
        mat = interpolation_matrix(a.shape[axis], n_out, mode, corners, f, a.dtype)
        mats.append((axis, mat))
        out = _along(out, mat, axis)
    if out is a:
        out = a.copy()

    def backward(g: np.ndarray) -> tuple:
        for axis, mat in reversed(mats):
            g = _along(g, mat.T, axis)
        return (g,)

    return make_node(out, (x,), backward, "interpolate", {"matrices": mats, "mode": mode})


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """``torch.nn.functional.upsample`` (deprecated there): the same as :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def _factor(value: Any, name: str, op: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{op}: expected {name} to be a positive int, received {value!r}")
    return int(value)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``(*, C*r*r, H, W) -> (*, C, H*r, W*r)`` (Shi et al., 2016), as ``torch.nn.functional.pixel_shuffle``."""
    op = "pixel_shuffle"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    r = _factor(upscale_factor, "upscale_factor", op)
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ValueError(f"{op}: expected input (*, C*{r * r}, H, W) for upscale_factor={r}, received {tuple(x.shape)}")
    *lead, c, h, w = x.shape
    k = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """``(*, C, H*r, W*r) -> (*, C*r*r, H, W)``, the inverse of :func:`pixel_shuffle`."""
    op = "pixel_unshuffle"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    r = _factor(downscale_factor, "downscale_factor", op)
    if x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise ValueError(f"{op}: expected input (*, C, H, W) with H and W divisible by {r}, received {tuple(x.shape)}")
    *lead, c, h, w = x.shape
    k = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)
