"""The playground's update rate and the server's CPU use while a page trains (headless Chromium).

Starts ``myelin playground`` as a separate process, opens the page in the system's headless
Chromium (Selenium), presses Play for ``--seconds`` and reports the page's updates per second,
the training steps per second, and the server process's CPU use (user + system time from
/proc over wall time; 100% = one core busy). Needs ``pip install myelin-nn[playground]`` and
selenium, and the Debian packages chromium and chromium-driver.

    python benchmarks/bench_playground.py --seconds 20 [--hash 'layers=8,8&features=x1,x2']
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--hash", default="", help="settings for the page's address, e.g. 'layers=8,8'")
    args = ap.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen([sys.executable, "-m", "myelin", "playground", "--port", str(port)],
                              stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()  # "Myelin playground: http://..."
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                                  options=options)
        try:
            driver.get(f"http://localhost:{port}/#{args.hash}")
            deadline = time.monotonic() + 30
            while not driver.execute_script("return document.body.dataset.ready === '1'"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the page did not load")
                time.sleep(0.1)
            cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
            steps0 = driver.execute_script("return playground.frame.steps")
            driver.execute_script("playground.updates = 0; const run = window.fetch; window.fetch = (...a) => "
                                  "{ if (String(a[0]).endsWith('/run')) playground.updates++; return run(...a); };")
            driver.find_element("id", "play").click()
            time.sleep(args.seconds)
            driver.find_element("id", "play").click()
            wall = time.monotonic() - t0
            cpu = cpu_seconds(server.pid) - cpu0
            updates = driver.execute_script("return playground.updates")
            steps = driver.execute_script("return playground.frame.steps") - steps0
            acc = driver.execute_script("return playground.frame.test_accuracy")
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait(10)
    result = {"seconds": round(wall, 2), "updates_per_second": round(updates / wall, 2),
              "steps_per_second": round(steps / wall, 1), "server_cpu_percent_of_one_core": round(100 * cpu / wall, 1),
              "test_accuracy": acc, "cpus": os.cpu_count()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
