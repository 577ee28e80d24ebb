"""The class's labelled drawings: what is stored, what is allowed, and the `DrawingStore` interface.

A student who says "it was a 7" after a prediction saves the drawing with that label into a
collection (the class's data set). Pages and `collection.py` use only this module: the records
(`SavedDrawing`, `CollectionCounts`, `CollectionData`), the checks and limits, the errors a user can
meet, and `DrawingStore`, the interface every database behind it implements. `open_store()` picks
the database; SQLite in the data folder (`kerasways/sqlite_store.py`) is the default, and no SQL,
connection or transaction mode appears outside a backend's own module.

What is kept per drawing: its label, the 28×28 uint8 image the network sees, the canvas as a grey
PNG re-encoded at the canvas's 280×280 (at most about 80 KB, whatever size and content the browser
sent), when it was saved, the collection, and an anonymous writer id: a hash of the browser session
id, never a name, so nothing in the database (or an export) identifies a student or their session.
A collection is a validated slug stored as a value: no path or query is ever built from user text.

Collections are open by design: a convenience for a class, not a privacy boundary. Anyone who can
open the app can open any collection by its name, see its drawings and add to it. The teacher key
(`teacher.key_matches`) guards only what changes a whole collection or the server: deleting a
collection, importing, closing a collection to new drawings, hiding the collection switcher.

Quotas keep one class, or one playful student with many tabs, from filling the server's disk: a
collection holds at most `max_per_collection` drawings and the whole store at most `max_data_bytes`
(`KERASWAYS_MAX_DRAWINGS_PER_COLLECTION`, `KERASWAYS_MAX_DATA_MB`); the teacher's import respects the
second.

Errors are messages as data (`kerasways.messages`): a refused value is an `InvalidValue` (a
ValueError), and `StoreUnavailable`, `WriterLimitReached`, `CollectionClosed`, `QuotaReached` and
`NotAuthorised` carry a `Message` a page shows with `i18n.render(error, lang)`. When the database
cannot be used every call raises `StoreUnavailable`, and opening the store never fails, so drawing
and predicting keep working without it.

Example:
    store = open_store()
    drawing_id = store.save(canvas=rgba, image=processed.centred, label=7, writer=session_id)
    store.list_mine(writer=session_id)
"""

from __future__ import annotations

import abc
import hashlib
import io
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from kerasways.canvas_image import CANVAS_SIDE, MAX_CANVAS_SIDE
from kerasways.drawing import grey_level
from kerasways.i18n import N_
from kerasways.messages import InvalidValue, Message, UserError

DATA_DIR_ENV = "KERASWAYS_DATA_DIR"
DEFAULT_COLLECTION = "class"
MNIST_SIDE = 28
COLLECTION_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
# Writers are opaque ids: session hashes, or ids carried by an imported file.
WRITER_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
CANVAS_SIDE_RANGE = (MNIST_SIDE, MAX_CANVAS_SIDE)
# One browser session may save this many drawings in a collection: a stuck key or a playful
# student cannot bury the class's digits (the teacher's import has no such limit).
MAX_DRAWINGS_PER_WRITER = 300
# The server-wide setting (`DrawingStore.hide_switcher`) that hides the collection switcher from students.
HIDE_SWITCHER_SETTING = "hide_collection_switcher"
# A class of 40 writers at their limit saves 12,000; the rest is room for an imported last year.
# A student with many tabs (each a new writer) stops here, not at the disk's end.
MAX_DRAWINGS_PER_COLLECTION = 20_000
MAX_DRAWINGS_PER_COLLECTION_ENV = "KERASWAYS_MAX_DRAWINGS_PER_COLLECTION"
# The whole store (every collection). A drawing takes about 2-4 KB of the database, the noisiest
# canvas about 80 KB: 2,000 MB hold half a million drawings, or a full collection of noise (1.6 GB).
MAX_DATA_MB = 2_000
MAX_DATA_MB_ENV = "KERASWAYS_MAX_DATA_MB"
BYTES_PER_MB = 1_000_000


class StoreUnavailable(UserError, RuntimeError):
    """The database cannot be used (a read-only or full disk, a missing folder, a newer schema).

    Args:
        reason: why, as a Message (e.g. "the disk is full").
        where: the store's location as its users know it (the data folder, a server's name).
    """

    def __init__(self, reason: Message, where: str) -> None:
        self.reason = reason
        self.where = where
        super().__init__(Message(N_("The drawing store in {folder} cannot be used: {reason}."),
                                 {"folder": where, "reason": reason}))


