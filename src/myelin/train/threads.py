"""How many BLAS threads ``fit`` lets NumPy use: the user's choice, else one made from the model's
matrix products and how busy the machine is.

Why it matters. OpenBLAS (NumPy's BLAS) splits every product above ``M*N*K = 262,144``
multiply-adds over all its threads, and its worker threads wait for the next product by spinning.
On a machine whose cores other jobs hold, a worker that is not running when a product arrives
holds that product up for a scheduler time slice, and one training step runs dozens of products:
on a busy 2-core machine the default two threads made the digits MLP of ``myelin train`` 6-10x
slower than one thread. On a quiet machine a second thread pays only for products of several
million multiply-adds; below that the hand-off costs about what it saves.

``threads="auto"`` (``fit``'s default):

1. ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` or ``BLIS_NUM_THREADS`` set,
   or :func:`myelin.set_num_threads` called: nothing is changed (the user decided).
2. Otherwise, when ``fit`` starts, the cores other processes keep busy (:func:`busy_cores`: the
   1-minute load average less this process's own recent share, or on Linux the other processes'
   threads runnable right now, whichever is smaller) are taken off BLAS's own thread count; in a
   distributed run each rank gets its share of the cores.
3. After the first forward pass (counted by forward hooks, removed right after), the typical
   product of a training step (half the step's multiply-adds are in products at least this large)
   allows one thread per :data:`GRAIN` multiply-adds: small models run on one thread.

The limit applies to NumPy's BLAS (through threadpoolctl) for the duration of ``fit``, ``evaluate``
and ``predict``, and is lifted when they return. ``threads=N`` uses N threads; ``threads=None``
leaves BLAS alone. Thread counts do not change results: OpenBLAS splits a product's rows and
columns over its threads, never its sums.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

__all__ = ["ENV_VARS", "GRAIN", "BlasThreads", "busy_cores", "explicit_setting", "product_sizes", "typical_product"]

#: environment variables through which a user sets BLAS thread counts (any of them: ``auto`` stands aside)
ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")

#: multiply-adds per thread: a typical product of at least ``k * GRAIN`` gets ``k`` threads (measured on
#: 2-core Intel Xeon and AMD EPYC machines, see benchmarks/bench_threads.py)
GRAIN = 4_000_000

_T0 = (time.monotonic(), time.process_time())  # for this process's own share of the load average
_controller: Any = None


def explicit_setting() -> str | None:
    """What the user set (``"OPENBLAS_NUM_THREADS=1"``, ``"myelin.set_num_threads(2)"``), or None."""
    from .. import functions

    n = getattr(functions, "_threads", [0])[0]
    if n:
        return f"myelin.set_num_threads({n})"
    for var in ENV_VARS:
        if os.environ.get(var, "").strip():
            return f"{var}={os.environ[var].strip()}"
    return None


def _blas() -> Any:
    """threadpoolctl's view of NumPy's BLAS (made once per process), or None without threadpoolctl."""
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller = False
        else:
            _controller = ThreadpoolController().select(user_api="blas")
    return _controller or None


def _blas_threads(blas: Any) -> int:
    counts = [lib.num_threads for lib in blas.lib_controllers]
    return max(counts, default=1)


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _local_ranks() -> int:
    """Ranks of this MPI job on this machine (Open MPI's or MPICH's variable), else 1."""
    for var in ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"):
        try:
            return max(1, int(os.environ.get(var, "")))
        except ValueError:
            continue
    return 1


def _runnable_now(samples: int = 3, gap_s: float = 0.001) -> float | None:
    """Threads of other processes running or ready to run right now (Linux: ``/proc/loadavg``'s count
    less this process's own runnable threads), the median of a few samples; None elsewhere."""
    counts = []
    try:
        for i in range(samples):
            if i:
                time.sleep(gap_s)
            with open("/proc/loadavg", encoding="ascii") as f:
                total = int(f.read().split()[3].split("/")[0])
            own = 0
            for tid in os.listdir("/proc/self/task"):
                try:
                    with open(f"/proc/self/task/{tid}/stat", encoding="ascii", errors="replace") as f:
                        own += f.read().rsplit(")", 1)[1].split()[0] == "R"
                except OSError:
                    continue  # the thread ended meanwhile
            counts.append(max(0, total - own))
    except (OSError, ValueError, IndexError):
        return None
    counts.sort()
    return float(counts[len(counts) // 2])


_busy_cache: list[float] = []  # [time, value]: busy_cores() reused for a few seconds (predict in a loop)


def busy_cores() -> float:
    """Cores other processes keep busy, scaled to the cores this process may use: the smaller of the
    1-minute load average less this process's own share of it (it lags: right after another job ends
    it still counts that job) and, on Linux, the threads of other processes runnable right now (they
    miss a job between its bursts); 0 where neither can be read. Reused for 2 seconds."""
    now = time.monotonic()
    if _busy_cache and now - _busy_cache[0] < 2.0:
        return _busy_cache[1]
    try:
        load: float | None = os.getloadavg()[0]
        wall, cpu = now - _T0[0], time.process_time() - _T0[1]
        own = (cpu / wall) * (1 - math.exp(-wall / 60)) if wall > 0 else 0.0
        load = max(0.0, load - own)
    except (AttributeError, OSError):
        load = None
    runnable = _runnable_now()
    known = [v for v in (load, runnable) if v is not None]
    busy = min(known) * _usable_cores() / (os.cpu_count() or 1) if known else 0.0
    _busy_cache[:] = [now, busy]
    return busy


# ----------------------------------------------------------------------------------- product sizes
def _module_products(module: Any, inputs: tuple, output: Any) -> list[tuple[int, int]]:
    """``(multiply-adds, count)`` of the matrix products one training step of ``module`` runs
    (forward and backward), from its input and output of this call; ``[]`` for other modules."""
    from .. import nn
    from ..nn.rnn import RNNBase

    out = output[0] if isinstance(output, tuple) else output
    x = inputs[0] if inputs else None
    if not hasattr(out, "shape") or not hasattr(x, "shape"):
        return []
    if isinstance(module, nn.Linear):
        rows = int(np.prod(out.shape[:-1], dtype=np.int64))
        return [(rows * module.in_features * module.out_features, 3)]
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        return _conv_products(module, out)
    if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d)):
        w = module.weight.shape  # (C, O/g, *k)
        groups = module.groups
        rows = int(np.prod(x.shape, dtype=np.int64)) // max(w[0], 1)
        return [(rows * (w[0] // groups) * int(np.prod(w[1:], dtype=np.int64)), 3 * groups)]
    if isinstance(module, RNNBase):
        return _rnn_products(module, x)
    return []


def _conv_products(module: Any, out: Any) -> list[tuple[int, int]]:
    w = module.weight.shape  # (O, C/g, *k)
    groups = module.groups
    if w[1] == 1 and groups > 1:  # depthwise: no GEMM (a multiply-add per kernel offset)
        return []
    rows = int(np.prod(out.shape, dtype=np.int64)) // max(w[0], 1)
    per_group = rows * (w[0] // groups) * int(np.prod(w[1:], dtype=np.int64))
    return [(per_group, 3 * groups)]


def _rnn_products(module: Any, x: Any) -> list[tuple[int, int]]:
    shape = tuple(x.shape)
    if len(shape) == 2:
        steps, batch = shape[0], 1
    elif len(shape) == 3:
        steps, batch = (shape[1], shape[0]) if module.batch_first else (shape[0], shape[1])
    else:
        return []
    gates = {"LSTM": 4, "GRU": 3}.get(module.mode, 1) * module.hidden_size
    h = module.proj_size or module.hidden_size
    dirs = 2 if module.bidirectional else 1
    products = []
    inputs = module.input_size
    for _ in range(module.num_layers):
        k = h + 1 + inputs  # one per-step product over [h; 1; x] (the LSTM kernel's layout; close for the others)
        products += [(gates * k * batch, 2 * steps * dirs), (gates * k * steps * batch, dirs)]
        inputs = h * dirs
    return products


def product_sizes(model: Any) -> tuple[list[tuple[int, int]], Any]:
    """Forward hooks on every module of ``model`` that collect :func:`_module_products` of the next forward
    pass; returns ``(products, remove)``: the list they fill and a function that removes the hooks."""
    products: list[tuple[int, int]] = []
    handles = []

    def hook(module: Any, inputs: tuple, output: Any) -> None:
        products.extend(_module_products(module, inputs, output))

    for m in model.modules():
        handles.append(m.register_forward_hook(hook))

    def remove() -> None:
        for h in handles:
            h.remove()
        handles.clear()

    return products, remove


def typical_product(products: list[tuple[int, int]]) -> int:
    """The size (multiply-adds) such that half of all multiply-adds are in products at least this large; 0 if none."""
    total = sum(mac * n for mac, n in products)
    if not total:
        return 0
    acc = 0
    for mac, n in sorted(products, reverse=True):
        acc += mac * n
        if 2 * acc >= total:
            return mac
    return 0


# ----------------------------------------------------------------------------------- the choice
class BlasThreads:
    """Context manager around a training run (or ``evaluate``, ``predict``): applies ``threads`` (``"auto"``,
    an int or None) to NumPy's BLAS, and restores the previous limit on exit. ``choice`` says what was
    decided and why (a dict)."""

    def __init__(self, model: Any, threads: Any = "auto", distributed: bool = False, what: str = "fit") -> None:
        if threads is not None and threads != "auto" and (
                isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1):
            raise ValueError(f"{what}: threads must be 'auto', None or a positive int, received {threads!r}")
        self.model, self.threads = model, threads
        self.ranks = _local_ranks() if distributed else 1
        self.choice: dict[str, Any] = {"threads": None, "default": None, "reason": "left to the BLAS library"}
        self._blas: Any = None
        self._original: Any = None
        self._remove: Any = None
        self._root: Any = None
        self._products: list[tuple[int, int]] = []

    def __enter__(self) -> BlasThreads:  # noqa: PYI034
        if self.threads is None:
            return self
        blas = _blas()
        if blas is None or not blas.lib_controllers:
            self.choice["reason"] = "threadpoolctl not installed" if blas is None else "no BLAS library found"
            return self
        self._blas = blas
        default = _blas_threads(blas)
        self.choice.update(default=default, threads=default)
        if self.threads != "auto":
            self._apply(int(self.threads), f"threads={int(self.threads)}")
            return self
        explicit = explicit_setting()
        if explicit:
            self.choice["reason"] = f"set by the user ({explicit})"
            return self
        cap, why = default, "BLAS's own count"
        if self.ranks > 1:
            cap = max(1, _usable_cores() // self.ranks)
            why = f"{self.ranks} ranks share {_usable_cores()} cores"
        busy = busy_cores()
        free = max(1, int(_usable_cores() - busy + 0.5))
        if free < cap:
            cap, why = free, f"busy machine: load {busy:.1f} from other processes on {_usable_cores()} cores"
        self.choice["busy_cores"] = round(busy, 2)
        self._apply(min(cap, default), why)
        if self.choice["threads"] > 1:
            products, self._remove = product_sizes(self.model)
            self._products = products
            self._root = self.model.register_forward_hook(self._after_first_forward)
        return self

    def _after_first_forward(self, module: Any, inputs: tuple, output: Any) -> None:
        self._detach()
        size = typical_product(self._products)
        if not size:
            return  # no product this module knows: keep the cap
        by_size = max(1, size // GRAIN)
        self.choice["typical_product"] = int(size)
        if by_size < self.choice["threads"]:
            self._apply(int(by_size), f"typical product {size:,} multiply-adds (one thread per {GRAIN:,})")

    def _detach(self) -> None:
        if self._remove is not None:
            self._remove()
            self._root.remove()
            self._remove = None

    def _apply(self, n: int, reason: str) -> None:
        self.choice.update(threads=n, reason=reason)
        if n != _blas_threads(self._blas):
            if self._original is None:
                self._original = [lib.num_threads for lib in self._blas.lib_controllers]
            for lib in self._blas.lib_controllers:
                lib.set_num_threads(n)

    def __exit__(self, *exc: object) -> None:
        self._detach()
        if self._original is not None:
            for lib, n in zip(self._blas.lib_controllers, self._original):
                lib.set_num_threads(n)
            self._original = None
