"""The boundary grammar of the playground: formulas in x, parsed with a whitelist, never evaluated as code."""

from __future__ import annotations

import numpy as np
import pytest

from myelin.playground.boundary import MAX_LENGTH, BoundaryError, parse_boundary

X = np.linspace(-2, 2, 41)


@pytest.mark.parametrize("text, expected", [
    ("sin(3*x)", np.sin(3 * X)),
    ("x**3 - x", X ** 3 - X),
    ("abs(x)", np.abs(X)),
    ("-x / 2 + 0.5", -X / 2 + 0.5),
    ("cos(pi * x) * e", np.cos(np.pi * X) * np.e),
    ("tanh(2*x) + exp(-x**2) - sqrt(abs(x))", np.tanh(2 * X) + np.exp(-X ** 2) - np.sqrt(np.abs(X))),
    ("  +x  ", X),
    ("1", np.ones_like(X)),
    ("2 ** -x", 2.0 ** -X),
])
def test_formulas_evaluate_like_numpy(text, expected):
    b = parse_boundary(text)
    np.testing.assert_allclose(b(X), expected, rtol=1e-12)
    # the NumPy source written into the script computes the same numbers
    np.testing.assert_allclose(eval(b.source, {"np": np, "x": X}), expected, rtol=1e-12)


def test_values_outside_the_domain_are_nan_not_errors():
    with np.errstate(all="raise"):  # the boundary silences its own floating-point warnings
        values = parse_boundary("log(x) + 1/x + 9**9**9")(X)
    assert np.isnan(values[0]) and np.isinf(values).any()


@pytest.mark.parametrize("text, match", [
    ("__import__('os').system('rm -rf /')", "cannot call"),
    ("().__class__.__bases__[0].__subclasses__()", "not allowed|cannot call"),
    ("x.__class__", "Attribute"),
    ("open('/etc/passwd')", "cannot call 'open'"),
    ("eval('1')", "cannot call 'eval'"),
    ("exec", "unknown name 'exec'"),
    ("y + 1", "unknown name 'y'"),
    ("np.sin(x)", "cannot call a Attribute|Attribute"),
    ("sin(x, 2)", "exactly one argument"),
    ("sin(x=1)", "exactly one argument"),
    ("sin(*[x])", "exactly one argument|Starred|List"),
    ("lambda: 1", "Lambda"),
    ("x if x > 0 else -x", "IfExp"),
    ("x > 0", "Compare"),
    ("x and 1", "BoolOp"),
    ("[x]", "List"),
    ("x[0]", "Subscript"),
    ("'text'", "only numbers"),
    ("b'x'", "only numbers"),
    ("True", "only numbers"),
    ("1j * x", "only numbers|not finite"),
    ("x % 2", "Mod"),
    ("x // 2", "FloorDiv"),
    ("x @ x", "MatMult"),
    ("x << 1", "LShift"),
    ("~x", "Invert|not allowed"),
    ("(x := 1)", "NamedExpr"),
    ("f'{x}'", "JoinedStr|only numbers"),
    ("x;1", "not a formula"),
    ("import os", "not a formula"),
    ("sin(", "not a formula"),
    ("", "empty"),
    ("   ", "empty"),
    ("x" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH}"),
    ("-" * 199 + "x", "more than|nested"),
    ("+".join(["x"] * 90), "more than"),
    ("x\n+1", "printable"),
    ("x + \u00e9", "ASCII"),
    ("1e999 * x", "not finite"),
])
def test_hostile_and_out_of_grammar_strings_are_refused(text, match):
    with pytest.raises(BoundaryError, match=match):
        parse_boundary(text)


def test_deep_parentheses_are_harmless():
    np.testing.assert_array_equal(parse_boundary("(" * 99 + "x" + ")" * 99)(X), X)


def test_non_strings_are_refused():
    for value in (None, 3, ["x"], {"x": 1}):
        with pytest.raises(BoundaryError, match="as text"):
            parse_boundary(value)


def test_function_data_set_uses_the_boundary_and_errors_reach_the_session():
    from myelin.playground import Budget, TrainingSession

    s = TrainingSession({"data": "function", "boundary": "x**3 - x", "noise": 0.0, "points": 200},
                        budget=Budget(flops=1e9))
    pts = np.array(s.describe()["train_points"])
    above = pts[:, 1] > pts[:, 0] ** 3 - pts[:, 0]
    np.testing.assert_array_equal(above.astype(int), pts[:, 2].astype(int))
    with pytest.raises(BoundaryError, match="unknown name 'os'"):
        TrainingSession({"data": "function", "boundary": "os"}, budget=Budget(flops=1e9))
