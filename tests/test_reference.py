"""Readable reference layers (myelin.nn.reference): the second oracle for the fast kernels.

Each reference op must give the fast kernel's outputs and every gradient across the option grids of the
layer parity tests (test_conv, test_pooling, test_functional_loss, test_rnn), and PyTorch's. The switch
``reference.enabled()`` runs whole modules on them and ``reference.record()`` exposes per-step gates.
"""

from __future__ import annotations

import inspect
import itertools

import numpy as np
import pytest

import myelin
import myelin.nn.functional as F
from conftest import assert_close
from myelin import nn
from myelin.nn import reference
from test_conv import _grid as conv_grid
from test_functional_loss import CE_SHAPES, REDUCTIONS, _class_target
from test_pooling import MAX_CASES, SHAPES, _x
from test_rnn import _CELLS, _MODES, _check_parity, _twins

try:
    import torch as _torch
except ImportError:  # the PyTorch comparisons are skipped; reference vs fast still runs
    _torch = None

RTOL, ATOL = 1e-4, 1e-5
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")


def _run(call, arrays, seed=0):
    """Forward, backward with a random upstream gradient; returns (output, [grad of each input], upstream)."""
    ts = [myelin.tensor(a, requires_grad=True) for a in arrays]
    out = call(*ts)
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    out.backward(myelin.tensor(g))
    return out, [t.grad for t in ts], g


def _torch_run(call, arrays, g):
    ts = [_torch.tensor(a, requires_grad=True) for a in arrays]
    out = call(*ts)
    out.backward(_torch.tensor(g))
    return out, [t.grad for t in ts]


def _check_twins(call, arrays, torch_call=None, atol=ATOL):
    """The fast op, the reference op (through the switch) and PyTorch agree on outputs and every gradient."""
    fast, fast_grads, g = _run(call, arrays)
    with reference.enabled():
        ref, ref_grads, _ = _run(call, arrays)
    assert ref.shape == fast.shape and ref.dtype == fast.dtype
    assert_close(ref, fast, RTOL, atol, "reference output vs fast")
    for k, (a, b) in enumerate(zip(ref_grads, fast_grads)):
        assert_close(a, b, RTOL, atol * 10, f"reference grad {k} vs fast")
    if torch_call is not None and _torch is not None:
        tout, tgrads = _torch_run(torch_call, arrays, g)
        assert_close(ref, tout, RTOL, atol, "reference output vs torch")
        for k, (a, b) in enumerate(zip(ref_grads, tgrads)):
            assert_close(a, b, RTOL, atol * 10, f"reference grad {k} vs torch")


