"""myelin.distributed: single-process fallback and unit tests in this process; the real thing under ``mpirun -n 2``.

The MPI tests launch the per-rank programs in ``tests/mpi_scripts/`` with ``mpirun -n 2 --oversubscribe``
(plus ``--allow-run-as-root`` as root) and skip, saying why, when mpirun or mpi4py is missing.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import distributed as dist
from myelin import nn, optim
from myelin._extras import install_hint
from myelin.data import DataLoader, TensorDataset
from myelin.distributed import comm as comm_module
from myelin.nn import functional as F

SCRIPTS = Path(__file__).resolve().parent / "mpi_scripts"
MPIRUN = shutil.which("mpirun")
HAVE_MPI4PY = importlib.util.find_spec("mpi4py") is not None
needs_mpi = pytest.mark.skipif(
    MPIRUN is None or not HAVE_MPI4PY,
    reason=f"needs mpirun (apt-get install openmpi-bin libopenmpi-dev) and mpi4py ({install_hint('mpi')})"
    if MPIRUN is None else f"needs mpi4py ({install_hint('mpi')})",
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMI", "PMIX"))}
    src = str(Path(myelin.__file__).resolve().parents[1])
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")])),
               OMPI_MCA_btl_vader_single_copy_mechanism="none")  # containers without ptrace rights
    return env


def _run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a command in its own process group; on timeout kill the group and fail (a hang is a bug)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(args)} hung for {timeout}s\nstdout:\n{out}\nstderr:\n{err}")
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def mpirun(script: str, *args: str, n: int = 2, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    root = ["--allow-run-as-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return _run([MPIRUN, "-n", str(n), "--oversubscribe", *root, sys.executable, str(SCRIPTS / script), *args],
                timeout)


def results(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    assert proc.returncode == 0, f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return [json.loads(line[7:]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]


class FakeComm(comm_module.LocalCommunicator):
    """Rank ``rank`` of ``size`` in this process: the other ranks' reduce contribution is ``peer``."""

    def __init__(self, rank: int = 0, size: int = 2, peer: np.ndarray | None = None, others: list[bytes] = ()):
        self.rank, self.size, self.peer, self.others, self.calls = rank, size, peer, list(others), 0

    def allreduce_(self, buffer: np.ndarray, op: str = "sum") -> np.ndarray:
        self.calls += 1
        if self.peer is not None:
            buffer += self.peer
        return buffer

    def allgather_bytes(self, data: bytes) -> list[bytes]:
        return [*self.others, bytes(data)]


@pytest.fixture
def fake_comm(monkeypatch):
    def install(comm: FakeComm) -> FakeComm:
        monkeypatch.setattr(comm_module, "_COMM", comm)
        return comm

    return install


# ----------------------------------------------------------------------------------------- one process


def test_single_process_fallback_needs_no_mpi():
    comm = dist.init()
    assert (dist.rank(), dist.world_size(), dist.is_main(), comm.size) == (0, 1, True, 1)
    dist.barrier()
    assert dist.broadcast_object({"a": (1, 2)}) == {"a": [1, 2]}
    assert dist.allreduce_sum([1.5, 2]) == [1.5, 2.0]
    assert dist.any_rank(True) and not dist.any_rank(False) and dist.all_ranks(True)
    assert dist.main_only(lambda: 5)() == 5
    model = nn.Linear(3, 2)
    dist.broadcast_parameters(model)
    dist.check_consistency(model, values=True)
    loader = DataLoader(TensorDataset(np.zeros((8, 3), np.float32)), batch_size=4)
    assert dist.shard_loader(loader) is loader
    assert "mpi4py.MPI" not in sys.modules  # nothing imported MPI outside mpirun


def test_distributed_optimizer_is_the_optimizer_plus_averaging():
    x = myelin.tensor(np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32))
    y = myelin.tensor(np.arange(16) % 3)
    models = [nn.Linear(4, 3) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    plain = optim.SGD(models[0].parameters(), lr=0.1, momentum=0.9)
    wrapped = dist.DistributedOptimizer(optim.SGD(models[1].parameters(), lr=0.1, momentum=0.9), models[1])
    assert isinstance(wrapped, optim.SGD) and isinstance(wrapped, dist.DistributedOptimizer)
    assert type(wrapped).__name__ == "DistributedSGD" and dist.DistributedOptimizer(wrapped) is wrapped
    scheds = [optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5) for o in (plain, wrapped)]  # accepts it
    for _ in range(4):
        for model, opt in zip(models, (plain, wrapped)):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        for sched in scheds:
            sched.step()
    np.testing.assert_array_equal(models[0].weight.data, models[1].weight.data)
    assert wrapped.param_groups[0]["lr"] == 0.025
    assert set(wrapped.state_dict()["state"]) == {0, 1}


