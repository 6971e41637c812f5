"""``myelin train``: settings, model, ``fit``, and the run directory."""

from __future__ import annotations

import argparse
import re
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._extras import install_hint
from .._plural import counted
from ._data import Data, check_data_options, load_data
from ._errors import CLIError
from ._files import RUN_FACTS_KEY, check_settings, json_text, read_run_config, write_json
from ._models import MODELS, build_preset, preset_for

__all__ = ["DEFAULTS", "RUN_FILES", "cmd_train", "make_run_dir", "resolve_settings", "resumed_run_dir"]

DEFAULTS: dict[str, Any] = {
    "data": "digits", "data_dir": None, "target": None, "model": "mlp", "epochs": None, "batch_size": None,
    "lr": None, "optimizer": "adam", "dropout": 0.0, "l1": 0.0, "l2": 0.0, "seed": 0, "val_split": 0.1,
    "patience": None,
}
_LR = {"sgd": 1e-2, "adagrad": 1e-2}


#: The files a run directory holds; ``--out`` refuses a directory holding any of them unless ``--overwrite``.
RUN_FILES = ("config.json", "metrics.json", "history.csv", "model.safetensors", "checkpoint.safetensors",
             "checkpoint-interrupted.safetensors", "predictions.npz", "monitor.json", "curves.png", "report.html")


def make_run_dir(out: str | None, overwrite: bool = False) -> Path:
    """``out`` (created if needed), or a new ``runs/<YYYYmmdd-HHMMSS>[-N]``.

    A directory that already holds a run is refused unless ``overwrite``; then that run's files are
    removed first, so the new run's files never mix with the old one's.
    """
    from ..io.safetensors_file import clean_stale_temporaries

    if out is not None:
        path = Path(out).expanduser()
        if path.exists() and not path.is_dir():
            raise CLIError(f"--out {out}: exists and is not a directory")
        held = [name for name in RUN_FILES if (path / name).exists()]
        if held and not overwrite:
            raise CLIError(f"--out {out}: already holds a run ({', '.join(held[:4])}); choose another directory, "
                           "or add --overwrite to replace that run")
        path.mkdir(parents=True, exist_ok=True)
        for name in held:
            (path / name).unlink()
        clean_stale_temporaries(path)
        return path
    base = Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = base if n == 0 else base.with_name(f"{base.name}-{n}")
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:
            continue
    raise CLIError(f"cannot create a new run directory next to {base}")


def resumed_run_dir(checkpoint: str) -> Path:
    """A new directory next to the resumed run: ``<run>-resumed``, ``<run>-resumed-2``, ..."""
    parent = Path(checkpoint).expanduser().resolve().parent
    base = re.sub(r"-resumed(-\d+)?$", "", parent.name) or "run"
    for n in range(1, 1000):
        path = parent.with_name(f"{base}-resumed" if n == 1 else f"{base}-resumed-{n}")
        if not path.exists():
            return path
    raise CLIError(f"cannot find a free directory name next to {parent}; give --out")


