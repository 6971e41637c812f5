"""Activation functions: elementwise nonlinearities, softmax, log_softmax and logsumexp.

Each op is one graph node whose backward reuses what the forward kept (the output where that
suffices). All keep the input's float dtype and are stable at extreme inputs (no overflow at ±1000).
Shapes: Input ``(*)``, Output ``(*)``, the same shape, unless stated otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...core.node import make_node
from ...core.pointwise import (
    _float,
    _on_0d,
    _sigmoid_from,
    _tensor,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from ...core.reductions import normalize_dims
from ...core.tensor import Tensor

__all__ = [
    "celu",
    "elu",
    "gelu",
    "glu",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "heaviside",
    "identity",
    "leaky_relu",
    "log_softmax",
    "logsigmoid",
    "logsumexp",
    "mish",
    "prelu",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "step",
    "tanh",
    "tanhshrink",
    "threshold",
]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_32 = math.sqrt(32.0)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# ----------------------------------------------------------------------------- piecewise linear
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``negative_slope * x``."""
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(leaky_relu, x, negative_slope)
    a = _float(x)
    pos = a > 0
    out = np.where(pos, a, a * negative_slope)

    def backward(g: np.ndarray) -> tuple:
        gx = g * negative_slope
        np.copyto(gx, g, where=pos)
        return (gx,)

    return make_node(out, (x,), backward, "leaky_relu")


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``; the gradient passes strictly inside the interval."""
    if max_val < min_val:
        raise ValueError(f"hardtanh: max_val ({max_val}) cannot be smaller than min_val ({min_val})")
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(hardtanh, x, min_val, max_val)
    a = x.data
    out = np.clip(a, min_val, max_val)
    return make_node(out, (x,), lambda g: (g * ((a > min_val) & (a < max_val)),), "hardtanh")


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``: ``hardtanh(x, 0, 6)``."""
    return hardtanh(input, 0.0, 6.0)


