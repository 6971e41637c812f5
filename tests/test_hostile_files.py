"""Hostile and broken files: every loader ends in ModelFileError or a clean load, in bounded time.

Crafted cases check each validation with its message; Hypothesis fuzzes mutated model files,
checkpoints, header JSON and random bytes (a quick subset by default, 10,000+ cases with -m slow).
"""

from __future__ import annotations

import json
import pathlib
import pickle
import re
import struct
import tempfile
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import myelin
from myelin import nn, optim
from myelin.io import ModelFileError, load_checkpoint, save_checkpoint
from myelin.io.safetensors_file import MAX_HEADER_BYTES, dumps

SRC = pathlib.Path(myelin.__file__).parent
TIME_BOUND = 5.0  # seconds per load, generous for a slow CI machine


def _file(header: object, data: bytes = b"", raw_header: bytes | None = None, length: int | None = None) -> bytes:
    raw = raw_header if raw_header is not None else json.dumps(header).encode()
    n = len(raw) if length is None else length
    return struct.pack("<Q", n) + raw + data


def _model() -> nn.Module:
    myelin.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory() as d:
        yield pathlib.Path(d)


@pytest.fixture(scope="module")
def model_bytes(workdir) -> bytes:
    path = workdir / "model.safetensors"
    myelin.save(_model(), path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def checkpoint_bytes(workdir) -> bytes:
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = myelin.tensor(np.ones((4, 6), np.float32))
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), np.array([0, 1, 2, 0])).backward()
    opt.step()
    path = workdir / "ckpt.safetensors"
    save_checkpoint(path, model, optimizer=opt, epoch=1, step=1, history={"loss": [1.0]})
    return path.read_bytes()


def _load_all(path: pathlib.Path) -> None:
    """Every loader on ``path``: each must end in ModelFileError or a clean load, within TIME_BOUND."""
    for loader in (myelin.load, myelin.load_weights, load_checkpoint):
        start = time.perf_counter()
        try:
            loader(path)
        except ModelFileError as exc:
            assert str(exc), "an error must say what is wrong"
        took = time.perf_counter() - start
        assert took < TIME_BOUND, f"{loader.__name__} took {took:.1f}s"


def _write(workdir: pathlib.Path, data: bytes) -> pathlib.Path:
    path = workdir / "case.safetensors"
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------------------ crafted: container


W = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}

