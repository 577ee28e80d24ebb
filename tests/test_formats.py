"""One way to write accuracies and counted nouns, wherever they appear."""

import math

import numpy as np
import pytest

from kerasways.formats import exact_number, percent, plural


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


@pytest.mark.parametrize(("value", "text"), [(0.1, "0.1"), (0.25, "0.25"), (1e-6, "0.000001"), (10.0, "10.0"),
                                             (0.0, "0.0"), (-0.0, "0.0"), (0.123456789, "0.123456789"), (3, "3"),
                                             (1 / 3, "0.3333333333333333")])
def test_an_exact_number_reads_back_as_the_same_float_and_never_has_an_exponent_or_minus_zero(value, text):
    assert exact_number(value) == text and float(text) == value


def test_an_exact_number_refuses_what_no_code_can_write():
    with pytest.raises(ValueError, match="expected a finite number"):
        exact_number(math.inf)
