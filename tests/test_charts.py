"""Charts: valid Vega-Lite, the right data, and a spec that stays put so updates draw in place."""

import inspect
import re

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


def drawn_by_each_builder(lang: str = "en") -> dict[str, list[charts.Chart]]:
    """Every chart builder of kerasways.charts, by name, with the charts it draws from example data."""
    probabilities = np.full(10, 0.02)
    probabilities[7] = 0.82
    confusion = np.diag(np.full(10, 90)) + 1
    overlay = charts.batch_frame(np.linspace(2, 0.3, 50), np.linspace(0.1, 0.9, 50), 25, series="functional")
    rng = np.random.default_rng(0)
    return {
        "probability_bars": [charts.probability_bars(probabilities, lang)],
        "per_class_bars": [charts.per_class_bars(np.linspace(0.8, 0.99, 10), lang)],
        "confusion_heatmap": [charts.confusion_heatmap(confusion, lang)],
        "overlay_curves": [charts.overlay_curves(overlay, metric, 2, lang) for metric in ("loss", "accuracy")],
        "training_curves": charts.training_curves(charts.batch_frame(rng.random(250), rng.random(250), 100),
                                                  charts.epoch_frame([]), 3, lang),
    }


def drawn_before_any_data() -> dict[str, list[charts.Chart]]:
    """The live charts as a page draws them before training has sent anything."""
    nothing = charts.batch_frame([], [], 100)
    return {"overlay_curves": [charts.overlay_curves(nothing, metric, 3) for metric in ("loss", "accuracy")],
            "training_curves": charts.training_curves(nothing, charts.epoch_frame([]), 3)}


def chart_builders() -> set[str]:
    """The public functions of kerasways.charts that return a Chart or a list of them."""
    return {name for name, function in vars(charts).items()
            if inspect.isfunction(function) and function.__module__ == charts.__name__ and not name.startswith("_")
            and re.fullmatch(r"(list\[)?Chart\]?", str(inspect.signature(function).return_annotation))}


BUILDERS = sorted(drawn_by_each_builder())
LIVE_BUILDERS = sorted(drawn_before_any_data())  # the charts a page shows before a training sends data
DIGIT_CHARTS = ("probability_bars", "per_class_bars", "confusion_heatmap")  # a digit under each column


def every_chart(lang: str = "en") -> list[charts.Chart]:
    return [chart for drawn in drawn_by_each_builder(lang).values() for chart in drawn]


def test_every_chart_builder_is_tested():
    assert set(BUILDERS) == chart_builders()
    assert set(LIVE_BUILDERS) <= chart_builders()


SCALED_CHANNELS = ("x", "y", "color", "shape", "strokeDash", "size", "opacity")


def views(spec: dict) -> list[dict]:
    return [spec, *spec.get("layer", [])]


@pytest.mark.parametrize("builder", BUILDERS)
def test_every_chart_is_valid_vega_lite_once_its_data_is_attached(builder):
    for chart in drawn_by_each_builder()[builder]:
        assert "data" not in chart.spec and "datasets" not in chart.spec  # the data travels separately
        assert_valid_vega_lite(chart)


def test_chinese_y_axis_titles_stand_upright_and_english_ones_run_along_the_axis():
    for chart in every_chart("zh"):
        assert chart.spec["config"]["axisY"]["titleAngle"] == 0
        assert_valid_vega_lite(chart)
    assert all("axisY" not in chart.spec.get("config", {}) for chart in every_chart("en"))


def test_the_digits_under_bar_charts_and_the_confusion_matrix_read_upright():
    drawn = drawn_by_each_builder()
    for chart in [chart for builder in DIGIT_CHARTS for chart in drawn[builder]]:
        x = next(view["encoding"]["x"] for view in views(chart.spec) if "encoding" in view)
        assert x["axis"]["labelAngle"] == 0


@pytest.mark.parametrize(("builder", "when"), [*((builder, "with data") for builder in BUILDERS),
                                               *((builder, "before any data") for builder in LIVE_BUILDERS)])
def test_no_scale_takes_its_domain_from_the_data(builder, when):
    """An extent over a layer with no rows is what makes Vega warn "Infinite extent" in the browser."""
    drawn = drawn_by_each_builder() if when == "with data" else drawn_before_any_data()
    for chart in drawn[builder]:
        assert_every_scale_has_its_own_domain(chart)


def assert_valid_vega_lite(chart: charts.Chart) -> None:
    """Raises unless the spec, its data attached, is valid Vega-Lite: one check of the whole spec
    against the schema (Altair's `from_dict` would check every nested object again on its own)."""
    (alt.LayerChart if "layer" in chart.spec else alt.Chart).validate(attach(chart))


def assert_every_scale_has_its_own_domain(chart: charts.Chart) -> None:
    assert_valid_vega_lite(chart)
    scaled = [(name, channel) for view in views(chart.spec) for name, channel in view.get("encoding", {}).items()
              if name in SCALED_CHANNELS and "field" in channel]
    assert scaled
    for name, channel in scaled:
        domain = channel.get("scale", {}).get("domain")
        assert isinstance(domain, list) and domain, (name, channel)
        if channel["type"] == "quantitative":
            low, high = domain
            values = chart.data[channel["field"]]
            assert low <= values.min() and values.max() <= high if len(values) else low < high


def test_the_loss_axis_grows_in_round_steps_and_ignores_what_is_not_finite():
    assert charts.loss_ceiling([]) == charts.LOSS_CEILINGS_START == 2.5
    assert charts.loss_ceiling([2.31, 0.4, 0.05]) == 2.5  # a usual training: one axis from start to end
    assert charts.loss_ceiling([3.1]) == 5 and charts.loss_ceiling([12.0]) == 20 and charts.loss_ceiling([250]) == 250
    assert charts.loss_ceiling([np.nan, np.inf, 2.0]) == 2.5


def test_a_diverging_loss_gets_a_taller_axis_and_keeps_it_while_it_stays_below():
    rising = [charts.training_curves(charts.batch_frame(np.linspace(2.2, top, 50), np.full(50, 0.1), 25),
                                     charts.epoch_frame([]), 2)[0] for top in (2.4, 3.5, 4.9)]
    domains = [chart.spec["layer"][0]["encoding"]["y"]["scale"]["domain"] for chart in rising]
    assert domains == [[0, 2.5], [0, 5], [0, 5]]
    assert rising[1].spec == rising[2].spec  # the update that stays under the ceiling draws in place


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


def test_the_confusion_colours_by_share_of_each_true_digit_and_writes_the_counts():
    confusion = np.diag([90, 900, 9, 0, 10, 10, 10, 10, 10, 10])
    confusion[2, 7] = 1  # one "2" of ten read as "7"
    data = charts.confusion_heatmap(confusion).data.set_index(["true", "predicted"])
    assert data.loc[(1, 1), "share"] == data.loc[(0, 0), "share"] == 1.0  # rows of different sizes compare
    assert data.loc[(2, 7), ["count", "share"]].tolist() == [1, 0.1] and data.loc[(2, 2), "share"] == 0.9
    assert data.loc[(3, 3), "share"] == 0.0  # a digit with no test images has no colour, not NaN
    assert data["dark"].sum() == 9 and not data.loc[(2, 7), "dark"]


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
