"""The class's labelled drawings, stored in SQLite in the server's data folder.

A student who says "it was a 7" after a prediction saves the drawing with that label into a
collection (the class's data set). This module is the only place that touches the database, behind
one small class, `DrawingStore`, so a server-grade database can replace SQLite without touching pages.

What is kept per drawing: its label, the 28×28 uint8 image the network sees, the original canvas as
a PNG, when it was saved, the collection, and an anonymous writer id: a hash of the browser session
id, never a name, so nothing in the database (or an export) identifies a student or their session.

The database lives in one file in the data folder (`KERASWAYS_DATA_DIR`, default ~/.kerasways). Only
parameters reach SQL and no path is ever built from user text: a collection is a column value.
When the folder cannot be written (read-only, full disk, missing) every call raises
`StoreUnavailable` with a plain message, and opening the store never fails, so drawing and
predicting keep working without it.

Example:
    store = DrawingStore()
    drawing_id = store.save(canvas=rgba, image=processed.centred, label=7, writer=session_id)
    store.list_mine(writer=session_id)
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from kerasways.i18n import N_

DATA_DIR_ENV = "KERASWAYS_DATA_DIR"
TEACHER_KEY_ENV = "KERASWAYS_TEACHER_KEY"
DATABASE_FILE = "kerasways.sqlite3"
DEFAULT_COLLECTION = "class"
MNIST_SIDE = 28
COLLECTION_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
# Writers are opaque ids: session hashes, or ids carried by an imported file.
WRITER_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
CANVAS_SIDE_RANGE = (MNIST_SIDE, 2048)
# Each borrowed connection serves one call at a time; idle ones beyond this are closed.
POOL_SIZE = 4
BUSY_TIMEOUT_SECONDS = 10.0
# Saves waiting together are committed together (one fsync); more than this waits for the next commit.
MAX_SAVES_PER_COMMIT = 64
# One browser session may save this many drawings in a collection: a stuck key or a playful
# student cannot bury the class's digits (the teacher's import has no such limit).
MAX_DRAWINGS_PER_WRITER = 300
COUNT_WRITER_DRAWINGS = "SELECT COUNT(*) FROM drawings WHERE collection = ? AND writer = ?"
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
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(eq=False)
class _PendingSave:
    """A drawing's row waiting for the commit that acknowledges it."""

    row: tuple
    done: bool = False
    drawing_id: int = 0
    error: BaseException | None = None


class StoreUnavailable(RuntimeError):
    """The data folder cannot be used (read-only, full, missing); the message is plain words."""


class WriterLimitReached(ValueError):
    """This browser session already saved `limit` (MAX_DRAWINGS_PER_WRITER) drawings in the collection."""

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class NotAuthorised(PermissionError):
    """A teacher-only action (delete a collection, import) was asked without the teacher key."""


@dataclass(frozen=True)
class SavedDrawing:
    """One stored drawing, as pages list it.

    Attributes:
        id: the drawing's id (for deleting it).
        label: the digit the student said it was, 0-9.
        image: 28×28 uint8, the network's input ×255.
        writer: the anonymous writer id.
        saved_at: ISO 8601 time in UTC.
    """

    id: int
    label: int
    image: np.ndarray = field(repr=False)
    writer: str
    saved_at: str


@dataclass(frozen=True)
class CollectionCounts:
    """How many drawings a collection holds.

    Attributes:
        total: all drawings.
        by_label: drawings per digit, all ten digits present (0 when none).
        by_writer: drawings per anonymous writer id, largest first.
    """

    total: int
    by_label: dict[int, int]
    by_writer: dict[str, int]


@dataclass(frozen=True)
class CollectionData:
    """A collection as arrays, in MNIST's layout.

    Attributes:
        x: uint8 N×28×28 images.
        y: int64 labels 0-9.
        writers: N anonymous writer ids (numpy str array).
    """

    x: np.ndarray
    y: np.ndarray
    writers: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


def _fail(field: str, expected: str, received: object) -> None:
    raise ValueError(f"{field}: expected {expected}; received {received}")


def validate_collection(name: object) -> str:
    """A collection name from a share link or a form, case-folded.

    Args:
        name: the text, e.g. "7b".

    Returns:
        The slug: 1-32 characters of a-z, 0-9 and '-', starting with a letter or digit.

    Raises:
        ValueError: for anything else (paths, spaces, accents, empty, too long).
    """
    if not isinstance(name, str):
        _fail("collection", N_("a name of 1-32 letters, digits or '-'"), type(name).__name__)
    slug = name.strip().lower()
    # fullmatch on str: re's [a-z] and [0-9] are ASCII, so "ı" or "٣" are refused.
    if not COLLECTION_PATTERN.fullmatch(slug) or not slug.isascii():
        _fail("collection", N_("a name of 1-32 letters a-z, digits or '-'"), repr(name[:40]))
    return slug


