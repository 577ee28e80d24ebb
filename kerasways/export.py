"""Files users take away: the trained model as `.keras` bytes."""

from __future__ import annotations

import os
import tempfile


def model_file_bytes(model) -> bytes:
    """The model saved in Keras' `.keras` format, as bytes for a download button.

    Args:
        model: a built keras.Model (a subclassed one must be registered serializable,
            as the generated code does).

    Returns:
        The file's contents.
    """
    handle, path = tempfile.mkstemp(suffix=".keras")
    os.close(handle)
    try:
        model.save(path)
        with open(path, "rb") as file:
            return file.read()
    finally:
        os.remove(path)
