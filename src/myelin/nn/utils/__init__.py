"""Utilities for training modules: gradient clipping, parameter vectors (``torch.nn.utils`` names)."""

from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .penalty import penalized_parameters

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm", "parameters_to_vector",
    "penalized_parameters", "vector_to_parameters",
]
