"""Recurrent layers: float64 gradient checks of the fused kernels, PyTorch parity of the modules
(outputs, final states and every gradient), inter-layer dropout, cells, errors, graph shape."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin.autograd import gradcheck
from myelin.nn.functional import rnn as R
from myelin.nn.module import Module
from myelin.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell

L, N, I, H = 4, 2, 3, 3
RTOL, ATOL = 1e-4, 1e-5


def _params(rng: np.random.Generator, gates: int, bias: bool = True) -> list:
    shapes = [(gates * H, I), (gates * H, H)] + ([(gates * H,), (gates * H,)] if bias else [])
    return [rng.uniform(-0.8, 0.8, s) for s in shapes]


def _split(ws: list) -> tuple:
    return tuple(ws) + (None,) * (4 - len(ws))


# ============================================================================ gradient checks (float64)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("reverse", [False, True])
def test_rnn_layer_gradcheck(rng, nonlinearity, reverse):
    x, h0 = rng.standard_normal((L, N, I)), rng.standard_normal((N, H))
    ws = _params(rng, 1)
    if nonlinearity == "relu":  # keep pre-activations away from the kink
        ws[3] = ws[3] + 0.5

    def fn(x, h0, *ws):
        return R.rnn_layer(x, h0, *ws, nonlinearity=nonlinearity, reverse=reverse)

    assert gradcheck(fn, [x, h0, *ws])


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_layer_gradcheck(rng, reverse, bias):
    x, h0, c0 = rng.standard_normal((L, N, I)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    ws = _params(rng, 4, bias)
    assert gradcheck(lambda x, h0, c0, *w: R.lstm_layer(x, (h0, c0), *_split(w), reverse=reverse), [x, h0, c0, *ws])


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_gru_layer_gradcheck(rng, reverse, bias):
    x, h0 = rng.standard_normal((L, N, I)), rng.standard_normal((N, H))
    ws = _params(rng, 3, bias)
    assert gradcheck(lambda x, h0, *w: R.gru_layer(x, h0, *_split(w), reverse=reverse), [x, h0, *ws])


def test_layers_gradcheck_without_initial_state(rng):
    x = rng.standard_normal((L, N, I))
    assert gradcheck(lambda x, *w: R.lstm_layer(x, None, *w), [x, *_params(rng, 4)])
    assert gradcheck(lambda x, *w: R.gru_layer(x, None, *w), [x, *_params(rng, 3)])
    assert gradcheck(lambda x, *w: R.rnn_layer(x, None, *w), [x, *_params(rng, 1)])


def test_cells_gradcheck(rng):
    x, h, c = rng.standard_normal((N, I)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    assert gradcheck(lambda x, h, c, *w: R.lstm_cell(x, (h, c), *w), [x, h, c, *_params(rng, 4)])
    assert gradcheck(lambda x, h, *w: R.gru_cell(x, h, *w), [x, h, *_params(rng, 3)])
    assert gradcheck(lambda x, h, *w: R.rnn_cell(x, h, *w), [x, h, *_params(rng, 1)])
    ws = _params(rng, 1)
    ws[3] = ws[3] + 0.5
    assert gradcheck(lambda x, h, *w: R.rnn_cell(x, h, *w, nonlinearity="relu"), [x, h, *ws])


def test_gradcheck_catches_a_wrong_kernel(rng, monkeypatch):
    """The checks above can fail: a perturbed backward is caught."""
    from myelin.nn.functional._fast import rnn_kernels as K

    real = K.gru_backward

    def wrong(*args):
        dx, states, *rest = real(*args)
        return (dx * 1.01, states, *rest)

    monkeypatch.setattr(K, "gru_backward", wrong)
    x = rng.standard_normal((L, N, I))
    with pytest.raises(AssertionError):
        gradcheck(lambda x, *w: R.gru_layer(x, None, *w), [x, *_params(rng, 3)])


# ============================================================================ PyTorch parity (float32)
_MODES = {"rnn_tanh": (RNN, "RNN", {"nonlinearity": "tanh"}), "rnn_relu": (RNN, "RNN", {"nonlinearity": "relu"}),
          "lstm": (LSTM, "LSTM", {}), "gru": (GRU, "GRU", {})}


def _twins(torch, mode: str, input_size: int = 5, hidden: int = 6, **kwargs):
    cls, tname, extra = _MODES[mode]
    m = cls(input_size, hidden, **extra, **kwargs)
    t = getattr(torch.nn, tname)(input_size, hidden, **extra, **kwargs)
    assert list(m.state_dict()) == list(t.state_dict())
    for k, v in t.state_dict().items():
        assert m.state_dict()[k].shape == tuple(v.shape), k
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return m, t


def _check_parity(torch, m, t, mode, x_np, states_np, use_output=True):
    """Same outputs, final states and gradients (input, initial states, every parameter)."""
    rng = np.random.default_rng(7)
    xm = myelin.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    sm = [myelin.tensor(s, requires_grad=True) for s in states_np]
    st = [torch.tensor(s, requires_grad=True) for s in states_np]
    lstm = mode == "lstm"
    if lstm:
        out_m, fin_m = m(xm, tuple(sm) if sm else None)
        out_t, fin_t = t(xt, tuple(st) if st else None)
    else:
        out_m, fm = m(xm, sm[0] if sm else None)
        out_t, ft = t(xt, st[0] if st else None)
        fin_m, fin_t = (fm,), (ft,)
    assert out_m.dtype == np.float32
    assert_close(out_m, out_t, RTOL, ATOL, "output")
    for a, b in zip(fin_m, fin_t):
        assert_close(a, b, RTOL, ATOL, "final state")
    loss_m = loss_t = 0
    pairs = ([(out_m, out_t)] if use_output else []) + list(zip(fin_m, fin_t))
    for a, b in pairs:
        w = rng.standard_normal(a.shape).astype(np.float32)
        loss_m = loss_m + (a * myelin.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_m.backward()
    loss_t.backward()
    assert_close(xm.grad, xt.grad, RTOL, ATOL, "input grad")
    for a, b in zip(sm, st):
        assert_close(a.grad, b.grad, RTOL, ATOL, "initial state grad")
    tp = dict(t.named_parameters())
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.dtype == np.float32, name
        assert_close(p.grad, tp[name].grad, RTOL, ATOL, name)


@pytest.mark.parametrize("mode", list(_MODES))
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (1, True), (2, False), (2, True)])
@pytest.mark.parametrize("batch_first,bias,with_states", list(itertools.product([False, True], repeat=3)))
def test_module_parity(torch, mode, num_layers, bidirectional, batch_first, bias, with_states):
    m, t = _twins(torch, mode, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                  bias=bias)
    rng = np.random.default_rng(1)
    seq, batch, D = 6, 3, 2 if bidirectional else 1
    x = rng.standard_normal((batch, seq, 5) if batch_first else (seq, batch, 5)).astype(np.float32)
    n_states = 2 if mode == "lstm" else 1
    states = [rng.standard_normal((num_layers * D, batch, 6)).astype(np.float32) for _ in range(n_states)]
    _check_parity(torch, m, t, mode, x, states if with_states else [])


@pytest.mark.parametrize("mode", list(_MODES))
@pytest.mark.parametrize("with_states", [False, True])
def test_module_parity_unbatched(torch, mode, with_states):
    m, t = _twins(torch, mode, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((7, 5)).astype(np.float32)
    n_states = 2 if mode == "lstm" else 1
    states = [rng.standard_normal((4, 6)).astype(np.float32) for _ in range(n_states)] if with_states else []
    _check_parity(torch, m, t, mode, x, states)


@pytest.mark.parametrize("mode", list(_MODES))
def test_parity_when_only_the_final_state_is_used(torch, mode):
    """The benchmark's pattern: the loss reads h_n (and c_n), never the output sequence."""
    m, t = _twins(torch, mode, input_size=8, hidden=16, num_layers=2, batch_first=True)
    x = np.random.default_rng(3).standard_normal((4, 12, 8)).astype(np.float32)
    _check_parity(torch, m, t, mode, x, [], use_output=False)


