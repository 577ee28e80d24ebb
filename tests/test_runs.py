"""Where a run lives: its history, its state, its rebuilt model, the registry's memory and a session's book.

The fast tests drive the registry through `HandDrivenEngine`, a `TrainingEngine` the test moves by hand
(no process); the slow ones use the real process pool.
"""

import random
import time
from types import SimpleNamespace

import numpy as np
import pytest

from kerasways import i18n
from kerasways.budget import LIMIT_ENV, TrainingTooLong, estimated_seconds
from kerasways.build import build_model, rebuild_model
from kerasways.compare import seeds_from
from kerasways.engine import (
    EngineStatus,
    Job,
    JobResult,
    OwnerBusyError,
    QueueFullError,
    RunState,
    TrainingEngine,
    TrainingRequest,
)
from kerasways.jobs import JobPool
from kerasways.messages import Message, UserError
from kerasways.runs import Book, NotYours, RunRegistry, network_name
from kerasways.spec import PRESETS, LayerSpec, ModelSpec, TrainConfig
from kerasways.training import History, Progress
from tests.support import poll_until

QUICK = TrainConfig(epochs=2, train_size=1000)
QUEUED, RUNNING, PAUSED, DONE = RunState.QUEUED, RunState.RUNNING, RunState.PAUSED, RunState.DONE


def request(spec=None, style="functional", config=QUICK, **extras):
    return TrainingRequest(spec or ModelSpec(), style, config, **extras)


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


class HandDrivenEngine:
    """A TrainingEngine without workers: the test starts, reports and ends each job itself."""

    def __init__(self):
        self.jobs: dict[str, Job] = {}
        self.listeners = {}
        self.stop_asked: list[str] = []

    def submit(self, requests, owner="", owner_alive=None, listener_factory=None):
        if owner and any(job.owner == owner and not job.finished for job in self.jobs.values()):
            raise OwnerBusyError(Message("You already have a training running; stop it or wait for it to finish."))
        jobs = []
        for asked in requests:
            job = Job(id=f"job-{len(self.jobs) + 1}-test", owner=owner, request=asked, submitted_at=time.time())
            self.listeners[job.id] = listener_factory(job) if listener_factory else None
            self.jobs[job.id] = job
            jobs.append(job)
        return jobs

    def start(self, job):
        job.state = RUNNING

    def report(self, job, progress_report):
        job.progress = progress_report
        self.listeners[job.id].on_progress(progress_report)

    def end(self, job, result):
        self.listeners[job.id].on_result(result)
        job.result, job.finished_at, job.state = result, time.time(), DONE

    def stop(self, job_id):
        job = self.jobs[job_id]
        if job.state is QUEUED:
            job.state, job.finished_at = RunState.CANCELLED, time.time()
        elif job.state is RUNNING:
            self.stop_asked.append(job_id)

    def cancel(self, job_id):
        job = self.jobs[job_id]
        job.state, job.finished_at = RunState.CANCELLED, time.time()

    def adopt(self, job_id, owner, owner_alive=None):
        job = self.jobs.get(job_id)
        if job is not None:
            job.owner = owner
        return job

    def position(self, job_id):
        return None  # like an engine that cannot tell the queue's order

    def status(self):
        states = [job.state for job in self.jobs.values()]
        return EngineStatus(workers=1, ready=1, busy=states.count(RUNNING), queued=states.count(QUEUED))

    def data_description(self):
        return "Ten test digits."

    def data_size(self):
        return 4000  # the offline digits

    def close(self):
        pass


def history_of(epochs: int, steps_per_epoch: int = 2) -> History:
    losses = [1.0 - 0.1 * step for step in range(epochs * steps_per_epoch)]
    return History(batch_loss=losses, batch_accuracy=[0.9] * len(losses), epoch_loss=[0.5] * epochs,
                   epoch_accuracy=[0.9] * epochs, val_loss=[None] * epochs, val_accuracy=[None] * epochs,
                   steps_per_epoch=steps_per_epoch)


