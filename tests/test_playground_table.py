"""Your own data in the playground: CSV tables (the CLI's reader), targets, PCA view, upload, script."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import myelin
from myelin.cli import main
from myelin.playground import Budget, SettingsError, TrainingSession
from myelin.playground.data import split_indices
from myelin.playground.table import TableError, parse_table, read_table

BUDGET = Budget(flops=1e9)


def write_csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return path


@pytest.fixture()
def blobs(tmp_path):
    """Five numeric features, a 0/1 label that depends on two of them."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 5)).round(4)
    y = (x[:, 0] + 0.5 * x[:, 3] > 0).astype(int)
    return write_csv(tmp_path / "blobs.csv", ["a", "b", "c", "d", "e", "label"],
                     [[*r, c] for r, c in zip(x, y)])


def test_numeric_table_classes_and_pca_view(blobs):
    t = read_table(blobs)
    assert t.columns == ["a", "b", "c", "d", "e"] and t.target_name == "label" and t.class_names is None
    s = TrainingSession({"data": "csv", "layers": [6]}, table=t, budget=BUDGET)
    d = s.data
    assert d.task == "classification" and d.class_names == ["0", "1"] and d.input_names == t.columns
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0, atol=1e-5)  # standardised on the training rows
    np.testing.assert_allclose(d.x_train.std(axis=0), 1, atol=1e-4)
    # the view is the PCA projection: the first axis has the most variance, the two are uncorrelated
    v = d.view_train.astype(np.float64)
    assert v[:, 0].var() >= v[:, 1].var() and abs(np.corrcoef(v.T)[0, 1]) < 1e-4
    assert any("principal components" in n for n in d.notes) and d.axis_names == ("PC1", "PC2")
    assert d.grid_inputs.shape == (40 * 40, 5)
    s.run(steps=300)
    assert s.frame()["test_accuracy"] > 0.9
    # two named columns instead
    s2 = TrainingSession({"data": "csv", "view": "a,d"}, table=t, budget=BUDGET)
    assert s2.data.axis_names == ("a", "d")
    train, _ = split_indices(240, 0.5, 0)
    np.testing.assert_array_equal(s2.data.view_train, t.x[train][:, [0, 3]])  # raw values of a and d
    with pytest.raises(SettingsError, match="'view'"):
        TrainingSession({"data": "csv", "view": "a,zz"}, table=t, budget=BUDGET)
    with pytest.raises(SettingsError, match="features"):
        TrainingSession({"data": "csv", "features": ["x1"]}, table=t, budget=BUDGET)


def test_text_target_and_regression_target(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 3)).round(3)
    path = write_csv(tmp_path / "iris.csv", ["p", "q", "r", "species"],
                     [[*r, ["setosa", "virginica", "versicolor"][int(r[0] > 0) + int(r[1] > 0)]] for r in x])
    t = read_table(path)
    assert t.class_names == ["setosa", "versicolor", "virginica"] and t.target_name == "species"
    s = TrainingSession({"data": "csv"}, table=t, budget=BUDGET)
    assert s.data.class_names == t.class_names and s.widths[-1] == 3
    with pytest.raises(SettingsError, match="only be classes"):
        TrainingSession({"data": "csv", "target_kind": "regression"}, table=t, budget=BUDGET)
    path = write_csv(tmp_path / "house.csv", ["rooms", "age", "price"],
                     [[*r[:2], round(200 + 50 * r[0] - 20 * r[1] ** 2, 3)] for r in x])
    t = read_table(path, "price")
    s = TrainingSession({"data": "csv", "layers": [8]}, table=t, budget=BUDGET)
    assert s.data.task == "regression" and s.widths[-1] == 1 and s.data.axis_names == ("rooms", "age")
    np.testing.assert_allclose(s.data.y_train.mean(), 0, atol=1e-5)  # the target standardised too
    s.run(steps=400)
    f = s.frame()
    assert f["output"]["kind"] == "values" and f["test_accuracy"] is None and f["test_loss"] < 0.2
    # integer targets may be forced to regression, and float targets cannot be classes
    assert TrainingSession({"data": "csv", "target_kind": "classification"}, table=read_table(blobs_like(tmp_path)),
                           budget=BUDGET).data.task == "classification"
    with pytest.raises(SettingsError, match="distinct values"):
        TrainingSession({"data": "csv", "target_kind": "classification"}, table=t, budget=BUDGET)


def blobs_like(tmp_path):
    return write_csv(tmp_path / "small.csv", ["a", "b", "y"], [[i, i % 3, i % 2] for i in range(20)])


@pytest.mark.parametrize("text, match", [
    ("a,b,y\n1,2,0\n3,,1\n4,5,0\n6,7,1\n", "line 3, column 'b'"),  # an empty cell: the reader's message
    ("a,b,y\n1,nan,0\n3,4,1\n4,5,0\n6,7,1\n", "column 'b' has 1 missing"),
    ("a,b,y\n1,x,0\n3,4,1\n4,5,0\n6,7,1\n", "'x' is not a number"),  # a text feature column
    ("a,b,y\n1,2,1\n3,4,1\n4,5,1\n6,7,1\n", "same target"),  # a single class
    ("a,b,y\n1,2,0\n3,4,1\n", "at least 4 rows"),
    ("", "empty"),
    ("a\n1\n2\n3\n4\n", "at least one feature column"),
])
def test_bad_tables_get_clear_errors(text, match):
    with pytest.raises(TableError, match=match):
        parse_table(text.encode(), "bad.csv")


