"""``pad_sequence``: a list of variable-length sequences as one padded batch (``torch.nn.utils.rnn``'s name).

Packed sequences (``pack_padded_sequence``) are not supported: pad, and mask or pick the last valid step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...core.shape import pad, stack
from ...core.tensor import Tensor, as_tensor

__all__ = ["pad_sequence"]


def pad_sequence(sequences: Sequence[Any], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes ``(L_i, *)`` into ``(L_max, B, *)`` (``(B, L_max, *)`` with ``batch_first``),
    filling with ``padding_value`` on the right (or the left). Differentiable with respect to every sequence."""
    fn = "pad_sequence"
    if padding_side not in ("right", "left"):
        raise ValueError(f"{fn}: padding_side must be 'right' or 'left', received {padding_side!r}")
    seqs = [s if isinstance(s, Tensor) else as_tensor(s) for s in sequences]
    if not seqs:
        raise ValueError(f"{fn}: expected at least one sequence, received none")
    tail = tuple(seqs[0].shape[1:])
    for i, s in enumerate(seqs):
        if s.ndim == 0 or tuple(s.shape[1:]) != tail:
            raise ValueError(f"{fn}: sequence {i} has shape {tuple(s.shape)}; every sequence must be (L_i, "
                             f"{', '.join(map(str, tail)) or ''}{',' if len(tail) == 1 else ''})".replace(", )", ")"))
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        extra = longest - s.shape[0]
        widths = [0, 0] * len(tail) + ([0, extra] if padding_side == "right" else [extra, 0])
        padded.append(pad(s, widths, "constant", padding_value) if extra else s)
    return stack(padded, dim=0 if batch_first else 1)
