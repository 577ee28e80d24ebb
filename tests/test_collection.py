"""A class's collection as a data set: honest splits, exports that reload, imports that refuse bad files."""

import csv
import io
import warnings
import zipfile

import numpy as np
import pytest
from PIL import Image

from kerasways import i18n
from kerasways.collection import (
    MIN_DRAWINGS_FOR_TRAINING,
    MIN_WRITERS_FOR_TRAINING,
    read_npz,
    split_by_writer,
    to_npz_bytes,
    to_png_zip_bytes,
    why_not_ready_for_training,
    with_class_digits,
)
from kerasways.messages import InvalidValue
from kerasways.store import CollectionCounts, CollectionData, NotAuthorised, StoreUnavailable, open_store
from support.stored_drawings import fill_sqlite_disk, save_one


def collection(rows: int = 40, writers: int = 5, seed: int = 0) -> CollectionData:
    rng = np.random.default_rng(seed)
    return CollectionData(x=rng.integers(0, 256, (rows, 28, 28), dtype=np.uint8),
                          y=rng.integers(0, 10, rows).astype(np.int64),
                          writers=np.array([f"w{i % writers}" for i in range(rows)]))


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("writers", [2, 3, 5, 12])
def test_split_never_puts_a_writer_in_both_parts(writers):
    data = collection(rows=60, writers=writers)
    train, test = split_by_writer(data, seed=1)
    assert not set(train.writers) & set(test.writers)
    assert len(train) + len(test) == len(data)
    assert len(set(test.writers)) >= 1 and len(set(train.writers)) >= 1
    together = sorted(map(bytes, np.concatenate([train.x, test.x])))
    assert together == sorted(map(bytes, data.x)), "every drawing lands in one part"


def test_split_is_deterministic_and_follows_the_seed():
    data = collection(rows=100, writers=10)
    first, again = split_by_writer(data, seed=3)[1], split_by_writer(data, seed=3)[1]
    np.testing.assert_array_equal(first.x, again.x)
    assert set(first.writers) == set(again.writers)
    other_seeds = {frozenset(split_by_writer(data, seed=seed)[1].writers) for seed in range(8)}
    assert len(other_seeds) > 1


def test_split_of_a_single_writer_keeps_everything_for_training():
    train, test = split_by_writer(collection(rows=10, writers=1))
    assert len(train) == 10 and len(test) == 0 and test.x.shape == (0, 28, 28)


def test_training_is_offered_only_from_enough_drawings_and_writers():
    def counts(total: int, writers: int) -> CollectionCounts:
        return CollectionCounts(total=total, by_label={}, by_writer={f"w{i}": 1 for i in range(writers)})

    assert why_not_ready_for_training(counts(MIN_DRAWINGS_FOR_TRAINING, MIN_WRITERS_FOR_TRAINING)) is None
    assert "needs at least" in str(why_not_ready_for_training(counts(MIN_DRAWINGS_FOR_TRAINING - 1, 10)))
    assert "needs at least" in str(why_not_ready_for_training(counts(500, MIN_WRITERS_FOR_TRAINING - 1)))
    chinese = i18n.render(why_not_ready_for_training(counts(12, 2)), "zh")
    assert "12" in chinese and "needs" not in chinese


def test_class_digits_join_the_training_part_only():
    class MnistLike:
        x_train = np.zeros((100, 28, 28), np.uint8)
        y_train = np.zeros(100, np.uint8)
        x_test = np.zeros((20, 28, 28), np.uint8)
        y_test = np.zeros(20, np.uint8)

    class_train = CollectionData(x=np.full((6, 28, 28), 255, np.uint8), y=np.full(6, 7),
                                 writers=np.array(["a"] * 6))
    mixed = with_class_digits(MnistLike(), class_train, train_size=50, repeat=2)
    assert len(mixed.x_train) == 50 + 12 and mixed.class_digits == 12
    assert int((mixed.y_train == 7).sum()) == 12
    assert mixed.x_test is MnistLike.x_test
    assert (mixed.x_train[:12].max(axis=(1, 2)) == 255).sum() < 12, "class digits are shuffled in, not stacked"


