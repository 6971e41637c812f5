"""``Dropout``: inverted dropout, active only in training mode."""

from __future__ import annotations

from ..core.tensor import Tensor
from . import functional as F
from ._layers import check_bool, check_float
from .module import Module

__all__ = ["Dropout"]


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
