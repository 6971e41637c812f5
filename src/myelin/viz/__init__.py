"""See a network compute and learn: the computation graph as a picture, and backpropagation step by step.

- :func:`graph`: the graph of any result, one box per op (shape, value, gradient), as SVG with no
  system dependency; displays in Jupyter and goes into HTML reports (``g.to_svg()``).
- :func:`backward_steps`: run ``backward()`` on the real engine and get every step: the incoming
  gradient, each input's local derivative and the product the chain rule passes on.
  :func:`format_steps` prints them; :func:`print_steps` too.
- :func:`line_chart`: a dependency-free SVG line chart (used by ``History`` in notebooks).
"""

from __future__ import annotations

from .backprop import ParentStep, Step, backward_steps, format_steps, local_derivative
from .graph import Graph, graph
from .svg import line_chart

__all__ = [
    "Graph", "ParentStep", "Step", "backward_steps", "format_steps", "graph", "line_chart", "local_derivative",
    "print_steps",
]


def print_steps(steps: list[Step], small: int = 6) -> None:
    """Print :func:`format_steps` (a convenience for notebooks and the tutorial)."""
    print(format_steps(steps, small))

