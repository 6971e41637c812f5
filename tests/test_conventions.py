"""Repository-wide conventions that no single module's tests see: every argparse parser refuses
abbreviations, install hints name both ways to install an extra, documents link inside the repository,
and every name ``myelin`` lists imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY_DIRS = ("src", "examples", "benchmarks", "tests")


def _python_files() -> list[Path]:
    return sorted(p for d in PY_DIRS for p in (ROOT / d).rglob("*.py") if ".venv" not in p.parts)


def test_every_argument_parser_refuses_abbreviations():
    """``--epoch 3`` must not run as ``--epochs 3``: each ArgumentParser(...) passes allow_abbrev=False."""
    from myelin.cli import build_parser

    parser = build_parser()
    assert not parser.allow_abbrev
    assert parser.commands and all(not p.allow_abbrev for p in parser.commands.values())
    found, bad = 0, []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == \
                    "ArgumentParser":
                found += 1
                flag = [k for k in node.keywords if k.arg == "allow_abbrev"]
                if not (flag and isinstance(flag[0].value, ast.Constant) and flag[0].value.value is False):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found >= 10 and not bad, bad


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_documents_link_inside_the_repository():
    """Relative links resolve to files of the repository, and docs/ names no path outside it."""
    import re

    bad = []
    for path in _markdown_files():
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            resolved = (path.parent / target.split("#")[0]).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                bad.append(f"{path.relative_to(ROOT)}: link {target}")
        if path.parent.name == "docs":
            bad += [f"{path.relative_to(ROOT)}: {m}" for m in re.findall(r"\.\./[\w./-]+", text)
                    if not (path.parent / m).resolve().is_relative_to(ROOT)]
    assert not bad, bad


def test_no_short_name_means_two_things():
    """``wd`` was weight data in one file and width in another: such names are spelled out."""
    ambiguous = {"wd"}
    bad = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = node.id if isinstance(node, ast.Name) else node.arg if isinstance(node, ast.arg) else None
            if name in ambiguous:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not bad, bad
