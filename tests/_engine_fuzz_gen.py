"""The generator of random programs for the engine's differential fuzzer (see ``_engine_fuzz.py``).

Generation (:func:`programs`, a Hypothesis strategy) is type-directed: the generator executes
each step in PyTorch as soon as it chooses it, so it knows every node's shape and values and
only emits what is valid and comparable:

- shapes: binary operands are drawn to broadcast (the partner is the same node, an earlier node
  of a compatible shape, or a new leaf of a broadcast variant of the shape: dims dropped, set to
  1, widened from 1, leading dims added, ``()`` or ``(1,)``); matmul operands align; dims and
  indices are in range; 0-d, ``(1,)`` and empty dims all occur;
- derivatives: values are kept off an op's nondifferentiable points (relu/abs/leaky_relu/elu
  at 0, clamp bounds, near-ties of max/min/maximum) by a margin of 1e-4, but may sit exactly on
  them (integer-valued leaves make exact zeros and ties), where the two libraries' conventions
  are compared; ``log``/``sqrt``/``**0.5`` get positive inputs (``x**2 + 0.5`` is inserted
  when needed), divisors stay away from 0, ``exp`` gets inputs below 8;
- magnitudes: any result above 20 in absolute value is rescaled by a power of two and the
  unscaled node is not used again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from _engine_fuzz import Leaf, Program, Step, TorchLib, apply_step, to_index

__all__ = ["program_from_seed", "programs"]

BOUND = 20.0  # values above this (in absolute value) are rescaled
MARGIN = 1e-4  # distance kept from kinks and near-ties (exact hits are allowed)
MAX_LEAF = 48  # elements of a leaf
MAX_NODE = 96  # elements of any node


# ----------------------------------------------------------------------------- value guards
def _near(v: np.ndarray, k: float) -> bool:
    """Some element within MARGIN of ``k`` without being exactly ``k``."""
    d = np.abs(v - k)
    return bool(((d > 0) & (d < MARGIN)).any())


def _near_ties(v: np.ndarray, dims: tuple[int, ...] | None, exact_ok: bool) -> bool:
    """Among each group reduced over ``dims``, values near the group's max (or min) that are not equal to it."""
    if v.size == 0:
        return False
    if v.ndim == 0:
        return False
    dims = tuple(range(v.ndim)) if dims is None else dims
    rest = [i for i in range(v.ndim) if i not in dims]
    g = np.transpose(v, rest + list(dims)).reshape(-1, int(np.prod([v.shape[d] for d in dims])))
    for m in (g.max(axis=1, keepdims=True), g.min(axis=1, keepdims=True)):
        d = np.abs(g - m)
        close = d < MARGIN
        if exact_ok:
            if (close & (d > 0)).any():
                return True
        elif (close.sum(axis=1) > 1).any():
            return True
    return False


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _broadcasts(s: tuple, t: tuple) -> tuple | None:
    try:
        return tuple(np.broadcast_shapes(s, t))
    except ValueError:
        return None


# ----------------------------------------------------------------------------- the generator
# methods whose top-level function takes the same arguments after the tensor (torch.sum(x, dim, keepdim=...))
_FUNCTION_FORMS = {
    "exp", "log", "sqrt", "abs", "neg", "relu", "sigmoid", "tanh", "sum", "mean", "amax", "amin", "clamp", "logsumexp",
    "prod", "cumsum", "var", "std", "transpose", "squeeze", "unsqueeze", "flatten", "softmax", "log_softmax", "max",
    "min",
}
_VIEW_OPS = {"index", "split", "mT", "T", "reshape", "view", "transpose", "permute", "squeeze", "unsqueeze", "expand",
             "flatten", "detach"}
_DIM_SIZES = (2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 4, 4, 4, 4, 0)  # shrinks to 2; 0 is 1 in 20


