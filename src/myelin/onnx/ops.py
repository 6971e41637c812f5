"""Converters for the tensor ops recorded between layers (``x + y``, ``x.view(...)``, ``x[:, -1]``...).

Each converter takes the graph and the op's record in both traced runs and returns the name of
the op's output. Parameters of an op come from the ``attrs`` the engine passes to ``make_node``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import ONNXExportError
from .graph import Graph, onnx_dtype
from .indexing import convert_index
from .trace import OpCall

__all__ = ["OP_CONVERTERS", "gelu", "linear", "module_hint", "reshape_like", "softplus"]

Converter = Callable[[Graph, OpCall, OpCall], str]
OP_CONVERTERS: dict[str, Converter] = {}


def _register(*ops: str) -> Callable[[Converter], Converter]:
    def deco(fn: Converter) -> Converter:
        for op in ops:
            OP_CONVERTERS[op] = fn
        return fn

    return deco


def arg(g: Graph, r1: OpCall, r2: OpCall, j: int, dtype: Any = None) -> str:
    """The graph value of parent ``j`` (cast to ``dtype`` when given)."""
    return g.value(r1.parents[j], r2.parents[j], dtype)


def attr(g: Graph, r1: OpCall, r2: OpCall, key: str) -> Any:
    """A non-tensor argument; it must be the same in both runs (else it follows the input)."""
    a1, a2 = (r1.attrs or {}).get(key), (r2.attrs or {}).get(key)
    if a1 != a2:
        raise ONNXExportError(
            f"cannot export {g.where}: its argument {key}={a1!r} changes with the batch size or the input values "
            f"({a2!r} in a second run)"
        )
    return a1


def _needs_attrs(g: Graph, r1: OpCall, *keys: str) -> None:
    if r1.attrs is None or any(k not in r1.attrs for k in keys):
        raise ONNXExportError(f"cannot export {g.where}: the op did not record its arguments ({', '.join(keys)})")


def _out_dtype(r1: OpCall) -> np.dtype:
    return r1.out.data.dtype


# ----------------------------------------------------------------------------- elementwise
def _binary(onnx_op: str, reverse: bool = False) -> Converter:
    def convert(g: Graph, r1: OpCall, r2: OpCall) -> str:
        dt = _out_dtype(r1)
        a = arg(g, r1, r2, 0, dt)
        if len(r1.parents) == 2:
            b = arg(g, r1, r2, 1, dt)
        else:
            _needs_attrs(g, r1, "c")
            b = g.value(r1.attrs["c"], r2.attrs["c"], dt, "c")
        if reverse:
            a, b = b, a
        return g.node(onnx_op, [a, b])

    return convert


for _op, _onnx, _rev in [("add", "Add", False), ("sub", "Sub", False), ("rsub", "Sub", True), ("mul", "Mul", False),
                         ("div", "Div", False), ("rdiv", "Div", True), ("pow", "Pow", False), ("rpow", "Pow", True),
                         ("maximum", "Max", False), ("minimum", "Min", False), ("matmul", "MatMul", False)]:
    OP_CONVERTERS[_op] = _binary(_onnx, _rev)


def _unary(onnx_op: str) -> Converter:
    def convert(g: Graph, r1: OpCall, r2: OpCall) -> str:
        return g.node(onnx_op, [arg(g, r1, r2, 0, _out_dtype(r1))])

    return convert


for _op, _onnx in [("neg", "Neg"), ("exp", "Exp"), ("log", "Log"), ("sqrt", "Sqrt"), ("abs", "Abs"),
                   ("clone", "Identity"), ("relu", "Relu"), ("sigmoid", "Sigmoid"), ("tanh", "Tanh")]:
    OP_CONVERTERS[_op] = _unary(_onnx)


@_register("astype")
def _astype(g: Graph, r1: OpCall, r2: OpCall) -> str:
    return g.node("Cast", [arg(g, r1, r2, 0)], to=onnx_dtype(_out_dtype(r1)))


@_register("clamp")
def _clamp(g: Graph, r1: OpCall, r2: OpCall) -> str:
    _needs_attrs(g, r1, "min", "max")
    dt = _out_dtype(r1)
    lo, hi = attr(g, r1, r2, "min"), attr(g, r1, r2, "max")
    return g.node("Clip", [arg(g, r1, r2, 0, dt), "" if lo is None else g.scalar(lo, dt),
                           "" if hi is None else g.scalar(hi, dt)])


@_register("where")
def _where(g: Graph, r1: OpCall, r2: OpCall) -> str:
    _needs_attrs(g, r1, "cond")
    dt = _out_dtype(r1)
    cond = g.value(r1.attrs["cond"], r2.attrs["cond"], np.bool_, "cond")
    return g.node("Where", [cond, arg(g, r1, r2, 0, dt), arg(g, r1, r2, 1, dt)])


_COMPARE = {"eq": "Equal", "ne": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater",
            "ge": "GreaterOrEqual", "and": "And", "or": "Or"}


@_register(*_COMPARE)
def _compare(g: Graph, r1: OpCall, r2: OpCall) -> str:
    x = r1.parents[0]
    if r1.op in ("and", "or"):
        dt: Any = np.bool_
    elif len(r1.parents) == 2:
        dt = np.result_type(x.data.dtype, r1.parents[1].data.dtype)
    else:
        dt = np.result_type(x.data.dtype, r1.attrs["c"]) if r1.attrs else x.data.dtype
    a = arg(g, r1, r2, 0, dt)
    b = arg(g, r1, r2, 1, dt) if len(r1.parents) == 2 else g.value(r1.attrs["c"], r2.attrs["c"], dt, "c")
    out = g.node(_COMPARE[r1.op], [a, b])
    return g.node("Not", [out]) if r1.op == "ne" else out


# ----------------------------------------------------------------------------- functional activations
def linear(g: Graph, x: str, w: str, b: str | None, ndim: int) -> str:
    """``x @ w.T + b``: ``Gemm`` for 2-D inputs, ``MatMul`` (+ ``Add``) otherwise."""
    if ndim == 2:
        return g.node("Gemm", [x, w] + ([b] if b else []), transB=1)
    y = g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])])
    return g.node("Add", [y, b]) if b else y


@_register("linear")
def _linear(g: Graph, r1: OpCall, r2: OpCall) -> str:
    dt = _out_dtype(r1)
    b = arg(g, r1, r2, 2, dt) if len(r1.parents) == 3 else None
    return linear(g, arg(g, r1, r2, 0, dt), arg(g, r1, r2, 1, dt), b, r1.parents[0].ndim)


_MODULE_FOR = {
    "leaky_relu": "nn.LeakyReLU(negative_slope)", "elu": "nn.ELU(alpha)", "hardtanh": "nn.Hardtanh(min_val, max_val)",
    "softplus": "nn.Softplus(beta, threshold)", "conv1d": "nn.Conv1d", "conv2d": "nn.Conv2d",
    "max_pool2d": "nn.MaxPool2d", "avg_pool2d": "nn.AvgPool2d", "adaptive_avg_pool2d": "nn.AdaptiveAvgPool2d",
    "adaptive_max_pool2d": "nn.AdaptiveMaxPool2d", "batch_norm": "nn.BatchNorm1d/2d", "layer_norm": "nn.LayerNorm",
    "embedding": "nn.Embedding", "dropout": "nn.Dropout (or call model.eval())", "pad2d": "myelin.pad",
}


def module_hint(op: str) -> str:
    """Advice for a functional op that cannot be exported from a custom forward."""
    module = _MODULE_FOR.get(op) or next((m for k, m in _MODULE_FOR.items() if op.startswith(k)), None)
    return f"; use the layer {module} instead of the function" if module else ""


def _with_attrs(*keys: str) -> Callable[[Callable[..., str]], Converter]:
    """A functional activation whose arguments are needed: exportable once ``make_node`` records them."""

    def deco(fn: Callable[..., str]) -> Converter:
        def convert(g: Graph, r1: OpCall, r2: OpCall) -> str:
            if r1.attrs is None or any(k not in r1.attrs for k in keys):
                raise ONNXExportError(f"cannot export {g.where}: the function did not record its arguments "
                                      f"({', '.join(keys)}){module_hint(r1.op)}")
            return fn(g, arg(g, r1, r2, 0), _out_dtype(r1), *(attr(g, r1, r2, k) for k in keys))

        return convert

    return deco


@_register("leaky_relu")
@_with_attrs("negative_slope")
def _leaky_relu(g: Graph, x: str, dt: Any, slope: float) -> str:
    return g.node("LeakyRelu", [x], alpha=float(slope))


@_register("elu")
@_with_attrs("alpha")
def _elu(g: Graph, x: str, dt: Any, alpha: float) -> str:
    return g.node("Elu", [x], alpha=float(alpha))


@_register("hardtanh")
@_with_attrs("min_val", "max_val")
def _hardtanh(g: Graph, x: str, dt: Any, lo: float, hi: float) -> str:
    return g.node("Clip", [x, g.scalar(lo, dt), g.scalar(hi, dt)])


@_register("softplus")
@_with_attrs("beta", "threshold")
def _softplus(g: Graph, x: str, dt: Any, beta: float, threshold: float) -> str:
    return softplus(g, x, float(beta), float(threshold), dt)


@_register("silu")
def _silu(g: Graph, r1: OpCall, r2: OpCall) -> str:
    x = arg(g, r1, r2, 0)
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


@_register("selu")
def _selu(g: Graph, r1: OpCall, r2: OpCall) -> str:
    return g.node("Selu", [arg(g, r1, r2, 0)], alpha=1.6732632423543772, gamma=1.0507009873554805)


@_register("logsigmoid")
def _logsigmoid(g: Graph, r1: OpCall, r2: OpCall) -> str:
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", [arg(g, r1, r2, 0)])])])


def gelu(g: Graph, x: str, approximate: str, dtype: Any) -> str:
    """GELU from primitive ops (``Gelu`` only exists from opset 20)."""
    half = g.node("Mul", [x, g.scalar(0.5, dtype)])
    if approximate == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.scalar(0.044715, dtype)])])
        t = g.node("Tanh", [g.node("Mul", [inner, g.scalar(np.sqrt(2.0 / np.pi), dtype)])])
    else:
        t = g.node("Erf", [g.node("Mul", [x, g.scalar(1.0 / np.sqrt(2.0), dtype)])])
    return g.node("Mul", [half, g.node("Add", [t, g.scalar(1.0, dtype)])])


def softplus(g: Graph, x: str, beta: float, threshold: float, dtype: Any) -> str:
    """PyTorch's softplus: ``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold``."""
    if beta == 1.0 and threshold >= 15.0:  # beyond 15 the two differ by less than float32 resolution
        return g.node("Softplus", [x])
    bx = g.node("Mul", [x, g.scalar(beta, dtype)])
    soft = g.node("Div", [g.node("Softplus", [bx]), g.scalar(beta, dtype)])
    return g.node("Where", [g.node("Greater", [bx, g.scalar(threshold, dtype)]), x, soft])


