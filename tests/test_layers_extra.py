"""Layers and functions added for PyTorch parity (issue 16): outputs and every gradient against PyTorch,
float64 gradchecks, state_dict keys, default inits, configs and errors.

Covers MaxPool1d/AvgPool1d, ConvTranspose1d/2d, Upsample/F.interpolate, GroupNorm, InstanceNorm1d/2d,
PReLU, Mish, Hardswish, F.pad's modes, F.normalize, F.cosine_similarity, F.kl_div/KLDivLoss and
nn.utils.parameters_to_vector / vector_to_parameters. (Attention is in test_attention.py.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import myelin
import myelin.nn.functional as F
from conftest import assert_close
from myelin import nn
from myelin.autograd.gradcheck import gradcheck
from myelin.nn.utils import parameters_to_vector, vector_to_parameters


def _grad(t):
    g = t.grad
    return g.data if isinstance(g, myelin.Tensor) else g


def _parity(torch, ours, theirs, arrays, rng, rtol=1e-5, atol=1e-6, grads=None):
    """Run ``ours(*tensors)`` and ``theirs(*torch_tensors)``; compare outputs and the gradients of the
    float inputs (``grads``: which positions need one; default all float arrays)."""
    grads = [a.dtype.kind == "f" for a in arrays] if grads is None else grads
    ms = [myelin.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    ts = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    out, ref = ours(*ms), theirs(*ts)
    assert out.shape == tuple(ref.shape), (out.shape, tuple(ref.shape))
    assert out.dtype == arrays[0].dtype
    assert_close(out, ref, rtol, atol, "output")
    g = rng.standard_normal(ref.shape).astype(arrays[0].dtype)
    out.backward(g)
    ref.backward(torch.tensor(g))
    for i, (m, t, need) in enumerate(zip(ms, ts, grads)):
        if need:
            assert_close(_grad(m), t.grad, rtol, atol, f"gradient of input {i}")


def _module_parity(torch, ours, theirs, x, rng, rtol=1e-4, atol=1e-5, train=True):
    """Copy ``theirs``' state into ``ours``; compare output, input gradient and every parameter gradient."""
    sd = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict(sd)
    ours.train(train)
    theirs.train(train)
    xm, xt = myelin.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xm), theirs(xt)
    assert_close(out, ref, rtol, atol, "output")
    g = rng.standard_normal(tuple(ref.shape)).astype(np.float32)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert_close(_grad(xm), xt.grad, rtol, atol, "input gradient")
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(_grad(p), tp[name].grad, rtol, atol, f"gradient of {name}")
    for name, b in theirs.named_buffers():
        assert_close(ours.state_dict()[name], b, rtol, atol, f"buffer {name}")


def _x(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# ----------------------------------------------------------------------------- 1-D pooling
POOL1D = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 2, "stride": 3},
]


@pytest.mark.parametrize("kwargs", POOL1D + [{"kernel_size": 3, "stride": 1, "dilation": 2, "padding": 1}])
@pytest.mark.parametrize("shape", [(2, 3, 11), (3, 8)])
def test_max_pool1d_matches_torch(torch, rng, kwargs, shape):
    x = np.round(_x(rng, *shape) * 2)  # ties: the first maximum wins, as in PyTorch
    _parity(torch, lambda t: F.max_pool1d(t, **kwargs), lambda t: torch.nn.functional.max_pool1d(t, **kwargs), [x],
            rng)
    _, idx = F.max_pool1d(myelin.tensor(x), return_indices=True, **kwargs)
    _, ridx = torch.nn.functional.max_pool1d(torch.tensor(x), return_indices=True, **kwargs)
    np.testing.assert_array_equal(idx.data, ridx.numpy())


@pytest.mark.parametrize("kwargs", POOL1D + [{"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}])
def test_avg_pool1d_matches_torch(torch, rng, kwargs):
    _parity(torch, lambda t: F.avg_pool1d(t, **kwargs), lambda t: torch.nn.functional.avg_pool1d(t, **kwargs),
            [_x(rng, 2, 3, 11)], rng)


def test_pool1d_modules(torch, rng):
    x = _x(rng, 2, 3, 10)
    _module_parity(torch, nn.MaxPool1d(3, 2, 1), torch.nn.MaxPool1d(3, 2, 1), x, rng)
    _module_parity(torch, nn.AvgPool1d(3, 2, 1, count_include_pad=False),
                   torch.nn.AvgPool1d(3, 2, 1, count_include_pad=False), x, rng)
    with pytest.raises(ValueError, match=r"MaxPool1d.*expected input \(N, C, L\)"):
        nn.MaxPool1d(2)(myelin.zeros(2, 3, 4, 5))
    with pytest.raises(TypeError, match="kernel_size"):
        nn.AvgPool1d((2, 2))


def test_pool1d_gradcheck(rng):
    x = rng.standard_normal((2, 2, 9))
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1), [x])
    assert gradcheck(lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True), [x])


