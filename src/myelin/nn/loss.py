"""Loss modules: argument checks and shape checks around ``myelin.nn.functional``'s losses.

Every loss takes ``reduction`` (``'mean'``, ``'sum'`` or ``'none'``), keyword-only where PyTorch
has its deprecated ``size_average``/``reduce`` arguments in front of it. Class weights
(``weight``, ``pos_weight``) are buffers, so they appear in ``state_dict()`` as in PyTorch.
Unlike PyTorch, a target whose shape differs from the input's raises instead of broadcasting.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._plural import counted
from ..core.tensor import Tensor
from . import functional as F
from ._layers import check_bool, check_choice, check_float, check_int
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiLabelSoftMarginLoss",
    "NLLLoss",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "TripletMarginLoss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _weight_array(owner: str, name: str, value: Any) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.asarray(value.data if isinstance(value, Tensor) else value)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{owner}: {name} must be an array of numbers, received dtype {arr.dtype}")
    return arr.astype(np.float32) if arr.dtype.kind != "f" or arr.dtype == np.float16 else arr.copy()


class _Loss(Module):
    """Holds and validates ``reduction``; subclasses list the settings that differ from the default in repr."""

    _defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_choice(type(self).__name__, "reduction", reduction, _REDUCTIONS)

    def _same_shape(self, input: Tensor, target: Tensor) -> None:
        if tuple(input.shape) != tuple(target.shape):
            self._input_error(f"expected a target of the input's shape {tuple(input.shape)}, got {tuple(target.shape)}")

    def extra_repr(self) -> str:
        shown = [f"{name}=<array of shape {b.shape}>" for name, b in self._buffers.items() if b is not None]
        for name, default in {"reduction": "mean", **self._defaults}.items():
            value = getattr(self, name)
            if value != default:
                shown.append(f"{name}={value!r}")
        return ", ".join(shown)


class MSELoss(_Loss):
    """Mean squared error ``(input - target)^2``. Input: ``(*)``. Target: ``(*)``, the same shape.

    Output: a scalar, or ``(*)`` with ``reduction='none'``.
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|``. Input: ``(*)``. Target: ``(*)``. Output: scalar or ``(*)``."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Squared error below ``delta``, linear above: ``0.5 d^2`` or ``delta (|d| - 0.5 delta)``.

    Input: ``(*)``. Target: ``(*)``. Output: scalar or ``(*)``.
    """

    _defaults: ClassVar[dict[str, Any]] = {"delta": 1.0}

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = check_float("HuberLoss", "delta", delta, low=0.0, low_open=True)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """``0.5 d^2 / beta`` below ``beta``, ``|d| - 0.5 beta`` above (Huber divided by ``beta``).

    Input: ``(*)``. Target: ``(*)``. Output: scalar or ``(*)``.
    """

    _defaults: ClassVar[dict[str, Any]] = {"beta": 1.0}

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = check_float("SmoothL1Loss", "beta", beta, low=0.0)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class _ClassLoss(_Loss):
    """Shared checks of ``CrossEntropyLoss`` and ``NLLLoss``: class dimension 1 (0 for unbatched input)."""

    _defaults: ClassVar[dict[str, Any]] = {"ignore_index": -100}

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        name = type(self).__name__
        self.register_buffer("weight", _weight_array(name, "weight", weight))
        if self.weight is not None and self.weight.ndim != 1:
            raise ValueError(f"{name}: weight must be 1-D (one entry per class), received shape {self.weight.shape}")
        self.ignore_index = check_int(name, "ignore_index", ignore_index, minimum=None)

    def _check(self, input: Tensor, target: Tensor, allow_probabilities: bool) -> None:
        shape, tshape = tuple(input.shape), tuple(target.shape)
        if len(shape) == 0:
            self._shape_error("(C,), (N, C) or (N, C, d1, ...)", shape)
        cdim = 0 if len(shape) == 1 else 1
        classes = shape[cdim]
        if self.weight is not None and self.weight.shape != (classes,):
            self._input_error(f"has a weight for {counted(self.weight.shape[0], 'class')}, got input {shape} with {classes}")
        tdata = target.data if isinstance(target, Tensor) else np.asarray(target)
        if allow_probabilities and tdata.dtype.kind == "f":
            if tshape != shape:
                self._input_error(f"expected class probabilities of the input's shape {shape}, got {tshape}")
            return
        expected = shape[:cdim] + shape[cdim + 1:]
        if tdata.dtype.kind not in "iu":
            what = "class indices (or probabilities)" if allow_probabilities else "class indices"
            self._input_error(f"expected integer {what} as target, got dtype {tdata.dtype}")
        if tshape != expected:
            self._input_error(f"expected a target of shape {expected} for input {shape}, got {tshape}")
        valid = tdata[tdata != self.ignore_index]
        if valid.size and (valid.min() < 0 or valid.max() >= classes):
            bad = valid.min() if valid.min() < 0 else valid.max()
            self._input_error(f"got target class {int(bad)}, outside [0, {classes}) for input {shape}")


class CrossEntropyLoss(_ClassLoss):
    """Cross entropy from logits: log-softmax over the class dimension and negative log-likelihood.

    Args:
        weight: ``(C,)`` per-class rescaling. ignore_index: a target class that contributes
        nothing (class-index targets). reduction: 'mean' (weighted mean), 'sum' or 'none'.
        label_smoothing: in [0, 1], mixes the target with the uniform distribution.

    Shapes:
        Input: ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)`` logits. Target: class indices ``()``,
        ``(N,)`` or ``(N, d1, ...)`` (integers), or probabilities of the input's shape (floats).
        Output: a scalar, or the target's batch shape with ``reduction='none'``.
    """

    _defaults: ClassVar[dict[str, Any]] = {"ignore_index": -100, "label_smoothing": 0.0}

    def __init__(self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, ignore_index, reduction)
        self.label_smoothing = check_float("CrossEntropyLoss", "label_smoothing", label_smoothing, 0.0, 1.0)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._check(input, target, allow_probabilities=True)
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_ClassLoss):
    """Negative log-likelihood of log-probabilities (put a ``LogSoftmax`` before it).

    Shapes:
        Input: ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``. Target: class indices ``()``, ``(N,)`` or
        ``(N, d1, ...)``. Output: a scalar, or the target's shape with ``reduction='none'``.
    """

    def __init__(self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(weight, ignore_index, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._check(input, target, allow_probabilities=False)
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross entropy of probabilities: ``-(t log p + (1 - t) log(1 - p))`` (logs clamped at -100).

    Args:
        weight: rescaling broadcast against the input. reduction: 'mean', 'sum' or 'none'.

    Shapes:
        Input: ``(*)`` probabilities in [0, 1]. Target: ``(*)``, the same shape. Output: scalar or ``(*)``.
    """

    def __init__(self, weight: Any = None, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _weight_array("BCELoss", "weight", weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross entropy in one stable step.

    Args:
        weight: rescaling broadcast against the input. reduction: 'mean', 'sum' or 'none'.
        pos_weight: weight of the positive examples, broadcast along the last (class) dimension.

    Shapes:
        Input: ``(*)`` logits. Target: ``(*)``, the same shape. Output: scalar or ``(*)``.
    """

    def __init__(self, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _weight_array("BCEWithLogitsLoss", "weight", weight))
        self.register_buffer("pos_weight", _weight_array("BCEWithLogitsLoss", "pos_weight", pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence ``target * (log(target) - input)``, with ``input`` log-probabilities.

    Args (keyword-only): reduction: ``'mean'`` (over all elements), ``'batchmean'`` (sum / batch size: the
    true KL divergence), ``'sum'`` or ``'none'``. log_target: the target is given as log-probabilities.

    Input: ``(*)``. Target: ``(*)``, the same shape. Output: a scalar, or ``(*)`` with ``reduction='none'``.
    """

    _defaults: ClassVar[dict[str, Any]] = {"log_target": False}

    def __init__(self, *, reduction: str = "mean", log_target: bool = False) -> None:
        Module.__init__(self)
        self.reduction = check_choice("KLDivLoss", "reduction", reduction, (*_REDUCTIONS, "batchmean"))
        self.log_target = check_bool("KLDivLoss", "log_target", log_target)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    """``max(0, -y * (x1 - x2) + margin)`` with ``y`` in {1, -1}. Inputs and target: ``(N,)``."""

    _defaults: ClassVar[dict[str, Any]] = {"margin": 0.0}

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = check_float("MarginRankingLoss", "margin", margin)

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1``. Input and target: ``(*)``."""

    _defaults: ClassVar[dict[str, Any]] = {"margin": 1.0}

    def __init__(self, margin: float = 1.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = check_float("HingeEmbeddingLoss", "margin", margin)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """``log(1 + exp(-y * x))`` with ``y`` in {1, -1}. Input and target: ``(*)``."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """Multi-label one-versus-all logistic loss, (weighted) mean over classes. Input and target: ``(N, C)``;
    ``weight``: ``(C,)`` (a buffer). Output: scalar, or ``(N,)`` with ``reduction='none'``."""

    def __init__(self, weight: Any = None, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _weight_array("MultiLabelSoftMarginLoss", "weight", weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where ``y == -1``.
    Inputs ``(N, D)``; target ``(N,)``."""

    _defaults: ClassVar[dict[str, Any]] = {"margin": 0.0}

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = check_float("CosineEmbeddingLoss", "margin", margin)

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the pairwise ``p``-norm distance. Inputs ``(N, D)``."""

    _defaults: ClassVar[dict[str, Any]] = {"margin": 1.0, "p": 2.0, "eps": 1e-6, "swap": False}

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False, *,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = check_float("TripletMarginLoss", "margin", margin)
        self.p = check_float("TripletMarginLoss", "p", p, low=0.0, low_open=True)
        self.eps = check_float("TripletMarginLoss", "eps", eps)
        self.swap = check_bool("TripletMarginLoss", "swap", swap)

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                     reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood (``log_input``: the input is the log-rate). Input and target: ``(*)``."""

    _defaults: ClassVar[dict[str, Any]] = {"log_input": True, "full": False, "eps": 1e-8}

    def __init__(self, log_input: bool = True, full: bool = False, eps: float = 1e-8, *,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.log_input = check_bool("PoissonNLLLoss", "log_input", log_input)
        self.full = check_bool("PoissonNLLLoss", "full", full)
        self.eps = check_float("PoissonNLLLoss", "eps", eps)

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        self._same_shape(log_input, target)
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with a predicted variance. ``forward(input, target, var)``: input and
    target ``(N, *)``, var the same shape, one dimension fewer, or a last dimension of 1."""

    _defaults: ClassVar[dict[str, Any]] = {"full": False, "eps": 1e-6}

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full = check_bool("GaussianNLLLoss", "full", full)
        self.eps = check_float("GaussianNLLLoss", "eps", eps, low=0.0)

    def forward(self, input: Tensor, target: Tensor, var: Tensor) -> Tensor:
        self._same_shape(input, target)
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)
