"""A class's collection of labelled drawings as a data set: split, mix into training, export, import.

Pure data handling on `CollectionData` arrays (a `store.DrawingStore` reads and writes them); no
database, no Streamlit. Refused files raise `InvalidValue` (a ValueError carrying its parts).

Splitting is by writer: a model tested on drawings by a student whose other drawings it trained
on would look better than it is on a new student's handwriting, so no writer is ever in both parts.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from kerasways.formats import plain_text
from kerasways.i18n import N_
from kerasways.messages import InvalidValue, Message
from kerasways.store import FIELD_TITLES, MNIST_SIDE, CollectionCounts, CollectionData, validate_arrays

# "Add our class's digits" is offered from this size. Three writers leave at least one writer for
# testing and two for training, so the class accuracy is measured on handwriting the model never
# saw; fifty drawings give about five per digit, and the held-out part still has a dozen or more,
# so one drawing moves the class accuracy by under ten points. Below that the figures are noise.
MIN_DRAWINGS_FOR_TRAINING = 50
MIN_WRITERS_FOR_TRAINING = 3
TEST_FRACTION = 0.25  # share of writers (not drawings) held out for testing
MAX_IMPORT_BYTES = 32 * 1024 * 1024  # the uploaded file, and the arrays once decompressed
MAX_IMPORT_ROWS = 20_000  # a class collection, with room to spare; full MNIST is not one
# An import's members, by array: the names numpy.savez gives `to_npz_bytes`' arrays. Nothing else is read.
NPZ_MEMBERS = {"x": "x.npy", "y": "y.npy", "writers": "writers.npy"}
REQUIRED_ARRAYS = ("x", "y")
MAX_LISTED_MEMBERS = 5  # member names quoted in a refusal
ZIP_ENCRYPTED = 0x1  # the general-purpose flag bit of a member that needs a password
# The .npy header versions numpy's public readers read (numpy.savez writes 1.0, or 2.0 for huge headers).
NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
IMPORTED_WRITER = "imported"  # writer id for files that carry none
# What zipfile, zlib and numpy raise for a damaged zip or array: RuntimeError for a member that needs a
# password, NotImplementedError for a compression zipfile cannot undo, zlib.error for damaged deflate data.
UNREADABLE = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError)


@dataclass(frozen=True)
class TrainingData:
    """MNIST with the class's digits mixed into its training part (what `training.train` takes).

    Attributes:
        x_train, y_train: MNIST's training digits plus the class's, shuffled together.
        x_test, y_test: MNIST's test digits, unchanged.
        class_digits: how many of the training digits are the class's.
        source: where the data came from, in words.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_digits: int
    source: str