def stopped_after(epochs_done: int, step: int = 0, accuracy: float = 0.95) -> JobResult:
    """What a job that stopped resumable brings back (its weights are not looked at here)."""
    return JobResult(weights=[], history=history_of(epochs_done), seconds=1.5, status="stopped",
                     message=Message("Stopped after epoch {epoch} of {total}, as asked; the weights so far are kept.",
                                     {"epoch": epochs_done, "total": 5}),
                     evaluation=SimpleNamespace(accuracy=accuracy),
                     state=SimpleNamespace(epochs_done=epochs_done, step=step))


def completed(epochs: int, accuracy: float = 0.95) -> JobResult:
    return JobResult(weights=[], history=history_of(epochs), seconds=3.14, status="completed", message=Message(""),
                     evaluation=SimpleNamespace(accuracy=accuracy))


@pytest.fixture()
def hand():
    engine = HandDrivenEngine()
    return engine, RunRegistry(engine)


def test_the_hand_driven_engine_is_a_training_engine():
    assert isinstance(HandDrivenEngine(), TrainingEngine)


def test_a_run_states_where_it_is_and_pages_ask_the_registry_where_it_waits(hand):
    engine, registry = hand
    (run,) = Book(registry).submit([request()], owner="tab")
    assert run.state is QUEUED and run.active and not run.finished
    assert registry.waiting_position(run) is None  # the engine cannot tell: "waiting" all the same
    assert registry.engine_status().queued == 1 and registry.data_description() == "Ten test digits."
    engine.start(run.job)
    assert run.state is RUNNING and registry.waiting_position(run) == 0
    engine.end(run.job, completed(2))
    assert run.state is DONE and run.finished and run.trained and run.accuracy == 0.95


def test_the_finished_history_is_in_place_before_anyone_reads_the_result(hand):
    engine, registry = hand
    (run,) = Book(registry).submit([request()], owner="tab")
    engine.start(run.job)
    engine.report(run.job, progress(1, 2, [1.0, 0.9]))
    assert run.result is None and len(run.history.snapshot()[0]) == 2
    engine.end(run.job, completed(2))
    losses, _, epochs, steps = run.history.snapshot()  # run.result was not read: nothing to trigger
    assert len(losses) == 4 and len(epochs) == 2 and steps == 2


def test_a_stepped_run_is_paused_and_says_so_in_the_readers_language(hand):
    engine, registry = hand
    book = Book(registry)
    (run,) = book.submit([request(ModelSpec(seed=42), config=TrainConfig(epochs=5))], owner="tab", one_epoch=True)
    assert run.job.request.options == {"stop_at_epoch": 1}
    engine.start(run.job)
    engine.end(run.job, stopped_after(epochs_done=2, step=1200))
    assert run.state is PAUSED and run.paused and run.finished and not book.active()
    assert run.id in book.link_ids()
    kind, message = run.outcome()
    assert kind == "paused"
    assert i18n.render(message, "zh") == (
        "已暂停（第 3 轮（共 5 轮），第 1,200 批之后）：目前的权重已保留。可以继续训练，或一次训练一轮。")
    assert i18n.render(run.title(), "zh") == "参考 MLP · 函数式 API · 随机种子 42 · 95.00% · 暂停于第 2 轮"
    assert str(run.title()) == "Reference MLP · Functional API · seed 42 · 95.00% · paused at epoch 2"


def test_a_completed_run_says_how_long_it_took_in_the_readers_language(hand):
    engine, registry = hand
    (run,) = Book(registry).submit([request()], owner="tab")
    engine.start(run.job)
    engine.end(run.job, completed(1))
    kind, message = run.outcome()
    assert kind == "completed"
    assert str(message) == "Trained 1 epoch (2 steps) in 3.1 s."
    assert i18n.render(message, "zh") == "训练了 1 轮（2 步），用时 3.1 秒。"


def test_a_second_training_while_one_runs_is_refused_in_the_readers_language(hand):
    engine, registry = hand
    book = Book(registry)
    book.submit([request()], owner="tab")
    with pytest.raises(OwnerBusyError) as refused:
        book.submit([request()], owner="tab")
    assert i18n.render(refused.value, "zh") == "你的训练（函数式 API）仍在进行：请先停止，或等它结束。"


