"""One synchronous training run, fast at the user's batch size, reporting progress as it goes.

The model is built from the shown source (`kerasways.build`). Training keeps `fit`'s
meaning: one optimizer step per batch of `batch_size` digits, the training digits
reshuffled every epoch, a final smaller batch when the digits do not divide evenly,
and the last `validation_split` of the digits held out, as `fit(validation_split=...)`
does. What differs is speed: `fit` pays about a millisecond of Python and dispatch per
step, so here many steps run inside one compiled call (a partial last batch is padded
and masked out of the loss, so its gradient is that of its real digits only).

Which compiler runs that call depends on the network (`choose_engine`): XLA for networks
made only of layers XLA compiles well on a CPU; for everything else TensorFlow's graph
executor (what `fit` uses on a CPU, with the same kernels and random numbers) runs the
model, and only the optimizer's update is compiled by XLA.

A run can stop and continue later, on another process: `TrainResult.state` holds everything
needed (`TrainState`), and `train(..., resume=state)` continues exactly where it stopped.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kerasways.build import build_model
from kerasways.i18n import N_
from kerasways.messages import Message
from kerasways.spec import DEFAULT_LEARNING_RATES, ModelSpec, TrainConfig

# A compiled call runs at most this many steps; the number actually run is chosen so a
# call lasts about PROGRESS_INTERVAL seconds, which keeps charts smooth and Stop prompt.
MAX_STEPS_PER_CALL = 1024
FIRST_CALL_STEPS = 32
PROGRESS_INTERVAL = 0.2
EVAL_BATCH = 1000

ENGINE_XLA = "xla"
ENGINE_GRAPH = "graph"
# Layers that XLA compiles into fast CPU code. Only networks made of these alone run under
# XLA; every other layer sends the network to the graph executor, which calls the same
# kernels as `fit`. Measured (bench/train_speed.py and DESIGN.md): the gradients of XLA's CPU
# convolutions were more than ten times slower than TensorFlow's own kernels, and XLA's
# code for the random numbers behind Dropout made a dropout MLP several times slower than
# `fit`; augmentation layers (RandomRotation, RandomZoom, ...) draw random numbers too. An
# allow-list, so a layer added later (random or not) starts on the engine that runs fit's
# own kernels, without fit's per-step overhead.
XLA_FRIENDLY_LAYERS = frozenset({"InputLayer", "Flatten", "Reshape", "Dense", "Concatenate", "Activation"})
# Set to "xla" or "graph" to force one engine for every network (measuring, or a machine where
# the measurements above do not hold); unset or "auto" chooses per network.
ENGINE_VARIABLE = "KERASWAYS_TRAIN_ENGINE"


@dataclass
class Progress:
    """A snapshot of a running training, sent to `on_progress`."""

    epoch: int  # 1-based epoch in progress (or just finished)
    epochs: int
    step: int  # steps done in this epoch
    steps_per_epoch: int
    loss: float  # mean training loss so far this epoch
    accuracy: float  # mean training accuracy so far this epoch
    batch_losses: list[float]  # losses of the steps since the previous report
    batch_accuracies: list[float]
    samples_per_second: float  # steady-state speed; 0.0 until known
    eta_seconds: float  # math.inf until a steady-state speed is known
    val_loss: float | None = None  # set on the report that ends an epoch; None without validation
    val_accuracy: float | None = None
    epoch_end: bool = False

    @property
    def fraction(self) -> float:
        """How much of the whole run is done, from 0 to 1."""
        return ((self.epoch - 1) * self.steps_per_epoch + self.step) / (self.epochs * self.steps_per_epoch)


@dataclass
class History:
    """Per-batch and per-epoch metrics of one run.

    The per-epoch lists have one entry per completed epoch. Without validation
    (validation_split=0) `val_loss` and `val_accuracy` hold None for every epoch, so all
    per-epoch lists stay the same length.
    """

    batch_loss: list[float] = field(default_factory=list)
    batch_accuracy: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    epoch_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    steps_per_epoch: int = 0


@dataclass
class TrainState:
    """Everything needed to continue a stopped run exactly as if it had never stopped.

    Plain values and numpy arrays only, so it pickles between processes.
    """

    spec: ModelSpec
    style: str
    config: TrainConfig  # as started; a resume may change only `epochs`
    variables: list[np.ndarray]  # model.variables: weights and the random layers' seed states
    optimizer_variables: list[np.ndarray]  # step counter, moments, ...
    rng_state: dict  # the shuffling generator's state at the start of epoch `epochs_done + 1`
    epochs_done: int  # completed epochs
    step: int  # steps already done in epoch `epochs_done + 1`
    history: History
    seconds: float  # training time so far, over every segment of the run


@dataclass
class TrainResult:
    """What a run produced."""

    model: object  # the trained keras.Model
    history: History
    seconds: float  # training time, over every segment when the run was resumed
    status: str  # "completed", "stopped" (asked to stop, or stop_at_epoch) or "nan" (loss diverged)
    message: Message  # one sentence for the page, rendered there with i18n.render
    state: TrainState | None = None  # how to continue; None after "nan"
    engine: str = ""  # ENGINE_XLA or ENGINE_GRAPH
    calibration: object = None  # a `calibration.Calibration` when asked to calibrate and trained to the end


def split_data(data, config: TrainConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The training and validation digits `config` asks for, as stored (uint8).

    Args:
        data: anything with `x_train` (uint8 N×28×28) and `y_train`.
        config: uses `train_size` (first N digits; 0 = all) and `validation_split`
            (the last fraction is held out, as `fit(validation_split=...)` does).

    Returns:
        x_train, y_train, x_val, y_val (uint8 images, int32 labels); `scale` makes the
        images the model's [0, 1] input.
    """
    x, y = data.x_train, data.y_train
    if config.train_size:
        x, y = x[: config.train_size], y[: config.train_size]
    cut = int(len(x) * (1 - config.validation_split))
    labels = np.asarray(y, dtype=np.int32)
    return x[:cut], labels[:cut], x[cut:], labels[cut:]


