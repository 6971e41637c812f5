"""The ``myelin`` command: exit codes and one-line messages, a full train run, evaluate/predict/summary/report."""

from __future__ import annotations

import csv
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin.cli import main
from myelin.cli._png import PNGError, area_resize, digit_input, read_png

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------- helpers


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m myelin ARGS`` in a subprocess, as a user runs it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("MYELIN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "myelin", *args], check=False, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def assert_misuse(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2 and exactly one line on stderr, no traceback, containing every fragment."""
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err, result.stdout)
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def png_bytes(img: np.ndarray, filters: tuple[int, ...] = (0,)) -> bytes:
    """A tiny PNG encoder (8-bit, colour types 0/4/2/6 by channel count), cycling the row filters."""
    img = np.asarray(img, np.uint8)
    img = img[..., None] if img.ndim == 2 else img
    h, w, c = img.shape
    rows, prev = [], np.zeros(w * c, np.int64)
    for r in range(h):
        cur = img[r].reshape(-1).astype(np.int64)
        f = filters[r % len(filters)]
        left = np.concatenate([np.zeros(c, np.int64), cur[:-c]])
        upleft = np.concatenate([np.zeros(c, np.int64), prev[:-c]])
        if f == 4:
            p = left + prev - upleft
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        else:
            pred = [0 * cur, left, prev, (left + prev) // 2][f]
        rows.append(bytes([f]) + ((cur - pred) % 256).astype(np.uint8).tobytes())
        prev = cur

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 2: 4, 3: 2, 4: 6}[c], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """One real ``myelin train`` run (2 epochs on digits), shared by the tests that use a trained model."""
    out = tmp_path_factory.mktemp("cli") / "run"
    result = run_cli("train", "--epochs", "2", "--out", str(out), "--no-report")
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and str(out) in result.stdout
    return out


# ------------------------------------------------------------------------------------------ misuse


@pytest.mark.parametrize("args, fragments", [
    (["train", "--bogus"], ["unrecognized arguments: --bogus"]),
    (["train", "--epochs", "0"], ["--epochs", "expected an integer >= 1"]),
    (["train", "--lr", "-1"], ["--lr", "expected a number > 0"]),
    (["train", "--data", "missing.npz"], ["myelin train: error:", "no data file at missing.npz"]),
    (["evaluate", "missing.safetensors"], ["myelin evaluate: error:", "no model file"]),
    ([], ["missing command"]),
])
def test_misuse_in_a_subprocess(tmp_path, args, fragments):
    assert_misuse(run_cli(*args, cwd=tmp_path), *fragments)


@pytest.mark.parametrize("args, fragments", [
    (["train", "--optimizer", "adamax"], ["invalid choice: 'adamax'"]),
    (["train", "--val-split", "1.5"], ["--val-split", "in [0, 1)"]),
    (["train", "--dropout", "x"], ["--dropout", "expected a number"]),
    (["train", "--epochs", "2.5"], ["expected an integer"]),
    (["train", "--data", "table.xlsx"], ["unknown data 'table.xlsx'"]),
    (["train", "--model", "transformer"], ["unknown model 'transformer'"]),
    (["train", "--model", "absent.toml"], ["no model config file"]),
    (["train", "--patience", "2", "--val-split", "0"], ["--patience needs validation data"]),
    (["predict", "m.safetensors"], ["the following arguments are required: INPUT"]),
    (["report", "no-such-run"], ["no run directory"]),
    (["summary", "--input-shape"], ["expected one argument"]),
    (["train", "--epoch", "3"], ["unrecognized arguments: --epoch 3"]),  # no prefixes of --epochs
    (["evaluate", "m.safetensors", "--batch", "8"], ["unrecognized arguments: --batch 8"]),
])
def test_misuse_in_process(tmp_path, monkeypatch, capsys, args, fragments):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_bad_files_give_one_line(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text('[[layers]]\ntype = "Conv9d"\n')
    (tmp_path / "garbage.safetensors").write_bytes(os.urandom(300))
    (tmp_path / "bad.csv").write_text("a,b,label\n1,2,0\n3,oops,1\n4,5,0\n")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    np.savez(tmp_path / "keys.npz", images=np.zeros((4, 2)), targets=np.zeros(4))
    np.savez(tmp_path / "floaty.npz", x=np.zeros((5, 2)), y=np.array([0, 1, 0.5, 1, 0]))
    cases = [
        (["train", "--model", str(tmp_path / "bad.toml")], "layer 0 (Conv9d): "),
        (["evaluate", str(tmp_path / "garbage.safetensors")], "garbage.safetensors"),
        (["train", "--data", str(tmp_path / "bad.csv")], "line 3, column 'b': 'oops' is not a number"),
        (["train", "--data", str(tmp_path / "bad.npz")], "bad.npz"),
        (["train", "--data", str(tmp_path / "keys.npz")], "expected arrays x_train and y_train"),
        (["train", "--data", str(tmp_path / "floaty.npz")], "expected integer class labels"),
        (["train", "--data", str(tmp_path / "bad.csv"), "--target", "nope"], "no column named 'nope'"),
    ]
    for args, fragment in cases:
        code, _, err = _cli(args, capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)
        assert fragment in err, (args, err)


def test_help_and_version():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "summary", "report"):
        assert command in result.stdout
    assert run_cli("--version").stdout.strip() == f"myelin {myelin.__version__}"


