"""The example notebooks in examples/notebooks/ run top to bottom in a real Jupyter kernel and show pictures."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "examples" / "notebooks"


def _run(name: str):
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(book, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    return book


def _outputs(cell) -> list[dict]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") in ("display_data", "execute_result")]


def test_there_are_example_notebooks():
    assert len(sorted(NOTEBOOKS.glob("*.ipynb"))) >= 3


def test_graph_and_backprop_notebook_shows_the_graph_and_the_steps():
    book = _run("01_graph_and_backprop.ipynb")
    code = [c for c in book.cells if c.cell_type == "code"]
    svg = [o for c in code for o in _outputs(c) if "image/svg+xml" in o.get("data", {})]
    assert len(svg) == 2 and "<rect" in svg[0]["data"]["image/svg+xml"]
    assert "grad" in svg[1]["data"]["image/svg+xml"]          # after backward the boxes show gradients
    printed = "".join(o.get("text", "") for c in code for o in c.outputs if o.get("output_type") == "stream")
    assert "chain rule" in printed and "w1.grad +=" in printed


def test_live_curves_update_one_display_and_history_shows_curves():
    book = _run("02_watch_it_learn.ipynb")
    code = [c for c in book.cells if c.cell_type == "code"]
    fit_outputs = _outputs(code[0])
    assert len(fit_outputs) == 1                               # one chart, updated in place, not one per epoch
    html = fit_outputs[0]["data"]["text/html"]
    assert "6 epochs" in html and html.count("<svg") == 2      # loss and accuracy after the last epoch
    assert "<svg" in _outputs(code[1])[0]["data"]["text/html"]  # the History
    assert "myelin-trace" in _outputs(code[2])[0]["data"]["text/html"]
    assert "bias_grad" in _outputs(code[3])[0]["data"]["text/plain"]


def test_cnn_and_lstm_notebook_draws_feature_maps_and_gates():
    book = _run("03_inside_cnn_and_lstm.ipynb")
    code = [c for c in book.cells if c.cell_type == "code"]
    for cell in code[:2]:
        images = [o for o in _outputs(cell) if "image/png" in o.get("data", {})]
        assert images and len(images[0]["data"]["image/png"]) > 5000
    printed = "".join(o.get("text", "") for o in code[2].outputs if o.get("output_type") == "stream")
    assert printed.startswith("40 ") and "'f'" in printed