def collection_from_query(params: dict[str, str] | object) -> str:
    """The collection a share link asks for (`?collection=7b`), or the default one.

    Args:
        params: query parameters (any mapping with `.get`).

    Returns:
        A valid collection name.

    Raises:
        ValueError: when the link names a collection that is not a valid name.
    """
    value = params.get("collection")  # type: ignore[union-attr]
    return DEFAULT_COLLECTION if value in (None, "") else validate_collection(value)


def writer_id(session_id: object) -> str:
    """The anonymous id stored for a browser session: a hash, so the session id never reaches disk.

    Args:
        session_id: the browser session's id (any non-empty string).

    Returns:
        16 hex characters.
    """
    if not isinstance(session_id, str) or not session_id:
        _fail("writer", N_("the browser session id (a non-empty string)"), repr(session_id))
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


def teacher_key_matches(given: str | None) -> bool:
    """Whether `given` is the teacher key set in `KERASWAYS_TEACHER_KEY`.

    Args:
        given: what the teacher typed (None or "" when nothing).

    Returns:
        False when no key is set on the server: teacher controls are then unavailable.
    """
    expected = os.environ.get(TEACHER_KEY_ENV, "")
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def teacher_controls_available() -> bool:
    """Whether the server has a teacher key set (otherwise pages hide delete-collection and import)."""
    return bool(os.environ.get(TEACHER_KEY_ENV))


