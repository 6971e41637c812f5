"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` as in ``torch.nn.utils``.

Both modify the ``.grad`` tensors' arrays in place and skip parameters whose ``.grad`` is ``None``.
``clip_grad_norm_`` returns the total norm as a 0-d tensor in the gradients' dtype, as PyTorch does
(``.item()`` or ``float()`` for the number).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ...core.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]

TensorOrTensors = Tensor | Iterable[Tensor]


def _as_list(parameters: TensorOrTensors) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(x: np.ndarray, norm_type: float) -> np.ndarray:
    """``torch.linalg.vector_norm(x, norm_type)`` of a flattened array, as a 0-d array of ``x.dtype``."""
    x = x.ravel()
    if x.size == 0:
        return np.zeros((), dtype=x.dtype)
    if norm_type == 2.0:
        return np.sqrt(np.dot(x, x))
    a = np.abs(x)
    if norm_type == math.inf:
        return a.max()
    if norm_type == -math.inf:
        return a.min()
    if norm_type == 0.0:
        return np.asarray(np.count_nonzero(x), dtype=x.dtype)
    if norm_type == 1.0:
        return a.sum()
    return np.power(np.power(a, norm_type).sum(), 1.0 / norm_type)


def get_total_norm(
    tensors: np.ndarray | Iterable[np.ndarray], norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> float:
    """The ``norm_type``-norm of all arrays together, as if concatenated into one vector.

    Computed as PyTorch does: the norm of the vector of per-array norms, in the arrays' dtype.

    Raises:
        RuntimeError: if ``error_if_nonfinite`` and the norm is nan or infinite.
    """
    arrays = [tensors] if isinstance(tensors, np.ndarray) else [t.data if isinstance(t, Tensor) else t
                                                                   for t in tensors]
    norm_type = float(norm_type)
    if not arrays:
        return 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.stack([_vector_norm(np.asarray(a), norm_type) for a in arrays])
        total = float(_vector_norm(norms, norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return total


def clip_grads_with_norm_(parameters: TensorOrTensors, max_norm: float, total_norm: float) -> None:
    """Scale every gradient by ``min(max_norm / (total_norm + 1e-6), 1)``, in place."""
    grads = [p.grad.data for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    with np.errstate(invalid="ignore", over="ignore"):  # a non-finite norm scales silently, as in PyTorch
        for g in grads:
            dtype = g.dtype.type
            coef = dtype(max_norm) / (dtype(total_norm) + dtype(1e-6))
            g *= np.minimum(coef, dtype(1.0))  # a nan coefficient stays nan, as torch.clamp keeps it


def clip_grad_norm_(
    parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> Tensor:
    """Rescale gradients in place so that their total ``norm_type``-norm is at most ``max_norm``.

    Args:
        parameters: a parameter or an iterable of parameters (``.grad`` of ``None`` is skipped).
        max_norm: the largest total norm allowed.
        norm_type: the p of the p-norm; ``math.inf`` for the largest absolute value.
        error_if_nonfinite: raise ``RuntimeError`` when the total norm is nan or infinite.

    Returns:
        The total norm of the gradients before clipping, a 0-d tensor (float32 for float32 gradients).
    """
    params = _as_list(parameters)
    grads = [p.grad.data for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, float(max_norm), total)
    dtype = np.result_type(*grads) if grads else np.float32
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
