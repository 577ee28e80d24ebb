"""Comparing trained results and what they mean.

- the three ways: which source lines differ, whether runs with the same seed are identical
  (`same_seed_check`), how much the seed moves test accuracy (`seed_spread`);
- one model on two sets of digits: MNIST's test digits against a class's own drawings
  (`accuracy_gap`).

The pages show these verdicts; they never decide them.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

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


def seeds_from(first: int, count: int) -> list[int]:
    """The seeds "Train all three" uses for `count` seeds per way: first, first + 1, …

    Args:
        first: the network's seed.
        count: how many seeds per way.

    Returns:
        `count` distinct valid seeds, counting on from `first` and wrapping round past the largest
        seed a spec accepts (so a seed at the top of its range still trains).
    """
    from kerasways.spec import MAX_SEED, SEED_RANGE

    return [SEED_RANGE[0] + (first - SEED_RANGE[0] + offset) % (MAX_SEED + 1 - SEED_RANGE[0])
            for offset in range(count)]


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


@dataclass(frozen=True)
class SameSeedCheck:
    """How far apart runs of the same network, seed and settings ended, written different ways."""

    seed: int
    runs: int  # how many runs were compared (one per way)
    loss_gap: float  # the largest difference of any batch's training loss between two of them
    weight_gap: float  # ... of any final weight
    accuracy_gap: float  # ... of test accuracy (a fraction)

    @property
    def identical(self) -> bool:
        """True when the runs took exactly the same steps: not a single bit differs in loss, weights or accuracy."""
        return self.loss_gap == self.weight_gap == self.accuracy_gap == 0


def same_seed_check(runs: Sequence) -> SameSeedCheck | None:
    """Compare the trained runs that share the lowest seed among `runs` (a "Train all three" group).

    Args:
        runs: trained runs, each with `.spec.seed` and a `.result` holding `.history.batch_loss`,
            `.weights` and `.evaluation.accuracy` (as `runs.Run` does).

    Returns:
        The largest differences between any two of them, or None when fewer than two runs share that seed.
    """
    if not runs:
        return None
    seed = min(run.spec.seed for run in runs)
    same = [run.result for run in runs if run.spec.seed == seed]
    if len(same) < 2:
        return None
    pairs = list(itertools.combinations(same, 2))
    return SameSeedCheck(
        seed=seed,
        runs=len(same),
        loss_gap=max(max_abs_difference(a.history.batch_loss, b.history.batch_loss) for a, b in pairs),
        weight_gap=max(max_abs_difference(a.weights, b.weights) for a, b in pairs),
        accuracy_gap=max(abs(a.evaluation.accuracy - b.evaluation.accuracy) for a, b in pairs),
    )


@dataclass(frozen=True)
class WaySpread:
    """Test accuracy of one way's runs over several seeds."""

    style: str
    runs: int
    mean: float
    std: float  # sample standard deviation, 0 for a single run


@dataclass(frozen=True)
class SeedSpread:
    """How much the seed moves test accuracy, against how much the way does."""

    ways: tuple[WaySpread, ...]  # in the order of `styles`, ways without runs left out
    accuracy_range: float  # highest minus lowest test accuracy of all runs
    means_gap: float  # highest minus lowest of the ways' mean accuracies


def seed_spread(runs: Sequence, styles: Sequence[str]) -> SeedSpread | None:
    """Test accuracy per way over the seeds of `runs`.

    Args:
        runs: trained runs, each with `.style`, `.spec.seed` and `.result.evaluation.accuracy`.
        styles: the ways, in the order to report them.

    Returns:
        The spread, or None when the runs do not cover more than one seed.
    """
    if len({run.spec.seed for run in runs}) < 2:
        return None
    ways = []
    for style in styles:
        values = [run.result.evaluation.accuracy for run in runs if run.style == style]
        if values:
            ways.append(WaySpread(style, len(values), *mean_and_std(values)))
    accuracies = [run.result.evaluation.accuracy for run in runs]
    means = [way.mean for way in ways]
    return SeedSpread(tuple(ways), max(accuracies) - min(accuracies), max(means) - min(means))


# A model reads other digits "about as well" as MNIST's test digits within this many percentage
# points. A class's collection is small: at 90% accuracy, the standard error on 100 drawings is
# 3 points (sqrt(0.9 × 0.1 / 100)), so smaller gaps say little about the model.
SAME_ACCURACY_POINTS = 5.0


class Transfer(enum.Enum):
    """How a model's skill on MNIST's test digits carries over to other digits."""

    WORSE = "worse"
    ABOUT_THE_SAME = "about the same"
    BETTER = "better"


@dataclass(frozen=True)
class AccuracyGap:
    """A model's accuracy on other digits against its accuracy on MNIST's test digits."""

    points: float  # other minus MNIST, in percentage points: negative when the other digits are read worse
    transfer: Transfer


def accuracy_gap(mnist_accuracy: float, other_accuracy: float) -> AccuracyGap:
    """Whether a model reads other digits (e.g. a class's drawings) worse, as well or better than MNIST's.

    Args:
        mnist_accuracy: its accuracy on MNIST's test digits, a fraction.
        other_accuracy: its accuracy on the other digits, a fraction.

    Returns:
        The gap in percentage points and what it means (beyond SAME_ACCURACY_POINTS either way).
    """
    points = (other_accuracy - mnist_accuracy) * 100
    # Rounded first: 0.90 - 0.85 is 5.000000000000004 points in floating point, and it is 5.
    rounded = round(points, 9)
    if rounded < -SAME_ACCURACY_POINTS:
        return AccuracyGap(points, Transfer.WORSE)
    if rounded > SAME_ACCURACY_POINTS:
        return AccuracyGap(points, Transfer.BETTER)
    return AccuracyGap(points, Transfer.ABOUT_THE_SAME)
