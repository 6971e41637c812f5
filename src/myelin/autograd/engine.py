"""``myelin.autograd.engine``: the backward engine (it lives in ``myelin.core.engine``)."""

from ..core.engine import Observer, accumulate_grad, as_grad_array, observe, run_backward

__all__ = ["Observer", "accumulate_grad", "as_grad_array", "observe", "run_backward"]