CONTAINER_CASES = [
    (b"", "truncated: 0 bytes"),
    (b"\x01\x00\x00", "truncated: 3 bytes"),
    (struct.pack("<Q", MAX_HEADER_BYTES + 1) + b"{}", "above the limit"),
    (struct.pack("<Q", 2**64 - 1), "truncated"),
    (struct.pack("<Q", 2**64 - 1) + b"x", "not a Myelin model"),
    (struct.pack("<Q", 2**64 - 1) + b"{", "above the limit"),
    (b"a,b,label\n1,2,0\n3,4,1\n", "not a Myelin model, weights, checkpoint or safetensors file"),
    (_file({}, length=500), "runs past the end"),
    (_file(None, raw_header=b'{"a\xff": 1}'), "not UTF-8"),
    (_file(None, raw_header=b"{not json"), "not valid JSON"),
    (_file(None, raw_header=b"[" * 100_000 + b"]" * 100_000), "not a Myelin model"),
    (_file(None, raw_header=b"{" * 100_000 + b"}" * 100_000), "JSON"),
    (_file([1, 2]), "not a Myelin model"),
    (_file({"w": {**W, "dtype": "F128"}}, b"\0" * 8), "unknown dtype 'F128'"),
    (_file({"w": {**W, "dtype": ["F32"]}}, b"\0" * 8), "unknown dtype"),
    (_file({"w": {**W, "dtype": "F8_E4M3"}}, b"\0" * 8), "not supported"),
    (_file({"w": {**W, "shape": [-2]}}, b"\0" * 8), "shape must be"),
    (_file({"w": {**W, "shape": [True, 2]}}, b"\0" * 8), "shape must be"),
    (_file({"w": {**W, "shape": [2.0]}}, b"\0" * 8), "shape must be"),
    (_file({"w": {**W, "shape": [1] * 65}}, b"\0" * 8), "shape must be"),
    (_file({"w": {**W, "shape": [3]}}, b"\0" * 8), "needs 12 bytes, data_offsets give 8"),
    (_file({"w": {**W, "data_offsets": [0, 16]}}, b"\0" * 8), "out of bounds"),
    (_file({"w": {**W, "data_offsets": [8, 0]}}, b"\0" * 8), "out of bounds"),
    (_file({"w": {**W, "data_offsets": [0]}}, b"\0" * 8), "data_offsets must be"),
    (_file({"w": {**W, "shape": [0, 2**62], "data_offsets": [0, 0]}}), "too large"),
    (_file({"w": W, "v": {**W, "data_offsets": [4, 12]}}, b"\0" * 12), "overlaps"),
    (_file({"w": W, "v": {**W, "data_offsets": [12, 20]}}, b"\0" * 20), "gap of 4 bytes"),
    (_file({"w": W}, b"\0" * 12), "4 trailing bytes"),
    (_file(None, raw_header=b'{"w": %s, "w": %s}' % (json.dumps(W).encode(), json.dumps(W).encode()), data=b"\0" * 8),
     "duplicate key 'w'"),
    (_file({"w": {**W, "extra": 1}}, b"\0" * 8), "expected keys"),
    (_file({"w": [1]}, b"\0" * 8), "expected an object"),
    (_file({"__metadata__": {"a": 1}}), "__metadata__"),
    (_file({"__metadata__": [1]}), "__metadata__"),
    (_file({"b": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07"), "BOOL values"),
    (pickle.dumps({"w": np.zeros(2)}), "not a Myelin model"),
]


@pytest.mark.parametrize("data, message", CONTAINER_CASES)
def test_malformed_container_raises_a_clear_model_file_error(workdir, data, message):
    path = _write(workdir, data)
    for loader in (myelin.load_weights, myelin.load, load_checkpoint):
        with pytest.raises(ModelFileError, match=message):
            loader(path)
    assert issubclass(ModelFileError, ValueError)


def test_a_truncated_valid_file_names_the_problem(workdir, model_bytes):
    for cut in (4, 8, 20, len(model_bytes) // 2, len(model_bytes) - 1):
        path = _write(workdir, model_bytes[:cut])
        with pytest.raises(ModelFileError, match="truncated|runs past|out of bounds|covers|not valid JSON|not UTF-8"):
            myelin.load(path)


# ------------------------------------------------------------------------------------------ crafted: model


def _model_file_with(model_bytes: bytes, edit) -> bytes:
    tensors, meta = myelin.io.safetensors_file.loads(model_bytes)
    edit(tensors, meta, None)
    return dumps(tensors, meta)


def _set_config(config):
    def edit(tensors, meta, header):
        meta["myelin.config"] = config if isinstance(config, str) else json.dumps(config)
    return edit


MODEL_CASES = [
    (lambda t, m, h: t.__setitem__("1.weight", t["1.weight"].astype(np.float64)),
     r"'1.weight': expected \(4, 6\) float32 from the architecture, file has \(4, 6\) float64"),
    (lambda t, m, h: t.__setitem__("1.weight", np.zeros((6, 4), np.float32)), r"expected \(4, 6\) float32"),
    (lambda t, m, h: t.pop("4.bias"), r"missing 1 tensor\(s\) \['4.bias'\]"),
    (lambda t, m, h: t.__setitem__("5.weight", np.zeros(1, np.float32)), r"unexpected 1 tensor\(s\) \['5.weight'\]"),
    (_set_config({"type": "os.system", "args": {"command": "echo pwned"}}), "unknown layer type 'os.system'"),
    (_set_config({"type": "Linear", "args": {"in_features": -3, "out_features": 2}}), "bad architecture config"),
    (_set_config({"type": "Linear", "args": {"in_features": "6", "out_features": 4}}), "bad architecture config"),
    (_set_config({"type": "Linear", "args": {"in_features": 6, "evil": 1}}), "unknown argument 'evil'"),
    (_set_config({"type": "Sequential", "args": {"modules": [{"type": "Nope"}]}}), "unknown layer type 'Nope'"),
    (_set_config({"type": "Linear", "args": {"in_features": 10**6, "out_features": 10**6}}), "refusing to build"),
    (_set_config({"type": "LSTM", "args": {"input_size": 1, "hidden_size": 20_000}}), "refusing to build"),
    (_set_config({"type": "BatchNorm1d", "args": {"num_features": 56_717_839}}), "refusing to build"),
    (_set_config({"type": "MLP", "args": {"sizes": [1] * 5000}}), "20000 layers"),
    (_set_config({"type": "Sequential", "args": {"modules": [[[[{"type": "ReLU"}]]]] * 30_000}}), "objects"),
    (_set_config({"type": "Linear", "args": {"in_features": 10**400, "out_features": 1}}), "refusing|bad architecture"),
    (_set_config({"type": "Sequential", "args": {"modules": [{"type": "ReLU", "args": {}}] * 20_000}}),
     "20001 layers"),
    (_set_config("{broken"), "architecture config is not valid JSON"),
    (_set_config("[1, 2]"), "must be a JSON object"),
    (_set_config('{"type": ' * 5000 + "1" + "}" * 5000), "nested"),
    (lambda t, m, h: m.pop("myelin.config"), "no architecture"),
    (lambda t, m, h: m.__setitem__("myelin.format_version", "99"), "newer than this Myelin"),
    (lambda t, m, h: m.__setitem__("myelin.format_version", "one"), "bad format version"),
]


@pytest.mark.parametrize("edit, message", MODEL_CASES)
def test_model_file_that_does_not_fit_its_architecture(workdir, model_bytes, edit, message):
    path = _write(workdir, _model_file_with(model_bytes, edit))
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=message):
        myelin.load(path)
    assert time.perf_counter() - start < TIME_BOUND


# ------------------------------------------------------------------------------------------ crafted: checkpoint


def _checkpoint_with(checkpoint_bytes: bytes, edit) -> bytes:
    tensors, meta = myelin.io.safetensors_file.loads(checkpoint_bytes)
    state = json.loads(meta["myelin.checkpoint"])
    edit(tensors, state)
    meta["myelin.checkpoint"] = json.dumps(state)
    return dumps(tensors, meta)


CHECKPOINT_CASES = [
    (lambda t, s: s.__setitem__("epoch", -1), "'epoch' must be an int >= 0"),
    (lambda t, s: s.__setitem__("step", "3"), "'step' must be an int"),
    (lambda t, s: s.__setitem__("rng_state", {"bit_generator": "os.system"}), "rng_state"),
    (lambda t, s: s["rng_state"]["state"].__setitem__("state", "x"), "bad rng_state"),
    (lambda t, s: s.__setitem__("history", {"loss": ["x"]}), "list of numbers"),
    (lambda t, s: s.__setitem__("history", [1]), "history must be an object"),
    (lambda t, s: s.__setitem__("scheduler", [1]), "scheduler state must be an object"),
    (lambda t, s: s.__setitem__("extra", {"a": {"__tensor__": "nope"}}), "missing tensor 'nope'"),
    (lambda t, s: s.__setitem__("extra", {"a": {"__pickle__": "x"}}), "unknown tag '__pickle__'"),
    (lambda t, s: s.__setitem__("extra", {"a": {"__items__": [[[1], 2]]}}), "unhashable key"),
    (lambda t, s: s.__setitem__("extra", {"a": {"__items__": [1]}}), "bad '__items__'"),
    (lambda t, s: s.__setitem__("extra", {"a": {"__scalar__": "model.1.weight"}}), "expected \\(\\)"),
    (lambda t, s: t.__setitem__("optimizer.junk", np.zeros(1)), "no state refers to"),
]


@pytest.mark.parametrize("edit, message", CHECKPOINT_CASES)
def test_bad_checkpoint_state_is_a_model_file_error(workdir, checkpoint_bytes, edit, message):
    path = _write(workdir, _checkpoint_with(checkpoint_bytes, edit))
    with pytest.raises(ModelFileError, match=message):
        load_checkpoint(path)


def test_no_pickle_anywhere_in_the_package():
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+(c?pickle|dill|joblib|marshal)\b", text, re.MULTILINE), path
        for call in re.findall(r"np\.load\([^)]*\)", text):
            assert "allow_pickle=False" in call, f"{path}: {call}"
        assert "allow_pickle=True" not in text, path


# ------------------------------------------------------------------------------------------ fuzzing


@st.composite
def byte_mutations(draw, base: bytes) -> bytes:
    """Flip, overwrite, insert, delete and truncate bytes of ``base`` (more often near the header)."""
    data = bytearray(base)
    n = int.from_bytes(base[:8], "little")
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "length"]))
        hot = draw(st.booleans())
        hi = max(min(len(data), 8 + n) if hot else len(data), 1)
        pos = draw(st.integers(0, hi - 1))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[pos:]
        else:
            data[:8] = struct.pack("<Q", draw(st.integers(0, 2**64 - 1)))
    return bytes(data)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _replace(obj, path, value):
    if not path:
        return value
    obj[path[0]] = _replace(obj[path[0]], path[1:], value)
    return obj


