"""The playground's HTTP API (Starlette test client): sessions, frames, downloads, bad and hostile requests."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("starlette.testclient")  # its HTTP client (httpx2 with Starlette 1.x) comes with the test extra
from starlette.testclient import TestClient

import myelin
from myelin.cli import main
from myelin.playground.budget import Budget
from myelin.playground.server import MAX_JSON_BYTES, make_app


@pytest.fixture()
def app():
    return make_app(Budget(flops=1e9, max_sessions=3, idle_seconds=60))


@pytest.fixture()
def client(app):
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def new(client, **settings):
    r = client.post("/api/sessions", json={"settings": settings})
    assert r.status_code == 200, r.text
    return r.json()


def test_page_and_static_files_are_served(client):
    r = client.get("/")
    assert r.status_code == 200 and "Myelin playground" in r.text and "/static/playground.js" in r.text
    for name in ("playground.js", "playground.css"):
        assert client.get(f"/static/{name}").status_code == 200
    schema = client.get("/api/schema").json()
    assert schema["defaults"]["data"] == "spirals" and schema["budget"]["memory_mb"] > 0 and schema["table"] is None


def test_page_fetches_nothing_from_the_internet(client):
    for path in ("/", "/static/playground.js", "/static/playground.css"):
        text = client.get(path).text
        assert "https://" not in text and "http://" not in text and "//cdn" not in text


def test_session_lifecycle(client, app):
    res = new(client, layers=[6], seed=3)
    sid, info = res["id"], res["info"]
    assert info["widths"] == [2, 6, 2] and info["settings"]["seed"] == 3 and res["frame"]["steps"] == 0
    f = client.post(f"/api/sessions/{sid}/run", json={"steps": 25, "since": 1}).json()
    assert f["steps"] == 25 and f["history_start"] == 1
    f = client.post(f"/api/sessions/{sid}/run", json={"seconds": 0.05}).json()
    assert f["steps"] > 25
    n = client.get(f"/api/sessions/{sid}/neuron?layer=1&unit=3").json()
    assert len(n["weights"]) == 2 and n["weight_grads"] is not None
    f = client.post(f"/api/sessions/{sid}/reset").json()
    assert f["steps"] == 0
    res = client.post(f"/api/sessions/{sid}/settings", json={"settings": {"layers": [3, 3], "data": "moons"}}).json()
    assert res["id"] == sid and res["info"]["widths"] == [2, 3, 3, 2]
    assert client.post(f"/api/sessions/{sid}/close").json() == {"closed": True}
    assert client.post(f"/api/sessions/{sid}/run", json={"steps": 1}).status_code == 404
    assert client.delete(f"/api/sessions/{sid}").json() == {"closed": False}
    assert len(app.state.store) == 0


def test_downloads_model_file_and_script(client, tmp_path):
    sid = new(client, layers=[5])["id"]
    client.post(f"/api/sessions/{sid}/run", json={"steps": 30})
    r = client.get(f"/api/sessions/{sid}/model")
    assert r.status_code == 200 and "playground_model.safetensors" in r.headers["content-disposition"]
    path = tmp_path / "m.safetensors"
    path.write_bytes(r.content)
    model = myelin.load(path)
    assert [p.shape for p in model.parameters()] == [(5, 2), (5,), (2, 5), (2,)]
    r = client.get(f"/api/sessions/{sid}/script")
    assert r.status_code == 200 and "STEPS = 30" in r.text and r.headers["content-type"].startswith("text/x-python")
    compile(r.text, "playground_run.py", "exec")  # valid Python (it is run in the session tests)


def test_each_tab_gets_its_own_session_and_the_oldest_is_freed(client, app):
    ids = [new(client, seed=k)["id"] for k in range(4)]  # max_sessions = 3
    assert len(set(ids)) == 4 and len(app.state.store) == 3
    assert client.post(f"/api/sessions/{ids[0]}/run", json={"steps": 1}).status_code == 404
    client.post(f"/api/sessions/{ids[1]}/run", json={"steps": 3})
    assert client.post(f"/api/sessions/{ids[2]}/run", json={}).json()["steps"] == 0  # untouched by the other


def test_idle_sessions_expire():
    app = make_app(Budget(flops=1e9, idle_seconds=0.2))
    with TestClient(app, base_url="http://localhost") as client:
        sid = new(client)["id"]
        time.sleep(0.3)
        r = client.post(f"/api/sessions/{sid}/run", json={"steps": 1})
        assert r.status_code == 404 and "expired" in r.json()["error"]


@pytest.mark.parametrize("body, status, match", [
    ({"settings": {"lr": "nan"}}, 400, "'lr'"),
    ({"settings": {"layers": [10**6] * 50}}, 413, "too large for this server"),
    ({"settings": {"layers": [2] * 5000}}, 400, "'layers'"),
    ({"settings": {"points": 10**12}}, 413, "budget"),
    ({"settings": {"batch": 10**9, "layers": [512, 512]}}, 413, "too"),
    ({"settings": {"nonsense": 1}}, 400, "unknown setting"),
    ({"settings": [1, 2]}, 400, "JSON object"),
    ({"settings": {}, "extra": 1}, 400, "unknown field"),
    ({"settings": {"data": "function", "boundary": "__import__('os').system('true')"}}, 400, "cannot call"),
])
def test_bad_session_requests_get_clear_errors(client, body, status, match):
    r = client.post("/api/sessions", json=body)
    assert r.status_code == status and match in r.json()["error"], r.text


def test_malformed_bodies(client):
    for raw, status, match in [
        (b'{"settings": {"lr": NaN}}', 400, "NaN"),
        (b'{"settings": {"lr": Infinity}}', 400, "Infinity"),
        (b"{not json", 400, "invalid JSON"),
        (b"[" * 100_000, 413, "larger"),
        (b"[" * 20_000 + b"]" * 20_000, 400, "invalid JSON"),  # deep nesting: refused, not a crash
        (b"\xff\xfe", 400, "invalid JSON"),
        (b'"just a string"', 400, "JSON object"),
    ]:
        r = client.post("/api/sessions", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == status and match in r.json()["error"], (raw[:30], r.text)
    big = json.dumps({"settings": {"boundary": "x" * MAX_JSON_BYTES}}).encode()
    assert client.post("/api/sessions", content=big).status_code == 413


def test_bad_run_and_neuron_requests(client):
    sid = new(client)["id"]
    for body in ({"steps": -1}, {"steps": 10**9}, {"steps": 1.5}, {"seconds": 100}, {"seconds": 0},
                 {"since": -2}, {"steps": 1, "evil": True}, {"seconds": "1"}):
        r = client.post(f"/api/sessions/{sid}/run", json=body)
        assert r.status_code == 400 and "error" in r.json(), body
    for query in ("layer=9&unit=0", "layer=1&unit=99", "layer=x&unit=1", "layer=1", "layer=1&unit=0&x=1"):
        r = client.get(f"/api/sessions/{sid}/neuron?{query}")
        assert r.status_code == 400, query
    assert client.post("/api/sessions/nope/run", json={}).status_code == 404
    assert client.get("/api/sessions/nope/model").status_code == 404
    # the server still works after all that
    assert client.post(f"/api/sessions/{sid}/run", json={"steps": 2}).json()["steps"] == 2


def test_diverged_run_still_answers_strict_json(client):
    sid = new(client, lr=1e30, optimizer="sgd", activation="relu")["id"]
    r = client.post(f"/api/sessions/{sid}/run", json={"steps": 40})
    assert r.status_code == 200 and r.json()["diverged"] is True
    assert client.get(f"/api/sessions/{sid}/neuron?layer=1&unit=0").status_code == 200


def test_only_local_host_headers_are_accepted(app):
    with TestClient(app, base_url="http://evil.example") as c:  # a DNS-rebinding page
        assert c.get("/api/schema").status_code == 400
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        assert c.get("/api/schema").status_code == 200


def test_cli_refuses_remote_bind_and_says_how_to_install(capsys, monkeypatch):
    assert main(["playground", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--allow-remote" in err
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "starlette" else real(name, *a))
    assert main(["playground"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install ".[playground]" in a checkout' in err


def test_frame_maps_decode_to_the_grid(client):
    import base64

    res = new(client, layers=[3])
    grid = res["info"]["grid"]
    maps = res["frame"]["layers"][1]["maps"]
    assert [len(base64.b64decode(m)) for m in maps] == [grid * grid] * 3
    probs = np.frombuffer(base64.b64decode(res["frame"]["output"]["values"]), np.uint8).reshape(2, -1) / 255
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, atol=0.01)


def test_cli_starts_the_server_on_localhost_with_a_csv(tmp_path):
    """`myelin playground --port 0 --data FILE.csv` prints its address, serves the table, stops on SIGTERM."""
    import subprocess
    import sys
    import urllib.request

    csv = tmp_path / "t.csv"
    csv.write_text("a,b,kind\n" + "".join(f"{i},{i % 7},{'x' if i % 2 else 'y'}\n" for i in range(30)))
    proc = subprocess.Popen([sys.executable, "-m", "myelin", "playground", "--port", "0", "--data", str(csv),
                             "--target", "kind"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("Myelin playground: http://localhost:"), (line, proc.stderr.read() if proc.poll() else "")
        url = line.split()[2]
        with urllib.request.urlopen(url + "api/schema", timeout=20) as r:
            schema = json.loads(r.read())
        assert schema["table"] == {"name": "t.csv", "columns": ["a", "b"], "target": "kind"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
