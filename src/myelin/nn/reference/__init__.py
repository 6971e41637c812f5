"""Readable reference layers: each op of the optimised kernels written in a few lines of Tensor code.

Read these first. Each function is the textbook formula built from Tensor operations, so every
intermediate value (a gate, a window, a log-probability) is a graph node that ``backward()``,
:mod:`myelin.viz` and hooks can show. The tests hold each one to the same outputs and gradients as
its fast twin in ``myelin/nn/functional/_fast/`` and as PyTorch.

======================  ==========================================
reference               optimised twin
======================  ==========================================
:func:`linear`          ``F.linear`` (``_fast/linear.py``)
:func:`cross_entropy`   ``F.cross_entropy`` (``functional/loss.py``)
:func:`conv2d`          ``F.conv2d`` (``_fast/conv.py``, ``_fast/im2col.py``)
:func:`max_pool2d`      ``F.max_pool2d`` (``_fast/pooling.py``)
:func:`rnn_cell`,       ``F.rnn_cell`` / ``nn.RNN`` and the other recurrent
:func:`lstm_cell`,      layers (``functional/rnn.py`` over
:func:`gru_cell`,       ``_fast/rnn_kernels.py``)
:func:`sequence`
======================  ==========================================

Run a whole model on them (its modules do not change, only the ops they call)::

    with myelin.nn.reference.enabled(), myelin.nn.reference.record() as steps:
        out, (h, c) = model(x)          # an nn.LSTM now runs lstm_cell once per time step
    steps[0]["f"]                       # the forget gate at the first step, (N, H)
"""

from ._switch import enabled, is_enabled, record
from .conv import conv2d
from .linear import linear
from .loss import cross_entropy
from .pooling import max_pool2d
from .rnn import gru_cell, lstm_cell, rnn_cell, sequence

__all__ = [
    "conv2d", "cross_entropy", "enabled", "gru_cell", "is_enabled", "linear", "lstm_cell", "max_pool2d",
    "record", "rnn_cell", "sequence",
]
