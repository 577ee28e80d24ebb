"""Charts as pure functions of plain data (lists and numpy arrays).

Each chart is a `Chart`: a Vega-Lite spec, written with Altair, that depends only on the
chart's shape (which metric, how many epochs), and the data it draws. Streamlit's front end
keeps a chart whose spec is unchanged and swaps in the new data, so a live curve or a new
drawing's probabilities update in place instead of the chart being rebuilt (an Altair chart
with data inside gets a new spec, and a new chart, on every update). The specs are built once
and cached: building and validating an Altair chart costs far more than the update itself.

Every scale has an explicit domain. A domain computed from the data is an extent over the rows
of each layer, and a layer without rows yet (a chart drawn before training sends anything, the
epoch points before the first epoch ends) makes Vega warn "Infinite extent" on every redraw.
The loss axis, whose top depends on the data, steps through a few round ceilings instead: its
spec changes only on the rare update that crosses one.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
from scipy.signal import lfilter

from kerasways.formats import PERCENT_FORMAT
from kerasways.i18n import N_, SOURCE_LANGUAGE, Translator, check_language, translator
from kerasways.spec import STYLE_TITLES

MAX_POINTS = 400  # per line: enough for a smooth curve, small enough to send twice a second
STYLE_COLORS = {"sequential": "#d1495b", "functional": "#00798c", "subclassing": "#edae49"}
EPOCH_POINT_KINDS = ["training", "validation"]
DIGITS = list(range(10))
# A fresh 10-class model starts near ln(10) ≈ 2.3 (chance), so most loss curves fit under the
# first ceiling and keep one spec from the first batch to the last.
LOSS_CEILINGS_START = 2.5
VALUE_FORMATS = {"loss": ".4f", "accuracy": PERCENT_FORMAT}
# Chinese read turned 90° is hard to read: its y-axis titles stand upright, at the top of the axis.
UPRIGHT_TITLE_LANGUAGES = frozenset({"zh"})
UPRIGHT_Y_TITLE = {"titleAngle": 0, "titleAnchor": "end", "titleAlign": "left", "titleBaseline": "bottom",
                   "titleX": 0, "titleY": -8}
# Digits under an axis read upright (Vega-Lite turns the labels of a discrete axis by default).
DIGIT_LABELS = alt.Axis(labelAngle=0)
# Words the charts draw from data values (a legend's entries, an axis' title), marked for translation.
METRIC_WORDS = {"loss": N_("loss"), "accuracy": N_("accuracy")}
KIND_WORDS = {"training": N_("training"), "validation": N_("validation")}


def _field_title(_: Translator, field: str) -> dict:
    """A tooltip's or axis' title for a field named by its English word: none in English (Vega-Lite
    shows the field name, the English word itself), the translation otherwise."""
    return {} if _.lang == SOURCE_LANGUAGE else {"title": _(field)}


def _legend_labels(_: Translator, words: dict[str, str]) -> dict:
    """A legend that shows data values in the page's language (the values themselves in English)."""
    if _.lang == SOURCE_LANGUAGE:
        return {}
    expression = "datum.label"
    for value, word in words.items():
        label = _(word).replace("\\", "\\\\").replace("'", "\\'")
        expression = f"datum.label == '{value}' ? '{label}' : ({expression})"
    return {"legend": alt.Legend(labelExpr=expression)}


@dataclass(frozen=True)
class Chart:
    """A Vega-Lite spec without data, and the data it draws (given to Streamlit separately)."""

    spec: dict
    data: pd.DataFrame


def _spec(chart: alt.TopLevelMixin, lang: str) -> str:
    """An Altair chart without data as Vega-Lite JSON (a string, so each use gets its own dict).

    Altair gives a chart without data an empty dataset, in every layer; that is removed, so
    every layer draws the data given with the spec. In languages written in upright characters
    the y axis' title stands upright above the axis instead of turned along it.
    """
    spec = chart.to_dict()
    spec.pop("datasets", None)
    for view in [spec, *spec.get("layer", [])]:
        view.pop("data", None)
    if lang in UPRIGHT_TITLE_LANGUAGES:
        spec.setdefault("config", {})["axisY"] = UPRIGHT_Y_TITLE
    return json.dumps(spec)


def _chart(spec_json: str, data: pd.DataFrame) -> Chart:
    return Chart(spec=json.loads(spec_json), data=data)


