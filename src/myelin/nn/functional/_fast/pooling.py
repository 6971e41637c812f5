"""Pooling as single graph nodes: max, average and their adaptive forms over (N, C, H, W).

Optimised: the readable twin of ``max_pool2d`` is :func:`myelin.nn.reference.max_pool2d`.

Every window is read as ``kh * kw`` strided views of the (padded) input, one per kernel offset,
so there is no Python loop over pixels. Max pooling keeps a running maximum and the offset of
the first maximum in window order (PyTorch's tie rule) in a small integer array; its backward
routes the gradient to that offset. When the windows tile the input (kernel == stride, no
padding) the backward writes each input element once, with no accumulation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ....core.node import make_node
from ....core.tensor import Tensor
from ... import reference
from ...reference._switch import STATE as _REFERENCE
from .im2col import check_positive, conv_out_size, pair, window_slices

__all__ = ["adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "max_pool2d"]


def _input4d(x: np.ndarray, op: str) -> tuple[np.ndarray, bool]:
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), received {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, received dtype {x.dtype}")
    return (x[None], True) if x.ndim == 3 else (x, False)


def _pool_geometry(
    x: np.ndarray, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool, op: str
) -> tuple[tuple[int, int], ...]:
    """Validated ``(kernel, stride, padding, dilation, out_hw, pad_after)`` for a pooling call."""
    k = pair(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else pair(stride, "stride", op)
    p, d = pair(padding, "padding", op), pair(dilation, "dilation", op)
    check_positive(k, "kernel_size", op)
    check_positive(s, "stride", op)
    check_positive(d, "dilation", op)
    check_positive(p, "padding", op, allow_zero=True)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding should be at most half of the kernel size, received padding={p}, kernel_size={k}")
    h, w = x.shape[-2:]
    out = tuple(conv_out_size(n, pp, pp, kk, ss, dd, ceil_mode) for n, pp, kk, ss, dd in zip((h, w), p, k, s, d))
    if out[0] < 1 or out[1] < 1:
        raise ValueError(
            f"{op}: input size (H, W) = ({h}, {w}) with padding {p} is too small for kernel_size {k} "
            f"with dilation {d}: the output would be {out}"
        )
    # rows/columns the last window reaches beyond the input and the leading padding (ceil_mode)
    after = tuple(
        max(p[a], (out[a] - 1) * s[a] + d[a] * (k[a] - 1) + 1 - (x.shape[-2 + a] + p[a])) for a in (0, 1)
    )
    return k, s, p, d, out, after


def _padded(x: np.ndarray, p: tuple[int, int], after: tuple[int, int], fill: float) -> np.ndarray:
    """``x`` padded by ``p`` before and ``after`` after along H and W (a view when nothing is padded)."""
    if not (p[0] or p[1] or after[0] or after[1]):
        return x
    n, c, h, w = x.shape
    xp = np.full((n, c, p[0] + h + after[0], p[1] + w + after[1]), fill, dtype=x.dtype)
    xp[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = x
    return xp


def _offsets(k: tuple[int, int]) -> list[tuple[int, int, int]]:
    return [(i * k[1] + j, i, j) for i in range(k[0]) for j in range(k[1])]


def _tiles(k: tuple[int, int], s: tuple[int, int], d: tuple[int, int]) -> bool:
    """True when the windows never overlap (each input element is read by at most one window)."""
    return s[0] >= d[0] * (k[0] - 1) + 1 and s[1] >= d[1] * (k[1] - 1) + 1


def _scatter_windows(
    like: np.ndarray, piece: Any, out_hw: tuple[int, int], k: tuple[int, int], s: tuple[int, int], d: tuple[int, int]
) -> np.ndarray:
    """Sum per-offset gradients into an array shaped (and laid out) like ``like``.

    ``piece(o, out)`` gives offset ``o``'s ``(N, C, Ho, Wo)`` gradient, written into ``out`` when
    that is not None. Overlapping windows accumulate with one strided ``+=`` per offset; tiling
    windows write straight into their slice, into an uninitialised buffer when they cover it exactly.
    """
    overlap = not _tiles(k, s, d)
    exact = d == (1, 1) and s == k and out_hw[0] * k[0] == like.shape[2] and out_hw[1] * k[1] == like.shape[3]
    dx = np.empty_like(like) if exact else np.zeros_like(like)
    for o, i, j in _offsets(k):
        view = dx[(slice(None), slice(None)) + window_slices(i, j, out_hw, s, d)]
        if overlap:
            view += piece(o, None)
        else:
            piece(o, view)
    return dx


def _like_layout(g: np.ndarray, template: np.ndarray) -> np.ndarray:
    """``g`` copied into ``template``'s memory layout when the two differ (so later ufuncs stream)."""
    out = np.empty_like(template, dtype=g.dtype)  # lazy allocation: cheap when unused
    if g.strides == out.strides:
        return g
    out[...] = g
    return out


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size, stride (default: kernel_size), padding (implicit -inf, at most half the
        kernel), dilation: ints or pairs.
    Returns:
        ``(N, C, Ho, Wo)``, and with ``return_indices`` also the int64 flat index ``h * W + w``
        of each maximum in its input plane (the first maximum in window order on ties).
    """
    op = "max_pool2d"
    x, unbatched = _input4d(input.data, op)
    k, s, p, d, (ho, wo), after = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, op)
    if _REFERENCE.enabled and not return_indices:
        return reference.max_pool2d(input, k, s, p, d, ceil_mode)
    xp = _padded(x, p, after, -np.inf)
    views = [xp[(slice(None), slice(None)) + window_slices(i, j, (ho, wo), s, d)] for _, i, j in _offsets(k)]
    out = views[0].copy(order="K")  # keep the input's memory layout (channels-last after a conv)
    idx_dtype = np.uint8 if len(views) < 256 else np.int32
    idx = np.zeros_like(out, dtype=idx_dtype)
    better = np.empty_like(out, dtype=bool)
    step = np.empty_like(idx)
    for o in range(1, len(views)):
        # offsets grow, so "idx = o where better" is max(idx, o * better): two fast integer ufuncs
        np.greater(views[o], out, out=better)
        np.maximum(out, views[o], out=out)
        np.multiply(better, idx_dtype(o), out=step)
        np.maximum(idx, step, out=idx)
    del better, step
    xshape, padded_shape = x.shape, (None if xp is x else xp.shape)

    def backward(g: np.ndarray) -> tuple:
        g4 = _like_layout(g[None] if unbatched else g, idx)
        like = x if padded_shape is None else np.empty(padded_shape, dtype=x.dtype)
        mask = np.empty_like(idx, dtype=bool)

        def piece(o: int, dst: np.ndarray | None) -> np.ndarray:
            return np.multiply(g4, np.equal(idx, o, out=mask), out=dst)

        dx = _scatter_windows(like, piece, (ho, wo), k, s, d)
        if padded_shape is not None:
            dx = dx[:, :, p[0]:p[0] + xshape[2], p[1]:p[1] + xshape[3]]
        return (dx[0] if unbatched else dx,)

    result = make_node(out[0] if unbatched else out, (input,), backward, op)
    if not return_indices:
        return result
    ii, jj = np.divmod(idx.astype(np.int64), k[1])
    rows = np.arange(ho, dtype=np.int64)[:, None] * s[0] - p[0] + ii * d[0]
    cols = np.arange(wo, dtype=np.int64) * s[1] - p[1] + jj * d[1]
    flat = rows * xshape[3] + cols
    return result, Tensor._wrap(flat[0] if unbatched else flat)


def _avg_divisor(
    n: int, out: int, k: int, s: int, p: int, count_include_pad: bool, dtype: np.dtype
) -> np.ndarray:
    """Per-output window sizes along one axis, by PyTorch's rule (windows clipped to ``n + p``)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if count_include_pad:
        return (end - start).astype(dtype)
    return (np.minimum(end, n) - np.maximum(start, 0)).astype(dtype)


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size, stride (default: kernel_size), padding (zeros, at most half the kernel): ints or pairs.
        count_include_pad: divide by the window size including padding (else only the input part).
        divisor_override: divide every window sum by this instead.
    Returns:
        ``(N, C, Ho, Wo)`` (or ``(C, Ho, Wo)``).
    """
    op = "avg_pool2d"
    x, unbatched = _input4d(input.data, op)
    k, s, p, d, (ho, wo), after = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, op)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer)) \
                or divisor_override == 0:
            raise ValueError(f"{op}: expected divisor_override to be a non-zero int, received {divisor_override!r}")
        div: Any = x.dtype.type(divisor_override)
    else:
        dh = _avg_divisor(x.shape[2], ho, k[0], s[0], p[0], count_include_pad, x.dtype)
        dw = _avg_divisor(x.shape[3], wo, k[1], s[1], p[1], count_include_pad, x.dtype)
        div = np.outer(dh, dw)
        if div.min() == div.max():
            div = div.dtype.type(div.flat[0])
    xp = _padded(x, p, after, 0.0)
    offsets = _offsets(k)
    out = np.zeros((x.shape[0], x.shape[1], ho, wo), dtype=x.dtype)
    for _, i, j in offsets:
        out += xp[(slice(None), slice(None)) + window_slices(i, j, (ho, wo), s, d)]
    out /= div
    xshape, padded_shape = x.shape, (None if xp is x else xp.shape)

    def backward(g: np.ndarray) -> tuple:
        g4 = g[None] if unbatched else g
        gd = g4 / div
        like = x if padded_shape is None else np.empty(padded_shape, dtype=x.dtype)
        dx = _scatter_windows(like, lambda o, dst: gd if dst is None else np.copyto(dst, gd), (ho, wo), k, s, d)
        if padded_shape is not None:
            dx = dx[:, :, p[0]:p[0] + xshape[2], p[1]:p[1] + xshape[3]]
        return (dx[0] if unbatched else dx,)

    return make_node(out[0] if unbatched else out, (input,), backward, op)


def _adaptive_size(output_size: Any, hw: tuple[int, int], op: str) -> tuple[int, int]:
    """``output_size`` (an int, or a pair whose None entries keep the input size) as ``(oh, ow)``."""
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        size = tuple(hw[a] if output_size[a] is None else output_size[a] for a in (0, 1))
    else:
        size = output_size
    oh, ow = pair(size, "output_size", op)
    check_positive((oh, ow), "output_size", op)
    return oh, ow


def _adaptive_bounds(n: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's windows: ``start = floor(i * n / out)``, ``end = ceil((i + 1) * n / out)``."""
    i = np.arange(out, dtype=np.int64)
    return (i * n) // out, -((-(i + 1) * n) // out)


