"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm`` (PyTorch's state and defaults)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..core.tensor import Tensor
from . import functional as F
from . import init
from ._layers import check_bool, check_float, check_int, int_tuple
from .module import Module
from .parameter import Parameter

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "LayerNorm",
]


class _BatchNorm(Module):
    """Shared state of the batch-norm layers.

    Parameters ``weight`` (ones) and ``bias`` (zeros, unless ``bias=False``) of shape ``(C,)`` when
    ``affine``; buffers
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (int64 0) when
    ``track_running_stats``. In training the batch statistics normalise the input and update the
    running ones (``running = (1 - momentum) * running + momentum * batch``, unbiased variance;
    ``momentum=None`` gives a cumulative average); in eval the running statistics are used.
    """

    penalize_weights = False  # a scale and a shift, not connection weights: fit's l1/l2 leave them alone

    _input_dims: tuple[int, ...] = ()
    _shape_text = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, *, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = check_int(name, "num_features", num_features)
        self.eps = check_float(name, "eps", eps, low=0.0, low_open=True)
        self.momentum = None if momentum is None else check_float(name, "momentum", momentum, 0.0, 1.0)
        self.affine = check_bool(name, "affine", affine)
        self.track_running_stats = check_bool(name, "track_running_stats", track_running_stats)
        use_bias = check_bool(name, "bias", bias)
        c = self.num_features
        if self.affine:
            self.weight = Parameter(np.empty((c,), dtype=np.float32))
            if use_bias:
                self.bias = Parameter(np.empty((c,), dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros((c,), dtype=np.float32))
            self.register_buffer("running_var", np.ones((c,), dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input: Tensor) -> None:
        shape = input.shape
        if len(shape) not in self._input_dims or shape[1] != self.num_features:
            self._shape_error(self._shape_text.format(C=self.num_features), shape)
        if self.training and math.prod(shape) // shape[1] == 1:
            self._input_error(f"expected more than 1 value per channel when training, got input of shape {shape}")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over a batch of vectors or sequences (Ioffe & Szegedy, 2015).

    Args:
        num_features: ``C``. eps: added to the variance. momentum: running-stat update rate (None:
        cumulative average). affine: learn ``weight``/``bias``. track_running_stats: keep running stats.
        bias (keyword-only): learn the bias when ``affine`` (as PyTorch 2.13).

    Shapes:
        Input: ``(N, C)`` or ``(N, C, L)``. Output: same as the input.
    """

    _input_dims = (2, 3)
    _shape_text = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over images, per channel (statistics over ``N``, ``H`` and ``W``).

    Shapes:
        Input: ``(N, C, H, W)``. Output: ``(N, C, H, W)``.
    """

    _input_dims = (4,)
    _shape_text = "(N, {C}, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over volumes, per channel (statistics over ``N``, ``D``, ``H`` and ``W``).

    Shapes:
        Input: ``(N, C, D, H, W)``. Output: ``(N, C, D, H, W)``.
    """

    _input_dims = (5,)
    _shape_text = "(N, {C}, D, H, W)"


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dimensions of each sample (Ba et al., 2016).

    Args:
        normalized_shape: an int or a shape: the trailing dimensions to normalise over.
        eps: added to the variance. elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros)
        of shape ``normalized_shape``. bias: learn the bias (with ``elementwise_affine``).

    Shapes:
        Input: ``(*, *normalized_shape)``. Output: same as the input.
    """

    penalize_weights = False  # a scale and a shift, not connection weights: fit's l1/l2 leave them alone

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        self.normalized_shape = int_tuple("LayerNorm", "normalized_shape", normalized_shape)
        self.eps = check_float("LayerNorm", "eps", eps, low=0.0, low_open=True)
        self.elementwise_affine = check_bool("LayerNorm", "elementwise_affine", elementwise_affine)
        use_bias = check_bool("LayerNorm", "bias", bias)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
            if use_bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        if tuple(input.shape[-k:]) != self.normalized_shape or input.ndim < k:
            self._shape_error("(*, " + ", ".join(map(str, self.normalized_shape)) + ")", input.shape)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation (Wu & He, 2018): each sample's channels in ``num_groups`` groups, each
    normalised over its channels and positions; independent of the batch size.

    Args:
        num_groups: divides ``num_channels``. num_channels: ``C``. eps: added to the variance.
        affine: learn a per-channel ``weight`` (ones) and ``bias`` (zeros).

    Shapes:
        Input: ``(N, C, *)``. Output: same as the input.
    """

    penalize_weights = False  # a scale and a shift, not connection weights: fit's l1/l2 leave them alone

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__()
        self.num_groups = check_int("GroupNorm", "num_groups", num_groups)
        self.num_channels = check_int("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels={self.num_channels} must be divisible by "
                             f"num_groups={self.num_groups}")
        self.eps = check_float("GroupNorm", "eps", eps, low=0.0, low_open=True)
        self.affine = check_bool("GroupNorm", "affine", affine)
        if self.affine:
            self.weight = Parameter(np.ones((self.num_channels,), dtype=np.float32))
            self.bias = Parameter(np.zeros((self.num_channels,), dtype=np.float32))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if len(shape) < 2 or shape[1] != self.num_channels:
            self._shape_error(f"(N, {self.num_channels}, *)", shape)
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(_BatchNorm):
    """Shared state of the instance-norm layers: ``_BatchNorm``'s, with PyTorch's instance-norm defaults
    (``affine=False``, ``track_running_stats=False``). Unbatched input ``(C, *)`` is accepted."""

    _spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        nd = self._spatial + 2
        if len(shape) not in (nd - 1, nd) or shape[-nd + 1] != self.num_features:
            self._shape_error(self._shape_text.format(C=self.num_features), shape)
        unbatched = len(shape) == nd - 1
        x = input.unsqueeze(0) if unbatched else input
        factor = 0.1 if self.momentum is None else self.momentum
        use_input_stats = self.training or not self.track_running_stats
        try:
            out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                                  factor, self.eps)
        except ValueError as err:
            self._input_error(str(err).split(": ", 1)[-1])
        return out.squeeze(0) if unbatched else out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation over sequences: each sample's channels normalised over their length.

    Args: as :class:`InstanceNorm2d`.

    Shapes:
        Input: ``(N, C, L)`` or ``(C, L)``. Output: same as the input.
    """

    _spatial = 1
    _shape_text = "(N, {C}, L) or ({C}, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation (Ulyanov et al., 2016): each sample's channels normalised over H and W.

    Args:
        num_features: ``C``. eps: added to the variance. momentum: running-stat update rate.
        affine: learn per-channel ``weight``/``bias`` (default False, as PyTorch).
        track_running_stats: keep running stats and use them in eval (default False, as PyTorch).

    Shapes:
        Input: ``(N, C, H, W)`` or ``(C, H, W)``. Output: same as the input.
    """

    _spatial = 2
    _shape_text = "(N, {C}, H, W) or ({C}, H, W)"


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation over volumes: each sample's channels normalised over D, H and W.

    Args: as :class:`InstanceNorm2d`.

    Shapes:
        Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``. Output: same as the input.
    """

    _spatial = 3
    _shape_text = "(N, {C}, D, H, W) or ({C}, D, H, W)"