def loss_ceiling(values) -> float:
    """The top of the loss axis: the smallest round number (1, 2, 2.5 or 5 × 10^k) that holds every
    finite value, and never below LOSS_CEILINGS_START.

    Args:
        values: the loss values the chart draws (NaN and infinite ones are ignored).

    Returns:
        The axis maximum.
    """
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    highest = float(finite.max()) if finite.size else 0.0
    if highest <= LOSS_CEILINGS_START:
        return LOSS_CEILINGS_START
    power = 10.0 ** math.floor(math.log10(highest))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= highest)


def _y_domain(metric: str, values) -> tuple[float, float]:
    return (0.0, 1.0) if metric == "accuracy" else (0.0, loss_ceiling(values))


def smooth(values: np.ndarray, weight: float = 0.97) -> np.ndarray:
    """Exponential moving average with bias correction (like TensorBoard's smoothing).

    Args:
        values: raw per-batch values.
        weight: how much of the past to keep, from 0 (no smoothing) to below 1.

    Returns:
        The smoothed values, same length.
    """
    values = np.asarray(values, dtype=np.float64)
    running = lfilter([1 - weight], [1, -weight], values)  # running = weight·running + (1 − weight)·value
    return running / (1 - weight ** np.arange(1, len(values) + 1))


def _thin(length: int) -> np.ndarray:
    if length <= MAX_POINTS:
        return np.arange(length)
    return np.unique(np.linspace(0, length - 1, MAX_POINTS).astype(int))


def batch_frame(losses, accuracies, steps_per_epoch: int, series: str = "") -> pd.DataFrame:
    """Long-form per-batch data (raw and smoothed), thinned to at most MAX_POINTS per line.

    Args:
        losses, accuracies: per-batch values.
        steps_per_epoch: converts the batch index to an epoch position on the x axis.
        series: label for this run (e.g. a style) when several are overlaid.

    Returns:
        Columns: epoch, metric ("loss"/"accuracy"), kind ("raw"/"smoothed"), value, series.
    """
    parts = []
    for metric, values in (("loss", losses), ("accuracy", accuracies)):
        values = np.asarray(values, dtype=np.float64)
        if len(values) == 0:
            continue
        keep = _thin(len(values))
        epoch = (keep + 1) / max(steps_per_epoch, 1)
        for kind, data in (("raw", values), ("smoothed", smooth(values))):
            parts.append(pd.DataFrame({"epoch": epoch, "metric": metric, "kind": kind,
                                       "value": data[keep], "series": series}))
    if not parts:
        return pd.DataFrame(columns=["epoch", "metric", "kind", "value", "series"])
    return pd.concat(parts, ignore_index=True)


def epoch_frame(points: list[dict], series: str = "") -> pd.DataFrame:
    """Per-epoch training and validation points in long form (metric, split, value)."""
    rows = []
    for point in points:
        for metric in ("loss", "accuracy"):
            rows.append({"epoch": point["epoch"], "metric": metric, "split": "training",
                         "value": point[metric], "series": series})
            if point.get(f"val_{metric}") is not None and np.isfinite(point[f"val_{metric}"]):
                rows.append({"epoch": point["epoch"], "metric": metric, "split": "validation",
                             "value": point[f"val_{metric}"], "series": series})
    return pd.DataFrame(rows, columns=["epoch", "metric", "split", "value", "series"])


def training_curves(batches: pd.DataFrame, epochs: pd.DataFrame, total_epochs: int,
                    lang: str = SOURCE_LANGUAGE) -> list[Chart]:
    """Loss and accuracy charts: raw batches faint, smoothed solid, epoch points on top.

    Args:
        batches: from `batch_frame`.
        epochs: from `epoch_frame`.
        total_epochs: fixes the x axis so the curve grows into it.
        lang: the language of titles, axis titles, legends and tooltips.

    Returns:
        [loss chart, accuracy chart], to be shown side by side.
    """
    charts = []
    for metric in ("loss", "accuracy"):
        lines = batches.loc[batches["metric"] == metric, ["epoch", "kind", "value"]]
        points = epochs.loc[epochs["metric"] == metric, ["epoch", "split", "value"]].rename(columns={"split": "kind"})
        data = pd.concat([lines, points], ignore_index=True) if len(points) else lines.reset_index(drop=True)
        charts.append(_chart(_curve_spec(metric, float(total_epochs), _y_domain(metric, data["value"]),
                                         check_language(lang)), data))
    return charts


