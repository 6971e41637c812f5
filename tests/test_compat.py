"""The PyTorch compatibility suite: each script in tests/compat runs with PyTorch and, with only its import
lines pointed at Myelin, with Myelin; what the two runs print as ``RESULT`` lines must agree."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
COMPAT = ROOT / "compat"
DIGITS = ROOT.parent / "src" / "myelin" / "datasets" / "digits.csv.gz"

_IMPORTS = [
    (re.compile(r"^import torch$"), "import myelin as torch"),
    (re.compile(r"^import torch\.([\w.]+) as (\w+)$"), r"import myelin.\1 as \2"),
    (re.compile(r"^from torch(\.[\w.]+)? import (.+)$"), r"from myelin\1 import \2"),
]

# name -> {RESULT key: (absolute tolerance, relative tolerance)}; keys not listed compare to 1e-3.
# Trained models start from different random weights in the two libraries: their scores get a band.
TOLERANCES = {
    "quickstart": {"accuracy": (0.08, 0), "reloaded_accuracy": (0.08, 0)},
    "optimization": {"accuracy": (0.08, 0)},
    "image_classifier": {"accuracy": (0.12, 0)},
    "names_rnn": {"accuracy": (0.25, 0)},
    "numpy_to_module": {k: (1e-2, 1e-2) for k in ("tensor_loss", "autograd_loss", "function_loss", "nn_loss",
                                                  "optim_loss", "module_loss")},
}
SCRIPTS = sorted(p.stem for p in COMPAT.glob("*.py"))
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def to_myelin(source: str) -> tuple[str, int]:
    """The script with its torch imports pointed at Myelin, and how many lines that changed."""
    lines, changed = [], 0
    for line in source.splitlines():
        new = line
        for pattern, replacement in _IMPORTS:
            if pattern.match(line):
                new = pattern.sub(replacement, line)
                break
        changed += new != line
        lines.append(new)
    return "\n".join(lines) + "\n", changed


_RUNNER = """
import runpy, sys
if sys.argv[2] == "myelin":
    sys.modules["torch"] = None  # the Myelin run must not reach PyTorch at all
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def run(path: Path, library: str, tmp: Path) -> dict[str, str]:
    env = {**os.environ, "COMPAT_DIGITS": str(DIGITS), "COMPAT_TMP": str(tmp), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(path), library], capture_output=True, text=True,
                          env=env, cwd=tmp, timeout=300, check=False)
    assert proc.returncode == 0, f"{path.name} failed with {library}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            _, key, value = line.split(" ", 2)
            results[key] = value
    return results


def compare(name: str, ours: dict[str, str], theirs: dict[str, str]) -> list[str]:
    problems = []
    if list(ours) != list(theirs):
        problems.append(f"RESULT keys differ: {list(ours)} vs {list(theirs)}")
    for key, b in theirs.items():
        if key not in ours:
            continue
        a = ours[key]
        if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
            problems.append(f"{key}: {a!r} vs PyTorch {b!r}")
            continue
        atol, rtol = TOLERANCES.get(name, {}).get(key, (1e-3, 1e-3))
        for x, y in zip(map(float, _NUMBER.findall(a)), map(float, _NUMBER.findall(b))):
            if abs(x - y) > atol + rtol * abs(y):
                problems.append(f"{key}: {a!r} vs PyTorch {b!r} (tolerance {atol} + {rtol} * |value|)")
                break
    return problems


def test_only_import_lines_change():
    for name in SCRIPTS:
        source = (COMPAT / f"{name}.py").read_text(encoding="utf-8")
        converted, changed = to_myelin(source)
        imports = sum(1 for line in source.splitlines() if re.match(r"^(import|from) torch\b", line))
        assert changed == imports >= 1, name
        assert not re.search(r"^\s*(import|from) torch\b", converted, re.MULTILINE), name


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_the_same_on_myelin(name, tmp_path, torch):
    path = COMPAT / f"{name}.py"
    converted, _ = to_myelin(path.read_text(encoding="utf-8"))
    mine = tmp_path / f"{name}_myelin.py"
    mine.write_text(converted, encoding="utf-8")
    (tmp_path / "torch").mkdir()
    (tmp_path / "myelin").mkdir()
    theirs = run(path, "torch", tmp_path / "torch")
    ours = run(mine, "myelin", tmp_path / "myelin")
    assert theirs, f"{name} printed no RESULT lines"
    problems = compare(name, ours, theirs)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
