"""Training jobs in a pool of pre-started worker processes, shared by every user of a server.

`JobPool` is today's `engine.TrainingEngine`. Why processes: a training thread inside the
Streamlit server is starved by the server's own work (docs/architecture.md), and training inside
the script thread dies on every rerun. Each worker imports TensorFlow and loads the data once,
then runs `training.train` for one job at a time, streaming progress back through its own pipe.
A pipe per worker means a worker killed mid-message cannot corrupt what the others send.

The server side is one `JobPool`: a bounded queue served round robin over owners, one request
(a job, or "train all three") per owner at a time, stop (keep the weights so far) and cancel
(drop the job), and a pump thread that reads progress, replaces crashed workers and hands
queued jobs to idle workers. What crosses a pipe is one of the small dataclasses below.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kerasways.data import expected_train_digits
from kerasways.engine import (
    EngineStatus,
    Job,
    JobListener,
    JobResult,
    OwnerBusyError,
    QueueFullError,
    RunState,
    TrainingRequest,
)
from kerasways.i18n import N_
from kerasways.messages import Message, UserError

OWNER_GONE_GRACE_SECONDS = 10.0  # a page reconnecting after a network blip keeps its job
ADOPT_WAIT_SECONDS = 3.0  # how long the old page may take to disconnect after a reload
POLL_SECONDS = 0.1
KEEP_FINISHED_JOBS = 300
WORKER_NICENESS = 10
MAX_JOBS_PER_WORKER = 25


def _safe_call(owner_alive: Callable[[], bool]) -> bool:
    try:
        return bool(owner_alive())
    except Exception:
        return True  # unsure: treat the page as open, never cancel on a failing check


# ---------------------------------------------------------------------------- what crosses a pipe


@dataclass(frozen=True)
class Task:
    """Pool → worker: train this request; its reports name `job_id`."""

    job_id: str
    request: TrainingRequest


@dataclass(frozen=True)
class Shutdown:
    """Pool → worker: exit after the current job."""


@dataclass(frozen=True)
class WorkerReady:
    """Worker → pool: TensorFlow and the digits are loaded; `data_description` says which digits,
    `train_digits` how many there are to train on."""

    data_description: Message
    train_digits: int


@dataclass(frozen=True)
class WorkerRetiring:
    """Worker → pool: this is its last job; a fresh process replaces it when it exits."""


@dataclass(frozen=True)
class JobProgressed:
    """Worker → pool: one `training.Progress` report of a running job."""

    job_id: str
    progress: object


@dataclass(frozen=True)
class JobTrained:
    """Worker → pool: the job trained (completed, stopped or diverged); its result."""

    job_id: str
    result: JobResult


@dataclass(frozen=True)
class JobFailed:
    """Worker → pool: the training raised; `detail` is the exception's one-line text, `error` the
    message of an error meant for users (a refused setting), which the page shows as it is."""

    job_id: str
    detail: str
    error: Message | None = None


@dataclass
class _Tracked:
    """The pool's own bookkeeping of one job, next to the Job everyone reads."""

    job: Job
    owner_alive: Callable[[], bool] | None = None
    listener: JobListener | None = None
    owner_gone_since: float | None = None


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
    connection.send(WorkerReady(data.description, len(data.x_train)))
    for jobs_done in itertools.count(1):
        try:
            task = connection.recv()
        except EOFError:
            return
        if not isinstance(task, Task):
            return
        job_id, request = task.job_id, task.request
        try:
            training_data, config = data, request.config
            if request.class_digits is not None:
                from kerasways.collection import with_class_digits

                training_data = with_class_digits(data, request.class_digits, train_size=config.train_size,
                                                  seed=request.spec.seed)
                config = config.replace(train_size=0)  # the subset was taken while mixing
            result = train(
                request.spec, request.style, config, training_data,
                on_progress=lambda progress, job_id=job_id: connection.send(JobProgressed(job_id, progress)),
                should_stop=cancel_event.is_set,
                **request.options,
            )
            payload = JobResult(
                weights=result.model.get_weights(),
                history=result.history,
                seconds=result.seconds,
                status=result.status,
                message=result.message,
                evaluation=evaluate(result.model, data),
                state=getattr(result, "state", None),
                calibration=getattr(result, "calibration", None),
            )
            if jobs_done >= max_jobs:
                # TensorFlow keeps a few MB per job even after clear_session: a fresh
                # process every few dozen jobs keeps a long class session flat.
                connection.send(WorkerRetiring())
            connection.send(JobTrained(job_id, payload))
        except Exception as error:  # report it: the page shows the message, the worker lives on
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            connection.send(JobFailed(job_id, detail, error.message if isinstance(error, UserError) else None))
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
        self.job: _Tracked | None = None
        self.data_description: Message | None = None
        self.train_digits = 0  # known once ready


# ---------------------------------------------------------------------------- server side


