"""One synchronous training run, fast at the user's batch size, reporting progress as it goes.

The model is built from the shown source (`kerasways.build`). Training keeps `fit`'s
meaning: one optimizer step per batch of `batch_size` digits, the training digits
reshuffled every epoch, a final smaller batch when the digits do not divide evenly,
and the last `validation_split` of the digits held out, as `fit(validation_split=...)`
does. What differs is speed: `fit` pays about a millisecond of Python and dispatch per
step, so here many steps run inside one XLA-compiled call (a partial last batch is
padded and masked out of the loss, so its gradient is that of its real digits only).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kerasways.build import build_model
from kerasways.spec import DEFAULT_LEARNING_RATES, ModelSpec, TrainConfig

# A compiled call runs at most this many steps; the number actually run is chosen so a
# call lasts about PROGRESS_INTERVAL seconds, which keeps charts smooth and Stop prompt.
MAX_STEPS_PER_CALL = 1024
PROGRESS_INTERVAL = 0.2
EVAL_BATCH = 1000


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
    samples_per_second: float
    eta_seconds: float
    val_loss: float | None = None  # set on the report that ends an epoch
    val_accuracy: float | None = None
    epoch_end: bool = False

    @property
    def fraction(self) -> float:
        """How much of the whole run is done, from 0 to 1."""
        return ((self.epoch - 1) * self.steps_per_epoch + self.step) / (self.epochs * self.steps_per_epoch)


@dataclass
class History:
    """Per-batch and per-epoch metrics of one run."""

    batch_loss: list[float] = field(default_factory=list)
    batch_accuracy: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    epoch_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    steps_per_epoch: int = 0


@dataclass
class TrainResult:
    """What a run produced."""

    model: object  # the trained keras.Model
    history: History
    seconds: float
    status: str  # "completed", "stopped" (asked to stop) or "nan" (loss diverged)
    message: str  # one sentence for the page


def split_data(data, config: TrainConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The training and validation digits `config` asks for, scaled to [0, 1].

    Args:
        data: anything with `x_train` (uint8 N×28×28) and `y_train`.
        config: uses `train_size` (first N digits; 0 = all) and `validation_split`
            (the last fraction is held out, as `fit(validation_split=...)` does).

    Returns:
        x_train, y_train, x_val, y_val (float32 images in [0, 1], int32 labels).
    """
    x, y = data.x_train, data.y_train
    if config.train_size:
        x, y = x[: config.train_size], y[: config.train_size]
    cut = int(len(x) * (1 - config.validation_split))
    images = x.astype(np.float32) / 255.0
    labels = np.asarray(y, dtype=np.int32)
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


class _CompiledSteps:
    """XLA-compiled training steps and evaluation for one model."""

    def __init__(self, model, x_train: np.ndarray, y_train: np.ndarray, batch_size: int):
        import keras
        import tensorflow as tf

        self.model = model
        self.batch_size = batch_size
        self.x = tf.constant(x_train)
        self.y = tf.constant(y_train)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)
        optimizer = model.optimizer
        optimizer.build(model.trainable_variables)

        @tf.function(jit_compile=True, reduce_retracing=True)
        def run_steps(x_all, y_all, indices, masks, count):
            # indices/masks: MAX_STEPS_PER_CALL × batch_size; the first `count` rows are real steps.
            # Everything has a static shape and `count` is only a loop condition, so XLA
            # compiles once, whatever `count` is from call to call.
            def step(i, losses, accuracies):
                x = tf.gather(x_all, indices[i])
                y = tf.gather(y_all, indices[i])
                mask = masks[i]
                real = tf.reduce_sum(mask)
                with tf.GradientTape() as tape:
                    probabilities = model(x, training=True)
                    loss = tf.reduce_sum(loss_fn(y, probabilities) * mask) / real
                gradients = tape.gradient(loss, model.trainable_variables)
                optimizer.apply(gradients, model.trainable_variables)
                correct = tf.cast(tf.equal(tf.argmax(probabilities, axis=-1, output_type=tf.int32), y), tf.float32)
                accuracy = tf.reduce_sum(correct * mask) / real
                at = tf.reshape(i, (1, 1))
                losses = tf.tensor_scatter_nd_update(losses, at, tf.reshape(loss, (1,)))
                accuracies = tf.tensor_scatter_nd_update(accuracies, at, tf.reshape(accuracy, (1,)))
                return i + 1, losses, accuracies

            empty = tf.zeros((MAX_STEPS_PER_CALL,), tf.float32)
            _, losses, accuracies = tf.while_loop(lambda i, *_: i < count, step, (tf.constant(0), empty, empty))
            return losses, accuracies

        @tf.function(jit_compile=True)
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


