"""The worker pool: jobs complete, weights come back, stop/cancel, crashes, one job per user."""

import multiprocessing
import os
import pickle
import signal
import subprocess
import sys

import numpy as np
import pytest

from kerasways import i18n
from kerasways.build import build_model
from kerasways.engine import JobResult, OwnerBusyError, RunState, TrainingEngine, TrainingRequest
from kerasways.evaluate import predict_probabilities
from kerasways.jobs import JobFailed, JobPool, JobTrained, Task
from kerasways.messages import Message
from kerasways.spec import ModelSpec, TrainConfig
from kerasways.training import History
from support.app_server import ROOT
from tests.support import poll_until

QUICK = TrainConfig(epochs=1, train_size=1000)
LONG = TrainConfig(epochs=100, batch_size=1)  # minutes: the engine finishes 100 epochs of 32 in seconds
DONE, FAILED, CANCELLED, RUNNING = RunState.DONE, RunState.FAILED, RunState.CANCELLED, RunState.RUNNING


def submit(pool, spec, style, config, owner, owner_alive=None):
    """One job through the engine interface."""
    (job,) = pool.submit([TrainingRequest(spec, style, config)], owner=owner, owner_alive=owner_alive)
    return job


OTHER_WORKERS: set[int] = set()  # workers of pools other tests in this process left running (the app's)


def worker_pids() -> list[int]:
    """The training workers of the module's one-worker pool."""
    return [child.pid for child in multiprocessing.active_children()
            if child.name == "kerasways-worker" and child.pid not in OTHER_WORKERS]


def wait_for(condition, timeout=120.0):
    poll_until(condition, timeout, pause=0.05)


@pytest.fixture(scope="module")
def pool():
    OTHER_WORKERS.update(child.pid for child in multiprocessing.active_children())
    pool = JobPool(workers=1, data_source="bundled")
    yield pool
    pool.close()


def test_a_job_completes_and_its_weights_predict_like_the_workers_model(pool, mnist):
    job = submit(pool, ModelSpec(), "subclassing", QUICK, owner="alice")
    wait_for(lambda: job.finished)
    assert job.state is DONE, job.error
    assert job.result.status == "completed"
    assert len(job.result.history.batch_loss) == job.result.history.steps_per_epoch
    model = build_model(job.spec, job.style)
    model.set_weights(job.result.weights)
    predicted = predict_probabilities(model, mnist.x_test).argmax(axis=1)
    # The worker evaluated its own model on the same digits: the rebuilt one agrees exactly.
    assert (predicted == mnist.y_test).mean() == pytest.approx(job.result.evaluation.accuracy)
    assert pool.data_size() == len(mnist.x_train)  # the worker said how many digits it trains on (the budget's)


def test_one_user_cannot_run_two_jobs_and_others_queue_with_a_position(pool):
    first = submit(pool, ModelSpec(), "sequential", LONG, owner="bob")
    with pytest.raises(OwnerBusyError):
        submit(pool, ModelSpec(), "functional", QUICK, owner="bob")
    second = submit(pool, ModelSpec(), "functional", QUICK, owner="carol")
    wait_for(lambda: first.state is RUNNING)
    assert pool.position(second.id) == 1
    pool.cancel(second.id)
    assert second.state is CANCELLED and pool.position(second.id) == 0
    wait_for(lambda: first.progress is not None)
    pool.stop(first.id)
    wait_for(lambda: first.finished)
    assert first.state is DONE and first.result.status == "stopped" and first.result.resumable
    assert 0 < len(first.result.history.batch_loss) < 100 * first.result.history.steps_per_epoch


def test_cancel_frees_the_worker_for_the_next_job(pool):
    running = submit(pool, ModelSpec(), "sequential", LONG, owner="dave")
    wait_for(lambda: running.progress is not None)
    pool.cancel(running.id)
    assert running.state is CANCELLED
    next_job = submit(pool, ModelSpec(), "sequential", QUICK, owner="erin")
    wait_for(lambda: next_job.finished)
    assert next_job.state is DONE and running.result is None


def test_a_closed_browser_cancels_its_job(pool, monkeypatch):
    monkeypatch.setattr("kerasways.jobs.OWNER_GONE_GRACE_SECONDS", 0.5)
    connected = {"yes": True}
    job = submit(pool, ModelSpec(), "sequential", LONG, owner="frank", owner_alive=lambda: connected["yes"])
    wait_for(lambda: job.progress is not None)
    connected["yes"] = False
    wait_for(lambda: job.finished, timeout=30)
    assert job.state is CANCELLED and "browser tab" in str(job.error)
    wait_for(lambda: pool.status().busy == 0, timeout=10)  # its worker is freed within moments