# ----------------------------------------------------------------------------- transposed convolution
CONVT = [
    {},
    {"stride": 2},
    {"stride": 2, "padding": 1, "output_padding": 1},
    {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2), "dilation": (1, 2)},
    {"groups": 2, "stride": 2, "dilation": 2, "output_padding": 1},
]


@pytest.mark.parametrize("kwargs", CONVT)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_matches_torch(torch, rng, kwargs, bias):
    g = kwargs.get("groups", 1)
    arrays = [_x(rng, 2, 4, 5, 6), _x(rng, 4, 6 // g, 3, 2)] + ([_x(rng, 6)] if bias else [])
    _parity(torch, lambda *t: F.conv_transpose2d(*t, **kwargs), lambda *t: torch.nn.functional.conv_transpose2d(*t, **kwargs),
            arrays, rng, 1e-4, 1e-5)


def test_conv_transpose_unbatched_and_1d(torch, rng):
    _parity(torch, lambda *t: F.conv_transpose2d(*t, stride=2), lambda *t: torch.nn.functional.conv_transpose2d(*t, stride=2),
            [_x(rng, 3, 4, 4), _x(rng, 3, 2, 3, 3)], rng, 1e-4, 1e-5)
    kw = {"stride": 3, "padding": 1, "output_padding": 2, "dilation": 2}
    _parity(torch, lambda *t: F.conv_transpose1d(*t, **kw), lambda *t: torch.nn.functional.conv_transpose1d(*t, **kw),
            [_x(rng, 2, 4, 7), _x(rng, 4, 5, 3), _x(rng, 5)], rng, 1e-4, 1e-5)


def test_conv_transpose_gradcheck(rng):
    args = [rng.standard_normal(s) for s in ((2, 4, 3, 4), (4, 3, 3, 2), (6,))]
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2, 1), args)


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
                                    {"stride": (1, 2), "dilation": 2, "bias": False}])
def test_conv_transpose2d_module(torch, rng, kwargs):
    ours, theirs = nn.ConvTranspose2d(4, 6, 3, **kwargs), torch.nn.ConvTranspose2d(4, 6, 3, **kwargs)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    _module_parity(torch, ours, theirs, _x(rng, 2, 4, 5, 6), rng)
    assert repr(ours) == repr(theirs)


def test_conv_transpose_output_size_and_init(torch, rng):
    m, t = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = _x(rng, 1, 2, 5, 5)
    out, ref = m(myelin.tensor(x), output_size=(10, 10)), t(torch.tensor(x), output_size=(10, 10))
    assert out.shape == (1, 3, 10, 10)
    assert_close(out, ref, 1e-4, 1e-5)
    with pytest.raises(ValueError, match="output_size"):
        m(myelin.tensor(x), output_size=(12, 12))
    m1d = nn.ConvTranspose1d(3, 4, 5, stride=2)
    assert m1d.weight.shape == (3, 4, 5)
    # PyTorch's init: kaiming_uniform_(a=sqrt(5)) with fan_in = out_channels/groups * k, so |w| <= 1/sqrt(fan_in)
    big = nn.ConvTranspose2d(64, 8, 3)
    bound = 1 / np.sqrt(8 * 9)
    assert np.abs(big.weight.data).max() <= bound and np.abs(big.weight.data).max() > 0.9 * bound
    assert np.abs(big.bias.data).max() <= bound
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)


