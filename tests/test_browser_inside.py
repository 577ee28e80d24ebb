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
    page.get_by_text("The code that looks inside").click()
    page.get_by_text("model.layers[1:]").first.wait_for()  # the network for drawings is written the Functional way
    ARTIFACTS.mkdir(exist_ok=True)
    page.get_by_text("Inside the network").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "inside_the_network.png"), full_page=True)
