"""myelin.viz: the graph picture (SVG, rendered and not blank) and the step-by-step backward replay."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import myelin
from conftest import assert_close
from myelin import nn, viz
from myelin.nn import functional as F

SVG = "{http://www.w3.org/2000/svg}"


def _arr(g):
    return g.data if isinstance(g, myelin.Tensor) else g


def _two_layer(seed: int):
    rng = np.random.default_rng(seed)
    x = myelin.tensor(rng.standard_normal((3, 2)))
    w1 = myelin.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    b1 = myelin.tensor(rng.standard_normal(4), requires_grad=True)
    w2 = myelin.tensor(rng.standard_normal((1, 4)), requires_grad=True)
    y = myelin.tensor(rng.standard_normal((3, 1)))
    h = (x @ w1.T + b1).tanh()
    loss = ((h @ w2.T - y) ** 2).mean()
    return loss, {"x": x, "w1": w1, "b1": b1, "w2": w2, "y": y}


def test_graph_has_one_box_per_tensor_and_shows_gradients_after_backward():
    loss, names = _two_layer(0)
    g = viz.graph(loss, names=names)
    ops = [op for op in g.ops if op is not None]
    assert sorted(ops) == sorted(["permute", "matmul", "add", "tanh", "permute", "matmul", "sub", "pow", "mean"])
    assert len(g.edges) == 2 * 1 + 2 * 2 + 2 + 1 + 2 + 1 + 1  # 2 permute, 2 matmul, add, tanh, sub, pow, mean
    assert g.tensors[-1] is loss and g.label(len(g) - 1) == "mean"
    assert {g.label(k) for k in range(len(g)) if g.ops[k] is None} == set(names)
    before = g.to_svg()
    assert "grad" not in before.replace("computation graph", "")
    loss.backward()
    root = ET.fromstring(g._repr_svg_())
    boxes = [r for r in root.iter(f"{SVG}rect") if r.get("rx")]
    assert len(boxes) == len(g)
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "tanh" in texts and "shape (4, 2)" in texts and "grad" in texts
    assert len([p for p in root.iter(f"{SVG}polygon") if p.get("class") == "arrow"]) == len(g.edges)
    assert "->" in g.to_dot() and g.to_dot().count("[label=") == len(g)
    # the gradient in the w1 box is w1.grad
    k = next(k for k in range(len(g)) if g.label(k) == "w1")
    assert "grad" in g.lines(k)[-1]


def test_graph_of_a_model_labels_parameters_and_saves(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    out = F.cross_entropy(model(myelin.randn(5, 3)), np.array([0, 1, 1, 0, 1]))
    g = viz.graph(out, names=model)
    labels = {g.label(k) for k in range(len(g))}
    assert {"0.weight", "0.bias", "2.weight", "2.bias", "linear", "relu", "cross_entropy"} <= labels
    path = g.save(tmp_path / "g.svg")
    ET.parse(path)
    with pytest.raises(TypeError, match="Tensor"):
        viz.graph(np.ones(3))


def _render(svg: str, tmp_path) -> np.ndarray:
    """Render an SVG with headless Chromium (CI installs it) and return the RGB pixels."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no Chromium to render SVG")
    src, png = tmp_path / "g.svg", tmp_path / "g.png"
    src.write_text(svg, encoding="utf-8")
    root = ET.fromstring(svg)
    w, h = int(float(root.get("width"))), int(float(root.get("height")))
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={w},{h}", f"--screenshot={png}", src.as_uri()],
                   capture_output=True, timeout=60, check=False)
    if not png.exists():
        pytest.skip("Chromium could not take a screenshot here")
    import matplotlib.image
    return (matplotlib.image.imread(png)[..., :3] * 255).astype(np.uint8)


def test_graph_picture_renders_and_is_not_blank(tmp_path):
    loss, names = _two_layer(1)
    g = viz.graph(loss, names=names)
    loss.backward()
    px = _render(g.to_svg(), tmp_path)
    flat = px.reshape(-1, 3)
    assert (flat < 200).any(axis=1).mean() > 0.01          # text and lines, not an empty page
    assert len(np.unique(flat, axis=0)) > 30                 # box colours, text anti-aliasing


def _random_net(seed: int, w1: myelin.Tensor | None = None):
    """A random small network of element-wise and matrix ops, float64, with a scalar loss."""
    rng = np.random.default_rng(seed)
    n, i, h = rng.integers(1, 4), rng.integers(1, 4), rng.integers(1, 5)
    x = myelin.tensor(rng.standard_normal((n, i)))
    params = {"w1": rng.standard_normal((h, i)), "b1": rng.standard_normal(h), "w2": rng.standard_normal((1, h)),
              "s": rng.standard_normal(1) + 3.0}
    params = {k: myelin.tensor(v, requires_grad=True) for k, v in params.items()}
    if w1 is not None:
        params["w1"] = w1
    acts = [lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: t.relu(), lambda t: t.exp() * 0.1]
    a = acts[seed % 4](x @ params["w1"].T + params["b1"])
    a = a * params["s"] - a / params["s"] + (a ** 2) * 0.5       # broadcasting a (1,) parameter
    out = a @ params["w2"].T
    loss = (out.sigmoid().log() * -1.0).mean() + (params["w1"] ** 2).sum() * 0.01
    return loss, params


