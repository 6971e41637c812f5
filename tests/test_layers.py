"""Layers against their PyTorch twins (keys, outputs, every gradient), default inits, configs, shape errors."""

from __future__ import annotations

import json
import math
from collections import OrderedDict

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin.nn import activation as A
from myelin.nn.container import Sequential
from myelin.nn.dropout import Dropout
from myelin.nn.embedding import Embedding
from myelin.nn.flatten import Flatten, Unflatten
from myelin.nn.linear import Linear, NeuronView
from myelin.nn.mlp import MLP
from myelin.nn.module import Module
from myelin.nn.neuron import Neuron
from myelin.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from myelin.nn.registry import ConfigError, from_config, register_module

RTOL, ATOL = 1e-4, 1e-5


def _torch_mlp(torch, *layers):
    """A torch module holding ``layers`` under ``self.layers``, the layout of our ``MLP``."""

    class TorchMLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.Sequential(*layers)

        def forward(self, x):
            return self.layers(x)

    return TorchMLP()


# Each case: (our layer, its torch twin, input shape, integer input range or None).
def _cases(torch):
    nn = torch.nn
    return {
        "linear": (lambda: Linear(5, 3), lambda: nn.Linear(5, 3), (4, 5), None),
        "linear_nobias_3d": (lambda: Linear(5, 3, bias=False), lambda: nn.Linear(5, 3, bias=False), (2, 3, 5), None),
        "linear_1d": (lambda: Linear(5, 2), lambda: nn.Linear(5, 2), (5,), None),
        "mlp": (lambda: MLP([4, 8, 8, 3]),
                lambda: _torch_mlp(torch, nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3)),
                (6, 4), None),
        "mlp_bn_tanh_softmax": (
            lambda: MLP([4, 8, 3], activation="tanh", batch_norm=True, output_activation="log_softmax"),
            lambda: _torch_mlp(torch, nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3),
                               nn.LogSoftmax(-1)),
            (6, 4), None),
        "batchnorm1d": (lambda: BatchNorm1d(6), lambda: nn.BatchNorm1d(6), (8, 6), None),
        "batchnorm1d_3d": (lambda: BatchNorm1d(6, momentum=None), lambda: nn.BatchNorm1d(6, momentum=None),
                           (8, 6, 5), None),
        "batchnorm1d_no_affine": (lambda: BatchNorm1d(4, affine=False), lambda: nn.BatchNorm1d(4, affine=False),
                                  (5, 4), None),
        "batchnorm1d_no_stats": (lambda: BatchNorm1d(4, track_running_stats=False),
                                 lambda: nn.BatchNorm1d(4, track_running_stats=False), (5, 4), None),
        "batchnorm2d": (lambda: BatchNorm2d(3, eps=1e-3, momentum=0.3),
                        lambda: nn.BatchNorm2d(3, eps=1e-3, momentum=0.3), (4, 3, 5, 5), None),
        "batchnorm2d_no_bias": (lambda: BatchNorm2d(3, bias=False), lambda: torch.nn.BatchNorm2d(3, bias=False),
                                (4, 3, 2, 2), None),
        "layernorm": (lambda: LayerNorm(6), lambda: nn.LayerNorm(6), (4, 6), None),
        "layernorm_2d_shape": (lambda: LayerNorm((3, 4), eps=1e-6), lambda: nn.LayerNorm((3, 4), eps=1e-6),
                               (2, 5, 3, 4), None),
        "layernorm_no_bias": (lambda: LayerNorm(6, bias=False), lambda: nn.LayerNorm(6, bias=False), (4, 6), None),
        "layernorm_no_affine": (lambda: LayerNorm(6, elementwise_affine=False),
                                lambda: nn.LayerNorm(6, elementwise_affine=False), (4, 6), None),
        "embedding": (lambda: Embedding(10, 4), lambda: nn.Embedding(10, 4), (3, 7), 10),
        "embedding_padding": (lambda: Embedding(10, 4, padding_idx=0), lambda: nn.Embedding(10, 4, padding_idx=0),
                              (3, 7), 10),
        "embedding_freq": (lambda: Embedding(6, 3, scale_grad_by_freq=True),
                           lambda: nn.Embedding(6, 3, scale_grad_by_freq=True), (4, 5), 6),
        "nested_sequential": (
            lambda: Sequential(Linear(4, 8), A.ReLU(), Sequential(Linear(8, 8), A.Tanh(), BatchNorm1d(8)),
                               Linear(8, 2)),
            lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
                                  nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.BatchNorm1d(8)), nn.Linear(8, 2)),
            (5, 4), None),
        "named_sequential": (
            lambda: Sequential(OrderedDict(fc=Linear(3, 4), act=A.GELU(), out=Linear(4, 2))),
            lambda: nn.Sequential(OrderedDict(fc=nn.Linear(3, 4), act=nn.GELU(), out=nn.Linear(4, 2))),
            (5, 3), None),
        "relu": (lambda: A.ReLU(), lambda: nn.ReLU(), (4, 6), None),
        "relu6": (lambda: A.ReLU6(), lambda: nn.ReLU6(), (4, 6), None),
        "leaky_relu": (lambda: A.LeakyReLU(0.2), lambda: nn.LeakyReLU(0.2), (4, 6), None),
        "elu": (lambda: A.ELU(0.5), lambda: nn.ELU(0.5), (4, 6), None),
        "gelu": (lambda: A.GELU(), lambda: nn.GELU(), (4, 6), None),
        "gelu_tanh": (lambda: A.GELU("tanh"), lambda: nn.GELU("tanh"), (4, 6), None),
        "sigmoid": (lambda: A.Sigmoid(), lambda: nn.Sigmoid(), (4, 6), None),
        "tanh": (lambda: A.Tanh(), lambda: nn.Tanh(), (4, 6), None),
        "hardtanh": (lambda: A.Hardtanh(-2.0, 1.5), lambda: nn.Hardtanh(-2.0, 1.5), (4, 6), None),
        "silu": (lambda: A.SiLU(), lambda: nn.SiLU(), (4, 6), None),
        "softplus": (lambda: A.Softplus(2.0, 1.0), lambda: nn.Softplus(2.0, 1.0), (4, 6), None),
        "softmax": (lambda: A.Softmax(dim=1), lambda: nn.Softmax(dim=1), (4, 6, 2), None),
        "log_softmax": (lambda: A.LogSoftmax(dim=-1), lambda: nn.LogSoftmax(dim=-1), (4, 6), None),
        "identity": (lambda: A.Identity(3, x=1), lambda: nn.Identity(3, x=1), (4, 6), None),
        "flatten": (lambda: Flatten(), lambda: nn.Flatten(), (2, 3, 4, 5), None),
        "flatten_range": (lambda: Flatten(0, 2), lambda: nn.Flatten(0, 2), (2, 3, 4, 5), None),
        "unflatten": (lambda: Unflatten(1, (3, 4)), lambda: nn.Unflatten(1, (3, 4)), (2, 12, 5), None),
        "dropout_eval_only": (lambda: Dropout(0.0), lambda: nn.Dropout(0.0), (4, 6), None),
    }


