"""The process group: :func:`init`, :func:`rank`, :func:`world_size`, :func:`is_main` and small collectives.

A :class:`Communicator` wraps an mpi4py communicator, or stands alone (:class:`LocalCommunicator`)
when there is one process, so every function here works without mpi4py installed.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from .._extras import install_hint

__all__ = [
    "INSTALL_HINT",
    "Communicator",
    "DistributedError",
    "LocalCommunicator",
    "MPICommunicator",
    "all_ranks",
    "allreduce_sum",
    "any_rank",
    "barrier",
    "broadcast_object",
    "get_communicator",
    "init",
    "is_initialized",
    "is_main",
    "launched_world_size",
    "main_only",
    "rank",
    "reduce_metrics",
    "world_size",
]

F = TypeVar("F", bound=Callable[..., Any])

INSTALL_HINT = (
    f"Install both: mpi4py ({install_hint('mpi')}) and an MPI runtime from the system packages "
    "(Debian/Ubuntu: `apt-get install openmpi-bin libopenmpi-dev`; Fedora: `dnf install openmpi-devel`; "
    "macOS: `brew install open-mpi`; on a cluster: `module load openmpi`), then launch with "
    "`mpirun -n 2 python train.py`."
)

# Environment variables that MPI launchers set in every rank: Open MPI, MPICH/Intel MPI (Hydra), MVAPICH.
_LAUNCHER_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_SIZE")


class DistributedError(RuntimeError):
    """Distributed training cannot go on: no MPI, or the ranks disagree (models, batch counts)."""


def launched_world_size() -> int | None:
    """The number of processes an MPI launcher (``mpirun``, ``mpiexec``, ``srun``) started, or None.

    Read from the launcher's environment variables, without importing mpi4py.
    """
    for var in _LAUNCHER_SIZE_VARS:
        value = os.environ.get(var, "")
        if value.isdigit():
            return int(value)
    return None


class Communicator:
    """What the rest of ``myelin.distributed`` needs from a process group.

    Attributes:
        rank: this process's index in ``[0, size)``.
        size: the number of processes.
        mpi_comm: the mpi4py communicator, or None for a single process without MPI.
    """

    rank: int = 0
    size: int = 1
    mpi_comm: Any = None

    def allreduce_(self, buffer: np.ndarray, op: str = "sum") -> np.ndarray:
        """Reduce a contiguous array across ranks in place (``op``: ``"sum"`` or ``"max"``)."""
        raise NotImplementedError

    def broadcast_(self, buffer: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrite a contiguous array with ``root``'s copy, in place."""
        raise NotImplementedError

    def allgather_bytes(self, data: bytes) -> list[bytes]:
        """Every rank's ``data``, in rank order."""
        raise NotImplementedError

    def broadcast_bytes(self, data: bytes | None, root: int = 0) -> bytes:
        """``root``'s ``data`` on every rank (others may pass None)."""
        raise NotImplementedError

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        raise NotImplementedError

    def abort(self, code: int = 1) -> None:
        """End every rank of the job (used when one rank fails, so the others do not hang)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rank={self.rank}, size={self.size})"


class LocalCommunicator(Communicator):
    """A single process: every collective returns its input."""

    def allreduce_(self, buffer: np.ndarray, op: str = "sum") -> np.ndarray:
        return buffer

    def broadcast_(self, buffer: np.ndarray, root: int = 0) -> np.ndarray:
        _check_root(root, 1)
        return buffer

    def allgather_bytes(self, data: bytes) -> list[bytes]:
        return [bytes(data)]

    def broadcast_bytes(self, data: bytes | None, root: int = 0) -> bytes:
        _check_root(root, 1)
        if data is None:
            raise ValueError("broadcast_bytes: the root must pass its data, received None")
        return bytes(data)

    def barrier(self) -> None:
        return None

    def abort(self, code: int = 1) -> None:
        os._exit(code)


class MPICommunicator(Communicator):
    """An mpi4py communicator (``MPI.COMM_WORLD`` unless another one is given)."""

    def __init__(self, mpi_comm: Any, mpi: Any) -> None:
        self.mpi_comm = mpi_comm
        self._mpi = mpi
        self.rank = int(mpi_comm.Get_rank())
        self.size = int(mpi_comm.Get_size())
        self._ops = {"sum": mpi.SUM, "max": mpi.MAX}

    def allreduce_(self, buffer: np.ndarray, op: str = "sum") -> np.ndarray:
        _check_contiguous(buffer, "allreduce_")
        self.mpi_comm.Allreduce(self._mpi.IN_PLACE, buffer, op=self._ops[op])
        return buffer

    def broadcast_(self, buffer: np.ndarray, root: int = 0) -> np.ndarray:
        _check_contiguous(buffer, "broadcast_")
        _check_root(root, self.size)
        self.mpi_comm.Bcast(buffer, root=root)
        return buffer

    def allgather_bytes(self, data: bytes) -> list[bytes]:
        send = np.frombuffer(bytes(data), dtype=np.uint8)
        counts = np.empty(self.size, dtype=np.int64)
        self.mpi_comm.Allgather(np.array([send.size], dtype=np.int64), counts)
        recv = np.empty(int(counts.sum()), dtype=np.uint8)
        self.mpi_comm.Allgatherv(send, [recv, counts.astype(np.int32)])
        edges = np.concatenate([[0], np.cumsum(counts)])
        return [recv[edges[i]:edges[i + 1]].tobytes() for i in range(self.size)]

    def broadcast_bytes(self, data: bytes | None, root: int = 0) -> bytes:
        _check_root(root, self.size)
        if self.rank == root and data is None:
            raise ValueError("broadcast_bytes: the root must pass its data, received None")
        length = np.array([len(data) if self.rank == root else 0], dtype=np.int64)
        self.mpi_comm.Bcast(length, root=root)
        payload = np.frombuffer(bytes(data), dtype=np.uint8).copy() if self.rank == root else np.empty(
            int(length[0]), dtype=np.uint8)
        self.mpi_comm.Bcast(payload, root=root)
        return payload.tobytes()

    def barrier(self) -> None:
        self.mpi_comm.Barrier()

    def abort(self, code: int = 1) -> None:
        self.mpi_comm.Abort(code)


def _check_contiguous(buffer: np.ndarray, what: str) -> None:
    if not isinstance(buffer, np.ndarray) or not buffer.flags.c_contiguous or not buffer.flags.writeable:
        raise ValueError(f"{what}: expected a writeable C-contiguous NumPy array, received {type(buffer).__name__}")


def _check_root(root: int, size: int) -> None:
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < size:
        raise ValueError(f"expected root in [0, {size}), received {root!r}")


# ----------------------------------------------------------------------------------------- init

_COMM: Communicator | None = None
_HOOKED = False


def _import_mpi(why: str) -> Any:
    """``mpi4py.MPI``, or a :class:`DistributedError` that says what is missing and how to install it."""
    try:
        import mpi4py
    except ImportError as exc:
        raise DistributedError(
            f"myelin.distributed: {why}, but mpi4py is not installed ({type(exc).__name__}: {exc}). {INSTALL_HINT}"
        ) from None
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError, OSError) as exc:  # libmpi.so missing or broken
        version = getattr(mpi4py, "__version__", "?")
        raise DistributedError(
            f"myelin.distributed: {why}, but mpi4py {version} cannot load an MPI runtime "
            f"({type(exc).__name__}: {exc}). {INSTALL_HINT}"
        ) from None
    return MPI


def _install_abort_hook(comm: Communicator) -> None:
    """An uncaught exception on one rank prints its traceback and aborts the whole job (no hang)."""
    global _HOOKED
    if _HOOKED:
        return
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        try:
            sys.stderr.write(f"[rank {comm.rank}/{comm.size}] ")
            previous(exc_type, exc, tb)
        except Exception:  # noqa: BLE001 - never let the hook itself keep the job alive
            traceback.print_exception(exc_type, exc, tb)
        finally:
            sys.stderr.flush()
            sys.stdout.flush()
            comm.abort(1)

    sys.excepthook = hook
    _HOOKED = True


def init(required: bool = False, comm: Any = None, abort_on_exception: bool = True) -> Communicator:
    """Join the process group (idempotent) and return its :class:`Communicator`.

    Args:
        required: raise :class:`DistributedError` when mpi4py or the MPI runtime is missing
            (``fit(distributed=True)`` passes True). Otherwise a process that was not started by an
            MPI launcher gets a single-process communicator without importing mpi4py.
        comm: an mpi4py communicator to use instead of ``MPI.COMM_WORLD``.
        abort_on_exception: with several ranks, an uncaught exception on any rank aborts the
            whole job (``MPI_Abort``) after printing its traceback, so the others do not wait forever.

    A process started by ``mpirun -n N`` (N > 1) without a working mpi4py raises even when not
    ``required``: otherwise N copies would silently train N separate models.
    """
    global _COMM
    if comm is None and _COMM is not None and (_COMM.mpi_comm is not None or not required):
        return _COMM
    launched = launched_world_size()
    if comm is None and not required and launched is None:
        _COMM = LocalCommunicator()
        return _COMM
    if comm is None:
        why = "distributed training was requested" if required else f"this process is 1 of {launched} MPI ranks"
        try:
            mpi = _import_mpi(why)
        except DistributedError:
            if required or (launched or 1) > 1:
                raise
            _COMM = LocalCommunicator()
            return _COMM
        comm = mpi.COMM_WORLD
    else:
        mpi = _import_mpi("a communicator was given")
    _COMM = MPICommunicator(comm, mpi)
    if abort_on_exception and _COMM.size > 1:
        _install_abort_hook(_COMM)
    return _COMM


def is_initialized() -> bool:
    """Whether :func:`init` has run (the functions below call it on first use)."""
    return _COMM is not None


def get_communicator() -> Communicator:
    """The current communicator (:func:`init` on first use)."""
    return _COMM if _COMM is not None else init()


def rank() -> int:
    """This process's rank (0 without MPI)."""
    return get_communicator().rank


