"""Honest confidence: one temperature, fitted on digits the model did not train on, folded into its last layer;
the shown calibration code is the code that runs."""

import numpy as np
import pytest

from kerasways import calibration
from kerasways.build import build_model
from kerasways.calibration import calibrate, expected_calibration_error, fit_temperature, fold_temperature
from kerasways.codegen import calibration_source
from kerasways.evaluate import predict_probabilities
from kerasways.spec import ModelSpec


def softmax(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def overconfident(count=4000, sharpen=4.0, seed=0):
    """Labels drawn from honest probabilities, and the probabilities of a model `sharpen` times too sure."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, (count, 10))
    honest = softmax(logits)
    labels = np.array([rng.choice(10, p=row) for row in honest])
    return softmax(logits * sharpen), labels


def test_the_temperature_undoes_overconfidence_and_the_error_falls():
    probabilities, labels = overconfident()
    temperature = fit_temperature(probabilities, labels)
    assert temperature == pytest.approx(4.0, rel=0.1)
    calibrated = softmax(np.log(probabilities) / temperature)
    assert expected_calibration_error(calibrated, labels) < expected_calibration_error(probabilities, labels) / 3
    np.testing.assert_array_equal(calibrated.argmax(axis=1), probabilities.argmax(axis=1))


def test_an_honest_model_keeps_its_probabilities():
    probabilities, labels = overconfident(sharpen=1.0)
    assert fit_temperature(probabilities, labels) == pytest.approx(1.0, rel=0.1)
    assert expected_calibration_error(probabilities, labels) < 0.05


@pytest.mark.parametrize("style", ["sequential", "functional", "subclassing"])
def test_folded_into_the_last_layer_the_model_itself_outputs_the_calibrated_probabilities(style):
    model = build_model(ModelSpec(seed=3), style)
    images = np.random.default_rng(0).random((50, 28, 28), dtype=np.float32)
    before = predict_probabilities(model, images)
    fold_temperature(model, 2.5)
    after = predict_probabilities(model, images)
    np.testing.assert_allclose(after, softmax(np.log(before.astype(np.float64)) / 2.5), atol=1e-5)
    np.testing.assert_array_equal(after.argmax(axis=1), before.argmax(axis=1))


def test_calibrate_fits_on_validation_digits_and_says_what_it_did(mnist):
    model = build_model(ModelSpec(seed=1), "functional")
    images, labels = mnist.x_test[:300].astype(np.float32) / 255.0, mnist.y_test[:300]

    def cross_entropy():
        return -np.log(predict_probabilities(model, images)[np.arange(len(labels)), labels]).mean()

    before = cross_entropy()
    done = calibrate(model, images, labels)
    assert done.validation_digits == 300 and done.temperature != 1.0
    assert cross_entropy() < before  # the model's own outputs are more likely on the digits it was fitted on
    assert calibrate(model, np.zeros((0, 28, 28), np.float32), np.zeros(0, int)) is None


def test_the_shown_calibration_code_is_the_code_that_runs():
    assert calibration._steps()["fit_temperature"].__code__.co_filename == "<kerasways calibration>"
    source = calibration_source()
    assert "def fit_temperature(probabilities, labels):" in source and "kernel / temperature" in source
    chinese = calibration_source("zh")
    assert chinese != source and [line for line in chinese.splitlines() if not line.lstrip().startswith(("#", '"'))] \
        == [line for line in source.splitlines() if not line.lstrip().startswith(("#", '"'))]
    namespace = {"np": np}
    exec(compile(chinese, "<zh calibration>", "exec"), namespace)  # noqa: S102 - runs unmodified in either language
    probabilities, labels = overconfident(sharpen=2.0)
    assert namespace["fit_temperature"](probabilities, labels) == pytest.approx(fit_temperature(probabilities, labels))