CASE_NAMES = [
    "linear", "linear_nobias_3d", "linear_1d", "mlp", "mlp_bn_tanh_softmax", "batchnorm1d", "batchnorm1d_3d",
    "batchnorm1d_no_affine", "batchnorm1d_no_stats", "batchnorm2d", "batchnorm2d_no_bias", "layernorm",
    "layernorm_2d_shape",
    "layernorm_no_bias", "layernorm_no_affine", "embedding", "embedding_padding", "embedding_freq",
    "nested_sequential", "named_sequential", "relu", "relu6", "leaky_relu", "elu", "gelu", "gelu_tanh", "sigmoid",
    "tanh", "hardtanh", "silu", "softplus", "softmax", "log_softmax", "identity", "flatten", "flatten_range",
    "unflatten", "dropout_eval_only",
]


def _to_torch(torch, sd):
    return OrderedDict((k, torch.from_numpy(np.array(v))) for k, v in sd.items())


def _twins(torch, name):
    make_ours, make_theirs, shape, int_range = _cases(torch)[name]
    ours, theirs = make_ours(), make_theirs()
    return ours, theirs, shape, int_range


def test_case_list_is_complete(torch):
    assert sorted(CASE_NAMES) == sorted(_cases(torch))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_state_dict_keys_and_shapes_match_pytorch(torch, name):
    ours, theirs, _, _ = _twins(torch, name)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key in ours_sd:
        assert ours_sd[key].shape == tuple(theirs_sd[key].shape), key
        assert str(ours_sd[key].dtype) == str(theirs_sd[key].dtype).replace("torch.", ""), key
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()] or name.startswith("mlp")
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", CASE_NAMES)
def test_outputs_and_gradients_match_pytorch(torch, rng, name, mode):
    ours, theirs, shape, int_range = _twins(torch, name)
    for p in theirs.parameters():  # non-trivial affine parameters for the norms
        with torch.no_grad():
            p.add_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
    sd = theirs.state_dict()
    for key in sd:
        if key.endswith("running_mean"):
            sd[key] = torch.from_numpy(rng.normal(0, 1, tuple(sd[key].shape)).astype(np.float32))
        elif key.endswith("running_var"):
            sd[key] = torch.from_numpy(rng.uniform(0.5, 2, tuple(sd[key].shape)).astype(np.float32))
    theirs.load_state_dict(sd)
    ours.load_state_dict({k: v for k, v in sd.items()})  # torch tensors load directly
    ours.train(mode == "train")
    theirs.train(mode == "train")
    for step in range(2):  # twice: the second pass in train mode uses updated running stats
        if int_range is None:
            x_np = rng.normal(0, 1.5, shape).astype(np.float32)
            x, tx = myelin.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
        else:
            x_np = rng.integers(0, int_range, shape)
            x_np[0, :2] = 0  # the padding row appears
            x, tx = myelin.tensor(x_np), torch.from_numpy(x_np)
        for p in ours.parameters():
            p.grad = None
        theirs.zero_grad()
        out, tout = ours(x), theirs(tx)
        assert_close(out, tout, RTOL, ATOL, what=f"{name} output (pass {step})")
        g = rng.normal(0, 1, tuple(tout.shape)).astype(np.float32)
        out.backward(g)
        tout.backward(torch.from_numpy(g))
        if int_range is None:
            assert_close(x.grad, tx.grad, RTOL, ATOL, what=f"{name} input grad")
        theirs_params = dict(theirs.named_parameters())
        for pname, p in ours.named_parameters():
            assert_close(p.grad, theirs_params[pname].grad, RTOL, ATOL, what=f"{name} grad of {pname}")
        for key, value in theirs.state_dict().items():
            assert_close(ours.state_dict()[key], value, RTOL, ATOL, what=f"{name} state {key}")