class _Gen:
    def __init__(self, draw: Any, L: TorchLib) -> None:
        self.draw = draw
        self.L = L
        self.prog = Program()
        self.env: dict = {}
        self.nodes: list[str] = []
        self.uses: dict[str, int] = {}
        self.hot: set[str] = set()  # rescaled away: not used again
        self.count = 0

    # -- helpers
    def permutation(self, n: int) -> list[int]:
        return list(self.draw(st.permutations(list(range(n)))))

    def i(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def chance(self, k: int, n: int) -> bool:
        """True with probability k/n (shrinks to False)."""
        return self.i(0, n - 1) >= n - k

    def choice(self, seq: Any) -> Any:
        seq = list(seq)
        return seq[self.i(0, len(seq) - 1)]

    def val(self, n: str) -> np.ndarray:
        return self.L.value(self.env[n])

    def shape(self, n: str) -> tuple[int, ...]:
        return tuple(self.env[n].shape)

    def new_name(self) -> str:
        self.count += 1
        return f"t{self.count - 1}"

    def draw_shape(self) -> tuple[int, ...]:
        nd = self.choice((1, 2, 0, 1, 2, 3, 0, 2, 1, 4))
        shape = [_DIM_SIZES[self.i(0, len(_DIM_SIZES) - 1)] for _ in range(nd)]
        while _size(tuple(shape)) > MAX_LEAF:
            shape[shape.index(max(shape))] -= 1
        return tuple(shape)

    # -- leaves and steps
    def leaf(self, shape: tuple | None = None, requires_grad: bool | None = None) -> str:
        if shape is None:
            shape = self.draw_shape()
        if requires_grad is None:
            requires_grad = not self.chance(1, 5)
        style = self.choice(("normal", "ints", "positive", "normal", "small"))
        rng = np.random.default_rng(self.i(0, 2**32 - 1))
        if style == "normal":
            values = rng.normal(0.0, 1.5, shape)
        elif style == "ints":
            values = rng.integers(-3, 4, shape).astype(np.float64)
        elif style == "positive":
            values = rng.uniform(0.2, 3.0, shape)
        else:
            values = rng.normal(0.0, 0.3, shape)
        values = np.asarray(values, dtype=np.float64)
        name = self.new_name()
        self.prog.leaves.append(Leaf(name, values, requires_grad))
        self.env[name] = self.L.leaf(values, requires_grad)
        self.nodes.append(name)
        self.uses[name] = 0
        return name

    def emit(self, op: str, args: list[str], params: dict | None = None, no_grad: bool | None = None) -> list[str]:
        if no_grad is None:
            # not on view ops: PyTorch marks a view made under no_grad of a tensor requiring grad as
            # requiring grad (without a grad_fn), a quirk Myelin does not copy
            no_grad = op not in _VIEW_OPS and (params or {}).get("fn") not in _VIEW_OPS and self.chance(1, 12)
        if op == "method" and params["fn"] in _FUNCTION_FORMS and self.chance(1, 4):
            params = dict(params, form="function")  # the top-level spelling, torch.exp(x)
        step = Step((), op, tuple(args), params or {}, no_grad)
        outs = apply_step(self.L, self.env, step)
        names = [self.new_name() for _ in outs]
        step.outs = tuple(names)
        self.prog.steps.append(step)
        for a in args:
            self.uses[a] += 1
        for n, t in zip(names, outs):
            self.env[n] = t
            self.nodes.append(n)
            self.uses[n] = 0
            v = self.val(n)
            if not np.isfinite(v).all():
                raise AssertionError(f"generator produced a non-finite value:{self.prog!r}")
            if v.size and np.abs(v).max() > BOUND:
                k = int(np.ceil(np.log2(np.abs(v).max() / 4)))
                self.hot.add(n)
                self.emit("scalar", [n], {"op": "*", "c": 2.0**-k, "side": "right"}, no_grad=False)
        return names

    def pick(self, pred: Any = None) -> str | None:
        cands = [n for n in self.nodes if n not in self.hot and (pred is None or pred(n))]
        if not cands:
            return None
        return cands[len(cands) - 1 - self.i(0, len(cands) - 1)]  # shrinks to the most recent

    def partner(self, a: str, pred: Any = None) -> str:
        """A node whose shape broadcasts with ``a``'s (``a`` itself, an earlier node or a new leaf)."""
        s = self.shape(a)
        mode = self.i(0, 9)
        if mode < 2 and (pred is None or pred(a)):
            return a

        def ok(n: str) -> bool:
            out = _broadcasts(s, self.shape(n))
            return out is not None and _size(out) <= MAX_NODE and (pred is None or pred(n))

        if mode < 6:
            n = self.pick(ok)
            if n is not None:
                return n
        return self.leaf(self.broadcast_variant(s))

    def broadcast_variant(self, s: tuple[int, ...]) -> tuple[int, ...]:
        kind = self.i(0, 6)
        t = list(s)
        if kind == 1 and t:
            t = t[self.i(1, len(t)):]
        elif kind == 2:
            t = [1 if self.chance(1, 2) else n for n in t]
        elif kind == 3 and _size(s) * 3 <= MAX_NODE:
            t = [self.i(1, 3)] + t
        elif kind == 4:
            t = []
        elif kind == 5:
            t = [1]
        elif kind == 6:
            t = [self.i(2, 3) if n == 1 and self.chance(1, 2) else n for n in t]
        t = tuple(t)
        out = _broadcasts(s, t)
        if out is None or _size(out) > MAX_NODE or _size(t) > MAX_LEAF:
            return s
        return t

    # -- op families: each returns False when it does not apply to what it drew
    def g_scalar(self) -> bool:
        x = self.pick()
        v = self.val(x)
        o = self.choice(("+", "-", "*", "/", "**", "*", "-"))
        side = self.choice(("right", "left"))
        if o == "**":
            if side == "right":
                c = self.choice((2, 3, 2.0, 0.5, -1, 1.5, 1, 3.0))
                if isinstance(c, float) and c != int(c) and not (v > 0.05).all():
                    return False
                if c < 0 and not (np.abs(v) > 0.1).all():
                    return False
            else:
                c = self.choice((2, 2.5, 0.5, 3.0))
                if v.size and v.max() > 6:
                    return False
        elif o == "/" and side == "left":
            c = self.choice((10.0, 1, -2.5, 3))
            if not (np.abs(v) > 0.1).all():
                return False
        else:
            c = self.choice((2, 1, 3, -1, 0.5, 10.0, -2.5, 1.0))
        self.emit("scalar", [x], {"op": o, "c": c, "side": side})
        return True

    def positive(self, x: str) -> str:
        """``x`` itself if all its values exceed 0.05, else ``x**2 + 0.5``."""
        if (self.val(x) > 0.05).all():
            return x
        (sq,) = self.emit("scalar", [x], {"op": "**", "c": 2, "side": "right"})
        return self.emit("scalar", [sq], {"op": "+", "c": 0.5, "side": "right"})[0]

    def g_elementwise(self) -> bool:
        x = self.pick()
        v = self.val(x)
        fn = self.choice(("neg", "exp", "log", "sqrt", "abs", "exp", "log"))
        if fn == "neg":
            self.emit("method", [x], {"fn": "neg"})
        elif fn == "exp":
            if v.size and v.max() > 8:
                return False
            self.emit("method", [x], {"fn": "exp"})
        elif fn in ("log", "sqrt"):
            self.emit("method", [self.positive(x)], {"fn": fn})
        elif fn == "abs":
            if _near(v, 0.0):
                return False
            self.emit("method", [x], {"fn": "abs"})
        return True

    def g_activation(self) -> bool:
        x = self.pick()
        v = self.val(x)
        fn = self.choice(("relu", "sigmoid", "tanh", "gelu", "silu", "softplus", "elu", "leaky_relu", "relu",
                          "selu", "hardtanh", "relu6", "logsigmoid", "mish", "hardswish"))
        kinks = {"relu": (0,), "elu": (0,), "leaky_relu": (0,), "selu": (0,), "hardtanh": (-1, 1), "relu6": (0, 6),
                 "hardswish": (-3, 3)}
        if any(_near(v, k) for k in kinks.get(fn, ())):
            return False
        if fn in ("relu", "sigmoid", "tanh") and self.chance(1, 2):
            self.emit("method", [x], {"fn": fn})
            return True
        kw: dict = {}
        if fn == "gelu":
            kw = {"approximate": self.choice(("none", "tanh"))}
        elif fn == "softplus":
            kw = self.choice(({}, {"beta": 2.0}, {"beta": 0.5, "threshold": 1.5}, {"threshold": 2.0}))
            if _near(v * kw.get("beta", 1.0), kw.get("threshold", 20.0)):
                return False
        elif fn == "elu":
            kw = self.choice(({}, {"alpha": 0.5}))
        elif fn == "leaky_relu":
            kw = self.choice(({}, {"negative_slope": 0.2}))
        self.emit("F", [x], {"fn": fn, "kw": kw})
        return True

    def g_clamp(self) -> bool:
        x = self.pick()
        v = self.val(x)
        lo = self.choice((-1.0, -0.5, 0.0, None, -2))
        hi = self.choice((1.0, 0.5, None, 2, 1.5))
        if lo is None and hi is None:
            lo = 0.0
        if lo is not None and hi is not None and hi < lo:
            lo, hi = hi, lo
        for k in (lo, hi):
            if k is not None and _near(v, float(k)):
                return False
        kw = {k: b for k, b in (("min", lo), ("max", hi)) if b is not None}
        self.emit("method", [x], {"fn": "clamp", "kw": kw})
        return True

    def g_softmax(self) -> bool:
        x = self.pick()
        nd = len(self.shape(x))
        if nd == 0 and not self.chance(1, 3):
            return False
        dim = self.i(-max(nd, 1), max(nd, 1) - 1)
        fn = self.choice(("softmax", "log_softmax"))
        if self.chance(1, 2):
            self.emit("F", [x], {"fn": fn, "kw": {"dim": dim}})
        else:
            self.emit("method", [x], {"fn": fn, "args": (dim,)})
        return True

    def g_binary(self) -> bool:
        a = self.pick()
        o = self.choice(("+", "-", "*", "/", "**", "*", "+"))
        if o == "/":
            b = self.partner(a, lambda n: bool((np.abs(self.val(n)) > 0.1).all()))
            if not (np.abs(self.val(b)) > 0.1).all():
                return False
        elif o == "**":
            a = self.positive(a)
            b = self.partner(a, lambda n: bool((np.abs(self.val(n)) < 3).all()))
            vb = self.val(b)
            if not (np.abs(vb) < 3).all():
                return False
        else:
            b = self.partner(a)
        if self.chance(1, 4):
            a, b = b, a
            if o in ("/", "**"):
                return False
        self.emit("binary", [a, b], {"op": o})
        return True

    def g_maxmin(self) -> bool:
        a = self.pick()
        b = self.partner(a)
        va, vb = np.broadcast_arrays(self.val(a), self.val(b))
        if _near(va - vb, 0.0):
            return False
        self.emit(self.choice(("maximum", "minimum")), [a, b])
        return True

    def g_where(self) -> bool:
        a = self.pick()
        b = self.partner(a)
        out = _broadcasts(self.shape(a), self.shape(b))
        cshape = self.broadcast_variant(out)
        if _broadcasts(cshape, out) != out:
            cshape = out
        rng = np.random.default_rng(self.i(0, 2**16))
        cond = rng.random(cshape) < 0.5
        if self.chance(1, 4):  # a Python number on one side: where(mask, x, 0.0)
            out = _broadcasts(cshape, self.shape(a))
            if out is None:
                return False
            self.emit("where", [a], {"cond": cond, "c": self.choice((0.0, 1, -2.5)), "side": self.choice((0, 1))})
            return True
        self.emit("where", [a, b], {"cond": cond})
        return True

    def g_matmul(self) -> bool:
        a = self.pick(lambda n: len(self.shape(n)) >= 1)
        if a is None:
            return False
        s = self.shape(a)
        k = s[-1]

        def ok(n: str) -> bool:
            t = self.shape(n)
            if not t:
                return False
            try:
                out = np.matmul(np.zeros(s), np.zeros(t)).shape
            except ValueError:
                return False
            return _size(out) <= MAX_NODE

        b = self.pick(ok) if self.chance(1, 3) else None
        if b is None:
            kind = self.i(0, 3)
            m = self.i(1, 3)
            if kind == 0:
                t: tuple = (k,)
            elif kind == 1:
                t = (k, m)
            elif kind == 2:
                batch = s[:-2] if len(s) > 2 else (self.i(1, 3),)
                t = tuple(batch) + (k, m)
            else:
                t = (1,) * max(len(s) - 2, 1) + (k, m)
            if _size(t) > MAX_LEAF:
                t = (k,)
            try:
                if _size(np.matmul(np.zeros(s), np.zeros(t)).shape) > MAX_NODE:
                    return False
            except ValueError:
                return False
            b = self.leaf(t)
        if self.chance(1, 5) and ok(b):  # the other order, when it aligns too
            try:
                np.matmul(np.zeros(self.shape(b)), np.zeros(s))
                a, b = b, a
            except ValueError:
                pass
        self.emit("matmul", [a, b])
        return True

    def g_cat_stack(self) -> bool:
        op = self.choice(("cat", "stack"))
        a = self.pick(lambda n: op == "stack" or len(self.shape(n)) >= 1)
        if a is None:
            return False
        s = self.shape(a)
        nd = len(s)
        parts = [a]
        for _ in range(self.i(1, 2)):
            if op == "stack":
                n = self.pick(lambda n: self.shape(n) == s) if self.chance(1, 2) else a
                parts.append(n if n is not None and self.chance(1, 2) else self.leaf(s))
            else:
                parts.append(a if self.chance(1, 3) else None)
        if op == "cat":
            dim = self.i(-nd, nd - 1)
            d = dim % nd
            for j in range(1, len(parts)):
                if parts[j] is None:
                    t = list(s)
                    t[d] = self.choice((1, 2, 0, 3))
                    parts[j] = self.leaf(tuple(t))
            if _size(s) * len(parts) > MAX_NODE * 2:
                return False
        else:
            dim = self.i(-nd - 1, nd)
            if _size(s) * len(parts) > MAX_NODE:
                return False
        self.emit(op, parts, {"dim": dim})
        return True

    def reduce_dims(self, nd: int, single: bool) -> Any:
        if self.chance(1, 4) and not single:
            return None
        if nd == 0:
            return self.choice((0, -1))
        if single or self.chance(2, 3):
            return self.i(-nd, nd - 1)
        k = self.i(1, nd)
        return tuple(sorted({self.i(-nd, nd - 1) % nd for _ in range(k)}))

    def g_reduce(self) -> bool:
        x = self.pick()
        s = self.shape(x)
        v = self.val(x)
        nd = len(s)
        fn = self.choice(("sum", "mean", "var", "std", "amax", "amin", "max", "min", "sum", "mean"))
        keepdim = self.chance(1, 2)
        full = fn in ("max", "min") and self.chance(1, 3)
        dim = None if full else self.reduce_dims(nd, fn in ("max", "min"))
        norm = None if dim is None else tuple(sorted({d % max(nd, 1) for d in ((dim,) if isinstance(dim, int) else dim)}))
        count = _size(s) if norm is None or nd == 0 else _size(tuple(s[d] for d in norm))
        if fn != "sum" and count == 0:
            return False
        params: dict = {"fn": fn, "kw": {}}
        if fn in ("var", "std"):
            corr = self.choice((1, 0))
            if count - corr < 1:
                return False
            params["kw"] = {"dim": dim, "keepdim": keepdim}
            if self.chance(1, 2):
                params["kw"]["correction"] = corr
            else:
                params["kw"]["unbiased"] = bool(corr)
            if fn == "std":
                var = self.L.value(self.env[x].detach().var(dim=dim, keepdim=keepdim, correction=corr))
                if (var < MARGIN).any():
                    return False
        elif fn in ("max", "min"):
            if full:
                if _near_ties(v, None, exact_ok=True):
                    return False
            else:
                if _near_ties(v, norm if nd else None, exact_ok=False):
                    return False
                params["args"] = (dim,)
                if keepdim:
                    params["kw"] = {"keepdim": True}
                params["tail"] = ".values"
        elif fn in ("amax", "amin"):
            if _near_ties(v, norm if nd else None, exact_ok=True):
                return False
            params["kw"] = {"dim": dim, "keepdim": keepdim} if dim is not None else {}
        else:
            if dim is None and not keepdim and self.chance(1, 2):
                params["kw"] = {}
            else:
                params["kw"] = {"dim": dim, "keepdim": keepdim}
        self.emit("method", [x], params)
        return True

    def g_more_reductions(self) -> bool:
        x = self.pick()
        s = self.shape(x)
        nd = len(s)
        fn = self.choice(("logsumexp", "prod", "cumsum", "norm"))
        if fn == "cumsum":
            self.emit("method", [x], {"fn": fn, "args": (self.i(-max(nd, 1), max(nd, 1) - 1),)})
            return True
        keepdim = self.chance(1, 2)
        if fn == "prod":
            if self.chance(1, 3):
                self.emit("method", [x], {"fn": fn})
            else:
                self.emit("method", [x], {"fn": fn, "args": (self.i(-max(nd, 1), max(nd, 1) - 1),),
                                          "kw": {"keepdim": keepdim}})
            return True
        dim = self.reduce_dims(nd, False)
        if fn == "logsumexp":
            if dim is None:
                dim = tuple(range(nd)) if nd else 0
            if not np.isfinite(self.L.value(self.env[x].detach().logsumexp(dim))).all():  # -inf over nothing
                return False
            self.emit("method", [x], {"fn": fn, "args": (dim,), "kw": {"keepdim": keepdim}})
            return True
        norm = self.L.torch.linalg.vector_norm(self.env[x].detach(), dim=dim, keepdim=keepdim)
        if (self.L.value(norm) < MARGIN).any():  # no derivative at the zero vector
            return False
        self.emit("method", [x], {"fn": fn, "kw": {"p": 2, "dim": dim, "keepdim": keepdim}})
        return True

    def g_reshape(self) -> bool:
        x = self.pick()
        s = list(self.shape(x))
        n = _size(tuple(s))
        kind = self.i(0, 5)
        if kind == 0:
            t = [n]
        elif kind == 1 and len(s) >= 2:
            j = self.i(0, len(s) - 2)
            t = s[:j] + [s[j] * s[j + 1]] + s[j + 2:]
        elif kind == 2:
            j = self.i(0, len(s))
            t = s[:j] + [1] + s[j:]
        elif kind == 3 and 1 in s:
            t = list(s)
            t.remove(1)
        elif kind == 4 and n == 1:
            t = []
        elif kind == 5 and any(m in (4, 6) for m in s):
            j = next(i for i, m in enumerate(s) if m in (4, 6))
            t = s[:j] + [2, s[j] // 2] + s[j + 1:]
        else:
            t = s[::-1]
        if n > 0 and t and self.chance(1, 3):
            t[self.i(0, len(t) - 1)] = -1
        if self.chance(1, 2):
            fn = "view" if self.env[x].is_contiguous() and self.chance(1, 2) else "reshape"
            self.emit("method", [x], {"fn": fn, "args": (tuple(t),)})
        else:
            self.emit("method", [x], {"fn": "reshape", "args": tuple(t) if t else ((),)})
        return True

    def g_layout(self) -> bool:
        x = self.pick()
        s = self.shape(x)
        nd = len(s)
        fn = self.choice(("transpose", "permute", "squeeze", "unsqueeze", "expand", "flatten", "mT", "detach"))
        if fn == "transpose" and nd >= 1:
            self.emit("method", [x], {"fn": fn, "args": (self.i(-nd, nd - 1), self.i(-nd, nd - 1))})
        elif fn == "permute" and nd >= 1:
            perm = self.permutation(nd)
            if self.chance(1, 3):
                perm[0] -= nd
            self.emit("method", [x], {"fn": fn, "args": tuple(perm)})
        elif fn == "squeeze":
            if nd == 0 or self.chance(1, 3):
                self.emit("method", [x], {"fn": fn})
            elif self.chance(1, 3) and nd >= 2:
                d0 = self.i(-nd, nd - 1)
                d1 = (d0 + self.i(1, nd - 1)) % nd
                self.emit("method", [x], {"fn": fn, "args": ((d0, d1),)})
            else:
                self.emit("method", [x], {"fn": fn, "args": (self.i(-nd, nd - 1),)})
        elif fn == "unsqueeze":
            self.emit("method", [x], {"fn": fn, "args": (self.i(-nd - 1, nd),)})
        elif fn == "expand":
            t = [self.i(2, 3) if m == 1 and self.chance(1, 2) else (-1 if self.chance(1, 3) else m) for m in s]
            if self.chance(1, 3) or not t:
                t = [self.i(1, 3)] + t
            full = tuple(abs(m) if m != -1 else s[i - (len(t) - nd)] for i, m in enumerate(t))
            if _size(full) > MAX_NODE:
                return False
            self.emit("method", [x], {"fn": fn, "args": tuple(t)})
        elif fn == "flatten":
            if nd == 0:
                self.emit("method", [x], {"fn": fn})
            else:
                a, b = sorted((self.i(-nd, nd - 1) % nd, self.i(-nd, nd - 1) % nd))
                self.emit("method", [x], {"fn": fn, "args": (a, b)})
        elif fn == "mT":
            x = self.pick(lambda n: len(self.shape(n)) >= 2)
            if x is None:
                return False
            if len(self.shape(x)) == 2 and self.chance(1, 2):
                self.emit("T", [x])
            else:
                self.emit("mT", [x])
        elif fn == "detach":
            self.emit("method", [x], {"fn": "detach"}, no_grad=False)
        else:
            return False
        return True

    def g_split(self) -> bool:
        x = self.pick(lambda n: len(self.shape(n)) >= 1)
        if x is None:
            return False
        s = self.shape(x)
        dim = self.i(-len(s), len(s) - 1)
        n = s[dim]
        if n == 0:
            return False
        if self.chance(1, 2):
            size: Any = self.i(1, n)
        else:
            cuts = sorted(self.i(0, n) for _ in range(self.i(1, 2)))
            size = [b - a for a, b in zip([0] + cuts, cuts + [n])]
        self.emit("split", [x], {"size": size, "dim": dim})
        return True

    def g_index(self) -> bool:
        x = self.pick()
        s = self.shape(x)
        nd = len(s)
        rng = np.random.default_rng(self.i(0, 2**16))
        kind = self.i(0, 4)
        if nd == 0:
            spec: tuple = (self.choice((("ellipsis", None), ("none", None))),)
        elif kind == 0 and self.chance(1, 2):  # a boolean mask of the whole shape
            spec = (("mask", rng.random(s) < 0.6),)
        else:
            comps = []
            adv = False
            for j in range(self.i(1, nd)):
                n = s[j]
                c = self.i(0, 4)
                if c == 0 and n > 0 and not adv and kind != 4:
                    comps.append(("int", self.i(-n, n - 1)))
                elif c == 1 and n > 0 and not adv and not any(k == "int" for k, _ in comps):
                    adv = True
                    idx = [self.i(-n, n - 1) for _ in range(self.i(1, 4))]
                    comps.append(("list", (idx, self.chance(1, 2))))
                elif c == 2 and not adv and not any(k == "int" for k, _ in comps):
                    adv = True
                    comps.append(("mask", rng.random(n) < 0.6))
                else:
                    a = self.choice((None, 0, 1, -1, -2))
                    b = self.choice((None, -1, 2, 3))
                    comps.append(("slice", (a, b, self.choice((None, 1, 2)))))
            if self.chance(1, 4):
                comps.insert(0, ("ellipsis", None))
                comps = comps[:2]
                if any(k in ("list", "mask") for k, _ in comps) and comps[1][0] == "mask":
                    comps[1] = ("mask", rng.random(s[-1]) < 0.6)
            if self.chance(1, 6):
                comps.append(("none", None))
            spec = tuple(comps)
        try:
            np.empty(s)[to_index(_NumpyConst(), spec)]
        except (IndexError, ValueError):
            return False
        self.emit("index", [x], {"spec": spec})
        return True

    FAMILIES = (
        "g_scalar", "g_binary", "g_elementwise", "g_activation", "g_reduce", "g_layout", "g_index",
        "g_scalar", "g_binary", "g_matmul", "g_reshape", "g_clamp", "g_softmax", "g_maxmin", "g_where",
        "g_cat_stack", "g_split", "g_binary", "g_reduce", "g_activation", "g_more_reductions", "g_activation",
        "g_layout",
    )

    def step(self) -> None:
        for _ in range(8):
            if getattr(self, self.choice(self.FAMILIES))():
                return
        self.g_scalar()

    def finish(self) -> None:
        last = self.nodes[-1]
        if self.chance(1, 2):  # a scalar loss from every unused result
            sinks = [n for n in self.nodes if self.uses[n] == 0 and n not in self.hot
                     and n not in {lf.name for lf in self.prog.leaves}][-4:]
            total = None
            for n in sinks or [last]:
                w = self.leaf(self.shape(n), requires_grad=False)
                (m,) = self.emit("binary", [n, w], {"op": "*"}, no_grad=False)
                (r,) = self.emit("method", [m], {"fn": "sum"}, no_grad=False)
                total = r if total is None else self.emit("binary", [total, r], {"op": "+"}, no_grad=False)[0]
            root = total
        else:
            root = last
        if not self.env[root].requires_grad:
            r = self.pick(lambda n: bool(self.env[n].requires_grad))
            if r is None:
                r = self.leaf((), requires_grad=True)
            (a,) = self.emit("method", [root], {"fn": "sum"}, no_grad=False)
            (b,) = self.emit("method", [r], {"fn": "sum"}, no_grad=False)
            root = self.emit("binary", [a, b], {"op": "+"}, no_grad=False)[0]
        self.prog.root = root
        rng = np.random.default_rng(self.i(0, 2**16))
        for k in range(1 + self.chance(1, 3)):
            start = root
            if k and self.chance(1, 2):  # a second loss: backward from another node that requires grad
                start = self.pick(lambda n: bool(self.env[n].requires_grad)) or root
            rs = self.shape(start)
            implicit = _size(rs) == 1 and self.chance(2, 3)
            self.prog.roots.append(start)
            self.prog.seeds.append(None if implicit else rng.normal(0.0, 1.0, rs))
        leaves = {lf.name for lf in self.prog.leaves}
        # PyTorch's no-op flatten returns its input itself: retaining that alias would retain the input
        ids = [id(self.env[n]) for n in self.nodes]
        aliased = {n for n in self.nodes if ids.count(id(self.env[n])) > 1}
        for n in self.nodes:
            if n not in leaves and n not in aliased and self.env[n].requires_grad and self.chance(1, 4):
                self.prog.retain.append(n)


class _NumpyConst:
    """Index components as NumPy takes them (to test an index spec's validity)."""

    @staticmethod
    def const(arr: Any) -> np.ndarray:
        return np.array(arr)


class _SeededGen(_Gen):
    """The same generator with its choices from a seeded NumPy generator instead of Hypothesis."""

    def __init__(self, seed: int, L: TorchLib) -> None:
        super().__init__(None, L)
        self.rng = np.random.default_rng(seed)

    def i(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1))

    def permutation(self, n: int) -> list[int]:
        return [int(k) for k in self.rng.permutation(n)]


def _build(g: _Gen, max_steps: int) -> Program:
    g.leaf(requires_grad=True)
    for _ in range(g.i(0, 2)):
        g.leaf()
    for _ in range(g.i(1, max_steps)):
        g.step()
    g.finish()
    return g.prog


def programs(max_steps: int = 10) -> st.SearchStrategy:
    """Hypothesis strategy of random :class:`Program` s (needs PyTorch: it runs each step as it draws)."""

    @st.composite
    def strategy(draw: Any) -> Program:
        return _build(_Gen(draw, TorchLib()), max_steps)

    return strategy()


def program_from_seed(seed: int, max_steps: int = 10) -> Program:
    """One program drawn with a seeded NumPy generator: the same on every machine, whatever else is loaded.

    (Hypothesis mixes constants found in the loaded modules into its draws, so its examples depend on
    which modules a test run has imported; the coverage guard uses this instead.)
    """
    return _build(_SeededGen(seed, TorchLib()), max_steps)
