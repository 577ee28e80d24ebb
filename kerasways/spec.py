"""What a network is, as plain validated values: layers, optimizer, seed, training settings.

Nothing here imports TensorFlow, so the page can show code, shapes and parameter counts
before TensorFlow has finished importing.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from kerasways.i18n import N_
from kerasways.messages import InvalidValue, Message

STYLES = ("sequential", "functional", "subclassing")
STYLE_TITLES = {
    "sequential": N_("Sequential API"),
    "functional": N_("Functional API"),
    "subclassing": N_("Model subclassing"),
}

LAYER_KINDS = ("dense", "dropout", "conv2d", "maxpool2d", "flatten")
LAYER_TITLES = {
    "dense": "Dense",
    "dropout": "Dropout",
    "conv2d": "Conv2D",
    "maxpool2d": "MaxPooling2D",
    "flatten": "Flatten",
}
ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "gelu", "linear")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")
OPTIMIZER_CLASSES = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adamw": "AdamW"}
# Keras' own defaults: a spec that keeps them generates the short string form.
DEFAULT_LEARNING_RATES = {"adam": 0.001, "sgd": 0.01, "rmsprop": 0.001, "adamw": 0.001}
TOPOLOGIES = ("chain", "skip")

INPUT_SHAPE = (28, 28)
NUM_CLASSES = 10
LOSS = "sparse_categorical_crossentropy"
METRIC = "accuracy"

MAX_UNITS = 4096
MAX_FILTERS = 256
UNITS_MIN = 1
DROPOUT_RATE_RANGE = (0.0, 0.9)  # 1.0 would drop every input
CONV_KERNEL_RANGE = (1, 7)
POOL_SIZE_RANGE = (2, 4)  # a 1×1 pool does nothing
MAX_LAYERS = 12
MAX_PARAMS = 20_000_000
MAX_SEED = 2**31 - 1

# Ranges of the settings a user types: validation below and the pages' widgets both read these.
SEED_RANGE = (0, MAX_SEED)
LEARNING_RATE_RANGE = (1e-6, 10.0)
EPOCHS_RANGE = (1, 100)
BATCH_SIZE_RANGE = (1, 4096)
VALIDATION_SPLIT_RANGE = (0.0, 0.5)
TRAIN_SIZE_RANGE = (0, 60_000)  # 0 means every available digit
MIN_TRAIN_SIZE = 100  # a smaller non-zero subset cannot fill a validation split and a few batches

# Augmentation strengths: defaults and the ranges a user may choose (Keras' own limits or tighter,
# beyond which a digit turns into another one: a 6 rotated by half a turn is a 9).
# The default slant is mild because less slant read digits that are not MNIST better with an MLP
# (bench/drawn_accuracy.py; the figures: docs/architecture.md, "The network for drawings").
DEFAULT_AUGMENTATION = {"augment_rotation": 0.03, "augment_slant": 0.1, "augment_zoom": 0.1, "augment_shift": 0.05}
AUGMENTATION_RANGES = {
    "augment_rotation": (0.0, 0.25),
    "augment_slant": (0.0, 1.0),
    "augment_zoom": (0.0, 0.5),
    "augment_shift": (0.0, 0.3),
}

SEQUENTIAL_CANNOT_BRANCH = N_(
    "The Sequential API cannot express this network: a Sequential model is a single stack "
    "where each layer feeds only the next one, and a skip connection needs one layer's output "
    "to reach two places."
)
# The form of every InvalidValue (messages.INVALID_VALUE), marked here for the catalogue: messages.py
# imports nothing of ours, and tests/test_messages.py checks that the two texts stay the same.
INVALID_VALUE = N_("{field}: expected {expected}; received {received}")
# A real number in an interval, as the contract's text writes it: "a number in [0.0, 0.25]".
NUMBER_IN = N_("a number in {bracket}{low}, {high}]")

# What a page calls each setting when a value is refused: the widget's own label where there is one.
FIELD_TITLES = {
    "layers": N_("Layers"),
    "optimizer": N_("Optimizer"),
    "learning_rate": N_("Learning rate"),
    "seed": N_("Seed"),
    "topology": N_("Topology"),
    "loss": N_("Loss"),
    "metric": N_("Metric"),
    "augment": N_("Augmentation"),
    "augment_rotation": N_("Rotation"),
    "augment_slant": N_("Slant"),
    "augment_zoom": N_("Zoom"),
    "augment_shift": N_("Shift"),
    "epochs": N_("Epochs"),
    "batch_size": N_("Batch size"),
    "validation_split": N_("Validation split"),
    "train_size": N_("Training digits"),
}
# A layer's fields in words, after the layer's number: "layer 2, units".
LAYER_FIELD_WORDS = {"kind": N_("kind"), "units": N_("units"), "activation": N_("activation"), "rate": N_("rate"),
                     "kernel_size": N_("kernel size")}
LAYER_TITLE = N_("layer {number}")
LAYER_FIELD_TITLE = N_("layer {number}, {part}")


@dataclass(frozen=True)
class Field:
    """A setting as code names it (`path`, "layers[1].units") and as a page names it (`title`, "layer 2, units").

    Validation refuses a value with `raise field.invalid(expected, value)`; the InvalidValue carries
    both names, so a page shows the title in the reader's language and a test reads the path.
    """

    path: str
    title: Message

    def invalid(self, expected: Message, received: object) -> InvalidValue:
        """The error refusing `received` for this field.

        Args:
            expected: what is allowed, e.g. `Message(N_("one of {choices}"), {"choices": "adam, sgd"})`.
            received: the value that arrived.

        Returns:
            An InvalidValue (a ValueError) to raise.
        """
        return InvalidValue(self.path, expected, received, title=self.title)


def setting_field(name: str) -> Field:
    """A field of ModelSpec or TrainConfig, e.g. `setting_field("seed")` (titled "Seed")."""
    return Field(name, Message(FIELD_TITLES[name]))


def layer_field(index: int, name: str | None = None) -> Field:
    """A hidden layer (`name` None) or one of its fields: `layer_field(1, "units")` is "layers[1].units",
    titled "layer 2, units" (layers are counted from 1 in words, from 0 in code)."""
    if name is None:
        return Field(f"layers[{index}]", Message(LAYER_TITLE, {"number": index + 1}))
    return Field(f"layers[{index}].{name}",
                 Message(LAYER_FIELD_TITLE, {"number": index + 1, "part": Message(LAYER_FIELD_WORDS[name])}))


def _check_int(field: Field, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise field.invalid(Message(N_("a whole number from {low} to {high}"), {"low": low, "high": high}), value)


def _check_float(field: Field, value: object, low: float, high: float, *, open_low: bool) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (low < value if open_low else low <= value) and value <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise field.invalid(Message(NUMBER_IN, {"bracket": bracket, "low": low, "high": high}), value)


def _check_choice(field: Field, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise field.invalid(Message(N_("one of {choices}"), {"choices": ", ".join(choices)}), value)


USED_FIELDS = {
    "dense": ("units", "activation"),
    "conv2d": ("units", "kernel_size", "activation"),
    "maxpool2d": ("kernel_size",),
    "dropout": ("rate",),
    "flatten": (),
}
LAYER_FIELD_DEFAULTS = {"units": 128, "activation": "relu", "rate": 0.2, "kernel_size": 3}


@dataclass(frozen=True)
class LayerSpec:
    """One hidden layer the user chose.

    Only the fields that matter for `kind` are used; the others keep their defaults.
    """

    kind: str = "dense"  # one of LAYER_KINDS
    units: int = LAYER_FIELD_DEFAULTS["units"]  # dense: number of units; conv2d: number of filters
    activation: str = LAYER_FIELD_DEFAULTS["activation"]  # dense and conv2d
    rate: float = LAYER_FIELD_DEFAULTS["rate"]  # dropout: fraction of inputs set to zero while training
    kernel_size: int = LAYER_FIELD_DEFAULTS["kernel_size"]  # conv2d: kernel side; maxpool2d: pool side

    def __post_init__(self) -> None:
        # Fields a kind does not use take their defaults, so equal layers compare equal.
        used = USED_FIELDS.get(self.kind, ())
        for name in ("units", "activation", "rate", "kernel_size"):
            if name not in used:
                object.__setattr__(self, name, LAYER_FIELD_DEFAULTS[name])

    def validate(self, index: int) -> None:
        """Check the layer's values as hidden layer `index` (counted from 0).

        Raises:
            InvalidValue: naming the field, e.g. "layers[1].units" (titled "layer 2, units").
        """
        _check_choice(layer_field(index, "kind"), self.kind, LAYER_KINDS)
        if self.kind == "dense":
            _check_int(layer_field(index, "units"), self.units, UNITS_MIN, MAX_UNITS)
            _check_choice(layer_field(index, "activation"), self.activation, ACTIVATIONS)
        elif self.kind == "conv2d":
            _check_int(layer_field(index, "units"), self.units, UNITS_MIN, MAX_FILTERS)
            _check_int(layer_field(index, "kernel_size"), self.kernel_size, *CONV_KERNEL_RANGE)
            _check_choice(layer_field(index, "activation"), self.activation, ACTIVATIONS)
        elif self.kind == "maxpool2d":
            _check_int(layer_field(index, "kernel_size"), self.kernel_size, *POOL_SIZE_RANGE)
        elif self.kind == "dropout":
            _check_float(layer_field(index, "rate"), self.rate, *DROPOUT_RATE_RANGE, open_low=False)

    def describe(self) -> str:
        """Short human label, e.g. "Dense(128, relu)"."""
        if self.kind == "dense":
            return f"Dense({self.units}, {self.activation})"
        if self.kind == "conv2d":
            return f"Conv2D({self.units}, {self.kernel_size}×{self.kernel_size}, {self.activation})"
        if self.kind == "maxpool2d":
            return f"MaxPooling2D({self.kernel_size}×{self.kernel_size})"
        if self.kind == "dropout":
            return f"Dropout({self.rate:g})"
        return "Flatten"


# A new layer of each kind, before the user sets its values: the layer editor fills a cell left
# empty from here. Each kind starts small and common (a 16-filter convolution, a 2×2 pool).
LAYER_DEFAULTS = {
    "dense": LayerSpec("dense"),
    "dropout": LayerSpec("dropout"),
    "conv2d": LayerSpec("conv2d", units=16),
    "maxpool2d": LayerSpec("maxpool2d", kernel_size=2),
    "flatten": LayerSpec("flatten"),
}


LAYER_ROLES = ("channels", "augment", "layer", "merge", "output")


@dataclass(frozen=True)
class ResolvedLayer:
    """A layer as it will be built: plain values only (codegen turns them into source and comments)."""

    name: str  # Python identifier used in all three styles (attribute / layer name)
    keras_class: str  # e.g. "Dense"
    role: str  # one of LAYER_ROLES: "channels" adds the channel axis, "augment" is a random augmentation,
    #            "layer" is one of the network's own layers, "merge" joins the skip connection, "output" classifies
    config: tuple[tuple[str, object], ...]  # constructor values by Keras argument name, e.g. (("units", 128),)
    input_shape: tuple[int, ...]  # without the batch dimension
    output_shape: tuple[int, ...]
    params: int
    added: bool = False  # inserted by resolve_layers (a Reshape, a Flatten, the output), not a layer the user chose
    skip_source: bool = False  # its output also goes straight to the merge (the flattened pixels of a skip)
    training_only: bool = False  # acts only while training (Dropout, augmentation): identity when predicting


@dataclass(frozen=True)
class ModelSpec:
    """A whole network: hidden layers, output, optimizer and seed.

    The defaults reproduce the reference network: 28×28 input → Flatten →
    Dense(128, relu) → Dense(10, softmax), adam, sparse categorical cross-entropy,
    accuracy.
    """

    layers: tuple[LayerSpec, ...] = (LayerSpec("dense", units=128, activation="relu"),)
    optimizer: str = "adam"  # one of OPTIMIZERS
    learning_rate: float = 0.001
    seed: int = 42  # same seed → same initial weights in every style
    topology: str = "chain"  # "chain", or "skip": the input also reaches the output directly
    loss: str = LOSS
    metric: str = METRIC
    # Augmentation: random changes to each training image, made by layers at the start of the
    # network (identity when predicting). A strength of 0 leaves its layer out.
    augment: bool = False
    augment_rotation: float = DEFAULT_AUGMENTATION["augment_rotation"]  # share of a full turn, either way
    augment_slant: float = DEFAULT_AUGMENTATION["augment_slant"]  # horizontal shear, share of the width
    augment_zoom: float = DEFAULT_AUGMENTATION["augment_zoom"]  # height and width each scaled by up to ±this
    augment_shift: float = DEFAULT_AUGMENTATION["augment_shift"]  # move by up to ±this share of the image

    def __post_init__(self) -> None:
        # Accept lists from callers and URL parsing; keep the spec hashable.
        if not isinstance(self.layers, tuple):
            object.__setattr__(self, "layers", tuple(self.layers))
        self.validate()

    def validate(self) -> None:
        """Check every value.

        Raises:
            InvalidValue: a ValueError naming the field, what was expected and what arrived.
        """
        if len(self.layers) > MAX_LAYERS:
            raise setting_field("layers").invalid(
                Message(N_("at most {count} hidden layers"), {"count": MAX_LAYERS}), len(self.layers))
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, LayerSpec):
                raise layer_field(index).invalid(Message(N_("a LayerSpec")), layer)
            layer.validate(index)
        _check_choice(setting_field("optimizer"), self.optimizer, OPTIMIZERS)
        _check_float(setting_field("learning_rate"), self.learning_rate, *LEARNING_RATE_RANGE, open_low=False)
        _check_int(setting_field("seed"), self.seed, *SEED_RANGE)
        _check_choice(setting_field("topology"), self.topology, TOPOLOGIES)
        _check_choice(setting_field("loss"), self.loss, (LOSS,))
        _check_choice(setting_field("metric"), self.metric, (METRIC,))
        if not isinstance(self.augment, bool):
            raise setting_field("augment").invalid(Message(N_("True or False")), self.augment)
        for name, (low, high) in AUGMENTATION_RANGES.items():
            _check_float(setting_field(name), getattr(self, name), low, high, open_low=False)
        total = total_params(self)  # also checks shapes and layer order
        if total > MAX_PARAMS:
            raise setting_field("layers").invalid(
                Message(N_("a network with at most {count} parameters"), {"count": f"{MAX_PARAMS:,}"}), f"{total:,}")

    def replace(self, **changes: object) -> ModelSpec:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def architecture(self) -> tuple:
        """What fixes the layers `build_model` creates (layers, topology, augmentation): equal for two
        specs that differ only in seed, optimizer or learning rate (a compiled predict step is shared
        by such models)."""
        return (self.layers, self.topology, self.augmentation)

    @property
    def augmentation(self) -> tuple[tuple[str, float], ...]:
        """The augmentation strengths by field name, or () when augmentation is off."""
        if not self.augment:
            return ()
        return tuple((name, getattr(self, name)) for name in AUGMENTATION_RANGES)

    @property
    def uses_default_learning_rate(self) -> bool:
        """True when the learning rate is exactly Keras' default for the optimizer (the code then names
        the optimizer by its string, which builds it with that default: a rate only close to it would be
        shown and built as another)."""
        return self.learning_rate == DEFAULT_LEARNING_RATES[self.optimizer]


@dataclass(frozen=True)
class TrainConfig:
    """How to train: epochs, batch size, validation split and how many digits to use."""

    epochs: int = 5
    batch_size: int = 32  # the reference code's batch size (Keras' default)
    validation_split: float = 0.1  # fraction of the training digits held out for validation
    train_size: int = 0  # how many training digits to use; 0 means all available

    def __post_init__(self) -> None:
        _check_int(setting_field("epochs"), self.epochs, *EPOCHS_RANGE)
        _check_int(setting_field("batch_size"), self.batch_size, *BATCH_SIZE_RANGE)
        _check_float(setting_field("validation_split"), self.validation_split, *VALIDATION_SPLIT_RANGE, open_low=False)
        _check_int(setting_field("train_size"), self.train_size, *TRAIN_SIZE_RANGE)
        if 0 < self.train_size < MIN_TRAIN_SIZE:
            raise setting_field("train_size").invalid(
                Message(N_("0 (all digits) or at least {count} digits"), {"count": MIN_TRAIN_SIZE}), self.train_size)

    def replace(self, **changes: object) -> TrainConfig:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def supported_styles(spec: ModelSpec) -> tuple[str, ...]:
    """The styles that can express `spec`: Sequential cannot express a branch (SEQUENTIAL_CANNOT_BRANCH).

    This is the one place that decides it; pages, codegen and share links ask here.
    """
    if spec.topology == "skip":
        return ("functional", "subclassing")
    return STYLES


def _augmentation_layers(spec: ModelSpec) -> list[tuple[str, str, tuple[tuple[str, object], ...]]]:
    """(name, Keras class, constructor values) of the augmentation layers `spec` asks for, in build order."""
    if not spec.augment:
        return []
    # "constant" fills the uncovered border with 0, the black background of a digit
    # (Keras' default, "reflect", would mirror strokes into it).
    wanted = [
        ("rotate", "RandomRotation", spec.augment_rotation, "factor"),
        ("slant", "RandomShear", spec.augment_slant, "x_factor"),
        ("zoom", "RandomZoom", spec.augment_zoom, "height_factor"),
        ("shift", "RandomTranslation", spec.augment_shift, "height_factor"),
    ]
    layers = []
    for name, keras_class, strength, argument in wanted:
        if strength == 0:
            continue
        config: tuple[tuple[str, object], ...] = ((argument, strength),)
        if keras_class == "RandomShear":
            # RandomShear picks the direction itself; a single number is saved as (-x, x), which
            # its own loader then refuses (Keras 3.15), so the range is written as (0, x).
            config = ((argument, (0.0, strength)),)
        if keras_class in ("RandomZoom", "RandomTranslation"):
            config += (("width_factor", strength),)  # drawn separately: narrow and wide digits too
        layers.append((name, keras_class, (*config, ("fill_mode", "constant"))))
    return layers


def resolve_layers(spec: ModelSpec) -> list[ResolvedLayer]:
    """Expand the user's layers into what is built, in build order.

    Adds a Reshape before the first layer that needs an image with a channel axis
    (augmentation or a spatial layer), the augmentation layers, a Flatten before the first
    Dense that sees an image, and the output layer; computes shapes and parameter counts
    the way Keras does, without importing it.

    Args:
        spec: a validated (or being validated) ModelSpec.

    Returns:
        The layers in the order they are created and called.

    Raises:
        InvalidValue: a ValueError, when a layer cannot follow the one before it (e.g. Conv2D
            after Flatten) or an image shrinks below 1×1.
    """
    shape: tuple[int, ...] = INPUT_SHAPE
    resolved: list[ResolvedLayer] = []
    counters: dict[str, int] = {}
    flattened = False

    def name_for(base: str) -> str:
        counters[base] = counters.get(base, 0) + 1
        return base if counters[base] == 1 else f"{base}_{counters[base]}"

    def add(base: str, keras_class: str, role: str, config: tuple[tuple[str, object], ...], out: tuple[int, ...],
            params: int = 0, **facts: bool) -> None:
        nonlocal shape
        resolved.append(ResolvedLayer(name_for(base), keras_class, role, config, shape, out, params, **facts))
        shape = out

    def add_channel_axis() -> None:
        if len(shape) == 2:
            add("reshape", "Reshape", "channels", (("target_shape", (*shape, 1)),), (*shape, 1), added=True)

    def flatten(added: bool) -> None:
        nonlocal flattened
        flattened = True
        add("flatten", "Flatten", "layer", (), (math.prod(shape),), added=added,
            skip_source=spec.topology == "skip" and not any(layer.skip_source for layer in resolved))

    augmentation = _augmentation_layers(spec)
    if augmentation:
        add_channel_axis()
    for base, keras_class, config in augmentation:
        add(base, keras_class, "augment", config, shape, added=True, training_only=True)

    for index, layer in enumerate(spec.layers):
        if layer.kind in ("conv2d", "maxpool2d"):
            if flattened:
                raise layer_field(index, "kind").invalid(
                    Message(N_("Dense, Dropout or Flatten after the image has been flattened "
                               "({layer} needs an image, and the layers before it made a vector)"),
                            {"layer": LAYER_TITLES[layer.kind]}), LAYER_TITLES[layer.kind])
            add_channel_axis()
            height, width, channels = shape
            size = layer.kernel_size
            if layer.kind == "conv2d":
                if height - size + 1 < 1:
                    raise layer_field(index, "kernel_size").invalid(
                        Message(N_("a kernel no larger than the {height}×{width} image"),
                                {"height": height, "width": width}), size)
                add("conv", "Conv2D", "layer",
                    (("filters", layer.units), ("kernel_size", size), ("activation", layer.activation)),
                    (height - size + 1, width - size + 1, layer.units), (size * size * channels + 1) * layer.units)
            else:
                if height // size < 1:
                    raise layer_field(index, "kernel_size").invalid(
                        Message(N_("a pool no larger than the {height}×{width} image"),
                                {"height": height, "width": width}), size)
                add("pool", "MaxPooling2D", "layer", (("pool_size", size),), (height // size, width // size, channels))
        elif layer.kind == "flatten":
            if flattened:
                raise layer_field(index, "kind").invalid(
                    Message(N_("at most one Flatten (the data is already a vector here)")), "Flatten")
            flatten(added=False)
        elif layer.kind == "dense":
            if not flattened:
                flatten(added=True)
            add("dense", "Dense", "layer", (("units", layer.units), ("activation", layer.activation)),
                (layer.units,), (shape[0] + 1) * layer.units)
        else:
            add("dropout", "Dropout", "layer", (("rate", layer.rate),), shape, training_only=True)

    if not flattened:
        flatten(added=True)
    if spec.topology == "skip":
        # The flattened pixels also go straight to the output, next to the deep path.
        pixels = next(layer for layer in resolved if layer.skip_source)
        add("merge", "Concatenate", "merge", (), (shape[0] + pixels.output_shape[0],), added=True)
    add("classifier", "Dense", "output", (("units", NUM_CLASSES), ("activation", "softmax")), (NUM_CLASSES,),
        (shape[0] + 1) * NUM_CLASSES, added=True)
    return resolved


def total_params(spec: ModelSpec) -> int:
    """Number of weights in the network, equal to Keras' `count_params()`."""
    return sum(layer.params for layer in resolve_layers(spec))


