"""Where a training run lives: from the click that starts it to the model that reads drawings.

- `Run` is one training: what was asked (network, way, settings), its job in the worker pool,
  one history that the streamed progress appends to, and, once finished, the model rebuilt
  from its weights (lazily, once) with the key of its compiled predict step.
- `RunRegistry` is the server's: it submits runs to the `JobPool` (one run, or a group such as
  "Train all three"), pauses and resumes them (each part a job of its own, on any free worker),
  shares one run among every session that asks for exactly the same training (the Draw page's
  network), and keeps finished runs for a while, so a page reload finds them again.
- `Book` is one browser session's runs, in order: the latest finished run per way, the active
  runs, the latest group, and the run ids the share link carries.

Pages hold one `Book` in session state and only draw what it says.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from kerasways.formats import counted, percent
from kerasways.i18n import N_, SOURCE_LANGUAGE, translate_message
from kerasways.jobs import CANCELLED, DONE, QUEUED, RUNNING, Job, JobPool, OwnerBusyError
from kerasways.spec import DEFAULT_LEARNING_RATES, NUM_CLASSES, STYLE_TITLES, ModelSpec, TrainConfig, preset_of

# A finished run stays on the server this long after it ended, so a reload (or the share link of
# a student who closed the tab) finds it; at most MAX_FINISHED_RUNS are kept, oldest dropped first.
# Each holds its weights (0.4 MB for the reference network, a few MB at most) and history.
KEEP_FINISHED_SECONDS = 2 * 60 * 60
MAX_FINISHED_RUNS = 100
# Rebuilt Keras models are the heavy part (a few MB each with their variables): at most this
# many live on the server; the least recently used one is dropped and rebuilt when asked again.
MAX_LIVE_MODELS = 24
CHANCE_MARGIN = 0.1  # test accuracy below chance + this (20% for ten digits) means it did not learn
MAX_RUNS_PER_BOOK = 12  # a session keeps its newest runs; older ones fall off its list

Request = tuple[ModelSpec, str, TrainConfig]
PAUSED = "paused"


YOUR_NETWORK = N_("Your network")  # the name of a run whose network is no preset


def network_name(spec: ModelSpec) -> str:
    """What a run of `spec` is called, in the source language (pages translate it).

    Args:
        spec: the run's network.

    Returns:
        The short title of its preset (e.g. "Small CNN"), or "Your network" for the user's own.
    """
    preset = preset_of(spec)
    return preset.short_title if preset else YOUR_NETWORK


def _finite_or_none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if value == value else None  # NaN → None: "no validation" has one representation


def _epoch_point(epoch: int, loss: float, accuracy: float, val_loss, val_accuracy) -> dict:
    """One finished epoch as the charts take it, "no validation" as None."""
    return {"epoch": epoch, "loss": loss, "accuracy": accuracy,
            "val_loss": _finite_or_none(val_loss), "val_accuracy": _finite_or_none(val_accuracy)}


def _with_options(request: tuple, **options) -> dict:
    extra = dict(request[3]) if len(request) > 3 else {}
    extra["options"] = {**extra.get("options", {}), **options}
    return extra


class RunHistory:
    """Per-batch loss and accuracy, and one point per finished epoch, as the training streams them.

    The job pool's pump thread appends; pages read a consistent `snapshot()`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.batch_loss: list[float] = []
        self.batch_accuracy: list[float] = []
        self.epochs: list[dict] = []  # {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
        self.steps_per_epoch = 0

    def record(self, progress) -> None:
        """Append one `training.Progress` report (it carries the batches since the last one)."""
        with self._lock:
            self.steps_per_epoch = progress.steps_per_epoch
            self.batch_loss.extend(progress.batch_losses)
            self.batch_accuracy.extend(progress.batch_accuracies)
            if progress.epoch_end:
                self.epochs.append(_epoch_point(progress.epoch, progress.loss, progress.accuracy,
                                                progress.val_loss, progress.val_accuracy))

    def complete(self, history) -> None:
        """Replace what was streamed by the finished run's full `training.History` (never partial)."""
        epochs = [_epoch_point(index + 1, *values) for index, values in enumerate(zip(
            history.epoch_loss, history.epoch_accuracy, history.val_loss, history.val_accuracy))]
        with self._lock:
            self.batch_loss = list(history.batch_loss)
            self.batch_accuracy = list(history.batch_accuracy)
            self.epochs = epochs
            self.steps_per_epoch = history.steps_per_epoch

    def snapshot(self) -> tuple[list[float], list[float], list[dict], int]:
        """(batch losses, batch accuracies, epoch points, steps per epoch), copied together."""
        with self._lock:
            return list(self.batch_loss), list(self.batch_accuracy), list(self.epochs), self.steps_per_epoch


