"""Flatten parameters into one vector and back (``torch.nn.utils.parameters_to_vector`` and its inverse)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..._plural import counted
from ...core.shape import cat
from ...core.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _tensors(parameters: Iterable[Tensor] | Tensor, fn: str) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: expected an iterable of tensors, received {type(p).__name__} at position {i}")
    return params


def parameters_to_vector(parameters: Iterable[Tensor] | Tensor) -> Tensor:
    """All ``parameters`` flattened and concatenated into one 1-D tensor (differentiable, like ``torch.cat``).

    Output: ``(sum of numel,)``.
    """
    params = _tensors(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: expected at least one parameter, received none")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor] | Tensor) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place: optimizers keep working).

    ``vec`` must hold exactly as many values as the parameters together.
    """
    fn = "vector_to_parameters"
    if not isinstance(vec, Tensor):
        raise TypeError(f"{fn}: expected 'vec' to be a Tensor, received {type(vec).__name__}")
    params = _tensors(parameters, fn)
    v = vec.data
    total = sum(p.data.size for p in params)
    if v.ndim != 1 or v.size != total:
        raise ValueError(f"{fn}: expected a 1-D vector of {counted(total, 'value')} (the parameters' total), "
                         f"received shape {tuple(v.shape)}")
    start = 0
    for p in params:
        n = p.data.size
        np.copyto(p.data, v[start:start + n].reshape(p.data.shape), casting="same_kind")
        start += n
