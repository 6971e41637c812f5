"""Optimizers: step-for-step parity with torch.optim, parameter groups, state dicts, validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin import optim
from myelin.nn.parameter import Parameter

SHAPES = [(5, 3), (3,), (2, 2, 2)]
STEPS = 30

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.8), "eps": 1e-3}),  # lerp's large-weight branch
    ("Adam", {"lr": 0.01, "maximize": True, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True, "weight_decay": 0.0}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "alpha": 0.9, "weight_decay": 0.05, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3}),  # lerp's large-weight branch for grad_avg
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("Adagrad", {"lr": 0.1, "maximize": True, "lr_decay": 0.01}),
]
# One state-heavy configuration per optimizer.
RICH = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "Adam": {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1},
    "AdamW": {"lr": 0.01, "amsgrad": True},
    "RMSprop": {"lr": 0.01, "centered": True, "momentum": 0.5},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1},
}
NAMES = list(RICH)


def _case_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def _weights(rng, shapes=SHAPES, dtype=np.float32):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _param(w):
    """A Myelin parameter holding a copy of ``w`` in ``w``'s dtype."""
    return Parameter(myelin.tensor(w, dtype=w.dtype))


def _pair(torch, weights):
    """The same weights as Myelin parameters and as PyTorch parameters."""
    mine = [_param(w) for w in weights]
    theirs = [torch.nn.Parameter(torch.tensor(w.copy())) for w in weights]
    return mine, theirs


def _set_grads(torch, mine, theirs, grads):
    for p, q, g in zip(mine, theirs, grads):
        p.grad = None if g is None else g.copy()
        q.grad = None if g is None else torch.tensor(g.copy())


def _assert_same_weights(mine, theirs, rtol=1e-5, atol=1e-6):
    for i, (p, q) in enumerate(zip(mine, theirs)):
        assert p.data.dtype == q.detach().numpy().dtype
        assert_close(p.data, q, rtol=rtol, atol=atol, what=f"parameter {i}")