# what a resumed run takes from its checkpoint, so a different value on the command line could not apply
_FIXED_ON_RESUME = {
    "model": "the model comes from the checkpoint", "dropout": "the model comes from the checkpoint",
    "optimizer": "the optimizer state comes from the checkpoint",
    "lr": "the optimizer state in the checkpoint holds the learning rate",
    "batch_size": "the checkpoint counts batches of that size", "seed": "the data order depends on it",
    "val_split": "the validation samples must stay the same", "data": "the checkpoint was trained on it",
    "target": "the checkpoint was trained on it",
}


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Defaults, then the resumed run's config.json, then the options given on the command line.

    With ``--resume``, an option the checkpoint fixes (model, optimizer, lr...) is refused when it
    differs from the run's: a setting is applied or refused, never recorded and ignored.
    """
    settings = dict(DEFAULTS)
    previous: dict[str, Any] = {}
    if args.resume:
        ckpt = Path(args.resume)
        if not ckpt.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint file at {ckpt}")
        config = read_run_config(ckpt.parent)
        if config:
            previous = check_settings(config.get("settings", {}), str(ckpt.parent / "config.json"))
            settings.update({k: v for k, v in previous.items() if k in DEFAULTS})
    for key in DEFAULTS:
        value = getattr(args, key, None)
        if value is None:
            continue
        if args.resume and key in _FIXED_ON_RESUME and (key not in previous or previous[key] != value):
            was = f" (the run used {previous[key]!r})" if key in previous else ""
            raise CLIError(f"--{key.replace('_', '-')} {value}: cannot change on --resume{was}: "
                           f"{_FIXED_ON_RESUME[key]}; start a new run to change it")
        settings[key] = value
    return settings


def _build_model(settings: dict[str, Any], data: Data, resume: str | None, dropout_given: bool = False) -> tuple[Any, str]:
    """The model and a short description of where it came from."""
    import myelin

    myelin.manual_seed(int(settings["seed"]))
    if resume:
        from ..io import load_checkpoint

        ckpt = load_checkpoint(resume)
        if ckpt.epoch >= int(settings["epochs"]) and not ckpt.batch:
            raise CLIError(f"--resume {resume}: the run has already trained {counted(ckpt.epoch, 'epoch')} and --epochs is "
                           f"{settings['epochs']}: nothing to do; give --epochs above {ckpt.epoch} to train on")
        return ckpt.build_model(), f"resumed from {resume}"
    name = str(settings["model"])
    if name.lower() in MODELS:
        return build_preset(name.lower(), data, float(settings["dropout"])), name.lower()
    if not name.lower().endswith(".toml"):
        raise CLIError(f"unknown model {name!r}: expected mlp, cnn, lstm or a .toml config file")
    if dropout_given:
        raise CLIError(f"--dropout applies to the built-in mlp, cnn and lstm models; {name} sets its own layers "
                       "(add a Dropout layer to its [[layers]])")
    from ..config import build_model, load_model_config

    config = load_model_config(name)
    if config.input_shape is not None and tuple(config.input_shape) != data.input_shape:
        raise CLIError(f"{name}: [model] input_shape is {list(config.input_shape)} but the data's samples have "
                       f"shape {list(data.input_shape)}")
    if config.input_shape is None:
        config.input_shape = data.input_shape
    return build_model(config), name


def _optimizer(name: str, params: Any, lr: float) -> Any:
    from .. import optim

    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    classes = {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
    return classes[name](params, lr=lr)


def _text_loss(output: Any, target: Any) -> Any:
    """Cross-entropy of a character model's ``(N, T, V)`` scores against ``(N, T)`` next characters."""
    from ..nn import functional as F

    return F.cross_entropy(output.reshape(-1, output.shape[-1]), target.reshape(-1))


def _check_model_fits(model: Any, data: Data, source: str) -> None:
    """One forward pass on two samples, so a model that does not fit the data fails now in one line."""
    from .. import no_grad, tensor

    sample = tensor(data.x_train[:2])
    was = getattr(model, "training", True)
    model.eval()
    try:
        with no_grad():
            out = model(sample)
    except (ValueError, TypeError, IndexError) as exc:
        raise CLIError(f"model {source} does not fit the data (samples of shape {list(data.input_shape)}): "
                       f"{' '.join(str(exc).split())}") from None
    finally:
        model.train(was)
    if isinstance(out, tuple):
        raise CLIError(f"model {source} returns a tuple; its last layer must return class scores")
    width = out.shape[-1] if out.ndim >= 2 else 1
    if data.kind != "text" and width < data.num_classes:
        raise CLIError(f"model {source} gives {counted(width, 'output')} per sample but the data has {counted(data.num_classes, 'class')}")


