"""Every page in a real browser: no console errors or warnings, and no request leaves the server."""

import re
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

# The Draw page offers a class network that a classmate (an earlier test) trained, or says there is none yet.
DRAW_PAGE_READY = re.compile("No trained model yet|Model that predicts")
PAGES = {"2 · Train": "Start training", "3 · Draw a digit": DRAW_PAGE_READY,
         "4 · Compare the three ways": "Which way when?", "1 · Build": "def build_model"}


def watch(page, app_url: str) -> dict:
    """Collect console errors and warnings, requests to other hosts and failed responses."""
    seen = {"console": [], "outside": [], "failed": []}
    server = urlparse(app_url).netloc
    page.on("console", lambda message: seen["console"].append(f"{message.type}: {message.text}")
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: seen["console"].append(f"page error: {error}"))
    page.on("request", lambda request: seen["outside"].append(request.url)
            if urlparse(request.url).netloc != server and urlparse(request.url).scheme != "data" else None)
    page.on("response", lambda response: seen["failed"].append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    return seen


def test_no_page_warns_in_the_console_or_fetches_from_another_host(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    seen = watch(page, app_url)
    page.goto(app_url + "/?epochs=2&digits=2000")
    page.get_by_text("def build_model", exact=False).first.wait_for(timeout=60_000)
    for title, marker in PAGES.items():
        page.get_by_role("link", name=title).click()
        page.get_by_text(marker).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
    # A short training: live charts drawn before and while data arrives, then the results.
    page.get_by_role("link", name="2 · Train").click()
    page.get_by_role("button", name=re.compile("Start training")).click(timeout=60_000)
    page.get_by_text("Test accuracy").first.wait_for(timeout=180_000)
    page.wait_for_timeout(1500)
    context.close()
    assert not seen["outside"], seen["outside"]
    assert not seen["failed"], seen["failed"]
    assert not seen["console"], seen["console"]


@pytest.mark.xfail(strict=True, reason="Streamlit's front end first asks <page>/_stcore/health and host-config when a "
                                       "page is opened directly, then the right address (streamlit#7074); the "
                                       "page works, but the browser logs two 404s")
def test_a_page_opened_directly_makes_no_failed_request(app_url, browser):
    context = browser.new_context()
    page = context.new_page()
    seen = watch(page, app_url)
    page.goto(app_url + "/draw")
    page.get_by_text(DRAW_PAGE_READY).first.wait_for(timeout=60_000)
    context.close()
    assert not seen["outside"], seen["outside"]
    assert not seen["failed"], seen["failed"]


def test_the_draw_page_keeps_the_address_a_share_link(app_url, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_url + "/draw?seed=7&epochs=abc")
    page.get_by_text(DRAW_PAGE_READY).first.wait_for(timeout=60_000)
    page.wait_for_function("() => location.search.includes('epochs=5')", timeout=30_000)  # the malformed value goes
    assert "seed=7" in page.url and "way=sequential" in page.url and "/draw" in page.url
    context.close()
