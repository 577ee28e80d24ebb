"""Files users take away: the trained model as `.keras` bytes."""

from __future__ import annotations

import os
import tempfile


def model_file_bytes(model) -> bytes:
    """The model saved in Keras' `.keras` format, as bytes for a download button.

    The file loads without warnings: `keras.models.load_model` compiles the model again and
    builds its optimizer, which then expects the optimizer state saved in the file. A model
    rebuilt from its source and given trained weights (as the app does) has an optimizer that
    never took a step and was never built, so its state is built here first (fresh moments,
    zero steps, the learning rate shown in the code).

    Args:
        model: a built, compiled keras.Model (a subclassed one must be registered
            serializable, as the generated code does). Its optimizer is built if it was not.

    Returns:
        The file's contents.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)
    handle, path = tempfile.mkstemp(suffix=".keras")
    os.close(handle)
    try:
        model.save(path)
        with open(path, "rb") as file:
            return file.read()
    finally:
        os.remove(path)
