"""Images for ``myelin predict``: Pillow when installed, else a small, safe PNG reader; the digit preprocessing.

:func:`read_image` reads any format Pillow knows (PNG of every kind, JPEG, BMP, GIF, WebP, TIFF)
when Pillow is installed (the ``image`` extra), with the same bounds on size; without it, PNG
files go through :func:`read_png` and other formats get one line saying how to install Pillow.

:func:`read_png` (pure Python + zlib + NumPy) reads 8-bit, non-interlaced PNGs of colour types
grayscale (0), RGB (2), grayscale+alpha (4) and RGBA (6). Every chunk's CRC is checked, the image
size is bounded, and the decompressed size is capped before it is allocated, so a hostile file can
neither run code nor exhaust memory.
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

from .._plural import counted

__all__ = ["IMAGE_SUFFIXES", "PNGError", "area_resize", "digit_input", "read_image", "read_png", "to_grayscale"]

#: File name endings ``myelin predict`` treats as images.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
MAX_SIDE = 4096
MAX_PIXELS = 2048 * 2048  # the Average/Paeth filters are undone in Python: keep that bounded
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_SEQUENTIAL_BYTES = 2_000_000  # Average/Paeth bytes undone in Python (about 2.5 s); Pillow has no such bound


class PNGError(ValueError):
    """The file is not a PNG this reader supports (the message says why)."""


def _chunks(data: bytes, where: str):
    pos = len(_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise PNGError(f"{where}: truncated PNG: chunk {kind!r} claims {counted(length, 'byte')}")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : end])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise PNGError(f"{where}: corrupt PNG: bad CRC in chunk {kind.decode('latin-1')!r}")
        yield kind, body
        if kind == b"IEND":
            return
        pos = end
    raise PNGError(f"{where}: truncated PNG: no IEND chunk")


def _unfilter(raw: bytes, width: int, height: int, bpp: int, where: str) -> np.ndarray:
    """Undo the per-row PNG filters; returns uint8 ``(height, width * bpp)``."""
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise PNGError(f"{where}: expected {counted(height * (stride + 1), 'byte')} of image data, received {len(raw)}")
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1)
    slow = int(np.isin(rows[:, 0], (3, 4)).sum()) * stride
    if slow > MAX_SEQUENTIAL_BYTES:  # about 1.3 us per byte in Python: bound the time, not only the size
        raise PNGError(f"{where}: {counted(slow, 'byte')} of Average/Paeth-filtered rows are above the "
                       f"{MAX_SEQUENTIAL_BYTES:,} this reader decodes in a few seconds; {_pillow_hint()}")
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for r in range(height):
        kind, line = int(rows[r, 0]), rows[r, 1:]
        if kind == 0:  # None
            cur = line.copy()
        elif kind == 1:  # Sub: running sum along each channel
            cur = (np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.int64) % 256).astype(np.uint8).ravel()
        elif kind == 2:  # Up
            cur = line + prev
        elif kind in (3, 4):  # Average, Paeth: each byte depends on the one to its left
            cur = _sequential(line.tolist(), prev.tolist(), bpp, kind)
        else:
            raise PNGError(f"{where}: corrupt PNG: unknown filter type {kind} in row {r}")
        out[r] = cur
        prev = out[r]
    return out


def _sequential(line: list[int], prev: list[int], bpp: int, kind: int) -> np.ndarray:
    cur = [0] * len(line)
    for i, x in enumerate(line):
        a = cur[i - bpp] if i >= bpp else 0
        b = prev[i]
        if kind == 3:
            cur[i] = (x + ((a + b) >> 1)) & 0xFF
        else:
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[i] = (x + pred) & 0xFF
    return np.array(cur, dtype=np.uint8)


def read_png(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a PNG file to uint8 ``(height, width, channels)`` (channels 1, 2, 3 or 4).

    Raises:
        FileNotFoundError: no file at ``path``.
        PNGError: not a PNG, corrupt, too large, or an unsupported kind (16-bit, palette, interlaced).
    """
    where = os.fspath(path)
    if not os.path.isfile(where):
        raise FileNotFoundError(f"no image file at {where}")
    if os.path.getsize(where) > MAX_FILE_BYTES:
        raise PNGError(f"{where}: file larger than {MAX_FILE_BYTES >> 20} MB")
    with open(where, "rb") as f:
        data = f.read()
    if not data.startswith(_SIGNATURE):
        raise PNGError(f"{where}: not a PNG file (bad signature)")
    header: tuple[int, ...] | None = None
    idat: list[bytes] = []
    for kind, body in _chunks(data, where):
        if kind == b"IHDR":
            if len(body) != 13:
                raise PNGError(f"{where}: corrupt PNG: IHDR has {counted(len(body), 'byte')}, expected 13")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    if header is None:
        raise PNGError(f"{where}: corrupt PNG: no IHDR chunk")
    width, height, depth, color, compression, filt, interlace = header
    if width < 1 or height < 1 or width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise PNGError(f"{where}: image of {width}x{height} pixels is too large (at most {MAX_SIDE} per side and "
                       f"{MAX_PIXELS // 1_000_000} million pixels); scale it down first")
    if color not in _CHANNELS:
        raise PNGError(f"{where}: colour type {color} not supported (grayscale, RGB, gray+alpha or RGBA only)")
    if depth != 8:
        raise PNGError(f"{where}: bit depth {depth} not supported (8-bit images only)")
    if compression != 0 or filt != 0:
        raise PNGError(f"{where}: unknown compression or filter method")
    if interlace != 0:
        raise PNGError(f"{where}: interlaced PNGs are not supported; save it without interlacing")
    if not idat:
        raise PNGError(f"{where}: corrupt PNG: no image data")
    bpp = _CHANNELS[color]
    expected = height * (width * bpp + 1)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(b"".join(idat), expected + 1)
    except zlib.error as exc:
        raise PNGError(f"{where}: corrupt PNG image data: {exc}") from exc
    return _unfilter(raw, width, height, bpp, where).reshape(height, width, bpp)


