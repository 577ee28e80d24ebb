"""The drawing store: what a class saves is there after crashes, other writers and bad input."""

import io
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kerasways.drawing import to_mnist
from kerasways.store import (
    DATABASE_FILE,
    DEFAULT_COLLECTION,
    SCHEMA_VERSION,
    DrawingStore,
    NotAuthorised,
    StoreUnavailable,
    WriterLimitReached,
    collection_from_query,
    teacher_controls_available,
    teacher_key_matches,
    validate_collection,
    writer_id,
)
from tests.support import drawing, fill_disk, save_one, stroke_canvas

ROOT = Path(__file__).resolve().parent.parent


def save_many(data_dir: str, writer: str, count: int) -> list[int]:
    """Run in a spawned process: save `count` drawings and return their ids."""
    store = DrawingStore(data_dir)
    return [save_one(store, seed=index, label=index % 10, writer=writer) for index in range(count)]


@pytest.fixture()
def store(tmp_path) -> DrawingStore:
    store = DrawingStore(tmp_path / "data")
    yield store
    store.close()


def test_saved_drawing_comes_back_as_drawn(store):
    canvas, image = drawing(3)
    drawing_id = store.save(canvas=canvas, image=image, label=4, writer="session-a")

    [saved] = store.list_mine(writer="session-a")
    assert (saved.id, saved.label) == (drawing_id, 4)
    np.testing.assert_array_equal(saved.image, image)
    assert saved.writer == writer_id("session-a") and "session-a" not in saved.writer
    original = np.asarray(Image.open(io.BytesIO(store.canvas_png(drawing_id))))
    np.testing.assert_array_equal(original, canvas)
    assert store.counts().by_label[4] == 1 and store.counts().total == 1
    assert [d.id for d in store.gallery()] == [drawing_id]
    assert store.list_mine(writer="session-b") == [], "another student does not see my drawings as theirs"


def test_the_float_image_to_mnist_returns_is_stored_as_uint8(store):
    canvas = stroke_canvas(5)
    processed = to_mnist(canvas)
    store.save(canvas=canvas, image=processed.image, label=1, writer="s")
    np.testing.assert_array_equal(store.list_mine(writer="s")[0].image, processed.centred)


def test_the_database_never_holds_a_session_id(store):
    save_one(store, writer="secret-session-id-123")
    assert b"secret-session-id-123" not in (store.data_dir / DATABASE_FILE).read_bytes()
    assert "secret-session-id-123" not in set(store.arrays().writers)


def test_students_delete_only_their_own_drawings(store):
    mine = save_one(store, writer="me")
    theirs = save_one(store, writer="them")

    assert store.delete_mine(theirs, writer="me") is False
    assert store.delete_mine(mine, writer="me") is True
    assert store.list_mine(writer="me") == []
    assert [d.id for d in store.list_mine(writer="them")] == [theirs]


def test_collections_are_kept_apart(store):
    save_one(store, collection="7b", label=2)
    save_one(store, label=3)
    assert store.counts("7b").by_label[2] == 1 and store.counts("7b").total == 1
    assert store.counts(DEFAULT_COLLECTION).total == 1
    assert store.collections() == sorted(["7b", DEFAULT_COLLECTION])
    assert store.list_mine(writer="session-a", collection="7b")[0].label == 2


def test_counts_per_digit_and_writer(store):
    for index in range(5):
        save_one(store, seed=index, label=index % 2, writer="a" if index < 3 else "b")
    counts = store.counts()
    assert counts.total == 5
    assert counts.by_label == {0: 3, 1: 2, **{digit: 0 for digit in range(2, 10)}}
    assert list(counts.by_writer.values()) == [3, 2]
    assert [d.label for d in store.gallery(label=1)] == [1, 1]
    assert len(store.gallery(limit=2)) == 2


@pytest.mark.slow  # starts writer processes
def test_concurrent_writer_processes_lose_nothing(tmp_path):
    data_dir = str(tmp_path / "data")
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        acknowledged = pool.starmap(save_many, [(data_dir, f"writer-{n}", 15) for n in range(4)])
    ids = [i for part in acknowledged for i in part]
    assert len(set(ids)) == 60
    stored = DrawingStore(data_dir)
    assert sorted(d.id for d in stored.gallery(limit=1000)) == sorted(ids)
    assert list(stored.counts().by_writer.values()) == [15, 15, 15, 15]


def test_concurrent_session_threads_lose_nothing(store):
    acknowledged: list[int] = []

    def session(number: int) -> None:
        for index in range(10):
            acknowledged.append(save_one(store, seed=index, writer=f"thread-{number}"))

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(acknowledged) == 80
    assert sorted(d.id for d in store.gallery(limit=1000)) == sorted(acknowledged)


