"""train(): fit's meaning at the user's batch size, history, stop, NaN, identical across ways, engines, ETA."""

import dataclasses
import gc
import math
import time
import weakref

import numpy as np
import pytest

from kerasways.build import build_model
from kerasways.evaluate import _SINGLE_STEPS, evaluate, predict_one, predict_probabilities
from kerasways.spec import PRESETS, STYLES, LayerSpec, ModelSpec, TrainConfig, supported_styles
from kerasways.training import ENGINE_GRAPH, ENGINE_XLA, choose_engine, epoch_batches, train

SMALL = TrainConfig(epochs=2, batch_size=32, train_size=1000, validation_split=0.2)


@pytest.mark.slow
def test_history_has_one_loss_per_batch_and_one_point_per_epoch(mnist):
    reports = []
    result = train(ModelSpec(), "sequential", SMALL, mnist, on_progress=reports.append)
    steps = math.ceil(800 / 32)  # 1,000 digits, the last 20% held out
    assert result.status == "completed"
    assert result.history.steps_per_epoch == steps
    assert len(result.history.batch_loss) == len(result.history.batch_accuracy) == 2 * steps
    assert len(result.history.epoch_loss) == len(result.history.val_accuracy) == 2
    assert result.history.epoch_loss[1] < result.history.epoch_loss[0]  # it learns
    assert result.history.val_accuracy[-1] > 0.7
    epoch_ends = [report for report in reports if report.epoch_end]
    assert [report.epoch for report in epoch_ends] == [1, 2]
    assert epoch_ends[-1].fraction == pytest.approx(1.0)
    streamed = [loss for report in reports for loss in report.batch_losses]
    assert streamed == result.history.batch_loss  # every batch reported exactly once


@pytest.mark.slow
def test_trained_model_beats_chance_on_test_digits(mnist):
    result = train(ModelSpec(), "functional", TrainConfig(epochs=3, train_size=2000), mnist)
    evaluation = evaluate(result.model, mnist)
    assert evaluation.accuracy > 0.8
    assert evaluation.confusion.sum() == len(mnist.y_test)
    assert np.trace(evaluation.confusion) == round(evaluation.accuracy * len(mnist.y_test))
    assert all(true != predicted for true, predicted in zip(evaluation.mistake_true, evaluation.mistake_predicted))


def test_epoch_batches_cover_every_digit_once_and_pad_the_last_batch():
    indices, masks = epoch_batches(np.random.default_rng(0), 70, 32)
    assert indices.shape == masks.shape == (3, 32)
    real = indices[masks == 1.0]
    assert sorted(real.tolist()) == list(range(70))
    assert masks[-1].sum() == 70 - 64


@pytest.mark.slow
@pytest.mark.parametrize("spec", [ModelSpec(), PRESETS["small-cnn"].spec], ids=["mlp-xla", "cnn-dropout-graph"])
def test_partial_last_batch_matches_a_plain_keras_step(mnist, spec):
    """One epoch of 50 digits at batch 32 (a full and a partial batch) equals two train_on_batch calls,
    on either engine, dropout's random masks included."""
    config = TrainConfig(epochs=1, batch_size=32, train_size=100, validation_split=0.5)
    result = train(spec, "sequential", config, mnist)
    reference = build_model(spec, "sequential")
    order = np.random.default_rng(spec.seed).permutation(50)
    x = mnist.x_train[:50].astype("float32") / 255.0
    y = mnist.y_train[:50]
    for batch in (order[:32], order[32:]):
        reference.train_on_batch(x[batch], y[batch])
    for ours, theirs in zip(result.model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_stop_keeps_the_weights_learned_so_far(mnist):
    calls = []

    def stop_after_first_report():
        return len(calls) >= 1

    result = train(ModelSpec(), "sequential", TrainConfig(epochs=20, train_size=4000), mnist,
                   on_progress=calls.append, should_stop=stop_after_first_report)
    assert result.status == "stopped"
    assert "Stopped by request" in str(result.message)
    total = 20 * math.ceil(3600 / 32)
    assert 0 < len(result.history.batch_loss) < total
    accuracy = (predict_probabilities(result.model, mnist.x_test).argmax(1) == mnist.y_test).mean()
    assert accuracy > 0.3  # it kept what it learned instead of starting over


@pytest.mark.slow
def test_nan_loss_stops_with_a_clear_message_and_finite_weights(mnist):
    wide = LayerSpec("dense", units=256)
    spec = ModelSpec(layers=(wide, wide, wide), optimizer="sgd", learning_rate=10.0)
    result = train(spec, "sequential", TrainConfig(epochs=3, train_size=2000), mnist)
    assert result.status == "nan"
    assert "NaN" in str(result.message) and "learning rate (10) is probably too high; try 0.01" in str(result.message)
    assert all(np.isfinite(weights).all() for weights in result.model.get_weights())
    assert all(np.isfinite(result.history.batch_loss))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PRESETS))
def test_same_seed_trains_bit_identically_in_every_way(mnist, name):
    spec = PRESETS[name].spec
    config = TrainConfig(epochs=2, train_size=400)
    results = {style: train(spec, style, config, mnist) for style in supported_styles(spec)}
    losses = [result.history.batch_loss for result in results.values()]
    assert all(other == losses[0] for other in losses[1:])
    assert len(losses[0]) == 2 * math.ceil(360 / 32)
    weights = [result.model.get_weights() for result in results.values()]
    for other in weights[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(weights[0], other))


