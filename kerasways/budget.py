"""How long a training will hold a worker, known before it is queued, and the server's limit on it.

Every setting a student can choose is valid on its own, yet together they can hold a worker for
days (eleven 256-filter convolutions, 100 epochs, batch size 1). So each request gets an estimate
from the network and the data alone, with no TensorFlow:

    worker-seconds = fixed + steps × (per step + weights × per weight-step)
                     + images computed × multiply-adds per image × per multiply-add (+ augmentation)

- `Workload` is *what* a request asks of a worker: optimizer steps, weights updated, multiply-adds of
  its dense and convolution layers (forward and backward while training, forward for validation and
  the test digits), augmented images; each layer's own share is kept to say what to reduce.
- `EngineCosts` is *how fast* a worker here does each of those, per training engine (dense networks
  run an XLA loop, the others a graph loop: `training.engine_for_layers`); `COSTS` holds the
  constants, measured by `bench/budget.py`.
- `estimate(requests, data_size, limit)` adds a request's parts (a group such as "Train all three"
  counts as one request); `Estimate.refusal()` is the error that says what to reduce.

`runs.RunRegistry` checks every request against `max_training_seconds()` (the environment variable
LIMIT_ENV) before anything is queued; the Train page shows the same estimate next to its button.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from kerasways.engine import TrainingRequest
from kerasways.formats import rough_duration
from kerasways.i18n import N_
from kerasways.messages import Message, UserError
from kerasways.spec import LAYER_TITLE, ModelSpec, resolve_layers, total_params
from kerasways.training import ENGINE_GRAPH, ENGINE_XLA, EVAL_BATCH, engine_for_layers

LIMIT_ENV = "KERASWAYS_MAX_TRAINING_SECONDS"
# Five minutes of one worker: every preset at its default settings and the Draw page's network fit
# with room to spare on full MNIST (bench/budget.py), and a class of 30 sharing two workers still
# gets through a round of trainings in a lesson.
DEFAULT_LIMIT_SECONDS = 300.0
# Training a layer costs about three of its forward passes: the forward pass itself, and the
# gradients with respect to its input and to its weights, each a product of the same size.
TRAINING_PASSES = 3.0
# The test digits a worker evaluates a finished job on, as a share of its training digits: full
# MNIST has 10,000 for 60,000, the offline subset 1,000 for 4,000 (a fifth is within 25% of both).
TEST_SHARE = 0.2
# The advice names a part (the steps, the convolutions, the dense layers) only when it is at least this
# share of the estimate; otherwise it is the fixed cost, augmentation or the output layer, and fewer
# epochs or digits are what helps.
MAIN_PART_SHARE = 0.3


@dataclass(frozen=True)
class EngineCosts:
    """Seconds a worker here spends on each part of a job, for one training engine.

    Args:
        fixed: once per job: sending it, building and compiling the model, evaluating the test digits' set-up.
        per_step: each optimizer step, beyond its arithmetic (the loop, gathering the batch, small ops).
        per_weight_step: each weight in each step (the optimizer reads and writes every weight).
        per_dense_multiply_add: one multiply-add of a Dense layer (a matrix product).
        per_conv_multiply_add: one multiply-add of a Conv2D layer.
        per_activation: one value a layer outputs (activations, pooling, dropout: memory-bound work that
            dominates small convolutions, whose products are few but whose outputs are large).
        per_augmented_image: one image through one augmentation layer (a random warp of 28×28 pixels).
    """

    fixed: float
    per_step: float
    per_weight_step: float
    per_dense_multiply_add: float
    per_conv_multiply_add: float
    per_activation: float
    per_augmented_image: float


# Fitted by `python -m bench.budget --fit --runs 3` (2026-12-02) on this 2-core machine, which other work
# shared (load average 1–11 during the runs): a pool of two workers as the server runs them
# (KERASWAYS_WORKERS=2, so one TensorFlow thread each), one job at a time, 26 cases on the offline digits
# and on 60,000; the fit minimises the squared relative error, no constant below 0. With these, predicted /
# measured had a median of 0.95 (range 0.39–1.43, 25 of 26 cases within a factor of 2); a second run
# (one measurement a case) gave a median of 1.13 (0.43–2.48, 22 of 26), one case's time moving up to
# 4.5× between runs with other work on the machine. A 0 is a part
# the fit found no time for beyond the others: the XLA loop's step costs only its weights' update, and
# augmentation is within the activations' cost. Convolutions run under XLA only when
# KERASWAYS_TRAIN_ENGINE=xla forces it, which was not measured here: five times the graph loop's cost,
# as XLA's CPU convolutions made the Small CNN's loop 4.7× slower (docs/architecture.md, decision 3).
COSTS = {
    ENGINE_XLA: EngineCosts(fixed=1.26, per_step=0.0, per_weight_step=2.37e-9, per_dense_multiply_add=3.34e-11,
                            per_conv_multiply_add=3.0e-10, per_activation=7.11e-11, per_augmented_image=0.0),
    ENGINE_GRAPH: EngineCosts(fixed=1.63, per_step=2.84e-4, per_weight_step=7.56e-10, per_dense_multiply_add=2.88e-11,
                              per_conv_multiply_add=6.1e-11, per_activation=1.89e-10, per_augmented_image=0.0),
}


@dataclass(frozen=True)
class Workload:
    """What one training request asks of a worker, counted from its network, settings and data.

    Args:
        engine: the training engine its network runs on (ENGINE_XLA or ENGINE_GRAPH).
        steps: optimizer steps.
        weight_steps: weights × steps (every step updates every weight).
        dense_multiply_adds, conv_multiply_adds: of all Dense and all Conv2D layers over the whole job:
            forward and backward for each trained image, forward for each validation and test image.
        activations: values the layers output over the whole job (counted like the multiply-adds).
        augmented_images: images × augmentation layers while training.
        layer_multiply_adds: each of `spec.layers`' share of the multiply-adds (0 for those without).
        batch_size: the request's batch size.
    """

    engine: str
    steps: int
    weight_steps: int
    dense_multiply_adds: float
    conv_multiply_adds: float
    activations: float
    augmented_images: float
    layer_multiply_adds: tuple[float, ...]
    batch_size: int


@dataclass(frozen=True)
class Cost:
    """A request's predicted worker-seconds, and the parts of it a student can reduce.

    Args:
        seconds: the whole prediction.
        step_seconds: the part paid per optimizer step (a larger batch makes fewer steps).
        layer_seconds: each of `spec.layers`' share of the arithmetic.
        workload: what was counted.
    """

    seconds: float
    step_seconds: float
    layer_seconds: tuple[float, ...]
    workload: Workload


def multiply_adds_per_image(spec: ModelSpec) -> list[tuple[int | None, str, int]]:
    """The multiply-adds one image costs in each layer's forward pass.

    A convolution costs kernel² × input channels × filters × output height × width, a dense layer
    inputs × units; the other layers (pooling, dropout, reshaping, augmentation) do no products.

    Args:
        spec: a valid network.

    Returns:
        (index in `spec.layers`, or None for a layer the app adds such as the output; Keras class;
        multiply-adds) for every layer that multiplies.
    """
    found = []
    index = -1
    for layer in resolve_layers(spec):
        if not layer.added:
            index += 1
        position = None if layer.added else index
        if layer.keras_class == "Conv2D":
            kernel = dict(layer.config)["kernel_size"]
            height, width, filters = layer.output_shape
            found.append((position, "Conv2D", kernel * kernel * layer.input_shape[-1] * filters * height * width))
        elif layer.keras_class == "Dense":
            found.append((position, "Dense", layer.input_shape[0] * layer.output_shape[0]))
    return found


def engine_of(spec: ModelSpec) -> str:
    """The training engine a worker will run `spec` on (as `training.choose_engine` decides once built)."""
    return engine_for_layers({"InputLayer", *(layer.keras_class for layer in resolve_layers(spec))})


def trained_digits(request: TrainingRequest, data_size: int) -> tuple[int, int]:
    """How many digits a request trains on and holds out for validation, as `training.split_data` cuts them.

    Args:
        request: what to train (its `train_size`, `validation_split` and class digits count).
        data_size: the training digits the workers have (4,000 offline, 60,000 for full MNIST).

    Returns:
        (training digits, validation digits).
    """
    config = request.config
    count = min(config.train_size, data_size) if config.train_size else data_size
    if request.class_digits is not None:
        count += len(request.class_digits)
    cut = int(count * (1 - config.validation_split))
    return cut, count - cut


def _epochs_to_run(request: TrainingRequest, steps_per_epoch: int) -> float:
    """Epochs this job trains: to `stop_at_epoch` (a "Step") or the end, from where a resumed run stopped."""
    config, options = request.config, request.options
    last = min(config.epochs, options.get("stop_at_epoch") or config.epochs)
    resume = options.get("resume")
    done = 0.0
    if resume is not None:
        done = resume.epochs_done + resume.step / max(steps_per_epoch, 1)
    return max(last - done, 0.0)


def workload(request: TrainingRequest, data_size: int) -> Workload:
    """Count what one request asks of a worker (see `Workload`).

    Args:
        request: what to train; a resume or a `stop_at_epoch` counts only the part this job trains.
        data_size: the training digits the workers have (see `engine.TrainingEngine.data_size`).

    Returns:
        The Workload.
    """
    spec, config = request.spec, request.config
    train, validation = trained_digits(request, data_size)
    steps_per_epoch = math.ceil(train / config.batch_size)
    epochs = _epochs_to_run(request, steps_per_epoch)
    steps = math.ceil(steps_per_epoch * epochs)
    # The last batch of an epoch is padded to the full batch size, and the padding is computed too;
    # validation and test digits go through in padded chunks of EVAL_BATCH.
    trained_images = steps * config.batch_size
    evaluated_images = (epochs * math.ceil(validation / EVAL_BATCH) * EVAL_BATCH
                        + math.ceil(data_size * TEST_SHARE / EVAL_BATCH) * EVAL_BATCH)
    passes = TRAINING_PASSES * trained_images + evaluated_images
    layer_multiply_adds = [0.0] * len(spec.layers)
    dense = conv = 0.0
    for index, keras_class, per_image in multiply_adds_per_image(spec):
        total = per_image * passes
        if keras_class == "Conv2D":
            conv += total
        else:
            dense += total
        if index is not None:
            layer_multiply_adds[index] += total
    resolved = resolve_layers(spec)
    augmentation_layers = sum(layer.role == "augment" for layer in resolved)
    activations = passes * sum(math.prod(layer.output_shape) for layer in resolved if layer.role != "augment")

    return Workload(engine=engine_of(spec), steps=steps, weight_steps=steps * total_params(spec),
                    dense_multiply_adds=dense, conv_multiply_adds=conv, activations=activations,
                    augmented_images=float(trained_images * augmentation_layers),
                    layer_multiply_adds=tuple(layer_multiply_adds), batch_size=config.batch_size)


def cost(request: TrainingRequest, data_size: int, costs: dict[str, EngineCosts] | None = None) -> Cost:
    """A request's predicted worker-seconds, by part.

    Args:
        request: what to train.
        data_size: the training digits the workers have.
        costs: the constants per engine (default `COSTS`, measured here).

    Returns:
        The Cost.
    """
    work = workload(request, data_size)
    rates = (costs or COSTS)[work.engine]
    step_seconds = work.steps * rates.per_step + work.weight_steps * rates.per_weight_step
    compute = (work.dense_multiply_adds * rates.per_dense_multiply_add
               + work.conv_multiply_adds * rates.per_conv_multiply_add
               + work.activations * rates.per_activation
               + work.augmented_images * rates.per_augmented_image)
    kinds = {index: keras_class for index, keras_class, _ in multiply_adds_per_image(request.spec)
             if index is not None}
    layer_seconds = tuple(
        share * (rates.per_conv_multiply_add if kinds.get(index) == "Conv2D" else rates.per_dense_multiply_add)
        for index, share in enumerate(work.layer_multiply_adds))
    return Cost(seconds=rates.fixed + step_seconds + compute, step_seconds=step_seconds,
                layer_seconds=layer_seconds, workload=work)


def estimated_seconds(request: TrainingRequest, data_size: int) -> float:
    """How many seconds one training request is expected to hold a worker here, on a quiet machine.

    A queue view can show it as "how long"; the prediction is meant to be within a factor of about
    two (bench/budget.py prints how close it comes), and more when the server is busy.

    Args:
        request: what to train (a resume or a "Step" counts only the part this job trains).
        data_size: the training digits the workers have (`runs.RunRegistry.data_size()`: 4,000
            offline, 60,000 for full MNIST).

    Returns:
        Predicted worker-seconds.
    """
    return cost(request, data_size).seconds


def max_training_seconds(environ=None) -> float:
    """The server's limit on one request's estimated worker-seconds: LIMIT_ENV, else DEFAULT_LIMIT_SECONDS.

    Args:
        environ: the environment to read (default `os.environ`); "inf" turns the limit off.

    Returns:
        The limit in seconds.

    Raises:
        ValueError: the variable holds something else than a number of seconds above 0.
    """
    text = (os.environ if environ is None else environ).get(LIMIT_ENV, "").strip()
    if not text:
        return DEFAULT_LIMIT_SECONDS
    try:
        limit = float(text)
    except ValueError:
        limit = math.nan
    if not limit > 0:
        raise ValueError(f"{LIMIT_ENV}: expected a number of seconds above 0 (or inf for no limit); received {text!r}")
    return limit


class TrainingTooLong(UserError):
    """A request whose estimate is over the server's limit; nothing was queued.

    Args:
        message: what the page shows: the estimate, the limit and what to reduce.
        seconds: the estimate.
        limit: the server's limit.
    """

    def __init__(self, message: Message, seconds: float, limit: float, text: str | None = None):
        super().__init__(message, text)
        self.seconds = seconds
        self.limit = limit

    def __reduce__(self):
        return (type(self), (self.message, self.seconds, self.limit, str(self)))


ESTIMATE = N_("About {estimate} of training.")
ESTIMATE_GROUP = N_("About {estimate} of training for these {count} trainings together.")
OVER_LIMIT = N_("About {estimate} of training: more than the {limit} this server allows for one request.")
OVER_LIMIT_GROUP = N_("About {estimate} of training for these {count} trainings together: more than the {limit} "
                      "this server allows for one request.")
REFUSAL = N_("{estimate} {advice}")
ADVICE_BATCH = N_("Most of it goes on its {steps} optimizer steps of {batch} digits: a larger batch size makes far "
                  "fewer steps. Fewer epochs or training digits help too.")
ADVICE_CONV = N_("Most of it goes on the convolutions, the costliest being {layer}, {description}: fewer filters, or "
                 "fewer convolution layers, make it faster. Fewer epochs or training digits help too.")
ADVICE_DENSE = N_("Most of it goes on the dense layers, the costliest being {layer}, {description}: fewer units, "
                  "or fewer layers, make it faster. Fewer epochs or training digits help too.")
ADVICE_OTHER = N_("Fewer epochs or training digits make it faster.")
ADVICE_GROUP = N_("{advice} Or train fewer at once (fewer seeds per way).")


@dataclass(frozen=True)
class Estimate:
    """One request's estimate (a single training, or a group counted as one) against the server's limit.

    Args:
        costs: each training's Cost, in the order asked.
        limit: the server's limit in seconds.
        requests: what was asked, in order.
    """

    costs: tuple[Cost, ...]
    limit: float
    requests: tuple[TrainingRequest, ...]

    @property
    def seconds(self) -> float:
        """The whole request's predicted worker-seconds (a group's summed)."""
        return sum(cost.seconds for cost in self.costs)

    @property
    def fits(self) -> bool:
        """True when the request is within the limit."""
        return self.seconds <= self.limit

    def message(self) -> Message:
        """The estimate in words, e.g. "About 40 s of training.", and the limit when it is over it."""
        values = {"estimate": rough_duration(self.seconds), "count": len(self.costs)}
        if self.fits:
            return Message(ESTIMATE_GROUP if len(self.costs) > 1 else ESTIMATE, values)
        values["limit"] = rough_duration(self.limit)
        return Message(OVER_LIMIT_GROUP if len(self.costs) > 1 else OVER_LIMIT, values)

    def advice(self) -> Message:
        """What to reduce, naming the biggest part of the costliest training: its steps (a larger batch),
        its convolutions or its dense layers (the costliest such layer by number), else epochs or digits."""
        index = max(range(len(self.costs)), key=lambda number: self.costs[number].seconds)
        biggest, request = self.costs[index], self.requests[index]
        layers = request.spec.layers
        shares = {"steps": biggest.step_seconds}
        for kind in ("conv2d", "dense"):
            shares[kind] = sum(seconds for layer, seconds in zip(layers, biggest.layer_seconds) if layer.kind == kind)
        part = max(shares, key=shares.get)
        if shares[part] < MAIN_PART_SHARE * biggest.seconds:
            advice = Message(ADVICE_OTHER)
        elif part == "steps":
            advice = Message(ADVICE_BATCH, {"steps": f"{biggest.workload.steps:,}", "batch": request.config.batch_size})
        else:
            position = max((number for number, layer in enumerate(layers) if layer.kind == part),
                           key=lambda number: biggest.layer_seconds[number])
            advice = Message(ADVICE_CONV if part == "conv2d" else ADVICE_DENSE, {
                "layer": Message(LAYER_TITLE, {"number": position + 1}), "description": layers[position].describe()})
        return Message(ADVICE_GROUP, {"advice": advice}) if len(self.costs) > 1 else advice

    def refusal(self) -> TrainingTooLong:
        """The error refusing this request: the estimate and the limit, then what to reduce."""
        return TrainingTooLong(Message(REFUSAL, {"estimate": self.message(), "advice": self.advice()}),
                               self.seconds, self.limit)


def estimate(requests: Sequence[TrainingRequest], data_size: int, limit: float) -> Estimate:
    """The estimate of one request (one training, or a group queued as one) against `limit`.

    Args:
        requests: what to train together.
        data_size: the training digits the workers have.
        limit: the server's limit in seconds (`max_training_seconds()`).

    Returns:
        The Estimate; `raise estimate.refusal()` when it does not fit.
    """
    return Estimate(tuple(cost(request, data_size) for request in requests), limit, tuple(requests))
