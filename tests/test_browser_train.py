"""Pause, one epoch at a time and resume on the Train page, in a real browser: it stays one run."""

import re
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = pytest.mark.browser

# The loss chart (Vega-Lite draws it as SVG): how many segments its longest line has, and how many
# per-epoch points it marks.
LOSS_CHART_MARKS = """() => {
  const chart = [...document.querySelectorAll("[data-testid='stVegaLiteChart']")]
    .find(element => element.textContent.includes("Loss (lower is better)"));
  if (!chart) return null;
  const segments = [...chart.querySelectorAll(".mark-line path")]
    .map(path => ((path.getAttribute("d") || "").match(/L/g) || []).length);
  return {segments: Math.max(0, ...segments), points: chart.querySelectorAll(".mark-symbol path").length};
}"""


def run_ids(page) -> list[str]:
    """The run ids the address bar's share link carries (its `runs=` key, written just after the page ran)."""
    page.wait_for_url(re.compile(r"[?&]runs=[^&]"), timeout=10_000)
    value = parse_qs(urlparse(page.url).query).get("runs", [""])[0]
    return [run_id for run_id in value.split(",") if run_id]


BUTTONS = {"start": "▶ Start training", "pause": "⏸ Pause", "resume": "▶ Resume", "step": "⏭ One epoch",
           "stop": "■ Stop"}


def click(page, key: str) -> None:
    """Press the Train page's button (by its Streamlit key's label) once it is there and enabled."""
    page.get_by_role("button", name=BUTTONS[key], exact=True).click(timeout=60_000)  # waits until enabled


def test_one_epoch_twice_then_resume_trains_one_run_to_the_end(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app_url + "/train?epochs=3&digits=2000")
    page.get_by_text("Start training").first.wait_for(timeout=60_000)
    click(page, "step")
    page.get_by_text("Paused after epoch 1 of 3").wait_for(timeout=180_000)
    page.wait_for_function(f"() => ({LOSS_CHART_MARKS})() !== null", timeout=30_000)
    page.wait_for_timeout(500)  # Vega draws its marks just after the chart appears
    drawn = page.evaluate(LOSS_CHART_MARKS)
    assert drawn["segments"] >= 10 and drawn["points"] >= 1, drawn  # a loss curve over the batches, epoch 1 marked
    (first_id,) = run_ids(page)

    click(page, "step")
    page.get_by_text("Paused after epoch 2 of 3").wait_for(timeout=180_000)
    assert run_ids(page) == [first_id]

    click(page, "resume")
    page.get_by_text(re.compile(r"Trained 3 epochs")).wait_for(timeout=180_000)
    assert page.get_by_text("Paused").count() == 0
    assert run_ids(page) == [first_id]

    # The Draw page lists the models this session trained: the three epochs are one model.
    page.get_by_role("link", name="3 · Draw a digit").click()
    page.wait_for_url(re.compile("/draw"), timeout=30_000)
    page.get_by_role("combobox", name="Model that predicts").click(timeout=60_000)
    options = page.get_by_role("option")
    options.first.wait_for(timeout=10_000)
    entries = options.all_inner_texts()
    assert len(entries) == 1 and "Reference MLP" in entries[0], entries
    assert "paused" not in entries[0]
    assert run_ids(page) == [first_id]
    context.close()


def test_a_run_paused_mid_training_frees_the_worker_then_resumes_and_stops(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    # One digit per step, 360,000 steps: long enough to pause in (50 epochs of batches of 32 end
    # before a poll of the page sees epoch 2); it is stopped long before its end.
    page.goto(app_url + "/train?epochs=100&digits=4000&batch=1")
    page.get_by_text("Start training").first.wait_for(timeout=60_000)
    click(page, "start")
    page.get_by_text(re.compile(r"Epoch ([2-9]|\d\d)/100 · batch")).first.wait_for(timeout=180_000)
    (run_id,) = run_ids(page)
    click(page, "pause")
    paused = page.get_by_text(re.compile(r"Paused (in|after) epoch \d+ of 100"))
    paused.wait_for(timeout=60_000)
    paused_epoch = int(re.search(r"epoch (\d+) of", paused.inner_text()).group(1))
    page.get_by_text(re.compile(r"Server: 0/\d+ workers busy")).wait_for(timeout=30_000)  # the worker is free

    click(page, "resume")
    progress = page.get_by_text(re.compile(r"Epoch \d+/100 · batch")).first
    progress.wait_for(timeout=60_000)
    assert int(re.search(r"Epoch (\d+)/", progress.inner_text()).group(1)) >= paused_epoch  # it went on from there
    assert page.get_by_text(re.compile(r"Paused (in|after) epoch")).count() == 0
    click(page, "stop")
    stopped = page.get_by_text(re.compile("Stopped by request"))
    try:
        stopped.wait_for(timeout=30_000)
    except Exception:
        # On a loaded machine a click can land while the live part of the page is being redrawn, and
        # Streamlit then drops it; a user would press Stop again, and so does the test, once.
        if page.get_by_role("button", name=BUTTONS["stop"], exact=True).is_enabled():
            click(page, "stop")
        stopped.wait_for(timeout=60_000)
    assert run_ids(page) == [run_id]
    context.close()


def test_a_paused_run_in_a_link_stays_its_browsers_and_two_tabs_of_one_browser_train_one_at_a_time(app_url,
                                                                                                 browser):
    owner_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    owner = owner_context.new_page()
    owner.goto(app_url + "/train?epochs=3&digits=2000&seed=5")
    click(owner, "step")
    owner.get_by_text("Paused after epoch 1 of 3").wait_for(timeout=180_000)
    link = owner.url
    assert run_ids(owner)

    # Another student opens the owner's link (the page still open): the set-up, not the run.
    stranger_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    stranger = stranger_context.new_page()
    stranger.goto(link)
    stranger.get_by_text("started in another browser").first.wait_for(timeout=60_000)
    assert stranger.get_by_text("Paused after epoch 1 of 3").count() == 0
    assert stranger.get_by_role("button", name=BUTTONS["resume"], exact=True).count() == 0  # nothing to resume
    assert "seed 5" in stranger.get_by_text(re.compile(r"· seed 5")).first.inner_text()  # the same set-up
    stranger_context.close()

    # The owner's second tab is the same student: the run comes back, and one training at a time.
    second_tab = owner_context.new_page()
    second_tab.goto(app_url + "/train?epochs=30&digits=4000&seed=6")
    click(second_tab, "start")
    second_tab.get_by_role("button", name=BUTTONS["stop"], exact=True).wait_for(timeout=60_000)
    owner.reload()
    click(owner, "resume")
    owner.get_by_text("You already have a training running").first.wait_for(timeout=60_000)
    click(second_tab, "stop")
    owner_context.close()
