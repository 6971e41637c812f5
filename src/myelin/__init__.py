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
    abs,
    absolute,
    add,
    all,
    allclose,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    as_tensor,
    bernoulli,
    bmm,
    ceil,
    clamp,
    clip,
    concat,
    cos,
    count_nonzero,
    cumprod,
    cumsum,
    diag,
    div,
    dot,
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
    index_select,
    inference_mode,
    is_nonzero,
    is_tensor,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
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
    min,
    mm,
    mul,
    multinomial,
    mv,
    ne,
    neg,
    nonzero,
    norm,
    normal,
    numel,
    outer,
    permute,
    pow,
    prod,
    rand_like,
    randint_like,
    randn_like,
    randperm,
    reciprocal,
    relu,
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
    sub,
    sum,
    t,
    tan,
    tanh,
    tensor,
    topk,
    transpose,
    tril,
    triu,
    trunc,
    unique,
    unsqueeze,
    var,
)

__version__ = "0.1.0"

bool_ = bool  # the NumPy spelling, kept for older code

_SUBMODULES = {
    "nn", "optim", "data", "datasets", "train", "io", "monitor", "plot", "report", "sklearn",
    "distributed", "onnx", "cli", "autograd", "random", "core", "utils", "config", "cuda", "backends", "viz",
    "accelerator", "dtypes", "functions", "devices",
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
    "trace": ("myelin.monitor", "trace"),
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
    "abs", "absolute", "add", "all", "allclose", "amax", "amin", "any", "argmax", "argmin", "argsort", "bernoulli",
    "bmm", "ceil", "clamp", "clip", "concat", "cos", "count_nonzero", "cumprod", "cumsum", "diag", "div", "dot",
    "einsum", "empty_like", "eq", "equal", "exp", "expm1", "flatten", "flip", "floor", "gather", "ge",
    "get_default_device", "get_num_threads", "gt", "index_select", "inference_mode", "is_nonzero", "is_tensor",
    "isclose", "isfinite", "isinf", "isnan", "le", "log", "log10", "log1p", "log2", "log_softmax", "logsumexp", "lt",
    "masked_fill", "masked_select", "max", "mean", "min", "mm", "mul", "multinomial", "mv", "ne", "neg", "nonzero",
    "norm", "normal", "numel", "outer", "permute", "pow", "prod", "rand_like", "randint_like", "randn_like",
    "randperm", "reciprocal", "relu", "reshape", "roll", "round", "rsqrt", "scatter", "scatter_add",
    "set_default_device", "set_num_threads", "set_printoptions", "sigmoid", "sign", "sin", "softmax", "sort", "sqrt",
    "square", "squeeze", "std", "sub", "sum", "t", "tan", "tanh", "topk", "transpose", "tril", "triu", "trunc",
    "unique", "unsqueeze", "var",
    *sorted(_LAZY),
]


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
