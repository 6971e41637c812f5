"""myelin.datasets: digits, MNIST (npz, IDX, search order, downloads), text, synthetic."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import importlib
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import myelin
from myelin.data import DataLoader
from myelin.datasets import (
    ChecksumError,
    DataFileError,
    DatasetNotFoundError,
    DownloadError,
    TextDataset,
    data_dirs,
    digits,
    download,
    fashion_mnist,
    load_npz,
    mnist,
    moons,
    read_idx,
    sine,
    spirals,
    text,
    xor,
)

# the package re-exports functions named like their modules; get the modules themselves
mnist_module = importlib.import_module("myelin.datasets.mnist")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """Keep every test away from the real ~/.cache/myelin and $MYELIN_DATA."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("MYELIN_DATA", raising=False)


def idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C}
    a = np.asarray(array)
    a = a.astype(a.dtype.newbyteorder(">")) if a.dtype.itemsize > 1 else a
    header = bytes([0, 0, codes[a.dtype], a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    return header + a.tobytes()


def small_mnist(n_train: int = 12, n_test: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    )


def write_idx_set(folder: Path, arrays, compress: bool = True) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, a in zip(IDX_NAMES, arrays):
        data = idx_bytes(a)
        if compress:
            name, data = name + ".gz", gzip.compress(data)
        (folder / name).write_bytes(data)
        written[name] = data
    return written


def check_loaded(result, arrays, flatten=False):
    (xtr, ytr), (xte, yte) = result
    shape = (len(arrays[0]), 784) if flatten else (len(arrays[0]), 1, 28, 28)
    assert xtr.shape == shape and xtr.dtype == np.float32 and ytr.dtype == np.int64
    np.testing.assert_allclose(xtr.reshape(len(xtr), 28, 28), arrays[0] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(ytr, arrays[1])
    np.testing.assert_array_equal(yte, arrays[3])
    assert xte.shape[0] == len(arrays[2]) and 0.0 <= xte.min() and xte.max() <= 1.0


# ----------------------------------------------------------------------------- digits


def test_digits_shapes_labels_and_split():
    (xtr, ytr), (xte, yte) = digits()
    assert len(xtr) + len(xte) == 1797
    assert xtr.shape[1:] == (1, 8, 8) and xtr.dtype == np.float32 and ytr.dtype == np.int64
    assert xtr.min() == 0.0 and xtr.max() == 1.0
    assert set(np.unique(ytr)) == set(range(10)) == set(np.unique(yte))
    counts = np.bincount(np.concatenate([ytr, yte]), minlength=10)
    np.testing.assert_allclose(np.bincount(yte, minlength=10), np.round(counts * 0.2), atol=0.5)  # stratified
    (x2, _), _ = digits(seed=0)
    np.testing.assert_array_equal(x2, xtr)
    (x3, _), _ = digits(seed=1)
    assert not np.array_equal(x3, xtr)
    (xf, _), _ = digits(flatten=True)
    assert xf.shape == (len(xtr), 64)
    (xa, _), (xb, _) = digits(test_fraction=0.0)
    assert len(xa) == 1797 and len(xb) == 0
    with pytest.raises(ValueError, match="test_fraction"):
        digits(test_fraction=1.0)


# ----------------------------------------------------------------------------- IDX parsing


def test_read_idx_roundtrip(tmp_path):
    a = np.arange(-6, 6, dtype=np.int16).reshape(3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(a))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), a)
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(idx_bytes(a)))
    out = read_idx(tmp_path / "a.idx.gz")
    np.testing.assert_array_equal(out, a)
    assert out.dtype.isnative


@pytest.mark.parametrize(
    "mangle, match",
    [
        (lambda b: b[:-10], "truncated"),
        (lambda b: b[:6], "truncated"),
        (lambda b: b[:2], "truncated"),
        (lambda b: b"\x01\x02" + b[2:], "magic"),
        (lambda b: b[:2] + b"\x42" + b[3:], "magic"),
        (lambda b: b + b"\x00", "after"),
        (lambda b: b[:4] + struct.pack(">I", 2**31) + b[8:], "more than the file can hold"),
    ],
)
@pytest.mark.parametrize("compress", [False, True])
def test_bad_idx_files_raise_data_file_error(tmp_path, mangle, match, compress):
    data = mangle(idx_bytes(np.zeros((4, 28, 28), dtype=np.uint8)))
    path = tmp_path / "bad.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(DataFileError, match=match):
        read_idx(path)


