"""``myelin.autograd.grad_mode``: the graph-recording switches (they live in ``myelin.core.grad_mode``)."""

from ..core.grad_mode import STATE, enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["STATE", "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]
