"""Every ```python block of docs/tutorial.md runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks() -> list[str]:
    return BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))


def test_the_tutorial_has_code():
    assert len(blocks()) >= 8


def test_every_block_runs_in_order(capsys):
    namespace: dict = {"__name__": "tutorial"}
    for number, code in enumerate(blocks(), start=1):
        try:
            exec(compile(code, f"{TUTORIAL.name}, block {number}", "exec"), namespace)  # noqa: S102 - our own docs
        except Exception as exc:  # noqa: BLE001 - name the failing block
            pytest.fail(f"block {number} of {TUTORIAL.name} failed: {type(exc).__name__}: {exc}\n{code}")
    assert "test accuracy" in capsys.readouterr().out