@functools.lru_cache(maxsize=64)
def _curve_spec(metric: str, total_epochs: float, y_domain: tuple[float, float], lang: str) -> str:
    _ = translator(lang)
    x = alt.X("epoch:Q", title=_("epoch"), scale=alt.Scale(domain=[0, total_epochs]))
    y = alt.Y("value:Q", title=_(METRIC_WORDS[metric]), scale=alt.Scale(domain=list(y_domain)))
    value_format = VALUE_FORMATS[metric]
    kind = alt.datum.kind
    raw = alt.Chart().transform_filter(kind == "raw").mark_line(opacity=0.25, strokeWidth=1, clip=True).encode(
        x=x, y=y)
    smoothed = alt.Chart().transform_filter(kind == "smoothed").mark_line(strokeWidth=2.5, clip=True).encode(
        x=x, y=y, tooltip=[alt.Tooltip("epoch:Q", format=".2f", **_field_title(_, N_("epoch"))),
                           alt.Tooltip("value:Q", format=value_format, **_field_title(_, N_("value")))])
    points = alt.Chart().transform_filter(alt.FieldOneOfPredicate(field="kind", oneOf=EPOCH_POINT_KINDS)).mark_point(
        size=70, filled=True, clip=True).encode(
        x=x, y=y,
        shape=alt.Shape("kind:N", title=_("per epoch"), scale=alt.Scale(domain=EPOCH_POINT_KINDS,
                                                                        range=["circle", "square"]),
                        **_legend_labels(_, KIND_WORDS)),
        color=alt.Color("kind:N", title=_("per epoch"), scale=alt.Scale(domain=EPOCH_POINT_KINDS,
                                                                        range=["#333333", "#d1495b"]),
                        **_legend_labels(_, KIND_WORDS)),
        tooltip=[alt.Tooltip("kind:N", title=_("split")), alt.Tooltip("epoch:Q", **_field_title(_, N_("epoch"))),
                 alt.Tooltip("value:Q", format=value_format, **_field_title(_, N_("value")))],
    )
    title = _("Loss (lower is better)") if metric == "loss" else _("Accuracy")
    return _spec(alt.layer(raw, smoothed, points).properties(title=title, height=260), lang)


def overlay_curves(batches: pd.DataFrame, metric: str, total_epochs: float, lang: str = SOURCE_LANGUAGE) -> Chart:
    """Smoothed curves of several runs on one chart, one colour per way (titles and legend in `lang`)."""
    data = batches.loc[(batches["metric"] == metric) & (batches["kind"] == "smoothed"), ["epoch", "value", "series"]]
    return _chart(_overlay_spec(metric, float(total_epochs), _y_domain(metric, data["value"]), check_language(lang)),
                  data.reset_index(drop=True))


@functools.lru_cache(maxsize=64)
def _overlay_spec(metric: str, total_epochs: float, y_domain: tuple[float, float], lang: str) -> str:
    _ = translator(lang)
    title = N_("Training loss (smoothed)") if metric == "loss" else N_("Training accuracy (smoothed)")
    return _spec(alt.Chart().mark_line(strokeWidth=2, opacity=0.8, clip=True).encode(
        x=alt.X("epoch:Q", scale=alt.Scale(domain=[0, total_epochs]), **_field_title(_, N_("epoch"))),
        y=alt.Y("value:Q", title=_(METRIC_WORDS[metric]), scale=alt.Scale(domain=list(y_domain))),
        color=alt.Color("series:N", title=_("way"), scale=alt.Scale(domain=list(STYLE_COLORS),
                                                                    range=list(STYLE_COLORS.values())),
                        **_legend_labels(_, STYLE_TITLES)),
        # Same field, title and domain as the colour: Vega-Lite draws one legend with both
        # (a legend switched off here would switch off the merged one too).
        strokeDash=alt.StrokeDash("series:N", title=_("way"), scale=alt.Scale(domain=list(STYLE_COLORS)),
                                  **_legend_labels(_, STYLE_TITLES)),
    ).properties(height=260, title=_(title)), lang)


def confusion_heatmap(confusion: np.ndarray, lang: str = SOURCE_LANGUAGE) -> Chart:
    """10×10 heatmap (rows true digit, columns prediction) with the counts written in.

    A cell's colour is its share of the true digit's test images, so rows of different sizes
    compare and the colour scale needs no maximum from the data.
    """
    confusion = np.asarray(confusion)
    totals = confusion.sum(axis=1)
    share = np.divide(confusion, totals[:, None], out=np.zeros(confusion.shape), where=totals[:, None] > 0)
    rows = [{"true": t, "predicted": p, "count": int(confusion[t, p]), "share": float(share[t, p]),
             "dark": bool(share[t, p] > 0.5)} for t in DIGITS for p in DIGITS]
    return _chart(_confusion_spec(check_language(lang)), pd.DataFrame(rows))


