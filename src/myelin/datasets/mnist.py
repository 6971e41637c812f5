"""MNIST and Fashion-MNIST: IDX and npz readers, the search for local files, verified downloads.

Both loaders return ``((x_train, y_train), (x_test, y_test))``: images float32 in ``[0, 1]`` of shape
``(N, 1, 28, 28)`` (``(N, 784)`` with ``flatten=True``), labels int64 of shape ``(N,)``;
60,000 training and 10,000 test samples.

Where the files are looked for, in order (the first complete set wins), for each directory ``<dir>``
of :func:`~myelin.datasets.download.data_dirs` (``root``, ``$MYELIN_DATA``, ``$XDG_CACHE_HOME/myelin``
or ``~/.cache/myelin``):

1. ``<dir>/<name>.npz`` with arrays ``x_train, y_train, x_test, y_test`` (``name`` is ``mnist`` or
   ``fashion_mnist``), loaded with ``allow_pickle=False``;
2. ``<dir>/<name>/`` holding the four IDX files (``train-images-idx3-ubyte.gz``,
   ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``,
   gzipped or not);
3. ``<dir>`` itself holding those four files: always for an explicit ``root``; for the shared
   directories only for MNIST, since Fashion-MNIST's files carry the same names.

Otherwise, with ``download=True``, the four files are fetched from the mirrors into
``<first dir>/<name>/`` and verified against their published sha256.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .._plural import counted
from .download import DataFileError, DatasetNotFoundError, DownloadError, data_dirs, download_from_mirrors

__all__ = [
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_MIRRORS",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "fashion_mnist",
    "load_npz",
    "mnist",
    "read_idx",
]

Split = tuple[np.ndarray, np.ndarray]
PathLike = str | os.PathLike[str]

# (sha256, size in bytes) of the canonical gzipped IDX files, as published in TensorFlow Datasets'
# url_checksums (mnist.txt, fashion_mnist.txt).
MNIST_FILES: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
}
FASHION_MNIST_FILES: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte.gz": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
    "train-labels-idx1-ubyte.gz": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
    "t10k-images-idx3-ubyte.gz": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
    "t10k-labels-idx1-ubyte.gz": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
}
# Tried in order; each file is verified by its sha256 whatever the mirror.
MNIST_MIRRORS: list[str] = [
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
]
FASHION_MNIST_MIRRORS: list[str] = [
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
]

_KEYS = ("x_train", "y_train", "x_test", "y_test")
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand data more than this


def _read_into(stream: BinaryIO, buf: bytearray) -> int:
    view, got = memoryview(buf), 0
    while got < len(buf):
        n = stream.readinto(view[got:])
        if not n:
            break
        got += n
    return got


def _parse_idx(stream: BinaryIO, path: Path, capacity: int) -> np.ndarray:
    """Read one IDX array from ``stream``; ``capacity`` bounds the payload size in bytes."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataFileError(f"{path}: truncated IDX file: {counted(len(magic), 'byte')}, expected a 4-byte magic number")
    code, ndim = magic[2], magic[3]
    if magic[:2] != b"\x00\x00" or code not in _IDX_DTYPES or not 1 <= ndim <= 8:
        raise DataFileError(
            f"{path}: not an IDX file: magic number 0x{magic.hex()}, expected 0x0000TTDD with type TT in "
            f"{{08, 09, 0b, 0c, 0d, 0e}} and 1 <= DD <= 8 dimensions"
        )
    raw_dims = stream.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DataFileError(f"{path}: truncated IDX header: expected {counted(ndim, 'dimension')}")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    dtype = np.dtype(_IDX_DTYPES[code])
    nbytes = math.prod(dims) * dtype.itemsize
    claimed = math.prod(max(d, 1) for d in dims) * dtype.itemsize  # bounded even when a dim is 0
    if nbytes > capacity or claimed > max(capacity, 1) * 2**20:
        raise DataFileError(
            f"{path}: IDX header claims shape {dims} ({counted(nbytes, 'byte')}), more than the file can hold ({capacity})"
        )
    payload = bytearray(nbytes)
    got = _read_into(stream, payload)
    if got < nbytes:
        raise DataFileError(f"{path}: truncated IDX data: expected {counted(nbytes, 'byte')} for shape {dims}, received {got}")
    if stream.read(1):
        raise DataFileError(f"{path}: IDX file has data after the {counted(nbytes, 'byte')} of shape {dims}")
    array = np.frombuffer(payload, dtype=dtype).reshape(dims)
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a NumPy array of the shape its header gives.

    Raises:
        DataFileError: bad magic number, truncated header or data, trailing data, corrupt gzip, or a
            header claiming more data than a file of this size can hold.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        try:
            if compressed:
                with gzip.GzipFile(fileobj=raw) as stream:
                    return _parse_idx(stream, path, size * _MAX_DEFLATE_RATIO)
            return _parse_idx(raw, path, max(size - 4, 0))
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFileError(f"{path}: unreadable IDX file: {exc}") from exc


