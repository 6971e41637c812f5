"""Every Tensor op: float64 gradchecks (Hypothesis shapes) and PyTorch parity (forward and backward)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

import myelin
from conftest import assert_close
from myelin.autograd import gradcheck

# ------------------------------------------------------------------ op table
# name -> (myelin fn, torch fn, number of inputs, input transform (to keep the math defined))
POSITIVE = "positive"
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b),
    "maximum": (lambda a, b: myelin.maximum(a, b), lambda a, b: __import__("torch").maximum(a, b)),
    "minimum": (lambda a, b: myelin.minimum(a, b), lambda a, b: __import__("torch").minimum(a, b)),
}
UNARY = {
    "neg": (lambda a: -a, lambda a: -a, None),
    "exp": (lambda a: a.exp(), lambda a: a.exp(), None),
    "log": (lambda a: a.log(), lambda a: a.log(), POSITIVE),
    "sqrt": (lambda a: a.sqrt(), lambda a: a.sqrt(), POSITIVE),
    "abs": (lambda a: a.abs(), lambda a: a.abs(), None),
    "clamp": (lambda a: a.clamp(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), None),
    "clamp_min": (lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), None),
    "pow_scalar": (lambda a: a ** 3, lambda a: a ** 3, None),
    "pow_half": (lambda a: a ** 0.5, lambda a: a ** 0.5, POSITIVE),
    "rpow": (lambda a: 2.0 ** a, lambda a: 2.0 ** a, None),
    "rsub": (lambda a: 1.0 - a, lambda a: 1.0 - a, None),
    "rdiv": (lambda a: 1.0 / a, lambda a: 1.0 / a, POSITIVE),
    "square": (lambda a: a ** 2, lambda a: a ** 2, None),
    "sum": (lambda a: a.sum(), lambda a: a.sum(), None),
    "sum_dim": (lambda a: a.sum(-1), lambda a: a.sum(-1), None),
    "sum_keep": (lambda a: a.sum(0, keepdim=True), lambda a: a.sum(0, keepdim=True), None),
    "mean": (lambda a: a.mean(), lambda a: a.mean(), None),
    "mean_dim": (lambda a: a.mean(dim=(0, -1)), lambda a: a.mean(dim=(0, -1)), None),
    "var": (lambda a: a.var(), lambda a: a.var(), None),
    "var_dim": (lambda a: a.var(-1, keepdim=True), lambda a: a.var(-1, keepdim=True), None),
    "var_biased": (lambda a: a.var(0, correction=0), lambda a: a.var(0, correction=0), None),
    "std": (lambda a: a.std(), lambda a: a.std(), None),
    "std_dim": (lambda a: a.std(0), lambda a: a.std(0), None),
    "max": (lambda a: a.max(), lambda a: a.max(), None),
    "min": (lambda a: a.min(), lambda a: a.min(), None),
    "max_dim": (lambda a: a.max(-1)[0], lambda a: a.max(-1)[0], None),
    "min_dim_keep": (lambda a: a.min(0, keepdim=True).values, lambda a: a.min(0, keepdim=True).values, None),
    "amax": (lambda a: a.amax(-1), lambda a: a.amax(-1), None),
    "reshape": (lambda a: a.reshape(-1), lambda a: a.reshape(-1), None),
    "view": (lambda a: a.view(a.shape[0], -1), lambda a: a.view(a.shape[0], -1), None),
    "T": (lambda a: a.T, lambda a: a.permute(*reversed(range(a.ndim))), None),
    "transpose": (lambda a: a.transpose(0, -1), lambda a: a.transpose(0, -1), None),
    "unsqueeze": (lambda a: a.unsqueeze(1), lambda a: a.unsqueeze(1), None),
    "squeeze": (lambda a: a.unsqueeze(0).squeeze(0), lambda a: a.unsqueeze(0).squeeze(0), None),
    "expand": (lambda a: a.unsqueeze(0).expand(3, *a.shape), lambda a: a.unsqueeze(0).expand(3, *a.shape), None),
    "flatten": (lambda a: a.flatten(), lambda a: a.flatten(), None),
    "index_basic": (lambda a: a[0], lambda a: a[0], None),
    "index_slice": (lambda a: a[::2, ..., 1:], lambda a: a[::2, ..., 1:], None),
    "index_repeat": (lambda a: a[[0, 0, 1, 0]], lambda a: a[[0, 0, 1, 0]], None),
    "index_bool": (lambda a: a[a.data > 0], lambda a: a[a > 0], None),
    "neg_index": (lambda a: a[-1, None], lambda a: a[-1, None], None),
    "split": (lambda a: a.split(1, dim=0)[-1], lambda a: a.split(1, dim=0)[-1], None),
    "chunk": (lambda a: a.chunk(2, dim=-1)[0], lambda a: a.chunk(2, dim=-1)[0], None),
    "pad": (lambda a: myelin.pad(a, (1, 2)), lambda a: __import__("torch").nn.functional.pad(a, (1, 2)), None),
}


def _inputs(shape, kind, rng, dtype=np.float64):
    x = rng.standard_normal(shape)
    if kind == POSITIVE:
        x = np.abs(x) + 0.5
    return x.astype(dtype)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name):
    fn, _, kind = UNARY[name]
    x = _inputs((3, 2, 4), kind, np.random.default_rng(1))
    assert gradcheck(fn, [myelin.tensor(x, requires_grad=True, dtype=np.float64)])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name, torch):
    fn, tfn, kind = UNARY[name]
    x = _inputs((3, 2, 4), kind, np.random.default_rng(2), np.float32)
    a = myelin.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    out, tout = fn(a), tfn(t)
    assert_close(out, tout, what=f"{name} forward")
    g = np.random.default_rng(3).standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    tout.backward(torch.tensor(g))
    assert a.grad.dtype == np.float32
    assert_close(a.grad, t.grad, what=f"{name} backward")


def _broadcastable_pair():
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=15, deadline=None)
@given(shapes=_broadcastable_pair())
def test_binary_gradcheck_broadcasting(name, shapes):
    fn, _ = BINARY[name]
    rng = np.random.default_rng(4)
    sa, sb = shapes.input_shapes
    a = rng.standard_normal(sa)
    b = rng.standard_normal(sb)
    if name in ("div", "pow"):
        b = np.abs(b) + 0.5
    if name == "pow":
        a = np.abs(a) + 0.5
    if name in ("maximum", "minimum"):  # keep away from ties, where the derivative is undefined
        b = b + 0.25
    ta = myelin.tensor(a, requires_grad=True, dtype=np.float64)
    tb = myelin.tensor(b, requires_grad=True, dtype=np.float64)
    assert gradcheck(fn, [ta, tb])


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((), (2, 2))])
def test_binary_matches_torch(name, shapes, torch):
    fn, tfn = BINARY[name]
    rng = np.random.default_rng(5)
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    if name in ("div", "pow"):
        b = np.abs(b) + 0.5
    if name == "pow":
        a = np.abs(a) + 0.5
    ma, mb = myelin.tensor(a, requires_grad=True), myelin.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = fn(ma, mb), tfn(ta, tb)
    assert_close(out, tout, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    tout.sum().backward()
    assert_close(ma.grad, ta.grad, rtol=1e-5, atol=1e-6)
    assert_close(mb.grad, tb.grad, rtol=1e-5, atol=1e-6)


MATMUL_SHAPES = [
    ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (2, 4, 5)), ((4,), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((2, 3, 4), (4,)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_gradcheck(sa, sb):
    rng = np.random.default_rng(6)
    a = myelin.tensor(rng.standard_normal(sa), requires_grad=True, dtype=np.float64)
    b = myelin.tensor(rng.standard_normal(sb), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda x, y: x @ y, [a, b])


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_matches_torch(sa, sb, torch):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
    ma, mb = myelin.tensor(a, requires_grad=True), myelin.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = ma @ mb, ta @ tb
    assert_close(out, tout, rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    tout.backward(torch.tensor(g))
    assert_close(ma.grad, ta.grad, rtol=1e-5, atol=1e-5)
    assert_close(mb.grad, tb.grad, rtol=1e-5, atol=1e-5)


def test_matmul_shape_error_names_both_shapes():
    a, b = myelin.zeros(32, 64), myelin.zeros(128, 10)
    with pytest.raises(ValueError, match=r"matmul: shapes \(32, 64\) and \(128, 10\) are not aligned"):
        a @ b


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        myelin.zeros(2, 3) + myelin.zeros(4)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_stack_where_gradcheck(dim):
    rng = np.random.default_rng(8)
    xs = [myelin.tensor(rng.standard_normal((2, 3)), requires_grad=True, dtype=np.float64) for _ in range(3)]
    assert gradcheck(lambda *t: myelin.cat(t, dim=dim), xs)
    assert gradcheck(lambda *t: myelin.stack(t, dim=dim), xs)
    cond = rng.standard_normal((2, 3)) > 0
    assert gradcheck(lambda a, b: myelin.where(cond, a, b), xs[:2])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack_of_one_tensor_copies_and_matches_torch(torch, dim):
    """One tensor (as an RNN's h_n per layer): a copy with a new axis, even from a transposed view."""
    a = np.random.default_rng(10).standard_normal((3, 4)).astype(np.float32).T  # non-contiguous (4, 3)
    m, t = myelin.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = myelin.stack([m], dim), torch.stack([t], dim)
    assert tuple(out.shape) == tuple(tout.shape)
    assert not np.shares_memory(out.data, m.data)
    assert gradcheck(lambda x: myelin.stack([x], dim), [myelin.tensor(a, requires_grad=True, dtype=np.float64)])
    w = np.random.default_rng(11).standard_normal(tuple(tout.shape)).astype(np.float32)
    (out * myelin.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    assert_close(out, tout)
    assert_close(m.grad, t.grad)


def test_cat_stack_where_match_torch(torch):
    rng = np.random.default_rng(9)
    arrays = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    ms = [myelin.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    cond = arrays[0] > 0
    out = (myelin.cat(ms, 1).sum() + (myelin.stack(ms, 2) ** 2).sum() + myelin.where(cond, ms[0], ms[1]).exp().sum())
    tout = (torch.cat(ts, 1).sum() + (torch.stack(ts, 2) ** 2).sum()
            + torch.where(torch.tensor(cond), ts[0], ts[1]).exp().sum())
    assert_close(out, tout, rtol=1e-5)
    out.backward()
    tout.backward()
    for m, t in zip(ms, ts):
        assert_close(m.grad, t.grad)


def test_permute_and_pad_negative_match_torch(torch):
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    m, t = myelin.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = myelin.pad(m.permute(2, 0, 1), (-1, 1, 2, 0))
    tout = torch.nn.functional.pad(t.permute(2, 0, 1), (-1, 1, 2, 0))
    assert_close(out, tout)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    assert_close(m.grad, t.grad)


def test_argmax_argmin_and_comparisons(torch):
    x = np.random.default_rng(10).standard_normal((3, 5)).astype(np.float32)
    m, t = myelin.tensor(x), torch.tensor(x)
    assert np.array_equal(m.argmax(1).data, t.argmax(1).numpy())
    assert np.array_equal(m.argmin(0, keepdim=True).data, t.argmin(0, keepdim=True).numpy())
    assert m.argmax().item() == t.argmax().item()
    for op in ("__eq__", "__lt__", "__gt__", "__le__", "__ge__", "__ne__"):
        res = getattr(m, op)(0.1)
        assert res.dtype == np.bool_ and not res.requires_grad
        assert np.array_equal(res.data, getattr(t, op)(0.1).numpy())


def test_index_repeated_scatter_adds():
    x = myelin.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[myelin.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_index_2d_advanced_repeat_matches_torch(torch):
    x = np.random.default_rng(11).standard_normal((4, 3)).astype(np.float32)
    m, t = myelin.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    rows, cols = [0, 1, 0, 3], [2, 2, 2, 0]
    (m[rows, cols] * myelin.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    (t[rows, cols] * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert_close(m.grad, t.grad)


def test_max_ties_split_like_torch(torch):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], dtype=np.float32)
    m, t = myelin.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (m.max() + m.amax(1).sum()).backward()
    (t.max() + t.amax(1).sum()).backward()
    assert_close(m.grad, t.grad)


def test_method_spellings_match_torch(torch):
    x = np.random.default_rng(12).standard_normal((3, 4)).astype(np.float32)
    m, t = myelin.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = (m.relu().add(1.0).mul(m.sigmoid()).sub(m.tanh()).div(2.0).pow(2).neg()
           + m.softmax(1) + m.log_softmax(0)).sum()
    tout = (t.relu().add(1.0).mul(t.sigmoid()).sub(t.tanh()).div(2.0).pow(2).neg()
            + t.softmax(1) + t.log_softmax(0)).sum()
    assert_close(out, tout, rtol=1e-5, atol=1e-5)
    out.backward()
    tout.backward()
    assert_close(m.grad, t.grad, rtol=1e-5, atol=1e-5)
