"""Where a run lives: its history, its rebuilt model, the registry's memory and a session's book."""

import random
import time

import numpy as np
import pytest

from kerasways.build import build_model, rebuild_model
from kerasways.jobs import JobPool, OwnerBusyError
from kerasways.runs import Book, RunRegistry, network_name
from kerasways.spec import PRESETS, ModelSpec, TrainConfig
from kerasways.training import Progress

QUICK = TrainConfig(epochs=2, train_size=1000)


def test_rebuilding_a_trained_model_leaves_the_servers_random_state_alone():
    spec = ModelSpec(seed=7)
    trained = build_model(spec, "functional")
    np.random.seed(123)
    random.seed(123)
    numpy_before = np.random.get_state()[1].copy()
    rebuilt = rebuild_model(spec, "functional", trained.get_weights())
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_before)  # NumPy's generator untouched
    after_rebuild = random.random()
    random.seed(spec.seed)
    assert after_rebuild != random.random()  # Python's generator was not reset to the run's seed
    x = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(trained(x)), np.asarray(rebuilt(x)))


def progress(epoch, step, losses, epoch_end=False, val=None):
    return Progress(epoch=epoch, epochs=2, step=step, steps_per_epoch=4, loss=0.5, accuracy=0.8,
                    batch_losses=losses, batch_accuracies=[0.8] * len(losses), samples_per_second=1.0,
                    eta_seconds=1.0, val_loss=val, val_accuracy=val, epoch_end=epoch_end)


def test_streamed_progress_grows_one_history_and_no_validation_is_none():
    from kerasways.runs import RunHistory

    history = RunHistory()
    history.record(progress(1, 2, [1.0, 0.9]))
    history.record(progress(1, 4, [0.8, 0.7], epoch_end=True, val=float("nan")))
    losses, accuracies, epochs, steps = history.snapshot()
    assert losses == [1.0, 0.9, 0.8, 0.7] and steps == 4
    assert epochs == [{"epoch": 1, "loss": 0.5, "accuracy": 0.8, "val_loss": None, "val_accuracy": None}]


def test_runs_are_named_by_network():
    assert network_name(PRESETS["small-cnn"].spec.replace(seed=3, learning_rate=0.01)) == "Small CNN"
    assert network_name(ModelSpec(layers=())) == "Your network"


@pytest.fixture(scope="module")
def registry():
    pool = JobPool(workers=1, data_source="bundled")
    yield RunRegistry(pool)
    pool.close()


