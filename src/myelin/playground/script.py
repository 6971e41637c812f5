"""The playground's "open in Python": a standalone script that reproduces a run.

:func:`make_script` writes plain Myelin code (data, features, ``nn.Sequential``, optimizer, the
training loop) that performs the same computations in the same order as
:class:`~myelin.playground.session.TrainingSession`, so running it for the same number of steps
gives the same weights, bit for bit on the same machine. The settings are also kept as one JSON
line (``SETTINGS = {...}``) so the script says exactly what the page showed.
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

from .data import split_indices
from .settings import ACTIVATIONS, DATASETS, OPTIMIZERS

__all__ = ["make_script"]

_FEATURE_CODE = {"x1": "x1", "x2": "x2", "x1^2": "x1 ** 2", "x2^2": "x2 ** 2", "x1*x2": "x1 * x2",
                 "sin(x1)": "np.sin(x1)", "sin(x2)": "np.sin(x2)"}


def _data_lines(s: dict[str, Any], boundary: Any) -> tuple[list[str], list[str]]:
    """Import names and the lines that make ``raw`` and ``y``."""
    name, n, noise = s["data"], s["points"], s["noise"]
    if name in ("spirals", "gaussians"):
        return [name], [f"raw, y = {name}({n}, classes={s['classes']}, noise={noise!r}, seed=SEED)"]
    if name == "function":
        return ["function_boundary"], [
            "",
            "",
            "def boundary(x):",
            f"    \"\"\"The class boundary typed on the page: {boundary.text}\"\"\"",
            f"    return {boundary.source}",
            "",
            "",
            f"raw, y = function_boundary(boundary, {n}, noise={noise!r}, seed=SEED)",
        ]
    return [name], [f"raw, y = {name}({n}, noise={noise!r}, seed=SEED)"]


def _feature_lines(names: list[str], dim: int) -> list[str]:
    unpack = "x1 = raw[:, 0]" if dim == 1 else "x1, x2 = raw[:, 0], raw[:, 1]"
    cols = ", ".join(_FEATURE_CODE[f] for f in names)
    return [
        "",
        "",
        "def features(raw):",
        f"    \"\"\"The network's inputs: {', '.join(names)}.\"\"\"",
        f"    {unpack}",
        f"    return np.stack([{cols}], axis=1).astype(np.float32)",
        "",
        "",
        "x = features(raw)",
    ]


def _model_lines(s: dict[str, Any], widths: list[int]) -> list[str]:
    act = ACTIVATIONS[s["activation"]]
    lines = ["model = nn.Sequential("]
    for a, b in pairwise(widths[:-1]):
        parts = [f"nn.Linear({a}, {b})"]
        if act is not None:
            parts.append(f"nn.{act}()")
        if s["dropout"] > 0:
            parts.append(f"nn.Dropout({s['dropout']!r})")
        lines.append("    " + ", ".join(parts) + ",")
    lines.append(f"    nn.Linear({widths[-2]}, {widths[-1]}),")
    lines.append(")")
    opt = OPTIMIZERS[s["optimizer"]]
    extra = f", momentum={s['momentum']!r}" if s["optimizer"] == "sgd" else ""
    lines.append(f"optimizer = optim.{opt}(model.parameters(), lr={s['lr']!r}{extra})")
    return lines


def make_script(settings: dict[str, Any], steps: int, table: Any = None, boundary: Any = None) -> str:
    """The script for checked ``settings`` trained ``steps`` steps (``table``: the CSV data, if any)."""
    s = settings
    regression = DATASETS[s["data"]][0] == "regression"
    if s["data"] == "csv":
        from .table import table_script_lines, table_widths

        imports, data_lines, regression = table_script_lines(s, table)
        widths = table_widths(s, table)
        n_rows = len(table.x)
    else:
        names, data_lines = _data_lines(s, boundary)
        imports = [f"from myelin.datasets import {', '.join(names)}"]
        data_lines = data_lines + _feature_lines(s["features"], DATASETS[s["data"]][1])
        outputs = 1 if regression else max(2, s["classes"] if s["data"] in ("spirals", "gaussians") else 2)
        widths = [len(s["features"]), *s["layers"], outputs]
        n_rows = s["points"]
    n_train = len(split_indices(n_rows, s["train_fraction"], 0)[0])
    loss = "F.mse_loss(out, target)" if regression else "F.cross_entropy(out, target)"
    penalties = []
    if s["l1"]:
        penalties.append(f"    loss = loss + {s['l1']!r} * F.l1_penalty(weights)")
    if s["l2"]:
        penalties.append(f"    loss = loss + {s['l2']!r} * F.l2_penalty(weights)")
    score = ('        print(f"{name}: loss {loss_fn(out, ys).item():.4f}")' if regression else
             '        accuracy = float((out.data.argmax(axis=1) == ys).mean())\n'
             '        print(f"{name}: loss {loss_fn(out, ys).item():.4f}, accuracy {accuracy:.3f}")')
    summary = ", ".join(f"{k}={v}" for k, v in s.items() if k not in ("boundary", "view") or
                        (k == "boundary" and s["data"] == "function") or (k == "view" and s["data"] == "csv"))
    lines = [
        '"""A Myelin playground run as a script: the same data, network and training as on the page.',
        "",
        f"Settings: {summary}.",
        "Run: python this_script.py [MODEL_PATH]. It trains STEPS steps, prints the train and test scores",
        "and saves the model with myelin.save (default: playground_model.safetensors).",
        "The same seed and steps give the same weights as the playground's model download.",
        '"""',
        "",
        "import sys",
        "",
        "import numpy as np",
        "",
        "import myelin",
        "import myelin.nn.functional as F",
        "from myelin import nn, optim",
        *imports,
        "",
        f"SETTINGS = {json.dumps(s)}",
        f"SEED = {s['seed']}",
        f"STEPS = {steps}",
        f"BATCH = {s['batch']}",
        "",
        *data_lines,
        "order = np.random.default_rng(SEED).permutation(len(x))",
        f"train, test = order[:{n_train}], order[{n_train}:]",
        "x_train, y_train, x_test, y_test = x[train], y[train], x[test], y[test]",
        "",
        "myelin.manual_seed(SEED)  # the initial weights and dropout masks come from this",
        *_model_lines(s, widths),
        "weights = [p for p in model.parameters() if p.ndim >= 2]  # L1/L2 penalties apply to weights, not biases",
        "batches = np.random.default_rng([SEED, 1])  # the order of the training samples",
        "",
        "",
        "def loss_fn(out, target):",
        f"    return {loss}",
        "",
        "",
        "pos, perm = 0, None",
        "for step in range(STEPS):",
        "    if pos == 0:  # a new epoch: a new order",
        "        perm = batches.permutation(len(x_train))",
        "    idx = perm[pos:pos + BATCH]",
        "    out = model(myelin.tensor(x_train[idx]))",
        "    loss = loss_fn(out, y_train[idx])",
        *penalties,
        "    optimizer.zero_grad()",
        "    loss.backward()",
        "    optimizer.step()",
        "    pos = pos + BATCH if pos + BATCH < len(x_train) else 0",
        "",
        "model.eval()",
        "with myelin.no_grad():",
        '    for name, xs, ys in (("train", x_train, y_train), ("test", x_test, y_test)):',
        "        out = model(myelin.tensor(xs))",
        score,
        'myelin.save(model, sys.argv[1] if len(sys.argv) > 1 else "playground_model.safetensors")',
        "",
    ]
    return "\n".join(lines)
