"""Loading batches in worker processes: what ``DataLoader(num_workers=k)`` runs.

The main process decides the order (so it is the same as with ``num_workers=0``) and hands out one
list of indices per batch; each worker builds the batch (``collate_fn([dataset[i] for i in indices])``)
and the main process yields the batches in their original order, keeping at most
``prefetch_factor * num_workers`` in flight. Workers are forked where the platform allows (the data
set is inherited, not copied through pickle), else spawned. Each worker seeds the library generator,
NumPy's global generator and ``random`` with ``base_seed + worker_id``, as PyTorch does, so random
augmentations differ between workers and repeat from run to run after ``myelin.manual_seed``.
"""

from __future__ import annotations

import multiprocessing as mp
import random as _random
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

__all__ = ["WorkerInfo", "WorkerPool", "base_seed", "get_worker_info"]


class WorkerInfo(NamedTuple):
    """What :func:`get_worker_info` returns inside a worker."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_INFO: WorkerInfo | None = None
_JOB: dict[str, Any] = {}


def get_worker_info() -> WorkerInfo | None:
    """Inside a DataLoader worker, its :class:`WorkerInfo`; in the main process, None."""
    return _INFO


def base_seed(epoch: int) -> int:
    """A seed for this epoch's workers derived from the library generator's state without advancing it
    (so the order of later epochs is the same as with ``num_workers=0``)."""
    from ..random import get_rng

    state = repr(get_rng().bit_generator.state).encode()
    return int(np.random.SeedSequence([zlib.crc32(state), epoch]).generate_state(1, np.uint64)[0] % 2**62)


def _init_worker(dataset: Any, collate: Callable[[list[Any]], Any], seed: int, num_workers: int,
                 worker_init_fn: Callable[[int], Any] | None, counter: Any) -> None:
    global _INFO
    with counter.get_lock():
        worker_id = counter.value
        counter.value += 1
    from ..random import manual_seed

    worker_seed = seed + worker_id
    manual_seed(worker_seed)
    np.random.seed(worker_seed % 2**32)
    _random.seed(worker_seed)
    _INFO = WorkerInfo(worker_id, num_workers, worker_seed, dataset)
    _JOB["dataset"], _JOB["collate"] = dataset, collate
    if worker_init_fn is not None:
        worker_init_fn(worker_id)


def _load_batch(indices: list[int]) -> Any:
    dataset = _JOB["dataset"]
    return _JOB["collate"]([dataset[i] for i in indices])


def _load_item(index: int) -> Any:
    return _JOB["collate"](_JOB["dataset"][index])


class WorkerPool:
    """``num_workers`` processes that build batches; :meth:`run` yields them in order."""

    def __init__(self, dataset: Any, collate: Callable[[Any], Any], num_workers: int, seed: int,
                 worker_init_fn: Callable[[int], Any] | None = None, prefetch_factor: int = 2,
                 timeout: float = 0, context: Any = None) -> None:
        if context is None:
            context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        elif isinstance(context, str):
            context = mp.get_context(context)
        counter = context.Value("i", 0)
        self.pool = context.Pool(num_workers, initializer=_init_worker,
                                 initargs=(dataset, collate, seed, num_workers, worker_init_fn, counter))
        self.window = max(1, prefetch_factor * num_workers)
        self.timeout = timeout if timeout and timeout > 0 else None

    def run(self, jobs: Iterable[Any], per_item: bool = False) -> Iterator[Any]:
        """The batches for ``jobs`` (lists of indices; single indices with ``per_item``), in order."""
        fn = _load_item if per_item else _load_batch
        pending: deque = deque()
        source = iter(jobs)
        for job in source:
            pending.append(self.pool.apply_async(fn, (job,)))
            if len(pending) >= self.window:
                break
        while pending:
            try:
                result = pending.popleft().get(self.timeout)
            except mp.TimeoutError:
                raise RuntimeError(f"DataLoader: a worker took more than timeout={self.timeout} s for a batch") from None
            job = next(source, None)
            if job is not None:
                pending.append(self.pool.apply_async(fn, (job,)))
            yield result

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()
