"""Devices: Myelin computes on the CPU (NumPy), and says so clearly when asked for anything else.

``myelin.device("cpu")``, ``tensor.device`` and ``model.to("cpu")`` behave as in PyTorch;
``myelin.cuda.is_available()`` is False, so ``device = "cuda" if myelin.cuda.is_available() else "cpu"``
picks the CPU, and ``.cuda()`` / ``.to("cuda")`` raise an error that says what to write instead.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DeviceError", "check_device", "cpu_device", "device", "is_device", "parse_to"]

_KNOWN = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "privateuseone")


class DeviceError(RuntimeError):
    """A device other than the CPU was asked for."""


class device:
    """A device name: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``.

    Any PyTorch device can be named (so code that builds ``device("cuda" if ... else "cpu")`` runs);
    only ``cpu`` can hold tensors.
    """

    __slots__ = ("index", "type")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device) or type.__class__.__name__ == "device" and hasattr(type, "type"):
            type, index = type.type, type.index if index is None else index
        if isinstance(type, int) and not isinstance(type, bool):
            raise DeviceError(f"device: the integer {type} names a CUDA device; Myelin runs on the CPU only: "
                              f"use device('cpu')")
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', received {type!r}")
        name, _, number = type.strip().partition(":")
        if name not in _KNOWN:
            raise RuntimeError(f"device: expected one of {', '.join(_KNOWN)} (optionally ':<index>'), received {type!r}")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = int(number)
        self.type = name
        self.index = index

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> device:  # noqa: PYI034
        check_device(self, "with device(...)")
        return self

    def __exit__(self, *exc: object) -> None:
        return None


cpu_device = device("cpu")


def is_device(value: Any) -> bool:
    """Whether ``value`` names a device: a :class:`device`, a torch device or a string like ``'cuda:0'``."""
    if isinstance(value, device) or (value.__class__.__name__ == "device" and hasattr(value, "type")):
        return True
    return isinstance(value, str) and value.strip().partition(":")[0] in _KNOWN


def check_device(value: Any, where: str) -> device:
    """``value`` as a :class:`device`, raising :class:`DeviceError` unless it is the CPU (``None`` is the CPU)."""
    if value is None:
        return cpu_device
    dev = device(value)
    if dev.type != "cpu":
        raise DeviceError(
            f"{where}: Myelin runs on the CPU only (NumPy), so device '{dev}' is not available; "
            f"choose the device with device = 'cuda' if myelin.cuda.is_available() else 'cpu' "
            f"(it is always 'cpu'), or drop the .to('{dev.type}') / .{dev.type}() call"
        )
    return dev


def parse_to(args: tuple, kwargs: dict, where: str) -> tuple[device | None, Any]:
    """The ``(device, dtype)`` of a PyTorch ``.to(...)`` call: ``to(device)``, ``to(dtype)``,
    ``to(device, dtype)``, ``to(tensor)`` or keywords; the device must be the CPU.

    ``non_blocking``, ``copy`` and ``memory_format`` are accepted and change nothing.
    """
    from .dtypes import as_dtype, is_dtype

    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{where}() got unexpected keyword argument(s) {', '.join(sorted(unknown))}")
    dev, dtype = kwargs.get("device"), kwargs.get("dtype")
    positional = list(args)
    if len(positional) > 3:
        raise TypeError(f"{where}(): too many arguments {args!r}")
    for value in positional:
        if isinstance(value, bool):  # to(dtype, non_blocking) / to(device, dtype, non_blocking)
            continue
        if hasattr(value, "data") and hasattr(value, "dtype") and not is_dtype(value):  # to(other_tensor)
            dtype = value.dtype
        elif is_device(value) and not (isinstance(value, str) and is_dtype(value)):
            dev = value
        elif is_dtype(value):
            dtype = value
        else:
            raise TypeError(f"{where}(): expected a device ('cpu') or a dtype (myelin.float32 ...), received {value!r}")
    checked = check_device(dev, where) if dev is not None else None
    return checked, (None if dtype is None else as_dtype(dtype, where))
