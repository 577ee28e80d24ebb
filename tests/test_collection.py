"""A class's collection as a data set: honest splits, exports that reload, imports that refuse bad files."""

import csv
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from kerasways.collection import (
    MIN_DRAWINGS_FOR_TRAINING,
    MIN_WRITERS_FOR_TRAINING,
    as_test_set,
    read_npz,
    split_by_writer,
    to_npz_bytes,
    to_png_zip_bytes,
    why_not_ready_for_training,
    with_class_digits,
)
from kerasways.store import CollectionCounts, CollectionData, DrawingStore, NotAuthorised, StoreUnavailable
from tests.support import fill_disk, save_one


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
    assert "needs at least" in why_not_ready_for_training(counts(MIN_DRAWINGS_FOR_TRAINING - 1, 10))
    assert "needs at least" in why_not_ready_for_training(counts(500, MIN_WRITERS_FOR_TRAINING - 1))


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
    store = DrawingStore(tmp_path / "data")
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
    (npz(x=GOOD_X), "^file: expected arrays"),
    (npz(x=GOOD_X, y=GOOD_Y, extra=GOOD_Y), "^file: expected arrays"),
    (npz(x=GOOD_X, y=GOOD_Y, writers=np.array(["a", "b", "c", "d"], dtype=object)), "Python objects"),
    (npz(x=GOOD_X, y=GOOD_Y, writers=np.array(["a", "b", "c", "../../x"])), "^writers: expected"),
    (npz(x=GOOD_X, y=GOOD_Y, writers=np.array([1, 2, 3, 4])), "^writers: expected text"),
], ids=["not-a-zip", "x-float", "x-28x27", "x-flat", "y-10", "y-negative", "y-float", "y-short", "no-y",
        "extra-key", "pickled-objects", "writer-path", "writer-numbers"])
def test_bad_npz_files_are_refused_with_a_clear_message(content, message):
    with pytest.raises(ValueError, match=message):
        read_npz(content)


def test_too_big_files_are_refused_before_they_are_unpacked():
    with pytest.raises(ValueError, match="^file: expected at most 1,000 bytes"):
        read_npz(npz(x=GOOD_X, y=GOOD_Y), max_bytes=1_000)
    with pytest.raises(ValueError, match="^x: expected at most 3 drawings"):
        read_npz(npz(x=GOOD_X, y=GOOD_Y), max_rows=3)
    bomb = io.BytesIO()
    np.savez_compressed(bomb, x=np.zeros((50_000, 28, 28), np.uint8), y=np.zeros(50_000, np.int64))
    assert len(bomb.getvalue()) < 1_000_000
    with pytest.raises(ValueError, match="once unpacked"):
        read_npz(bomb.getvalue(), max_bytes=1_000_000)


def test_import_needs_the_teacher(tmp_path):
    store = DrawingStore(tmp_path / "data")
    with pytest.raises(NotAuthorised):
        store.import_arrays(collection(), "7b", authorised=False)
    assert store.counts("7b").total == 0


def test_an_import_cut_short_by_a_full_disk_stores_none_of_it(tmp_path, monkeypatch):
    store = DrawingStore(tmp_path / "data")
    save_one(store, collection="7b")
    store.close()
    fill_disk(monkeypatch)
    with pytest.raises(StoreUnavailable, match="disk is full"):
        store.import_arrays(collection(rows=2_000), "7b", authorised=True)
    assert store.counts("7b").total == 1


def test_import_checks_arrays_handed_to_it_directly(tmp_path):
    store = DrawingStore(tmp_path / "data")
    bad = CollectionData(x=GOOD_X, y=np.array([0, 1, 2, 12]), writers=np.array(["a"] * 4))
    with pytest.raises(ValueError, match="^y: expected labels 0-9"):
        store.import_arrays(bad, "7b", authorised=True)
    assert store.counts("7b").total == 0


def test_a_trained_model_is_tested_on_the_class_drawings(tmp_path):
    from kerasways.evaluate import summarise

    store = DrawingStore(tmp_path / "data")
    for index in range(4):
        save_one(store, seed=index, label=index % 2, writer="s")
    digits = as_test_set(store.arrays())
    always_zero = np.tile(np.eye(10)[0], (len(digits.y_test), 1))
    assert summarise(always_zero, digits.y_test, digits.x_test).accuracy == 0.5
