"""How big a model an architecture config describes, BEFORE building it (a memory-bomb guard).

A hostile file can pair a few bytes of weights with a config such as ``LSTM(1, 20000)``: building
it allocates and initialises gigabytes before the strict weight check could fail. ``load``
therefore estimates, from the config alone, an upper bound on the elements the model allocates
and the modules it builds, and refuses configs far bigger than the weights the file carries.

Built-in layers with parameters have exact formulas (PyTorch's shapes); built-in layers without
parameters cost the scalars in their arguments (e.g. a loss's class weights); any other
(user-registered) type costs the product of its integer arguments divided by ``groups``, skipping
stride/padding/dilation/dim/index arguments. Nested configs anywhere in the arguments are counted too.
"""

from __future__ import annotations

import itertools
from typing import Any

from .errors import ModelFileError

__all__ = ["MAX_CONFIG_DEPTH", "estimate_config"]

MAX_CONFIG_DEPTH = 64
MAX_CONFIG_NODES = 100_000  # JSON objects and lists of any kind
_CAP = 2**64

_GATES = {"RNN": 1, "RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_CELLS = {"RNNCell": 1, "LSTMCell": 4, "GRUCell": 3}
_FREE = {
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "MaxPool2d", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "Dropout", "ELU", "GELU",
    "Hardtanh", "LeakyReLU", "LogSoftmax", "ReLU", "ReLU6", "SiLU", "Sigmoid", "Softmax", "Softplus", "Tanh",
    "Identity", "Flatten", "Unflatten", "Sequential", "ModuleList", "ModuleDict",
}
_NON_SIZE_ARGS = {"stride", "padding", "dilation", "output_padding", "dim", "start_dim", "end_dim", "groups"}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(args: dict[str, Any], name: str, default: int = 1) -> int:
    v = args.get(name, default)
    return v if _is_int(v) and v >= 0 else default


def _prod(values: list[int]) -> int:
    out = 1
    for v in values:
        out = min(out * max(v, 1), _CAP)
    return out


def _ints(value: Any) -> list[int]:
    if _is_int(value):
        return [value]
    if isinstance(value, list):
        return [v for v in value if _is_int(v)]
    return []


def _scalars(args: dict[str, Any]) -> int:
    return sum(len(v) if isinstance(v, list) else 1 for v in args.values())


def _rnn(kind: str, args: dict[str, Any]) -> tuple[int, int]:
    mode = args.get("mode", kind)
    gates = _GATES.get(mode, 4) if isinstance(mode, str) else 4
    hidden, layers = _int(args, "hidden_size"), _int(args, "num_layers")
    directions = 2 if args.get("bidirectional") else 1
    widest_input = max(_int(args, "input_size"), directions * hidden)
    per_layer = gates * hidden * (widest_input + hidden + 2)
    return min(layers * directions * per_layer, _CAP), layers * directions


def _layer_cost(kind: str, args: dict[str, Any]) -> tuple[int, int]:
    """``(elements allocated, modules built)`` by one layer, from its own arguments."""
    if kind in _FREE:
        return _scalars(args), 1
    if kind == "Linear":
        return (_int(args, "in_features") + 1) * _int(args, "out_features"), 1
    if kind == "Neuron":
        return _int(args, "in_features") + 1, 1
    if kind in ("Conv1d", "Conv2d"):
        kernel = _ints(args.get("kernel_size", 1)) or [1]
        if len(kernel) == 1 and kind == "Conv2d":
            kernel = kernel * 2
        per_group = _int(args, "in_channels") // max(_int(args, "groups"), 1) + 1
        return min(per_group * _int(args, "out_channels") * _prod(kernel) + _int(args, "out_channels"), _CAP), 1
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        return 4 * _int(args, "num_features") + 1, 1
    if kind == "LayerNorm":
        return 2 * _prod(_ints(args.get("normalized_shape", 1))), 1
    if kind == "Embedding":
        return _int(args, "num_embeddings") * _int(args, "embedding_dim"), 1
    if kind in ("RNN", "LSTM", "GRU", "RNNBase"):
        return _rnn(kind, args)
    if kind in _CELLS:
        hidden = _int(args, "hidden_size")
        return _CELLS[kind] * hidden * (_int(args, "input_size") + hidden + 2), 1
    if kind == "MLP":
        sizes = _ints(args.get("sizes", []))
        weights = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
        return min(weights + 4 * sum(sizes), _CAP), 4 * len(sizes)
    product, groups = 1, 1
    for name, value in args.items():
        if name == "groups" and _is_int(value) and value > 0:
            groups = value
        elif name not in _NON_SIZE_ARGS and not name.endswith(("idx", "index")):
            product = min(product * _prod([v for v in _ints(value) if v > 1]), _CAP)
    return product // groups, 1


def estimate_config(config: Any, source: str) -> tuple[int, int]:
    """``(elements, modules)``: upper bounds of what building ``config`` allocates and creates.

    Raises :class:`ModelFileError` for configs nested deeper than ``MAX_CONFIG_DEPTH`` or with
    more than ``MAX_CONFIG_NODES`` objects.
    """
    elements, modules, nodes = 0, 0, 0
    stack: list[tuple[Any, int]] = [(config, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise ModelFileError(f"{source}: architecture config is nested deeper than {MAX_CONFIG_DEPTH} levels")
        if isinstance(node, list):
            nodes += 1
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
        elif isinstance(node, dict):
            nodes += 1
            kind, args = node.get("type"), node.get("args", {})
            if isinstance(kind, str) and isinstance(args, dict):
                cost, count = _layer_cost(kind, args)
                elements, modules = min(elements + cost, _CAP), modules + count
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        if nodes > MAX_CONFIG_NODES:
            raise ModelFileError(f"{source}: architecture config has more than {MAX_CONFIG_NODES} objects")
    return elements, modules
