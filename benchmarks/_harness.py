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
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Case", "Ratio", "Result", "blas_info", "compare_files", "cpu_info", "cpu_label", "machine_info",
    "machine_summary", "print_table", "set_torch_threads", "time_case", "torch_info", "write_json",
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
    """NumPy's BLAS as threadpoolctl reports it (name, version, threads, kernel), plus NumPy's build facts."""
    import numpy as np

    info: dict[str, Any] = {}
    try:
        from threadpoolctl import threadpool_info

        for lib in threadpool_info():
            if lib.get("user_api") == "blas":
                info = {
                    "name": lib.get("internal_api"), "version": lib.get("version"),
                    "threads": lib.get("num_threads"), "architecture": lib.get("architecture"),
                    "threading_layer": lib.get("threading_layer"),
                    "library": os.path.basename(lib.get("filepath", "")),
                }
                break
    except ImportError:
        pass
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        build = {"name": cfg.get("name"), "version": cfg.get("version"),
                 "configuration": cfg.get("openblas configuration")}
    except Exception:  # noqa: BLE001 - best effort only (older NumPy has no mode="dicts")
        build = {}
    if not info:
        info = {"name": build.get("name"), "version": build.get("version"), "threads": None, "architecture": None}
    info["build"] = build
    return info


def blas_threads() -> int:
    threads = blas_info().get("threads")
    return int(threads) if threads else (os.cpu_count() or 1)


def set_torch_threads(torch: Any) -> int:
    """Give PyTorch as many intra-op threads as NumPy's BLAS has; return that number."""
    n = blas_threads()
    torch.set_num_threads(n)
    return n


#: the /proc/cpuinfo flags that decide which BLAS kernels run (SIMD width, FMA, AMX)
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
              "avx512_fp16", "amx_tile", "amx_bf16", "asimd", "sve")


def cpu_info() -> dict[str, Any]:
    """The CPU model as /proc/cpuinfo names it (vendor, family/model/stepping, SIMD flags), else platform's."""
    facts: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                facts[key.strip()] = value.strip()
    except OSError:
        pass
    flags = set((facts.get("flags") or facts.get("Features") or "").split())
    model = facts.get("model name") or _sysctl("machdep.cpu.brand_string") or platform.processor() \
        or platform.machine()
    return {
        "model": model,
        "vendor": facts.get("vendor_id") or facts.get("CPU implementer"),
        "family": facts.get("cpu family"), "model_number": facts.get("model") or facts.get("CPU part"),
        "stepping": facts.get("stepping"), "cache": facts.get("cache size"),
        "simd": [f for f in SIMD_FLAGS if f in flags],
        "hypervisor": "hypervisor" in flags,
    }


def _sysctl(name: str) -> str | None:
    """A macOS ``sysctl`` value (the CPU's brand string there), or None elsewhere."""
    if sys.platform != "darwin":
        return None
    try:
        import subprocess

        return subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5,
                              check=True).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_label(cpu: dict[str, Any] | str) -> str:
    """``Intel(R) Xeon(R) Processor (family 6 model 207, avx512f amx)`` or the old files' plain string."""
    if isinstance(cpu, str):
        return cpu
    parts = []
    if cpu.get("family") and cpu.get("model_number"):
        parts.append(f"family {cpu['family']} model {cpu['model_number']}")
    simd = cpu.get("simd") or []
    top = "avx512f" if "avx512f" in simd else "avx2" if "avx2" in simd else simd[-1] if simd else None
    if top:
        parts.append(top + (" amx" if "amx_tile" in simd else ""))
    return f"{cpu.get('model')}" + (f" ({', '.join(parts)})" if parts else "")