@st.composite
def json_mutations(draw, base: bytes) -> bytes:
    """Replace one value anywhere in the header, the architecture config or the checkpoint state."""
    n = int.from_bytes(base[:8], "little")
    header = json.loads(base[8:8 + n])
    meta = header.get("__metadata__", {})
    targets = [("header", None)] + [("meta", k) for k in meta if k.startswith("myelin.c")]
    where, key = draw(st.sampled_from(targets))
    doc = header if where == "header" else json.loads(meta[key])
    path = draw(st.sampled_from(list(_paths(doc))))
    doc = _replace(doc, path, draw(_json_values))
    if where == "meta":
        meta[key] = json.dumps(doc)
        header["__metadata__"] = meta
        doc = header
    raw = json.dumps(doc).encode()
    return struct.pack("<Q", len(raw)) + raw + base[8 + n:]


FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
FUZZ_SLOW = settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))


def _fuzz_model_bytes(workdir, model_bytes, data):
    _load_all(_write(workdir, data.draw(byte_mutations(model_bytes))))


def _fuzz_checkpoint_bytes(workdir, checkpoint_bytes, data):
    _load_all(_write(workdir, data.draw(byte_mutations(checkpoint_bytes))))


def _fuzz_json(workdir, model_bytes, checkpoint_bytes, data):
    base = data.draw(st.sampled_from([model_bytes, checkpoint_bytes]))
    _load_all(_write(workdir, data.draw(json_mutations(base))))


