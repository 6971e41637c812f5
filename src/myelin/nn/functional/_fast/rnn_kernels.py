"""Whole-sequence recurrent kernels on plain NumPy arrays (no Tensor, no graph).

Optimised: read the readable twins first, :func:`myelin.nn.reference.rnn_cell`,
``lstm_cell``, ``gru_cell`` and ``sequence`` (a dozen lines each, Tensor operations only).

Each ``*_forward`` runs one layer and one direction over a whole sequence; the matching
``*_backward`` runs back-propagation through time from what the forward kept. ``rnn.py``
wraps each pair as one graph node, as cuDNN does.

Layout. The recurrence works feature-major: the hidden state of step ``t`` is stored
transposed, ``ht[t]`` of shape ``(H + 1, N)`` whose last row is all ones, so one GEMM
``wh @ ht[t]`` with ``wh = [W_hh | b]`` of shape ``(G, H + 1)`` gives every gate and the bias
at once, and every gate is a contiguous ``(H, N)`` block (NumPy's contiguous fast path is
two to four times faster than column slices at these sizes). The input projection of all
steps is one batched GEMM, ``xpt[t] = W_ih @ x[t].T`` (the LSTM instead folds ``x_t`` into its
state, see the LSTM section). GRU sigmoid gates use negated weight rows, so ``e = 1 + exp(-a)``
costs two calls and ``sigmoid(a) * v == v / e``; the activations the backward needs are
recovered for all steps at once (``1 / e``). Per-step NumPy calls (forward / backward, the
backward one less when only the final states get a gradient): RNN 3 / 3, LSTM 8 / 6,
GRU 10 / 6. Everything that does not depend on the
recurrence (activation derivatives, weight and input gradients) is done in bulk outside
the time loop: the weight gradients are one GEMM over all steps each (the LSTM backward does
this per chunk of steps whose work arrays fit in cache). Large work arrays come from a small
pool (:class:`_Pool`) instead of fresh pages.

Shapes: ``x (L, N, I)``, ``h0 / c0 (N, H)`` or None, ``w_ih (G*H, I)``, ``w_hh (G*H, H)``,
``b_ih / b_hh (G*H,)`` or None, with PyTorch's gate order (LSTM i,f,g,o; GRU r,z,n).
Returns ``out (L, N, H)`` and ``h_n (N, H)`` as views of the (never pooled) state buffer, and
``c_n (N, H)`` as a copy.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

__all__ = [
    "RNNGrads",
    "gru_backward",
    "gru_forward",
    "lstm_backward",
    "lstm_forward",
    "rnn_backward",
    "rnn_forward",
]

#: (dx, [d initial state per state], dw_ih, dw_hh, db_ih, db_hh); None where not requested.
RNNGrads = tuple[Any, list, Any, Any, Any, Any]


class _Pool:
    """Work arrays reused across calls.

    glibc hands multi-megabyte blocks back to the OS when NumPy frees them, so each new one is
    faulted in page by page (~2 us per 4 KiB): at benchmark sizes that cost as much as the whole
    recurrence. Scratch arrays return at the end of a call; the activations a forward saves
    return when the graph lets go of them (:class:`_Saved`). Arrays that reach the caller
    (outputs, gradients) never come from here. Blocks of a MiB or more are made at least
    ``HUGE_BYTES``, the size from which NumPy asks Linux for transparent huge pages: the kernels
    walk these arrays step by step with strides, and fewer TLB misses made an LSTM step about
    1-2 % faster (measured).
    """

    MIN_BYTES = 1 << 16
    BIG_BYTES = 1 << 20
    HUGE_BYTES = 4 << 20

    def __init__(self, limit_bytes: int = 256 << 20) -> None:
        self._free: list[np.ndarray] = []  # flat uint8 blocks
        self._bytes = 0
        self._lock = threading.Lock()
        self.limit_bytes = limit_bytes

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised C-contiguous array (a view of a pooled block when one fits)."""
        n = math.prod(shape) * dtype.itemsize  # not np.prod: 20x the cost on a tuple
        if n >= self.MIN_BYTES:
            with self._lock:
                best = None
                most = max(2 * n, self.HUGE_BYTES) if n >= self.BIG_BYTES else 2 * n
                for k, block in enumerate(self._free):
                    if n <= block.nbytes <= most and (best is None or block.nbytes < self._free[best].nbytes):
                        best = k
                if best is not None:
                    block = self._free.pop(best)
                    self._bytes -= block.nbytes
                    return block[:n].view(dtype).reshape(shape)
            size = max(n, self.HUGE_BYTES) if n >= self.BIG_BYTES else n
            return np.empty(size, np.uint8)[:n].view(dtype).reshape(shape)
        return np.empty(shape, dtype)

    def give(self, *arrays: np.ndarray) -> None:
        """Return arrays obtained from :meth:`take` (each once; none of them may be used after)."""
        with self._lock:
            for a in arrays:
                block = a.base if a.base is not None else a
                if (not isinstance(block, np.ndarray) or block.dtype != np.uint8
                        or not self.MIN_BYTES <= block.nbytes <= self.limit_bytes
                        or any(b is block for b in self._free)):
                    continue
                self._free.append(block)
                self._bytes += block.nbytes
            while self._bytes > self.limit_bytes:
                self._bytes -= self._free.pop(0).nbytes


