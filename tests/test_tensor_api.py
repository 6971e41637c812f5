"""Tensor methods with PyTorch's spellings (core/tensor_api.py): devices, dtypes, in-place updates,
factories, and methods over the ops; gradients against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin.devices import DeviceError


def _grad(t):
    g = t.grad
    return None if g is None else np.asarray(getattr(g, "data", g))


def test_device_and_dtype_spellings():
    x = myelin.ones(2, 3)
    assert x.device == myelin.device("cpu") and x.device.type == "cpu" and not x.is_cuda
    assert x.to("cpu") is x and x.cpu() is x and x.to(myelin.device("cpu")) is x
    assert x.to(myelin.float64).dtype == myelin.float64
    assert x.to("cpu", myelin.long).dtype == myelin.int64
    assert x.to(dtype=myelin.float16, non_blocking=True).dtype == myelin.float16
    assert x.to(myelin.zeros(1, dtype=myelin.float64)).dtype == myelin.float64
    assert x.type(myelin.float64).dtype == myelin.float64 and x.type() == "myelin.float32"
    assert x.type_as(myelin.arange(2)).dtype == myelin.int64 and x.half().dtype == myelin.float16
    with pytest.raises(DeviceError, match="CPU only"):
        x.cuda()
    with pytest.raises(DeviceError, match="CPU only"):
        x.to("cuda")


def test_to_keeps_the_gradient_path(torch):
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    (x.to(myelin.float64) * 3).sum().backward()
    assert _grad(x).tolist() == [3.0, 3.0] and _grad(x).dtype == np.float32


def test_new_factories():
    x = myelin.zeros(2, dtype=myelin.float64)
    assert x.new_zeros(3).dtype == myelin.float64 and x.new_ones((2, 2)).shape == (2, 2)
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0] and x.new_tensor([1, 2]).dtype == myelin.float64
    assert x.new_empty(4).shape == (4,) and x.new_zeros(2, dtype=myelin.long).dtype == myelin.int64


@pytest.mark.parametrize("name", ["t", "norm", "norm_dim", "repeat", "tile", "masked_fill", "flip", "cumsum",
                                  "prod", "sort", "topk", "gather", "index_select", "view_as", "sin", "rsqrt",
                                  "logsumexp", "diag", "masked_select", "scatter_add"])
def test_methods_match_pytorch(torch, name):
    a = np.random.default_rng(0).standard_normal((3, 4))
    mask = a > 0
    cases = {
        "t": lambda x, m: x.t(),
        "norm": lambda x, m: x.norm(),
        "norm_dim": lambda x, m: x.norm(dim=1, keepdim=True),
        "repeat": lambda x, m: x.repeat(2, 1, 3),
        "tile": lambda x, m: x.tile(2),
        "masked_fill": lambda x, m: x.masked_fill(m, 0.0),
        "flip": lambda x, m: x.flip(0),
        "cumsum": lambda x, m: x.cumsum(1),
        "prod": lambda x, m: x.prod(0),
        "sort": lambda x, m: x.sort(1, descending=True)[0],
        "topk": lambda x, m: x.topk(2, dim=0).values,
        "gather": lambda x, m: x.gather(1, x.argsort(1)),
        "index_select": lambda x, m: x.index_select(0, x.argmax(0)),
        "view_as": lambda x, m: x.view_as(x.t()),
        "sin": lambda x, m: x.sin(),
        "rsqrt": lambda x, m: (x * x + 1).rsqrt(),
        "logsumexp": lambda x, m: x.logsumexp(0),
        "diag": lambda x, m: x.diag(1),
        "masked_select": lambda x, m: x.masked_select(m),
        "scatter_add": lambda x, m: x.scatter_add(0, x.argsort(0), x),
    }
    fn = cases[name]
    xm = myelin.tensor(a, dtype=myelin.float64, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    om, ot = fn(xm, myelin.tensor(mask)), fn(xt, torch.tensor(mask))
    assert_close(om, ot, 1e-10, 1e-10)
    w = np.random.default_rng(1).standard_normal(tuple(ot.shape))
    (om * myelin.tensor(w, dtype=myelin.float64)).sum().backward()
    (ot * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(_grad(xm), xt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_in_place_updates(torch):
    x = myelin.ones(2, 2)
    x.add_(1).mul_(3).sub_(myelin.ones(2, 2), alpha=2).div_(2)
    assert x.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    x.clamp_(max=1.5)
    assert x.tolist() == [[1.5, 1.5], [1.5, 1.5]]
    x.masked_fill_(myelin.tensor([[True, False], [False, True]]), 0.0)
    assert x.tolist() == [[0.0, 1.5], [1.5, 0.0]]
    x.zero_().scatter_(1, myelin.tensor([[1], [0]]), 5.0)
    assert x.tolist() == [[0.0, 5.0], [5.0, 0.0]]
    w = myelin.empty(1000).uniform_(-2, 2)
    assert -2 <= w.min().item() and w.max().item() < 2 and abs(w.mean().item()) < 0.2
    n = myelin.empty(4000).normal_(1.0, 0.5)
    assert abs(n.mean().item() - 1.0) < 0.05 and abs(n.std().item() - 0.5) < 0.05
    p = myelin.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        p.add_(1)
    with myelin.no_grad():
        p.add_(1).normal_()
    assert p.requires_grad


def test_backward_takes_gradient_keyword(torch):
    x = myelin.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(gradient=myelin.tensor([1.0, 0.5]))
    assert _grad(x).tolist() == [2.0, 2.0]


def test_reductions_with_dim_and_predicates():
    x = myelin.tensor([[1.0, -1.0], [2.0, 3.0]])
    assert (x > 0).all(dim=1).tolist() == [False, True] and (x > 0).any(1).tolist() == [True, True]
    assert (x > 0).all().item() is False and x.equal(x.clone()) and x.allclose(x + 1e-9)
    assert x.count_nonzero().item() == 4 and x.nonzero().shape == (4, 2)
    d = x.detach().requires_grad_()
    y = d * 2
    y.detach_()
    assert not y.requires_grad and y.is_leaf


def test_more_shape_spellings_match_pytorch(torch):
    a = np.random.default_rng(2).standard_normal((2, 3, 4))
    cases = [
        (lambda m: m.movedim(0, 2), lambda t: t.movedim(0, 2)),
        (lambda m: m.movedim((0, 1), (2, 0)), lambda t: t.movedim((0, 1), (2, 0))),
        (lambda m: m.swapaxes(0, 1), lambda t: t.swapaxes(0, 1)),
        (lambda m: m.narrow(2, 1, 2), lambda t: t.narrow(2, 1, 2)),
        (lambda m: m.unbind(1)[2], lambda t: t.unbind(1)[2]),
        (lambda m: m.repeat_interleave(2, dim=1), lambda t: t.repeat_interleave(2, dim=1)),
        (lambda m: m.repeat_interleave(3), lambda t: t.repeat_interleave(3)),
        (lambda m: m.lerp(m * 0, 0.25), lambda t: t.lerp(t * 0, 0.25)),
        (lambda m: myelin.cdist(m, m[:, :2]), lambda t: torch.cdist(t, t[:, :2])),
        (lambda m: myelin.hstack([m, m]), lambda t: torch.hstack([t, t])),
        (lambda m: myelin.vstack([m[0, 0], m[1, 1]]), lambda t: torch.vstack([t[0, 0], t[1, 1]])),
    ]
    for fm, ft in cases:
        xm = myelin.tensor(a, dtype=myelin.float64, requires_grad=True)
        xt = torch.tensor(a, requires_grad=True)
        om, ot = fm(xm), ft(xt)
        assert_close(om, ot, 1e-10, 1e-10)
        w = np.random.default_rng(1).standard_normal(tuple(ot.shape))
        (om * myelin.tensor(w, dtype=myelin.float64)).sum().backward()
        (ot * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(_grad(xm), xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    gm = myelin.meshgrid(myelin.arange(3), myelin.arange(2), indexing="ij")
    gt = torch.meshgrid(torch.arange(3), torch.arange(2), indexing="ij")
    assert all(m.tolist() == t.tolist() for m, t in zip(gm, gt))
    assert myelin.zeros(3, 3).fill_diagonal_(1).tolist() == torch.zeros(3, 3).fill_diagonal_(1).tolist()
    model = myelin.nn.Linear(2, 2)
    assert myelin.compile(model) is model