def test_npz_export_reloads_as_mnist_and_imports_back(tmp_path):
    store = open_store(tmp_path / "data")
    for index in range(6):
        save_one(store, seed=index, label=index, writer=f"s{index % 2}", collection="7b")
    exported = store.arrays("7b")

    content = to_npz_bytes(exported)
    with np.load(io.BytesIO(content), allow_pickle=False) as raw:
        assert raw["x"].dtype == np.uint8 and raw["x"].shape == (6, 28, 28)
        assert list(raw["y"]) == list(range(6))
    assert store.import_arrays(read_npz(content), "7c", authorised=True) == 6
    imported = store.arrays("7c")
    np.testing.assert_array_equal(imported.x, exported.x)
    np.testing.assert_array_equal(imported.y, exported.y)
    np.testing.assert_array_equal(imported.writers, exported.writers)


def test_png_zip_export_has_one_image_per_drawing_and_a_label_table():
    data = collection(rows=5, writers=2)
    with zipfile.ZipFile(io.BytesIO(to_png_zip_bytes(data))) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode())))
        assert [int(row["label"]) for row in rows] == list(data.y)
        assert [row["writer"] for row in rows] == list(data.writers)
        for row, image in zip(rows, data.x):
            np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(archive.read(row["file"])))), image)


def test_an_npz_without_writers_imports_as_one_writer():
    data = read_npz(npz(x=np.ones((3, 28, 28), np.uint8), y=np.array([1, 2, 3], np.uint8)))
    assert list(data.writers) == ["imported"] * 3 and data.y.dtype == np.int64


GOOD_X = np.ones((4, 28, 28), np.uint8)
GOOD_Y = np.array([0, 1, 2, 9])


@pytest.mark.parametrize(("content", "message"), [
    (b"definitely not a zip", "^file: expected an .npz"),
    (npz(x=GOOD_X.astype(np.float32), y=GOOD_Y), "^x: expected uint8"),
    (npz(x=np.ones((4, 28, 27), np.uint8), y=GOOD_Y), "^x: expected N×28×28"),
    (npz(x=np.ones((4, 784), np.uint8), y=GOOD_Y), "^x: expected N×28×28"),
    (npz(x=GOOD_X, y=np.array([0, 1, 2, 10])), "^y: expected labels 0-9"),
    (npz(x=GOOD_X, y=np.array([0, -1, 2, 3])), "^y: expected labels 0-9"),
    (npz(x=GOOD_X, y=GOOD_Y.astype(np.float64)), "^y: expected integer labels"),
    (npz(x=GOOD_X, y=GOOD_Y[:3]), "^y: expected 4 labels"),
    (npz(x=GOOD_X), "^file: expected members named x.npy, y.npy "),
    (npz(x=GOOD_X, y=GOOD_Y, extra=GOOD_Y), "^file: expected members named x.npy, y.npy "),
    (npz(x=GOOD_X, y=GOOD_Y, writers=np.array(["a", "b", "c", "d"], dtype=object)),
     r"^file: expected plain number and text arrays, not Python objects; received \['writers'\]"),
    (npz(x=GOOD_X, y=GOOD_Y, writers=np.array(["a", "b", "c", "../../x"])), "^writers: expected"),
    (npz(x=GOOD_X, y=GOOD_Y, writers=np.array([1, 2, 3, 4])), "^writers: expected text"),
], ids=["not-a-zip", "x-float", "x-28x27", "x-flat", "y-10", "y-negative", "y-float", "y-short", "no-y",
        "extra-key", "pickled-objects", "writer-path", "writer-numbers"])
def test_bad_npz_files_are_refused_with_a_clear_message(content, message):
    with pytest.raises(InvalidValue, match=message) as refused:
        read_npz(content)
    assert i18n.render(refused.value, "zh") != str(refused.value), "a teacher reads why in the page's language"