@pytest.mark.parametrize("mode", list(_MODES))
def test_parity_longer_sequence_realistic_sizes(torch, mode):
    m, t = _twins(torch, mode, input_size=16, hidden=32, batch_first=True)
    x = np.random.default_rng(4).standard_normal((8, 40, 16)).astype(np.float32)
    _check_parity(torch, m, t, mode, x, [])


@pytest.mark.parametrize("chunk_bytes,min_columns", [(1, 1), (20_000, None), (2_000, 27), (None, None)])
@pytest.mark.parametrize("use_output", [True, False])
def test_lstm_backward_in_chunks_matches_torch(torch, monkeypatch, chunk_bytes, min_columns, use_output):
    """The LSTM forward (gates and multipliers) and backward run in chunks of steps sized from the
    cache (one chunk at these sizes by default); one step per chunk, partial last chunks and the
    backward's floor on columns per chunk (for weight gradients larger than the cache) give the
    same outputs and gradients."""
    from myelin.nn.functional._fast import rnn_kernels as K

    if chunk_bytes is not None:
        # 1 byte (and no column floor): chunks of one step. 20 kB: forward chunks of 6 steps (23 = 3 * 6 + 5),
        # backward chunks of 8 (layer 1) and 6 (layer 2). 2 kB with a floor of 27 columns (3 steps of 9):
        # the weight gradient is "larger than the cache", so backward chunks of 3 (23 = 7 * 3 + 2).
        monkeypatch.setattr(K, "_CHUNK_BYTES", chunk_bytes)
    if min_columns is not None:
        monkeypatch.setattr(K, "_MIN_GEMM_COLUMNS", min_columns)
    m, t = _twins(torch, "lstm", input_size=7, hidden=12, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((23, 9, 7)).astype(np.float32)
    states = [rng.standard_normal((4, 9, 12)).astype(np.float32) for _ in range(2)]
    _check_parity(torch, m, t, "lstm", x, states, use_output=use_output)


@pytest.mark.parametrize("frozen", [("weight_ih",), ("weight_hh",), ("weight_ih", "weight_hh"),
                                    ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), ("bias_ih", "bias_hh")])
