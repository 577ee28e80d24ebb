"""Training jobs in a pool of pre-started worker processes, shared by every user of a server.

Why processes: a training thread inside the Streamlit server is starved by the server's
own work (DESIGN.md §2), and training inside the script thread dies on every rerun.
Each worker imports TensorFlow and loads the data once, then runs `training.train` for
one job at a time, streaming progress back through its own pipe. A pipe per worker
means a worker killed mid-message cannot corrupt what the others send.

The server side is one `JobPool`: a bounded queue served round robin over users, one
request (a job, or "train all three") per user at a time, stop (keep the weights so far)
and cancel (drop the job), and a pump thread that reads progress, replaces crashed
workers and hands queued jobs to idle workers.
"""

from __future__ import annotations

import atexit
import gc
import itertools
import multiprocessing
import multiprocessing.connection
import os
import secrets
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kerasways.i18n import N_
from kerasways.spec import ModelSpec, TrainConfig

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED_STATES = (DONE, FAILED, CANCELLED)
OWNER_GONE_GRACE_SECONDS = 10.0  # a page reconnecting after a network blip keeps its job
POLL_SECONDS = 0.1
KEEP_FINISHED_JOBS = 300
WORKER_NICENESS = 10
MAX_JOBS_PER_WORKER = 25


def _safe_call(owner_alive: Callable[[], bool]) -> bool:
    try:
        return bool(owner_alive())
    except Exception:
        return True  # unsure: treat the page as open, never cancel on a failing check


class QueueFullError(RuntimeError):
    """The server's job queue is full; try again in a moment."""


class OwnerBusyError(RuntimeError):
    """This user already has a job queued or running."""


@dataclass
class JobResult:
    """What a finished job sends back: weights as arrays, history and test results."""

    weights: list[np.ndarray]
    history: object  # training.History
    seconds: float
    status: str  # "completed", "stopped" or "nan" (see training.TrainResult)
    message: str
    evaluation: object  # evaluate.Evaluation
    state: object = None  # training.TrainState of a paused run, to resume it on any worker


@dataclass
class Job:
    """One training request and everything the page shows about it.

    The pump thread updates it; pages only read it.
    """

    id: str
    owner: str
    spec: ModelSpec
    style: str
    config: TrainConfig
    state: str = QUEUED
    progress: object = None  # latest training.Progress
    listener: Callable[[object], None] | None = None  # receives every Progress (see runs.Run)
    options: dict = field(default_factory=dict)  # extra keyword arguments for training.train
    class_digits: object = None  # collection.CollectionData mixed into the training digits
    result: JobResult | None = None
    error: str = ""
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    stop_requested: bool = False
    owner_alive: Callable[[], bool] | None = None
    owner_gone_since: float | None = None

    @property
    def finished(self) -> bool:
        """True once the job is done, failed or cancelled."""
        return self.state in FINISHED_STATES


# ---------------------------------------------------------------------------- worker side