def scale(images: np.ndarray) -> np.ndarray:
    """uint8 digits as the model's float32 input in [0, 1], as the shown script scales them."""
    return images.astype(np.float32) / 255.0


def _all_layers(layer) -> list:
    found = []
    for child in getattr(layer, "layers", ()):
        found.append(child)
        found.extend(_all_layers(child))
    return found


def choose_engine(model) -> str:
    """Which compiler runs the training steps of `model` fastest (see XLA_FRIENDLY_LAYERS).

    Args:
        model: the built keras.Model.

    Returns:
        ENGINE_XLA when every layer is in XLA_FRIENDLY_LAYERS, else ENGINE_GRAPH; the
        environment variable ENGINE_VARIABLE ("xla" or "graph") overrides the choice.

    Raises:
        ValueError: ENGINE_VARIABLE holds something else than "xla", "graph" or "auto".
    """
    return engine_for_layers({type(layer).__name__ for layer in _all_layers(model)})


def engine_for_layers(keras_classes: set[str]) -> str:
    """The engine `choose_engine` picks for a model made of these layer classes, without building it
    (`kerasways.budget` asks before a request is queued).

    Args:
        keras_classes: the Keras class names of the model's layers, e.g. {"Flatten", "Dense"}.

    Returns:
        ENGINE_XLA or ENGINE_GRAPH, as `choose_engine` (the environment variable included).

    Raises:
        ValueError: ENGINE_VARIABLE holds something else than "xla", "graph" or "auto".
    """
    forced = os.environ.get(ENGINE_VARIABLE, "auto")
    if forced in (ENGINE_XLA, ENGINE_GRAPH):
        return forced
    if forced != "auto":
        raise ValueError(f"{ENGINE_VARIABLE}: expected xla, graph or auto; received {forced!r}")
    return ENGINE_XLA if keras_classes <= XLA_FRIENDLY_LAYERS else ENGINE_GRAPH