# ----------------------------------------------------------------------------- interpolation
INTERP = [
    ((2, 3, 5, 6), {"scale_factor": 2}),
    ((2, 3, 5, 6), {"size": (7, 4)}),
    ((2, 3, 5, 6), {"scale_factor": (0.6, 2.5)}),
    ((2, 3, 5, 6), {"size": (7, 13), "mode": "bilinear"}),
    ((2, 3, 5, 6), {"size": (7, 13), "mode": "bilinear", "align_corners": True}),
    ((2, 3, 5, 6), {"scale_factor": 1.7, "mode": "bilinear"}),
    ((2, 3, 5, 6), {"scale_factor": 0.5, "mode": "bilinear", "align_corners": True}),
    ((2, 3, 5, 6), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
    ((2, 3, 9), {"scale_factor": 1.5, "mode": "linear"}),
    ((2, 3, 9), {"size": 4, "mode": "nearest-exact"}),
    ((1, 2, 3, 4, 5), {"size": (4, 5, 7), "mode": "trilinear"}),
]


@pytest.mark.parametrize(("shape", "kwargs"), INTERP)
def test_interpolate_matches_torch(torch, rng, shape, kwargs):
    _parity(torch, lambda t: F.interpolate(t, **kwargs), lambda t: torch.nn.functional.interpolate(t, **kwargs),
            [_x(rng, *shape)], rng)


def test_interpolate_gradcheck_and_errors(rng):
    x = rng.standard_normal((1, 2, 3, 4))
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear"), [x])
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(myelin.tensor(x), size=3, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(myelin.tensor(x), scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="4-D"):
        F.interpolate(myelin.zeros(1, 2, 3), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="bicubic"):
        F.interpolate(myelin.tensor(x), scale_factor=2, mode="bicubic")


def test_upsample_modules(torch, rng):
    x = _x(rng, 2, 3, 4, 5)
    for ours, theirs in [(nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
                         (nn.Upsample(size=(5, 9), mode="bilinear"), torch.nn.Upsample(size=(5, 9), mode="bilinear")),
                         (nn.UpsamplingBilinear2d(scale_factor=2), torch.nn.UpsamplingBilinear2d(scale_factor=2)),
                         (nn.UpsamplingNearest2d(size=7), torch.nn.UpsamplingNearest2d(size=7))]:
        _module_parity(torch, ours, theirs, x, rng)
    rebuilt = nn.from_config(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False).get_config())
    assert rebuilt.mode == "bilinear" and rebuilt.scale_factor == 2.0


# ----------------------------------------------------------------------------- normalisation
@pytest.mark.parametrize(("groups", "shape", "affine"), [(3, (3, 6, 4, 5), True), (1, (2, 4, 7), False),
                                                         (4, (2, 4, 3, 3), True), (2, (2, 4), True)])
def test_group_norm_module(torch, rng, groups, shape, affine):
    ours, theirs = nn.GroupNorm(groups, shape[1], affine=affine), torch.nn.GroupNorm(groups, shape[1], affine=affine)
    if affine:  # non-trivial affine parameters
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, shape[1]).astype(np.float32)))
            theirs.bias.copy_(torch.tensor(rng.standard_normal(shape[1]).astype(np.float32)))
    _module_parity(torch, ours, theirs, _x(rng, *shape, scale=3.0) + 1, rng)


def test_group_norm_gradcheck_and_errors(rng):
    args = [rng.standard_normal((2, 4, 5)), rng.standard_normal(4), rng.standard_normal(4)]
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), args)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"GroupNorm.*expected input \(N, 4, \*\)"):
        nn.GroupNorm(2, 4)(myelin.zeros(2, 3, 5))


@pytest.mark.parametrize("cls", ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"])
@pytest.mark.parametrize("kwargs", [{}, {"affine": True}, {"track_running_stats": True},
                                    {"affine": True, "track_running_stats": True, "momentum": 0.3}])
def test_instance_norm_module(torch, rng, cls, kwargs):
    shape = {"InstanceNorm1d": (3, 4, 7), "InstanceNorm2d": (3, 4, 5, 6), "InstanceNorm3d": (2, 4, 3, 4, 5)}[cls]
    ours, theirs = getattr(nn, cls)(4, **kwargs), getattr(torch.nn, cls)(4, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for train in (True, True, False):  # two training steps update the running stats; eval then uses them
        _module_parity(torch, ours, theirs, _x(rng, *shape, scale=2.0) + 0.5, rng, train=train)
    assert ours.affine == theirs.affine and ours.track_running_stats == theirs.track_running_stats


def test_instance_norm_unbatched_and_gradcheck(torch, rng):
    x = _x(rng, 4, 5, 6)
    out, ref = nn.InstanceNorm2d(4)(myelin.tensor(x)), torch.nn.InstanceNorm2d(4)(torch.tensor(x))
    assert_close(out, ref, 1e-4, 1e-5)
    args = [rng.standard_normal((2, 3, 5)), rng.standard_normal(3), rng.standard_normal(3)]
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), args)


# ----------------------------------------------------------------------------- activations
@pytest.mark.parametrize("name", ["mish", "hardswish"])
def test_new_activations_match_torch(torch, rng, name):
    x = _x(rng, 4, 50, scale=4.0)
    x[0, :6] = [-3.0, 3.0, 0.0, 25.0, -30.0, 20.0]  # the kinks and the softplus threshold
    _parity(torch, getattr(F, name), getattr(torch.nn.functional, name), [x], rng)
    module = {"mish": nn.Mish, "hardswish": nn.Hardswish}[name]()
    assert_close(module(myelin.tensor(x)), getattr(torch.nn.functional, name)(torch.tensor(x)))
    assert gradcheck(getattr(F, name), [rng.standard_normal((3, 5)) * 2.5])


