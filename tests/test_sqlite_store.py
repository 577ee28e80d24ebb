"""The SQLite backend: its file, its schema history, and what a class meets when the disk fails or the
server is killed. The store's promises on every backend are tested in tests/test_store.py.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from kerasways import i18n
from kerasways.sqlite_store import DATABASE_FILE, SCHEMA_VERSION, SQLiteDrawingStore, plain_reason
from kerasways.store import CollectionClosed, StoreUnavailable
from support.stored_drawings import drawing, fill_sqlite_disk, save_one

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def store(tmp_path) -> SQLiteDrawingStore:
    store = SQLiteDrawingStore(tmp_path / "data")
    yield store
    store.close()


def test_the_database_file_never_holds_a_session_id(store):
    save_one(store, writer="secret-session-id-123")
    assert b"secret-session-id-123" not in (store.data_dir / DATABASE_FILE).read_bytes()


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
    store = SQLiteDrawingStore(tmp_path / "data")

    assert store.schema_version() == SCHEMA_VERSION > 1
    assert [(d.id, d.label, d.writer) for d in store.gallery()] == [(1, 5, "old-writer")]
    with sqlite3.connect(store.path) as raw:
        indexes = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "drawings_by_writer" in indexes
    save_one(store)
    assert store.counts().total == 2


# The same database as the previous release left it (schema version 2: the writer index).
VERSION_2 = VERSION_1 + """
CREATE INDEX drawings_by_writer ON drawings (collection, writer, id);
PRAGMA user_version = 2;
"""


def test_a_version_2_database_gains_the_teachers_switches_and_keeps_its_drawings(tmp_path):
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / DATABASE_FILE) as raw:
        raw.executescript(VERSION_2)
    store = SQLiteDrawingStore(tmp_path / "data")

    assert not store.is_closed() and not store.switcher_hidden()  # nothing closed or hidden by the migration
    assert store.schema_version() == SCHEMA_VERSION >= 3
    assert [(d.id, d.label, d.writer) for d in store.gallery()] == [(1, 5, "old-writer")]
    store.set_collection_closed("class", True, authorised=True)
    store.hide_switcher(True, authorised=True)
    with pytest.raises(CollectionClosed):
        save_one(store)
    store.close()
    reopened = SQLiteDrawingStore(tmp_path / "data")
    assert reopened.is_closed() and reopened.switcher_hidden() and reopened.counts().total == 1


def test_a_database_from_a_newer_app_is_left_alone(tmp_path):
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / DATABASE_FILE) as raw:
        raw.executescript(VERSION_1 + f"PRAGMA user_version = {SCHEMA_VERSION + 1};")
    store = SQLiteDrawingStore(tmp_path / "data")
    with pytest.raises(StoreUnavailable, match="newer") as refused:
        save_one(store)
    assert str(SCHEMA_VERSION + 1) in i18n.render(refused.value, "zh")
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert raw.execute("SELECT COUNT(*) FROM drawings").fetchone()[0] == 1


KILLED_WRITER = """
import sys
from support.stored_drawings import save_one
from kerasways.sqlite_store import SQLiteDrawingStore
store = SQLiteDrawingStore(sys.argv[1])
for index in range(100_000):
    drawing_id = save_one(store, seed=index % 20, label=index % 10, writer="killed")
    print(drawing_id, flush=True)
"""


@pytest.mark.slow  # starts a writer process
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

    store = SQLiteDrawingStore(data_dir)
    stored = {d.id for d in store.gallery(limit=100_000)}
    assert set(acknowledged) <= stored
    assert len(stored) - len(acknowledged) <= 1, "at most the save that was cut off may be there, unacknowledged"
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    save_one(store)  # and the class carries on saving


def test_an_unusable_data_folder_is_reported_not_crashed(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = SQLiteDrawingStore(blocker / "data")  # mkdir fails: a file stands where a folder should be

    assert "cannot be used" in str(store.unavailable_reason())
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
            save_one(SQLiteDrawingStore(folder))
    finally:
        folder.chmod(0o700)
    assert not (folder / DATABASE_FILE).exists() or SQLiteDrawingStore(folder).counts().total == 0


def test_a_full_disk_raises_store_unavailable_and_keeps_what_was_saved(store, monkeypatch):
    kept = save_one(store)
    store.close()
    fill_sqlite_disk(monkeypatch)
    noise = np.random.default_rng(0).integers(0, 256, (280, 280, 4), dtype=np.uint8)  # a PNG of ~300 kB
    with pytest.raises(StoreUnavailable, match="disk is full") as refused:
        store.save(canvas=noise, image=drawing(0)[1], label=1, writer="s")
    assert i18n.translator("zh")("the disk is full") in i18n.render(refused.value, "zh")
    assert [d.id for d in store.gallery()] == [kept]


def test_a_read_only_database_refuses_saves_but_still_lists(store, monkeypatch):
    kept = save_one(store)
    store.close()

    def read_only(self):
        return sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, isolation_level=None,
                               check_same_thread=False)

    monkeypatch.setattr(SQLiteDrawingStore, "_open_connection", read_only)
    with pytest.raises(StoreUnavailable, match="read-only"):
        save_one(store)
    assert [d.id for d in store.list_mine(writer="session-a")] == [kept]


def test_saves_committed_together_fail_together_on_a_full_disk(store, monkeypatch):
    save_one(store)
    store.close()
    fill_sqlite_disk(monkeypatch)
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


def sqlite_error(text: str, code: int, name: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(text)
    error.sqlite_errorcode, error.sqlite_errorname = code, name
    return error


@pytest.mark.parametrize(("error", "reason"), [
    (sqlite_error("database or disk is full", 13, "SQLITE_FULL"), "the disk is full"),
    (sqlite_error("attempt to write a readonly database", 8, "SQLITE_READONLY"), "the data folder is read-only"),
    (sqlite_error("attempt to write a readonly database", 8 | (6 << 8), "SQLITE_READONLY_DIRECTORY"),
     "the data folder is read-only"),
    (sqlite_error("database is locked", 5, "SQLITE_BUSY"), "another program kept the database locked"),
    # The text says "full"; the code says read-only: the code decides.
    (sqlite_error("the full moon made the disk read-only", 8, "SQLITE_READONLY"), "the data folder is read-only"),
    (sqlite_error("a read-only file is full", 13, "SQLITE_FULL"), "the disk is full"),
    (sqlite_error("disk I/O error", 10 | (3 << 8), "SQLITE_IOERR_WRITE"), "the database failed (SQLITE_IOERR_WRITE)"),
    (OSError(28, "No space left on device"), "the disk is full"),
    (OSError(30, "Read-only file system"), "the data folder is read-only"),
    (NotADirectoryError(20, "Not a directory"), "the data folder cannot be created or opened (Not a directory)"),
])
def test_a_database_failure_is_named_by_its_code_not_its_text(error, reason):
    assert str(plain_reason(error)) == reason
