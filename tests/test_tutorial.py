"""Every ```python block of the tutorial runs: docs/tutorial.md in one namespace, and each chapter of
docs/tutorial/ in its own (in a temporary directory, where its pictures must appear and not be blank)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
TUTORIAL = DOCS / "tutorial.md"
CHAPTERS = sorted((DOCS / "tutorial").glob("[0-9][0-9]-*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
IMAGE = re.compile(r"!\[[^\]]*\]\(\.\./images/([^)]+)\)")


def blocks(path: Path = TUTORIAL) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def _run(path: Path, namespace: dict) -> None:
    for number, code in enumerate(blocks(path), start=1):
        try:
            exec(compile(code, f"{path.name}, block {number}", "exec"), namespace)  # noqa: S102 - our own docs
        except Exception as exc:  # noqa: BLE001 - name the failing block
            pytest.fail(f"block {number} of {path.name} failed: {type(exc).__name__}: {exc}\n{code}")


def test_the_tutorial_has_code():
    assert len(blocks()) >= 8


def test_every_block_runs_in_order(capsys):
    _run(TUTORIAL, {"__name__": "tutorial"})
    assert "test accuracy" in capsys.readouterr().out


def test_the_chapters_are_linked_from_the_tutorial():
    text = TUTORIAL.read_text(encoding="utf-8")
    assert len(CHAPTERS) >= 7
    for chapter in CHAPTERS:
        assert f"tutorial/{chapter.name}" in text, chapter.name


def _not_blank(path: Path) -> None:
    if path.suffix == ".svg":
        root = ET.parse(path).getroot()
        assert len([r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("rx")]) >= 3, path.name
        return
    import matplotlib.image
    rgb = (matplotlib.image.imread(path)[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    assert rgb.std() > 20 and len(np.unique(rgb, axis=0)) > 50, path.name


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_and_draws_its_pictures(chapter, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                       # pictures go to ./docs/images of the temporary directory
    monkeypatch.setenv("MYELIN_DATA", str(tmp_path / "no-data"))   # the small shipped data sets, not MNIST
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))
    _run(chapter, {"__name__": "tutorial"})
    shown = IMAGE.findall(chapter.read_text(encoding="utf-8"))
    for name in shown:
        _not_blank(tmp_path / "docs" / "images" / name)    # made by this run
        assert (DOCS / "images" / name).exists(), f"{name} is not committed under docs/images"