def _recover(g: Graph, r1: OpCall, r2: OpCall, candidates: dict[Any, Callable[[np.ndarray], np.ndarray]],
             elementwise: bool = False) -> Any:
    """The one argument value whose result matches the recorded output in both runs.

    ``elementwise`` candidates are checked on the first 4096 elements only.
    """
    fits = []
    for key, fn in candidates.items():
        ok = True
        for r in (r1, r2):
            x, out = r.parents[0].data.astype(np.float64), r.out.data
            if elementwise:
                x, out = x.reshape(-1)[:4096], out.reshape(-1)[:4096]
            with np.errstate(all="ignore"):
                ok = ok and np.allclose(fn(x), out, rtol=1e-5, atol=1e-6)
        if ok:
            fits.append(key)
    if len(fits) != 1:
        raise ONNXExportError(
            f"cannot export {g.where}: its arguments were not recorded and cannot be told from its result; "
            f"use the module (nn.Softmax(dim), nn.LogSoftmax(dim), nn.GELU(approximate)) instead"
        )
    return fits[0]


def _softmax_np(x: np.ndarray, axis: int, log: bool) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return z - lse if log else np.exp(z - lse)


@_register("softmax", "log_softmax")
def _softmax(g: Graph, r1: OpCall, r2: OpCall) -> str:
    log = r1.op == "log_softmax"
    if r1.attrs and "dim" in r1.attrs:
        axis = attr(g, r1, r2, "dim")
    else:
        nd = r1.parents[0].ndim
        axis = _recover(g, r1, r2, {a: (lambda x, a=a: _softmax_np(x, a, log)) for a in range(nd)})
    return g.node("LogSoftmax" if log else "Softmax", [arg(g, r1, r2, 0)], axis=int(axis))


