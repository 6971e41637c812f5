"""Cases 1-5: one training step (or one inference) of small models, Myelin vs PyTorch, same weights.

Every pair starts from the same weights (Myelin's initialisation copied into PyTorch through
``state_dict``) and the same batch, and the first loss of both is checked to agree, so both
libraries do the same work. A training step is ``zero_grad``, forward, cross-entropy,
``backward``, ``SGD.step`` (lr 0.01).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np
from _harness import Case, Ratio
from numpy_mlp import affine, numpy_mlp_step

import myelin

__all__ = ["build_cases", "cnn_gemm_floor", "gemm_floor", "gru_gemm_floor", "lstm_gemm_floor", "mlp_pair",
           "train_step_pair"]

LR = 0.01


def _copy_weights(torch: Any, src: Any, dst: Any) -> None:
    dst.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in src.state_dict().items()})


def train_step_pair(torch: Any, m_model: Any, t_model: Any, x: np.ndarray, y: np.ndarray,
                    head: Callable[[Any], Any] | None = None, t_head: Callable[[Any], Any] | None = None,
                    ) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """Two closures, each one SGD training step of its model on ``(x, y)``; checks the first losses agree."""
    import myelin.nn.functional as F
    from myelin.optim import SGD

    _copy_weights(torch, m_model, t_model)
    xm, ym = myelin.as_tensor(x), myelin.as_tensor(y.astype(np.int64))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    m_opt = SGD(m_model.parameters(), lr=LR)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=LR)
    tF = torch.nn.functional
    m_head = head or (lambda out: out)
    t_head = t_head or m_head

    def step_myelin() -> Any:
        m_opt.zero_grad()
        loss = F.cross_entropy(m_head(m_model(xm)), ym)
        loss.backward()
        m_opt.step()
        return loss

    def step_torch() -> Any:
        t_opt.zero_grad()
        loss = tF.cross_entropy(t_head(t_model(xt)), yt)
        loss.backward()
        t_opt.step()
        return loss

    lm, lt = float(step_myelin().item()), float(step_torch().item())
    if not abs(lm - lt) <= 1e-3 * max(1.0, abs(lt)):
        raise AssertionError(f"the two models disagree before timing: loss {lm} (myelin) vs {lt} (torch)")
    return step_myelin, step_torch


def inference_pair(torch: Any, m_model: Any, t_model: Any, x: np.ndarray) -> tuple[Callable, Callable]:
    """Two closures, each one forward pass under ``no_grad`` (weights copied from Myelin first)."""
    _copy_weights(torch, m_model, t_model)
    xm, xt = myelin.as_tensor(x), torch.from_numpy(x)

    def infer_myelin() -> Any:
        with myelin.no_grad():
            return m_model(xm)

    def infer_torch() -> Any:
        with torch.no_grad():
            return t_model(xt)

    a, b = infer_myelin().data, infer_torch().numpy()
    if not np.allclose(a, b, rtol=1e-4, atol=1e-4):
        raise AssertionError("the two models' outputs disagree before timing")
    return infer_myelin, infer_torch


# ------------------------------------------------------------------------------------------ models
def mlp_pair(torch: Any, sizes: tuple[int, ...]) -> tuple[Any, Any]:
    """``Linear-ReLU-...-Linear`` with the given layer sizes, in Myelin and in PyTorch (unsynchronised)."""
    from myelin import nn

    m_layers: list[Any] = []
    t_layers: list[Any] = []
    for i, (a, b) in enumerate(pairwise(sizes)):
        m_layers.append(nn.Linear(a, b))
        t_layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            m_layers.append(nn.ReLU())
            t_layers.append(torch.nn.ReLU())
    return nn.Sequential(*m_layers), torch.nn.Sequential(*t_layers)


def cnn_pair(torch: Any) -> tuple[Any, Any]:
    from myelin import nn

    tn = torch.nn
    m = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    t = tn.Sequential(
        tn.Conv2d(1, 32, 3, padding=1), tn.ReLU(), tn.MaxPool2d(2),
        tn.Conv2d(32, 64, 3, padding=1), tn.ReLU(), tn.MaxPool2d(2),
        tn.Flatten(), tn.Linear(3136, 128), tn.ReLU(), tn.Linear(128, 10),
    )
    return m, t


def _recurrent_pair(torch: Any, kind: str) -> tuple[Any, Any]:
    """``kind`` (LSTM or GRU)(64, 128, batch_first) whose last hidden state feeds Linear(128, 10)."""
    from myelin import nn

    class MRec(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = getattr(nn, kind)(64, 128, batch_first=True)
            self.fc = nn.Linear(128, 10)

        def forward(self, x: Any) -> Any:
            _, h = self.rnn(x)
            h = h[0] if isinstance(h, tuple) else h
            return self.fc(h[-1])

    class TRec(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = getattr(torch.nn, kind)(64, 128, batch_first=True)
            self.fc = torch.nn.Linear(128, 10)

        def forward(self, x: Any) -> Any:
            _, h = self.rnn(x)
            h = h[0] if isinstance(h, tuple) else h
            return self.fc(h[-1])

    return MRec(), TRec()


# ------------------------------------------------------------------------------------------ GEMM floor
class _Backend:
    """The few array calls the floors make, in NumPy (``"numpy"``) or in PyTorch (``"torch"``: the same
    products through PyTorch's BLAS, MKL in its x86 wheels), so one floor function serves both."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "torch":
            import torch

            self.torch = torch
            self.matmul = torch.matmul
        elif name == "numpy":
            self.matmul = np.matmul
        else:
            raise ValueError(f"backend: expected 'numpy' or 'torch', received {name!r}")

    def arrays(self, *arrays: np.ndarray) -> list[Any]:
        if self.name == "numpy":
            return list(arrays)
        return [self.torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]

    def permute(self, a: Any, *axes: int) -> Any:
        return a.transpose(*axes) if self.name == "numpy" else a.permute(*axes)

    def affine(self, a: Any, w: Any) -> Any:
        """``a @ w.T`` in NumPy's fastest layout (:func:`numpy_mlp.affine`); PyTorch picks its own."""
        return affine(a, w) if self.name == "numpy" else a @ w.T


def gemm_floor(sizes: tuple[int, ...], batch: int, layout: str = "best", seed: int = 0,
               backend: str = "numpy") -> Callable[[], Any]:
    """Only the matrix products of one training step of the MLP ``sizes``, with NumPy, nothing else.

    Forward: one ``(B, in) x (in, out)`` product per layer. Backward: the weight gradient
    ``g.T @ a`` per layer and the input gradient ``g @ W`` for every layer but the first (the
    data needs no gradient). ``layout="naive"`` writes them as in a textbook (``x @ W.T``);
    ``layout="best"`` computes the same products in their fastest layouts (``(W @ x.T).T`` where
    OpenBLAS runs it faster, gradients in their input's layout; the choice Myelin's ``linear``
    makes too), so the floor is as low as NumPy goes and the ratio to it is the framework's overhead.
    ``backend="torch"``: the same products through PyTorch's BLAS (written plainly: MKL picks its layouts).
    """
    rng = np.random.default_rng(seed)
    f32 = np.float32
    ws = [rng.standard_normal((b, a)).astype(f32) * 0.05 for a, b in pairwise(sizes)]
    x = rng.standard_normal((batch, sizes[0])).astype(f32)
    g_out = rng.standard_normal((batch, sizes[-1])).astype(f32)
    naive = layout == "naive" or backend == "torch"
    be = _Backend(backend)
    ws, (x, g_out) = be.arrays(*ws), be.arrays(x, g_out)

    def products() -> Any:
        acts = [x]
        for w in ws:
            acts.append(acts[-1] @ w.T if naive else affine(acts[-1], w))
        g = g_out
        out = None
        for i in range(len(ws) - 1, -1, -1):
            a = acts[i]
            out = g.T @ a
            if i:
                f_ordered = not naive and a.flags.f_contiguous and not a.flags.c_contiguous
                g = (ws[i].T @ g.T).T if f_ordered else g @ ws[i]
        return out

    return products


def lstm_gemm_floor(seq: int = 50, batch: int = 32, inputs: int = 64, hidden: int = 128, classes: int = 10,
                    seed: int = 0, backend: str = "numpy") -> Callable[[], Any]:
    """Only the matrix products of one LSTM training step (case 5), with NumPy, nothing else.

    The layouts are those of Myelin's kernel, the fastest we measured: per step one
    ``(4H, H+1+I) x (H+1+I, N)`` product (recurrent and input weights and bias at once) forward and
    one ``(H, 4H) x (4H, N)`` backward (none for the last step, whose state gradient comes from the
    head), then one ``(4H, L*N) x (L*N, H+1+I)`` product for every weight gradient; plus the
    ``Linear(H, classes)`` head's three. The input needs no gradient (as in case 5). Any NumPy LSTM
    pays at least this; the ratio to it is everything else (gates, copies, Python, the framework).
    ``backend="torch"``: the same products through PyTorch's BLAS.
    """
    rng = np.random.default_rng(seed)
    f32 = np.float32
    K, G = hidden + 1 + inputs, 4 * hidden
    w = rng.standard_normal((G, K)).astype(f32) * 0.05
    whT = np.ascontiguousarray(w[:, :hidden].T)
    z = rng.standard_normal((seq + 1, K, batch)).astype(f32)
    d = rng.standard_normal((G, seq, batch)).astype(f32) * 0.05
    zc = rng.standard_normal((K, seq * batch)).astype(f32)
    fc = rng.standard_normal((classes, hidden)).astype(f32) * 0.05
    g_head = rng.standard_normal((batch, classes)).astype(f32)
    r = np.empty((G, batch), f32)
    dh = np.empty((hidden, batch), f32)
    be = _Backend(backend)
    mm = be.matmul
    w, whT, z, d, zc, fc, g_head, r, dh = be.arrays(w, whT, z, d, zc, fc, g_head, r, dh)

    def products() -> Any:
        for t in range(seq):
            mm(w, z[t], out=r)
        h = z[seq, :hidden].T
        _ = h @ fc.T
        _ = g_head.T @ h
        dh[...] = (g_head @ fc).T
        for t in range(seq - 1, 0, -1):
            mm(whT, d[:, t], out=dh)
        return d.reshape(G, seq * batch) @ zc.T

    return products


def gru_gemm_floor(seq: int = 50, batch: int = 32, inputs: int = 64, hidden: int = 128, classes: int = 10,
                   seed: int = 0, backend: str = "numpy") -> Callable[[], Any]:
    """Only the matrix products of one GRU training step (case 5), with NumPy, nothing else.

    In the layouts of Myelin's kernel: the input projection of every step in one batched product
    ``(3H, I) x (I, N)`` per step; per step one ``(3H, H+1) x (H+1, N)`` product forward (recurrent
    weights and bias) and one ``(H, 3H) x (3H, N)`` backward (none for the last step); then the two
    weight gradients over all steps, ``(3H, L*N) x (L*N, I)`` and ``(3H, L*N) x (L*N, H+1)``; plus the
    ``Linear(H, classes)`` head's three. The input needs no gradient (as in case 5).
    ``backend="torch"``: the same products through PyTorch's BLAS.
    """
    rng = np.random.default_rng(seed)
    f32 = np.float32
    G = 3 * hidden
    wx = rng.standard_normal((G, inputs)).astype(f32) * 0.05
    wh = rng.standard_normal((G, hidden + 1)).astype(f32) * 0.05
    whT = np.ascontiguousarray(wh[:, :hidden].T)
    x = rng.standard_normal((seq, batch, inputs)).astype(f32)
    ht = rng.standard_normal((seq + 1, hidden + 1, batch)).astype(f32)
    dg = rng.standard_normal((G, seq * batch)).astype(f32) * 0.05
    dgs = rng.standard_normal((seq, G, batch)).astype(f32) * 0.05
    hp = rng.standard_normal((hidden + 1, seq * batch)).astype(f32)
    fc = rng.standard_normal((classes, hidden)).astype(f32) * 0.05
    g_head = rng.standard_normal((batch, classes)).astype(f32)
    xpt = np.empty((seq, G, batch), f32)
    r = np.empty((G, batch), f32)
    dh = np.empty((hidden, batch), f32)
    be = _Backend(backend)
    mm = be.matmul
    wx, wh, whT, x, ht, dg, dgs, hp, fc, g_head, xpt, r, dh = be.arrays(
        wx, wh, whT, x, ht, dg, dgs, hp, fc, g_head, xpt, r, dh)

    def products() -> Any:
        mm(wx, be.permute(x, 0, 2, 1), out=xpt)
        for t in range(seq):
            mm(wh, ht[t], out=r)
        h = ht[seq, :hidden].T
        _ = h @ fc.T
        _ = g_head.T @ h
        _ = (g_head @ fc).T
        for t in range(seq - 1, 0, -1):
            mm(whT, dgs[t], out=dh)
        _ = dg @ x.reshape(seq * batch, inputs)
        return dg @ hp.T

    return products


def cnn_gemm_floor(batch: int = 64, seed: int = 0, backend: str = "numpy") -> Callable[[], Any]:
    """Only the matrix products of one training step of case 4's CNN, with NumPy, nothing else.

    Every im2col convolution runs these whatever its other choices: per convolution the forward
    ``(N*Ho*Wo, kh*kw*C) x (kh*kw*C, O)``, the weight gradient ``(O, N*Ho*Wo) x (N*Ho*Wo, kh*kw*C)``
    and, for the second one only (the images need no gradient), the column gradient
    ``(N*Ho*Wo, O) x (O, kh*kw*C)``; then the two linear layers' products as in case 3 (the first one
    also passes its gradient back to the convolutions). Not included: building the columns
    (im2col), folding the column gradient back (col2im), pooling, ReLU, the loss and the update.
    ``backend="torch"``: the same products through PyTorch's BLAS (PyTorch's own convolutions are
    oneDNN kernels, not im2col: for PyTorch this is a reference, not a floor).
    """
    rng = np.random.default_rng(seed)
    f32 = np.float32
    convs = []
    for (c, o, hw) in ((1, 32, 28), (32, 64, 14)):
        m, k = batch * hw * hw, 9 * c
        convs.append((rng.standard_normal((m, k)).astype(f32), rng.standard_normal((o, k)).astype(f32) * 0.05,
                      rng.standard_normal((m, o)).astype(f32) * 0.05))
    w1 = rng.standard_normal((128, 3136)).astype(f32) * 0.02
    w2 = rng.standard_normal((10, 128)).astype(f32) * 0.05
    a1 = rng.standard_normal((batch, 3136)).astype(f32)
    g2 = rng.standard_normal((batch, 10)).astype(f32)
    be = _Backend(backend)
    convs = [be.arrays(*c) for c in convs]
    w1, w2, a1, g2 = be.arrays(w1, w2, a1, g2)

    def products() -> Any:
        for i, (cols, w, g) in enumerate(convs):
            _ = cols @ w.T
            _ = g.T @ cols
            if i:
                _ = g @ w
        h = be.affine(a1, w1)
        _ = be.affine(h, w2)
        _ = g2.T @ h
        g1 = g2 @ w2
        _ = g1.T @ a1
        return g1 @ w1

    return products


# ------------------------------------------------------------------------------------------ the cases
def build_cases(torch: Any, quick: bool = False) -> list[Case]:
    """Cases 1-5 (case 3, the GEMM floor, is timed inside case 2's rounds and reported with it)."""
    myelin.manual_seed(0)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    f32 = np.float32
    cases: list[Case] = []

    # 1) tabular MLP 30-64-64-2, batch 32
    m, t = mlp_pair(torch, (30, 64, 64, 2))
    x = rng.standard_normal((32, 30)).astype(f32)
    y = rng.integers(0, 2, 32)
    sm, st = train_step_pair(torch, m, t, x, y)
    cases.append(Case("1", "tabular MLP 30-64-64-2, b32, train step", {"myelin": sm, "torch": st},
                      [Ratio("myelin", "torch", 0.5)]))

    # 2) + 3) MLP 784-512-256-10: training at b128 and b32 (with its GEMM floor), inference
    sizes = (784, 512, 256, 10)
    for batch, target in ((128, 1.15), (32, 1.0)):
        m, t = mlp_pair(torch, sizes)
        x = rng.standard_normal((batch, 784)).astype(f32)
        y = rng.integers(0, 10, batch)
        sm, st = train_step_pair(torch, m, t, x, y)
        np_step = numpy_mlp_step(sizes, lr=LR)
        cases.append(Case(
            f"2/3 b{batch}", f"MLP 784-512-256-10, b{batch}, train step",
            {"myelin": sm, "torch": st, "gemm": gemm_floor(sizes, batch), "gemm_naive": gemm_floor(sizes, batch, "naive"),
             "gemm_torch": gemm_floor(sizes, batch, backend="torch"),
             "numpy": lambda np_step=np_step, x=x, y=y: np_step(x, y)},
            [Ratio("myelin", "torch", target), Ratio("myelin", "gemm", 1.1), Ratio("myelin", "gemm_naive"),
             Ratio("torch", "gemm"), Ratio("numpy", "gemm"), Ratio("myelin", "numpy"), Ratio("gemm", "gemm_torch"),
             Ratio("torch", "gemm_torch")],
            note="case 3, the NumPy GEMM floor: only the 8 matrix products of one step; gemm in the fastest "
                 "layouts (Myelin's), gemm_naive written as x @ W.T; gemm_torch: the same products through "
                 "PyTorch's BLAS (gemm/gemm_torch: NumPy's BLAS against PyTorch's); numpy: the whole step "
                 "hand-written in plain NumPy (benchmarks/numpy_mlp.py), the floor of any NumPy training step",
        ))
    for batch in (128, 32):
        m, t = mlp_pair(torch, sizes)
        x = rng.standard_normal((batch, 784)).astype(f32)
        im, it = inference_pair(torch, m, t, x)
        cases.append(Case(f"2i b{batch}", f"MLP 784-512-256-10, b{batch}, inference (no_grad)",
                          {"myelin": im, "torch": it}, [Ratio("myelin", "torch", 1.0)]))

    # 4) CNN, batch 64 on 1x28x28
    m, t = cnn_pair(torch)
    x = rng.standard_normal((64, 1, 28, 28)).astype(f32)
    y = rng.integers(0, 10, 64)
    sm, st = train_step_pair(torch, m, t, x, y)
    cases.append(Case("4", "CNN (2 conv, 2 pool, 2 linear), b64 1x28x28, train step",
                      {"myelin": sm, "torch": st, "gemm": cnn_gemm_floor(64),
                       "gemm_torch": cnn_gemm_floor(64, backend="torch")},
                      [Ratio("myelin", "torch", 1.5), Ratio("myelin", "gemm"), Ratio("torch", "gemm"),
                       Ratio("gemm", "gemm_torch")],
                      rounds=9 if quick else 15,
                      note="gemm: only the matrix products of one step (im2col GEMMs and the linear layers), in "
                           "NumPy: the floor of any NumPy im2col CNN; gemm_torch: the same products through "
                           "PyTorch's BLAS (PyTorch's own convolutions are oneDNN kernels)"))

    # 5) LSTM / GRU(64, 128), seq 50, batch 32, last hidden -> Linear(128, 10)
    for kind in ("LSTM", "GRU"):
        m, t = _recurrent_pair(torch, kind)
        x = rng.standard_normal((32, 50, 64)).astype(f32)
        y = rng.integers(0, 10, 32)
        sm, st = train_step_pair(torch, m, t, x, y)
        impls, ratios = {"myelin": sm, "torch": st}, [Ratio("myelin", "torch", 1.0)]
        floor = lstm_gemm_floor if kind == "LSTM" else gru_gemm_floor
        impls["gemm"], impls["gemm_torch"] = floor(), floor(backend="torch")
        ratios += [Ratio("myelin", "gemm"), Ratio("torch", "gemm"), Ratio("gemm", "gemm_torch"),
                   Ratio("torch", "gemm_torch")]
        note = (f"gemm: only the matrix products of one step, in NumPy (the floor of any NumPy {kind}); "
                "gemm_torch: the same products through PyTorch's BLAS")
        cases.append(Case(f"5 {kind}", f"{kind}(64,128) seq50 b32 -> Linear(128,10), train step",
                          impls, ratios, rounds=9 if quick else 15, note=note))
    return cases
