"""Devices and dtypes: PyTorch's spellings on a CPU-only library (myelin.device, myelin.cuda,
dtype names, Module.to/cpu/cuda/type, device= and dtype= on layers)."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import nn
from myelin.devices import DeviceError, parse_to


def test_dtype_names_are_numpy_dtypes(torch):
    pairs = {"float32": "float", "float64": "double", "float16": "half", "int64": "long", "int32": "int",
             "int16": "short"}
    for name, alias in pairs.items():
        assert getattr(myelin, name) == getattr(myelin, alias) == np.dtype(name)
        assert str(getattr(torch, alias)) == f"torch.{name}"  # the same meaning as in PyTorch
    assert myelin.bool == np.bool_ and myelin.uint8 == np.uint8 and myelin.int8 == np.int8
    assert myelin.zeros(2).dtype == myelin.float32 and myelin.get_default_dtype() == myelin.float32
    assert myelin.dtypes.as_dtype(torch.float64) == myelin.float64
    assert myelin.dtypes.as_dtype(int) == myelin.int64 and myelin.dtypes.as_dtype(bool) == myelin.bool
    with pytest.raises(TypeError, match="expected a dtype"):
        myelin.dtypes.as_dtype("cpu")


def test_device_objects():
    d = myelin.device("cpu")
    assert d.type == "cpu" and d.index is None and str(d) == "cpu" and repr(d) == "device(type='cpu')"
    assert d == "cpu" and d == myelin.device(d) and hash(d) == hash(myelin.device("cpu"))
    cuda1 = myelin.device("cuda:1")
    assert (cuda1.type, cuda1.index) == ("cuda", 1) and myelin.device("cuda", 0).index == 0
    with pytest.raises(RuntimeError, match="expected one of"):
        myelin.device("gpu")
    with pytest.raises(DeviceError, match="CPU only"):
        myelin.device(0)


def test_cuda_is_never_available_and_the_idiom_picks_the_cpu():
    assert myelin.cuda.is_available() is False and myelin.cuda.device_count() == 0
    assert myelin.backends.mps.is_available() is False and myelin.accelerator.is_available() is False
    myelin.cuda.manual_seed(0)
    myelin.cuda.manual_seed_all(0)
    device = "cuda" if myelin.cuda.is_available() else "cpu"
    model = nn.Linear(2, 1).to(device)
    x = myelin.ones(3, 2).to(device) if hasattr(myelin.Tensor, "cpu") else myelin.ones(3, 2)
    assert model(x).shape == (3, 1)
    with pytest.raises(DeviceError, match="is_available"):
        myelin.cuda.synchronize()


@pytest.mark.parametrize("where", ["zeros", "module_to", "module_cuda", "layer", "tensor"])
def test_asking_for_a_gpu_says_what_to_write(where):
    calls = {
        "zeros": lambda: myelin.zeros(2, device="cuda"),
        "module_to": lambda: nn.Linear(2, 2).to("cuda"),
        "module_cuda": lambda: nn.Linear(2, 2).cuda(),
        "layer": lambda: nn.Linear(2, 2, device="mps"),
        "tensor": lambda: myelin.tensor([1.0], device=myelin.device("cuda", 0)),
    }
    with pytest.raises(DeviceError, match=r"CPU only.*myelin\.cuda\.is_available\(\)"):
        calls[where]()


def test_parse_to_spellings():
    assert parse_to(("cpu",), {}, "to") == (myelin.device("cpu"), None)
    assert parse_to((myelin.float64,), {}, "to") == (None, np.float64)
    assert parse_to(("cpu", myelin.float16), {"non_blocking": True}, "to")[1] == np.float16
    assert parse_to((), {"device": "cpu", "dtype": myelin.double}, "to")[1] == np.float64
    assert parse_to((myelin.zeros(1, dtype=myelin.float64),), {}, "to")[1] == np.float64
    with pytest.raises(TypeError, match="unexpected keyword"):
        parse_to((), {"devic": "cpu"}, "to")
    with pytest.raises(TypeError, match="expected a device"):
        parse_to(([1],), {}, "to")


def test_module_to_cpu_type_half():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert m.to("cpu") is m and m.cpu() is m
    m.to(myelin.device("cpu"), myelin.float64)
    assert m[0].weight.dtype == np.float64 and m[1].running_mean.dtype == np.float64
    m.type(myelin.float)
    assert m[0].weight.dtype == np.float32
    m.to(dtype=myelin.float64)
    assert m[0].bias.dtype == np.float64
    with pytest.raises(TypeError, match="floating-point"):
        m.to(myelin.long)


@pytest.mark.parametrize("make", [
    lambda **kw: nn.Linear(3, 2, **kw),
    lambda **kw: nn.Conv2d(1, 2, 3, **kw),
    lambda **kw: nn.Conv1d(1, 2, 3, **kw),
    lambda **kw: nn.BatchNorm2d(3, **kw),
    lambda **kw: nn.LayerNorm(4, **kw),
    lambda **kw: nn.Embedding(5, 3, **kw),
    lambda **kw: nn.LSTM(3, 4, **kw),
    lambda **kw: nn.GRU(3, 4, **kw),
    lambda **kw: nn.RNN(3, 4, **kw),
])
def test_layers_take_device_and_dtype(make):
    layer = make(device="cpu", dtype=myelin.float64)
    assert all(p.dtype == np.float64 for p in layer.parameters())
    assert all(b.dtype == np.float64 for b in layer.buffers() if b.dtype.kind == "f")
    config = layer.get_config()["args"]
    assert "dtype" not in config and "device" not in config  # the config stays the architecture
    plain = make()
    assert all(p.dtype == np.float32 for p in plain.parameters())


def test_user_subclass_passes_dtype_through():
    class Wide(nn.Linear):
        def __init__(self, n, dtype=None):
            super().__init__(n, 2 * n, dtype=dtype)

    assert Wide(3, dtype=myelin.float64).weight.dtype == np.float64

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2, dtype=myelin.float64)

    assert Net().fc.weight.dtype == np.float64


def test_load_state_dict_accepts_torch_tensors(torch):
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    mm = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    mm.load_state_dict(tm.state_dict())
    np.testing.assert_array_equal(mm[0].weight.data, tm[0].weight.detach().numpy())
