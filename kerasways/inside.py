"""Inside the network: every layer's output for one drawing, and where the model looks.

The layers' outputs come from the looking-inside code the page shows (`codegen.inside_source`),
executed here, so shown code is running code. Everything for one drawing is one XLA-compiled
step keyed by architecture with the weights as arguments, like `evaluate.predict_one`.

Saliency method: SmoothGrad (Smilkov et al., 2017) of the digit's log-probability. A plain
gradient of these small ReLU networks is speckled and jumps from stroke to stroke (a ReLU's
gradient switches on and off); averaging it over a few copies of the drawing with a little
noise gives a map that stays put when the drawing changes a little (bench/inside.py measures
that). The noise is one fixed sample, so the same drawing always gives the same map. The
log-probability, not the probability, because at 99% the probability's gradient vanishes.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from kerasways.build import built_from, execute
from kerasways.codegen import inside_source

# 4 noisy copies keep the map nearly as stable as 8 (bench/inside.py: correlation with a slightly noisy
# copy 0.94 against 0.95, plain gradient 0.64) at about 5× the predict step instead of 9×.
SMOOTHGRAD_SAMPLES = 4
SMOOTHGRAD_NOISE = 0.15  # standard deviation, in the [0, 1] pixel range (SmoothGrad's 10–20% of the range)
ACTIVE_WHEN_PREDICTING = {"Reshape", "Flatten", "Concatenate", "Conv2D", "MaxPooling2D", "Dense"}


@dataclass
class LayerOutput:
    """One layer's output for one image."""

    name: str  # the layer's name in the generated code (the same in the three ways), e.g. "conv_2"
    kind: str  # its Keras class, e.g. "Conv2D"
    output: np.ndarray  # without the batch axis, e.g. 26×26×32

    @property
    def inactive_when_predicting(self) -> bool:
        """Dropout and augmentation pass the input through unchanged outside training."""
        return self.kind not in ACTIVE_WHEN_PREDICTING


@dataclass
class Inside:
    """Everything the Draw page shows inside the network for one drawing."""

    layers: list[LayerOutput]
    probabilities: np.ndarray  # 10 values: the last layer's output
    saliency: dict[int, np.ndarray]  # digit → 28×28 SmoothGrad map (signed: more ink here raises the digit)
    grad_cam: dict[int, np.ndarray]  # digit → 28×28 map in [0, 1]; empty for a network without convolutions


def extractor(model):
    """Run the looking-inside code for `model`'s way: images → one output per layer.

    Args:
        model: a model built by `build.build_model` or `build.rebuild_model`.

    Returns:
        A callable taking N×28×28 float32 and returning a list of per-layer outputs.
    """
    known = built_from(model)
    if known is None:
        raise ValueError("inside: the model was not built by kerasways.build in this process")
    spec, style = known
    namespace = execute("import keras\n\n" + inside_source(spec, style), f"<kerasways {style} inside>")
    return namespace["feature_extractor"](model)


def _recording_extractor(model):
    """(images → every layer's output, [(name, kind)]) for a model built elsewhere, e.g. loaded from the
    exported .keras file.

    Such a model comes without the network it was written from, so there is no generated code to run:
    each layer's `call` is wrapped for the duration of one forward pass and records what it returns.
    This works for the three ways alike (a loaded subclassed model has no graph either).
    """
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]

    def every_output(images, training=False):
        seen = []
        own = [layer.__dict__.get("call") for layer in layers]
        try:
            for layer in layers:
                def recording(*args, _call=layer.call, _layer=layer, **kwargs):
                    output = _call(*args, **kwargs)
                    seen.append((_layer, output))
                    return output
                layer.call = recording
            model(images, training=training)
        finally:
            for layer, call in zip(layers, own):
                if call is None:
                    del layer.call
                else:
                    layer.call = call
        every_output.names = [(layer.name, type(layer).__name__) for layer, _output in seen]
        return [output for _layer, output in seen]

    every_output(np.zeros((1, 28, 28), np.float32))
    return every_output, every_output.names


def _looking(model) -> tuple:
    """How to read `model`'s layers: (images → outputs, [(name, kind)] in build order)."""
    known = built_from(model)
    if known is None:
        return _recording_extractor(model)
    from kerasways.spec import resolve_layers

    return extractor(model), [(layer.name, layer.keras_class) for layer in resolve_layers(known[0])]


_STEPS: dict = {}
# Models built elsewhere have no architecture key: their steps live as long as the model does.
_STEPS_OF_LOADED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_STEPS_LOCK = threading.Lock()


