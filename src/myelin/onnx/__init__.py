"""ONNX export (``myelin.onnx``): write a trained model as an ``.onnx`` file for ONNX Runtime and friends.

::

    import myelin.onnx
    myelin.onnx.export(model, example_input, "model.onnx")     # opset 17, dynamic batch

The model runs once on ``example_input`` (in eval mode, restored afterwards) while the export
records what it does: each built-in layer becomes its ONNX equivalent, and the tensor ops of any
``forward`` around them (``x + y``, ``x.view(x.shape[0], -1)``, ``out[:, -1]``...) are recorded too.
``onnx`` is an optional dependency: ``pip install ".[onnx]"`` in a checkout, or
``pip install "myelin-nn[onnx]"`` from PyPI once published. See :func:`export` for the
supported layers and ops and the rules for the dynamic batch dimension.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import ONNXExportError

if TYPE_CHECKING:
    import onnx

__all__ = ["ONNXExportError", "export"]


def _require_onnx() -> Any:
    try:
        return importlib.import_module("onnx")
    except ImportError as err:
        from .._extras import install_hint

        raise ImportError(
            f"myelin.onnx.export needs the 'onnx' package, which is an optional extra: {install_hint('onnx')} "
            "(or: pip install onnx onnxruntime)"
        ) from err


def export(
    model: Any,
    example_input: Any,
    path: Any,
    opset: int = 17,
    input_names: Sequence[str] = ("input",),
    output_names: Sequence[str] = ("output",),
    dynamic_batch: bool = True,
) -> onnx.ModelProto:
    """Trace ``model`` on ``example_input`` and write it to ``path`` as an ONNX model.

    Args:
        model: a :class:`myelin.nn.Module` (a layer, a ``Sequential``, an ``MLP`` or your own module).
        example_input: a tensor or NumPy array, or a tuple of them for a forward with several inputs
            (nested tuples allowed, as in ``(x, (h0, c0))`` for an ``LSTM``). Its values only steer the trace.
        path: the file to write (replaced atomically).
        opset: the ONNX opset, 13 to the newest the installed ``onnx`` knows (default 17).
        input_names, output_names: graph input/output names; missing ones are numbered
            (``output_1``...). Outputs are the tensors of the model's return value, flattened in order.
        dynamic_batch: name dimension 0 of the first input ``"batch"`` and let it vary. For further
            inputs, the first dimension of the example's batch size is the batch dimension (dim 1 of an
            RNN's ``h0``). Pass False for a fixed-size graph (for example an unbatched ``(C, H, W)`` input).

    Returns:
        The ``onnx.ModelProto`` that was written (already checked with ``onnx.checker.check_model``).

    Layers (each one ONNX sub-graph): Linear, Identity, Dropout (as identity), ReLU, ReLU6, LeakyReLU, ELU,
    GELU (both forms), Sigmoid, Tanh, Hardtanh, SiLU, Softplus, Softmax, LogSoftmax, BatchNorm1d,
    BatchNorm2d, LayerNorm, Conv1d, Conv2d (all padding modes, 'same', dilation, groups), MaxPool2d
    (also ``return_indices``), AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d (also ``return_indices``, even
    or uneven windows), Flatten, Unflatten, Embedding (also ``max_norm``), RNN, LSTM, GRU (multi-layer,
    bidirectional, ``batch_first``, initial states, unbatched input), RNNOutput, RNNCell, LSTMCell, GRUCell,
    Neuron, MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d, ConvTranspose1d, ConvTranspose2d,
    Upsample (every mode, exact), GroupNorm, InstanceNorm1d/2d, PReLU, Mish, Hardswish, Hardsigmoid, Softsign,
    MultiheadAttention (masks that are constants or graph values, returned weights). ``Sequential``,
    ``ModuleList``, ``ModuleDict``, ``MLP``, the Transformer stacks and layers, the padding layers,
    PixelShuffle, SELU, LogSigmoid and any module of your own are traced through (ops whose results the
    outputs do not use are left out).

    Tensor ops between layers: + - * / ** (with tensors or constants), neg, exp, log, sqrt, abs, clamp,
    matmul, maximum, minimum, where, comparisons, astype, reshape/view/flatten, transpose, permute,
    squeeze, unsqueeze, expand, cat, stack, split/chunk, pad (every mode), interpolate, sum, mean, var/std,
    max/min/amax/amin, argmax/argmin, indexing with ints, slices (any step), None, ``...`` and one
    integer-array index,
    and from ``myelin.nn.functional``: linear, relu, sigmoid, tanh, silu, selu, logsigmoid, softmax,
    log_softmax (the dim is recovered from the result) and gelu.

    The dynamic batch: the model runs twice, on ``example_input`` and on a second input with a batch one
    larger and other values (the batch is dim 0, or dim 1 for an input that goes straight into a
    sequence-first RNN/LSTM/GRU or is its ``h0``/``c0``). Whatever differs between the two runs as
    ``k * batch`` is written in terms of the batch size: a reshape target ``x.view(x.shape[0], -1)``
    becomes ``(0, -1)`` or ``(-1, 108)``, ``reshape(2 * N, 4)`` a shape computed from ``Shape``,
    ``zeros(x.shape[0], 8)`` an ``Expand``, the numbers ``x.shape[0]`` and ``1 / len(x)`` values
    computed from the batch size. Limits: a size or index that changes with the batch in another way
    (``x[x.shape[0] - 1]``, ``reshape(N + 1, ...)``), control flow that changes with the input, and a
    tensor computed from the input outside the recorded ops (NumPy on ``.data``, ``.item()``) raise
    :class:`ONNXExportError` rather than freezing the example's values into the file; an integer that
    happens to be a multiple of the batch size in both runs is taken for one. Spatial sizes and
    sequence lengths are fixed to the example's.

    Dtypes: the graph has the model's dtype. A float64 model (``model.double()``) exports as float64
    (NumPy examples are converted to the model's dtype); note that ONNX Runtime's CPU provider has no
    float64 kernels for Conv, RNN/LSTM/GRU and Erf (exact GELU): run those models as ``model.float()``.

    Raises:
        ONNXExportError: a layer without converter, an op that cannot be exported, or a forward whose
            shape arithmetic cannot follow the batch; the message names the layer or op and its place.
        ImportError: ``onnx`` is not installed.
    """
    _require_onnx()
    from .exporter import export_model

    return export_model(model, example_input, path, opset, input_names, output_names, dynamic_batch)
