"""Reading an untrusted ``.npz`` file with bounded memory: no pickle, no decompression bomb.

``np.load`` trusts the sizes a file declares: a 261 KB ``.npz`` of zeros can decompress to
gigabytes, and an ``.npy`` header can promise a shape far larger than its data. :func:`read_npz`
checks every member before decompressing it: its ``.npy`` header (dtype, shape) must agree with
its declared uncompressed size, and the arrays together, counted as float32 (what inputs become),
may not exceed ``MYELIN_MAX_ARRAY_BYTES`` (see :mod:`myelin.limits`).
"""

from __future__ import annotations

import os
import stat
import zipfile

import numpy as np

from .._plural import counted
from ..limits import hint, limit

__all__ = ["NpzError", "read_npz"]


class NpzError(ValueError):
    """An ``.npz`` file that is malformed, holds objects, or is too large once decompressed."""


def _member_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> tuple[np.dtype, tuple[int, ...]]:
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f, max_header_size=10_000)
        except (ValueError, EOFError, SyntaxError, TypeError, OSError) as exc:
            raise NpzError(f"{source}: member {info.filename!r} is not a valid .npy array ({exc})") from None
    return dtype, tuple(shape)


def read_npz(path: str | os.PathLike[str], max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file; :class:`NpzError` for a bad, pickled or oversized file."""
    source = os.fspath(path)
    budget = limit("MYELIN_MAX_ARRAY_BYTES") if max_bytes is None else int(max_bytes)
    try:
        if not stat.S_ISREG(os.stat(source).st_mode):
            raise NpzError(f"{source}: not a regular file")
        with zipfile.ZipFile(source) as zf:
            total = 0
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                dtype, shape = _member_header(zf, info, source)
                if dtype.hasobject:
                    raise NpzError(f"{source}: array {info.filename[:-4]!r} holds Python objects (pickle); refused")
                count = int(np.prod(shape, dtype=object))
                need = count * dtype.itemsize
                if need > info.file_size:
                    raise NpzError(f"{source}: array {info.filename[:-4]!r} declares shape {shape} ({counted(need, 'byte', spec=',')}) "
                                   f"but holds {info.file_size:,}")
                total += count * max(dtype.itemsize, 4)  # as float32: what the inputs become
                if total > budget:
                    raise NpzError(f"{source}: its arrays decompress to more than {counted(budget, 'byte', spec=',')} "
                                   f"({hint('MYELIN_MAX_ARRAY_BYTES')})" if max_bytes is None else
                                   f"{source}: its arrays decompress to more than {counted(budget, 'byte', spec=',')}")
        with np.load(source, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except NpzError:
        raise
    except ValueError as exc:
        raise NpzError(f"{source}: unreadable npz file ({' '.join(str(exc).split())})") from None
    except (OSError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
        raise NpzError(f"{source}: not a valid npz file ({type(exc).__name__}: {exc})") from None
