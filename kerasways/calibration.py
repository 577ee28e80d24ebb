"""Honest confidence: a trained model's probabilities calibrated on digits it did not train on.

The step is code users read (`codegen.calibration_source`, "why 99% isn't a promise"), and this module runs
exactly that text: one temperature fitted on the validation digits, folded into the last layer's weights, so
the model itself outputs the calibrated probabilities (the Draw page, the exported `.keras` file and the
downloaded code agree). Also the figures that say how honest probabilities are.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from kerasways.codegen import calibration_source

ECE_BINS = 15  # the usual number of equal-width confidence bins


@functools.lru_cache(maxsize=1)
def _steps() -> dict:
    import keras

    from kerasways.build import execute

    namespace = execute(calibration_source(), "<kerasways calibration>")
    namespace.update(keras=keras, np=np)
    return namespace


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The shown `fit_temperature`: the temperature that makes these probabilities most likely.

    Args:
        probabilities: N×10 softmax outputs on digits the model did not train on.
        labels: their N true digits.

    Returns:
        T (above 1 softens an overconfident model, below 1 sharpens a timid one).
    """
    return _steps()["fit_temperature"](np.asarray(probabilities, np.float64), np.asarray(labels))


def fold_temperature(model, temperature: float) -> None:
    """The shown `fold_temperature`: the model's last Dense layer takes the temperature (in place).

    Args:
        model: a keras.Model ending in a Dense softmax layer.
        temperature: from `fit_temperature`.
    """
    _steps()["fold_temperature"](model, temperature)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """How far the top probability is from the accuracy, averaged over confidence bins weighted by their size.

    Args:
        probabilities: N×10 probabilities.
        labels: N true digits.
        bins: equal-width bins of the top probability.

    Returns:
        From 0 (honest: 80% answers are right 80% of the time) to 1.
    """
    top = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(top, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for index in range(bins):
        members = which == index
        if members.any():
            error += members.mean() * abs(right[members].mean() - top[members].mean())
    return float(error)


@dataclass(frozen=True)
class Calibration:
    """What calibrating did, on the validation digits it was fitted on.

    Args:
        temperature: the fitted T.
        ece_before, ece_after: expected calibration error before and after.
        validation_digits: how many digits it was fitted on.
    """

    temperature: float
    ece_before: float
    ece_after: float
    validation_digits: int


def calibrate(model, x_val: np.ndarray, y_val: np.ndarray) -> Calibration | None:
    """Fit a temperature on validation digits and fold it into `model` (the shown code, step by step).

    Args:
        model: the trained keras.Model (changed in place).
        x_val: validation images, scaled to [0, 1].
        y_val: their labels.

    Returns:
        The Calibration, or None without validation digits (the model is left as it is).
    """
    if len(x_val) == 0:
        return None
    from kerasways.evaluate import predict_probabilities

    before = predict_probabilities(model, x_val)
    temperature = fit_temperature(before, y_val)
    fold_temperature(model, temperature)
    after = predict_probabilities(model, x_val)
    return Calibration(temperature, expected_calibration_error(before, y_val),
                       expected_calibration_error(after, y_val), len(x_val))