def _worker_main(connection, cancel_event, threads: int, data_source: str, max_jobs: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Training is background work: pages and predictions of a whole class come first.
    os.nice(WORKER_NICENESS)
    import keras
    import tensorflow as tf

    from kerasways.data import load_mnist
    from kerasways.evaluate import evaluate
    from kerasways.training import train

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    data = load_mnist(data_source)
    gc.freeze()  # TensorFlow's long-lived objects: full collections need not walk them on every job
    connection.send(("ready", None, data.description))
    for jobs_done in itertools.count(1):
        try:
            task = connection.recv()
        except EOFError:
            return
        if task is None:
            return
        job_id, spec, style, config, options, class_digits = task
        try:
            training_data = data
            if class_digits is not None:
                from kerasways.collection import with_class_digits

                training_data = with_class_digits(data, class_digits, train_size=config.train_size, seed=spec.seed)
                config = config.replace(train_size=0)  # the subset was taken while mixing
            result = train(
                spec, style, config, training_data,
                on_progress=lambda progress, job_id=job_id: connection.send(("progress", job_id, progress)),
                should_stop=cancel_event.is_set,
                **options,
            )
            payload = JobResult(
                weights=result.model.get_weights(),
                history=result.history,
                seconds=result.seconds,
                status=result.status,
                message=result.message,
                evaluation=evaluate(result.model, data),
                state=getattr(result, "state", None),
            )
            if jobs_done >= max_jobs:
                # TensorFlow keeps a few MB per job even after clear_session: a fresh
                # process every few dozen jobs keeps a long class session flat.
                connection.send(("retiring", None, None))
            connection.send(("done", job_id, payload))
        except Exception as error:  # report it: the page shows the message, the worker lives on
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            connection.send(("failed", job_id, detail))
        finally:
            # Each job builds a new model; without this the TF graph grows job after job.
            keras.backend.clear_session()
        if jobs_done >= max_jobs:
            return


class _Worker:
    def __init__(self, context, threads: int, data_source: str, max_jobs: int):
        self.connection, child_end = context.Pipe(duplex=True)
        self.cancel_event = context.Event()
        self.process = context.Process(
            target=_worker_main,
            args=(child_end, self.cancel_event, threads, data_source, max_jobs),
            daemon=True,
            name="kerasways-worker",
        )
        self.process.start()
        child_end.close()
        self.ready = False
        self.retiring = False  # finished its share of jobs; replaced when it exits
        self.job: Job | None = None
        self.data_description = ""


# ---------------------------------------------------------------------------- server side


class JobPool:
    """A bounded queue of training jobs run by `workers` pre-started processes.

    Args:
        workers: number of worker processes (each runs one job at a time).
        max_queued: jobs allowed to wait; more raise QueueFullError.
        data_source: passed to `load_mnist` in each worker.
        max_jobs_per_worker: a worker is replaced by a fresh process after this many jobs.
        start_workers: start the worker processes now; False: at `start()` or the first submit, so
            a server that only shows pages runs none.
    """

    def __init__(self, workers: int = 2, max_queued: int = 40, data_source: str = "auto",
                 max_jobs_per_worker: int = MAX_JOBS_PER_WORKER, start_workers: bool = True):
        if workers < 1:
            raise ValueError(f"workers: expected at least 1; received {workers}")
        self._context = multiprocessing.get_context("spawn")
        self._threads = max(1, (os.cpu_count() or 1) // workers)
        self._data_source = data_source
        self._max_jobs_per_worker = max_jobs_per_worker
        self.max_queued = max_queued
        self._lock = threading.RLock()
        self._queue: deque[Job] = deque()
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self.crashes = 0
        self._worker_count = workers
        self._workers: list[_Worker] = []
        self._pump_thread = threading.Thread(target=self._pump, name="kerasways-jobs", daemon=True)
        atexit.register(self._shutdown_now)
        if start_workers:
            self.start()

    def start(self) -> None:
        """Start the worker processes and the thread that serves them (once; later calls do nothing)."""
        with self._lock:
            if self._workers or self._closed:
                return
            self._workers = [self._start_worker() for _ in range(self._worker_count)]
            self._pump_thread.start()

    # -- public API used by pages and tests

    def submit(self, spec: ModelSpec, style: str, config: TrainConfig, owner: str = "",
               owner_alive: Callable[[], bool] | None = None,
               listener: Callable[[object], None] | None = None) -> Job:
        """Queue a training job.

        Args:
            spec, style, config: what to train.
            owner: who asks (a browser session); one unfinished request per owner.
            owner_alive: returns False once the owner's browser is gone; the job is then
                cancelled and its worker freed.
            listener: called (in the pool's thread) with every progress report of the job.

        Returns:
            The queued Job.

        Raises:
            OwnerBusyError: the owner already has a queued or running job.
            QueueFullError: too many jobs are waiting.
        """
        return self.submit_many([(spec, style, config)], owner, owner_alive,
                                (lambda job: listener) if listener else None)[0]

    def submit_many(self, requests: list[tuple[ModelSpec, str, TrainConfig]], owner: str = "",
                    owner_alive: Callable[[], bool] | None = None,
                    listener_factory: Callable[[Job], Callable[[object], None]] | None = None) -> list[Job]:
        """Queue several jobs as one request (e.g. the three ways side by side).

        Args:
            requests: (spec, style, config) for each job, queued in this order; a fourth item, a
                dict, may add "options" (keyword arguments for `training.train`, e.g. to resume
                a paused run) and "class_digits" (a `collection.CollectionData` to train on too).
            owner, owner_alive: as for `submit`.
            listener_factory: given each new job, returns the function that receives its progress.

        Returns:
            The queued Jobs, in order.
        """
        self.start()
        with self._lock:
            if owner and any(job.owner == owner and not job.finished for job in self._jobs.values()):
                raise OwnerBusyError(N_("You already have a training running; stop it or wait for it to finish."))
            if len(self._queue) + len(requests) > self.max_queued:
                raise QueueFullError(N_("The server has {count} trainings waiting; try again in a minute.").format(
                    count=len(self._queue)))
            jobs = []
            for spec, style, config, *extras in requests:
                extra = extras[0] if extras else {}
                # Unguessable: a job id in a page address lets its owner reattach after a reload.
                job = Job(id=f"job-{next(self._ids)}-{secrets.token_urlsafe(6)}", owner=owner, spec=spec,
                          style=style, config=config, owner_alive=owner_alive,
                          options=dict(extra.get("options", {})), class_digits=extra.get("class_digits"))
                if listener_factory is not None:
                    job.listener = listener_factory(job)
                self._jobs[job.id] = job
                self._queue.append(job)
                jobs.append(job)
            self._forget_old_jobs()
            self._dispatch()
            return jobs

    def adopt(self, job_id: str, owner: str, owner_alive: Callable[[], bool] | None = None,
              wait_seconds: float = 3.0) -> Job | None:
        """Hand a job to a new browser session: the same user after a page reload.

        Only a job whose page is gone can be adopted, so a link copied from a page that is
        still open (a teacher sharing a set-up mid-training) never takes the job away.

        Args:
            job_id: the id kept in the page address.
            owner, owner_alive: the new session, as for `submit`.
            wait_seconds: how long the old page may take to disconnect after a reload.

        Returns:
            The job, or None when the server does not know it or its page is still open.
        """
        job = self._jobs.get(job_id)
        if job is None:
            return None
        deadline = time.time() + wait_seconds
        while job.owner_alive is not None and _safe_call(job.owner_alive) and time.time() < deadline:
            time.sleep(0.1)
        with self._lock:
            if job.owner_alive is not None and _safe_call(job.owner_alive):
                return None
            job.owner, job.owner_alive, job.owner_gone_since = owner, owner_alive, None
            return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None if the server does not know it (e.g. after a restart)."""
        return self._jobs.get(job_id)

    def position(self, job: Job) -> int:
        """1 for the next job to start, 2 for the one after, …; 0 when not queued."""
        with self._lock:
            for index, queued in enumerate(self._fair_order()):
                if queued is job:
                    return index + 1
        return 0

    def stop(self, job_id: str) -> None:
        """Stop a job after its current step and keep the weights so far (queued: cancel it)."""
        self._end(job_id, keep_result=True)

    def cancel(self, job_id: str) -> None:
        """Drop a job: removed from the queue, or stopped and its result discarded."""
        self._end(job_id, keep_result=False)

    def status(self) -> dict:
        """Counts for a server-status line: workers, busy, queued."""
        with self._lock:
            return {
                "workers": self._worker_count,
                "ready": sum(worker.ready for worker in self._workers),
                "busy": sum(worker.job is not None for worker in self._workers),
                "queued": len(self._queue),
                "crashes": self.crashes,
            }

    def data_description(self) -> str:
        """How the workers' data was described once loaded ("" before any worker is ready)."""
        return next((worker.data_description for worker in self._workers if worker.data_description), "")

    def worker_pids(self) -> list[int]:
        """Process ids of the workers (tests kill one to check recovery)."""
        return [worker.process.pid for worker in self._workers]

    def close(self) -> None:
        """Stop the workers and the pump thread."""
        with self._lock:
            self._closed = True
            for worker in self._workers:
                try:
                    worker.connection.send(None)
                except OSError:
                    pass
        if self._pump_thread.is_alive():
            self._pump_thread.join(timeout=5)
        for worker in self._workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()

    # -- internals

    def _shutdown_now(self) -> None:
        # At interpreter exit: no replacement workers, no waiting.
        with self._lock:
            self._closed = True
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.kill()

    def _start_worker(self) -> _Worker:
        return _Worker(self._context, self._threads, self._data_source, self._max_jobs_per_worker)

    def _end(self, job_id: str, keep_result: bool) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.finished:
                return
            if job.state == QUEUED:
                self._queue.remove(job)
                self._finish(job, CANCELLED, N_("Cancelled before it started."))
                return
            job.stop_requested = True
            if not keep_result:
                self._finish(job, CANCELLED, N_("Cancelled while training; the worker was freed."))
            for worker in self._workers:
                if worker.job is job:
                    worker.cancel_event.set()

    def _forget_old_jobs(self) -> None:
        # Finished jobs hold weights and histories; keep the newest ones so a long class
        # session does not grow the server without bound.
        finished = [job for job in self._jobs.values() if job.finished]
        for job in finished[: max(0, len(finished) - KEEP_FINISHED_JOBS)]:
            del self._jobs[job.id]

    def _finish(self, job: Job, state: str, error: str = "") -> None:
        job.state = state
        job.error = error
        job.finished_at = time.time()

    def _fair_order(self) -> list[Job]:
        """The queue in the order jobs will start: round robin over owners.

        Each owner's first waiting job comes before anyone's second, so one user's
        "train all three with five seeds" does not hold up a classmate's single job.
        An owner whose job is already running counts as having had a turn.
        """
        running = {worker.job.owner for worker in self._workers if worker.job is not None and worker.job.owner}
        turns: dict[str, int] = {}
        keyed = []
        for index, job in enumerate(self._queue):
            owner = job.owner or job.id  # jobs without an owner each stand alone
            turn = turns.get(owner, 1 if owner in running else 0)
            turns[owner] = turn + 1
            keyed.append((turn, index, job))
        return [job for _, _, job in sorted(keyed, key=lambda entry: entry[:2])]

    def _dispatch(self) -> None:
        for worker in self._workers:
            if not self._queue:
                return
            if worker.ready and worker.job is None and worker.process.is_alive():
                job = self._fair_order()[0]
                self._queue.remove(job)
                worker.cancel_event.clear()
                worker.job = job
                job.state = RUNNING
                job.started_at = time.time()
                try:
                    worker.connection.send((job.id, job.spec, job.style, job.config, job.options,
                                            job.class_digits))
                except OSError:
                    pass  # the dead worker is noticed and replaced by the pump

    def _handle(self, worker: _Worker, message: tuple) -> None:
        kind, job_id, payload = message
        if kind == "ready":
            worker.ready = True
            worker.data_description = payload
            return
        if kind == "retiring":
            worker.retiring, worker.ready = True, False
            return
        job = worker.job
        if job is None or job.id != job_id:
            return
        if kind == "progress":
            if job.state == RUNNING:
                job.progress = payload
                if job.listener is not None:
                    try:
                        job.listener(payload)
                    except Exception:  # a page's bookkeeping must never stop the pump
                        traceback.print_exc()
            return
        worker.job = None
        if job.state != RUNNING:  # cancelled meanwhile: drop the result
            return
        if kind == "done":
            job.result = payload
            self._finish(job, DONE, payload.message if payload.status == "nan" else "")
        else:
            self._finish(job, FAILED, N_("Training failed: {error}").format(error=payload))

    def _replace_dead(self) -> None:
        for index, worker in enumerate(self._workers):
            if worker.process.is_alive() or self._closed:
                continue
            if not worker.retiring:
                self.crashes += 1
            worker.connection.close()
            # The replacement is started before the job is failed, so whoever sees the
            # failure can already retry on a fresh worker.
            self._workers[index] = self._start_worker()
            job = worker.job
            if job is not None and job.state == RUNNING:
                self._finish(job, FAILED, N_(
                    "The training process stopped unexpectedly (exit code {code}). "
                    "Your settings are kept: press Start to try again.").format(code=worker.process.exitcode))

    def _check_owners(self) -> None:
        now = time.time()
        for job in list(self._jobs.values()):
            if job.finished or job.owner_alive is None:
                continue
            if _safe_call(job.owner_alive):
                job.owner_gone_since = None
            elif job.owner_gone_since is None:
                job.owner_gone_since = now
            elif now - job.owner_gone_since > OWNER_GONE_GRACE_SECONDS:
                self._end(job.id, keep_result=False)
                job.error = N_("Cancelled: the browser tab that started it was closed.")

    def _pump(self) -> None:
        last_owner_check = 0.0
        while True:
            with self._lock:
                if self._closed:
                    return
                connections = {worker.connection: worker for worker in self._workers}
            ready = multiprocessing.connection.wait(list(connections), timeout=POLL_SECONDS)
            with self._lock:
                for connection in ready:
                    worker = connections[connection]
                    try:
                        while connection.poll():
                            self._handle(worker, connection.recv())
                    except (EOFError, OSError):
                        worker.process.join(timeout=1)  # it is dying; _replace_dead takes over
                self._replace_dead()
                if time.time() - last_owner_check > 1.0:
                    last_owner_check = time.time()
                    self._check_owners()
                self._dispatch()