class WriterLimitReached(InvalidValue):
    """This browser session already saved `limit` drawings in the collection; nothing was stored.

    Args:
        limit: the most one writer may save in a collection (`DrawingStore.max_per_writer`).
        attempted: the number this drawing would have had (limit + 1, or more).
    """

    def __init__(self, limit: int, attempted: int) -> None:
        self.limit = limit
        super().__init__("writer", Message(N_("at most {limit} drawings from one browser in a collection"),
                                           {"limit": limit}), attempted)


class CollectionClosed(UserError):
    """The teacher closed the collection to new drawings (`DrawingStore.set_collection_closed`); nothing was
    stored.

    Args:
        collection: the collection's name.
    """

    def __init__(self, collection: str) -> None:
        self.collection = collection
        super().__init__(Message(N_("The teacher has closed the collection “{name}” to new drawings."),
                                 {"name": collection}))

    def __reduce__(self):
        return (CollectionClosed, (self.collection,))
class QuotaReached(UserError):
    """Saving (or importing) would take a collection or the whole store past its quota; nothing was stored."""


class CollectionFull(QuotaReached):
    """The collection already holds `limit` drawings (`DrawingStore.max_per_collection`).

    Args:
        collection: the collection's name.
        limit: the most drawings one collection may hold.
    """

    def __init__(self, collection: str, limit: int) -> None:
        self.collection = collection
        self.limit = limit
        super().__init__(Message(N_("the collection “{name}” is full: it holds {limit} drawings, the most one "
                                    "collection may. Your teacher can start a new collection"),
                                 {"name": collection, "limit": f"{limit:,}"}))


class StoreFull(QuotaReached):
    """The store holds `used` bytes and `needed` more would pass `limit` (`DrawingStore.max_data_bytes`).

    Args:
        used: the bytes the store holds now.
        needed: the bytes the refused save or import would add.
        limit: the most bytes the whole store may hold.
    """

    def __init__(self, used: int, needed: int, limit: int) -> None:
        self.used, self.needed, self.limit = used, needed, limit
        super().__init__(Message(N_("the drawing store has no room for this: it holds {used} MB of at most {limit} "
                                    "MB ({setting}). Deleting an old collection makes room"),
                                 {"used": f"{used / BYTES_PER_MB:,.1f}", "limit": f"{limit / BYTES_PER_MB:,.1f}",
                                  "setting": MAX_DATA_MB_ENV}))


class NotAuthorised(UserError, PermissionError):
    """A teacher-only action (delete a collection, import, close one, hide the switcher) was asked without
    the teacher key."""


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
class NewDrawing:
    """A checked drawing on its way into a backend: every field is already valid.

    Attributes:
        collection: a validated collection name.
        writer: the anonymous writer id (`writer_id(...)`, or an imported file's id).
        label: 0-9.
        image: 28×28 uint8, C-contiguous.
        canvas_png: the canvas as an 8-bit grey PNG at CANVAS_SIDE × CANVAS_SIDE (`stored_png`;
            None for imported drawings).
        saved_at: ISO 8601 time in UTC.
    """

    collection: str
    writer: str
    label: int
    image: np.ndarray = field(repr=False)
    canvas_png: bytes | None = field(repr=False)
    saved_at: str


@dataclass(frozen=True)
class StoreUsage:
    """What the quotas are checked against, as a backend measures it.

    Attributes:
        collection_drawings: drawings in the collection being saved to.
        stored_bytes: bytes the whole store occupies (every collection), e.g. a database's pages in use.
    """

    collection_drawings: int
    stored_bytes: int


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


# What a page calls each field a refusal names (the code's name stays in the error's text).
FIELD_TITLES = {
    "collection": N_("Collection"), "writer": N_("Writer"), "label": N_("Label"), "image": N_("Image"),
    "canvas": N_("Canvas"), "drawing_id": N_("Drawing"), "x": N_("Images (x)"), "y": N_("Labels (y)"),
    "writers": N_("Writers (writers)"),
}


def _fail(field: str, expected: str | Message, received: object) -> None:
    title = Message(FIELD_TITLES[field]) if field in FIELD_TITLES else None
    raise InvalidValue(field, expected if isinstance(expected, Message) else Message(expected), received, title)


