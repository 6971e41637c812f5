"""The module system: registration, traversal, state dicts, hooks, paths in errors, configs and the registry."""

from __future__ import annotations

import copy
import json
from collections import OrderedDict

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin.nn.activation import ReLU, Tanh
from myelin.nn.container import ModuleDict, ModuleList, Sequential
from myelin.nn.linear import Linear
from myelin.nn.module import IncompatibleKeys, LoadStateDictError, Module
from myelin.nn.normalization import BatchNorm1d
from myelin.nn.parameter import Parameter
from myelin.nn.registry import ConfigError, from_config, register_module


class Block(Module):
    """A user module (not registered) with a parameter, a buffer, a child and a plain attribute."""

    def __init__(self, n: int = 3) -> None:
        super().__init__()
        self.scale = Parameter(np.ones(n, dtype=np.float32))
        self.register_buffer("count", np.zeros((), dtype=np.int64))
        self.register_buffer("cache", np.zeros(n, dtype=np.float32), persistent=False)
        self.lin = Linear(n, n)
        self.note = "plain"

    def forward(self, x):
        return self.lin(x) * self.scale


class Net(Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = Sequential(Linear(4, 8), ReLU(), Linear(8, 8))
        self.classifier = Sequential(Tanh(), Linear(8, 3))

    def forward(self, x):
        return self.classifier(self.features(x))


# ---------------------------------------------------------------------- registration and traversal
def test_setattr_registers_parameters_modules_and_buffers():
    b = Block()
    assert [n for n, _ in b.named_parameters()] == ["scale", "lin.weight", "lin.bias"]
    assert [n for n, _ in b.named_buffers()] == ["count", "cache"]
    assert [n for n, _ in b.named_children()] == ["lin"]
    assert [n for n, _ in b.named_modules()] == ["", "lin"]
    assert "note" not in b._parameters and b.note == "plain"
    assert isinstance(b.count, np.ndarray)
    assert list(b.state_dict()) == ["scale", "count", "lin.weight", "lin.bias"]  # non-persistent buffer left out
    assert len(list(b.parameters(recurse=False))) == 1
    assert b.num_parameters() == 3 + 9 + 3


def test_reassigning_and_deleting_attributes():
    b = Block()
    b.lin = None
    assert b.lin is None and [n for n, _ in b.named_parameters()] == ["scale"]
    with pytest.raises(TypeError, match="cannot assign ndarray as parameter 'scale'"):
        b.scale = np.ones(3)
    with pytest.raises(TypeError, match="cannot assign int as child module 'lin'"):
        b.lin = 3
    b.count = myelin.tensor(5)  # buffers accept tensors and arrays and stay NumPy arrays
    assert isinstance(b.count, np.ndarray) and b.count == 5
    del b.scale
    assert not hasattr(b, "scale")
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'nothing'"):
        b.nothing  # noqa: B018


def test_attribute_lookups_always_agree_with_the_registries():
    lin = Linear(2, 2)
    new = Parameter(np.zeros((2, 2), dtype=np.float32))
    lin.weight = new
    assert lin.weight is new and lin._parameters["weight"] is new
    lin.bias = None
    assert lin.bias is None and lin._parameters["bias"] is None
    lin.register_buffer("bias", np.ones(2))  # a parameter name re-registered as a buffer
    assert "bias" not in lin._parameters and lin.bias is lin._buffers["bias"]
    del lin.bias
    assert not hasattr(lin, "bias") and "bias" not in lin._buffers
    seq = Sequential(Linear(1, 1), ReLU(), Tanh())
    del seq[0]
    assert isinstance(getattr(seq, "0"), ReLU) and not hasattr(seq, "2")
    bn = BatchNorm1d(2).double()
    assert bn.running_mean is bn._buffers["running_mean"] and bn.running_mean.dtype == np.float64
    md = ModuleDict({"a": Linear(1, 1)})
    del md["a"]
    assert not hasattr(md, "a")


def test_register_checks_names_and_types():
    m = Module()
    with pytest.raises(KeyError, match="can't be empty or contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("w", myelin.tensor([1.0]))
    with pytest.raises(KeyError, match="attribute 'train' already exists"):
        m.register_buffer("train", np.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", "not a module")


def test_assigning_before_init_is_an_error():
    class Early(Module):
        def __init__(self):
            self.w = Parameter(np.zeros(1))
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_shared_parameters_are_listed_once():
    shared = Linear(2, 2)
    model = Sequential(shared, shared)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules()] == ["", "0"]


def test_train_eval_zero_grad_requires_grad_apply():
    net = Net()
    assert net.training and net.features[0].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="expected to be a bool"):
        net.train("yes")
    out = net(np.ones((2, 4), dtype=np.float32)).sum()
    out.backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(bool((p.grad == 0).all()) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"


def test_numpy_inputs_are_wrapped_as_tensors():
    lin = Linear(3, 2)
    out = lin(np.ones((4, 3)))  # float64 NumPy input becomes a float32 tensor
    assert isinstance(out, myelin.Tensor) and out.dtype == np.float32 and out.shape == (4, 2)
    assert lin([1.0, 2.0, 3.0]).shape == (2,)


def test_double_converts_parameters_and_buffers():
    bn = BatchNorm1d(3).double()
    assert bn.weight.dtype == np.float64 and bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64


def test_get_submodule():
    net = Net()
    assert net.get_submodule("features.2") is net.features[2]
    with pytest.raises(AttributeError, match="features has no submodule '7'"):
        net.get_submodule("features.7")


# ---------------------------------------------------------------------- state dicts
def test_state_dict_is_an_ordered_copy():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
                        "classifier.1.weight", "classifier.1.bias"]
    sd["features.0.weight"][...] = 0
    assert not np.all(net.features[0].weight.data == 0)
    live = net.state_dict(keep_vars=True)
    assert live["features.0.weight"] is net.features[0].weight


def test_load_state_dict_copies_in_place_and_casts():
    a, b = Net(), Net()
    before = b.features[0].weight
    data_ref = before.data
    sd = {k: v.astype(np.float64) for k, v in a.state_dict().items()}  # other dtype: cast
    result = b.load_state_dict(sd)
    assert result == IncompatibleKeys([], [])
    assert b.features[0].weight is before and b.features[0].weight.data is data_ref
    assert b.features[0].weight.dtype == np.float32
    for k, v in a.state_dict().items():
        assert_close(b.state_dict()[k], v)
    # myelin tensors and nested lists work as values too
    b.load_state_dict({k: myelin.tensor(v) for k, v in a.state_dict().items()})
    b.load_state_dict({k: v.tolist() for k, v in a.state_dict().items()})


def test_load_state_dict_reports_missing_unexpected_and_misshaped_keys():
    net = Net()
    sd = net.state_dict()
    del sd["features.0.bias"]
    sd["extra.weight"] = np.zeros(3)
    sd["classifier.1.weight"] = np.zeros((3, 5), dtype=np.float32)
    original = net.features[0].weight.data.copy()
    sd["features.0.weight"] = np.zeros((8, 4), dtype=np.float32)
    with pytest.raises(LoadStateDictError) as info:
        net.load_state_dict(sd)
    message = str(info.value)
    assert "Error(s) in loading state_dict for Net" in message
    assert "missing key(s): 'features.0.bias'" in message
    assert "unexpected key(s): 'extra.weight'" in message
    assert "classifier.1.weight: expected shape (3, 8), got (3, 5)" in message
    assert isinstance(info.value, RuntimeError)
    np.testing.assert_array_equal(net.features[0].weight.data, original)  # nothing was loaded


def test_load_state_dict_non_strict_returns_the_keys_but_still_checks_shapes():
    net = Net()
    sd = net.state_dict()
    del sd["features.0.bias"]
    sd["extra"] = np.zeros(1)
    sd["features.0.weight"] = np.full((8, 4), 2.0)
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["features.0.bias"] and unexpected == ["extra"]
    assert np.all(net.features[0].weight.data == 2.0)
    sd["features.2.weight"] = np.zeros((10, 128))
    with pytest.raises(LoadStateDictError, match=r"features.2.weight: expected shape \(8, 8\), got \(10, 128\)"):
        net.load_state_dict(sd, strict=False)
    with pytest.raises(LoadStateDictError, match="expected an array of numbers"):
        net.load_state_dict({**net.state_dict(), "features.0.bias": np.array(["a"] * 8)})


def test_buffers_round_trip_through_state_dict():
    bn = BatchNorm1d(3)
    sd = bn.state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    sd["running_mean"] = np.array([1.0, 2.0, 3.0])
    sd["num_batches_tracked"] = np.array(7)
    bn.load_state_dict(sd)
    assert_close(bn.running_mean, [1.0, 2.0, 3.0])
    assert bn.num_batches_tracked == 7 and bn.num_batches_tracked.dtype == np.int64


def test_deepcopy_gives_independent_weights():
    net = Net()
    twin = copy.deepcopy(net)
    twin.features[0].weight.data[...] = 0
    assert not np.all(net.features[0].weight.data == 0)
    assert twin.features[0]._path == "features.0"


# ---------------------------------------------------------------------- hooks
def test_forward_hooks_see_and_replace_values_and_can_be_removed():
    lin = Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append(("pre", args[0].shape)))
    h2 = lin.register_forward_hook(lambda m, args, out: out * 0)
    out = lin(np.ones((3, 2), dtype=np.float32))
    assert calls == [("pre", (3, 2))] and np.all(out.data == 0)
    h1.remove()
    h2.remove()
    assert np.any(lin(np.ones((3, 2), dtype=np.float32)).data != 0) and len(calls) == 1
    with lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,)):
        doubled = lin(np.ones((1, 2), dtype=np.float32))
    assert_close(doubled, lin(np.full((1, 2), 2.0, dtype=np.float32)))


