"""myelin.report: a self-contained HTML page that parses, embeds real PNGs, escapes file contents and renders."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import nn
from myelin.monitor import NeuronMonitor
from myelin.optim import Adam
from myelin.report import render_report, write_report
from myelin.train.callbacks import CSVLogger

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NASTY = "<script>alert('x')</script> & <b>bold</b>"


class _Page(HTMLParser):
    """Collects tags, attributes, images and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.images: list[str] = []
        self.ids: list[str] = []
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in ("meta", "img", "br", "hr", "input", "link"):
            self.open.append(tag)
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))
            if name == "id":
                self.ids.append(value)
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.open == [], f"unclosed tags: {parser.open}"
    return parser


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run directory as ``myelin train`` writes it, plus monitor.json and predictions.npz."""
    myelin.manual_seed(0)
    folder = tmp_path_factory.mktemp("run")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((384, 1, 4, 4)).astype(np.float32)  # tiny 4x4 "images"
    y = (x[:, 0, 0, 0] > 0).astype(np.int64) + (x[:, 0, 0, 1] > 0).astype(np.int64)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 24), nn.ReLU(), nn.Linear(24, 3))
    model[1].bias.data[:12] = -100.0  # half the hidden layer is dead: the report must say so
    monitor = NeuronMonitor(warn=False)
    history = myelin.fit(model, (x, y), loss="cross_entropy", optimizer=Adam(model.parameters(), lr=1e-2),
                         epochs=4, batch_size=64, validation_split=0.25,
                         callbacks=[monitor, CSVLogger(folder / "history.csv")], verbose=0)
    monitor.save(folder)
    myelin.save(model, folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps({
        "settings": {"lr": 0.01, "epochs": 4, "optimizer": "adam"}, "input_shape": [1, 4, 4],
        "classes": ["low", "mid", "high"], "note": NASTY}))
    (folder / "metrics.json").write_text(json.dumps({
        "epochs": len(history), "test_accuracy": 0.8125, "test_loss": 0.5, "seconds": 1.5}))
    np.savez(folder / "predictions.npz", y_true=y, y_pred=myelin.predict(model, x))
    return folder


@pytest.fixture(scope="module")
def report(run_dir) -> tuple[Path, str]:
    pytest.importorskip("matplotlib")
    path = write_report(run_dir)
    return path, path.read_text(encoding="utf-8")


def test_report_parses_and_has_every_section(report):
    path, page = report
    assert path.name == "report.html"
    parsed = _parse(page)
    assert {"results", "curves", "health", "confusion", "model", "settings"} <= set(parsed.ids)
    text = " ".join(parsed.text)
    assert "layer '2' (ReLU): 50% of 24 neurons are dead" in text  # the monitor's warning, from monitor.json
    assert "81.25%" in text and "test accuracy" in text
    assert "Sequential" in text and "Flatten" in text and "(1, 16)" in text and "(1, 24)" in text  # summary
    assert "high" in text and "adam" in text  # class names and settings from config.json
    assert "could not" not in text


def test_every_embedded_image_decodes(report):
    from matplotlib.image import imread

    _, page = report
    images = _parse(page).images
    assert len(images) == 4  # learning curves, gradient flow, confusion matrix, first-layer weights
    for src in images:
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data.startswith(PNG_SIGNATURE)
        img = imread(io.BytesIO(data), format="png")
        assert img.shape[0] > 100 and img.shape[1] > 100 and img.var() > 0


def test_self_contained_and_escaped(report):
    _, page = report
    parsed = _parse(page)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "iframe" not in parsed.tags
    for tag, name, value in parsed.attrs:
        if name in ("src", "href"):
            assert value.startswith(("data:", "#")), (tag, name, value[:60])
    assert "http://" not in page and "https://" not in page and "url(" not in page
    assert "<script>" not in page and "<b>bold</b>" not in page
    assert NASTY in " ".join(parsed.text)  # shown as text, not markup


def test_missing_files_still_give_a_page(tmp_path):
    page = render_report(tmp_path)
    text = " ".join(_parse(page).text)
    for name in ("metrics.json", "history.csv", "monitor.json", "predictions.npz", "model.safetensors",
                 "config.json"):
        assert name in text
    (tmp_path / "metrics.json").write_text("{not json")
    text = " ".join(_parse(render_report(tmp_path)).text)
    assert "could not read metrics.json" in text
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_report(tmp_path / "nowhere")


def test_confusion_from_model_and_test_data(tmp_path):
    pytest.importorskip("matplotlib")
    model = nn.Sequential(nn.Linear(3, 2))
    x = np.random.default_rng(0).standard_normal((50, 3)).astype(np.float32)
    y = myelin.predict(model, x).argmax(1)
    out = write_report(tmp_path, model=model, test_data=(x, y), path=tmp_path / "r.html")
    text = " ".join(_parse(out.read_text()).text)
    assert "From the model on the given test data: 50 samples, accuracy 100.00%." in text


def test_without_matplotlib_the_page_says_how_to_get_figures(run_dir, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    page = render_report(run_dir)
    parsed = _parse(page)
    assert parsed.images == []
    text = " ".join(parsed.text)
    assert 'pip install ".[plot]" in a checkout' in text and 'pip install "myelin-nn[plot]" from PyPI' in text
    assert "layer '2' (ReLU)" in text and "true \\ predicted" in text  # tables instead of figures


def test_cli_report_command(run_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from myelin.cli import main

    target = tmp_path / "copy"
    shutil.copytree(run_dir, target)
    (target / "report.html").unlink(missing_ok=True)
    assert main(["report", str(target)]) == 0
    assert (target / "report.html").is_file()
    assert "report.html" in capsys.readouterr().out


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="no chromium binary (apt-get install chromium)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    from matplotlib.image import imread

    path, _ = report
    shot = tmp_path / "shot.png"
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,1600",
               path.resolve().as_uri()]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert shot.is_file(), f"chromium wrote no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
    img = imread(shot)
    assert img.shape[:2] == (1600, 1200)
    assert img.var() > 1e-3
    colours = np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50  # text, tables and figures, not a blank or single-colour page
    keep = os.environ.get("MYELIN_SCREENSHOT_DIR")  # set it to look at the page yourself
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(keep) / "report_screenshot.png")
