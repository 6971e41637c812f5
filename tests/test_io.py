"""Model files: save/load, save_weights/load_weights, the safetensors codec, atomic writes, PyTorch interop."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

import myelin
from myelin import nn
from myelin.io import ModelFileError, read_metadata, read_safetensors, write_safetensors
from myelin.io import safetensors_file as stf
from myelin.io.safetensors_file import dumps, loads


def _mlp(dropout: float = 0.0) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 10)
    )


def _inputs(n: int = 16) -> np.ndarray:
    return np.random.default_rng(1).random((n, 1, 8, 8), dtype=np.float32)


def _trained_mlp() -> nn.Module:
    model = _mlp(0.2)
    x = _inputs(64)
    y = np.arange(64) % 10
    myelin.fit(model, (x, y), loss="cross_entropy", optimizer="adam", epochs=2, batch_size=16, verbose=0)
    return model


def _no_temp_files(directory) -> bool:
    return not [p for p in os.listdir(directory) if p.endswith(".tmp")]


# ------------------------------------------------------------------------------------------ save / load


def test_save_load_predicts_exactly_the_same(tmp_path):
    model = _trained_mlp()  # BatchNorm running stats are buffers: they must travel too
    path = tmp_path / "model.safetensors"
    myelin.save(model, path)
    loaded = myelin.load(path)
    assert type(loaded) is type(model)
    assert not loaded.training
    x = _inputs(40)
    np.testing.assert_array_equal(myelin.predict(loaded, x), myelin.predict(model, x))
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and a.dtype == b.dtype and np.array_equal(a, b)
    assert _no_temp_files(tmp_path)


ARCHITECTURES = {
    "cnn": lambda: nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(8, 8, 3, groups=4), nn.Flatten(), nn.Linear(32, 10)),
    "lstm": lambda: nn.LSTM(6, 32, num_layers=2, bidirectional=True, batch_first=True),
    "gru": lambda: nn.GRU(6, 16),
    "embedding": lambda: nn.Sequential(nn.Embedding(5000, 64, padding_idx=0), nn.LayerNorm(64)),
    "mlp": lambda: nn.MLP([64, 128, 10], batch_norm=True, dropout=0.1),
    "wide": lambda: nn.Linear(1024, 2048),
}


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_kind_of_layer_round_trips(tmp_path, name):
    model = ARCHITECTURES[name]()
    myelin.save(model, tmp_path / "m.safetensors")
    loaded = myelin.load(tmp_path / "m.safetensors")
    assert loaded.get_config() == json.loads(json.dumps(model.get_config()))
    for k, v in model.state_dict().items():
        assert np.array_equal(loaded.state_dict()[k], v), k


def test_top_level_names_point_at_myelin_io():
    assert myelin.save is myelin.io.save and myelin.load is myelin.io.load
    assert myelin.save_weights is myelin.io.save_weights and myelin.load_weights is myelin.io.load_weights
    assert myelin.ModelFileError is ModelFileError and issubclass(ModelFileError, ValueError)


def test_model_file_metadata_holds_config_and_version(tmp_path):
    model = _mlp()
    path = tmp_path / "m.safetensors"
    myelin.save(model, path)
    meta = read_metadata(path)
    assert meta["myelin.kind"] == "model"
    assert meta["myelin.format_version"] == "1"
    assert json.loads(meta["myelin.config"]) == json.loads(json.dumps(model.get_config()))


def test_save_keeps_user_metadata_and_guards_reserved_keys(tmp_path):
    model = _mlp()
    path = tmp_path / "m.safetensors"
    myelin.save(model, path, metadata={"input_shape": "[64]", "classes": "0,1,2"})
    meta = read_metadata(path)
    assert meta["input_shape"] == "[64]" and meta["classes"] == "0,1,2"
    assert meta["myelin.kind"] == "model"
    assert isinstance(myelin.load(path), type(model))
    myelin.save_weights(model, tmp_path / "w.safetensors", metadata={"note": "epoch 3"})
    assert read_metadata(tmp_path / "w.safetensors")["note"] == "epoch 3"
    for bad, error in (({"myelin.kind": "weights"}, ValueError), ({"n": 3}, TypeError), ({1: "x"}, TypeError),
                       (["a"], TypeError)):
        with pytest.raises(error, match="metadata"):
            myelin.save(model, tmp_path / "bad.safetensors", metadata=bad)
        with pytest.raises(error, match="metadata"):
            myelin.save_weights(model, tmp_path / "bad.safetensors", metadata=bad)
    assert not (tmp_path / "bad.safetensors").exists()


def test_load_of_a_weights_only_file_gives_the_state_dict(tmp_path):
    """As ``torch.load`` of a saved state dict: ``model.load_state_dict(myelin.load(path))`` works."""
    model = _mlp()
    path = tmp_path / "w.safetensors"
    myelin.save_weights(model, path)
    weights = myelin.load(path)
    assert sorted(weights) == sorted(model.state_dict())
    fresh = _mlp()
    fresh.load_state_dict(weights)
    for a, b in zip(fresh.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_save_weights_load_weights_round_trip(tmp_path):
    model = _mlp()
    path = tmp_path / "w.safetensors"
    myelin.save_weights(model, path)
    weights = myelin.load_weights(path)
    assert list(weights) == list(model.state_dict()) or set(weights) == set(model.state_dict())
    other = _mlp()
    other.load_state_dict(weights)
    for k, v in model.state_dict().items():
        assert np.array_equal(other.state_dict()[k], v)
    # a plain dict of arrays works as well, and load_weights of a model file gives its weights
    myelin.save_weights({"a": np.arange(3, dtype=np.int64)}, path)
    assert myelin.load_weights(path)["a"].tolist() == [0, 1, 2]
    myelin.save(model, tmp_path / "m.safetensors")
    assert set(myelin.load_weights(tmp_path / "m.safetensors")) == set(model.state_dict())


def test_save_refuses_what_it_cannot_store_without_pickle(tmp_path):
    with pytest.raises(TypeError, match="without pickle"):
        myelin.save(object(), tmp_path / "x.safetensors")
    myelin.save({"w": np.zeros(2)}, tmp_path / "x.safetensors")  # a state dict is fine (see test_io_objects.py)
    assert myelin.load(tmp_path / "x.safetensors")["w"].shape == (2,)


# ------------------------------------------------------------------------------------------ the codec


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int32", "int16", "int8",
                                   "uint64", "uint32", "uint16", "uint8", "bool"])
def test_codec_round_trips_every_dtype_and_matches_the_safetensors_package(dtype):
    st_numpy = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(0)
    arrays = {
        "m": (rng.random((3, 4)) * 100).astype(dtype),
        "scalar": np.array(7).astype(dtype),
        "empty": np.zeros((0, 5), dtype=dtype),
        "strided": (rng.random((4, 6)) * 10).astype(dtype)[:, ::2],
    }
    ours = dumps(arrays, {"note": "x"})
    back, meta = loads(ours)
    assert meta == {"note": "x"}
    theirs = st_numpy.load(ours)
    for k, a in arrays.items():
        assert back[k].dtype == a.dtype and back[k].shape == a.shape and np.array_equal(back[k], a)
        assert np.array_equal(theirs[k], a)
    # (the package itself writes a strided view's underlying buffer, so give it copies)
    from_package, _ = loads(st_numpy.save({k: a.copy() for k, a in arrays.items()}))
    for k, a in arrays.items():
        assert from_package[k].dtype == a.dtype and np.array_equal(from_package[k], a)


def test_codec_writes_aligned_little_endian_data():
    data = dumps({"b": np.arange(3, dtype=">i4"), "a": np.ones(3, dtype=np.float64), "c": np.ones(1, np.int8)})
    n = int.from_bytes(data[:8], "little")
    assert (8 + n) % 8 == 0
    header = json.loads(data[8:8 + n])
    for info in header.values():
        itemsize = {"F64": 8, "I32": 4, "I8": 1}[info["dtype"]]
        assert info["data_offsets"][0] % itemsize == 0
    back, _ = loads(data)
    assert back["b"].dtype == np.dtype("int32") and back["b"].tolist() == [0, 1, 2]


def test_codec_rejects_unstorable_values():
    with pytest.raises(ValueError, match="dtype"):
        dumps({"x": np.array(["a"])})
    with pytest.raises(ValueError, match="reserved"):
        dumps({"__metadata__": np.zeros(1)})
    with pytest.raises(TypeError, match="metadata"):
        dumps({"x": np.zeros(1)}, {"k": 3})  # type: ignore[dict-item]


def test_bf16_is_widened_to_float32(torch, tmp_path):
    from safetensors.torch import save_file

    t = torch.tensor([1.5, -2.25, 3.0e38, 1e-3], dtype=torch.bfloat16)
    save_file({"t": t}, str(tmp_path / "bf.safetensors"))
    got = myelin.load_weights(tmp_path / "bf.safetensors")["t"]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, t.float().numpy())


# ------------------------------------------------------------------------------------------ atomic writes


def test_write_replaces_atomically_and_cleans_up_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    write_safetensors(path, {"a": np.zeros(3, np.float32)})
    before = path.read_bytes()

    def crash(f, header, arrays):
        f.write(b"partial bytes")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(stf, "_write_to", crash)
    with pytest.raises(OSError, match="disk full"):
        write_safetensors(path, {"a": np.ones(3, np.float32)})
    assert path.read_bytes() == before  # the old file is untouched
    assert _no_temp_files(tmp_path)
    with pytest.raises(KeyboardInterrupt), stf.atomic_write(path) as f:
        f.write(b"half")
        raise KeyboardInterrupt
    assert path.read_bytes() == before and _no_temp_files(tmp_path)


def test_atomic_write_gives_normal_permissions_and_clear_missing_directory_error(tmp_path):
    path = tmp_path / "m.safetensors"
    myelin.save(_mlp(), path)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode & 0o600 == 0o600 and mode & 0o044  # readable by others as with open(), not mkstemp's 0600
    with pytest.raises(FileNotFoundError, match="does not exist"):
        myelin.save(_mlp(), tmp_path / "no" / "such" / "m.safetensors")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        myelin.load(tmp_path / "nothing.safetensors")


# ------------------------------------------------------------------------------------------ PyTorch


def _torch_twin(torch):
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
        torch.nn.Dropout(0.0), torch.nn.Linear(32, 10),
    )


def test_weights_round_trip_with_pytorch(torch, tmp_path):
    from safetensors.torch import load_file, save_file

    x = _inputs(8)
    # PyTorch -> Myelin
    tmodel = _torch_twin(torch).eval()
    with torch.no_grad():
        tmodel[2].running_mean.uniform_(-0.5, 0.5)
        tmodel[2].running_var.uniform_(0.5, 1.5)
    save_file(tmodel.state_dict(), str(tmp_path / "torch.safetensors"))
    model = _mlp()
    model.load_state_dict(myelin.load_weights(tmp_path / "torch.safetensors"))
    expected = tmodel(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(myelin.predict(model, x), expected, rtol=1e-4, atol=1e-5)
    # Myelin -> PyTorch, from a weights file and from a full model file
    model = _trained_mlp()
    for writer in (myelin.save_weights, myelin.save):
        path = tmp_path / f"{writer.__name__}.safetensors"
        writer(model, path)
        twin = _torch_twin(torch)
        twin.load_state_dict(load_file(str(path)))
        twin.eval()
        np.testing.assert_allclose(
            twin(torch.from_numpy(x)).detach().numpy(), myelin.predict(model, x), rtol=1e-4, atol=1e-5
        )


def test_read_safetensors_reports_metadata(tmp_path):
    path = tmp_path / "x.safetensors"
    write_safetensors(path, {"w": np.eye(2, dtype=np.float32)}, {"k": "v"})
    tensors, meta = read_safetensors(path)
    assert meta == {"k": "v"} and np.array_equal(tensors["w"], np.eye(2))