# ------------------------------------------------------------------------------------- a real run


def test_train_writes_the_run_directory(run_dir):
    for name in ("model.safetensors", "history.csv", "metrics.json", "config.json", "checkpoint.safetensors"):
        assert (run_dir / name).is_file(), name
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("test_accuracy", "test_loss", "epochs", "seconds", "settings", "val_accuracy", "train_loss"):
        assert key in metrics, key
    assert metrics["epochs"] == 2 and 0.5 < metrics["test_accuracy"] <= 1.0 and metrics["test_loss"] > 0
    config = json.loads((run_dir / "config.json").read_text())
    assert config["settings"]["data"] == "digits" and config["settings"]["epochs"] == 2
    assert config["input_shape"] == [1, 8, 8] and config["num_classes"] == 10
    with open(run_dir / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(rows[0])
    pytest.importorskip("matplotlib")
    assert (run_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert read_png(run_dir / "curves.png").shape[0] > 100


def test_evaluate_summary_and_predict(run_dir, tmp_path, capsys):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    code, out, _ = _cli(["evaluate", str(run_dir / "model.safetensors")], capsys)
    assert code == 0 and f"{100 * metrics['test_accuracy']:.2f}%" in out  # the same data and split as training

    code, out, _ = _cli(["summary", str(run_dir)], capsys)
    assert code == 0 and "Linear" in out and ("51,594" in out or "51594" in out)

    (_, _), (x_test, y_test) = myelin.datasets.digits()
    np.savez(tmp_path / "some.npz", x=x_test[:12], y=y_test[:12])
    code, out, _ = _cli(["predict", str(run_dir), str(tmp_path / "some.npz"), "--limit", "5"], capsys)
    assert code == 0 and out.count("\n") >= 6 and "7 more" in out and "accuracy" in out


def test_model_file_works_away_from_its_run_directory(run_dir, tmp_path, capsys):
    """The input shape and classes travel inside model.safetensors, so a copied file alone still predicts."""
    import shutil

    from myelin.io import read_metadata

    alone = tmp_path / "elsewhere" / "digits.safetensors"
    alone.parent.mkdir()
    shutil.copy(run_dir / "model.safetensors", alone)
    facts = json.loads(read_metadata(alone)["cli.run"])
    assert facts["input_shape"] == [1, 8, 8] and facts["num_classes"] == 10 and facts["data_kind"] == "image"
    from myelin.cli._files import load_model_file

    assert load_model_file(str(alone))[2] == facts  # no config.json there: the facts in the file are used
    (run_dir / "config.json").rename(tmp_path / "config.json")  # (hide it to be sure it is not read instead)
    try:
        assert load_model_file(str(run_dir / "model.safetensors"))[2] == facts
    finally:
        (tmp_path / "config.json").rename(run_dir / "config.json")
    (_, _), (x_test, y_test) = myelin.datasets.digits()
    np.savez(tmp_path / "some.npz", x=x_test[:12].reshape(12, 64), y=y_test[:12])  # flat rows: reshaped by the facts
    code, out, _ = _cli(["predict", str(alone), str(tmp_path / "some.npz"), "--limit", "3"], capsys)
    assert code == 0 and "accuracy" in out
    code, out, _ = _cli(["summary", str(alone)], capsys)
    assert code == 0 and "Linear" in out


def test_predict_png(run_dir, tmp_path, capsys):
    """A digit drawn dark on white, 4x larger, as RGB: decoded, inverted, shrunk, and classified as the
    model classifies the original 8x8 image."""
    (_, _), (x_test, _) = myelin.datasets.digits()
    model = myelin.load(run_dir / "model.safetensors")
    expected = myelin.predict(model, x_test[:40]).argmax(axis=1)
    for i in (0, 13, 27):
        big = np.kron(x_test[i, 0], np.ones((4, 4), np.float32))
        ink = np.round(255 * (1 - big)).astype(np.uint8)
        path = tmp_path / f"digit{i}.png"
        path.write_bytes(png_bytes(np.stack([ink] * 3, axis=-1), filters=(0, 1, 2, 3, 4)))
        code, out, _ = _cli(["predict", str(run_dir / "model.safetensors"), str(path)], capsys)
        assert code == 0
        first, second = out.strip().splitlines()[:2]
        assert first.startswith(f"predicted class: {expected[i]} ")
        probs = [float(part.split(": ")[1]) for part in second.removeprefix("probabilities: ").split("  ")]
        assert len(probs) == 10 and abs(sum(probs) - 1) < 0.01


def test_resume_continues_the_run(run_dir, tmp_path, capsys):
    out = tmp_path / "resumed"
    code, _, err = _cli(["train", "--resume", str(run_dir / "checkpoint.safetensors"), "--epochs", "3",
                            "--out", str(out), "--quiet", "--no-report"], capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and metrics["settings"]["data"] == "digits"
    assert len((out / "history.csv").read_text().strip().splitlines()) == 4  # header + 3 epochs


def test_csv_and_npz_data(tmp_path, capsys):
    (x_train, y_train), _ = myelin.datasets.digits(flatten=True)
    x, y = x_train[:300], y_train[:300]
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    path = tmp_path / "digits.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["digit"] + [f"p{i}" for i in range(64)])
        for label, row in zip(names[y], x):
            w.writerow([label, *(f"{v:.4f}" for v in row)])
    code, out, err = _cli(["train", "--data", str(path), "--target", "digit", "--epochs", "2", "--out",
                           str(tmp_path / "csvrun"), "--quiet", "--no-report"], capsys)
    assert code == 0, err
    config = json.loads((tmp_path / "csvrun" / "config.json").read_text())
    assert config["classes"] == sorted(names.tolist()) and config["input_shape"] == [64]
    rows = tmp_path / "rows.csv"
    with open(rows, "w", newline="") as f:
        csv.writer(f).writerows([[f"p{i}" for i in range(64)], *x[:3].tolist()])
    code, out, err = _cli(["predict", str(tmp_path / "csvrun"), str(rows)], capsys)
    assert code == 0, err
    assert len(out.strip().splitlines()) == 3 and any(n in out for n in names)

    np.savez(tmp_path / "xy.npz", x=(x.reshape(-1, 8, 8) * 255).astype(np.uint8), y=y)
    code, out, err = _cli(["train", "--data", str(tmp_path / "xy.npz"), "--model", "cnn", "--epochs", "1",
                           "--out", str(tmp_path / "npzrun"), "--quiet", "--no-report"], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "npzrun" / "config.json").read_text())["input_shape"] == [1, 8, 8]


def test_toml_model_and_lstm(tmp_path, capsys):
    code, _, err = _cli(["train", "--model", str(ROOT / "examples" / "configs" / "digits_cnn.toml"), "--epochs", "1",
                         "--out", str(tmp_path / "toml"), "--quiet", "--no-report"], capsys)
    assert code == 0, err
    code, _, err = _cli(["train", "--model", "lstm", "--epochs", "1", "--out", str(tmp_path / "lstm"), "--quiet",
                         "--no-report"], capsys)
    assert code == 0, err
    code, out, _ = _cli(["summary", str(tmp_path / "lstm")], capsys)
    assert code == 0 and "LSTM" in out and "RNNOutput" in out


def test_report_without_report_module_or_with_it(run_dir, capsys):
    code, out, err = _cli(["report", str(run_dir)], capsys)
    try:
        import myelin.report  # noqa: F401
    except ImportError:
        assert code == 2 and "no myelin.report" in err and len(err.strip().splitlines()) == 1
    else:
        assert code == 0 and "report" in out


def test_ctrl_c_stops_cleanly_with_status_130(tmp_path):
    out = tmp_path / "interrupted"
    proc = subprocess.Popen([sys.executable, "-m", "myelin", "train", "--epochs", "500", "--out", str(out), "--quiet",
                             "--no-report"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a runner that ignores SIGINT (a background job) passes that on: undo it
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not (out / "history.csv").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "--resume" in stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] is True and 1 <= metrics["epochs"] < 500
    assert myelin.load(out / "model.safetensors") is not None


# ------------------------------------------------------------------------------------------- PNG


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_reader_round_trips_every_filter(tmp_path, channels):
    img = np.random.default_rng(channels).integers(0, 256, (9, 7, channels))
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes(img, filters=(0, 1, 2, 3, 4)))
    assert np.array_equal(read_png(path), img)


def test_png_reader_matches_matplotlib(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    path = tmp_path / "m.png"
    data = np.random.default_rng(0).random((12, 10))
    image.imsave(path, data, cmap="gray")
    assert np.array_equal(read_png(path), np.round(image.imread(path) * 255).astype(np.uint8))


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b"GIF89a" + b[6:], "not a PNG"),
    (lambda b: b[:40], "truncated"),
    (lambda b: b[:30] + bytes([b[30] ^ 1]) + b[31:], "bad CRC"),
    (lambda b: b.replace(b"IEND", b"IENX"), "CRC"),
])
def test_png_reader_rejects_broken_files(tmp_path, mutate, message):
    path = tmp_path / "bad.png"
    path.write_bytes(mutate(png_bytes(np.zeros((4, 4), np.uint8))))
    with pytest.raises(PNGError, match=message):
        read_png(path)