def _fuzz_random(workdir, data):
    prefix = data.draw(st.sampled_from([b"", struct.pack("<Q", data.draw(st.integers(0, 400)))]))
    _load_all(_write(workdir, prefix + data.draw(st.binary(max_size=400))))


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_model_file(workdir, model_bytes, data):
    _fuzz_model_bytes(workdir, model_bytes, data)


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_checkpoint(workdir, checkpoint_bytes, data):
    _fuzz_checkpoint_bytes(workdir, checkpoint_bytes, data)


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_json(workdir, model_bytes, checkpoint_bytes, data):
    _fuzz_json(workdir, model_bytes, checkpoint_bytes, data)


@FUZZ
@given(data=st.data())
def test_fuzz_random_bytes(workdir, data):
    _fuzz_random(workdir, data)


@pytest.mark.slow
@FUZZ_SLOW
@given(data=st.data())
def test_fuzz_mutated_model_file_long(workdir, model_bytes, data):
    _fuzz_model_bytes(workdir, model_bytes, data)


@pytest.mark.slow
@FUZZ_SLOW
@given(data=st.data())
def test_fuzz_mutated_checkpoint_long(workdir, checkpoint_bytes, data):
    _fuzz_checkpoint_bytes(workdir, checkpoint_bytes, data)


