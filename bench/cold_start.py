"""Cold start: how soon a fresh server shows the generated code, against `import tensorflow`.

Each run starts `streamlit run app.py` from scratch (KERASWAYS_OFFLINE=1) and opens the page in
headless Chromium, which is launched before the server so its own start-up is not counted. Two
figures per run:

* server start → code visible: from starting the server process until an `stCode` block
  containing "def build_model" is on screen;
* first paint: from `page.goto` until that same moment (the server is already listening).

Each run also times a bare `python -c "import tensorflow"` in a fresh subprocess, the baseline
the first paint is compared with (the app should show its code without waiting for TensorFlow).

Run: python -m bench.cold_start [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from support.app_server import ROOT, launch_chromium, start_app, stop_app
from support.environment import OFFLINE

CODE_VISIBLE = ("() => [...document.querySelectorAll(\"[data-testid='stCode']\")]"
                ".some(el => el.innerText.includes('def build_model'))")
FIRST_PAINT_GOAL_SECONDS = 2.0
SERVER_TIMEOUT_SECONDS = 120


def one_app_run(browser, env: dict) -> dict:
    """Start a fresh server, open the page, return the timings of this run in seconds."""
    context = browser.new_context()
    page = context.new_page()
    log = tempfile.TemporaryFile()
    server = None
    started = time.perf_counter()
    try:
        server, url = start_app(env, log=log, timeout=SERVER_TIMEOUT_SECONDS, poll_seconds=0.02)
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
        if server is not None:
            stop_app(server, timeout=15)
        log.close()
    return {"listen": listening - started, "first_paint": visible - listening, "server_to_code": visible - started}


def tensorflow_import_seconds(env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], cwd=ROOT, env={**os.environ, **env}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh server starts to time (default 3)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    env = {**OFFLINE, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    rows = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
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