def _pillow() -> object | None:
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def _pillow_hint() -> str:
    from .._extras import install_hint

    return f"install Pillow to read it: {install_hint('image')}"


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file to uint8 ``(height, width, channels)`` (1-4 channels); Pillow if installed.

    Raises:
        FileNotFoundError: no file at ``path``.
        PNGError: not an image, corrupt, too large, or (without Pillow) a kind the PNG reader does not read;
            the message then says how to install Pillow.
    """
    where = os.fspath(path)
    if not os.path.isfile(where):
        raise FileNotFoundError(f"no image file at {where}")
    if os.path.getsize(where) > MAX_FILE_BYTES:
        raise PNGError(f"{where}: file larger than {MAX_FILE_BYTES >> 20} MB")
    image_module = _pillow()
    if image_module is None:
        with open(where, "rb") as f:
            is_png = f.read(len(_SIGNATURE)) == _SIGNATURE
        if not is_png:
            raise PNGError(f"{where}: not a PNG file, and only PNGs are read without Pillow; {_pillow_hint()}")
        try:
            return read_png(where)
        except PNGError as exc:
            if "not supported" in str(exc):
                raise PNGError(f"{exc}; {_pillow_hint()}") from None
            raise
    return _read_with_pillow(image_module, where)


def _read_with_pillow(image_module: object, where: str) -> np.ndarray:
    import warnings

    Image = image_module
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # type: ignore[attr-defined]
            with Image.open(where) as img:  # type: ignore[attr-defined]
                width, height = img.size
                if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                    raise PNGError(f"{where}: image of {width}x{height} pixels is too large (at most {MAX_SIDE} per "
                                   f"side and {MAX_PIXELS // 1_000_000} million pixels); scale it down first")
                img.draft("L", (width, height))  # JPEG: decode no larger than needed
                return _pillow_array(img)
    except PNGError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the file's
        raise PNGError(f"{where}: not an image Pillow can read ({type(exc).__name__}: {exc})") from None


def _pillow_array(img: object) -> np.ndarray:
    """A Pillow image as uint8 ``(H, W, C)``: palettes expanded, 1-bit and 16-bit scaled to 8 bits."""
    mode = img.mode  # type: ignore[attr-defined]
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")  # type: ignore[attr-defined]
    elif mode in ("1", "L", "LA", "RGB", "RGBA"):
        img = img.convert("L") if mode == "1" else img  # type: ignore[attr-defined]
    elif mode.startswith(("I", "F")):  # 16/32-bit integers or floats: scale the range to 0-255
        arr = np.asarray(img, dtype=np.float64)
        low, high = float(arr.min()), float(arr.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        return ((arr - low) * scale).round().astype(np.uint8)[..., None]
    else:  # CMYK, YCbCr, LAB, HSV...
        img = img.convert("RGB")  # type: ignore[attr-defined]
    arr = np.asarray(img, dtype=np.uint8)
    return arr[..., None] if arr.ndim == 2 else arr


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """uint8 ``(H, W, C)`` to float32 ``(H, W)`` in ``[0, 1]``; transparency is composited over white."""
    img = image.astype(np.float32) / 255.0
    channels = img.shape[2]
    alpha = img[..., -1] if channels in (2, 4) else None
    colour = img[..., :3] if channels >= 3 else img[..., :1]
    gray = colour @ np.array([0.299, 0.587, 0.114], np.float32) if colour.shape[2] == 3 else colour[..., 0]
    if alpha is not None:
        gray = gray * alpha + (1.0 - alpha)
    return gray.astype(np.float32)


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` weights: the overlap of each output cell with each input pixel, rows summing to 1."""
    edges_in = np.arange(n_in + 1, dtype=np.float64)
    edges_out = np.linspace(0.0, n_in, n_out + 1)
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    w = np.clip(hi - lo, 0.0, None)
    return w / w.sum(axis=1, keepdims=True)


