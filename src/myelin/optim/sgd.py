"""Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _require

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD as ``torch.optim.SGD``.

    Per step, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        buf = g (first step) or momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf      (when momentum != 0)
        p = p - lr * g

    State per parameter: ``momentum_buffer`` (only when ``momentum != 0``).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
            "nesterov": nesterov, "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _require(0.0 <= group["lr"], "learning rate", group["lr"])
        _require(0.0 <= group["momentum"], "momentum value", group["momentum"])
        _require(0.0 <= group["weight_decay"], "weight_decay value", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _step_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov, maximize = group["nesterov"], group["maximize"]
        scratch = self._scratch
        if momentum == 0 and weight_decay == 0 and not maximize:  # plain SGD: p -= lr * g
            neg_lr = -lr
            for p in group["params"]:
                grad = p.grad
                if grad is not None:
                    data = p.data
                    data += np.multiply(grad.data, neg_lr, out=scratch(data, 1))
            return
        for p in group["params"]:
            if p.grad is None:
                continue
            data = p.data
            d = self._effective_grad(data, p.grad.data, weight_decay, maximize)
            tmp = self._scratch(data, 1)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.array(d, copy=True)
                else:
                    buf *= momentum
                    if dampening == 0:
                        buf += d
                    else:
                        buf += np.multiply(d, 1 - dampening, out=tmp)
                if nesterov:
                    d = np.add(d, np.multiply(buf, momentum, out=tmp), out=tmp)
                else:
                    d = buf
            data += np.multiply(d, -lr, out=tmp)