@pytest.mark.slow
@FUZZ_SLOW
@given(data=st.data())
def test_fuzz_mutated_json_long(workdir, model_bytes, checkpoint_bytes, data):
    _fuzz_json(workdir, model_bytes, checkpoint_bytes, data)


@pytest.mark.slow
@FUZZ_SLOW
@given(data=st.data())
def test_fuzz_random_bytes_long(workdir, data):
    _fuzz_random(workdir, data)


# ------------------------------------------------------------------------------------------ resource bounds (issue 17)


def test_a_fifo_is_refused_at_once_not_waited_on(workdir):
    import os
    import threading

    fifo = workdir / "pipe.safetensors"
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(fifo)
    errors: list[BaseException] = []

    def load() -> None:
        try:
            myelin.load(fifo)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():  # unblock the reader before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("myelin.load blocked on a FIFO")
    assert isinstance(errors[0], ModelFileError) and "FIFO, not a regular file" in str(errors[0])
    with pytest.raises(ModelFileError, match="directory, not a regular file"):
        myelin.load(workdir)


def test_a_header_of_a_million_empty_tensors_is_refused_before_parsing(workdir):
    entry = b'"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}'
    header = b"{" + b",".join(entry % i for i in range(1_000_000)) + b"}"
    path = _write(workdir, struct.pack("<Q", len(header)) + header)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="more than 100,000 tensors.*MYELIN_MAX_TENSORS"):
        myelin.load(path)
    assert time.perf_counter() - start < 2.0


def test_the_tensor_limit_can_be_raised(workdir, monkeypatch):
    tensors = {f"t{i}": np.zeros(0, np.float32) for i in range(30)}
    path = workdir / "many.safetensors"
    myelin.save_weights(tensors, path)
    monkeypatch.setenv("MYELIN_MAX_TENSORS", "10")
    with pytest.raises(ModelFileError, match="limit 10; set MYELIN_MAX_TENSORS"):
        myelin.load_weights(path)
    monkeypatch.setenv("MYELIN_MAX_TENSORS", "100")
    assert len(myelin.load_weights(path)) == 30


def test_a_sparse_file_of_gigabytes_is_refused_without_reading_it(workdir):
    header = json.dumps({"w": {"dtype": "F32", "shape": [3 * 2**28], "data_offsets": [0, 3 * 2**30]}}).encode()
    header += b" " * (-len(header) % 8)
    path = workdir / "sparse.safetensors"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + 3 * 2**30)  # a hole: 3 GiB that take no disk
    if path.stat().st_blocks * 512 > 2**20:
        path.unlink()
        pytest.skip("this filesystem does not make sparse files")
    start = time.perf_counter()
    try:
        with pytest.raises(ModelFileError, match="sparse file"):
            myelin.load_weights(path)
    finally:
        path.unlink()
    assert time.perf_counter() - start < 2.0


def test_stale_temporaries_of_one_file_are_cleaned_by_its_next_write(workdir):
    import os

    from myelin.io import atomic_write

    target = workdir / "ck.safetensors"
    stale = workdir / f".ck.safetensors.{2**22 + 99991}.q1w2e3r4.tmp"
    other = workdir / f".other.bin.{2**22 + 99991}.q1w2e3r4.tmp"
    stale.write_bytes(b"old")
    other.write_bytes(b"old")
    try:
        os.kill(2**22 + 99991, 0)
        pytest.skip("the made-up pid runs here")
    except ProcessLookupError:
        pass
    with atomic_write(target) as f:
        f.write(b"new")
    assert target.read_bytes() == b"new" and not stale.exists() and other.exists()
    other.unlink()
