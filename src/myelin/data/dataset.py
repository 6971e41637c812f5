"""Data sets: :class:`Dataset`, :class:`TensorDataset`, :class:`Subset`, :class:`ConcatDataset`,
:class:`IterableDataset` and :func:`random_split`.

A data set is anything with ``__len__`` and ``__getitem__(i)``. Array-backed data sets
(:class:`TensorDataset`, and :class:`Subset` of one) let :class:`~myelin.data.DataLoader`
gather a whole batch with one fancy index per array instead of a Python loop over samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._plural import counted

__all__ = ["ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset", "random_split", "to_numpy"]


def to_numpy(x: Any) -> np.ndarray:
    """View ``x`` (NumPy array, myelin Tensor, torch tensor, list, number) as a NumPy array.

    Never copies a NumPy array or a myelin Tensor's storage.
    """
    if isinstance(x, np.ndarray):
        return x
    data = getattr(x, "data", None)
    if isinstance(data, np.ndarray):  # myelin.Tensor keeps its array in .data
        return data
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # torch.Tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


class Dataset:
    """Base class of map-style data sets: override ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: Any) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: override ``__iter__`` (the DataLoader reads it in the main process)."""

    def __iter__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it instead of indexing")


def _item(array: np.ndarray, index: Any) -> Any:
    """Row ``index`` of ``array`` as a tensor (as PyTorch's TensorDataset gives), without a copy."""
    from .dataloader import to_batch_tensor

    return to_batch_tensor(np.asarray(array[index]))


class TensorDataset(Dataset):
    """Samples are rows of equally long arrays: item ``i`` is ``tuple(a[i] for a in arrays)``.

    Args:
        *arrays: NumPy arrays or myelin Tensors, each of shape ``(N, ...)`` with the same ``N``.
            They are kept without a copy; ``.arrays`` holds them as NumPy arrays.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: expected at least one array, received none")
        converted = tuple(to_numpy(a) for a in arrays)
        for k, a in enumerate(converted):
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: expected arrays of shape (N, ...), received a 0-d array at position {k}"
                )
        n = len(converted[0])
        for k, a in enumerate(converted[1:], start=1):
            if len(a) != n:
                raise ValueError(
                    "TensorDataset: expected all arrays to have the same first dimension, "
                    f"received {n} (array 0, shape {converted[0].shape}) and {len(a)} "
                    f"(array {k}, shape {a.shape})"
                )
        self.arrays: tuple[np.ndarray, ...] = converted

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        """Row ``index`` of every array, as tensors (float32 features, int64 labels: as the batches)."""
        return tuple(_item(a, index) for a in self.arrays)

    @property
    def tensors(self) -> tuple[Any, ...]:
        """The arrays as tensors sharing their memory (PyTorch's ``TensorDataset.tensors``)."""
        from ..core.tensor import as_tensor

        return tuple(as_tensor(a) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"{type(self).__name__}({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Args:
        dataset: any data set.
        indices: integer sequence of shape ``(M,)``; negative indices are not allowed.
    """

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.int64).reshape(0)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError(
                f"Subset: expected a 1-d integer index sequence, received dtype {idx.dtype} shape {idx.shape}"
            )
        n = len(dataset)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"Subset: expected indices in [0, {n}), received values in [{idx.min()}, {idx.max()}]")
        self.dataset = dataset
        self.indices: np.ndarray = idx.astype(np.int64, copy=False)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"


class ConcatDataset(Dataset):
    """The samples of several data sets one after another."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one data set, received none")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset: an IterableDataset cannot be concatenated by index")
        self.cumulative_sizes: list[int] = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            if -index > n:
                raise IndexError(f"ConcatDataset: index {index} is out of range for {counted(n, 'sample')}")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {counted(n, 'sample')}")
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][index - start]


def _split_lengths(n: int, lengths: Sequence[int | float]) -> list[int]:
    """Turn ``lengths`` (ints summing to ``n`` or fractions summing to 1) into ints."""
    values = list(lengths)
    if not values:
        raise ValueError("random_split: expected at least one length, received none")
    if any(isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) for v in values):
        raise ValueError(f"random_split: expected ints or fractions, received {values!r}")
    if any(v < 0 for v in values):
        raise ValueError(f"random_split: expected non-negative lengths, received {values!r}")
    if all(isinstance(v, (int, np.integer)) for v in values):
        if sum(values) != n:
            raise ValueError(
                f"random_split: expected lengths summing to the data set size {n}, "
                f"received {values!r} (sum {sum(values)})"
            )
        return [int(v) for v in values]
    total = float(sum(values))
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ValueError(f"random_split: expected fractions summing to 1, received {values!r} (sum {total})")
    counts = [math.floor(n * float(v)) for v in values]
    for i in range(n - sum(counts)):  # distribute the remainder round-robin, as PyTorch does
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Any = None, seed: int | None = None
                 ) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths.

    Args:
        dataset: any data set of length ``N``.
        lengths: ints summing to ``N``, or fractions summing to 1 (the remainder of the rounding
            goes round-robin to the first parts, like PyTorch).
        generator: a :class:`myelin.Generator` to draw the permutation from (as PyTorch).
        seed: seeds the permutation; with neither, it is drawn from :func:`myelin.random.get_rng`.
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    if generator is not None:
        rng = getattr(generator, "rng", generator)
    elif seed is None:
        from ..random import get_rng

        rng = get_rng()
    else:
        rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[bounds[i] : bounds[i + 1]]) for i in range(len(counts))]
