"""Nothing a file or a data set says can hurt the user, and nothing the user does loses a run (issue 17).

Runs are never replaced without ``--overwrite``; resuming writes a new directory; SIGTERM saves the run
like Ctrl-C; a setting is applied or refused; a model file cannot choose paths or start downloads;
data mistakes are clear errors; every hostile file ends in a clear error within seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import nn
from myelin.cli import main
from myelin.cli._files import RUN_FACTS_KEY

QUICK = ["--quiet", "--no-report"]


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _misuse(code: int, err: str, *fragments: str) -> None:
    assert code == 2 and "Traceback" not in err, (code, err)
    assert len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def _table(path: Path, rows: int = 60, seed: int = 0, header: bool = True, labels=None) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 3))
    y = (x[:, 0] > 0.5).astype(int) if labels is None else labels
    lines = (["a,b,c,label"] if header else []) + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{v}" for r, v in zip(x, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("safety") / "run"
    assert main(["train", "--epochs", "2", "--out", str(out), *QUICK]) == 0
    return out


# ---------------------------------------------------------------------------------- 11: runs are never lost


def test_out_refuses_an_existing_run_without_overwrite(run, tmp_path, capsys):
    before = (run / "model.safetensors").read_bytes()
    code, _, err = _cli(["train", "--epochs", "1", "--out", str(run), *QUICK], capsys)
    _misuse(code, err, "already holds a run", "--overwrite")
    assert (run / "model.safetensors").read_bytes() == before
    other = tmp_path / "other"
    assert main(["train", "--epochs", "1", "--out", str(other), *QUICK]) == 0
    (other / "predictions.npz").unlink()
    stale = other / "monitor.json"
    assert stale.exists()
    code, _, err = _cli(["train", "--epochs", "1", "--out", str(other), "--overwrite", "--data",
                         str(_table(tmp_path / "t.csv")), *QUICK], capsys)
    assert code == 0, err
    assert json.loads((other / "config.json").read_text())["settings"]["data"].endswith("t.csv")


def test_resume_writes_a_new_directory_and_leaves_the_original(run, capsys):
    before = {name: (run / name).read_bytes() for name in ("model.safetensors", "checkpoint.safetensors",
                                                           "metrics.json", "history.csv")}
    code, out, err = _cli(["train", "--resume", str(run / "checkpoint.safetensors"), "--epochs", "3", *QUICK], capsys)
    assert code == 0, err
    resumed = run.with_name(f"{run.name}-resumed")
    assert str(resumed) in out and json.loads((resumed / "metrics.json").read_text())["epochs"] == 3
    assert all((run / name).read_bytes() == data for name, data in before.items())
    code, _, err = _cli(["train", "--resume", str(resumed / "checkpoint.safetensors"), "--epochs", "4", *QUICK],
                        capsys)
    assert code == 0 and run.with_name(f"{run.name}-resumed-2").is_dir(), err  # not -resumed-resumed
    code, _, err = _cli(["train", "--resume", str(run / "checkpoint.safetensors"), "--epochs", "3", "--out",
                         str(run), *QUICK], capsys)
    _misuse(code, err, "is the run being resumed", "--overwrite")


def test_resume_with_nothing_left_to_train_says_so_and_writes_nothing(run, capsys):
    marker = run.with_name(f"{run.name}-nothing")
    code, _, err = _cli(["train", "--resume", str(run / "checkpoint.safetensors"), "--out", str(marker), *QUICK],
                        capsys)
    _misuse(code, err, "already trained 2 epochs", "nothing to do", "--epochs above 2")
    assert not marker.exists()


# ---------------------------------------------------------------------------------- 12: applied or refused


def test_a_flag_the_run_cannot_apply_is_refused(run, tmp_path, capsys):
    ckpt = str(run / "checkpoint.safetensors")
    cases = [
        (["--resume", ckpt, "--epochs", "5", "--lr", "0.5"], ["--lr 0.5", "cannot change on --resume", "0.001"]),
        (["--resume", ckpt, "--epochs", "5", "--dropout", "0.2"], ["--dropout 0.2", "cannot change on --resume"]),
        (["--resume", ckpt, "--epochs", "5", "--optimizer", "sgd"], ["--optimizer sgd", "cannot change"]),
        (["--resume", ckpt, "--epochs", "5", "--batch-size", "7"], ["--batch-size 7", "cannot change"]),
        (["--model", str(Path(__file__).parents[1] / "examples" / "configs" / "digits_mlp.toml"), "--dropout", "0.2"],
         ["--dropout applies to the built-in", "Dropout layer"]),
    ]
    for args, fragments in cases:
        code, _, err = _cli(["train", *args, "--out", str(tmp_path / "x"), *QUICK], capsys)
        _misuse(code, err, *fragments)
    code, _, err = _cli(["train", "--resume", ckpt, "--epochs", "3", "--lr", "0.001", "--out",
                         str(tmp_path / "same"), *QUICK], capsys)
    assert code == 0, err  # the run's own value is no change


def test_text_model_dropout_is_applied():
    from myelin.cli._models import build_preset

    class Text:
        kind, num_classes = "text", 5

    model = build_preset("lstm", Text(), 0.3)
    assert any(type(m).__name__ == "Dropout" and m.p == 0.3 for m in model.modules())


# ---------------------------------------------------------------------------------- 13: signals and temporaries


def _start_training(out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "myelin", "train", "--epochs", "500", "--out", str(out), *QUICK],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)


@pytest.mark.parametrize("signals, status", [((signal.SIGTERM,), 143), ((signal.SIGINT, signal.SIGINT), 130)])
def test_sigterm_and_a_double_ctrl_c_save_the_run(tmp_path, signals, status):
    out = tmp_path / "run"
    proc = _start_training(out)
    _wait_for(out / "history.csv", proc)
    for k, sig in enumerate(signals):
        if k:
            time.sleep(0.05)  # two presses 50 ms apart count as one
        proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr and "--resume" in stderr
    assert json.loads((out / "metrics.json").read_text())["interrupted"] is True
    assert myelin.load(out / "model.safetensors") is not None
    assert not list(out.glob(".*tmp*"))


def test_stale_temporaries_of_a_killed_run_are_removed(tmp_path, capsys):
    from myelin.io.safetensors_file import clean_stale_temporaries

    dead = 2**22 + 12345
    while True:  # a pid that does not run
        try:
            os.kill(dead, 0)
            dead += 1
        except ProcessLookupError:
            break
        except PermissionError:
            dead += 1
    out = tmp_path / "run"
    out.mkdir()
    stale = [out / f".checkpoint.safetensors.{dead}.abc123xy.tmp", out / f".curves.png.tmp{dead}.png",
             out / f".report.html.tmp{dead}"]
    live = out / f".history.csv.{os.getpid()}.zz9_ab12.tmp"
    foreign = out / ".notes.txt.swp"
    for path in [*stale, live, foreign]:
        path.write_bytes(b"x" * 100)
    assert main(["train", "--epochs", "1", "--out", str(out), *QUICK]) == 0
    assert not any(p.exists() for p in stale)
    assert live.exists() and foreign.exists()  # a running process's temporary and other names are kept
    assert clean_stale_temporaries(out) == []


# ---------------------------------------------------------------------------------- 15: say what happened


def test_early_stopping_says_so(tmp_path, capsys):
    noise = _table(tmp_path / "noise.csv", rows=80, labels=np.random.default_rng(1).integers(0, 2, 80))
    code, out, err = _cli(["train", "--data", str(noise), "--epochs", "200", "--patience", "1", "--out",
                           str(tmp_path / "r"), *QUICK], capsys)
    assert code == 0, err
    assert "stopped early after" in out and "of 200 epochs" in out and "kept the weights of epoch" in out


# ---------------------------------------------------------------------------------- 6, 8: what a file may decide


def _model_with_facts(path: Path, facts: dict, model=None) -> Path:
    model = model or nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    myelin.save(model, path, metadata={RUN_FACTS_KEY: json.dumps(facts)})
    return path


def test_a_model_file_cannot_choose_data_files_directories_or_downloads(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MYELIN_DATA", raising=False)
    secret = _table(tmp_path / "secret.csv")
    made = tmp_path / "made" / "by" / "file"
    path = _model_with_facts(tmp_path / "m.safetensors", {"input_shape": [1, 8, 8], "settings": {
        "data": str(secret), "data_dir": str(made)}})
    code, _, err = _cli(["evaluate", str(path)], capsys)
    _misuse(code, err, "give the data with --data", "never chooses which files are read")
    path = _model_with_facts(tmp_path / "m.safetensors", {"input_shape": [1, 28, 28], "settings": {
        "data": "mnist", "data_dir": str(made)}})
    code, _, err = _cli(["evaluate", str(path)], capsys)
    assert code == 2 and "downloading is off" in err, err
    assert not (tmp_path / "made").exists() and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("facts, message", [
    ({"settings": {"seed": "x"}}, "setting 'seed' must be an int >= 0"),
    ({"settings": {"data": 5}}, "setting 'data' must be a string"),
    ({"settings": []}, "'settings' must be an object"),
    ({"input_shape": [1, -8, 8]}, "'input_shape' must be a list of 1-8 positive ints"),
    ({"input_shape": "1,8,8"}, "'input_shape' must be"),
    ({"classes": [[1]]}, "'classes' must be a list of names"),
    ({"num_classes": 10**9}, "'num_classes' must be an int"),
    ({"data_kind": "video"}, "'data_kind' must be image, table or text"),
])
def test_stored_settings_of_the_wrong_type_are_one_line(tmp_path, capsys, facts, message):
    path = _model_with_facts(tmp_path / "m.safetensors", facts)
    for command in (["evaluate", str(path)], ["predict", str(path), str(_table(tmp_path / "t.csv"))],
                    ["summary", str(path)]):
        code, _, err = _cli(command, capsys)
        _misuse(code, err, message)


def test_a_bad_config_json_beside_a_checkpoint_is_one_line(run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    config = json.loads((copy / "config.json").read_text())
    config["settings"]["batch_size"] = "many"
    (copy / "config.json").write_text(json.dumps(config))
    code, _, err = _cli(["train", "--resume", str(copy / "checkpoint.safetensors"), "--epochs", "3", *QUICK], capsys)
    _misuse(code, err, "config.json", "setting 'batch_size' must be an int >= 1")


def test_nan_weights_warn_at_load_and_predict_refuses_nan(tmp_path, capsys):
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    model[1].weight.data[0, 0] = np.nan
    path = _model_with_facts(tmp_path / "m.safetensors", {"input_shape": [64]}, model)
    with pytest.warns(RuntimeWarning, match="NaN or infinite values"):
        myelin.load(path)
    rows = tmp_path / "rows.csv"
    rows.write_text(",".join(f"p{i}" for i in range(64)) + "\n" + ",".join("1" for _ in range(64)) + "\n")
    code, out, err = _cli(["predict", str(path), str(rows)], capsys)
    assert code == 2 and "NaN or infinite scores" in err and "no prediction is reported" in err, err
    assert err.startswith("warning: ") and "probability" not in out


# ---------------------------------------------------------------------------------- 9: data mistakes


@pytest.mark.parametrize("text, fragments", [
    ("a,b,label\n1,2,0\n3,4,\n5,6,1\n7,8,0\n", ["line 3, column 'label': the label is empty"]),
    ("1,2,0\n3,4,1\n5,6,0\n7,8,1\n", ["holds only numbers", "add a first line of column names"]),
    ("a,b,label\n1,2,1\n3,4,1\n5,6,1\n7,8,1\n", ["every training label is 1", "at least two classes"]),
    ("a,b,label\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n", ["every training label is 'x'"]),
    ("a,b,label\n1,2,0\n3,4,3000000\n5,6,1\n7,8,0\n", ["label 3,000,000", "MYELIN_MAX_CLASSES"]),
])
def test_csv_mistakes_are_clear_errors(tmp_path, capsys, text, fragments):
    path = tmp_path / "t.csv"
    path.write_text(text)
    start = time.monotonic()
    code, _, err = _cli(["train", "--data", str(path), "--epochs", "1", "--out", str(tmp_path / "r"), *QUICK], capsys)
    _misuse(code, err, *fragments)
    assert time.monotonic() - start < 5 and not (tmp_path / "r").exists()


def test_a_utf8_bom_does_not_hide_the_first_column(tmp_path, capsys):
    path = tmp_path / "bom.csv"
    rows = [f"{k % 2},{k * 0.1:.2f},{(k * 7) % 5}" for k in range(30)]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(["label,b,c", *rows]).encode() + b"\n")
    code, _, err = _cli(["train", "--data", str(path), "--target", "label", "--epochs", "1", "--out",
                         str(tmp_path / "r"), *QUICK], capsys)
    assert code == 0, err


def test_the_class_limit_can_be_raised(tmp_path, capsys, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n1,2,0\n3,4,30\n5,6,1\n7,8,0\n9,1,1\n")
    monkeypatch.setenv("MYELIN_MAX_CLASSES", "20")
    code, _, err = _cli(["train", "--data", str(path), "--epochs", "1", "--out", str(tmp_path / "r"), *QUICK], capsys)
    _misuse(code, err, "label 30 means 31 classes", "limit 20")
    monkeypatch.setenv("MYELIN_MAX_CLASSES", "40")
    code, _, err = _cli(["train", "--data", str(path), "--epochs", "1", "--out", str(tmp_path / "r"), *QUICK], capsys)
    assert code == 0, err


def test_an_empty_test_split_fails_before_training(tmp_path, capsys):
    np.savez(tmp_path / "d.npz", x_train=np.random.rand(20, 3), y_train=np.arange(20) % 2, x_test=np.zeros((0, 3)),
             y_test=np.zeros(0, np.int64))
    code, _, err = _cli(["train", "--data", str(tmp_path / "d.npz"), "--epochs", "1", "--out", str(tmp_path / "r"),
                         *QUICK], capsys)
    _misuse(code, err, "the test part has no samples")
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------------------------- 1-4: resource bounds


def _bomb_models() -> list[nn.Module]:
    return [
        nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveAvgPool2d(15000), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        nn.Sequential(nn.Conv2d(1, 2, 1, padding=20000), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        nn.Sequential(nn.MaxPool2d(1, padding=0), nn.Conv2d(1, 2, 3, padding=9000, dilation=1), nn.AdaptiveMaxPool2d(1),
                      nn.Flatten()),
    ]


@pytest.mark.parametrize("index", range(3))
def test_a_model_whose_forward_pass_would_allocate_gigabytes_is_refused_first(tmp_path, capsys, index):
    path = _model_with_facts(tmp_path / "m.safetensors", {"input_shape": [1, 8, 8]}, _bomb_models()[index])
    png = tmp_path / "d.npz"
    np.savez(png, x=np.zeros((2, 1, 8, 8), np.float32))
    for command in (["summary", str(path)], ["predict", str(path), str(png)], ["evaluate", str(path), "--data",
                                                                                "digits"]):
        start = time.monotonic()
        code, _, err = _cli(command, capsys)
        _misuse(code, err, "MYELIN_MAX_FORWARD_BYTES")
        assert time.monotonic() - start < 5
    code, _, err = _cli(["summary", str(path), "--input-shape", "1,8,8"], capsys)
    _misuse(code, err, "would allocate about")


def test_the_forward_budget_counts_the_real_models_small():
    from myelin.io.forward_budget import forward_bytes

    cnn = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
                        nn.Linear(128, 10))
    need = forward_bytes(cnn, (1, 28, 28))
    # outputs: 32*28*28 (conv, relu) + 32*14*14 + 64*14*14 (x2) + 64*7*7 ... plus im2col: of the order of a MB
    assert 300_000 < need < 5_000_000


def test_an_npz_decompression_bomb_is_refused_with_its_limit(tmp_path, capsys, monkeypatch):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, x=np.zeros((4000, 1, 8, 8), np.float32), y=np.zeros(4000, np.int64))
    assert path.stat().st_size < 100_000
    monkeypatch.setenv("MYELIN_MAX_ARRAY_BYTES", "500000")
    code, _, err = _cli(["train", "--data", str(path), "--epochs", "1", "--out", str(tmp_path / "r"), *QUICK], capsys)
    _misuse(code, err, "decompress to more than 500,000 bytes", "MYELIN_MAX_ARRAY_BYTES")


def test_an_npy_header_promising_more_than_it_holds_is_refused(tmp_path):
    import zipfile

    from myelin.io.npz import NpzError, read_npz

    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.float32))
    header["shape"] = (10**9,)
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    buf.write(b"\0" * 16)
    with zipfile.ZipFile(tmp_path / "lie.npz", "w") as zf:
        zf.writestr("x.npy", buf.getvalue())
    with pytest.raises(NpzError, match="declares shape"):
        read_npz(tmp_path / "lie.npz")


def test_report_bounds_a_hostile_predictions_file(run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    np.savez(copy / "predictions.npz", y_true=np.array([0, 9000]), y_pred=np.array([0, 1]))
    start = time.monotonic()
    code, _, err = _cli(["report", str(copy)], capsys)
    assert code == 0 and time.monotonic() - start < 30, err
    assert "more than 100 classes, so no confusion matrix" in (copy / "report.html").read_text()
    np.savez(copy / "predictions.npz", y_true=np.array([0, 90000]), y_pred=np.array([0, 1]))
    assert main(["report", str(copy)]) == 0
    assert "labels must lie in [0, 10000)" in (copy / "report.html").read_text()


def test_report_on_a_directory_that_is_not_a_run_is_one_line(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    code, _, err = _cli(["report", str(tmp_path)], capsys)
    _misuse(code, err, "is not a run directory")
    assert not (tmp_path / "report.html").exists()


def test_evaluate_on_a_csv_says_it_is_not_a_model_file(tmp_path, capsys):
    path = _table(tmp_path / "table.csv")
    code, _, err = _cli(["evaluate", str(path)], capsys)
    _misuse(code, err, "not a Myelin model, weights, checkpoint or safetensors file")
    assert "header length" not in err


# ---------------------------------------------------------------------------------- 19: the CNN preset's ReLUs


def test_the_cnn_preset_keeps_its_dense_relus_alive():
    """The monitor warned that half the first dense layer's ReLUs died in one epoch; the preset now
    normalises that layer's input to its ReLU, so none are dead on the training data."""
    from myelin.cli._data import load_data
    from myelin.cli._models import build_preset

    data = load_data("digits")
    myelin.manual_seed(0)
    model = build_preset("cnn", data, 0.0)
    myelin.fit(model, (data.x_train, data.y_train), loss="cross_entropy", optimizer="adam", epochs=1, verbose=0, seed=0)
    model.eval()
    h = myelin.tensor(data.x_train)
    relus = []
    with myelin.no_grad():
        for layer in model:
            h = layer(h)
            if type(layer).__name__ == "ReLU":
                relus.append(h.data)
    dense = relus[-1]
    assert dense.shape[1] == 128 and float((dense.max(axis=0) <= 0).mean()) < 0.05