def _check_npz_member(zf: zipfile.ZipFile, member: str, path: Path) -> None:
    """Reject a member whose header declares more data than it holds, or pickled objects."""
    info = zf.getinfo(member)
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 4096:
        raise DataFileError(f"{path}: member {member} claims {counted(info.file_size, 'byte')}, more than it can hold")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    if dtype.hasobject:
        raise DataFileError(f"{path}: member {member} holds Python objects; only plain arrays are loaded")
    if math.prod(shape) * dtype.itemsize > info.file_size:
        raise DataFileError(
            f"{path}: member {member} claims shape {shape} {dtype}, larger than its {counted(info.file_size, 'byte')}"
        )


def load_npz(path: PathLike, keys: Sequence[str] = _KEYS) -> dict[str, np.ndarray]:
    """Load the arrays ``keys`` from an ``.npz`` file without pickle, checking headers first."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            missing = [k for k in keys if f"{k}.npy" not in names]
            if missing:
                raise DataFileError(f"{path}: expected arrays {list(keys)}, missing {missing}")
            out = {}
            for key in keys:
                _check_npz_member(zf, f"{key}.npy", path)
                with zf.open(f"{key}.npy") as f:
                    out[key] = np.lib.format.read_array(f, allow_pickle=False)
            return out
    except DataFileError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
        raise DataFileError(f"{path}: unreadable npz file: {exc}") from exc


def _prepare(x: np.ndarray, y: np.ndarray, where: str, flatten: bool) -> Split:
    """Check one split and convert it: images float32 (N, 1, H, W) in [0, 1], labels int64 (N,)."""
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3:
        raise DataFileError(f"{where}: expected images of shape (N, H, W), received {x.shape}")
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise DataFileError(f"{where}: expected integer labels of shape (N,), received {y.dtype} {y.shape}")
    if len(x) != len(y):
        raise DataFileError(f"{where}: expected as many labels as images, received {counted(len(y), 'label')} and {counted(len(x), 'image')}")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DataFileError(f"{where}: expected labels in [0, 10), received values in [{y.min()}, {y.max()}]")
    if x.dtype == np.uint8:
        images = x.astype(np.float32)
        images /= 255.0
    elif x.dtype.kind == "f":
        images = x.astype(np.float32)  # taken as already scaled to [0, 1]
    else:
        raise DataFileError(f"{where}: expected uint8 or float images, received {x.dtype}")
    n, h, w = images.shape
    images = images.reshape(n, h * w) if flatten else images.reshape(n, 1, h, w)
    return images, y.astype(np.int64)


def _idx_set(folder: Path, files: Sequence[str]) -> list[Path] | None:
    """The four IDX files in ``folder`` (each gzipped or not), or None when any is missing."""
    found = []
    for name in files:
        for candidate in (folder / name, folder / name.removesuffix(".gz")):
            if candidate.is_file():
                found.append(candidate)
                break
        else:
            return None
    return found


def _candidates(name: str, root: PathLike | None) -> list[tuple[str, Path]]:
    """(kind, path) pairs in search order; kind is 'npz' or 'idx' (a folder)."""
    out: list[tuple[str, Path]] = []
    for k, folder in enumerate(data_dirs(root)):
        out += [("npz", folder / f"{name}.npz"), ("idx", folder / name)]
        if (k == 0 and root is not None) or name == "mnist":
            out.append(("idx", folder))
    return out


def _load_idx_set(paths: list[Path], flatten: bool) -> tuple[Split, Split]:
    x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
    for p, a, nd in zip(paths, (x_train, y_train, x_test, y_test), (3, 1, 3, 1)):
        if a.ndim != nd or a.dtype != np.uint8:
            raise DataFileError(f"{p}: expected a {nd}-d uint8 IDX array, received {a.ndim}-d {a.dtype}")
    return (
        _prepare(x_train, y_train, f"{paths[0].parent} (train)", flatten),
        _prepare(x_test, y_test, f"{paths[0].parent} (test)", flatten),
    )


def _not_found(title: str, name: str, root: PathLike | None, files: Sequence[str], why: str) -> DatasetNotFoundError:
    folders = ", ".join(str(d) for d in data_dirs(root))
    return DatasetNotFoundError(
        f"{title} is not on disk and {why}\n"
        f"Looked in: {folders} (for {name}.npz, {name}/ with the IDX files, or the IDX files themselves).\n"
        f"To use local files, put {name}.npz (uint8 arrays x_train (N, 28, 28), y_train (N,), x_test, y_test) or "
        f"the four files {', '.join(files)} (gzipped or not) into {data_dirs(root)[0] / name}, "
        "or pass root=<that folder>, or set $MYELIN_DATA to a folder holding them."
    )


def _load(
    title: str,
    name: str,
    files: dict[str, tuple[str, int]],
    mirrors: Sequence[str],
    root: PathLike | None,
    download: bool,
    flatten: bool,
    timeout: float,
) -> tuple[Split, Split]:
    names = list(files)
    for kind, path in _candidates(name, root):
        if kind == "npz" and path.is_file():
            arrays = load_npz(path)
            return (
                _prepare(arrays["x_train"], arrays["y_train"], f"{path} (train)", flatten),
                _prepare(arrays["x_test"], arrays["y_test"], f"{path} (test)", flatten),
            )
        if kind == "idx" and (found := _idx_set(path, names)) is not None:
            return _load_idx_set(found, flatten)
    if not download:
        raise _not_found(title, name, root, names, "downloading is off (download=False).")
    dest = data_dirs(root)[0] / name
    try:
        for filename, (sha256, size) in files.items():
            if not (dest / filename).is_file():
                download_from_mirrors(filename, mirrors, dest / filename, sha256, timeout=timeout, max_bytes=size)
    except DownloadError as exc:
        raise _not_found(title, name, root, names, f"the download failed: {exc}.") from exc
    return _load_idx_set([dest / f for f in names], flatten)


def mnist(
    root: PathLike | None = None,
    download: bool = True,
    flatten: bool = False,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30.0,
) -> tuple[Split, Split]:
    """MNIST handwritten digits as ``((x_train, y_train), (x_test, y_test))``.

    Images float32 in ``[0, 1]``, shape ``(N, 1, 28, 28)`` or ``(N, 784)`` with ``flatten=True``;
    labels int64 ``(N,)``. See the module docstring for where files are looked for.
    ``mirrors`` overrides :data:`MNIST_MIRRORS` (base URLs).
    """
    return _load(
        "MNIST", "mnist", MNIST_FILES, MNIST_MIRRORS if mirrors is None else mirrors, root, download, flatten, timeout
    )


def fashion_mnist(
    root: PathLike | None = None,
    download: bool = True,
    flatten: bool = False,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30.0,
) -> tuple[Split, Split]:
    """Fashion-MNIST (Zalando) in the same form as :func:`mnist`; files named ``fashion_mnist.npz`` or
    ``fashion_mnist/``. ``mirrors`` overrides :data:`FASHION_MNIST_MIRRORS`.
    """
    return _load(
        "Fashion-MNIST",
        "fashion_mnist",
        FASHION_MNIST_FILES,
        FASHION_MNIST_MIRRORS if mirrors is None else mirrors,
        root,
        download,
        flatten,
        timeout,
    )
