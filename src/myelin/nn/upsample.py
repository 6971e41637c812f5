"""Resizing layers, as PyTorch's: ``Upsample`` and its fixed-mode forms (over ``F.interpolate``), ``PixelShuffle``
and ``PixelUnshuffle``."""

from __future__ import annotations

from typing import Any

from ..core.tensor import Tensor
from ._layers import check_int
from .functional.upsample import MODES, interpolate, pixel_shuffle, pixel_unshuffle
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]


class Upsample(Module):
    """Resize the spatial dimensions to ``size`` or by ``scale_factor``.

    Args:
        size: output spatial size (an int or one per axis); or
        scale_factor: a multiplier (or one per axis).
        mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'`` (3-D input), ``'bilinear'`` (4-D) or
            ``'trilinear'`` (5-D).
        align_corners: linear modes only (default False).
        recompute_scale_factor: compute source positions from the sizes rather than the factor.

    Shapes:
        Input: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``. Output: ``(N, C, *out_size)``.
    """

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        owner = type(self).__name__
        if mode not in MODES:
            raise ValueError(f"{owner}: mode must be one of {', '.join(map(repr, MODES))}, received {mode!r}")
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{owner}: expected exactly one of size and scale_factor, received size={size!r}, "
                             f"scale_factor={scale_factor!r}")
        self.name = owner
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        try:
            return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                               self.recompute_scale_factor)
        except ValueError as err:
            self._input_error(str(err).split(": ", 1)[-1] + f" (input {tuple(input.shape)})")

    def extra_repr(self) -> str:
        what = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode='nearest')`` for ``(N, C, H, W)`` images."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode='bilinear', align_corners=True)`` for ``(N, C, H, W)`` images."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """Rearrange ``(*, C*r*r, H, W)`` into ``(*, C, H*r, W*r)``: sub-pixel upsampling (Shi et al., 2016)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = check_int("PixelShuffle", "upscale_factor", upscale_factor)

    def forward(self, input: Tensor) -> Tensor:
        try:
            return pixel_shuffle(input, self.upscale_factor)
        except ValueError as err:
            self._input_error(str(err).split(": ", 1)[-1])

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Rearrange ``(*, C, H*r, W*r)`` into ``(*, C*r*r, H, W)``, the inverse of :class:`PixelShuffle`."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = check_int("PixelUnshuffle", "downscale_factor", downscale_factor)

    def forward(self, input: Tensor) -> Tensor:
        try:
            return pixel_unshuffle(input, self.downscale_factor)
        except ValueError as err:
            self._input_error(str(err).split(": ", 1)[-1])

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
