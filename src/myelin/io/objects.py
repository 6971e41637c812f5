"""``myelin.save(obj, path)`` / ``myelin.load(path)``: PyTorch's ``torch.save``/``torch.load`` without pickle.

``obj`` may be a model (written as today's model file: architecture + weights, see ``model_file.py``)
or any nesting of dicts, lists, tuples, numbers, strings, ``None``, NumPy arrays and tensors, such as
``model.state_dict()``, ``optimizer.state_dict()`` or the checkpoint idiom
``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch}``.

The file is one safetensors file: the arrays are its tensors (named ``"0"``, ``"1"`` ...) and the
structure is JSON in the metadata (``"myelin.object"``), so loading never runs code. In that JSON,
strings, booleans, ``None`` and finite numbers are themselves; everything else is a one-key object::

    {"dict": [[key, value], ...]}   keys of any supported type, order kept
    {"list": [...]}   {"tuple": [...]}
    {"array": "3"}    {"tensor": "3", "requires_grad": false}    (the tensor named "3")
    {"float": "nan" | "inf" | "-inf"}

A PyTorch ``.pt``/``.pth`` file (a pickle) is recognised and refused with a one-line error: Myelin never
unpickles.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import ModelFileError
from .model_file import KEY_KIND, KEY_VERSION, PathLike
from .model_file import load as load_model
from .model_file import save as save_model
from .safetensors_file import dumps, loads, read_safetensors, write_safetensors

__all__ = ["KEY_OBJECT", "load", "save"]

KEY_OBJECT = "myelin.object"
OBJECT_FORMAT = 1
_MAX_DEPTH = 64  # nesting a loaded structure may have (a hostile file cannot exhaust the stack)


class _Encoder:
    """Turns an object into JSON-ready data, collecting its arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _array(self, arr: np.ndarray) -> str:
        name = str(len(self.arrays))
        self.arrays[name] = arr
        return name

    def encode(self, obj: Any, where: str, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError(f"save: the object is nested more than {_MAX_DEPTH} levels deep at {where}")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, np.generic):  # NumPy scalars keep their dtype as 0-d arrays
            return {"scalar": self._array(np.asarray(obj))}
        if isinstance(obj, np.ndarray):
            return {"array": self._array(obj)}
        tensor_data = _tensor_array(obj)
        if tensor_data is not None:
            return {"tensor": self._array(tensor_data), "requires_grad": bool(getattr(obj, "requires_grad", False))}
        if isinstance(obj, Mapping):
            return {"dict": [[self.encode(k, f"{where} (a key)", depth + 1),
                              self.encode(v, f"{where}[{k!r}]", depth + 1)] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {kind: [self.encode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]}
        if _is_module(obj):
            raise TypeError(
                f"save: {where} is a {type(obj).__name__} module inside another object; save its weights with "
                f"{type(obj).__name__.lower()}.state_dict() (or save the model alone: myelin.save(model, path))"
            )
        raise TypeError(
            f"save: cannot store {where} of type {type(obj).__name__} without pickle; supported are dicts, lists, "
            f"tuples, numbers, strings, None, NumPy arrays and tensors (and a model on its own)"
        )


def _tensor_array(obj: Any) -> np.ndarray | None:
    """The array of a Myelin tensor (or of a torch tensor), else None."""
    from ..core.tensor import Tensor

    if isinstance(obj, Tensor):
        return obj.data
    if type(obj).__module__.startswith("torch") and hasattr(obj, "detach") and hasattr(obj, "numpy"):
        return obj.detach().cpu().numpy()
    return None


def _is_module(obj: Any) -> bool:
    return callable(getattr(obj, "get_config", None)) and callable(getattr(obj, "state_dict", None))


def save(obj: Any, path: PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``obj`` to ``path`` (atomically) as a safetensors file; no pickle.

    A model is written as a model file (architecture and weights; :func:`load` rebuilds it). Anything
    else is a nesting of dicts, lists, tuples, numbers, strings, ``None``, arrays and tensors.
    """
    buffer = hasattr(path, "write")  # an open binary file or io.BytesIO, as torch.save accepts
    if _is_module(obj):
        if buffer:
            raise TypeError("save: a model is written to a file path; to a buffer, save model.state_dict()")
        save_model(obj, path, metadata)
        return
    encoder = _Encoder()
    structure = encoder.encode(obj, "the object")
    meta = {KEY_KIND: "object", KEY_VERSION: str(OBJECT_FORMAT),
            KEY_OBJECT: json.dumps(structure, separators=(",", ":"), allow_nan=False)}
    if metadata:
        for key in metadata:
            if isinstance(key, str) and key.startswith("myelin."):
                raise ValueError(f"save: metadata key {key!r} is reserved (keys starting with 'myelin.')")
        meta = {**dict(metadata), **meta}
    if buffer:
        path.write(dumps(encoder.arrays, meta))  # type: ignore[union-attr]
        return
    write_safetensors(path, encoder.arrays, meta)


def _check_pickle(path: PathLike) -> None:
    """Refuse a PyTorch ``torch.save`` file (a zip archive or a raw pickle) in one line.

    A safetensors file starts with its header length (8 bytes) and ``{``; anything that does not, but
    starts like a zip archive or a pickle (``0x80`` and a protocol number), is PyTorch's.
    """
    source = os.fspath(path)
    if not os.path.isfile(source):
        return  # a FIFO, device or directory: the safetensors reader refuses it without opening it blocking
    try:
        with open(source, "rb") as f:
            head = f.read(9)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return  # the safetensors reader gives the error for a missing or unreadable file
    if len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") + 8 <= size:
        return
    if head.startswith(b"PK\x03\x04") or (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")):
        raise ModelFileError(
            f"{source}: not a Myelin model, weights, checkpoint or safetensors file but a PyTorch pickle "
            f"(torch.save); Myelin never unpickles (it can run code). In "
            f"PyTorch, save the tensors with safetensors.torch.save_file(model.state_dict(), 'model.safetensors') "
            f"and load that with myelin.load"
        )


def load(path: PathLike, map_location: Any = None, weights_only: Any = None, mmap: Any = None) -> Any:
    """Read what :func:`save` wrote: a model comes back built (in eval mode), anything else as it was saved.

    A plain safetensors file of weights (Myelin's ``save_weights`` or PyTorch's ``safetensors.torch``)
    comes back as ``{name: array}``. ``map_location`` may only name the CPU; ``weights_only`` and ``mmap``
    are accepted for PyTorch's sake (loading is always safe: nothing in a file is executed).
    A PyTorch pickle (``.pt``/``.pth`` from ``torch.save``) raises :class:`ModelFileError`.
    """
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        from ..devices import check_device

        check_device(map_location, "load(map_location=...)")
    if hasattr(path, "read"):  # an open binary file or io.BytesIO
        return _load_buffer(path)
    _check_pickle(path)
    tensors, metadata = read_safetensors(path)
    source = os.fspath(path)
    kind = metadata.get(KEY_KIND)
    if kind == "object":
        return _decode_file(tensors, metadata, source)
    if kind == "weights" or (kind is None and "myelin.config" not in metadata):
        return dict(tensors)
    return load_model(path)


def _load_buffer(f: Any) -> Any:
    """:func:`load` from a readable binary file object (what :func:`save` wrote to a buffer)."""
    raw = f.read()
    source = getattr(f, "name", "<buffer>")
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TypeError(f"load: expected a binary file object, received one whose read() gives {type(raw).__name__}")
    if raw[:4] == b"PK\x03\x04" or (raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")):
        raise ModelFileError(f"{source}: a PyTorch pickle (torch.save); Myelin never unpickles (it can run code)")
    tensors, metadata = loads(raw, str(source))
    kind = metadata.get(KEY_KIND)
    if kind == "object":
        return _decode_file(tensors, metadata, str(source))
    if kind == "weights" or (kind is None and "myelin.config" not in metadata):
        return dict(tensors)
    raise ModelFileError(f"{source}: a model file is loaded from a path (myelin.load(path)), not from a buffer")


def _decode_file(tensors: dict[str, np.ndarray], metadata: Mapping[str, str], source: str) -> Any:
    version = metadata.get(KEY_VERSION, "")
    if not version.isdigit() or int(version) > OBJECT_FORMAT:
        raise ModelFileError(f"{source}: object format version {version!r:.20} is not one this Myelin reads "
                             f"({OBJECT_FORMAT}); upgrade myelin")
    text = metadata.get(KEY_OBJECT)
    if text is None:
        raise ModelFileError(f"{source}: no object structure in the file (metadata key {KEY_OBJECT!r})")
    try:
        structure = json.loads(text)
    except RecursionError:
        raise ModelFileError(f"{source}: the object structure is nested too deeply") from None
    except ValueError as exc:
        raise ModelFileError(f"{source}: the object structure is not valid JSON: {exc}") from None
    used: set[str] = set()
    obj = _decode(structure, tensors, source, used, 0)
    unused = set(tensors) - used
    if unused:
        raise ModelFileError(f"{source}: {len(unused)} tensor(s) the structure does not use, e.g. {sorted(unused)[:3]}")
    return obj


def _decode(node: Any, tensors: Mapping[str, np.ndarray], source: str, used: set[str], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise ModelFileError(f"{source}: the object structure is nested more than {_MAX_DEPTH} levels deep")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) in (1, 2):
        (tag, value), *rest = node.items()
        if tag in ("list", "tuple") and isinstance(value, list) and not rest:
            items = [_decode(v, tensors, source, used, depth + 1) for v in value]
            return items if tag == "list" else tuple(items)
        if tag == "dict" and isinstance(value, list) and not rest:
            out: dict[Any, Any] = {}
            for pair in value:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ModelFileError(f"{source}: a dict entry must be a [key, value] pair, received {pair!r:.60}")
                key = _decode(pair[0], tensors, source, used, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise ModelFileError(f"{source}: a dict key must be hashable, received {key!r:.60}") from None
                out[key] = _decode(pair[1], tensors, source, used, depth + 1)
            return out
        if tag == "float" and value in ("nan", "inf", "-inf") and not rest:
            return float(value)
        if tag in ("array", "scalar", "tensor") and isinstance(value, str):
            if value not in tensors:
                raise ModelFileError(f"{source}: the structure names tensor {value!r}, which the file lacks")
            if value in used:
                raise ModelFileError(f"{source}: tensor {value!r} is used twice by the structure")
            used.add(value)
            arr = tensors[value]
            if tag == "array" and not rest:
                return arr
            if tag == "scalar" and not rest:
                return arr.reshape(())[()] if arr.size == 1 else arr
            if tag == "tensor" and (not rest or rest[0][0] == "requires_grad"):
                from ..core.tensor import Tensor

                out_t = Tensor._wrap(arr)
                if rest and rest[0][1] is True and arr.dtype.kind == "f":
                    out_t.requires_grad_(True)
                return out_t
    raise ModelFileError(f"{source}: unexpected entry in the object structure: {json.dumps(node)[:80]}")
