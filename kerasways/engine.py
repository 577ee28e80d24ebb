"""The seam between a server's runs and whatever executes their trainings.

`runs.RunRegistry` asks a `TrainingEngine` for everything it needs and nothing more; today's
engine is `jobs.JobPool` (worker processes on this machine). What crosses the seam is defined
here and nowhere else:

- `RunState`: the one list of states a run or a job can be in;
- `TrainingRequest`: what to train (network, way, settings, and extras such as a state to resume);
- `Job`: one request as the engine runs it, updated by the engine and only read by the others;
- `JobResult`: what a finished job brings back;
- `JobListener`: what the engine tells the one who submitted (progress, then the result);
- `EngineStatus`: how busy the engine is, for a status line;
- `QueueFullError`, `OwnerBusyError`: the two refusals a page shows.

No Streamlit here, and no process, thread or cluster either: a second engine (Ray) implements
`TrainingEngine` and nothing above it changes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from kerasways.messages import Message, UserError
from kerasways.spec import ModelSpec, TrainConfig


class RunState(enum.Enum):
    """Where a run (or one of its jobs) is. A job is never PAUSED: pausing is a run's decision
    about a job that stopped resumable (see `runs.Run.state`)."""

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """True while it waits for a worker or trains: queued or running."""
        return self in (RunState.QUEUED, RunState.RUNNING)

    @property
    def finished(self) -> bool:
        """True for a job that ended: done, failed or cancelled."""
        return self in (RunState.DONE, RunState.FAILED, RunState.CANCELLED)



class QueueFullError(UserError, RuntimeError):
    """The server's job queue is full; try again in a moment."""


class OwnerBusyError(UserError, RuntimeError):
    """This user already has a job queued or running."""


@dataclass(frozen=True, eq=False)
class TrainingRequest:
    """One training as asked for.

    Args:
        spec: the network.
        style: the way it is written (one of `spec.STYLES`).
        config: the training settings.
        options: extra keyword arguments for `training.train`, e.g. `resume=<TrainState>` and
            `stop_at_epoch=n`.
        class_digits: a `collection.CollectionData` mixed into the training digits, or None.
    """

    spec: ModelSpec
    style: str
    config: TrainConfig
    options: dict = field(default_factory=dict)
    class_digits: object = None

    def with_options(self, **options) -> TrainingRequest:
        """The same request with more `training.train` options (later ones win)."""
        return TrainingRequest(self.spec, self.style, self.config, {**self.options, **options}, self.class_digits)


@dataclass
class JobResult:
    """What a job that trained sends back (also when stopped early).

    Args:
        weights: the model's weights as NumPy arrays (`model.get_weights()`).
        history: the whole `training.History`, every earlier part of a resumed run included.
        seconds: training time, earlier parts included.
        status: "completed", "stopped" or "nan" (see `training.TrainResult`).
        message: the training's own sentence about how it ended.
        evaluation: the `evaluate.Evaluation` on the test digits.
        state: the `training.TrainState` to resume from (None after "nan").
        calibration: the `calibration.Calibration` folded into `weights`, when the request asked for one.
    """

    weights: list
    history: object
    seconds: float
    status: str
    message: Message
    evaluation: object
    state: object = None
    calibration: object = None

    @property
    def resumable(self) -> bool:
        """True when it stopped before its last epoch with a state to continue from."""
        return self.status == "stopped" and self.state is not None


class JobListener(Protocol):
    """What the engine tells the one who submitted a job, from the engine's own thread.

    Both methods must return quickly and never raise into the engine (it logs and goes on).
    """

    def on_progress(self, progress) -> None:
        """Every `training.Progress` report of a running job, in order."""

    def on_result(self, result: JobResult) -> None:
        """The job's result, called before its state reads DONE (so whoever sees DONE sees the result)."""


@dataclass
class Job:
    """One training request as the engine runs it.

    The engine creates and updates it (from its own thread); everyone else only reads it. Its state
    goes QUEUED → RUNNING → DONE / FAILED / CANCELLED, or QUEUED → CANCELLED, never back.
    `finished_at` is set when it ends; `error` says why it failed or was cancelled (and how a
    diverged training ended).
    """

    id: str  # unguessable: a job id in a page address lets its owner reattach after a reload
    owner: str
    request: TrainingRequest
    state: RunState = RunState.QUEUED
    progress: object = None  # the latest training.Progress
    result: JobResult | None = None
    error: Message | None = None
    submitted_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def spec(self) -> ModelSpec:
        """The network trained."""
        return self.request.spec

    @property
    def style(self) -> str:
        """The way it is written."""
        return self.request.style

    @property
    def config(self) -> TrainConfig:
        """The training settings."""
        return self.request.config

    @property
    def finished(self) -> bool:
        """True once the job is done, failed or cancelled."""
        return self.state.finished


