"""myelin.save / myelin.load of objects (state dicts, checkpoints, nested data) without pickle."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import myelin
from myelin import nn, optim
from myelin.io import ModelFileError, read_safetensors, write_safetensors


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_state_dict_round_trip(tmp_path):
    m = _model()
    path = tmp_path / "model.pth"  # any suffix: the content decides
    myelin.save(m.state_dict(), path)
    back = myelin.load(path)
    assert list(back) == list(m.state_dict())
    fresh = _model()
    fresh.load_state_dict(back)
    for a, b in zip(fresh.parameters(), m.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_checkpoint_idiom_resumes_training(tmp_path):
    m = _model()
    opt = optim.Adam(m.parameters(), lr=1e-2)
    x, y = myelin.randn(8, 3), myelin.randn(8, 2)
    for _ in range(3):
        opt.zero_grad()
        ((m(x) - y) ** 2).mean().backward()
        opt.step()
    path = tmp_path / "ckpt.pt"
    myelin.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "loss": 0.5}, path)
    ck = myelin.load(path, map_location="cpu", weights_only=True)
    assert ck["epoch"] == 3 and ck["loss"] == 0.5
    m2 = _model()
    m2.load_state_dict(ck["model"])
    opt2 = optim.Adam(m2.parameters(), lr=1e-2)
    opt2.load_state_dict(ck["optimizer"])
    for model, o in ((m, opt), (m2, opt2)):
        o.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        o.step()
    for a, b in zip(m.parameters(), m2.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=0, atol=0)


def test_nested_values_come_back_as_saved(tmp_path):
    t = myelin.tensor([[1.0, 2.0]], requires_grad=True)
    obj = {
        "ints": [1, -2, 10**12], "floats": (0.5, math.inf, -math.inf), "nan": math.nan, "none": None,
        "flag": True, "text": "héllo", 3: "int key", (1, 2): "tuple key", "array": np.arange(6).reshape(2, 3),
        "tensor": t, "long": myelin.tensor([1, 2]), "scalar": np.float32(1.5), "empty": np.zeros((0, 3)),
        "bools": np.array([True, False]), "nested": {"a": [{"b": (np.ones(2, np.float64),)}]}, "zero_d": np.array(7),
    }
    path = tmp_path / "obj.mye"
    myelin.save(obj, path)
    back = myelin.load(path)
    assert list(back) == list(obj)
    assert back["ints"] == [1, -2, 10**12] and back["floats"] == (0.5, math.inf, -math.inf)
    assert math.isnan(back["nan"]) and back["none"] is None and back["flag"] is True and back["text"] == "héllo"
    assert back[3] == "int key" and back[(1, 2)] == "tuple key"
    np.testing.assert_array_equal(back["array"], obj["array"])
    assert isinstance(back["tensor"], myelin.Tensor) and back["tensor"].requires_grad
    assert back["long"].dtype == myelin.int64 and isinstance(back["array"], np.ndarray)
    assert back["scalar"] == np.float32(1.5) and back["scalar"].dtype == np.float32
    assert back["empty"].shape == (0, 3) and back["bools"].dtype == np.bool_
    assert back["nested"]["a"][0]["b"][0].dtype == np.float64
    assert back["zero_d"].shape == ()


def test_models_are_saved_as_model_files(tmp_path):
    m = _model()
    path = tmp_path / "m.safetensors"
    myelin.save(m, path)
    back = myelin.load(path)
    assert isinstance(back, nn.Sequential) and not back.training
    _, meta = read_safetensors(path)
    assert meta["myelin.kind"] == "model"


def test_plain_weights_file_loads_as_a_dict(tmp_path, torch):
    from safetensors.torch import save_file

    tm = torch.nn.Linear(3, 2)
    path = tmp_path / "w.safetensors"
    save_file(tm.state_dict(), str(path))
    back = myelin.load(path)
    m = nn.Linear(3, 2)
    m.load_state_dict(back)
    np.testing.assert_array_equal(m.weight.data, tm.weight.detach().numpy())


def test_torch_tensors_are_stored_as_tensors(tmp_path, torch):
    path = tmp_path / "t.pt"
    myelin.save({"w": torch.ones(2, 3)}, path)
    back = myelin.load(path)
    assert isinstance(back["w"], myelin.Tensor) and back["w"].shape == (2, 3)


def test_pytorch_pickles_are_refused_in_one_line(tmp_path, torch):
    path = tmp_path / "torch.pt"
    torch.save({"a": torch.ones(2)}, path)
    with pytest.raises(ModelFileError) as err:
        myelin.load(path)
    assert "a PyTorch pickle" in str(err.value) and "\n" not in str(err.value)
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(b"\x80\x02}q\x00.")
    with pytest.raises(ModelFileError, match="never unpickles"):
        myelin.load(legacy)


@pytest.mark.parametrize("bad", [object(), {1, 2}, b"bytes", lambda: 0])
def test_unsupported_values_name_the_place(tmp_path, bad):
    with pytest.raises(TypeError, match=r"the object\['x'\]"):
        myelin.save({"x": bad}, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_module_inside_an_object_says_what_to_write(tmp_path):
    with pytest.raises(TypeError, match="state_dict"):
        myelin.save({"model": _model()}, tmp_path / "bad")


def _forge(path, structure, tensors=None):
    meta = {"myelin.kind": "object", "myelin.format_version": "1", "myelin.object": json.dumps(structure)}
    write_safetensors(path, tensors or {}, meta)


@pytest.mark.parametrize("structure, match", [
    ({"array": "9"}, "lacks"),
    ({"list": [{"array": "0"}, {"array": "0"}]}, "used twice"),
    ({"dict": [[{"list": []}, 1]]}, "hashable"),
    ({"dict": [[1]]}, "pair"),
    ({"eval": "import os"}, "unexpected entry"),
    ({"float": "1e999"}, "unexpected entry"),
])
def test_hostile_structures_are_refused(tmp_path, structure, match):
    path = tmp_path / "forged"
    _forge(path, structure, {"0": np.zeros(2)})
    with pytest.raises(ModelFileError, match=match):
        myelin.load(path)


def test_deep_nesting_and_unused_tensors_are_refused(tmp_path):
    deep: dict = {"list": []}
    for _ in range(200):
        deep = {"list": [deep]}
    _forge(tmp_path / "deep", deep)
    with pytest.raises(ModelFileError, match="nested"):
        myelin.load(tmp_path / "deep")
    _forge(tmp_path / "extra", {"list": []}, {"0": np.zeros(2)})
    with pytest.raises(ModelFileError, match="does not use"):
        myelin.load(tmp_path / "extra")


def test_map_location_must_be_the_cpu(tmp_path):
    myelin.save([1], tmp_path / "x")
    assert myelin.load(tmp_path / "x", map_location=myelin.device("cpu")) == [1]
    with pytest.raises(myelin.devices.DeviceError):
        myelin.load(tmp_path / "x", map_location="cuda:0")
