"""The Tensor and the operations on it (the engine's data side)."""

from .creation import (
    arange, empty, eye, from_numpy, full, full_like, linspace, ones, ones_like, rand, randint, randn,
    zeros, zeros_like,
)
from .shape import cat, chunk, concatenate, pad, split, stack
from .tensor import Size, Tensor, as_tensor, matmul, maximum, minimum, tensor, where

__all__ = [
    "Tensor", "Size", "tensor", "as_tensor", "matmul", "maximum", "minimum", "where", "cat", "concatenate",
    "stack", "split", "chunk", "pad", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
    "full_like", "arange", "linspace", "eye", "rand", "randn", "randint", "from_numpy",
]