def test_lstm_gradients_with_frozen_parameters(torch, frozen):
    """Only the requested weight gradients are computed (the weight GEMM covers just the rows it needs)."""
    m, t = _twins(torch, "lstm", input_size=5, hidden=6, num_layers=2)
    for model in (m, t):
        for name, p in model.named_parameters():
            if name.rsplit("_l", 1)[0] in frozen:
                p.requires_grad_(False)
    x = np.random.default_rng(6).standard_normal((9, 3, 5)).astype(np.float32)
    xm, xt = myelin.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (m(xm)[0] ** 2).sum().backward()
    (t(xt)[0] ** 2).sum().backward()
    assert_close(xm.grad, xt.grad, RTOL, ATOL, "input grad")
    tp = dict(t.named_parameters())
    for name, p in m.named_parameters():
        if name.rsplit("_l", 1)[0] in frozen:
            assert p.grad is None and tp[name].grad is None, name
        else:
            assert_close(p.grad, tp[name].grad, RTOL, ATOL, name)


def test_lstm_stays_finite_at_extreme_preactivations(torch):
    """Huge weights saturate every gate: no overflow warning, and the same values as PyTorch."""
    m, t = _twins(torch, "lstm", input_size=4, hidden=6)
    big = {k: v * 300 for k, v in m.state_dict().items()}
    m.load_state_dict(big)
    t.load_state_dict({k: torch.tensor(v) for k, v in big.items()})
    x = np.random.default_rng(8).standard_normal((5, 2, 4)).astype(np.float32) * 10
    with np.errstate(all="raise"):
        out_m, (_, c_m) = m(myelin.tensor(x))
        (out_m.sum() + c_m.sum()).backward()
    out_t, (_, c_t) = t(torch.tensor(x))
    (out_t.sum() + c_t.sum()).backward()
    assert_close(out_m, out_t, RTOL, ATOL, "output")
    assert_close(c_m, c_t, RTOL, ATOL, "c_n")
    tp = dict(t.named_parameters())
    for name, p in m.named_parameters():
        assert np.isfinite(p.grad).all(), name
        assert_close(p.grad, tp[name].grad, RTOL, ATOL, name)


