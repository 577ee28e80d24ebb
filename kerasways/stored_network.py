"""The network for drawings, stored in the data folder so that a server offers it at once.

A stored network is two files in `<data folder>/networks/`: the model as `<name>-<hash>.keras` and a
small record `<name>.json` of what made it (the share-link fields of its network, way and settings,
the data's fingerprint, the Keras and TensorFlow versions, the `.keras` file's SHA-256, its history and
test results). The record names its `.keras` file, and is replaced last, by a rename: a reader sees the
old network or the new one, never half of one. A record that does not match (other data, other
versions, another network), a damaged or missing file, is set aside into `networks/set-aside/` with a
log line, and the network is trained again. A lock file keeps two servers sharing a data folder from
writing at once (the second one simply does not write: the first one's network is as good).

It is derived at run time and never committed. Nothing here imports TensorFlow until a model is read or
written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import importlib.metadata
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kerasways.store import default_data_dir

LOG = logging.getLogger("kerasways")
FORMAT = 1  # the record's layout; another one is set aside and retrained
FOLDER = "networks"
SET_ASIDE = "set-aside"
DRAWING_NETWORK_NAME = "drawing-network"
PROGRESS_BAR_WIDTH = 30


def versions() -> dict[str, str]:
    """The Keras and TensorFlow versions installed (read from their metadata: no TensorFlow import)."""
    found = {}
    for package in ("keras", "tensorflow"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = ""
    return found


@dataclass
class StoredNetwork:
    """A trained network as stored: what a finished run needs to be offered at once.

    Args:
        spec, style, config: the network, its way and the settings it was trained with.
        weights: `model.get_weights()`.
        history: its `training.History`.
        evaluation: its `evaluate.Evaluation` on the test digits.
        seconds: how long it trained.
        fingerprint: the data it trained on (`data.data_fingerprint`).
        extra: anything else its record keeps (e.g. a calibration's figures).
    """

    spec: object
    style: str
    config: object
    weights: list
    history: object
    evaluation: object
    seconds: float
    fingerprint: str
    extra: dict = dataclasses.field(default_factory=dict)


def calibration_record(calibration) -> dict:
    """The record's `extra` for a `calibration.Calibration` (or None): what `find` gives back in `extra`."""
    return {"calibration": dataclasses.asdict(calibration)} if calibration is not None else {}


def _evaluation_json(evaluation) -> dict:
    return {field.name: (value.tolist() if isinstance(value, np.ndarray) else value)
            for field in dataclasses.fields(evaluation) for value in [getattr(evaluation, field.name)]}


def _evaluation_from(record: dict):
    from kerasways.evaluate import Evaluation

    return Evaluation(
        accuracy=float(record["accuracy"]), loss=float(record["loss"]),
        per_class_accuracy=np.asarray(record["per_class_accuracy"], dtype=np.float64),
        confusion=np.asarray(record["confusion"], dtype=np.int64),
        mistake_images=np.asarray(record["mistake_images"], dtype=np.uint8).reshape(-1, 28, 28),
        mistake_true=np.asarray(record["mistake_true"], dtype=np.int64),
        mistake_predicted=np.asarray(record["mistake_predicted"], dtype=np.int64),
        mistake_confidence=np.asarray(record["mistake_confidence"], dtype=np.float64),
        count=int(record["count"]))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class NetworkStore:
    """Stored networks in a data folder: `find` one that matches, `save` a new one.

    Args:
        folder: the data folder (None: `KERASWAYS_DATA_DIR`, else ~/.kerasways, as it is when asked); the
            networks live in its `networks/` folder, created on the first save.
    """

    def __init__(self, folder: Path | None = None):
        self._folder = Path(folder) if folder is not None else None

    @property
    def folder(self) -> Path:
        """The `networks/` folder (the data folder's, read from the environment each time when none was given)."""
        return (self._folder if self._folder is not None else default_data_dir()) / FOLDER

    def record_path(self, name: str) -> Path:
        """Where the record of the network called `name` is (it may not exist)."""
        return self.folder / f"{name}.json"

    def _set_aside(self, name: str, why: str) -> None:
        # Kept, not deleted: a teacher (or a developer) can look at what was wrong with it.
        aside = self.folder / SET_ASIDE
        stamp = time.strftime("%Y%m%d-%H%M%S")
        with contextlib.suppress(OSError):
            aside.mkdir(parents=True, exist_ok=True)
            record = self.record_path(name)
            model_name = None
            with contextlib.suppress(OSError, ValueError, AttributeError):
                model_name = json.loads(record.read_text())["file"]
            for path in (record, self.folder / model_name if model_name else None):
                if path is not None and path.exists() and path.parent == self.folder:
                    os.replace(path, aside / f"{stamp}-{os.getpid()}-{path.name}")
        LOG.warning("kerasways: the stored network %s in %s was set aside and will be trained again: %s",
                    name, self.folder, why)

    def find(self, name: str, spec, style: str, fingerprint: str) -> StoredNetwork | None:
        """The stored network `name` when it is this network, written this way, trained on these digits
        with these versions; else None (a mismatching or damaged one is set aside, with a log line).

        Args:
            name: e.g. DRAWING_NETWORK_NAME.
            spec, style: the network wanted (its settings may be any: prefetch trains longer than a lesson).
            fingerprint: the data the server trains on (`data.data_fingerprint()`).

        Returns:
            The StoredNetwork, or None. Never raises for what is in the folder.
        """
        path = self.record_path(name)
        if not path.exists():  # the common case is answered without TensorFlow
            return None
        try:
            record = json.loads(path.read_text())
            if not isinstance(record, dict) or record.get("format") != FORMAT:
                raise ValueError(f"record format {record.get('format') if isinstance(record, dict) else '?'}, "
                                 f"expected {FORMAT}")
            if record.get("versions") != versions():
                raise ValueError(f"made with {record.get('versions')}, this server has {versions()}")
            if record.get("fingerprint") != fingerprint:
                raise ValueError(f"trained on other digits ({record.get('fingerprint')}; now {fingerprint})")
            from kerasways.share import from_query

            stored_spec, stored_style, config, notes = from_query(record["link"])
            if notes or (stored_spec, stored_style) != (spec, style):
                raise ValueError("another network or way")
            model_path = self.folder / record["file"]
            if Path(record["file"]).name != record["file"] or _sha256(model_path) != record["sha256"]:
                raise ValueError(f"{record['file']} is not the file its record describes")
            weights = self._weights(model_path, spec, style)
            from kerasways.training import History

            return StoredNetwork(spec, style, config, weights, History(**record["history"]),
                                 _evaluation_from(record["evaluation"]), float(record["seconds"]), fingerprint,
                                 dict(record.get("extra", {})))
        except Exception as error:  # noqa: BLE001 - whatever is wrong with a file, the network is trained again
            self._set_aside(name, f"{type(error).__name__}: {error}")
            return None

    @staticmethod
    def _weights(model_path: Path, spec, style: str) -> list:
        import keras

        from kerasways.build import rebuild_model

        weights = keras.saving.load_model(model_path, compile=False).get_weights()
        rebuild_model(spec, style, weights)  # the same layers and shapes, or it raises here
        return weights

    @contextlib.contextmanager
    def _writing(self, name: str):
        # A lock file per network: the second server (or prefetch) finds it taken and does not write.
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f"{name}.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def save(self, name: str, model, network: StoredNetwork) -> bool:
        """Store `model` as the network `name`, atomically, unless another process is writing it now.

        Args:
            name: e.g. DRAWING_NETWORK_NAME.
            model: the trained keras.Model.
            network: what made it (its `weights` are not read: the model's are stored).

        Returns:
            True when stored; False when another writer held the lock or the folder cannot be written
            (logged; the network then simply is not stored).
        """
        from kerasways.export import model_file_bytes
        from kerasways.share import to_query

        try:
            with self._writing(name) as mine:
                if not mine:
                    LOG.info("kerasways: another process is storing the network %s; this one is not stored", name)
                    return False
                payload = model_file_bytes(model)
                sha = hashlib.sha256(payload).hexdigest()
                model_file = f"{name}-{sha[:16]}.keras"
                old = self._stored_file(name)
                self._write_atomically(self.folder / model_file, payload)
                record = {
                    "format": FORMAT, "name": name, "file": model_file, "sha256": sha,
                    "link": to_query(network.spec, network.style, network.config),
                    "fingerprint": network.fingerprint, "versions": versions(),
                    "seconds": network.seconds, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "extra": network.extra, "history": dataclasses.asdict(network.history),
                    "evaluation": _evaluation_json(network.evaluation),
                }
                self._write_atomically(self.record_path(name), json.dumps(record).encode())
                if old and old != model_file:
                    with contextlib.suppress(OSError):
                        (self.folder / old).unlink()
                return True
        except OSError as error:
            LOG.warning("kerasways: could not store the network %s in %s: %s", name, self.folder, error)
            return False

    def _stored_file(self, name: str) -> str | None:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            return json.loads(self.record_path(name).read_text())["file"]
        return None

    @staticmethod
    def _write_atomically(path: Path, payload: bytes) -> None:
        part = path.with_name(f".{path.name}.{os.getpid()}.part")
        with open(part, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, path)


def _progress_bar(progress) -> None:
    done = progress.fraction
    filled = round(done * PROGRESS_BAR_WIDTH)
    eta = f"{progress.eta_seconds:.0f} s left" if np.isfinite(progress.eta_seconds) else "timing…"
    print(f"\r[{'#' * filled}{'.' * (PROGRESS_BAR_WIDTH - filled)}] epoch {progress.epoch}/{progress.epochs} "
          f"{done:.0%} {eta}   ", end="", file=sys.stderr, flush=True)


def prefetch_drawing_network(data, store: NetworkStore | None = None) -> int:
    """Train the network for drawings on `data` with the full recipe and store it (prefetch's second half).

    Args:
        data: the full MNIST (`data.prefetch()`).
        store: where to store it (None: the data folder's).

    Returns:
        0 when a matching network is stored (already, or now), 1 when it could not be stored.
    """
    from kerasways.data import data_fingerprint
    from kerasways.runs import DRAWING_REQUEST
    from kerasways.spec import drawing_training

    store = store or NetworkStore()
    spec, style = DRAWING_REQUEST.spec, DRAWING_REQUEST.style
    fingerprint = data_fingerprint("keras")
    if store.find(DRAWING_NETWORK_NAME, spec, style, fingerprint) is not None:
        print(f"The network for drawings is already stored in {store.folder}.")
        return 0
    from kerasways.evaluate import evaluate
    from kerasways.training import train

    config = drawing_training(len(data.x_train), at_prefetch=True)
    print(f"Training the network for drawings on {len(data.x_train):,} digits ({config.epochs} epochs):",
          file=sys.stderr)
    result = train(spec, style, config, data, on_progress=_progress_bar, **DRAWING_REQUEST.options)
    print(file=sys.stderr)
    network = StoredNetwork(spec, style, config, [], result.history, evaluate(result.model, data), result.seconds,
                            fingerprint, calibration_record(result.calibration))
    if not store.save(DRAWING_NETWORK_NAME, result.model, network):
        print(f"Could not store the network for drawings in {store.folder}.", file=sys.stderr)
        return 1
    print(f"Trained in {result.seconds:.0f} s, test accuracy {network.evaluation.accuracy:.2%}; "
          f"stored in {store.folder}.")
    return 0
