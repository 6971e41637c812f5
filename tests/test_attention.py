"""Attention (issue 16): F.scaled_dot_product_attention, nn.MultiheadAttention, nn.TransformerEncoderLayer and
nn.TransformerEncoder against PyTorch (outputs and every gradient), float64 gradchecks, state_dict layout,
default init, configs and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import myelin
import myelin.nn.functional as F
from conftest import assert_close
from myelin import nn
from myelin.autograd.gradcheck import gradcheck
from myelin.nn.functional.attention import attention_reference

RTOL, ATOL = 1e-4, 1e-5


def _grad(t):
    g = t.grad
    return g.data if isinstance(g, myelin.Tensor) else g


def _x(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _load(ours, theirs):
    sd = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict(sd)


# ----------------------------------------------------------------------------- scaled dot-product attention
SDPA = [
    ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 6), {}),
    ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 6), {"is_causal": True}),
    ((2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 6, 8), {"is_causal": True, "scale": 0.3}),
    ((2, 5, 8), (2, 7, 8), (2, 7, 6), {"mask": "bool"}),
    ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 6), {"mask": "float"}),
    ((5, 8), (1, 7, 8), (7, 6), {}),  # batch dimensions broadcast
]


@pytest.mark.parametrize(("qs", "ks", "vs", "kwargs"), SDPA)
def test_sdpa_matches_torch(torch, rng, qs, ks, vs, kwargs):
    kwargs = dict(kwargs)
    arrays = [_x(rng, *s) for s in (qs, ks, vs)]
    ms = [myelin.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    kind = kwargs.pop("mask", None)
    mm = mt = None
    if kind == "bool":
        m = rng.random((qs[-2], ks[-2])) > 0.4
        m[:, 0] = True
        mm, mt = myelin.tensor(m), torch.tensor(m)
    elif kind == "float":
        m = _x(rng, qs[0], 1, qs[-2], ks[-2])
        mm, mt = myelin.tensor(m, requires_grad=True), torch.tensor(m, requires_grad=True)
    out = F.scaled_dot_product_attention(*ms, attn_mask=mm, **kwargs)
    ref = torch.nn.functional.scaled_dot_product_attention(*ts, attn_mask=mt, **kwargs)
    assert_close(out, ref, RTOL, ATOL, "output")
    g = _x(rng, *ref.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    for name, m_, t_ in zip("qkv", ms, ts):
        assert_close(_grad(m_), t_.grad, RTOL, ATOL, f"d{name}")
    if kind == "float":
        assert_close(_grad(mm), mt.grad, RTOL, ATOL, "d mask")
    # the readable twin computes the same
    twin, _ = attention_reference(*[myelin.tensor(a) for a in arrays], attn_mask=None if mm is None else mm.detach(),
                                  **kwargs)
    assert_close(twin, out, RTOL, ATOL, "reference twin")


def test_sdpa_fully_masked_rows_give_zeros_as_torch(torch, rng):
    q, k, v = _x(rng, 1, 3, 4), _x(rng, 1, 5, 4), _x(rng, 1, 5, 4)
    m = np.ones((3, 5), dtype=bool)
    m[1] = False
    out = F.scaled_dot_product_attention(myelin.tensor(q), myelin.tensor(k), myelin.tensor(v), attn_mask=m)
    ref = torch.nn.functional.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                                                           attn_mask=torch.tensor(m))
    assert_close(out, ref, RTOL, ATOL)
    assert not np.isnan(out.data).any() and np.all(out.data[0, 1] == 0)


def test_sdpa_gradcheck_with_dropout(rng):
    args = [rng.standard_normal(s) for s in ((2, 4, 3), (2, 5, 3), (2, 5, 2), (4, 5))]

    def f(q, k, v, m):
        myelin.manual_seed(3)  # the same dropout mask in every evaluation
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, dropout_p=0.3)

    assert gradcheck(f, args)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), args[:3])


def test_sdpa_dropout_statistics_and_errors(rng):
    q, k, v = (myelin.tensor(_x(rng, 4, 6, 8)) for _ in range(3))
    plain = F.scaled_dot_product_attention(q, k, v).data
    runs = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).data for _ in range(400)], axis=0)
    assert np.abs(runs - plain).mean() < 0.05  # inverted dropout keeps the expectation
    assert np.abs(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).data - plain).max() > 1e-3
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((6, 6), bool), is_causal=True)
    with pytest.raises(ValueError, match="same last dimension"):
        F.scaled_dot_product_attention(q, myelin.zeros(4, 6, 7), v)
    with pytest.raises(ValueError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.zeros((5, 6), np.float32))


# ----------------------------------------------------------------------------- MultiheadAttention
MHA = [
    ({}, True, True, "self"),
    ({"add_bias_kv": True, "add_zero_attn": True}, True, False, "self"),
    ({"add_bias_kv": True, "batch_first": True}, False, True, "cross"),
    ({"add_zero_attn": True, "kdim": 5, "vdim": 3}, True, True, "cross"),
    ({"batch_first": True}, False, True, "self"),
    ({"batch_first": True}, True, False, "cross"),
    ({"kdim": 5, "vdim": 3}, True, False, "cross"),
    ({"bias": False}, True, True, "cross"),
]


@pytest.mark.parametrize(("kwargs", "need_weights", "average", "kind"), MHA)
@pytest.mark.parametrize("masks", ["none", "bool", "float"])
def test_multihead_attention_matches_torch(torch, rng, kwargs, need_weights, average, kind, masks):
    e, h, n, lq, s = 8, 2, 3, 4, 6
    ours, theirs = nn.MultiheadAttention(e, h, **kwargs), torch.nn.MultiheadAttention(e, h, **kwargs)
    _load(ours, theirs)
    bf = kwargs.get("batch_first", False)
    if kind == "self":
        s = lq
    shapes = [(lq, e), (s, kwargs.get("kdim", e)), (s, kwargs.get("vdim", e))]
    arrays = [_x(rng, *((n,) + sh if bf else (sh[0], n, sh[1]))) for sh in shapes]
    if kind == "self":
        xm, xt = myelin.tensor(arrays[0], requires_grad=True), torch.tensor(arrays[0], requires_grad=True)
        ms, ts = [xm] * 3, [xt] * 3
    else:
        ms = [myelin.tensor(a, requires_grad=True) for a in arrays]
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    mkw, tkw = {}, {}
    if masks == "bool":
        kpm = rng.random((n, s)) < 0.3
        kpm[:, 0] = False
        am = np.triu(np.ones((lq, s), dtype=bool), k=1)
        mkw = {"key_padding_mask": kpm, "attn_mask": am}
        tkw = {"key_padding_mask": torch.tensor(kpm), "attn_mask": torch.tensor(am)}
    elif masks == "float":
        kpm, am = _x(rng, n, s), _x(rng, n * h, lq, s)
        mkw = {"key_padding_mask": myelin.tensor(kpm), "attn_mask": myelin.tensor(am)}
        tkw = {"key_padding_mask": torch.tensor(kpm), "attn_mask": torch.tensor(am)}
    out, w = ours(*ms, need_weights=need_weights, average_attn_weights=average, **mkw)
    ref, tw = theirs(*ts, need_weights=need_weights, average_attn_weights=average, **tkw)
    assert_close(out, ref, RTOL, ATOL, "output")
    if need_weights:
        assert w.shape == tuple(tw.shape)
        assert_close(w, tw, RTOL, ATOL, "weights")
    else:
        assert w is None and tw is None
    g = _x(rng, *ref.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    for i, (m_, t_) in enumerate(zip(ms, ts)):
        assert_close(_grad(m_), t_.grad, RTOL, ATOL, f"input {i} gradient")
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(_grad(p), tp[name].grad, RTOL, ATOL, f"gradient of {name}")


def test_multihead_attention_unbatched_weights_grad_and_layout(torch, rng):
    ours, theirs = nn.MultiheadAttention(6, 3), torch.nn.MultiheadAttention(6, 3)
    _load(ours, theirs)
    assert list(ours.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    x = _x(rng, 5, 6)
    xm, xt = myelin.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (out, w), (ref, tw) = ours(xm, xm, xm, average_attn_weights=False), theirs(xt, xt, xt, average_attn_weights=False)
    assert out.shape == (5, 6) and w.shape == (3, 5, 5)
    assert_close(out, ref, RTOL, ATOL)
    assert_close(w, tw, RTOL, ATOL)
    (out.sum() + (w * w).sum()).backward()  # the returned weights are differentiable too
    (ref.sum() + (tw * tw).sum()).backward()
    assert_close(_grad(xm), xt.grad, RTOL, ATOL)
    sep = nn.MultiheadAttention(6, 2, kdim=4, vdim=5)
    keys = ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert list(sep.state_dict()) == keys
    assert sep.k_proj_weight.shape == (6, 4)


def test_multihead_attention_init_and_dropout(rng):
    m = nn.MultiheadAttention(64, 4, dropout=0.5)
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ on the (3E, E) matrix, as PyTorch
    assert np.abs(m.in_proj_weight.data).max() <= bound and np.abs(m.in_proj_weight.data).max() > 0.9 * bound
    assert not m.in_proj_bias.data.any() and not m.out_proj.bias.data.any()
    x = myelin.tensor(_x(rng, 5, 2, 64))
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    assert not np.allclose(a.data, b.data)  # dropout on the weights in training
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    np.testing.assert_array_equal(a.data, b.data)


def test_multihead_attention_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(8, 2)
    x = myelin.zeros(4, 2, 8)
    with pytest.raises(ValueError, match=r"MultiheadAttention.*expected input query"):
        m(myelin.zeros(4, 2, 7), x, x)
    with pytest.raises(ValueError, match="key_padding_mask of shape"):
        m(x, x, x, key_padding_mask=np.zeros((2, 5), bool))
    with pytest.raises(ValueError, match="attn_mask of shape"):
        m(x, x, x, attn_mask=np.zeros((3, 4), bool))
    with pytest.raises(ValueError, match="is_causal"):
        m(x, x, x, is_causal=True)


# ----------------------------------------------------------------------------- Transformer encoder
LAYER = [
    {},
    {"norm_first": True, "activation": "gelu", "batch_first": True},
    {"activation": "gelu", "bias": False},
]


@pytest.mark.parametrize("kwargs", LAYER)
def test_transformer_encoder_matches_torch(torch, rng, kwargs):
    d, s, n = 8, 5, 3
    tl = torch.nn.TransformerEncoderLayer(d, 2, 16, dropout=0.0, **kwargs)
    ml = nn.TransformerEncoderLayer(d, 2, 16, dropout=0.0, **kwargs)
    te = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(d), enable_nested_tensor=False)
    me = nn.TransformerEncoder(ml, 2, norm=nn.LayerNorm(d))
    _load(me, te)
    bf = kwargs.get("batch_first", False)
    x = _x(rng, *((n, s, d) if bf else (s, n, d)))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(s)
    kpm = rng.random((n, s)) < 0.3
    kpm[:, 0] = False
    xm, xt = myelin.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns about a float mask next to a bool padding mask
        ref = te(xt, mask=mask, src_key_padding_mask=torch.tensor(kpm))
    out = me(xm, mask=mask.numpy(), src_key_padding_mask=kpm)
    assert_close(out, ref, RTOL, ATOL, "output")
    g = _x(rng, *ref.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert_close(_grad(xm), xt.grad, RTOL, ATOL, "input gradient")
    tp = dict(te.named_parameters())
    for name, p in me.named_parameters():
        assert_close(_grad(p), tp[name].grad, RTOL, ATOL, f"gradient of {name}")


def test_transformer_layer_alone_unbatched_and_dropout(torch, rng):
    tl, ml = torch.nn.TransformerEncoderLayer(8, 4, 32), nn.TransformerEncoderLayer(8, 4, 32)
    _load(ml, tl)
    ml.eval()
    tl.eval()
    x = _x(rng, 6, 8)
    with torch.no_grad():
        ref = tl(torch.tensor(x))
    assert_close(ml(myelin.tensor(x)), ref, RTOL, ATOL)
    ml.train()
    y = myelin.tensor(x)
    assert not np.allclose(ml(y).data, ml(y).data)  # dropout (0.1 by default) in training


def test_transformer_structure_init_config_and_gradcheck(rng):
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=F.gelu)
    assert [k for k in layer.state_dict()][:4] == ["self_attn.in_proj_weight", "self_attn.in_proj_bias",
                                                    "self_attn.out_proj.weight", "self_attn.out_proj.bias"]
    enc = nn.TransformerEncoder(layer, 3)
    assert len(enc.layers) == 3 and "layers.2.linear2.bias" in enc.state_dict()
    # deep copies: equal at the start (as PyTorch), independent afterwards
    np.testing.assert_array_equal(enc.layers[0].linear1.weight.data, enc.layers[2].linear1.weight.data)
    assert enc.layers[0].linear1.weight is not enc.layers[2].linear1.weight
    config = enc.get_config()
    assert config["args"]["encoder_layer"]["args"]["activation"] == "gelu"
    rebuilt = nn.from_config(config)
    assert list(rebuilt.state_dict()) == list(enc.state_dict())
    rebuilt.load_state_dict(enc.state_dict())
    enc.eval()
    rebuilt.eval()
    x = myelin.tensor(_x(rng, 4, 2, 8))
    np.testing.assert_allclose(rebuilt(x).data, enc(x).data, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation=np.tanh)
    small = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    assert small.linear1.weight.dtype == np.float64
    mask = np.triu(np.ones((3, 3), dtype=bool), k=1)
    assert gradcheck(lambda t: small(t, src_mask=mask), [rng.standard_normal((3, 2, 4))])
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=5).double()
    assert gradcheck(lambda q, k, v: mha(q, k, v)[0], [rng.standard_normal(s) for s in ((3, 2, 4), (5, 2, 3), (5, 2, 5))])


@pytest.mark.parametrize("kwargs", [{}, {"norm_first": True, "activation": "gelu", "batch_first": True}])
def test_transformer_matches_torch(torch, rng, kwargs):
    theirs = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, **kwargs)
    ours = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, **kwargs)
    _load(ours, theirs)
    bf = kwargs.get("batch_first", False)
    s, t, n = 5, 4, 3
    src, tgt = _x(rng, *((n, s, 8) if bf else (s, n, 8))), _x(rng, *((n, t, 8) if bf else (t, n, 8)))
    kpm = rng.random((n, s)) < 0.3
    kpm[:, 0] = False
    ms, ts = [myelin.tensor(a, requires_grad=True) for a in (src, tgt)], [torch.tensor(a, requires_grad=True)
                                                                        for a in (src, tgt)]
    mask = nn.Transformer.generate_square_subsequent_mask(t)
    np.testing.assert_array_equal(mask.data, torch.nn.Transformer.generate_square_subsequent_mask(t).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = theirs(*ts, tgt_mask=torch.tensor(mask.data), src_key_padding_mask=torch.tensor(kpm),
                     memory_key_padding_mask=torch.tensor(kpm))
    out = ours(*ms, tgt_mask=mask, src_key_padding_mask=kpm, memory_key_padding_mask=kpm)
    assert_close(out, ref, RTOL, ATOL, "output")
    g = _x(rng, *ref.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    for i, (m_, t_) in enumerate(zip(ms, ts)):
        assert_close(_grad(m_), t_.grad, RTOL, ATOL, f"input {i} gradient")
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(_grad(p), tp[name].grad, RTOL, 2 * ATOL, f"gradient of {name}")


def test_transformer_init_and_config():
    m = nn.Transformer(16, 2, 1, 1, 32)
    w = m.encoder.layers[0].linear1.weight.data  # xavier_uniform_ on every matrix, as PyTorch
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    keys = list(m.state_dict())
    assert "decoder.layers.0.multihead_attn.in_proj_weight" in keys and "decoder.norm.weight" in keys
    rebuilt = nn.from_config(m.get_config())
    assert list(rebuilt.state_dict()) == keys
