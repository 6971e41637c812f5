"""Batches from a data set: :class:`DataLoader` and :func:`default_collate`.

Array-backed data sets (:class:`TensorDataset`, or a :class:`Subset` of one) take a fast path:
one fancy-index gather per array per batch, no Python loop over samples. Any other data set
goes through ``dataset[i]`` per sample and a collate function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .dataset import Subset, TensorDataset, to_numpy

__all__ = ["DataLoader", "default_collate", "to_batch_tensor"]

_as_tensor: Callable[[np.ndarray], Any] | None = None


def to_batch_tensor(array: np.ndarray) -> Any:
    """Wrap a batch array as a myelin Tensor without copying it where the dtype already fits.

    Integers become int64, float16 becomes float32, float64 becomes float32 (by ``as_tensor``).
    """
    global _as_tensor
    if _as_tensor is None:
        from ..core.tensor import as_tensor

        _as_tensor = as_tensor
    kind = array.dtype.kind
    if kind in "iu" and array.dtype != np.int64:
        array = array.astype(np.int64)
    elif kind == "f" and array.dtype.itemsize < 4:
        array = array.astype(np.float32)
    return _as_tensor(array)


def default_collate(samples: list[Any]) -> Any:
    """Stack a list of samples into a batch.

    Tuples/lists of fields give a tuple of batched fields, dicts a dict, strings a list;
    arrays, Tensors and numbers of equal shape ``S`` give one Tensor of shape ``(B, *S)``.
    """
    if not samples:
        raise ValueError("default_collate: expected at least one sample, received none")
    first = samples[0]
    if isinstance(first, (tuple, list)):
        width = len(first)
        for s in samples:
            if not isinstance(s, (tuple, list)) or len(s) != width:
                raise ValueError(
                    f"default_collate: expected every sample to be a sequence of {width} fields, received {s!r:.80}"
                )
        return tuple(default_collate([s[k] for s in samples]) for k in range(width))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (str, bytes)):
        return list(samples)
    arrays = [to_numpy(s) for s in samples]
    shape = arrays[0].shape
    for a in arrays:
        if a.shape != shape:
            raise ValueError(f"default_collate: expected samples of equal shape, received {shape} and {a.shape}")
    return to_batch_tensor(np.stack(arrays))


def _array_source(dataset: Any) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """``(arrays, index)`` when ``dataset`` is a TensorDataset (or nested Subsets of one)."""
    index: np.ndarray | None = None
    while isinstance(dataset, Subset):
        index = dataset.indices if index is None else dataset.indices[index]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset.arrays, index
    return None


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"DataLoader: expected {name} to be an int >= {low}, received {value!r}")
    return int(value)


def _check_bool(name: str, value: Any) -> bool:
    if type(value) not in (bool, np.bool_):
        raise ValueError(f"DataLoader: expected {name} to be a bool, received {value!r}")
    return bool(value)


class DataLoader:
    """Iterate over ``dataset`` in batches of myelin Tensors.

    Args:
        dataset: anything with ``__len__`` and ``__getitem__``.
        batch_size: samples per batch ``B``.
        shuffle: draw a new order each epoch.
        drop_last: drop the last batch when it has fewer than ``B`` samples.
        seed: with ``seed``, the order of epoch ``e`` is a pure function of ``(seed, e)``;
            ``None`` draws each epoch's order from :func:`myelin.random.get_rng`.
        collate_fn: turns a list of samples into a batch (forces the per-sample path).
        num_replicas, rank: for data parallelism, each rank sees a disjoint strided slice
            ``order[rank::num_replicas]`` of every epoch's order; when ``N`` is not divisible the
            order is padded by wrapping around (like PyTorch's ``DistributedSampler``), so every
            rank gets ``ceil(N / num_replicas)`` samples. Shuffling with several replicas needs ``seed``.

    Yields:
        For a TensorDataset of arrays shaped ``(N, *S_k)``: a tuple of Tensors ``(B, *S_k)``;
        float features stay float32, integer labels become int64.

    The epoch counter starts at 0 and advances by one each time an iteration starts;
    :meth:`set_epoch` sets the epoch the next iteration uses.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise ValueError(
                f"DataLoader: expected a data set with __len__ and __getitem__, received {type(dataset).__name__}"
            )
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.shuffle = _check_bool("shuffle", shuffle)
        self.drop_last = _check_bool("drop_last", drop_last)
        if seed is not None:
            seed = _check_int("seed", seed, 0)
        self.seed = seed
        if collate_fn is not None and not callable(collate_fn):
            raise ValueError(f"DataLoader: expected collate_fn to be callable or None, received {collate_fn!r}")
        self.collate_fn = collate_fn
        self.num_replicas = _check_int("num_replicas", num_replicas, 1)
        self.rank = _check_int("rank", rank, 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"DataLoader: expected rank in [0, {self.num_replicas}), received {self.rank}")
        if self.shuffle and self.num_replicas > 1 and seed is None:
            raise ValueError(
                "DataLoader: expected a seed when shuffle=True and num_replicas > 1 "
                "(every rank must draw the same permutation), received seed=None"
            )
        self.dataset = dataset
        self._epoch = 0

    @property
    def epoch(self) -> int:
        """The epoch the next iteration will use."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration use ``epoch`` (its order is fixed by ``(seed, epoch)``)."""
        self._epoch = _check_int("epoch", epoch, 0)

    @property
    def num_samples(self) -> int:
        """Samples this rank sees per epoch."""
        return math.ceil(len(self.dataset) / self.num_replicas)

    def __len__(self) -> int:
        n = self.num_samples
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def indices(self, epoch: int | None = None) -> np.ndarray:
        """This rank's sample order for ``epoch`` (default: the next one), shape ``(num_samples,)``.

        Without a seed, a shuffled order is a fresh draw from the global generator.
        """
        epoch = self._epoch if epoch is None else _check_int("epoch", epoch, 0)
        n = len(self.dataset)
        if not self.shuffle:
            order = np.arange(n, dtype=np.int64)
        elif self.seed is not None:
            order = np.random.default_rng([self.seed, epoch]).permutation(n)
        else:
            from ..random import get_rng

            order = get_rng().permutation(n)
        if self.num_replicas > 1:
            total = self.num_samples * self.num_replicas
            order = np.resize(order, total)[self.rank : total : self.num_replicas]
        return order

    def __iter__(self) -> Iterator[Any]:
        order = self.indices(self._epoch)
        self._epoch += 1
        source = _array_source(self.dataset) if self.collate_fn is None else None
        if source is not None:
            return self._array_batches(order, *source)
        return self._generic_batches(order)

    def _bounds(self, n: int) -> range:
        stop = n - n % self.batch_size if self.drop_last else n
        return range(0, stop, self.batch_size)

    def _array_batches(
        self, order: np.ndarray, arrays: tuple[np.ndarray, ...], index: np.ndarray | None
    ) -> Iterator[tuple[Any, ...]]:
        if index is not None:
            order = index[order]
        for start in self._bounds(len(order)):
            rows = order[start : start + self.batch_size]
            yield tuple(to_batch_tensor(np.take(a, rows, axis=0)) for a in arrays)  # take: ~15% faster than a[rows]

    def _generic_batches(self, order: np.ndarray) -> Iterator[Any]:
        collate = self.collate_fn or default_collate
        dataset = self.dataset
        for start in self._bounds(len(order)):
            rows = order[start : start + self.batch_size]
            yield collate([dataset[int(i)] for i in rows])

    def __repr__(self) -> str:
        extra = f", num_replicas={self.num_replicas}, rank={self.rank}" if self.num_replicas > 1 else ""
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed}{extra})"
        )
