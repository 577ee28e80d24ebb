"""Build a Keras model by running the exact source the page shows."""

from __future__ import annotations

import linecache

from kerasways.codegen import model_source
from kerasways.spec import ModelSpec


def _execute(source: str, filename: str) -> dict:
    # Registering the text with linecache makes tracebacks show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": "kerasways_generated"}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated, validated text
    return namespace


def build_model(spec: ModelSpec, style: str):
    """Build (and compile) the model by executing `model_source(spec, style)`.

    Args:
        spec: the validated network.
        style: one of `kerasways.spec.STYLES` that can express `spec`.

    Returns:
        The compiled `keras.Model`, with weights created from `spec.seed`.
    """
    source = model_source(spec, style)
    namespace = _execute(source, f"<kerasways {style} model>")
    return namespace["build_model"]()


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
    namespace = _execute(model_source(spec, style), f"<kerasways {style} model>")
    namespace["keras"] = _KerasWithoutReseeding()
    model = namespace["build_model"]()
    model.set_weights(weights)
    return model
