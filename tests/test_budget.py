"""The training budget: an estimate from the network and the data, said before anything is queued."""

import pytest

from kerasways import i18n
from kerasways.budget import (
    DEFAULT_LIMIT_SECONDS,
    LIMIT_ENV,
    TrainingTooLong,
    engine_of,
    estimate,
    estimated_seconds,
    max_training_seconds,
    multiply_adds_per_image,
)
from kerasways.data import BUNDLED_TRAIN_DIGITS, MNIST_TRAIN_DIGITS
from kerasways.engine import TrainingRequest
from kerasways.formats import rough_duration
from kerasways.runs import DRAWING_REQUEST
from kerasways.spec import PRESETS, LayerSpec, ModelSpec, TrainConfig, supported_styles

OFFLINE, FULL = BUNDLED_TRAIN_DIGITS, MNIST_TRAIN_DIGITS
DATA_SIZES = (OFFLINE, FULL)
# What a tester asked for, every setting valid: 11 convolutions of 256 filters (6.0 M parameters), 100 epochs
# of batches of 1. It held a worker for about 16 hours on the offline digits.
HUGE = TrainingRequest(ModelSpec(layers=(LayerSpec("conv2d", units=256, kernel_size=3),) * 11), "sequential",
                       TrainConfig(epochs=100, batch_size=1))


def seconds(spec=None, data_size=OFFLINE, **config) -> float:
    return estimated_seconds(TrainingRequest(spec or ModelSpec(), "functional", TrainConfig(**config)), data_size)


def conv_net(filters: int) -> ModelSpec:
    return ModelSpec(layers=(LayerSpec("conv2d", units=filters), LayerSpec("maxpool2d", kernel_size=2)))


def test_multiply_adds_are_counted_per_layer_from_the_shapes():
    small_cnn = multiply_adds_per_image(PRESETS["small-cnn"].spec)
    assert small_cnn == [
        (0, "Conv2D", 3 * 3 * 1 * 16 * 26 * 26),  # kernel² × input channels × filters × output height × width
        (2, "Conv2D", 3 * 3 * 16 * 32 * 11 * 11),
        (None, "Dense", 5 * 5 * 32 * 10),  # the output layer the app adds
    ]
    assert multiply_adds_per_image(ModelSpec()) == [(0, "Dense", 784 * 128), (None, "Dense", 128 * 10)]


def test_the_estimate_grows_with_epochs_filters_units_and_digits():
    assert seconds(epochs=1) < seconds(epochs=5) < seconds(epochs=50)
    assert seconds(conv_net(8)) < seconds(conv_net(32)) < seconds(conv_net(128))
    assert seconds(ModelSpec(layers=(LayerSpec(units=64),))) < seconds(ModelSpec(layers=(LayerSpec(units=1024),)))
    assert seconds(train_size=1000) < seconds(train_size=3000) < seconds(data_size=FULL)
    assert seconds(validation_split=0.5) < seconds(validation_split=0.0)  # validation digits are not trained on


def test_a_batch_of_one_costs_far_more_than_a_batch_of_128():
    assert seconds(batch_size=1, data_size=FULL) > 10 * seconds(batch_size=128, data_size=FULL)
    assert seconds(batch_size=1) > 2 * seconds(batch_size=128)  # on 4,000 digits the fixed cost weighs more


def test_a_step_or_a_resumed_run_counts_only_the_part_it_trains():
    whole = TrainingRequest(ModelSpec(), "functional", TrainConfig(epochs=20))
    one_epoch = whole.with_options(stop_at_epoch=1)

    class Paused:  # what training.TrainState tells the estimate: where the run stopped
        epochs_done, step = 18, 0

    rest = whole.with_options(resume=Paused())
    assert estimated_seconds(one_epoch, OFFLINE) < estimated_seconds(rest, OFFLINE) < estimated_seconds(whole, OFFLINE)


def test_the_class_digits_add_to_the_digits_trained():
    class Drawings:
        def __len__(self):
            return 2000

    plain = TrainingRequest(ModelSpec(), "functional", TrainConfig(epochs=10))
    mixed = TrainingRequest(ModelSpec(), "functional", TrainConfig(epochs=10), class_digits=Drawings())
    assert estimated_seconds(mixed, OFFLINE) > estimated_seconds(plain, OFFLINE)


