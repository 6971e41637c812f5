"""Gradient averaging: :class:`GradientReducer`, :func:`allreduce_gradients` and :class:`DistributedOptimizer`."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from .._plural import counted
from .comm import Communicator, get_communicator
from .state import check_consistency, named_parameters_of

__all__ = ["DistributedOptimizer", "GradientReducer", "allreduce_gradients"]


class GradientReducer:
    """Sum or average the ``.grad`` of a fixed list of parameters over the ranks with ONE ``Allreduce``.

    Each :meth:`reduce` packs every gradient into one preallocated flat buffer (float32, or float64
    when a parameter is float64), reduces it in place (``MPI.IN_PLACE``) and copies the result back
    into ``.grad``. A gradient that is None counts as zeros; one flag per parameter travels in the same
    buffer, so a parameter whose gradient is None on every rank keeps ``grad=None`` on every rank, and
    one that has a gradient on any rank gets the (averaged) gradient on all of them.

    Attributes:
        seconds: total wall time spent inside the Allreduce calls (communication, including waiting
            for slower ranks); ``calls``: how many; ``nbytes``: the size of the buffer sent per call.
    """

    def __init__(self, params: Sequence[Any], names: Sequence[str] | None = None,
                 comm: Communicator | None = None) -> None:
        self.params = list(params)
        self.names = list(names) if names is not None else [f"params.{i}" for i in range(len(self.params))]
        self.comm = comm
        dtypes = [p.data.dtype for p in self.params if p.data.dtype.kind == "f"]
        dtype = np.result_type(np.float32, *dtypes)
        self.shapes = [p.data.shape for p in self.params]
        sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).tolist()
        self.numel = self.offsets[-1]
        self.buffer = np.zeros(self.numel + len(self.params), dtype=dtype)
        self.flags = self.buffer[self.numel:]
        self.seconds = 0.0
        self.calls = 0

    @property
    def nbytes(self) -> int:
        return int(self.buffer.nbytes)

    def _pack(self) -> None:
        buf, flags, offsets = self.buffer, self.flags, self.offsets
        for i, p in enumerate(self.params):
            g = None if p.grad is None else p.grad.data
            lo, hi = offsets[i], offsets[i + 1]
            if g is None:
                buf[lo:hi] = 0
                flags[i] = 0
                continue
            if g.shape != self.shapes[i]:
                raise ValueError(
                    f"allreduce_gradients: {self.names[i]} has a gradient of shape {g.shape}, "
                    f"its parameter has shape {self.shapes[i]}"
                )
            buf[lo:hi] = g.reshape(-1)
            flags[i] = 1

    def _unpack(self) -> None:
        buf, flags, offsets = self.buffer, self.flags, self.offsets
        for i, p in enumerate(self.params):
            if flags[i] == 0:  # None on every rank: stays None
                continue
            view = buf[offsets[i]:offsets[i + 1]].reshape(self.shapes[i])
            g = None if p.grad is None else p.grad.data
            if g is not None and g.flags.writeable and g.dtype == p.data.dtype:
                np.copyto(g, view, casting="unsafe")
            else:
                p.grad = view.astype(p.data.dtype, copy=True)

    def reduce(self, average: bool = True) -> None:
        """Replace every ``.grad`` by its sum (or mean, with ``average``) over the ranks.

        A collective call: every rank must call it once per step, with the same parameters.
        With one process it returns at once and leaves the gradients alone.
        """
        comm = self.comm if self.comm is not None else get_communicator()
        if comm.size == 1:
            return
        self._pack()
        start = time.perf_counter()
        comm.allreduce_(self.buffer)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        if average:
            grads = self.buffer[: self.numel]
            np.multiply(grads, grads.dtype.type(1.0 / comm.size), out=grads)
        self._unpack()

    def __repr__(self) -> str:
        return (f"GradientReducer({counted(len(self.params), 'parameter')}, {counted(self.numel, 'value')}, "
                f"{self.buffer.dtype}, {counted(self.calls, 'call')}, {self.seconds:.3f}s)")


_CACHE: OrderedDict[tuple[int, ...], GradientReducer] = OrderedDict()
_CACHE_SIZE = 8


def allreduce_gradients(model_or_params: Any, average: bool = True) -> GradientReducer:
    """Average (default) or sum the gradients of a model's parameters over the ranks, in place.

    One ``Allreduce`` on one flat buffer per call (see :class:`GradientReducer`); call it after
    ``backward()`` and before ``optimizer.step()`` on every rank. The reducer (and its buffer) is
    cached per parameter list; the one used is returned, its ``seconds`` count the time spent communicating.
    Parameters that do not require grad are left out.
    """
    named = [(n, p) for n, p in named_parameters_of(model_or_params) if getattr(p, "requires_grad", True)]
    key = tuple(id(p) for _, p in named)
    reducer = _CACHE.get(key)
    if reducer is None:
        reducer = GradientReducer([p for _, p in named], [n for n, _ in named])
        _CACHE[key] = reducer
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    reducer.reduce(average)
    return reducer


class DistributedOptimizer:
    """Wrap an optimizer so that :meth:`step` first averages the gradients over the ranks (Horovod style).

    ``DistributedOptimizer(optim.SGD(model.parameters(), lr=0.1, momentum=0.9), model)`` returns an
    instance of a subclass of the optimizer's own class (``DistributedSGD``) that shares the original's
    state, ``param_groups`` and hyperparameters, so schedulers, ``state_dict()``/``load_state_dict()``
    and checkpoints work unchanged; use the returned object for ``step()``. The training loop stays
    as it is: ``zero_grad()``, forward, ``loss.backward()``, ``step()``.

    Args:
        optimizer: any Myelin optimizer.
        model_or_params: the model, to name parameters in error messages (default: the optimizer's
            parameters, ``params.<i>``).
        average: average (default) or sum the gradients.
        check: run :func:`check_consistency` now (a collective call: every rank constructs the wrapper).

    To change gradients after averaging (gradient clipping on the global gradient), call
    :meth:`synchronize` first; the next :meth:`step` then does not average again.
    """

    _dist_classes: ClassVar[dict[type, type]] = {}

    def __new__(cls, optimizer: Any = None, model_or_params: Any = None, average: bool = True,
                check: bool = True) -> Any:
        if optimizer is None and cls is not DistributedOptimizer:  # copy.deepcopy of a wrapped optimizer
            return object.__new__(cls)
        if isinstance(optimizer, DistributedOptimizer):
            return optimizer
        if not (hasattr(optimizer, "step") and hasattr(optimizer, "param_groups")):
            raise TypeError(f"DistributedOptimizer: expected an Optimizer, received {type(optimizer).__name__}")
        base = type(optimizer)
        sub = cls._dist_classes.get(base)
        if sub is None:
            sub = type(f"Distributed{base.__name__}", (cls, base), {"__module__": cls.__module__})
            cls._dist_classes[base] = sub
        obj = object.__new__(sub)
        obj.__dict__ = optimizer.__dict__  # the same state, groups and hyperparameters as the original
        return obj

    def __init__(self, optimizer: Any = None, model_or_params: Any = None, average: bool = True,
                 check: bool = True) -> None:
        if optimizer is self:  # DistributedOptimizer(an already distributed optimizer)
            return
        names = {id(p): n for n, p in named_parameters_of(model_or_params)} if model_or_params is not None else {}
        self._dist_names = names
        self._dist_average = bool(average)
        self._dist_synced = False
        self._dist_reducer = self._make_reducer()
        if check:
            check_consistency(list(zip(self._dist_reducer.names, self._dist_reducer.params)))

    def _group_params(self) -> list[Any]:
        return [p for group in self.param_groups for p in group["params"]]

    def _make_reducer(self) -> GradientReducer:
        params = self._group_params()
        names = [self._dist_names.get(id(p), f"params.{i}") for i, p in enumerate(params)]
        return GradientReducer(params, names)

    @property
    def reducer(self) -> GradientReducer:
        """The :class:`GradientReducer` (its ``seconds`` and ``calls`` measure the communication)."""
        return self._dist_reducer

    def synchronize(self) -> None:
        """Average the gradients now (idempotent until the next :meth:`step`)."""
        if self._dist_synced:
            return
        params = self._group_params()
        reducer = self._dist_reducer
        if len(params) != len(reducer.params) or any(a is not b for a, b in zip(params, reducer.params)):
            reducer = self._dist_reducer = self._make_reducer()  # add_param_group since the last step
        reducer.reduce(self._dist_average)
        self._dist_synced = True

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Average the gradients over the ranks (unless :meth:`synchronize` already did), then update."""
        loss = None
        if closure is not None:
            from ..autograd import enable_grad

            with enable_grad():
                loss = closure()
        self.synchronize()
        self._dist_synced = False
        super().step()  # type: ignore[misc]
        return loss
