"""The examples run: tiny ``--quick`` versions by default, the full ones (with their targets) under ``-m slow``."""

from __future__ import annotations

import math
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def example(name: str):
    """The ``main`` function of ``examples/<name>.py`` (run in this process)."""
    return runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"]


def need(filename: str) -> None:
    if not (SHARED / filename).is_file():
        pytest.skip(f"{SHARED / filename} not found")


def test_every_example_has_a_test():
    tested = {"neuron_and_xor", "mnist_mlp", "mnist_cnn", "char_lstm", "char_transformer", "overfitting"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def test_neuron_and_xor_as_a_script():
    result = subprocess.run([sys.executable, str(EXAMPLES / "neuron_and_xor.py"), "--quick"], check=False, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert result.returncode == 0, result.stderr
    assert "One neuron, AND" in result.stdout and "Two layers" in result.stdout and "summary:" in result.stdout


def test_neuron_and_xor(capsys):
    result = example("neuron_and_xor")([])
    assert result["neuron_and"] == 1.0 and result["net_xor"] == 1.0
    assert result["neuron_xor"] <= 0.75  # one line cannot separate XOR


def test_overfitting_quick(capsys):
    rows = example("overfitting")(["--quick"])
    assert len(rows) == 4 and all(0.0 <= r["val_acc"] <= 1.0 for r in rows)
    assert "gap" in capsys.readouterr().out


def test_mnist_mlp_quick(capsys):
    need("mnist.npz")
    assert example("mnist_mlp")(["--quick"])["test_accuracy"] > 0.5


def test_mnist_cnn_quick(capsys):
    need("mnist.npz")
    assert example("mnist_cnn")(["--quick"])["test_accuracy"] > 0.2


def test_char_lstm_quick(capsys):
    need("shakespeare.txt")
    result = example("char_lstm")(["--quick"])
    assert result["val_loss"] < math.log(76)  # better than a uniform guess over the characters
    out = capsys.readouterr().out
    assert "--- generated text ---" in out and "validation loss" in out


def test_char_transformer_quick(capsys):
    need("shakespeare.txt")
    result = example("char_transformer")(["--quick"])
    assert result["val_loss"] < math.log(76)  # better than a uniform guess over the characters
    out = capsys.readouterr().out
    assert "--- generated text ---" in out and "validation loss" in out


# ------------------------------------------------------------------------------- full runs (slow)


@pytest.mark.slow
def test_overfitting_full(capsys):
    rows = {r["name"]: r for r in example("overfitting")([])}
    plain = rows["no regularisation"]
    assert plain["train_acc"] == 1.0
    for name, r in rows.items():
        if name != "no regularisation":
            assert r["train_acc"] - r["val_acc"] < plain["train_acc"] - plain["val_acc"], name
            assert r["val_loss"] < plain["val_loss"], name


@pytest.mark.slow
def test_mnist_mlp_reaches_98_percent(capsys):
    need("mnist.npz")
    assert example("mnist_mlp")([])["test_accuracy"] >= 0.98


@pytest.mark.slow
def test_mnist_cnn_reaches_99_percent(capsys):
    need("mnist.npz")
    assert example("mnist_cnn")([])["test_accuracy"] >= 0.99


@pytest.mark.slow
def test_char_lstm_reaches_1_7_nats(capsys):
    need("shakespeare.txt")
    assert example("char_lstm")([])["val_loss"] <= 1.7


@pytest.mark.slow
def test_char_transformer_reaches_1_8_nats(capsys):
    need("shakespeare.txt")
    assert example("char_transformer")([])["val_loss"] <= 1.8  # 1.658 measured
