"""A small, safe grammar for class boundaries typed on the page: ``sin(3*x)``, ``x**3 - x``, ``abs(x)``.

The text is parsed with :func:`ast.parse` in ``eval`` mode and then walked with a strict whitelist;
it is never passed to ``eval`` or ``compile``. Allowed: numbers, the variable ``x``, the constants
``pi`` and ``e``, ``+ - * / **``, unary ``+``/``-``, parentheses, and calls of the functions in
:data:`FUNCTIONS` with one argument. Anything else (other names, attributes, subscripts, keyword
arguments, strings, lambdas, comparisons...) is refused with a :class:`BoundaryError` that says
what was found and where. All arithmetic is float64 NumPy on arrays, so ``9**9**9`` overflows to
``inf`` (such points count as below the curve) instead of building a huge integer.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

import numpy as np

from .._plural import counted

__all__ = ["FUNCTIONS", "MAX_LENGTH", "MAX_NODES", "Boundary", "BoundaryError", "parse_boundary"]

MAX_LENGTH = 200
MAX_NODES = 100

#: The functions a boundary may call (one argument each).
FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh, "exp": np.exp, "log": np.log,
    "sqrt": np.sqrt, "abs": np.abs,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY: dict[type, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    ast.Add: ("+", np.add), ast.Sub: ("-", np.subtract), ast.Mult: ("*", np.multiply),
    ast.Div: ("/", np.divide), ast.Pow: ("**", np.power),
}
_UNARY: dict[type, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    ast.USub: ("-", np.negative), ast.UAdd: ("+", np.positive),
}

Evaluator = Callable[[np.ndarray], np.ndarray]


class BoundaryError(ValueError):
    """A boundary formula outside the grammar (the message says what and where)."""


class Boundary:
    """A parsed formula: call it on a float64 array of ``x``; ``source`` is its NumPy expression."""

    def __init__(self, text: str, fn: Evaluator, source: str) -> None:
        self.text = text
        self.source = source  # e.g. "np.sin(3.0 * x)", for the generated script
        self._fn = fn

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(self._fn(x), dtype=np.float64), x.shape)

    def __repr__(self) -> str:
        return f"Boundary({self.text!r})"


def _where(node: ast.AST) -> str:
    col = getattr(node, "col_offset", None)
    return f" at character {col + 1}" if col is not None else ""


def _compile(node: ast.AST) -> tuple[Evaluator, str]:
    """An evaluator and the NumPy source of a whitelisted expression node."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise BoundaryError(f"only numbers are allowed as constants, found {node.value!r}{_where(node)}")
        value = float(node.value)
        if not math.isfinite(value):
            raise BoundaryError(f"the number {node.value!r}{_where(node)} is not finite")
        return (lambda x, v=value: np.full_like(x, v)), repr(value)
    if isinstance(node, ast.Name):
        if node.id == "x":
            return (lambda x: x), "x"
        if node.id in _CONSTANTS:
            value = _CONSTANTS[node.id]
            return (lambda x, v=value: np.full_like(x, v)), f"np.{node.id}"
        raise BoundaryError(f"unknown name {node.id!r}{_where(node)}: use x, pi, e or a function "
                            f"({', '.join(FUNCTIONS)})")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        symbol, op = _BINARY[type(node.op)]
        left, ls = _compile(node.left)
        right, rs = _compile(node.right)
        return (lambda x: op(left(x), right(x))), f"({ls} {symbol} {rs})"
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        symbol, op = _UNARY[type(node.op)]
        inner, src = _compile(node.operand)
        return (lambda x: op(inner(x))), f"({symbol}{src})"
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            what = f"{name!r}" if name else f"a {type(node.func).__name__} expression"
            raise BoundaryError(f"cannot call {what}{_where(node)}: the functions are {', '.join(FUNCTIONS)}")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise BoundaryError(f"{name}(){_where(node)} takes exactly one argument")
        inner, src = _compile(node.args[0])
        fn = FUNCTIONS[name]
        return (lambda x: fn(inner(x))), f"np.{name}({src})"
    if isinstance(node, ast.BinOp):
        raise BoundaryError(f"the operator {type(node.op).__name__}{_where(node)} is not allowed: use + - * / **")
    raise BoundaryError(f"{type(node).__name__}{_where(node)} is not allowed: a boundary is arithmetic on x "
                        f"with + - * / ** and the functions {', '.join(FUNCTIONS)}")


def parse_boundary(text: object) -> Boundary:
    """Parse a boundary formula in ``x`` (e.g. ``"sin(3*x)"``) into a :class:`Boundary`; never evaluates text.

    Raises :class:`BoundaryError` for anything outside the grammar, with what was found and where.
    """
    if not isinstance(text, str):
        raise BoundaryError(f"expected the boundary as text, received {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise BoundaryError(f"the boundary is {counted(len(text), 'character')} long; at most {MAX_LENGTH} are allowed")
    if not text.strip():
        raise BoundaryError("the boundary is empty: type a formula in x such as sin(3*x)")
    if not text.isprintable() or not text.isascii():
        raise BoundaryError("the boundary may use only printable ASCII characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise BoundaryError(f"not a formula: {exc.msg} at character {exc.offset or 0}") from None
    except (RecursionError, MemoryError, ValueError):
        raise BoundaryError("the boundary is nested too deeply") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise BoundaryError(f"the boundary has more than {MAX_NODES} parts; write a shorter formula")
    fn, source = _compile(tree.body)
    if source.startswith("(") and source.endswith(")"):
        source = source[1:-1] if _balanced(source[1:-1]) else source
    return Boundary(text.strip(), fn, source)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0
