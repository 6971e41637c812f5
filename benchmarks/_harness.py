"""The benchmark suite's machinery: alternating timing, machine facts, the table and the JSON file.

A *case* is a set of named implementations of the same work (``"myelin"``, ``"torch"``,
``"sklearn"``, ``"numpy GEMM floor"``...) and the ratios to report between them, each with
its target. :func:`time_case` runs every implementation once to warm up, then in rounds: each
round times every implementation once, in a rotated order, so that drift in clock speed or
load from other processes hits all of them alike. A sample is the mean of ``k`` back-to-back
calls, with ``k`` sized from the warm-up so that one sample lasts at least ``min_sample_s``
(timer resolution and scheduler noise matter for 0.1 ms steps). The result is the median
sample of each implementation, in milliseconds.

Nothing here decides pass or fail: a target that is missed is printed as missed.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Case", "Ratio", "Result", "blas_info", "compare_files", "machine_info", "print_table", "set_torch_threads",
    "time_case", "write_json",
]


@dataclass
class Ratio:
    """``numerator / denominator`` of two implementations' medians, with its target ``<= target``."""

    numerator: str
    denominator: str
    target: float | None = None

    def label(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass
class Case:
    """One row of the table.

    ``impls`` maps a name to a zero-argument callable doing one unit of work (a training step,
    an epoch...); ``ratios`` lists what to compare. ``measured`` is an alternative to ``impls``
    for cases whose numbers come from elsewhere (subprocess wall times, peak memory): a callable
    returning ``{name: value}`` directly, in ``unit``.
    """

    key: str
    title: str
    impls: dict[str, Callable[[], Any]] = field(default_factory=dict)
    ratios: list[Ratio] = field(default_factory=list)
    measured: Callable[[], dict[str, float]] | None = None
    unit: str = "ms"
    note: str = ""
    rounds: int | None = None  # overrides the suite's rounds (slow cases)
    min_sample_s: float | None = None
    warmup: int | None = None  # calls before timing, the one that sizes the samples included


@dataclass
class Result:
    key: str
    title: str
    unit: str
    values: dict[str, float]
    samples: dict[str, list[float]]
    ratios: list[dict[str, Any]]
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "title": self.title, "unit": self.unit, "values": self.values,
            "samples": self.samples, "ratios": self.ratios, "note": self.note,
        }


# ----------------------------------------------------------------------------------------- timing
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _sample(fn: Callable[[], Any], k: int, clock: Callable[[], float] = time.perf_counter) -> float:
    t0 = clock()
    for _ in range(k):
        fn()
    return (clock() - t0) / k


def time_case(case: Case, rounds: int, warmup: int = 2, min_sample_s: float = 0.01, clock: str = "wall",
              settle_s: float = 0.0) -> Result:
    """Median milliseconds of every implementation of ``case``, measured alternately.

    ``clock="cpu"`` times with the process CPU clock (all threads): steadier than the wall clock
    on a machine shared with other jobs, and fair when both libraries run one thread.
    ``settle_s``: an untimed pause before each sample. With several threads, PyTorch's OpenMP
    workers and OpenBLAS's workers each spin for milliseconds after their work, and on a small
    machine they would steal the cores of whichever library runs next; a real program runs
    one library, so the pause lets the other's threads go to sleep first.
    """
    tick = CLOCKS[clock]
    if case.measured is not None:
        values = case.measured()
        samples: dict[str, list[float]] = {}
        if isinstance(values, tuple):
            values, samples = values
        return _result(case, values, samples)
    rounds = case.rounds or rounds
    warmup = case.warmup if case.warmup is not None else warmup
    min_sample_s = case.min_sample_s if case.min_sample_s is not None else min_sample_s
    names = list(case.impls)
    fns = [case.impls[n] for n in names]
    per_call = []
    for fn in fns:
        for _ in range(max(warmup - 1, 0)):
            fn()
        per_call.append(_sample(fn, 1, tick))
    ks = [max(1, min(1000, int(min_sample_s / max(t, 1e-7)))) for t in per_call]
    times: list[list[float]] = [[] for _ in fns]
    gc.collect()
    for r in range(rounds):
        shift = r % len(fns)
        for i in list(range(shift, len(fns))) + list(range(shift)):
            if settle_s:
                time.sleep(settle_s)
            times[i].append(_sample(fns[i], ks[i], tick) * 1e3)
    values = {n: statistics.median(t) for n, t in zip(names, times)}
    return _result(case, values, {n: [round(v, 5) for v in t] for n, t in zip(names, times)})