@dataclass(eq=False)
class Run:
    """One training: its request, its job, its history and (once trained) its model.

    A run may be paused and resumed (or stepped one epoch at a time): each part trains in a job
    of its own, on whichever worker is free, and `job` is the latest; the history continues.
    """

    job: Job
    origin: str = "train"  # which page started it: "train", "draw" or "compare"
    group: str = ""  # runs started together (Train all three) share a group id
    shared: bool = False  # one run for every session that asks for the same training (see RunRegistry.shared)
    pausing: bool = False  # the user paused it, or steps one epoch at a time: it stops resumable
    run_id: str = ""
    history: RunHistory = field(default_factory=RunHistory)
    # Trained with the class's digits: the held-out writers' drawings (collection.CollectionData),
    # kept so "before and after" is measured on handwriting the run never saw.
    class_test: object = None
    _model: object = None
    _completed: bool = False
    # The part before a resume (a paused, stopped job that holds the weights so far): the run goes
    # back to it when its resumed part is stopped or paused before a worker took it.
    _paused_part: Job | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.run_id = self.run_id or self.job.id

    @property
    def id(self) -> str:
        """The run's id (its first job's), unguessable: it is what the share link names."""
        return self.run_id

    @property
    def spec(self) -> ModelSpec:
        """The network trained."""
        return self.job.spec

    @property
    def style(self) -> str:
        """The way it is written (one of STYLES)."""
        return self.job.style

    @property
    def config(self) -> TrainConfig:
        """The training settings."""
        return self.job.config

    @property
    def state(self) -> str:
        """"queued", "running", "paused", "done", "failed" or "cancelled"."""
        result = self.job.result
        if self.pausing and self.job.state == DONE and result is not None and result.status == "stopped" \
                and result.state is not None:
            return PAUSED
        return self.job.state

    @property
    def paused(self) -> bool:
        """True while it waits, resumable, for Resume or Step (its worker is free for others)."""
        return self.state == PAUSED

    @property
    def epochs_done(self) -> int:
        """Completed epochs so far."""
        return len(self.history.snapshot()[2])

    @property
    def finished(self) -> bool:
        """True once it is done, failed or cancelled."""
        return self.job.finished

    @property
    def progress(self):
        """The latest `training.Progress`, or None before the first report."""
        return self.job.progress

    @property
    def result(self):
        """The `jobs.JobResult` of a run that trained (also when stopped early), else None."""
        if self.job.result is not None and not self._completed and self.job.state == DONE:
            with self._lock:
                if not self._completed:
                    self.history.complete(self.job.result.history)
                    self._completed = True
        return self.job.result

    @property
    def class_train(self):
        """The class's drawings mixed into its training digits (collection.CollectionData), or None."""
        return self.job.class_digits

    @property
    def trained(self) -> bool:
        """True when it produced weights a model can use (a paused run has those of its last step)."""
        return self.job.state == DONE and self.result is not None

    @property
    def error(self) -> str:
        """Why it failed or was cancelled ("" otherwise)."""
        return self.job.error

    @property
    def accuracy(self) -> float | None:
        """Test accuracy once trained, else None."""
        return self.result.evaluation.accuracy if self.trained else None

    @property
    def predict_key(self) -> tuple:
        """The key of its compiled predict step: the architecture and the way, never seed or rate."""
        return (self.spec.architecture, self.style)

    @property
    def network_name(self) -> str:
        """E.g. "Small CNN" or "Your network"."""
        return network_name(self.spec)

    def title(self, lang: str = SOURCE_LANGUAGE) -> str:
        """E.g. "Small CNN · Functional API · seed 42 · 95.00%" (the accuracy once trained), in `lang`."""
        parts = [self.network_name, STYLE_TITLES[self.style], N_("seed {seed}").format(seed=self.spec.seed)]
        if self.accuracy is not None:
            parts.append(percent(self.accuracy))
        if self.paused:
            parts.append(N_("paused at epoch {epoch}").format(epoch=self.epochs_done))
        return " · ".join(translate_message(part, lang) for part in parts)

    @property
    def resumed_and_waiting(self) -> bool:
        """True while a resumed part waits in the queue (the weights so far are in the part before)."""
        return self.job.state == QUEUED and self._paused_part is not None

    def _next_part(self, job: Job, pausing: bool) -> None:
        with self._lock:
            self._paused_part = self.job
            self.job, self.pausing, self._completed = job, pausing, False
            self._model = None  # new weights are coming

    def _back_to_paused_part(self, pausing: bool) -> None:
        """After a queued resumed part was cancelled: the run is its paused part again."""
        with self._lock:
            if self.job.state == CANCELLED and self._paused_part is not None:
                self.job, self._paused_part = self._paused_part, None
                self.pausing, self._completed = pausing, False
                self._model = None

    def outcome(self) -> tuple[str, str]:
        """How a trained run ended, in plain words: (kind, message).

        The message is English, built from templates marked for translation: a page shows it with
        `i18n.translate_message(message, lang)`.

        kind is "completed", "stopped", "paused", "nan" (the loss diverged) or "not_learned":
        the accuracy stayed near chance or the loss did not fall, which a green "done" would hide.
        """
        result = self.result
        if self.paused:
            state, total = result.state, self.config.epochs
            where = (N_("in epoch {epoch} of {total}, after batch {batch}").format(
                         epoch=state.epochs_done + 1, total=total, batch=f"{state.step:,}") if state.step
                     else N_("after epoch {epoch} of {total}").format(epoch=state.epochs_done, total=total))
            return "paused", N_("Paused {where}: the weights so far are kept. Resume, or step one epoch at a time."
                                ).format(where=where)
        if result.status in ("nan", "stopped"):
            return result.status, result.message
        losses = result.history.batch_loss
        chance = 1.0 / NUM_CLASSES
        stuck = len(losses) >= 2 and min(losses[-max(1, len(losses) // 10):]) >= losses[0]
        if result.evaluation.accuracy < chance + CHANCE_MARGIN or stuck:
            default = DEFAULT_LEARNING_RATES[self.spec.optimizer]
            advice = (N_("The learning rate ({rate}) is probably too high; try {default}, Keras' default for "
                         "{optimizer}.").format(rate=f"{self.spec.learning_rate:g}", default=f"{default:g}",
                                                optimizer=self.spec.optimizer)
                      if self.spec.learning_rate > default else
                      N_("Try more epochs, more training digits or a larger learning rate."))
            template = (N_("The network did not learn: test accuracy {accuracy} is close to guessing ({chance} for "
                           "ten digits) and the loss did not fall. {advice}") if stuck else
                        N_("The network did not learn: test accuracy {accuracy} is close to guessing ({chance} for "
                           "ten digits). {advice}"))
            return "not_learned", template.format(accuracy=percent(result.evaluation.accuracy),
                                                  chance=f"{chance:.0%}", advice=advice)
        epochs = len(result.history.epoch_loss)
        steps = len(losses)
        return "completed", N_("Trained {epochs} ({steps}) in {seconds} s.").format(
            epochs=counted("{count} epoch", "{count} epochs", epochs),
            steps=counted("{count} step", "{count} steps", steps), seconds=f"{result.seconds:.1f}")

    def _record(self, progress) -> None:
        self.history.record(progress)


class RunRegistry:
    """The server's runs: submitted through one job pool, finished ones kept for a while.

    Args:
        pool: the server's `JobPool`.
        keep_seconds: how long a finished run stays findable.
        max_finished: at most this many finished runs are kept (oldest dropped first).
        max_models: at most this many rebuilt models live at once (least recently used dropped).
    """

    def __init__(self, pool: JobPool, keep_seconds: float = KEEP_FINISHED_SECONDS,
                 max_finished: int = MAX_FINISHED_RUNS, max_models: int = MAX_LIVE_MODELS):
        self.pool = pool
        self.keep_seconds = keep_seconds
        self.max_finished = max_finished
        self.max_models = max_models
        self._runs: dict[str, Run] = {}
        self._live_models: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.RLock()

    def submit(self, requests: list[Request], owner: str, owner_alive: Callable[[], bool] | None = None,
               origin: str = "train", one_epoch: bool = False) -> list[Run]:
        """Queue runs as one request: one training, or a group trained side by side.

        Args:
            requests: (spec, style, config) for each run, queued in this order; a fourth item may
                add job extras (see `JobPool.submit_many`).
            owner: the browser session asking (one unfinished request per owner).
            owner_alive: returns False once that session is gone (its runs are then cancelled).
            origin: the page that asks ("train", "draw" or "compare").
            one_epoch: train only the first epoch, then pause resumable ("Step").

        Returns:
            The new runs, in order.

        Raises:
            jobs.OwnerBusyError: the owner already has a run queued or running.
            jobs.QueueFullError: too many trainings are waiting on the server.
        """
        group = uuid.uuid4().hex[:8] if len(requests) > 1 else ""
        if one_epoch:
            requests = [(*request[:3], _with_options(request, stop_at_epoch=1)) for request in requests]
        runs = [Run(job=job, origin=origin, group=group, pausing=one_epoch) for job in self.pool.submit_many(
            requests, owner=owner, owner_alive=owner_alive, listener_factory=self._listener)]
        with self._lock:
            for run in runs:
                self._runs[run.id] = run
            self._forget_expired()
        return runs

    def shared(self, request: Request, origin: str = "draw") -> Run:
        """A run of exactly this network, way and settings that every session may share.

        Many students press the same "train now" button: the first press trains, every later one
        gets that same run, still training (its progress shows) or finished (at once). A shared run
        belongs to no session, so no closed tab can cancel it for the others.

        Args:
            request: (spec, style, config).
            origin: the page that asks.

        Returns:
            The shared run (queued, training or trained).

        Raises:
            jobs.QueueFullError: a new training is needed and the server's queue is full.
        """
        with self._lock:
            self._forget_expired()
            for run in reversed(list(self._runs.values())):
                if run.shared and (run.spec, run.style, run.config) == request and run.state in (QUEUED, RUNNING, DONE):
                    return run
            (job,) = self.pool.submit_many([request], owner="", owner_alive=None, listener_factory=self._listener)
            run = Run(job=job, origin=origin, shared=True)
            self._runs[run.id] = run
            return run

    def can_pause(self, run: Run) -> bool:
        """True when `pause(run)` has something to pause: it trains, or a resumed part waits for a worker."""
        return run.state == RUNNING or run.resumed_and_waiting

    def pause(self, run: Run) -> None:
        """Stop a training after its current step, resumable: its worker is freed for others. A resumed
        part still waiting for a worker leaves the queue and the run is paused where it was."""
        if self.can_pause(run):
            run.pausing = True
            self.pool.stop(run.job.id)  # a queued job is cancelled, a running one stops after its step
            run._back_to_paused_part(pausing=True)

    def finish(self, run: Run) -> None:
        """End a run where it is, keeping its weights: a running one after its current step, a paused
        one at once (it is then done, no longer resumable), a resumed part still waiting for a worker
        at once with the weights from before (a new run waiting for a worker is cancelled)."""
        if run.paused:
            run.pausing = False
        elif run.state in (QUEUED, RUNNING):
            run.pausing = False
            self.pool.stop(run.job.id)
            run._back_to_paused_part(pausing=False)

    def resume(self, run: Run, owner: str, owner_alive: Callable[[], bool] | None = None,
               one_epoch: bool = False) -> None:
        """Continue a paused run where it stopped (queued like any training), the curves continuing.

        Args:
            run: a paused run.
            owner, owner_alive: the session resuming it (as for `submit`).
            one_epoch: stop again, resumable, at the end of the current epoch ("Step").

        Raises:
            ValueError: the run is not paused.
            jobs.OwnerBusyError, jobs.QueueFullError: as for `submit`.
        """
        if not run.paused:
            raise ValueError(f"run: expected a paused run; received one that is {run.state}")
        state = run.job.result.state
        options = {"resume": state}
        if one_epoch:
            options["stop_at_epoch"] = state.epochs_done + 1
        extra = {"options": options, "class_digits": run.job.class_digits}
        (job,) = self.pool.submit_many([(run.spec, run.style, run.config, extra)], owner=owner,
                                       owner_alive=owner_alive, listener_factory=lambda job: run._record)
        run._next_part(job, pausing=one_epoch)

    def _listener(self, job: Job) -> Callable:
        # The pool asks for this when it creates the job, before its Run exists: the run is found by
        # its id (the first job's) when progress arrives.
        def deliver(progress) -> None:
            run = self._runs.get(job.id)
            if run is not None:
                run._record(progress)

        return deliver

    def get(self, run_id: str) -> Run | None:
        """The run with this id, or None once it has expired (or the server restarted)."""
        with self._lock:
            self._forget_expired()
            return self._runs.get(run_id)

    def adopt(self, run_id: str, owner: str, owner_alive: Callable[[], bool] | None = None) -> Run | None:
        """Hand a run named in a share link to the session that opened it.

        A finished run is simply returned (reading its results changes nothing). An unfinished
        one moves to the new session only once the page that started it is gone (a reload):
        a link copied from a page still open never takes its training away.

        Returns:
            The run, or None when it has expired or its page is still open.
        """
        run = self.get(run_id)
        if run is None or run.finished:
            return run
        return run if self.pool.adopt(run.job.id, owner, owner_alive) is not None else None

    def model(self, run: Run):
        """The trained keras.Model of a finished run, rebuilt once from its source and weights.

        Its predict step is compiled here (once per architecture), so the first drawing does
        not wait for it. Rebuilding touches no global random state (see `build.rebuild_model`).
        """
        if not run.trained:
            raise ValueError(f"run: expected a run that finished training; received one that is {run.state}")
        with run._lock:
            if run._model is None:
                import numpy as np

                from kerasways.build import rebuild_model
                from kerasways.evaluate import predict_one

                run._model = rebuild_model(run.spec, run.style, run.job.result.weights)
                predict_one(run._model, np.zeros((28, 28), np.float32), architecture=run.predict_key)
        with self._lock:
            self._live_models[run.id] = run
            self._live_models.move_to_end(run.id)
            while len(self._live_models) > self.max_models:
                _, oldest = self._live_models.popitem(last=False)
                with oldest._lock:
                    oldest._model = None
        return run._model

    def _forget_expired(self) -> None:
        now = time.time()
        finished = sorted((run for run in self._runs.values() if run.finished),
                          key=lambda run: run.job.finished_at or 0.0)
        too_many = len(finished) - self.max_finished
        for index, run in enumerate(finished):
            if index < too_many or now - (run.job.finished_at or now) > self.keep_seconds:
                del self._runs[run.id]
                self._live_models.pop(run.id, None)


class Book:
    """One browser session's runs, oldest first, however each was started.

    Args:
        registry: the server's `RunRegistry`.
    """

    def __init__(self, registry: RunRegistry):
        self.registry = registry
        self._ids: list[str] = []

    def runs(self) -> list[Run]:
        """The session's runs that the server still has, oldest first."""
        found = [self.registry.get(run_id) for run_id in self._ids]
        self._ids = [run.id for run in found if run is not None]
        return [run for run in found if run is not None]

    def add(self, runs: list[Run]) -> None:
        """Put runs in this book (newest last), keeping at most MAX_RUNS_PER_BOOK."""
        for run in runs:
            if run.id not in self._ids:
                self._ids.append(run.id)
        del self._ids[:max(0, len(self._ids) - MAX_RUNS_PER_BOOK)]

    def submit(self, requests: list[Request], owner: str, owner_alive: Callable[[], bool] | None = None,
               origin: str = "train", one_epoch: bool = False) -> list[Run]:
        """Start runs for this session (see `RunRegistry.submit`) and keep them in the book."""
        if self.active():
            running = self.active()[0]
            raise OwnerBusyError(N_("Your {way} training is still running: stop it or wait for it to finish.")
                                 .format(way=STYLE_TITLES[running.style]))
        runs = self.registry.submit(requests, owner, owner_alive, origin, one_epoch)
        self.add(runs)
        return runs

    def add_shared(self, request: Request, origin: str = "draw") -> Run:
        """Put the server's shared run of `request` in this book (see `RunRegistry.shared`)."""
        run = self.registry.shared(request, origin)
        self.add([run])
        return run

    def active(self) -> list[Run]:
        """Runs queued or training now."""
        return [run for run in self.runs() if run.state in (QUEUED, RUNNING)]

    def trained(self) -> list[Run]:
        """Runs that produced a model, oldest first."""
        return [run for run in self.runs() if run.trained]

    def latest(self, style: str | None = None) -> Run | None:
        """The newest run (in `style`, if given), whatever its state."""
        for run in reversed(self.runs()):
            if style is None or run.style == style:
                return run
        return None

    def latest_group(self) -> list[Run]:
        """The runs of the newest group (e.g. the last "Train all three"), or []."""
        runs = self.runs()
        groups = [run.group for run in runs if run.group]
        return [run for run in runs if groups and run.group == groups[-1]]

    def link_ids(self) -> list[str]:
        """The run ids the share link names, so a reload finds every run again."""
        return [run.id for run in self.runs() if run.state in (QUEUED, RUNNING, DONE, PAUSED)]

    def reattach(self, run_ids: list[str], owner: str, owner_alive: Callable[[], bool] | None = None) -> dict:
        """After a reload, take back the runs a link names.

        Returns:
            Counts for a message: {"running": n, "finished": n, "missing": n}.
        """
        counts = {"running": 0, "finished": 0, "missing": 0}
        found = []
        for run_id in dict.fromkeys(run_ids):
            run = self.registry.adopt(run_id, owner, owner_alive)
            if run is None:
                counts["missing"] += 1
                continue
            counts["finished" if run.finished else "running"] += 1
            found.append(run)
        self.add(found)
        return counts

