"""Verified downloads (urllib only), data directories, and the errors of data files.

A download goes to a temporary file next to its destination, is checked against its sha256,
flushed, and renamed over the destination (``os.replace``): a failed or interrupted download
never leaves a file under the final name.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from .._plural import counted

__all__ = [
    "ChecksumError",
    "DataFileError",
    "DatasetNotFoundError",
    "DownloadError",
    "cache_dir",
    "data_dirs",
    "download",
    "download_from_mirrors",
    "sha256_file",
]

_CHUNK = 1 << 20


class DataFileError(ValueError):
    """A data file is truncated, malformed or inconsistent."""


class DatasetNotFoundError(FileNotFoundError):
    """A data set is not on disk and could not be downloaded; the message says where to put it."""


class DownloadError(OSError):
    """A download failed (network, HTTP status, size)."""


class ChecksumError(DownloadError):
    """A downloaded file's sha256 does not match the expected one."""


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/myelin`` if that variable is set, else ``~/.cache/myelin``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "myelin"


def data_dirs(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The directories searched for data files, in order: ``root``, ``$MYELIN_DATA``, :func:`cache_dir`."""
    dirs: list[Path] = []
    if root is not None:
        dirs.append(Path(root).expanduser())
    env = os.environ.get("MYELIN_DATA")
    if env:
        dirs.append(Path(env).expanduser())
    dirs.append(cache_dir())
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _progress_bar(total: int | None, desc: str):
    """A tqdm bar when stderr is a terminal and tqdm is installed, else None."""
    try:
        if not sys.stderr.isatty():
            return None
        from tqdm import tqdm
    except (ImportError, AttributeError, ValueError):
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False)


def download(
    url: str,
    dest: str | os.PathLike[str],
    sha256: str | None,
    timeout: float = 30.0,
    max_bytes: int | None = None,
) -> Path:
    """Download ``url`` to ``dest`` atomically and verify its sha256.

    Args:
        url: an ``http://`` or ``https://`` address.
        dest: final path; its directory is created if needed.
        sha256: expected hex digest; ``None`` skips the check (only for trusted sources).
        timeout: seconds for the WHOLE download (connection, every read, all bytes): a server that
            trickles bytes cannot keep it going past this bound. Default 30 s per download, or 300 s
            when ``max_bytes`` is above 10 MB.
        max_bytes: abort when the body is larger than this.

    Directories created for ``dest`` are removed again when the download fails.

    Raises:
        ChecksumError: the digest differs (no file is left behind).
        DownloadError: any network, HTTP or size failure (no file is left behind).
    """
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"download: expected an http(s) URL, received {url!r}")
    dest = Path(dest)
    deadline = time.monotonic() + timeout
    created = _missing_dirs(dest.parent)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        from ..io.safetensors_file import clean_stale_temporaries

        clean_stale_temporaries(dest.parent, dest.name)  # .part files of a killed download of this file
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        _remove_empty(created)
        raise DownloadError(f"download: cannot write into {dest.parent}: {exc}") from exc
    tmp = Path(tmp_name)
    try:
        _fetch(url, fd, deadline, timeout, max_bytes, dest.name, sha256)
        os.replace(tmp, dest)
    except DownloadError:
        tmp.unlink(missing_ok=True)
        _remove_empty(created)
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        _remove_empty(created)
        if isinstance(exc, urllib.error.HTTPError):
            reason: object = f"HTTP {exc.code} {exc.reason}"
        else:
            reason = getattr(exc, "reason", None) or exc
        raise DownloadError(f"download: {url} failed: {reason}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        _remove_empty(created)
        raise
    return dest


def _missing_dirs(folder: Path) -> list[Path]:
    """The directories ``folder.mkdir(parents=True)`` would create, deepest first."""
    missing = []
    for d in (folder, *folder.parents):
        if d.exists():
            break
        missing.append(d)
    return missing


def _remove_empty(dirs: list[Path]) -> None:
    for d in dirs:  # deepest first; stops at the first one that is not empty
        try:
            d.rmdir()
        except OSError:
            return


def _fetch(url: str, fd: int, deadline: float, timeout: float, max_bytes: int | None, name: str,
           sha256: str | None) -> None:
    """Stream ``url`` into ``fd``, checking the deadline after every read and the digest at the end."""
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "myelin"})
    with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if max_bytes is not None and total is not None and total > max_bytes:
            raise DownloadError(f"download: {url} announces {counted(total, 'byte')}, expected at most {max_bytes}")
        bar = _progress_bar(total, name)
        received = 0
        read = getattr(response, "read1", response.read)  # read1: returns what one recv gives, never waits for 1 MiB
        try:
            while True:
                if time.monotonic() > deadline:
                    raise DownloadError(f"download: {url} took longer than {timeout:g} s in all "
                                        f"({counted(received, 'byte', spec=',')} received); try again or pass a larger timeout")
                chunk = read(_CHUNK)
                if not chunk:
                    break
                received += len(chunk)
                if max_bytes is not None and received > max_bytes:
                    raise DownloadError(f"download: {url} sent more than the expected {counted(max_bytes, 'byte')}")
                digest.update(chunk)
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        if total is not None and received != total:
            raise DownloadError(f"download: {url} sent {counted(received, 'byte')}, announced {total}")
        out.flush()
        os.fsync(out.fileno())
    actual = digest.hexdigest()
    if sha256 is not None and actual != sha256.lower():
        raise ChecksumError(f"download: sha256 mismatch for {url}: expected {sha256.lower()}, received {actual}")


def download_from_mirrors(
    filename: str,
    mirrors: Sequence[str],
    dest: str | os.PathLike[str],
    sha256: str | None,
    timeout: float = 30.0,
    max_bytes: int | None = None,
) -> Path:
    """Try ``mirror + filename`` for each mirror in turn until one download verifies.

    Raises:
        DownloadError: every mirror failed; the message lists each failure.
    """
    failures: list[tuple[str, str]] = []
    for mirror in mirrors:
        url = mirror if mirror.endswith(filename) else mirror.rstrip("/") + "/" + filename
        try:
            return download(url, dest, sha256, timeout=timeout, max_bytes=max_bytes)
        except (DownloadError, ValueError) as exc:
            failures.append((url, str(exc).replace(f"download: {url} failed: ", "")))
    if not failures:
        raise DownloadError(f"could not download {filename}: no mirrors configured")
    reasons = {reason for _, reason in failures}
    if len(reasons) == 1:  # the usual offline case: one reason, said once
        raise DownloadError(f"could not download {filename} from {len(failures)} mirror(s): {reasons.pop()}")
    detail = "\n  ".join(f"{url}: {reason}" for url, reason in failures)
    raise DownloadError(f"could not download {filename}:\n  {detail}")
