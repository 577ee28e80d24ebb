"""One way to write accuracies and counted nouns, wherever they appear."""

import math

import numpy as np
import pytest

from kerasways.formats import percent, plural


@pytest.mark.parametrize(("value", "text"), [(0.928, "92.80%"), (1, "100.00%"), (0.0, "0.00%"),
                                             (np.float32(0.9878), "98.78%"), (None, "—"), (math.nan, "—"),
                                             (np.float64("nan"), "—")])
def test_percent_writes_two_decimals_and_a_dash_when_there_is_no_value(value, text):
    assert percent(value) == text


@pytest.mark.parametrize(("count", "text"), [(1, "1 epoch"), (2, "2 epochs"), (0, "0 epochs"),
                                             (60000, "60,000 epochs")])
def test_plural_agrees_with_the_count(count, text):
    assert plural(count, "epoch") == text


def test_plural_takes_an_irregular_plural():
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"
