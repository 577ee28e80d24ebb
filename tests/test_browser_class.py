"""Our class's digits in a real browser: two students label into one collection, the class page
shows both, and training with the class's digits reports before/after on held-out writers."""

import re

import pytest

from tests.support import (
    ARTIFACTS,
    absolute,
    fill_collection,
    mouse_stroke,
    open_draw_page_with_a_model,
    served_app,
    shown_answer,
)

pytestmark = pytest.mark.browser

COLLECTION = "test7b"
ONE = [(0.5, 0.12), (0.5, 0.88)]  # a vertical stroke: a "1"
SEVEN = [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]


@pytest.fixture(scope="module")
def class_server(tmp_path_factory, mnist):
    """A server with its own data folder, the collection already holding other writers' drawings.

    Its own server, not the session's `app_url`: that one stores into the default data folder.
    """
    data_dir = tmp_path_factory.mktemp("class-data")
    fill_collection(data_dir, mnist, writers=4, per_writer=15, collection=COLLECTION)  # the bulk
    with served_app({"KERASWAYS_DATA_DIR": str(data_dir)}) as url:
        yield url, data_dir


def label_a_drawing(browser, url: str, stroke, label: str):
    """A student opens the class's link, trains the quick model, draws and clicks the digit it was."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    # Opening /draw directly logs two known 404s (streamlit#7074, see test_browser_pages.py): not ours.
    page.on("console", lambda message: page.errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    canvas = open_draw_page_with_a_model(page, url, f"?collection={COLLECTION}&epochs=2&digits=1000")
    mouse_stroke(page, absolute(canvas.bounding_box(), stroke))
    shown_answer(page).wait_for(timeout=30_000)
    page.get_by_role("button", name=label, exact=True).click()
    page.get_by_text(f"Saved as a {label}").first.wait_for(timeout=30_000)
    page.get_by_text("Draw a digit on the black square").first.wait_for(timeout=30_000)  # the canvas cleared
    page.get_by_text("My drawings (1)").first.wait_for(timeout=30_000)
    return context, page


def test_two_students_label_into_one_collection_and_training_with_it_reports_before_and_after(class_server,
                                                                                             browser):
    url, data_dir = class_server
    first_context, first = label_a_drawing(browser, url, ONE, "1")
    second_context, _ = label_a_drawing(browser, url, SEVEN, "7")

    first.get_by_role("link", name="5 · Our class's digits").click()
    first.get_by_text("Drawings per writer (6 writers)").wait_for(timeout=60_000)  # 4 injected + both students
    first.wait_for_function("() => location.search.includes('collection=test7b')", timeout=30_000)  # link kept
    table = first.get_by_test_id("stDataFrame").nth(1)
    table.scroll_into_view_if_needed()
    first.get_by_text("How this session's models read our digits").wait_for(timeout=60_000)
    first.get_by_text("Our digits").first.wait_for(timeout=60_000)

    first.get_by_role("link", name="2 · Train").click()
    # "Before": the same network trained without our digits (the Draw page's network is another one).
    first.get_by_role("button", name=re.compile("Start training")).click(timeout=60_000)
    first.get_by_text("Test accuracy").first.wait_for(timeout=180_000)
    first.get_by_text(re.compile("Add our class's digits")).first.click(timeout=60_000)
    first.get_by_text(re.compile("held out to measure")).wait_for(timeout=30_000)
    first.get_by_role("button", name=re.compile("Start training")).click()
    first.get_by_text("After (with our digits)").wait_for(timeout=180_000)
    results = first.get_by_test_id("stMetric").filter(has_text="After (with our digits)")
    assert re.search(r"\d+\.\d%", results.inner_text())
    before = first.get_by_test_id("stMetric").filter(has_text="Before (without our digits)").inner_text()
    assert re.search(r"\d+\.\d%", before)  # the first run, trained without them
    first.get_by_text("never trained on").first.wait_for()

    first.get_by_role("link", name="5 · Our class's digits").click()
    first.get_by_text("held-out writers only").first.wait_for(timeout=60_000)
    # Streamlit scrolls inside its own container, so a full-page shot needs a viewport as tall as the page.
    height = first.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    first.set_viewport_size({"width": 1400, "height": min(max(height, 1000), 6000)})
    first.wait_for_timeout(2000)  # charts finish drawing
    ARTIFACTS.mkdir(exist_ok=True)
    first.screenshot(path=str(ARTIFACTS / "class_page.png"), full_page=True)
    assert not first.errors, first.errors  # nothing broke in the browser on the way
    first_context.close()
    second_context.close()


def test_a_reload_and_a_new_tab_are_the_same_student_and_another_browser_is_not(class_server, browser):
    url, data_dir = class_server
    context, page = label_a_drawing(browser, url, ONE, "1")
    cookie = next(cookie for cookie in context.cookies() if cookie["name"] == "kerasways_browser")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"  # no script on the page can read it
    page.reload()
    page.get_by_text("My drawings (1)").first.wait_for(timeout=60_000)  # before: empty, the drawing no longer mine
    tab = context.new_page()
    tab.goto(page.url)  # a second tab of the same browser, on the same link: its model comes back with it
    tab.get_by_text("My drawings (1)").first.wait_for(timeout=60_000)
    writers = re.compile(r"Drawings per writer \((\d+) writers\)")
    tab.get_by_role("link", name="5 · Our class's digits").click()
    tab.get_by_text(writers).wait_for(timeout=120_000)
    counted_before = int(writers.search(tab.get_by_text(writers).inner_text()).group(1))
    tab.reload()  # a reload is no new writer
    tab.get_by_text(writers).wait_for(timeout=60_000)
    assert int(writers.search(tab.get_by_text(writers).inner_text()).group(1)) == counted_before
    stranger = browser.new_context(viewport={"width": 1400, "height": 1000})  # another student's browser
    other = stranger.new_page()
    other.goto(page.url)  # the same link, with the class's shared network for drawings
    other.get_by_text("Model that predicts").first.wait_for(timeout=60_000)
    other.wait_for_timeout(2000)
    assert other.get_by_text("My drawings (1)").count() == 0  # the first student's drawing is not theirs
    stranger.close()
    context.close()