def test_png_reader_rejects_unsupported_kinds(tmp_path):
    good = png_bytes(np.zeros((4, 4), np.uint8))

    def with_header(depth: int, color: int, interlace: int, side: int = 4) -> bytes:
        header = struct.pack(">IIBBBBB", side, side, depth, color, 0, 0, interlace)
        chunk = b"IHDR" + header
        return good[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + good[33:]

    for args, message in [((16, 0, 0), "bit depth 16"), ((8, 3, 0), "colour type 3"), ((8, 0, 1), "interlaced"),
                          ((8, 0, 0, 5000), "too large")]:
        path = tmp_path / "u.png"
        path.write_bytes(with_header(*args))
        with pytest.raises(PNGError, match=message):
            read_png(path)


def test_digit_preprocessing():
    img = np.full((40, 40, 3), 255, np.uint8)      # white paper
    img[8:32, 18:22] = 0                             # a dark vertical stroke: a "1"
    x = digit_input(img, 28, 28)
    assert x.shape == (28, 28) and x.max() == pytest.approx(1.0)
    assert x[:, :10].max() < 0.05 and x[14, 12:16].max() > 0.5   # inverted, centred, margin kept
    assert area_resize(np.arange(16.0).reshape(4, 4), 2, 2).tolist() == [[2.5, 4.5], [10.5, 12.5]]


# --------------------------------------------------------------------------- hostile files (Hypothesis)

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(width=st.integers(0, 40), height=st.integers(0, 40), depth=st.sampled_from([1, 8, 16]),
                  color=st.integers(0, 7), interlace=st.integers(0, 1), payload=st.binary(max_size=2000),
                  compress=st.booleans(), cut=st.integers(0, 3000))
def test_png_reader_on_hostile_files(tmp_path_factory, width, height, depth, color, interlace, payload, compress,
                                     cut):
    """Any header, any image data (valid CRCs, so the decoder itself is reached), any truncation:
    an array of the declared size or a PNGError, never another exception."""
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
    data += _chunk(b"IDAT", zlib.compress(payload) if compress else payload) + _chunk(b"IEND", b"")
    path = tmp_path_factory.mktemp("fuzz") / "f.png"
    path.write_bytes(data[:cut] if cut < len(data) else data)
    try:
        img = read_png(path)
    except PNGError:
        return
    assert img.shape[:2] == (height, width) and img.dtype == np.uint8


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(text=st.text(alphabet=st.sampled_from(list('[]="\'#,.\n ab1-_eE+tf\\u')), max_size=80))
def test_toml_fallback_reader_on_hostile_text(text):
    """The Python 3.10 reader returns a dict or raises ConfigError; where tomllib accepts the text, they agree."""
    from myelin.config import ConfigError, _MiniToml

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    try:
        ours = _MiniToml(text, "fuzz.toml").parse()
    except ConfigError:
        return
    try:
        reference = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return  # the small reader is more lenient in a few corners (e.g. keys after values); never wrong
    assert ours == reference


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(text=st.text(alphabet=st.sampled_from(list('0123456789.,-e"a\n\r x')), max_size=120),
                  target=st.sampled_from([None, "a", "x"]))
def test_csv_reader_on_hostile_text(tmp_path_factory, text, target):
    """Any small CSV: features, labels and names of matching lengths, or a one-line CLIError."""
    from myelin.cli import CLIError
    from myelin.cli._data import read_csv

    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_text(text, encoding="utf-8")
    try:
        x, y, names, classes = read_csv(path, target)
    except CLIError as exc:
        assert "\n" not in str(exc)
        return
    assert x.dtype == np.float32 and x.ndim == 2 and len(x) == len(y) and x.shape[1] == len(names)
    assert classes is None or (y.max() < len(classes))


# ------------------------------------------------------------------------------------------ issue 20


def _small_csv(path: Path, rows: int = 40) -> Path:
    rng = np.random.default_rng(0)
    x = rng.random((rows, 4))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "c", "d", "label"])
        w.writerows([[*r, int(r[0] > 0.5)] for r in x])
    return path


