"""The benchmark suite runs end to end (one tiny case, few rounds). Timings are never asserted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def suite(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import run

    yield run
    for name in ("run", "_harness", "cases_models", "cases_mnist", "cases_system"):
        sys.modules.pop(name, None)


def test_suite_runs_case_1_and_writes_json(suite, torch, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    threads = torch.get_num_threads()
    try:
        _run_case_1(suite, torch, tmp_path, capsys)
    finally:
        torch.set_num_threads(threads)  # the suite sets PyTorch's threads to NumPy's BLAS threads


def _run_case_1(suite, torch, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cases = suite.build(torch, quick=True, keys={"1"})
    assert [c.key for c in cases] == ["1"]
    out = tmp_path / "results.json"
    results = suite.run(quick=True, rounds=2, json_path=str(out), cases=cases)

    (res,) = results
    assert set(res.values) == {"myelin", "torch"}
    assert all(v > 0 for v in res.values.values())
    assert all(len(s) == 2 for s in res.samples.values())
    (ratio,) = res.ratios
    assert ratio["label"] == "myelin/torch" and ratio["target"] == 0.5 and ratio["ratio"] > 0

    doc = json.loads(out.read_text())
    assert doc["settings"]["rounds"] == 2
    machine = doc["machine"]
    assert machine["cores"] >= 1 and machine["numpy"] and machine["torch"] == torch.__version__
    assert {"name", "version", "threads"} <= set(machine["blas"])
    assert doc["cases"][0]["values"] == res.values
    printed = capsys.readouterr().out
    assert "tabular MLP 30-64-64-2" in printed and "myelin/torch" in printed


def test_gemm_floor_matches_the_step_products(suite) -> None:
    import cases_models
    import numpy as np

    for layout in ("best", "naive"):
        products = cases_models.gemm_floor((6, 5, 4, 3), batch=2, layout=layout)
        out = products()  # the last product: the first layer's weight gradient (5, 6)
        assert out.shape == (5, 6) and out.dtype == np.float32
