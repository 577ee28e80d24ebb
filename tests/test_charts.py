"""Charts: valid Vega-Lite, the right data, and a spec that stays put so updates draw in place."""

import altair as alt
import numpy as np
import pytest

from kerasways import charts


def attach(chart: charts.Chart) -> dict:
    """The spec with its data inlined, as the browser ends up drawing it."""
    return {**chart.spec, "data": {"values": chart.data.to_dict(orient="records")}}


def curves(batches: int, epochs_done: int, total_epochs: int = 3):
    rng = np.random.default_rng(batches)
    points = [{"epoch": epoch, "loss": 0.5 / epoch, "accuracy": 0.8, "val_loss": 0.6 / epoch, "val_accuracy": 0.75}
              for epoch in range(1, epochs_done + 1)]
    return charts.training_curves(charts.batch_frame(rng.random(batches), rng.random(batches), 100),
                                  charts.epoch_frame(points), total_epochs)


def every_chart() -> list[charts.Chart]:
    probabilities = np.full(10, 0.02)
    probabilities[7] = 0.82
    confusion = np.diag(np.full(10, 90)) + 1
    batches = charts.batch_frame(np.linspace(2, 0.3, 50), np.linspace(0.1, 0.9, 50), 25, series="functional")
    return [charts.probability_bars(probabilities), charts.per_class_bars(np.linspace(0.8, 0.99, 10)),
            charts.confusion_heatmap(confusion), charts.overlay_curves(batches, "loss", 2), *curves(250, 2)]


@pytest.mark.parametrize("index", range(6))
def test_every_chart_is_valid_vega_lite_once_its_data_is_attached(index):
    chart = every_chart()[index]
    assert "data" not in chart.spec and "datasets" not in chart.spec  # the data travels separately
    (alt.LayerChart if "layer" in chart.spec else alt.Chart).from_dict(attach(chart))  # raises if invalid


def test_a_new_drawing_changes_the_data_but_not_the_spec():
    first, second = np.eye(10)[3], np.eye(10)[8]
    one, two = charts.probability_bars(first), charts.probability_bars(second)
    assert one.spec == two.spec
    assert one.data.loc[one.data["top"], "digit"].tolist() == [3]
    assert two.data.loc[two.data["top"], "digit"].tolist() == [8]
    assert two.data["probability"].tolist() == second.tolist()


def test_live_curves_keep_their_spec_while_batches_and_epoch_points_arrive():
    early, late = curves(40, 0), curves(260, 2)
    assert [chart.spec for chart in early] == [chart.spec for chart in late]
    loss = late[0].data
    assert sorted(loss["kind"].unique()) == ["raw", "smoothed", "training", "validation"]
    assert loss.loc[loss["kind"] == "validation", "value"].tolist() == pytest.approx([0.6, 0.3])
    assert len(loss[loss["kind"] == "raw"]) == 260 and len(early[0].data[early[0].data["kind"] == "raw"]) == 40
    assert curves(40, 0, total_epochs=5)[0].spec != early[0].spec  # a longer training gets a longer axis


def test_smoothing_matches_the_running_average_it_describes():
    values = np.random.default_rng(0).random(500)
    expected, running = [], 0.0
    for index, value in enumerate(values):
        running = 0.9 * running + 0.1 * value
        expected.append(running / (1 - 0.9 ** (index + 1)))
    np.testing.assert_allclose(charts.smooth(values, weight=0.9), expected, rtol=1e-12)
    assert charts.smooth([4.0], weight=0.97)[0] == pytest.approx(4.0)  # bias-corrected from the first value


def test_the_overlay_names_each_way_in_one_legend_of_colour_and_dash():
    batches = charts.batch_frame(np.linspace(2, 0.3, 50), np.linspace(0.1, 0.9, 50), 25, series="functional")
    encoding = charts.overlay_curves(batches, "loss", 2).spec["encoding"]
    by_way = [channel for channel in encoding.values() if channel.get("field") == "series"]
    assert [channel["scale"]["domain"] for channel in by_way] == [list(charts.STYLE_COLORS)] * 2
    assert all(channel.get("legend", {}) is not None and channel["title"] == "way" for channel in by_way)