def _run(torch, name, kwargs, rng, steps=STEPS, weights=None, grad_fn=None):
    weights = _weights(rng) if weights is None else weights
    mine, theirs = _pair(torch, weights)
    opt = getattr(optim, name)(mine, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(steps):
        grads = grad_fn(step, mine) if grad_fn else [rng.standard_normal(p.shape).astype(p.data.dtype) for p in mine]
        _set_grads(torch, mine, theirs, grads)
        opt.step()
        topt.step()
    return mine, theirs, opt, topt


def _serialise(sd):
    """Arrays apart (as a safetensors file would hold them), everything else through JSON."""
    arrays = {}

    def strip(obj, path):
        if isinstance(obj, np.ndarray):
            arrays[path] = obj.copy()
            return {"__array__": path}
        if isinstance(obj, dict):
            return {str(k): strip(v, f"{path}.{k}") for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [strip(v, f"{path}.{i}") for i, v in enumerate(obj)]
        return obj

    text = json.dumps(strip(sd, ""))

    def fill(obj):
        if isinstance(obj, dict):
            if set(obj) == {"__array__"}:
                return arrays[obj["__array__"]]
            return {k: fill(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [fill(v) for v in obj]
        return obj

    return fill(json.loads(text))


# ----------------------------------------------------------------------------- parity with PyTorch
@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_torch_on_random_gradients(torch, rng, case):
    name, kwargs = case
    mine, theirs, _, _ = _run(torch, name, kwargs, rng)
    _assert_same_weights(mine, theirs)
    moved = max(np.abs(p.data - w).max() for p, w in zip(mine, _weights(np.random.default_rng(0))))
    assert moved > 1e-3  # the comparison is not vacuous


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_on_a_quadratic(torch, rng, name):
    """Each library computes the gradient of 0.5 * |A w - b|^2 from its own weights."""
    a = rng.standard_normal((4, 5)).astype(np.float32) / 2
    b = rng.standard_normal(4).astype(np.float32)
    weights = [rng.standard_normal(5).astype(np.float32)]
    mine, theirs = _pair(torch, weights)
    opt = getattr(optim, name)(mine, **RICH[name])
    topt = getattr(torch.optim, name)(theirs, **RICH[name])
    for _ in range(STEPS):
        mine[0].grad = a.T @ (a @ mine[0].data - b)
        theirs[0].grad = torch.tensor(a.T @ (a @ theirs[0].detach().numpy() - b))
        opt.step()
        topt.step()
    _assert_same_weights(mine, theirs)


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_param_groups_and_missing_grads_match_torch(torch, rng, name):
    """Two groups with their own lr (and one override), and a parameter that sometimes has no grad."""
    kwargs = dict(RICH[name])
    base_lr = kwargs.pop("lr")
    weights = _weights(rng)
    mine, theirs = _pair(torch, weights)

    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2:], "lr": base_lr * 3, "weight_decay": 0.2}]

    opt = getattr(optim, name)(groups(mine), lr=base_lr, **kwargs)
    topt = getattr(torch.optim, name)(groups(theirs), lr=base_lr, **kwargs)
    for step in range(STEPS):
        grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
        if step % 3 == 1:
            grads[1] = None
        _set_grads(torch, mine, theirs, grads)
        opt.step()
        topt.step()
    _assert_same_weights(mine, theirs)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_float64_parameters_match_torch(torch, rng, name):
    weights = _weights(rng, dtype=np.float64)
    mine, theirs, _, _ = _run(torch, name, RICH[name], rng, weights=weights)
    for p, q in zip(mine, theirs):
        assert p.data.dtype == np.float64
        assert_close(p.data, q, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_add_param_group_mid_run_matches_torch(torch, rng, name):
    weights = _weights(rng)
    mine, theirs = _pair(torch, weights)
    opt = getattr(optim, name)(mine[:2], **RICH[name])
    topt = getattr(torch.optim, name)(theirs[:2], **RICH[name])
    for step in range(STEPS):
        if step == 10:
            opt.add_param_group({"params": mine[2:], "lr": 0.02})
            topt.add_param_group({"params": theirs[2:], "lr": 0.02})
        grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
        _set_grads(torch, mine, theirs, grads)
        opt.step()
        topt.step()
    _assert_same_weights(mine, theirs)


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_changing_group_lr_takes_effect(torch, rng, name):
    weights = _weights(rng)
    mine, theirs = _pair(torch, weights)
    opt = getattr(optim, name)(mine, **RICH[name])
    topt = getattr(torch.optim, name)(theirs, **RICH[name])
    for step in range(10):
        for o in (opt, topt):
            o.param_groups[0]["lr"] = 0.01 * (step + 1)
        _set_grads(torch, mine, theirs, [rng.standard_normal(s).astype(np.float32) for s in SHAPES])
        opt.step()
        topt.step()
    _assert_same_weights(mine, theirs)


# ----------------------------------------------------------------------------- state dicts
@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_continues_identically(torch, rng, name):
    """Stop after 15 steps, save (arrays + JSON), load into a fresh optimizer, go on: same as not stopping."""
    weights = _weights(rng)
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    mine, theirs = _pair(torch, weights)
    opt = getattr(optim, name)(mine, **RICH[name])
    topt = getattr(torch.optim, name)(theirs, **RICH[name])
    straight = [Parameter(w.copy()) for w in weights]
    sopt = getattr(optim, name)(straight, **RICH[name])
    for step in range(STEPS):
        if step == STEPS // 2:
            saved = _serialise(opt.state_dict())
            mine = [Parameter(p.data.copy()) for p in mine]
            opt = getattr(optim, name)(mine, lr=0.5)  # hyperparameters come from the state dict
            opt.load_state_dict(saved)
        _set_grads(torch, mine, theirs, grads[step])
        for p, g in zip(straight, grads[step]):
            p.grad = g.copy()
        opt.step()
        topt.step()
        sopt.step()
    for p, s in zip(mine, straight):
        np.testing.assert_array_equal(p.data, s.data)
    _assert_same_weights(mine, theirs)


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_layout_matches_torch(torch, rng, name):
    groups_kwargs = dict(RICH[name])
    weights = _weights(rng)
    mine, theirs = _pair(torch, weights)
    opt = getattr(optim, name)([{"params": mine[:1]}, {"params": mine[1:], "lr": 0.03}], **groups_kwargs)
    topt = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.03}], **groups_kwargs)
    for _ in range(5):
        grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
        grads[2] = None  # never gets a gradient
        _set_grads(torch, mine, theirs, grads)
        opt.step()
        topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert set(g) <= set(tg)
        for key in g:
            if key != "params":
                assert g[key] == tg[key], key
    assert set(sd["state"]) == set(tsd["state"])
    for index, state in sd["state"].items():
        assert set(state) == set(tsd["state"][index])
        for key, value in state.items():
            expected = tsd["state"][index][key]
            if key == "step":
                assert isinstance(value, (int, float)) and value == float(expected)
            else:
                assert isinstance(value, np.ndarray) and value.dtype == np.float32
                assert_close(value, expected, what=key)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_is_plain_and_a_copy(rng, name):
    mine = [Parameter(w) for w in _weights(rng)]
    opt = getattr(optim, name)(mine, **RICH[name])
    for p in mine:
        p.grad = np.ones_like(p.data)
    opt.step()
    sd = opt.state_dict()

    def check(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                assert isinstance(k, (int, str))
                check(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                check(v)
        else:
            assert obj is None or type(obj) in (bool, int, float, str, np.ndarray), type(obj)

    check(sd)
    assert sd["state"] and all(isinstance(k, int) for k in sd["state"])
    before = {k: {n: np.copy(v) for n, v in s.items()} for k, s in sd["state"].items()}
    opt.step()
    for k, s in sd["state"].items():
        for n, v in s.items():
            np.testing.assert_array_equal(v, before[k][n])


def test_load_state_dict_casts_and_copies(rng):
    mine = [Parameter(w) for w in _weights(rng)]
    opt = optim.Adam(mine)
    for p in mine:
        p.grad = np.ones_like(p.data)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"] = sd["state"][0]["exp_avg"].astype(np.float64)
    sd["state"][0]["step"] = np.array(1.0, dtype=np.float32)
    sd["param_groups"][0]["betas"] = [0.8, 0.9]
    other = optim.Adam([Parameter(w) for w in _weights(rng)])
    other.load_state_dict(sd)
    loaded = other.state[other.param_groups[0]["params"][0]]
    assert loaded["exp_avg"].dtype == np.float32
    assert type(loaded["step"]) is float and loaded["step"] == 1.0
    assert other.param_groups[0]["betas"] == (0.8, 0.9)
    sd["state"][1]["exp_avg_sq"][...] = 123.0
    assert not np.any(other.state[other.param_groups[0]["params"][1]]["exp_avg_sq"] == 123.0)


def test_load_state_dict_validates(rng):
    mine = [Parameter(w) for w in _weights(rng)]
    opt = optim.SGD([{"params": mine[:2]}, {"params": mine[2:]}], lr=0.1, momentum=0.9)
    for p in mine:
        p.grad = np.ones_like(p.data)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="2 parameter groups, the optimizer has 1"):
        optim.SGD([Parameter(w) for w in _weights(rng)], lr=0.1).load_state_dict(sd)
    swapped = optim.SGD([{"params": mine[:1]}, {"params": mine[1:]}], lr=0.1)
    with pytest.raises(ValueError, match="2 parameters in group 0, the optimizer's group 0 has 1"):
        swapped.load_state_dict(sd)
    bad = _serialise(sd)
    bad["state"]["0"]["momentum_buffer"] = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(2, 2\).*\(5, 3\)"):
        opt.load_state_dict(bad)
    bad = _serialise(sd)
    bad["state"]["7"] = {}
    with pytest.raises(ValueError, match="parameter '7'"):
        opt.load_state_dict(bad)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    bad = _serialise(sd)
    bad["param_groups"][1]["lr"] = -1.0
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        opt.load_state_dict(bad)


@pytest.mark.torch
def test_named_parameters_are_recorded_like_torch(torch, rng):
    weights = _weights(rng)
    mine, theirs = _pair(torch, weights)
    names = ["a.weight", "a.bias", "b"]
    opt = optim.SGD(list(zip(names, mine)), lr=0.1)
    topt = torch.optim.SGD(list(zip(names, theirs)), lr=0.1)
    assert opt.state_dict()["param_groups"][0]["param_names"] == topt.state_dict()["param_groups"][0]["param_names"]
    assert opt.param_groups[0]["params"][0] is mine[0]
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [Parameter(np.zeros(2, np.float32))]})


