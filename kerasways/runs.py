"""Where a training run lives: from the click that starts it to the model that reads drawings.

- `Run` is one training: what was asked (network, way, settings), its jobs on the training engine
  (one per part: a paused run continues in a new job), one history that the streamed progress
  appends to, and, once finished, its result, its outcome in words and the key of its predict step.
  Its `state` (an `engine.RunState`) is derived in one place, from its latest job and whether it
  was asked to pause.
- `RunRegistry` is the server's: it submits runs to the `engine.TrainingEngine` (one run, or a
  group such as "Train all three"), pauses and resumes them (each part a job of its own, on any
  free worker), shares one run among every session that asks for exactly the same training (the
  Draw page's network), keeps finished runs for a while, so a page reload finds them again, and
  rebuilds their models (at most a few at once). Pages ask it, never the engine, where a run waits
  and how busy the server is.
- `Book` is one browser session's runs, in order: the latest finished run per way, the active
  runs, the latest group, the run that counts as "before" for one trained with the class's
  digits, and the run ids the share link carries.

Pages hold one `Book` in session state and only draw what it says.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import NamedTuple

from kerasways import budget
from kerasways.engine import EngineStatus, Job, JobResult, OwnerBusyError, RunState, TrainingEngine, TrainingRequest
from kerasways.formats import percent
from kerasways.i18n import N_
from kerasways.messages import Message, UserError, counted
from kerasways.spec import (
    DEFAULT_LEARNING_RATES,
    DRAWING_NETWORK,
    DRAWING_TRAINING,
    NUM_CLASSES,
    STYLE_TITLES,
    ModelSpec,
    TrainConfig,
    drawing_training,
    preset_of,
)

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

# The Draw page's network, trained in one way for everyone so that a whole class shares one run.
# Its probabilities are calibrated after training (`calibration.py`): the Draw page's percentages are honest.
DRAWING_REQUEST = TrainingRequest(DRAWING_NETWORK, "functional", DRAWING_TRAINING, {"calibrate": True})
# The time the Draw page promises for it is `RunRegistry.expected_seconds`: measured on this server.


def drawing_request(data_size: int) -> TrainingRequest:
    """The network for drawings, with the settings for the digits at hand (`spec.drawing_training`).

    Args:
        data_size: how many training digits the server has.

    Returns:
        DRAWING_REQUEST on the offline digits; on more, the same network with a lesson's settings.
    """
    return TrainingRequest(DRAWING_NETWORK, DRAWING_REQUEST.style, drawing_training(data_size), DRAWING_REQUEST.options)


LOG = logging.getLogger("kerasways")

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


class Outcome(NamedTuple):
    """How a trained run ended.

    kind is "completed", "stopped", "paused", "nan" (the loss diverged) or "not_learned" (the
    accuracy stayed near chance or the loss did not fall, which a green "done" would hide);
    message says it in words, for `i18n.render`.
    """

    kind: str
    message: Message


class Run:
    """One training: its request, its jobs, its history and (once trained) its result.

    A run may be paused and resumed (or stepped one epoch at a time): each part trains in a job
    of its own, on whichever worker is free, and `job` is the latest; the history continues.
    The run hears its jobs itself (it is their `engine.JobListener`: `on_progress`, `on_result`); the
    registry moves it from part to part through `stop_as`, `continue_with` and `return_to_paused_part`.

    Args:
        job: its first job.
        origin: the page that started it ("train", "draw" or "compare").
        group: runs started together (Train all three) share a group id.
        shared: one run for every session that asks for the same training (see `RunRegistry.shared`).
        owner: who started it (a browser, see `app_pages/session.owner_id`); "" for a shared run,
            which belongs to nobody.
        pausing: when its job stops resumable, the run is paused (the user paused, or steps one
            epoch at a time) rather than done.

    `estimated_seconds` is how long its current part was expected to hold a worker when it was queued
    (`budget.estimated_seconds`), for a queue view's "how long".
    """

    def __init__(self, job: Job, origin: str = "train", group: str = "", shared: bool = False,
                 pausing: bool = False, owner: str = ""):
        self._job = job
        self.origin = origin
        self.group = group
        self.shared = shared
        self.owner = "" if shared else owner
        self.history = RunHistory()
        # Trained with the class's digits: the held-out writers' drawings (collection.CollectionData),
        # kept so "before and after" is measured on handwriting the run never saw.
        self.class_test = None
        self._id = job.id
        self._pausing = pausing
        # The part before a resume (a stopped job that holds the weights so far): the run goes
        # back to it when its resumed part is stopped or paused before a worker took it.
        self._paused_part: Job | None = None
        self.estimated_seconds: float | None = None
        # Read from the data folder (`stored_network`) rather than trained by this server.
        self.stored = False
        self._lock = threading.Lock()

    # -- what it is

    @property
    def job(self) -> Job:
        """Its latest part's job (read it, never change it: the engine updates it)."""
        return self._job

    @property
    def id(self) -> str:
        """The run's id (its first job's), unguessable: it is what the share link names."""
        return self._id

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
    def class_train(self):
        """The class's drawings mixed into its training digits (collection.CollectionData), or None."""
        return self.job.request.class_digits

    @property
    def predict_key(self) -> tuple:
        """The key of its compiled predict step: the architecture and the way, never seed or rate."""
        return (self.spec.architecture, self.style)

    @property
    def network_name(self) -> str:
        """E.g. "Small CNN" or "Your network"."""
        return network_name(self.spec)

    # -- where it is

    @property
    def state(self) -> RunState:
        """Its state, from its latest job: that job's state, except PAUSED for a job that stopped
        resumable while the run was to pause. The one place a run's state is decided."""
        with self._lock:
            job, pausing = self._job, self._pausing
        if job.state is RunState.DONE and pausing and job.result is not None and job.result.resumable:
            return RunState.PAUSED
        return job.state

    @property
    def paused(self) -> bool:
        """True while it waits, resumable, for Resume or Step (its worker is free for others)."""
        return self.state is RunState.PAUSED

    @property
    def active(self) -> bool:
        """True while it is queued or training."""
        return self.state.active

    @property
    def finished(self) -> bool:
        """True once it no longer trains nor waits to: done, failed, cancelled, or paused."""
        return not self.active

    @property
    def resumed_and_waiting(self) -> bool:
        """True while a resumed part waits in the queue (the weights so far are in the part before)."""
        return self.job.state is RunState.QUEUED and self._paused_part is not None

    @property
    def finished_at(self) -> float | None:
        """When its latest part ended (time.time()), or None while it is queued or training."""
        return self.job.finished_at

    @property
    def progress(self):
        """The latest `training.Progress`, or None before the first report."""
        return self.job.progress

    @property
    def epochs_done(self) -> int:
        """Completed epochs so far."""
        return len(self.history.snapshot()[2])

    @property
    def result(self) -> JobResult | None:
        """The `engine.JobResult` of a run that trained (also when stopped early or paused), else None."""
        job = self.job
        return job.result if job.state is RunState.DONE else None

    @property
    def trained(self) -> bool:
        """True when it produced weights a model can use (a paused run has those of its last step)."""
        return self.result is not None

    @property
    def resume_state(self):
        """The `training.TrainState` a paused run continues from, else None."""
        return self.result.state if self.paused else None

    @property
    def error(self) -> Message | None:
        """Why it failed or was cancelled, or how a diverged training ended (None otherwise)."""
        return self.job.error

    @property
    def accuracy(self) -> float | None:
        """Test accuracy once trained, else None."""
        result = self.result
        return result.evaluation.accuracy if result is not None else None

    # -- in words

    def title(self) -> Message:
        """E.g. "Small CNN · Functional API · seed 42 · 95.00%" (the accuracy once trained), for `i18n.render`."""
        parts = {"network": Message(self.network_name), "way": Message(STYLE_TITLES[self.style]),
                 "seed": Message(N_("seed {seed}"), {"seed": self.spec.seed})}
        if self.accuracy is not None:
            parts["accuracy"] = percent(self.accuracy)
        if self.paused:
            parts["paused"] = Message(N_("paused at epoch {epoch}"), {"epoch": self.epochs_done})
        # The joints are no sentence to translate: each part is translated, then joined.
        return Message(" · ".join("{" + name + "}" for name in parts), parts)

    def outcome(self) -> Outcome:
        """How a trained run ended, in plain words (see `Outcome`)."""
        result = self.result
        if self.paused:
            state, total = result.state, self.config.epochs
            where = (Message(N_("in epoch {epoch} of {total}, after batch {batch}"),
                             {"epoch": state.epochs_done + 1, "total": total, "batch": f"{state.step:,}"})
                     if state.step else
                     Message(N_("after epoch {epoch} of {total}"), {"epoch": state.epochs_done, "total": total}))
            return Outcome("paused", Message(N_(
                "Paused {where}: the weights so far are kept. Resume, or step one epoch at a time."), {"where": where}))
        if result.status in ("nan", "stopped"):
            return Outcome(result.status, result.message)
        losses = result.history.batch_loss
        chance = 1.0 / NUM_CLASSES
        stuck = len(losses) >= 2 and min(losses[-max(1, len(losses) // 10):]) >= losses[0]
        if result.evaluation.accuracy < chance + CHANCE_MARGIN or stuck:
            default = DEFAULT_LEARNING_RATES[self.spec.optimizer]
            advice = (Message(N_("The learning rate ({rate}) is probably too high; try {default}, Keras' default for "
                                 "{optimizer}."), {"rate": f"{self.spec.learning_rate:g}", "default": f"{default:g}",
                                                   "optimizer": self.spec.optimizer})
                      if self.spec.learning_rate > default else
                      Message(N_("Try more epochs, more training digits or a larger learning rate.")))
            template = (N_("The network did not learn: test accuracy {accuracy} is close to guessing ({chance} for "
                           "ten digits) and the loss did not fall. {advice}") if stuck else
                        N_("The network did not learn: test accuracy {accuracy} is close to guessing ({chance} for "
                           "ten digits). {advice}"))
            return Outcome("not_learned", Message(template, {"accuracy": percent(result.evaluation.accuracy),
                                                             "chance": f"{chance:.0%}", "advice": advice}))
        return Outcome("completed", Message(N_("Trained {epochs} ({steps}) in {seconds} s."), {
            "epochs": counted("{count} epoch", "{count} epochs", len(result.history.epoch_loss)),
            "steps": counted("{count} step", "{count} steps", len(losses)), "seconds": f"{result.seconds:.1f}"}))

    # -- what its jobs tell it (engine.JobListener, called in the engine's thread)

    def on_progress(self, progress) -> None:
        """Append one `training.Progress` report of its current part to the history."""
        self.history.record(progress)

    def on_result(self, result: JobResult) -> None:
        """A part finished training: its full history replaces what was streamed (never partial)."""
        self.history.complete(result.history)

    # -- moves, made by the RunRegistry

    def stop_as(self, paused: bool) -> None:
        """Say what the run becomes once its current part stops: paused (resumable) or done."""
        with self._lock:
            self._pausing = paused

    def continue_with(self, job: Job, pausing: bool) -> None:
        """A resumed part in `job` carries the run on; with `pausing`, it pauses again when that part stops."""
        with self._lock:
            self._paused_part, self._job, self._pausing = self._job, job, pausing

    def return_to_paused_part(self) -> None:
        """After its queued resumed part was cancelled (a pause or stop before a worker took it), the
        run is its paused part again, with that part's weights and history."""
        with self._lock:
            if self._job.state is not RunState.CANCELLED or self._paused_part is None:
                return
            self._job, self._paused_part = self._paused_part, None
            part = self._job
        if part.result is not None:
            self.history.complete(part.result.history)


def worker_seconds(run: Run) -> float | None:
    """How long a trained run held its worker (building, training and testing, what `budget` estimates), or None."""
    job = run.job
    if run.result is None or job.started_at is None or job.finished_at is None:
        return None
    return job.finished_at - job.started_at


class NotYours(UserError):
    """Somebody asked to control a run that is not theirs (another browser's, or the class's shared one)."""


class RunRegistry:
    """The server's runs: submitted to one training engine, finished ones kept for a while.

    Args:
        engine: the server's `engine.TrainingEngine` (e.g. a `jobs.JobPool`).
        keep_seconds: how long a finished run stays findable.
        max_finished: at most this many finished runs are kept (oldest dropped first).
        max_models: at most this many rebuilt models live at once (least recently used dropped).
        max_training_seconds: the most worker-seconds one request may be estimated to take (a group's
            summed); None reads `budget.max_training_seconds()` (the server's environment).
        networks: a `stored_network.NetworkStore`: shared runs are offered from it at once, and stored in it
            once trained; None keeps them in memory only.
        fingerprint: the data the workers train on (`data.data_fingerprint`, the default), for `networks`.
    """

    def __init__(self, engine: TrainingEngine, keep_seconds: float = KEEP_FINISHED_SECONDS,
                 max_finished: int = MAX_FINISHED_RUNS, max_models: int = MAX_LIVE_MODELS,
                 max_training_seconds: float | None = None, networks=None,
                 fingerprint: Callable[[], str] | None = None):
        self.engine = engine
        # Where the class's shared networks are stored (`stored_network.NetworkStore`), or None: only in memory.
        self.networks = networks
        self._fingerprint = fingerprint
        # Measured / estimated seconds of the last shared training here, per network: what the page's
        # expected time is scaled by (the budget's constants were fitted on other days, other loads).
        self._measured_ratio: dict[ModelSpec, float] = {}
        self.max_training_seconds = (budget.max_training_seconds() if max_training_seconds is None
                                     else max_training_seconds)
        self.keep_seconds = keep_seconds
        self.max_finished = max_finished
        self.max_models = max_models
        self._runs: dict[str, Run] = {}
        # run id → (id of the part whose weights it holds, keras.Model), least recently used first
        self._live_models: OrderedDict[str, tuple[str, object]] = OrderedDict()
        self._model_locks: dict[str, threading.Lock] = {}
        self._lock = threading.RLock()
        self._store_lock = threading.Lock()

    def submit(self, requests: Sequence[TrainingRequest], owner: str, owner_alive: Callable[[], bool] | None = None,
               origin: str = "train", one_epoch: bool = False) -> list[Run]:
        """Queue runs as one request: one training, or a group trained side by side.

        Args:
            requests: what to train, queued in this order.
            owner: the browser session asking (one unfinished request per owner).
            owner_alive: returns False once that session is gone (its runs are then cancelled).
            origin: the page that asks ("train", "draw" or "compare").
            one_epoch: train only the first epoch, then pause resumable ("Step").

        Returns:
            The new runs, in order.

        Raises:
            budget.TrainingTooLong: the request (a group's trainings together) is estimated to hold a
                worker longer than `max_training_seconds`; nothing was queued.
            engine.OwnerBusyError: the owner already has a run queued or running.
            engine.QueueFullError: too many trainings are waiting on the server.
        """
        group = uuid.uuid4().hex[:8] if len(requests) > 1 else ""
        if one_epoch:
            requests = [request.with_options(stop_at_epoch=1) for request in requests]
        estimate = self._within_budget(requests)
        runs: list[Run] = []

        def new_run(job: Job) -> Run:
            # The engine asks for each job's listener as it creates the job: the run is born with it.
            runs.append(Run(job, origin=origin, group=group, pausing=one_epoch, owner=owner))
            return runs[-1]

        self.engine.submit(requests, owner=owner, owner_alive=owner_alive, listener_factory=new_run)
        with self._lock:
            for run, cost in zip(runs, estimate.costs):
                run.estimated_seconds = cost.seconds
                self._runs[run.id] = run
            self._forget_expired()
        return runs

    def data_size(self) -> int:
        """How many training digits the workers have (see `engine.TrainingEngine.data_size`)."""
        return self.engine.data_size()

    def estimate(self, requests: Sequence[TrainingRequest]) -> budget.Estimate:
        """How long these trainings, queued as one request, would hold a worker, against the server's limit.

        Args:
            requests: one training, or a group (e.g. Train all three).

        Returns:
            The `budget.Estimate` (its `message()` in words; `fits`).
        """
        return budget.estimate(requests, self.data_size(), self.max_training_seconds)

    def _within_budget(self, requests: Sequence[TrainingRequest]) -> budget.Estimate:
        estimate = self.estimate(requests)
        if not estimate.fits:
            raise estimate.refusal()
        return estimate

    def shared(self, request: TrainingRequest, origin: str = "draw") -> Run:
        """A run of exactly this network, way and settings that every session may share.

        Many students press the same "train now" button: the first press trains, every later one
        gets that same run, still training (its progress shows) or finished (at once). A shared run
        belongs to no session, so no closed tab can cancel it for the others.

        Args:
            request: what to train (its options and class digits are not part of the match).
            origin: the page that asks.

        Returns:
            The shared run (queued, training or trained).

        Raises:
            budget.TrainingTooLong: a new training is needed and it would take longer than the limit.
            engine.QueueFullError: a new training is needed and the server's queue is full.
        """
        found = self._adopt_stored(request, origin)  # reading a model takes a moment: outside the registry's lock
        if found is not None:
            return found
        with self._lock:
            found = self._shared_ready_or_training(request)
            if found is not None:
                return found
            (cost,) = self._within_budget([request]).costs
            runs: list[Run] = []

            def new_run(job: Job) -> Run:
                runs.append(Run(job, origin=origin, shared=True))
                return runs[-1]

            self.engine.submit([request], owner="", owner_alive=None, listener_factory=new_run)
            runs[0].estimated_seconds = cost.seconds
            self._runs[runs[0].id] = runs[0]
            return runs[0]

    def _shared_ready_or_training(self, request: TrainingRequest) -> Run | None:
        # The same training, or a stored network of the same network and way (trained with any settings:
        # prefetch's full recipe is better than a lesson's).
        self._forget_expired()
        for run in reversed(list(self._runs.values())):
            same = ((run.spec, run.style) == (request.spec, request.style)
                    and (run.stored or run.config == request.config))
            if run.shared and same and self.fit_to_share(run):
                return run
        return None

    def ready_shared(self, request: TrainingRequest, origin: str = "draw") -> Run | None:
        """The shared run of `request` when it is trained already, in memory or in the data folder; never
        trains (the Draw page offers it at once, without a press).

        Args:
            request: as for `shared`.
            origin: the page that asks.

        Returns:
            The trained shared run, or None.
        """
        with self._lock:
            found = self._shared_ready_or_training(request)
            if found is not None:
                return found if found.trained else None
        if not self._stored_network(request, probe=True):
            return None
        found = self._adopt_stored(request, origin)
        return found if found is not None and found.trained else None

    def _adopt_stored(self, request: TrainingRequest, origin: str) -> Run | None:
        # One reader at a time: a class opening the Draw page together reads the file once.
        with self._store_lock:
            with self._lock:
                found = self._shared_ready_or_training(request)
            if found is not None:
                return found
            stored = self._from_store(request, origin)
            if stored is not None:
                with self._lock:
                    self._runs[stored.id] = stored
            return stored

    def _stored_network(self, request: TrainingRequest, probe: bool = False):
        from kerasways.stored_network import DRAWING_NETWORK_NAME

        if self.networks is None:
            return None
        if probe:  # is there a record at all (no TensorFlow, no hashing)
            return self.networks.record_path(DRAWING_NETWORK_NAME).exists()
        return self.networks.find(DRAWING_NETWORK_NAME, request.spec, request.style, self.fingerprint())

    def fingerprint(self) -> str:
        """The data the workers train on (`data.data_fingerprint`), for matching stored networks."""
        if self._fingerprint is not None:
            return self._fingerprint()
        from kerasways.data import data_fingerprint

        return data_fingerprint()

    def _from_store(self, request: TrainingRequest, origin: str) -> Run | None:
        network = self._stored_network(request)
        if network is None:
            return None
        message = Message(N_("Trained {epochs} epochs ({steps} steps) in {seconds} s."), {
            "epochs": len(network.history.epoch_loss), "steps": f"{len(network.history.batch_loss):,}",
            "seconds": f"{network.seconds:.1f}"})
        from kerasways.calibration import Calibration

        calibration = network.extra.get("calibration")
        result = JobResult(weights=network.weights, history=network.history, seconds=network.seconds,
                           status="completed", message=message, evaluation=network.evaluation,
                           calibration=Calibration(**calibration) if calibration else None)
        job = Job(id=f"stored-{uuid.uuid4().hex}", owner="", request=TrainingRequest(
            network.spec, network.style, network.config), state=RunState.DONE, result=result,
            submitted_at=time.time(), finished_at=time.time())
        # Its time here: the worker's when a server trained it, the training's when prefetch did.
        job.started_at = job.finished_at - (network.extra.get("worker_seconds") or network.seconds)
        run = Run(job, origin=origin, shared=True)
        run.history.complete(network.history)
        run.stored = True
        self._measured(run)
        LOG.info("kerasways: the network for drawings is ready from %s", self.networks.folder)
        return run

    def _store(self, run: Run, model) -> None:
        # The first shared training of a network is stored for the next servers (and this one's restart).
        if self.networks is None or run.stored or not run.shared or not self.fit_to_share(run) or run.active:
            return
        from kerasways.stored_network import DRAWING_NETWORK_NAME, StoredNetwork, calibration_record

        if (run.spec, run.style) != (DRAWING_REQUEST.spec, DRAWING_REQUEST.style):
            return
        result = run.result
        network = StoredNetwork(run.spec, run.style, run.config, [], result.history, result.evaluation,
                                result.seconds, self.fingerprint(),
                                {**calibration_record(result.calibration), "worker_seconds": worker_seconds(run)})
        run.stored = self.networks.save(DRAWING_NETWORK_NAME, model, network)

    def _measured(self, run: Run) -> None:
        seconds = worker_seconds(run)
        if not seconds:
            return
        estimated = budget.estimated_seconds(TrainingRequest(run.spec, run.style, run.config), self.data_size())
        with self._lock:
            self._measured_ratio[run.spec] = seconds / estimated

    def expected_seconds(self, request: TrainingRequest) -> float:
        """How long `request` should take one worker here: the training budget's estimate for the data at
        hand, scaled by how the last training of that network here compared with its own estimate.

        Args:
            request: e.g. `drawing_request(data_size())`.

        Returns:
            Seconds (the budget's estimate alone until a training of that network was measured here).
        """
        with self._lock:
            ratio = self._measured_ratio.get(request.spec, 1.0)
        return ratio * budget.estimated_seconds(request, self.data_size())

    @staticmethod
    def fit_to_share(run: Run) -> bool:
        """Whether a shared run may be handed out: queued, training, or trained to the end (one the
        teacher stopped early, or one that failed or did not learn, never is the class's model)."""
        if run.active:
            return True
        return run.state is RunState.DONE and run.result is not None and run.outcome().kind == "completed"

    @staticmethod
    def belongs_to(run: Run, owner: str) -> bool:
        """Whether a link naming `run` gives it to `owner`: its own browser's, or shared by the class."""
        return run.shared or (bool(owner) and run.owner == owner)

    @staticmethod
    def may_control(run: Run, by: str, teacher: bool = False) -> bool:
        """Whether `by` may pause, resume, stop or cancel `run`.

        Args:
            run: the run.
            by: who asks (the owner id a page passes to `submit`).
            teacher: the asker gave the teacher key.

        Returns:
            True for the teacher, and for the browser that started the run; False for anyone else,
            and for every student on a shared run (it belongs to the class).
        """
        return teacher or (not run.shared and bool(by) and run.owner == by)

    def _check_control(self, run: Run, by: str, teacher: bool) -> None:
        if not self.may_control(run, by, teacher):
            raise NotYours(Message(N_("Only the teacher can stop or pause the class's shared training.")) if run.shared
                           else Message(N_("This training was started in another browser; only that browser (or the "
                                           "teacher) can pause, resume or stop it.")))

    @staticmethod
    def _end_current_part(run: Run, paused: bool, end: Callable[[str], None]) -> None:
        # Say what the run becomes, have the engine end its current job (`stop`: a queued job is
        # cancelled, a running one stops after its step; `cancel`: no result), and fall back to the
        # paused part when that job was a resumed part still waiting.
        run.stop_as(paused=paused)
        end(run.job.id)
        run.return_to_paused_part()

    def can_pause(self, run: Run) -> bool:
        """True when `pause(run)` has something to pause: it trains, or a resumed part waits for a worker."""
        return run.state is RunState.RUNNING or run.resumed_and_waiting

    def pause(self, run: Run, *, by: str, teacher: bool = False) -> None:
        """Stop a training after its current step, resumable: its worker is freed for others. A resumed
        part still waiting for a worker leaves the queue and the run is paused where it was.

        Args:
            run: the run.
            by, teacher: who asks (see `may_control`).

        Raises:
            NotYours: `by` may not control this run.
        """
        self._check_control(run, by, teacher)
        if self.can_pause(run):
            self._end_current_part(run, paused=True, end=self.engine.stop)

    def finish(self, run: Run, *, by: str, teacher: bool = False) -> None:
        """End a run where it is, keeping its weights: a running one after its current step, a paused
        one at once (it is then done, no longer resumable), a resumed part still waiting for a worker
        at once with the weights from before (a new run waiting for a worker is cancelled).

        Args:
            run: the run.
            by, teacher: who asks (see `may_control`).

        Raises:
            NotYours: `by` may not control this run.
        """
        self._check_control(run, by, teacher)
        if run.paused:
            run.stop_as(paused=False)
        elif run.active:
            self._end_current_part(run, paused=False, end=self.engine.stop)

    def resume(self, run: Run, owner: str, owner_alive: Callable[[], bool] | None = None,
               one_epoch: bool = False) -> None:
        """Continue a paused run where it stopped (queued like any training), the curves continuing.

        Args:
            run: a paused run.
            owner, owner_alive: the session resuming it (as for `submit`).
            one_epoch: stop again, resumable, at the end of the current epoch ("Step").

        Raises:
            NotYours: the run was started by another browser (or is shared).
            UserError: the run is not paused (e.g. Resume clicked twice).
            budget.TrainingTooLong, engine.OwnerBusyError, engine.QueueFullError: as for `submit` (the
                part still to train is what counts).
        """
        self._check_control(run, owner, teacher=False)
        state = run.resume_state
        if state is None:
            raise UserError(Message(N_("Only a paused training can be resumed; this one is no longer paused.")))
        options = {"resume": state}
        if one_epoch:
            options["stop_at_epoch"] = state.epochs_done + 1
        request = TrainingRequest(run.spec, run.style, run.config, options, run.class_train)
        (cost,) = self._within_budget([request]).costs
        (job,) = self.engine.submit([request], owner=owner, owner_alive=owner_alive,
                                    listener_factory=lambda job: run)
        run.continue_with(job, pausing=one_epoch)
        run.estimated_seconds = cost.seconds

    def cancel(self, run: Run, *, by: str, teacher: bool = False) -> None:
        """End a run at once without a result (the teacher's "cancel" in the queue); its worker is freed.
        A paused run's resumed part that waits for a worker is dropped and the run is paused again.

        Args:
            run: the run.
            by, teacher: who asks (see `may_control`).

        Raises:
            NotYours: `by` may not control this run.
        """
        self._check_control(run, by, teacher)
        if run.active:
            # A resumed part still waiting: its part before holds the weights, and the run waits paused again.
            self._end_current_part(run, paused=run.resumed_and_waiting, end=self.engine.cancel)

    def active_runs(self) -> list[Run]:
        """Every run queued or training on the server now, oldest first (the teacher's view of the queue)."""
        with self._lock:
            return [run for run in self._runs.values() if run.active]

    def get(self, run_id: str) -> Run | None:
        """The run with this id, or None once it has expired (or the server restarted)."""
        with self._lock:
            self._forget_expired()
            return self._runs.get(run_id)

    def adopt(self, run_id: str, owner: str, owner_alive: Callable[[], bool] | None = None) -> Run | None:
        """Hand a run named in a share link back to the browser that started it.

        A link names a set-up, not somebody's run: only the run's owner gets it back (a reload, a
        new tab of the same browser), and anyone may have a shared run. A finished or paused run is
        simply returned; an unfinished one moves to the new page only once the page that started
        it is gone, so a second tab never takes a training away from the first.

        Returns:
            The run, or None when it has expired, belongs to another browser, or its page is still open.
        """
        run = self.get(run_id)
        if run is None or not self.belongs_to(run, owner):
            return None
        if run.finished:
            return run
        return run if self.engine.adopt(run.job.id, owner, owner_alive) is not None else None

    def waiting_position(self, run: Run) -> int | None:
        """Where a queued run waits: 1 for the next to start, 2 …; None when the engine cannot tell
        (it waits all the same); 0 when it does not wait."""
        if run.state is not RunState.QUEUED:
            return 0
        return self.engine.position(run.job.id)

    def engine_status(self) -> EngineStatus:
        """How busy the server's training is (workers, busy, waiting)."""
        return self.engine.status()

    def data_description(self) -> Message | None:
        """Which digits the trainings use, once a worker has loaded them (None before: still starting)."""
        return self.engine.data_description()

    def model(self, run: Run):
        """The trained keras.Model of a finished run, rebuilt once from its source and weights.

        Its predict step is compiled here (once per architecture), so the first drawing does
        not wait for it. Rebuilding touches no global random state (see `build.rebuild_model`).
        """
        part = run.job
        if part.state is not RunState.DONE or part.result is None:
            raise UserError(Message(N_("This training has not finished, so it has no trained model yet.")))
        with self._lock:
            lock = self._model_locks.setdefault(run.id, threading.Lock())
        with lock:  # two sessions asking at once build it once
            with self._lock:
                live = self._live_models.get(run.id)
            if live is None or live[0] != part.id:  # none yet, or weights of an earlier part
                import numpy as np

                from kerasways.build import rebuild_model
                from kerasways.evaluate import predict_one

                model = rebuild_model(part.spec, part.style, part.result.weights)
                predict_one(model, np.zeros((28, 28), np.float32), architecture=run.predict_key)
                live = (part.id, model)
                if run.shared and not run.stored and self.fit_to_share(run):
                    self._measured(run)
                    self._store(run, model)
            with self._lock:
                self._live_models[run.id] = live
                self._live_models.move_to_end(run.id)
                while len(self._live_models) > self.max_models:
                    self._live_models.popitem(last=False)
        return live[1]

    def _forget_expired(self) -> None:
        now = time.time()
        finished = sorted((run for run in self._runs.values() if run.finished),
                          key=lambda run: run.finished_at or 0.0)
        too_many = len(finished) - self.max_finished
        for index, run in enumerate(finished):
            if index < too_many or now - (run.finished_at or now) > self.keep_seconds:
                del self._runs[run.id]
                self._live_models.pop(run.id, None)
                self._model_locks.pop(run.id, None)


class Book:
    """One browser session's runs, oldest first, however each was started.

    Args:
        registry: the server's `RunRegistry`.
    """

    def __init__(self, registry: RunRegistry):
        self.registry = registry
        self._ids: list[str] = []

    def runs(self) -> list[Run]:
        """The session's runs that the server still has, oldest first.

        A shared run that ended early (the teacher stopped it, or it failed) leaves every book: the
        class's model is only ever one trained to the end, and the Draw page offers a new training.
        """
        found = [self.registry.get(run_id) for run_id in self._ids]
        found = [run for run in found if run is not None and not (run.shared and run.finished
                                                                  and not self.registry.fit_to_share(run))]
        self._ids = [run.id for run in found]
        return found

    def add(self, runs: list[Run]) -> None:
        """Put runs in this book (newest last), keeping at most MAX_RUNS_PER_BOOK."""
        for run in runs:
            if run.id not in self._ids:
                self._ids.append(run.id)
        del self._ids[:max(0, len(self._ids) - MAX_RUNS_PER_BOOK)]

    def submit(self, requests: Sequence[TrainingRequest], owner: str, owner_alive: Callable[[], bool] | None = None,
               origin: str = "train", one_epoch: bool = False) -> list[Run]:
        """Start runs for this session (see `RunRegistry.submit`) and keep them in the book."""
        if self.active():
            running = self.active()[0]
            raise OwnerBusyError(Message(N_("Your {way} training is still running: stop it or wait for it to finish."),
                                         {"way": Message(STYLE_TITLES[running.style])}))
        runs = self.registry.submit(requests, owner, owner_alive, origin, one_epoch)
        self.add(runs)
        return runs

    def add_shared(self, request: TrainingRequest, origin: str = "draw") -> Run:
        """Put the server's shared run of `request` in this book (see `RunRegistry.shared`)."""
        run = self.registry.shared(request, origin)
        self.add([run])
        return run

    def active(self) -> list[Run]:
        """Runs queued or training now."""
        return [run for run in self.runs() if run.active]

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

    def before(self, run: Run) -> Run | None:
        """The run that counts as "before" for `run`, trained with the class's digits: the session's
        trained run of the same layers that did NOT train with them, or None.

        Among those, the same spec, then the same settings, then the same way count; then the newest.
        """
        candidates = [(index, other) for index, other in enumerate(self.trained())
                      if other.class_train is None and other.spec.architecture == run.spec.architecture]
        if not candidates:
            return None
        _, best = max(candidates, key=lambda pair: (pair[1].spec == run.spec, pair[1].config == run.config,
                                                     pair[1].style == run.style, pair[0]))
        return best

    def link_ids(self) -> list[str]:
        """The run ids the share link names, so a reload finds every run again."""
        return [run.id for run in self.runs() if run.state not in (RunState.FAILED, RunState.CANCELLED)]

    def reattach(self, run_ids: list[str], owner: str, owner_alive: Callable[[], bool] | None = None) -> dict:
        """After a reload, take back the runs a link names.

        A run another browser started stays theirs: the link still opens its set-up (the page's
        network and settings come from the link), and "others" counts it for a note.

        Returns:
            Counts for a message: {"running": n, "finished": n, "missing": n, "others": n}.
        """
        counts = {"running": 0, "finished": 0, "missing": 0, "others": 0}
        found = []
        for run_id in dict.fromkeys(run_ids):
            known = self.registry.get(run_id)
            if known is not None and not self.registry.belongs_to(known, owner):
                counts["others"] += 1
                continue
            run = self.registry.adopt(run_id, owner, owner_alive)
            if run is None:
                counts["missing"] += 1
                continue
            counts["finished" if run.finished else "running"] += 1
            found.append(run)
        self.add(found)
        return counts