def torch_info(torch: Any) -> dict[str, Any]:
    """PyTorch's version, threads and BLAS (MKL or OpenBLAS, from ``torch.__config__.show()``)."""
    info: dict[str, Any] = {"version": torch.__version__, "threads": torch.get_num_threads(),
                            "interop_threads": torch.get_num_interop_threads()}
    try:
        show = torch.__config__.show()
    except Exception:  # noqa: BLE001 - best effort only
        show = ""
    blas = re.search(r"BLAS_INFO=(\w+)", show)
    info["blas"] = blas.group(1) if blas else None
    mkl = re.search(r"Math Kernel Library Version ([\d.]+)", show)
    info["mkl"] = mkl.group(1) if mkl else None
    onednn = re.search(r"MKL-DNN v([\d.]+)", show)
    info["onednn"] = onednn.group(1) if onednn else None
    parallel = re.search(r"ATen parallel backend: (\w+)", getattr(torch.__config__, "parallel_info", lambda: "")())
    info["parallel_backend"] = parallel.group(1) if parallel else None
    try:
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001 - older PyTorch
        info["cpu_capability"] = None
    return info


def thread_pools() -> list[dict[str, Any]]:
    """Every thread pool threadpoolctl sees in this process (NumPy's BLAS, PyTorch's OpenMP...)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{k: lib.get(k) for k in ("user_api", "internal_api", "prefix", "version", "num_threads")}
            for lib in threadpool_info()]


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine_info() -> dict[str, Any]:
    import numpy as np

    cpu = cpu_info()
    info: dict[str, Any] = {
        "cpu": cpu["model"],
        "cpu_info": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "env": {k: os.environ[k] for k in THREAD_ENV if k in os.environ},
        "load_average": load_average(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_info"] = torch_info(torch)
    except ImportError:
        info["torch"] = None
    info["thread_pools"] = thread_pools()
    try:
        import sklearn

        info["sklearn"] = sklearn.__version__
    except ImportError:
        info["sklearn"] = None
    return info


#: environment variables that choose BLAS kernels or thread counts (recorded in every result file)
THREAD_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
              "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def machine_summary(machine: dict[str, Any], settings: dict[str, Any] | None = None) -> dict[str, str]:
    """The facts a reader needs beside a figure, one short string each (CPU, BLAS, PyTorch, threads, clock)."""
    blas = machine.get("blas") or {}
    tinfo = machine.get("torch_info") or {}
    cpu = cpu_label(machine.get("cpu_info") or machine.get("cpu") or "?")
    numpy_blas = f"NumPy {machine.get('numpy')}, {blas.get('name')} {blas.get('version')}"
    if blas.get("architecture"):
        numpy_blas += f" ({blas['architecture']} kernel)"
    torch_blas = f"torch {machine.get('torch')}" + ("" if tinfo else " (its BLAS not recorded)")
    if tinfo.get("blas"):
        torch_blas += f", {tinfo['blas'].upper() if tinfo['blas'] == 'mkl' else tinfo['blas']}"
        if tinfo.get("mkl"):
            torch_blas += f" {tinfo['mkl']}"
    if tinfo.get("cpu_capability"):
        torch_blas += f", {tinfo['cpu_capability']}"
    threads = f"NumPy BLAS {blas.get('threads')}, torch {machine.get('torch_threads')}"
    out = {"CPU": f"{cpu}, {machine.get('cores')} cores", "NumPy BLAS": numpy_blas, "PyTorch": torch_blas,
           "threads": threads}
    if settings is not None:
        out["clock"] = str(settings.get("clock", "wall"))
        load = settings.get("load_average") or machine.get("load_average")
        out["load (1, 5, 15 min)"] = ", ".join(f"{v:g}" for v in load) if load else "-"
    return out


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
    facts = [machine_summary(d.get("machine", {}), d.get("settings", {})) for d in docs]
    print(f"| machine | {' | '.join(names)} |", file=out)
    print("| --- |" + " --- |" * len(names), file=out)
    for label in facts[-1]:
        print(f"| {label} | {' | '.join(f.get(label, '-') for f in facts)} |", file=out)
    print(file=out)
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
