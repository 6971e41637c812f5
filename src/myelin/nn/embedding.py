"""``Embedding``: a lookup table of vectors, indexed by integer ids."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.tensor import Tensor
from . import functional as F
from . import init
from ._layers import check_bool, check_float, check_int
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Row ``i`` of ``weight`` for each index ``i`` in the input.

    Args:
        num_embeddings: the size of the table (valid ids are ``0 .. num_embeddings - 1``).
        embedding_dim: the size of each vector.
        padding_idx: an id whose row is initialised to zeros and never receives a gradient
            (negative values count from the end, as in PyTorch).
        max_norm: rows looked up with a larger ``norm_type``-norm are rescaled in place to this norm.
        norm_type: the p of the p-norm for ``max_norm``.
        scale_grad_by_freq: divide each row's gradient by the number of times it occurs in the batch.

    Shapes:
        Input: ``(*)`` integer ids. Output: ``(*, embedding_dim)``.

    Attributes:
        weight: ``(num_embeddings, embedding_dim)``, initialised from N(0, 1).

    PyTorch's ``sparse`` gradients are not supported.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False) -> None:
        super().__init__()
        self.num_embeddings = check_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = check_int("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            padding_idx = check_int("Embedding", "padding_idx", padding_idx, minimum=None)
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be within num_embeddings ({self.num_embeddings}), "
                    f"received {padding_idx}"
                )
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = None if max_norm is None else check_float("Embedding", "max_norm", max_norm, 0.0, low_open=True)
        self.norm_type = check_float("Embedding", "norm_type", norm_type)
        self.scale_grad_by_freq = check_bool("Embedding", "scale_grad_by_freq", scale_grad_by_freq)
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=np.float32))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False) -> Embedding:
        """An ``Embedding`` holding a copy of the 2-D ``embeddings``; ``freeze`` stops its training."""
        arr = np.asarray(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if arr.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, received shape {arr.shape}")
        module = cls(arr.shape[0], arr.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq)
        module.weight.data[...] = arr
        module.weight.requires_grad_(not check_bool("Embedding.from_pretrained", "freeze", freeze))
        return module

    def forward(self, input: Tensor) -> Tensor:
        idx = input.data if isinstance(input, Tensor) else np.asarray(input)
        if idx.dtype.kind not in "iu":
            self._input_error(f"expected integer indices, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = idx.min() if idx.min() < 0 else idx.max()
            self._input_error(f"expected indices in [0, {self.num_embeddings}), got {int(bad)}")
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        return text