def _shape_of(value: object) -> object:
    """What a refused array looked like: its shape, or the type of what came instead."""
    return getattr(value, "shape", type(value).__name__)


def validate_collection(name: object) -> str:
    """A collection name from a share link or a form, case-folded.

    Args:
        name: the text, e.g. "7b".

    Returns:
        The slug: 1-32 characters of a-z, 0-9 and '-', starting with a letter or digit.

    Raises:
        InvalidValue: for anything else (paths, spaces, accents, empty, too long).
    """
    if not isinstance(name, str):
        _fail("collection", N_("a name of 1-32 letters, digits or '-'"), name)
    slug = name.strip().lower()
    # fullmatch on str: re's [a-z] and [0-9] are ASCII, so "ı" or "٣" are refused.
    if not COLLECTION_PATTERN.fullmatch(slug) or not slug.isascii():
        _fail("collection", N_("a name of 1-32 letters a-z, digits or '-'"), name[:40])
    return slug


def collection_from_query(params: dict[str, str] | object) -> str:
    """The collection a share link asks for (`?collection=7b`), or the default one.

    Args:
        params: query parameters (any mapping with `.get`).

    Returns:
        A valid collection name.

    Raises:
        InvalidValue: when the link names a collection that is not a valid name.
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
        _fail("writer", N_("the browser session id (a non-empty string)"), session_id)
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


def default_data_dir() -> Path:
    """The data folder: `KERASWAYS_DATA_DIR` when set, else ~/.kerasways."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".kerasways"


def _validated_label(label: object) -> int:
    if isinstance(label, bool) or not isinstance(label, int | np.integer):
        _fail("label", N_("a digit 0-9 (int)"), label)
    if not 0 <= int(label) <= 9:
        _fail("label", N_("a digit 0-9"), int(label))
    return int(label)


