"""The environment tests and benchmarks run in: offline data, quiet TensorFlow."""

from __future__ import annotations

import os

# The bundled MNIST digits instead of a download (a class may be offline; tests must be), and
# TensorFlow's C++ start-up chatter hidden.
OFFLINE = {"KERASWAYS_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def use_offline() -> None:
    """Set OFFLINE in this process's environment (before TensorFlow or kerasways.data is imported).

    KERASWAYS_OFFLINE is always set; TF_CPP_MIN_LOG_LEVEL only if the caller has not chosen one.
    """
    os.environ["KERASWAYS_OFFLINE"] = OFFLINE["KERASWAYS_OFFLINE"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", OFFLINE["TF_CPP_MIN_LOG_LEVEL"])
