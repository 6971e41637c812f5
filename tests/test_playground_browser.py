"""The playground in a real browser: headless Chromium (the system's, via Selenium and chromedriver).

Skips cleanly where Chromium, chromedriver, Selenium or uvicorn are missing (CI installs them:
``.ci/run`` installs the Debian packages ``chromium`` and ``chromium-driver``). Nothing is
downloaded. Screenshots go to the test's temporary folder, or to ``$MYELIN_PLAYGROUND_SHOTS``
when set (that is how the README's screenshot was made).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

webdriver = pytest.importorskip("selenium.webdriver")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import myelin
from myelin.playground.budget import Budget
from myelin.playground.server import make_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs the system chromium and chromedriver (apt-get install chromium chromium-driver)")


class _Server:
    """uvicorn serving the playground in a background thread, on a free localhost port."""

    def __init__(self, table=None) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.app = app = make_app(Budget(), table)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the playground server did not start")
            time.sleep(0.05)
        self.url = f"http://localhost:{self.port}/"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server():
    s = _Server()
    yield s
    s.stop()


@pytest.fixture()
def downloads(tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture()
def browser(downloads):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture()
def shots(tmp_path):
    folder = Path(os.environ.get("MYELIN_PLAYGROUND_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def ready(driver):
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"), what="the page")


def click(driver, css):
    driver.find_element(By.CSS_SELECTOR, css).click()


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).get_attribute("textContent").strip()


def state(driver):
    return driver.execute_script("return {sid: playground.sid, settings: playground.settings, steps: playground.frame.steps,"
                                 " playing: playground.playing, busy: playground.busy}")


def settle(driver):
    """Wait until a settings change has been answered (the controls rebuild the session)."""
    time.sleep(0.3)
    wait_for(lambda: not state(driver)["busy"], what="the server's answer")


def test_build_train_inspect_and_take_it_away(server, browser, downloads, shots, tmp_path):
    d = browser
    d.get(server.url)
    ready(d)
    assert state(d)["settings"]["data"] == "spirals"
    d.save_screenshot(str(shots / "1-start.png"))
    # build: spirals, all the x-features but x1*x2, a third hidden layer, a neuron more in the first
    click(d, "#datasets button[data-set='spirals']")
    settle(d)
    for name in ("x1^2", "x2^2", "sin(x1)", "sin(x2)"):
        click(d, f"#columns canvas[data-layer='0'][title='{name}']")
        settle(d)
    click(d, "#add-layer")
    settle(d)
    d.find_elements(By.CSS_SELECTOR, ".column .tools button")[0].click()  # + neuron in hidden layer 1
    settle(d)
    s = state(d)["settings"]
    assert s["features"] == ["x1", "x2", "x1^2", "x2^2", "sin(x1)", "sin(x2)"] and s["layers"] == [9, 8, 8]
    assert "layers=9,8,8" in d.current_url  # every setting is in the address
    # train until the test accuracy passes 90%
    click(d, "#play")
    started = time.monotonic()

    def accuracy():
        t = text(d, "test-acc")
        return t.endswith("%") and float(t[:-1]) > 90.0

    for attempt in range(5):  # pause once it is above 90%; steps taken meanwhile may dip below: go on then
        wait_for(accuracy, timeout=90, what="test accuracy above 90%")
        seconds = time.monotonic() - started
        fps = d.execute_script("return playground.fps")
        d.save_screenshot(str(shots / "2-trained.png"))
        click(d, "#play")  # pause
        wait_for(lambda: not state(d)["playing"] and not state(d)["busy"], what="pause")
        time.sleep(0.3)
        if accuracy():
            break
        click(d, "#play")
    st = state(d)
    page_accuracy = float(text(d, "test-acc")[:-1]) / 100
    assert page_accuracy > 0.9
    print(f"\nplayground: >90% test accuracy after {st['steps']} steps, {seconds:.1f} s, {fps:.1f} updates/s")
    # inspect a neuron: the panel shows its weights, equal to the server's numbers
    click(d, "#columns canvas[data-layer='1'][data-unit='2']")
    wait_for(lambda: d.find_element(By.ID, "inspector").is_displayed(), what="the inspector")
    wait_for(lambda: "Layer 1, neuron 2" in text(d, "inspector-title"), what="the neuron's title")
    rows = d.find_elements(By.CSS_SELECTOR, "#inspector table tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].get_attribute("textContent") for r in rows[1:-1]] == s["features"]
    shown = [float(r.find_elements(By.TAG_NAME, "td")[1].get_attribute("textContent")) for r in rows[1:-1]]
    neuron = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(`/api/sessions/${playground.sid}/neuron?layer=1&unit=2`).then(r => r.json()).then(done);")
    np.testing.assert_allclose(shown, neuron["weights"], atol=1e-4, rtol=1e-3)
    d.save_screenshot(str(shots / "3-neuron.png"))
    # take it away: the model file and the script
    click(d, "#download-model")
    click(d, "#download-script")
    model_path = wait_for(lambda: next(iter(downloads.glob("playground_model*.safetensors")), None), what="model")
    script_path = wait_for(lambda: next(iter(downloads.glob("playground_run*.py")), None), what="script")
    wait_for(lambda: not list(downloads.glob("*.crdownload")), what="downloads to finish")
    model = myelin.load(model_path)
    assert next(iter(model.parameters())).shape == (9, 6)
    out = tmp_path / "from_script.safetensors"
    result = subprocess.run([sys.executable, str(script_path), str(out)], check=False, capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    test_line = next(line for line in result.stdout.splitlines() if line.startswith("test:"))
    assert float(test_line.rsplit(" ", 1)[1]) == pytest.approx(page_accuracy, abs=1e-3)  # the page's model
    mine, theirs = myelin.io.load_weights(model_path), myelin.io.load_weights(out)
    for key in mine:
        np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
    assert f"STEPS = {st['steps']}" in script_path.read_text()
    # a closed tab frees its session
    sid = st["sid"]
    d.get("about:blank")
    store = server.app.state.store
    wait_for(lambda: sid not in store._entries, timeout=10, what="the closed tab's session to be freed")


def _digits_csv(path):
    """The embedded 8x8 digits reduced to two classes (3 and 8), as a CSV with a text target."""
    (x, y), _ = myelin.datasets.digits()
    keep = np.isin(y, [3, 8])
    x, y = x[keep].reshape(int(keep.sum()), -1), y[keep]
    lines = [",".join([f"px{i}" for i in range(x.shape[1])] + ["digit"])]
    lines += [",".join(f"{v:g}" for v in row) + ("," + ("three" if c == 3 else "eight")) for row, c in zip(x, y)]
    path.write_text("\n".join(lines) + "\n")
    return path, len(y)


@pytest.mark.slow
def test_own_data_boundary_shared_link_and_the_math_of_a_step(server, browser, shots, tmp_path):
    """Issue 19 in the browser: a CSV upload trains, a typed boundary draws, a link reproduces, a step is explained."""
    d = browser
    d.get(server.url)
    ready(d)
    # your own data: the digits 3 and 8, 64 columns, drawn by PCA
    path, rows = _digits_csv(tmp_path / "digits38.csv")
    d.find_element(By.ID, "csv-target").send_keys("digit")
    d.find_element(By.ID, "csv-file").send_keys(str(path))
    wait_for(lambda: state(d)["settings"]["data"] == "csv", what="the CSV to load")
    settle(d)
    info = d.execute_script("return playground.info")
    assert info["classes"] == ["eight", "three"] and info["widths"][0] == 64 and info["axis_names"] == ["PC1", "PC2"]
    assert len(info["train_points"]) + len(info["test_points"]) == rows
    click(d, "#play")
    wait_for(lambda: text(d, "test-acc").endswith("%") and float(text(d, "test-acc")[:-1]) > 95.0, timeout=90,
             what="test accuracy above 95% on the digits 3 vs 8")
    click(d, "#play")
    settle(d)
    d.save_screenshot(str(shots / "4-csv-digits.png"))
    # more shapes: a boundary typed on the page
    click(d, "#datasets button[data-set='function']")
    settle(d)
    box = d.find_element(By.ID, "boundary")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("x**3 - x\t")
    wait_for(lambda: state(d)["settings"]["boundary"] == "x**3 - x", what="the boundary")
    settle(d)
    pts = np.array(d.execute_script("return playground.info.train_points"))
    noise = state(d)["settings"]["noise"]
    far = np.abs(pts[:, 1] - (pts[:, 0] ** 3 - pts[:, 0])) > 4 * noise + 0.05  # clear of the noisy band
    np.testing.assert_array_equal(pts[far, 2], (pts[far, 1] > pts[far, 0] ** 3 - pts[far, 0]).astype(float))
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("__import__('os')\t")
    wait_for(lambda: "cannot call" in text(d, "status"), what="the refusal of a hostile boundary")
    assert state(d)["settings"]["boundary"] == "x**3 - x"  # the old state stays
    d.save_screenshot(str(shots / "5-boundary.png"))
    # shareable state: the link opens the same run in a new page, and "open in Python" agrees
    d.find_element(By.ID, "lr").send_keys(Keys.CONTROL, "a")
    d.find_element(By.ID, "lr").send_keys("0.01\t")
    settle(d)
    click(d, "#copy-link")
    link = d.find_element(By.ID, "link").get_attribute("value")
    first = state(d)
    first_points = d.execute_script("return playground.info.train_points")
    script_a = d.execute_async_script("const done = arguments[arguments.length - 1];"
                                      "fetch(`/api/sessions/${playground.sid}/script`).then(r => r.text()).then(done);")
    d.switch_to.new_window("tab")
    d.get(link)
    ready(d)
    second = state(d)
    assert second["sid"] != first["sid"] and second["settings"] == first["settings"]
    assert d.execute_script("return playground.info.train_points") == first_points
    script_b = d.execute_async_script("const done = arguments[arguments.length - 1];"
                                      "fetch(`/api/sessions/${playground.sid}/script`).then(r => r.text()).then(done);")
    assert script_a == script_b and '"lr": 0.01' in script_b and '"boundary": "x**3 - x"' in script_b
    # the math of one step, on the neuron clicked
    click(d, "#columns canvas[data-layer='2'][data-unit='1']")
    click(d, "#step")
    wait_for(lambda: "chain rule" in d.find_element(By.ID, "inspector-body").get_attribute("textContent"),
             what="the step's math")
    body = d.find_element(By.ID, "inspector-body").get_attribute("textContent")
    assert "local derivative da/dz = 1 - tanh(z)^2" in body and "backward_steps" in body and "m_hat" in body
    d.execute_script("document.querySelector('#inspector h3').scrollIntoView()")
    d.save_screenshot(str(shots / "6-step-math.png"))
