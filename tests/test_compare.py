"""The three ways side by side: line differences, identical same-seed training, seed spread, branches."""

from types import SimpleNamespace

import numpy as np
import pytest

from kerasways.codegen import model_source
from kerasways.compare import (
    Transfer,
    accuracy_gap,
    mark_differences,
    max_abs_difference,
    mean_and_std,
    same_seed_check,
    seed_spread,
    seeds_from,
)
from kerasways.spec import MAX_SEED, PRESETS, STYLES, ModelSpec, TrainConfig, supported_styles
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


def trained(style: str, seed: int, accuracy: float = 0.9, losses=(1.0, 0.5), weight: float = 0.25):
    """A finished run as the Compare page holds it: its seed, way, batch losses, weights and test accuracy."""
    result = SimpleNamespace(history=SimpleNamespace(batch_loss=list(losses)), weights=[np.full((2, 2), weight)],
                             evaluation=SimpleNamespace(accuracy=accuracy))
    return SimpleNamespace(style=style, spec=SimpleNamespace(seed=seed), result=result)


def test_same_seed_runs_that_match_bit_for_bit_are_identical():
    check = same_seed_check([trained(style, 42) for style in STYLES])
    assert check.identical and (check.seed, check.runs) == (42, 3)
    assert check.loss_gap == check.weight_gap == check.accuracy_gap == 0


def test_one_weight_or_one_loss_apart_is_not_identical_and_the_gap_is_between_any_two_ways():
    weights_apart = same_seed_check([trained("sequential", 42, weight=0.0), trained("functional", 42),
                                     trained("subclassing", 42, weight=0.5)])
    assert not weights_apart.identical and weights_apart.weight_gap == 0.5  # the two outer ways, not the first
    loss_apart = same_seed_check([trained("sequential", 42), trained("functional", 42, losses=(1.0, 0.5 + 1e-7))])
    assert not loss_apart.identical and loss_apart.loss_gap == pytest.approx(1e-7)


def test_only_the_lowest_seeds_runs_are_checked_and_one_run_proves_nothing():
    group = [trained(style, seed, weight=seed) for seed in (7, 8) for style in STYLES]  # other seeds, other weights
    check = same_seed_check(group)
    assert check.seed == 7 and check.runs == 3 and check.identical
    assert same_seed_check([trained("functional", 7), trained("sequential", 8)]) is None
    assert same_seed_check([]) is None


def test_the_seed_spread_sets_the_ways_means_beside_the_range_over_seeds():
    runs = [trained("sequential", 1, 0.90), trained("sequential", 2, 0.92), trained("functional", 1, 0.91),
            trained("functional", 2, 0.93)]
    spread = seed_spread(runs, STYLES)
    assert [way.style for way in spread.ways] == ["sequential", "functional"]  # a way without runs is left out
    assert spread.ways[0].mean == pytest.approx(0.91) and spread.ways[0].runs == 2
    assert spread.accuracy_range == pytest.approx(0.03) and spread.means_gap == pytest.approx(0.01)
    assert seed_spread([trained(style, 1) for style in STYLES], STYLES) is None  # one seed: no spread


@pytest.mark.parametrize(("mnist", "ours", "transfer"), [
    (0.98, 0.70, Transfer.WORSE),
    (0.90, 0.85, Transfer.ABOUT_THE_SAME),  # exactly the margin is still "about as well"
    (0.90, 0.95, Transfer.ABOUT_THE_SAME),
    (0.90, 0.9501, Transfer.BETTER),
    (0.90, 0.8499, Transfer.WORSE),
])
def test_the_gap_to_mnist_reads_as_worse_about_the_same_or_better(mnist, ours, transfer):
    gap = accuracy_gap(mnist, ours)
    assert gap.transfer is transfer
    assert gap.points == pytest.approx((ours - mnist) * 100)


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


def test_train_all_three_counts_seeds_on_from_the_networks_and_wraps_at_the_top_of_the_range():
    assert seeds_from(42, 3) == [42, 43, 44]
    top = ModelSpec().replace(seed=MAX_SEED)
    assert seeds_from(top.seed, 3) == [MAX_SEED, 0, 1]
    assert [top.replace(seed=seed).seed for seed in seeds_from(top.seed, 3)] == [MAX_SEED, 0, 1]  # all valid