# ----------------------------------------------------------------------------- linear
@pytest.mark.parametrize("lead", [(), (3,), (2, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_twins(lead, bias):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(lead + (5,)), rng.standard_normal((3, 5))]
    arrays += [rng.standard_normal(3)] if bias else []
    arrays = [a.astype(np.float32) for a in arrays]
    tf = None if _torch is None else _torch.nn.functional.linear
    _check_twins(lambda *t: F.linear(*t), arrays, tf)
    direct, _, _ = _run(lambda *t: reference.linear(*t), arrays)
    assert_close(direct, F.linear(*[myelin.tensor(a) for a in arrays]), RTOL, ATOL, "direct call")


# ----------------------------------------------------------------------------- conv2d
@pytest.mark.parametrize("stride,padding,dilation,groups,bias,kernel,batch", conv_grid())
def test_conv2d_twins(stride, padding, dilation, groups, bias, kernel, batch):
    rng = np.random.default_rng(2)
    cin, cout = 4, 6 if groups != "dw" else 8
    g = cin if groups == "dw" else groups
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    arrays = [rng.standard_normal((batch, cin, 9, 8)), rng.standard_normal((cout, cin // g) + tuple(k)) * 0.3]
    arrays = [a.astype(np.float32) for a in arrays] + ([rng.standard_normal(cout).astype(np.float32)] if bias else [])

    def call(x, w, b=None):
        return F.conv2d(x, w, b, stride, padding, dilation, g)

    def tcall(x, w, b=None):
        return _torch.nn.functional.conv2d(x, w, b, stride, padding, dilation, g)

    _check_twins(call, arrays, tcall)


def test_conv2d_reference_unbatched_and_module_padding_modes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 7, 6)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    _check_twins(lambda a, b: F.conv2d(a, b, padding=1), [x, w])
    for mode in ("zeros", "reflect", "circular"):
        m = nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode)
        xb = myelin.tensor(x[None])
        with reference.enabled():
            ref = m(xb)
        assert_close(ref, m(xb), RTOL, ATOL, mode)


# ----------------------------------------------------------------------------- max_pool2d
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kwargs", MAX_CASES)
def test_max_pool2d_twins_with_ties(kwargs, shape):
    x = _x(np.random.default_rng(4), shape, ties=True)
    tcall = None if _torch is None else (lambda t: _torch.nn.functional.max_pool2d(t, **kwargs))
    _check_twins(lambda t: F.max_pool2d(t, **kwargs), [x], tcall)


def test_max_pool2d_reference_propagates_nan():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = np.nan
    with reference.enabled():
        out = F.max_pool2d(myelin.tensor(x), 2)
    assert np.isnan(out.data[0, 0, 0, 0]) and not np.isnan(out.data[0, 0, 1, 1])


# ----------------------------------------------------------------------------- cross_entropy
@pytest.mark.parametrize(
    ("shape", "weighted", "ignore_index", "smoothing", "reduction"),
    list(itertools.product(CE_SHAPES, [False, True], [None, 2], [0.0, 0.2], REDUCTIONS)),
)
def test_cross_entropy_class_target_twins(shape, weighted, ignore_index, smoothing, reduction):
    rng = np.random.default_rng(5)
    shp = CE_SHAPES[shape]
    a = (rng.standard_normal(shp) * 3).astype(np.float32)
    t = _class_target(rng, shp, ignore_index)
    n_classes = shp[0] if len(shp) == 1 else shp[1]
    w = rng.random(n_classes).astype(np.float32) + 0.5 if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing, "ignore_index": -100 if ignore_index is None
          else ignore_index}
    tcall = None if _torch is None else (lambda x: _torch.nn.functional.cross_entropy(
        x, _torch.tensor(t), weight=None if w is None else _torch.tensor(w), **kw))
    _check_twins(lambda x: F.cross_entropy(x, t, weight=w, **kw), [a], tcall)


@pytest.mark.parametrize(("shape", "weighted", "smoothing", "reduction"),
                         list(itertools.product(CE_SHAPES, [False, True], [0.0, 0.3], REDUCTIONS)))
def test_cross_entropy_probability_target_twins(shape, weighted, smoothing, reduction):
    rng = np.random.default_rng(6)
    shp = CE_SHAPES[shape]
    a = (rng.standard_normal(shp) * 3).astype(np.float32)
    p = rng.random(shp).astype(np.float32)
    p /= p.sum(axis=0 if len(shp) == 1 else 1, keepdims=True)
    w = rng.random(shp[0 if len(shp) == 1 else 1]).astype(np.float32) + 0.5 if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    tcall = None if _torch is None else (lambda x, q: _torch.nn.functional.cross_entropy(
        x, q, weight=None if w is None else _torch.tensor(w), **kw))
    _check_twins(lambda x, q: F.cross_entropy(x, q, weight=w, **kw), [a, p], tcall)


# ----------------------------------------------------------------------------- recurrent layers and cells
def _module_grads(m, x, states):
    """Outputs, final states and every gradient (input, states, parameters) of one module call."""
    xm = myelin.tensor(x, requires_grad=True)
    sm = [myelin.tensor(s, requires_grad=True) for s in states]
    hx = (tuple(sm) if len(sm) == 2 else sm[0]) if sm else None
    out, fin = m(xm, hx)
    fin = fin if isinstance(fin, tuple) else (fin,)
    rng = np.random.default_rng(8)
    loss = sum((o * myelin.tensor(rng.standard_normal(o.shape).astype(np.float32))).sum() for o in (out, *fin))
    loss.backward()
    return [out, *fin, xm.grad, *[s.grad for s in sm]] + [p.grad for _, p in m.named_parameters()]


@pytest.mark.parametrize("mode", list(_MODES))
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (1, True), (2, False), (2, True)])
@pytest.mark.parametrize("batch_first,bias,with_states", list(itertools.product([False, True], repeat=3)))
def test_recurrent_module_twins(mode, num_layers, bidirectional, batch_first, bias, with_states):
    cls, _, extra = _MODES[mode]
    myelin.manual_seed(0)
    m = cls(5, 6, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias, **extra)
    rng = np.random.default_rng(1)
    D = 2 if bidirectional else 1
    x = rng.standard_normal((3, 6, 5) if batch_first else (6, 3, 5)).astype(np.float32)
    states = [rng.standard_normal((num_layers * D, 3, 6)).astype(np.float32)
              for _ in range(2 if mode == "lstm" else 1)] if with_states else []
    fast = _module_grads(m, x, states)
    m.zero_grad()
    with reference.enabled():
        ref = _module_grads(m, x, states)
    assert len(ref) == len(fast)
    for k, (a, b) in enumerate(zip(ref, fast)):
        assert_close(a, b, RTOL, ATOL, f"value {k}")