@pytest.mark.parametrize(("num", "shape"), [(1, (3, 4, 5)), (4, (3, 4, 5)), (4, (2, 4)), (1, (3,)), (1, ())])
def test_prelu_matches_torch(torch, rng, num, shape):
    ours, theirs = nn.PReLU(num, init=0.2), torch.nn.PReLU(num, init=0.2)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.uniform(0.0, 0.5, num).astype(np.float32)))
    _module_parity(torch, ours, theirs, _x(rng, *shape), rng)
    args = [rng.standard_normal((2, num, 3)), rng.uniform(0.1, 0.5, num)]
    assert gradcheck(F.prelu, args)


def test_prelu_defaults_and_errors():
    m = nn.PReLU()
    assert m.weight.shape == (1,) and m.weight.data[0] == np.float32(0.25)
    assert list(m.state_dict()) == ["weight"]
    with pytest.raises(ValueError, match=r"PReLU.*expected input \(N, 3, \*\)"):
        nn.PReLU(3)(myelin.zeros(2, 4))


# ----------------------------------------------------------------------------- padding
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize(("shape", "pad"), [((2, 3, 5), (2, 1)), ((2, 3, 5, 6), (1, 2, 3, 0)), ((3, 5, 6), (1, 2, 3, 4)),
                                            ((1, 2, 4, 5, 6), (1, 2, 0, 3, 2, 1))])
def test_pad_modes_match_torch(torch, rng, mode, shape, pad):
    _parity(torch, lambda t: F.pad(t, pad, mode=mode), lambda t: torch.nn.functional.pad(t, pad, mode=mode),
            [_x(rng, *shape)], rng)


def test_pad_constant_value_gradcheck_and_errors(torch, rng):
    x = _x(rng, 2, 3)
    assert_close(F.pad(myelin.tensor(x), (1, 2, 0, 1), value=2.5),
                 torch.nn.functional.pad(torch.tensor(x), (1, 2, 0, 1), value=2.5))
    assert gradcheck(lambda t: F.pad(t, (2, 1, 1, 1), mode="reflect"), [rng.standard_normal((1, 2, 3, 4))])
    assert gradcheck(lambda t: F.pad(t, (3, 2), mode="circular"), [rng.standard_normal((2, 2, 3))])
    with pytest.raises(ValueError, match="smaller than its size"):
        F.pad(myelin.zeros(1, 2, 3), (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="mode"):
        F.pad(myelin.zeros(1, 2, 3), (1, 1), mode="wrap")
    with pytest.raises(ValueError, match="last 1, 2 or 3 dimensions"):
        F.pad(myelin.zeros(3), (1, 1), mode="replicate")


# ----------------------------------------------------------------------------- normalize, cosine similarity
@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0, "dim": -1}, {"p": 3, "dim": 0}, {"dim": 2, "eps": 0.5}])
def test_normalize_matches_torch(torch, rng, kwargs):
    x = _x(rng, 3, 5, 4)
    x[0, :, 0] = 0  # a zero vector: the norm is clamped at eps
    _parity(torch, lambda t: F.normalize(t, **kwargs), lambda t: torch.nn.functional.normalize(t, **kwargs), [x], rng)


@pytest.mark.parametrize(("s1", "s2", "kwargs"), [((3, 5, 4), (3, 5, 4), {}), ((3, 5, 4), (1, 5, 4), {"dim": -1}),
                                                  ((4, 6), (4, 6), {"eps": 2.0}), ((6,), (3, 6), {"dim": -1})])
def test_cosine_similarity_matches_torch(torch, rng, s1, s2, kwargs):
    _parity(torch, lambda a, b: F.cosine_similarity(a, b, **kwargs),
            lambda a, b: torch.nn.functional.cosine_similarity(a, b, **kwargs), [_x(rng, *s1), _x(rng, *s2)], rng)


def test_normalize_cosine_gradcheck(rng):
    assert gradcheck(lambda t: F.normalize(t, p=3.0, dim=1), [rng.standard_normal((3, 4))])
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b, dim=0),
                     [rng.standard_normal((4, 3)), rng.standard_normal((4, 1))])


# ----------------------------------------------------------------------------- KL divergence
@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(torch, rng, reduction, log_target):
    x = np.log(rng.dirichlet(np.ones(5), size=4)).astype(np.float32)
    t = rng.dirichlet(np.ones(5), size=4).astype(np.float32)
    t = np.log(t) if log_target else t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _parity(torch, lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target), [x, t], rng)
        ours = nn.KLDivLoss(reduction=reduction, log_target=log_target)(myelin.tensor(x), myelin.tensor(t))
        theirs = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(torch.tensor(x), torch.tensor(t))
    assert_close(ours, theirs)


