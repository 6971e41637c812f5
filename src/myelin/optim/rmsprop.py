"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _lerp_, _require

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop as ``torch.optim.RMSprop``.

    Per step, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - mean_g**2) + eps  (centered: mean_g = mean_g.lerp(g, 1 - alpha))  else sqrt(v) + eps
        buf = momentum * buf + g / avg;  p = p - lr * buf     (momentum > 0)
        p = p - lr * g / avg                                   (momentum == 0)

    State per parameter: ``step``, ``square_avg``, plus ``momentum_buffer`` / ``grad_avg`` when used.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay, "momentum": momentum,
            "centered": centered, "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _require(0.0 <= group["lr"], "learning rate", group["lr"])
        _require(0.0 <= group["eps"], "epsilon value", group["eps"])
        _require(0.0 <= group["momentum"], "momentum value", group["momentum"])
        _require(0.0 <= group["weight_decay"], "weight_decay value", group["weight_decay"])
        _require(0.0 <= group["alpha"], "alpha value", group["alpha"])

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
        centered, maximize = group["centered"], group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            data = p.data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(data)
                if momentum > 0:
                    state["momentum_buffer"] = np.zeros_like(data)
                if centered:
                    state["grad_avg"] = np.zeros_like(data)
            state["step"] += 1
            square_avg = state["square_avg"]
            d = self._effective_grad(data, p.grad.data, weight_decay, maximize)
            tmp = self._scratch(data, 1)

            square_avg *= alpha
            square_avg += np.multiply(np.multiply(d, 1 - alpha, out=tmp), d, out=tmp)
            if centered:
                grad_avg = state.get("grad_avg")
                if grad_avg is None:  # centered switched on mid-run
                    grad_avg = state["grad_avg"] = np.zeros_like(data)
                _lerp_(grad_avg, d, 1 - alpha, tmp)
                avg = np.subtract(square_avg, np.multiply(grad_avg, grad_avg, out=tmp), out=tmp)
                np.sqrt(avg, out=avg)
            else:
                avg = np.sqrt(square_avg, out=tmp)
            avg += eps

            if momentum > 0:
                buf = state.get("momentum_buffer")
                if buf is None:  # momentum switched on mid-run (e.g. by OneCycleLR)
                    buf = state["momentum_buffer"] = np.zeros_like(data)
                buf *= momentum
                buf += np.divide(d, avg, out=avg)
                data += np.multiply(buf, -lr, out=tmp)
            else:
                update = np.multiply(d, -lr, out=self._scratch(data, 0))
                update /= avg
                data += update
