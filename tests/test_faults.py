"""Faults a class meets, in the real app and a real browser: closed tabs, reloads, a restarted server."""

import re
import time

import pytest

from support.app_server import start_app, stop_app
from tests.support import WARM_UP_ENV

pytestmark = pytest.mark.browser
LONG_TRAINING = "?epochs=100&digits=4000&batch=1"  # long enough to reload, close or kill mid-training


def start_long_training(page, url: str) -> None:
    page.goto(url + "/train" + LONG_TRAINING)
    page.get_by_role("button", name=re.compile("Start training")).click(timeout=60_000)
    page.get_by_text(re.compile(r"Epoch \d+/100")).first.wait_for(timeout=120_000)


def test_closing_the_tab_mid_training_frees_the_worker(app_url, browser):
    student = browser.new_context()
    start_long_training(student.new_page(), app_url)
    student.close()  # the tab goes away mid-training
    other = browser.new_context().new_page()
    # Another visitor sees the worker come free (the server waits a few seconds for a reconnect first).
    deadline = time.time() + 60
    freed = False
    while time.time() < deadline and not freed:
        other.goto(app_url + "/train")
        status = other.get_by_text(re.compile(r"Server: \d+/\d+ workers busy"))
        status.wait_for(timeout=60_000)
        freed = status.inner_text().startswith("Server: 0/")
        other.wait_for_timeout(2000)
    other.context.close()
    assert freed, "the closed tab's training still holds its worker"


def test_reloading_mid_training_reattaches_to_the_running_job(app_url, page):
    start_long_training(page, app_url)
    assert "runs=job-" in page.url
    page.reload()
    page.get_by_text("Reattached to your training").wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"Epoch \d+/100")).first.wait_for(timeout=60_000)
    page.get_by_role("button", name=re.compile("Stop")).click()
    page.get_by_text("Stopped by request").wait_for(timeout=60_000)


def test_a_restarted_server_reconnects_the_page_and_says_the_training_is_gone(browser):
    server, url = start_app({WARM_UP_ENV: "1"})
    port = int(url.rsplit(":", 1)[1])
    page = browser.new_context().new_page()
    try:
        start_long_training(page, url)
        server.kill()
        server.wait(timeout=20)
        server, _ = start_app({WARM_UP_ENV: "1"}, port=port)
        # The page reconnects by itself, keeps its set-up from the address and explains the lost job.
        page.get_by_text("no longer on the server", exact=False).wait_for(timeout=120_000)
        assert page.get_by_label("Epochs").input_value() == "100"
        page.get_by_role("button", name=re.compile("Start training")).wait_for(timeout=30_000)
    finally:
        page.context.close()
        stop_app(server)  # with its workers
