"""Repository-wide conventions that no single module's tests see: every argparse parser refuses
abbreviations, install hints name both ways to install an extra, documents link inside the repository,
and every name ``myelin`` lists imports."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY_DIRS = ("src", "examples", "benchmarks", "tests")


@functools.cache
def _parsed(path: Path) -> ast.Module:
    """Each source file parsed once for all the checks below."""
    return ast.parse(path.read_text(encoding="utf-8"))


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
        for node in ast.walk(_parsed(path)):
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
        text = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", text, flags=re.DOTALL))  # code is not a link
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


def test_every_name_myelin_lists_resolves():
    """``dir(myelin)`` and ``myelin.__all__`` list nothing that fails to import or resolve (submodules such
    as ``myelin.utils`` are imported by the attribute access)."""
    import myelin

    names = sorted(set(dir(myelin)) | set(myelin.__all__))
    assert "Tensor" in names and "nn" in names and "fit" in names
    bad = []
    for name in names:
        try:
            getattr(myelin, name)
        except Exception as exc:  # noqa: BLE001 - every failure is reported by name
            bad.append(f"{name}: {type(exc).__name__}: {exc}")
    for name in myelin.__all__:
        assert isinstance(name, str) and name.isidentifier(), name
    assert not bad, bad


def test_no_short_name_means_two_things():
    """``wd`` was weight data in one file and width in another: such names are spelled out."""
    ambiguous = {"wd"}
    bad = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(_parsed(path)):
            name = node.id if isinstance(node, ast.Name) else node.arg if isinstance(node, ast.arg) else None
            if name in ambiguous:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not bad, bad


def test_nothing_below_the_command_line_imports_it(tmp_path):
    """Imports flow one way: only the front ends (``myelin.cli``, ``__main__``, and the playground beside the
    command line) import ``myelin.cli``; a model file holding
    ``RNNOutput`` (as ``myelin train --model lstm`` writes) loads and builds without it."""
    import subprocess
    import sys

    bad = []
    src = ROOT / "src" / "myelin"
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        if rel.parts[0] in ("cli", "__main__.py", "playground"):
            continue
        package = ["myelin", *rel.parts[:-1]]
        for node in ast.walk(_parsed(path)):
            names = []
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                full = ".".join(base + ([node.module] if node.module else []))
                names = [full] + [f"{full}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == "myelin.cli" or n.startswith("myelin.cli.") for n in names):
                bad.append(f"{rel}:{node.lineno}")
    assert not bad, bad
    code = (
        "import sys, myelin\n"
        "from myelin import nn\n"
        "m = nn.Sequential(nn.Flatten(1, 2), nn.LSTM(8, 6, batch_first=True), nn.RNNOutput(last_step=True),"
        " nn.Linear(6, 3))\n"
        f"myelin.save(m, {str(tmp_path / 'm.safetensors')!r})\n"
        f"back = myelin.load({str(tmp_path / 'm.safetensors')!r})\n"
        "assert type(back[2]).__name__ == 'RNNOutput' and back[2].last_step\n"
        f"model, _ = myelin.config.load_model({str(ROOT / 'examples' / 'configs' / 'mnist_lstm.toml')!r})\n"
        "assert type(model[2]).__name__ == 'RNNOutput'\n"
        "assert 'myelin.cli' not in sys.modules, sorted(k for k in sys.modules if k.startswith('myelin.cli'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_import_fallbacks_only_for_optional_packages():
    """``try: import X / except ImportError`` only where X is an optional extra or version-dependent
    (matplotlib, onnx, scikit-learn, IPython, tomllib): never for Myelin's own modules or its required
    dependencies, which always import (such fallbacks served layouts that never existed)."""
    required = {"numpy", "safetensors", "tqdm"}
    bad = []
    for path in sorted((ROOT / "src" / "myelin").rglob("*.py")):
        for node in ast.walk(_parsed(path)):
            if not isinstance(node, ast.Try):
                continue
            caught = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
            if not caught & {"ImportError", "ModuleNotFoundError", "(ImportError, ModuleNotFoundError)"}:
                continue
            for inner in (n for stmt in node.body for n in ast.walk(stmt)):
                names = []
                if isinstance(inner, ast.ImportFrom):
                    names = ["myelin" if inner.level else (inner.module or "")]
                elif isinstance(inner, ast.Import):
                    names = [a.name for a in inner.names]
                for name in names:
                    if name.split(".")[0] in required | {"myelin"}:
                        bad.append(f"{path.relative_to(ROOT)}:{inner.lineno} {name}")
    assert not bad, bad


def test_install_hints_name_the_checkout_and_the_published_package():
    """``pip install myelin-nn[plot]`` works only once the package is on PyPI: every hint also gives the
    checkout's ``pip install ".[plot]"``, and names an extra that pyproject.toml defines."""
    import re

    from myelin._extras import EXTRAS, install_hint

    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for extra in EXTRAS:
        assert re.search(rf"^{extra} = \[", pyproject, re.MULTILINE), extra
        hint = install_hint(extra)
        assert f'pip install ".[{extra}]"' in hint and f'pip install "myelin-nn[{extra}]"' in hint
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "src").rglob("*.py"),
             *(ROOT / "tests").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]
    bad = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"myelin-nn\[(\w+)\]", text):
            near = text[max(0, m.start() - 300): m.end() + 300]
            if f".[{m.group(1)}]" not in near or m.group(1) not in EXTRAS:
                bad.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
    assert not bad, bad


