"""Cases 7 and 8, measured in child processes: import wall time, and peak memory of an MNIST epoch.

Case 7 times ``python -c "import X"`` (interpreter start included) for ``pass``, ``numpy``,
``myelin`` and ``torch``, alternating, and reports the median of each.

Case 8 trains one MNIST epoch (case 6) in a fresh process per library and reads that child's
peak resident set size from ``os.wait4`` (``ru_maxrss``, the kernel's own count), in MiB. Linux
carries ``ru_maxrss`` across ``exec``, so a child forked straight from this (large) process would
report this process's size: a small launcher process forks the child instead and passes its
``ru_maxrss`` back (the child's own ``VmHWM`` is recorded beside it as a cross-check).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import Case, Ratio

__all__ = ["build_cases", "import_times", "peak_rss"]

HERE = Path(__file__).resolve().parent


def import_times(modules: list[str], repeats: int) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Median wall milliseconds of ``python -c "import M"`` for each module (``pass`` for none).

    Every child compiles into (and then reads from) one fresh bytecode cache
    (``PYTHONPYCACHEPREFIX``), with ``PYTHONDONTWRITEBYTECODE`` lifted, so that each package is
    timed from cached bytecode, as after a ``pip install``, whatever the environment says; the
    warm-up run of each module fills the cache (and the file cache).
    """
    samples: dict[str, list[float]] = {m: [] for m in modules}
    with tempfile.TemporaryDirectory(prefix="myelin-bench-pycache-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        for m in modules:
            subprocess.run([sys.executable, "-c", "pass" if m == "pass" else f"import {m}"], check=True, env=env)
        for r in range(repeats):
            order = modules[r % len(modules):] + modules[:r % len(modules)]
            for m in order:
                code = "pass" if m == "pass" else f"import {m}"
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], check=True, env=env)
                samples[m].append((time.perf_counter() - t0) * 1e3)
    names = {"pass": "python", "numpy": "numpy", "myelin": "myelin", "torch": "torch"}
    values = {names.get(m, m): statistics.median(v) for m, v in samples.items()}
    for m in ("numpy", "myelin"):  # the minimum: what the import costs when no other process interferes
        if m in samples:
            values[f"{m}_min"] = min(samples[m])
    return values, {names.get(m, m): [round(x, 2) for x in v] for m, v in samples.items()}


_LAUNCHER = (
    "import os, sys, subprocess\n"
    "p = subprocess.Popen(sys.argv[1:])\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "print('ru_maxrss', usage.ru_maxrss, flush=True)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def peak_rss(lib: str, n: int | None = None) -> tuple[float, float | None]:
    """Peak RSS in MiB of a child process training one MNIST epoch with ``lib``: (ru_maxrss, VmHWM or None)."""
    cmd = [sys.executable, "-S", "-c", _LAUNCHER, sys.executable, str(HERE / "cases_mnist.py"), "--epoch", lib]
    if n is not None:
        cmd += ["--n", str(n)]
    with tempfile.TemporaryFile() as out:
        code = subprocess.run(cmd, check=False, stdout=out, stderr=subprocess.STDOUT).returncode
        out.seek(0)
        text = out.read().decode(errors="replace")
    if code != 0:
        raise RuntimeError(f"peak_rss: {lib} child failed ({code}):\n{text[-2000:]}")
    scale = 1024 if sys.platform != "darwin" else 1  # kilobytes on Linux, bytes on macOS
    maxrss = hwm = None
    for line in text.splitlines():
        if line.startswith("ru_maxrss "):
            maxrss = int(line.split()[1]) * scale / 2**20
        elif line.startswith("VmHWM "):
            hwm = int(line.split()[1]) / 1024
    if maxrss is None:
        raise RuntimeError(f"peak_rss: the launcher did not report ru_maxrss:\n{text[-2000:]}")
    return maxrss, hwm


def build_cases(quick: bool = False, with_sklearn: bool = True) -> list[Case]:
    repeats = 3 if quick else 15

    def measure_imports() -> Any:
        return import_times(["pass", "numpy", "myelin", "torch"], repeats)

    n = 6000 if quick else None
    libs = ["myelin", "torch"] + (["sklearn"] if with_sklearn and not quick else [])

    def measure_memory() -> Any:
        values, hwm = {}, {}
        for lib in libs:
            values[lib], h = peak_rss(lib, n)
            hwm[lib] = [round(h, 1)] if h is not None else []
        return values, hwm

    return [
        Case("7", f"wall time of python -c 'import X' (median of {repeats})", measured=measure_imports,
             ratios=[Ratio("myelin", "numpy", 1.5), Ratio("myelin_min", "numpy_min"), Ratio("torch", "numpy")],
             note="python: the interpreter alone (python -c pass); *_min: the fastest of the repeats"),
        Case("8", f"peak RSS of one MNIST epoch ({n or 60000} images) in a fresh process",
             measured=measure_memory, unit="MiB", ratios=[Ratio("myelin", "torch", 1.0)],
             note="values: the child's ru_maxrss; samples: its VmHWM from /proc (a cross-check)"),
    ]