def test_a_damaged_array_in_a_good_zip_is_refused_as_unreadable():
    content = bytearray(npz(x=GOOD_X, y=GOOD_Y))
    start = content.index(b"\x93NUMPY")  # the first array's header: garble it
    content[start + 10:start + 40] = b"#" * 30
    with pytest.raises(InvalidValue, match="^file: expected readable numpy arrays"):
        read_npz(bytes(content))


def test_too_big_files_are_refused_before_they_are_unpacked():
    with pytest.raises(ValueError, match="^file: expected at most 1,000 bytes"):
        read_npz(npz(x=GOOD_X, y=GOOD_Y), max_bytes=1_000)
    with pytest.raises(ValueError, match="^x: expected at most 3 drawings"):
        read_npz(npz(x=GOOD_X, y=GOOD_Y), max_rows=3)
    bomb = io.BytesIO()
    np.savez_compressed(bomb, x=np.zeros((50_000, 28, 28), np.uint8), y=np.zeros(50_000, np.int64))
    assert len(bomb.getvalue()) < 1_000_000
    with pytest.raises(ValueError, match="^file: expected arrays of at most 1,000,000 bytes once unpacked"):
        read_npz(bomb.getvalue(), max_bytes=1_000_000)


# ---------------------------------------------------------------------------- files built by hand

PICKLE_LOADED = []  # a pickled member's payload records here if anything ever unpickles it


def _record_unpickling():
    PICKLE_LOADED.append(True)
    return "unpickled"


class Payload:
    def __reduce__(self):
        return (_record_unpickling, ())


def npy(array: np.ndarray, version=None) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version, allow_pickle=True)
    return buffer.getvalue()


