"""Hostile inputs through the ``myelin`` command: exit status, seconds and peak memory of each (issue 17).

Each case runs in a fresh process under ``/usr/bin/time`` (Linux). Run: ``python benchmarks/bench_hostile_inputs.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import myelin
from myelin import nn
from myelin.io import load_checkpoint, save_checkpoint


def _run(args: list[str], rss_file: Path) -> tuple[int, float, float, str]:
    start = time.time()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), sys.executable, "-m", "myelin", *args],
                          capture_output=True, text=True, timeout=300, check=False)
    seconds = time.time() - start
    peak = int(rss_file.read_text().split()[-1]) / 1024
    last = (proc.stderr.strip().splitlines() or [""])[-1]
    return proc.returncode, seconds, peak, last[:150]


def _cases(d: Path) -> list[tuple[str, list[str]]]:
    run = d / "run"
    subprocess.run([sys.executable, "-m", "myelin", "train", "--epochs", "1", "--out", str(run), "--quiet"], check=True)
    cases: list[tuple[str, list[str]]] = []
    (d / "table.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    cases.append(("evaluate table.csv", ["evaluate", str(d / "table.csv")]))
    pool = nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveAvgPool2d(15000), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    myelin.save(pool, d / "pool.safetensors", metadata={"cli.run": json.dumps({"input_shape": [1, 8, 8]})})
    np.savez(d / "x.npz", x=np.zeros((2, 1, 8, 8), np.float32))
    for command in ("summary", "predict", "evaluate"):
        extra = [str(d / "x.npz")] if command == "predict" else (["--data", "digits"] if command == "evaluate" else [])
        cases.append((f"{command} AdaptiveAvgPool2d(15000)", [command, str(d / "pool.safetensors"), *extra]))
    labels = d / "run9000"
    shutil.copytree(run, labels)
    np.savez(labels / "predictions.npz", y_true=np.array([0, 9000]), y_pred=np.array([0, 1]))
    cases.append(("report, predictions label 9000", ["report", str(labels)]))
    deep = d / "rundeep"
    shutil.copytree(run, deep)
    (deep / "monitor.json").write_text("[" * 200_000 + "]" * 200_000)
    (deep / "config.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    cases.append(("report, 200,000-deep JSON", ["report", str(deep)]))
    cases.append(("evaluate, 100,000-deep config.json", ["evaluate", str(deep)]))
    entry = b'"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}'
    header = b"{" + b",".join(entry % i for i in range(1_000_000)) + b"}"
    (d / "many.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    cases.append(("summary, 1,000,000 empty tensors", ["summary", str(d / "many.safetensors")]))
    raw = json.dumps({"w": {"dtype": "F32", "shape": [3 * 2**28], "data_offsets": [0, 3 * 2**30]}}).encode()
    raw += b" " * (-len(raw) % 8)
    with open(d / "sparse.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        f.truncate(8 + len(raw) + 3 * 2**30)
    cases.append(("summary, 3 GiB sparse file", ["summary", str(d / "sparse.safetensors")]))
    os.mkfifo(d / "fifo.safetensors")
    cases.append(("summary, FIFO", ["summary", str(d / "fifo.safetensors")]))
    np.savez_compressed(d / "bomb.npz", x=np.zeros((6000, 1, 8, 800), np.uint8))
    cases.append((f"predict, npz of {(d / 'bomb.npz').stat().st_size // 1024} KB", ["predict", str(run), str(d / "bomb.npz")]))
    (d / "big.csv").write_text("a,b,label\n1,2,0\n3,4,3000000\n5,6,1\n7,8,0\n")
    cases.append(("train, CSV label 3,000,000", ["train", "--data", str(d / "big.csv"), "--out", str(d / "r1"), "--quiet"]))
    (d / "empty").mkdir()
    cases.append(("report, not a run", ["report", str(d / "empty")]))
    cases.append(("train --out <existing run>", ["train", "--epochs", "1", "--out", str(run), "--quiet"]))
    cases.append(("--resume, nothing left to train", ["train", "--resume", str(run / "checkpoint.safetensors"), "--quiet"]))
    bad = d / "runbad"
    shutil.copytree(run, bad)
    ckpt = load_checkpoint(run / "checkpoint.safetensors")
    save_checkpoint(bad / "checkpoint.safetensors", ckpt.model_state, epoch=ckpt.epoch, history=ckpt.history)
    cases.append(("--resume, checkpoint without config", ["train", "--resume", str(bad / "checkpoint.safetensors"),
                                                         "--epochs", "3", "--quiet"]))
    return cases


def main() -> None:
    d = Path(tempfile.mkdtemp(prefix="myelin-hostile-"))
    try:
        for name, args in _cases(d):
            code, seconds, peak, last = _run(args, d / "rss")
            print(f"{name:42s} exit {code}  {seconds:5.1f} s  peak {peak:6.0f} MB  | {last}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
