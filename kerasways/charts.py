"""Altair charts, as pure functions of plain data (lists and numpy arrays)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

MAX_POINTS = 400  # per line: enough for a smooth curve, small enough to send twice a second
STYLE_COLORS = {"sequential": "#d1495b", "functional": "#00798c", "subclassing": "#edae49"}


def smooth(values: np.ndarray, weight: float = 0.97) -> np.ndarray:
    """Exponential moving average with bias correction (like TensorBoard's smoothing).

    Args:
        values: raw per-batch values.
        weight: how much of the past to keep, from 0 (no smoothing) to below 1.

    Returns:
        The smoothed values, same length.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    running = 0.0
    for index, value in enumerate(values):
        running = weight * running + (1 - weight) * value
        out[index] = running / (1 - weight ** (index + 1))
    return out


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


def training_curves(batches: pd.DataFrame, epochs: pd.DataFrame, total_epochs: int) -> list[alt.LayerChart]:
    """Loss and accuracy charts: raw batches faint, smoothed solid, epoch points on top.

    Args:
        batches: from `batch_frame`.
        epochs: from `epoch_frame`.
        total_epochs: fixes the x axis so the curve grows into it.

    Returns:
        [loss chart, accuracy chart], to be shown side by side.
    """
    charts = []
    for metric, title in (("loss", "Loss (lower is better)"), ("accuracy", "Accuracy")):
        x = alt.X("epoch:Q", title="epoch", scale=alt.Scale(domain=[0, total_epochs]))
        scale = alt.Scale(domain=[0, 1]) if metric == "accuracy" else alt.Scale(zero=True)
        data = batches[batches["metric"] == metric]
        raw = alt.Chart(data[data["kind"] == "raw"]).mark_line(opacity=0.25, strokeWidth=1).encode(
            x=x, y=alt.Y("value:Q", title=metric, scale=scale))
        smoothed = alt.Chart(data[data["kind"] == "smoothed"]).mark_line(strokeWidth=2.5).encode(
            x=x, y="value:Q", tooltip=[alt.Tooltip("epoch:Q", format=".2f"), alt.Tooltip("value:Q", format=".4f")])
        points = alt.Chart(epochs[epochs["metric"] == metric]).mark_point(size=70, filled=True).encode(
            x=x, y="value:Q",
            shape=alt.Shape("split:N", title="per epoch", scale=alt.Scale(domain=["training", "validation"],
                                                                          range=["circle", "square"])),
            color=alt.Color("split:N", title="per epoch", scale=alt.Scale(domain=["training", "validation"],
                                                                          range=["#333333", "#d1495b"])),
            tooltip=["split", "epoch", alt.Tooltip("value:Q", format=".4f")],
        )
        charts.append(alt.layer(raw, smoothed, points).properties(title=title, height=260))
    return charts


def overlay_curves(batches: pd.DataFrame, metric: str, total_epochs: float) -> alt.Chart:
    """Smoothed curves of several runs on one chart, one colour per way."""
    data = batches[(batches["metric"] == metric) & (batches["kind"] == "smoothed")]
    return alt.Chart(data).mark_line(strokeWidth=2, opacity=0.8).encode(
        x=alt.X("epoch:Q", scale=alt.Scale(domain=[0, total_epochs])),
        y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=metric == "loss")),
        color=alt.Color("series:N", title="way", scale=alt.Scale(domain=list(STYLE_COLORS),
                                                                 range=list(STYLE_COLORS.values()))),
        strokeDash=alt.StrokeDash("series:N", legend=None),
    ).properties(height=260, title=f"Training {metric} (smoothed)")


def confusion_heatmap(confusion: np.ndarray) -> alt.LayerChart:
    """10×10 heatmap of counts (rows true digit, columns prediction) with the counts written in."""
    rows = [{"true": t, "predicted": p, "count": int(confusion[t, p])} for t in range(10) for p in range(10)]
    data = pd.DataFrame(rows)
    base = alt.Chart(data).encode(
        x=alt.X("predicted:O", title="predicted digit"),
        y=alt.Y("true:O", title="true digit"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("count:Q", scale=alt.Scale(scheme="blues", type="symlog"), legend=None),
        tooltip=["true", "predicted", "count"],
    )
    threshold = float(confusion.max()) / 2 if confusion.size else 0.0
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("count:Q"),
        color=alt.condition(alt.datum.count > threshold, alt.value("white"), alt.value("#333333")),
    )
    return alt.layer(cells, text).properties(height=330, title="Confusion matrix (test digits)")


def per_class_bars(per_class_accuracy: np.ndarray) -> alt.Chart:
    """Test accuracy for each digit as bars."""
    data = pd.DataFrame({"digit": list(range(10)), "accuracy": np.nan_to_num(per_class_accuracy)})
    return alt.Chart(data).mark_bar(color="#00798c").encode(
        x=alt.X("digit:O"),
        y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1])),
        tooltip=["digit", alt.Tooltip("accuracy:Q", format=".1%")],
    ).properties(height=330, title="Accuracy per digit (test digits)")


def probability_bars(probabilities: np.ndarray) -> alt.Chart:
    """The ten class probabilities as bars, the top one highlighted."""
    top = int(np.argmax(probabilities))
    data = pd.DataFrame({"digit": list(range(10)), "probability": probabilities.astype(float),
                         "top": [digit == top for digit in range(10)]})
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("digit:O"),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.condition(alt.datum.top, alt.value("#d1495b"), alt.value("#9aa5b1")),
        tooltip=["digit", alt.Tooltip("probability:Q", format=".1%")],
    ).properties(height=220, title="What the model thinks")

