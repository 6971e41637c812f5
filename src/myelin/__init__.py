"""Myelin: neurons, networks and backpropagation on NumPy, with a PyTorch-like API.

The engine (``Tensor``, autograd) is imported eagerly; everything heavier (``nn``, ``optim``,
``data``, training, file formats, plots) is imported on first use so ``import myelin`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from .autograd import enable_grad, gradcheck, is_grad_enabled, no_grad, set_grad_enabled
from .core import (
    Size,
    Tensor,
    arange,
    cat,
    chunk,
    concatenate,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    matmul,
    maximum,
    minimum,
    ones,
    ones_like,
    pad,
    rand,
    randint,
    randn,
    split,
    stack,
    where,
    zeros,
    zeros_like,
)
from .core.extra_ops import (
    addcdiv,
    addcmul,
    addmm,
    argwhere,
    atan2,
    baddbmm,
    bincount,
    bucketize,
    cummax,
    cummin,
    diagonal,
    dist,
    erf,
    finfo,
    floor_divide,
    fmod,
    histc,
    iinfo,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logspace,
    median,
    mode,
    nan_to_num,
    remainder,
    searchsorted,
)
from .devices import device
from .dtypes import (
    bfloat16,
    bool,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    is_floating_point,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .functions import (
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    IntTensor,
    LongTensor,
    abs,
    absolute,
    add,
    all,
    allclose,
    amax,
    amin,
    any,
    are_deterministic_algorithms_enabled,
    argmax,
    argmin,
    argsort,
    as_tensor,
    bernoulli,
    bmm,
    cdist,
    ceil,
    clamp,
    clip,
    compile,
    concat,
    cos,
    count_nonzero,
    cumprod,
    cumsum,
    diag,
    div,
    dot,
    e,
    einsum,
    empty_like,
    eq,
    equal,
    exp,
    expm1,
    flatten,
    flip,
    floor,
    gather,
    ge,
    get_default_device,
    get_num_threads,
    gt,
    hstack,
    index_select,
    inf,
    inference_mode,
    is_nonzero,
    is_tensor,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    lerp,
    log,
    log1p,
    log2,
    log10,
    log_softmax,
    logsumexp,
    lt,
    masked_fill,
    masked_select,
    max,
    mean,
    meshgrid,
    min,
    mm,
    moveaxis,
    movedim,
    mul,
    multinomial,
    mv,
    nan,
    narrow,
    ne,
    neg,
    nonzero,
    norm,
    normal,
    numel,
    outer,
    permute,
    pi,
    pow,
    prod,
    rand_like,
    randint_like,
    randn_like,
    randperm,
    reciprocal,
    relu,
    repeat_interleave,
    reshape,
    roll,
    round,
    rsqrt,
    scatter,
    scatter_add,
    set_default_device,
    set_num_threads,
    set_printoptions,
    sigmoid,
    sign,
    sin,
    softmax,
    sort,
    sqrt,
    square,
    squeeze,
    std,
    std_mean,
    sub,
    sum,
    swapaxes,
    swapdims,
    t,
    tan,
    tanh,
    tensor,
    topk,
    transpose,
    tril,
    triu,
    trunc,
    unbind,
    unique,
    unsqueeze,
    use_deterministic_algorithms,
    var,
    var_mean,
    vstack,
)

__version__ = "0.1.0"

bool_ = bool  # the NumPy spelling, kept for older code

_SUBMODULES = {
    "nn", "optim", "data", "datasets", "train", "io", "monitor", "plot", "report", "sklearn",
    "distributed", "onnx", "cli", "autograd", "random", "core", "utils", "config", "cuda", "backends", "viz",
    "accelerator", "dtypes", "functions", "devices", "linalg",
}

# name -> (module, attribute): imported on first access
_LAZY = {
    "fit": ("myelin.train", "fit"),
    "evaluate": ("myelin.train", "evaluate"),
    "predict": ("myelin.train", "predict"),
    "save": ("myelin.io", "save"),
    "load": ("myelin.io", "load"),
    "save_weights": ("myelin.io", "save_weights"),
    "load_weights": ("myelin.io", "load_weights"),
    "ModelFileError": ("myelin.io", "ModelFileError"),
    "summary": ("myelin.monitor", "summary"),
    # myelin.random imports numpy.random (~10 ms): only when randomness is first asked for
    "manual_seed": ("myelin.random", "manual_seed"),
    "get_rng": ("myelin.random", "get_rng"),
    "get_rng_state": ("myelin.random", "get_rng_state"),
    "set_rng_state": ("myelin.random", "set_rng_state"),
    "seed": ("myelin.random", "seed"),
    "Generator": ("myelin.random", "Generator"),
}

__all__ = [
    "Tensor", "Size", "tensor", "as_tensor", "from_numpy", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "gradcheck", "matmul", "maximum", "minimum", "where", "cat", "concatenate", "stack", "split",
    "chunk", "pad",
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "arange", "linspace", "eye",
    "rand", "randn", "randint", "float32", "float64", "int64", "int32", "bool_", "__version__",
    "device", "bfloat16", "bool", "double", "float", "float16", "get_default_dtype", "half", "int", "int8", "int16",
    "is_floating_point", "long", "set_default_dtype", "short", "uint8",
    # PyTorch's top-level functions (myelin.functions)
    "BoolTensor", "ByteTensor", "DoubleTensor", "FloatTensor", "IntTensor", "LongTensor", "abs", "absolute", "add",
    "all", "allclose", "amax", "amin", "any", "argmax", "argmin", "argsort", "bernoulli", "bmm", "cdist", "ceil",
    "clamp", "clip", "compile", "concat", "cos", "count_nonzero", "cumprod", "cumsum", "diag", "div", "dot", "e",
    "einsum", "empty_like", "eq", "equal", "exp", "expm1", "flatten", "flip", "floor", "gather", "ge",
    "get_default_device", "get_num_threads", "gt", "hstack", "index_select", "inf", "inference_mode", "is_nonzero",
    "is_tensor", "isclose", "isfinite", "isinf", "isnan", "le", "lerp", "log", "log10", "log1p", "log2",
    "log_softmax", "logsumexp", "lt", "masked_fill", "masked_select", "max", "mean", "meshgrid", "min", "mm",
    "moveaxis", "movedim", "mul", "multinomial", "mv", "nan", "narrow", "ne", "neg", "nonzero", "norm", "normal",
    "numel", "outer", "permute", "pi", "pow", "prod", "rand_like", "randint_like", "randn_like", "randperm",
    "reciprocal", "relu", "repeat_interleave", "reshape", "roll", "round", "rsqrt", "scatter", "scatter_add",
    "set_default_device", "set_num_threads", "set_printoptions", "sigmoid", "sign", "sin", "softmax", "sort", "sqrt",
    "square", "squeeze", "std", "std_mean", "sub", "sum", "swapaxes", "swapdims", "t", "tan", "tanh", "topk",
    "transpose", "tril", "triu", "trunc", "unbind", "unique", "unsqueeze", "use_deterministic_algorithms", "var",
    "var_mean", "vstack",
    "are_deterministic_algorithms_enabled", "addcdiv", "addcmul", "addmm", "argwhere", "atan2", "baddbmm", "bincount", "bucketize", "clone", "cummax",
    "cummin", "diagonal", "dist", "erf", "finfo", "floor_divide", "fmod", "histc", "iinfo", "logical_and",
    "logical_not", "logical_or", "logical_xor", "logspace", "median", "mode", "nan_to_num", "remainder",
    "searchsorted", "trace",
    *sorted(_LAZY),
]


def clone(x: Tensor) -> Tensor:
    """A copy of ``x`` that stays in the graph (``torch.clone``)."""
    return x.clone()


def trace(x: Any, *args: Any, **kwargs: Any) -> Any:
    """``trace(matrix)``: the sum of its diagonal (``torch.trace``); ``trace(model, x, ...)``: record a
    model's forward and backward module by module (:func:`myelin.monitor.trace`)."""
    if isinstance(x, Tensor) and not args and not kwargs:
        from .core.extra_ops import trace as matrix_trace

        return matrix_trace(x)
    return importlib.import_module("myelin.monitor").trace(x, *args, **kwargs)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"myelin.{name}")
    raise AttributeError(f"module 'myelin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