def test_kl_div_zero_targets_and_gradcheck(torch, rng):
    x = np.log(rng.dirichlet(np.ones(4), size=3))
    t = rng.dirichlet(np.ones(4), size=3)
    t[0, 1] = 0.0  # contributes 0, as PyTorch's xlogy
    out = F.kl_div(myelin.tensor(x), myelin.tensor(t), reduction="batchmean")
    ref = torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(t), reduction="batchmean")
    assert np.isclose(out.item(), ref.item())
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), [x, rng.uniform(0.1, 1.0, (3, 4))])
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True), [x, x[::-1].copy()])
    with pytest.raises(ValueError, match="reduction"):
        nn.KLDivLoss(reduction="avg")


# ----------------------------------------------------------------------------- parameter vectors
def test_parameters_to_vector_roundtrip(torch, rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    vec = parameters_to_vector(model.parameters())
    ref = torch.nn.utils.parameters_to_vector(tmodel.parameters())
    assert vec.shape == (26,)
    assert_close(vec, ref, 0, 0)
    (vec * vec).sum().backward()  # differentiable, as torch.cat
    assert_close(_grad(model[0].weight), 2 * model[0].weight.data)
    new = rng.standard_normal(26).astype(np.float32)
    weight_array = model[0].weight.data
    vector_to_parameters(myelin.tensor(new), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tmodel.parameters())
    assert model[0].weight.data is weight_array  # in place: an optimizer holding the arrays keeps working
    for (k, v), (_, tv) in zip(model.state_dict().items(), tmodel.state_dict().items()):
        assert_close(v, tv, 0, 0, k)
    with pytest.raises(ValueError, match="26"):
        vector_to_parameters(myelin.zeros(25), model.parameters())
    assert nn.utils.parameters_to_vector is parameters_to_vector


# ----------------------------------------------------------------------------- registry and configs
@pytest.mark.parametrize("build", [
    lambda: nn.MaxPool1d(3, 2), lambda: nn.AvgPool1d(2), lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, groups=1),
    lambda: nn.ConvTranspose1d(2, 2, 3), lambda: nn.Upsample(scale_factor=2), lambda: nn.GroupNorm(2, 4),
    lambda: nn.InstanceNorm2d(3, affine=True), lambda: nn.InstanceNorm1d(3), lambda: nn.PReLU(3), lambda: nn.Mish(),
    lambda: nn.Hardswish(), lambda: nn.KLDivLoss(reduction="batchmean"),
])
def test_new_layers_rebuild_from_config(build):
    m = build()
    rebuilt = nn.from_config(m.get_config())
    assert type(rebuilt) is type(m) and repr(rebuilt) == repr(m)
    assert list(rebuilt.state_dict()) == list(m.state_dict())


