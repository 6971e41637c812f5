"""Cases 7 and 8, measured in child processes: import wall time, and peak memory of an MNIST epoch.

Case 7 times ``python -c "import X"`` (interpreter start included) for ``pass``, ``numpy``,
``myelin`` and ``torch``, alternating, and reports the median of each.

Case 8 trains one MNIST epoch (case 6) in a fresh process per library and reads that child's
peak resident set size from ``os.wait4`` (``ru_maxrss``, the kernel's own count), in MiB.
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
    """Median wall milliseconds of ``python -c "import M"`` for each module (``pass`` for none)."""
    samples: dict[str, list[float]] = {m: [] for m in modules}
    for m in modules:  # warm the file cache once
        subprocess.run([sys.executable, "-c", "pass" if m == "pass" else f"import {m}"], check=True)
    for r in range(repeats):
        order = modules[r % len(modules):] + modules[:r % len(modules)]
        for m in order:
            code = "pass" if m == "pass" else f"import {m}"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            samples[m].append((time.perf_counter() - t0) * 1e3)
    names = {"pass": "python", "numpy": "numpy", "myelin": "myelin", "torch": "torch"}
    values = {names.get(m, m): statistics.median(v) for m, v in samples.items()}
    return values, {names.get(m, m): [round(x, 2) for x in v] for m, v in samples.items()}


def peak_rss(lib: str, n: int | None = None) -> float:
    """Peak RSS in MiB of a child process training one MNIST epoch with ``lib``."""
    cmd = [sys.executable, str(HERE / "cases_mnist.py"), "--epoch", lib]
    if n is not None:
        cmd += ["--n", str(n)]
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out.seek(0)
            raise RuntimeError(f"peak_rss: {lib} child failed ({proc.returncode}):\n{out.read().decode()[-2000:]}")
    scale = 1024 if sys.platform != "darwin" else 1  # kilobytes on Linux, bytes on macOS
    return usage.ru_maxrss * scale / 2**20


def build_cases(quick: bool = False, with_sklearn: bool = True) -> list[Case]:
    repeats = 3 if quick else 11

    def measure_imports() -> Any:
        return import_times(["pass", "numpy", "myelin", "torch"], repeats)

    n = 6000 if quick else None
    libs = ["myelin", "torch"] + (["sklearn"] if with_sklearn and not quick else [])

    def measure_memory() -> dict[str, float]:
        return {lib: peak_rss(lib, n) for lib in libs}

    return [
        Case("7", f"wall time of python -c 'import X' (median of {repeats})", measured=measure_imports,
             ratios=[Ratio("myelin", "numpy", 1.5), Ratio("torch", "numpy")],
             note="python: the interpreter alone (python -c pass)"),
        Case("8", f"peak RSS of one MNIST epoch ({n or 60000} images) in a fresh process",
             measured=measure_memory, unit="MiB", ratios=[Ratio("myelin", "torch", 1.0)]),
    ]