@dataclass(frozen=True)
class EngineStatus:
    """How busy an engine is, for the "Server: 1/2 workers busy, 3 waiting." line.

    Args:
        workers: how many trainings it can run at once.
        ready: of those, how many are ready for work.
        busy: how many train now.
        queued: jobs waiting for a worker.
        crashes: workers lost unexpectedly since the engine started.
    """

    workers: int
    ready: int
    busy: int
    queued: int
    crashes: int = 0


@runtime_checkable
class TrainingEngine(Protocol):
    """Runs training jobs for every user of a server: what `runs.RunRegistry` needs, nothing more.

    Today's implementation is `jobs.JobPool` (worker processes on this machine). A second one (e.g.
    on a Ray cluster) must provide:

    - `submit(requests, owner, owner_alive, listener_factory)`: queue one request or a group as
      one; refuse with `OwnerBusyError` when `owner` (non-empty) already has an unfinished job and
      with `QueueFullError` when the queue holds its limit of waiting requests (a group counts
      once: the training budget bounds its total); serve owners fairly (each
      owner's first waiting job before anyone's second); call `listener_factory(job)` once per new
      job before it can start; give every job an unguessable id.
    - Per job, in its own thread or callbacks: `state` RUNNING when it starts, each
      `training.Progress` to `job.progress` and to the listener's `on_progress`, then either the
      `JobResult` (weights as NumPy arrays) to the listener's `on_result` and `job.result`, then
      state DONE; or FAILED with an `error` Message when the training raised or its worker died.
      A job whose training stopped resumable ends DONE with `result.resumable`: pausing is
      stopping, and resuming is a new job whose request carries `options["resume"]`, on any worker.
    - `stop(job_id)`: end a running job after its current step, keeping its result (a queued one is
      cancelled); `cancel(job_id)`: end it without a result (CANCELLED at once) and free its worker.
    - `owner_alive`: the engine calls it now and then (never holding up training); when it returns
      False for longer than a short grace (a reload), the job is cancelled. It may raise: treat that
      as alive. It comes from the page side (Streamlit's runtime) and is never sent to a worker.
    - `adopt(job_id, owner, owner_alive)`: look a job up by id and hand it to a new owner, only once
      its old owner is gone (None when unknown or still watched).
    - `position(job_id)`: 1 for the next job to start, 2 …; None while it waits at a place the
      engine cannot tell; 0 when it does not wait.
    - `status()`: an `EngineStatus`; `data_description()`: how the workers' digits were described
      once loaded (None before); `data_size()`: how many training digits a job gets (the training
      budget's images), known before any worker has loaded them.
    - `start()`: bring the workers up (idempotent); creating an engine starts nothing, so a page
      that only shows the queue costs no process; `submit` starts it too.
    - `close()`: stop its workers (tests and scripts; a server runs until it exits).
    Everything sent to a worker (`TrainingRequest`, `JobResult`) must pickle.
    """

    def start(self) -> None:
        """Start the workers if they are not running yet (the server's warm-up calls it)."""

    def submit(self, requests: Sequence[TrainingRequest], owner: str = "",
               owner_alive: Callable[[], bool] | None = None,
               listener_factory: Callable[[Job], JobListener | None] | None = None) -> list[Job]:
        """Queue requests as one (see the class docstring); returns their Jobs in order."""

    def stop(self, job_id: str) -> None:
        """Stop a job after its current step and keep its result (a queued one is cancelled)."""

    def cancel(self, job_id: str) -> None:
        """Drop a job: out of the queue, or stopped and its result discarded."""

    def adopt(self, job_id: str, owner: str, owner_alive: Callable[[], bool] | None = None) -> Job | None:
        """The job with this id, now owned by `owner`, or None (unknown, or its page is still open)."""

    def position(self, job_id: str) -> int | None:
        """Its place in the queue (1 = next), None when waiting at an unknown place, 0 when not waiting."""

    def status(self) -> EngineStatus:
        """How busy the engine is."""

    def data_description(self) -> Message | None:
        """Which digits the workers train on, once one has loaded them (None before)."""

    def data_size(self) -> int:
        """How many training digits the workers have (before `train_size` and class digits): once a worker
        has loaded them, its count; before, what they are expected to load (the larger when unsure)."""

    def close(self) -> None:
        """Stop the engine's workers."""
