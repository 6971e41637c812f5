"""2-D convolution as a sum over kernel offsets (twin of the optimised im2col ``F.conv2d``)."""

from __future__ import annotations

from typing import Any

from ...core.shape import cat, pad
from ...core.tensor import Tensor
from ._args import pair, same_padding

__all__ = ["conv2d"]


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """``out[n, o, y, x] = b[o] + sum_{c, i, j} w[o, c, i, j] * in[n, c, y*s + i*d, x*s + j*d]``.

    Input ``(N, C, H, W)`` or ``(C, H, W)``; weight ``(O, C/groups, kh, kw)``; output ``(N, O, Ho, Wo)``.
    For each kernel offset ``(i, j)`` the input pixels that offset sees form a strided slice of shape
    ``(N, C, Ho, Wo)``; multiplying it by ``w[:, :, i, j]`` and summing over channels is one term.
    """
    x = input.unsqueeze(0) if input.ndim == 3 else input
    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    O, Cg, kh, kw = weight.shape
    top, bottom, left, right = same_padding(padding, (kh, kw), (dh, dw))
    x = pad(x, (left, right, top, bottom))
    Ho = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    Wo = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    Og, outs = O // groups, []
    for g in range(groups):                      # each group of filters sees its own slice of channels
        xg, wg = x[:, g * Cg:(g + 1) * Cg], weight[g * Og:(g + 1) * Og]
        out = 0
        for i in range(kh):
            for j in range(kw):
                seen = xg[:, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw]
                out = out + (seen.unsqueeze(1) * wg[:, :, i, j].reshape(1, Og, Cg, 1, 1)).sum(2)
        outs.append(out)
    out = outs[0] if groups == 1 else cat(outs, 1)
    if bias is not None:
        out = out + bias.reshape(1, O, 1, 1)
    return out[0] if input.ndim == 3 else out