def wait_until(condition, seconds=180.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_a_group_is_in_the_book_its_runs_are_all_usable_and_a_reload_finds_them(registry):
    book = Book(registry)
    requests = [(ModelSpec(), style, QUICK) for style in ("sequential", "functional", "subclassing")]
    group = book.submit(requests, owner="tab-1", origin="compare")
    assert book.latest_group() == group and len({run.group for run in group}) == 1
    with pytest.raises(OwnerBusyError):
        book.submit([(ModelSpec(), "sequential", QUICK)], owner="tab-1")
    wait_until(lambda: all(run.finished for run in group))
    assert [run.style for run in book.trained()] == ["sequential", "functional", "subclassing"]
    first = group[0]
    assert len(first.history.snapshot()[0]) == 2 * first.history.steps_per_epoch  # streamed, then completed
    # A reload is a new session with an empty book: the link's run ids bring every run back.
    reloaded = Book(registry)
    counts = reloaded.reattach(book.link_ids(), owner="tab-2")
    assert counts == {"running": 0, "finished": 3, "missing": 0}
    assert [run.id for run in reloaded.trained()] == [run.id for run in group]
    # Two seeds of one network share one compiled predict step; the rebuilt model reads like the worker's.
    assert group[0].predict_key != group[1].predict_key  # the way is part of the architecture
    model = registry.model(first)
    assert registry.model(first) is model  # rebuilt once


@pytest.mark.slow
def test_finished_runs_expire_and_the_book_forgets_them(registry):
    book = Book(registry)
    (run,) = book.submit([(ModelSpec(), "sequential", QUICK)], owner="tab-3")
    wait_until(lambda: run.finished)
    assert registry.get(run.id) is run
    keep = registry.keep_seconds
    registry.keep_seconds = 0.0
    try:
        time.sleep(0.01)
        assert registry.get(run.id) is None
        assert book.runs() == [] and book.link_ids() == []
        assert Book(registry).reattach([run.id], owner="tab-4") == {"running": 0, "finished": 0, "missing": 1}
    finally:
        registry.keep_seconds = keep


@pytest.mark.slow
def test_a_class_pressing_the_same_train_now_button_shares_one_training(registry):
    request = (ModelSpec(seed=5), "functional", QUICK)
    first, second = Book(registry), Book(registry)
    run = first.add_shared(request)
    assert second.add_shared(request) is run  # still training: the second student watches the same run
    wait_until(lambda: run.finished)
    late = Book(registry).add_shared(request)
    assert late is run and late.trained  # finished: the result is there at once
    assert Book(registry).add_shared((ModelSpec(seed=6), "functional", QUICK)) is not run  # other settings train anew


@pytest.mark.slow
def test_pause_resume_and_one_epoch_at_a_time_continue_one_run(registry):
    book = Book(registry)
    config = TrainConfig(epochs=3, train_size=1000)
    (run,) = book.submit([(ModelSpec(seed=11), "sequential", config)], owner="teacher", one_epoch=True)
    wait_until(lambda: run.paused)
    assert run.epochs_done == 1 and book.active() == [] and run.id in book.link_ids()
    steps = run.history.steps_per_epoch
    registry.resume(run, owner="teacher", one_epoch=True)
    wait_until(lambda: run.paused)
    assert run.epochs_done == 2
    registry.resume(run, owner="teacher")
    wait_until(lambda: run.finished and not run.paused)
    losses, _, epochs, _ = run.history.snapshot()
    assert [point["epoch"] for point in epochs] == [1, 2, 3]
    assert len(losses) == 3 * steps  # the curve continued, no batch lost or repeated
    # The same training without pauses gives exactly the same losses.
    (straight,) = Book(registry).submit([(ModelSpec(seed=11), "sequential", config)], owner="student")
    wait_until(lambda: straight.finished)
    assert straight.history.snapshot()[0] == losses
    assert run.outcome()[0] in ("completed", "not_learned")


@pytest.mark.slow
def test_pause_or_stop_while_a_resumed_run_waits_for_a_worker_takes_effect_at_once(registry):
    book = Book(registry)
    (run,) = book.submit([(ModelSpec(seed=12), "sequential", TrainConfig(epochs=3, train_size=1000))],
                         owner="teacher", one_epoch=True)
    wait_until(lambda: run.paused)
    losses = run.history.snapshot()[0]
    # Another student's long training holds the only worker, so the resumed part has to wait.
    (busy,) = Book(registry).submit([(PRESETS["small-cnn"].spec, "sequential", TrainConfig(epochs=100))], owner="other")
    wait_until(lambda: busy.state == "running")
    try:
        registry.resume(run, owner="teacher")
        assert run.state == "queued" and registry.can_pause(run)
        registry.pause(run)  # used to be ignored until a worker took the resumed part
        assert run.paused and run.epochs_done == 1
        registry.resume(run, owner="teacher")
        registry.finish(run)  # Stop while it waits: ended at once, with the weights of epoch 1
        assert run.finished and not run.paused and run.outcome()[0] in ("stopped", "not_learned")
        assert run.epochs_done == 1 and run.history.snapshot()[0] == losses
        assert registry.model(run) is not None
        (fresh,) = Book(registry).submit([(ModelSpec(seed=13), "sequential", QUICK)], owner="third")
        assert fresh.state == "queued" and not registry.can_pause(fresh)  # nothing trained yet to pause
        registry.finish(fresh)  # a new run still waiting is simply cancelled
        assert fresh.state == "cancelled"
    finally:
        registry.pool.cancel(busy.job.id)
        wait_until(lambda: busy.finished)


@pytest.mark.slow
def test_a_reload_during_train_all_three_reattaches_to_the_whole_group(registry):
    page_open = {"old tab": True}
    book = Book(registry)
    long = TrainConfig(epochs=30, train_size=2000)
    group = book.submit([(ModelSpec(seed=21), style, long) for style in ("sequential", "functional", "subclassing")],
                        owner="old tab", owner_alive=lambda: page_open["old tab"], origin="compare")
    wait_until(lambda: group[0].state == "running")
    page_open["old tab"] = False  # the reload: the old page disconnects, a new session opens the link
    reloaded = Book(registry)
    counts = reloaded.reattach(book.link_ids(), owner="new tab", owner_alive=lambda: True)
    assert counts == {"running": 3, "finished": 0, "missing": 0}
    assert reloaded.latest_group() == group and all(run.job.owner == "new tab" for run in group)
    for run in group:
        registry.pool.cancel(run.job.id)
