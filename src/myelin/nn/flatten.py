"""``Flatten`` and ``Unflatten``: reshape a range of dimensions (views, one graph node each)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .._plural import counted
from ..core.tensor import Tensor
from ._layers import check_int, int_tuple
from .module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` into one.

    Shapes:
        Input: ``(*, S_start, ..., S_end, *)``. Output: ``(*, S_start * ... * S_end, *)``;
        with the defaults ``(N, *) -> (N, prod(*))``.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = check_int("Flatten", "start_dim", start_dim, minimum=None)
        self.end_dim = check_int("Flatten", "end_dim", end_dim, minimum=None)

    def forward(self, input: Tensor) -> Tensor:
        nd = max(input.ndim, 1)
        start, end = self.start_dim, self.end_dim
        if not (-nd <= start < nd and -nd <= end < nd) or start % nd > end % nd:
            need = max(start + 1 if start >= 0 else -start, end + 1 if end >= 0 else -end)
            self._shape_error(f"with at least {counted(need, 'dimension')} (flattening dims {start}..{end})", input.shape)
        return input.flatten(start, end)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``.

    Shapes:
        Input: ``(*, S_dim, *)`` with ``S_dim == prod(unflattened_size)``. Output: ``(*, U_1, ..., U_n, *)``.
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = check_int("Unflatten", "dim", dim, minimum=None)
        if isinstance(unflattened_size, (list, tuple)) and list(unflattened_size).count(-1) == 1:
            sizes = [check_int("Unflatten", "unflattened_size", s, minimum=-1) for s in unflattened_size]
            self.unflattened_size: tuple[int, ...] = tuple(sizes)
        else:
            self.unflattened_size = int_tuple("Unflatten", "unflattened_size", unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        nd = len(shape)
        sizes = self.unflattened_size
        if not -nd <= self.dim < nd:
            self._shape_error(f"with a dimension {self.dim} to unflatten into {sizes}", shape)
        d = self.dim % nd
        known = math.prod(s for s in sizes if s != -1)
        fits = shape[d] % known == 0 if -1 in sizes and known else shape[d] == known
        if not fits:
            size = "*".join(map(str, sizes))
            self._shape_error(f"with dimension {self.dim} of size {size} (to unflatten into {sizes})", shape)
        return input.reshape(shape[:d] + sizes + shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