def split_by_writer(data: CollectionData, *, test_fraction: float = TEST_FRACTION,
                    seed: int = 0) -> tuple[CollectionData, CollectionData]:
    """Split a collection into training and test parts, never with one writer in both.

    Args:
        data: the collection.
        test_fraction: share of the writers held out for testing (rounded; with two or more
            writers at least one is held out and at least one is kept for training).
        seed: the same seed and data give the same split.

    Returns:
        (train, test). With a single writer the test part is empty: no honest split exists.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction: expected a share between 0 and 1; received {test_fraction}")
    writers = np.unique(data.writers)  # sorted, so the order of saving does not matter
    order = np.random.default_rng(seed).permutation(len(writers))
    if len(writers) < 2:
        held_out = 0
    else:
        held_out = min(max(1, round(len(writers) * test_fraction)), len(writers) - 1)
    test_writers = writers[order[:held_out]]
    in_test = np.isin(data.writers, test_writers)
    return _rows(data, ~in_test), _rows(data, in_test)


def _rows(data: CollectionData, mask: np.ndarray) -> CollectionData:
    return CollectionData(x=data.x[mask], y=data.y[mask], writers=data.writers[mask])


def why_not_ready_for_training(counts: CollectionCounts) -> Message | None:
    """Why "add our class's digits" cannot be offered yet, or None when it can.

    Args:
        counts: the collection's counts (`DrawingStore.counts`).

    Returns:
        A Message for the page (`i18n.render`), or None.
    """
    writers = len(counts.by_writer)
    if counts.total >= MIN_DRAWINGS_FOR_TRAINING and writers >= MIN_WRITERS_FOR_TRAINING:
        return None
    return Message(N_("Training with the class's digits needs at least {drawings} drawings from {writers} writers; "
                      "the collection has {total} from {have}."),
                   {"drawings": MIN_DRAWINGS_FOR_TRAINING, "writers": MIN_WRITERS_FOR_TRAINING,
                    "total": counts.total, "have": writers})


def with_class_digits(data, class_train: CollectionData, *, train_size: int = 0, repeat: int = 1,
                      seed: int = 0) -> TrainingData:
    """MNIST's training digits with the class's training part shuffled in.

    Args:
        data: anything with `x_train, y_train, x_test, y_test` (e.g. `load_mnist()`).
        class_train: the training part of `split_by_writer` (never its test part).
        train_size: how many MNIST digits to keep (0 = all), as TrainConfig.train_size means;
            train the result with train_size 0 so every class digit is used.
        repeat: how many copies of each class digit (a few dozen among 60,000 weigh little).
        seed: the shuffle's seed.

    Returns:
        A TrainingData.
    """
    if not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat: expected an int ≥ 1; received {repeat!r}")
    x_mnist, y_mnist = data.x_train, data.y_train
    if train_size:
        x_mnist, y_mnist = x_mnist[:train_size], y_mnist[:train_size]
    x = np.concatenate([x_mnist, np.tile(class_train.x, (repeat, 1, 1))])
    y = np.concatenate([np.asarray(y_mnist, dtype=np.int64), np.tile(class_train.y, repeat)])
    # Shuffled together, so the held-out validation tail gets its share of class digits too.
    order = np.random.default_rng(seed).permutation(len(y))
    return TrainingData(x_train=x[order], y_train=y[order], x_test=data.x_test, y_test=data.y_test,
                        class_digits=len(class_train) * repeat,
                        source=f"{getattr(data, 'source', 'MNIST')} + {len(class_train) * repeat} class digits")


def to_npz_bytes(data: CollectionData) -> bytes:
    """The collection as an `.npz` in MNIST's layout: `x` uint8 N×28×28, `y` labels, `writers` ids.

    Args:
        data: the collection.

    Returns:
        The file's bytes (compressed; loads with `numpy.load(..., allow_pickle=False)`).
    """
    validate_arrays(data)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=data.x, y=data.y.astype(np.int64), writers=data.writers.astype(str))
    return buffer.getvalue()


def to_png_zip_bytes(data: CollectionData) -> bytes:
    """The collection as a zip of 28×28 PNGs plus `labels.csv` (file, label, writer).

    Args:
        data: the collection.

    Returns:
        The zip file's bytes.
    """
    validate_arrays(data)
    buffer = io.BytesIO()
    table = io.StringIO()
    rows = csv.writer(table, lineterminator="\n")
    rows.writerow(["file", "label", "writer"])
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, (image, label, writer) in enumerate(zip(data.x, data.y, data.writers)):
            name = f"images/{index:05d}_{int(label)}.png"
            png = io.BytesIO()
            Image.fromarray(image).save(png, format="PNG")
            archive.writestr(name, png.getvalue())
            rows.writerow([name, int(label), str(writer)])
        archive.writestr("labels.csv", table.getvalue())
    return buffer.getvalue()


def _file_refused(expected: Message, received: object) -> InvalidValue:
    return InvalidValue("file", expected, received, Message(N_("File")))


def _array_refused(name: str, expected: str | Message, received: object) -> InvalidValue:
    expected = expected if isinstance(expected, Message) else Message(expected)
    return InvalidValue(name, expected, received, Message(FIELD_TITLES[name]))


@dataclass(frozen=True)
class _DeclaredArray:
    """What one `.npy` member of an upload says it holds, read from its header before any data."""

    name: str  # "x", "y" or "writers"
    member: zipfile.ZipInfo
    shape: tuple
    dtype: np.dtype
    fortran_order: bool
    data_bytes: int  # what the member holds after its header, once unpacked

    @property
    def declared_bytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def read_npz(content: bytes, *, max_bytes: int = MAX_IMPORT_BYTES, max_rows: int = MAX_IMPORT_ROWS) -> CollectionData:
    """Read and check an uploaded `.npz` before anything is stored.

    Every array's `.npy` header (shape, dtype, order) is checked against the zip's own sizes before its
    data is read, so a file that declares more than it holds allocates nothing large.

    Args:
        content: the uploaded file's bytes.
        max_bytes: limit on the file and on its arrays once decompressed.
        max_rows: limit on the number of drawings.

    Returns:
        A CollectionData (writers "imported" when the file has no `writers`).

    Raises:
        InvalidValue: naming what is wrong, in words (not a zip, its members, sizes, shapes, dtypes,
            labels, pickles).
    """
    if not isinstance(content, bytes | bytearray):
        raise _file_refused(Message(N_("the bytes of an .npz file")), type(content).__name__)
    if len(content) > max_bytes:
        raise _file_refused(Message(N_("at most {count} bytes"), {"count": f"{max_bytes:,}"}), len(content))
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except UNREADABLE:
        raise _file_refused(Message(N_("an .npz file (numpy.savez)")), bytes(content[:16])) from None
    with archive:
        members = _expected_members(archive, max_bytes)
        declared = {name: _declared_array(archive, name, member) for name, member in members.items()}
        _check_declared(declared, max_rows)
        arrays = {name: _read_array(archive, array) for name, array in declared.items()}
    x, y = arrays["x"], arrays["y"]
    writers = arrays.get("writers")
    if writers is None:
        writers = np.full(len(x), IMPORTED_WRITER)
    data = CollectionData(x=x, y=y.astype(np.int64), writers=writers)
    validate_arrays(data)
    return data


def _expected_members(archive: zipfile.ZipFile, max_bytes: int) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by array name, once their names, passwords and sizes are as an export writes them."""
    members = archive.infolist()
    names = [member.filename for member in members]
    if len(set(names)) != len(names):
        repeated = next(name for name in names if names.count(name) > 1)
        raise _file_refused(Message(N_("each member once")), plain_text(repeated))
    required = [NPZ_MEMBERS[name] for name in REQUIRED_ARRAYS]
    if not set(required) <= set(names) or not set(names) <= set(NPZ_MEMBERS.values()):
        listed = [plain_text(name) for name in sorted(names)[:MAX_LISTED_MEMBERS]]
        optional = [member for name, member in NPZ_MEMBERS.items() if name not in REQUIRED_ARRAYS]
        raise _file_refused(Message(N_("members named {required} (and optionally {optional}), as the app's .npz "
                                       "export writes them, and nothing else"),
                                    {"required": ", ".join(required), "optional": ", ".join(optional)}), listed)
    locked = [member.filename for member in members if member.flag_bits & ZIP_ENCRYPTED]
    if locked:
        raise _file_refused(Message(N_("members without a password")), locked)
    # A small compressed file can hold huge arrays: check the sizes before decompressing anything.
    unpacked = sum(member.file_size for member in members)
    if unpacked > max_bytes:
        raise _file_refused(Message(N_("arrays of at most {count} bytes once unpacked"),
                                    {"count": f"{max_bytes:,}"}), unpacked)
    return {name: archive.getinfo(member) for name, member in NPZ_MEMBERS.items() if member in names}