# The network the Draw page trains for reading drawings. Drawings differ from MNIST's scans
# (slant, proportions, pens, European 1s, 4s and 7s): convolutions find strokes wherever they
# are, and mild augmentation shows each digit turned, slanted, stretched and moved while
# training. Its sizes were chosen on digits that are not MNIST (bench/drawn_accuracy.py); the
# variants tried and what each measured are in docs/architecture.md, "The network for drawings".
DRAWING_NETWORK = ModelSpec(
    layers=(
        LayerSpec("conv2d", units=32, kernel_size=3, activation="relu"),
        LayerSpec("maxpool2d", kernel_size=2),
        LayerSpec("conv2d", units=64, kernel_size=3, activation="relu"),
        LayerSpec("maxpool2d", kernel_size=2),
        LayerSpec("flatten"),
        LayerSpec("dropout", rate=0.4),
        LayerSpec("dense", units=256, activation="relu"),
        LayerSpec("dropout", rate=0.4),
    ),
    augment=True,
)
# On 4,000 digits, the offline subset's size, whatever the server has: that is what it was chosen and
# timed on, and on full MNIST's 54,000 its 30 epochs would hold a worker for about 14 minutes, far
# over the training budget (kerasways/budget.py) and the "about 30 s" the Draw page promises.
DRAWING_TRAINING = TrainConfig(epochs=30, batch_size=64, train_size=4_000)
# With more digits than that, the settings follow the data at hand (`drawing_training`): a lesson's training
# gets about LESSON_SECONDS of one worker, prefetch (before the lesson) the full recipe on every digit.
LESSON_SECONDS = 90.0
# One epoch of the network for drawings per training digit, in one worker (one thread) here with
# DRAWING_TRAINING's batches of 64: 2 epochs of 54,000 digits took 40.5 s (docs/architecture.md).
DRAWING_SECONDS_PER_DIGIT_EPOCH = 3.7e-4