def test_a_killed_worker_fails_its_job_with_a_message_and_is_replaced(pool):
    job = submit(pool, ModelSpec(), "functional", LONG, owner="grace")
    wait_for(lambda: job.progress is not None)
    (old_pid,) = worker_pids()
    os.kill(old_pid, signal.SIGKILL)
    wait_for(lambda: job.finished)
    assert job.state is FAILED and "stopped unexpectedly" in str(job.error) and "Start" in str(job.error)
    assert worker_pids() and old_pid not in worker_pids()
    assert pool.status().crashes == 1
    retry = submit(pool, ModelSpec(), "functional", QUICK, owner="grace")
    wait_for(lambda: retry.finished)
    assert retry.state is DONE
    assert np.isfinite(retry.result.evaluation.accuracy)


def test_a_reloaded_page_reattaches_but_an_open_page_keeps_its_job(pool):
    old_page = {"open": True}
    job = submit(pool, ModelSpec(), "sequential", LONG, owner="heidi", owner_alive=lambda: old_page["open"])
    wait_for(lambda: job.progress is not None)
    assert pool.adopt(job.id, "someone-with-the-link", wait_seconds=0.3) is None  # the page is still open
    old_page["open"] = False  # reload: the old page disconnects, the new one asks for the job
    assert pool.adopt(job.id, "heidi-after-reload", lambda: True) is job
    assert job.owner == "heidi-after-reload" and job.state is RUNNING
    assert pool.adopt("job-0-unknown", "heidi") is None
    pool.cancel(job.id)
    wait_for(lambda: pool.status().busy == 0)


@pytest.mark.slow
def test_a_worker_retires_after_its_share_of_jobs_without_losing_any():
    before = set(worker_pids())  # the module's pool, if it is still running
    pool = JobPool(workers=1, data_source="bundled", max_jobs_per_worker=2)
    try:
        (first_pid,) = set(worker_pids()) - before
        jobs = []
        for number in range(3):
            jobs.append(submit(pool, ModelSpec(), "sequential", QUICK, owner=f"student-{number}"))
            wait_for(lambda: jobs[-1].finished)
        assert [job.state for job in jobs] == [DONE, DONE, DONE]
        assert first_pid not in worker_pids()  # a fresh process took over after two jobs
        assert pool.status().crashes == 0
    finally:
        pool.close()


def test_the_queue_is_round_robin_over_users(pool):
    busy = submit(pool, ModelSpec(), "sequential", LONG, owner="teacher")
    wait_for(lambda: busy.state is RUNNING)
    seeds = pool.submit([TrainingRequest(ModelSpec(seed=seed), "functional", QUICK) for seed in range(5)],
                        owner="ivan")
    single = submit(pool, ModelSpec(), "subclassing", QUICK, owner="judy")
    # Ivan's first job and Judy's only job both come before Ivan's second.
    assert pool.position(seeds[0].id) == 1 and pool.position(single.id) == 2
    assert [pool.position(job.id) for job in seeds[1:]] == [3, 4, 5, 6]
    for job in [busy, *seeds, single]:
        pool.cancel(job.id)
    wait_for(lambda: pool.status().busy == 0)


@pytest.mark.slow  # starts a Python process
def test_a_spawned_worker_running_the_app_script_does_nothing():
    """multiprocessing's "spawn" runs the app's main script again in every training worker."""
    probe = ("import runpy, sys; runpy.run_path('app.py', run_name='__mp_main__'); "
             "print(sorted(name for name in sys.modules if name.split('.')[0] in ('streamlit', 'app_pages')))")
    completed = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip() == "[]"


def test_the_process_pool_is_a_training_engine():
    """What the run registry relies on is all there (a second engine implements the same)."""
    assert issubclass(JobPool, TrainingEngine)


def test_what_crosses_a_pipe_arrives_whole():
    """Requests go to a worker and results come back pickled: a training's outcome message included."""
    request = TrainingRequest(ModelSpec(seed=3), "functional", QUICK, options={"stop_at_epoch": 1})
    outcome = Message("Stopped by request after {done} of {total} steps ({where}); the weights so far are kept.",
                      {"done": "5", "total": "10", "where": Message("after epoch {epoch}", {"epoch": 1})})
    result = JobResult(weights=[np.ones(3)], history=History(batch_loss=[0.5]), seconds=1.0, status="stopped",
                       message=outcome, evaluation=None)
    for sent in (Task("job-1", request), JobTrained("job-1", result), JobFailed("job-1", "ValueError: x")):
        arrived = pickle.loads(pickle.dumps(sent))
        assert type(arrived) is type(sent) and arrived.job_id == "job-1"
    arrived = pickle.loads(pickle.dumps(Task("job-1", request))).request
    assert (arrived.spec, arrived.style, arrived.config, arrived.options) == (
        request.spec, request.style, request.config, request.options)
    assert str(pickle.loads(pickle.dumps(result)).message) == str(outcome)
    refusal = Message("Only a paused training can be resumed; this one is no longer paused.")
    failed = pickle.loads(pickle.dumps(JobFailed("job-1", "UserError: …", refusal)))
    assert i18n.render(failed.error, "zh") == "只有已暂停的训练才能继续；这次训练已不再处于暂停状态。"
