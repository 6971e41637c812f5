"""fit's BLAS thread choice (myelin.train.threads): the user's setting wins, small models and busy
machines get fewer threads, the limit holds during fit only, and thread counts never change results."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import myelin
from myelin import functions, nn
from myelin.train import threads as T
from myelin.train.fit import fit
from myelin.train.history import Callback


def blas_threads() -> int:
    return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


class SeeThreads(Callback):
    """Records NumPy's BLAS threads at the end of every training batch."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.seen.append(blas_threads())


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user setting, no other load, and at least two BLAS threads by default."""
    for var in T.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(functions, "_threads", [0])
    monkeypatch.setattr(T, "busy_cores", lambda: 0.0)
    monkeypatch.setattr(T, "_usable_cores", lambda: 4)
    before = blas_threads()
    T._blas().limit(limits=4)  # pretend a 4-core BLAS default
    yield
    T._blas().limit(limits=before)


def data(n: int = 96, features: int = 8, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(np.float32), rng.integers(0, classes, n)


def train(model, x, y, **kw):
    seen = SeeThreads()
    history = fit(model, (x, y), loss="cross_entropy", optimizer="sgd", epochs=1, batch_size=kw.pop("batch_size", 32),
                  verbose=0, callbacks=[seen], shuffle=False, **kw)
    return history, seen.seen


# ------------------------------------------------------------------------------ product sizes
def test_typical_product_is_the_multiply_add_weighted_median() -> None:
    assert T.typical_product([]) == 0
    assert T.typical_product([(10, 1)]) == 10
    # 100 one-unit products and one of 60: the small ones hold most of the work
    assert T.typical_product([(1, 100), (60, 1)]) == 1
    assert T.typical_product([(1, 10), (60, 1)]) == 60


def test_products_of_linear_conv_and_lstm_layers() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 5))
    products, remove = T.product_sizes(model)
    model(myelin.tensor(np.zeros((4, 3, 6, 6), np.float32)))
    remove()
    # conv: rows N*H*W = 144, K = 3*3*3 = 27, O = 8; linear: 4 x 288 x 5; 3 products each (forward, two grads)
    assert sorted(products) == [(4 * 288 * 5, 3), (144 * 27 * 8, 3)]
    model(myelin.tensor(np.zeros((4, 3, 6, 6), np.float32)))
    assert len(products) == 2  # hooks removed

    lstm = nn.LSTM(16, 32, batch_first=True)
    products, remove = T.product_sizes(lstm)
    lstm(myelin.tensor(np.zeros((2, 7, 16), np.float32)))  # N=2, L=7
    remove()
    k = 32 + 1 + 16
    assert products == [(4 * 32 * k * 2, 2 * 7), (4 * 32 * k * 7 * 2, 1)]


def test_depthwise_convolution_counts_no_product() -> None:
    conv = nn.Conv2d(4, 4, 3, groups=4)
    products, remove = T.product_sizes(conv)
    conv(myelin.tensor(np.zeros((1, 4, 5, 5), np.float32)))
    remove()
    assert products == []


# ------------------------------------------------------------------------------ the choice in fit
def test_small_model_trains_on_one_thread_and_the_default_comes_back(quiet) -> None:
    x, y = data()
    history, seen = train(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)), x, y)
    assert seen == [1, 1, 1]
    assert history.blas_threads["threads"] == 1 and "typical product" in history.blas_threads["reason"]
    assert blas_threads() == 4


def test_large_products_keep_several_threads(quiet) -> None:
    # Linear(1024, 1024) at batch 32: 33.5M multiply-adds per product -> 8 threads by size, capped at 4
    x, y = data(64, 1024, 4)
    history, seen = train(nn.Sequential(nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 4)), x, y)
    assert seen == [4, 4] and history.blas_threads["threads"] == 4
    assert history.blas_threads["typical_product"] == 32 * 1024 * 1024


def test_a_busy_machine_gets_fewer_threads(quiet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(T, "busy_cores", lambda: 2.6)  # 4 usable cores, about 1.4 free
    x, y = data(64, 1024, 4)
    history, seen = train(nn.Sequential(nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 4)), x, y)
    assert seen == [1, 1] and "busy machine" in history.blas_threads["reason"]


@pytest.mark.parametrize("var", T.ENV_VARS)
def test_a_thread_variable_set_by_the_user_is_left_alone(quiet, monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    monkeypatch.setenv(var, "3")
    x, y = data()
    history, seen = train(nn.Sequential(nn.Linear(8, 3)), x, y)
    assert seen == [4, 4, 4] and history.blas_threads["reason"] == f"set by the user ({var}=3)"


def test_set_num_threads_is_left_alone(quiet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(functions, "_threads", [4])
    x, y = data()
    history, seen = train(nn.Sequential(nn.Linear(8, 3)), x, y)
    assert seen == [4, 4, 4] and "myelin.set_num_threads(4)" in history.blas_threads["reason"]


def test_explicit_and_none(quiet) -> None:
    x, y = data()
    history, seen = train(nn.Sequential(nn.Linear(8, 3)), x, y, threads=2)
    assert seen == [2, 2, 2] and history.blas_threads["threads"] == 2
    assert blas_threads() == 4
    history, seen = train(nn.Sequential(nn.Linear(8, 3)), x, y, threads=None)
    assert seen == [4, 4, 4]


def test_distributed_ranks_share_the_cores(quiet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")
    blas = T.BlasThreads(nn.Linear(2, 2), "auto", distributed=True)
    with blas:
        assert blas.choice["threads"] == 2 and "2 ranks" in blas.choice["reason"]
    assert blas_threads() == 4


@pytest.mark.parametrize("bad", [0, -1, 1.5, "two", True])
def test_bad_threads_are_refused(bad) -> None:
    x, y = data()
    with pytest.raises(ValueError, match="threads must be 'auto', None or a positive int"):
        fit(nn.Linear(8, 3), (x, y), loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0, threads=bad)


def test_thread_count_does_not_change_the_trained_weights(quiet) -> None:
    """OpenBLAS splits rows and columns over threads, never a sum: the same weights bit for bit."""
    x, y = data(256, 512, 10)
    weights = []
    for n in (1, 4):
        myelin.manual_seed(0)
        model = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        train(model, x, y, threads=n, batch_size=128)
        weights.append([p.data.copy() for p in model.parameters()])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_own_load_is_not_counted_as_other_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(T, "_busy_cache", [])
    monkeypatch.setattr(T, "_runnable_now", lambda: None)
    monkeypatch.setattr(T.os, "getloadavg", lambda: (1.0, 1.0, 1.0))
    monkeypatch.setattr(T.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(T, "_usable_cores", lambda: 2)
    # this process used one core for the last ten minutes: its own share of the load is ~1
    monkeypatch.setattr(T, "_T0", (T.time.monotonic() - 600, T.time.process_time() - 600))
    assert T.busy_cores() == pytest.approx(0.0, abs=0.01)
    monkeypatch.setattr(T, "_T0", (T.time.monotonic() - 600, T.time.process_time()))  # idle: all of it is others'
    assert T.busy_cores() == pytest.approx(0.0, abs=0.01)  # the value above, reused for 2 seconds
    monkeypatch.setattr(T, "_busy_cache", [])
    assert T.busy_cores() == pytest.approx(1.0, abs=0.01)


def test_busy_takes_the_smaller_of_the_load_average_and_what_runs_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(T.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(T, "_usable_cores", lambda: 2)
    monkeypatch.setattr(T, "_T0", (T.time.monotonic() - 600, T.time.process_time()))
    for load, now, busy in ((1.8, 0.0, 0.0), (1.8, 1.0, 1.0), (0.2, 3.0, 0.2), (1.0, None, 1.0)):
        monkeypatch.setattr(T, "_busy_cache", [])
        monkeypatch.setattr(T.os, "getloadavg", lambda load=load: (load, load, load))
        monkeypatch.setattr(T, "_runnable_now", lambda now=now: now)
        assert T.busy_cores() == pytest.approx(busy, abs=0.01)


@pytest.mark.skipif(not T.os.path.exists("/proc/loadavg"), reason="Linux /proc only")
def test_runnable_now_reads_proc() -> None:
    value = T._runnable_now()
    assert value is not None and value >= 0


def test_evaluate_and_predict_choose_too(quiet, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    class Spy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            seen.append(blas_threads())
            return self.fc(x)

    x, y = data(600)
    model = Spy()
    monkeypatch.setattr(T, "busy_cores", lambda: 3.0)  # 4 usable cores, 1 free
    myelin.evaluate(model, (x, y), loss="cross_entropy")
    myelin.predict(model, x, threads=2)
    assert seen == [1, 1, 1, 2, 2, 2] and blas_threads() == 4
    with pytest.raises(ValueError, match="predict: threads must be"):
        myelin.predict(model, x, threads=0)