def test_reducer_one_allreduce_and_none_grads_as_zeros(fake_comm):
    """A fake peer: local grads (a, b=None, c=None) and peer grads (a', b', None) -> ((a+a')/2, b'/2, None)."""
    params = [nn.Parameter(np.zeros(s, np.float32)) for s in ((2, 3), (4,), (5,))]
    peer_params = [nn.Parameter(np.zeros(s, np.float32)) for s in ((2, 3), (4,), (5,))]
    params[0].grad = np.arange(6, dtype=np.float32).reshape(2, 3)
    peer_params[0].grad = np.full((2, 3), 10, np.float32)
    peer_params[1].grad = np.ones(4, np.float32)
    peer = dist.GradientReducer(peer_params)
    peer._pack()
    comm = fake_comm(FakeComm(peer=peer.buffer.copy()))
    reducer = dist.GradientReducer(params)
    reducer.reduce()
    assert comm.calls == reducer.calls == 1 and reducer.buffer.dtype == np.float32
    np.testing.assert_allclose(params[0].grad, (np.arange(6).reshape(2, 3) + 10) / 2)
    np.testing.assert_allclose(params[1].grad, np.full(4, 0.5))
    assert params[2].grad is None
    with pytest.raises(ValueError, match=r"assigned a gradient of shape \(3, 2\) to a tensor of shape \(2, 3\)"):
        params[0].grad = np.zeros((3, 2), np.float32)  # the setter refuses it before any reduce


def test_check_consistency_names_the_mismatch(fake_comm):
    rank0 = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))
    signature = json.dumps(dist.state._signature(rank0, False)).encode()
    fake_comm(FakeComm(rank=1, others=[signature]))
    dist.check_consistency(nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2)))
    with pytest.raises(dist.DistributedError, match=r"rank 1 has 0.weight of shape \(64, 30\), rank 0 has \(64, 20\)"):
        dist.check_consistency(nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 2)))
    with pytest.raises(dist.DistributedError, match=r"rank 1 has no parameter 2.bias"):
        dist.check_consistency(nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2, bias=False)))


@pytest.mark.parametrize("rank", [0, 1])
def test_shard_loader_splits_each_global_batch(fake_comm, rank):
    fake_comm(FakeComm(rank=rank))
    data = TensorDataset(np.arange(40, dtype=np.float32))
    whole = DataLoader(data, batch_size=8, shuffle=True, seed=3)
    whole.set_epoch(2)
    shard = dist.shard_loader(whole)
    assert (shard.batch_size, shard.num_replicas, shard.rank, shard.epoch) == (4, 2, rank, 2)
    for (g,), (s,) in zip(whole, shard):
        assert set(s.data.tolist()) <= set(g.data.tolist()) and len(s.data) == 4
    assert dist.main_only(lambda: 1)() == (None if rank else 1)
    with pytest.raises(ValueError, match="global batch_size 7 is not divisible by the 2 ranks"):
        dist.shard_loader(DataLoader(data, batch_size=7))


_HIDE_MPI4PY = """
import os, sys
sys.modules["mpi4py"] = None
import myelin.distributed as dist
assert dist.init().size == 1  # no mpirun, no mpi4py: one process
for required, env in ((True, None), (False, "2")):
    if env:
        os.environ["OMPI_COMM_WORLD_SIZE"] = env  # as if started by mpirun -n 2
        dist.comm._COMM = None
    try:
        dist.init(required=required)
    except dist.DistributedError as exc:
        print(exc)
"""

_BROKEN_RUNTIME = """
import sys, types
class Finder:
    def find_spec(self, name, path=None, target=None):
        if name == "mpi4py.MPI":
            raise ImportError("libmpi.so.40: cannot open shared object file: No such file or directory")
sys.meta_path.insert(0, Finder())
import myelin.distributed as dist
try:
    dist.init(required=True)
except dist.DistributedError as exc:
    print(exc)
"""


