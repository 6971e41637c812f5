"""Wall time of ``myelin train`` and the examples with each BLAS thread setting, quiet or under load.

    python benchmarks/bench_threads.py                       # quiet machine
    python benchmarks/bench_threads.py --load 1              # one other process burning a core
    python benchmarks/bench_threads.py --only train-digits,mnist_mlp --repeat 3 --json out.json

Settings, each a fresh process (run in turn, the order rotated every repeat):

- ``auto``: no thread variable set: ``fit`` chooses (``myelin.train.threads``; Myelin's default);
- ``1``: ``OPENBLAS_NUM_THREADS=1``;
- ``N`` (the usable cores): ``OPENBLAS_NUM_THREADS=N``, what NumPy's OpenBLAS does by itself, and
  so what ``fit`` did before it chose threads.

``--load K`` starts K processes that spin on one core each (a ``while`` loop) for the whole
measurement, as another job on the machine would. Prints the median wall seconds of every
workload and setting (the whole command: start-up, data loading, training, files), its CPU
seconds (all threads: OpenBLAS workers that spin while waiting show up here) and each setting's
ratio to ``auto``; a run over ``--timeout`` seconds is stopped and shown as ``>T``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
COUNT_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def workloads(out: Path) -> dict[str, list[str]]:
    """Name -> command (the run directory of ``myelin train`` goes under ``out``)."""
    py = sys.executable
    myelin = [py, "-m", "myelin"]
    train = [*myelin, "train", "--quiet", "--no-report", "--overwrite"]
    mnist = ["--data", "mnist"] + (["--data-dir", str(SHARED)] if (SHARED / "mnist.npz").is_file() else [])
    return {
        "train-digits": [*train, "--out", str(out / "digits")],  # the default job: MLP 64-256-128-10, batch 32
        "train-mnist-mlp": [*train, *mnist, "--epochs", "1", "--out", str(out / "mnist")],  # batch 64
        "train-digits-lstm": [*train, "--model", "lstm", "--epochs", "3", "--out", str(out / "lstm")],
        "mnist_mlp": [py, str(ROOT / "examples" / "mnist_mlp.py"), "--epochs", "1"],  # 784-512-256-10, batch 128
        "mnist_cnn": [py, str(ROOT / "examples" / "mnist_cnn.py"), "--quick"],
        "char_lstm": [py, str(ROOT / "examples" / "char_lstm.py"), "--quick"],
        "overfitting": [py, str(ROOT / "examples" / "overfitting.py"), "--quick"],
    }


def burners(k: int) -> list[subprocess.Popen]:
    """``k`` processes spinning on one core each, until killed or until this process ends."""
    spin = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(k)]


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM: stop the burners and clean up as Ctrl-C does


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[float | None, float | None]:
    """Wall seconds and CPU seconds (all threads) of one run; ``(None, None)`` past the timeout."""
    t0, c0 = time.perf_counter(), _children_cpu()
    try:
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout,
                              check=False, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None, None
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return time.perf_counter() - t0, _children_cpu() - c0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--load", type=int, default=0, metavar="K", help="processes burning a core each (default 0)")
    parser.add_argument("--repeat", type=int, default=2, metavar="R", help="runs per workload and setting (default 2)")
    parser.add_argument("--only", metavar="LIST", help="comma-separated workload names (default: all)")
    parser.add_argument("--timeout", type=float, default=300, metavar="S", help="seconds per run (default 300)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    known = list(workloads(Path(".")))
    names = [n.strip() for n in args.only.split(",")] if args.only else known
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"--only: unknown workload {', '.join(unknown)} (expected some of {', '.join(known)})")
    out = Path(tempfile.mkdtemp(prefix="bench_threads_"))
    jobs = workloads(out)
    base = {k: v for k, v in os.environ.items() if k not in COUNT_VARS}
    settings = {"auto": base, "1": dict(base, OPENBLAS_NUM_THREADS="1"),
                str(cores): dict(base, OPENBLAS_NUM_THREADS=str(cores))}
    signal.signal(signal.SIGTERM, _stop)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    procs = burners(args.load)
    times: dict[str, dict[str, list[float | None]]] = {n: {s: [] for s in settings} for n in names}
    cpu: dict[str, dict[str, list[float | None]]] = {n: {s: [] for s in settings} for n in names}
    try:
        time.sleep(1.0 if procs else 0.0)
        for r in range(args.repeat):
            for name in names:
                order = list(settings)
                order = order[r % len(order):] + order[:r % len(order)]
                for s in order:
                    wall, used = timed(jobs[name], settings[s], args.timeout)
                    times[name][s].append(wall)
                    cpu[name][s].append(used)
                print(f"repeat {r + 1}: {name}: " + ", ".join(
                    f"{s} {_fmt(times[name][s][-1], args.timeout)} s ({_fmt(cpu[name][s][-1], args.timeout)} s CPU)"
                    for s in settings), flush=True)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(out, ignore_errors=True)

    def med(values: list[float | None]) -> float | None:
        if any(v is None for v in values):
            return None
        return statistics.median(values)

    print(f"\ncores {cores}, load {args.load} burner(s), load average before {load_before}; median wall seconds "
          f"of {args.repeat} runs (CPU seconds of all threads in brackets); ratio = setting / auto")
    print(f"| workload | {' | '.join(f'{s} thread(s)' if s != 'auto' else 'auto' for s in settings)} | "
          f"{' | '.join(f'{s}/auto' for s in settings if s != 'auto')} |")
    print("|---" * (2 * len(settings)) + "|")
    for name in names:
        meds = {s: med(times[name][s]) for s in settings}
        ratios = [f"{meds[s] / meds['auto']:.2f}" if meds[s] and meds["auto"] else "-" for s in settings if s != "auto"]
        cells = [f"{_fmt(meds[s], args.timeout)} ({_fmt(med(cpu[name][s]), args.timeout)})" for s in settings]
        print(f"| {name} | {' | '.join(cells)} | {' | '.join(ratios)} |")
    if args.json:
        doc = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cores": cores, "load_processes": args.load,
               "load_average_before": load_before, "load_average_after": os.getloadavg()
               if hasattr(os, "getloadavg") else None,
               "cpu": _cpu(), "repeat": args.repeat, "timeout_s": args.timeout, "seconds": times, "cpu_seconds": cpu,
               "commands": {n: jobs[n] for n in names}}
        tmp = args.json + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.replace(tmp, args.json)
        print(f"wrote {args.json}")


def _cpu() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _harness import cpu_info, cpu_label

    return cpu_label(cpu_info())


def _fmt(v: float | None, timeout: float) -> str:
    return f">{timeout:.0f}" if v is None else f"{v:.1f}"


if __name__ == "__main__":
    main()