# ----------------------------------------------------------------------------- found alongside: padding layers, ...
@pytest.mark.parametrize(("name", "args", "shape"), [
    ("ZeroPad2d", (1,), (2, 3, 4, 5)), ("ZeroPad1d", ((2, 0),), (3, 5)), ("ConstantPad2d", ((1, 0, 2, 1), 1.5), (3, 4, 5)),
    ("ConstantPad3d", (1, -2.0), (1, 2, 3, 4, 5)), ("ReflectionPad1d", (2,), (2, 3, 5)),
    ("ReflectionPad2d", ((1, 0, 2, 1),), (2, 3, 4, 5)), ("ReplicationPad2d", (2,), (3, 4, 5)),
    ("ReplicationPad3d", ((1, 0, 0, 1, 1, 1),), (1, 2, 3, 4, 5)), ("CircularPad1d", (3,), (2, 3, 5)),
    ("CircularPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)),
])
def test_padding_layers(torch, rng, name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    _module_parity(torch, ours, theirs, _x(rng, *shape), rng)
    assert repr(ours) == repr(theirs)
    assert repr(nn.from_config(ours.get_config())) == repr(ours)


def test_padding_layer_errors():
    with pytest.raises(ValueError, match=r"ReflectionPad2d.*expected input \(N, C, H, W\)"):
        nn.ReflectionPad2d(1)(myelin.zeros(5))
    with pytest.raises(ValueError, match="ReflectionPad1d.*smaller than its size"):
        nn.ReflectionPad1d(3)(myelin.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="4 ints"):
        nn.ZeroPad2d((1, 2))


@pytest.mark.parametrize("size", [1, 3, 4, 5])
def test_adaptive_pool1d(torch, rng, size):
    x = np.round(_x(rng, 2, 3, 10) * 2)
    _module_parity(torch, nn.AdaptiveAvgPool1d(size), torch.nn.AdaptiveAvgPool1d(size), x, rng)
    _module_parity(torch, nn.AdaptiveMaxPool1d(size), torch.nn.AdaptiveMaxPool1d(size), x, rng)
    _, idx = F.adaptive_max_pool1d(myelin.tensor(x), size, return_indices=True)
    _, ridx = torch.nn.functional.adaptive_max_pool1d(torch.tensor(x), size, return_indices=True)
    np.testing.assert_array_equal(idx.data, ridx.numpy())


@pytest.mark.parametrize("name", ["Hardsigmoid", "Softsign", "SELU", "LogSigmoid"])
def test_more_activations(torch, rng, name):
    x = _x(rng, 3, 40, scale=4.0)
    x[0, :3] = [-3.0, 3.0, 0.0]
    _module_parity(torch, getattr(nn, name)(), getattr(torch.nn, name)(), x, rng, 1e-5, 1e-6)
    fn = {"Hardsigmoid": F.hardsigmoid, "Softsign": F.softsign}.get(name)
    if fn is not None:
        assert gradcheck(fn, [rng.standard_normal((3, 5)) * 2.5])


@pytest.mark.parametrize(("s1", "s2", "kwargs"), [((4, 5), (4, 5), {}), ((4, 5), (5,), {"p": 1.0}),
                                                  ((3, 6), (3, 6), {"p": 3.0, "keepdim": True, "eps": 0.0})])
def test_pairwise_distance_and_modules(torch, rng, s1, s2, kwargs):
    _parity(torch, lambda a, b: F.pairwise_distance(a, b, **kwargs),
            lambda a, b: torch.nn.functional.pairwise_distance(a, b, **kwargs), [_x(rng, *s1), _x(rng, *s2)], rng)
    a, b = _x(rng, *s1), _x(rng, *s2)
    assert_close(nn.PairwiseDistance(**kwargs)(myelin.tensor(a), myelin.tensor(b)),
                 torch.nn.PairwiseDistance(**kwargs)(torch.tensor(a), torch.tensor(b)), 1e-5, 1e-6)
    assert_close(nn.CosineSimilarity(dim=-1)(myelin.tensor(a), myelin.tensor(b)),
                 torch.nn.CosineSimilarity(dim=-1)(torch.tensor(a), torch.tensor(b)), 1e-5, 1e-6)


def test_pixel_shuffle(torch, rng):
    _module_parity(torch, nn.PixelShuffle(2), torch.nn.PixelShuffle(2), _x(rng, 2, 12, 3, 4), rng)
    _module_parity(torch, nn.PixelUnshuffle(3), torch.nn.PixelUnshuffle(3), _x(rng, 2, 2, 6, 9), rng)
    x = myelin.tensor(_x(rng, 1, 8, 2, 3))
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).data, x.data)
    with pytest.raises(ValueError, match="PixelShuffle.*C\\*9"):
        nn.PixelShuffle(3)(myelin.zeros(1, 8, 2, 2))


@pytest.mark.parametrize(("name", "args", "kwargs"), [
    ("CELU", (0.7,), {}), ("GLU", (), {"dim": 1}), ("Softmin", (), {"dim": 1}), ("Threshold", (0.3, -1.5), {}),
    ("Softshrink", (0.6,), {}), ("Hardshrink", (0.6,), {}), ("Tanhshrink", (), {}),
])
def test_activation_family(torch, rng, name, args, kwargs):
    x = _x(rng, 3, 8, scale=2.0)
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    _module_parity(torch, ours, theirs, x, rng, 1e-5, 1e-6)
    assert repr(nn.from_config(ours.get_config())) == repr(ours)
    fn = {"CELU": lambda t: F.celu(t, 0.7), "GLU": lambda t: F.glu(t, 1), "Softmin": lambda t: F.softmin(t, 1),
          "Tanhshrink": F.tanhshrink}.get(name)
    if fn is not None:
        assert gradcheck(fn, [rng.standard_normal((3, 4)) * 2])


