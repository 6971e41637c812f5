"""``Dropout`` and the channel-wise ``Dropout1d``/``Dropout2d``/``Dropout3d``: inverted dropout, in training mode only."""

from __future__ import annotations

from ..core.tensor import Tensor
from . import functional as F
from ._layers import check_bool, check_float
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class Dropout(Module):
    """During training, zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The expected value of every element is unchanged; in ``eval()`` mode the input passes through.
    Masks are drawn from :func:`myelin.random.get_rng`, so ``myelin.manual_seed`` makes them repeatable.
    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.

    Shapes: Input ``(*)``. Output ``(*)``.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, (int, float)) and not isinstance(p, bool) and not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: dropout probability has to be between 0 and 1, but got {p}")
        self.p = check_float("Dropout", "p", p, 0.0, 1.0)
        self.inplace = check_bool("Dropout", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return input
        return F.dropout(input, self.p, True)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class _DropoutNd(Dropout):
    """Channel dropout: each channel of each sample is zeroed as a whole (``F.dropout{1,2,3}d``)."""

    _fn = staticmethod(F.dropout1d)

    def forward(self, input: Tensor) -> Tensor:
        try:
            return type(self)._fn(input, self.p, self.training)
        except ValueError as err:
            self._input_error(str(err).split(": ", 1)[-1])


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` input with probability ``p`` (training only)."""

    _fn = staticmethod(F.dropout1d)

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__(p, inplace)


class Dropout2d(_DropoutNd):
    """Zero whole feature maps of ``(N, C, H, W)`` or ``(C, H, W)`` input with probability ``p`` (training only)."""

    _fn = staticmethod(F.dropout2d)

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__(p, inplace)


class Dropout3d(_DropoutNd):
    """Zero whole volumes of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input with probability ``p`` (training only)."""

    _fn = staticmethod(F.dropout3d)

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__(p, inplace)
