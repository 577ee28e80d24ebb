"""Comparing the three ways: which source lines differ, and how different the trained results are."""

from __future__ import annotations

import numpy as np


def mark_differences(sources: dict[str, str]) -> dict[str, list[tuple[str, bool]]]:
    """Split each source into lines, marking the lines that are not common to all sources.

    A line counts as common when the same text (ignoring indentation) appears in every
    source; comments and blank lines are never marked.

    Args:
        sources: style → source text.

    Returns:
        style → [(line, differs)].
    """
    stripped = {style: {line.strip() for line in text.splitlines()} for style, text in sources.items()}
    common = set.intersection(*stripped.values()) if stripped else set()
    marked = {}
    for style, text in sources.items():
        marked[style] = [
            (line, bool(line.strip()) and not line.strip().startswith("#") and line.strip() not in common)
            for line in text.splitlines()
        ]
    return marked


def max_abs_difference(first: list[np.ndarray] | list[float], second: list[np.ndarray] | list[float]) -> float:
    """Largest absolute difference between two lists of arrays (or numbers) of the same shapes.

    Args:
        first, second: e.g. two models' `get_weights()`, or two per-batch loss histories.

    Returns:
        The maximum |a − b| over every element; inf if the shapes differ.
    """
    if len(first) != len(second):
        return float("inf")
    largest = 0.0
    for a, b in zip(first, second):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            return float("inf")
        if a.size:
            largest = max(largest, float(np.max(np.abs(a - b))))
    return largest


def mean_and_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0
