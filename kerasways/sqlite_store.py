"""The drawing store in SQLite: one file in the data folder, WAL, schema versioned, group commit.

The default backend of `store.DrawingStore` (see there for what a backend must provide), and the
only module that holds SQL, PRAGMAs and transaction modes for SQLite. The database is
`kerasways.sqlite3` in the data folder (`KERASWAYS_DATA_DIR`, default ~/.kerasways); several
server processes may open the same folder, and SQLite serialises their writes.

How this backend keeps the store's promises:
- durable saves: `synchronous = FULL` on every connection, so a committed drawing survives a power
  cut, not only a crash; saves waiting at the same moment share one commit (`_commit_in_groups`).
- the exact per-writer limit: the count and the insert run in one `BEGIN IMMEDIATE` transaction,
  which takes SQLite's write lock before counting, so no other session or process can insert
  between them.
- migrations: `MIGRATIONS` and `PRAGMA user_version`, applied in one `BEGIN IMMEDIATE` at start-up.
- the teacher's switches: closed collections and server-wide settings are rows of their own tables
  (`closed_collections`, `settings`), so they hold after a restart.
- usage for the quotas: the collection counted on its index, and the database's pages in use
  (`page_count` − `freelist_count`, times `page_size`): both cheap enough for every save, and pages
  freed by a delete count as room again.
- errors: classified by exception type and SQLite's result code (`sqlite_errorcode`), or errno.
"""

from __future__ import annotations

import errno
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from kerasways.i18n import N_
from kerasways.messages import Message
from kerasways.store import (
    MNIST_SIDE,
    CollectionData,
    DrawingStore,
    NewDrawing,
    SavedDrawing,
    StoreUnavailable,
    StoreUsage,
    WriterLimitReached,
    default_data_dir,
)

DATABASE_FILE = "kerasways.sqlite3"
# Each borrowed connection serves one call at a time; idle ones beyond this are closed.
POOL_SIZE = 4
BUSY_TIMEOUT_SECONDS = 10.0
# Saves waiting together are committed together (one fsync); more than this waits for the next commit.
MAX_SAVES_PER_COMMIT = 64
COUNT_WRITER_DRAWINGS = "SELECT COUNT(*) FROM drawings WHERE collection = ? AND writer = ?"
COUNT_COLLECTION_DRAWINGS = "SELECT COUNT(*) FROM drawings WHERE collection = ?"
INSERT_DRAWING = ("INSERT INTO drawings (collection, writer, label, image, canvas_png, saved_at)"
                  " VALUES (?, ?, ?, ?, ?, ?)")

