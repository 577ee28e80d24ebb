"""The network for drawings stored in the data folder: read back as trained, a stale or damaged one set
aside and retrained, one writer at a time, and a registry that offers a stored one without training."""

import fcntl
import json
import logging

import numpy as np
import pytest

from kerasways.build import build_model
from kerasways.engine import JobResult
from kerasways.evaluate import Evaluation
from kerasways.runs import DRAWING_REQUEST, RunRegistry, drawing_request
from kerasways.spec import DRAWING_TRAINING, drawing_training
from kerasways.stored_network import DRAWING_NETWORK_NAME, SET_ASIDE, NetworkStore, StoredNetwork
from kerasways.training import History
from tests.test_runs import HandDrivenEngine

SPEC, STYLE = DRAWING_REQUEST.spec, DRAWING_REQUEST.style
DATA = "bundled:4000:test"


def evaluation(accuracy=0.93):
    return Evaluation(accuracy=accuracy, loss=0.2, per_class_accuracy=np.full(10, accuracy),
                      confusion=np.eye(10, dtype=np.int64) * 100, mistake_images=np.zeros((2, 28, 28), np.uint8),
                      mistake_true=np.array([1, 2]), mistake_predicted=np.array([7, 3]),
                      mistake_confidence=np.array([0.9, 0.8]), count=1000)


def history():
    return History(batch_loss=[2.0, 1.0, 0.5], batch_accuracy=[0.2, 0.6, 0.8], epoch_loss=[1.0], epoch_accuracy=[0.6],
                   val_loss=[0.6], val_accuracy=[0.8], steps_per_epoch=3)


def network(fingerprint=DATA):
    return StoredNetwork(SPEC, STYLE, DRAWING_TRAINING, [], history(), evaluation(), 21.0, fingerprint)


@pytest.fixture(scope="module")
def model():
    return build_model(SPEC.replace(seed=5), STYLE)


def stored(tmp_path, model):
    store = NetworkStore(tmp_path)
    assert store.save(DRAWING_NETWORK_NAME, model, network())
    return store


def test_a_stored_network_reads_back_with_its_weights_history_and_results(tmp_path, model):
    found = stored(tmp_path, model).find(DRAWING_NETWORK_NAME, SPEC, STYLE, DATA)
    assert found is not None and found.config == DRAWING_TRAINING and found.seconds == 21.0
    assert found.evaluation.accuracy == 0.93 and found.history.batch_loss == [2.0, 1.0, 0.5]
    for kept, trained in zip(found.weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, trained)


def set_aside_files(store):
    return sorted(path.name for path in (store.folder / SET_ASIDE).glob("*"))


@pytest.mark.parametrize("change", ["damaged", "other data", "other versions", "half-written", "not json"])
def test_a_stale_or_damaged_network_is_set_aside_with_a_log_line_and_none_is_offered(tmp_path, model, change, caplog):
    store = stored(tmp_path, model)
    record_path = store.record_path(DRAWING_NETWORK_NAME)
    record = json.loads(record_path.read_text())
    fingerprint = DATA
    if change == "damaged":
        with open(store.folder / record["file"], "r+b") as handle:
            handle.seek(100)
            handle.write(b"garbage")
    elif change == "other data":
        fingerprint = "keras:60000:other"
    elif change == "other versions":
        record["versions"]["keras"] = "2.0.0"
        record_path.write_text(json.dumps(record))
    elif change == "half-written":  # the server died after the record, before its model file was in place
        (store.folder / record["file"]).unlink()
    else:
        record_path.write_text(record_path.read_text()[:200])
    with caplog.at_level(logging.WARNING, logger="kerasways"):
        assert store.find(DRAWING_NETWORK_NAME, SPEC, STYLE, fingerprint) is None
    assert "set aside" in caplog.text
    assert not record_path.exists() and any(name.endswith(f"{DRAWING_NETWORK_NAME}.json")
                                            for name in set_aside_files(store))
    assert store.find(DRAWING_NETWORK_NAME, SPEC, STYLE, DATA) is None  # and nothing left to trip on


def test_another_network_or_way_is_not_offered(tmp_path, model):
    store = stored(tmp_path, model)
    assert store.find(DRAWING_NETWORK_NAME, SPEC.replace(seed=1), STYLE, DATA) is None