class JobPool:
    """A bounded queue of training jobs run by `workers` pre-started processes: an `engine.TrainingEngine`.

    Args:
        workers: number of worker processes (each runs one job at a time).
        max_queued: requests allowed to wait (a group such as "Train all three" with its seeds counts
            once: its total is bounded by the training budget); more raise QueueFullError.
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
        self._queue: deque[_Tracked] = deque()
        self._jobs: dict[str, _Tracked] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self._crashes = 0
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

    # -- the TrainingEngine interface

    def submit(self, requests: Sequence[TrainingRequest], owner: str = "",
               owner_alive: Callable[[], bool] | None = None,
               listener_factory: Callable[[Job], JobListener | None] | None = None) -> list[Job]:
        """Queue one training, or several as one request (e.g. the three ways side by side).

        Args:
            requests: what to train, queued in this order.
            owner: who asks (a browser session); one unfinished request per owner ("" for none).
            owner_alive: returns False once the owner's browser is gone; the jobs are then
                cancelled and their workers freed.
            listener_factory: given each new job, returns what hears its progress and result
                (called in the pool's thread).

        Returns:
            The queued Jobs, in order.

        Raises:
            OwnerBusyError: the owner already has a queued or running job.
            QueueFullError: too many requests are waiting.
        """
        self.start()
        with self._lock:
            if owner and any(tracked.job.owner == owner and not tracked.job.finished
                             for tracked in self._jobs.values()):
                raise OwnerBusyError(Message(N_(
                    "You already have a training running; stop it or wait for it to finish.")))
            waiting = self._waiting_requests()
            if waiting + 1 > self.max_queued:
                raise QueueFullError(Message(N_("The server has {count} trainings waiting; try again in a minute."),
                                             {"count": waiting}))
            jobs = []
            for request in requests:
                job = Job(id=f"job-{next(self._ids)}-{secrets.token_urlsafe(6)}", owner=owner, request=request,
                          submitted_at=time.time())
                tracked = _Tracked(job, owner_alive=owner_alive)
                if listener_factory is not None:
                    tracked.listener = listener_factory(job)
                self._jobs[job.id] = tracked
                self._queue.append(tracked)
                jobs.append(job)
            self._forget_old_jobs()
            self._dispatch()
            return jobs

    def adopt(self, job_id: str, owner: str, owner_alive: Callable[[], bool] | None = None,
              wait_seconds: float = ADOPT_WAIT_SECONDS) -> Job | None:
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
        tracked = self._jobs.get(job_id)
        if tracked is None:
            return None
        deadline = time.time() + wait_seconds
        while tracked.owner_alive is not None and _safe_call(tracked.owner_alive) and time.time() < deadline:
            time.sleep(0.1)
        with self._lock:
            if tracked.owner_alive is not None and _safe_call(tracked.owner_alive):
                return None
            tracked.job.owner, tracked.owner_alive, tracked.owner_gone_since = owner, owner_alive, None
            return tracked.job

    def position(self, job_id: str) -> int:
        """1 for the next job to start, 2 for the one after, …; 0 when not queued."""
        with self._lock:
            for index, queued in enumerate(self._fair_order()):
                if queued.job.id == job_id:
                    return index + 1
        return 0

    def stop(self, job_id: str) -> None:
        """Stop a job after its current step and keep the weights so far (queued: cancel it)."""
        self._end(job_id, keep_result=True)

    def cancel(self, job_id: str) -> None:
        """Drop a job: removed from the queue, or stopped and its result discarded."""
        self._end(job_id, keep_result=False)

    def status(self) -> EngineStatus:
        """Workers (ready, busy), jobs queued, and crashes since the pool started."""
        with self._lock:
            return EngineStatus(
                workers=self._worker_count,
                ready=sum(worker.ready for worker in self._workers),
                busy=sum(worker.job is not None for worker in self._workers),
                queued=len(self._queue),
                crashes=self._crashes,
            )

    def data_description(self) -> Message | None:
        """How the workers' data was described once loaded (None before any worker is ready)."""
        return next((worker.data_description for worker in self._workers if worker.data_description), None)

    def data_size(self) -> int:
        """The training digits a ready worker loaded, else what `data.expected_train_digits` expects."""
        loaded = next((worker.train_digits for worker in self._workers if worker.train_digits), 0)
        return loaded or expected_train_digits(self._data_source)

    def close(self) -> None:
        """Stop the workers and the pump thread."""
        with self._lock:
            self._closed = True
            for worker in self._workers:
                try:
                    worker.connection.send(Shutdown())
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

    def _end(self, job_id: str, keep_result: bool, reason: Message | None = None) -> None:
        with self._lock:
            tracked = self._jobs.get(job_id)
            if tracked is None or tracked.job.finished:
                return
            if tracked.job.state is RunState.QUEUED:
                self._queue.remove(tracked)
                self._finish(tracked.job, RunState.CANCELLED, reason or Message(N_("Cancelled before it started.")))
                return
            if not keep_result:
                self._finish(tracked.job, RunState.CANCELLED,
                             reason or Message(N_("Cancelled while training; the worker was freed.")))
            for worker in self._workers:
                if worker.job is tracked:
                    worker.cancel_event.set()

    def _forget_old_jobs(self) -> None:
        # Finished jobs hold weights and histories; keep the newest ones so a long class
        # session does not grow the server without bound.
        finished = [tracked for tracked in self._jobs.values() if tracked.job.finished]
        for tracked in finished[: max(0, len(finished) - KEEP_FINISHED_JOBS)]:
            del self._jobs[tracked.job.id]

    @staticmethod
    def _finish(job: Job, state: RunState, error: Message | None = None) -> None:
        job.error = error
        job.finished_at = time.time()
        job.state = state

    def _waiting_requests(self) -> int:
        # One request per owner is unfinished at a time, so an owner's queued jobs are one request;
        # jobs without an owner (the class's shared run) each stand alone.
        return len({tracked.job.owner or tracked.job.id for tracked in self._queue})

    def _fair_order(self) -> list[_Tracked]:
        """The queue in the order jobs will start: round robin over owners.

        Each owner's first waiting job comes before anyone's second, so one user's
        "train all three with five seeds" does not hold up a classmate's single job.
        An owner whose job is already running counts as having had a turn.
        """
        running = {worker.job.job.owner for worker in self._workers
                   if worker.job is not None and worker.job.job.owner}
        turns: dict[str, int] = {}
        keyed = []
        for index, tracked in enumerate(self._queue):
            owner = tracked.job.owner or tracked.job.id  # jobs without an owner each stand alone
            turn = turns.get(owner, 1 if owner in running else 0)
            turns[owner] = turn + 1
            keyed.append((turn, index, tracked))
        return [tracked for _, _, tracked in sorted(keyed, key=lambda entry: entry[:2])]

    def _dispatch(self) -> None:
        for worker in self._workers:
            if not self._queue:
                return
            if worker.ready and worker.job is None and worker.process.is_alive():
                tracked = self._fair_order()[0]
                self._queue.remove(tracked)
                worker.cancel_event.clear()
                worker.job = tracked
                tracked.job.state = RunState.RUNNING
                tracked.job.started_at = time.time()
                try:
                    worker.connection.send(Task(tracked.job.id, tracked.job.request))
                except OSError:
                    pass  # the dead worker is noticed and replaced by the pump

    @staticmethod
    def _tell(listener: JobListener | None, method: str, value) -> None:
        if listener is None:
            return
        try:
            getattr(listener, method)(value)
        except Exception:  # a page's bookkeeping must never stop the pump
            traceback.print_exc()

    def _handle(self, worker: _Worker, message) -> None:
        if isinstance(message, WorkerReady):
            worker.ready = True
            worker.data_description = message.data_description
            worker.train_digits = message.train_digits
            return
        if isinstance(message, WorkerRetiring):
            worker.retiring, worker.ready = True, False
            return
        tracked = worker.job
        if tracked is None or tracked.job.id != message.job_id:
            return
        job = tracked.job
        if isinstance(message, JobProgressed):
            if job.state is RunState.RUNNING:
                job.progress = message.progress
                self._tell(tracked.listener, "on_progress", message.progress)
            return
        worker.job = None
        if job.state is not RunState.RUNNING:  # cancelled meanwhile: drop the result
            return
        if isinstance(message, JobTrained):
            result = message.result
            self._tell(tracked.listener, "on_result", result)
            job.result = result
            self._finish(job, RunState.DONE, result.message if result.status == "nan" else None)
        else:
            self._finish(job, RunState.FAILED,
                         message.error or Message(N_("Training failed: {error}"), {"error": message.detail}))

    def _replace_dead(self) -> None:
        for index, worker in enumerate(self._workers):
            if worker.process.is_alive() or self._closed:
                continue
            if not worker.retiring:
                self._crashes += 1
            worker.connection.close()
            # The replacement is started before the job is failed, so whoever sees the
            # failure can already retry on a fresh worker.
            self._workers[index] = self._start_worker()
            tracked = worker.job
            if tracked is not None and tracked.job.state is RunState.RUNNING:
                self._finish(tracked.job, RunState.FAILED, Message(N_(
                    "The training process stopped unexpectedly (exit code {code}). "
                    "Your settings are kept: press Start to try again."), {"code": worker.process.exitcode}))

    def _check_owners(self) -> None:
        now = time.time()
        for tracked in list(self._jobs.values()):
            if tracked.job.finished or tracked.owner_alive is None:
                continue
            if _safe_call(tracked.owner_alive):
                tracked.owner_gone_since = None
            elif tracked.owner_gone_since is None:
                tracked.owner_gone_since = now
            elif now - tracked.owner_gone_since > OWNER_GONE_GRACE_SECONDS:
                self._end(tracked.job.id, keep_result=False,
                          reason=Message(N_("Cancelled: the browser tab that started it was closed.")))

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
