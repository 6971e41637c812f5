"""The import floors of docs/DESIGN.md hold: import-linter checks the contracts in .importlinter."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_imports_flow_one_way():
    pytest.importorskip("importlinter", reason="import-linter is in the [test] extra")
    from importlinter.cli import lint_imports

    # 0: every contract kept; a broken one prints the offending import chains above this line.
    assert lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True) == 0


def test_the_contract_lists_every_top_level_module():
    """A new top-level module must be placed on a floor (else nothing checks its imports)."""
    text = (ROOT / ".importlinter").read_text()
    package = ROOT / "src" / "myelin"
    names = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    names |= {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    missing = sorted(n for n in names if f"myelin.{n}\n" not in text and f"myelin.{n} " not in text)
    assert not missing, f"add these to a floor of .importlinter: {missing}"