# Schema history: index i holds the step from version i to i + 1 (PRAGMA user_version).
# Append new steps; never edit one that has shipped, databases on disk went through it.
MIGRATIONS: tuple[str, ...] = (
    # 1: the drawings.
    """
    CREATE TABLE drawings (
        id INTEGER PRIMARY KEY,
        collection TEXT NOT NULL,
        writer TEXT NOT NULL,
        label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
        image BLOB NOT NULL CHECK (length(image) = 784),
        canvas_png BLOB,
        saved_at TEXT NOT NULL
    );
    CREATE INDEX drawings_by_collection ON drawings (collection, label);
    """,
    # 2: a student's own drawings are listed on every Draw page run; find them without a scan.
    """
    CREATE INDEX drawings_by_writer ON drawings (collection, writer, id);
    """,
    # 3: the teacher's switches: collections closed to new drawings, and server-wide settings.
    """
    CREATE TABLE closed_collections (
        collection TEXT PRIMARY KEY,
        closed_at TEXT NOT NULL
    );
    CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

# SQLite's primary result codes (https://sqlite.org/rescode.html); extended codes keep them in the low byte.
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_FULL, SQLITE_CANTOPEN = 5, 6, 8, 13, 14
# Failures of the database or its disk, as opposed to a bug in a statement (which propagates).
DATABASE_FAILURES = (sqlite3.OperationalError, sqlite3.DatabaseError, OSError)


class _Refusal(Exception):
    """The database cannot be used for a reason found before SQLite or the disk failed (e.g. schema)."""

    def __init__(self, reason: Message) -> None:
        super().__init__(str(reason))
        self.reason = reason


def plain_reason(error: BaseException) -> Message:
    """Why the database failed, for a user, from the error's type and code (never its text).

    Args:
        error: a sqlite3 error, an OSError, or a refusal found while opening.

    Returns:
        A Message such as "the disk is full".
    """
    if isinstance(error, _Refusal):
        return error.reason
    if isinstance(error, sqlite3.Error):
        code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
        if code == SQLITE_FULL:
            return Message(N_("the disk is full"))
        if code == SQLITE_READONLY:
            return Message(N_("the data folder is read-only"))
        if code in (SQLITE_BUSY, SQLITE_LOCKED):
            return Message(N_("another program kept the database locked"))
        if code == SQLITE_CANTOPEN:
            return Message(N_("the data folder cannot be created or opened ({error})"),
                           {"error": getattr(error, "sqlite_errorname", "SQLITE_CANTOPEN")})
        return Message(N_("the database failed ({error})"),
                       {"error": getattr(error, "sqlite_errorname", None) or type(error).__name__})
    if isinstance(error, TimeoutError):  # an OSError too, raised by the group commit's wait
        return Message(N_("saving took too long"))
    if isinstance(error, OSError):
        if error.errno == errno.ENOSPC:
            return Message(N_("the disk is full"))
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return Message(N_("the data folder is read-only"))
        return Message(N_("the data folder cannot be created or opened ({error})"),
                       {"error": error.strerror or type(error).__name__})
    return Message(N_("the database failed ({error})"), {"error": type(error).__name__})


@dataclass(eq=False)
class _PendingSave:
    """A drawing's row waiting for the commit that acknowledges it."""

    row: tuple
    limit: int
    done: bool = False
    drawing_id: int = 0
    error: BaseException | None = None


def _row(drawing: NewDrawing) -> tuple:
    return (drawing.collection, drawing.writer, drawing.label, drawing.image.tobytes(), drawing.canvas_png,
            drawing.saved_at)


class SQLiteDrawingStore(DrawingStore):
    """Labelled drawings of every collection, in one SQLite file (WAL, schema versioned).

    Thread-safe: each call borrows a connection from a small pool, so the server's many session
    threads can share one store (cache it with `st.cache_resource`).

    Args:
        data_dir: the folder holding the database; default `default_data_dir()`. Created on
            first use; nothing happens on disk until then, so constructing never fails.
        max_per_writer, max_per_collection, max_data_bytes: the limits (see `DrawingStore`).
    """

    def __init__(self, data_dir: str | os.PathLike | None = None, **options) -> None:
        super().__init__(**options)
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.path = self.data_dir / DATABASE_FILE
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue(maxsize=POOL_SIZE)
        # Group commit (see `_commit_in_groups`): saves waiting for a commit, and whether one runs.
        self._saves = threading.Condition()
        self._waiting_saves: list[_PendingSave] = []
        self._committing = False

    @property
    def location(self) -> str:
        return str(self.data_dir)

    # -- connections and transactions -------------------------------------------------------

    def _open_connection(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT), so a
        # writer takes the write lock up front and waits its turn instead of failing on upgrade.
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                     check_same_thread=False)
        # FULL: a drawing acknowledged to a student survives a power cut, not only a crash; the
        # fsync per commit is shared by the saves committed together (`_commit_in_groups`).
        connection.execute("PRAGMA synchronous = FULL")
        return connection

    def _unavailable(self, error: BaseException) -> StoreUnavailable:
        return StoreUnavailable(plain_reason(error), self.location)

    def _open(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            connection = self._open_connection()
            try:
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode != "wal":
                    raise _Refusal(Message(N_("the database cannot use write-ahead logging (journal mode {mode})"),
                                           {"mode": mode}))
                self._migrate(connection)
            finally:
                connection.close()
        except sqlite3.IntegrityError:
            raise
        except (*DATABASE_FAILURES, _Refusal) as error:
            raise self._unavailable(error) from error

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise _Refusal(Message(N_("the database has schema version {found}, newer than this app's "
                                          "{supported}"), {"found": version, "supported": SCHEMA_VERSION}))
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {number + 1:d}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = self._pool.get_nowait()
        except queue.Empty:
            try:
                connection = self._open_connection()
            except (sqlite3.Error, OSError) as error:
                raise self._unavailable(error) from error
        broken = False
        try:
            yield connection
        except sqlite3.IntegrityError:
            raise
        except DATABASE_FAILURES as error:
            # A connection that met a disk error may hold a half-read state: never reuse it.
            broken = True
            raise self._unavailable(error) from error
        finally:
            if broken or connection.in_transaction:
                connection.close()
            else:
                try:
                    self._pool.put_nowait(connection)
                except queue.Full:
                    connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def _schema_version(self) -> int:
        with self._connection() as connection:
            return connection.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    # -- saving -----------------------------------------------------------------------------

    def _insert(self, drawing: NewDrawing, limit: int) -> int:
        return self._commit_in_groups(_PendingSave(_row(drawing), limit))

    def _commit_in_groups(self, save: _PendingSave) -> int:
        """Commit `save`, together with any other saves waiting at the same moment; return its id.

        When many sessions saved at once, SQLite's busy handler let some writers wait far longer
        than others (the write lock went to whoever retried first) and every save paid its own
        fsync. Here the first waiting save's thread commits every save waiting (up to
        MAX_SAVES_PER_COMMIT) in one transaction, one fsync for the group, while the others wait
        their turn in order; a save alone commits at once on its own thread. A drawing is
        acknowledged only after the COMMIT that holds it (bench/collect.py measures the gain).
        """
        deadline = time.monotonic() + 3 * BUSY_TIMEOUT_SECONDS
        with self._saves:
            self._waiting_saves.append(save)
            while not save.done:
                if self._committing:
                    if not self._saves.wait(timeout=deadline - time.monotonic()):
                        if save in self._waiting_saves:
                            self._waiting_saves.remove(save)
                        raise self._unavailable(TimeoutError())
                    continue
                self._committing = True
                group = self._waiting_saves[:MAX_SAVES_PER_COMMIT]
                del self._waiting_saves[:MAX_SAVES_PER_COMMIT]
                self._saves.release()
                try:
                    self._commit_group(group)
                finally:
                    self._saves.acquire()
                    self._committing = False
                    self._saves.notify_all()
        if save.error is not None:
            raise save.error
        return save.drawing_id

    def _commit_group(self, group: list[_PendingSave]) -> None:
        try:
            saved_so_far: dict[tuple[str, str], int] = {}
            with self._transaction() as connection:
                outcomes = [self._insert_unless_over_limit(connection, pending, saved_so_far) for pending in group]
        except Exception as error:  # every save of the group learns why; none is acknowledged
            for pending in group:
                # One error each: the waiting threads raise them at once, and a raise writes its traceback.
                pending.error = (StoreUnavailable(error.reason, error.where) if isinstance(error, StoreUnavailable)
                                 else error)
                pending.done = True
        else:
            for pending, outcome in zip(group, outcomes):
                if isinstance(outcome, WriterLimitReached):
                    pending.error = outcome
                else:
                    pending.drawing_id = outcome
                pending.done = True

    @staticmethod
    def _insert_unless_over_limit(connection: sqlite3.Connection, pending: _PendingSave,
                                  saved_so_far: dict[tuple[str, str], int]) -> int | WriterLimitReached:
        """Insert one drawing's row and return its id, or the refusal when its writer is at the limit.

        Runs inside the group's BEGIN IMMEDIATE, so the count cannot change under it. `saved_so_far`
        carries each (collection, writer)'s drawings through the transaction, so saves of one writer
        committed together are counted together.
        """
        owner = pending.row[:2]
        if owner not in saved_so_far:
            saved_so_far[owner] = connection.execute(COUNT_WRITER_DRAWINGS, owner).fetchone()[0]
        if saved_so_far[owner] >= pending.limit:
            return WriterLimitReached(pending.limit, saved_so_far[owner] + 1)
        saved_so_far[owner] += 1
        return int(connection.execute(INSERT_DRAWING, pending.row).lastrowid)

    def _insert_all(self, drawings: list[NewDrawing]) -> None:
        with self._transaction() as connection:
            connection.executemany(INSERT_DRAWING, (_row(drawing) for drawing in drawings))

    # -- reading and deleting ---------------------------------------------------------------

    def _select(self, collection: str, *, writer: str | None = None, label: int | None = None,
                limit: int | None = None) -> list[SavedDrawing]:
        # Conditions are this method's literals; user values only travel as parameters.
        conditions, parameters = ["collection = ?"], [collection]
        if writer is not None:
            conditions.append("writer = ?")
            parameters.append(writer)
        if label is not None:
            conditions.append("label = ?")
            parameters.append(label)
        query = (f"SELECT id, label, image, writer, saved_at FROM drawings WHERE {' AND '.join(conditions)}"  # noqa: S608
                 " ORDER BY id DESC")
        if limit is not None:
            query += " LIMIT ?"
            parameters.append(limit)
        with self._connection() as connection:
            rows = connection.execute(query, parameters).fetchall()
        return [SavedDrawing(id=row[0], label=row[1], writer=row[3], saved_at=row[4],
                             image=np.frombuffer(row[2], dtype=np.uint8).reshape(MNIST_SIDE, MNIST_SIDE))
                for row in rows]

    def _usage(self, collection: str) -> StoreUsage:
        with self._connection() as connection:
            drawings = connection.execute(COUNT_COLLECTION_DRAWINGS, (collection,)).fetchone()[0]
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            free = connection.execute("PRAGMA freelist_count").fetchone()[0]
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        return StoreUsage(collection_drawings=drawings, stored_bytes=(pages - free) * page_size)

    def _canvas_png(self, drawing_id: int, collection: str) -> bytes | None:
        with self._connection() as connection:
            row = connection.execute("SELECT canvas_png FROM drawings WHERE id = ? AND collection = ?",
                                     (drawing_id, collection)).fetchone()
        return None if row is None else row[0]

    def _delete(self, drawing_id: int, collection: str, writer: str) -> bool:
        with self._transaction() as connection:
            cursor = connection.execute("DELETE FROM drawings WHERE id = ? AND collection = ? AND writer = ?",
                                        (drawing_id, collection, writer))
            return cursor.rowcount == 1

    def _delete_collection(self, collection: str) -> int:
        with self._transaction() as connection:
            return connection.execute("DELETE FROM drawings WHERE collection = ?", (collection,)).rowcount

    def _collections(self) -> list[str]:
        with self._connection() as connection:
            return [row[0] for row in connection.execute("SELECT DISTINCT collection FROM drawings ORDER BY 1")]

    def _counts(self, collection: str) -> tuple[dict[int, int], dict[str, int]]:
        with self._connection() as connection:
            by_label = dict(connection.execute(
                "SELECT label, COUNT(*) FROM drawings WHERE collection = ? GROUP BY label", (collection,)))
            by_writer = dict(connection.execute(
                "SELECT writer, COUNT(*) AS n FROM drawings WHERE collection = ? GROUP BY writer"
                " ORDER BY n DESC, writer", (collection,)))
        return by_label, by_writer

    def _arrays(self, collection: str) -> CollectionData:
        with self._connection() as connection:
            rows = connection.execute("SELECT image, label, writer FROM drawings WHERE collection = ? ORDER BY id",
                                      (collection,)).fetchall()
        x = np.frombuffer(b"".join(row[0] for row in rows), dtype=np.uint8).reshape(-1, MNIST_SIDE, MNIST_SIDE)
        return CollectionData(x=x.copy(), y=np.array([row[1] for row in rows], dtype=np.int64),
                              writers=np.array([row[2] for row in rows], dtype=str))

    # -- the teacher's switches --------------------------------------------------------------

    def _closed(self, collection: str) -> bool:
        with self._connection() as connection:
            return connection.execute("SELECT 1 FROM closed_collections WHERE collection = ?",
                                      (collection,)).fetchone() is not None

    def _set_closed(self, collection: str, closed: bool) -> None:
        with self._transaction() as connection:
            if closed:
                connection.execute("INSERT OR IGNORE INTO closed_collections (collection, closed_at) VALUES (?, ?)",
                                   (collection, datetime.now(timezone.utc).isoformat(timespec="seconds")))
            else:
                connection.execute("DELETE FROM closed_collections WHERE collection = ?", (collection,))

    def _setting(self, name: str) -> str | None:
        with self._connection() as connection:
            row = connection.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def _set_setting(self, name: str, value: str) -> None:
        with self._transaction() as connection:
            connection.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value))
