"""Checking gradients against central differences in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree."""


def _as_list(inputs: Any) -> list:
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


def _scalar_output(fn: Callable[..., Any], args: list, weights: list | None) -> tuple[Any, list]:
    from ..core.tensor import Tensor

    out = fn(*args)
    outs = out if isinstance(out, (list, tuple)) else (out,)
    outs = [o for o in outs if isinstance(o, Tensor) and o.data.dtype.kind == "f"]
    if weights is None:
        rng = np.random.default_rng(1234)
        weights = [rng.standard_normal(o.shape) for o in outs]
    total = None
    for o, w in zip(outs, weights):
        term = (o * Tensor._wrap(np.asarray(w, dtype=o.data.dtype))).sum()
        total = term if total is None else total + term
    return total, weights


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any] | Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare the gradients of ``fn`` at ``inputs`` with central differences.

    Floating inputs are copied to float64 leaves that require grad; ``fn`` returns a tensor
    (or a tuple of tensors), projected onto fixed random weights so every output element
    counts. Returns True, or raises :class:`GradcheckError` naming the input and the worst
    element.
    """
    from ..core.tensor import Tensor
    from .grad_mode import enable_grad, no_grad

    args: list = []
    for x in _as_list(inputs):
        if isinstance(x, Tensor) and x.data.dtype.kind == "f":
            args.append(Tensor._wrap(x.data.astype(np.float64, order="C"), requires_grad=x.requires_grad))
        elif isinstance(x, np.ndarray) and x.dtype.kind == "f":
            args.append(Tensor._wrap(x.astype(np.float64, order="C"), requires_grad=True))
        else:
            args.append(x)
    checked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")
    with enable_grad():
        total, weights = _scalar_output(fn, args, None)
        if total is None or not total.requires_grad:
            raise GradcheckError("gradcheck: the output does not depend on any input that requires grad")
        total.backward()
    for i in checked:
        x = args[i]
        analytic = np.zeros_like(x.data) if x.grad is None else x.grad.data
        numeric = np.zeros_like(x.data)
        flat, nflat = x.data.reshape(-1), numeric.reshape(-1)
        with no_grad():
            for k in range(flat.size):
                orig = flat[k]
                flat[k] = orig + eps
                plus = _scalar_output(fn, args, weights)[0].item()
                flat[k] = orig - eps
                minus = _scalar_output(fn, args, weights)[0].item()
                flat[k] = orig
                nflat[k] = (plus - minus) / (2 * eps)
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and err.max() > 0:
            worst = np.unravel_index(int(np.argmax(err)), err.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}) element {tuple(int(w) for w in worst)}: "
                f"analytical {analytic[worst]:.8g} vs numerical {numeric[worst]:.8g}"
            )
    return True
