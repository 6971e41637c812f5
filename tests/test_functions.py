"""PyTorch's top-level functions (myelin.functions) and the new differentiable ops (core/ops.py):
outputs and every gradient against PyTorch, float64 gradchecks, and the errors that say what to write."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin.autograd import gradcheck


def _grad(t):
    g = t.grad
    return None if g is None else np.asarray(getattr(g, "data", g))


def _pair(torch, arrays, float_ok=True):
    """The same float64 leaves in both libraries (require grad)."""
    ms = [myelin.tensor(a, dtype=myelin.float64, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    return ms, ts


def _check(torch, fm, ft, arrays, rtol=1e-7, atol=1e-9, out_index=None):
    """Run ``fm`` on myelin leaves and ``ft`` on torch leaves; compare outputs and input gradients."""
    ms, ts = _pair(torch, arrays)
    om, ot = fm(*ms), ft(*ts)
    if out_index is not None:
        om, ot = om[out_index], ot[out_index]
    assert_close(om, ot, rtol, atol, "output")
    w = np.random.default_rng(1).standard_normal(ot.shape)
    (om * myelin.tensor(w, dtype=myelin.float64)).sum().backward()
    (ot * torch.tensor(w)).sum().backward()
    for k, (m, t) in enumerate(zip(ms, ts)):
        if t.grad is None:
            assert _grad(m) is None or not np.any(_grad(m))
        else:
            np.testing.assert_allclose(_grad(m), t.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"grad {k}")


R = np.random.default_rng(0)
A34 = R.standard_normal((3, 4))
A234 = R.standard_normal((2, 3, 4))
POS34 = np.abs(A34) + 0.5

# name -> (myelin fn, torch fn, inputs)
CASES = {
    "sum": (lambda a: myelin.sum(a, dim=1), lambda a: a.sum(dim=1), [A34]),
    "mean_keep": (lambda a: myelin.mean(a, 0, keepdim=True), lambda a: a.mean(0, keepdim=True), [A34]),
    "exp": (myelin.exp, lambda a: a.exp(), [A34]),
    "log": (myelin.log, lambda a: a.log(), [POS34]),
    "sqrt": (myelin.sqrt, lambda a: a.sqrt(), [POS34]),
    "abs": (myelin.abs, lambda a: a.abs(), [A34]),
    "sigmoid": (myelin.sigmoid, lambda a: a.sigmoid(), [A34]),
    "tanh": (myelin.tanh, lambda a: a.tanh(), [A34]),
    "relu": (myelin.relu, lambda a: a.relu(), [A34]),
    "softmax": (lambda a: myelin.softmax(a, dim=1), lambda a: a.softmax(1), [A34]),
    "log_softmax": (lambda a: myelin.log_softmax(a, 0), lambda a: a.log_softmax(0), [A34]),
    "flatten": (lambda a: myelin.flatten(a, 1), lambda a: a.flatten(1), [A234]),
    "clamp": (lambda a: myelin.clamp(a, -0.3, 0.4), lambda a: a.clamp(-0.3, 0.4), [A34]),
    "clip_min": (lambda a: myelin.clip(a, min=0.0), lambda a: a.clip(min=0.0), [A34]),
    "sin": (myelin.sin, lambda a: a.sin(), [A34]),
    "cos": (myelin.cos, lambda a: a.cos(), [A34]),
    "tan": (myelin.tan, lambda a: a.tan(), [A34 * 0.3]),
    "log1p": (myelin.log1p, lambda a: a.log1p(), [POS34]),
    "expm1": (myelin.expm1, lambda a: a.expm1(), [A34]),
    "log2": (myelin.log2, lambda a: a.log2(), [POS34]),
    "log10": (myelin.log10, lambda a: a.log10(), [POS34]),
    "square": (myelin.square, lambda a: a.square(), [A34]),
    "reciprocal": (myelin.reciprocal, lambda a: a.reciprocal(), [POS34]),
    "rsqrt": (myelin.rsqrt, lambda a: a.rsqrt(), [POS34]),
    "floor": (myelin.floor, lambda a: a.floor(), [A34 * 3]),
    "round": (myelin.round, lambda a: a.round(), [A34 * 3]),
    "prod": (lambda a: myelin.prod(a, 1), lambda a: a.prod(1), [A34]),
    "prod_all": (myelin.prod, lambda a: a.prod(), [A34]),
    "prod_zero": (lambda a: myelin.prod(a, 0, keepdim=True), lambda a: a.prod(0, keepdim=True),
                  [np.array([[0.0, 2.0], [3.0, 0.0], [4.0, 5.0]])]),
    "cumsum": (lambda a: myelin.cumsum(a, 1), lambda a: a.cumsum(1), [A34]),
    "cumsum0": (lambda a: myelin.cumsum(a, 0), lambda a: a.cumsum(0), [A234]),
    "cumprod": (lambda a: myelin.cumprod(a, -1), lambda a: a.cumprod(-1), [POS34]),
    "logsumexp": (lambda a: myelin.logsumexp(a, 1), lambda a: a.logsumexp(1), [A34]),
    "logsumexp_keep": (lambda a: myelin.logsumexp(a, (0, 2), keepdim=True),
                       lambda a: a.logsumexp((0, 2), keepdim=True), [A234]),
    "norm": (myelin.norm, lambda a: a.norm(), [A34]),
    "norm_dim": (lambda a: myelin.norm(a, dim=1), lambda a: a.norm(dim=1), [A34]),
    "norm_p1": (lambda a: myelin.norm(a, p=1, dim=0, keepdim=True), lambda a: a.norm(p=1, dim=0, keepdim=True),
                [A34]),
    "norm_p3": (lambda a: myelin.norm(a, p=3), lambda a: a.norm(p=3), [A34]),
    "norm_inf": (lambda a: myelin.norm(a, p=float("inf"), dim=1), lambda a: a.norm(p=float("inf"), dim=1), [A34]),
    "sort": (lambda a: myelin.sort(a, dim=1)[0], lambda a: a.sort(dim=1)[0], [A34]),
    "sort_desc": (lambda a: myelin.sort(a, 0, descending=True).values,
                  lambda a: a.sort(0, descending=True).values, [A34]),
    "topk": (lambda a: myelin.topk(a, 2).values, lambda a: a.topk(2).values, [A34]),
    "topk_small": (lambda a: myelin.topk(a, 2, dim=0, largest=False)[0],
                   lambda a: a.topk(2, dim=0, largest=False)[0], [A34]),
    "amax": (lambda a: myelin.amax(a, 1), lambda a: a.amax(1), [A34]),
    "max_dim": (lambda a: myelin.max(a, 1).values, lambda a: a.max(1).values, [A34]),
    "min_all": (myelin.min, lambda a: a.min(), [A34]),
    "max_pair": (myelin.max, lambda a, b: a.max(b), [A34, A34[::-1].copy()]),
    "gather": (lambda a: myelin.gather(a, 1, myelin.tensor([[0, 3], [1, 1], [2, 0]])),
               lambda a: a.gather(1, __import__("torch").tensor([[0, 3], [1, 1], [2, 0]])), [A34]),
    "gather0": (lambda a: myelin.gather(a, 0, myelin.tensor([[2, 0, 1, 1]])),
                lambda a: a.gather(0, __import__("torch").tensor([[2, 0, 1, 1]])), [A34]),
    "scatter": (lambda a, s: myelin.scatter(a, 1, myelin.tensor([[0, 2], [1, 3], [3, 0]]), s),
                lambda a, s: a.scatter(1, __import__("torch").tensor([[0, 2], [1, 3], [3, 0]]), s),
                [A34, A34[:, :2].copy()]),
    "scatter_add": (lambda a, s: myelin.scatter_add(a, 0, myelin.tensor([[0, 1, 2, 0], [0, 0, 1, 2]]), s),
                    lambda a, s: a.scatter_add(0, __import__("torch").tensor([[0, 1, 2, 0], [0, 0, 1, 2]]), s),
                    [A34, A34[:2].copy()]),
    "index_select": (lambda a: myelin.index_select(a, 1, myelin.tensor([3, 0, 3])),
                     lambda a: a.index_select(1, __import__("torch").tensor([3, 0, 3])), [A34]),
    "masked_fill": (lambda a: myelin.masked_fill(a, myelin.tensor(A34 > 0), -1.5),
                    lambda a: a.masked_fill(__import__("torch").tensor(A34 > 0), -1.5), [A34]),
    "masked_fill_bcast": (lambda a: myelin.masked_fill(a, myelin.tensor([True, False, False, True]), 0.0),
                          lambda a: a.masked_fill(__import__("torch").tensor([True, False, False, True]), 0.0),
                          [A34]),
    "masked_select": (lambda a: myelin.masked_select(a, myelin.tensor(A34 > 0)),
                      lambda a: a.masked_select(__import__("torch").tensor(A34 > 0)), [A34]),
    "flip": (lambda a: myelin.flip(a, (0, 2)), lambda a: a.flip((0, 2)), [A234]),
    "roll": (lambda a: myelin.roll(a, 2, 1), lambda a: a.roll(2, 1), [A34]),
    "tril": (lambda a: myelin.tril(a, -1), lambda a: a.tril(-1), [A34]),
    "triu": (myelin.triu, lambda a: a.triu(), [A234]),
    "t": (myelin.t, lambda a: a.t(), [A34]),
    "transpose": (lambda a: myelin.transpose(a, 0, 2), lambda a: a.transpose(0, 2), [A234]),
    "permute": (lambda a: myelin.permute(a, (2, 0, 1)), lambda a: a.permute(2, 0, 1), [A234]),
    "squeeze": (lambda a: myelin.squeeze(myelin.unsqueeze(a, 1), 1),
                lambda a: a.unsqueeze(1).squeeze(1), [A34]),
    "bmm": (myelin.bmm, lambda a, b: a.bmm(b), [A234, R.standard_normal((2, 4, 5))]),
    "mm": (myelin.mm, lambda a, b: a.mm(b), [A34, R.standard_normal((4, 2))]),
    "mv": (myelin.mv, lambda a, b: a.mv(b), [A34, R.standard_normal(4)]),
    "dot": (myelin.dot, lambda a, b: a.dot(b), [A34[0].copy(), A34[1].copy()]),
    "outer": (myelin.outer, lambda a, b: a.outer(b), [A34[0].copy(), A34[:, 1].copy()]),
    "einsum_mm": (lambda a, b: myelin.einsum("ij,jk->ik", a, b),
                  lambda a, b: __import__("torch").einsum("ij,jk->ik", a, b), [A34, R.standard_normal((4, 2))]),
    "einsum_batch": (lambda a, b: myelin.einsum("bij,bjk->bik", [a, b]),
                     lambda a, b: __import__("torch").einsum("bij,bjk->bik", [a, b]),
                     [A234, R.standard_normal((2, 4, 3))]),
    "einsum_ellipsis": (lambda a, b: myelin.einsum("...j,kj", a, b),
                        lambda a, b: __import__("torch").einsum("...j,kj", a, b),
                        [A234, R.standard_normal((5, 4))]),
    "einsum_sumout": (lambda a: myelin.einsum("ijk->j", a), lambda a: __import__("torch").einsum("ijk->j", a),
                      [A234]),
    "einsum_outer3": (lambda a, b, c: myelin.einsum("i,j,k->ijk", a, b, c),
                      lambda a, b, c: __import__("torch").einsum("i,j,k->ijk", a, b, c),
                      [R.standard_normal(2), R.standard_normal(3), R.standard_normal(4)]),
    "where": (lambda a, b: myelin.where(myelin.tensor(A34 > 0), a, b),
              lambda a, b: __import__("torch").where(__import__("torch").tensor(A34 > 0), a, b),
              [A34, -A34]),
    "cat": (lambda a, b: myelin.cat([a, b], 1), lambda a, b: __import__("torch").cat([a, b], 1), [A34, A34]),
    "stack": (lambda a, b: myelin.stack((a, b), dim=2), lambda a, b: __import__("torch").stack((a, b), dim=2),
              [A34, A34]),
    "matmul": (myelin.matmul, lambda a, b: a @ b, [A234, R.standard_normal((4, 2))]),
    "add_alpha": (lambda a, b: myelin.add(a, b, alpha=2), lambda a, b: __import__("torch").add(a, b, alpha=2),
                  [A34, A34]),
    "pow": (lambda a: myelin.pow(a, 3), lambda a: a.pow(3), [A34]),
    "var": (lambda a: myelin.var(a, 1), lambda a: a.var(1), [A34]),
    "std": (lambda a: myelin.std(a, unbiased=False), lambda a: a.std(unbiased=False), [A34]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(torch, name):
    fm, ft, arrays = CASES[name]
    _check(torch, fm, ft, arrays)


GRADCHECKS = ["prod", "prod_zero", "cumsum", "cumprod", "logsumexp", "norm_dim", "norm_p3", "sort", "topk", "gather",
              "scatter", "scatter_add", "index_select", "masked_fill", "masked_select", "einsum_batch",
              "einsum_sumout", "einsum_ellipsis", "tan", "rsqrt", "log1p", "roll", "flip"]


@pytest.mark.parametrize("name", GRADCHECKS)
def test_gradcheck(name):
    fm, _, arrays = CASES[name]
    assert gradcheck(fm, [np.array(a, dtype=np.float64) for a in arrays])


def test_indices_and_ordering_match_pytorch(torch):
    a = R.standard_normal((4, 5)).astype(np.float32)
    m, t = myelin.tensor(a), torch.tensor(a)
    np.testing.assert_array_equal(myelin.argmax(m, dim=1).data, torch.argmax(t, dim=1).numpy())
    np.testing.assert_array_equal(myelin.argmax(m).data, torch.argmax(t).numpy())
    np.testing.assert_array_equal(myelin.sort(m, 0).indices.data, torch.sort(t, 0).indices.numpy())
    np.testing.assert_array_equal(myelin.argsort(m, descending=True).data, torch.argsort(t, descending=True).numpy())
    np.testing.assert_array_equal(myelin.topk(m, 3).indices.data, torch.topk(t, 3).indices.numpy())
    np.testing.assert_array_equal(myelin.max(m, 0).indices.data, torch.max(t, 0).indices.numpy())
    assert myelin.argmax(m).dtype == myelin.long
    np.testing.assert_array_equal(myelin.nonzero(m > 0).data, torch.nonzero(t > 0).numpy())
    np.testing.assert_array_equal(myelin.unique(myelin.tensor([3, 1, 3, 2])).data, [1, 2, 3])
    assert myelin.count_nonzero(m > 0).item() == torch.count_nonzero(t > 0).item()
    assert_close(myelin.all(m > -10, dim=1), torch.all(t > -10, dim=1))
    assert_close(myelin.any(m > 1, dim=0), torch.any(t > 1, dim=0))


def test_comparisons_and_predicates(torch):
    a = myelin.tensor([1.0, 2.0, 3.0])
    assert myelin.allclose(a, a + 1e-7) and not myelin.allclose(a, a + 1e-3)
    assert myelin.equal(a, myelin.tensor([1.0, 2.0, 3.0])) and not myelin.equal(a, a[:2])
    assert myelin.is_tensor(a) and not myelin.is_tensor(a.data)
    assert myelin.numel(myelin.zeros(2, 3)) == 6
    assert myelin.is_floating_point(a) and not myelin.is_floating_point(myelin.arange(3))
    assert myelin.isclose(a, a).data.all()
    assert_close(myelin.div(myelin.tensor([7, -7]), 2, rounding_mode="floor"),
                 torch.div(torch.tensor([7, -7]), 2, rounding_mode="floor"))
    assert myelin.div(myelin.tensor([7, -7]), 2, rounding_mode="trunc").tolist() == [3, -3]


def test_creation_functions_take_device_and_dtype(torch):
    assert myelin.zeros(2, 3, device="cpu", dtype=myelin.float64).dtype == np.float64
    assert myelin.ones((2,), dtype=myelin.long).dtype == np.int64
    assert myelin.full((2,), 7).dtype == torch.full((2,), 7).numpy().dtype
    assert myelin.full((2,), 7.0).dtype == myelin.float32
    assert myelin.full((2,), True).dtype == myelin.bool
    assert myelin.arange(5, device=myelin.device("cpu")).dtype == myelin.int64
    assert myelin.tensor([1.0], dtype=float).dtype == myelin.float64  # as torch: Python float is float64
    assert myelin.tensor([1, 2], device="cpu").dtype == myelin.long
    assert myelin.randint(0, 10, (3,)).dtype == myelin.long and myelin.randint(5, (2, 2)).shape == (2, 2)
    assert myelin.randn_like(myelin.zeros(2, 3)).shape == (2, 3)
    assert myelin.rand_like(myelin.zeros(4, dtype=myelin.float64)).dtype == myelin.float64
    assert myelin.empty_like(myelin.zeros(2)).shape == (2,)
    assert myelin.eye(3, dtype=myelin.float64).dtype == myelin.float64
    assert myelin.linspace(0, 1, 5, requires_grad=True).requires_grad
    assert myelin.zeros(2, requires_grad=True).requires_grad


def test_random_functions_follow_the_seed():
    myelin.manual_seed(3)
    first = (myelin.randperm(10).tolist(), myelin.randn(3).tolist(), myelin.multinomial(myelin.tensor([0.1, 0.9]), 4,
                                                                                         replacement=True).tolist())
    myelin.manual_seed(3)
    again = (myelin.randperm(10).tolist(), myelin.randn(3).tolist(), myelin.multinomial(myelin.tensor([0.1, 0.9]), 4,
                                                                                         replacement=True).tolist())
    assert first == again
    assert sorted(first[0]) == list(range(10))
    g = myelin.Generator().manual_seed(5)
    assert myelin.randperm(6, generator=g).tolist() == myelin.randperm(6, generator=myelin.Generator().manual_seed(5)
                                                                       ).tolist()
    assert set(myelin.bernoulli(myelin.full((50,), 0.5)).tolist()) <= {0.0, 1.0}
    assert myelin.multinomial(myelin.tensor([[0.0, 1.0], [1.0, 0.0]]), 1).tolist() == [[1], [0]]
    assert myelin.normal(0.0, 1.0, size=(3, 2)).shape == (3, 2)
    with pytest.raises(ValueError, match="without replacement"):
        myelin.multinomial(myelin.tensor([0.0, 1.0]), 2)


def test_modes_and_threads():
    x = myelin.ones(2, requires_grad=True)
    with myelin.inference_mode():
        assert not (x * 2).requires_grad
    with myelin.inference_mode(False):
        assert (x * 2).requires_grad

    @myelin.inference_mode()
    def f(v):
        return v * 2

    @myelin.inference_mode
    def g(v):
        return v * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    before = myelin.get_num_threads()
    myelin.set_num_threads(1)
    assert myelin.get_num_threads() == 1
    myelin.set_num_threads(max(before, 1))
    with pytest.raises(ValueError, match="positive int"):
        myelin.set_num_threads(0)


def test_errors_say_what_to_write():
    with pytest.raises(ValueError, match="transpose"):
        myelin.t(myelin.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="3-d"):
        myelin.bmm(myelin.zeros(2, 3), myelin.zeros(3, 2))
    with pytest.raises(TypeError, match="bool mask"):
        myelin.masked_fill(myelin.zeros(2), myelin.tensor([1, 0]), 1.0)
    with pytest.raises(TypeError, match="int64"):
        myelin.gather(myelin.zeros(2, 2), 1, myelin.zeros(2, 2))
    with pytest.raises(ValueError, match="out of range"):
        myelin.topk(myelin.zeros(3), 4)
    with pytest.raises(ValueError, match="operands"):
        myelin.einsum("ij,jk->ik", myelin.zeros(2, 2))
    with pytest.raises(ValueError, match="float32"):
        myelin.set_default_dtype(myelin.float64)
    with pytest.raises(TypeError, match="bfloat16"):
        myelin.zeros(2, dtype=myelin.bfloat16)


def test_float32_stays_float32():
    x = myelin.randn(3, 4)
    for fn in (myelin.sin, myelin.rsqrt, myelin.log1p, lambda a: myelin.norm(a, dim=1),
               lambda a: myelin.cumsum(a, 0), lambda a: myelin.einsum("ij->j", a), lambda a: myelin.prod(a, 1)):
        assert fn(x.abs() + 1).dtype == np.float32


def test_autograd_function_matches_pytorch(torch):
    class Legendre3(myelin.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x ** 3 - 3 * x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 1.5 * (5 * x ** 2 - 1)

    class Scale(myelin.autograd.Function):  # two inputs, a number among them, two outputs
        @staticmethod
        def forward(ctx, x, k, w):
            ctx.k = k
            ctx.save_for_backward(x, w)
            return x * w * k, x + w

        @staticmethod
        def backward(ctx, g1, g2):
            x, w = ctx.saved_tensors
            return g1 * w * ctx.k + g2, None, g1 * x * ctx.k + g2

    a = np.linspace(-1, 1, 7)
    assert gradcheck(lambda x: Legendre3.apply(x), [a])
    assert gradcheck(lambda x, w: sum(o.sum() for o in Scale.apply(x, 3.0, w)), [a, a[::-1].copy()])
    x = myelin.tensor(a, dtype=myelin.float64, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    Legendre3.apply(x).sum().backward()
    (0.5 * (5 * xt ** 3 - 3 * xt)).sum().backward()
    np.testing.assert_allclose(_grad(x), xt.grad.numpy())


def test_autograd_grad_leaves_dot_grad_alone(torch):
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    w = myelin.tensor([3.0, 4.0], requires_grad=True)
    y = (x * x * w).sum()
    (gx,) = myelin.autograd.grad(y, x, retain_graph=True)
    assert gx.tolist() == [6.0, 16.0] and x.grad is None and w.grad is None
    gx, gw = myelin.autograd.grad([y], [x, w])
    assert gw.tolist() == [1.0, 4.0]
    unused = myelin.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        myelin.autograd.grad((x * 2).sum(), [unused])
    assert myelin.autograd.grad((x * 2).sum(), [unused], allow_unused=True) == (None,)


def test_legacy_constructors_constants_and_linalg(torch):
    assert myelin.FloatTensor([1, 2]).dtype == myelin.float32 and myelin.LongTensor([1]).dtype == myelin.long
    assert myelin.FloatTensor(2, 3).shape == (2, 3) and myelin.BoolTensor([True]).dtype == myelin.bool
    assert myelin.pi == torch.pi and myelin.inf == float("inf") and np.isnan(myelin.nan) and myelin.e == torch.e
    a = R.standard_normal((3, 4))
    assert_close(myelin.linalg.norm(myelin.tensor(a)), torch.linalg.norm(torch.tensor(a)))
    assert_close(myelin.linalg.vector_norm(myelin.tensor(a), 1, dim=1), torch.linalg.vector_norm(torch.tensor(a), 1,
                                                                                                dim=1))
    assert_close(myelin.linalg.matrix_norm(myelin.tensor(a)), torch.linalg.matrix_norm(torch.tensor(a)))
    for m, t in zip(myelin.std_mean(myelin.tensor(a), 0), torch.std_mean(torch.tensor(a), 0)):
        assert_close(m, t)
    for m, t in zip(myelin.var_mean(myelin.tensor(a), 1, keepdim=True), torch.var_mean(torch.tensor(a), 1,
                                                                                        keepdim=True)):
        assert_close(m, t)
    assert myelin.zeros(size=(2, 3)).shape == (2, 3) and myelin.randn(size=(4,)).shape == (4,)