def test_kernel_pool_reuses_blocks_and_rounds_big_ones_up():
    from myelin.nn.functional._fast.rnn_kernels import _Pool

    pool = _Pool(limit_bytes=64 << 20)
    f32 = np.dtype(np.float32)
    small = pool.take((100, 200), f32)  # 80 kB: exact size
    assert small.shape == (100, 200) and small.dtype == f32 and small.flags.c_contiguous
    assert small.base.nbytes == 80_000
    big = pool.take((300, 1000), f32)  # 1.2 MB: a huge-page-sized block behind it
    assert big.base.nbytes == _Pool.HUGE_BYTES
    tiny = pool.take((3, 4), f32)  # below MIN_BYTES: plain array, never pooled
    assert tiny.base is None
    big_block, small_block = big.base, small.base
    pool.give(small, big, tiny)
    again = pool.take((400, 1000), f32)  # 1.6 MB fits the free 4 MiB block
    assert again.base is big_block
    reused = pool.take((100, 180), f32)  # 72 kB fits the free 80 kB block (at most twice the size)
    assert reused.base is small_block
    pool.give(again)
    fresh = pool.take((100, 180), f32)  # the 4 MiB block is far too big for 72 kB: a new block
    assert fresh.base is not big_block and fresh.base.nbytes == 72_000
    pool.give(again)  # giving twice does not list a block twice
    assert sum(b is big_block for b in pool._free) == 1


# ------------------------------------------------------------------ LSTM with a projection (proj_size)
def test_lstm_projection_gradcheck(rng):
    P = 2
    x, h0, c0 = rng.standard_normal((L, N, I)), rng.standard_normal((N, P)), rng.standard_normal((N, H))
    ws = [rng.uniform(-0.8, 0.8, s) for s in ((4 * H, I), (4 * H, P), (4 * H,), (4 * H,), (P, H))]
    for reverse in (False, True):
        assert gradcheck(lambda x, h0, c0, wi, wh, bi, bh, wr, rev=reverse: R.lstm_layer(
            x, (h0, c0), wi, wh, bi, bh, reverse=rev, w_hr=wr), [x, h0, c0, *ws])


@pytest.mark.parametrize("num_layers,bidirectional,batch_first,bias", [
    (1, False, False, True), (2, True, True, True), (3, False, False, False), (2, True, False, False)])
