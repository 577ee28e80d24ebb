"""Cold start: how soon a fresh server shows the generated code, against `import tensorflow`.

Each run starts `streamlit run app.py` from scratch (KERASWAYS_OFFLINE=1) and opens the page in
headless Chromium, which is launched before the server so its own start-up is not counted. Two
figures per run:

* server start → code visible: from starting the server process until an `stCode` block
  containing "def build_model" is on screen;
* first paint: from `page.goto` until that same moment (the server is already listening).

Each run also times a bare `python -c "import tensorflow"` in a fresh subprocess, the baseline
the first paint is compared with (the app should show its code without waiting for TensorFlow).

Run: python bench/cold_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CODE_VISIBLE = ("() => [...document.querySelectorAll(\"[data-testid='stCode']\")]"
                ".some(el => el.innerText.includes('def build_model'))")
FIRST_PAINT_GOAL_SECONDS = 2.0
SERVER_TIMEOUT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server(url: str, server: subprocess.Popen, deadline: float) -> None:
    """Poll Streamlit's health endpoint until it answers (or the server dies)."""
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode} before it listened")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"streamlit did not answer within {SERVER_TIMEOUT_SECONDS} s")


def stop(server: subprocess.Popen) -> None:
    """End the server and the training workers it may have started (its own process group)."""
    if server.poll() is None:
        try:
            os.killpg(server.pid, 15)
        except ProcessLookupError:
            pass
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()


def one_app_run(browser, env: dict) -> dict:
    """Start a fresh server, open the page, return the timings of this run in seconds."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--browser.gatherUsageStats", "false"]
    context = browser.new_context()
    page = context.new_page()
    started = time.perf_counter()
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        wait_for_server(url, server, time.monotonic() + SERVER_TIMEOUT_SECONDS)
        listening = time.perf_counter()
        page.goto(url)
        page.wait_for_function(CODE_VISIBLE, timeout=SERVER_TIMEOUT_SECONDS * 1000, polling=20)
        visible = time.perf_counter()
    except Exception:
        log.seek(0)
        print(log.read().decode(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        context.close()
        stop(server)
        log.close()
    return {"listen": listening - started, "first_paint": visible - listening, "server_to_code": visible - started}


def tensorflow_import_seconds(env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh server starts to time (default 3)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    env = dict(os.environ, KERASWAYS_OFFLINE="1", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
               TF_CPP_MIN_LOG_LEVEL="2")
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for run in range(1, args.runs + 1):
                timings = one_app_run(browser, env)
                timings["tf_import"] = tensorflow_import_seconds(env)
                rows.append(timings)
                print(f"run {run}: server listening {timings['listen']:.2f} s, "
                      f"first paint (goto → code) {timings['first_paint']:.2f} s, "
                      f"server start → code {timings['server_to_code']:.2f} s, "
                      f"`import tensorflow` {timings['tf_import']:.2f} s", flush=True)
        finally:
            browser.close()

    def median(key: str) -> float:
        return statistics.median(row[key] for row in rows)

    paint, tf_import = median("first_paint"), median("tf_import")
    print()
    print(f"medians over {len(rows)} runs (CPUs: {os.cpu_count()}, load average now {os.getloadavg()[0]:.1f}; "
          "other work on the machine slows every figure):")
    print(f"  server start → listening         {median('listen'):6.2f} s")
    print(f"  first paint (goto → code)        {paint:6.2f} s   goal ≤ {FIRST_PAINT_GOAL_SECONDS:.1f} s: "
          f"{'met' if paint <= FIRST_PAINT_GOAL_SECONDS else 'NOT met'}")
    print(f"  server start → code visible      {median('server_to_code'):6.2f} s")
    print(f"  `python -c 'import tensorflow'`  {tf_import:6.2f} s")
    print(f"  first paint / tensorflow import  {paint / tf_import:6.2f}   goal < 1: "
          f"{'met' if paint < tf_import else 'NOT met'}")


if __name__ == "__main__":
    main()
