"""Shared fixtures: the PyTorch oracle (skipped cleanly when absent), seeds, data paths."""

from __future__ import annotations

import os

# One BLAS thread for tests: on a 2-core machine shared with other jobs, OpenBLAS's spinning
# threads slow small-matrix training 10-60x; results do not depend on it. Set before NumPy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path

import numpy as np
import pytest

import myelin

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def torch():
    """PyTorch, single-threaded and float32 by default, or a skip when it is not installed."""
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float32)
    return torch


@pytest.fixture(autouse=True)
def _default_sigint():
    """Tests of Ctrl-C handling need Python's default SIGINT handler, even when the test runner
    was started with SIGINT ignored (as a background job is)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(autouse=True)
def _seed():
    myelin.manual_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, what=""):
    """np.testing.assert_allclose on NumPy values of tensors/arrays."""
    a = actual.data if isinstance(actual, myelin.Tensor) else actual
    if hasattr(a, "detach") and hasattr(a, "numpy") and not isinstance(a, np.ndarray):
        a = a.detach().numpy()
    e = expected
    if hasattr(e, "detach") and hasattr(e, "numpy") and not isinstance(e, np.ndarray):
        e = e.detach().numpy()
    np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=atol, err_msg=what)