@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
def test_batchnorm_running_stats_follow_pytorch(torch, rng, momentum):
    ours, theirs = BatchNorm2d(3, momentum=momentum), torch.nn.BatchNorm2d(3, momentum=momentum)
    for _ in range(6):
        x = rng.normal(2, 3, (5, 3, 4, 4)).astype(np.float32)
        ours(x)
        theirs(torch.from_numpy(x))
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value, 1e-5, 1e-6, what=key)
    assert int(ours.num_batches_tracked) == 6
    ours.eval()
    theirs.eval()
    x = rng.normal(2, 3, (2, 3, 4, 4)).astype(np.float32)
    assert_close(ours(x), theirs(torch.from_numpy(x)), 1e-5, 1e-5)
    assert int(ours.num_batches_tracked) == 6  # eval does not count


def test_state_dict_round_trip_through_pytorch_is_exact(torch):
    ours = Sequential(Linear(4, 8), BatchNorm1d(8), A.ReLU(), Linear(8, 3), LayerNorm(3))
    ours(np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32))  # move the running stats
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 3), torch.nn.LayerNorm(3))
    original = ours.state_dict()
    theirs.load_state_dict(_to_torch(torch, original))
    fresh = Sequential(Linear(4, 8), BatchNorm1d(8), A.ReLU(), Linear(8, 3), LayerNorm(3))
    fresh.load_state_dict(theirs.state_dict())
    back = fresh.state_dict()
    assert list(back) == list(original)
    for key in original:
        assert back[key].dtype == original[key].dtype
        np.testing.assert_array_equal(back[key], original[key])