def test_flags_that_do_not_apply_are_refused(run_dir, tmp_path, capsys):
    """--target and --data-dir where the data has no columns / no files to find; --target and --limit with a PNG."""
    table = _small_csv(tmp_path / "t.csv")
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 2)), y=np.zeros(4))
    png = tmp_path / "digit.png"
    png.write_bytes(png_bytes(np.zeros((8, 8), np.uint8)))
    cases = [
        (["train", "--target", "label"], ["--target", "the built-in digits"]),
        (["train", "--data-dir", str(tmp_path)], ["--data-dir", "mnist and fashion-mnist", "the built-in digits"]),
        (["train", "--data", "mnist", "--target", "label"], ["--target", "mnist"]),
        (["train", "--data", str(tmp_path / "d.npz"), "--target", "y"], ["--target", "a .npz file"]),
        (["train", "--data", str(table), "--data-dir", str(tmp_path)], ["--data-dir", "a .csv file"]),
        (["evaluate", str(run_dir), "--target", "label"], ["--target", "the built-in digits"]),
        (["evaluate", str(run_dir), "--data-dir", str(tmp_path)], ["--data-dir"]),
        (["predict", str(run_dir), str(png), "--target", "label"], ["--target", "digit.png is not a .csv file"]),
        (["predict", str(run_dir), str(png), "--limit", "3"], ["--limit", "digit.png is one image"]),
    ]
    for args, fragments in cases:
        code, _, err = _cli(args + (["--epochs", "1", "--quiet"] if args[0] == "train" else []), capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)
        for fragment in fragments:
            assert fragment in err, (args, err)
    code, _, err = _cli(["train", "--data", str(table), "--target", "label", "--epochs", "1", "--quiet",
                         "--no-report", "--out", str(tmp_path / "ok")], capsys)
    assert code == 0, err  # where they apply, they are taken