_COUNTED_NOUNS = ("epochs|steps|samples|batches|layers|parameters|windows|rows|columns|classes|files|units|neurons|"
                  "items|ranks|values|inputs|outputs|labels|characters|chars|lines|warnings|dimensions|dims|"
                  "features|weights|elements|arrays|tensors|modules|nodes|calls|images|examples|fields|bytes|"
                  "channels|points|tokens|words|keys|entries|positions|iterations|checkpoints|groups|arguments|"
                  "members|indices|axes|errors")
# (file, expression) pairs whose number is not a count of the noun that follows it
_NOT_COUNTS = {
    ("src/myelin/core/ops.py", "equation"),  # "the equation names ..." (a verb)
    ("src/myelin/devices.py", "type"),  # a string: "{type} names"
    ("src/myelin/nn/container.py", "owner"),  # a string
    ("src/myelin/monitor/neuron_monitor.py", "self.vanishing_ratio"),  # "0.01 times that of": a factor
    ("src/myelin/train/fit.py", "DIVERGED_FACTOR"),
    ("src/myelin/core/tensor.py", "self.data.size"),  # the truth value of a tensor of 0 or >= 2 elements
    ("src/myelin/distributed/sharding.py", "comm.size"),  # "batch_size / {n} samples": a quotient
    ("src/myelin/train/threads.py", "self.ranks"),  # only said when ranks > 1
}


def test_counted_nouns_agree_in_number():
    """An f-string never writes ``{n} epochs`` (which reads "1 epochs"): ``myelin._plural.counted(n, "epoch")``
    writes "1 epoch" / "2 epochs". Constants (UPPER_CASE names) are exempt: they are never 1."""
    import re

    from myelin._plural import counted

    assert (counted(1, "epoch"), counted(2, "epoch"), counted(0, "class")) == ("1 epoch", "2 epochs", "0 classes")
    assert counted(1, "batch") == "1 batch" and counted(12000, "sample", spec=",") == "12,000 samples"
    noun = re.compile(rf"^ ({_COUNTED_NOUNS})\b")
    bad = []
    for path in sorted((ROOT / "src" / "myelin").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(_parsed(path)):
            if not isinstance(node, ast.JoinedStr):
                continue
            for value, text in zip(node.values, node.values[1:]):
                if not (isinstance(value, ast.FormattedValue) and isinstance(text, ast.Constant)
                        and isinstance(text.value, str) and noun.match(text.value)):
                    continue
                expr = value.value
                name = expr.id if isinstance(expr, ast.Name) else expr.attr if isinstance(expr, ast.Attribute) else ""
                if name.lstrip("_").isupper() or (rel, ast.unparse(expr)) in _NOT_COUNTS:
                    continue
                bad.append(f"{rel}:{node.lineno} {{{ast.unparse(expr)}}}{text.value.split(',')[0][:20]}")
    assert not bad, bad
