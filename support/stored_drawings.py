"""Drawings for the drawing store's tests and benchmarks, and the backends those tests run against.

A test of the store's promises takes a store from `STORE_BACKENDS` (name → opener), so each
backend meets the same tests; a backend's own tests (its files, its faults) open it directly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from kerasways.drawing import to_mnist
from kerasways.sqlite_store import SQLiteDrawingStore
from kerasways.store import DrawingStore

# name → opener(place, **options): place is a folder the test owns (a database URL's stand-in later).
STORE_BACKENDS: dict[str, Callable[..., DrawingStore]] = {
    "sqlite": lambda place, **options: SQLiteDrawingStore(place, **options),
}


def stroke_canvas(seed: int, size: int = 280) -> np.ndarray:
    """A canvas as streamlit-drawable-canvas returns it: white pen strokes on opaque black."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    pen = ImageDraw.Draw(image)
    points = [tuple(int(v) for v in rng.integers(40, size - 40, 2)) for _ in range(4)]
    pen.line(points, fill=(255, 255, 255, 255), width=int(rng.integers(10, 25)), joint="curve")
    return np.asarray(image).copy()


def noise_canvas(side: int, seed: int = 0) -> np.ndarray:
    """An opaque canvas of random colours: what no pen draws, and the worst case for a PNG's size."""
    canvas = np.random.default_rng(seed).integers(0, 256, (side, side, 4), dtype=np.uint8)
    canvas[..., 3] = 255
    return canvas


def drawing(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(canvas, the uint8 28×28 image to_mnist makes of it)."""
    canvas = stroke_canvas(seed)
    return canvas, to_mnist(canvas).centred


def save_one(store: DrawingStore, seed: int = 0, label: int = 7, writer: str = "session-a", **where) -> int:
    """Save one stroke drawing; its id."""
    canvas, image = drawing(seed)
    return store.save(canvas=canvas, image=image, label=label, writer=writer, **where)


def save_many(backend: str, place: str, writer: str, count: int, max_per_writer: int | None = None) -> list[int]:
    """Run in a spawned process (another server): save `count` drawings; the ids acknowledged.

    A save refused by the writer limit is left out, so the ids say what this process was promised.
    """
    from kerasways.store import WriterLimitReached

    store = STORE_BACKENDS[backend](Path(place), max_per_writer=max_per_writer)
    acknowledged = []
    for index in range(count):
        try:
            acknowledged.append(save_one(store, seed=index, label=index % 10, writer=writer))
        except WriterLimitReached:
            pass
    store.close()
    return acknowledged


def fill_sqlite_disk(monkeypatch) -> None:
    """Every SQLite connection opened from now on finds the database file unable to grow (SQLITE_FULL)."""
    original = SQLiteDrawingStore._open_connection

    def full(self):
        connection = original(self)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return connection

    monkeypatch.setattr(SQLiteDrawingStore, "_open_connection", full)