def test_resume_continues_in_a_new_job_and_a_pause_before_it_starts_goes_back(hand):
    engine, registry = hand
    (run,) = Book(registry).submit([request(config=TrainConfig(epochs=3))], owner="tab", one_epoch=True)
    first = run.job
    engine.start(first)
    engine.end(first, stopped_after(epochs_done=1))
    registry.resume(run, owner="tab")
    resumed = run.job
    assert resumed is not first and resumed.request.options == {"resume": first.result.state}
    assert run.state is QUEUED and run.id == first.id and registry.can_pause(run)
    registry.pause(run, by="tab")  # the resumed part had not started: the run is its paused part again
    assert run.job is first and run.paused and run.epochs_done == 1
    registry.resume(run, owner="tab", one_epoch=True)
    engine.start(run.job)
    assert run.job.request.options["stop_at_epoch"] == 2
    registry.finish(run, by="tab")  # Stop while training: the engine stops it after its step
    assert engine.stop_asked == [run.job.id]
    engine.end(run.job, stopped_after(epochs_done=2))
    assert run.state is DONE and not run.paused and run.outcome().kind == "stopped"
    assert i18n.render(run.outcome().message, "zh") == "按要求在第 2 轮（共 5 轮）后停止；目前的权重已保留。"


def test_stop_on_a_paused_run_ends_it_with_its_weights(hand):
    engine, registry = hand
    (run,) = Book(registry).submit([request()], owner="tab", one_epoch=True)
    engine.start(run.job)
    engine.end(run.job, stopped_after(epochs_done=1))
    registry.finish(run, by="tab")
    assert run.state is DONE and run.trained and registry.can_pause(run) is False
    with pytest.raises(UserError, match="Only a paused training can be resumed"):
        registry.resume(run, owner="tab")


def test_only_the_browser_that_started_a_run_or_the_teacher_controls_it(hand):
    engine, registry = hand
    (run,) = Book(registry).submit([request(config=TrainConfig(epochs=3))], owner="browser:a", one_epoch=True)
    engine.start(run.job)
    assert registry.may_control(run, "browser:a") and registry.may_control(run, "browser:b", teacher=True)
    assert not registry.may_control(run, "browser:b") and not registry.may_control(run, "")
    for move in (registry.pause, registry.finish, registry.cancel):
        with pytest.raises(NotYours, match="started in another browser"):
            move(run, by="browser:b")
    assert engine.stop_asked == [] and run.state is RUNNING  # nothing happened to it
    engine.end(run.job, stopped_after(epochs_done=1))
    assert run.paused  # a paused run is owned like a running one
    with pytest.raises(NotYours):
        registry.resume(run, owner="browser:b")
    registry.resume(run, owner="browser:a")
    registry.cancel(run, by="browser:b", teacher=True)  # the teacher's cancel in the queue
    assert run.paused and run.job.state is RunState.DONE  # its waiting part dropped, the weights kept


def test_a_link_gives_a_run_back_only_to_the_browser_that_started_it(hand):
    engine, registry = hand
    book = Book(registry)
    (run,) = book.submit([request()], owner="browser:a")
    engine.start(run.job)
    engine.end(run.job, completed(2))
    stranger = Book(registry)
    assert stranger.reattach(book.link_ids(), owner="browser:b") == {"running": 0, "finished": 0, "missing": 0,
                                                                     "others": 1}
    assert stranger.runs() == [] and registry.adopt(run.id, "browser:b") is None
    again = Book(registry)  # a reload, or a new tab of the same browser
    assert again.reattach(book.link_ids(), owner="browser:a")["finished"] == 1 and again.runs() == [run]


def test_the_class_shared_run_belongs_to_nobody_and_an_early_stop_is_never_handed_out(hand):
    engine, registry = hand
    student, other = Book(registry), Book(registry)
    shared = student.add_shared(request(), origin="draw")
    assert other.add_shared(request(), origin="draw") is shared  # one training for the class
    engine.start(shared.job)
    assert not registry.may_control(shared, "") and not registry.may_control(shared, "browser:a")
    with pytest.raises(NotYours, match="Only the teacher"):
        registry.finish(shared, by="browser:a")
    assert other.reattach([shared.id], owner="browser:c")["running"] == 1  # anyone may follow it
    registry.finish(shared, by="browser:t", teacher=True)
    engine.end(shared.job, stopped_after(epochs_done=1))
    assert shared.outcome().kind == "stopped"
    assert student.runs() == [] and other.trained() == []  # nobody keeps the cut-short model
    fresh = Book(registry).add_shared(request(), origin="draw")
    assert fresh is not shared and fresh.state is QUEUED  # the next student trains it anew
    engine.start(fresh.job)
    engine.end(fresh.job, completed(2))
    assert Book(registry).add_shared(request(), origin="draw") is fresh  # trained to the end: shared at once


