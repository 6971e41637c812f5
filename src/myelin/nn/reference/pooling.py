"""Max pooling as a maximum over kernel offsets (twin of the optimised ``F.max_pool2d``)."""

from __future__ import annotations

from typing import Any

from ...core.shape import pad, stack
from ...core.tensor import Tensor
from ._args import pair

__all__ = ["max_pool2d"]


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """``out[n, c, y, x] = max_{i, j} in[n, c, y*s + i*d - p, x*s + j*d - p]`` (padding never wins).

    Input ``(N, C, H, W)`` or ``(C, H, W)``. The ``kh*kw`` strided slices, one per kernel offset, are
    stacked and reduced with ``max``; its gradient goes to the first maximum of each window, the
    only input that changed the output (PyTorch's tie rule).
    """
    x = input.unsqueeze(0) if input.ndim == 3 else input
    (kh, kw), (dh, dw), (ph, pw) = pair(kernel_size), pair(dilation), pair(padding)
    sh, sw = pair(kernel_size if stride is None or stride == () else stride)
    sizes = []
    for n, p, k, s, d in ((x.shape[2], ph, kh, sh, dh), (x.shape[3], pw, kw, sw, dw)):
        span = n + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        sizes.append(out - 1 if ceil_mode and (out - 1) * s >= n + p else out)
    Ho, Wo = sizes
    extra_h = max(0, (Ho - 1) * sh + dh * (kh - 1) + 1 - x.shape[2] - 2 * ph)   # ceil_mode's last window
    extra_w = max(0, (Wo - 1) * sw + dw * (kw - 1) + 1 - x.shape[3] - 2 * pw)
    x = pad(x, (pw, pw + extra_w, ph, ph + extra_h), value=float("-inf"))
    windows = [x[:, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw]
               for i in range(kh) for j in range(kw)]
    out = stack(windows, -1).max(-1)[0]
    return out[0] if input.ndim == 3 else out