def test_adagrad_creates_state_eagerly(rng):
    mine = [Parameter(w) for w in _weights(rng)]
    opt = optim.Adagrad(mine, initial_accumulator_value=0.25)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2]
    assert sd["state"][1]["step"] == 0
    np.testing.assert_array_equal(sd["state"][1]["sum"], np.full((3,), 0.25, np.float32))


# ----------------------------------------------------------------------------- behaviour
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_step_never_modifies_grad(rng, case):
    name, kwargs = case
    mine = [Parameter(w) for w in _weights(rng)]
    opt = getattr(optim, name)(mine, **kwargs)
    for _ in range(3):
        grads = [rng.standard_normal(p.shape).astype(np.float32) for p in mine]
        for p, g in zip(mine, grads):
            p.grad = g.copy()
        opt.step()
        for p, g in zip(mine, grads):
            np.testing.assert_array_equal(p.grad, g)


@pytest.mark.parametrize("name", NAMES)
def test_parameters_without_grad_are_skipped(rng, name):
    mine = [Parameter(w) for w in _weights(rng)]
    frozen = mine[1].data.copy()
    opt = getattr(optim, name)(mine, **RICH[name])
    for _ in range(3):
        mine[0].grad = np.ones_like(mine[0].data)
        mine[2].grad = np.ones_like(mine[2].data)
        opt.step()
    np.testing.assert_array_equal(mine[1].data, frozen)
    if name != "Adagrad":  # Adagrad creates its state up front, as PyTorch does
        assert mine[1] not in opt.state
    assert not np.array_equal(mine[0].data, _weights(np.random.default_rng(0))[0])