def test_unknown_target_names_the_columns(blobs):
    with pytest.raises(TableError, match="no column named 'price'; columns are 'a'"):
        read_table(blobs, "price")


@pytest.mark.parametrize("make", ["numeric", "text", "regression"])
def test_script_reproduces_a_table_run(tmp_path, make):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(90, 3)).round(3)
    if make == "numeric":
        rows, target = [[*r, int(r[0] > r[1])] for r in x], None
    elif make == "text":
        rows, target = [[*r, "yes" if r[2] > 0 else "no"] for r in x], None
    else:
        rows, target = [[*r, round(3 * r[0] - r[1], 3)] for r in x], "t"
    path = write_csv(tmp_path / "data.csv", ["u", "v", "w", "t"], rows)
    s = TrainingSession({"data": "csv", "layers": [4], "seed": 3, "batch": 8, "dropout": 0.1},
                        table=read_table(path, target), budget=BUDGET)
    s.run(steps=23)
    (tmp_path / "run.py").write_text(s.script())
    (tmp_path / "page.safetensors").write_bytes(s.model_bytes())
    result = subprocess.run([sys.executable, "run.py", "script.safetensors"], check=False, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    mine = myelin.io.load_weights(tmp_path / "page.safetensors")
    theirs = myelin.io.load_weights(tmp_path / "script.safetensors")
    for key in mine:
        np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)


def test_upload_through_the_server_and_limits(blobs):
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from myelin.playground.server import make_app

    app = make_app(Budget(flops=1e9, max_upload_mb=0.01))
    with TestClient(app, base_url="http://localhost") as client:
        sid = client.post("/api/sessions", json={}).json()["id"]
        r = client.post(f"/api/sessions/{sid}/settings", json={"settings": {"data": "csv"}})
        assert r.status_code == 400 and "needs a CSV file" in r.json()["error"]
        r = client.post(f"/api/sessions/{sid}/csv?name=blobs.csv&target=label", content=blobs.read_bytes())
        assert r.status_code == 200 and r.json() == {"name": "blobs.csv", "columns": ["a", "b", "c", "d", "e"],
                                                     "target": "label", "rows": 240}
        res = client.post(f"/api/sessions/{sid}/settings", json={"settings": {"data": "csv", "layers": [5]}}).json()
        assert res["info"]["widths"] == [5, 5, 2] and res["info"]["axis_names"] == ["PC1", "PC2"]
        r = client.post(f"/api/sessions/{sid}/csv?name=x.csv", content=b"a,b\n" + b"1,2\n" * 10_000)
        assert r.status_code == 413 and "larger than" in r.json()["error"]
        r = client.post(f"/api/sessions/{sid}/csv?name=x.csv", content=b"a,b,y\n1,2,1\n1,2,1\n1,2,1\n1,2,1\n")
        assert r.status_code == 400 and "same target" in r.json()["error"]
        r = client.post(f"/api/sessions/{sid}/csv?name=../../etc/passwd&evil=1", content=b"a,b\n")
        assert r.status_code == 400 and "unknown field" in r.json()["error"]
    # the server's own table (--data) is offered to every session
    app = make_app(Budget(flops=1e9), read_table(blobs))
    with TestClient(app, base_url="http://localhost") as client:
        assert client.get("/api/schema").json()["table"]["target"] == "label"
        res = client.post("/api/sessions", json={"settings": {"data": "csv"}})
        assert res.status_code == 200 and res.json()["info"]["task"] == "classification"


def test_cli_data_errors_are_one_line(tmp_path, capsys):
    bad = write_csv(tmp_path / "bad.csv", ["a", "y"], [[1, 0], [2, 0], [3, 0], [4, 0]])
    assert main(["playground", "--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "same target" in err
    assert main(["playground", "--data", str(tmp_path / "missing.csv")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_one_column_regression_and_the_model_file_carries_the_standardisation(tmp_path):
    path = write_csv(tmp_path / "line.csv", ["x", "y"], [[i / 10, round(2 * i / 10 + 1, 2)] for i in range(50)])
    s = TrainingSession({"data": "csv", "layers": [4]}, table=read_table(path), budget=BUDGET)
    assert s.data.dim == 1 and s.data.task == "regression" and s.describe()["axis_names"] == ["x", "y"]
    (tmp_path / "m.safetensors").write_bytes(s.model_bytes())
    import json

    prep = json.loads(myelin.io.read_metadata(tmp_path / "m.safetensors")["playground.preprocess"])
    train, _ = split_indices(50, 0.5, 0)
    xs = np.arange(50, dtype=np.float32)[train] / 10
    assert prep["columns"] == ["x"] and prep["input_mean"][0] == pytest.approx(float(xs.mean()), rel=1e-5)
    assert "target_std" in prep
    with pytest.raises(SettingsError, match="two feature columns"):
        TrainingSession({"data": "csv", "target_kind": "classification"},
                        table=read_table(write_csv(tmp_path / "c.csv", ["x", "y"], [[i, i % 2] for i in range(9)])),
                        budget=BUDGET)