def test_the_teacher_sees_every_active_run(hand):
    engine, registry = hand
    (first,) = Book(registry).submit([request()], owner="browser:a")
    (second,) = Book(registry).submit([request()], owner="browser:b")
    engine.start(first.job)
    engine.end(first.job, completed(2))
    assert registry.active_runs() == [second]


def test_before_is_the_closest_run_without_the_class_digits(hand):
    engine, registry = hand
    book = Book(registry)
    spec = ModelSpec(seed=3)
    planned = [request(PRESETS["small-cnn"].spec), request(spec, "sequential"), request(spec, "functional"),
               request(spec.replace(seed=4), "functional")]
    runs = []
    for asked in planned:
        (run,) = book.submit([asked], owner="tab")
        engine.start(run.job)
        engine.end(run.job, completed(2))
        runs.append(run)
    with_digits = []
    for network in (spec, PRESETS["mlp-dropout"].spec):
        (run,) = book.submit([request(network, "functional", class_digits="the class's drawings")], owner="tab")
        engine.start(run.job)
        engine.end(run.job, completed(2))
        with_digits.append(run)
    assert with_digits[0].class_train == "the class's drawings"
    assert book.before(with_digits[0]) is runs[2]  # same spec, settings and way; the newer seed 4 comes second
    assert book.before(with_digits[1]) is None  # no run of that network without the class's digits


@pytest.fixture(scope="module")
def registry():
    pool = JobPool(workers=1, data_source="bundled")
    yield RunRegistry(pool)
    pool.close()


def wait_until(condition, seconds=180.0):
    poll_until(condition, seconds, pause=0.1)


@pytest.mark.slow
def test_a_group_is_in_the_book_its_runs_are_all_usable_and_a_reload_finds_them(registry):
    book = Book(registry)
    requests = [request(ModelSpec(), style) for style in ("sequential", "functional", "subclassing")]
    group = book.submit(requests, owner="tab-1", origin="compare")
    assert book.latest_group() == group and len({run.group for run in group}) == 1
    with pytest.raises(OwnerBusyError):
        book.submit([request(style="sequential")], owner="tab-1")
    wait_until(lambda: all(run.finished for run in group))
    assert [run.style for run in book.trained()] == ["sequential", "functional", "subclassing"]
    first = group[0]
    assert len(first.history.snapshot()[0]) == 2 * first.history.steps_per_epoch  # streamed, then completed
    # A reload is a new session with an empty book: the link's run ids bring every run back.
    reloaded = Book(registry)
    assert Book(registry).reattach(book.link_ids(), owner="another browser") == {
        "running": 0, "finished": 0, "missing": 0, "others": 3}  # a link names a set-up, not somebody's runs
    counts = reloaded.reattach(book.link_ids(), owner="tab-1")
    assert counts == {"running": 0, "finished": 3, "missing": 0, "others": 0}
    assert [run.id for run in reloaded.trained()] == [run.id for run in group]
    # Two seeds of one network share one compiled predict step; the rebuilt model reads like the worker's.
    assert group[0].predict_key != group[1].predict_key  # the way is part of the architecture
    model = registry.model(first)
    assert registry.model(first) is model  # rebuilt once


@pytest.mark.slow
def test_finished_runs_expire_and_the_book_forgets_them(registry):
    book = Book(registry)
    (run,) = book.submit([request(style="sequential")], owner="tab-3")
    wait_until(lambda: run.finished)
    assert registry.get(run.id) is run
    keep = registry.keep_seconds
    registry.keep_seconds = 0.0
    try:
        time.sleep(0.01)
        assert registry.get(run.id) is None
        assert book.runs() == [] and book.link_ids() == []
        assert Book(registry).reattach([run.id], owner="tab-3") == {"running": 0, "finished": 0, "missing": 1,
                                                                      "others": 0}
    finally:
        registry.keep_seconds = keep


