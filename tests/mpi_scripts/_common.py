"""Shared pieces of the per-rank programs that ``tests/test_distributed.py`` runs under ``mpirun``."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

import myelin
from myelin import distributed as dist
from myelin import nn, optim
from myelin.data import DataLoader, TensorDataset
from myelin.nn import functional as F

__all__ = ["flat_weights", "gather_weights", "make_data", "make_model", "make_optimizer", "report", "train"]

SEED = 7  # the shuffle seed shared by all ranks


def make_data(kind: str) -> TensorDataset:
    """A small fixed classification set: 96 vectors of 20 features, or 48 one-channel 8x8 images."""
    rng = np.random.default_rng(123)
    if kind == "cnn":
        x = rng.standard_normal((48, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 5, 48)
    else:
        x = rng.standard_normal((96, 20)).astype(np.float32)
        y = rng.integers(0, 5, 96)
    return TensorDataset(x, y)


def make_model(kind: str, in_features: int = 20) -> nn.Module:
    if kind == "cnn":
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(4 * 4 * 4, 5))
    if kind == "bn":
        return nn.Sequential(nn.Linear(in_features, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 5))
    return nn.Sequential(nn.Linear(in_features, 32), nn.Tanh(), nn.Linear(32, 5))


def make_optimizer(name: str, model: nn.Module) -> optim.Optimizer:
    if name == "adam":
        return optim.Adam(model.parameters(), lr=1e-2)
    return optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def train(model: nn.Module, opt: Any, loader: DataLoader, epochs: range) -> None:
    """The plain PyTorch-style loop: the same code on one process and on N ranks."""
    for epoch in epochs:
        loader.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()


def flat_weights(model: nn.Module) -> np.ndarray:
    return np.concatenate([p.data.ravel() for p in model.parameters()])


def gather_weights(model: nn.Module) -> np.ndarray | None:
    """Every rank's flat weights stacked on rank 0 (None elsewhere)."""
    comm = dist.get_communicator()
    mine = flat_weights(model)
    if comm.size == 1:
        return mine[None]
    out = np.empty((comm.size, mine.size), dtype=mine.dtype) if comm.rank == 0 else None
    comm.mpi_comm.Gather(mine, out, root=0)
    return out


def report(**fields: Any) -> None:
    """One JSON line for the pytest side (rank 0 only)."""
    if dist.is_main():
        print("RESULT " + json.dumps(fields), flush=True)


myelin.manual_seed(0)
