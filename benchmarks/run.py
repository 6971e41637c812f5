"""Myelin's benchmark suite: every case in Myelin and its peers (PyTorch, scikit-learn) in one process.

    python benchmarks/run.py [--quick] [--json benchmarks/results/latest.json] [--cases 1,2,6] [--clock cpu]
    python benchmarks/run.py --compare benchmarks/results/before.json benchmarks/results/after.json
    python benchmarks/run.py --both benchmarks/results/intel_xeon   # one thread and every core, both written

Cases (float32; "step" is forward, cross-entropy, backward, SGD step):

1. tabular MLP 30-64-64-2, batch 32, one training step;
2. MLP 784-512-256-10 (ReLU), batch 128 and 32, one training step, and inference under no_grad;
3. the NumPy GEMM floor of case 2 (only the matrix products one step needs), timed in case 2's rounds;
4. CNN Conv(1,32)-ReLU-Pool-Conv(32,64)-ReLU-Pool-Flatten-Linear(3136,128)-ReLU-Linear(128,10), batch 64;
5. LSTM(64,128) and GRU(64,128), seq 50, batch 32, last hidden -> Linear(128,10), one training step;
6. one MNIST epoch (60,000 images, batch 128, the case-2 MLP, SGD momentum) vs PyTorch and scikit-learn;
7. wall time of ``python -c "import myelin"`` vs ``import numpy`` and ``import torch``;
8. peak RSS of case 6's epoch, each library in its own process.

Each case runs its implementations alternately (rotating the order every round) after a warm-up,
PyTorch with as many threads as NumPy's BLAS (threadpoolctl), and reports median milliseconds and
the ratios Myelin / peer with their targets. Timings are measurements, never pass/fail.
``--settle MS`` pauses before each sample, so that worker threads one library leaves spinning
(OpenMP, OpenBLAS) cannot slow the next one down (off by default: on a VM a pause can also cost
the next library a slow wake-up; ``--both`` pauses 150 ms in its every-core run, where without it
the other library's spinning workers made steps 10-100x slower on a 2-core Intel Xeon).

On a machine shared with other jobs, multi-threaded BLAS timings swing wildly; one thread per
library and the process CPU clock give steady ratios:
``OPENBLAS_NUM_THREADS=1 python benchmarks/run.py --clock cpu``.

What a user running ``myelin train`` on a quiet machine gets is the other case: every core, wall
clock. ``--both PREFIX`` runs the suite twice, each in a fresh process, and writes both files:
``PREFIX_1thread.json`` (OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1, process CPU clock
unless ``--clock wall``) and ``PREFIX_<N>threads_wall.json`` (the libraries' default thread counts,
N = the usable cores, wall clock); then it prints the two side by side. ``--threads N`` runs one
suite with N BLAS threads (threadpoolctl) and N PyTorch threads. Every JSON file records the CPU
model and SIMD flags, NumPy's BLAS (name, version, kernel, threads), PyTorch's version, BLAS and
threads, the thread variables and the load average before and after, and ``--compare`` prints them
per column.

On machines that set OPENBLAS_CORETYPE (slower kernels for old OpenBLAS builds), benchmark with
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py`` so NumPy gets the kernel
PyTorch's own BLAS would pick; the JSON records the kernel in ``machine.blas.architecture``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    Case,
    Result,
    compare_files,
    load_average,
    machine_info,
    machine_summary,
    print_table,
    set_torch_threads,
    time_case,
    write_json,
)

__all__ = ["build", "main", "run", "run_both"]


def build(torch: Any, quick: bool, keys: set[str] | None = None) -> list[Case]:
    """Every case whose number (the key's first token, e.g. ``"2/3"`` -> 2 and 3) is in ``keys`` (all if None)."""

    def wanted(*numbers: str) -> bool:
        return keys is None or any(n in keys for n in numbers)

    cases: list[Case] = []
    if wanted("1", "2", "3", "4", "5"):
        import cases_models

        for c in cases_models.build_cases(torch, quick):
            if wanted(*c.key.split()[0].rstrip("i").split("/")):
                cases.append(c)
    if wanted("6"):
        import cases_mnist

        cases.append(cases_mnist.build_case(quick))
    if wanted("7", "8"):
        import cases_system

        cases += [c for c in cases_system.build_cases(quick) if wanted(c.key)]
    return cases


def run(quick: bool = False, keys: set[str] | None = None, rounds: int | None = None, json_path: str | None = None,
        cases: list[Case] | None = None, verbose: bool = True, clock: str = "wall", settle_s: float = 0.0,
        blas_threads: int | None = None) -> list[Result]:
    """Build (unless given), time and print the cases; write the JSON file when ``json_path`` is given."""
    import torch

    if blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=blas_threads, user_api="blas")
    threads = set_torch_threads(torch)
    machine = machine_info()
    rounds = rounds or (5 if quick else 21)
    min_sample_s = 0.003 if quick else 0.01
    if verbose:
        facts = machine_summary(machine)
        print(f"{facts['CPU']}; Python {machine['python']}; {facts['NumPy BLAS']}; {facts['PyTorch']}; "
              f"scikit-learn {machine.get('sklearn')}; threads: {facts['threads']}; load average "
              f"{machine.get('load_average')}")
        if "OPENBLAS_CORETYPE" in os.environ:
            print(f"note: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} forces an older OpenBLAS kernel on "
                  f"NumPy; unset it (and OPENBLAS_L2_SIZE) for this command to benchmark NumPy at its best")
        print(f"median of {rounds} alternating rounds, {clock} clock{' (quick)' if quick else ''}; ratios are "
              f"Myelin / peer, "
              f"lower is better\n", flush=True)
    t0 = time.perf_counter()
    if cases is None:
        cases = build(torch, quick, keys)
    results = []
    for case in cases:
        res = time_case(case, rounds, min_sample_s=min_sample_s, clock=clock, settle_s=settle_s)
        results.append(res)
        if verbose:
            print_table([res])
    if verbose:
        print(f"\n{len(results)} cases in {time.perf_counter() - t0:.0f} s")
    if json_path:
        settings = {"quick": quick, "rounds": rounds, "min_sample_s": min_sample_s, "torch_threads": threads,
                    "clock": clock, "settle_s": settle_s, "load_average": machine.get("load_average"),
                    "load_average_after": load_average(),
                    "command": " ".join([Path(sys.executable).name] + sys.argv), "tree": _tree()}
        write_json(json_path, results, machine, settings)
        if verbose:
            print(f"wrote {json_path}")
    return results