@pytest.mark.parametrize("with_states", [False, True])
def test_lstm_projection_parity(torch, num_layers, bidirectional, batch_first, bias, with_states):
    import warnings

    m, t = _twins(torch, "lstm", input_size=5, hidden=6, proj_size=4, num_layers=num_layers,
                  bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    assert "weight_hr_l0" in m.state_dict() and m.weight_hh_l0.shape == (24, 4)
    rng = np.random.default_rng(11)
    D = 2 if bidirectional else 1
    x = rng.standard_normal((3, 7, 5) if batch_first else (7, 3, 5)).astype(np.float32)
    states = [rng.standard_normal((num_layers * D, 3, size)).astype(np.float32) for size in (4, 6)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch: "LSTM with projections is not supported with oneDNN"
        _check_parity(torch, m, t, "lstm", x, states if with_states else [])


@pytest.mark.parametrize("chunk_bytes", [1, None])
def test_lstm_projection_unbatched_chunked_and_frozen(torch, monkeypatch, chunk_bytes):
    import warnings

    from myelin.nn.functional._fast import rnn_kernels as K

    if chunk_bytes is not None:  # one step per chunk, forward and backward
        monkeypatch.setattr(K, "_CHUNK_BYTES", chunk_bytes)
        monkeypatch.setattr(K, "_MIN_GEMM_COLUMNS", 1)
    m, t = _twins(torch, "lstm", input_size=5, hidden=6, proj_size=3, num_layers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        x = np.random.default_rng(12).standard_normal((9, 5)).astype(np.float32)  # unbatched
        _check_parity(torch, m, t, "lstm", x, [np.ones((2, 3), np.float32), np.ones((2, 6), np.float32)])
        for model in (m, t):  # only the projection trains
            for name, p in model.named_parameters():
                if not name.startswith("weight_hr"):
                    p.requires_grad_(False)
                p.grad = None
        out_m, _ = m(myelin.tensor(x))
        out_t, _ = t(torch.tensor(x))
        (out_m ** 2).sum().backward()
        (out_t ** 2).sum().backward()
    tp = dict(t.named_parameters())
    for name, p in m.named_parameters():
        if name.startswith("weight_hr"):
            assert_close(p.grad, tp[name].grad, RTOL, ATOL, name)
        else:
            assert p.grad is None, name


def test_lstm_projection_state_shapes_errors_config_and_no_grad(tmp_path):
    m = LSTM(5, 6, proj_size=2, num_layers=2)
    assert repr(m) == "LSTM(5, 6, proj_size=2, num_layers=2)"
    x = myelin.randn(4, 3, 5)
    with myelin.no_grad():
        out, (h_n, c_n) = m(x)
    assert out.shape == (4, 3, 2) and h_n.shape == (2, 3, 2) and c_n.shape == (2, 3, 6)
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 3, 2\)"):
        m(x, (myelin.zeros(2, 3, 6), myelin.zeros(2, 3, 6)))
    with pytest.raises(ValueError, match=r"expected c0 of shape \(2, 3, 6\)"):
        m(x, (myelin.zeros(2, 3, 2), myelin.zeros(2, 3, 2)))
    path = tmp_path / "proj.safetensors"
    myelin.save(m, path)
    again = myelin.load(path)
    assert again.proj_size == 2
    with myelin.no_grad():
        assert np.array_equal(again(x)[0].numpy(), out.numpy())


def test_twins_differ_without_loading_weights(torch):
    """The parity checks can fail: a model with its own initial weights does not match."""
    m, t = LSTM(5, 6), torch.nn.LSTM(5, 6)
    x = np.ones((3, 2, 5), np.float32)
    with pytest.raises(AssertionError):
        assert_close(m(myelin.tensor(x))[0], t(torch.tensor(x))[0], RTOL, ATOL)


# ============================================================================ cells parity
_CELLS = {"rnn_tanh": (RNNCell, "RNNCell", {"nonlinearity": "tanh"}),
          "rnn_relu": (RNNCell, "RNNCell", {"nonlinearity": "relu"}),
          "lstm": (LSTMCell, "LSTMCell", {}), "gru": (GRUCell, "GRUCell", {})}


@pytest.mark.parametrize("mode", list(_CELLS))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_parity(torch, mode, bias, with_state, batched):
    cls, tname, extra = _CELLS[mode]
    m, t = cls(5, 6, bias=bias, **extra), getattr(torch.nn, tname)(5, 6, bias=bias, **extra)
    assert list(m.state_dict()) == list(t.state_dict())
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    rng = np.random.default_rng(5)
    lead = (3,) if batched else ()
    x = rng.standard_normal(lead + (5,)).astype(np.float32)
    n_states = 2 if mode == "lstm" else 1
    states = [rng.standard_normal(lead + (6,)).astype(np.float32) for _ in range(n_states)] if with_state else []
    xm, xt = myelin.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    sm = [myelin.tensor(s, requires_grad=True) for s in states]
    st = [torch.tensor(s, requires_grad=True) for s in states]
    if mode == "lstm":
        om, ot = m(xm, tuple(sm) if sm else None), t(xt, tuple(st) if st else None)
    else:
        om, ot = (m(xm, sm[0] if sm else None),), (t(xt, st[0] if st else None),)
    w = [rng.standard_normal(o.shape).astype(np.float32) for o in om]
    sum((a * myelin.tensor(c)).sum() for a, c in zip(om, w)).backward()
    sum((b * torch.tensor(c)).sum() for b, c in zip(ot, w)).backward()
    for a, b in zip(om, ot):
        assert a.shape == tuple(b.shape)
        assert_close(a, b, RTOL, ATOL, "cell output")
    assert_close(xm.grad, xt.grad, RTOL, ATOL, "input grad")
    for a, b in zip(sm, st):
        assert_close(a.grad, b.grad, RTOL, ATOL, "state grad")
    tp = dict(t.named_parameters())
    for name, p in m.named_parameters():
        assert_close(p.grad, tp[name].grad, RTOL, ATOL, name)


# ============================================================================ dropout between layers
def _dropout_probe(p: float) -> RNN:
    """Two ReLU layers where layer 2 copies its (dropped-out) input: output = dropout(layer-1 output)."""
    m = RNN(4, 8, num_layers=2, nonlinearity="relu", dropout=p)
    sd = {k: np.zeros_like(v) for k, v in m.state_dict().items()}
    sd["weight_ih_l0"] = np.full((8, 4), 0.25, np.float32)
    sd["bias_ih_l0"] = np.full((8,), 0.5, np.float32)
    sd["weight_ih_l1"] = np.eye(8, dtype=np.float32)
    m.load_state_dict(sd)
    return m


def test_dropout_between_layers_active_in_train_off_in_eval():
    p = 0.3
    m = _dropout_probe(p)
    x = myelin.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (50, 40, 4)).astype(np.float32))
    m.eval()
    clean = m(x)[0].data
    assert (clean > 0).all()
    np.testing.assert_array_equal(m(x)[0].data, clean)  # deterministic in eval
    m.train()
    out = m(x)[0].data
    dropped = out == 0
    frac = dropped.mean()
    sigma = math.sqrt(p * (1 - p) / out.size)
    assert abs(frac - p) < 5 * sigma, frac
    np.testing.assert_allclose(out[~dropped], clean[~dropped] / (1 - p), rtol=1e-5)
    assert not np.array_equal(m(x)[0].data, out)  # a fresh mask each call