def _adaptive_matrix(n: int, out: int, dtype: np.dtype) -> np.ndarray:
    """``(out, n)`` averaging matrix: row ``i`` holds ``1 / len`` over window ``i``."""
    start, end = _adaptive_bounds(n, out)
    pos = np.arange(n)
    inside = (pos >= start[:, None]) & (pos < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Adaptive 2-D average pooling, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        output_size: an int or ``(oh, ow)``; a None entry keeps that input size.
    Returns:
        ``(N, C, oh, ow)``: window ``i`` spans ``[floor(i*H/oh), ceil((i+1)*H/oh))``.
        Output 1 is a mean; sizes dividing the input use a reshape; others two small matrix products.
    """
    op = "adaptive_avg_pool2d"
    x, unbatched = _input4d(input.data, op)
    n, c, h, w = x.shape
    oh, ow = _adaptive_size(output_size, (h, w), op)
    if h % oh == 0 and w % ow == 0:
        kh, kw = h // oh, w // ow
        out = x.reshape(n, c, oh, kh, ow, kw).mean(axis=(3, 5), dtype=x.dtype)
        scale = x.dtype.type(1.0 / (kh * kw))

        def backward(g: np.ndarray) -> tuple:
            g4 = (g[None] if unbatched else g) * scale
            dx = np.empty_like(x)
            dx.reshape(n, c, oh, kh, ow, kw)[...] = g4[:, :, :, None, :, None]
            return (dx[0] if unbatched else dx,)
    else:
        ph, pw = _adaptive_matrix(h, oh, x.dtype), _adaptive_matrix(w, ow, x.dtype)
        out = ph @ (x @ pw.T)

        def backward(g: np.ndarray) -> tuple:
            g4 = g[None] if unbatched else g
            dx = (ph.T @ g4) @ pw
            return (dx[0] if unbatched else dx,)

    return make_node(out[0] if unbatched else out, (input,), backward, op)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Adaptive 2-D max pooling, as ``torch.nn.functional.adaptive_max_pool2d``.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        output_size: an int or ``(oh, ow)``; a None entry keeps that input size.
    Returns:
        ``(N, C, oh, ow)`` (and the int64 flat indices ``h * W + w`` with ``return_indices``).
        Sizes dividing the input run :func:`max_pool2d`; others loop over the largest window's offsets.
    """
    op = "adaptive_max_pool2d"
    x, unbatched = _input4d(input.data, op)
    n, c, h, w = x.shape
    oh, ow = _adaptive_size(output_size, (h, w), op)
    if h % oh == 0 and w % ow == 0:
        return max_pool2d(input, (h // oh, w // ow), return_indices=return_indices)
    sh, eh = _adaptive_bounds(h, oh)
    sw, ew = _adaptive_bounds(w, ow)
    out = best = None
    for i in range(int((eh - sh).max())):
        rows = np.minimum(sh + i, eh - 1)  # clamped: repeats the window's last row, never a new maximum
        for j in range(int((ew - sw).max())):
            cols = np.minimum(sw + j, ew - 1)
            v = x[:, :, rows[:, None], cols[None, :]]
            flat = rows[:, None] * w + cols[None, :]
            if out is None:
                out, best = v, np.broadcast_to(flat, v.shape).copy()
                continue
            better = v > out
            np.maximum(out, v, out=out)
            np.copyto(best, flat, where=better)
    assert out is not None and best is not None

    def backward(g: np.ndarray) -> tuple:
        g4 = g[None] if unbatched else g
        planes = np.arange(n * c, dtype=np.int64).reshape(n, c, 1, 1) * (h * w)
        target = (planes + best).ravel()
        order = np.argsort(target, kind="stable")
        sorted_t = target[order]
        starts = np.flatnonzero(np.r_[True, sorted_t[1:] != sorted_t[:-1]])
        dx = np.zeros(x.size, dtype=x.dtype)
        dx[sorted_t[starts]] = np.add.reduceat(g4.ravel()[order], starts)
        dx = dx.reshape(x.shape)
        return (dx[0] if unbatched else dx,)

    result = make_node(out[0] if unbatched else out, (input,), backward, op)
    if return_indices:
        return result, Tensor._wrap(best[0] if unbatched else best)
    return result