def world_size() -> int:
    """The number of processes (1 without MPI)."""
    return get_communicator().size


def is_main() -> bool:
    """True on rank 0: the one process that writes checkpoints, logs, progress bars and reports."""
    return get_communicator().rank == 0


def barrier() -> None:
    """Wait until every rank gets here (no-op for one process)."""
    get_communicator().barrier()


def main_only(fn: F) -> F:
    """Decorate a function (or a callback method) so it runs on rank 0 only; elsewhere it returns None."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if get_communicator().rank != 0:
            return None
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is True on at least one (e.g. Ctrl-C or a stop request)."""
    comm = get_communicator()
    if comm.size == 1:
        return bool(flag)
    return bool(comm.allreduce_(np.array([1 if flag else 0], dtype=np.int32), op="max")[0])


def all_ranks(flag: bool) -> bool:
    """True on every rank when ``flag`` is True on all of them."""
    return not any_rank(not flag)


def allreduce_sum(values: Sequence[float]) -> list[float]:
    """Element-wise sums of ``values`` over the ranks, in float64 (epoch loss sums, sample counts)."""
    buf = np.array(values, dtype=np.float64).reshape(-1)
    return [float(v) for v in get_communicator().allreduce_(buf)]


def reduce_metrics(metrics: Sequence[Any], loss_sum: float = 0.0, count: float = 0.0) -> tuple[float, float]:
    """Sum an epoch's running loss, sample count and metric states over the ranks, in one Allreduce.

    Each metric's ``state()`` (a list of sums, e.g. ``[total, count]``) is replaced by the global sums
    through ``load_state``; returns the global ``(loss_sum, count)``. A no-op with one process.
    """
    comm = get_communicator()
    if comm.size == 1:
        return loss_sum, count
    states = [list(m.state()) for m in metrics]
    flat = allreduce_sum([loss_sum, count, *(v for s in states for v in s)])
    pos = 2
    for m, s in zip(metrics, states):
        m.load_state(flat[pos:pos + len(s)])
        pos += len(s)
    return flat[0], flat[1]


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray) and obj.size < 1024:
        return obj.tolist()
    raise TypeError(f"broadcast_object: cannot send {type(obj).__name__}: expected JSON data (numbers, str, "
                    "lists, dicts); use broadcast_state for arrays")


def broadcast_object(obj: Any, root: int = 0) -> Any:
    """``root``'s JSON-serialisable ``obj`` (logs, counters, an RNG state) on every rank. No pickle.

    Tuples come back as lists, NumPy scalars as Python numbers.
    """
    comm = get_communicator()
    data = json.dumps(obj, default=_json_default).encode() if comm.rank == root else None
    return json.loads(comm.broadcast_bytes(data, root))