def test_evaluate_away_from_its_run_says_which_data_it_tried(tmp_path, capsys):
    """A model file alone (no config.json, no run facts) falls back to digits; the error says so and how to pass data."""
    from myelin import nn

    alone = tmp_path / "model.safetensors"
    myelin.save(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), alone)
    code, _, err = _cli(["evaluate", str(alone)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    for fragment in ("digits (the default: no --data was given",
                     "samples of shape [1, 8, 8] do not fit the model's input [4]", "pass the test data with --data"):
        assert fragment in err, err
    code, _, err = _cli(["evaluate", str(alone), "--data", "digits"], capsys)
    assert code == 2 and err.startswith("myelin evaluate: error: --data digits: samples of shape"), err
    code, out, err = _cli(["evaluate", str(alone), "--data", str(_small_csv(tmp_path / "t.csv"))], capsys)
    assert code == 0 and "on 8 samples of" in out, err


def test_counts_agree_in_number(tmp_path, capsys):
    """"after 1 epoch", never "after 1 epochs"."""
    table = _small_csv(tmp_path / "t.csv")
    code, out, err = _cli(["train", "--data", str(table), "--epochs", "1", "--quiet", "--no-report", "--out",
                           str(tmp_path / "one")], capsys)
    assert code == 0, err
    assert "after 1 epoch in" in out and "1 epochs" not in out
    code, out, err = _cli(["train", "--data", str(table), "--epochs", "2", "--no-report", "--out",
                           str(tmp_path / "two")], capsys)
    assert code == 0, err
    assert "after 2 epochs in" in out and "; 2 epochs," in out


def test_predict_top_applies_to_one_sample(run_dir, tmp_path, capsys):
    png = tmp_path / "digit.png"
    png.write_bytes(png_bytes(np.zeros((8, 8), np.uint8)))
    code, out, _ = _cli(["predict", str(run_dir), str(png)], capsys)
    assert code == 0 and out.splitlines()[1].count(": ") == 1 + 10  # "probabilities: " and all ten classes
    code, out, _ = _cli(["predict", str(run_dir), str(png), "--top", "2"], capsys)
    assert code == 0 and out.splitlines()[1].count(": ") == 1 + 2
