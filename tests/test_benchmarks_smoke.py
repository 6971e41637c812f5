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


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_numpy_floor_step_does_the_same_work_as_myelin(monkeypatch: pytest.MonkeyPatch, momentum: float) -> None:
    """The hand-written NumPy step used as the floor of cases 3 and 6 trains exactly like Myelin."""
    import numpy as np

    import myelin
    import myelin.nn.functional as F
    from myelin import nn
    from myelin.optim import SGD

    monkeypatch.syspath_prepend(str(BENCH))
    from numpy_mlp import numpy_mlp_step

    sizes = (20, 16, 12, 5)
    step = numpy_mlp_step(sizes, lr=0.1, momentum=momentum, seed=3)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 5))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for k, lin in enumerate(linears):
        lin.weight.data[...] = step.params[2 * k]
        lin.bias.data[...] = step.params[2 * k + 1]
    opt = SGD(model.parameters(), lr=0.1, momentum=momentum)
    rng = np.random.default_rng(0)
    for batch in (8, 3, 8):  # several steps, so momentum matters; F-ordered input on the last one
        x = rng.standard_normal((batch, 20)).astype(np.float32)
        if batch == 8 and momentum:
            x = np.asfortranarray(x)
        y = rng.integers(0, 5, batch)
        opt.zero_grad()
        loss = F.cross_entropy(model(myelin.as_tensor(x)), myelin.as_tensor(y))
        loss.backward()
        opt.step()
        np_loss = step(x, y)
        assert np_loss == pytest.approx(float(loss.item()), rel=1e-5)
    for k, lin in enumerate(linears):
        np.testing.assert_allclose(lin.weight.data, step.params[2 * k], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(lin.bias.data, step.params[2 * k + 1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_kernel_ab_harness_runs(monkeypatch, capsys: pytest.CaptureFixture, kind: str) -> None:
    """benchmarks/ab_kernels.py loads two kernel files, checks they agree and prints the ratio."""
    monkeypatch.syspath_prepend(str(BENCH))
    import ab_kernels

    from myelin.nn.functional._fast import rnn_kernels as _rnn_kernels

    path = _rnn_kernels.__file__
    monkeypatch.setattr(sys, "argv", ["ab_kernels.py", path, path, "--kind", kind, "--rounds", "2"])
    ab_kernels.main()
    assert f"{kind} 50,32,64,128: A " in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["ab_kernels.py", path, path, "--kind", kind, "--rounds", "2", "--size", "3,2,4,5"])
    ab_kernels.main()
    assert f"{kind} 3,2,4,5: A " in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["ab_kernels.py", path, path, "--size", "3,2,4"])
    with pytest.raises(SystemExit) as exit_info:
        ab_kernels.main()
    assert exit_info.value.code == 2
    sys.modules.pop("ab_kernels", None)


def test_compare_puts_every_file_in_its_own_column(suite, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    def result(ratio: float | None) -> dict:
        ratios = [] if ratio is None else [{"label": "myelin/torch", "ratio": ratio, "target": 1.0,
                                            "met": ratio <= 1.0}]
        return {"cases": [{"key": "5", "title": "LSTM", "ratios": ratios}]}

    paths = []
    for name, ratio in (("old", None), ("mid", 1.08), ("new", 0.97)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(result(ratio)))
        paths.append(str(path))
    suite.main(["--compare", *paths])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| machine | old | mid | new |"
    start = lines.index("| case | ratio | old | mid | new | target | met |")
    assert lines[start + 2] == "| 5 LSTM | myelin/torch | - | 1.08 | 0.97 | <= 1 | yes |"
    with pytest.raises(SystemExit) as exit_info:
        suite.main(["--compare", paths[0]])
    assert exit_info.value.code == 2


def test_json_records_cpu_model_both_blas_libraries_and_threads(suite, torch) -> None:
    import _harness

    machine = _harness.machine_info()
    cpu = machine["cpu_info"]
    assert cpu["model"] and machine["cpu"] == cpu["model"] and isinstance(cpu["simd"], list)
    assert {"name", "version", "threads", "architecture", "build"} <= set(machine["blas"])
    tinfo = machine["torch_info"]
    assert tinfo["version"] == torch.__version__ and tinfo["threads"] == torch.get_num_threads()
    assert tinfo["blas"] in ("mkl", "open", "openblas", "blis", "accelerate", None) or isinstance(tinfo["blas"], str)
    assert any(pool["user_api"] == "blas" for pool in machine["thread_pools"])
    summary = _harness.machine_summary(machine, {"clock": "cpu", "load_average": [0.1, 0.2, 0.3]})
    assert summary["CPU"].startswith(cpu["model"]) and summary["clock"] == "cpu"
    assert summary["load (1, 5, 15 min)"] == "0.1, 0.2, 0.3"
    assert f"torch {torch.__version__}" in summary["PyTorch"]


def test_cpu_label_names_model_and_vector_width(suite) -> None:
    import _harness

    cpu = {"model": "Intel(R) Xeon(R) Processor", "family": "6", "model_number": "207",
           "simd": ["avx", "avx2", "fma", "avx512f", "amx_tile"]}
    assert _harness.cpu_label(cpu) == "Intel(R) Xeon(R) Processor (family 6 model 207, avx512f amx)"
    assert _harness.cpu_label("AMD EPYC") == "AMD EPYC"  # the older files recorded a string


def test_compare_prints_each_files_machine(suite, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    docs = {
        "epyc": {"cpu": "AMD EPYC", "cores": 2, "numpy": "2.4.6", "torch": "2.13.0+cpu", "torch_threads": 1,
                 "blas": {"name": "openblas", "version": "0.3.31", "threads": 1, "architecture": "SkylakeX"}},
        "xeon": {"cpu": "Xeon", "cpu_info": {"model": "Xeon", "simd": ["avx512f"]}, "cores": 2, "numpy": "2.4.6",
                 "torch": "2.13.0+cpu", "torch_threads": 2, "torch_info": {"blas": "mkl", "mkl": "2024.2"},
                 "blas": {"name": "openblas", "version": "0.3.31", "threads": 2, "architecture": "SkylakeX"}},
    }
    paths = []
    for name, machine in docs.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"machine": machine, "settings": {"clock": "wall"}, "cases": []}))
        paths.append(str(path))
    suite.main(["--compare", *paths])
    out = capsys.readouterr().out
    assert "| CPU | AMD EPYC, 2 cores | Xeon (avx512f), 2 cores |" in out
    assert "| PyTorch | torch 2.13.0+cpu (its BLAS not recorded) | torch 2.13.0+cpu, MKL 2024.2 |" in out
    assert "| threads | NumPy BLAS 1, torch 1 | NumPy BLAS 2, torch 2 |" in out


