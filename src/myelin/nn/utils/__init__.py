"""Utilities for training modules: gradient clipping, parameter vectors (``torch.nn.utils`` names)."""

from . import rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .penalty import penalized_parameters
from .rnn import pad_sequence

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm", "pad_sequence",
    "parameters_to_vector", "penalized_parameters", "rnn", "vector_to_parameters",
]