@functools.lru_cache(maxsize=8)
def _confusion_spec(lang: str) -> str:
    _ = translator(lang)
    base = alt.Chart().encode(
        x=alt.X("predicted:O", title=_("predicted digit"), scale=alt.Scale(domain=DIGITS), axis=DIGIT_LABELS),
        y=alt.Y("true:O", title=_("true digit"), scale=alt.Scale(domain=DIGITS)),
    )
    cells = base.mark_rect().encode(
        # The square root keeps a few confusions visible next to a full diagonal.
        color=alt.Color("share:Q", scale=alt.Scale(scheme="blues", type="sqrt", domain=[0, 1]), legend=None),
        tooltip=["true:O", "predicted:O", "count:Q",
                 alt.Tooltip("share:Q", title=_("share of this digit"), format=PERCENT_FORMAT)]
        if lang == SOURCE_LANGUAGE else
        [alt.Tooltip("true:O", title=_("true digit")), alt.Tooltip("predicted:O", title=_("predicted digit")),
         alt.Tooltip("count:Q", title=_("count")),
         alt.Tooltip("share:Q", title=_("share of this digit"), format=PERCENT_FORMAT)],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("count:Q"),
        color=alt.condition(alt.datum.dark, alt.value("white"), alt.value("#333333")),
    )
    return _spec(alt.layer(cells, text).properties(height=330, title=_("Confusion matrix (test digits)")), lang)


def per_class_bars(per_class_accuracy: np.ndarray, lang: str = SOURCE_LANGUAGE) -> Chart:
    """Test accuracy for each digit as bars (titles in `lang`)."""
    data = pd.DataFrame({"digit": list(range(10)), "accuracy": np.nan_to_num(per_class_accuracy)})
    return _chart(_per_class_spec(check_language(lang)), data)


@functools.lru_cache(maxsize=8)
def _per_class_spec(lang: str) -> str:
    _ = translator(lang)
    return _spec(alt.Chart().mark_bar(color="#00798c").encode(
        x=alt.X("digit:O", scale=alt.Scale(domain=DIGITS), axis=DIGIT_LABELS, **_field_title(_, N_("digit"))),
        y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"),
                **_field_title(_, N_("accuracy"))),
        tooltip=[alt.Tooltip("digit:O", **_field_title(_, N_("digit"))),
                 alt.Tooltip("accuracy:Q", format=PERCENT_FORMAT, **_field_title(_, N_("accuracy")))]
        if lang != SOURCE_LANGUAGE else ["digit:O", alt.Tooltip("accuracy:Q", format=PERCENT_FORMAT)],
    ).properties(height=330, title=_("Accuracy per digit (test digits)")), lang)


def probability_bars(probabilities: np.ndarray, lang: str = SOURCE_LANGUAGE) -> Chart:
    """The ten class probabilities as bars, the top one highlighted (titles in `lang`)."""
    top = int(np.argmax(probabilities))
    data = pd.DataFrame({"digit": list(range(10)), "probability": np.asarray(probabilities, dtype=float),
                         "top": [digit == top for digit in range(10)]})
    return _chart(_probability_spec(check_language(lang)), data)


@functools.lru_cache(maxsize=8)
def _probability_spec(lang: str) -> str:
    _ = translator(lang)
    return _spec(alt.Chart().mark_bar().encode(
        x=alt.X("digit:O", scale=alt.Scale(domain=DIGITS), axis=DIGIT_LABELS, **_field_title(_, N_("digit"))),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"),
                **_field_title(_, N_("probability"))),
        color=alt.condition(alt.datum.top, alt.value("#d1495b"), alt.value("#9aa5b1")),
        tooltip=[alt.Tooltip("digit:O", **_field_title(_, N_("digit"))),
                 alt.Tooltip("probability:Q", format=PERCENT_FORMAT, **_field_title(_, N_("probability")))]
        if lang != SOURCE_LANGUAGE else ["digit:O", alt.Tooltip("probability:Q", format=PERCENT_FORMAT)],
    ).properties(height=220, title=_("What the model thinks")), lang)
