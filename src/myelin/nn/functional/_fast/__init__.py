"""Optimised NumPy kernels behind ``myelin.nn.functional``: read their readable twins first.

Every op here computes exactly what a short function in :mod:`myelin.nn.reference` computes
from Tensor operations (the tests hold the two to the same outputs and gradients); this package
is the version tuned for speed: one graph node per op, hand-written backward passes, channels-last
im2col, buffer reuse, fused gates.

==================  ==============================  ==================================
op                  optimised kernel (here)         readable twin
==================  ==============================  ==================================
``linear``          ``linear.py``                   ``myelin.nn.reference.linear``
``conv2d``          ``conv.py`` + ``im2col.py``     ``myelin.nn.reference.conv2d``
``max_pool2d``      ``pooling.py``                  ``myelin.nn.reference.max_pool2d``
``cross_entropy``   ``../loss.py``                  ``myelin.nn.reference.cross_entropy``
RNN / LSTM / GRU    ``rnn_kernels.py``              ``myelin.nn.reference.{rnn,lstm,gru}_cell``
==================  ==============================  ==================================
"""

__all__: list[str] = []