def _tree() -> dict[str, Any]:
    """The commit measured and whether the working tree differed from it (files changed under src/)."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True,
                                 text=True, check=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "src_files_changed": None}
    return {"commit": commit, "src_files_changed": len(changed)}


#: the variables that set thread counts (cleared for the every-core run, set to 1 for the other)
_COUNT_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


#: untimed pause (ms) before each sample of the every-core run unless --settle says otherwise: OpenBLAS's idle
#: workers spin for 2^28 cycles (about 0.1 s) after a product and PyTorch's OpenMP workers for a while after
#: theirs; on a 2-core machine they take the cores of whichever library runs next in the same process (a real
#: program runs one library), which made single steps 10-100x slower there (intel_xeon_2threads_wall_nosettle)
SETTLE_ALL_CORES_MS = 150.0


def run_both(prefix: str, forward: list[str], one_clock: str = "cpu", settle_ms: float | None = None,
             ) -> tuple[str, str]:
    """Run the suite twice in fresh processes (one thread per library, then every core on the wall clock,
    pausing ``settle_ms`` before each sample of the latter, default :data:`SETTLE_ALL_CORES_MS`), write
    ``PREFIX_1thread.json`` and ``PREFIX_<N>threads_wall.json``, print them side by side; return both paths."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    one, many = f"{prefix}_1thread.json", f"{prefix}_{cores}threads_wall.json"
    base = {k: v for k, v in os.environ.items() if k not in _COUNT_VARS}
    single = dict(base, **dict.fromkeys(_COUNT_VARS, "1"))
    script = str(Path(__file__).resolve())
    settle_all = SETTLE_ALL_CORES_MS if settle_ms is None else settle_ms
    for env, clock, path, settle in ((single, one_clock, one, settle_ms or 0.0), (base, "wall", many, settle_all)):
        label = "one thread per library" if env is single else f"{cores} threads (the libraries' defaults)"
        print(f"=== {label}, {clock} clock, settle {settle:g} ms -> {path}", flush=True)
        cmd = [sys.executable, script, *forward, "--clock", clock, "--json", path]
        done = subprocess.run(cmd + (["--settle", f"{settle:g}"] if settle else []), env=env, check=False)
        if done.returncode:
            raise SystemExit(done.returncode)
        print(flush=True)
    compare_files(one, many)
    return one, many


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and a 6,000-image MNIST subset (smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write the results (and machine facts) as JSON")
    parser.add_argument("--cases", metavar="LIST", help="comma-separated case numbers to run (default: all)")
    parser.add_argument("--rounds", type=int, help="alternating rounds per case (default 21, quick 5)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default=None,
                        help="wall (default) or process CPU time: steadier on a shared machine, fair with one "
                             "thread per library (OPENBLAS_NUM_THREADS=1); cases 7 and 8 always use wall time / RSS (default wall; "
                             "with --both, the one-thread run's clock, default cpu)")
    parser.add_argument("--settle", type=float, default=None, metavar="MS",
                        help="untimed pause before each sample, in milliseconds (default 0; with --both, "
                             f"{SETTLE_ALL_CORES_MS:g} for the every-core run)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="NumPy's BLAS threads (threadpoolctl) and PyTorch's threads for this run (default: "
                             "the BLAS library's own choice, OPENBLAS_NUM_THREADS if set)")
    parser.add_argument("--both", metavar="PREFIX",
                        help="run the suite twice in fresh processes, one thread per library (--clock, default "
                             "cpu) and every core (wall clock); write PREFIX_1thread.json and "
                             "PREFIX_<N>threads_wall.json and print them side by side")
    parser.add_argument("--compare", nargs="+", metavar="JSON",
                        help="print the ratios of two or more JSON result files (oldest first) side by side and exit")
    args = parser.parse_args(argv)
    if args.compare:
        if len(args.compare) < 2:
            parser.error("--compare needs at least two result files")
        compare_files(*args.compare)
        return
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads: expected a positive number, received {args.threads}")
    if args.both:
        if args.json or args.threads is not None:
            parser.error("--both writes its own two files and sets the threads itself: drop --json / --threads")
        forward = [flag for flag, on in (("--quick", args.quick),) if on]
        forward += [x for flag, value in (("--cases", args.cases), ("--rounds", args.rounds)) if value is not None
                    for x in (flag, str(value))]
        run_both(args.both, forward, args.clock or "cpu", args.settle)
        return
    keys = {k.strip() for k in args.cases.split(",")} if args.cases else None
    run(quick=args.quick, keys=keys, rounds=args.rounds, json_path=args.json, clock=args.clock or "wall",
        settle_s=(args.settle or 0.0) / 1e3, blas_threads=args.threads)


if __name__ == "__main__":
    main()