_idx_like = st.builds(
    lambda code, dims, payload: bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload,
    st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x07]),
    st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 6), min_size=0, max_size=4),
    st.binary(max_size=64),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=128) | _idx_like, compress=st.booleans())
def test_read_idx_hostile_bytes(tmp_path, data, compress):
    """Any byte string either parses into an array of exactly its declared size or raises DataFileError."""
    path = tmp_path / "h.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    try:
        out = read_idx(path)
    except DataFileError:
        return
    assert out.nbytes == len(data) - 4 - 4 * out.ndim


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 400), flip=st.integers(0, 399))
def test_load_npz_hostile_bytes(tmp_path, cut, flip):
    """A truncated or bit-flipped npz raises DataFileError (or loads, if the damage missed the data)."""
    x = np.zeros((2, 28, 28), dtype=np.uint8)
    path = tmp_path / "m.npz"
    np.savez(path, x_train=x, y_train=np.zeros(2, np.uint8), x_test=x, y_test=np.zeros(2, np.uint8))
    raw = bytearray(path.read_bytes())
    raw[flip % len(raw)] ^= 0xFF
    path.write_bytes(bytes(raw[: len(raw) - cut]))
    try:
        load_npz(path)
    except DataFileError:
        pass


def test_corrupt_gzip_raises_data_file_error(tmp_path):
    good = gzip.compress(idx_bytes(np.zeros((40, 28, 28), dtype=np.uint8)))
    (tmp_path / "cut.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataFileError):
        read_idx(tmp_path / "cut.gz")
    (tmp_path / "junk.gz").write_bytes(b"\x1f\x8b" + b"junk" * 10)
    with pytest.raises(DataFileError):
        read_idx(tmp_path / "junk.gz")
    assert issubclass(DataFileError, ValueError)


# ----------------------------------------------------------------------------- MNIST from disk


def test_mnist_from_idx_gz_in_named_folder(tmp_path):
    arrays = small_mnist()
    write_idx_set(tmp_path / "mnist", arrays)
    check_loaded(mnist(root=tmp_path, download=False), arrays)
    check_loaded(mnist(root=tmp_path, download=False, flatten=True), arrays, flatten=True)


def test_mnist_from_uncompressed_idx_in_root(tmp_path):
    arrays = small_mnist(seed=1)
    write_idx_set(tmp_path, arrays, compress=False)
    check_loaded(mnist(root=tmp_path, download=False), arrays)


def test_mnist_from_npz(tmp_path):
    arrays = small_mnist(seed=2)
    np.savez(tmp_path / "mnist.npz", **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays)))
    check_loaded(mnist(root=tmp_path, download=False), arrays)


def test_bad_npz_raises_data_file_error(tmp_path):
    x = np.zeros((3, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=np.zeros(3, np.uint8), x_test=x)
    with pytest.raises(DataFileError, match="missing"):
        mnist(root=tmp_path, download=False)
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=np.zeros(2, np.uint8), x_test=x, y_test=np.zeros(3, np.uint8))
    with pytest.raises(DataFileError, match="as many labels"):
        mnist(root=tmp_path, download=False)
    obj = np.array([None, 1], dtype=object)
    np.savez(tmp_path / "mnist.npz", x_train=obj, y_train=obj, x_test=obj, y_test=obj)
    with pytest.raises(DataFileError, match="objects"):
        mnist(root=tmp_path, download=False)
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(DataFileError):
        mnist(root=tmp_path, download=False)


def test_fashion_mnist_uses_its_own_folder(tmp_path, monkeypatch):
    arrays = small_mnist(seed=3)
    write_idx_set(tmp_path / "fashion_mnist", arrays)
    write_idx_set(tmp_path / "mnist", small_mnist(seed=4))
    monkeypatch.setenv("MYELIN_DATA", str(tmp_path))
    check_loaded(fashion_mnist(download=False), arrays)


