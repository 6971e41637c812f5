"""Learning curves as HTML with inline SVG (no matplotlib): for ``History`` in notebooks and live training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._plural import counted
from .svg import escape, line_chart

__all__ = ["curves_html"]


def curves_html(record: Mapping[str, Sequence[Any]], title: str = "") -> str:
    """One chart per metric (``loss`` with ``val_loss``, ``accuracy`` with ``val_accuracy``...), side by side.

    ``record`` maps History keys to one value per epoch; ``lr`` and ``epoch_time`` are left out.
    """
    groups: dict[str, dict[str, Sequence[Any]]] = {}
    for key, values in record.items():
        base = key.removeprefix("val_")
        if base in ("lr", "epoch_time") or "/" in base:
            continue
        groups.setdefault(base, {})["validation" if key.startswith("val_") else "training"] = values
    charts = "".join(f'<div style="display:inline-block;margin-right:8px">{line_chart(series, base)}</div>'
                     for base, series in groups.items())
    n = max((len(v) for v in record.values()), default=0)
    head = f"<b>{escape(title)}</b> " if title else ""
    return f'<div class="myelin-curves">{head}<span>{counted(n, "epoch")}</span><br>{charts}</div>'