def default_data_dir() -> Path:
    """The data folder: `KERASWAYS_DATA_DIR` when set, else ~/.kerasways."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".kerasways"


def _validated_label(label: object) -> int:
    if isinstance(label, bool) or not isinstance(label, int | np.integer):
        _fail("label", N_("a digit 0-9 (int)"), repr(label))
    if not 0 <= int(label) <= 9:
        _fail("label", N_("a digit 0-9"), int(label))
    return int(label)


def _validated_image(image: object) -> np.ndarray:
    """28×28 uint8 from `Preprocessed.centred` (uint8) or `Preprocessed.image` (float32 in [0, 1])."""
    if image is None:
        _fail("image", N_("the 28×28 image of a drawing"), "None (a blank canvas)")
    if not isinstance(image, np.ndarray) or image.shape != (MNIST_SIDE, MNIST_SIDE):
        _fail("image", N_("a 28×28 array"), f"shape {getattr(image, 'shape', type(image).__name__)}")
    if image.dtype == np.float32:
        if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
            _fail("image", N_("float32 values in [0, 1]"), f"values in [{image.min()}, {image.max()}]")
        image = np.rint(image * 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        _fail("image", N_("uint8 (or float32 in [0, 1])"), image.dtype)
    if not image.any():
        _fail("image", N_("a drawing with ink"), "a blank image")
    return np.ascontiguousarray(image)


def _validated_canvas(canvas: object) -> np.ndarray:
    if canvas is None:
        _fail("canvas", N_("the canvas image"), "None (a blank canvas)")
    low, high = CANVAS_SIDE_RANGE
    if (not isinstance(canvas, np.ndarray) or canvas.ndim != 3 or canvas.shape[2] != 4
            or not all(low <= side <= high for side in canvas.shape[:2])):
        _fail("canvas", f"an H×W×4 RGBA array with sides {low}-{high}",
              f"shape {getattr(canvas, 'shape', type(canvas).__name__)}")
    if canvas.dtype != np.uint8:
        _fail("canvas", N_("uint8 RGBA"), canvas.dtype)
    return canvas


def _validated_writer(writer: object, field: str = "writer") -> str:
    if not isinstance(writer, str) or not WRITER_PATTERN.fullmatch(writer):
        _fail(field, N_("ids of 1-64 letters, digits or _.:-"), repr(writer)[:80])
    return writer


def _teacher_only(collection: object, authorised: bool, refusal: str) -> str:
    """The validated collection name of a teacher-only action; NotAuthorised(refusal) without the key."""
    collection = validate_collection(collection)
    if authorised is not True:
        raise NotAuthorised(refusal)
    return collection


def _png(canvas: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _plain_reason(error: BaseException) -> str:
    text = str(error)
    if "full" in text:
        return N_("the disk is full")
    if "readonly" in text or "read-only" in text or "Read-only" in text:
        return N_("the data folder is read-only")
    if isinstance(error, OSError) or "unable to open" in text:
        return N_("the data folder cannot be created or opened ({error})").format(error=text)
    return text


class DrawingStore:
    """Labelled drawings of every collection, in one SQLite file (WAL, schema versioned).

    Thread-safe: each call borrows a connection from a small pool, so the server's many session
    threads can share one store (cache it with `st.cache_resource`). Several processes may open the
    same folder too; SQLite serialises their writes.

    Args:
        data_dir: the folder holding the database; default `default_data_dir()`. Created on
            first use; nothing happens on disk until then, so constructing never fails.
    """

    def __init__(self, data_dir: str | os.PathLike | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.path = self.data_dir / DATABASE_FILE
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue(maxsize=POOL_SIZE)
        self._ready = False
        self._ready_lock = threading.Lock()
        # Group commit (see `_commit_in_groups`): saves waiting for a commit, and whether one runs.
        self._saves = threading.Condition()
        self._waiting_saves: list[_PendingSave] = []
        self._committing = False

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
        return StoreUnavailable(N_("The drawing store in {folder} cannot be used: {reason}.").format(
            folder=self.data_dir, reason=_plain_reason(error)))

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            try:
                self.data_dir.mkdir(parents=True, exist_ok=True)
                connection = self._open_connection()
                try:
                    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    if mode != "wal":
                        raise sqlite3.OperationalError(f"cannot switch to WAL (journal mode {mode})")
                    self._migrate(connection)
                finally:
                    connection.close()
            except (sqlite3.OperationalError, sqlite3.DatabaseError, OSError) as error:
                if isinstance(error, sqlite3.IntegrityError):
                    raise
                raise self._unavailable(error) from error
            self._ready = True

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"the database has schema version {version}, newer than this app's {SCHEMA_VERSION}")
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
        self._ensure_ready()
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
        except (sqlite3.OperationalError, sqlite3.DatabaseError, OSError) as error:
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

    def unavailable_reason(self) -> str | None:
        """None when the store opens, else a plain sentence saying why not (for the page).

        A disk that fills up later shows only when saving: `save` then raises StoreUnavailable.
        """
        try:
            self._ensure_ready()
        except StoreUnavailable as error:
            return str(error)
        return None

    def schema_version(self) -> int:
        """The database's schema version (PRAGMA user_version)."""
        with self._connection() as connection:
            return connection.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        """Close the idle connections (calls after this open new ones)."""
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    # -- what students do -------------------------------------------------------------------

    def save(self, *, canvas: np.ndarray, image: np.ndarray | None, label: int, writer: str,
             collection: str = DEFAULT_COLLECTION) -> int:
        """Save one labelled drawing.

        Args:
            canvas: the canvas's RGBA uint8 array (kept as a PNG).
            image: the 28×28 image `to_mnist` produced: `.centred` (uint8) or `.image` (float32 in
                [0, 1]); None means a blank canvas and is refused.
            label: the digit the student says it is, 0-9.
            writer: the browser session id (stored only as `writer_id(...)`).
            collection: the collection's name.

        Returns:
            The new drawing's id; once returned, the drawing is on disk.

        Raises:
            ValueError: for any invalid argument (nothing is stored).
            WriterLimitReached: this session already saved MAX_DRAWINGS_PER_WRITER drawings in
                the collection (nothing is stored).
            StoreUnavailable: when the data folder cannot be written (nothing is stored).
        """
        pixels = _validated_image(image)
        label = _validated_label(label)
        collection = validate_collection(collection)
        anonymous = writer_id(writer)
        png = _png(_validated_canvas(canvas))
        saved_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return self._commit_in_groups(_PendingSave((collection, anonymous, label, pixels.tobytes(), png, saved_at)))

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
                        raise self._unavailable(TimeoutError("saving timed out"))
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
                outcomes = [self._insert_unless_over_limit(connection, pending.row, saved_so_far) for pending in group]
        except Exception as error:  # every save of the group learns why; none is acknowledged
            for pending in group:
                pending.error = StoreUnavailable(str(error)) if isinstance(error, StoreUnavailable) else error
                pending.done = True
        else:
            for pending, outcome in zip(group, outcomes):
                if isinstance(outcome, WriterLimitReached):
                    pending.error = outcome
                else:
                    pending.drawing_id = outcome
                pending.done = True

    @staticmethod
    def _insert_unless_over_limit(connection: sqlite3.Connection, row: tuple,
                                  saved_so_far: dict[tuple[str, str], int]) -> int | WriterLimitReached:
        """Insert one drawing's row and return its id, or the refusal when its writer is at the limit.

        `saved_so_far` carries each (collection, writer)'s drawings through one transaction, so saves of
        one writer committed together are counted together.
        """
        owner = row[:2]
        if owner not in saved_so_far:
            saved_so_far[owner] = connection.execute(COUNT_WRITER_DRAWINGS, owner).fetchone()[0]
        if saved_so_far[owner] >= MAX_DRAWINGS_PER_WRITER:
            expected = N_("at most {limit} drawings from one browser in a collection").format(
                limit=MAX_DRAWINGS_PER_WRITER)
            received = N_("drawing {number}").format(number=saved_so_far[owner] + 1)
            return WriterLimitReached(f"writer: expected {expected}; received {received}", MAX_DRAWINGS_PER_WRITER)
        saved_so_far[owner] += 1
        return int(connection.execute(INSERT_DRAWING, row).lastrowid)

    def list_mine(self, *, writer: str, collection: str = DEFAULT_COLLECTION) -> list[SavedDrawing]:
        """The drawings this browser session saved in a collection, newest first.

        Args:
            writer: the browser session id.
            collection: the collection's name.

        Returns:
            A list of SavedDrawing.
        """
        return self._drawings("writer = ?", (validate_collection(collection), writer_id(writer)))

    def delete_mine(self, drawing_id: int, *, writer: str, collection: str = DEFAULT_COLLECTION) -> bool:
        """Delete one of this session's own drawings.

        Args:
            drawing_id: the drawing's id.
            writer: the browser session id; another writer's drawing is never deleted.
            collection: the collection's name.

        Returns:
            True when a drawing was deleted; False when no such drawing of this writer exists.
        """
        if isinstance(drawing_id, bool) or not isinstance(drawing_id, int | np.integer):
            _fail("drawing_id", N_("an int"), repr(drawing_id))
        with self._transaction() as connection:
            cursor = connection.execute(
                "DELETE FROM drawings WHERE id = ? AND collection = ? AND writer = ?",
                (int(drawing_id), validate_collection(collection), writer_id(writer)))
            return cursor.rowcount == 1

    def canvas_png(self, drawing_id: int, *, collection: str = DEFAULT_COLLECTION) -> bytes | None:
        """The original canvas of a drawing as PNG bytes (None if unknown or imported without one)."""
        with self._connection() as connection:
            row = connection.execute("SELECT canvas_png FROM drawings WHERE id = ? AND collection = ?",
                                     (int(drawing_id), validate_collection(collection))).fetchone()
        return None if row is None else row[0]

    # -- what the class page shows ----------------------------------------------------------

    def collections(self) -> list[str]:
        """Names of the collections holding at least one drawing, sorted."""
        with self._connection() as connection:
            return [row[0] for row in connection.execute("SELECT DISTINCT collection FROM drawings ORDER BY 1")]

    def counts(self, collection: str = DEFAULT_COLLECTION) -> CollectionCounts:
        """Drawings per digit and per writer in a collection.

        Args:
            collection: the collection's name.

        Returns:
            A CollectionCounts.
        """
        collection = validate_collection(collection)
        with self._connection() as connection:
            by_label = dict(connection.execute(
                "SELECT label, COUNT(*) FROM drawings WHERE collection = ? GROUP BY label", (collection,)))
            by_writer = dict(connection.execute(
                "SELECT writer, COUNT(*) AS n FROM drawings WHERE collection = ? GROUP BY writer"
                " ORDER BY n DESC, writer", (collection,)))
        return CollectionCounts(total=sum(by_label.values()),
                                by_label={digit: by_label.get(digit, 0) for digit in range(10)},
                                by_writer=by_writer)

    def gallery(self, collection: str = DEFAULT_COLLECTION, *, label: int | None = None,
                limit: int = 100) -> list[SavedDrawing]:
        """The newest drawings of a collection, optionally of one digit.

        Args:
            collection: the collection's name.
            label: only this digit, or None for all.
            limit: at most this many.

        Returns:
            A list of SavedDrawing, newest first.
        """
        collection = validate_collection(collection)
        if label is None:
            return self._drawings(None, (collection,), limit=limit)
        return self._drawings("label = ?", (collection, _validated_label(label)), limit=limit)

    def _drawings(self, condition: str | None, parameters: tuple, limit: int | None = None) -> list[SavedDrawing]:
        # `condition` is one of this module's literals; user values only travel as parameters.
        where = "collection = ?" + (f" AND {condition}" if condition else "")
        query = f"SELECT id, label, image, writer, saved_at FROM drawings WHERE {where} ORDER BY id DESC"  # noqa: S608
        if limit is not None:
            query += " LIMIT ?"
            parameters = (*parameters, max(0, int(limit)))
        with self._connection() as connection:
            rows = connection.execute(query, parameters).fetchall()
        return [SavedDrawing(id=row[0], label=row[1], writer=row[3], saved_at=row[4],
                             image=np.frombuffer(row[2], dtype=np.uint8).reshape(MNIST_SIDE, MNIST_SIDE))
                for row in rows]

    def arrays(self, collection: str = DEFAULT_COLLECTION) -> CollectionData:
        """Every drawing of a collection as arrays (for training, evaluation and export), oldest first.

        Args:
            collection: the collection's name.

        Returns:
            A CollectionData.
        """
        with self._connection() as connection:
            rows = connection.execute("SELECT image, label, writer FROM drawings WHERE collection = ? ORDER BY id",
                                      (validate_collection(collection),)).fetchall()
        x = np.frombuffer(b"".join(row[0] for row in rows), dtype=np.uint8).reshape(-1, MNIST_SIDE, MNIST_SIDE)
        return CollectionData(x=x.copy(), y=np.array([row[1] for row in rows], dtype=np.int64),
                              writers=np.array([row[2] for row in rows], dtype=str))

    # -- what only a teacher does -----------------------------------------------------------

    def delete_collection(self, collection: str, *, authorised: bool) -> int:
        """Delete every drawing of a collection.

        Args:
            collection: the collection's name.
            authorised: whether the teacher key was given (`teacher_key_matches`).

        Returns:
            How many drawings were deleted.

        Raises:
            NotAuthorised: without the teacher key.
        """
        collection = _teacher_only(collection, authorised, N_("Deleting a collection needs the teacher key."))
        with self._transaction() as connection:
            return connection.execute("DELETE FROM drawings WHERE collection = ?", (collection,)).rowcount

    def import_arrays(self, data: CollectionData, collection: str = DEFAULT_COLLECTION, *,
                      authorised: bool) -> int:
        """Add drawings (e.g. read by `collection.read_npz`) to a collection, all or none.

        Args:
            data: images, labels and writer ids; validated again here.
            collection: the collection's name.
            authorised: whether the teacher key was given (`teacher_key_matches`).

        Returns:
            How many drawings were added.

        Raises:
            NotAuthorised: without the teacher key.
            ValueError: when the arrays are not a valid collection (nothing is stored).
            StoreUnavailable: when the data folder cannot be written (nothing is stored).
        """
        collection = _teacher_only(collection, authorised, N_("Importing drawings needs the teacher key."))
        validate_arrays(data)
        saved_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        rows = ((collection, str(writer), int(label), np.ascontiguousarray(image).tobytes(), None, saved_at)
                for image, label, writer in zip(data.x, data.y, data.writers))
        with self._transaction() as connection:
            connection.executemany(INSERT_DRAWING, rows)
        return len(data)


