"""Drawing in a real browser as a class does: mouse, finger, phone and tablet; nothing swallows a stroke."""


import pytest

from tests.support import ARTIFACTS, absolute, mouse_stroke, open_draw_page_with_a_model, shown_answer

pytestmark = pytest.mark.browser

# A "1" drawn from the canvas's top-right corner (where the component's toolbar used to sit).
CORNER_STROKE = [(0.88, 0.06), (0.86, 0.35), (0.84, 0.65), (0.82, 0.94)]


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
    shown_answer(page).wait_for(timeout=30_000)
    clear(page)
    # Finger: a tap in the corner first (it used to switch on the hidden edit mode), then strokes.
    touch_stroke(page, absolute(box, [(0.9, 0.05), (0.9, 0.05)]))
    clear(page)
    touch_stroke(page, absolute(box, CORNER_STROKE))
    shown_answer(page).wait_for(timeout=30_000)
    clear(page)
    touch_stroke(page, absolute(box, [(0.5, 0.15), (0.5, 0.85)]))  # drawing still works everywhere
    shown_answer(page).wait_for(timeout=30_000)
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
