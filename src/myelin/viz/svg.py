"""Small SVG building blocks (no dependency): text, boxes, arrows and a line chart."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["PALETTE", "document", "escape", "line_chart"]

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def escape(text: Any) -> str:
    return html.escape(str(text), quote=True)


def document(width: float, height: float, body: Sequence[str], title: str = "", standalone: bool = True) -> str:
    """An SVG element of the given size around ``body``; ``standalone`` adds the XML namespace a ``.svg``
    file needs (inline in HTML it is implied, and a self-contained page may want no URL at all)."""
    xmlns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    head = (f'<svg{xmlns} width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">')
    t = f"<title>{escape(title)}</title>" if title else ""
    return head + t + '<rect width="100%" height="100%" fill="white"/>' + "".join(body) + "</svg>"


def line_chart(series: Mapping[str, Sequence[Any]], title: str = "", width: int = 420, height: int = 220,
               x_label: str = "epoch") -> str:
    """Lines of ``{name: [y per x]}`` (``None`` and non-finite values are gaps) with axes and a legend."""
    pad_l, pad_r, pad_t, pad_b = 50, 110, 24 if title else 10, 34
    points = {k: [(i, float(v)) for i, v in enumerate(vs) if v is not None and math.isfinite(float(v))]
              for k, vs in series.items()}
    ys = [y for ps in points.values() for _, y in ps]
    n = max((len(v) for v in series.values()), default=0)
    body: list[str] = []
    if title:
        body.append(f'<text x="{pad_l}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>')
    x0, x1, y0, y1 = pad_l, width - pad_r, height - pad_b, pad_t
    body.append(f'<path d="M{x0},{y1} L{x0},{y0} L{x1},{y0}" stroke="#555" fill="none"/>')
    if not ys:
        return document(width, height, body + [f'<text x="{x0 + 10}" y="{(y0 + y1) / 2}">no data yet</text>'])
    lo, hi = min(ys), max(ys)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5

    def sx(i: float) -> float:
        return x0 + (x1 - x0) * (i / max(n - 1, 1))

    def sy(v: float) -> float:
        return y0 - (y0 - y1) * (v - lo) / (hi - lo)

    for v in (lo, (lo + hi) / 2, hi):
        body.append(f'<text x="{x0 - 4}" y="{sy(v) + 4:.1f}" font-size="10" text-anchor="end">{v:.3g}</text>')
    for i in sorted({0, n - 1}):
        body.append(f'<text x="{sx(i):.1f}" y="{y0 + 14}" font-size="10" text-anchor="middle">{i + 1}</text>')
    body.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{height - 4}" font-size="11" text-anchor="middle">'
                f'{escape(x_label)}</text>')
    for k, (name, ps) in enumerate(points.items()):
        color = PALETTE[k % len(PALETTE)]
        if len(ps) > 1:
            d = " ".join(f"{'M' if j == 0 else 'L'}{sx(i):.1f},{sy(v):.1f}" for j, (i, v) in enumerate(ps))
            body.append(f'<path d="{d}" stroke="{color}" stroke-width="2" fill="none"/>')
        for i, v in ps[-1:] if len(ps) > 1 else ps:
            body.append(f'<circle cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="3" fill="{color}"/>')
        ly = y1 + 6 + 16 * k
        body.append(f'<rect x="{x1 + 10}" y="{ly}" width="12" height="3" fill="{color}"/>'
                    f'<text x="{x1 + 26}" y="{ly + 5}" font-size="11">{escape(name)}</text>')
    return document(width, height, body, title)