@pytest.mark.slow
def test_a_class_pressing_the_same_train_now_button_shares_one_training(registry):
    asked = request(ModelSpec(seed=5))
    first, second = Book(registry), Book(registry)
    run = first.add_shared(asked)
    assert second.add_shared(request(ModelSpec(seed=5))) is run  # still training: the second student watches it
    wait_until(lambda: run.finished)
    late = Book(registry).add_shared(request(ModelSpec(seed=5)))
    assert late is run and late.trained  # finished: the result is there at once
    other = Book(registry).add_shared(request(ModelSpec(seed=6)))
    assert other is not run  # other settings train anew
    wait_until(lambda: other.finished)


@pytest.mark.slow
def test_pause_resume_and_one_epoch_at_a_time_continue_one_run(registry):
    book = Book(registry)
    config = TrainConfig(epochs=3, train_size=1000)
    (run,) = book.submit([request(ModelSpec(seed=11), "sequential", config)], owner="teacher", one_epoch=True)
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
    (straight,) = Book(registry).submit([request(ModelSpec(seed=11), "sequential", config)], owner="student")
    wait_until(lambda: straight.finished)
    assert straight.history.snapshot()[0] == losses
    assert run.outcome()[0] in ("completed", "not_learned")


@pytest.mark.slow
def test_pause_or_stop_while_a_resumed_run_waits_for_a_worker_takes_effect_at_once(registry):
    book = Book(registry)
    (run,) = book.submit([request(ModelSpec(seed=12), "sequential", TrainConfig(epochs=3, train_size=1000))],
                         owner="teacher", one_epoch=True)
    wait_until(lambda: run.paused)
    losses = run.history.snapshot()[0]
    # Another student's long training holds the only worker, so the resumed part has to wait.
    (busy,) = Book(registry).submit([request(PRESETS["small-cnn"].spec, "sequential", TrainConfig(epochs=100))],
                                    owner="other")
    wait_until(lambda: busy.state is RUNNING)
    try:
        registry.resume(run, owner="teacher")
        assert run.state is QUEUED and registry.can_pause(run)
        registry.pause(run, by="teacher")  # used to be ignored until a worker took the resumed part
        assert run.paused and run.epochs_done == 1
        registry.resume(run, owner="teacher")
        registry.finish(run, by="teacher")  # Stop while it waits: ended at once, with the weights of epoch 1
        assert run.finished and not run.paused and run.outcome()[0] in ("stopped", "not_learned")
        assert run.epochs_done == 1 and run.history.snapshot()[0] == losses
        assert registry.model(run) is not None
        (fresh,) = Book(registry).submit([request(ModelSpec(seed=13), "sequential")], owner="third")
        assert fresh.state is QUEUED and not registry.can_pause(fresh)  # nothing trained yet to pause
        registry.finish(fresh, by="third")  # a new run still waiting is simply cancelled
        assert fresh.state is RunState.CANCELLED
    finally:
        registry.engine.cancel(busy.job.id)
        wait_until(lambda: busy.finished)


@pytest.mark.slow
def test_a_reload_during_train_all_three_reattaches_to_the_whole_group(registry):
    page_open = {"old tab": True}  # one browser: its old tab, then the reloaded page
    book = Book(registry)
    long = TrainConfig(epochs=30, train_size=2000)
    group = book.submit([request(ModelSpec(seed=21), style, long)
                         for style in ("sequential", "functional", "subclassing")],
                        owner="browser", owner_alive=lambda: page_open["old tab"], origin="compare")
    wait_until(lambda: group[0].state is RUNNING)
    page_open["old tab"] = False  # the reload: the old page disconnects, a new session opens the link
    reloaded = Book(registry)
    counts = reloaded.reattach(book.link_ids(), owner="browser", owner_alive=lambda: True)
    assert counts == {"running": 3, "finished": 0, "missing": 0, "others": 0}
    assert reloaded.latest_group() == group and all(run.job.owner == "browser" for run in group)
    for run in group:
        registry.engine.cancel(run.job.id)


# What a tester asked for (every setting valid): about 16 hours of a worker on the offline digits.
HUGE = request(ModelSpec(layers=(LayerSpec("conv2d", units=256, kernel_size=3),) * 11),
               config=TrainConfig(epochs=100, batch_size=1))


