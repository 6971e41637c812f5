"""How a Tensor shows itself in Jupyter (``Tensor._repr_html_``): a header and its values as a small table."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

__all__ = ["tensor_html"]

_MAX_CELLS = 400


def _cells(a: np.ndarray) -> str:
    """A 1-D or 2-D float array as an HTML table, each cell shaded by its value (red +, blue -)."""
    m = a.reshape(1, -1) if a.ndim == 1 else a
    finite = m[np.isfinite(m)] if m.dtype.kind == "f" else m.ravel()
    scale = float(np.abs(finite).max()) if finite.size else 1.0
    rows = []
    for row in m:
        tds = []
        for v in row:
            f = float(v)
            alpha = 0.0 if not np.isfinite(f) or scale == 0 else min(abs(f) / scale, 1.0) * 0.6
            color = f"rgba(214,39,40,{alpha:.2f})" if f > 0 else f"rgba(31,119,180,{alpha:.2f})"
            tds.append(f'<td style="background:{color};padding:1px 5px;text-align:right">{f:.4g}</td>')
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return '<table style="border-collapse:collapse;font-family:monospace;font-size:11px">' + "".join(rows) + "</table>"


def tensor_html(t: Any) -> str:
    """Shape, dtype, grad_fn and the values (a shaded table when 1-D/2-D and small, else NumPy's text)."""
    a = t.data
    fn = t.grad_fn
    head = f"tensor of shape {tuple(a.shape)}, {a.dtype}"
    if fn is not None:
        head += f", grad_fn=&lt;{html.escape(fn.name())}&gt;"
    elif t.requires_grad:
        head += ", requires_grad=True"
    numeric = a.dtype.kind in "fiub"
    if numeric and 1 <= a.ndim <= 2 and a.size <= _MAX_CELLS:
        body = _cells(a.astype(np.float64))
    else:
        body = f"<pre>{html.escape(np.array2string(a, precision=4, threshold=200, edgeitems=3))}</pre>"
    grad = ""
    g = t.grad
    if g is not None:
        ga = getattr(g, "data", g)
        gbody = _cells(ga.astype(np.float64)) if 1 <= ga.ndim <= 2 and ga.size <= _MAX_CELLS else (
            f"<pre>{html.escape(np.array2string(ga, precision=4, threshold=200, edgeitems=3))}</pre>")
        grad = f"<div>grad</div>{gbody}"
    return f'<div class="myelin-tensor"><div><b>{head}</b></div>{body}{grad}</div>'