def test_a_second_writer_does_not_write_while_the_first_holds_the_lock(tmp_path, model):
    store = stored(tmp_path, model)
    before = store.record_path(DRAWING_NETWORK_NAME).read_bytes()
    with open(store.folder / f"{DRAWING_NETWORK_NAME}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another server is writing
        assert not store.save(DRAWING_NETWORK_NAME, model, network("bundled:4000:newer"))
    assert store.record_path(DRAWING_NETWORK_NAME).read_bytes() == before
    assert store.save(DRAWING_NETWORK_NAME, model, network("bundled:4000:newer"))  # once it is done
    assert len(list(store.folder.glob("*.keras"))) == 1  # the replaced model file is gone


def test_a_registry_offers_a_stored_network_at_once_without_training(tmp_path, model):
    store = stored(tmp_path, model)
    engine = HandDrivenEngine()
    registry = RunRegistry(engine, networks=store, fingerprint=lambda: DATA)
    run = registry.ready_shared(DRAWING_REQUEST)
    assert run is not None and run.trained and run.shared and run.stored and not engine.jobs
    assert run.accuracy == 0.93 and run.outcome().kind == "completed"
    assert registry.shared(DRAWING_REQUEST) is run  # a press of the button gets the same one
    assert registry.model(run) is not None


def test_without_a_stored_network_nothing_is_offered_and_the_first_training_is_stored(tmp_path, model):
    store = NetworkStore(tmp_path)
    engine = HandDrivenEngine()
    registry = RunRegistry(engine, networks=store, fingerprint=lambda: DATA)
    assert registry.ready_shared(DRAWING_REQUEST) is None and not engine.jobs
    run = registry.shared(DRAWING_REQUEST)
    (job,) = engine.jobs.values()
    engine.start(job)
    engine.end(job, JobResult(model.get_weights(), history(), 20.0, "completed", None, evaluation()))
    registry.model(run)  # the first page that shows it stores it
    found = store.find(DRAWING_NETWORK_NAME, SPEC, STYLE, DATA)
    assert found is not None and found.seconds == 20.0
    fresh = RunRegistry(HandDrivenEngine(), networks=store, fingerprint=lambda: DATA)  # a restarted server
    assert fresh.ready_shared(DRAWING_REQUEST).accuracy == 0.93


def test_a_stored_network_that_did_not_learn_is_not_stored(tmp_path, model):
    store = NetworkStore(tmp_path)
    engine = HandDrivenEngine()
    registry = RunRegistry(engine, networks=store, fingerprint=lambda: DATA)
    run = registry.shared(DRAWING_REQUEST)
    (job,) = engine.jobs.values()
    engine.end(job, JobResult(model.get_weights(), history(), 20.0, "completed", None, evaluation(0.1)))
    registry.model(run)
    assert not store.record_path(DRAWING_NETWORK_NAME).exists()


def test_the_settings_follow_the_data_at_hand():
    assert drawing_training(4000) == DRAWING_TRAINING  # the offline recipe, unchanged
    lesson, full = drawing_training(60_000), drawing_training(60_000, at_prefetch=True)
    assert lesson.train_size == 0 and 1 <= lesson.epochs < DRAWING_TRAINING.epochs
    assert full.train_size == 0 and full.epochs == DRAWING_TRAINING.epochs
    assert drawing_request(60_000).config == lesson and drawing_request(4000).config == DRAWING_TRAINING


def test_the_expected_time_follows_the_data_and_a_measured_training(tmp_path, model):
    registry = RunRegistry(HandDrivenEngine(), networks=NetworkStore(tmp_path), fingerprint=lambda: DATA)
    estimated = registry.expected_seconds(DRAWING_REQUEST)
    stored(tmp_path, model)
    run = registry.ready_shared(DRAWING_REQUEST)  # it trained in 21 s here
    assert registry.expected_seconds(DRAWING_REQUEST) == pytest.approx(21.0)
    assert estimated != pytest.approx(21.0)
    assert run is not None



def test_the_draw_page_reads_with_a_stored_network_at_once_and_says_when_it_is_unsure(data_dir, model, mnist):
    from app_pages import server

    server.run_registry.clear()  # a freshly started server, with a network for drawings in its data folder
    try:
        draw_with_a_stored_untrained_network(model, mnist)
    finally:
        server.run_registry.clear()  # the next test's server has not seen this network


def draw_with_a_stored_untrained_network(model, mnist):
    from kerasways.calibration import Calibration
    from kerasways.data import data_fingerprint
    from kerasways.stored_network import calibration_record
    from tests.support import app_test, canvas_state, digit_canvas

    untrained = StoredNetwork(SPEC, STYLE, DRAWING_TRAINING, [], history(), evaluation(), 21.0, data_fingerprint(),
                              calibration_record(Calibration(1.25, 0.03, 0.01, 400)))
    assert NetworkStore().save(DRAWING_NETWORK_NAME, model, untrained)  # its weights are as initialised: unsure
    at = app_test()
    at.switch_page("app_pages/draw_page.py").run()
    assert not at.exception
    assert not any(button.key == "quick_train" for button in at.button)  # nothing to train, nothing to wait for
    (chosen,) = next(box for box in at.selectbox if box.key == "w_draw_run").options
    assert "CNN for drawings" in chosen and "93.00%" in chosen  # the stored network, with its test accuracy
    at.session_state["canvas"] = canvas_state(digit_canvas(mnist.x_test[0]))
    at.run()
    assert not at.exception, at.exception
    unsure = [caption.value for caption in at.caption if caption.value.startswith("Not sure")]
    assert unsure and unsure[0].count("**") == 6  # its three likeliest digits
    why = next(expander for expander in at.expander if expander.label == "Why 99% isn't a promise")
    assert "T = 1.25" in why.markdown[0].value and "def fold_temperature" in why.code[0].value