def _signs(rng, *shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(np.float32)


LOSSES = [
    ("margin_ranking_loss", lambda r: [_x(r, 6), _x(r, 6), _signs(r, 6)], [True, True, False], {"margin": 0.2}),
    ("hinge_embedding_loss", lambda r: [_x(r, 4, 5), _signs(r, 4, 5)], [True, False], {"margin": 0.5}),
    ("soft_margin_loss", lambda r: [_x(r, 4, 5), _signs(r, 4, 5)], [True, False], {}),
    ("multilabel_soft_margin_loss", lambda r: [_x(r, 4, 5), (r.random((4, 5)) < 0.5).astype(np.float32)],
     [True, False], {}),
    ("cosine_embedding_loss", lambda r: [_x(r, 6, 4), _x(r, 6, 4), _signs(r, 6)], [True, True, False],
     {"margin": 0.1}),
    ("triplet_margin_loss", lambda r: [_x(r, 6, 4), _x(r, 6, 4), _x(r, 6, 4)], [True, True, True], {}),
    ("triplet_margin_loss", lambda r: [_x(r, 6, 4), _x(r, 6, 4), _x(r, 6, 4)], [True, True, True],
     {"swap": True, "p": 1, "margin": 0.5}),
    ("poisson_nll_loss", lambda r: [_x(r, 4, 5), np.abs(_x(r, 4, 5)) * 3], [True, False], {"full": True}),
    ("poisson_nll_loss", lambda r: [np.abs(_x(r, 4, 5)), np.abs(_x(r, 4, 5)) * 3], [True, False], {"log_input": False}),
    ("gaussian_nll_loss", lambda r: [_x(r, 4, 5), _x(r, 4, 5), np.abs(_x(r, 4, 5)) + 0.5], [True, True, True],
     {"full": True}),
    ("gaussian_nll_loss", lambda r: [_x(r, 4, 5), _x(r, 4, 5), np.abs(_x(r, 4, 1)) + 0.5], [True, False, True], {}),
]


@pytest.mark.parametrize(("name", "make", "grads", "kwargs"), LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_more_losses_match_torch(torch, rng, name, make, grads, kwargs, reduction):
    _parity(torch, lambda *t: getattr(F, name)(*t, reduction=reduction, **kwargs),
            lambda *t: getattr(torch.nn.functional, name)(*t, reduction=reduction, **kwargs), make(rng), rng,
            1e-5, 1e-6, grads=grads)


@pytest.mark.parametrize(("cls", "args", "kwargs", "n_inputs"), [
    ("MarginRankingLoss", (0.3,), {}, 3), ("HingeEmbeddingLoss", (), {"margin": 2.0}, 2), ("SoftMarginLoss", (), {}, 2),
    ("MultiLabelSoftMarginLoss", (), {"weight": [1.0, 2.0, 0.5, 1.0]}, 2), ("CosineEmbeddingLoss", (0.2,), {}, 3),
    ("TripletMarginLoss", (), {"margin": 0.5, "swap": True}, 3), ("PoissonNLLLoss", (), {"full": True}, 2),
    ("GaussianNLLLoss", (), {"full": True}, 3),
])
def test_more_loss_modules(torch, rng, cls, args, kwargs, n_inputs):
    x = _x(rng, 5, 4)
    arrays = {
        "MarginRankingLoss": [x[:, 0], x[:, 1], _signs(rng, 5)], "HingeEmbeddingLoss": [x, _signs(rng, 5, 4)],
        "SoftMarginLoss": [x, _signs(rng, 5, 4)], "MultiLabelSoftMarginLoss": [x, (x > 0).astype(np.float32)],
        "CosineEmbeddingLoss": [x, _x(rng, 5, 4), _signs(rng, 5)], "TripletMarginLoss": [x, _x(rng, 5, 4), _x(rng, 5, 4)],
        "PoissonNLLLoss": [x, np.abs(x) * 3], "GaussianNLLLoss": [x, _x(rng, 5, 4), np.abs(x) + 0.1],
    }[cls]
    targs = dict(kwargs)
    if "weight" in targs:
        targs["weight"] = torch.tensor(np.asarray(targs["weight"], dtype=np.float32))
    ours, theirs = getattr(nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **targs)
    assert len(arrays) == n_inputs
    assert_close(ours(*[myelin.tensor(a) for a in arrays]), theirs(*[torch.tensor(a) for a in arrays]), 1e-5, 1e-6)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(nn.from_config(ours.get_config())) == repr(ours)


def test_more_losses_gradcheck(rng):
    assert gradcheck(lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0),
                     [rng.standard_normal((3, 4)) for _ in range(3)])
    assert gradcheck(lambda a, b: F.cosine_embedding_loss(a, b, np.array([1.0, -1.0, 1.0]), margin=-0.5),
                     [rng.standard_normal((3, 4)) for _ in range(2)])
    assert gradcheck(lambda x, v: F.gaussian_nll_loss(x, np.zeros((3, 4)), v),
                     [rng.standard_normal((3, 4)), rng.uniform(0.5, 2.0, (3, 4))])


@pytest.mark.parametrize(("cls", "shape"), [("Dropout1d", (8, 16, 5)), ("Dropout2d", (8, 16, 3, 4)),
                                            ("Dropout3d", (16, 2, 3, 4)), ("Dropout2d", (16, 3, 4))])
def test_channel_dropout(cls, shape, rng):
    m = getattr(nn, cls)(0.4)
    x = myelin.tensor(rng.uniform(1, 2, shape).astype(np.float32), requires_grad=True)
    y = m(x)
    k = int(cls[7])
    kept = y.data != 0
    lead = shape[:len(shape) - k]
    per_channel = kept.reshape(lead + (-1,))
    assert np.all(per_channel.all(axis=-1) | ~per_channel.any(axis=-1))  # whole channels kept or dropped
    np.testing.assert_allclose(y.data[kept], x.data[kept] / 0.6, rtol=1e-6)
    assert 0.45 < kept.mean() < 0.75
    y.sum().backward()
    np.testing.assert_allclose(_grad(x), kept / 0.6, rtol=1e-6)
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match=f"{cls}.*dimensions"):
        getattr(nn, cls)()(myelin.zeros(*(2,) * (k + 3)))


