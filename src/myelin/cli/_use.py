"""``myelin evaluate``, ``predict``, ``summary`` and ``report``: using a trained model or a run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .._plural import counted
from ._data import check_data_options, load_data, load_inputs
from ._errors import CLIError
from ._files import load_model_file

__all__ = ["cmd_evaluate", "cmd_predict", "cmd_report", "cmd_summary", "infer_input_shape"]


def _forward(model: Any, x: np.ndarray) -> Any:
    from .. import no_grad, tensor

    with no_grad():
        return model(tensor(x))


def _fits(model: Any, shape: tuple[int, ...]) -> bool:
    from ..io.forward_budget import forward_bytes
    from ..limits import limit

    if forward_bytes(model, shape) > limit("MYELIN_MAX_FORWARD_BYTES"):
        return False  # never run a guess that would allocate more than the budget
    try:
        out = _forward(model, np.zeros((1, *shape), dtype=np.float32))
    except (ValueError, TypeError, IndexError):
        return False
    return not isinstance(out, tuple)


def _modules(model: Any) -> list[Any]:
    modules = getattr(model, "modules", None)
    return list(modules()) if callable(modules) else [model]


def infer_input_shape(model: Any, run: dict[str, Any], source: str = "the model file") -> tuple[int, ...]:
    """One sample's shape: from the run's ``config.json``, else guessed from the first layers and checked."""
    from ..io.forward_budget import check_forward_budget

    shape = run.get("input_shape")
    if isinstance(shape, list) and shape and all(isinstance(d, int) and d > 0 for d in shape):
        check_forward_budget(model, tuple(shape), source)
        return tuple(shape)
    candidates: list[tuple[int, ...]] = []
    for module in _modules(model):
        kind = type(module).__name__
        if kind == "Linear":
            n = int(module.in_features)
            side = round(n ** 0.5)
            candidates += [(1, side, side)] if side * side == n else []
            candidates.append((n,))
            break
        if kind in ("Conv2d",):
            c = int(module.in_channels)
            candidates += [(c, 28, 28), (c, 32, 32), (c, 8, 8)]
            break
    candidates += [(1, 28, 28), (1, 8, 8)]
    for cand in candidates:
        if _fits(model, cand):
            return cand
    raise CLIError("cannot tell the model's input shape: keep the config.json of its run next to the model file "
                   "(summary also takes --input-shape, e.g. 1,28,28)")


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _class_name(run: dict[str, Any], k: int) -> str:
    classes = run.get("classes")
    return str(classes[k]) if isinstance(classes, list) and k < len(classes) else str(k)


def _conform(x: np.ndarray, shape: tuple[int, ...], where: str) -> np.ndarray:
    """``x`` reshaped to ``(N, *shape)`` when only the layout differs (e.g. rows of 64 for 1x8x8 images)."""
    if x.shape[1:] == shape:
        return x
    if int(np.prod(x.shape[1:])) == int(np.prod(shape)):
        return x.reshape((len(x), *shape))
    raise CLIError(f"{where}: samples of shape {list(x.shape[1:])} do not fit the model's input {list(shape)}")


def _data_source(args: argparse.Namespace, settings: dict[str, Any], spec: str) -> str:
    """Which data ``evaluate`` read, and why: the user's ``--data``, the run's, or the default."""
    if args.data:
        return f"--data {spec}"
    if settings.get("data") is not None:
        return f"{spec} (the data its run was trained on)"
    return (f"{spec} (the default: no --data was given, and neither a config.json next to the model nor the model "
            f"file names its data)")


def _test_inputs(x: np.ndarray, model: Any, run: dict[str, Any], source: str) -> np.ndarray:
    """The test inputs in the model's input shape, or an error that says which data was tried and how to pass other."""
    try:
        return _conform(x, infer_input_shape(model, run), source)
    except CLIError as exc:
        raise CLIError(f"{exc}; pass the test data with --data (digits, mnist, fashion-mnist, or a .npz or .csv "
                       f"file)") from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print loss and accuracy of a saved model on a data set's test part."""
    import myelin

    model, path, run = load_model_file(args.model)
    settings = run.get("settings", {}) if isinstance(run.get("settings"), dict) else {}
    spec = args.data or _stored_data(settings, path)
    # only the command line points at files or starts downloads: a model file names no path
    data = load_data(spec, args.data_dir, args.target or settings.get("target"), int(settings.get("seed", 0) or 0),
                     download=args.data is not None)
    check_data_options(spec, args.data_dir, args.target)
    x = data.x_test if data.kind == "text" else _test_inputs(data.x_test, model, run, _data_source(args, settings, spec))
    batch_size = args.batch_size
    if data.kind != "text":
        from ..io.forward_budget import safe_batch_size

        batch_size = safe_batch_size(model, tuple(x.shape[1:]), args.batch_size, str(path))
    if data.kind == "text":
        from ._train import _text_loss

        result = myelin.evaluate(model, (x, data.y_test), loss=_text_loss, metrics=(), batch_size=args.batch_size)
        print(f"test loss {result['loss']:.4f} nats/char on {counted(len(x), 'window')} of {data.name}")
        return 0
    try:
        result = myelin.evaluate(model, (x, data.y_test), loss="cross_entropy", batch_size=batch_size)
    except IndexError as exc:
        raise CLIError(f"{spec} does not fit {path}: {' '.join(str(exc).split())}") from None
    print(f"test accuracy {100 * result['accuracy']:.2f}% (test loss {result['loss']:.4f}) on "
          f"{counted(len(x), 'sample')} of {data.name}")
    return 0