@pytest.mark.parametrize("seed", range(12))
def test_replay_products_equal_the_engines_gradients(seed):
    loss, params = _random_net(seed)
    steps = viz.backward_steps(loss, names=params)
    assert steps[0].incoming.shape == () and float(steps[0].incoming) == 1.0
    assert not steps[0].leaf and steps[-1].leaf
    # what the replay saw reaching each leaf adds up to the engine's .grad
    for name, p in params.items():
        reached = [s.incoming for s in steps if s.leaf and s.tensor is p]
        assert reached, name
        assert_close(sum(reached), _arr(p.grad), 1e-12, 1e-12, name)
    # every element-wise step: local derivative x incoming gradient == what the engine passed on
    checked = 0
    for s in steps:
        for p in s.parents:
            if p.local_value is not None and p.passed is not None:
                assert_close(p.product, p.passed, 1e-10, 1e-12, f"step {s.index} {s.op} -> {p.label}")
                checked += 1
    assert checked >= 6
    # and those gradients are the true ones (central differences)
    assert myelin.gradcheck(lambda w1: _random_net(seed, w1)[0], [params["w1"].data.copy()])


def test_replay_of_a_module_network_matches_plain_backward():
    myelin.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    x, y = myelin.randn(4, 3), np.array([0, 1, 1, 0])
    F.cross_entropy(model(x), y).backward()
    expected = {k: _arr(p.grad).copy() for k, p in model.named_parameters()}
    model.zero_grad()
    steps = viz.backward_steps(F.cross_entropy(model(x), y), names=model)
    for k, p in model.named_parameters():
        assert_close(p.grad, expected[k], 1e-6, 1e-7, k)
    text = viz.format_steps(steps)
    assert "CrossEntropyBackward0" in text and "chain rule" in text and "0.weight.grad +=" in text
    tanh = next(s for s in steps if s.op == "tanh")
    assert tanh.parents[0].local == "1 - tanh(x)^2"
    assert_close(tanh.parents[0].local_value, 1 - tanh.output ** 2, 1e-6, 1e-7, "tanh local")


def test_local_derivative_words_for_structural_ops():
    text, value = viz.local_derivative("matmul", np.zeros((2, 2)), [np.zeros((2, 3)), np.zeros((3, 2))], {}, 1)
    assert "A^T @ g" in text and value is None
    text, _ = viz.local_derivative("some_new_op", np.zeros(1), [np.zeros(1)], {}, 0)
    assert "some_new_op" in text


def test_history_shows_learning_curves_as_inline_svg():
    from myelin.train import History
    h = History({"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, None, 0.6], "accuracy": [0.5, 0.7, 0.8], "lr": [0.1] * 3})
    html = h._repr_html_()
    assert html.count("<svg") == 2 and "3 epochs" in html and "lr" not in html.replace("class", "")
    charts = [ET.fromstring(part[:part.index("</svg>") + 6]) for part in html.split("<svg")[1:] for part in
              ["<svg" + part]]
    lines = [p for c in charts for p in c.iter(f"{SVG}path") if p.get("stroke-width") == "2"]
    assert len(lines) == 3                                     # loss, val_loss (gap kept), accuracy


def test_live_curves_do_nothing_outside_a_notebook_and_check_arguments():
    from myelin.train import LiveCurves
    model = nn.Linear(2, 1)
    x, y = np.random.default_rng(0).standard_normal((16, 2)).astype(np.float32), np.zeros((16, 1), np.float32)
    live = LiveCurves()
    myelin.fit(model, (x, y), loss="mse", optimizer="sgd", epochs=2, verbose=0, callbacks=[live])
    assert live.draws == 0 and live.handle is None
    history = myelin.fit(model, (x, y), loss="mse", optimizer="sgd", epochs=1, verbose=0, live=True)
    assert len(history) == 1                                   # live=True adds LiveCurves: silent here
    with pytest.raises(ValueError, match="every"):
        LiveCurves(every=0)


def test_report_shows_the_models_computation_graph(tmp_path):
    import json

    from myelin.report import render_report
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10))
    (tmp_path / "config.json").write_text(json.dumps({"input_shape": [1, 8, 8]}))
    page = render_report(tmp_path, model)
    assert "The computation graph" in page
    svg = page[page.index("<svg", page.index("The computation graph")):]
    root = ET.fromstring(svg[:svg.index("</svg>") + 6])
    texts = " ".join(t.text or "" for t in root.iter("text"))
    assert "conv2d" in texts and "0.weight" in texts and "linear" in texts