def _validated_image(image: object) -> np.ndarray:
    """28×28 uint8 from `Preprocessed.centred` (uint8) or `Preprocessed.image` (float32 in [0, 1])."""
    if image is None:  # to_mnist's answer for a blank canvas
        _fail("image", N_("the 28×28 image of a drawing"), None)
    if not isinstance(image, np.ndarray) or image.shape != (MNIST_SIDE, MNIST_SIDE):
        _fail("image", N_("a 28×28 array"), _shape_of(image))
    if image.dtype == np.float32:
        if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
            _fail("image", N_("float32 values in [0, 1]"), (float(image.min()), float(image.max())))
        image = np.rint(image * 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        _fail("image", N_("uint8 (or float32 in [0, 1])"), str(image.dtype))
    if not image.any():
        _fail("image", N_("a drawing with ink (a pixel above 0)"), int(image.max()))
    return np.ascontiguousarray(image)


def _validated_canvas(canvas: object) -> np.ndarray:
    if canvas is None:
        _fail("canvas", N_("the canvas image"), None)
    low, high = CANVAS_SIDE_RANGE
    if (not isinstance(canvas, np.ndarray) or canvas.ndim != 3 or canvas.shape[2] != 4
            or not all(low <= side <= high for side in canvas.shape[:2])):
        _fail("canvas", Message(N_("an H×W×4 RGBA array with sides {low}-{high}"), {"low": low, "high": high}),
              _shape_of(canvas))
    if canvas.dtype != np.uint8:
        _fail("canvas", N_("uint8 RGBA"), str(canvas.dtype))
    return canvas


def _validated_writer(writer: object, field: str = "writer") -> str:
    if not isinstance(writer, str) or not WRITER_PATTERN.fullmatch(writer):
        _fail(field, N_("ids of 1-64 letters, digits or _.:-"), writer[:80] if isinstance(writer, str) else writer)
    return writer


def _validated_id(drawing_id: object) -> int:
    if isinstance(drawing_id, bool) or not isinstance(drawing_id, int | np.integer):
        _fail("drawing_id", N_("an int"), drawing_id)
    return int(drawing_id)


def validate_arrays(data: CollectionData) -> None:
    """Check arrays are a collection in MNIST's layout.

    Args:
        data: x uint8 N×28×28, y integer labels 0-9 (N), writers N ids.

    Raises:
        InvalidValue: naming the first array that is wrong.
    """
    x, y, writers = data.x, data.y, data.writers
    if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[1:] != (MNIST_SIDE, MNIST_SIDE):
        _fail("x", N_("N×28×28 images"), _shape_of(x))
    if x.dtype != np.uint8:
        _fail("x", N_("uint8 pixels"), str(x.dtype))
    if not isinstance(y, np.ndarray) or y.shape != (len(x),):
        _fail("y", Message(N_("{count} labels"), {"count": len(x)}), _shape_of(y))
    if y.dtype.kind not in "iu":
        _fail("y", N_("integer labels"), str(y.dtype))
    if len(y) and (y.min() < 0 or y.max() > 9):
        _fail("y", N_("labels 0-9"), (int(y.min()), int(y.max())))
    if not isinstance(writers, np.ndarray) or writers.shape != (len(x),):
        _fail("writers", Message(N_("{count} writer ids"), {"count": len(x)}), _shape_of(writers))
    if writers.dtype.kind != "U":
        _fail("writers", N_("text ids"), str(writers.dtype))
    for writer in np.unique(writers):
        _validated_writer(str(writer), "writers")


def stored_png(canvas: np.ndarray) -> bytes:
    """The canvas as it is stored: its grey level (what `drawing.to_mnist` reads) at the canvas's side.

    Whatever size the canvas arrived at, the PNG is CANVAS_SIDE × CANVAS_SIDE, 8-bit grey: at most
    about 80 KB even for noise (an RGBA canvas of 2048×2048 noise was 16.8 MB). A 280×280 canvas
    keeps every grey value, so `to_mnist` of the stored PNG equals `to_mnist` of the canvas.

    Args:
        canvas: H×W×4 uint8 RGBA, white ink on black.

    Returns:
        PNG bytes.
    """
    grey = Image.fromarray(grey_level(canvas))
    if grey.size != (CANVAS_SIDE, CANVAS_SIDE):
        grey = grey.resize((CANVAS_SIDE, CANVAS_SIDE), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    grey.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _limit_from_env(name: str, default: int) -> int:
    """A quota an operator may set in the environment variable `name`; `default` when it is unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise InvalidValue(name, Message(N_("a whole number of at least 1")), value[:40])
    return int(value)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _require_teacher(authorised: bool, refusal: str) -> None:
    """NotAuthorised(refusal) unless the teacher key was given."""
    if authorised is not True:
        raise NotAuthorised(Message(refusal))


def _teacher_only(collection: object, authorised: bool, refusal: str) -> str:
    """The validated collection name of a teacher-only action; NotAuthorised(refusal) without the key."""
    collection = validate_collection(collection)
    _require_teacher(authorised, refusal)
    return collection


class DrawingStore(abc.ABC):
    """Labelled drawings of every collection: the interface pages use, whatever database is behind it.

    The public methods (`save`, `list_mine`, `delete_mine`, `canvas_png`, `collections`, `counts`,
    `gallery`, `arrays`, `is_closed`, `switcher_hidden`, `delete_collection`, `import_arrays`,
    `set_collection_closed`, `hide_switcher`, `unavailable_reason`,
    `schema_version`, `close`) check every argument and turn it into plain records, then call the
    backend. A backend (a subclass; `sqlite_store.SQLiteDrawingStore` is the default) implements the
    abstract methods below, and only those. It receives values already validated (collection
    names, hashed writer ids, labels 0-9, 28×28 uint8 images) and must provide:

    - **Opening** (`_open`): connect, create the schema or migrate it to the current version, in
      one step that several servers starting together may race through safely (one migrates, the
      others wait and find it done); refuse a schema newer than the code. Called once, at first
      use, under a lock; constructing a store never touches the database, so it never fails.
    - **Durable saves** (`_insert`): a drawing is acknowledged (its id returned) only once the
      transaction holding it has committed durably (it survives a crash and a power cut).
    - **An exact per-writer limit** (`_insert`): a writer never has more than `limit` drawings in a
      collection, even when several sessions, processes or servers save for that writer at the
      same instant. Count and insert in one transaction that holds a lock on that writer and
      collection, so two savers cannot both see room for one more. SQLite: `BEGIN IMMEDIATE`
      takes the database's write lock before counting. PostgreSQL: take a row lock on the
      writer's row (`INSERT INTO writers ... ON CONFLICT DO NOTHING` then `SELECT ... FOR UPDATE`)
      or `pg_advisory_xact_lock` on a hash of (collection, writer), then count and insert; under
      READ COMMITTED the count after the lock sees every save committed before it. A counter row
      with `CHECK (drawings <= limit)`, updated in the same transaction, works too.
    - **All-or-nothing imports** (`_insert_all`): every row in one transaction, or none.
    - **Usage for the quotas** (`_usage`): the drawings in one collection and the bytes the whole
      store occupies, cheaply (it runs before every save): SQLite counts the collection on its
      index and reads the pages in use from PRAGMAs; PostgreSQL could count on its index and use
      `pg_total_relation_size`, or keep counter rows updated in the saving transactions. This
      class compares them with the quotas before `_insert` / `_insert_all`, outside their
      transaction, so saves at the same instant may pass a quota together by a few drawings
      (the per-writer limit, by contrast, is exact).
    - **Reads** (`_select`, `_canvas_png`, `_collections`, `_counts`, `_arrays`) and **deletes**
      (`_delete`, `_delete_collection`) scoped to one collection; `_delete` also to one writer.
      Ids are positive integers, unique in the store and increasing in the order drawings were
      saved: "newest first" is by id, and a page uses the newest id to notice new drawings.
    - **Durable settings**: whether a collection is closed to new drawings (`_closed`,
      `_set_closed`; kept whether or not the collection holds drawings), and the server's settings
      by name (`_setting`, `_set_setting`, text values), both in the database so they hold after a
      restart and for every server sharing it.
    - **Errors as `StoreUnavailable`** with a plain reason, chosen by the database driver's
      exception type and error code (never by its message text), for every failure of the
      database itself; a connection that failed is not reused. Anything else (a bug) propagates.
    - **Thread safety**: the server's session threads share one store.
    - **The rest**: `location` (where the data lives, shown in errors), `_schema_version`,
      `close`; a constructor that takes the limits below (passed on here) and touches nothing.

    Every backend is added to `support.stored_drawings.STORE_BACKENDS`, so tests/test_store.py runs
    on it, and `open_store` learns when to choose it.

    Args:
        max_per_writer: the most drawings one writer may save in one collection; None:
            MAX_DRAWINGS_PER_WRITER as it is when saving.
        max_per_collection: the most drawings one collection may hold (students' saves); None:
            `KERASWAYS_MAX_DRAWINGS_PER_COLLECTION`, else MAX_DRAWINGS_PER_COLLECTION, when saving.
        max_data_bytes: the most bytes the whole store may occupy (saves and imports); None:
            `KERASWAYS_MAX_DATA_MB` (in MB of 10^6 bytes), else MAX_DATA_MB, when saving.
    """

    def __init__(self, *, max_per_writer: int | None = None, max_per_collection: int | None = None,
                 max_data_bytes: int | None = None) -> None:
        self._max_per_writer = max_per_writer
        self._max_per_collection = max_per_collection
        self._max_data_bytes = max_data_bytes
        self._opened = False
        self._opening = threading.Lock()

    # -- what a backend provides ------------------------------------------------------------

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the drawings live, as the server's admin knows it (a folder, a database server)."""

    @abc.abstractmethod
    def _open(self) -> None:
        """Connect and bring the schema to the current version; raise StoreUnavailable when not possible."""

    @abc.abstractmethod
    def _insert(self, drawing: NewDrawing, limit: int) -> int:
        """Store one drawing unless its writer has `limit` in its collection; its id once committed.

        Raises:
            WriterLimitReached: the writer already has `limit` drawings there (nothing stored).
        """

    @abc.abstractmethod
    def _insert_all(self, drawings: list[NewDrawing]) -> None:
        """Store every drawing in one transaction (no writer limit: the teacher's import)."""

    @abc.abstractmethod
    def _usage(self, collection: str) -> StoreUsage:
        """The drawings in `collection` and the bytes the whole store occupies (see the quotas above)."""

    @abc.abstractmethod
    def _select(self, collection: str, *, writer: str | None = None, label: int | None = None,
                limit: int | None = None) -> list[SavedDrawing]:
        """A collection's drawings, newest first, of one writer or label when given, at most `limit`."""

    @abc.abstractmethod
    def _canvas_png(self, drawing_id: int, collection: str) -> bytes | None:
        """A drawing's canvas PNG; None when there is no such drawing or it has no canvas."""

    @abc.abstractmethod
    def _delete(self, drawing_id: int, collection: str, writer: str) -> bool:
        """Delete a drawing of this writer in this collection; whether one was deleted."""

    @abc.abstractmethod
    def _delete_collection(self, collection: str) -> int:
        """Delete every drawing of a collection; how many."""

    @abc.abstractmethod
    def _collections(self) -> list[str]:
        """Names of the collections holding at least one drawing, sorted."""

    @abc.abstractmethod
    def _counts(self, collection: str) -> tuple[dict[int, int], dict[str, int]]:
        """(drawings per label present, drawings per writer largest first, ties by writer id)."""

    @abc.abstractmethod
    def _arrays(self, collection: str) -> CollectionData:
        """Every drawing of a collection as arrays, oldest first."""

    @abc.abstractmethod
    def _closed(self, collection: str) -> bool:
        """Whether the teacher closed this collection to new drawings."""

    @abc.abstractmethod
    def _set_closed(self, collection: str, closed: bool) -> None:
        """Close this collection to new drawings, or reopen it, durably (setting it twice is harmless)."""

    @abc.abstractmethod
    def _setting(self, name: str) -> str | None:
        """A server-wide setting's value; None when it was never set."""

    @abc.abstractmethod
    def _set_setting(self, name: str, value: str) -> None:
        """Set a server-wide setting durably, replacing its value."""

    @abc.abstractmethod
    def _schema_version(self) -> int:
        """The database's schema version."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close idle connections (calls after this open new ones)."""

    @property
    def max_per_writer(self) -> int:
        """The most drawings one writer may save in one collection."""
        return MAX_DRAWINGS_PER_WRITER if self._max_per_writer is None else self._max_per_writer

    @property
    def max_per_collection(self) -> int:
        """The most drawings one collection may hold before students' saves are refused.

        Raises:
            InvalidValue: when KERASWAYS_MAX_DRAWINGS_PER_COLLECTION is set to something else than a number ≥ 1.
        """
        return (self._max_per_collection if self._max_per_collection is not None
                else _limit_from_env(MAX_DRAWINGS_PER_COLLECTION_ENV, MAX_DRAWINGS_PER_COLLECTION))

    @property
    def max_data_bytes(self) -> int:
        """The most bytes the whole store may occupy before saves and imports are refused.

        Raises:
            InvalidValue: when KERASWAYS_MAX_DATA_MB is set to something else than a number ≥ 1.
        """
        return (self._max_data_bytes if self._max_data_bytes is not None
                else _limit_from_env(MAX_DATA_MB_ENV, MAX_DATA_MB) * BYTES_PER_MB)

    def _check_quotas(self, collection: str, *, drawings: int, needed_bytes: int, per_collection: bool) -> None:
        """Raise the QuotaReached that adding `drawings` of `needed_bytes` to `collection` would meet."""
        max_per_collection = self.max_per_collection if per_collection else None
        max_data_bytes = self.max_data_bytes
        usage = self._usage(collection)
        if max_per_collection is not None and usage.collection_drawings + drawings > max_per_collection:
            raise CollectionFull(collection, max_per_collection)
        if usage.stored_bytes + needed_bytes > max_data_bytes:
            raise StoreFull(usage.stored_bytes, needed_bytes, max_data_bytes)

    # -- opening -----------------------------------------------------------------------------

    def _ready(self) -> None:
        if self._opened:
            return
        with self._opening:
            if not self._opened:
                self._open()
                self._opened = True

    def unavailable_reason(self) -> Message | None:
        """None when the store opens, else why not, as a Message for the page (`i18n.render`).

        A disk that fills up later shows only when saving: `save` then raises StoreUnavailable.
        """
        try:
            self._ready()
        except StoreUnavailable as error:
            return error.message
        return None

    def schema_version(self) -> int:
        """The database's schema version (it equals the code's once the store has opened)."""
        self._ready()
        return self._schema_version()

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
            The new drawing's id; once returned, the drawing is durably stored.

        Raises:
            InvalidValue: for any invalid argument (nothing is stored).
            WriterLimitReached: this session already saved `max_per_writer` drawings in the
                collection (nothing is stored).
            CollectionClosed: the teacher closed the collection to new drawings (nothing is stored).
            CollectionFull: the collection holds `max_per_collection` drawings (nothing is stored).
            StoreFull: the store would pass `max_data_bytes` (nothing is stored).
            StoreUnavailable: when the database cannot be written (nothing is stored).
        """
        pixels = _validated_image(image)
        drawing = NewDrawing(collection=validate_collection(collection), writer=writer_id(writer),
                             label=_validated_label(label), image=pixels,
                             canvas_png=stored_png(_validated_canvas(canvas)), saved_at=_now())
        self._ready()
        self._refuse_if_closed(drawing.collection)
        self._check_quotas(drawing.collection, drawings=1, needed_bytes=pixels.nbytes + len(drawing.canvas_png),
                           per_collection=True)
        return self._insert(drawing, self.max_per_writer)

    def _refuse_if_closed(self, collection: str) -> None:
        # Checked before the insert, not in its transaction: a save already under way when the
        # teacher closes may still land, as if it had been clicked a moment earlier.
        if self._closed(collection):
            raise CollectionClosed(collection)

    def list_mine(self, *, writer: str, collection: str = DEFAULT_COLLECTION) -> list[SavedDrawing]:
        """The drawings this browser session saved in a collection, newest first.

        Args:
            writer: the browser session id.
            collection: the collection's name.

        Returns:
            A list of SavedDrawing.
        """
        collection, writer = validate_collection(collection), writer_id(writer)
        self._ready()
        return self._select(collection, writer=writer)

    def delete_mine(self, drawing_id: int, *, writer: str, collection: str = DEFAULT_COLLECTION) -> bool:
        """Delete one of this session's own drawings.

        Args:
            drawing_id: the drawing's id.
            writer: the browser session id; another writer's drawing is never deleted.
            collection: the collection's name.

        Returns:
            True when a drawing was deleted; False when no such drawing of this writer exists.
        """
        drawing_id, collection, writer = _validated_id(drawing_id), validate_collection(collection), writer_id(writer)
        self._ready()
        return self._delete(drawing_id, collection, writer)

    def canvas_png(self, drawing_id: int, *, collection: str = DEFAULT_COLLECTION) -> bytes | None:
        """A drawing's canvas as stored (`stored_png`: grey, 280×280), or None if unknown or imported."""
        drawing_id, collection = _validated_id(drawing_id), validate_collection(collection)
        self._ready()
        return self._canvas_png(drawing_id, collection)

    # -- what the class page shows ----------------------------------------------------------

    def collections(self) -> list[str]:
        """Names of the collections holding at least one drawing, sorted."""
        self._ready()
        return self._collections()

    def counts(self, collection: str = DEFAULT_COLLECTION) -> CollectionCounts:
        """Drawings per digit and per writer in a collection.

        Args:
            collection: the collection's name.

        Returns:
            A CollectionCounts.
        """
        collection = validate_collection(collection)
        self._ready()
        by_label, by_writer = self._counts(collection)
        return CollectionCounts(total=sum(by_label.values()),
                                by_label={digit: by_label.get(digit, 0) for digit in range(10)},
                                by_writer=dict(by_writer))

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
        label = None if label is None else _validated_label(label)
        self._ready()
        return self._select(collection, label=label, limit=max(0, int(limit)))

    def arrays(self, collection: str = DEFAULT_COLLECTION) -> CollectionData:
        """Every drawing of a collection as arrays (for training, evaluation and export), oldest first.

        Args:
            collection: the collection's name.

        Returns:
            A CollectionData.
        """
        collection = validate_collection(collection)
        self._ready()
        return self._arrays(collection)

    def is_closed(self, collection: str = DEFAULT_COLLECTION) -> bool:
        """Whether the teacher closed a collection to new drawings (a page then offers no label buttons).

        Args:
            collection: the collection's name.

        Returns:
            True while it is closed.
        """
        collection = validate_collection(collection)
        self._ready()
        return self._closed(collection)

    def switcher_hidden(self) -> bool:
        """Whether the teacher hid the collection switcher from students (`hide_switcher`)."""
        self._ready()
        return self._setting(HIDE_SWITCHER_SETTING) == "1"

    # -- what only a teacher does -----------------------------------------------------------

    def delete_collection(self, collection: str, *, authorised: bool) -> int:
        """Delete every drawing of a collection.

        Args:
            collection: the collection's name.
            authorised: whether the teacher key was given (`teacher.key_matches`).

        Returns:
            How many drawings were deleted.

        Raises:
            NotAuthorised: without the teacher key.
        """
        collection = _teacher_only(collection, authorised, N_("Deleting a collection needs the teacher key."))
        self._ready()
        return self._delete_collection(collection)

    def import_arrays(self, data: CollectionData, collection: str = DEFAULT_COLLECTION, *,
                      authorised: bool) -> int:
        """Add drawings (e.g. read by `collection.read_npz`) to a collection, all or none.

        Works into a closed collection too: closing stops students' new drawings, not the teacher.

        Args:
            data: images, labels and writer ids; validated again here.
            collection: the collection's name.
            authorised: whether the teacher key was given (`teacher.key_matches`).

        Returns:
            How many drawings were added.

        Raises:
            NotAuthorised: without the teacher key.
            InvalidValue: when the arrays are not a valid collection (nothing is stored).
            StoreFull: the images would take the store past `max_data_bytes` (nothing is stored);
                the per-collection quota is for students' saves, not the teacher's import.
            StoreUnavailable: when the database cannot be written (nothing is stored).
        """
        collection = _teacher_only(collection, authorised, N_("Importing drawings needs the teacher key."))
        validate_arrays(data)
        saved_at = _now()
        drawings = [NewDrawing(collection=collection, writer=str(writer), label=int(label),
                               image=np.ascontiguousarray(image), canvas_png=None, saved_at=saved_at)
                    for image, label, writer in zip(data.x, data.y, data.writers)]
        self._ready()
        self._check_quotas(collection, drawings=len(drawings), needed_bytes=int(data.x.nbytes), per_collection=False)
        self._insert_all(drawings)
        return len(drawings)

    def set_collection_closed(self, collection: str, closed: bool, *, authorised: bool) -> None:
        """Close a collection to new drawings, or reopen it: closed, students' saves are refused
        (`CollectionClosed`).

        Its drawings stay, and can still be seen, exported, deleted, and added by import; the
        closing holds after a restart, until the teacher reopens it.

        Args:
            collection: the collection's name.
            closed: True to close it, False to reopen it.
            authorised: whether the teacher key was given (`teacher.key_matches`).

        Raises:
            NotAuthorised: without the teacher key.
            StoreUnavailable: when the database cannot be written.
        """
        collection = _teacher_only(collection, authorised,
                                   N_("Closing or reopening a collection needs the teacher key."))
        self._ready()
        self._set_closed(collection, bool(closed))

    def hide_switcher(self, hidden: bool, *, authorised: bool) -> None:
        """Hide the class page's collection switcher from students, or show it again (server-wide).

        Hidden, a student sees only the collection of their link; the teacher, with the key, still
        sees the switcher. A convenience, not a lock: a student who knows another collection's
        name can still type it into a link.

        Args:
            hidden: True to hide it, False to show it.
            authorised: whether the teacher key was given (`teacher.key_matches`).

        Raises:
            NotAuthorised: without the teacher key.
            StoreUnavailable: when the database cannot be written.
        """
        _require_teacher(authorised, N_("Hiding the collection switcher needs the teacher key."))
        self._ready()
        self._set_setting(HIDE_SWITCHER_SETTING, "1" if hidden else "0")


def open_store(data_dir: str | os.PathLike | None = None, *, max_per_writer: int | None = None,
               max_per_collection: int | None = None, max_data_bytes: int | None = None) -> DrawingStore:
    """The server's drawing store: SQLite in the data folder (the only backend so far).

    Args:
        data_dir: the folder holding the database; default `default_data_dir()`
            (`KERASWAYS_DATA_DIR`, else ~/.kerasways). Created on first use.
        max_per_writer: the most drawings one writer may save in one collection (None:
            MAX_DRAWINGS_PER_WRITER).
        max_per_collection: the most drawings one collection may hold (None: the environment's, else
            MAX_DRAWINGS_PER_COLLECTION).
        max_data_bytes: the most bytes the whole store may occupy (None: the environment's, else MAX_DATA_MB).

    Returns:
        A DrawingStore. Nothing touches the database until the first call, so this never fails.
    """
    from kerasways.sqlite_store import SQLiteDrawingStore  # the backend imports this module

    return SQLiteDrawingStore(data_dir, max_per_writer=max_per_writer, max_per_collection=max_per_collection,
                              max_data_bytes=max_data_bytes)