#: ``np.dot`` without its ``__array_function__`` dispatch (0.15 us less per call; the kernels only
#: ever pass plain ndarrays); plain ``np.dot`` where NumPy does not expose it.
_dot = getattr(np.dot, "_implementation", np.dot)

_POOL = _Pool()
take, give = _POOL.take, _POOL.give


class _Saved(dict):
    """A forward's context; its ``pooled`` arrays go back to the pool when it is released."""

    pooled: tuple = ()

    def __del__(self, _give: Any = give) -> None:  # bound now: module globals may be gone at exit
        _give(*self.pooled)


def _perm(order: tuple[int, ...], hidden: int) -> np.ndarray:
    """Row indices that put PyTorch's gate blocks in ``order``."""
    return np.concatenate([np.arange(k * hidden, (k + 1) * hidden) for k in order])


def _setup(
    x: np.ndarray, h0: np.ndarray | None, w_ih: np.ndarray, w_hh: np.ndarray,
    perm_x: np.ndarray | None, sign_x: np.ndarray | None, sign_h: np.ndarray | None,
    bias_h: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input projection ``xpt (L, G, N)`` (pooled: give it back), augmented ``wh (G, H + 1)`` and the
    state buffer ``ht (L+1, H+1, N)`` (not pooled: the outputs are views of it)."""
    L, N, _ = x.shape
    G, H = w_hh.shape
    dt = x.dtype
    wx = w_ih[perm_x] if perm_x is not None else w_ih
    if sign_x is not None:
        wx = wx * sign_x[:, None]
    xpt = np.matmul(wx.astype(dt, copy=False), x.transpose(0, 2, 1), out=take((L, G, N), dt))
    wh = np.empty((G, H + 1), dt)
    wh[:, :H] = w_hh
    wh[:, H] = 0 if bias_h is None else bias_h
    if sign_h is not None:
        wh *= sign_h[:, None]
    ht = np.empty((L + 1, H + 1, N), dt)
    ht[:, H] = 1
    ht[0, :H] = 0 if h0 is None else h0.T
    return xpt, wh, ht


def _grad_seq(g: np.ndarray | None) -> np.ndarray | None:
    """The output gradient ``(L, N, H)`` as contiguous per-step ``(H, N)`` blocks ``(L, H, N)`` (pooled)."""
    if g is None:
        return None
    L, N, H = g.shape
    out = take((L, H, N), g.dtype)
    np.copyto(out, g.transpose(0, 2, 1))
    return out


def _weight_grads(
    ctx: dict, dg: np.ndarray, need: tuple[bool, ...]
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Input, input-weight, recurrent-weight and bias gradients, one GEMM each over all steps.

    ``dg (Gx + ..., L*N)`` holds the pre-activation gradients of all steps; rows ``ctx['xrows']``
    feed ``W_ih`` and rows ``ctx['hrows']`` feed ``W_hh`` (they differ for the GRU's n gate).
    Returns ``dx (L, N, I)``, ``dw_ih``, ``dw_hh`` (internal row order) and ``db_hh`` (internal).
    """
    need_x, need_wih, need_whh = need
    x, ht = ctx["x"], ctx["ht"]
    L, N, I = x.shape
    H = ht.shape[1] - 1
    gx = dg[ctx["xrows"]] if ctx["xrows"] is not None else dg
    gh = dg[ctx["hrows"]] if ctx["hrows"] is not None else dg
    dx = dw_ih = dwh = db = None
    if need_x:
        wx = ctx["w_ih"][ctx["perm_x"]] if ctx["perm_x"] is not None else ctx["w_ih"]
        dx = np.matmul(gx.T, wx.astype(x.dtype, copy=False)).reshape(L, N, I)
    if need_wih:
        dw_ih = gx @ x.reshape(L * N, I)
    if need_whh:
        hp = take((H + 1, L, N), x.dtype)
        np.copyto(hp, ht[:L].transpose(1, 0, 2))
        full = gh @ hp.reshape(H + 1, L * N).T  # (G, H + 1): [dW_hh | db_hh]
        dwh, db = full[:, :H], full[:, H]
        give(hp)
    return dx, dw_ih, dwh, db


def _unperm(a: np.ndarray | None, perm: np.ndarray | None) -> np.ndarray | None:
    """Rows back in PyTorch's gate order."""
    if a is None or perm is None:
        return a
    out = np.empty_like(a)
    out[perm] = a
    return out


# ============================================================================ Elman RNN
def rnn_forward(
    x: np.ndarray, h0: np.ndarray | None, w_ih: np.ndarray, w_hh: np.ndarray,
    b_ih: np.ndarray | None, b_hh: np.ndarray | None, nonlinearity: str = "tanh", keep: bool = True,
) -> tuple[np.ndarray, list[np.ndarray], dict | None]:
    """``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``; returns ``out (L,N,H)``, ``[h_n]``, context."""
    bias = _sum_bias(b_ih, b_hh)
    xpt, wh, ht = _setup(x, h0, w_ih, w_hh, None, None, None, bias)
    L, H = x.shape[0], w_hh.shape[1]
    relu = nonlinearity == "relu"
    for t in range(L):
        h = ht[t + 1, :H]
        np.matmul(wh, ht[t], out=h)
        np.add(h, xpt[t], out=h)
        if relu:
            np.maximum(h, 0, out=h)
        else:
            np.tanh(h, out=h)
    give(xpt)
    out = ht[1:, :H].transpose(0, 2, 1)
    ctx = None
    if keep:
        ctx = _Saved(x=x, ht=ht, w_ih=w_ih, w_hh=w_hh, relu=relu, perm_x=None, xrows=None, hrows=None)
    return out, [ht[L, :H].T], ctx


def rnn_backward(ctx: dict, g_out: np.ndarray | None, g_states: list, need: tuple[bool, ...]) -> RNNGrads:
    """Back-propagation through time for :func:`rnn_forward`.

    ``need = (x, h0, w_ih, w_hh, b_ih, b_hh)`` flags which gradients to compute.
    """
    ht, x = ctx["ht"], ctx["x"]
    L, N, _ = x.shape
    H = ht.shape[1] - 1
    dt = x.dtype
    hs = ht[1:, :H]
    deriv = take((L, H, N), dt)
    if ctx["relu"]:
        np.sign(hs, out=deriv)  # h >= 0: 1 where positive, 0 at 0 (as PyTorch)
    else:
        np.multiply(hs, hs, out=deriv)
        np.subtract(1, deriv, out=deriv)
    gT = _grad_seq(g_out)
    whT = np.ascontiguousarray(ctx["w_hh"].T, dtype=dt)  # (H, G); C order: faster GEMM
    dgs = take((H, L, N), dt)  # pre-activation gradients, columns (t, n) for the bulk GEMMs
    dh = np.empty((H, N), dt)
    g_h = g_states[0]
    for t in range(L - 1, -1, -1):
        if t == L - 1:
            dh[...] = 0 if g_h is None else g_h.T
        else:
            np.matmul(whT, dgs[:, t + 1], out=dh)
        if gT is not None:
            np.add(dh, gT[t], out=dh)
        np.multiply(dh, deriv[t], out=dgs[:, t])
    grads = _finish(ctx, dgs.reshape(H, L * N), [lambda: (whT @ dgs[:, 0]).T], need, _same_bias)
    give(deriv, dgs, *([] if gT is None else [gT]))
    return grads


# ============================================================================ LSTM
# The LSTM runs on its own augmented state ``z[t] = [h_{t-1}; 1; x_t]`` of shape ``(H + 1 + I, N)``:
# one GEMM ``w @ z[t]`` with ``w = [W_hh | b | W_ih]`` gives every gate pre-activation, input
# projection and bias included (measured: slightly cheaper than a separate projection plus an
# add per step), and ``[dW_hh | db | dW_ih]`` is one GEMM per chunk of steps. Internal gate
# order [o, i, f, g]. The sigmoid rows of ``w`` are halved, so one ``tanh`` over all four gates
# gives ``tanh(a / 2)`` for o, i, f (and ``sigmoid(a) = (1 + tanh(a / 2)) / 2``) and ``g``:
# NumPy's float32 tanh costs about half of exp per element. Per step, ``s[t]`` holds rows
# ``[o, i, f, g]`` and ``c_{t-1}`` waits right after them (in the first rows of ``s[t + 1]``), so
# that ``[i, f] * [g, c_{t-1}]`` is one call. The gates live in a scratch of a few steps: at the
# end of each chunk, while they are still in cache, the multipliers the backward needs
# (``q = [o (1 - tanh(c)^2), tanh(c) o (1 - o)]``, ``m = [g i (1 - i), c_{t-1} f (1 - f), i (1 - g^2), f]``)
# are computed for the whole chunk in nine bulk passes, and only they are kept (6H rows per step).
# Internal order [o, i, f, g] is PyTorch's [i, f, g, o] rotated by one block.
#: Work-array bytes per chunk of steps, forward scratch and backward (about the L2 cache; measured).
_CHUNK_BYTES = 1 << 20
#: Fewest GEMM columns (steps x batch) per backward chunk when the weight gradient does not fit the
#: cache (measured: with one step of batch 64 per chunk, the per-chunk sums of an H=512 layer's
#: weight gradient made its forward and backward about 7 % slower).
_MIN_GEMM_COLUMNS = 512


def _lstm_weights(w_ih: np.ndarray, w_hh: np.ndarray, bias: np.ndarray | None, dt: np.dtype) -> np.ndarray:
    """``[W_hh | b | W_ih]`` rows in internal order, sigmoid rows halved: ``(4H, R + 1 + I)``."""
    H, R, I = w_hh.shape[0] // 4, w_hh.shape[1], w_ih.shape[1]
    w = take((4 * H, R + 1 + I), dt)
    half = dt.type(0.5)
    # internal [o, i, f, g] is PyTorch's [i, f, g, o] rotated by one block: two block copies per source
    for cols, src in ((slice(0, R), w_hh), (R, bias), (slice(R + 1, None), w_ih)):
        if src is None:
            w[:, cols] = 0
            continue
        np.multiply(src[3 * H:], half, out=w[:H, cols])  # o
        np.multiply(src[:2 * H], half, out=w[H:3 * H, cols])  # i, f
        w[3 * H:, cols] = src[2 * H:3 * H]  # g
    return w


def _add_product(acc: np.ndarray | None, tmp: np.ndarray | None, a: np.ndarray, b: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """``acc + a @ b`` (``acc`` None: just the product), in place after the first chunk; returns
    ``(acc, tmp)`` with ``tmp`` the reusable buffer for the next product."""
    if acc is None:
        return a @ b, tmp
    tmp = np.matmul(a, b, out=tmp)
    acc += tmp
    return acc, tmp


def _rotate_gates(a: np.ndarray, blocks: int, dt: np.dtype | None = None) -> np.ndarray:
    """A copy of ``a`` with its four gate blocks (rows) rotated down by ``blocks``: ``1`` takes
    PyTorch's [i, f, g, o] to the internal [o, i, f, g], ``-1`` takes them back (two block copies)."""
    k = (blocks % 4) * (a.shape[0] // 4)
    out = np.empty(a.shape, a.dtype if dt is None else dt)
    out[k:] = a[:a.shape[0] - k]
    out[:k] = a[a.shape[0] - k:]
    return out


def _lstm_whT(w_hh: np.ndarray, dt: np.dtype) -> np.ndarray:
    """``W_hh`` transposed, columns in internal gate order, C-contiguous ``(R, 4H)`` (a faster GEMM operand
    than the transposed view)."""
    H, R = w_hh.shape[0] // 4, w_hh.shape[1]
    out = take((R, 4 * H), dt)
    out[:, :H] = w_hh[3 * H:].T
    out[:, H:] = w_hh[:3 * H].T
    return out


def lstm_forward(
    x: np.ndarray, h0: np.ndarray | None, c0: np.ndarray | None, w_ih: np.ndarray, w_hh: np.ndarray,
    b_ih: np.ndarray | None, b_hh: np.ndarray | None, w_hr: np.ndarray | None = None, *, keep: bool = True,
) -> tuple[np.ndarray, list[np.ndarray], dict | None]:
    """One LSTM layer over a sequence; returns ``out (L,N,R)``, ``[h_n (N,R), c_n (N,H)]``, context.

    ``w_hr (P, H)`` or None: PyTorch's projection (``proj_size``), ``h_t = W_hr (o_t tanh(c_t))``;
    ``R`` is ``P`` with it and ``H`` without, and ``w_hh`` is ``(4H, R)``.
    """
    L, N, I = x.shape
    H, R = w_hh.shape[0] // 4, w_hh.shape[1]
    dt = x.dtype
    w = _lstm_weights(w_ih, w_hh, _sum_bias(b_ih, b_hh), dt)
    z = np.empty((L + 1, R + 1 + I, N), dt)  # not pooled: the outputs are views of it
    z[:, R] = 1
    z[0, :R] = 0 if h0 is None else h0.T
    np.copyto(z[:L, R + 1:], x.transpose(0, 2, 1))
    z[L, R + 1:] = 0
    # The gates live in a scratch of ``span`` steps; at the end of each chunk, while they are still
    # in cache, the backward's multipliers for those steps are computed from them (``q``, ``m``),
    # and only those are kept. Step j owns s[j] = [o, i, f, g]; its c_{t-1} waits in the first
    # rows of s[j + 1], right after g (step j + 1 overwrites them later), so [i, f] * [g, c_{t-1}]
    # is one call.
    span = max(1, min(L, _CHUNK_BYTES // (7 * H * N * dt.itemsize)))
    s = take((span + 2, 4 * H, N), dt)
    flat = s.reshape((span + 2) * 4 * H, N)
    tcs = take((span, H, N), dt)  # tanh(c_t)
    ps = take((span, 2 * H, N), dt)  # [i g, f c_{t-1}]
    qm = take((L, 6 * H, N), dt) if keep else None  # per step q then m, read together by the backward
    q = None if qm is None else qm[:, :2 * H]  # [o (1 - tanh(c)^2), tanh(c) o (1 - o)]
    m = None if qm is None else qm[:, 2 * H:]  # [g i (1 - i), c_{t-1} f (1 - f), i (1 - g^2), f]
    # o tanh(c): the hidden state itself, or (with a projection) what W_hr projects
    ms = None if w_hr is None else take((L if keep else 1, H, N), dt)
    whr = None if w_hr is None else np.ascontiguousarray(w_hr, dtype=dt)
    s[1, :H] = 0 if c0 is None else c0.T
    half = dt.type(0.5)
    H3, H4, H5, H8, H9 = 3 * H, 4 * H, 5 * H, 8 * H, 9 * H
    hout = z[1:, :H] if whr is None else ms  # where o tanh(c) goes
    # each chunk reuses the scratch, so its per-step views are made once
    views = [(flat[b:b + H4], flat[b:b + H3], flat[b + H:b + H3], flat[b + H3:b + H5], ps[j], ps[j, :H],
              ps[j, H:], flat[b + H8:b + H9], tcs[j], flat[b:b + H]) for j, b in enumerate(range(0, span * H4, H4))]
    j = t0 = 0
    dot, tanh, mul, add = _dot, np.tanh, np.multiply, np.add  # local names: cheaper lookups per step
    for t in range(L):  # positional out= arguments: a little cheaper per call
        gates, sig, if_, gc, p, ig, fc, c, tc, o = views[j]
        if t == 0 and h0 is None:  # h_{-1} = 0: skip its columns
            dot(w[:, R:], z[0, R:], gates)
        else:
            dot(w, z[t], gates)
        tanh(gates, gates)
        mul(sig, half, sig)
        add(sig, half, sig)
        mul(if_, gc, p)
        add(ig, fc, c)
        tanh(c, tc)
        if whr is None:
            mul(o, tc, hout[t])
        else:
            k = t if keep else 0
            mul(o, tc, hout[k])
            dot(whr, hout[k], z[t + 1, :R])
        j += 1
        if j == span or t == L - 1:  # end of a chunk
            if keep:
                _lstm_multipliers(s[:j], tcs[:j], ps[:j], hout[t0:t + 1], q[t0:t + 1], m[t0:t + 1])
            s[1, :H] = s[j + 1, :H]  # c_t, where the next chunk's first step looks for it
            j, t0 = 0, t + 1
    out = z[1:, :R].transpose(0, 2, 1)
    c_n = s[1, :H].T.copy()  # s goes back to the pool
    give(s, tcs, ps, w)
    ctx = None
    pooled = (qm,) if ms is None else (qm, ms)
    if keep:
        ctx = _Saved(x=x, z=z, q=q, m=m, ms=ms, w_ih=w_ih, w_hh=w_hh, w_hr=whr)
        ctx.pooled = pooled
    elif ms is not None:
        give(ms)
    return out, [z[L, :R].T, c_n], ctx


def _lstm_multipliers(s: np.ndarray, tc: np.ndarray, p: np.ndarray, h: np.ndarray, q: np.ndarray,
                      m: np.ndarray) -> None:
    """What the backward multiplies the state gradients by, for ``n`` steps from the forward's gates
    ``s (n, 4H, N)``, ``tanh(c) (n, H, N)``, ``p = [i g, f c_prev] (n, 2H, N)`` and ``h = o tanh(c)``:
    ``q = [o (1 - tanh(c)^2), tanh(c) o (1 - o)] (n, 2H, N)`` and
    ``m = [g i (1 - i), c_prev f (1 - f), i (1 - g^2), f] (n, 4H, N)``."""
    H = s.shape[1] // 4
    o, i, f, g = s[:, :H], s[:, H:2 * H], s[:, 2 * H:3 * H], s[:, 3 * H:]
    q_c, q_o, m_if, m_g = q[:, :H], q[:, H:], m[:, :2 * H], m[:, 2 * H:3 * H]
    np.multiply(h, tc, q_c)
    np.subtract(o, q_c, q_c)
    np.multiply(h, o, q_o)
    np.subtract(h, q_o, q_o)
    np.multiply(p, s[:, H:3 * H], m_if)
    np.subtract(p, m_if, m_if)
    np.multiply(p[:, :H], g, m_g)
    np.subtract(i, m_g, m_g)
    np.copyto(m[:, 3 * H:], f)


def lstm_backward(ctx: dict, g_out: np.ndarray | None, g_states: list, need: tuple[bool, ...]) -> RNNGrads:
    """BPTT for :func:`lstm_forward`; ``need = (x, h0, c0, w_ih, w_hh, b_ih, b_hh[, w_hr])``.

    Returns ``(dx, [dh0, dc0], dw_ih, dw_hh, db_ih, db_hh, dw_hr)``.
    """
    x, z = ctx["x"], ctx["z"]
    whr = ctx["w_hr"]
    L, N, I = x.shape
    H, R = ctx["w_hh"].shape[0] // 4, ctx["w_hh"].shape[1]
    dt = x.dtype
    need_x, need_h0, need_c0, need_wih, need_whh, need_bih, need_bhh = need[:7]
    need_whr = whr is not None and len(need) > 7 and need[7]
    need_b = need_bih or need_bhh
    lo = 0 if (need_whh or need_b) else R + 1  # rows of z that weight gradients need: [h; 1] and/or x
    hi = R + 1 + I if need_wih else R + 1
    K = hi - lo
    # The backward runs a chunk of ``span`` steps at a time, last chunk first: the chunk's
    # recurrence, then its share of the input and weight gradients. Each chunk's work arrays stay
    # in cache; one GEMM per chunk costs only a little more than one over the whole sequence.
    span = _CHUNK_BYTES // ((4 * H + K) * N * dt.itemsize)
    if 4 * H * K * dt.itemsize > _CHUNK_BYTES:  # a weight gradient out of cache: adding each chunk's
        span = max(span, -(-_MIN_GEMM_COLUMNS // N))  # share into it must stay cheap next to its GEMM
    span = max(1, min(L, span))
    q4 = ctx["q"].reshape(L, 2, H, N)  # dh * q -> [dc (from h), do]
    m4 = ctx["m"].reshape(L, 4, H, N)  # dc * m -> [di, df, dg, dc_prev]
    dgs = take((4 * H, span, N), dt)  # gate gradients [do, di, df, dg] of the chunk, columns (t, n)
    zc = take((span, N, K), dt)  # z of the chunk, transposed: rows (t, n), the faster GEMM operand
    gT = _grad_seq(g_out)
    whT = _lstm_whT(ctx["w_hh"], dt)
    wx = _rotate_gates(ctx["w_ih"], 1, dt) if need_x else None
    dx = np.empty((L, N, I), dt) if need_x else None
    full = tmp = None  # [dW_hh | db | dW_ih] (columns lo:hi)
    bufs = [np.empty((6 * H, N), dt) for _ in range(2)]  # rows [dc, do, di, df, dg, dc_prev]
    views = [(b[:H], b[: 2 * H].reshape(2, H, N), b[2 * H:].reshape(4, H, N), b[H:5 * H], b[5 * H:]) for b in bufs]
    dh = np.empty((R, N), dt)
    # with a projection: dm = W_hr^T dh feeds the gates, and dW_hr = sum dh m^T, a GEMM per chunk
    hs = z[1:, :H] if whr is None else ctx["ms"]
    whrT = None if whr is None else np.ascontiguousarray(whr.T)
    dm = dh if whr is None else np.empty((H, N), dt)
    dhs = take((R, span, N), dt) if need_whr else None
    mc = take((H, span, N), dt) if need_whr else None
    dw_hr = tmp_r = None  # sum of dh m^T
    g_h, g_c = g_states
    nxt = None
    dot, mul, add = _dot, np.multiply, np.add
    for b_ in range(L, 0, -span):
        a = max(0, b_ - span)
        n = b_ - a
        # -------- the recurrence: 6 NumPy calls per step (5 when only the final states get a gradient)
        for t in range(b_ - 1, a - 1, -1):
            j = t - a
            dc, dq, dmul, dgate, _ = cur = views[t & 1]
            if nxt is None:
                dh[...] = 0 if g_h is None else g_h.T
            else:
                dot(whT, nxt[3], dh)
            if gT is not None:
                np.add(dh, gT[t], out=dh)
            if whrT is not None:
                np.matmul(whrT, dh, out=dm)
                if need_whr:
                    np.copyto(dhs[:, j], dh)
            mul(dm, q4[t], dq)
            if nxt is not None:
                add(dc, nxt[4], dc)
            elif g_c is not None:
                np.add(dc, g_c.T, out=dc)
            mul(dc, m4[t], dmul)
            dgs[:, j] = dgate
            nxt = cur
        # -------- the chunk's input and weight gradients
        dg = dgs[:, :n].reshape(4 * H, n * N)
        if need_x:
            np.matmul(dg.T, wx, out=dx[a:b_].reshape(n * N, I))
        if K > 0:
            zn = zc[:n]
            np.copyto(zn, z[a:b_, lo:hi].transpose(0, 2, 1))
            full, tmp = _add_product(full, tmp, dg, zn.reshape(n * N, K))
        if need_whr:
            mn = mc[:, :n]
            np.copyto(mn, hs[a:b_].transpose(1, 0, 2))
            dw_hr, tmp_r = _add_product(dw_hr, tmp_r, dhs[:, :n].reshape(R, n * N), mn.reshape(H, n * N).T)
    first = nxt
    give(dgs, zc, *([] if gT is None else [gT]), *([] if dhs is None else [dhs, mc]))
    dw_ih = dw_hh = db = None
    if K > 0:
        if need_whh:
            dw_hh = _rotate_gates(full[:, :R], -1)
        if need_b:
            db = _rotate_gates(full[:, R - lo], -1)
        if need_wih:
            dw_ih = _rotate_gates(full[:, R + 1 - lo:], -1)
    states = [(whT @ first[3]).T if need_h0 else None, first[4].T.copy() if need_c0 else None]
    give(whT)
    return (dx, states, dw_ih, dw_hh, db if need_bih else None, db if need_bhh else None, dw_hr)


# ============================================================================ GRU
# Input rows in order [n, r, z], recurrent rows in PyTorch's order [r, z, n]: the step's
# gradient buffer [da_n, da_r, da_z, dhn, direct] then holds the input-side gate gradients
# in rows 0:3H and the recurrent-side ones in rows H:4H, both contiguous.
_GRU_X_ORDER = (2, 0, 1)


def gru_forward(
    x: np.ndarray, h0: np.ndarray | None, w_ih: np.ndarray, w_hh: np.ndarray,
    b_ih: np.ndarray | None, b_hh: np.ndarray | None, keep: bool = True,
) -> tuple[np.ndarray, list[np.ndarray], dict | None]:
    """One GRU layer (PyTorch's formula, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``)."""
    L, N, _ = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    perm_x = _perm(_GRU_X_ORDER, H)
    sign_x = np.ones(3 * H, dt)
    sign_x[H:] = -1
    sign_h = np.ones(3 * H, dt)
    sign_h[: 2 * H] = -1
    bias_h = None
    if b_ih is not None or b_hh is not None:
        bias_h = np.zeros(3 * H, dt)
        if b_hh is not None:
            bias_h += b_hh
        if b_ih is not None:
            bias_h[: 2 * H] += b_ih[: 2 * H]
    xpt, wh, ht = _setup(x, h0, w_ih, w_hh, perm_x, sign_x, sign_h, bias_h)
    if b_ih is not None:
        xpt[:, :H] += b_ih[2 * H:, None].astype(dt, copy=False)
    kl = L if keep else 1
    rb = take((kl, 3 * H, N), dt)  # [-a_r(h), -a_z(h), hn = W_hn h + b_hn]
    es = take((kl, 2 * H, N), dt)  # [1 / r, 1 / z]
    ns = take((kl, H, N), dt)
    tmp = np.empty((H, N), dt)
    rb_rz, rb_n, xp_n, xp_rz = rb[:, : 2 * H], rb[:, 2 * H:], xpt[:, :H], xpt[:, H:]
    e_r, e_z = es[:, :H], es[:, H:]
    one = dt.type(1)
    with np.errstate(over="ignore"):
        for t in range(L):
            k = t if keep else 0
            e, n, hprev = es[k], ns[k], ht[t, :H]
            np.matmul(wh, ht[t], out=rb[k])
            np.add(rb_rz[k], xp_rz[t], out=e)
            np.exp(e, out=e)
            np.add(e, one, out=e)
            np.divide(rb_n[k], e_r[k], out=tmp)  # r * hn
            np.add(tmp, xp_n[t], out=tmp)
            np.tanh(tmp, out=n)
            np.subtract(hprev, n, out=tmp)
            np.divide(tmp, e_z[k], out=tmp)  # z (h - n)
            np.add(n, tmp, out=ht[t + 1, :H])
    give(xpt)
    out = ht[1:, :H].transpose(0, 2, 1)
    ctx = None
    if keep:
        ctx = _Saved(x=x, ht=ht, rb=rb, es=es, ns=ns, w_ih=w_ih, w_hh=w_hh, perm_x=perm_x,
                     xrows=slice(0, 3 * H), hrows=slice(H, 4 * H))
        ctx.pooled = (rb, es, ns)
    else:
        give(rb, es, ns)
    return out, [ht[L, :H].T], ctx


def gru_backward(ctx: dict, g_out: np.ndarray | None, g_states: list, need: tuple[bool, ...]) -> RNNGrads:
    """BPTT for :func:`gru_forward`; ``need = (x, h0, w_ih, w_hh, b_ih, b_hh)``."""
    x, ht, rb, es, ns = ctx["x"], ctx["ht"], ctx["rb"], ctx["es"], ctx["ns"]
    L, N, _ = x.shape
    H = ht.shape[1] - 1
    dt = x.dtype
    # -------- bulk: multipliers of all steps
    rz = np.reciprocal(es, out=take((L, 2 * H, N), dt))  # [r, z]
    drz = np.multiply(rz, rz, out=take((L, 2 * H, N), dt))
    np.subtract(rz, drz, out=drz)  # [r', z']
    r, z = rz[:, :H], rz[:, H:]
    kk = take((L, 3 * H, N), dt)  # dh * kk -> [da_n, da_z, direct]
    tmp = np.multiply(ns, ns, out=take((L, H, N), dt))
    np.subtract(1, tmp, out=tmp)
    np.subtract(1, z, out=kk[:, :H])
    np.multiply(kk[:, :H], tmp, out=kk[:, :H])  # (1 - z)(1 - n^2)
    np.subtract(ht[:L, :H], ns, out=kk[:, H:2 * H])
    np.multiply(kk[:, H:2 * H], drz[:, H:], out=kk[:, H:2 * H])  # (h - n) z'
    kk[:, 2 * H:] = z
    rr = take((L, 2 * H, N), dt)  # da_n * rr -> [da_r, dhn]
    np.multiply(rb[:, 2 * H:], drz[:, :H], out=rr[:, :H])
    rr[:, H:] = r
    kk3, rr2 = kk.reshape(L, 3, H, N), rr.reshape(L, 2, H, N)
    # -------- the recurrence: 6 NumPy calls per step
    gT = _grad_seq(g_out)
    whT = np.ascontiguousarray(ctx["w_hh"].T, dtype=dt)  # (H, 3H), rows [r, z, n]; C order: faster GEMM
    dgs = take((4 * H, L, N), dt)  # [da_n, da_r, da_z, dhn], columns (t, n)
    bufs = [np.empty((5 * H, N), dt) for _ in range(2)]
    views = []
    for b in bufs:
        b5 = b.reshape(5, H, N)
        views.append((b5[0::2], b5[0], b5[1::2], b[H:4 * H], b[4 * H:], b[: 4 * H]))
    dh = np.empty((H, N), dt)
    g_h = g_states[0]
    nxt = None
    for t in range(L - 1, -1, -1):
        even, dan, odd, _, _, dg4 = cur = views[t & 1]
        if nxt is None:
            dh[...] = 0 if g_h is None else g_h.T
        else:
            np.matmul(whT, nxt[3], out=dh)
            np.add(dh, nxt[4], out=dh)
        if gT is not None:
            np.add(dh, gT[t], out=dh)
        np.multiply(dh, kk3[t], out=even)  # [da_n, da_z, direct]
        np.multiply(dan, rr2[t], out=odd)  # [da_r, dhn]
        np.copyto(dgs[:, t], dg4)
        nxt = cur
    first = nxt
    init = [lambda: (whT @ first[3] + first[4]).T]

    def gru_bias(db_h: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        if db_h is None:
            return None, None
        db_i = np.empty_like(db_h)
        db_i[: 2 * H] = db_h[: 2 * H]
        db_i[2 * H:] = dgs[:H].sum(axis=(1, 2))
        return db_i, db_h

    grads = _finish(ctx, dgs.reshape(4 * H, L * N), init, need, gru_bias)
    give(rz, drz, kk, tmp, rr, dgs, *([] if gT is None else [gT]))
    return grads


# ============================================================================ shared tail
def _sum_bias(b_ih: np.ndarray | None, b_hh: np.ndarray | None) -> np.ndarray | None:
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def _same_bias(db: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """RNN and LSTM add both biases to the same pre-activation: equal gradients."""
    return db, db


def _finish(ctx: dict, dg: np.ndarray, init: list, need: tuple[bool, ...], bias_fn: Any) -> RNNGrads:
    """Collect ``(dx, [d states], dw_ih, dw_hh, db_ih, db_hh)`` for the flags in ``need``.

    Only the input weight's rows are permuted (``ctx['perm_x']``, the GRU's); the recurrent
    weight and the biases come back from :func:`_weight_grads` and ``bias_fn`` in PyTorch's order.
    """
    n_states = len(init)
    need_x = need[0]
    need_states = need[1:1 + n_states]
    need_wih, need_whh, need_bih, need_bhh = need[1 + n_states:]
    dx, dw_ih, dw_hh, db = _weight_grads(ctx, dg, (need_x, need_wih, need_whh or need_bih or need_bhh))
    states = [fn() if flag else None for fn, flag in zip(init, need_states)]
    db_ih, db_hh = bias_fn(db)
    return (
        dx,
        states,
        _unperm(dw_ih, ctx["perm_x"]) if need_wih else None,
        dw_hh if need_whh else None,
        db_ih if need_bih else None,
        db_hh if need_bhh else None,
    )
