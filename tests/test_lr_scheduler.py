"""Learning-rate schedulers: the same rate (and momentum) sequences as torch.optim.lr_scheduler."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myelin import optim
from myelin.nn.parameter import Parameter
from myelin.optim import lr_scheduler

STEPS = 60
LRS = (0.1, 0.02)  # two parameter groups with their own rates


def _make_optimizers(torch, name="SGD", **kwargs):
    mine = [Parameter(np.ones(3, np.float32)), Parameter(np.ones(2, np.float32))]
    theirs = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))]

    def groups(ps):
        return [{"params": [ps[0]], "lr": LRS[0]}, {"params": [ps[1]], "lr": LRS[1]}]

    return getattr(optim, name)(groups(mine), **kwargs), getattr(torch.optim, name)(groups(theirs), **kwargs)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _trace(opt, sched, steps=STEPS):
    """Rates (and momenta) after construction and after each of ``steps`` steps."""
    out = [(sched.get_last_lr(), [g["lr"] for g in opt.param_groups], _momenta(opt))]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append((sched.get_last_lr(), [g["lr"] for g in opt.param_groups], _momenta(opt)))
    return out


def _sequential(mod, opt, kind):
    if kind == "warmup-cosine":
        return mod.SequentialLR(
            opt, [mod.LinearLR(opt, start_factor=0.1, total_iters=5), mod.CosineAnnealingLR(opt, T_max=30)], [5]
        )
    return mod.SequentialLR(
        opt,
        [mod.LinearLR(opt, start_factor=0.5, total_iters=4), mod.ExponentialLR(opt, gamma=0.9),
         mod.MultiStepLR(opt, milestones=[25, 35], gamma=0.5)],
        [5, 20],
    )


SCHEDULERS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-1": lambda m, o: m.StepLR(o, step_size=1, gamma=0.9),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[30, 5, 12, 12], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=50),
    "CosineAnnealingLR-periodic": lambda m, o: m.CosineAnnealingLR(o, T_max=20, eta_min=0.001),
    "LinearLR-warmup": lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=10),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=40),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda epoch: 0.95**epoch),
    "SequentialLR-warmup-cosine": lambda m, o: _sequential(m, o, "warmup-cosine"),
    "SequentialLR-three": lambda m, o: _sequential(m, o, "three"),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.1], total_steps=STEPS),
    "OneCycleLR-linear-three-phase": lambda m, o: m.OneCycleLR(
        o, max_lr=0.3, total_steps=STEPS + 5, anneal_strategy="linear", three_phase=True, pct_start=0.25
    ),
    "OneCycleLR-epochs": lambda m, o: m.OneCycleLR(
        o, max_lr=0.2, epochs=6, steps_per_epoch=10, div_factor=10.0, final_div_factor=100.0,
        base_momentum=[0.8, 0.7], max_momentum=0.9,
    ),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.2, total_steps=STEPS, cycle_momentum=False),
}


@pytest.mark.torch
@pytest.mark.parametrize("kind", list(SCHEDULERS))
def test_sequence_matches_torch(torch, kind):
    opt, topt = _make_optimizers(torch, momentum=0.9)
    sched = SCHEDULERS[kind](lr_scheduler, opt)
    tsched = SCHEDULERS[kind](torch.optim.lr_scheduler, topt)
    ours, theirs = _trace(opt, sched), _trace(topt, tsched)
    assert ours == theirs  # same Python float arithmetic: equal to the last bit
    assert len({tuple(lrs) for lrs, _, _ in ours}) >= 4  # the rates really change
    assert [g["initial_lr"] for g in opt.param_groups] == [g["initial_lr"] for g in topt.param_groups]


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", [{}, {"three_phase": True}, {"anneal_strategy": "linear"}])
def test_one_cycle_cycles_adam_beta1_like_torch(torch, kwargs):
    opt, topt = _make_optimizers(torch, "Adam", betas=(0.9, 0.99))
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=STEPS, **kwargs)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.01, total_steps=STEPS, **kwargs)
    ours, theirs = _trace(opt, sched), _trace(topt, tsched)
    assert ours == theirs
    assert all(g["betas"][1] == 0.99 for g in opt.param_groups)
    assert len({m[0] for _, _, m in ours}) > 5  # beta1 really cycles


@pytest.mark.torch
def test_one_cycle_rejects_steps_beyond_total(torch):
    opt, topt = _make_optimizers(torch, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.1, total_steps=10)
    assert _trace(opt, sched, 10) == _trace(topt, tsched, 10)
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        tsched.step()


def _metrics():
    rng = np.random.default_rng(1)
    falling = [1.0 / (1 + i) for i in range(10)]
    flat = [0.1 + 0.002 * rng.standard_normal() for _ in range(30)]
    rising = [0.1 + 0.01 * i for i in range(20)]
    return falling + flat + rising


PLATEAU = [
    {},
    {"patience": 2},
    {"patience": 0, "factor": 0.5},
    {"mode": "max", "patience": 1},
    {"threshold_mode": "abs", "threshold": 0.01, "patience": 2},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.001, "patience": 1, "cooldown": 3},
    {"patience": 1, "cooldown": 2, "min_lr": [0.01, 0.001]},
    {"patience": 1, "min_lr": 0.005},
    {"patience": 1, "eps": 0.05},
]


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", PLATEAU, ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()) or "default")
def test_reduce_on_plateau_matches_torch(torch, kwargs):
    opt, topt = _make_optimizers(torch)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    ours, theirs = [], []
    for metric in _metrics():
        sched.step(metric)
        tsched.step(metric)
        ours.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter, sched.best))
        theirs.append((tsched.get_last_lr(), tsched.num_bad_epochs, tsched.cooldown_counter, tsched.best))
    assert ours == theirs
    assert ours[-1][0] != list(LRS) or kwargs.get("eps") == 0.05


def test_reduce_on_plateau_accepts_arrays_and_tensors():
    opt = optim.SGD([Parameter(np.ones(2, np.float32))], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    sched.step(np.float32(1.0))
    sched.step(np.array(2.0))
    sched.step(Parameter(np.array(3.0, np.float32)))
    assert sched.get_last_lr() == [0.25]
    assert "initial_lr" not in opt.param_groups[0]  # as in PyTorch


# ----------------------------------------------------------------------------- state dicts
RESUMABLE = [k for k in SCHEDULERS if k != "LambdaLR"] + ["ReduceLROnPlateau"]


def _build(torch_or_none, kind):
    if kind == "ReduceLROnPlateau":
        opt = optim.SGD([Parameter(np.ones(3, np.float32))], lr=0.1, momentum=0.9)
        return opt, lr_scheduler.ReduceLROnPlateau(opt, patience=2, cooldown=1)
    opt = optim.SGD(
        [{"params": [Parameter(np.ones(3, np.float32))], "lr": LRS[0]},
         {"params": [Parameter(np.ones(2, np.float32))], "lr": LRS[1]}],
        momentum=0.9,
    )
    return opt, SCHEDULERS[kind](lr_scheduler, opt)


def _advance(opt, sched, i):
    opt.step()
    if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
        sched.step(_metrics()[i])
    else:
        sched.step()
    return sched.get_last_lr(), _momenta(opt)


@pytest.mark.parametrize("kind", RESUMABLE)
def test_state_dict_round_trip_resumes_identically(kind):
    opt, sched = _build(None, kind)
    straight = [_advance(opt, sched, i) for i in range(STEPS)]

    opt, sched = _build(None, kind)
    resumed = [_advance(opt, sched, i) for i in range(20)]
    saved_sched = json.loads(json.dumps(sched.state_dict()))  # plain values only
    saved_opt = opt.state_dict()
    opt, sched = _build(None, kind)  # as PyTorch advises: scheduler first, then optimizer state
    opt.load_state_dict(saved_opt)
    sched.load_state_dict(saved_sched)
    resumed += [_advance(opt, sched, i) for i in range(20, STEPS)]
    assert resumed == straight


@pytest.mark.torch
def test_resume_with_last_epoch_needs_initial_lr(torch):
    opt = optim.SGD([Parameter(np.ones(2, np.float32))], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=5)
    opt, topt = _make_optimizers(torch)
    for o in (opt, topt):
        for g in o.param_groups:
            g["initial_lr"] = 1.0
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=30, last_epoch=9)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=30, last_epoch=9)
    assert _trace(opt, sched, 30) == _trace(topt, tsched, 30)


def test_schedulers_drive_the_optimizer_updates():
    """The rate a scheduler sets is the rate the next optimizer step uses."""
    p = Parameter(np.zeros(1, np.float32))
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = np.ones(1, np.float32)
        opt.step()
        sched.step()
    np.testing.assert_allclose(p.data, [-(1.0 + 0.5 + 0.25)])


# ----------------------------------------------------------------------------- validation
def _opt(name="SGD"):
    return getattr(optim, name)([Parameter(np.ones(2, np.float32))], lr=0.1)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: lr_scheduler.StepLR(_opt(), step_size=0), ValueError, "Invalid step_size: 0"),
        (lambda: lr_scheduler.CosineAnnealingLR(_opt(), T_max=0), ValueError, "Invalid T_max: 0"),
        (lambda: lr_scheduler.LinearLR(_opt(), start_factor=0), ValueError, "Starting multiplicative factor"),
        (lambda: lr_scheduler.LinearLR(_opt(), end_factor=1.5), ValueError, "Ending multiplicative factor"),
        (lambda: lr_scheduler.ReduceLROnPlateau(_opt(), factor=1.0), ValueError, "Factor should be < 1.0"),
        (lambda: lr_scheduler.ReduceLROnPlateau(_opt(), mode="avg"), ValueError, "mode avg is unknown"),
        (lambda: lr_scheduler.ReduceLROnPlateau(_opt(), threshold_mode="x"), ValueError, "threshold mode x"),
        (lambda: lr_scheduler.ReduceLROnPlateau(_opt(), min_lr=[0.1, 0.2]), ValueError, "expected 1 min_lrs, got 2"),
        (lambda: lr_scheduler.OneCycleLR(_opt(), max_lr=0.1), ValueError, "total_steps OR"),
        (lambda: lr_scheduler.OneCycleLR(_opt(), max_lr=0.1, total_steps=0), ValueError, "total_steps, but got 0"),
        (lambda: lr_scheduler.OneCycleLR(_opt(), 0.1, epochs=2, steps_per_epoch=0), ValueError, "steps_per_epoch"),
        (lambda: lr_scheduler.OneCycleLR(_opt(), 0.1, 10, pct_start=1.5), ValueError, "pct_start, but got 1.5"),
        (lambda: lr_scheduler.OneCycleLR(_opt(), 0.1, 10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
        (lambda: lr_scheduler.OneCycleLR(_opt(), [0.1, 0.2], 10), ValueError, "max_lr must have the same length"),
        (lambda: lr_scheduler.OneCycleLR(_opt("Adagrad"), 0.1, 10), ValueError, "must support momentum or beta1"),
        (lambda: lr_scheduler.StepLR(object(), step_size=2), TypeError, "object is not an Optimizer"),
        (lambda: lr_scheduler.SequentialLR(_opt(), [], []), ValueError, "at least one scheduler"),
    ],
)
def test_invalid_arguments_raise(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_sequential_checks_its_schedulers():
    opt = _opt()
    a, b = lr_scheduler.StepLR(opt, 2), lr_scheduler.ExponentialLR(opt, 0.9)
    with pytest.raises(ValueError, match="number of schedulers 2"):
        lr_scheduler.SequentialLR(opt, [a, b], [2, 4])
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.SequentialLR(opt, [a, lr_scheduler.StepLR(_opt(), 2)], [2])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        lr_scheduler.SequentialLR(opt, [a, lr_scheduler.ReduceLROnPlateau(opt)], [2])


@pytest.mark.torch
@pytest.mark.parametrize(("name", "kwargs"), [("SGD", {"momentum": 0.9}), ("Adam", {}), ("RMSprop", {}), ("AdamW", {})])
def test_one_cycle_training_run_matches_torch(torch, name, kwargs):
    """OneCycleLR's rates and momenta feed real updates: the weights agree after 40 steps."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    p, q = Parameter(w.copy()), torch.nn.Parameter(torch.tensor(w))
    opt, topt = getattr(optim, name)([p], **kwargs), getattr(torch.optim, name)([q], **kwargs)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=40)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.05, total_steps=40)
    for _ in range(40):
        g = rng.standard_normal((4, 3)).astype(np.float32)
        p.grad, q.grad = g.copy(), torch.tensor(g)
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(p.data, w, atol=1e-2)
