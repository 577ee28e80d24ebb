"""Build a Keras model by running the exact source the page shows."""

from __future__ import annotations

import contextlib
import linecache
import random
import weakref

from kerasways.codegen import model_source
from kerasways.spec import ModelSpec


def execute(source: str, filename: str) -> dict:
    """Run generated source and return its namespace (build_model, feature_extractor, ...)."""
    # Registering the text with linecache makes tracebacks show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": "kerasways_generated"}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated, validated text
    return namespace


# model → (spec, style) it was built from: the subclassed way's looking-inside code calls its
# layers by name, so kerasways.inside needs the network behind a model it is handed.
_BUILT_FROM: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def built_from(model) -> tuple[ModelSpec, str] | None:
    """The (spec, style) a model of this process was built from, or None for one built elsewhere."""
    return _BUILT_FROM.get(model)


def build_model(spec: ModelSpec, style: str, lang: str = "en"):
    """Build (and compile) the model by executing `model_source(spec, style, lang)`.

    Args:
        spec: the validated network.
        style: one of `kerasways.spec.STYLES` that can express `spec`.
        lang: the language of the source's comments (the model is the same in every language).

    Returns:
        The compiled `keras.Model`, with weights created from `spec.seed`.
    """
    source = model_source(spec, style, lang)
    namespace = execute(source, f"<kerasways {style} model>")
    model = namespace["build_model"]()
    _BUILT_FROM[model] = (spec, style)
    return model


@contextlib.contextmanager
def global_random_state_kept():
    """Run code that seeds Python's, NumPy's and Keras' global generators (as the generated
    `build_model()` does) and put those generators back as they were afterwards.

    For builds in the app server that need a seed for their own sake (a picture of what
    augmentation does); without this, every such build would reset the server's random state.
    """
    import numpy as np
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    python_state, numpy_state = random.getstate(), np.random.get_state()
    keras_seed = global_state.get_global_attribute(rng_utils.GLOBAL_RANDOM_SEED)
    keras_generator = global_state.get_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, keras_seed)
        global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, keras_generator)


class _KerasWithoutReseeding:
    """`keras`, except that `keras.utils.set_random_seed` does nothing (see `rebuild_model`)."""

    class _Utils:
        def __getattr__(self, name: str):
            import keras

            if name == "set_random_seed":
                return lambda seed: None
            return getattr(keras.utils, name)

    utils = _Utils()

    def __getattr__(self, name: str):
        import keras

        return getattr(keras, name)


def rebuild_model(spec: ModelSpec, style: str, weights: list):
    """The trained model again, in the app server: built from the same source, given `weights`.

    The source seeds Keras' random generators, which is what makes a training reproducible.
    Its weights are replaced at once here, so reseeding would only reset the server's global
    random state (Python's, NumPy's, TensorFlow's) on every rebuild, for everyone: the seed call
    is skipped, and nothing else in the source changes.

    Args:
        spec: the validated network.
        style: the way it was written.
        weights: `model.get_weights()` of the trained model.

    Returns:
        The compiled `keras.Model` holding `weights`.
    """
    namespace = execute(model_source(spec, style), f"<kerasways {style} model>")
    namespace["keras"] = _KerasWithoutReseeding()
    model = namespace["build_model"]()
    model.set_weights(weights)
    _BUILT_FROM[model] = (spec, style)
    return model
