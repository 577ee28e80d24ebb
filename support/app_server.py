"""Start the real app (`streamlit run app.py` on a free port) and launch Debian's Chromium.

Tests and benchmarks both use these, so the app is started and the browser launched the same way
everywhere (DESIGN.md, "Testing"): Chromium is always /usr/bin/chromium, never a browser that
Playwright downloads, which fails offline.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
START_TIMEOUT_SECONDS = 120.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(env_extra: dict | None = None, port: int | None = None, *, log=subprocess.DEVNULL,
              timeout: float = START_TIMEOUT_SECONDS, poll_seconds: float = 0.05) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run app.py` and wait until its health endpoint answers.

    The server gets a process group of its own, so `stop_app` also ends the training workers it
    started.

    Args:
        env_extra: variables added to this process's environment for the server.
        port: the port to listen on (a free one when None).
        log: where the server's output goes (a file object, or subprocess.DEVNULL).
        timeout: seconds to wait for the server to answer.
        poll_seconds: pause between health checks (a benchmark timing the start wants it small).

    Returns:
        (process, url), e.g. (Popen, "http://127.0.0.1:8765").

    Raises:
        RuntimeError: the server exited, or did not answer within `timeout` (it is stopped then).
    """
    port = port or free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env_extra or {})}, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} before it answered on {url}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as response:  # noqa: S310 - our 127.0.0.1
                if response.status == 200:
                    return process, url
        except OSError:
            pass
        time.sleep(poll_seconds)
    stop_app(process)
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout:.0f} s")


def stop_app(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Stop a server from `start_app` and everything it started (its process group): SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def launch_chromium(playwright):
    """Launch Debian's headless Chromium with Playwright (sync or async API: await the result with async).

    Args:
        playwright: the object `sync_playwright()` or `async_playwright()` yields.

    Returns:
        The Browser (a coroutine giving it, with the async API).

    Raises:
        FileNotFoundError: /usr/bin/chromium is missing (install it with apt-get install -y chromium).
    """
    if not os.path.exists(CHROMIUM):
        raise FileNotFoundError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