# ----------------------------------------------------------------------------- exponential family
def _elu(x: Tensor, alpha: float, scale: float, op: str) -> Tensor:
    if x.data.ndim == 0:
        return _on_0d(_elu, x, alpha, scale, op)
    a = _float(x)
    pos = a > 0
    neg = np.minimum(a, 0)
    out = np.expm1(neg, out=neg)
    out *= alpha * scale
    np.copyto(out, a * scale if scale != 1.0 else a, where=pos)
    coef = alpha * scale

    def backward(g: np.ndarray) -> tuple:
        gx = out + coef  # alpha * scale * exp(x) where x <= 0
        gx *= g
        np.copyto(gx, g * scale if scale != 1.0 else g, where=pos)
        return (gx,)

    return make_node(out, (x,), backward, op)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return _elu(_tensor(input), alpha, 1.0, "elu")


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants (alpha≈1.6733, scale≈1.0507)."""
    return _elu(_tensor(input), _SELU_ALPHA, _SELU_SCALE, "selu")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(silu, x)
    a = _float(x)
    sig = _sigmoid_from(a)
    out = a * sig

    def backward(g: np.ndarray) -> tuple:
        gx = 1 - sig  # sig * (1 + x * (1 - sig))
        gx *= a
        gx += 1
        gx *= sig
        gx *= g
        return (gx,)

    return make_node(out, (x,), backward, "silu")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold`` (as PyTorch)."""
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(softplus, x, beta, threshold)
    a = _float(x)
    z = a * beta if beta != 1 else a
    e = np.abs(z)
    np.negative(e, out=e)
    np.exp(e, out=e)  # exp(-|z|) in (0, 1]
    out = np.log1p(e)
    out += np.maximum(z, 0)
    if beta != 1:
        out /= beta
    linear = z > threshold
    np.copyto(out, a, where=linear)

    def backward(g: np.ndarray) -> tuple:
        s = e / (1 + e)
        np.subtract(1, s, out=s, where=z >= 0)  # sigmoid(z)
        s *= g
        np.copyto(s, g, where=linear)
        return (s,)

    return make_node(out, (x,), backward, "softplus")


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, stable at ±1000."""
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(logsigmoid, x)
    a = _float(x)
    e = np.abs(a)
    np.negative(e, out=e)
    np.exp(e, out=e)
    out = np.log1p(e)
    np.negative(out, out=out)
    out += np.minimum(a, 0)

    def backward(g: np.ndarray) -> tuple:
        s = e / (1 + e)  # sigmoid(-|x|); d/dx log sigmoid(x) = sigmoid(-x)
        np.subtract(1, s, out=s, where=a < 0)
        s *= g
        return (s,)

    return make_node(out, (x,), backward, "logsigmoid")


# ----------------------------------------------------------------------------- GELU
# W. J. Cody's rational approximations of the normal CDF (as in R's pnorm), about 1e-15 accurate.
_A = (2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249,
      0.065682337918207449113)
_B = (47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956)
_C = (0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226,
      2494.5375852903726711, 6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218,
      1.0765576773720192317e-8)
_D = (22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755,
      18615.571640885098091, 34900.952721145977266, 38912.003286093271411, 19685.429676859990727)
_P = (0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466,
      2.9112874951168792e-5, 0.02307344176494017303)
_Q = (1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244,
      7.29751555083966205e-5)


def _ndtr_center(x: np.ndarray) -> np.ndarray:
    """Φ(x) for |x| <= 0.674."""
    xsq = x * x
    num = _A[4] * xsq
    den = xsq.copy()
    for i in range(3):
        num += _A[i]
        num *= xsq
        den += _B[i]
        den *= xsq
    num += _A[3]
    den += _B[3]
    num *= x
    num /= den
    num += 0.5
    return num


def _ndtr_tail(y: np.ndarray) -> np.ndarray:
    """Φ(-y) for y > 0.674."""
    mid = np.minimum(y, _SQRT_32)
    num = _C[8] * mid
    den = mid.copy()
    for i in range(7):
        num += _C[i]
        num *= mid
        den += _D[i]
        den *= mid
    num += _C[7]
    den += _D[7]
    num /= den
    far = y > _SQRT_32
    if far.any():
        yf = np.minimum(y[far], 40.0)
        xsq = 1 / (yf * yf)
        fnum = _P[5] * xsq
        fden = xsq.copy()
        for i in range(4):
            fnum += _P[i]
            fnum *= xsq
            fden += _Q[i]
            fden *= xsq
        fnum += _P[4]
        fden += _Q[4]
        num[far] = (_INV_SQRT_2PI - xsq * fnum / fden) / yf
    ysq = np.trunc(y * 16) / 16  # split y^2 for an exact-ish exp(-y^2 / 2)
    delta = (y - ysq) * (y + ysq)
    num *= np.exp(ysq * ysq * -0.5)
    num *= np.exp(delta * -0.5)
    return num


def _ndtr(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF Φ(x) elementwise, keeping ``x``'s float dtype."""
    center = np.abs(x) <= 0.67448975
    if center.all():
        return _ndtr_center(x)
    out = np.empty_like(x)
    if center.any():
        out[center] = _ndtr_center(x[center])
        tail = ~center
        xt = x[tail]
        cum = _ndtr_tail(np.abs(xt))
        np.subtract(1, cum, out=cum, where=xt > 0)
        out[tail] = cum
    else:
        out = _ndtr_tail(np.abs(x))
        np.subtract(1, out, out=out, where=x > 0)
    return out


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Φ(x)`` (exact, ``approximate='none'``) or its tanh approximation (``'tanh'``)."""
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(gelu, x, approximate)
    a = _float(x)
    if approximate == "none":
        cdf = _ndtr(a)
        out = a * cdf

        def backward(g: np.ndarray) -> tuple:
            pdf = a * a
            pdf *= -0.5
            np.exp(pdf, out=pdf)
            pdf *= _INV_SQRT_2PI
            pdf *= a
            pdf += cdf
            pdf *= g
            return (pdf,)

        return make_node(out, (x,), backward, "gelu")
    if approximate != "tanh":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', received {approximate!r}")
    # 0.5 x (1 + tanh(u)) = x sigmoid(2u): no cancellation where tanh(u) is near -1
    a2 = a * a
    z = a2 * 0.044715
    z += 1
    z *= a
    z *= 2 * _SQRT_2_OVER_PI
    e = np.abs(z)
    np.negative(e, out=e)
    np.exp(e, out=e)  # exp(-|2u|)
    s = e / (e + 1)
    np.subtract(1, s, out=s, where=z >= 0)  # sigmoid(2u)
    out = a * s

    def backward_tanh(g: np.ndarray) -> tuple:
        # s + 2 x s (1 - s) k (1 + 3 * 0.044715 x^2), with s (1 - s) = e / (1 + e)^2
        d = a2 * (3 * 0.044715)
        d += 1
        d *= a
        d *= 2 * _SQRT_2_OVER_PI
        ep1 = e + 1
        d *= e
        d /= ep1
        d /= ep1
        d += s
        d *= g
        return (d,)

    return make_node(out, (x,), backward_tanh, "gelu")


# ----------------------------------------------------------------------------- softmax family
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim`` (an int or a tuple), stable at ±1000 and with infinities.

    Input: ``(*)``; Output: ``(*)`` with ``dim`` removed (kept as size 1 when ``keepdim``).
    """
    x = _tensor(input)
    if x.data.ndim == 0:
        normalize_dims(dim, 0, "logsumexp")
        return _on_0d(logsumexp, x, 0, False)
    a = _float(x)
    dims = normalize_dims(dim, a.ndim, "logsumexp")
    m = a.max(axis=dims, keepdims=True)
    if not np.isfinite(m).all():
        m[~np.isfinite(m)] = 0  # all -inf (or an +inf) along dim: shift by 0, as PyTorch
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lse_k = np.log(np.exp(a - m).sum(axis=dims, keepdims=True))
    else:
        lse_k = np.exp(a - m).sum(axis=dims, keepdims=True)
        np.log(lse_k, out=lse_k)
    lse_k += m
    if keepdim:
        out = lse_k
    else:
        out = lse_k.reshape(tuple(n for i, n in enumerate(a.shape) if dims is not None and i not in dims))

    def backward(g: np.ndarray) -> tuple:
        gk = g.reshape(lse_k.shape)
        gx = a - lse_k
        np.exp(gx, out=gx)
        gx *= gk
        return (gx,)

    return make_node(out, (x,), backward, "logsumexp")