def _result(case: Case, values: dict[str, float], samples: dict[str, list[float]]) -> Result:
    ratios = []
    for r in case.ratios:
        num, den = values.get(r.numerator), values.get(r.denominator)
        ratio = num / den if num is not None and den else None
        ratios.append({
            "label": r.label(), "numerator": r.numerator, "denominator": r.denominator, "ratio": ratio,
            "target": r.target, "met": None if ratio is None or r.target is None else ratio <= r.target,
        })
    return Result(case.key, case.title, case.unit, values, samples, ratios, case.note)


# ----------------------------------------------------------------------------------------- machine
def blas_info() -> dict[str, Any]:
    """NumPy's BLAS as threadpoolctl reports it (name, version, threads, kernel), or what NumPy says."""
    import numpy as np

    info: dict[str, Any] = {}
    try:
        from threadpoolctl import threadpool_info

        for lib in threadpool_info():
            if lib.get("user_api") == "blas":
                info = {
                    "name": lib.get("internal_api"), "version": lib.get("version"),
                    "threads": lib.get("num_threads"), "architecture": lib.get("architecture"),
                    "library": os.path.basename(lib.get("filepath", "")),
                }
                break
    except ImportError:
        pass
    if not info:
        try:
            cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            info = {"name": cfg.get("name"), "version": cfg.get("version"), "threads": None, "architecture": None}
        except Exception:  # noqa: BLE001 - best effort only
            info = {"name": None, "version": None, "threads": None, "architecture": None}
    return info


def blas_threads() -> int:
    threads = blas_info().get("threads")
    return int(threads) if threads else (os.cpu_count() or 1)


def set_torch_threads(torch: Any) -> int:
    """Give PyTorch as many intra-op threads as NumPy's BLAS has; return that number."""
    n = blas_threads()
    torch.set_num_threads(n)
    return n


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    import numpy as np

    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                            "OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ},
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch"] = None
    try:
        import sklearn

        info["sklearn"] = sklearn.__version__
    except ImportError:
        info["sklearn"] = None
    return info


# ----------------------------------------------------------------------------------------- output
def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "MiB":
        return f"{v:.0f}"
    return f"{v:.3f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:.0f}"


def print_table(results: list[Result], file: Any = None) -> None:
    """A fixed-width table: each case, each implementation's median, each ratio with its target."""
    out = file or sys.stdout
    lines = []
    for res in results:
        vals = "  ".join(f"{name} {_fmt(v, res.unit)}" for name, v in res.values.items())
        rats = []
        for r in res.ratios:
            if r["ratio"] is None:
                continue
            mark = "" if r["met"] is None else ("  ok" if r["met"] else "  MISSED")
            tgt = f" (target <= {r['target']:g})" if r["target"] is not None else ""
            rats.append(f"{r['label']} = {r['ratio']:.2f}{tgt}{mark}")
        lines.append((res.key, res.title, res.unit, vals, rats))
    width = max((len(f"{k} {t}") for k, t, *_ in lines), default=20)
    for key, title, unit, vals, rats in lines:
        print(f"{key + ' ' + title:<{width}}  [{unit}] {vals}", file=out)
        for r in rats:
            print(f"{'':<{width}}    {r}", file=out)
    out.flush()


def write_json(path: str, results: list[Result], machine: dict[str, Any], settings: dict[str, Any]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine,
        "settings": settings,
        "cases": [r.as_dict() for r in results],
    }
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def compare_files(*paths: str, file: Any = None) -> None:
    """Print every ratio of two or more result files side by side (a Markdown table): one column per
    file (named after it, oldest first), then the newest file's target and whether it met it."""
    out = file or sys.stdout
    docs = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            docs.append(json.load(f))
    names = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    older = [{c["key"]: c for c in d["cases"]} for d in docs[:-1]]
    print(f"| case | ratio | {' | '.join(names)} | target | met |", file=out)
    print("| --- | --- |" + " --- |" * len(names) + " --- | --- |", file=out)
    for case in docs[-1]["cases"]:
        for r in case["ratios"]:
            cells = []
            for doc in older:
                old = {o["label"]: o for o in doc.get(case["key"], {}).get("ratios", [])}
                b = old.get(r["label"], {}).get("ratio")
                cells.append(f"{b:.2f}" if b is not None else "-")
            cells.append(f"{r['ratio']:.2f}" if r["ratio"] is not None else "-")
            met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
            tgt = f"<= {r['target']:g}" if r["target"] is not None else ""
            print(f"| {case['key']} {case['title']} | {r['label']} | {' | '.join(cells)} | {tgt} | {met} |", file=out)