@_register("gelu")
def _gelu(g: Graph, r1: OpCall, r2: OpCall) -> str:
    from math import erf

    verf = np.vectorize(erf)
    forms = {
        "none": lambda x: 0.5 * x * (1 + verf(x / np.sqrt(2.0))),
        "tanh": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    }
    approximate = (r1.attrs or {}).get("approximate") or _recover(g, r1, r2, forms, elementwise=True)
    return gelu(g, arg(g, r1, r2, 0), approximate, _out_dtype(r1))


# ----------------------------------------------------------------------------- reductions
def _dims(g: Graph, r1: OpCall, r2: OpCall) -> Any:
    _needs_attrs(g, r1, "dims", "keepdim")
    dims = attr(g, r1, r2, "dims")
    return (None if dims is None else list(dims)), bool(attr(g, r1, r2, "keepdim"))


@_register("sum", "mean", "amax", "amin")
def _reduce(g: Graph, r1: OpCall, r2: OpCall) -> str:
    dims, keep = _dims(g, r1, r2)
    op = {"sum": "ReduceSum", "mean": "ReduceMean", "amax": "ReduceMax", "amin": "ReduceMin"}[r1.op]
    x = arg(g, r1, r2, 0)
    if r1.parents[0].ndim == 0:
        return g.node("Identity", [x])
    out = g.reduce(op, x, dims, keep)
    return g.cast(out, r1.parents[0].data.dtype, _out_dtype(r1))


