"""Loss modules against ``torch.nn``'s: values, input gradients, buffers, argument and shape checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin.nn import loss as L
from myelin.nn.container import Sequential
from myelin.nn.module import Module
from myelin.nn.registry import ConfigError, from_config

RTOL, ATOL = 1e-4, 1e-5
N, C = 6, 4


def _regression(rng, shape=(N, 3)):
    return rng.normal(size=shape).astype(np.float32), rng.normal(size=shape).astype(np.float32)


def _classes(rng, shape=(N, C), ignore=None):
    x = rng.normal(size=shape).astype(np.float32)
    tshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    t = rng.integers(0, shape[1] if len(shape) > 1 else shape[0], size=tshape)
    if ignore is not None:
        t.reshape(-1)[:2] = ignore
    return x, t


def _probabilities(rng):
    x = rng.normal(size=(N, C)).astype(np.float32)
    p = rng.uniform(size=(N, C)).astype(np.float32)
    return x, p / p.sum(axis=1, keepdims=True)


def _binary(rng, logits=False):
    x = rng.normal(size=(N, 3)).astype(np.float32)
    if not logits:
        x = 1 / (1 + np.exp(-x))
    return x.astype(np.float32), rng.integers(0, 2, size=(N, 3)).astype(np.float32)


W = np.array([0.5, 1.0, 2.0, 0.25], dtype=np.float32)

CASES = {
    "mse": (lambda: L.MSELoss(), "MSELoss", {}, _regression),
    "mse_sum": (lambda: L.MSELoss(reduction="sum"), "MSELoss", {"reduction": "sum"}, _regression),
    "mse_none": (lambda: L.MSELoss(reduction="none"), "MSELoss", {"reduction": "none"}, _regression),
    "l1": (lambda: L.L1Loss(), "L1Loss", {}, _regression),
    "l1_none": (lambda: L.L1Loss(reduction="none"), "L1Loss", {"reduction": "none"}, _regression),
    "huber": (lambda: L.HuberLoss(delta=0.5), "HuberLoss", {"delta": 0.5}, _regression),
    "huber_sum": (lambda: L.HuberLoss("sum", 2.0), "HuberLoss", {"reduction": "sum", "delta": 2.0}, _regression),
    "smooth_l1": (lambda: L.SmoothL1Loss(beta=0.5), "SmoothL1Loss", {"beta": 0.5}, _regression),
    "smooth_l1_none": (lambda: L.SmoothL1Loss(reduction="none"), "SmoothL1Loss", {"reduction": "none"}, _regression),
    "ce": (lambda: L.CrossEntropyLoss(), "CrossEntropyLoss", {}, _classes),
    "ce_weight": (lambda: L.CrossEntropyLoss(W), "CrossEntropyLoss", {"weight": W}, _classes),
    "ce_ignore": (lambda: L.CrossEntropyLoss(ignore_index=1), "CrossEntropyLoss", {"ignore_index": 1},
                  lambda rng: _classes(rng, ignore=1)),
    "ce_weight_ignore_none": (lambda: L.CrossEntropyLoss(W, ignore_index=0, reduction="none"), "CrossEntropyLoss",
                              {"weight": W, "ignore_index": 0, "reduction": "none"},
                              lambda rng: _classes(rng, ignore=0)),
    "ce_smoothing": (lambda: L.CrossEntropyLoss(W, label_smoothing=0.2), "CrossEntropyLoss",
                     {"weight": W, "label_smoothing": 0.2}, _classes),
    "ce_probabilities": (lambda: L.CrossEntropyLoss(), "CrossEntropyLoss", {}, _probabilities),
    "ce_spatial": (lambda: L.CrossEntropyLoss(), "CrossEntropyLoss", {}, lambda rng: _classes(rng, (2, C, 3, 5))),
    "ce_unbatched": (lambda: L.CrossEntropyLoss(), "CrossEntropyLoss", {}, lambda rng: _classes(rng, (C,))),
    "nll": (lambda: L.NLLLoss(), "NLLLoss", {}, _classes),
    "nll_weight_sum": (lambda: L.NLLLoss(W, reduction="sum"), "NLLLoss", {"weight": W, "reduction": "sum"}, _classes),
    "nll_ignore": (lambda: L.NLLLoss(ignore_index=2), "NLLLoss", {"ignore_index": 2},
                   lambda rng: _classes(rng, ignore=2)),
    "bce": (lambda: L.BCELoss(), "BCELoss", {}, _binary),
    "bce_weight": (lambda: L.BCELoss(np.array([1.0, 2.0, 0.5])), "BCELoss",
                   {"weight": np.array([1.0, 2.0, 0.5], dtype=np.float32)}, _binary),
    "bce_logits": (lambda: L.BCEWithLogitsLoss(), "BCEWithLogitsLoss", {}, lambda rng: _binary(rng, True)),
    "bce_logits_pos_weight": (
        lambda: L.BCEWithLogitsLoss(np.array([1.0, 0.5, 2.0]), pos_weight=np.array([3.0, 1.0, 0.2]), reduction="sum"),
        "BCEWithLogitsLoss",
        {"weight": np.array([1.0, 0.5, 2.0], dtype=np.float32),
         "pos_weight": np.array([3.0, 1.0, 0.2], dtype=np.float32), "reduction": "sum"},
        lambda rng: _binary(rng, True)),
}


def _torch_twin(torch, cls_name, kwargs):
    kwargs = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return getattr(torch.nn, cls_name)(**kwargs)


@pytest.mark.parametrize("name", list(CASES))
def test_loss_values_and_input_gradients_match_pytorch(torch, rng, name):
    make, cls_name, kwargs, data = CASES[name]
    ours, theirs = make(), _torch_twin(torch, cls_name, kwargs)
    x_np, t_np = data(rng)
    if name.startswith("nll"):
        x_np = (x_np - np.log(np.exp(x_np).sum(axis=1, keepdims=True))).astype(np.float32)
    x, tx = myelin.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    out = ours(x, t_np)  # a NumPy target is wrapped
    tout = theirs(tx, torch.from_numpy(np.asarray(t_np)))
    assert_close(out, tout, RTOL, ATOL, what=f"{name} value")
    g = rng.normal(size=tuple(tout.shape)).astype(np.float32)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    assert_close(x.grad, tx.grad, RTOL, ATOL, what=f"{name} input gradient")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value)


def test_losses_train_a_model_end_to_end(torch, rng):
    from myelin.nn.linear import Linear

    model = Sequential(Linear(3, C))
    x, t = rng.normal(size=(N, 3)).astype(np.float32), rng.integers(0, C, size=N)
    loss = L.CrossEntropyLoss()(model(x), t)
    loss.backward()
    assert model[0].weight.grad is not None and model[0].weight.grad.shape == (C, 3)


# ---------------------------------------------------------------------- checks
def test_reduction_and_arguments_are_validated():
    with pytest.raises(ValueError, match="MSELoss: reduction must be one of 'mean', 'sum', 'none', received 'avg'"):
        L.MSELoss(reduction="avg")
    with pytest.raises(TypeError):
        L.MSELoss("sum")  # keyword-only, as PyTorch's deprecated positional arguments come first
    with pytest.raises(ValueError, match="HuberLoss: delta must be in \\(0.0, inf\\], received 0.0"):
        L.HuberLoss(delta=0.0)
    with pytest.raises(ValueError, match="SmoothL1Loss: beta must be in \\[0.0, inf\\], received -1.0"):
        L.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match="label_smoothing must be in \\[0.0, 1.0\\], received 1.5"):
        L.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="weight must be 1-D"):
        L.CrossEntropyLoss(np.ones((2, 2)))
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        L.NLLLoss(ignore_index=1.5)


class _Trainer(Module):
    def __init__(self, criterion: Module) -> None:
        super().__init__()
        self.criterion = criterion

    def forward(self, x, t):
        return self.criterion(x, t)


@pytest.mark.parametrize("criterion, x, t, message", [
    (L.MSELoss(), np.zeros((4, 1)), np.zeros(4),
     r"MSELoss\(\) at 'criterion' expected a target of the input's shape \(4, 1\), got \(4,\)"),
    (L.BCEWithLogitsLoss(), np.zeros((4, 2)), np.zeros((4, 3)),
     r"BCEWithLogitsLoss\(\) at 'criterion' expected a target"),
    (L.CrossEntropyLoss(), np.zeros((4, 3)), np.zeros((4, 3), dtype=np.int64),
     r"CrossEntropyLoss\(\) at 'criterion' expected a target of shape \(4,\) for input \(4, 3\), got \(4, 3\)"),
    (L.CrossEntropyLoss(), np.zeros((4, 3)), np.array([0, 1, 2, 3]),
     r"at 'criterion' got target class 3, outside \[0, 3\) for input \(4, 3\)"),
    (L.CrossEntropyLoss(), np.zeros((4, 3)), np.zeros((4, 2), dtype=np.float32),
     r"expected class probabilities of the input's shape \(4, 3\), got \(4, 2\)"),
    (L.NLLLoss(), np.zeros((4, 3)), np.zeros(4, dtype=np.float32),
     r"NLLLoss\(\) at 'criterion' expected integer class indices as target, got dtype float32"),
    (L.CrossEntropyLoss(np.ones(5)), np.zeros((4, 3)), np.zeros(4, dtype=np.int64),
     r"has a weight for 5 classes, got input \(4, 3\) with 3"),
])
def test_wrong_targets_name_the_loss_and_its_path(criterion, x, t, message):
    with pytest.raises(ValueError, match=message):
        _Trainer(criterion)(x.astype(np.float32), t)


def test_ignored_targets_may_lie_outside_the_class_range():
    loss = L.CrossEntropyLoss()(np.zeros((3, 2), dtype=np.float32), np.array([0, -100, 1]))
    assert_close(loss, np.log(2.0), 1e-6, 1e-6)


def test_reprs_and_configs():
    assert repr(L.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(L.CrossEntropyLoss(W, label_smoothing=0.1)) == (
        "CrossEntropyLoss(weight=<array of shape (4,)>, label_smoothing=0.1)")
    assert repr(L.HuberLoss(reduction="sum", delta=2.0)) == "HuberLoss(reduction='sum', delta=2.0)"
    for make, _, _, _ in CASES.values():
        loss = make()
        config = json.loads(json.dumps(loss.get_config()))
        rebuilt = from_config(config)
        assert repr(rebuilt) == repr(loss) and rebuilt.get_config() == config
        for key, value in loss.state_dict().items():
            assert_close(rebuilt.state_dict()[key], value)
    with pytest.raises(ConfigError, match="CrossEntropyLoss.*reduction must be one of"):
        from_config({"type": "CrossEntropyLoss", "args": {"reduction": "max"}})
