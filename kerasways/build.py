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
