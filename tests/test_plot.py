"""myelin.plot: every figure is saved as a real, non-blank PNG of the expected size."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import myelin
from myelin import nn

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure
from matplotlib.image import imread

from myelin import plot
from myelin.monitor import NeuronMonitor
from myelin.optim import Adam


def _check_png(path, fig) -> np.ndarray:
    """The PNG exists, has the figure's pixel size and more than one colour."""
    assert isinstance(fig, Figure)
    img = imread(path)
    width, height = (fig.get_size_inches() * fig.dpi).round().astype(int)
    assert img.shape[:2] == (height, width)
    assert img.var() > 0
    colours = np.unique(img.reshape(-1, img.shape[-1]), axis=0)
    assert len(colours) > 10
    return img


@pytest.fixture(scope="module")
def moons():
    rng = np.random.default_rng(0)
    t = rng.uniform(0, np.pi, 200)
    x = np.concatenate([np.stack([np.cos(t), np.sin(t)], 1), np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)])
    x = (x + 0.1 * rng.standard_normal(x.shape)).astype(np.float32)
    y = np.repeat([0, 1], 200)
    return x, y


@pytest.fixture(scope="module")
def trained(moons):
    myelin.manual_seed(0)
    x, y = moons
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    monitor = NeuronMonitor(warn=False)
    history = myelin.fit(model, (x, y), loss="cross_entropy", optimizer=Adam(model.parameters(), lr=3e-2), epochs=6,
                         batch_size=32, validation_split=0.2, callbacks=[monitor], verbose=0)
    return model, monitor, history


def test_learning_curves_from_history_and_csv(trained, tmp_path):
    _, _, history = trained
    fig = plot.learning_curves(history, path=tmp_path / "curves.png")
    _check_png(tmp_path / "curves.png", fig)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy"]  # the monitor's 'grad_norm/0'... keys and lr are left out
    assert [line.get_label() for line in fig.axes[0].lines] == ["training", "validation"]
    csv_path = tmp_path / "history.csv"
    keys = list(history.history)
    rows = [",".join(["epoch", *keys])]
    rows += [",".join([str(e + 1)] + ["" if history[k][e] is None else repr(history[k][e]) for k in keys])
             for e in range(len(history))]
    csv_path.write_text("\n".join(rows) + "\n")
    fig2 = plot.learning_curves(csv_path, path=tmp_path / "curves2.png")
    _check_png(tmp_path / "curves2.png", fig2)
    np.testing.assert_allclose(fig2.axes[0].lines[0].get_ydata(), history["loss"])


def test_first_layer_weights_mnist_shaped(tmp_path):
    model = nn.Sequential(nn.Linear(784, 12), nn.ReLU(), nn.Linear(12, 10))
    fig = plot.first_layer_weights(model, path=tmp_path / "w.png")
    _check_png(tmp_path / "w.png", fig)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 12 and images[0].get_array().shape == (28, 28)
    np.testing.assert_allclose(images[5].get_array(), model[0].weight.data[5].reshape(28, 28), rtol=1e-6)
    with pytest.raises(ValueError, match="image_shape"):
        plot.first_layer_weights(nn.Sequential(nn.Linear(10, 3)))
    conv = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU())
    fig = plot.first_layer_weights(conv, path=tmp_path / "conv.png")
    _check_png(tmp_path / "conv.png", fig)
    assert sum(bool(ax.images) for ax in fig.axes) == 6


def test_activation_histograms(trained, moons, tmp_path):
    model, _, _ = trained
    fig = plot.activation_histograms(model, moons[0], path=tmp_path / "h.png")
    _check_png(tmp_path / "h.png", fig)
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled == ["1 (Tanh)", "3 (ReLU)"]
    counts = sum(patch.get_height() for patch in fig.axes[0].patches)
    assert counts == len(moons[0]) * 8  # every sample, every unit
    assert all(not m._forward_hooks for m in model.modules())


