"""Inside the network in a real browser: draw a digit, see every layer, the saliency maps and the code."""

import re

import pytest

from tests.support import ARTIFACTS, absolute, mouse_stroke, open_draw_page_with_a_model

pytestmark = pytest.mark.browser

SEVEN = [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]


def test_a_drawing_shows_every_layer_the_saliency_maps_and_the_code(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    canvas = open_draw_page_with_a_model(page, app_url)
    mouse_stroke(page, absolute(canvas.bounding_box(), SEVEN))
    page.get_by_text("Every layer, on your drawing").wait_for(timeout=60_000)
    for layer in ("conv", "pool", "conv_2", "pool_2", "flatten", "dropout", "dense", "classifier"):
        page.get_by_text(re.compile(rf"^{layer} · ")).first.wait_for(timeout=10_000)
    assert page.get_by_text("Inactive when predicting").count() >= 5  # four augmentation layers, two Dropout
    page.get_by_role("img", name=re.compile(r"channel 1 of 32")).first.wait_for()
    page.get_by_role("img", name=re.compile(r"Saliency for \d \(the answer\)")).wait_for()
    page.get_by_role("img", name=re.compile(r"Grad-CAM for \d")).first.wait_for()
    page.get_by_text("16 more channels hidden.").first.wait_for()
    other = pick_another_digit(page)
    page.get_by_role("img", name=f"Saliency for {other}", exact=True).wait_for(timeout=30_000)
    page.get_by_role("img", name=f"Grad-CAM for {other}", exact=True).wait_for()
    page.get_by_text("The code that looks inside").click()
    page.get_by_text("model.layers[1:]").first.wait_for()  # the network for drawings is written the Functional way
    ARTIFACTS.mkdir(exist_ok=True)
    page.get_by_text("Inside the network").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "inside_the_network.png"), full_page=True)
    page.get_by_text(re.compile(r"^conv · ")).first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "inside_the_layers.png"))
    page.context.close()


def pick_another_digit(page) -> int:
    """Choose, in "What would make this another digit?", a digit that is neither the answer nor chosen now."""
    answer = int(page.get_by_role("img", name=re.compile(r"Saliency for \d \(the answer\)")).get_attribute(
        "alt")[len("Saliency for ")])
    other = (answer + 3) % 10
    page.get_by_role("combobox", name="What would make this another digit?").click(timeout=30_000)
    page.keyboard.type(str(other))  # the open list filters to that digit
    page.keyboard.press("Enter")
    return other


def test_the_reference_mlp_shows_its_dense_layers_and_the_sequential_code(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url + "/train?epochs=1&digits=2000")
    page.get_by_role("button", name=re.compile("Start training")).click(timeout=60_000)
    page.get_by_text("Test accuracy").first.wait_for(timeout=180_000)
    page.get_by_text("What the network learned").wait_for()  # the first layer's 128 units as 28×28 pictures
    page.get_by_role("img", name="unit 1 of 128", exact=True).wait_for()
    page.get_by_role("link", name="3 · Draw a digit").click()
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    mouse_stroke(page, absolute(canvas.bounding_box(), SEVEN))
    page.get_by_text("Every layer, on your drawing").wait_for(timeout=60_000)
    for layer in ("flatten", "dense", "classifier"):
        page.get_by_text(re.compile(rf"^{layer} · ")).first.wait_for(timeout=10_000)
    page.get_by_text(re.compile(r"The same 784 values in one row")).wait_for()
    page.get_by_role("img", name="units 1–64 of 128", exact=True).wait_for()
    page.get_by_text(re.compile(r"^Most active: unit \d+")).first.wait_for()
    assert page.get_by_role("img", name=re.compile("Grad-CAM")).count() == 0  # no convolution to look at
    other = pick_another_digit(page)
    page.get_by_role("img", name=f"Saliency for {other}", exact=True).wait_for(timeout=30_000)
    page.get_by_text("The code that looks inside").click()
    page.get_by_text("model.layers[0].input").first.wait_for()  # the reference MLP is written the Sequential way
    page.context.close()
