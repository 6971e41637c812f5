"""Which parameters the L1/L2 penalties act on: chosen by role, not by number of dimensions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..module import Module
    from ..parameter import Parameter

__all__ = ["penalized_parameters"]


def penalized_parameters(model: Module) -> list[tuple[str, Parameter]]:
    """The ``(name, parameter)`` pairs that ``fit(l1=..., l2=...)`` penalises.

    Every layer's weights, whatever their shape (a ``Neuron``'s 1-D weight vector included:
    Linear, Conv, RNN ``weight_ih``/``weight_hh``, attention projections, embeddings), and nothing
    else: no bias (any parameter whose name contains ``bias``), no parameter of a module whose
    class sets ``penalize_weights = False`` (batch/layer/group/instance norm scales and shifts,
    PReLU slopes), no frozen parameter. Shared parameters appear once.
    """
    chosen: list[tuple[str, Parameter]] = []
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        if not getattr(module, "penalize_weights", True):
            continue
        for name, p in module.named_parameters(recurse=False):
            if "bias" in name or not p.requires_grad or id(p) in seen:
                continue
            seen.add(id(p))
            chosen.append((f"{module_name}.{name}" if module_name else name, p))
    return chosen
