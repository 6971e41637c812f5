"""Adagrad (Duchi et al., 2011) with learning-rate decay and L2 weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _require

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad as ``torch.optim.Adagrad``.

    Per step ``t``, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g * g
        p = p - clr * g / (sqrt(sum) + eps)

    State per parameter: ``step`` and ``sum`` (filled with ``initial_accumulator_value``), created
    for every parameter at construction, as PyTorch does.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Any, group: dict[str, Any]) -> None:
        state = self.state[p]
        state["step"] = 0
        state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])

    def _validate_group(self, group: dict[str, Any]) -> None:
        _require(0.0 <= group["lr"], "learning rate", group["lr"])
        _require(0.0 <= group["lr_decay"], "lr_decay value", group["lr_decay"])
        _require(0.0 <= group["weight_decay"], "weight_decay value", group["weight_decay"])
        value = group["initial_accumulator_value"]
        _require(0.0 <= value, "initial_accumulator_value value", value)
        _require(0.0 <= group["eps"], "epsilon value", group["eps"])

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        weight_decay, maximize = float(group["weight_decay"]), group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            data = p.data
            state = self.state[p]
            if len(state) == 0:
                self._init_state(p, group)
            state["step"] += 1
            clr = lr / (1 + (state["step"] - 1) * lr_decay)
            d = self._effective_grad(data, p.grad.data, weight_decay, maximize)
            tmp = self._scratch(data, 1)

            state_sum = state["sum"]
            state_sum += np.multiply(d, d, out=tmp)
            std = np.sqrt(state_sum, out=tmp)
            std += eps
            update = np.multiply(d, -clr, out=self._scratch(data, 0))
            update /= std
            data += update