# ----------------------------------------------------------------------------- no gradient
def heaviside(input: Tensor, values: Any) -> Tensor:
    """0 where ``x < 0``, ``values`` where ``x == 0``, 1 where ``x > 0`` (as ``torch.heaviside``; no gradient)."""
    x = _tensor(input)
    v = values.data if isinstance(values, Tensor) else values
    out = np.heaviside(x.data, v)
    if out.dtype != x.data.dtype and x.data.dtype.kind == "f":
        out = out.astype(x.data.dtype)
    return Tensor._wrap(out)


def step(input: Tensor) -> Tensor:
    """The perceptron's threshold unit: 1.0 where ``x >= 0``, else 0.0 (float, no gradient)."""
    a = _tensor(input).data
    return Tensor._wrap((a >= 0).astype(a.dtype if a.dtype.kind == "f" else np.float32))


def identity(input: Tensor) -> Tensor:
    """``x`` itself (the linear activation)."""
    return input


# ----------------------------------------------------------------------------- Mish, Hardswish, PReLU
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))`` (Misra, 2019); softplus is ``x`` itself above 20, as PyTorch."""
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(mish, x)
    a = _float(x)
    sp = np.logaddexp(a, 0).astype(a.dtype, copy=False)
    np.copyto(sp, a, where=a > 20)
    t = np.tanh(sp)
    out = a * t

    def backward(g: np.ndarray) -> tuple:
        sech2 = t * t
        np.subtract(1, sech2, out=sech2)  # d tanh(sp) / d sp
        sech2 *= _sigmoid_from(a)  # d sp / d x (1 above the threshold up to float rounding)
        sech2 *= a
        sech2 += t
        sech2 *= g
        return (sech2,)

    return make_node(out, (x,), backward, "mish")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6`` (Howard et al., 2019); gradient ``x/3 + 1/2`` inside ``(-3, 3)``, as PyTorch."""
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(hardswish, x)
    a = _float(x)
    out = a * np.clip(a + 3, 0, 6) / 6

    def backward(g: np.ndarray) -> tuple:
        d = np.where(a <= -3, 0, np.where(a < 3, a / 3 + 0.5, 1)).astype(a.dtype, copy=False)
        return (d * g,)

    return make_node(out, (x,), backward, "hardswish")


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``max(0, x) + weight * min(0, x)`` with a learned slope per channel, as ``torch.nn.functional.prelu``.

    Input: ``(N, C, *)``, or any shape with one shared slope; weight: ``(1,)`` (one slope shared) or
    ``(C,)`` (channel axis 1; inputs of fewer than 2 dimensions have one channel, as in PyTorch).
    Output: the input's shape.
    """
    op = "prelu"
    x = _tensor(input)
    a, w = _float(x), weight.data
    if w.ndim != 1:
        raise ValueError(f"{op}: expected weight of shape (1,) or (C,), received {tuple(w.shape)}")
    axis = 1
    if w.size != 1:
        channels = a.shape[1] if a.ndim >= 2 else 1
        if channels != w.size:
            raise ValueError(f"{op}: weight has {w.size} slopes but input {tuple(a.shape)} has {channels} "
                             f"channel(s) (dimension 1)")
        wb = w.reshape((-1,) + (1,) * (a.ndim - 2))
    else:
        wb = w.reshape(()) if a.ndim == 0 else w
    neg = a < 0
    out = np.where(neg, a * wb, a).astype(a.dtype, copy=False)

    def backward(g: np.ndarray) -> tuple:
        gx = np.where(neg, g * wb, g).astype(a.dtype, copy=False) if x.requires_grad else None
        gw = None
        if weight.requires_grad:
            prod = np.where(neg, g * a, 0)
            if w.size == 1:
                gw = np.asarray(prod.sum(), dtype=w.dtype).reshape(w.shape)
            else:
                gw = prod.sum(axis=tuple(i for i in range(a.ndim) if i != axis)).astype(w.dtype, copy=False)
        return gx, gw

    return make_node(out, (x, weight), backward, op)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``; gradient ``1/6`` inside ``(-3, 3)``, as PyTorch."""
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(hardsigmoid, x)
    a = _float(x)
    out = np.clip(a + 3, 0, 6) / 6

    def backward(g: np.ndarray) -> tuple:
        return (np.where((a > -3) & (a < 3), g / 6, 0).astype(a.dtype, copy=False),)

    return make_node(out.astype(a.dtype, copy=False), (x,), backward, "hardsigmoid")


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``; gradient ``1 / (1 + |x|)^2``."""
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(softsign, x)
    a = _float(x)
    den = 1 + np.abs(a)
    return make_node(a / den, (x,), lambda g: (g / (den * den),), "softsign")


# ----------------------------------------------------------------------------- CELU, GLU, softmin, shrinks, threshold
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` (Barron, 2017)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    x = _tensor(input)
    if x.data.ndim == 0:
        return _on_0d(celu, x, alpha)
    a = _float(x)
    neg = np.expm1(np.minimum(a, 0) / alpha) * alpha
    out = np.where(a > 0, a, neg).astype(a.dtype, copy=False)

    def backward(g: np.ndarray) -> tuple:
        return (np.where(a > 0, g, g * (neg / alpha + 1)).astype(a.dtype, copy=False),)

    return make_node(out, (x,), backward, "celu")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half. ``(*, 2n, *) -> (*, n, *)``."""
    x = _tensor(input)
    if x.ndim == 0 or x.shape[dim] % 2:
        raise ValueError(f"glu: dimension {dim} of input {tuple(x.shape)} must have an even size")
    a, b = x.chunk(2, dim)
    return a * sigmoid(b)


def softmin(input: Tensor, dim: int | None = None, *, dtype: Any = None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    return softmax(-_tensor(input), dim, dtype=dtype)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    x = _tensor(input)
    a = _float(x)
    keep = a > threshold
    out = np.where(keep, a, a.dtype.type(value)).astype(a.dtype, copy=False)
    return make_node(out, (x,), lambda g: (np.where(keep, g, 0).astype(g.dtype, copy=False),), "threshold")


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, received {lambd}")
    x = _tensor(input)
    a = _float(x)
    live = np.abs(a) > lambd
    out = np.where(live, a - np.sign(a) * a.dtype.type(lambd), 0).astype(a.dtype, copy=False)
    return make_node(out, (x,), lambda g: (np.where(live, g, 0).astype(g.dtype, copy=False),), "softshrink")


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    x = _tensor(input)
    a = _float(x)
    live = np.abs(a) > lambd
    out = np.where(live, a, 0).astype(a.dtype, copy=False)
    return make_node(out, (x,), lambda g: (np.where(live, g, 0).astype(g.dtype, copy=False),), "hardshrink")


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    x = _tensor(input)
    a = _float(x)
    t = np.tanh(a)
    return make_node(a - t, (x,), lambda g: (g * (t * t),), "tanhshrink")