@_register("max", "min")
def _max(g: Graph, r1: OpCall, r2: OpCall) -> str:
    op = "ReduceMax" if r1.op == "max" else "ReduceMin"
    x = arg(g, r1, r2, 0)
    if r1.attrs and "dim" in r1.attrs:  # max(dim=d).values
        return g.reduce(op, x, [attr(g, r1, r2, "dim")], bool(attr(g, r1, r2, "keepdim")))
    dims, keep = _dims(g, r1, r2)
    return g.reduce(op, x, dims, keep)


def _denominator(g: Graph, r1: OpCall, r2: OpCall, x: str, dims: list[int] | None, correction: float,
                 dtype: Any) -> str:
    """``max(n - correction, 0)`` for the ``n`` elements reduced over (from the shape if it follows the batch)."""
    s1, s2 = r1.parents[0].shape, r2.parents[0].shape
    axes = list(range(len(s1))) if dims is None else dims
    if all(s1[a] == s2[a] for a in axes) or g.batch is None:
        return g.scalar(max(float(np.prod([s1[a] for a in axes])) - correction, 0.0), dtype)
    sizes = g.node("Gather", [g.node("Shape", [x]), g.ints(axes)], axis=0)
    n = g.node("Cast", [g.reduce("ReduceProd", sizes, None, False)], to=onnx_dtype(dtype))
    return g.node("Max", [g.node("Sub", [n, g.scalar(correction, dtype)]), g.scalar(0, dtype)])


@_register("var")
def _var(g: Graph, r1: OpCall, r2: OpCall) -> str:
    dims, keep = _dims(g, r1, r2)
    correction = float(attr(g, r1, r2, "correction"))
    x = arg(g, r1, r2, 0)
    centered = g.node("Sub", [x, g.reduce("ReduceMean", x, dims, True)])
    total = g.reduce("ReduceSum", g.node("Mul", [centered, centered]), dims, keep)
    return g.node("Div", [total, _denominator(g, r1, r2, x, dims, correction, _out_dtype(r1))])


@_register("argmax", "argmin")
def _argmax(g: Graph, r1: OpCall, r2: OpCall) -> str:
    dim, keep = attr(g, r1, r2, "dim"), bool(attr(g, r1, r2, "keepdim"))
    op = "ArgMax" if r1.op == "argmax" else "ArgMin"
    x = arg(g, r1, r2, 0)
    if dim is not None:
        return g.node(op, [x], axis=int(dim), keepdims=int(keep))
    flat = g.node(op, [g.node("Reshape", [x, g.ints([-1])])], axis=0, keepdims=0)
    return g.node("Reshape", [flat, g.ints([1] * r1.parents[0].ndim)]) if keep else flat