def _train_data(data: Data, settings: dict[str, Any]) -> Any:
    """``(x, y)``, or a DataLoader dropping a last batch of one sample (batch norm cannot train on it)."""
    n_train = int(len(data.x_train) * (1.0 - float(settings["val_split"])))
    batch_size = int(settings["batch_size"])
    if n_train % batch_size != 1:
        return data.x_train, data.y_train
    from ..data import DataLoader, TensorDataset

    return DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=batch_size, shuffle=True,
                      seed=int(settings["seed"]), drop_last=True)


def _history_dict(history: Any) -> dict[str, list[Any]]:
    return {k: list(v) for k, v in getattr(history, "history", {}).items()}


def _last(history: dict[str, list[Any]], key: str) -> Any:
    values = history.get(key) or []
    return values[-1] if values else None


def _prepare(args: argparse.Namespace) -> tuple[dict[str, Any], Data, Any, str]:
    """Settings (with the preset's defaults filled in), the data, and the model."""
    settings = resolve_settings(args)
    check_data_options(str(settings["data"]), args.data_dir, args.target)
    data = load_data(settings["data"], settings["data_dir"], settings["target"], int(settings["seed"]))
    if data.kind == "text" and args.model is None and settings["model"] == "mlp":
        settings["model"] = "lstm"  # a text file means a character model unless told otherwise
    preset = preset_for(data.name, data.kind, str(settings["model"]).lower())
    settings["epochs"] = settings["epochs"] or preset.epochs
    settings["batch_size"] = settings["batch_size"] or preset.batch_size
    settings["lr"] = settings["lr"] or _LR.get(settings["optimizer"], preset.lr)
    if settings["patience"] and not settings["val_split"]:
        raise CLIError("--patience needs validation data: give --val-split greater than 0")
    if settings["val_split"] and int(len(data.x_train) * (1 - settings["val_split"])) < 1:
        raise CLIError(f"--val-split {settings['val_split']} leaves no training samples")
    model, source = _build_model(settings, data, args.resume, getattr(args, "dropout", None) is not None)
    if args.resume and data.kind != "text":  # the model comes from a file: bound what its forward pass allocates
        from ..io.forward_budget import check_forward_budget

        check_forward_budget(model, data.input_shape, args.resume)
    _check_model_fits(model, data, source)
    return settings, data, model, source


def _fit(model: Any, data: Data, settings: dict[str, Any], run_dir: Path, args: argparse.Namespace,
         monitor: Any = None, distributed: bool = False) -> Any:
    """``myelin.fit`` with the run directory's callbacks (history.csv, checkpoint, early stopping, monitor)."""
    import myelin

    from ..train import CSVLogger, EarlyStopping, ModelCheckpoint

    callbacks: list[Any] = [CSVLogger(run_dir / "history.csv"), ModelCheckpoint(run_dir / "checkpoint.safetensors")]
    if monitor is not None:
        callbacks.append(monitor)
    if settings["patience"]:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=int(settings["patience"]),
                                       restore_best_weights=True))
    return myelin.fit(
        model, _train_data(data, settings), loss=_text_loss if data.kind == "text" else "cross_entropy",
        optimizer=_optimizer(settings["optimizer"], model.parameters(), float(settings["lr"])),
        epochs=int(settings["epochs"]), batch_size=int(settings["batch_size"]),
        validation_split=float(settings["val_split"]), callbacks=callbacks, l1=float(settings["l1"]),
        l2=float(settings["l2"]), resume_from=args.resume, seed=int(settings["seed"]),
        verbose=0 if args.quiet else "auto", metrics=() if data.kind == "text" else ("accuracy",),
        distributed=distributed, threads=getattr(args, "threads", "auto"),
    )


def _save_predictions(model: Any, data: Data, run_dir: Path) -> None:
    """predictions.npz (y_true, y_pred) of the test set, for the report's confusion matrix."""
    import numpy as np

    import myelin

    from ..io import atomic_write

    scores = myelin.predict(model, data.x_test)
    with atomic_write(run_dir / "predictions.npz", "wb") as f:
        np.savez(f, y_true=np.asarray(data.y_test, dtype=np.int64), y_pred=np.argmax(scores, axis=-1).astype(np.int64))


