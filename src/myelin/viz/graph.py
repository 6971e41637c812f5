"""The computation graph of a result as a picture: one box per op, drawn as SVG with no dependency.

:func:`graph` walks back from a tensor through ``grad_fn`` (each op's inputs), exactly the graph
``backward()`` will run, and lays it out in columns: inputs on the left, the result on the right,
each op one column right of its deepest input. Each box shows the op (or the leaf's name), its
output's shape, its value when small, and its gradient once ``backward()`` has run::

    g = myelin.viz.graph(loss, names={"w": w, "b": b})   # before backward: it keeps each op's gradient
    loss.backward()
    g                                                      # in Jupyter: the SVG; g.save("graph.svg")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._plural import counted
from ..core.tensor import Tensor
from ._format import as_array, brief
from .svg import document, escape

__all__ = ["Graph", "graph"]

BOX_W, LINE_H, GAP_X, GAP_Y = 190, 15, 60, 18
COLORS = {"op": "#dbe9f6", "param": "#dff0d8", "const": "#eeeeee"}


def _names(names: Any) -> dict[int, str]:
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        names = dict(names.named_parameters())
    if not isinstance(names, Mapping):
        raise TypeError(f"graph: names must be a mapping of name -> Tensor or a Module, "
                        f"received {type(names).__name__}")
    return {id(t): str(k) for k, t in names.items()}


class Graph:
    """The graph of ``root``: ``tensors`` in topological order (inputs first) and ``edges`` (input, output).

    Every intermediate result keeps its gradient (``retain_grad``) so the picture can show it after
    ``backward()``. Shows as SVG in Jupyter (``_repr_svg_``); :meth:`to_svg`, :meth:`save`,
    :meth:`to_dot` (Graphviz text, for those who have it).
    """

    def __init__(self, root: Tensor, names: Any = None, keep_grads: bool = True) -> None:
        if not isinstance(root, Tensor):
            raise TypeError(f"graph: expected a Tensor, received {type(root).__name__}")
        self.root = root
        self.names = _names(names)
        order: list[Tensor] = []
        index: dict[int, int] = {}
        self.edges: list[tuple[int, int]] = []
        pending: list[tuple[Tensor, bool]] = [(root, False)]
        inputs: dict[int, tuple] = {}
        while pending:                                   # iterative depth-first post-order
            t, expanded = pending.pop()
            if id(t) in index:
                continue
            if expanded:
                index[id(t)] = len(order)
                order.append(t)
                continue
            fn = t.grad_fn
            parents = tuple(fn.parents) if fn is not None else ()
            inputs[id(t)] = parents
            pending.append((t, True))
            pending.extend((p, False) for p in reversed(parents) if id(p) not in index)
        for t in order:
            for p in inputs[id(t)]:
                self.edges.append((index[id(p)], index[id(t)]))
            if keep_grads and t.grad_fn is not None and t.requires_grad:
                t.retain_grad()
        self.tensors = order
        self.ops = [t.grad_fn.op if t.grad_fn is not None else None for t in order]

    def __len__(self) -> int:
        return len(self.tensors)

    def _kind(self, k: int) -> str:
        if self.ops[k] is not None:
            return "op"
        return "param" if self.tensors[k].requires_grad else "const"

    def label(self, k: int) -> str:
        """The op's name, or the leaf's name (from ``names``), ``leaf`` or ``const``."""
        t = self.tensors[k]
        if id(t) in self.names:
            return self.names[id(t)] if self.ops[k] is None else f"{self.names[id(t)]} = {self.ops[k]}"
        return self.ops[k] or ("leaf" if t.requires_grad else "const")

    def lines(self, k: int) -> list[str]:
        """The text of box ``k``: label, shape, value and (after backward) gradient."""
        t = self.tensors[k]
        out = [self.label(k), f"shape {tuple(t.shape)}" if t.ndim else "scalar", f"value {brief(t.data)}"]
        if t.grad is not None:
            out.append(f"grad {brief(as_array(t.grad))}")
        return out

    def _layout(self) -> tuple[list[tuple[float, float]], list[float], float, float]:
        n = len(self.tensors)
        depth = [0] * n
        parents: list[list[int]] = [[] for _ in range(n)]
        for a, b in self.edges:
            parents[b].append(a)
        for k in range(n):                               # inputs come first: one pass sets every depth
            depth[k] = 1 + max((depth[p] for p in parents[k]), default=-1)
        children: list[list[int]] = [[] for _ in range(n)]
        for a, b in self.edges:
            children[a].append(b)
        for k in range(n):                               # a leaf sits just left of its first user
            if not parents[k] and children[k]:
                depth[k] = min(depth[c] for c in children[k]) - 1
        columns: list[list[int]] = [[] for _ in range(max(depth, default=0) + 1)]
        row = [0.0] * n
        for k in range(n):
            columns[depth[k]].append(k)
        for col in columns:                               # order each column by its inputs' rows
            col.sort(key=lambda k: (np.mean([row[p] for p in parents[k]]) if parents[k] else k))
            for r, k in enumerate(col):
                row[k] = r
        heights = [GAP_Y + LINE_H * len(self.lines(k)) + 8 for k in range(n)]
        pos: list[tuple[float, float]] = [(0.0, 0.0)] * n
        tallest = 0.0
        for c, col in enumerate(columns):
            y = 10.0
            for k in col:
                pos[k] = (10.0 + c * (BOX_W + GAP_X), y)
                y += heights[k]
            tallest = max(tallest, y)
        return pos, heights, 20.0 + len(columns) * (BOX_W + GAP_X) - GAP_X, tallest + 10

    def to_svg(self, standalone: bool = True) -> str:
        """The picture as SVG (a string): a ``.svg`` document, or with ``standalone=False`` an element to
        inline in an HTML page (no namespace URL, no external reference)."""
        pos, heights, width, height = self._layout()
        body = []
        for a, b in self.edges:
            (xa, ya), (xb, yb) = pos[a], pos[b]
            y1, y2 = ya + (heights[a] - GAP_Y) / 2, yb + (heights[b] - GAP_Y) / 2
            x1, x2 = xa + BOX_W, xb
            mid = (x1 + x2) / 2
            body.append(f'<path d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2 - 6:.1f},{y2:.1f}" '
                        f'stroke="#666" fill="none"/>'
                        f'<polygon class="arrow" points="{x2:.1f},{y2:.1f} {x2 - 7:.1f},{y2 - 3.5:.1f} '
                        f'{x2 - 7:.1f},{y2 + 3.5:.1f}" fill="#666"/>')
        for k, (x, y) in enumerate(pos):
            lines = self.lines(k)
            h = heights[k] - GAP_Y
            fn = self.tensors[k].grad_fn
            tip = escape(fn.name() if fn is not None else self.label(k))
            body.append(f'<g><title>{tip}</title><rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{h:.1f}" rx="5" '
                        f'fill="{COLORS[self._kind(k)]}" stroke="#444"/>')
            for j, text in enumerate(lines):
                weight = ' font-weight="bold"' if j == 0 else ""
                fill = ' fill="#b03030"' if text.startswith("grad") else ""
                body.append(f'<text x="{x + 6:.1f}" y="{y + 15 + j * LINE_H:.1f}" font-size="11"{weight}{fill}>'
                            f'{escape(_clip(text))}</text>')
            body.append("</g>")
        return document(width, height, body, "computation graph", standalone)

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the SVG to ``path`` (atomically: a temporary file renamed over it)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        tmp.write_text(self.to_svg(), encoding="utf-8")
        os.replace(tmp, target)
        return target

    def to_dot(self) -> str:
        """The same graph in Graphviz's DOT language (render it with ``dot -Tsvg`` if you have Graphviz)."""
        rows = ["digraph G {", "  rankdir=LR;", '  node [shape=record, fontname="Helvetica", fontsize=10];']
        for k in range(len(self.tensors)):
            text = " | ".join(line.replace("|", "/").replace("{", "(").replace("}", ")").replace('"', "'")
                              for line in self.lines(k))
            rows.append(f'  n{k} [label="{{{text}}}", style=filled, fillcolor="{COLORS[self._kind(k)]}"];')
        rows += [f"  n{a} -> n{b};" for a, b in self.edges]
        return "\n".join(rows + ["}"])

    def __repr__(self) -> str:
        n_ops = sum(op is not None for op in self.ops)
        return f"Graph({counted(len(self.tensors), 'tensor')}, {n_ops} ops, root {self.label(len(self) - 1)})"


def _clip(text: str, width: int = 30) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def graph(root: Tensor, names: Any = None, keep_grads: bool = True) -> Graph:
    """The computation graph that produced ``root`` (see :class:`Graph`).

    Args:
        root: the result, e.g. a loss (build the graph BEFORE ``backward()``, which frees it).
        names: ``{"w": w, ...}`` or a Module (its parameter names) to label the leaves.
        keep_grads: keep every intermediate gradient so the boxes show them after ``backward()``.
    """
    return Graph(root, names, keep_grads)
