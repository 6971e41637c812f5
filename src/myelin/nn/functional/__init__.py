"""Differentiable operations beyond arithmetic, PyTorch's ``torch.nn.functional`` (import as ``F``).

Each op is one graph node with its backward written next to its forward; all keep the input's
float dtype. Names and arguments follow PyTorch.
"""

from ._fast.linear import linear
from .activation import (
    celu,
    elu,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    heaviside,
    identity,
    leaky_relu,
    log_softmax,
    logsigmoid,
    logsumexp,
    mish,
    prelu,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softshrink,
    softsign,
    step,
    tanh,
    tanhshrink,
    threshold,
)
from .dropout import dropout, dropout1d, dropout2d, dropout3d
from .embedding import embedding, one_hot
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .normalization import batch_norm, group_norm, instance_norm, layer_norm
from .penalty import l1_penalty, l2_penalty

__all__ = [
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "elu",
    "embedding", "gelu", "hardtanh", "heaviside", "huber_loss", "identity", "l1_loss", "l1_penalty", "l2_penalty",
    "layer_norm", "leaky_relu", "linear", "log_softmax", "logsigmoid", "logsumexp", "mse_loss", "nll_loss", "one_hot",
    "pad", "relu", "relu6", "selu", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softplus", "step", "tanh",
]

# Convolution, pooling and the fused recurrent kernels live in their own files.
from ._fast.conv import conv1d, conv2d
from ._fast.pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from .rnn import gru_cell, gru_layer, lstm_cell, lstm_layer, rnn_cell, rnn_layer

__all__ += [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "gru_cell",
    "gru_layer",
    "lstm_cell",
    "lstm_layer",
    "max_pool2d",
    "rnn_cell",
    "rnn_layer",
]

# Layers and functions added for the PyTorch API (issue 16): each family in its own file.
from .attention import scaled_dot_product_attention
from .bilinear import bilinear
from .conv_transpose import conv_transpose1d, conv_transpose2d
from .distance import cosine_similarity, normalize, pairwise_distance
from .divergence import kl_div
from .fold import fold, unfold
from .loss_extra import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .padding import pad
from .pooling1d import adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, max_pool1d
from .upsample import interpolate, pixel_shuffle, pixel_unshuffle, upsample

__all__ += [
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "avg_pool1d",
    "bilinear",
    "celu",
    "conv_transpose1d",
    "conv_transpose2d",
    "cosine_embedding_loss",
    "cosine_similarity",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "fold",
    "gaussian_nll_loss",
    "glu",
    "group_norm",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hinge_embedding_loss",
    "instance_norm",
    "interpolate",
    "kl_div",
    "margin_ranking_loss",
    "max_pool1d",
    "mish",
    "multilabel_soft_margin_loss",
    "normalize",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "poisson_nll_loss",
    "prelu",
    "scaled_dot_product_attention",
    "soft_margin_loss",
    "softmin",
    "softshrink",
    "softsign",
    "tanhshrink",
    "threshold",
    "triplet_margin_loss",
    "unfold",
    "upsample",
]