def test_one_browser_saves_at_most_the_limit_in_a_collection_even_all_at_once(store, monkeypatch):
    monkeypatch.setattr("kerasways.store.MAX_DRAWINGS_PER_WRITER", 5)
    outcomes: list[object] = []

    def click(index: int) -> None:  # eight clicks from one browser arriving together
        try:
            outcomes.append(save_one(store, seed=index, writer="eager"))
        except WriterLimitReached as error:
            outcomes.append(error)

    threads = [threading.Thread(target=click, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [outcome for outcome in outcomes if isinstance(outcome, WriterLimitReached)]
    assert len(refused) == 3 and all(str(error).startswith("writer: expected at most 5 drawings") for error in refused)
    assert len(store.list_mine(writer="eager")) == 5
    save_one(store, writer="another")  # other browsers and other collections are not affected
    save_one(store, writer="eager", collection="7b")
    assert store.counts().total == 6


def test_new_database_has_the_current_schema_version(store):
    save_one(store)
    assert store.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# A database as the first release wrote it (schema version 1), with one drawing in it.
VERSION_1 = """
CREATE TABLE drawings (
    id INTEGER PRIMARY KEY, collection TEXT NOT NULL, writer TEXT NOT NULL,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    image BLOB NOT NULL CHECK (length(image) = 784), canvas_png BLOB, saved_at TEXT NOT NULL);
CREATE INDEX drawings_by_collection ON drawings (collection, label);
INSERT INTO drawings VALUES (1, 'class', 'old-writer', 5, zeroblob(784), NULL, '2026-01-01T00:00:00+00:00');
PRAGMA user_version = 1;
"""


def test_an_older_database_is_migrated_and_keeps_its_drawings(tmp_path):
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / DATABASE_FILE) as raw:
        raw.executescript(VERSION_1)
    store = DrawingStore(tmp_path / "data")

    assert store.schema_version() == SCHEMA_VERSION > 1
    assert [(d.id, d.label, d.writer) for d in store.gallery()] == [(1, 5, "old-writer")]
    with sqlite3.connect(store.path) as raw:
        indexes = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "drawings_by_writer" in indexes
    save_one(store)
    assert store.counts().total == 2


def test_a_database_from_a_newer_app_is_left_alone(tmp_path):
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / DATABASE_FILE) as raw:
        raw.executescript(VERSION_1 + f"PRAGMA user_version = {SCHEMA_VERSION + 1};")
    store = DrawingStore(tmp_path / "data")
    with pytest.raises(StoreUnavailable, match="newer"):
        save_one(store)
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert raw.execute("SELECT COUNT(*) FROM drawings").fetchone()[0] == 1


KILLED_WRITER = """
import sys
from tests.support import save_one
from kerasways.store import DrawingStore
store = DrawingStore(sys.argv[1])
for index in range(100_000):
    drawing_id = save_one(store, seed=index % 20, label=index % 10, writer="killed")
    print(drawing_id, flush=True)
"""


@pytest.mark.slow  # starts writer processes
def test_kill_9_while_saving_loses_no_acknowledged_drawing(tmp_path):
    data_dir = tmp_path / "data"
    process = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(data_dir)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    acknowledged = []
    try:
        for line in process.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) == 150:
                # No pause: the writer is in its next save (PNG, insert or commit) when killed.
                os.kill(process.pid, signal.SIGKILL)
                break
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    acknowledged += [int(line) for line in process.stdout.read().split()]
    process.stdout.close()

    store = DrawingStore(data_dir)
    stored = {d.id for d in store.gallery(limit=100_000)}
    assert set(acknowledged) <= stored
    assert len(stored) - len(acknowledged) <= 1, "at most the save that was cut off may be there, unacknowledged"
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    save_one(store)  # and the class carries on saving


@pytest.mark.parametrize(("change", "field"), [
    ({"image": None}, "image"),
    ({"image": np.zeros((28, 28), np.uint8)}, "image"),
    ({"image": np.ones((28, 27), np.uint8)}, "image"),
    ({"image": np.ones((28, 28), np.float64)}, "image"),
    ({"image": np.full((28, 28), 2.0, np.float32)}, "image"),
    ({"label": 10}, "label"),
    ({"label": -1}, "label"),
    ({"label": 7.0}, "label"),
    ({"label": "7"}, "label"),
    ({"label": True}, "label"),
    ({"label": None}, "label"),
    ({"collection": "../x"}, "collection"),
    ({"canvas": None}, "canvas"),
    ({"canvas": np.zeros((280, 280, 3), np.uint8)}, "canvas"),
    ({"canvas": np.zeros((280, 280, 4), np.float32)}, "canvas"),
    ({"canvas": np.zeros((5, 5, 4), np.uint8)}, "canvas"),
    ({"writer": ""}, "writer"),
    ({"writer": None}, "writer"),
])
def test_bad_input_is_refused_by_name_and_stores_nothing(store, change, field):
    canvas, image = drawing(1)
    arguments = {"canvas": canvas, "image": image, "label": 3, "writer": "s", **change}
    with pytest.raises(ValueError, match=rf"^{field}: expected .*; received "):
        store.save(**arguments)
    assert store.counts().total == 0