def test_softmax2d_and_pad_sequence(torch, rng):
    _module_parity(torch, nn.Softmax2d(), torch.nn.Softmax2d(), _x(rng, 2, 3, 4, 5), rng, 1e-5, 1e-6)
    seqs = [_x(rng, n, 3) for n in (4, 2, 5)]
    for batch_first in (False, True):
        for side in ("right", "left"):
            ms = [myelin.tensor(s, requires_grad=True) for s in seqs]
            ts = [torch.tensor(s, requires_grad=True) for s in seqs]
            out = nn.utils.rnn.pad_sequence(ms, batch_first, -1.0, side)
            ref = torch.nn.utils.rnn.pad_sequence(ts, batch_first, -1.0, side)
            assert_close(out, ref, 0, 0)
            g = _x(rng, *ref.shape)
            out.backward(g)
            ref.backward(torch.tensor(g))
            for m, t in zip(ms, ts):
                assert_close(_grad(m), t.grad, 0, 0)
    with pytest.raises(ValueError, match="sequence 1"):
        nn.utils.rnn.pad_sequence([myelin.zeros(3, 2), myelin.zeros(3, 4)])


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear(torch, rng, bias):
    ours, theirs = nn.Bilinear(3, 2, 4, bias=bias), torch.nn.Bilinear(3, 2, 4, bias=bias)
    sd = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(sd) and repr(ours) == repr(theirs)
    ours.load_state_dict(sd)
    a, b = _x(rng, 2, 5, 3), _x(rng, 2, 5, 2)
    ms, ts = [myelin.tensor(v, requires_grad=True) for v in (a, b)], [torch.tensor(v, requires_grad=True) for v in (a, b)]
    out, ref = ours(*ms), theirs(*ts)
    assert_close(out, ref, 1e-5, 1e-6)
    g = _x(rng, *ref.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    for m, t in zip(ms, ts):
        assert_close(_grad(m), t.grad, 1e-5, 1e-6)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(_grad(p), tp[name].grad, 1e-5, 1e-6, name)
    big = nn.Bilinear(100, 3, 50)
    assert 0.9 / 10 < np.abs(big.weight.data).max() <= 1 / 10  # U(-1/sqrt(in1), 1/sqrt(in1))
    assert gradcheck(F.bilinear, [rng.standard_normal(s) for s in ((4, 3), (4, 2), (5, 3, 2), (5,))])


@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": (3, 2), "dilation": (1, 2), "padding": 1,
                                                          "stride": (2, 1)}])
def test_unfold_fold(torch, rng, kwargs):
    x = _x(rng, 2, 3, 6, 7)
    _parity(torch, lambda t: F.unfold(t, **kwargs), lambda t: torch.nn.functional.unfold(t, **kwargs), [x], rng)
    cols = torch.nn.functional.unfold(torch.tensor(x), **kwargs).numpy()
    _parity(torch, lambda t: F.fold(t, (6, 7), **kwargs), lambda t: torch.nn.functional.fold(t, (6, 7), **kwargs),
            [cols], rng)
    _module_parity(torch, nn.Unfold(**kwargs), torch.nn.Unfold(**kwargs), x, rng, 0, 0)
    assert gradcheck(lambda t: F.unfold(t, **kwargs), [rng.standard_normal((1, 2, 5, 6))])
    with pytest.raises(ValueError, match="Fold.*expected input"):
        nn.Fold((6, 7), **kwargs)(myelin.zeros(1, 5, 3))


def test_batch_norm3d(torch, rng):
    ours, theirs = nn.BatchNorm3d(3), torch.nn.BatchNorm3d(3)
    for train in (True, True, False):
        _module_parity(torch, ours, theirs, _x(rng, 2, 3, 3, 4, 5, scale=2.0) + 1, rng, train=train)
    with pytest.raises(ValueError, match=r"BatchNorm3d.*\(N, 3, D, H, W\)"):
        ours(myelin.zeros(2, 3, 4, 5))
