"""The three ways side by side: line differences, identical same-seed training, seed spread, branches."""

import numpy as np
import pytest

from kerasways.codegen import model_source
from kerasways.compare import mark_differences, max_abs_difference, mean_and_std
from kerasways.spec import PRESETS, STYLES, ModelSpec, TrainConfig, supported_styles
from kerasways.training import train

SKIP = PRESETS["mlp-skip"].spec


def test_only_the_lines_that_differ_are_marked():
    marked = mark_differences({style: model_source(ModelSpec(), style) for style in STYLES})
    differing = {style: [line.strip() for line, differs in lines if differs] for style, lines in marked.items()}
    assert "keras.utils.set_random_seed(42)" not in sum(differing.values(), [])  # shared by all three
    assert 'optimizer="adam",' not in sum(differing.values(), [])
    assert "model = keras.Sequential(" in differing["sequential"]
    assert any(line.startswith("class DigitClassifier") for line in differing["subclassing"])
    assert any(line.startswith("inputs = keras.Input") for line in differing["functional"])


def test_max_abs_difference_sees_a_single_changed_weight():
    weights = [np.zeros((3, 3)), np.ones(3)]
    changed = [np.zeros((3, 3)), np.array([1.0, 1.0, 1.25])]
    assert max_abs_difference(weights, weights) == 0.0
    assert max_abs_difference(weights, changed) == 0.25
    assert max_abs_difference(weights, weights[:1]) == float("inf")
    assert mean_and_std([0.9, 0.92]) == pytest.approx((0.91, 0.0141421), rel=1e-4)


@pytest.mark.slow
def test_different_seeds_train_to_different_results(mnist):
    config = TrainConfig(epochs=1, train_size=600)
    first = train(ModelSpec(seed=1), "functional", config, mnist)
    second = train(ModelSpec(seed=2), "functional", config, mnist)
    assert first.history.batch_loss != second.history.batch_loss
    assert max_abs_difference(first.model.get_weights(), second.model.get_weights()) > 0.01


@pytest.mark.slow
def test_skip_connection_builds_and_trains_in_the_two_ways_that_can_express_it(mnist):
    assert supported_styles(SKIP) == ("functional", "subclassing")
    config = TrainConfig(epochs=1, train_size=800)
    results = {style: train(SKIP, style, config, mnist) for style in supported_styles(SKIP)}
    assert results["functional"].history.batch_loss == results["subclassing"].history.batch_loss
    assert results["functional"].history.val_accuracy[-1] > 0.5
    assert max_abs_difference(results["functional"].model.get_weights(),
                              results["subclassing"].model.get_weights()) == 0.0
    with pytest.raises(ValueError, match="cannot express this network"):
        model_source(SKIP, "sequential")