def drawing_training(train_digits: int, at_prefetch: bool = False) -> TrainConfig:
    """The settings the network for drawings trains with, chosen from the digits at hand.

    Args:
        train_digits: how many training digits the server has (before the validation split).
        at_prefetch: True for `python -m kerasways.data --prefetch`, which has time: the full recipe
            (DRAWING_TRAINING's epochs and batches) on every digit.

    Returns:
        DRAWING_TRAINING on the offline digits (or fewer); with more, every digit for as many epochs
        as fit in LESSON_SECONDS of one worker (at least 1, at most DRAWING_TRAINING's).
    """
    if at_prefetch:
        return DRAWING_TRAINING.replace(train_size=0)
    if train_digits <= DRAWING_TRAINING.train_size:
        return DRAWING_TRAINING
    trained = train_digits * (1 - DRAWING_TRAINING.validation_split)
    epochs = int(LESSON_SECONDS // (trained * DRAWING_SECONDS_PER_DIGIT_EPOCH))
    return DRAWING_TRAINING.replace(train_size=0, epochs=max(1, min(DRAWING_TRAINING.epochs, epochs)))

# The ModelSpec fields that make up an architecture (see ModelSpec.architecture): a preset sets
# all of them and keeps the optimizer, learning rate and seed the user chose.
ARCHITECTURE_FIELDS = ("layers", "topology", "augment", *AUGMENTATION_RANGES)


@dataclass(frozen=True)
class Preset:
    """A network to start from, known by an id that never changes.

    Titles are translated and may be reworded; code, tests and stored choices refer to a
    preset by its `id`.
    """

    id: str  # stable, e.g. "reference-mlp"
    title: str  # shown in the preset box, marked for translation
    spec: ModelSpec
    short_title: str  # names the runs of this network, e.g. "Small CNN · Functional API · seed 42"

    def applied_to(self, spec: ModelSpec) -> ModelSpec:
        """`spec` with this preset's whole architecture (layers, skip connection, augmentation).

        Args:
            spec: the current network; its optimizer, learning rate and seed are kept.

        Returns:
            The new network, whose `preset_of` is this preset.
        """
        return spec.replace(**{name: getattr(self.spec, name) for name in ARCHITECTURE_FIELDS})


_PRESET_TABLE = (
    Preset("reference-mlp", N_("Reference MLP (the article's network)"), ModelSpec(), N_("Reference MLP")),
    Preset("mlp-dropout", N_("MLP with dropout"), ModelSpec(
        layers=(
            LayerSpec("dense", units=256, activation="relu"),
            LayerSpec("dropout", rate=0.2),
            LayerSpec("dense", units=128, activation="relu"),
            LayerSpec("dropout", rate=0.2),
        )
    ), N_("MLP with dropout")),
    Preset("small-cnn", N_("Small CNN"), ModelSpec(
        layers=(
            LayerSpec("conv2d", units=16, kernel_size=3, activation="relu"),
            LayerSpec("maxpool2d", kernel_size=2),
            LayerSpec("conv2d", units=32, kernel_size=3, activation="relu"),
            LayerSpec("maxpool2d", kernel_size=2),
            LayerSpec("flatten"),
            LayerSpec("dropout", rate=0.25),
        )
    ), N_("Small CNN")),
    Preset("mlp-skip", N_("MLP with a skip connection"), ModelSpec(
        layers=(
            LayerSpec("dense", units=128, activation="relu"),
            LayerSpec("dense", units=64, activation="relu"),
        ),
        topology="skip",
    ), N_("MLP with a skip connection")),
    Preset("drawing-cnn", N_("CNN for drawings (augmented)"), DRAWING_NETWORK, N_("CNN for drawings")),
)
# By id, in the order the preset box offers them.
PRESETS: dict[str, Preset] = {preset.id: preset for preset in _PRESET_TABLE}


def preset_of(spec: ModelSpec) -> Preset | None:
    """The preset whose architecture `spec` has (whatever its optimizer, learning rate or seed).

    Args:
        spec: any valid network.

    Returns:
        The first such preset, or None for a network of the user's own.
    """
    return next((preset for preset in PRESETS.values() if preset.spec.architecture == spec.architecture), None)