def test_dropout_is_reproducible_with_manual_seed():
    m = _dropout_probe(0.5)
    x = myelin.ones(5, 3, 4)
    myelin.manual_seed(11)
    a = m(x)[0].data
    myelin.manual_seed(11)
    np.testing.assert_array_equal(m(x)[0].data, a)


def test_no_dropout_after_the_last_layer():
    m = RNN(4, 8, num_layers=1, nonlinearity="relu", dropout=0.0)
    m.train()
    x = myelin.ones(5, 3, 4)
    np.testing.assert_array_equal(m(x)[0].data, m(x)[0].data)


# ============================================================================ init, config, graph
@pytest.mark.parametrize("cls", [RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell])
def test_init_uniform_bound_and_seeded(cls):
    myelin.manual_seed(3)
    m = cls(20, 64)
    bound = 1 / math.sqrt(64)
    values = np.concatenate([p.data.ravel() for p in m.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound
    myelin.manual_seed(3)
    np.testing.assert_array_equal(np.concatenate([p.data.ravel() for p in cls(20, 64).parameters()]), values)


def test_parameter_shapes_match_pytorch(torch):
    for kwargs in ({}, {"num_layers": 3, "bidirectional": True}, {"bias": False, "num_layers": 2}):
        for cls, tcls in ((RNN, torch.nn.RNN), (LSTM, torch.nn.LSTM), (GRU, torch.nn.GRU)):
            ours = {k: v.shape for k, v in cls(7, 5, **kwargs).state_dict().items()}
            assert ours == {k: tuple(v.shape) for k, v in tcls(7, 5, **kwargs).state_dict().items()}


def test_config_round_trip():
    from myelin.nn.registry import from_config

    m = LSTM(4, 6, num_layers=2, batch_first=True, dropout=0.25, bidirectional=True)
    cfg = m.get_config()
    assert cfg["type"] == "LSTM" and cfg["args"]["hidden_size"] == 6
    m2 = from_config(cfg)
    assert isinstance(m2, LSTM) and repr(m2) == repr(m)
    assert repr(RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"


def _graph_ops(t: myelin.Tensor) -> list[str]:
    seen, stack, ops = set(), [t], []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if n._backward is not None:
            ops.append(n._op)
        stack.extend(n._parents)
    return ops


def test_one_node_per_layer_and_direction_independent_of_length():
    m = LSTM(4, 5, num_layers=2, bidirectional=True)
    sizes = []
    for seq in (3, 40):
        out, (h, c) = m(myelin.randn(seq, 2, 4))
        ops = _graph_ops(out.sum() + h.sum() + c.sum())
        assert ops.count("lstm") == 4
        sizes.append(len(ops))
    assert sizes[0] == sizes[1]


def test_no_graph_under_no_grad():
    m = GRU(4, 5)
    with myelin.no_grad():
        out, h = m(myelin.randn(6, 2, 4))
    assert not out.requires_grad and out.grad_fn is None and not h.requires_grad


def test_backward_twice_with_retain_graph_accumulates():
    m = LSTM(3, 4)
    x = myelin.randn(5, 2, 3)
    out, (h, c) = m(x)
    loss = out.sum() + c.sum()
    loss.backward(retain_graph=True)
    first = m.weight_hh_l0.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(m.weight_hh_l0.grad, 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError):
        h.sum().backward()  # the graph was freed by the second backward


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize("grad", [True, False])
def test_results_survive_later_calls(cls, grad):
    """Work arrays are reused across calls; outputs and final states handed out never are."""
    m = cls(3, 4, num_layers=2)
    x1, x2 = myelin.randn(6, 2, 3), myelin.randn(9, 2, 3)
    with myelin.no_grad():
        expected = m(x1)
    with myelin.set_grad_enabled(grad):
        first = m(x1)
        for _ in range(3):
            later = m(x2)
            if grad:
                (later[0].sum() + later[0].mean()).backward()
    flat = lambda r: [r[0], *(r[1] if isinstance(r[1], tuple) else (r[1],))]
    for a, b in zip(flat(first), flat(expected)):
        np.testing.assert_array_equal(a.data, b.data)
    if grad:
        m.zero_grad()
        flat(first)[-1].sum().backward()  # the first graph's saved activations are intact
        w = m.weight_hh_l0.grad.data.copy()
        m.zero_grad()
        flat(cls.forward(m, x1))[-1].sum().backward()
        np.testing.assert_allclose(w - m.weight_hh_l0.grad, 0, atol=1e-6)


def test_input_gradient_skipped_when_not_required():
    m = GRU(3, 4)
    x = myelin.randn(5, 2, 3)
    m(x)[1].sum().backward()
    assert x.grad is None and m.weight_ih_l0.grad is not None


# ============================================================================ errors
class _Net(Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = LSTM(64, 128, batch_first=True)

    def forward(self, x):
        return self.encoder(x)


def test_wrong_input_size_names_module_place_and_shapes():
    net = _Net()
    with pytest.raises(ValueError) as err:
        net(myelin.zeros(32, 50, 32))
    assert str(err.value) == "LSTM(64, 128, batch_first=True) at 'encoder' expected input (N, L, 64), got (32, 50, 32)"


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (5,), (3, 2, 0)])
def test_wrong_input_dims(shape):
    with pytest.raises(ValueError, match=r"expected input \(L, N, 5\) or unbatched|expected input"):
        GRU(5, 4)(myelin.zeros(*shape))


def test_wrong_initial_state_shapes():
    m = LSTM(5, 4, num_layers=2)
    x = myelin.zeros(3, 6, 5)
    good = myelin.zeros(2, 6, 4)
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 6, 4\), got \(1, 6, 4\)"):
        m(x, (myelin.zeros(1, 6, 4), good))
    with pytest.raises(ValueError, match=r"expected c0 of shape \(2, 6, 4\), got \(2, 6, 5\)"):
        m(x, (good, myelin.zeros(2, 6, 5)))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 6, 4\)"):
        GRU(5, 4, num_layers=2)(x, myelin.zeros(2, 4))
    with pytest.raises(ValueError, match=r"expected hx of shape \(3, 4\), got \(2, 4\)"):
        GRUCell(5, 4)(myelin.zeros(3, 5), myelin.zeros(2, 4))
    with pytest.raises(ValueError, match="tuple"):
        m(x, good)


