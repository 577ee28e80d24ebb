"""Drawing in a real browser as a class does: mouse, finger, phone and tablet; nothing swallows a stroke;
a forged canvas costs the server nothing."""

import io
import re
import time

import pytest
from PIL import Image

from kerasways.canvas_image import MAX_CANVAS_SIDE
from kerasways.store import open_store
from support.stored_drawings import noise_canvas
from tests.support import (
    ARTIFACTS,
    absolute,
    blank_png,
    forge_next_canvas_value,
    memory_mb,
    mouse_stroke,
    open_draw_page_with_a_model,
    png_bytes,
    png_data_url,
    reset_peak_memory,
    served_app_process,
    shown_answer,
)

pytestmark = pytest.mark.browser

# A "1" drawn from the canvas's top-right corner (where the component's toolbar used to sit).
CORNER_STROKE = [(0.88, 0.06), (0.86, 0.35), (0.84, 0.65), (0.82, 0.94)]
ONE = [(0.5, 0.12), (0.5, 0.88)]
SEVEN = [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]


def touch_stroke(page, points) -> None:
    """A finger stroke through Chromium's own touch input (no mouse, so no hover first)."""
    cdp = page.context.new_cdp_session(page)
    (x, y), rest = points[0], points[1:]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for (x0, y0), (x1, y1) in zip([points[0], *rest[:-1]], rest):
        for step in range(1, 9):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
                {"x": x0 + (x1 - x0) * step / 8, "y": y0 + (y1 - y0) * step / 8}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def clear(page) -> None:
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit on the black square").first.wait_for(timeout=30_000)


def test_a_stroke_from_the_top_right_corner_draws_with_mouse_and_finger(app_url, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, has_touch=True)
    page = context.new_page()
    canvas = open_draw_page_with_a_model(page, app_url)
    box = canvas.bounding_box()
    # Mouse: straight from Clear to the corner, drawing at once (no hover over the canvas first).
    clear_button = page.get_by_role("button", name="Clear").bounding_box()
    page.mouse.move(clear_button["x"] + 5, clear_button["y"] + 5)
    mouse_stroke(page, absolute(box, CORNER_STROKE))
    shown_answer(page).wait_for(timeout=60_000)
    clear(page)
    # Finger: a tap in the corner first (it used to switch on the hidden edit mode), then strokes.
    touch_stroke(page, absolute(box, [(0.9, 0.05), (0.9, 0.05)]))
    clear(page)
    touch_stroke(page, absolute(box, CORNER_STROKE))
    shown_answer(page).wait_for(timeout=60_000)
    clear(page)
    touch_stroke(page, absolute(box, [(0.5, 0.15), (0.5, 0.85)]))  # drawing still works everywhere
    shown_answer(page).wait_for(timeout=60_000)
    assert page.locator(".dc-toolbar:visible").count() == 0
    context.close()


@pytest.mark.parametrize(("device", "width", "height"), [("phone", 390, 844), ("tablet", 820, 1180)])
def test_on_phones_and_tablets_the_canvas_stays_put_and_the_answer_is_in_view(app_url, browser, device, width,
                                                                               height):
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True, is_mobile=True)
    page = context.new_page()
    canvas = open_draw_page_with_a_model(page, app_url)
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    before = canvas.bounding_box()
    assert before["x"] >= 0 and before["x"] + before["width"] <= width  # the whole canvas is usable
    touch_stroke(page, absolute(before, [(0.3, 0.2), (0.7, 0.2), (0.55, 0.5), (0.45, 0.85)]))
    shown_answer(page).wait_for(timeout=30_000)
    page.wait_for_timeout(800)
    after = canvas.bounding_box()
    assert abs(after["x"] - before["x"]) < 2 and abs(after["y"] - before["y"]) < 2  # nothing moved under the pen
    # The answer is shown once: above the canvas where the columns stack, beside it on a tablet.
    line, metric = page.locator(".st-key-answer_line"), page.locator(".st-key-answer_metric")
    assert (line.is_visible(), metric.is_visible()) == ((True, False) if device == "phone" else (False, True))
    seen = shown_answer(page).bounding_box()
    assert 0 <= seen["y"] and seen["y"] + seen["height"] <= height  # read without scrolling
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"draw_{device}.png"))
    context.close()


@pytest.fixture(scope="module")
def forged_canvas_server(tmp_path_factory):
    """A server of its own: its process's memory is read, and its data folder holds only this test's drawings."""
    data_dir = tmp_path_factory.mktemp("forged-canvas-data")
    with served_app_process({"KERASWAYS_DATA_DIR": str(data_dir)}) as (url, pid):
        yield url, pid, data_dir


def test_a_forged_huge_canvas_is_refused_at_no_cost_and_the_next_stroke_is_read(forged_canvas_server, browser):
    url, pid, _ = forged_canvas_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    box = open_draw_page_with_a_model(page, url).bounding_box()
    mouse_stroke(page, absolute(box, ONE))  # a real drawing first: the model's first prediction is behind us
    shown_answer(page).wait_for(timeout=30_000)
    page.wait_for_timeout(1_000)
    huge = png_data_url(blank_png(13_000))  # 676 MB decoded, about 1 MB as sent
    before = memory_mb(pid)
    reset_peak_memory(pid)
    forge_next_canvas_value(page, huge)
    started = time.monotonic()
    mouse_stroke(page, absolute(box, SEVEN))
    refusal = page.get_by_text("This drawing was not read: the canvas sent a 13000×13000 image")
    refusal.wait_for(timeout=30_000)
    seconds, grown = time.monotonic() - started, memory_mb(pid, "VmHWM") - before
    print(f"13,000×13,000 canvas ({len(huge) / 1e6:.2f} MB data URL): refused after {seconds:.1f} s, "
          f"server's peak memory +{grown} MB")
    assert grown <= 50
    assert page.get_by_role("button", name="1", exact=True).count() == 0  # nothing to save
    mouse_stroke(page, absolute(box, [(0.35, 0.1), (0.4, 0.9)]))  # the next real stroke is read as ever
    shown_answer(page).wait_for(timeout=30_000)
    assert refusal.count() == 0
    context.close()


def test_a_forged_noise_canvas_is_refused_when_too_big_and_stored_small_when_not(forged_canvas_server, browser):
    url, _, data_dir = forged_canvas_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    box = open_draw_page_with_a_model(page, url).bounding_box()
    forge_next_canvas_value(page, png_data_url(png_bytes(noise_canvas(2048))))  # 16.8 MB stored before
    mouse_stroke(page, absolute(box, ONE))
    # 19 MB of data URL: refused by its length, before its header is even read.
    page.get_by_text(re.compile(r"not read: the canvas sent \d+\.\d MB of image data")).first.wait_for(timeout=60_000)
    forge_next_canvas_value(page, png_data_url(png_bytes(noise_canvas(MAX_CANVAS_SIDE))))  # the most accepted
    mouse_stroke(page, absolute(box, SEVEN))
    shown_answer(page).wait_for(timeout=60_000)
    page.get_by_role("button", name="1", exact=True).click()
    page.get_by_text("Saved as a 1").first.wait_for(timeout=30_000)
    store = open_store(data_dir)
    [saved] = store.gallery()
    stored = store.canvas_png(saved.id)
    assert len(stored) <= 100_000 and Image.open(io.BytesIO(stored)).size == (280, 280)
    store.close()
    context.close()