def _results(model: Any, data: Data, history: Any, seconds: float, settings: dict[str, Any],
             run_dir: Path) -> dict[str, Any]:
    """metrics.json: the last epoch's figures, the test set's, the time and the settings."""
    import myelin

    hist = _history_dict(history)
    interrupted = bool(getattr(history, "interrupted", False))
    metrics: dict[str, Any] = {
        "epochs": len(hist.get("loss", [])), "seconds": round(seconds, 3),
        "train_loss": _last(hist, "loss"), "train_accuracy": _last(hist, "accuracy"),
        "val_loss": _last(hist, "val_loss"), "val_accuracy": _last(hist, "val_accuracy"),
        "interrupted": interrupted, "stopped_early": bool(getattr(history, "stopped_early", False)),
        "blas_threads": getattr(history, "blas_threads", None),  # NumPy's BLAS threads and why (fit's choice)
    }
    if not interrupted:  # after Ctrl-C, save and leave quickly
        text = data.kind == "text"
        test = myelin.evaluate(model, (data.x_test, data.y_test), loss=_text_loss if text else "cross_entropy",
                               metrics=() if text else ("accuracy",))
        metrics["test_loss"] = float(test["loss"])
        metrics["test_accuracy"] = None if text else float(test["accuracy"])
        if not text:
            _save_predictions(model, data, run_dir)
    metrics["settings"] = settings
    return metrics


def cmd_train(args: argparse.Namespace) -> int:
    """Train, evaluate on the test set, and write the run directory; returns the exit status."""
    import myelin

    from ..distributed import launched_world_size
    from ..monitor import NeuronMonitor

    settings, data, model, source = _prepare(args)
    distributed = (launched_world_size() or 1) > 1  # started by mpirun -n N: data-parallel training
    main = True
    if distributed:
        from .. import distributed as dist

        dist.init(required=True)
        main = dist.is_main()
        args.quiet = args.quiet or not main
    out = args.out if args.out else (str(resumed_run_dir(args.resume)) if args.resume else None)
    if args.resume:
        from ..io.safetensors_file import clean_stale_temporaries

        original = Path(args.resume).expanduser().resolve().parent
        if Path(out).expanduser().resolve() == original and not getattr(args, "overwrite", False):
            raise CLIError(f"--out {out}: is the run being resumed; choose another directory (the default is "
                           f"{resumed_run_dir(args.resume)}), or add --overwrite to replace it")
        clean_stale_temporaries(original)
    run_dir = make_run_dir(out, getattr(args, "overwrite", False)) if main else Path(out or "runs")
    if distributed:
        run_dir = Path(dist.broadcast_object(str(run_dir)))
    monitor = NeuronMonitor(log=lambda message: print(f"warning: {message}", file=sys.stderr)) if main else None
    if not main:  # only rank 0 writes the run directory and prints
        _fit(model, data, settings, run_dir, args, None, distributed)
        return 0
    facts = {"input_shape": list(data.input_shape), "num_classes": data.num_classes, "classes": data.classes,
             "vocab": data.vocab, "data_kind": data.kind}
    write_json(run_dir / "config.json", {
        "settings": settings, "model_source": source, **facts,
        "train_samples": len(data.x_train), "test_samples": len(data.x_test),
        "command": shlex.join(["myelin", *getattr(args, "argv", [])]), "myelin_version": myelin.__version__,
    })
    if not args.quiet:
        print(f"Training {source} on {data.name}: {counted(len(data.x_train), 'training sample')} of shape "
              f"{list(data.input_shape)}, {counted(data.num_classes, 'class')}; {counted(settings['epochs'], 'epoch')}, "
              f"{settings['optimizer']} lr={settings['lr']:g}, batch {settings['batch_size']} -> {run_dir}", flush=True)
        for note in data.notes:
            print(f"note: {note}", flush=True)
    start = time.perf_counter()
    history = _fit(model, data, settings, run_dir, args, monitor, distributed)
    seconds = time.perf_counter() - start
    with _saving():
        # the facts predict/evaluate need travel inside the model file too, so it works away from its run directory
        myelin.save(model, run_dir / "model.safetensors", metadata={RUN_FACTS_KEY: json_text(facts)})
        monitor.save(run_dir)
        metrics = _results(model, data, history, seconds, settings, run_dir)
        write_json(run_dir / "metrics.json", metrics)
        notes = _pictures(run_dir, _history_dict(history), args)
    if metrics["interrupted"]:
        signum = getattr(history, "interrupt_signal", None) or signal.SIGINT
        print(f"Interrupted after {counted(metrics['epochs'], 'epoch')}; saved {run_dir}/model.safetensors. Resume with: "
              f"myelin train --resume {run_dir}/checkpoint.safetensors", file=sys.stderr)
        return 128 + int(signum)
    if metrics["stopped_early"]:
        print(_early_stop_note(_history_dict(history), settings))
    if data.kind == "text":
        print(f"test loss {metrics['test_loss']:.4f} nats/char after {counted(metrics['epochs'], 'epoch')} ({seconds:.1f} s)")
    else:
        print(f"test accuracy {100 * metrics['test_accuracy']:.2f}% (test loss {metrics['test_loss']:.4f}) after "
              f"{counted(metrics['epochs'], 'epoch')} in {seconds:.1f} s")
    for note in notes:
        print(note)
    print(f"run saved to {run_dir}")
    return 0


