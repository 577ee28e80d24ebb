"""Pause, resume and one epoch at a time: a run that stops and continues trains exactly like one that never stopped."""

import pickle

import numpy as np
import pytest

from kerasways.spec import PRESETS, ModelSpec, TrainConfig
from kerasways.training import train

CONFIG = TrainConfig(epochs=3, train_size=600, batch_size=16, validation_split=0.2)
LONG_EPOCHS = TrainConfig(epochs=2, train_size=1500, batch_size=8, validation_split=0.2)  # several calls per epoch
NETWORKS = {"mlp-xla": ModelSpec(), "dropout-graph": PRESETS["mlp-dropout"].spec}

pytestmark = pytest.mark.slow  # every test here trains



def assert_same_training(resumed, uninterrupted) -> None:
    for name in ("batch_loss", "batch_accuracy", "epoch_loss", "epoch_accuracy", "val_loss", "val_accuracy"):
        assert getattr(resumed.history, name) == getattr(uninterrupted.history, name), name
    for ours, theirs in zip(resumed.model.get_weights(), uninterrupted.model.get_weights(), strict=True):
        assert np.array_equal(ours, theirs)


def on_another_worker(state):
    """A state crosses processes pickled: resume from a copy that shares nothing with the first run."""
    return pickle.loads(pickle.dumps(state))


@pytest.mark.parametrize("network", NETWORKS)
def test_stepping_one_epoch_at_a_time_equals_one_run(mnist, network):
    spec = NETWORKS[network]
    uninterrupted = train(spec, "functional", CONFIG, mnist)
    reports = []
    result = train(spec, "functional", CONFIG, mnist, on_progress=reports.append, stop_at_epoch=1)
    assert result.status == "stopped" and "after epoch 1 of 3" in str(result.message)
    assert len(result.history.epoch_loss) == 1
    result = train(spec, "functional", CONFIG, mnist, on_progress=reports.append,
                   resume=on_another_worker(result.state), stop_at_epoch=2)
    assert result.status == "stopped" and len(result.history.epoch_loss) == 2
    result = train(spec, "functional", CONFIG, mnist, on_progress=reports.append,
                   resume=on_another_worker(result.state))
    assert result.status == "completed"
    assert_same_training(result, uninterrupted)
    streamed = [loss for report in reports for loss in report.batch_losses]
    assert streamed == uninterrupted.history.batch_loss  # the curves continue where they stopped
    assert [report.epoch for report in reports if report.epoch_end] == [1, 2, 3]


@pytest.mark.parametrize("network", NETWORKS)
def test_pausing_mid_epoch_then_resuming_equals_one_run(mnist, network):
    spec = NETWORKS[network]
    uninterrupted = train(spec, "functional", LONG_EPOCHS, mnist)
    reports = []
    paused = train(spec, "functional", LONG_EPOCHS, mnist, on_progress=reports.append,
                   should_stop=lambda: len(reports) >= 2)
    assert paused.status == "stopped" and "Stopped by request" in str(paused.message)
    assert 0 < paused.state.step < paused.history.steps_per_epoch  # really in the middle of an epoch
    assert paused.history.epoch_loss == []  # a partial epoch is not an epoch point
    resumed = train(spec, "functional", LONG_EPOCHS, mnist, on_progress=reports.append,
                    resume=on_another_worker(paused.state))
    assert resumed.status == "completed"
    assert_same_training(resumed, uninterrupted)
    assert [loss for report in reports for loss in report.batch_losses] == uninterrupted.history.batch_loss


def test_a_finished_run_can_train_more_epochs(mnist):
    two = train(ModelSpec(), "sequential", CONFIG.replace(epochs=2), mnist)
    more = train(ModelSpec(), "sequential", CONFIG, mnist, resume=two.state)
    assert_same_training(more, train(ModelSpec(), "sequential", CONFIG, mnist))
    assert more.seconds > two.seconds  # the run's training time adds up over its segments


def test_resume_refuses_a_state_from_another_run(mnist):
    state = train(ModelSpec(), "sequential", CONFIG, mnist, stop_at_epoch=1).state
    with pytest.raises(ValueError, match="config.batch_size: expected 16"):
        train(ModelSpec(), "sequential", CONFIG.replace(batch_size=32), mnist, resume=state)
    with pytest.raises(ValueError, match="resume: expected"):
        train(ModelSpec(seed=7), "sequential", CONFIG, mnist, resume=state)
    with pytest.raises(ValueError, match="stop_at_epoch: expected an epoch from 2 on"):
        train(ModelSpec(), "sequential", CONFIG, mnist, resume=state, stop_at_epoch=1)