def test_full_backward_hook_reports_gradients(torch):
    lin = Linear(3, 2)
    seen = {}
    lin.register_full_backward_hook(lambda m, gin, gout: seen.update(gin=gin, gout=gout))
    x = myelin.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    assert_close(seen["gout"][0], np.ones((4, 2)))
    assert_close(seen["gin"][0], x.grad)
    tl = torch.nn.Linear(3, 2)
    tl.load_state_dict({k: torch.tensor(v) for k, v in lin.state_dict().items()})
    tx = torch.tensor(x.data, requires_grad=True)
    tl(tx).sum().backward()
    assert_close(seen["gin"][0], tx.grad, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- places in errors
def test_errors_name_the_module_and_its_path():
    net = Net()
    with pytest.raises(ValueError) as info:
        net(np.ones((2, 5), dtype=np.float32))
    assert str(info.value) == (
        "Linear(in_features=4, out_features=8, bias=True) at 'features.0' expected input (..., 4), got (2, 5)"
    )
    with pytest.raises(ValueError, match=r"at 'classifier.1' expected input \(\.\.\., 8\)"):
        net.classifier(np.ones((2, 7), dtype=np.float32))
    with pytest.raises(ValueError, match=r"^Linear\(in_features=2, out_features=1, bias=True\) at 'Linear' expected"):
        Linear(2, 1)(np.ones((1, 3), dtype=np.float32))  # a root module uses its class name


def test_paths_follow_the_model_structure():
    inner = Sequential(Linear(2, 2), Linear(2, 2))
    assert inner[1]._path == "1"
    outer = Sequential(OrderedDict(body=inner))
    assert inner[1]._path == "body.1"
    wrapper = Module()
    wrapper.model = outer
    assert inner[1]._path == "model.body.1"
    part = outer.body[1:]  # a slice shares the modules but does not move them
    assert part[0] is inner[1] and inner[1]._path == "model.body.1"
    del wrapper.model
    assert inner[1]._path == "body.1"
    ml = ModuleList([Linear(1, 1), Linear(1, 1)])
    del ml[0]
    assert ml[0]._path == "0"


def test_missing_forward_is_explained():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        Module()(1)


# ---------------------------------------------------------------------- repr
def test_repr_matches_pytorch_layout(torch):
    ours = Sequential(Linear(2, 3), ReLU(), Sequential(Linear(3, 1), Tanh()))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(),
                                 torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Tanh()))
    assert repr(ours) == repr(theirs)


