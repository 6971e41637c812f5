"""``myelin.linalg``: PyTorch's ``torch.linalg`` norms over the one implementation in ``core/ops.py``."""

from __future__ import annotations

from typing import Any

from .core import node, ops

__all__ = ["matrix_norm", "norm", "vector_norm"]


def vector_norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False) -> Any:
    """The vector ``ord``-norm over ``dim`` (all elements by default)."""
    return ops.norm(node.ensure_tensor(x), ord, dim, keepdim)


def matrix_norm(x: Any, ord: Any = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False) -> Any:
    """The Frobenius norm over the last two dimensions (other matrix norms are not supported)."""
    if ord != "fro":
        raise NotImplementedError(f"matrix_norm: only ord='fro' is supported, received {ord!r}")
    return ops.norm(node.ensure_tensor(x), 2, dim, keepdim)


def norm(x: Any, ord: Any = None, dim: Any = None, keepdim: bool = False) -> Any:
    """As ``torch.linalg.norm``: the 2-norm of the flattened tensor by default, else a vector norm over ``dim``
    or, for ``ord='fro'``, the Frobenius norm."""
    if ord is None or ord == "fro":
        return ops.norm(node.ensure_tensor(x), 2, dim, keepdim)
    return vector_norm(x, ord, dim, keepdim)
