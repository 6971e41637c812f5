"""Programs for the engine's differential fuzzer (``test_engine_fuzz.py``) and how to run them.

A :class:`Program` is a list of leaves (float64 values, each requiring grad or not) and of steps,
each step one op on earlier nodes (a leaf or an earlier step's output); then a root, the
intermediates whose gradient is retained, and one or two backward passes (a seed each, from the root
or, for the second, possibly from another node: two losses accumulating into the same leaves). :func:`run` executes a
program in Myelin or in PyTorch through a small adapter (:class:`MyelinLib`, :class:`TorchLib`)
and returns every node's value and every leaf's (and retained node's) gradient. A program's
``repr`` is its listing in PyTorch spelling (``F`` is ``torch.nn.functional`` or
``myelin.nn.functional``), so a failing example reads as a reproduction script.

The programs themselves are drawn by ``_engine_fuzz_gen.programs`` (a Hypothesis strategy).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Leaf", "MyelinLib", "Program", "Step", "TorchLib", "apply_step", "run", "to_index"]


# ----------------------------------------------------------------------------- programs
@dataclass
class Leaf:
    name: str
    values: np.ndarray
    requires_grad: bool


@dataclass
class Step:
    outs: tuple[str, ...]
    op: str
    args: tuple[str, ...]
    params: dict = field(default_factory=dict)
    no_grad: bool = False


@dataclass
class Program:
    leaves: list[Leaf] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    root: str = ""
    retain: list[str] = field(default_factory=list)
    seeds: list[np.ndarray | None] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)  # the tensor each seed starts from (``root`` or another node)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # how Hypothesis prints a failing example
        p.text(repr(self))

    def __repr__(self) -> str:
        lines = ["", "# --- program"]
        for lf in self.leaves:
            data = f"zeros({lf.values.shape}" if lf.values.size == 0 else f"tensor({lf.values.tolist()!r}"
            lines.append(f"{lf.name} = {data}, dtype=float64, requires_grad={lf.requires_grad})"
                         f"  # shape {lf.values.shape}")
        for s in self.steps:
            code = render(s)
            lhs = ", ".join(s.outs) + ("," if len(s.outs) == 1 and s.op == "split" else "")
            lines.append(("with no_grad(): " if s.no_grad else "") + f"{lhs} = {code}")
        for n in self.retain:
            lines.append(f"{n}.retain_grad()")
        for i, seed in enumerate(self.seeds):
            kw = [] if seed is None else [f"gradient=tensor({seed.tolist()!r}, dtype=float64)"]
            if i < len(self.seeds) - 1:
                kw.append("retain_graph=True")
            lines.append(f"{self.roots[i]}.backward({', '.join(kw)})")
        return "\n".join(lines)


def _r(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return repr(v.tolist())
    return repr(v)


def _index_repr(spec: tuple) -> str:
    parts = []
    for kind, v in spec:
        if kind == "int":
            parts.append(str(v))
        elif kind == "slice":
            a, b, c = v
            parts.append(f"{'' if a is None else a}:{'' if b is None else b}" + ("" if c is None else f":{c}"))
        elif kind == "ellipsis":
            parts.append("...")
        elif kind == "none":
            parts.append("None")
        elif kind == "list":
            parts.append(f"tensor({v[0]!r})" if v[1] else repr(v[0]))
        else:  # mask
            parts.append(f"tensor({v.tolist()!r})")
    return ", ".join(parts) if len(parts) != 1 or spec[0][0] not in ("list",) else parts[0]


def render(s: Step) -> str:
    """One step in PyTorch spelling."""
    a, p, op = s.args, s.params, s.op
    if op == "scalar":
        return f"{a[0]} {p['op']} {p['c']!r}" if p["side"] == "right" else f"{p['c']!r} {p['op']} {a[0]}"
    if op == "binary":
        return f"{a[0]} {p['op']} {a[1]}"
    if op == "index":
        return f"{a[0]}[{_index_repr(p['spec'])}]"
    if op in ("cat", "stack"):
        return f"{op}([{', '.join(a)}], dim={p['dim']})"
    if op == "where":
        xy = list(a) if len(a) == 2 else ([a[0], repr(p["c"])] if p["side"] else [repr(p["c"]), a[0]])
        return f"where(tensor({p['cond'].tolist()!r}), {xy[0]}, {xy[1]})"
    if op in ("maximum", "minimum"):
        return f"{op}({a[0]}, {a[1]})"
    if op == "matmul":
        return f"{a[0]} @ {a[1]}"
    if op == "F":
        kw = "".join(f", {k}={_r(v)}" for k, v in p["kw"].items())
        return f"F.{p['fn']}({a[0]}{kw})"
    if op == "method":
        args = ", ".join([_r(v) for v in p.get("args", ())] + [f"{k}={_r(v)}" for k, v in p.get("kw", {}).items()])
        tail = p.get("tail", "")
        if p.get("form") == "function":  # torch.exp(x) / myelin.exp(x)
            return f"torch.{p['fn']}({a[0]}{', ' if args else ''}{args}){tail}"
        return f"{a[0]}.{p['fn']}({args}){tail}"
    if op == "split":
        return f"{a[0]}.split({p['size']!r}, dim={p['dim']})"
    if op in ("mT", "T"):
        return f"{a[0]}.{op}"
    raise AssertionError(op)


# ----------------------------------------------------------------------------- the two libraries
class TorchLib:
    name = "torch"

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.top = torch  # top-level functions: torch.exp(x)
        self.F = torch.nn.functional

    def leaf(self, values: np.ndarray, requires_grad: bool) -> Any:
        return self.torch.tensor(values, dtype=self.torch.float64, requires_grad=requires_grad)

    def const(self, arr: np.ndarray) -> Any:
        return self.torch.from_numpy(np.array(arr))

    def no_grad(self) -> Any:
        return self.torch.no_grad()

    def where(self, cond: np.ndarray, a: Any, b: Any) -> Any:
        return self.torch.where(self.const(cond), a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.torch.maximum(a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return self.torch.minimum(a, b)

    def cat(self, ts: list, dim: int) -> Any:
        return self.torch.cat(ts, dim=dim)

    def stack(self, ts: list, dim: int) -> Any:
        return self.torch.stack(ts, dim=dim)

    def value(self, t: Any) -> np.ndarray:
        return t.detach().numpy()

    def grad(self, t: Any) -> np.ndarray | None:
        return None if t.grad is None else t.grad.numpy()

    def dtype(self, t: Any) -> str:
        return str(t.dtype).replace("torch.", "")


class MyelinLib:
    name = "myelin"

    def __init__(self) -> None:
        import myelin
        import myelin.nn.functional as F

        self.m = myelin
        self.top = myelin  # top-level functions: myelin.exp(x)
        self.F = F

    def leaf(self, values: np.ndarray, requires_grad: bool) -> Any:
        return self.m.tensor(values, dtype=np.float64, requires_grad=requires_grad)

    def const(self, arr: np.ndarray) -> Any:
        return self.m.tensor(np.array(arr))

    def no_grad(self) -> Any:
        return self.m.no_grad()

    def where(self, cond: np.ndarray, a: Any, b: Any) -> Any:
        return self.m.where(self.const(cond), a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.m.maximum(a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return self.m.minimum(a, b)

    def cat(self, ts: list, dim: int) -> Any:
        return self.m.cat(ts, dim=dim)

    def stack(self, ts: list, dim: int) -> Any:
        return self.m.stack(ts, dim=dim)

    def value(self, t: Any) -> np.ndarray:
        return np.asarray(t.data)

    def grad(self, t: Any) -> np.ndarray | None:
        g = t.grad
        if g is None:
            return None
        return np.asarray(g.data if isinstance(g, self.m.Tensor) else g)

    def dtype(self, t: Any) -> str:
        return str(t.dtype)


def to_index(L: Any, spec: tuple) -> Any:
    out = []
    for kind, v in spec:
        if kind == "int":
            out.append(v)
        elif kind == "slice":
            out.append(slice(*v))
        elif kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "none":
            out.append(None)
        elif kind == "list":
            out.append(L.const(np.array(v[0], dtype=np.int64)) if v[1] else list(v[0]))
        else:
            out.append(L.const(v))
    return out[0] if len(out) == 1 else tuple(out)


def _apply(L: Any, s: Step, args: list) -> Any:
    p, op = s.params, s.op
    if op == "scalar":
        x, c = args[0], p["c"]
        o = p["op"]
        if p["side"] == "right":
            return {"+": x.__add__, "-": x.__sub__, "*": x.__mul__, "/": x.__truediv__, "**": x.__pow__}[o](c)
        return {"+": x.__radd__, "-": x.__rsub__, "*": x.__rmul__, "/": x.__rtruediv__, "**": x.__rpow__}[o](c)
    if op == "binary":
        x, y = args
        return {"+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y, "/": lambda: x / y,
                "**": lambda: x**y}[p["op"]]()
    if op == "index":
        return args[0][to_index(L, p["spec"])]
    if op == "cat":
        return L.cat(args, p["dim"])
    if op == "stack":
        return L.stack(args, p["dim"])
    if op == "where":
        if len(args) == 1:
            xy = [args[0], p["c"]] if p["side"] else [p["c"], args[0]]
            return L.where(p["cond"], *xy)
        return L.where(p["cond"], args[0], args[1])
    if op == "maximum":
        return L.maximum(*args)
    if op == "minimum":
        return L.minimum(*args)
    if op == "matmul":
        return args[0] @ args[1]
    if op == "F":
        return getattr(L.F, p["fn"])(args[0], **p["kw"])
    if op == "method":
        fn = getattr(L.top, p["fn"]) if p.get("form") == "function" else getattr(args[0], p["fn"])
        first = (args[0],) if p.get("form") == "function" else ()
        out = fn(*first, *p.get("args", ()), **p.get("kw", {}))
        return out.values if p.get("tail") == ".values" else out
    if op == "split":
        return args[0].split(p["size"], dim=p["dim"])
    if op == "mT":
        return args[0].mT
    if op == "T":
        return args[0].T
    raise AssertionError(op)


def apply_step(L: Any, env: dict, s: Step) -> list:
    """Run ``s`` on the tensors of ``env``; the outputs as a list."""
    args = [env[a] for a in s.args]
    ctx = L.no_grad() if s.no_grad else contextlib.nullcontext()
    with ctx:
        out = _apply(L, s, args)
    return list(out) if isinstance(out, (tuple, list)) else [out]


@dataclass
class Result:
    values: dict  # name -> (value, shape, dtype, requires_grad)
    grads: dict  # name -> gradient array or None (leaves and retained nodes)


def run(L: Any, prog: Program) -> Result:
    """Build ``prog`` in library ``L``, run its backward passes, read back values and gradients."""
    env: dict = {}
    for lf in prog.leaves:
        env[lf.name] = L.leaf(lf.values, lf.requires_grad)
    for s in prog.steps:
        for name, t in zip(s.outs, apply_step(L, env, s)):
            env[name] = t
    values = {n: (L.value(t).copy(), tuple(t.shape), L.dtype(t), bool(t.requires_grad)) for n, t in env.items()}
    for n in prog.retain:
        env[n].retain_grad()
    for i, seed in enumerate(prog.seeds):
        kw: dict = {"retain_graph": True} if i < len(prog.seeds) - 1 else {}
        if seed is not None:
            kw["gradient"] = L.leaf(seed, False)
        env[prog.roots[i]].backward(**kw)
    grads = {lf.name: L.grad(env[lf.name]) for lf in prog.leaves}
    for n in prog.retain:
        grads[n] = L.grad(env[n])
    return Result(values, grads)