def train(
    spec: ModelSpec,
    style: str,
    config: TrainConfig,
    data,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train the model built from `model_source(spec, style)`.

    Args:
        spec: the validated network (its seed fixes initial weights and shuffling).
        style: one of the styles that can express `spec`.
        config: epochs, batch size, validation split, number of digits.
        data: anything with `x_train, y_train, x_test, y_test` (uint8 images).
        on_progress: called with a Progress about every 0.2 s and at each epoch end.
        should_stop: polled between compiled calls; when it returns True the run stops
            after the current step, keeping the weights so far.

    Returns:
        TrainResult with the trained model, its history, seconds and how it ended.
    """
    model = build_model(spec, style)
    x_train, y_train, x_val, y_val = split_data(data, config)
    if len(x_train) == 0:
        raise ValueError(f"train_size: expected enough digits for training; received {len(data.x_train)} digits")
    engine = _CompiledSteps(model, x_train, y_train, config.batch_size)
    rng = np.random.default_rng(spec.seed)
    history = History(steps_per_epoch=math.ceil(len(x_train) / config.batch_size))
    steps_per_epoch = history.steps_per_epoch
    total_steps = steps_per_epoch * config.epochs
    started = time.perf_counter()
    steps_done = 0
    reported = 0  # batches of history already sent through on_progress
    steps_per_call = 32  # grows once the speed of a call is known
    status, message = "completed", ""

    for epoch in range(1, config.epochs + 1):
        indices, masks = epoch_batches(rng, len(x_train), config.batch_size)
        pad_rows = MAX_STEPS_PER_CALL - 1
        indices = np.concatenate([indices, np.zeros((pad_rows, config.batch_size), np.int32)])
        masks = np.concatenate([masks, np.zeros((pad_rows, config.batch_size), np.float32)])
        weights_at_epoch_start = model.get_weights()
        epoch_loss_sum = epoch_correct_sum = 0.0
        step = 0
        while step < steps_per_epoch:
            if should_stop is not None and should_stop():
                status = "stopped"
                break
            count = min(steps_per_call, steps_per_epoch - step)
            call_started = time.perf_counter()
            losses, accuracies = engine.run(indices[step:step + MAX_STEPS_PER_CALL],
                                            masks[step:step + MAX_STEPS_PER_CALL], count)
            call_seconds = time.perf_counter() - call_started
            if not np.all(np.isfinite(losses)):
                bad = int(np.argmin(np.isfinite(losses)))
                history.batch_loss.extend(losses[:bad].tolist())
                history.batch_accuracy.extend(accuracies[:bad].tolist())
                model.set_weights(weights_at_epoch_start)
                status = "nan"
                message = (
                    f"Training stopped: the loss became NaN at epoch {epoch}, batch {step + bad + 1}. "
                    f"The learning rate ({spec.learning_rate:g}) is probably too high; try "
                    f"{DEFAULT_LEARNING_RATES[spec.optimizer]:g}, Keras' default for {spec.optimizer}. "
                    f"The weights from the start of epoch {epoch} are kept."
                )
                break
            real_per_step = masks[step:step + count].sum(axis=1)
            epoch_loss_sum += float((losses * real_per_step).sum())
            epoch_correct_sum += float((accuracies * real_per_step).sum())
            step += count
            steps_done += count
            history.batch_loss.extend(losses.tolist())
            history.batch_accuracy.extend(accuracies.tolist())
            if call_seconds > 0:
                per_step = call_seconds / count
                steps_per_call = int(min(MAX_STEPS_PER_CALL, max(1, PROGRESS_INTERVAL / per_step)))
            seen = masks[:step].sum()
            if on_progress is not None and step < steps_per_epoch:
                elapsed = time.perf_counter() - started
                on_progress(_progress(epoch, config, step, steps_per_epoch, epoch_loss_sum / seen,
                                      epoch_correct_sum / seen, history, reported, steps_done, total_steps,
                                      elapsed))
                reported = len(history.batch_loss)
        if status == "nan" or step == 0:
            break
        seen = masks[:step].sum()
        history.epoch_loss.append(epoch_loss_sum / seen)
        history.epoch_accuracy.append(epoch_correct_sum / seen)
        val_loss, val_accuracy = engine.evaluate(x_val, y_val) if len(x_val) else (math.nan, math.nan)
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_accuracy)
        if on_progress is not None:
            elapsed = time.perf_counter() - started
            report = _progress(epoch, config, step, steps_per_epoch, history.epoch_loss[-1],
                               history.epoch_accuracy[-1], history, reported, steps_done, total_steps, elapsed)
            reported = len(history.batch_loss)
            report.val_loss, report.val_accuracy, report.epoch_end = val_loss, val_accuracy, True
            on_progress(report)
        if status == "stopped":
            break

    seconds = time.perf_counter() - started
    if status == "stopped":
        message = (f"Stopped by request after {steps_done:,} of {total_steps:,} steps "
                   f"(epoch {epoch}); the weights so far are kept.")
    elif status == "completed":
        message = f"Trained {config.epochs} epochs ({total_steps:,} steps) in {seconds:.1f} s."
    return TrainResult(model=model, history=history, seconds=seconds, status=status, message=message)


def _progress(epoch, config, step, steps_per_epoch, loss, accuracy, history, reported, steps_done,
              total_steps, elapsed) -> Progress:
    # Each report carries the batches since the previous one, so every batch is sent once.
    rate = steps_done / elapsed if elapsed > 0 else 0.0
    return Progress(
        epoch=epoch,
        epochs=config.epochs,
        step=step,
        steps_per_epoch=steps_per_epoch,
        loss=float(loss),
        accuracy=float(accuracy),
        batch_losses=history.batch_loss[reported:],
        batch_accuracies=history.batch_accuracy[reported:],
        samples_per_second=rate * config.batch_size,
        eta_seconds=(total_steps - steps_done) / rate if rate > 0 else math.inf,
    )
