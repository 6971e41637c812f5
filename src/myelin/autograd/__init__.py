"""Automatic differentiation: graph recording switches, the backward engine, gradient checks."""

from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "enable_grad", "gradcheck", "is_grad_enabled", "no_grad", "set_grad_enabled"]
