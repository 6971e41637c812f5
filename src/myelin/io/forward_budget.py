"""How much memory one forward pass of a loaded model allocates, BEFORE running it.

The parameter budget of :mod:`myelin.io.config_budget` bounds what building a model costs; it does
not bound what running it costs: ``AdaptiveAvgPool2d(15000)`` has no parameter and outputs
15000x15000 values per channel, and ``Conv2d(1, 1, 1, padding=50000)`` is two parameters. This
module walks the built model with the declared input shape and adds up every layer's output (and a
convolution's im2col buffer), layer by layer, from the modules' own attributes, so the command
line can refuse a model (or shrink its batches) before the first allocation.

Layers it does not know keep their input's shape (every built-in layer with a shape rule is known).
"""

from __future__ import annotations

import math
from typing import Any

from ..limits import hint, limit
from .errors import ModelFileError

__all__ = ["check_forward_budget", "forward_bytes", "safe_batch_size"]

_ITEMSIZE = 4  # float32
_CAP = 2**62


def _pair(value: Any, n: int) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        vals = tuple(int(v) for v in value)
        return vals if len(vals) == n else (vals + vals[-1:] * n)[:n]
    return (int(value),) * n


def _padding(module: Any, n: int, kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    pad = getattr(module, "padding", 0)
    if isinstance(pad, str):
        return tuple(d * (k - 1) // 2 if pad == "same" else 0 for k, d in zip(kernel, dilation))
    return _pair(pad, n)


def _window(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool = False) -> int:
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    return (math.ceil(span / max(stride, 1)) if ceil else span // max(stride, 1)) + 1


def _spatial(shape: tuple[int, ...], n: int) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    if len(shape) < n + 1:
        return None
    return shape[:-n], shape[-n:]


def _conv(module: Any, shape: tuple[int, ...], n: int, transposed: bool) -> tuple[tuple[int, ...], int]:
    split = _spatial(shape, n)
    if split is None:
        return shape, 0
    kernel = _pair(module.kernel_size, n)
    stride = _pair(getattr(module, "stride", 1), n)
    dilation = _pair(getattr(module, "dilation", 1), n)
    pad = _padding(module, n, kernel, dilation)
    if transposed:
        extra = _pair(getattr(module, "output_padding", 0), n)
        out = tuple((s - 1) * st - 2 * p + d * (k - 1) + e + 1
                    for s, st, p, d, k, e in zip(split[1], stride, pad, dilation, kernel, extra))
    else:
        out = tuple(_window(s, k, st, p, d) for s, k, st, p, d in zip(split[1], kernel, stride, pad, dilation))
    groups = max(int(getattr(module, "groups", 1)), 1)
    cols = int(module.in_channels) // groups * math.prod(kernel) * math.prod(max(o, 0) for o in out)
    if transposed:  # col2im works on the input positions
        cols = int(module.out_channels) // groups * math.prod(kernel) * math.prod(split[1])
    return (int(module.out_channels), *out), cols


def _pool(module: Any, shape: tuple[int, ...], n: int) -> tuple[int, ...]:
    split = _spatial(shape, n)
    if split is None:
        return shape
    kernel = _pair(module.kernel_size, n)
    stride = _pair(getattr(module, "stride", None) or module.kernel_size, n)
    pad = _pair(getattr(module, "padding", 0), n)
    dilation = _pair(getattr(module, "dilation", 1), n)
    ceil = bool(getattr(module, "ceil_mode", False))
    return (*split[0], *(_window(s, k, st, p, d, ceil) for s, k, st, p, d in zip(split[1], kernel, stride, pad,
                                                                                    dilation)))


def _adaptive(module: Any, shape: tuple[int, ...], n: int) -> tuple[int, ...]:
    split = _spatial(shape, n)
    if split is None:
        return shape
    size = module.output_size
    sizes = size if isinstance(size, (list, tuple)) else (size,) * n
    return (*split[0], *(s if o is None else int(o) for s, o in zip(split[1], sizes)))


def _flatten(module: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    full = (1, *shape)
    start, end = int(getattr(module, "start_dim", 1)), int(getattr(module, "end_dim", -1))
    start, end = start % len(full), end % len(full)
    if start > end:
        return shape
    return (*full[1:start], math.prod(full[start:end + 1]), *full[end + 1:]) if start >= 1 else shape


def _leaf(module: Any, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """``(output shape, extra elements of scratch)`` of one layer."""
    kind = type(module).__name__
    if kind in ("Linear", "Neuron"):
        return (*shape[:-1], int(getattr(module, "out_features", 1))), 0
    if kind in ("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"):
        return _conv(module, shape, 1 if kind.endswith("1d") else 2, kind.startswith("ConvTranspose"))
    if kind in ("MaxPool1d", "AvgPool1d", "MaxPool2d", "AvgPool2d"):
        return _pool(module, shape, 1 if kind.endswith("1d") else 2), 0
    if kind.startswith("Adaptive") and hasattr(module, "output_size"):
        return _adaptive(module, shape, 1 if kind.endswith("1d") else 2), 0
    if kind == "Flatten":
        return _flatten(module, shape), 0
    if kind == "Embedding":
        return (*shape, int(module.embedding_dim)), 0
    if kind in ("RNN", "LSTM", "GRU"):
        hidden = int(module.hidden_size) * (2 if getattr(module, "bidirectional", False) else 1)
        gates = {"LSTM": 4, "GRU": 3}.get(kind, 1)
        return (*shape[:-1], hidden), math.prod(shape[:-1]) * gates * int(module.hidden_size) * 2
    if kind == "MLP":
        sizes = [int(s) for s in getattr(module, "sizes", []) if isinstance(s, int)]
        if sizes:
            return (*shape[:-1], sizes[-1]), math.prod(shape[:-1]) * sum(sizes)
    if kind == "Unflatten":
        sizes = tuple(int(s) for s in getattr(module, "unflattened_size", ()))
        dim = int(getattr(module, "dim", 1))
        if sizes and 1 <= dim <= len(shape):
            return (*shape[:dim - 1], *sizes, *shape[dim:]), 0
    padding = getattr(module, "padding", None)
    if "Pad" in kind and padding is not None:  # ZeroPad2d, ConstantPad*, ReflectionPad*...
        pads = _pair(padding, 2 * (1 if kind.endswith("1d") else 2))
        grown = list(shape)
        for i in range(len(pads) // 2):
            if len(grown) > i:
                grown[-1 - i] += pads[2 * i] + pads[2 * i + 1]
        return tuple(grown), 0
    return shape, 0


def _walk(module: Any, shape: tuple[int, ...], total: list[int]) -> tuple[int, ...]:
    children = list(module.children()) if hasattr(module, "children") else []
    if children and type(module).__name__ not in ("MLP", "LSTM", "GRU", "RNN"):
        for child in children:
            shape = _walk(child, shape, total)
        return shape
    out, scratch = _leaf(module, shape)
    if any(d < 0 for d in out):
        return shape
    total[0] = min(total[0] + math.prod(out) + scratch, _CAP)
    return out


def forward_bytes(model: Any, input_shape: tuple[int, ...]) -> int:
    """An estimate of the bytes one sample's forward pass allocates (outputs of every layer plus scratch)."""
    total = [math.prod(input_shape)]
    try:
        _walk(model, tuple(int(d) for d in input_shape), total)
    except (TypeError, ValueError, AttributeError, ZeroDivisionError, OverflowError):
        pass  # a layer with attributes this walk cannot read: what was counted so far stands
    return min(total[0] * _ITEMSIZE * 2, _CAP)  # x2: the temporaries each op makes beside its output


def check_forward_budget(model: Any, input_shape: tuple[int, ...], source: str) -> int:
    """Raise :class:`ModelFileError` when one sample's forward pass would exceed ``MYELIN_MAX_FORWARD_BYTES``;
    returns the estimate in bytes."""
    need = forward_bytes(model, input_shape)
    budget = limit("MYELIN_MAX_FORWARD_BYTES")
    if need > budget:
        raise ModelFileError(
            f"{source}: one forward pass on an input of shape {list(input_shape)} would allocate about "
            f"{need / 2**20:,.0f} MiB, above the {budget / 2**20:,.0f} MiB allowed ({hint('MYELIN_MAX_FORWARD_BYTES')})"
        )
    return need


def safe_batch_size(model: Any, input_shape: tuple[int, ...], requested: int, source: str) -> int:
    """``requested``, or fewer samples per batch so that a batch's forward pass fits the budget."""
    need = check_forward_budget(model, input_shape, source)
    return max(1, min(int(requested), limit("MYELIN_MAX_FORWARD_BYTES") // max(need, 1)))