def _declared_array(archive: zipfile.ZipFile, name: str, member: zipfile.ZipInfo) -> _DeclaredArray:
    """A member's `.npy` header, read without its data."""
    try:
        with archive.open(member) as file:
            read_header = NPY_HEADER_READERS.get(np.lib.format.read_magic(file))
            if read_header is None:  # a format version numpy's public readers do not read
                raise ValueError(member.filename)
            shape, fortran_order, dtype = read_header(file)
            header_bytes = file.tell()
    except UNREADABLE:
        raise _unreadable(member) from None
    return _DeclaredArray(name, member, shape, dtype, fortran_order, member.file_size - header_bytes)


def _check_declared(declared: dict[str, _DeclaredArray], max_rows: int) -> None:
    """Refuse what the headers declare unless it is a collection within the limits, held in full by the file."""
    pickled = [array.name for array in declared.values() if array.dtype.hasobject]
    if pickled:
        raise _file_refused(Message(N_("plain number and text arrays, not Python objects")), pickled)
    x = declared["x"]
    if len(x.shape) != 3 or x.shape[1:] != (MNIST_SIDE, MNIST_SIDE) or x.shape[0] < 0:
        raise _array_refused("x", N_("N×28×28 images"), x.shape)
    rows = x.shape[0]
    if rows > max_rows:
        raise _array_refused("x", Message(N_("at most {count} drawings"), {"count": f"{max_rows:,}"}), rows)
    kinds = {"x": N_("uint8 pixels"), "y": N_("integer labels"), "writers": N_("text ids")}
    counts = {"y": Message(N_("{count} labels"), {"count": rows}),
              "writers": Message(N_("{count} writer ids"), {"count": rows})}
    for array in declared.values():
        allowed = {"x": array.dtype == np.uint8, "y": array.dtype.kind in "iu",
                   "writers": array.dtype.kind == "U"}[array.name]
        if not allowed:
            raise _array_refused(array.name, kinds[array.name], str(array.dtype))
        if array.name != "x" and array.shape != (rows,):
            raise _array_refused(array.name, counts[array.name], array.shape)
        if array.fortran_order:
            raise _array_refused(array.name, N_("an array stored row by row (C order), as numpy.save writes it"),
                                 "Fortran order")
        if array.declared_bytes != array.data_bytes:
            raise _array_refused(array.name, Message(N_("{count} bytes of data, as its header declares"),
                                                     {"count": f"{array.declared_bytes:,}"}), array.data_bytes)


def _read_array(archive: zipfile.ZipFile, array: _DeclaredArray) -> np.ndarray:
    """The data of a member whose header was checked: as many bytes as the zip says it holds, no pickle."""
    try:
        with archive.open(array.member) as file:
            return np.lib.format.read_array(file, allow_pickle=False)
    except UNREADABLE:
        raise _unreadable(array.member) from None


def _unreadable(member: zipfile.ZipInfo) -> InvalidValue:
    return _file_refused(Message(N_("readable numpy arrays")), member.filename)
