"""The worker pool: jobs complete, weights come back, stop/cancel, crashes, one job per user."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from kerasways.build import build_model
from kerasways.evaluate import predict_probabilities
from kerasways.jobs import CANCELLED, DONE, FAILED, JobPool, OwnerBusyError
from kerasways.spec import ModelSpec, TrainConfig
from support.app_server import ROOT
from tests.support import poll_until

QUICK = TrainConfig(epochs=1, train_size=1000)
LONG = TrainConfig(epochs=100, batch_size=1)  # minutes: the engine finishes 100 epochs of 32 in seconds


def wait_for(condition, timeout=120.0):
    poll_until(condition, timeout, pause=0.05)


@pytest.fixture(scope="module")
def pool():
    pool = JobPool(workers=1, data_source="bundled")
    yield pool
    pool.close()


def test_a_job_completes_and_its_weights_predict_like_the_workers_model(pool, mnist):
    job = pool.submit(ModelSpec(), "subclassing", QUICK, owner="alice")
    wait_for(lambda: job.finished)
    assert job.state == DONE, job.error
    assert job.result.status == "completed"
    assert len(job.result.history.batch_loss) == job.result.history.steps_per_epoch
    model = build_model(job.spec, job.style)
    model.set_weights(job.result.weights)
    predicted = predict_probabilities(model, mnist.x_test).argmax(axis=1)
    # The worker evaluated its own model on the same digits: the rebuilt one agrees exactly.
    assert (predicted == mnist.y_test).mean() == pytest.approx(job.result.evaluation.accuracy)


def test_one_user_cannot_run_two_jobs_and_others_queue_with_a_position(pool):
    first = pool.submit(ModelSpec(), "sequential", LONG, owner="bob")
    with pytest.raises(OwnerBusyError):
        pool.submit(ModelSpec(), "functional", QUICK, owner="bob")
    second = pool.submit(ModelSpec(), "functional", QUICK, owner="carol")
    wait_for(lambda: first.state == "running")
    assert pool.position(second) == 1
    pool.cancel(second.id)
    assert second.state == CANCELLED and pool.position(second) == 0
    wait_for(lambda: first.progress is not None)
    pool.stop(first.id)
    wait_for(lambda: first.finished)
    assert first.state == DONE and first.result.status == "stopped"
    assert 0 < len(first.result.history.batch_loss) < 100 * first.result.history.steps_per_epoch


def test_cancel_frees_the_worker_for_the_next_job(pool):
    running = pool.submit(ModelSpec(), "sequential", LONG, owner="dave")
    wait_for(lambda: running.progress is not None)
    pool.cancel(running.id)
    assert running.state == CANCELLED
    next_job = pool.submit(ModelSpec(), "sequential", QUICK, owner="erin")
    wait_for(lambda: next_job.finished)
    assert next_job.state == DONE and running.result is None


def test_a_closed_browser_cancels_its_job(pool, monkeypatch):
    monkeypatch.setattr("kerasways.jobs.OWNER_GONE_GRACE_SECONDS", 0.5)
    connected = {"yes": True}
    job = pool.submit(ModelSpec(), "sequential", LONG, owner="frank", owner_alive=lambda: connected["yes"])
    wait_for(lambda: job.progress is not None)
    connected["yes"] = False
    wait_for(lambda: job.finished, timeout=30)
    assert job.state == CANCELLED and "browser tab" in job.error
    wait_for(lambda: pool.status()["busy"] == 0, timeout=10)  # its worker is freed within moments


def test_a_killed_worker_fails_its_job_with_a_message_and_is_replaced(pool):
    job = pool.submit(ModelSpec(), "functional", LONG, owner="grace")
    wait_for(lambda: job.progress is not None)
    old_pid = pool.worker_pids()[0]
    os.kill(old_pid, signal.SIGKILL)
    wait_for(lambda: job.finished)
    assert job.state == FAILED and "stopped unexpectedly" in job.error and "Start" in job.error
    assert pool.worker_pids()[0] != old_pid
    retry = pool.submit(ModelSpec(), "functional", QUICK, owner="grace")
    wait_for(lambda: retry.finished)
    assert retry.state == DONE
    assert np.isfinite(retry.result.evaluation.accuracy)


def test_a_reloaded_page_reattaches_but_an_open_page_keeps_its_job(pool):
    old_page = {"open": True}
    job = pool.submit(ModelSpec(), "sequential", LONG, owner="heidi", owner_alive=lambda: old_page["open"])
    wait_for(lambda: job.progress is not None)
    assert pool.adopt(job.id, "someone-with-the-link", wait_seconds=0.3) is None  # the page is still open
    old_page["open"] = False  # reload: the old page disconnects, the new one asks for the job
    assert pool.adopt(job.id, "heidi-after-reload", lambda: True) is job
    assert job.owner == "heidi-after-reload" and job.state == "running"
    assert pool.adopt("job-0-unknown", "heidi") is None
    pool.cancel(job.id)
    wait_for(lambda: pool.status()["busy"] == 0)


@pytest.mark.slow
def test_a_worker_retires_after_its_share_of_jobs_without_losing_any():
    pool = JobPool(workers=1, data_source="bundled", max_jobs_per_worker=2)
    try:
        first_pid = pool.worker_pids()[0]
        jobs = []
        for number in range(3):
            jobs.append(pool.submit(ModelSpec(), "sequential", QUICK, owner=f"student-{number}"))
            wait_for(lambda: jobs[-1].finished)
        assert [job.state for job in jobs] == [DONE, DONE, DONE]
        assert pool.worker_pids()[0] != first_pid  # a fresh process took over after two jobs
        assert pool.status()["crashes"] == 0
    finally:
        pool.close()


def test_the_queue_is_round_robin_over_users(pool):
    busy = pool.submit(ModelSpec(), "sequential", LONG, owner="teacher")
    wait_for(lambda: busy.state == "running")
    seeds = pool.submit_many([(ModelSpec(seed=seed), "functional", QUICK) for seed in range(5)], owner="ivan")
    single = pool.submit(ModelSpec(), "subclassing", QUICK, owner="judy")
    # Ivan's first job and Judy's only job both come before Ivan's second.
    assert pool.position(seeds[0]) == 1 and pool.position(single) == 2
    assert [pool.position(job) for job in seeds[1:]] == [3, 4, 5, 6]
    for job in [busy, *seeds, single]:
        pool.cancel(job.id)
    wait_for(lambda: pool.status()["busy"] == 0)


@pytest.mark.slow  # starts a Python process
def test_a_spawned_worker_running_the_app_script_does_nothing():
    """multiprocessing's "spawn" runs the app's main script again in every training worker."""
    probe = ("import runpy, sys; runpy.run_path('app.py', run_name='__mp_main__'); "
             "print(sorted(name for name in sys.modules if name.split('.')[0] in ('streamlit', 'app_pages')))")
    completed = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip() == "[]"
