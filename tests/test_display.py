"""Jupyter displays: Tensor and Module ``_repr_html_`` (values, gradients, parameter tables)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

import myelin
from myelin import nn


def _parse(html: str) -> ET.Element:
    return ET.fromstring(html)                        # well-formed: every tag closed, text escaped


def test_tensor_html_shows_shape_values_grad_fn_and_grad():
    w = myelin.tensor([[1.0, -2.0], [0.5, 0.0]], requires_grad=True)
    root = _parse(w._repr_html_())
    text = "".join(root.itertext())
    assert "shape (2, 2)" in text and "requires_grad=True" in text
    cells = [td.text for td in root.iter("td")]
    assert cells == ["1", "-2", "0.5", "0"]
    y = (w * 3).sum()
    assert "SumBackward0" in "".join(_parse(y._repr_html_()).itertext())
    y.backward()
    after = "".join(_parse(w._repr_html_()).itertext())
    assert "grad" in after and after.count("3") >= 4          # d(3 * sum w)/dw = 3 everywhere


def test_large_tensors_fall_back_to_text():
    big = myelin.zeros(50, 50)
    root = _parse(big._repr_html_())
    assert not list(root.iter("td")) and "..." in "".join(root.itertext())


def test_module_html_lists_parameters_with_gradient_norms():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    html = model._repr_html_()
    root = _parse(html)
    rows = [[td.text for td in tr.iter("td")] for tr in root.iter("tr")][1:]
    assert [r[0] for r in rows] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(r[-1] == "-" for r in rows) and "26 parameters" in "".join(root.itertext())
    model(myelin.randn(5, 3)).sum().backward()
    rows = [[td.text for td in tr.iter("td")] for tr in _parse(model._repr_html_()).iter("tr")][1:]
    norm = float(rows[3][-1])
    assert np.isclose(norm, np.linalg.norm(model[2].bias.grad.data), rtol=1e-2)