def _compiled_step(model, architecture):
    """The architecture's compiled step (weights, image, two digits) → outputs, saliency, Grad-CAM, with
    whether it has a convolution and the layers' (name, kind)."""
    with _STEPS_LOCK:
        steps, key = (_STEPS, architecture) if architecture is not None else (_STEPS_OF_LOADED, model)
        if key in steps:
            return steps[key]
        import keras
        import tensorflow as tf

        template, (extract, names) = model, _looking(model)
        kinds = [kind for _name, kind in names]
        last_conv = max((index for index, kind in enumerate(kinds) if kind == "Conv2D"), default=None)
        noise = np.random.default_rng(0).normal(0.0, SMOOTHGRAD_NOISE, (SMOOTHGRAD_SAMPLES, 28, 28))
        noise = tf.constant(noise, tf.float32)

        def step(trainable, non_trainable, image, digits):
            mapping = [*zip(template.trainable_variables, trainable),
                       *zip(template.non_trainable_variables, non_trainable)]
            # Rows: the clean image once per digit (layer outputs, Grad-CAM), then the noisy copies per digit.
            noisy = tf.reshape(image[None, None] + noise[None], (-1, 28, 28))
            batch = tf.concat([tf.stack([image, image]), tf.concat([noisy, noisy], axis=0)], axis=0)
            targets = tf.concat([digits, tf.repeat(digits, SMOOTHGRAD_SAMPLES)], axis=0)
            with keras.StatelessScope(state_mapping=mapping), tf.GradientTape() as tape:
                tape.watch(batch)
                outputs = extract(batch, training=False)
                chosen = tf.gather(outputs[-1], targets, axis=1, batch_dims=1)
                score = tf.reduce_sum(tf.math.log(chosen + 1e-7))
            sources = [batch] + ([outputs[last_conv]] if last_conv is not None else [])
            gradients = tape.gradient(score, sources)
            saliency = tf.reduce_mean(tf.reshape(gradients[0][2:], (2, SMOOTHGRAD_SAMPLES, 28, 28)), axis=1)
            if last_conv is None:
                grad_cam = tf.zeros((2, 28, 28))
            else:
                # Grad-CAM: the last convolution's channels weighted by their mean gradient, ReLU, to 28×28.
                features, feature_gradients = outputs[last_conv][:2], gradients[1][:2]
                weights = tf.reduce_mean(feature_gradients, axis=(1, 2), keepdims=True)
                cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1, keepdims=True))
                grad_cam = tf.image.resize(cam, (28, 28))[..., 0]
                grad_cam = grad_cam / (tf.reduce_max(grad_cam, axis=(1, 2), keepdims=True) + 1e-12)
            return [output[0] for output in outputs], saliency, grad_cam

        steps[key] = (tf.function(step, jit_compile=True), last_conv is not None, names)
        return steps[key]


def look_inside(model, image: np.ndarray, digits: tuple[int, int], architecture=None) -> Inside:
    """Every layer's output, SmoothGrad and (for a convolution network) Grad-CAM for two digits.

    Args:
        model: a model built by `build.build_model` or `build.rebuild_model`, in any of the three ways.
        image: one 28×28 image as `drawing.to_mnist` returns it (uint8, or float32 in [0, 1]).
        digits: the two digits to explain, e.g. (the answer, the digit the student picked).
        architecture: the key of the compiled step (as for `evaluate.predict_one`); by default the
            model's own network and way.

    Returns:
        An Inside.
    """
    known = built_from(model)
    if architecture is None and known is not None:
        architecture = (known[0].architecture, known[1])
    step, has_conv, names = _compiled_step(model, ("inside", architecture) if architecture is not None else None)
    scaled = _scaled(image)
    outputs, saliency, grad_cam = step([variable.value for variable in model.trainable_variables],
                                       [variable.value for variable in model.non_trainable_variables],
                                       scaled, np.asarray(digits, np.int32))
    layers = [LayerOutput(name, kind, np.asarray(output))
              for (name, kind), output in zip(names, outputs)]
    saliency, grad_cam = np.asarray(saliency), np.asarray(grad_cam)
    return Inside(layers=layers, probabilities=layers[-1].output,
                  saliency={digit: saliency[index] for index, digit in enumerate(digits)},
                  grad_cam={digit: grad_cam[index] for index, digit in enumerate(digits)} if has_conv else {})


def _scaled(images: np.ndarray) -> np.ndarray:
    """Images as the network's input: float32 in [0, 1] (uint8 ones divided by 255)."""
    return images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images.astype(np.float32)


def batch_layer_outputs(model, images: np.ndarray) -> list[list[LayerOutput]]:
    """Every layer's output for a few images, from one forward pass (no gradients, nothing compiled).

    Args:
        model: as for `layer_outputs`.
        images: N×28×28, uint8 or float32 in [0, 1].

    Returns:
        One list of LayerOutput per image, as `layer_outputs` gives for that image alone.
    """
    extract, names = _looking(model)
    outputs = [np.asarray(output) for output in extract(_scaled(images), training=False)]
    return [[LayerOutput(name, kind, output[index]) for (name, kind), output in zip(names, outputs)]
            for index in range(len(images))]


def layer_outputs(model, image: np.ndarray) -> list[LayerOutput]:
    """One entry per layer in build order: its name, its kind and its output for `image`.

    Args:
        model: any model the app trained (`RunRegistry.model`, `build.rebuild_model`), any way.
        image: 28×28, as `drawing.to_mnist` returns it.

    Returns:
        [LayerOutput]; the same values, whichever way wrote the model, for the same seed and weights.
    """
    return look_inside(model, image, (0, 0)).layers


def saliency(model, image: np.ndarray, digit: int) -> np.ndarray:
    """Where more (or less) ink would change the model's belief in `digit`: a 28×28 SmoothGrad map.

    Args:
        model, image: as for `layer_outputs`.
        digit: 0–9.

    Returns:
        28×28 float32; positive where ink raises the digit's log-probability.
    """
    return look_inside(model, image, (digit, digit)).saliency[digit]