def test_myelin_data_env_and_xdg_cache(tmp_path, monkeypatch):
    env_arrays, cache_arrays = small_mnist(seed=5), small_mnist(seed=6)
    write_idx_set(tmp_path / "xdg-cache" / "myelin" / "mnist", cache_arrays)
    check_loaded(mnist(download=False), cache_arrays)
    monkeypatch.setenv("MYELIN_DATA", str(tmp_path / "env"))
    write_idx_set(tmp_path / "env", env_arrays)  # bare folder is accepted for MNIST
    check_loaded(mnist(download=False), env_arrays)  # $MYELIN_DATA wins over the cache
    assert data_dirs(tmp_path / "r") == [tmp_path / "r", tmp_path / "env", tmp_path / "xdg-cache" / "myelin"]


def test_not_found_without_download_says_where(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        mnist(root=tmp_path / "nowhere", download=False)
    msg = str(info.value)
    assert str(tmp_path / "nowhere") in msg and "mnist.npz" in msg
    assert "train-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert "MYELIN_DATA" in msg and str(tmp_path / "xdg-cache" / "myelin") in msg


@pytest.mark.skipif(not (SHARED_DATA / "mnist.npz").exists(), reason="shared mnist.npz not present")
def test_real_mnist_npz():
    (xtr, ytr), (xte, yte) = mnist(root=SHARED_DATA, download=False)
    assert xtr.shape == (60000, 1, 28, 28) and xte.shape == (10000, 1, 28, 28)
    assert ytr.shape == (60000,) and yte.dtype == np.int64
    assert abs(float(xtr.mean()) - 0.1307) < 1e-3 and abs(float(xtr.std()) - 0.3081) < 1e-3
    assert np.array_equal(np.bincount(yte), np.bincount(yte, minlength=10)) and ytr.max() == 9


# ----------------------------------------------------------------------------- downloads


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_root(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/'www'; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_download_verifies_and_renames(http_root, tmp_path):
    www, url = http_root
    payload = b"myelin" * 1000
    (www / "f.bin").write_bytes(payload)
    dest = download(url + "f.bin", tmp_path / "out" / "f.bin", hashlib.sha256(payload).hexdigest())
    assert dest.read_bytes() == payload
    assert sorted(p.name for p in dest.parent.iterdir()) == ["f.bin"]


def test_download_rejects_wrong_checksum_and_leaves_nothing(http_root, tmp_path):
    www, url = http_root
    (www / "f.bin").write_bytes(b"payload")
    out = tmp_path / "out"
    with pytest.raises(ChecksumError, match="sha256"):
        download(url + "f.bin", out / "f.bin", "0" * 64)
    assert not out.exists()  # the directory made for the download is removed again
    out.mkdir()
    with pytest.raises(DownloadError, match="expected at most"):
        download(url + "f.bin", out / "f.bin", None, max_bytes=3)
    with pytest.raises(DownloadError, match="404"):
        download(url + "missing.bin", out / "m.bin", None)
    assert list(out.iterdir()) == []
    with pytest.raises(ValueError, match="http"):
        download("file:///etc/passwd", out / "p", None)


def test_mnist_download_from_local_mirror(http_root, tmp_path, monkeypatch):
    www, url = http_root
    arrays = small_mnist(seed=7)
    written = write_idx_set(www / "good", arrays)
    files = {name: (hashlib.sha256(data).hexdigest(), len(data)) for name, data in written.items()}
    monkeypatch.setattr(mnist_module, "MNIST_FILES", files)
    root = tmp_path / "root"
    # the first mirror answers 404 for everything; the loader must move on to the second
    check_loaded(mnist(root=root, mirrors=[url + "empty/", url + "good/"]), arrays)
    assert sorted(p.name for p in (root / "mnist").iterdir()) == sorted(files)
    # a second call finds the files on disk: no server needed
    check_loaded(mnist(root=root, mirrors=[_closed_port_url()], timeout=2), arrays)


def test_mnist_download_wrong_checksum_leaves_nothing(http_root, tmp_path, monkeypatch):
    www, url = http_root
    written = write_idx_set(www, small_mnist(seed=8))
    bad = {name: ("f" * 64, len(data)) for name, data in written.items()}
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", [url])
    monkeypatch.setattr(mnist_module, "MNIST_FILES", bad)
    with pytest.raises(DatasetNotFoundError, match="sha256 mismatch"):
        mnist(root=tmp_path / "root")
    leftovers = list((tmp_path / "root").rglob("*"))
    assert all(p.is_dir() for p in leftovers), leftovers


def test_offline_failure_message_says_where_to_put_files(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        fashion_mnist(root=tmp_path / "data", mirrors=[_closed_port_url()], timeout=2)
    msg = str(info.value)
    assert "download failed" in msg
    assert str(tmp_path / "data" / "fashion_mnist") in msg and "fashion_mnist.npz" in msg
    assert "train-labels-idx1-ubyte.gz" in msg
    assert isinstance(info.value.__cause__, DownloadError)


# ----------------------------------------------------------------------------- text


def test_text_dataset_windows_and_vocab(tmp_path):
    corpus = "hello world, hello myelin! " * 20
    path = tmp_path / "t.txt"
    path.write_text(corpus, encoding="utf-8")
    train, val = text(path, seq_len=8, val_fraction=0.25)
    assert train.vocab == sorted(set(corpus)) == val.vocab
    assert train.stoi["h"] == train.vocab.index("h")
    cut = len(corpus) - round(len(corpus) * 0.25)
    assert len(train) == (cut - 1) // 8 and len(val) == (len(corpus) - cut - 1) // 8
    x, y = train[2]
    assert x.dtype == np.int64 and x.shape == (8,)
    assert train.decode(x) == corpus[16:24] and train.decode(y) == corpus[17:25]
    assert val.decode(val[0][0]) == corpus[cut : cut + 8]
    assert train.decode(train.encode("myelin")) == "myelin"
    with pytest.raises(ValueError, match="'Z'"):
        train.encode("Zebra")
    with pytest.raises(ValueError, match="ids in"):
        train.decode([0, 999])
    xb, yb = next(iter(DataLoader(train, batch_size=4, shuffle=True, seed=0)))
    assert xb.shape == (4, 8) and yb.dtype == np.int64
    np.testing.assert_array_equal(xb.data[:, 1:], yb.data[:, :-1])


def test_text_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no text file"):
        text(tmp_path / "missing.txt", 4)
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(DataFileError, match="empty"):
        text(tmp_path / "empty.txt", 4)
    (tmp_path / "short.txt").write_text("abcd")
    with pytest.raises(ValueError, match="seq_len"):
        text(tmp_path / "short.txt", 4)
    (tmp_path / "mid.txt").write_text("abcdefghijklmnopqrst")
    with pytest.raises(ValueError, match="validation part"):
        text(tmp_path / "mid.txt", 4, val_fraction=0.1)
    train, val = text(tmp_path / "mid.txt", 4, val_fraction=0.0)
    assert len(train) == 4 and len(val) == 0


def test_text_dataset_unicode():
    ds = TextDataset("àéîõü ∑∂ 🙂 àé", 3)
    assert ds.decode(ds.encode("🙂 à")) == "🙂 à"
    assert ds.vocab == sorted(set("àéîõü ∑∂ 🙂 àé"))


@pytest.mark.skipif(not (SHARED_DATA / "shakespeare.txt").exists(), reason="shared shakespeare.txt not present")
def test_shakespeare():
    train, val = text(SHARED_DATA / "shakespeare.txt", seq_len=100)
    assert train.vocab_size == 76
    assert len(train) > 9000 and len(val) > 900
    assert train.decode(train[0][0]).startswith("HAMLET")


# ----------------------------------------------------------------------------- synthetic


def test_spirals_moons_xor_sine():
    x, y = spirals(n=301, classes=3, seed=0)
    assert x.shape == (301, 2) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [101, 100, 100] and np.abs(x).max() <= 1.0
    np.testing.assert_array_equal(spirals(n=301, seed=0)[0], x)
    assert not np.array_equal(spirals(n=301, seed=1)[0], x)
    x, y = moons(n=101, noise=0.0, seed=0)
    assert x.shape == (101, 2) and np.bincount(y).tolist() == [51, 50]
    np.testing.assert_allclose(np.linalg.norm(x[y == 0], axis=1), 1.0, atol=1e-6)
    x, y = xor()
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert y.tolist() == [0, 1, 1, 0]
    x, y = xor(n=400, noise=0.05, seed=0)
    assert x.shape == (400, 2) and np.bincount(y).tolist() == [200, 200]
    np.testing.assert_array_equal(y, (np.round(x[:, 0]) != np.round(x[:, 1])).astype(np.int64))
    x, y = sine(n=500, seed=0)
    assert x.shape == y.shape == (500, 1) and y.dtype == np.float32
    assert -np.pi <= x.min() and x.max() <= np.pi
    np.testing.assert_allclose(y, np.sin(x), atol=1e-6)
    with pytest.raises(ValueError, match="noise"):
        moons(noise=-1)
    with pytest.raises(ValueError, match="classes"):
        spirals(classes=1)


def test_synthetic_without_seed_follows_manual_seed():
    myelin.manual_seed(4)
    a = moons(n=50)[0]
    myelin.manual_seed(4)
    np.testing.assert_array_equal(moons(n=50)[0], a)


def test_circles_gaussians_checkerboard_function_boundary():
    from myelin.datasets import checkerboard, circles, function_boundary, gaussians

    x, y = circles(n=101, noise=0.0, factor=0.4, seed=0)
    assert x.shape == (101, 2) and x.dtype == np.float32 and np.bincount(y).tolist() == [51, 50]
    np.testing.assert_allclose(np.linalg.norm(x[y == 0], axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(x[y == 1], axis=1), 0.4, atol=1e-6)
    np.testing.assert_array_equal(circles(n=101, noise=0.1, seed=3)[0], circles(n=101, noise=0.1, seed=3)[0])
    with pytest.raises(ValueError, match="factor"):
        circles(factor=1.5)
    x, y = gaussians(n=300, classes=3, noise=0.1, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]
    for c in range(3):  # each blob sits around its centre on the unit circle
        centre = [np.cos(2 * np.pi * c / 3), np.sin(2 * np.pi * c / 3)]
        np.testing.assert_allclose(x[y == c].mean(axis=0), centre, atol=0.05)
    x, y = checkerboard(n=1000, tiles=2, noise=0.0, seed=0)
    assert np.abs(x).max() <= 1.0
    np.testing.assert_array_equal(y, ((x[:, 0] >= 0) != (x[:, 1] >= 0)).astype(np.int64))
    x, y = function_boundary(lambda t: t ** 3 - t, n=500, noise=0.0, seed=0)
    assert x.shape == (500, 2) and -2 <= x.min() and x.max() <= 2
    np.testing.assert_array_equal(y, (x[:, 1] > x[:, 0].astype(np.float64) ** 3 - x[:, 0]).astype(np.int64))
    _, y = function_boundary(lambda t: np.log(t), n=200, seed=0)  # NaN where t < 0: class 0 there
    assert y.sum() > 0
    with pytest.raises(TypeError, match="callable"):
        function_boundary("x", n=5)


class _TrickleHandler(http.server.BaseHTTPRequestHandler):
    """Announces 1 MB, then sends one byte every 0.1 s: each read is quick, the whole never ends."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 20))
        self.end_headers()
        try:
            for _ in range(200):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    def log_message(self, *args) -> None:
        pass


def test_download_timeout_bounds_the_whole_download_not_each_read(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TrickleHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        start = time.monotonic()
        with pytest.raises(DownloadError, match="longer than 1 s in all"):
            download(f"http://127.0.0.1:{server.server_address[1]}/f", tmp_path / "d" / "f", None, timeout=1.0)
        assert time.monotonic() - start < 5
        assert not (tmp_path / "d").exists()
    finally:
        server.shutdown()
        server.server_close()


def test_offline_failure_is_short_and_creates_no_directory(tmp_path):
    root = tmp_path / "a" / "b"
    with pytest.raises(DatasetNotFoundError) as info:
        mnist(root=root, mirrors=[_closed_port_url(), _closed_port_url()], timeout=2)
    msg = str(info.value)
    assert len(msg.splitlines()) == 3 and len(msg) < 800, msg
    assert msg.count("Connection refused") <= 1 and "2 mirror(s)" in msg
    assert not (tmp_path / "a").exists()


def test_every_mirror_is_https():
    for url in [*mnist_module.MNIST_MIRRORS, *mnist_module.FASHION_MNIST_MIRRORS]:
        assert url.startswith("https://"), url


def test_a_killed_download_leaves_no_part_file_behind_the_next_one(http_root, tmp_path):
    www, url = http_root
    (www / "f.bin").write_bytes(b"payload")
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".f.bin.{2**22 + 77771}.abcd1234.part"  # a pid that does not run
    stale.write_bytes(b"half")
    download(url + "f.bin", out / "f.bin", hashlib.sha256(b"payload").hexdigest())
    assert sorted(p.name for p in out.iterdir()) == ["f.bin"]