def test_updates_are_in_place(rng):
    mine = [Parameter(w) for w in _weights(rng)]
    arrays = [p.data for p in mine]
    opt = optim.Adam(mine, lr=0.1)
    for p in mine:
        p.grad = np.ones_like(p.data)
    opt.step()
    assert all(p.data is a for p, a in zip(mine, arrays))
    assert all(np.all(a < w) for a, w in zip(arrays, _weights(np.random.default_rng(0))))


def test_zero_grad(rng):
    mine = [Parameter(w) for w in _weights(rng)]
    opt = optim.SGD(mine, lr=0.1)
    for p in mine:
        p.grad = np.ones_like(p.data)
    grad = mine[0].grad
    opt.zero_grad(set_to_none=False)
    assert mine[0].grad is grad and not grad.any()
    opt.zero_grad()
    assert all(p.grad is None for p in mine)


def test_step_with_closure_returns_loss_and_records_graph():
    w = Parameter(np.array([1.0, -2.0], np.float32))
    opt = optim.SGD([w], lr=0.25)
    calls = []

    def closure():
        opt.zero_grad()
        calls.append(myelin.is_grad_enabled())
        loss = (w * w).sum()
        loss.backward()
        return loss

    with myelin.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert float(loss.data) == pytest.approx(5.0)
    np.testing.assert_allclose(w.data, [0.5, -1.0])
    assert opt.step() is None


def test_repr_lists_groups(rng):
    text = repr(optim.SGD([Parameter(w) for w in _weights(rng)], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# ----------------------------------------------------------------------------- validation
INVALID = [
    ("SGD", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("SGD", {"lr": 0.1, "momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("SGD", {"lr": 0.1, "weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
    ("SGD", {"lr": 0.1, "nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "Nesterov momentum requires"),
    ("Adam", {"lr": -1.0}, "Invalid learning rate: -1.0"),
    ("Adam", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adam", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("AdamW", {"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1: 1.5"),
    ("AdamW", {"lr": -0.01}, "Invalid learning rate: -0.01"),
    ("RMSprop", {"alpha": -0.9}, "Invalid alpha value: -0.9"),
    ("RMSprop", {"momentum": -0.1}, "Invalid momentum value: -0.1"),
    ("RMSprop", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("RMSprop", {"weight_decay": -2.0}, "Invalid weight_decay value: -2.0"),
    ("Adagrad", {"lr_decay": -0.1}, "Invalid lr_decay value: -0.1"),
    ("Adagrad", {"initial_accumulator_value": -1.0}, "Invalid initial_accumulator_value value: -1.0"),
    ("Adagrad", {"eps": -1e-10}, "Invalid epsilon value: -1e-10"),
    ("Adagrad", {"weight_decay": -0.5}, "Invalid weight_decay value: -0.5"),
]


@pytest.mark.parametrize("case", INVALID, ids=lambda c: f"{c[0]}-{c[2][:30]}")
def test_invalid_hyperparameters_raise(rng, case):
    name, kwargs, message = case
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([Parameter(w) for w in _weights(rng)], **kwargs)


@pytest.mark.torch
@pytest.mark.parametrize("case", INVALID, ids=lambda c: f"{c[0]}-{c[2][:30]}")
def test_invalid_hyperparameter_messages_equal_torch(torch, rng, case):
    name, kwargs, _ = case
    mine, theirs = _pair(torch, _weights(rng))
    with pytest.raises(ValueError) as ours:
        getattr(optim, name)(mine, **kwargs)
    with pytest.raises(ValueError) as reference:
        getattr(torch.optim, name)(theirs, **kwargs)
    assert str(ours.value) == str(reference.value)


def test_invalid_group_override_raises(rng):
    mine = [Parameter(w) for w in _weights(rng)]
    with pytest.raises(ValueError, match="Invalid learning rate: -0.5"):
        optim.Adam([{"params": mine[:1]}, {"params": mine[1:], "lr": -0.5}])
    opt = optim.SGD(mine[:1], lr=0.1)
    with pytest.raises(ValueError, match="Invalid momentum value: -1"):
        opt.add_param_group({"params": mine[1:], "momentum": -1})


def test_bad_params_raise(rng):
    w = [Parameter(x) for x in _weights(rng)]
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": w[:2]}, {"params": w[1:]}], lr=0.1)
    opt = optim.Adam(w[:2])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w[0]]})
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([w[0], w[0]], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(w[0], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD(set(w), lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w[1] * 2], lr=0.1)