def declaring(shape: tuple, descr: object = "|u1", body: bytes = b"", fortran_order: bool = False) -> bytes:
    """An .npy member whose header says `shape` and `descr`, followed by whatever `body` is."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"shape": shape, "descr": descr, "fortran_order": fortran_order})
    return buffer.getvalue() + body


def zipped(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # one file writes a member twice
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


GOOD_MEMBERS = [("x.npy", npy(GOOD_X)), ("y.npy", npy(GOOD_Y))]


def needing_a_password(content: bytes) -> bytes:
    """The zip with its members marked encrypted (zipfile itself cannot write encrypted members)."""
    patched = bytearray(content)
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local headers, central directory
        start = patched.find(signature)
        while start >= 0:
            patched[start + flag_at] |= 0x1
            start = patched.find(signature, start + 4)
    return bytes(patched)


def truncated(content: bytes, keep: int) -> bytes:
    return content[:keep]


BAD_FILES = {
    "missing-y": (zipped(GOOD_MEMBERS[:1]),
                  r"^file: expected members named x.npy, y.npy \(and optionally writers.npy\)"),
    "member-named-x": (zipped([("x", npy(GOOD_X)), ("y.npy", npy(GOOD_Y))]), r"received \['x', 'y.npy'\]$"),
    "member-in-a-folder": (zipped([("data/x.npy", npy(GOOD_X)), ("y.npy", npy(GOOD_Y))]),
                           "^file: expected members named"),
    "extra-pickled-member": (zipped([*GOOD_MEMBERS, ("evil.npy", npy(np.array([Payload()], dtype=object)))]),
                             r"^file: expected members named .*; received \['evil.npy', 'x.npy', 'y.npy'\]$"),
    "pickled-x": (zipped([("x.npy", npy(np.array([Payload()] * 4, dtype=object))), GOOD_MEMBERS[1]]),
                  r"^file: expected plain number and text arrays, not Python objects; received \['x'\]"),
    "same-member-twice": (zipped([*GOOD_MEMBERS, ("y.npy", npy(GOOD_Y[:1]))]),
                          "^file: expected each member once; received 'y.npy'"),
    "password": (needing_a_password(zipped(GOOD_MEMBERS)), r"^file: expected members without a password"),
    "huge-shape-tiny-body": (zipped([("x.npy", declaring((10**9, 28, 28), body=b"\0" * 784)), GOOD_MEMBERS[1]]),
                             "^x: expected at most 20,000 drawings; received 1000000000$"),
    "negative-count": (zipped([("x.npy", declaring((-4, 28, 28))), GOOD_MEMBERS[1]]),
                       r"^x: expected N×28×28 images; received \(-4, 28, 28\)$"),
    "fewer-images-than-declared": (zipped([("x.npy", declaring((4, 28, 28), body=GOOD_X[:3].tobytes())),
                                           GOOD_MEMBERS[1]]),
                                   "^x: expected 3,136 bytes of data, as its header declares; received 2352$"),
    "more-images-than-declared": (zipped([("x.npy", declaring((4, 28, 28), body=np.ones((5, 28, 28), np.uint8)
                                                              .tobytes())), GOOD_MEMBERS[1]]),
                                  "^x: expected 3,136 bytes of data, as its header declares; received 3920$"),
    "labels-shorter-than-declared": (zipped([GOOD_MEMBERS[0], ("y.npy", declaring((4,), "<i8", b"\0" * 8))]),
                                     "^y: expected 32 bytes of data"),
    "x-uint16": (zipped([("x.npy", npy(GOOD_X.astype(np.uint16))), GOOD_MEMBERS[1]]),
                 "^x: expected uint8 pixels; received 'uint16'$"),
    "x-records-of-images": (zipped([("x.npy", declaring((4,), [("pixels", "|u1", (28, 28))], GOOD_X.tobytes())),
                                    GOOD_MEMBERS[1]]),
                         r"^x: expected N×28×28 images; received \(4,\)$"),
    "y-bool": (zipped([GOOD_MEMBERS[0], ("y.npy", npy(np.array([True, False, True, False])))]),
               "^y: expected integer labels; received 'bool'$"),
    "writers-bytes": (zipped([*GOOD_MEMBERS, ("writers.npy", npy(np.array([b"a", b"b", b"c", b"d"])))]),
                      r"^writers: expected text ids; received '\|S1'$"),
    "x-fortran-order": (zipped([("x.npy", npy(np.asfortranarray(GOOD_X))), GOOD_MEMBERS[1]]),
                        "^x: expected an array stored row by row"),
    "y-more-than-x": (zipped([GOOD_MEMBERS[0], ("y.npy", npy(np.arange(5)))]),
                      r"^y: expected 4 labels; received \(5,\)$"),
    "y-two-dimensional": (zipped([GOOD_MEMBERS[0], ("y.npy", npy(GOOD_Y.reshape(2, 2)))]),
                          r"^y: expected 4 labels; received \(2, 2\)$"),
    "writers-fewer-than-x": (zipped([*GOOD_MEMBERS, ("writers.npy", npy(np.array(["a", "b"])))]),
                             r"^writers: expected 4 writer ids; received \(2,\)$"),
    "npy-version-3": (zipped([("x.npy", npy(GOOD_X, version=(3, 0))), GOOD_MEMBERS[1]]),
                      "^file: expected readable numpy arrays; received 'x.npy'$"),
    "member-not-npy": (zipped([("x.npy", b"PK not an array at all"), GOOD_MEMBERS[1]]),
                       "^file: expected readable numpy arrays; received 'x.npy'$"),
    "empty-file": (b"", "^file: expected an .npz file"),
    "not-a-zip": (b"%PDF-1.7 a document", "^file: expected an .npz file"),
    "truncated-zip": (truncated(npz(x=GOOD_X, y=GOOD_Y), 2000), "^file: expected an .npz file"),
    "truncated-by-one-byte": (truncated(npz(x=GOOD_X, y=GOOD_Y), len(npz(x=GOOD_X, y=GOOD_Y)) - 1),
                              "^file: expected an .npz file"),
}


@pytest.mark.parametrize(("content", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_each_bad_import_is_refused_in_words_before_any_data_is_loaded(content, message):
    with pytest.raises(InvalidValue, match=message) as refused:
        read_npz(content)
    shown = {lang: i18n.render(refused.value, lang) for lang in i18n.LANGUAGES}
    assert shown["zh"] != shown["en"], "a teacher reads why in the page's language"
    for text in shown.values():
        assert not any(raw in text for raw in ("Traceback", "Error", "Exception", "KeyError")), text
    assert not PICKLE_LOADED


def test_a_file_declaring_more_than_it_holds_allocates_nothing_large_whatever_the_row_limit():
    import tracemalloc

    lie = zipped([("x.npy", declaring((10**9, 28, 28), body=b"\0" * 784)), ("y.npy", declaring((10**9,), "<i8"))])
    tracemalloc.start()
    try:
        with pytest.raises(InvalidValue, match="^x: expected 784,000,000,000 bytes of data, as its header declares"):
            read_npz(lie, max_rows=10**10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # the 784 GB it declares were never asked for


def test_damaged_data_inside_a_compressed_member_is_refused_as_unreadable():
    content = bytearray(zipped(GOOD_MEMBERS, compression=zipfile.ZIP_DEFLATED))
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        member = archive.getinfo("x.npy")
    data_start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    content[data_start + 20:data_start + 40] = bytes(range(20))  # inside the deflated stream
    with pytest.raises(InvalidValue, match="^file: expected readable numpy arrays; received 'x.npy'$"):
        read_npz(bytes(content))


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_good_export_round_trips_through_an_import(compression):
    data = collection(rows=30, writers=4)
    for content in (to_npz_bytes(data), zipped([("x.npy", npy(data.x)), ("y.npy", npy(data.y.astype(np.uint8))),
                                               ("writers.npy", npy(data.writers))], compression)):
        back = read_npz(content)
        np.testing.assert_array_equal(back.x, data.x)
        np.testing.assert_array_equal(back.y, data.y)
        np.testing.assert_array_equal(back.writers, data.writers)
        assert back.x.dtype == np.uint8 and back.y.dtype == np.int64 and back.writers.dtype.kind == "U"


def test_an_empty_export_round_trips_too():
    empty = CollectionData(x=np.zeros((0, 28, 28), np.uint8), y=np.zeros(0, np.int64), writers=np.array([], str))
    assert len(read_npz(to_npz_bytes(empty))) == 0


def test_import_needs_the_teacher(tmp_path):
    store = open_store(tmp_path / "data")
    with pytest.raises(NotAuthorised):
        store.import_arrays(collection(), "7b", authorised=False)
    assert store.counts("7b").total == 0


def test_an_import_cut_short_by_a_full_disk_stores_none_of_it(tmp_path, monkeypatch):
    store = open_store(tmp_path / "data")
    save_one(store, collection="7b")
    store.close()
    fill_sqlite_disk(monkeypatch)
    with pytest.raises(StoreUnavailable, match="disk is full"):
        store.import_arrays(collection(rows=2_000), "7b", authorised=True)
    assert store.counts("7b").total == 1


def test_import_checks_arrays_handed_to_it_directly(tmp_path):
    store = open_store(tmp_path / "data")
    bad = CollectionData(x=GOOD_X, y=np.array([0, 1, 2, 12]), writers=np.array(["a"] * 4))
    with pytest.raises(ValueError, match="^y: expected labels 0-9"):
        store.import_arrays(bad, "7b", authorised=True)
    assert store.counts("7b").total == 0


def test_a_trained_model_is_tested_on_the_class_drawings(tmp_path):
    from kerasways.evaluate import summarise

    store = open_store(tmp_path / "data")
    for index in range(4):
        save_one(store, seed=index, label=index % 2, writer="s")
    digits = store.arrays()
    always_zero = np.tile(np.eye(10)[0], (len(digits), 1))
    assert summarise(always_zero, digits.y, digits.x).accuracy == 0.5