def test_an_unusable_data_folder_is_reported_not_crashed(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = DrawingStore(blocker / "data")  # mkdir fails: a file stands where a folder should be

    assert "cannot be used" in store.unavailable_reason()
    with pytest.raises(StoreUnavailable, match="cannot be used"):
        save_one(store)
    with pytest.raises(StoreUnavailable):
        store.list_mine(writer="s")
    blocker.unlink()  # the teacher fixes the folder: the same store works without a restart
    assert store.unavailable_reason() is None
    save_one(store)
    assert store.counts().total == 1


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes through chmod")
def test_a_read_only_data_folder_is_reported(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreUnavailable):
            save_one(DrawingStore(folder))
    finally:
        folder.chmod(0o700)
    assert not (folder / DATABASE_FILE).exists() or DrawingStore(folder).counts().total == 0


def test_a_full_disk_raises_store_unavailable_and_keeps_what_was_saved(store, monkeypatch):
    kept = save_one(store)
    store.close()
    fill_disk(monkeypatch)
    noise = np.random.default_rng(0).integers(0, 256, (280, 280, 4), dtype=np.uint8)  # a PNG of ~300 kB
    with pytest.raises(StoreUnavailable, match="disk is full"):
        store.save(canvas=noise, image=drawing(0)[1], label=1, writer="s")
    assert [d.id for d in store.gallery()] == [kept]


def test_a_read_only_database_refuses_saves_but_still_lists(store, monkeypatch):
    kept = save_one(store)
    store.close()

    def read_only(self):
        return sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, isolation_level=None,
                               check_same_thread=False)

    monkeypatch.setattr(DrawingStore, "_open_connection", read_only)
    with pytest.raises(StoreUnavailable, match="read-only"):
        save_one(store)
    assert [d.id for d in store.list_mine(writer="session-a")] == [kept]


def test_saves_committed_together_fail_together_on_a_full_disk(store, monkeypatch):
    save_one(store)
    store.close()
    fill_disk(monkeypatch)
    noise = np.random.default_rng(0).integers(0, 256, (280, 280, 4), dtype=np.uint8)
    outcomes = []

    def session(number: int) -> None:
        try:
            outcomes.append(store.save(canvas=noise, image=drawing(0)[1], label=1, writer=f"s{number}"))
        except StoreUnavailable as error:
            outcomes.append(error)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 8 and all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
    assert store.counts().total == 1


@pytest.mark.parametrize("name", ["-", "-x", "../x", "a/b", "..", ".", "a" * 33, "", " ", "ünï", "٣", "a b", "a_b",
                                  "a\x00b", "%2e%2e", "C:\\x", "/etc", None, 7])
def test_collection_names_are_short_slugs_only(name):
    with pytest.raises(ValueError, match="^collection: expected"):
        validate_collection(name)


def test_collection_names_are_case_folded_and_read_from_links():
    assert validate_collection("7B") == "7b"
    assert validate_collection("year-7-b") == "year-7-b"
    assert collection_from_query({"collection": "7b", "way": "functional"}) == "7b"
    assert collection_from_query({}) == DEFAULT_COLLECTION
    with pytest.raises(ValueError, match="^collection"):
        collection_from_query({"collection": "../../etc"})


def test_a_hostile_collection_name_never_reaches_the_file_system(store):
    with pytest.raises(ValueError):
        save_one(store, collection="../../outside")
    save_one(store, collection="x")
    assert sorted(p.name for p in store.data_dir.iterdir() if not p.name.startswith(DATABASE_FILE)) == []


def test_teacher_key(monkeypatch):
    monkeypatch.delenv("KERASWAYS_TEACHER_KEY", raising=False)
    assert not teacher_controls_available()
    assert not teacher_key_matches("") and not teacher_key_matches(None) and not teacher_key_matches("anything")
    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", "s3cret")
    assert teacher_controls_available()
    assert teacher_key_matches("s3cret")
    assert not teacher_key_matches("s3cre") and not teacher_key_matches("S3CRET") and not teacher_key_matches(None)
    assert not teacher_key_matches(12345)


def test_deleting_a_collection_needs_the_teacher_and_spares_the_others(store):
    save_one(store, collection="7b")
    save_one(store, collection="7c")
    with pytest.raises(NotAuthorised):
        store.delete_collection("7b", authorised=False)
    assert store.counts("7b").total == 1
    assert store.delete_collection("7b", authorised=True) == 1
    assert store.counts("7b").total == 0 and store.counts("7c").total == 1