def _stored_data(settings: dict[str, Any], path: Path) -> str:
    """The data set a run was trained on, when it is a built-in name; a file must come from ``--data``."""
    from ._data import BUILTIN

    stored = settings.get("data")
    if stored is None:
        return "digits"
    if isinstance(stored, str) and stored.lower().replace("_", "-") in BUILTIN:
        return stored
    raise CLIError(f"{path} was trained on the file {stored!r:.80}: give the data with --data (a model file never "
                   "chooses which files are read)")


def cmd_predict(args: argparse.Namespace) -> int:
    """Classify a PNG image or the samples of an .npz/.csv file; print classes and probabilities."""
    import myelin

    from ._png import IMAGE_SUFFIXES, digit_input, read_image

    model, _, run = load_model_file(args.model)
    if run.get("data_kind") == "text":
        raise CLIError("predict classifies images and table rows; for text models see examples/char_lstm.py")
    inp = Path(args.input).expanduser()
    if not inp.is_file():
        raise FileNotFoundError(f"no input file at {inp}")
    suffix = inp.suffix.lower()
    if args.target is not None and suffix != ".csv":
        raise CLIError(f"--target names the label column of a CSV input; {inp.name} is not a .csv file, leave it out")
    if args.limit is not None and suffix in IMAGE_SUFFIXES:
        raise CLIError(f"--limit applies to .npz and .csv inputs of many samples; {inp.name} is one image, leave it out")
    shape = infer_input_shape(model, run, args.model)
    labels = None
    if suffix in IMAGE_SUFFIXES:
        if len(shape) != 3:
            raise CLIError(f"the model takes samples of shape {list(shape)}, not images; predict needs an image model")
        channels, height, width = shape
        img = digit_input(read_image(inp), height, width)
        x = np.repeat(img[None, None], channels, axis=1)
    else:
        x, labels = load_inputs(inp, args.target, n_features=int(np.prod(shape)))
        x = _conform(x, shape, str(inp))
    from ..io.forward_budget import safe_batch_size

    batch_size = safe_batch_size(model, tuple(x.shape[1:]), 256, args.model)
    scores = np.asarray(myelin.predict(model, x, batch_size=batch_size), dtype=np.float64).reshape(len(x), -1)
    bad = ~np.isfinite(scores).all(axis=1)
    if bad.any():
        raise CLIError(f"the model gives NaN or infinite scores for {int(bad.sum())} of {counted(len(x), 'sample')} (first: "
                       f"sample {int(np.argmax(bad))}); no prediction is reported (check its weights and the inputs)")
    probs = _softmax(scores)
    pred = probs.argmax(axis=1)
    if len(x) == 1:
        k = int(pred[0])
        print(f"predicted class: {_class_name(run, k)} (probability {probs[0, k]:.3f})")
        if args.top is not None or probs.shape[1] > 20:  # else every class's probability
            order: Any = np.argsort(-probs[0])[: args.top or 3]
        else:
            order = range(probs.shape[1])
        print("probabilities: " + "  ".join(f"{_class_name(run, int(c))}: {probs[0, c]:.3f}" for c in order))
        return 0
    limit = 20 if args.limit is None else args.limit
    shown = len(x) if limit == 0 else min(limit, len(x))
    for i in range(shown):
        top = np.argsort(-probs[i])[: args.top or 3]
        alts = ", ".join(f"{_class_name(run, int(c))} {probs[i, c]:.3f}" for c in top)
        print(f"{i}: {_class_name(run, int(pred[i]))}  ({alts})")
    if shown < len(x):
        print(f"... {len(x) - shown} more (use --limit 0 to print all)")
    if labels is not None:
        y = np.asarray(labels).reshape(-1)
        if y.dtype.kind in "iuf" and len(y) == len(pred):
            print(f"accuracy {100 * float((pred == y.astype(np.int64)).mean()):.2f}% on {counted(len(y), 'labelled sample')}")
    return 0


def _parse_shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(t) for t in text.replace("x", ",").split(",") if t.strip())
    except ValueError:
        raise CLIError(f"--input-shape {text!r}: expected integers separated by commas, e.g. 1,28,28") from None
    if not shape or any(d < 1 for d in shape):
        raise CLIError(f"--input-shape {text!r}: expected positive integers, e.g. 1,28,28")
    return shape


def cmd_summary(args: argparse.Namespace) -> int:
    """Print the model's layers, output shapes and parameter counts (``myelin.summary``)."""
    model, path, run = load_model_file(args.model)
    shape = _parse_shape(args.input_shape) if args.input_shape else None
    from ..monitor import summary

    given = shape is not None
    first = next((m for m in _modules(model) if type(m).__name__ != "Sequential"), None)
    dtype = "int64" if run.get("data_kind") == "text" or type(first).__name__ == "Embedding" else None
    if given:
        from ..io.forward_budget import check_forward_budget

        check_forward_budget(model, shape, str(path))
    from ..io import ModelFileError

    try:
        result = summary(model, shape if given else infer_input_shape(model, run, str(path)), dtype=dtype)
    except ModelFileError:
        raise  # e.g. the forward pass would exceed its memory budget: say so, do not guess on
    except (CLIError, RuntimeError, ValueError) as exc:
        if given:
            raise CLIError(f"--input-shape {args.input_shape}: {' '.join(str(exc).split())}") from None
        result = summary(model, None)
    print(result)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write ``report.html`` for a run directory through ``myelin.report.write_report``."""
    from ._train import RUN_FILES

    run_dir = Path(args.run_dir).expanduser()
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no run directory at {run_dir}")
    if not any((run_dir / name).is_file() for name in RUN_FILES if name != "report.html"):
        raise CLIError(f"{run_dir} is not a run directory: it holds none of {', '.join(RUN_FILES[:5])} "
                       "(written by 'myelin train')")
    from ..report import write_report

    out = write_report(run_dir)
    print(f"report written to {out if out is not None else run_dir / 'report.html'}")
    return 0