# ---------------------------------------------------------------------- default initialisation
def test_linear_default_init_matches_pytorch_distribution(torch):
    fan_in, fan_out = 800, 600
    ours, theirs = Linear(fan_in, fan_out), torch.nn.Linear(fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    for name in ("weight", "bias"):
        w = getattr(ours, name).data
        tw = getattr(theirs, name).detach().numpy()
        assert w.dtype == np.float32
        assert np.abs(w).max() <= bound
        assert w.max() > 0.95 * bound and w.min() < -0.95 * bound
        assert abs(w.mean()) < 0.05 * bound
        assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound / math.sqrt(3)
        assert abs(w.std() - tw.std()) < 0.1 * tw.std()
    # uniform, not bell-shaped: each quarter of [-bound, bound] holds about a quarter of the weights
    counts = np.histogram(ours.weight.data, bins=4, range=(-bound, bound))[0] / ours.weight.data.size
    assert np.all(np.abs(counts - 0.25) < 0.01)


def test_embedding_and_norm_default_inits(torch):
    emb = Embedding(1000, 300, padding_idx=3)
    w = emb.weight.data
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01
    assert abs(rest.std() - torch.nn.Embedding(1000, 300).weight.detach().numpy().std()) < 0.02
    bn = BatchNorm1d(7)
    assert np.all(bn.weight.data == 1) and np.all(bn.bias.data == 0)
    assert np.all(bn.running_mean == 0) and np.all(bn.running_var == 1) and bn.num_batches_tracked == 0
    ln = LayerNorm((2, 3))
    assert np.all(ln.weight.data == 1) and np.all(ln.bias.data == 0) and ln.weight.shape == (2, 3)


def test_init_is_reproducible_with_manual_seed():
    myelin.manual_seed(7)
    a = MLP([3, 5, 2]).state_dict()
    myelin.manual_seed(7)
    b = MLP([3, 5, 2]).state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


# ---------------------------------------------------------------------- configs
ALL_LAYERS = [
    lambda: Linear(3, 2), lambda: Linear(3, 2, bias=False), lambda: Neuron(3, "step", bias=False),
    lambda: MLP([2, 5, 5, 1], activation="tanh", dropout=0.2, output_activation="sigmoid", batch_norm=True),
    lambda: MLP([2, 1]), lambda: Dropout(0.25), lambda: BatchNorm1d(4, eps=1e-3, momentum=None, affine=False),
    lambda: BatchNorm2d(3, track_running_stats=False), lambda: BatchNorm2d(2, bias=False),
    lambda: LayerNorm([2, 3], elementwise_affine=False),
    lambda: LayerNorm(4, bias=False), lambda: Embedding(7, 2, padding_idx=-1, max_norm=1.0),
    lambda: Flatten(0, 2), lambda: Unflatten(-1, [2, 3]), lambda: A.ReLU(), lambda: A.ReLU6(),
    lambda: A.LeakyReLU(0.3), lambda: A.ELU(2.0), lambda: A.GELU("tanh"), lambda: A.Sigmoid(), lambda: A.Tanh(),
    lambda: A.Hardtanh(-3, 3), lambda: A.SiLU(), lambda: A.Softplus(beta=2), lambda: A.Softmax(dim=0),
    lambda: A.LogSoftmax(1), lambda: A.Identity(),
    lambda: Sequential(Linear(2, 3), A.Tanh(), Sequential(OrderedDict(out=Linear(3, 1)))),
]


@pytest.mark.parametrize("make", ALL_LAYERS, ids=lambda f: "layer")
def test_config_round_trip_reproduces_every_layer(make):
    layer = make()
    config = json.loads(json.dumps(layer.get_config()))
    rebuilt = from_config(config)
    assert type(rebuilt) is type(layer)
    rebuilt.load_state_dict(layer.state_dict())  # same weights so that reprs showing weights agree
    assert repr(rebuilt) == repr(layer)
    assert rebuilt.get_config() == config
    assert list(rebuilt.state_dict()) == list(layer.state_dict())


def test_bad_layer_arguments_become_config_errors():
    cases = [
        ({"type": "Dropout", "args": {"p": 1.5}}, "Dropout.*between 0 and 1, but got 1.5"),
        ({"type": "MLP", "args": {"sizes": [3]}}, "MLP: sizes must be a list of at least two"),
        ({"type": "MLP", "args": {"sizes": [3, 2], "activation": "relux"}}, "MLP: unknown activation 'relux'"),
        ({"type": "BatchNorm1d", "args": {"num_features": 0}}, "BatchNorm1d: num_features must be at least 1"),
        ({"type": "GELU", "args": {"approximate": "fast"}}, "GELU: approximate must be one of 'none', 'tanh'"),
        ({"type": "Embedding", "args": {"num_embeddings": 3, "embedding_dim": 2, "padding_idx": 5}}, "padding_idx"),
        ({"type": "Linear", "args": {"in_features": 2, "out_features": 2, "bias": "yes"}},
         "bias must be True or False"),
    ]
    for config, message in cases:
        with pytest.raises(ConfigError, match=message):
            from_config(config)


def test_mlp_activation_choices():
    assert isinstance(MLP([2, 3, 1], activation="LeakyReLU").layers[1], A.LeakyReLU)
    assert isinstance(MLP([2, 3, 1], activation="identity").layers[1], A.Identity)
    assert len(MLP([2, 3, 1], activation=None).layers) == 2
    model = MLP([2, 3, 1], activation=A.GELU, output_activation=A.Softmax)
    assert isinstance(model.layers[1], A.GELU) and model.layers[3].dim == -1
    config = json.loads(json.dumps(model.get_config()))
    assert config["args"]["activation"] == "GELU" and repr(from_config(config)) == repr(model)

    @register_module
    class Cube(Module):
        def forward(self, x):
            return x * x * x

    cubic = MLP([2, 3, 1], activation="Cube")
    assert isinstance(cubic.layers[1], Cube)
    assert_close(cubic.layers[1](np.array([2.0], dtype=np.float32)), [8.0])
    with pytest.raises(ValueError, match="activation 'Linear' cannot be built without arguments"):
        MLP([2, 3, 1], activation="Linear")
    with pytest.raises(ValueError, match="unknown activation 'relux'; expected one of 'relu'"):
        MLP([2, 3, 1], activation="relux")
    with pytest.raises(TypeError, match="activation must be a name such as 'relu'"):
        MLP([2, 3, 1], activation=lambda x: x)


# ---------------------------------------------------------------------- shape errors name the place
class _Classifier(Module):
    def __init__(self, layer: Module) -> None:
        super().__init__()
        self.features = Sequential(layer)

    def forward(self, x):
        return self.features(x)


@pytest.mark.parametrize("layer, bad, expected", [
    (Linear(128, 10), (32, 64), (r"Linear\(in_features=128, out_features=10, bias=True\) at 'features.0' "
                                 r"expected input \(\.\.\., 128\), got \(32, 64\)")),
    (BatchNorm1d(8), (4, 6),
     r"BatchNorm1d\(8, .*\) at 'features.0' expected input \(N, 8\) or \(N, 8, L\), got \(4, 6\)"),
    (BatchNorm1d(8), (4, 8, 2, 2), r"expected input \(N, 8\) or \(N, 8, L\), got \(4, 8, 2, 2\)"),
    (BatchNorm2d(3), (4, 3, 5), r"BatchNorm2d\(3, .*\) at 'features.0' expected input \(N, 3, H, W\), got \(4, 3, 5\)"),
    (LayerNorm((3, 4)), (2, 4, 3),
     r"LayerNorm\(\(3, 4\), .*\) at 'features.0' expected input \(\*, 3, 4\), got \(2, 4, 3\)"),
    (MLP([4, 2]), (3, 5), r"MLP\(sizes=\[4, 2\]\) at 'features.0' expected input \(\.\.\., 4\), got \(3, 5\)"),
    (Flatten(2, 3), (2, 3), r"Flatten\(start_dim=2, end_dim=3\) at 'features.0' expected input with at least 4"),
    (Unflatten(1, (3, 4)), (2, 10), r"at 'features.0' expected input with dimension 1 of size 3\*4"),
    (A.Softmax(dim=2), (2, 3), r"Softmax\(dim=2\) at 'features.0' expected input with at least 3 dimension"),
    (Neuron(3), (2, 2),
     r"Neuron\(in_features=3, activation='sigmoid'\) at 'features.0' expected input \(3,\) or \(N, 3\)"),
])
def test_wrong_input_shapes_name_the_module_and_its_path(layer, bad, expected):
    model = _Classifier(layer)
    with pytest.raises(ValueError, match=expected):
        model(np.zeros(bad, dtype=np.float32))


def test_embedding_input_errors_name_the_module():
    model = _Classifier(Embedding(5, 2))
    expected = r"Embedding\(5, 2\) at 'features.0' expected integer indices, got dtype float32"
    with pytest.raises(ValueError, match=expected):
        model(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"at 'features.0' expected indices in \[0, 5\), got 7"):
        model(np.array([[1, 7]]))


def test_batchnorm_needs_more_than_one_value_per_channel_in_training():
    bn = BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        bn(np.ones((1, 3), dtype=np.float32))
    bn.eval()
    assert bn(np.ones((1, 3), dtype=np.float32)).shape == (1, 3)


# ---------------------------------------------------------------------- dropout
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_drops_about_p_and_keeps_the_expected_value(p):
    drop = Dropout(p)
    x = np.ones((200, 1000), dtype=np.float32)
    out = drop(x).data
    dropped = np.mean(out == 0)
    assert abs(dropped - p) < 0.005
    np.testing.assert_allclose(out[out != 0], 1 / (1 - p), rtol=1e-6)
    assert abs(out.mean() - 1) < 0.02
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, x)