def test_the_testers_six_million_parameter_request_is_refused_with_its_estimate():
    verdict = estimate([HUGE], OFFLINE, DEFAULT_LIMIT_SECONDS)
    assert not verdict.fits and verdict.seconds > 8 * 3600  # it held a worker for about 16 hours
    error = verdict.refusal()
    assert isinstance(error, TrainingTooLong) and error.seconds == verdict.seconds
    text = str(error.message)
    assert text.startswith(f"About {rough_duration(verdict.seconds)} of training: more than the 5 min this server "
                           "allows for one request.")
    assert "Conv2D(256, 3×3, relu)" in text and "fewer filters" in text
    assert i18n.render(error, "zh").startswith("训练大约需要")
    assert "5 分钟" in i18n.render(error, "zh")


def test_the_biggest_contributor_is_named():
    many_steps = TrainingRequest(ModelSpec(layers=(LayerSpec(units=32),)), "functional",
                                 TrainConfig(epochs=100, batch_size=1))
    assert "larger batch size" in str(estimate([many_steps], FULL, 60).refusal().message)
    wide = TrainingRequest(ModelSpec(layers=(LayerSpec(units=64), LayerSpec(units=4096), LayerSpec(units=4096))),
                           "functional", TrainConfig(epochs=100, batch_size=512))
    assert "layer 3, Dense(4096, relu): fewer units" in str(estimate([wide], FULL, 60).refusal().message)


@pytest.mark.parametrize("data_size", DATA_SIZES)
@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_at_its_default_settings_fits_the_default_limit(preset, data_size):
    spec = PRESETS[preset].spec
    requests = [TrainingRequest(spec, style, TrainConfig()) for style in supported_styles(spec)]
    assert all(estimate([request], data_size, DEFAULT_LIMIT_SECONDS).fits for request in requests)


@pytest.mark.parametrize("data_size", DATA_SIZES)
def test_the_draw_pages_shared_training_fits_the_default_limit(data_size):
    assert estimate([DRAWING_REQUEST], data_size, DEFAULT_LIMIT_SECONDS).fits


def test_a_group_is_one_request_whose_trainings_add_up():
    config = TrainConfig(epochs=5)
    group = [TrainingRequest(PRESETS["small-cnn"].spec.replace(seed=seed), style, config)
             for seed in range(5) for style in ("sequential", "functional", "subclassing")]
    together = estimate(group, OFFLINE, DEFAULT_LIMIT_SECONDS)
    assert together.seconds == pytest.approx(sum(estimated_seconds(request, OFFLINE) for request in group))
    one = estimated_seconds(group[0], OFFLINE)
    limit = 10 * one  # each one fits, the fifteen together do not
    refused = estimate(group, OFFLINE, limit)
    assert estimate(group[:1], OFFLINE, limit).fits and not refused.fits
    text = str(refused.refusal().message)
    assert "for these 15 trainings together" in text and "fewer seeds per way" in text


def test_the_limit_is_the_operators_environment_variable():
    assert max_training_seconds({}) == DEFAULT_LIMIT_SECONDS == 300
    assert max_training_seconds({LIMIT_ENV: "60"}) == 60.0
    assert max_training_seconds({LIMIT_ENV: "inf"}) == float("inf")
    for wrong in ("five minutes", "0", "-3", "nan"):
        with pytest.raises(ValueError, match=LIMIT_ENV):
            max_training_seconds({LIMIT_ENV: wrong})


def test_the_estimate_is_said_in_the_readers_language():
    fits = estimate([TrainingRequest(ModelSpec(), "functional", TrainConfig())], OFFLINE, DEFAULT_LIMIT_SECONDS)
    assert fits.fits and str(fits.message()) == f"About {rough_duration(fits.seconds)} of training."
    assert i18n.render(fits.message(), "zh").startswith("训练大约需要")


@pytest.mark.parametrize(("value", "english", "chinese"), [
    (3.2, "3 s", "3 秒"), (41, "40 s", "40 秒"), (170, "3 min", "3 分钟"), (16 * 3600, "16 h", "16 小时"),
    (86400, "24 h", "24 小时"), (10 * 86400, "10 days", "10 天")])
def test_an_estimate_is_rounded_as_far_as_it_deserves(value, english, chinese):
    assert str(rough_duration(value)) == english
    assert i18n.render(rough_duration(value), "zh") == chinese


@pytest.mark.parametrize("preset", list(PRESETS))
def test_the_estimate_knows_which_engine_a_worker_will_train_on(preset):
    from kerasways.build import build_model
    from kerasways.training import choose_engine

    spec = PRESETS[preset].spec
    for style in supported_styles(spec):
        assert engine_of(spec) == choose_engine(build_model(spec, style))
