"""The real app in headless Debian Chromium: what a user sees and clicks."""

import re
import subprocess
import sys
import time
from typing import NamedTuple

import pytest

from support.app_server import ROOT
from tests.support import ARTIFACTS, open_draw_page_with_a_model

SCORE_DOWNLOADED_MODEL = """
import sys
import keras
from kerasways.data import load_mnist

model = keras.models.load_model(sys.argv[1])
data = load_mnist("bundled")
probabilities = model.predict(data.x_test.astype("float32") / 255.0, verbose=0)
print(f"{(probabilities.argmax(axis=1) == data.y_test).mean():.2%}")
"""

pytestmark = pytest.mark.browser
PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError


def code_text(page) -> str:
    return page.locator("[data-testid='stCode']").first.inner_text()


def model_reads(page):
    """The Draw page's "The model reads" metric."""
    return page.get_by_test_id("stMetricLabel").filter(has_text="The model reads")


def choose_way(page, label: str) -> None:
    page.locator("[data-testid='stRadio'] label").filter(has_text=label).first.click()


def test_page_loads_and_shows_the_code_of_each_way(app_url, page):
    page.goto(app_url)
    page.get_by_text("def build_model", exact=False).first.wait_for(timeout=60_000)
    assert "keras.Sequential(" in code_text(page)
    expected = {"Functional API": "keras.Model(inputs=inputs", "Model subclassing": "class DigitClassifier",
                "Sequential API": "keras.Sequential("}
    for label, marker in expected.items():
        choose_way(page, label)
        page.wait_for_function(
            "marker => [...document.querySelectorAll(\"[data-testid='stCode']\")]"
            ".some(el => el.innerText.includes(marker))", arg=marker, timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    choose_way(page, "Functional API")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "build_page.png"), full_page=True)


class LiveTraining(NamedTuple):
    """A Train page that trained while it was watched, and what was seen while it trained."""

    page: object
    progress: list[float]  # the progress bar's value, every 0.4 s
    busy_shown: bool  # the server line said the worker was busy
    data_said: bool  # the "loading in the training workers" note gave way to the data in use
    stop_enabled: bool  # Stop could be pressed while it trained