def test_gradient_flow_from_monitor_history_and_json(trained, tmp_path):
    _, monitor, history = trained
    fig = plot.gradient_flow(monitor, path=tmp_path / "g.png")
    _check_png(tmp_path / "g.png", fig)
    assert [line.get_label() for line in fig.axes[0].lines] == ["0", "2", "4"]
    assert len(fig.axes[0].lines[0].get_ydata()) == 6
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), history["grad_norm/0"])
    fig2 = plot.gradient_flow(history)
    np.testing.assert_allclose(fig2.axes[0].lines[2].get_ydata(), history["grad_norm/4"])
    path = monitor.save(tmp_path)
    fig3 = plot.gradient_flow(path, path=tmp_path / "g3.png")
    _check_png(tmp_path / "g3.png", fig3)
    fig4 = plot.gradient_flow(json.loads(path.read_text()))
    assert len(fig4.axes[1].lines) == 3
    with pytest.raises(ValueError, match="NeuronMonitor"):
        plot.gradient_flow({"loss": [1.0, 0.5]})


def test_decision_boundary_and_hidden_neurons(trained, moons, tmp_path):
    model, _, _ = trained
    x, y = moons
    fig = plot.decision_boundary(model, x, y, resolution=80, path=tmp_path / "d.png")
    img = _check_png(tmp_path / "d.png", fig)
    assert len(fig.axes) == 1
    fig = plot.decision_boundary(model, x, y, hidden_neurons=True, resolution=80, path=tmp_path / "dh.png")
    _check_png(tmp_path / "dh.png", fig)
    assert len(fig.axes) == 1 + 8
    assert fig.axes[1].get_title() == "neuron 0"
    assert img.shape[1] < imread(tmp_path / "dh.png").shape[1]
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot.decision_boundary(model, np.zeros((4, 3)), np.zeros(4))


def test_confusion_matrix_figure(tmp_path):
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0, 2])
    fig = plot.confusion_matrix(y_true, y_pred, classes=["cat", "dog", "fox"], path=tmp_path / "c.png")
    _check_png(tmp_path / "c.png", fig)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), myelin.monitor.confusion_matrix(y_true, y_pred))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "fox"]
    assert "accuracy 71.4%" in ax.get_title()
    fig = plot.confusion_matrix(y_true, y_pred, normalize=True)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array().sum(axis=1), 1.0)


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "\.\[plot\]" in a checkout.*pip install "myelin-nn\[plot\]"'):
        plot.confusion_matrix([0, 1], [0, 1])


@pytest.mark.parametrize("n_layers", [3, 40])
def test_gradient_flow_legend_covers_no_curve(tmp_path, n_layers):
    """The legend sits beside both panels (issue 20: inside the first one it hid two of its curves)."""
    epochs = [{"epoch": e, "layers": {f"layer{k}": {"grad_norm": 10.0 ** (-k / 4) * (1 + e),
                                                    "update_ratio": 10.0 ** (-k / 8) / (1 + e)}
                                      for k in range(n_layers)}} for e in range(5)]
    fig = plot.gradient_flow({"epochs": epochs, "layers": [{"name": f"layer{k}"} for k in range(n_layers)]},
                             path=tmp_path / "g.png")
    _check_png(tmp_path / "g.png", fig)
    renderer = fig.canvas.get_renderer()
    legends = [leg for ax in fig.axes for leg in ([ax.get_legend()] if ax.get_legend() else [])] + fig.legends
    assert len(legends) == 1
    legend = legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [f"layer{k}" for k in range(n_layers)]
    box = legend.get_window_extent(renderer)
    for ax in fig.axes[:2]:
        assert not box.overlaps(ax.get_window_extent(renderer)), (box, ax.get_window_extent(renderer))
    assert box.x1 <= fig.bbox.x1 + 1 and box.y0 >= fig.bbox.y0 - 1 and box.y1 <= fig.bbox.y1 + 1  # inside the picture
