"""The argument parser of the ``myelin`` command (argparse, one-line errors, exit status 2)."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any, NoReturn

__all__ = ["Parser", "build_parser", "one_line"]

EPILOG = """examples:
  myelin train                                   # MLP on the built-in 8x8 digits, in seconds
  myelin train --data mnist --model cnn          # MNIST from --data-dir, $MYELIN_DATA or a download
  myelin train --data table.csv --target label   # your own CSV (header row; label column)
  myelin train --model examples/configs/digits_mlp.toml
  myelin evaluate runs/<run>/model.safetensors --data digits
  myelin predict runs/<run>/model.safetensors digit.png
  myelin summary runs/<run>/model.safetensors
  myelin report runs/<run>
"""


def one_line(message: Any) -> str:
    """``message`` with all whitespace runs (newlines included) collapsed to single spaces."""
    return " ".join(str(message).split())


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit status 2.

    Prefixes of long options are not accepted (``allow_abbrev=False``): ``--epoch 3`` is an error,
    not ``--epochs 3``, so a typo never runs with a setting the user did not mean.
    """

    commands: dict[str, argparse.ArgumentParser]  # the subcommand parsers, set by build_parser

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


def _number(text: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}")
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def thread_count(text: str) -> int | str:
    """``auto`` or an integer >= 1 (``--threads``)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected auto or an integer >= 1, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    value = _number(text, float)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _add_data_options(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--data", metavar="DATA",
                   help="digits, mnist, fashion-mnist, or a file: PATH.npz (x_train/y_train[/x_test/y_test] or x/y), "
                        "PATH.csv (header row, label in the last column or --target), PATH.txt (text, for "
                        f"--model lstm) (default: {default})")
    p.add_argument("--data-dir", metavar="DIR", help="where mnist/fashion-mnist files are (or are downloaded to)")
    p.add_argument("--target", metavar="NAME", help="the label column of a CSV file (default: the last column)")


def build_parser() -> Parser:
    """The ``myelin`` parser with its subcommands."""
    from .. import __version__

    parser = Parser(prog="myelin", description="Train, evaluate and inspect Myelin neural networks.",
                    epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"myelin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    t = sub.add_parser("train", help="train a model and write a run directory",
                       description="Train a model and write a run directory (model.safetensors, history.csv, "
                                   "metrics.json, config.json, checkpoint.safetensors, curves.png, report.html). With "
                                   "no options: "
                                   "an MLP on the built-in 8x8 digits, in seconds.")
    _add_data_options(t, "digits, or the resumed run's data")
    t.add_argument("--model", metavar="MODEL",
                   help="mlp, cnn, lstm (image rows as a sequence; a character model for .txt data) or a CONFIG.toml "
                        "with [[layers]] (default: mlp)")
    t.add_argument("--epochs", type=positive_int, metavar="N", help="epochs in the whole run (default: per data and model, "
                                                                    "15 for the digits MLP)")
    t.add_argument("--batch-size", type=positive_int, metavar="N", help="samples per step (default: 32, 64 for MNIST)")
    t.add_argument("--lr", type=positive_float, metavar="LR", help="learning rate (default: 1e-3; sgd and adagrad 1e-2)")
    t.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop", "adagrad"],
                   type=str.lower, help="default: adam (sgd uses momentum 0.9)")
    t.add_argument("--dropout", type=fraction, metavar="P", help="dropout after hidden layers (default: 0)")
    t.add_argument("--l1", type=non_negative_float, metavar="X", help="L1 penalty on the weights (default: 0)")
    t.add_argument("--l2", type=non_negative_float, metavar="X", help="L2 penalty on the weights (default: 0)")
    t.add_argument("--seed", type=non_negative_int, metavar="N", help="random seed (default: 0)")
    t.add_argument("--val-split", type=fraction, metavar="F",
                   help="fraction of the training data held out for validation (default: 0.1)")
    t.add_argument("--patience", type=positive_int, metavar="N",
                   help="stop after this many epochs without a better validation loss, keeping the best weights")
    t.add_argument("--out", metavar="DIR", help="run directory (default: runs/<timestamp>; for --resume: "
                                                 "<run>-resumed next to the original run)")
    t.add_argument("--overwrite", action="store_true",
                   help="allow --out to name a directory that already holds a run, replacing that run")
    t.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue a run from its checkpoint.safetensors (its settings are reused; the original run "
                        "is left as it is)")
    t.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    t.add_argument("--no-report", action="store_true", help="do not write report.html")
    t.add_argument("--threads", type=thread_count, default="auto", metavar="N",
                   help="NumPy's BLAS threads while training: a number, or auto (default: one thread for small "
                        "models and fewer on a busy machine; OPENBLAS_NUM_THREADS or OMP_NUM_THREADS, when set, win)")

    e = sub.add_parser("evaluate", help="loss and accuracy of a saved model on a data set",
                       description="Loss and accuracy of a saved model on the test part of a data set.")
    e.add_argument("model", metavar="MODEL", help="a model file (model.safetensors) or a run directory")
    _add_data_options(e, "the data in the run's config.json, else digits")
    e.add_argument("--batch-size", type=positive_int, default=256, metavar="N", help="default: %(default)s")

    p = sub.add_parser("predict", help="classify an image (PNG), or the rows of an .npz or .csv file",
                       description="Classify a PNG image of a digit (any size; dark-on-light is inverted), or "
                                   "the samples of an .npz (array x) or .csv file.")
    p.add_argument("model", metavar="MODEL", help="a model file (model.safetensors) or a run directory")
    p.add_argument("input", metavar="INPUT", help="an image (.png; .jpg, .bmp, .gif, .webp, .tif with Pillow), "
                                                  "an .npz or a .csv file")
    p.add_argument("--target", metavar="NAME", help="label column of a CSV input (reported as accuracy)")
    p.add_argument("--top", type=positive_int, metavar="K",
                   help="classes shown per sample (default: 3; for one sample with at most 20 classes: all)")
    p.add_argument("--limit", type=non_negative_int, metavar="N",
                   help="samples printed for .npz/.csv inputs, 0 for all (default: 20)")

    s = sub.add_parser("summary", help="layers, output shapes and parameter counts of a saved model",
                       description="Layers, output shapes and parameter counts of a saved model.")
    s.add_argument("model", metavar="MODEL", help="a model file (model.safetensors) or a run directory")
    s.add_argument("--input-shape", metavar="SHAPE",
                   help="one sample's shape, e.g. 1,28,28 (default: from the run settings or the model)")

    r = sub.add_parser("report", help="write report.html for a run directory",
                       description="Write a self-contained HTML report (report.html) for a run directory.")
    r.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by 'myelin train'")
    from ._playground import add_playground_parser

    g = add_playground_parser(sub, non_negative_int, positive_float)
    parser.commands = {"train": t, "evaluate": e, "predict": p, "summary": s, "report": r, "playground": g}
    return parser