@pytest.mark.parametrize("script, expected", [
    (_HIDE_MPI4PY, "mpi4py is not installed"),
    (_BROKEN_RUNTIME, "cannot load an MPI runtime (ImportError: libmpi.so.40"),
])
def test_missing_mpi_gives_install_instructions(script, expected):
    proc = _run([sys.executable, "-c", textwrap.dedent(script)], timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines and all(expected in line for line in lines), proc.stdout
    assert all(install_hint("mpi") in line and "openmpi-bin" in line for line in lines)
    if script is _HIDE_MPI4PY:
        assert len(lines) == 2 and "1 of 2 MPI ranks" in lines[1]


# ----------------------------------------------------------------------------------------- mpirun -n 2


@pytest.fixture(scope="module")
def equivalence_results():
    return {r["case"]: r for r in results(mpirun("equivalence.py", timeout=120))}



@pytest.mark.parametrize("case", ["mlp-sgd", "mlp-adam", "cnn-sgd", "cnn-adam"])
@pytest.mark.mpi
@needs_mpi
def test_two_ranks_match_one_process_on_the_whole_batch(equivalence_results, case):
    r = equivalence_results[case]
    assert r["ranks"] == 2 and r["per_rank_batch"] == 8 and r["moved"] > 1e-2, r
    assert r["allclose"], f"{case}: max |w_2ranks - w_1process| = {r['max_abs_diff']:.3g} (rtol 1e-5, atol 1e-6)"
    assert r["ranks_identical"], f"{case}: the ranks ended with different weights"


@pytest.mark.mpi
@needs_mpi
def test_batchnorm_statistics_stay_local_and_none_grads(equivalence_results):
    assert equivalence_results["batchnorm"] == {"case": "batchnorm", "ranks_identical": True,
                                                "running_mean_differs": True}
    assert equivalence_results["none_grad"] == {"case": "none_grad", "calls": 1, "rank0_only_averaged": True,
                                                "unused_stays_none": True}


@pytest.mark.mpi
@needs_mpi
def test_mismatched_models_raise_on_every_rank_without_hanging(tmp_path):
    proc = mpirun("mismatch.py", "caught", str(tmp_path), timeout=60)
    assert proc.returncode == 0, proc.stderr
    expected = "rank 1 has 0.weight of shape (32, 30), rank 0 has (32, 20)"
    for r in (0, 1):
        lines = (tmp_path / f"rank{r}.txt").read_text(encoding="utf-8").splitlines()
        for what in ("check_consistency", "broadcast"):
            assert any(line.startswith(f"rank {r} {what}:") and expected in line for line in lines), lines
    uncaught = mpirun("mismatch.py", "uncaught", timeout=60)  # the abort hook ends the job: no hang
    assert uncaught.returncode != 0 and expected in uncaught.stderr and "broadcast passed" not in uncaught.stdout


@pytest.mark.mpi
@needs_mpi
def test_resume_with_any_number_of_ranks(tmp_path):
    (saved,) = results(mpirun("resume.py", "save", str(tmp_path)))
    assert saved["files"] == ["ckpt_rank0.safetensors"] and saved["written_by_this_rank"]
    one = results(_run([sys.executable, str(SCRIPTS / "resume.py"), "resume", str(tmp_path)]))
    two = results(mpirun("resume.py", "resume", str(tmp_path)))
    for r, ranks in ((one[0], 1), (two[0], 2)):
        assert (r["ranks"], r["epoch"], r["step"]) == (ranks, 2, 12), r
        assert r["allclose"] and r["ranks_identical"], r


def _fit_is_distributed() -> bool:
    from myelin.train import fit

    return "distributed" in inspect.signature(fit).parameters


needs_fit = pytest.mark.skipif(not _fit_is_distributed(), reason="fit(..., distributed=True) is not integrated yet")


@needs_fit
def test_fit_distributed_without_mpi4py_says_how_to_install():
    script = """
    import sys
    sys.modules["mpi4py"] = None
    import numpy as np, myelin
    try:
        myelin.fit(myelin.nn.Linear(3, 2), (np.zeros((4, 3), np.float32), np.zeros(4, np.int64)),
                   loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0, distributed=True)
    except myelin.distributed.DistributedError as exc:
        print(exc)
    """
    proc = _run([sys.executable, "-c", textwrap.dedent(script)], timeout=60)
    assert "mpi4py is not installed" in proc.stdout and install_hint("mpi") in proc.stdout, proc


@pytest.mark.mpi
@needs_mpi
@needs_fit
def test_fit_distributed_matches_one_process_and_resumes_on_any_ranks(tmp_path):
    (trained,) = results(mpirun("fit_distributed.py", "train", str(tmp_path)))
    assert trained["files"] == {"rank0": ["ckpt.safetensors", "log.csv"], "rank1": []}, trained
    resumed = [results(_run([sys.executable, str(SCRIPTS / "fit_distributed.py"), "resume", str(tmp_path)]))[0],
               results(mpirun("fit_distributed.py", "resume", str(tmp_path)))[0]]
    for r, (ranks, epochs) in zip([trained, *resumed], ((2, 3), (1, 5), (2, 5))):
        assert (r["ranks"], r["epochs"]) == (ranks, epochs), r
        assert r["allclose"] and r["ranks_identical"] and r["loss_matches"], r


@pytest.mark.mpi
@needs_mpi
def test_mpirun_myelin_train_writes_one_run_directory(tmp_path):
    root = ["--allow-run-as-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    out = tmp_path / "run"
    proc = _run([MPIRUN, "-n", "2", "--oversubscribe", *root, sys.executable, "-m", "myelin", "train",
                 "--epochs", "2", "--out", str(out), "--no-report"], timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("test accuracy") == 1  # only rank 0 prints
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["test_accuracy"] > 0.5
    assert (out / "model.safetensors").exists() and (out / "monitor.json").exists()
