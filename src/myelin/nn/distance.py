"""Distance layers, as PyTorch's: ``CosineSimilarity`` and ``PairwiseDistance`` (over ``F``'s functions)."""

from __future__ import annotations

from ..core.tensor import Tensor
from ._layers import check_bool, check_float, check_int
from .functional.distance import cosine_similarity, pairwise_distance
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (norms clamped at ``eps``).

    Shapes: ``x1``, ``x2`` broadcastable, e.g. ``(N, D)``; Output: the broadcast shape without ``dim``.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = check_int("CosineSimilarity", "dim", dim, None)
        self.eps = check_float("CosineSimilarity", "eps", eps, low=0.0)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` over the last dimension.

    Shapes: ``x1``, ``x2``: ``(N, D)`` or ``(D,)``; Output: ``(N,)`` (``(N, 1)`` with ``keepdim``).
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = check_float("PairwiseDistance", "p", p, low=0.0, low_open=True)
        self.eps = check_float("PairwiseDistance", "eps", eps)
        self.keepdim = check_bool("PairwiseDistance", "keepdim", keepdim)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
