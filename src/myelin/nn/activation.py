"""Activation modules: thin wrappers over ``myelin.nn.functional`` (shapes are kept: ``(*) -> (*)``)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from . import functional as F
from ._layers import check_bool, check_choice, check_float, check_int
from .module import Module
from .parameter import Parameter
from .registry import get_registered

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "GLU",
    "SELU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "Identity",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softmax2d",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "Tanh",
    "Tanhshrink",
    "Threshold",
    "make_activation",
]


def _inplace_repr(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class ReLU(Module):
    """``max(0, x)``. ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.

    Input: ``(*)``. Output: ``(*)``.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool("ReLU", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class ReLU6(Module):
    """``min(max(0, x), 6)``. Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool("ReLU6", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, 0.0, 6.0)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise. Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = check_float("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = check_bool("LeakyReLU", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise. Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = check_float("ELU", "alpha", alpha)
        self.inplace = check_bool("ELU", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """``x * Phi(x)`` (``approximate='tanh'`` for the tanh approximation). Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = check_choice("GELU", "approximate", approximate, ("none", "tanh"))

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``. Input: ``(*)``. Output: ``(*)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """``tanh(x)``. Input: ``(*)``. Output: ``(*)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``. Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.min_val = check_float("Hardtanh", "min_val", min_val)
        self.max_val = check_float("Hardtanh", "max_val", max_val)
        if self.max_val <= self.min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.inplace = check_bool("Hardtanh", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class SiLU(Module):
    """``x * sigmoid(x)`` (swish). Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool("SiLU", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``. Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = check_float("Softplus", "beta", beta, low=0.0, low_open=True)
        self.threshold = check_float("Softplus", "threshold", threshold)

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


def _softmax_dim(module: Module, dim: int | None, input: Tensor) -> int:
    """PyTorch's rule for ``dim=None`` (with its warning), then a range check naming the module."""
    ndim = input.ndim
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {type(module).__name__} has been deprecated. "
            f"Change the call to include dim=X as an argument.",
            stacklevel=3,
        )
        dim = 0 if ndim in (0, 1, 3) else 1
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        need = dim + 1 if dim >= 0 else -dim
        module._shape_error(f"with at least {need} dimension(s) for dim={dim}", input.shape)
    return dim


class Softmax(Module):
    """``exp(x) / sum(exp(x))`` along ``dim``. Input: ``(*)``. Output: ``(*)``, summing to 1 along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = None if dim is None else check_int("Softmax", "dim", dim, minimum=None)

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, dim=_softmax_dim(self, self.dim, input))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably. Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = None if dim is None else check_int("LogSoftmax", "dim", dim, minimum=None)

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, dim=_softmax_dim(self, self.dim, input))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored, as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Mish(Module):
    """``x * tanh(softplus(x))`` (Misra, 2019). Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool("Mish", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.mish(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Hardswish(Module):
    """``x * relu6(x + 3) / 6`` (MobileNetV3). Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool("Hardswish", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.hardswish(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Hardsigmoid(Module):
    """``relu6(x + 3) / 6``. Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool("Hardsigmoid", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.hardsigmoid(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class SELU(Module):
    """``scale * elu(x, alpha)`` with the self-normalising constants (Klambauer et al., 2017). ``(*) -> (*)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool("SELU", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.selu(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, stable at large inputs. Input: ``(*)``. Output: ``(*)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class Softsign(Module):
    """``x / (1 + |x|)``. Input: ``(*)``. Output: ``(*)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)


class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``. Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = check_float("CELU", "alpha", alpha)
        if self.alpha == 0:
            raise ValueError("CELU: alpha must not be 0")
        self.inplace = check_bool("CELU", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    """Gated linear unit over ``dim``: ``a * sigmoid(b)`` for the halves ``a``, ``b``. ``(*, 2n, *) -> (*, n, *)``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = check_int("GLU", "dim", dim, None)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim == 0 or not -input.ndim <= self.dim < input.ndim or input.shape[self.dim] % 2:
            self._shape_error(f"with an even size along dimension {self.dim}", input.shape)
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Module):
    """``softmax(-x)`` along ``dim``. Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim if dim is None else check_int("Softmin", "dim", dim, None)

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, _softmax_dim(self, self.dim, input))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``. Input: ``(*)``. Output: ``(*)``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = check_float("Threshold", "threshold", threshold)
        self.value = check_float("Threshold", "value", value)
        self.inplace = check_bool("Threshold", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class Softshrink(Module):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between. ``(*) -> (*)``."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = check_float("Softshrink", "lambd", lambd, low=0.0)

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0. ``(*) -> (*)``."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = check_float("Hardshrink", "lambd", lambd)

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Tanhshrink(Module):
    """``x - tanh(x)``. ``(*) -> (*)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanhshrink(input)


class Softmax2d(Module):
    """Softmax over the channels at every position: ``(N, C, H, W)`` or ``(C, H, W)``, same shape out."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            self._shape_error("(N, C, H, W) or (C, H, W)", input.shape)
        return F.softmax(input, -3)


class PReLU(Module):
    """``max(0, x) + a * min(0, x)`` with a learned slope ``a`` (He et al., 2015).

    Args:
        num_parameters: 1 (one slope shared by all channels) or the number of channels ``C``.
        init: the initial slope (PyTorch's default 0.25).

    Shapes:
        Input: ``(N, C, *)`` or ``(N, C)`` (any shape with one shared slope). Output: the same.

    Attributes:
        weight: ``(num_parameters,)``, filled with ``init``.
    """

    penalize_weights = False  # a learned slope, not a connection weight (PyTorch's docs advise no decay)

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        self.num_parameters = check_int("PReLU", "num_parameters", num_parameters)
        self.init = check_float("PReLU", "init", init)
        self.weight = Parameter(np.empty((self.num_parameters,), dtype=np.float32))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.weight.data[...] = self.init

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if self.num_parameters != 1 and (len(shape) < 2 or shape[1] != self.num_parameters):
            self._shape_error(f"(N, {self.num_parameters}, *)", shape)
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


_ACTIVATIONS: dict[str, tuple[type[Module], dict[str, Any]]] = {
    "relu": (ReLU, {}),
    "relu6": (ReLU6, {}),
    "leaky_relu": (LeakyReLU, {}),
    "leakyrelu": (LeakyReLU, {}),
    "elu": (ELU, {}),
    "gelu": (GELU, {}),
    "sigmoid": (Sigmoid, {}),
    "tanh": (Tanh, {}),
    "hardtanh": (Hardtanh, {}),
    "silu": (SiLU, {}),
    "swish": (SiLU, {}),
    "softplus": (Softplus, {}),
    "mish": (Mish, {}),
    "hardswish": (Hardswish, {}),
    "prelu": (PReLU, {}),
    "hardsigmoid": (Hardsigmoid, {}),
    "selu": (SELU, {}),
    "logsigmoid": (LogSigmoid, {}),
    "softsign": (Softsign, {}),
    "softmax": (Softmax, {"dim": -1}),
    "log_softmax": (LogSoftmax, {"dim": -1}),
    "logsoftmax": (LogSoftmax, {"dim": -1}),
    "identity": (Identity, {}),
}


_CANONICAL = ("relu", "relu6", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "hardtanh", "silu", "softplus",
              "softmax", "log_softmax", "identity")


def make_activation(spec: Any, owner: str = "make_activation", name: str = "activation") -> Module | None:
    """A new activation module from a name, a registered module class, or ``None`` (no activation).

    Names are case-insensitive: ``'relu'``, ``'relu6'``, ``'leaky_relu'``, ``'elu'``, ``'gelu'``,
    ``'sigmoid'``, ``'tanh'``, ``'hardtanh'``, ``'silu'`` (``'swish'``), ``'softplus'``, ``'softmax'``,
    ``'log_softmax'``, ``'identity'``, or the name of any registered module class that
    takes no required argument (``'ReLU'``, ``'MyActivation'``). ``'softmax'`` and ``'log_softmax'``
    act on the last dimension. A class is treated as its name, so configs stay JSON.
    """
    if spec is None:
        return None
    if isinstance(spec, type) and issubclass(spec, Module):
        if spec.__name__.lower() in _ACTIVATIONS and _ACTIVATIONS[spec.__name__.lower()][0] is spec:
            spec = spec.__name__
        else:
            return spec()
    if not isinstance(spec, str):
        raise TypeError(
            f"{owner}: {name} must be a name such as 'relu' (or a Module class, or None), received "
            f"{type(spec).__name__}; a name keeps the model describable as a config"
        )
    entry = _ACTIVATIONS.get(spec.lower())
    if entry is not None:
        cls, kwargs = entry
        return cls(**kwargs)
    try:
        cls = get_registered(spec)
    except ValueError:
        options = ", ".join(repr(k) for k in _CANONICAL)
        raise ValueError(f"{owner}: unknown {name} {spec!r}; expected one of {options}, or None") from None
    try:
        return cls()
    except TypeError as err:
        raise ValueError(f"{owner}: {name} {spec!r} cannot be built without arguments ({err})") from None