@pytest.mark.parametrize("mode", list(_MODES))
def test_recurrent_reference_matches_torch(torch, mode):
    m, t = _twins(torch, mode, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3, 5)).astype(np.float32)
    states = [rng.standard_normal((4, 3, 6)).astype(np.float32) for _ in range(2 if mode == "lstm" else 1)]
    with reference.enabled():
        _check_parity(torch, m, t, mode, x, states)


def test_lstm_projection_reference_matches_fast():
    myelin.manual_seed(1)
    m = nn.LSTM(4, 6, proj_size=3, num_layers=2, bidirectional=True)
    x = np.random.default_rng(2).standard_normal((5, 2, 4)).astype(np.float32)
    fast = _module_grads(m, x, [])
    m.zero_grad()
    with reference.enabled():
        ref = _module_grads(m, x, [])
    for k, (a, b) in enumerate(zip(ref, fast)):
        assert_close(a, b, RTOL, ATOL, f"value {k}")


@pytest.mark.parametrize("mode", list(_CELLS))
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_run_the_readable_cell_and_match(torch, mode, with_state):
    cls, tname, extra = _CELLS[mode]
    m, t = cls(5, 6, **extra), getattr(torch.nn, tname)(5, 6, **extra)
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    states = [rng.standard_normal((3, 6)).astype(np.float32) for _ in range(2 if mode == "lstm" else 1)]
    hx_m = (tuple(myelin.tensor(s) for s in states) if mode == "lstm" else myelin.tensor(states[0])) \
        if with_state else None
    hx_t = (tuple(torch.tensor(s) for s in states) if mode == "lstm" else torch.tensor(states[0])) \
        if with_state else None
    with reference.enabled(), reference.record() as steps:
        out = m(myelin.tensor(x), hx_m)
    ref = t(torch.tensor(x), hx_t)
    outs = out if isinstance(out, tuple) else (out,)
    refs = ref if isinstance(ref, tuple) else (ref,)
    for a, b in zip(outs, refs):
        assert_close(a, b, RTOL, ATOL, "cell output")
    assert len(steps) == 1
    gates = {"lstm": "ifgoch", "gru": "rznh", "rnn_tanh": "ah", "rnn_relu": "ah"}[mode]
    assert set(gates) | {"cell"} == set(steps[0])


def test_lstm_gates_are_recorded_per_step_and_have_gradients():
    myelin.manual_seed(3)
    lstm = nn.LSTM(3, 4)
    x = myelin.randn(7, 2, 3)
    with reference.enabled(), reference.record() as steps:
        out, (_h, c) = lstm(x)
        for s in steps:
            s["f"].retain_grad()
            s["c"].retain_grad()
    out.sum().backward()
    assert len(steps) == 7
    f = np.stack([s["f"].data for s in steps])
    assert f.shape == (7, 2, 4) and ((f > 0) & (f < 1)).all()
    assert_close(steps[-1]["c"], c[0], 1e-6, 1e-6, "last cell state")
    assert all(s["f"].grad is not None for s in steps)
    assert not reference.is_enabled()


def test_switch_is_off_by_default_restores_and_nests():
    assert not reference.is_enabled()
    with reference.enabled():
        assert reference.is_enabled()
        with reference.enabled(False):
            assert not reference.is_enabled()
        assert reference.is_enabled()
    with pytest.raises(RuntimeError), reference.enabled():
        raise RuntimeError("boom")
    assert not reference.is_enabled()


def test_reference_builds_many_small_nodes_fast_builds_one():
    lstm = nn.LSTM(3, 4)
    x = myelin.randn(5, 2, 3)

    def count(t):
        seen, stack = set(), [t]
        while stack:
            n = stack.pop()
            if id(n) not in seen:
                seen.add(id(n))
                stack.extend(n._parents)
        return len(seen)

    fast = count(lstm(x)[0])
    with reference.enabled():
        ref = count(lstm(x)[0])
    assert ref > 10 * fast


@pytest.mark.parametrize("name", reference.__all__)
def test_reference_functions_are_short(name):
    """The promise to a learner: each reference op reads in one screen (about 30 lines of body)."""
    fn = getattr(reference, name)
    src = inspect.getsource(fn)
    doc = inspect.getdoc(fn) or ""
    body = [ln for ln in src.splitlines() if ln.strip()]
    assert len(body) - len(doc.splitlines()) <= 36, name


def test_reference_gradcheck_float64():
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    assert myelin.gradcheck(lambda a, b: reference.conv2d(a, b, stride=2, padding=1), [x, w])
    assert myelin.gradcheck(lambda a: reference.max_pool2d(a, 3, 2, 1, ceil_mode=True), [x])
    h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    wi, wh = rng.standard_normal((12, 4)), rng.standard_normal((12, 3))
    assert myelin.gradcheck(lambda xx, hh, cc, a, b: reference.lstm_cell(xx, (hh, cc), a, b)[1],
                            [rng.standard_normal((2, 4)), h, c, wi, wh])