# ---------------------------------------------------------------------- containers
def test_sequential_behaves_like_a_list():
    layers = [Linear(2, 3), ReLU(), Linear(3, 1)]
    seq = Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers and seq[-1] is layers[2]
    sub = seq[1:]
    assert isinstance(sub, Sequential) and list(sub._modules) == ["1", "2"]
    seq.append(Tanh())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], Linear)
    seq.insert(1, ReLU())
    assert isinstance(seq[1], ReLU) and len(seq) == 4
    assert isinstance(seq.pop(), Tanh) and len(seq) == 3
    with pytest.raises(IndexError, match="out of range"):
        seq[5]
    with pytest.raises(TypeError, match="argument 0 is a int, not a Module"):
        Sequential(1)
    named = Sequential(OrderedDict([("fc", Linear(2, 2)), ("act", ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]


def test_module_list_and_dict():
    ml = ModuleList([Linear(2, 2) for _ in range(3)])
    assert list(ml.state_dict())[:2] == ["0.weight", "0.bias"]
    ml += [ReLU()]
    assert len(ml) == 4 and isinstance(ml[1:], ModuleList)
    md = ModuleDict({"a": Linear(1, 2), "b": ReLU()})
    md["c"] = Tanh()
    assert list(md) == ["a", "b", "c"] and "a" in md and list(md.state_dict()) == ["a.weight", "a.bias"]
    assert isinstance(md.pop("b"), ReLU) and list(md.keys()) == ["a", "c"]
    with pytest.raises(KeyError, match="no module 'z'"):
        md["z"]


# ---------------------------------------------------------------------- configs and the registry
def test_constructor_arguments_are_recorded_by_the_outermost_init():
    lin = Linear(4, 2, bias=False)
    assert lin.get_config() == {"type": "Linear", "args": {"in_features": 4, "out_features": 2, "bias": False}}
    assert Tanh().get_config() == {"type": "Tanh", "args": {}}


def test_config_round_trip_through_json_rebuilds_the_architecture():
    model = Sequential(Linear(2, 4), Tanh(), Sequential(OrderedDict(fc=Linear(4, 1))),
                       ModuleList([ReLU()]), ModuleDict({"x": Linear(1, 1)}))
    config = json.loads(json.dumps(model.get_config()))
    rebuilt = from_config(config)
    assert repr(rebuilt) == repr(model)
    assert list(rebuilt.state_dict()) == list(model.state_dict())
    model.append(BatchNorm1d(1))  # containers describe their current children
    assert repr(from_config(model.get_config())) == repr(model)


def test_user_modules_need_registration():
    with pytest.raises(ConfigError, match=r"Block cannot be described as a config because it is not registered: "
                                          r"call myelin.nn.register_module\(Block\)"):
        Block().get_config()
    with pytest.raises(ConfigError, match="not registered"):
        Sequential(Block()).get_config()

    @register_module
    class ScaledBlock(Module):
        def __init__(self, n, scale=2.0, *, inner=None):
            super().__init__()
            self.lin = Linear(n, n)
            self.inner = inner
            self.scale = scale

    m = ScaledBlock(3, inner=Linear(3, 3))
    config = json.loads(json.dumps(m.get_config()))
    assert config["args"]["inner"]["type"] == "Linear"
    rebuilt = from_config(config)
    assert isinstance(rebuilt, ScaledBlock) and rebuilt.scale == 2.0 and isinstance(rebuilt.inner, Linear)


def test_subclass_records_its_own_signature():
    @register_module
    class WideLinear(Linear):
        def __init__(self, n: int, factor: int = 2):
            super().__init__(n, n * factor)

    layer = WideLinear(3)
    assert layer.get_config() == {"type": "WideLinear", "args": {"n": 3, "factor": 2}}
    assert from_config(layer.get_config()).out_features == 6


def test_an_error_in_a_user_init_shows_only_the_users_frames():
    """Nothing of the library stands between the user's call and their own ``__init__`` (issue 20)."""
    import traceback

    class Broken(Module):
        def __init__(self, width: int, scale: float = 1.0):
            super().__init__()
            self.fc = Linear(width, 2)
            raise RuntimeError("my own mistake")

    with pytest.raises(RuntimeError, match="my own mistake") as info:
        Broken(3, scale=2.0)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert [f.filename for f in frames] == [__file__, __file__], frames
    assert frames[0].name == "test_an_error_in_a_user_init_shows_only_the_users_frames"
    assert frames[1].name == "__init__" and 'raise RuntimeError("my own mistake")' in frames[1].line
    # a call that does not bind is Python's own TypeError, raised at the call itself
    with pytest.raises(TypeError, match="width") as info:
        Broken()
    assert all(f.filename == __file__ for f in traceback.extract_tb(info.value.__traceback__))


def test_config_capture_without_wrapping(tmp_path):
    """The outermost call is recorded (varargs, kwargs, defaults); copies keep it; ``__init__`` is the user's own."""

    @register_module
    class Stack(Module):
        def __init__(self, *widths: int, act: str = "relu", **extra: int):
            super().__init__()
            self.layers = Sequential(*[Linear(widths[i], widths[i + 1]) for i in range(len(widths) - 1)])
            self.act = act

    assert Stack.__dict__["__init__"].__qualname__.endswith("Stack.__init__")  # not replaced by a wrapper
    m = Stack(4, 3, 2, act="tanh", depth=1)
    assert m.get_config() == {"type": "Stack", "args": {"widths": [4, 3, 2], "act": "tanh", "depth": 1}}
    assert copy.deepcopy(m).get_config() == m.get_config()
    rebuilt = from_config(json.loads(json.dumps(m.get_config())))
    assert isinstance(rebuilt, Stack) and rebuilt.act == "tanh" and len(rebuilt.layers) == 2


def test_unserialisable_arguments_are_refused():
    @register_module
    class WithFn(Module):
        def __init__(self, fn=None):
            super().__init__()
            self.fn = fn

    with pytest.raises(ConfigError, match="cannot be described as a config: argument 'fn' of WithFn is a function"):
        WithFn(lambda x: x).get_config()
    cfg = WithFn((np.float32(1.5), np.int64(2), np.array([1, 2]))).get_config()
    assert cfg["args"]["fn"] == [1.5, 2, [1, 2]]


def test_from_config_errors_are_precise():
    with pytest.raises(ConfigError, match="unknown layer type 'Lineer'; did you mean 'Linear'"):
        from_config({"type": "Lineer", "args": {}})
    with pytest.raises(ConfigError, match="Linear: unknown argument 'units'"):
        from_config({"type": "Linear", "args": {"in_features": 2, "units": 3}})
    with pytest.raises(ConfigError, match="Linear: missing required argument 'out_features'"):
        from_config({"type": "Linear", "args": {"in_features": 2}})
    with pytest.raises(ConfigError, match="cannot build Linear .*in_features must be at least 0, received -3"):
        from_config({"type": "Linear", "args": {"in_features": -3, "out_features": 2}})
    with pytest.raises(ConfigError, match="in_features must be an int"):
        from_config({"type": "Linear", "args": {"in_features": "two", "out_features": 2}})
    with pytest.raises(ConfigError, match="unexpected config keys"):
        from_config({"type": "Linear", "args": {}, "weights": []})
    with pytest.raises(ConfigError, match="a config must be a dict"):
        from_config(["Linear"])
    with pytest.raises(ConfigError, match="'args' of Linear must be a dict"):
        from_config({"type": "Linear", "args": [2, 3]})
    with pytest.raises(ConfigError, match=r"config.Sequential.modules\[1\]: unknown layer type 'Nope'"):
        from_config({"type": "Sequential", "args": {"modules": [{"type": "ReLU"}, {"type": "Nope"}]}})
    assert isinstance(ConfigError("x"), ValueError)


def test_only_registered_classes_are_built():
    class Sneaky(Module):  # defined outside myelin and never registered
        pass

    with pytest.raises(ConfigError, match="unknown layer type 'Sneaky'"):
        from_config({"type": "Sneaky", "args": {}})


def test_register_module_refuses_a_taken_name():
    class Linear(Module):
        pass

    with pytest.raises(ConfigError, match="the name 'Linear' is already taken"):
        register_module(Linear)
    register_module(Linear, name="MyLinear")
    assert from_config({"type": "MyLinear"}).__class__ is Linear