# ----------------------------------------------------------------------------- shapes
def reshape_like(g: Graph, x: str, in1: tuple, in2: tuple, out1: tuple, out2: tuple) -> str:
    """``Reshape`` of ``x`` (shape ``in1`` / ``in2`` in the two runs) to ``out1`` / ``out2``.

    Static sizes are written as they are; a size that follows the batch is copied from the input
    (ONNX's ``0``) where it stays in place, becomes ``-1`` when it is the only one left, and is
    otherwise computed from the input's shape (``k * N``).
    """
    out = g.dims(out1, out2)
    if 0 in out:
        raise ONNXExportError(f"cannot export {g.where}: reshapes to zero-size dimensions are not supported")
    dyn = [i for i, d in enumerate(out) if d is None]
    target: list[int | None] = list(out)
    if len(dyn) > 1:
        for i in dyn:
            if i < len(in1) and in1[i] == out1[i] and in2[i] == out2[i]:
                target[i] = 0
    left = [i for i, d in enumerate(target) if d is None]
    if len(left) == 1:
        target[left[0]] = -1
    if any(d is None for d in target):
        return g.node("Reshape", [x, g.shape_input(out1, out2)])
    return g.node("Reshape", [x, g.ints(target)])  # type: ignore[arg-type]


@_register("reshape")
def _reshape(g: Graph, r1: OpCall, r2: OpCall) -> str:
    return reshape_like(g, arg(g, r1, r2, 0), r1.parents[0].shape, r2.parents[0].shape, r1.out.shape, r2.out.shape)


@_register("transpose")
def _transpose(g: Graph, r1: OpCall, r2: OpCall) -> str:
    d0, d1 = attr(g, r1, r2, "dims")
    perm = list(range(r1.parents[0].ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return g.node("Transpose", [arg(g, r1, r2, 0)], perm=perm)


@_register("permute")
def _permute(g: Graph, r1: OpCall, r2: OpCall) -> str:
    return g.node("Transpose", [arg(g, r1, r2, 0)], perm=[int(p) for p in attr(g, r1, r2, "perm")])


@_register("squeeze")
def _squeeze(g: Graph, r1: OpCall, r2: OpCall) -> str:
    x = arg(g, r1, r2, 0)
    axes = list(attr(g, r1, r2, "axes"))
    return g.squeeze(x, axes) if axes else g.node("Identity", [x])


@_register("unsqueeze")
def _unsqueeze(g: Graph, r1: OpCall, r2: OpCall) -> str:
    return g.unsqueeze(arg(g, r1, r2, 0), [attr(g, r1, r2, "axis")])


@_register("expand")
def _expand(g: Graph, r1: OpCall, r2: OpCall) -> str:
    return g.node("Expand", [arg(g, r1, r2, 0), g.shape_input(r1.out.shape, r2.out.shape)])


@_register("cat", "stack")
def _cat(g: Graph, r1: OpCall, r2: OpCall) -> str:
    dim = int(attr(g, r1, r2, "dim"))
    dt = _out_dtype(r1)
    parts = [arg(g, r1, r2, j, dt) for j in range(len(r1.parents))]
    if r1.op == "stack":
        parts = [g.unsqueeze(p, [dim]) for p in parts]
    return g.node("Concat", parts, axis=dim)


@_register("split")
def _split(g: Graph, r1: OpCall, r2: OpCall) -> str:
    d, start, stop = attr(g, r1, r2, "dim"), attr(g, r1, r2, "start"), attr(g, r1, r2, "stop")
    return g.slice(arg(g, r1, r2, 0), [start], [stop], [d])


@_register("pad")
def _pad(g: Graph, r1: OpCall, r2: OpCall) -> str:
    widths = [tuple(w) for w in attr(g, r1, r2, "widths")]
    value = attr(g, r1, r2, "value")
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
    dt = _out_dtype(r1)
    return g.node("Pad", [arg(g, r1, r2, 0), g.ints(pads), g.scalar(value, dt)], mode="constant")


@_register("index")
def _index(g: Graph, r1: OpCall, r2: OpCall) -> str:
    _needs_attrs(g, r1, "index")
    return convert_index(g, arg(g, r1, r2, 0), r1.parents[0].shape, r1.attrs["index"], r2.attrs["index"])