def area_resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D image by area averaging (exact for integer factors; also upsamples)."""
    rows = _area_matrix(img.shape[0], height)
    cols = _area_matrix(img.shape[1], width)
    return (rows @ img.astype(np.float64) @ cols.T).astype(np.float32)


def _pad_square(img: np.ndarray, margin: float = 0.0) -> np.ndarray:
    side = round(max(img.shape) * (1.0 + 2.0 * margin))
    out = np.zeros((side, side), dtype=np.float32)
    top, left = (side - img.shape[0]) // 2, (side - img.shape[1]) // 2
    out[top : top + img.shape[0], left : left + img.shape[1]] = img
    return out


def digit_input(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Turn a decoded PNG into one ``(height, width)`` float32 input in ``[0, 1]``, light strokes on dark.

    Steps: grayscale; invert when the border is lighter than mid-gray (dark ink on white paper);
    for 28x28 inputs (the MNIST convention) crop to the ink and centre it in a 20x20 box with a
    4-pixel margin; otherwise pad to a square; then area-average to the size and scale to a peak of 1.
    """
    gray = to_grayscale(image)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if float(border.mean()) > 0.5:
        gray = 1.0 - gray
    if (height, width) == (28, 28):
        ink = np.argwhere(gray > 0.2 * float(gray.max())) if gray.max() > 0 else np.zeros((0, 2), int)
        if len(ink):
            (r0, c0), (r1, c1) = ink.min(axis=0), ink.max(axis=0) + 1
            gray = gray[r0:r1, c0:c1]
        gray = _pad_square(gray, margin=0.2)
    elif gray.shape[0] != gray.shape[1] and height == width:
        gray = _pad_square(gray)
    out = area_resize(gray, height, width)
    peak = float(out.max())
    return out / peak if peak > 0 else out
