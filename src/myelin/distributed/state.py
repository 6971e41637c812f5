"""Keeping ranks in agreement: broadcasts from rank 0 and the :func:`check_consistency` signature check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._plural import counted
from .comm import DistributedError, broadcast_object, get_communicator

__all__ = [
    "broadcast_parameters",
    "broadcast_state",
    "check_consistency",
    "named_parameters_of",
    "sync_training_state",
]


def named_parameters_of(model_or_params: Any) -> list[tuple[str, Any]]:
    """``[(name, parameter)]`` of a Module, an Optimizer, or an iterable of tensors / ``(name, tensor)`` pairs.

    Unnamed parameters are called ``params.<i>`` in the order given.
    """
    if hasattr(model_or_params, "named_parameters"):
        return list(model_or_params.named_parameters())
    if hasattr(model_or_params, "param_groups"):
        items: Iterable[Any] = [p for group in model_or_params.param_groups for p in group["params"]]
    elif isinstance(model_or_params, Iterable):
        items = model_or_params
    else:
        raise TypeError(
            "myelin.distributed: expected a Module, an Optimizer or an iterable of parameters, "
            f"received {type(model_or_params).__name__}"
        )
    out: list[tuple[str, Any]] = []
    for i, item in enumerate(items):
        name, p = item if isinstance(item, tuple) and len(item) == 2 else (f"params.{i}", item)
        if not isinstance(getattr(p, "data", None), np.ndarray):
            raise TypeError(f"myelin.distributed: expected parameters (Tensors), received {type(p).__name__}")
        out.append((str(name), p))
    return out


def _named_buffers_of(model: Any) -> list[tuple[str, np.ndarray]]:
    return list(model.named_buffers()) if hasattr(model, "named_buffers") else []


# ----------------------------------------------------------------------------------------- consistency


def _signature(model_or_params: Any, values: bool) -> list[list[Any]]:
    entries: list[list[Any]] = []
    arrays: list[tuple[str, str, np.ndarray, bool]] = [
        ("parameter", name, p.data, bool(getattr(p, "requires_grad", True)))
        for name, p in named_parameters_of(model_or_params)
    ]
    arrays += [("buffer", name, b, False) for name, b in _named_buffers_of(model_or_params)]
    for kind, name, arr, trainable in arrays:
        entry = [kind, name, list(arr.shape), arr.dtype.str, trainable]
        if values and kind == "parameter":
            entry.append(hashlib.blake2b(np.ascontiguousarray(arr).tobytes(), digest_size=8).hexdigest())
        entries.append(entry)
    return entries


def _compare(r: int, mine: list[list[Any]], ref: list[list[Any]]) -> list[str]:
    """What differs between rank ``r``'s signature and rank 0's, in words."""
    mine_by, ref_by = {e[1]: e for e in mine}, {e[1]: e for e in ref}
    problems = []
    for name in [e[1] for e in ref] + [e[1] for e in mine if e[1] not in ref_by]:
        a, b = mine_by.get(name), ref_by.get(name)
        if a is None:
            problems.append(f"rank {r} has no {b[0]} {name} (rank 0 has one of shape {tuple(b[2])})")
        elif b is None:
            problems.append(f"rank {r} has {a[0]} {name} of shape {tuple(a[2])}, rank 0 has none")
        elif a[2] != b[2]:
            problems.append(f"rank {r} has {name} of shape {tuple(a[2])}, rank 0 has {tuple(b[2])}")
        elif a[3] != b[3]:
            problems.append(f"rank {r} has {name} of dtype {np.dtype(a[3])}, rank 0 has {np.dtype(b[3])}")
        elif a[4] != b[4]:
            problems.append(f"rank {r} has {name} with requires_grad={a[4]}, rank 0 has {b[4]}")
        elif len(a) > 5 and len(b) > 5 and a[5] != b[5]:
            problems.append(f"rank {r} has different values in {name} than rank 0")
    if not problems and [e[1] for e in mine] != [e[1] for e in ref]:
        problems.append(f"rank {r} lists the same parameters as rank 0 in a different order")
    return problems


def check_consistency(model_or_params: Any, values: bool = False) -> None:
    """Check that every rank has the same parameters and buffers (names, shapes, dtypes, requires_grad).

    A collective call: every rank must make it. Each rank sends a small signature (one allgather),
    so every rank raises the same :class:`DistributedError`, e.g. ``rank 1 has layers.0.weight of shape
    (64, 30), rank 0 has (64, 20)``, instead of some ranks hanging or reading garbage.

    Args:
        values: also compare a hash of every parameter's values (e.g. to check that the ranks
            ended with bit-identical weights).
    """
    comm = get_communicator()
    if comm.size == 1:
        return
    mine = _signature(model_or_params, values)
    signatures = [json.loads(s) for s in comm.allgather_bytes(json.dumps(mine).encode())]
    problems = [text for r in range(1, comm.size) for text in _compare(r, signatures[r], signatures[0])]
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise DistributedError(
            f"myelin.distributed: the ranks' models differ ({counted(comm.size, 'rank')}): {shown}. Every rank must build "
            "the same model with the same arguments (and load the same weights)."
        )


# ----------------------------------------------------------------------------------------- broadcasts


def _broadcast_array_(comm: Any, arr: np.ndarray, root: int) -> None:
    if arr.flags.c_contiguous and arr.flags.writeable:
        comm.broadcast_(arr, root)
    else:
        tmp = np.ascontiguousarray(arr).copy()
        comm.broadcast_(tmp, root)
        arr[...] = tmp


def broadcast_parameters(model_or_params: Any, root: int = 0, buffers: bool = True, check: bool = True) -> None:
    """Overwrite every rank's parameters (and, for a Module, buffers) with rank ``root``'s, in place.

    Call it once after building the model (and after loading weights) so all ranks start equal.
    ``check`` runs :func:`check_consistency` first, which turns a model mismatch into a clear error.
    """
    comm = get_communicator()
    if comm.size == 1:
        return
    if check:
        check_consistency(model_or_params)
    for _, p in named_parameters_of(model_or_params):
        _broadcast_array_(comm, p.data, root)
    if buffers:
        for _, b in _named_buffers_of(model_or_params):
            _broadcast_array_(comm, b, root)


def broadcast_state(state: Any, root: int = 0) -> Any:
    """``root``'s nested state (an optimizer's or scheduler's ``state_dict()``) on every rank. No pickle.

    Dicts (with int or str keys), lists, tuples, numbers, strings and NumPy arrays keep their types:
    the structure travels as JSON, each array in its own broadcast.
    """
    comm = get_communicator()
    if comm.size == 1:
        return state
    from ..io.checkpoint import _Decoder, _Encoder

    header: dict[str, Any] | None = None
    tensors: dict[str, np.ndarray] = {}
    if comm.rank == root:
        encoder = _Encoder()
        try:
            tree = encoder(state, "state")
        except TypeError as exc:
            raise TypeError(f"broadcast_state: {exc}".replace("save_checkpoint: ", "")) from None
        tensors = {k: np.ascontiguousarray(v) for k, v in encoder.tensors.items()}
        header = {"tree": tree, "arrays": [[k, v.dtype.str, list(v.shape)] for k, v in tensors.items()]}
    header = broadcast_object(header, root)
    if comm.rank != root:
        tensors = {k: np.empty(tuple(shape), dtype=np.dtype(dt)) for k, dt, shape in header["arrays"]}
    for name, _, _ in header["arrays"]:
        comm.broadcast_(tensors[name], root)
    if comm.rank == root:
        return state
    return _Decoder(tensors, "myelin.distributed.broadcast_state")(header["tree"])


def sync_training_state(model: Any, optimizer: Any = None, scheduler: Any = None, values: Any = None,
                        rng: bool = True, root: int = 0) -> Any:
    """Make every rank's training state equal rank ``root``'s; returns ``root``'s ``values``.

    Checks the models agree (:func:`check_consistency`), then broadcasts the weights and buffers, the
    optimizer's and scheduler's states, the library RNG (:mod:`myelin.random`) and ``values`` (JSON data
    such as ``(epoch, step)``; tuples come back as lists). Use it once before training starts and again
    after every rank loaded the same checkpoint, so a resumed run is consistent whatever the number of ranks.
    """
    comm = get_communicator()
    if comm.size == 1:
        return values
    broadcast_parameters(model, root)
    for obj in (optimizer, scheduler):
        if obj is not None:
            state = broadcast_state(obj.state_dict(), root)
            if comm.rank != root:
                obj.load_state_dict(state)
    if rng:
        from ..random import get_rng_state, set_rng_state

        state = broadcast_object(get_rng_state(), root)
        if comm.rank != root:
            set_rng_state(state)
    return broadcast_object(values, root)
