"""``RNNOutput``: the layer that lets a recurrent layer sit inside ``nn.Sequential``.

``nn.LSTM`` returns ``(output, (h_n, c_n))`` as PyTorch's does, which the next layer of a
``Sequential`` cannot take. ``RNNOutput`` keeps ``output`` (every step), or only its last step
for classifying a whole sequence.
"""

from __future__ import annotations

from typing import Any

from .module import Module

__all__ = ["RNNOutput"]


class RNNOutput(Module):
    """Select a recurrent layer's output sequence (or its last step) from ``(output, state)``.

    Args:
        last_step: return only the last time step.
        batch_first: the output is ``(N, L, H)`` (else ``(L, N, H)``).

    Shapes:
        Input: ``(output, state)`` or ``output``: ``(N, L, H)`` with ``batch_first``.
        Output: ``(N, L, H)``, or ``(N, H)`` with ``last_step``.
    """

    def __init__(self, last_step: bool = False, batch_first: bool = True) -> None:
        super().__init__()
        self.last_step = bool(last_step)
        self.batch_first = bool(batch_first)

    def forward(self, input: Any) -> Any:
        out = input[0] if isinstance(input, (tuple, list)) else input
        if out.ndim != 3:
            self._shape_error("(N, L, H) or (L, N, H)", out.shape)
        if not self.last_step:
            return out
        return out[:, -1] if self.batch_first else out[-1]

    def extra_repr(self) -> str:
        return f"last_step={self.last_step}, batch_first={self.batch_first}"
