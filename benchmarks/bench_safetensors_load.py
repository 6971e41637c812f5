"""Load time and peak memory of a 100 MB model file: Myelin's reader vs the ``safetensors`` package (issue 17).

Each reader runs in a fresh subprocess, once to warm up and once measured: time, the resident memory
the loaded tensors hold, and the peak of NumPy/Python allocations during the load (tracemalloc). Run: ``python benchmarks/bench_safetensors_load.py [MB] [repeats]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import resource, sys, time, tracemalloc
import numpy as np
which, path = sys.argv[1], sys.argv[2]
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 // 1024
if which == "myelin":
    from myelin.io import read_safetensors
    load = lambda: read_safetensors(path)[0]
elif which == "safetensors-numpy":
    from safetensors.numpy import load_file
    load = lambda: load_file(path)
else:  # safe_open, tensor by tensor (the package's memory-mapped API)
    from safetensors import safe_open
    def load():
        with safe_open(path, framework="numpy") as f:
            return {k: f.get_tensor(k) for k in f.keys()}
load()  # warm: imports and the page cache
import gc; gc.collect()
base = rss()
tracemalloc.start()
start = time.perf_counter()
tensors = load()
seconds = time.perf_counter() - start
_, traced_peak = tracemalloc.get_traced_memory()
total = sum(t.nbytes for t in tensors.values())
print(f"{seconds:.4f} {total} {rss() - base} {traced_peak // 1024}")
"""


def main() -> None:
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    import numpy as np

    from myelin.io import write_safetensors

    rng = np.random.default_rng(0)
    # an MLP-like model: a few large matrices and many small vectors
    n = mb * 2**20 // 4
    tensors = {f"layer{i}.weight": rng.standard_normal(n // 8, dtype=np.float32).reshape(-1, 256) for i in range(8)}
    tensors.update({f"layer{i}.bias": rng.standard_normal(256, dtype=np.float32) for i in range(8)})
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.safetensors")
        write_safetensors(path, tensors)
        size = os.path.getsize(path)
        del tensors
        results = {}
        for which in ("myelin", "safetensors-numpy", "safe_open"):
            runs = []
            for _ in range(repeats):
                out = subprocess.run([sys.executable, "-c", CHILD, which, path], capture_output=True, text=True,
                                     check=True).stdout.split()
                seconds, total, held, traced = float(out[0]), int(out[1]), int(out[2]), int(out[3])
                runs.append((seconds, held / 1024, traced / 1024))
            runs.sort()
            results[which] = {"median_s": runs[len(runs) // 2][0], "min_s": runs[0][0],
                              "rss_after_load_mb": round(max(r[1] for r in runs), 1),
                              "peak_allocated_mb": round(max(r[2] for r in runs), 1), "bytes": total}
        print(json.dumps({"file_mb": round(size / 2**20, 1), "repeats": repeats, **results}, indent=2))


if __name__ == "__main__":
    main()
