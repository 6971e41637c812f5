"""Ranks that build different models get a clear error on every rank, never a hang.

``mpirun -n 2 python mismatch.py caught``: each rank prints the error it caught and exits 0.
``mpirun -n 2 python mismatch.py uncaught``: the error is not caught; the abort hook ends the job.
"""

from __future__ import annotations

import sys

from _common import make_model

from myelin import distributed as dist

if __name__ == "__main__":
    comm = dist.init(required=True)
    model = make_model("mlp", in_features=20 if comm.rank == 0 else 30)  # layers.0.weight (32, 20) vs (32, 30)
    if sys.argv[1] == "uncaught":
        dist.broadcast_parameters(model)
        print(f"rank {comm.rank}: broadcast passed", flush=True)  # never reached
    else:
        # one file per rank (argv[2] is a folder): two ranks printing to one pipe can interleave lines
        lines = []
        for what, call in (("check_consistency", dist.check_consistency), ("broadcast", dist.broadcast_parameters)):
            try:
                call(model)
            except dist.DistributedError as exc:
                lines.append(f"rank {comm.rank} {what}: {exc}")
            else:
                lines.append(f"rank {comm.rank} {what}: no error")
        with open(f"{sys.argv[2]}/rank{comm.rank}.txt", "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
