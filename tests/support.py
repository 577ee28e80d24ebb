"""What tests share: the app in AppTest, one polling loop, a served app, drawings, a full disk, browser strokes.

Test modules import their helpers from here, never from each other, and conftest.py holds the
fixtures. The plumbing tests share with the benchmarks (starting `streamlit run`, launching
Debian's Chromium, the offline environment) is the top-level `support` package, used here.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from app_pages.server import WARM_UP_ENV
from kerasways.drawing import to_mnist
from kerasways.store import open_store
from support.app_server import ROOT, start_app, stop_app

ARTIFACTS = ROOT / "artifacts"  # screenshots the browser tests leave for a reader; never the checkout's docs/
APP_TIMEOUT_SECONDS = 60  # one AppTest script run (a first run imports Keras)
POLL_SECONDS = 180.0
# The app's background warm-up (WARM_UP_ENV) imports Keras and starts the training workers. AppTest
# runs the app inside the test process: there the warm-up would start a worker for every test
# session, so AppTests run without it; a served app warms up as in class.


# ---------------------------------------------------------------------------- the app in AppTest


def app_test(query: dict | None = None, *, run: bool = True):
    """The real app (app.py) in Streamlit's AppTest, without the background warm-up.

    Args:
        query: the page address' query parameters, e.g. {"lang": "zh", "epochs": "2"}.
        run: run the script once (and check it raised nothing) before returning.

    Returns:
        The AppTest, on the Build page.
    """
    from streamlit.testing.v1 import AppTest

    os.environ[WARM_UP_ENV] = "0"  # read by the app at every run: AppTest runs it in this process
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT_SECONDS)
    at.query_params.update(query or {})
    if run:
        at.run()
        assert not at.exception, at.exception
    return at


def reload_of(at):
    """A reload of `at`'s page by the same browser: a new session on the same address, with the same
    identity (AppTest sends no cookie, so the session's own id is carried over, as the cookie would be).

    Returns:
        The new AppTest, run once on the Build page.
    """
    from app_pages.session import TAB

    reloaded = app_test(dict(at.query_params.items()), run=False)
    reloaded.session_state[TAB] = at.session_state[TAB]
    reloaded.run()
    assert not reloaded.exception, reloaded.exception
    return reloaded


def unlock_teacher(at, key: str) -> None:
    """Type `key` into the teacher controls' key field on the current page and submit it."""
    at.text_input(key="w_teacher_key").input(key)
    at.button(key="teacher_unlock_submit").click().run()


def poll_until(done: Callable[[], bool], seconds: float = POLL_SECONDS, pause: float = 0.5,
               what: str = "the expected state") -> None:
    """Call `done()` until it returns True; fail after `seconds`.

    Args:
        done: the check (it may also advance what it checks, e.g. rerun an AppTest).
        seconds: how long to wait before failing.
        pause: seconds between checks.
        what: the state waited for, for the failure message.

    Raises:
        AssertionError: `done()` was still False after `seconds`.
    """
    deadline = time.monotonic() + seconds
    while True:
        if done():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(pause)


def rerun_until(at, done: Callable, seconds: float = POLL_SECONDS) -> None:
    """Rerun an AppTest until `done(at)`: its `run_every` fragments never fire by themselves."""

    def rerun_and_check() -> bool:
        at.run()
        assert not at.exception, at.exception
        return done(at)

    poll_until(rerun_and_check, seconds, what="the app to reach the expected state")


def canvas_state(picture: np.ndarray | str) -> dict:
    """What streamlit-drawable-canvas stores after a stroke: the objects and the PNG of the canvas.

    Args:
        picture: the canvas's RGBA image, or the data URL a browser sent in its place.
    """
    data = picture if isinstance(picture, str) else png_data_url(png_bytes(picture))
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": data}, "backgroundFit": None}


def png_bytes(image: np.ndarray) -> bytes:
    """An image array as PNG bytes (Pillow's default compression)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(png: bytes) -> str:
    """PNG bytes as the canvas sends them: a base64 data URL."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(side: int) -> bytes:
    """A side × side RGBA PNG, opaque black with one white bar: mostly blank, so it compresses ~1000:1.

    Written row by row, so even 13,000 × 13,000 (676 MB decoded, 0.7 MB as PNG) never sits in this
    process's memory; Pillow would need the whole image.
    """
    black = b"\x00" + b"\x00\x00\x00\xff" * side  # each row starts with its filter byte (none)
    inked = bytearray(black)
    inked[1 + 4 * (side * 2 // 5):1 + 4 * (side * 3 // 5)] = b"\xff" * (4 * (side * 3 // 5 - side * 2 // 5))
    packer = zlib.compressobj(6)
    rows = b"".join(packer.compress(bytes(inked) if side // 6 < row < side * 5 // 6 else black) for row in range(side))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0))
            + png_chunk(b"IDAT", rows + packer.flush()) + png_chunk(b"IEND", b""))


# ---------------------------------------------------------------------------- drawings and the store


def digit_canvas(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit drawn large and off-centre on a 280×280 canvas, as a student draws."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    big = np.asarray(Image.fromarray(digit).resize((150, 150), Image.Resampling.BILINEAR))
    rgba[20:170, 90:240, :3] = big[..., None]
    return rgba


def fill_collection(data_dir: Path, mnist, writers: int, per_writer: int, collection: str = "class") -> None:
    """Drawings by several writers saved through the store, as if labelled on the Draw page."""
    store = open_store(data_dir)
    for writer in range(writers):
        for index in range(per_writer):
            sample = writer * per_writer + index
            canvas = digit_canvas(mnist.x_test[sample])
            store.save(canvas=canvas, image=to_mnist(canvas).image, label=int(mnist.y_test[sample]),
                       writer=f"student-{writer}", collection=collection)
    store.close()


# ---------------------------------------------------------------------------- a served app and a browser


@contextlib.contextmanager
def served_app(env_extra: dict | None = None) -> Iterator[str]:
    """`streamlit run app.py` on a free port of 127.0.0.1, warming up as in class; stopped with all it started.

    Args:
        env_extra: variables added to the server's environment, e.g. {"KERASWAYS_DATA_DIR": "…"}.

    Yields:
        The app's address, e.g. "http://127.0.0.1:8765".
    """
    with served_app_process(env_extra) as (url, _pid):
        yield url


@contextlib.contextmanager
def served_app_process(env_extra: dict | None = None) -> Iterator[tuple[str, int]]:
    """`served_app`, also naming the server's process (to read its memory in /proc).

    Yields:
        (the app's address, the pid of the Streamlit server process).
    """
    process, url = start_app({WARM_UP_ENV: "1", **(env_extra or {})})
    try:
        yield url, process.pid
    finally:
        stop_app(process)  # its whole process group: the training workers too


def memory_mb(pid: int, field: str = "VmRSS") -> int:
    """A process's memory from /proc/PID/status in MB: "VmRSS" now, "VmHWM" its peak (see `reset_peak_memory`)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    raise KeyError(field)


def reset_peak_memory(pid: int) -> None:
    """Start a process's peak (VmHWM) afresh from its present size, so a later peak is this moment's doing."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


# streamlit-drawable-canvas 0.13 is a Streamlit v2 component: it lives in the page itself (a shadow
# root), not in an iframe, and sends `{raw, data}` with `data` from the canvas's toDataURL. A
# browser forging that value replaces toDataURL's answer once: the next stroke then sends the forged
# picture in exactly the component's own message, and the stroke after it the real canvas again.
FORGE_NEXT_CANVAS_VALUE = """(url) => {
  const original = HTMLCanvasElement.prototype.toDataURL;
  HTMLCanvasElement.prototype.toDataURL = function () {
    HTMLCanvasElement.prototype.toDataURL = original;
    return url;
  };
}"""


def forge_next_canvas_value(page, data_url: str) -> None:
    """Make the Draw page's canvas send `data_url` as its picture after the next stroke (once)."""
    page.evaluate(FORGE_NEXT_CANVAS_VALUE, data_url)


def shown_answer(page):
    """The Draw page's answer as the reader sees it, once a digit is read: the line above the
    canvas on a phone (the result column stacks below), the metric beside the canvas elsewhere.
    """
    return page.locator(".st-key-answer_line:visible, .st-key-answer_metric:visible").filter(
        has_text=re.compile(r"\d")).first


def open_draw_page_with_a_model(page, url: str, query: str = ""):
    """Train the quick model from the Draw page (opened with `query`, e.g. "?epochs=2"), unless the server
    offers it trained already (an earlier test trained it); return the canvas once it is there."""
    page.goto(url + "/draw" + query)
    button = page.get_by_role("button", name=re.compile("Train the network for drawings now"))
    canvas = page.locator("canvas.upper-canvas").first
    button.or_(canvas).first.wait_for(timeout=60_000)
    if button.count():
        button.click(timeout=60_000)
    canvas.wait_for(timeout=120_000)
    page.get_by_text("Draw a digit on the black square").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    return canvas


def absolute(box: dict, points) -> list[tuple[float, float]]:
    """Points given as fractions of an element's bounding box, in page pixels."""
    return [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]


def mouse_stroke(page, points) -> None:
    """Press the mouse at the first point, move through the others, release."""
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=8)
    page.mouse.up()
