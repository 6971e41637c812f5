"""Splitting the data by rank: :func:`shard_loader` and :func:`shared_seed`."""

from __future__ import annotations

from typing import Any

from .._plural import counted
from .comm import broadcast_object, get_communicator

__all__ = ["shard_loader", "shared_seed"]


def shared_seed(seed: int | None = None) -> int:
    """``seed``, or (when None) one drawn from :func:`myelin.random.get_rng` on rank 0 and sent to all.

    Every rank draws, so the library RNG stays in step on all ranks.
    """
    if seed is not None:
        return int(seed)
    from ..random import get_rng

    drawn = int(get_rng().integers(0, 2**31 - 1))
    return int(broadcast_object(drawn))


def shard_loader(loader: Any, seed: int | None = None) -> Any:
    """The part of ``loader``'s batches this rank trains on: a copy with ``batch_size // world_size``.

    ``loader`` is a :class:`myelin.data.DataLoader` describing the GLOBAL batch ``B``. Each rank gets a
    DataLoader with ``num_replicas=world_size``, ``rank=rank()`` and per-rank batch ``b = B / world_size``:
    every epoch all ranks draw the same shuffled order (the same seed) and rank ``r`` takes the strided
    slice ``order[r::world_size]``, so together the ranks' k-th batches are exactly the k-th global batch
    of ``B`` samples a single process would see. When the data set size is not a multiple of the world
    size, the order is padded by wrapping around (every rank gets the same number of batches).

    Args:
        seed: the shuffle seed when ``loader`` has none (default: :func:`shared_seed`).

    Returns ``loader`` itself with one process or when it is already split (``num_replicas > 1``).
    Raises ValueError when ``B`` is not a multiple of the world size.
    """
    from ..data import DataLoader

    comm = get_communicator()
    if comm.size == 1:
        return loader
    if not isinstance(loader, DataLoader):
        raise TypeError(
            f"shard_loader: expected a myelin.data.DataLoader, received {type(loader).__name__}; for other "
            "iterables give each rank its own part of the data, with the same number of batches on every rank"
        )
    if loader.num_replicas > 1:
        if loader.num_replicas != comm.size:
            raise ValueError(
                f"shard_loader: the DataLoader is split for {loader.num_replicas} replicas, "
                f"but there are {counted(comm.size, 'rank')}"
            )
        return loader
    if loader.batch_size % comm.size:
        raise ValueError(
            f"shard_loader: the global batch_size {loader.batch_size} is not divisible by the {counted(comm.size, 'rank')}; "
            f"use a multiple of {comm.size} (each rank takes batch_size / {comm.size} samples)"
        )
    if loader.seed is not None:
        seed = loader.seed
    elif loader.shuffle:
        seed = shared_seed(seed)
    sharded = DataLoader(
        loader.dataset, batch_size=loader.batch_size // comm.size, shuffle=loader.shuffle,
        drop_last=loader.drop_last, seed=seed, collate_fn=loader.collate_fn, num_replicas=comm.size,
        rank=comm.rank,
    )
    sharded.set_epoch(loader.epoch)
    return sharded