def test_a_request_over_the_budget_is_refused_before_anything_is_queued(hand):
    engine, registry = hand
    book = Book(registry)
    with pytest.raises(TrainingTooLong) as refused:
        book.submit([HUGE], owner="tab")
    assert " of training: more than the 5 min this server allows for one request." in str(refused.value.message)
    assert engine.jobs == {} and book.runs() == [] and registry.engine_status().queued == 0
    with pytest.raises(TrainingTooLong):
        book.add_shared(HUGE)  # the Draw page's way in is checked too
    assert engine.jobs == {}
    (run,) = book.submit([request()], owner="tab")  # a request that fits goes through, its estimate kept
    assert run.estimated_seconds == pytest.approx(estimated_seconds(request(), registry.data_size()))


def test_the_limit_comes_from_the_servers_environment_and_a_resume_counts_what_is_left(monkeypatch):
    asked = request(config=TrainConfig(epochs=20, batch_size=1))  # mostly steps: an epoch is a twentieth
    whole = estimated_seconds(asked, 4000)
    monkeypatch.setenv(LIMIT_ENV, str(whole / 2))  # the operator's choice: less than the whole training
    engine = HandDrivenEngine()
    registry = RunRegistry(engine)
    assert registry.max_training_seconds == whole / 2
    with pytest.raises(TrainingTooLong):
        Book(registry).submit([asked], owner="tab")
    (run,) = Book(registry).submit([asked], owner="tab", one_epoch=True)  # one epoch of it fits
    engine.start(run.job)
    engine.end(run.job, stopped_after(epochs_done=19))
    registry.resume(run, owner="tab")  # the last epoch fits as well
    assert run.state is QUEUED and run.estimated_seconds < whole / 2


def test_train_all_three_with_five_seeds_is_one_request_and_two_tabs_of_one_browser_get_one():
    """The real engine's rules, with no worker started: a group of 15 jobs counts as one request of its
    owner; a second tab of the same browser (the same owner, another Book) is refused while it is active."""
    pool = JobPool(workers=1, start_workers=False)
    pool.start = lambda: None  # the jobs wait in the queue; no process is started
    registry = RunRegistry(pool)
    first_tab, second_tab = Book(registry), Book(registry)
    fifteen = [request(ModelSpec(seed=seed), style, TrainConfig())
               for seed in seeds_from(42, 5) for style in ("sequential", "functional", "subclassing")]
    assert registry.estimate(fifteen).fits
    group = first_tab.submit(fifteen, owner="browser-1", origin="compare")
    assert len(group) == 15 and len({run.group for run in group}) == 1
    with pytest.raises(OwnerBusyError):
        second_tab.submit([request()], owner="browser-1")
    (classmate,) = Book(registry).submit([request()], owner="browser-2")
    assert registry.waiting_position(classmate) == 2  # after one of the group's jobs, not after all fifteen
    for run in group:
        pool.cancel(run.job.id)
    (again,) = second_tab.submit([request()], owner="browser-1")  # once the group is over, the browser may train
    assert again.state is QUEUED
    pool.close()


def test_three_browsers_pressing_train_all_three_with_five_seeds_leave_room_and_a_turn_for_a_fourth():
    """45 jobs used to fill the 40-job queue: everyone after waited outside. Requests are what is counted."""
    pool = JobPool(workers=2, start_workers=False, max_queued=4)
    pool.start = lambda: None  # the jobs wait in the queue; no process is started
    registry = RunRegistry(pool)
    fifteen = [request(ModelSpec(seed=seed), style, TrainConfig())
               for seed in seeds_from(42, 5) for style in ("sequential", "functional", "subclassing")]
    groups = [Book(registry).submit(fifteen, owner=f"browser-{index}", origin="compare") for index in range(3)]
    (fresh,) = Book(registry).submit([request()], owner="fresh student")
    assert registry.waiting_position(fresh) == 4  # behind one job of each group, never behind their 45
    with pytest.raises(QueueFullError):
        Book(registry).submit([request()], owner="one too many")  # four requests wait: the limit
    for run in [run for group in groups for run in group] + [fresh]:
        pool.cancel(run.job.id)
    pool.close()