def validate_arrays(data: CollectionData) -> None:
    """Check arrays are a collection in MNIST's layout.

    Args:
        data: x uint8 N×28×28, y integer labels 0-9 (N), writers N ids.

    Raises:
        ValueError: naming the first array that is wrong.
    """
    x, y, writers = data.x, data.y, data.writers
    if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[1:] != (MNIST_SIDE, MNIST_SIDE):
        _fail("x", N_("N×28×28 images"), f"shape {getattr(x, 'shape', type(x).__name__)}")
    if x.dtype != np.uint8:
        _fail("x", N_("uint8 pixels"), x.dtype)
    if not isinstance(y, np.ndarray) or y.shape != (len(x),):
        _fail("y", N_("{count} labels").format(count=len(x)), f"shape {getattr(y, 'shape', type(y).__name__)}")
    if y.dtype.kind not in "iu":
        _fail("y", N_("integer labels"), y.dtype)
    if len(y) and (y.min() < 0 or y.max() > 9):
        _fail("y", N_("labels 0-9"), f"labels from {y.min()} to {y.max()}")
    if not isinstance(writers, np.ndarray) or writers.shape != (len(x),):
        _fail("writers", N_("{count} writer ids").format(count=len(x)),
              f"shape {getattr(writers, 'shape', type(writers).__name__)}")
    if writers.dtype.kind != "U":
        _fail("writers", N_("text ids"), writers.dtype)
    for writer in np.unique(writers):
        _validated_writer(str(writer), "writers")
