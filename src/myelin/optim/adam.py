"""Adam (Kingma & Ba, 2015) with coupled L2 weight decay, AMSGrad and the AdamW switch."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _lerp_, _require

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam as ``torch.optim.Adam``.

    Per step ``t``, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p          (or p = p * (1 - lr * weight_decay) when decoupled)
        m = m.lerp(g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    State per parameter: ``step`` (int), ``exp_avg``, ``exp_avg_sq`` and, with ``amsgrad``,
    ``max_exp_avg_sq``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
            "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        _require(0.0 <= group["lr"], "learning rate", group["lr"])
        _require(0.0 <= group["eps"], "epsilon value", group["eps"])
        _require(0.0 <= beta1 < 1.0, "beta parameter at index 0", beta1)
        _require(0.0 <= beta2 < 1.0, "beta parameter at index 1", beta2)
        _require(0.0 <= group["weight_decay"], "weight_decay value", group["weight_decay"])

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            data = p.data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(data)
                state["exp_avg_sq"] = np.zeros_like(data)
                if amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(data)
            state["step"] += 1
            step = state["step"]
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]

            if decoupled:
                if weight_decay != 0:
                    data *= 1 - lr * weight_decay
                d = self._effective_grad(data, p.grad.data, 0.0, maximize)
            else:
                d = self._effective_grad(data, p.grad.data, weight_decay, maximize)
            tmp = self._scratch(data, 1)

            _lerp_(exp_avg, d, 1 - beta1, tmp)
            exp_avg_sq *= beta2
            exp_avg_sq += np.multiply(np.multiply(d, 1 - beta2, out=tmp), d, out=tmp)

            step_size = lr / (1 - beta1**step)
            bias_correction2_sqrt = (1 - beta2**step) ** 0.5
            if amsgrad:
                max_sq = state.get("max_exp_avg_sq")
                if max_sq is None:  # amsgrad switched on mid-run
                    max_sq = state["max_exp_avg_sq"] = np.zeros_like(data)
                second = np.maximum(max_sq, exp_avg_sq, out=max_sq)
            else:
                second = exp_avg_sq
            denom = np.sqrt(second, out=tmp)
            denom /= bias_correction2_sqrt
            denom += eps
            update = np.multiply(exp_avg, -step_size, out=self._scratch(data, 0))
            update /= denom
            data += update