def test_dropout_edge_cases_and_gradient():
    x = myelin.ones(50, 40, requires_grad=True)
    assert np.all(Dropout(1.0)(x).data == 0)
    assert Dropout(0.0)(x) is x
    out = Dropout(0.5)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)  # the gradient is the same mask, scaled
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got -0.1"):
        Dropout(-0.1)
    assert repr(Dropout(0.3)) == "Dropout(p=0.3, inplace=False)"


# ---------------------------------------------------------------------- reprs
def test_layer_reprs_match_pytorch(torch):
    nn = torch.nn
    pairs = [
        (Linear(3, 2), nn.Linear(3, 2)), (BatchNorm1d(4), nn.BatchNorm1d(4)), (BatchNorm2d(4, momentum=None),
                                                                             nn.BatchNorm2d(4, momentum=None)),
        (LayerNorm(5), nn.LayerNorm(5)), (Embedding(10, 3, padding_idx=0), nn.Embedding(10, 3, padding_idx=0)),
        (A.ReLU(), nn.ReLU()), (A.LeakyReLU(0.2), nn.LeakyReLU(0.2)), (A.GELU("tanh"), nn.GELU("tanh")),
        (A.Softmax(dim=1), nn.Softmax(dim=1)), (A.ELU(), nn.ELU()), (A.Softplus(), nn.Softplus()),
        (A.Hardtanh(), nn.Hardtanh()), (Flatten(), nn.Flatten()), (Unflatten(1, (2, 3)), nn.Unflatten(1, (2, 3))),
        (Dropout(0.5), nn.Dropout(0.5)), (A.Identity(), nn.Identity()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


# ---------------------------------------------------------------------- one neuron of a layer
def test_neuron_view_shares_memory_with_the_layer():
    layer = Linear(3, 4)
    view = layer.neuron(2)
    assert isinstance(view, NeuronView) and np.shares_memory(view.weight, layer.weight.data)
    assert view.weight.shape == (3,) and view.bias.shape == ()
    x = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]], dtype=np.float32)
    assert_close(view(x), layer(x).data[:, 2], 1e-6, 1e-6)
    assert_close(view(x[0]), layer(x[0]).data[2], 1e-6, 1e-6)
    view.weight[0] = 10.0
    view.bias[...] = -1.0
    assert layer.weight.data[2, 0] == 10.0 and layer.bias.data[2] == -1.0
    view.weight = [1.0, 2.0, 3.0]
    assert_close(layer.weight.data[2], [1.0, 2.0, 3.0])
    assert_close(layer(x).data[:, 2], x @ np.array([1.0, 2.0, 3.0]) - 1.0, 1e-6, 1e-6)
    assert layer.neuron(-1).index == 3
    assert [n.index for n in layer.neurons()] == [0, 1, 2, 3]
    assert "NeuronView(2 of Linear(in_features=3, out_features=4, bias=True)" in repr(view)
    with pytest.raises(IndexError, match="out of range"):
        layer.neuron(4)
    with pytest.raises(ValueError, match="expected weights of shape"):
        view.weight = [1.0, 2.0]
    layer(x).sum().backward()
    assert_close(view.grad, layer.weight.grad[2])
    assert Linear(2, 2, bias=False).neuron(0).bias is None


# ---------------------------------------------------------------------- universal approximation
def test_mlp_fits_sine():
    myelin.manual_seed(0)
    x = np.linspace(-math.pi, math.pi, 256, dtype=np.float32)[:, None]
    y = np.sin(x)
    model = MLP([1, 32, 32, 1], activation="tanh")
    try:
        from myelin.optim import Adam
    except ImportError:  # pragma: no cover - optim is written by another engineer
        pytest.skip("myelin.optim.Adam is not available")
    opt = Adam(model.parameters(), lr=0.01)
    xt, yt = myelin.tensor(x), myelin.tensor(y)
    for _ in range(1500):
        opt.zero_grad()
        loss = ((model(xt) - yt) ** 2).mean()
        loss.backward()
        opt.step()
    with myelin.no_grad():
        mse = float(((model(xt) - yt) ** 2).mean().item())
    assert mse < 1e-3