@pytest.fixture(scope="module")
def live_training(app_url, browser):
    """One training watched from Start to its results, shared by the tests that check each part."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(app_url + "/train")
    page.get_by_role("button", name=re.compile("Start training")).wait_for(timeout=60_000)
    epochs = page.get_by_label("Epochs")
    epochs.fill("100")
    epochs.press("Enter")
    size = page.get_by_label("Training digits (0 = all)")
    size.fill("4000")  # long enough (about 8 s here) to check the page while it trains
    size.press("Enter")
    page.wait_for_timeout(800)
    page.get_by_role("button", name=re.compile("Start training")).click()
    progress = page.locator("[data-testid='stProgress'] [role='progressbar']").first
    progress.wait_for(timeout=90_000)
    values, busy_shown = [], False
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and len(set(values)) < 3:
        if page.get_by_text("Test accuracy").count():
            break
        value = progress.get_attribute("aria-valuenow") if progress.count() else None
        if value is not None:
            values.append(float(value))
            busy_shown = busy_shown or page.get_by_text("Server: 1/1 workers busy").count() > 0
        page.wait_for_timeout(400)
    # Started before the workers were ready, the page says which data they use once they are.
    try:
        page.get_by_text("loading in the training workers").wait_for(state="detached", timeout=15_000)
        data_said = True
    except PlaywrightTimeout:
        data_said = False
    stop_enabled = page.get_by_text("Test accuracy").count() == 0 and \
        page.get_by_role("button", name=re.compile("Stop")).is_enabled()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "training_live.png"), full_page=True)
    page.get_by_text("Test accuracy").first.wait_for(timeout=180_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "training_results.png"), full_page=True)
    yield LiveTraining(page, values, busy_shown, data_said, stop_enabled)
    page.context.close()


def test_training_progress_moves_forward_live_and_the_server_line_follows_it(live_training):
    assert len(set(live_training.progress)) >= 2, live_training.progress  # it moved while training
    assert live_training.progress == sorted(live_training.progress), live_training.progress  # only forward
    assert live_training.busy_shown  # the server line follows the training, not the moment Start was pressed
    assert live_training.data_said
    assert live_training.stop_enabled  # ...while it still trains


def test_the_results_draw_four_charts(live_training):
    # Loss, accuracy, per digit and the confusion matrix, each with its marks drawn.
    page = live_training.page
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] canvas, "
                           "[data-testid='stVegaLiteChart'] svg\").length >= 4", timeout=30_000)
    assert page.get_by_test_id("stVegaLiteChart").count() == 4


def test_the_downloaded_model_scores_in_plain_python_what_the_page_says(live_training, tmp_path):
    page = live_training.page
    shown = page.locator("[data-testid='stMetric']").filter(has_text="Test accuracy")
    shown_accuracy = shown.locator("[data-testid='stMetricValue']").inner_text().strip()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name=re.compile("Download the trained model")).click()
    assert download.value.suggested_filename == "mnist_sequential.keras"
    model_file = tmp_path / download.value.suggested_filename
    download.value.save_as(model_file)
    scored = subprocess.run([sys.executable, "-c", SCORE_DOWNLOADED_MODEL, str(model_file)], cwd=ROOT,
                            capture_output=True, text=True, timeout=180)
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert scored.stdout.strip() == shown_accuracy


def test_drawing_with_the_mouse_shows_a_prediction_and_the_probability_chart(app_url, page):
    canvas = open_draw_page_with_a_model(page, app_url)
    box = canvas.bounding_box()
    # A "7": a top bar, then a long diagonal down to the left.
    points = [(0.30, 0.25), (0.72, 0.25), (0.62, 0.45), (0.52, 0.65), (0.45, 0.85)]
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=12)
    page.mouse.up()
    model_reads(page).wait_for(timeout=30_000)
    page.get_by_text("What the model thinks").first.wait_for(timeout=30_000)  # the Altair chart's title
    reading = page.locator("[data-testid='stMetricValue']").first.inner_text()
    assert reading.strip() in [str(digit) for digit in range(10)]
    page.wait_for_timeout(1000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "draw_page.png"), full_page=True)
    # Clear really clears: the prediction goes, and the next stroke starts on a blank canvas.
    page.get_by_role("button", name="Clear").click()
    model_reads(page).wait_for(state="detached", timeout=30_000)
    page.get_by_text("Draw a digit on the black square").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    box = canvas.bounding_box()  # the layout has settled since the first stroke
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.15 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.85 * box["height"], steps=12)
    page.mouse.up()
    model_reads(page).wait_for(timeout=30_000)
    assert page.locator("[data-testid='stMetricValue']").first.inner_text().strip() == "1"


def test_train_all_three_fills_the_results_table(app_url, page):
    page.goto(app_url + "/compare")
    page.get_by_role("button", name="Train all three").wait_for(timeout=60_000)
    for label, value in (("Epochs", "1"), ("Training digits (0 = all)", "1000")):
        field = page.get_by_role("spinbutton", name=label)
        field.fill(value)
        field.press("Enter")
        page.wait_for_timeout(500)
    page.get_by_role("button", name="Train all three").click()
    page.get_by_text(re.compile(r"Same seed \(\d+\) → identical")).wait_for(timeout=240_000)
    table = page.locator("[data-testid='stTable']").first
    table.wait_for(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "compare_page.png"), full_page=True)
    grid_text = table.inner_text()
    for way in ("Sequential API", "Functional API", "Model subclassing"):
        assert way in grid_text


def test_the_class_network_one_browser_trained_is_ready_at_once_in_another(app_url, browser):
    teacher = browser.new_context().new_page()
    open_draw_page_with_a_model(teacher, app_url)
    student = browser.new_context().new_page()
    student.goto(app_url + "/draw")
    # The network for drawings is the class's: another browser draws with it at once, nothing to press.
    student.locator("canvas.upper-canvas").first.wait_for(timeout=60_000)
    assert student.get_by_role("button", name=re.compile("Train the network for drawings now")).count() == 0
    teacher.context.close()
    student.context.close()