def test_integer_input_is_rejected():
    with pytest.raises(TypeError, match="floating-point"):
        LSTM(3, 4)(myelin.tensor(np.ones((2, 1, 3), np.int64)))


def test_constructor_errors():
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        LSTM(4, 8, proj_size=8)
    with pytest.raises(ValueError, match="proj_size"):
        LSTM(4, 8, proj_size=-1)
    with pytest.raises(ValueError, match="only by LSTM"):
        RNNBase("GRU", 4, 8, proj_size=2)  # the shared constructor guards the mode too
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(4, 8, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        GRU(4, 8, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size"):
        LSTM(4, 0)
    with pytest.warns(UserWarning, match="dropout"):
        LSTM(4, 8, dropout=0.2)


def test_no_kernel_helper_parameter_is_none_at_every_call():
    """A parameter that every call passes as None (or leaves at a None default) is dead code."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(R.K))
    funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    calls: dict[str, list[ast.Call]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in funcs:
            calls.setdefault(node.func.id, []).append(node)

    def _passed(c: ast.Call, i: int, arg: str, defaults: dict) -> ast.expr | None:
        if i < len(c.args):
            return c.args[i]
        kw = [k.value for k in c.keywords if k.arg == arg]
        return kw[0] if kw else defaults.get(arg)

    def is_none(e: ast.expr | None) -> bool:
        return isinstance(e, ast.Constant) and e.value is None

    dead = []
    for name, sites in calls.items():
        args = funcs[name].args
        params = args.posonlyargs + args.args
        defaults = dict(zip([p.arg for p in params][len(params) - len(args.defaults):], args.defaults))
        for i, p in enumerate(params):
            if any(isinstance(a, ast.Starred) for c in sites for a in c.args):
                continue
            if all(is_none(_passed(c, i, p.arg, defaults)) for c in sites):
                dead.append(f"{name}({p.arg})")
    assert not dead, f"always None: {dead}"
