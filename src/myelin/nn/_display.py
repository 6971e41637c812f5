"""How a Module shows itself in Jupyter (``Module._repr_html_``): the printed model and a parameter table."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from .._plural import counted

__all__ = ["module_html"]


def module_html(module: Any) -> str:
    """``print(model)`` as text, then one row per parameter: shape, count, mean, std and gradient norm."""
    rows = []
    total = 0
    for name, p in module.named_parameters():
        a = p.data
        total += a.size
        g = p.grad
        gnorm = "-" if g is None else f"{float(np.linalg.norm(getattr(g, 'data', g))):.3g}"
        mean = f"{float(a.mean()):.3g}" if a.size else "-"
        std = f"{float(a.std()):.3g}" if a.size else "-"
        cells = [name, str(tuple(a.shape)), f"{a.size:,}", mean, std, gnorm]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("parameter", "shape", "count", "mean", "std", "|grad|"))
    table = f'<table class="myelin-parameters"><tr>{head}</tr>{"".join(rows)}</table>' if rows else ""
    return (f'<div class="myelin-module"><pre>{html.escape(repr(module))}</pre>{table}'
            f"<div>{counted(total, 'parameter', spec=',')}</div></div>")