@contextmanager
def _saving(grace: float = 1.0) -> Iterator[None]:
    """While the run's files are written after ``fit``: a Ctrl-C or SIGTERM in the first ``grace`` seconds (the
    rest of a double press that already stopped training) is ignored, a later one interrupts as usual."""
    import threading

    from . import Terminated

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    start = time.monotonic()

    def handler(signum: int, frame: Any) -> None:
        if time.monotonic() - start >= grace:
            raise Terminated if signum == getattr(signal, "SIGTERM", None) else KeyboardInterrupt

    sigs = [s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None]
    old = {s: signal.getsignal(s) for s in sigs}
    for s in sigs:
        if old[s] is not signal.SIG_IGN:
            signal.signal(s, handler)
    try:
        yield
    finally:
        for s in sigs:
            signal.signal(s, old[s] if old[s] is not None else signal.SIG_DFL)


def _early_stop_note(history: dict[str, list[Any]], settings: dict[str, Any]) -> str:
    """One line saying that early stopping ended the run and which epoch's weights were kept."""
    values = [(i, v) for i, v in enumerate(history.get("val_loss") or []) if isinstance(v, (int, float))]
    epochs = len(history.get("loss") or [])
    text = (f"stopped early after {epochs} of {counted(settings['epochs'], 'epoch')}: val_loss did not improve "
            f"for {counted(settings['patience'], 'epoch')}")
    if values:
        best, value = min(values, key=lambda iv: iv[1])
        text += f"; kept the weights of epoch {best + 1} (val_loss {value:.4f})"
    return text


def _pictures(run_dir: Path, history: dict[str, list[Any]], args: argparse.Namespace) -> list[str]:
    """curves.png (when matplotlib is installed) and report.html (unless --no-report)."""
    from ._plot import write_curves

    notes: list[str] = []
    try:
        if write_curves(history, run_dir / "curves.png") is None:
            notes.append(f"note: matplotlib is not installed, so no curves.png ({install_hint('plot')})")
    except (OSError, ValueError, RuntimeError) as exc:
        notes.append(f"note: could not draw curves.png: {' '.join(str(exc).split())}")
    if getattr(args, "no_report", False):
        return notes
    from ..report import write_report

    try:
        write_report(run_dir)
    except Exception as exc:  # noqa: BLE001 - the run is saved; a failed report is a note, not a failure
        notes.append(f"note: could not write report.html: {type(exc).__name__}: {' '.join(str(exc).split())}")
    return notes