class _CompiledSteps:
    """Many training steps per call, and evaluation, compiled once for one model."""

    def __init__(self, model, x_train: np.ndarray, y_train: np.ndarray, engine: str):
        import keras
        import tensorflow as tf

        self.model = model
        # The digits stay uint8 (a quarter of the memory) and each batch is scaled in the step.
        self.x = tf.constant(x_train)
        self.y = tf.constant(y_train)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)
        optimizer = model.optimizer
        optimizer.build(model.trainable_variables)
        jit = engine == ENGINE_XLA

        def update(gradients):
            optimizer.apply(gradients, model.trainable_variables)

        if not jit:
            # The graph executor runs each of the optimizer's many small element-wise ops on its
            # own; XLA fuses them. The update touches no layer, so it compiles well on any network.
            update = tf.function(update, jit_compile=True)

        @tf.function(jit_compile=jit, reduce_retracing=True)
        def run_steps(x_all, y_all, indices, masks, count):
            # indices/masks: MAX_STEPS_PER_CALL × batch_size; the first `count` rows are real steps.
            # Everything has a static shape and `count` is only a loop condition, so the loop
            # is traced and compiled once, whatever `count` is from call to call.
            def step(i, losses, accuracies):
                x = tf.cast(tf.gather(x_all, indices[i]), tf.float32) / 255.0
                y = tf.gather(y_all, indices[i])
                mask = masks[i]
                real = tf.reduce_sum(mask)
                with tf.GradientTape() as tape:
                    probabilities = model(x, training=True)
                    loss = tf.reduce_sum(loss_fn(y, probabilities) * mask) / real
                gradients = tape.gradient(loss, model.trainable_variables)
                update(gradients)
                correct = tf.cast(tf.equal(tf.argmax(probabilities, axis=-1, output_type=tf.int32), y), tf.float32)
                accuracy = tf.reduce_sum(correct * mask) / real
                at = tf.reshape(i, (1, 1))
                losses = tf.tensor_scatter_nd_update(losses, at, tf.reshape(loss, (1,)))
                accuracies = tf.tensor_scatter_nd_update(accuracies, at, tf.reshape(accuracy, (1,)))
                return i + 1, losses, accuracies

            empty = tf.zeros((MAX_STEPS_PER_CALL,), tf.float32)
            # One iteration at a time: each step must see the weights the previous one wrote.
            _, losses, accuracies = tf.while_loop(lambda i, *_: i < count, step, (tf.constant(0), empty, empty),
                                                  parallel_iterations=1)
            return losses, accuracies

        @tf.function(jit_compile=jit)
        def evaluate_chunk(x, y, mask):
            probabilities = model(x, training=False)
            losses = loss_fn(y, probabilities) * mask
            correct = tf.cast(tf.equal(tf.argmax(probabilities, axis=-1, output_type=tf.int32), y), tf.float32)
            return tf.reduce_sum(losses), tf.reduce_sum(correct * mask)

        self._tf = tf
        self._run_steps = run_steps
        self._evaluate_chunk = evaluate_chunk

    def run(self, indices: np.ndarray, masks: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        losses, accuracies = self._run_steps(self.x, self.y, indices, masks, self._tf.constant(count, self._tf.int32))
        return losses.numpy()[:count], accuracies.numpy()[:count]

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Mean loss and accuracy on (x, y), in fixed-size padded chunks (one compilation)."""
        total_loss = total_correct = 0.0
        for start in range(0, len(x), EVAL_BATCH):
            x_chunk, y_chunk = x[start:start + EVAL_BATCH], y[start:start + EVAL_BATCH]
            real = len(x_chunk)
            mask = np.zeros(EVAL_BATCH, np.float32)
            mask[:real] = 1.0
            if real < EVAL_BATCH:
                x_chunk = np.concatenate([x_chunk, np.zeros((EVAL_BATCH - real, *x.shape[1:]), x.dtype)])
                y_chunk = np.concatenate([y_chunk, np.zeros(EVAL_BATCH - real, y.dtype)])
            loss, correct = self._evaluate_chunk(x_chunk, y_chunk, mask)
            total_loss += float(loss)
            total_correct += float(correct)
        return total_loss / max(len(x), 1), total_correct / max(len(x), 1)


def epoch_batches(rng: np.random.Generator, count: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """One epoch's shuffled batches as index rows and masks (the last batch padded).

    Args:
        rng: the run's random generator (seeded from the spec).
        count: number of training digits.
        batch_size: digits per step.

    Returns:
        indices (steps × batch_size, int32) and masks (same shape, 1.0 for real digits).
    """
    steps = math.ceil(count / batch_size)
    order = rng.permutation(count).astype(np.int32)
    padded = np.zeros(steps * batch_size, np.int32)
    padded[:count] = order
    masks = np.zeros(steps * batch_size, np.float32)
    masks[:count] = 1.0
    return padded.reshape(steps, batch_size), masks.reshape(steps, batch_size)


class _Clock:
    """Steady-state speed of a run: the calls that compiled something are left out."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.seconds = 0.0  # wall time of this segment, minus compiling calls
        self.steps = 0
        self._mark = time.perf_counter()

    def lap(self, steps: int, compiled: bool) -> None:
        """Account the time since the previous lap: `steps` steps, or none if it compiled."""
        now = time.perf_counter()
        if not compiled:
            self.seconds += now - self._mark
            self.steps += steps
        self._mark = now

    def eta(self, remaining_steps: int) -> float:
        return remaining_steps * self.seconds / self.steps if self.steps and self.seconds > 0 else math.inf

    def samples_per_second(self) -> float:
        return self.steps * self.batch_size / self.seconds if self.steps and self.seconds > 0 else 0.0


def _check_resume(state: TrainState, spec: ModelSpec, style: str, config: TrainConfig) -> None:
    if (state.spec, state.style) != (spec, style):
        raise ValueError(f"resume: expected the state of a run of this network and way ({style}); "
                         f"received the state of a {state.style} run of another network"
                         if state.spec != spec else
                         f"resume: expected the state of a {style} run; received a {state.style} run")
    for name in ("batch_size", "validation_split", "train_size"):
        if getattr(state.config, name) != getattr(config, name):
            raise ValueError(f"config.{name}: expected {getattr(state.config, name)!r} as in the run being "
                             f"resumed; received {getattr(config, name)!r}")
    if config.epochs < state.epochs_done:
        raise ValueError(f"config.epochs: expected at least the {state.epochs_done} epochs already trained; "
                         f"received {config.epochs}")


def train(
    spec: ModelSpec,
    style: str,
    config: TrainConfig,
    data,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    resume: TrainState | None = None,
    stop_at_epoch: int | None = None,
    calibrate: bool = False,
) -> TrainResult:
    """Train the model built from `model_source(spec, style)`, or continue a stopped run.

    Args:
        spec: the validated network (its seed fixes initial weights and shuffling).
        style: one of the styles that can express `spec`.
        config: epochs, batch size, validation split, number of digits.
        data: anything with `x_train, y_train, x_test, y_test` (uint8 images).
        on_progress: called with a Progress about every 0.2 s and at each epoch end; every
            batch is in exactly one report, and an epoch's end comes with its last batches.
        should_stop: polled between compiled calls; when it returns True the run stops
            after the current call, keeping the weights so far (`TrainResult.state`).
        resume: the `state` of an earlier stopped (or completed) run of the same spec, style
            and config (`epochs` may grow): training continues exactly where it stopped, with
            the same batch losses and weights as a run that never stopped.
        stop_at_epoch: stop cleanly after this (1-based) epoch, e.g. to step one epoch at a time.
        calibrate: once trained to the end, fit a temperature on the validation digits and fold it into
            the model (`calibration.calibrate`); its resume state keeps the weights as trained.

    Returns:
        TrainResult with the trained model, its history, seconds, how it ended and its state.

    Raises:
        ValueError: no training digits, a `resume` state of another run, or a `stop_at_epoch`
            that is already behind.
    """
    if resume is not None:
        _check_resume(resume, spec, style, config)
    first_epoch = resume.epochs_done + 1 if resume is not None else 1
    if stop_at_epoch is not None and stop_at_epoch < first_epoch:
        raise ValueError(f"stop_at_epoch: expected an epoch from {first_epoch} on (earlier ones are trained); "
                         f"received {stop_at_epoch}")
    model = build_model(spec, style)
    x_train, y_train, x_val, y_val = split_data(data, config)
    x_val = scale(x_val)
    if len(x_train) == 0:
        raise ValueError(f"train_size: expected enough digits for training; received {len(data.x_train)} digits")
    engine_name = choose_engine(model)
    engine = _CompiledSteps(model, x_train, y_train, engine_name)
    rng = np.random.default_rng(spec.seed)
    steps_per_epoch = math.ceil(len(x_train) / config.batch_size)
    history = History(steps_per_epoch=steps_per_epoch)
    earlier_seconds = 0.0
    start_step = 0
    if resume is not None:
        for variable, value in zip(model.variables, resume.variables):
            variable.assign(value)
        for variable, value in zip(model.optimizer.variables, resume.optimizer_variables):
            variable.assign(value)
        rng.bit_generator.state = resume.rng_state
        history = copy.deepcopy(resume.history)
        earlier_seconds = resume.seconds
        start_step = resume.step
    last_epoch = config.epochs if stop_at_epoch is None else min(config.epochs, stop_at_epoch)
    total_steps = steps_per_epoch * config.epochs
    steps_done = (first_epoch - 1) * steps_per_epoch + start_step
    started = time.perf_counter()
    if len(x_val):
        # Compile the evaluation now rather than at the first epoch's end, where it would stall
        # the run after the ETA had been promised from steady steps.
        engine.evaluate(x_val[:1], y_val[:1])
    clock = _Clock(config.batch_size)
    compiled_steps = False
    reported = len(history.batch_loss)  # batches already sent through on_progress
    steps_per_call = FIRST_CALL_STEPS  # grows once the speed of a call is known
    status, message = "completed", None
    epoch, step, rng_state = first_epoch, start_step, rng.bit_generator.state

    def epoch_means(done: int) -> tuple[float, float]:
        # Means over the epoch's first `done` steps, weighted by their real digits, from the
        # history: the same figures however the steps were split into calls or runs.
        if done == 0:
            return math.nan, math.nan
        weights = masks[:done].sum(axis=1, dtype=np.float64)
        first = len(history.batch_loss) - step  # this epoch's first batch
        losses = np.asarray(history.batch_loss[first:first + done], np.float64)
        accuracies = np.asarray(history.batch_accuracy[first:first + done], np.float64)
        return float(losses @ weights / weights.sum()), float(accuracies @ weights / weights.sum())

    def report(done: int, **end) -> None:
        nonlocal reported
        if on_progress is None:
            return
        loss, accuracy = epoch_means(done)
        progress = Progress(
            epoch=epoch, epochs=config.epochs, step=step, steps_per_epoch=steps_per_epoch,
            loss=loss, accuracy=accuracy,
            batch_losses=history.batch_loss[reported:], batch_accuracies=history.batch_accuracy[reported:],
            samples_per_second=clock.samples_per_second(), eta_seconds=clock.eta(total_steps - steps_done), **end,
        )
        reported = len(history.batch_loss)
        on_progress(progress)

    for epoch in range(first_epoch, last_epoch + 1):
        rng_state = rng.bit_generator.state
        indices, masks = epoch_batches(rng, len(x_train), config.batch_size)
        pad_rows = MAX_STEPS_PER_CALL - 1
        indices = np.concatenate([indices, np.zeros((pad_rows, config.batch_size), np.int32)])
        masks = np.concatenate([masks, np.zeros((pad_rows, config.batch_size), np.float32)])
        if epoch != first_epoch:
            step = 0
        variables_at_epoch_start = [variable.numpy() for variable in model.variables]
        while step < steps_per_epoch:
            if should_stop is not None and should_stop():
                status = "stopped"
                break
            count = min(steps_per_call, steps_per_epoch - step)
            call_started = time.perf_counter()
            losses, accuracies = engine.run(indices[step:step + MAX_STEPS_PER_CALL],
                                            masks[step:step + MAX_STEPS_PER_CALL], count)
            call_seconds = time.perf_counter() - call_started
            clock.lap(count, compiled=not compiled_steps)
            if not np.all(np.isfinite(losses)):
                bad = int(np.argmin(np.isfinite(losses)))
                history.batch_loss.extend(losses[:bad].tolist())
                history.batch_accuracy.extend(accuracies[:bad].tolist())
                step += bad
                steps_done += bad
                report(step - bad)
                for variable, value in zip(model.variables, variables_at_epoch_start):
                    variable.assign(value)
                status = "nan"
                message = Message(N_(
                    "Training stopped: the loss became NaN at epoch {epoch}, batch {batch}. "
                    "The learning rate ({rate}) is probably too high; try {default}, Keras' default for "
                    "{optimizer}. The weights from the start of epoch {epoch} are kept."
                ), {"epoch": epoch, "batch": step + 1, "rate": f"{spec.learning_rate:g}",
                    "default": f"{DEFAULT_LEARNING_RATES[spec.optimizer]:g}", "optimizer": spec.optimizer})
                break
            step += count
            steps_done += count
            history.batch_loss.extend(losses.tolist())
            history.batch_accuracy.extend(accuracies.tolist())
            if compiled_steps and call_seconds > 0:
                steps_per_call = int(min(MAX_STEPS_PER_CALL, max(1, PROGRESS_INTERVAL * count / call_seconds)))
            compiled_steps = True
            if step < steps_per_epoch:
                report(step)
        if status != "completed":
            break
        epoch_loss, epoch_accuracy = epoch_means(step)
        history.epoch_loss.append(epoch_loss)
        history.epoch_accuracy.append(epoch_accuracy)
        val_loss = val_accuracy = None
        if len(x_val):
            val_loss, val_accuracy = engine.evaluate(x_val, y_val)
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_accuracy)
        report(step, val_loss=val_loss, val_accuracy=val_accuracy, epoch_end=True)
    else:
        # Every epoch asked for is done: the state points at the start of the next one.
        epoch, step, rng_state = last_epoch + 1, 0, rng.bit_generator.state
        if last_epoch < config.epochs:
            status = "stopped"
            message = Message(N_("Stopped after epoch {epoch} of {total}, as asked; the weights so far are kept."),
                              {"epoch": last_epoch, "total": config.epochs})

    seconds = earlier_seconds + time.perf_counter() - started
    state = None
    if status != "nan":
        state = TrainState(
            spec=spec, style=style, config=config,
            variables=[variable.numpy() for variable in model.variables],
            optimizer_variables=[variable.numpy() for variable in model.optimizer.variables],
            rng_state=rng_state, epochs_done=epoch - 1, step=step,
            history=copy.deepcopy(history), seconds=seconds,
        )
    if status == "stopped" and message is None:
        where = (Message(N_("epoch {epoch}, step {step} of {total}"),
                         {"epoch": epoch, "step": f"{step:,}", "total": f"{steps_per_epoch:,}"}) if step
                 else Message(N_("after epoch {epoch}"), {"epoch": epoch - 1}))
        message = Message(
            N_("Stopped by request after {done} of {total} steps ({where}); the weights so far are kept."),
            {"done": f"{steps_done:,}", "total": f"{total_steps:,}", "where": where})
    elif status == "completed":
        message = Message(N_("Trained {epochs} epochs ({steps} steps) in {seconds} s."),
                          {"epochs": config.epochs, "steps": f"{total_steps:,}", "seconds": f"{seconds:.1f}"})
    calibrated = None
    if calibrate and status == "completed":
        from kerasways.calibration import calibrate as calibrate_model

        calibrated = calibrate_model(model, x_val, y_val)
    return TrainResult(model=model, history=history, seconds=seconds, status=status, message=message,
                       state=state, engine=engine_name, calibration=calibrated)