@pytest.mark.parametrize("name", ["mlp", "lstm", "gru", "cnn"])
def test_floors_do_the_same_products_in_numpy_and_torch(suite, torch, name: str) -> None:
    import cases_models
    import numpy as np

    make = {
        "mlp": lambda b: cases_models.gemm_floor((6, 5, 4, 3), batch=2, backend=b),
        "lstm": lambda b: cases_models.lstm_gemm_floor(seq=3, batch=2, inputs=4, hidden=5, classes=3, backend=b),
        "gru": lambda b: cases_models.gru_gemm_floor(seq=3, batch=2, inputs=4, hidden=5, classes=3, backend=b),
        "cnn": lambda b: cases_models.cnn_gemm_floor(batch=1, backend=b),
    }[name]
    a, b = make("numpy")(), make("torch")()
    assert isinstance(a, np.ndarray) and isinstance(b, torch.Tensor)
    np.testing.assert_allclose(a, b.numpy(), rtol=1e-4, atol=1e-4)


def test_both_runs_one_thread_and_every_core(suite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture) -> None:
    import os
    import subprocess

    calls = []

    def fake_run(cmd, env, check):
        calls.append((cmd, env))
        path = cmd[cmd.index("--json") + 1]
        Path(path).write_text(json.dumps({"machine": {}, "settings": {"clock": cmd[cmd.index("--clock") + 1]},
                                          "cases": []}))
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(suite.subprocess, "run", fake_run)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    prefix = str(tmp_path / "xeon")
    suite.main(["--both", prefix, "--quick", "--cases", "1,5", "--settle", "2"])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    (one_cmd, one_env), (all_cmd, all_env) = calls
    assert one_cmd[2:] == ["--quick", "--cases", "1,5", "--clock", "cpu", "--json", prefix + "_1thread.json",
                           "--settle", "2"]
    assert all_cmd[-6:] == ["--clock", "wall", "--json", f"{prefix}_{cores}threads_wall.json", "--settle", "2"]
    assert {one_env[v] for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")} == {"1"}
    assert "OPENBLAS_NUM_THREADS" not in all_env
    assert "| clock | cpu | wall |" in capsys.readouterr().out
    calls.clear()
    suite.main(["--both", prefix, "--cases", "1"])  # the every-core run pauses by default, the other does not
    (one_cmd, _), (all_cmd, _) = calls
    assert "--settle" not in one_cmd and all_cmd[-2:] == ["--settle", f"{suite.SETTLE_ALL_CORES_MS:g}"]
    for bad in (["--both", prefix, "--json", "x.json"], ["--threads", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            suite.main(bad)
        assert exit_info.value.code == 2


def test_bench_threads_workloads_and_misuse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_threads

    jobs = bench_threads.workloads(tmp_path)
    assert {"train-digits", "mnist_mlp", "char_lstm"} <= set(jobs)
    assert all(str(tmp_path) in " ".join(cmd) for name, cmd in jobs.items() if name.startswith("train-"))
    with pytest.raises(SystemExit) as exit_info:
        bench_threads.main(["--only", "no-such-job"])
    assert exit_info.value.code == 2
    sys.modules.pop("bench_threads", None)