def test_networks_with_random_or_convolutional_layers_train_outside_xla():
    import keras

    assert choose_engine(build_model(PRESETS["reference-mlp"].spec, "sequential")) == ENGINE_XLA
    assert choose_engine(build_model(PRESETS["mlp-skip"].spec, "subclassing")) == ENGINE_XLA
    assert choose_engine(build_model(PRESETS["mlp-dropout"].spec, "subclassing")) == ENGINE_GRAPH
    assert choose_engine(build_model(PRESETS["small-cnn"].spec, "functional")) == ENGINE_GRAPH
    # A layer the rule has never heard of (here one that draws random numbers) is not sent to XLA.
    noisy = keras.Sequential([keras.Input((28, 28)), keras.layers.GaussianNoise(0.1), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    assert choose_engine(noisy) == ENGINE_GRAPH


@pytest.mark.slow  # trains a network
def test_no_validation_is_none_in_history_and_reports(mnist):
    reports = []
    config = TrainConfig(epochs=2, train_size=300, validation_split=0.0)
    result = train(ModelSpec(), "sequential", config, mnist, on_progress=reports.append)
    assert result.history.val_loss == result.history.val_accuracy == [None, None]
    assert len(result.history.epoch_loss) == 2
    epoch_ends = [report for report in reports if report.epoch_end]
    assert [(report.val_loss, report.val_accuracy) for report in epoch_ends] == [(None, None), (None, None)]
    with_validation = train(ModelSpec(), "sequential", config.replace(validation_split=0.2), mnist)
    assert all(0.0 <= value <= 1.0 for value in with_validation.history.val_accuracy)


@pytest.mark.slow  # trains a network
@pytest.mark.parametrize("name", ["reference-mlp", "mlp-dropout"])
def test_epoch_end_reports_never_run_ahead_of_the_streamed_batches(mnist, name):
    streamed = []
    config = TrainConfig(epochs=3, train_size=1500, batch_size=16)
    result = train(PRESETS[name].spec, "functional", config, mnist,
                   on_progress=lambda report: streamed.append((len(report.batch_losses), report)))
    steps = result.history.steps_per_epoch
    sent = 0
    for count, report in streamed:
        sent += count
        assert sent == (report.epoch - 1) * steps + report.step  # the chart's batches reach where the report is
        if report.epoch_end:
            assert report.step == steps and sent == report.epoch * steps
    assert sent == len(result.history.batch_loss) == 3 * steps


class StepClock:
    """The clock train() reads (`time.perf_counter`), moved on only by the calls that run steps:
    the first call, which compiles, takes COMPILE_SECONDS; every later one STEP_SECONDS a step."""

    COMPILE_SECONDS = 30.0
    STEP_SECONDS = 0.004

    def __init__(self):
        self.now = 0.0
        self.calls = 0

    def perf_counter(self) -> float:
        return self.now

    def ran(self, steps: int) -> None:
        self.now += self.COMPILE_SECONDS if self.calls == 0 else steps * self.STEP_SECONDS
        self.calls += 1

    def __getattr__(self, name):  # the rest of the time module, unchanged
        return getattr(time, name)


@pytest.mark.slow  # trains a network
def test_first_eta_is_unknown_then_the_time_left_without_the_compiling_call(mnist, monkeypatch):
    """The first call compiles; an ETA that counted it would promise many times the time left."""
    from kerasways import training

    clock = StepClock()
    run_steps = training._CompiledSteps.run

    def timed_run(engine, indices, masks, count):
        result = run_steps(engine, indices, masks, count)
        clock.ran(count)
        return result

    monkeypatch.setattr(training, "time", clock)
    monkeypatch.setattr(training._CompiledSteps, "run", timed_run)
    seen = []
    train(ModelSpec(), "sequential", TrainConfig(epochs=3, train_size=2000, batch_size=16), mnist,
          on_progress=lambda report: seen.append((clock.now, report.eta_seconds)))
    finished = clock.now
    assert len(seen) >= 4 and clock.calls >= 4
    assert seen[0][1] == math.inf  # only the compiling call has been timed
    for at, eta in seen[1:]:
        assert eta == pytest.approx(finished - at, abs=1e-9)  # what is left, and nothing of the compiling
    assert seen[-1][1] == 0.0


@pytest.mark.parametrize("spec", [ModelSpec(), PRESETS["small-cnn"].spec], ids=["mlp", "cnn"])
@pytest.mark.parametrize("style", STYLES)
def test_drawings_are_read_as_the_test_set_path_reads_them_with_one_compiled_step_per_network(mnist, style, spec):
    digits = mnist.x_test[:5]
    models = [build_model(dataclasses.replace(spec, seed=seed), style) for seed in (1, 2)]  # two trainings
    for model in models:
        one_by_one = np.stack([predict_one(model, digit, (spec, style)) for digit in digits])
        np.testing.assert_allclose(one_by_one, predict_probabilities(model, digits), atol=1e-6)
    assert _SINGLE_STEPS[(spec, style)].experimental_get_tracing_count() == 1  # compiled once, not per model
    scaled = digits[0].astype(np.float32) / 255
    np.testing.assert_allclose(predict_one(models[1], scaled, (spec, style)), one_by_one[0], atol=1e-6)
    later = weakref.ref(models.pop())
    del model
    gc.collect()
    assert later() is None  # the step keeps no later model alive, so retraining frees the old one
