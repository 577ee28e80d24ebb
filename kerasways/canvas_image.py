"""The canvas's picture as it arrives: a PNG data URL, checked before it is decoded.

The drawing canvas sends its picture as a data URL (`data:image/png;base64,...`), and a browser can
send anything in its place. A PNG's decoded size is set by its header, not by its file size: a
mostly blank 13,000×13,000 PNG is under 1 MB as a data URL and 676 MB once decoded (the server's
memory grew by 2.9 GB and the answer took 19 s). So `decode_canvas` checks the data URL's length,
then the width and height in the PNG's header (its first 24 bytes, from the first 32 base64
characters), and decodes only a picture within both limits.

The canvas is 280 px (`CANVAS_SIDE`), and streamlit-drawable-canvas 0.13 sends exactly 280×280 on
screens of device pixel ratio 1, 2 and 3 (measured in Chromium): it exports at scale 1. The limit
leaves room for a canvas that would send 280 × its screen's pixel ratio, up to 4.

Needs only the standard library, numpy and Pillow (no Streamlit).
"""

from __future__ import annotations

import base64
import binascii
import io
import struct

import numpy as np
from PIL import Image

from kerasways.i18n import N_
from kerasways.messages import Message, UserError

CANVAS_SIDE = 280  # the Draw page's canvas, in CSS pixels; stored canvases are re-encoded at this side
MAX_PIXEL_RATIO = 4  # the largest screen pixel ratio a canvas may multiply its side by
MAX_CANVAS_SIDE = MAX_PIXEL_RATIO * CANVAS_SIDE
DATA_URL_PREFIX = "data:image/png;base64,"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADER_BYTES = 24  # signature (8), IHDR's length and type (8), width and height (8)
# The longest PNG the largest allowed canvas can be: its RGBA rows uncompressed (a filter byte
# each), plus under 1 % for stored deflate blocks and IDAT chunk framing, plus 64 KB of other
# chunks. No encoder makes a longer one, so the length limit never refuses an honest canvas; it
# only bounds the base64 decoding and inflating done before the header can be trusted.
MAX_PNG_BYTES = MAX_CANVAS_SIDE * (1 + 4 * MAX_CANVAS_SIDE) * 101 // 100 + 65_536
MAX_DATA_URL_CHARS = len(DATA_URL_PREFIX) + 4 * -(-MAX_PNG_BYTES // 3)
# What Pillow and zlib raise for a PNG whose header is fine but whose body is damaged.
UNREADABLE = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


class CanvasRefused(UserError):
    """The canvas sent a picture the server does not decode; nothing was decoded.

    Args:
        reason: why, as a Message (e.g. "the canvas sent a 13000×13000 image ...").
    """

    def __init__(self, reason: Message) -> None:
        self.reason = reason
        super().__init__(Message(N_("This drawing was not read: {reason}. Clear the canvas and draw again."),
                                 {"reason": reason}))


def _not_a_png() -> CanvasRefused:
    return CanvasRefused(Message(N_("the canvas sent something that is not a PNG image")))


def png_size(data_url: str) -> tuple[int, int]:
    """The width and height a PNG data URL declares, read from its header alone (no decoding).

    Args:
        data_url: "data:image/png;base64,..." as the canvas sends it.

    Returns:
        (width, height) in pixels, as the PNG's IHDR chunk states them.

    Raises:
        CanvasRefused: when it is not a base64 PNG data URL with an IHDR header.
    """
    if not isinstance(data_url, str) or not data_url.startswith(DATA_URL_PREFIX):
        raise _not_a_png()
    start = len(DATA_URL_PREFIX)
    try:
        header = base64.b64decode(data_url[start:start + 4 * HEADER_BYTES // 3], validate=True)
    except (binascii.Error, ValueError):
        raise _not_a_png() from None
    if len(header) < HEADER_BYTES or not header.startswith(PNG_SIGNATURE) or header[12:16] != b"IHDR":
        raise _not_a_png()
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def check_data_url(data_url: str, *, max_side: int = MAX_CANVAS_SIDE,
                   max_chars: int = MAX_DATA_URL_CHARS) -> tuple[int, int]:
    """Check a canvas's data URL can be decoded at a cost the server affords, without decoding it.

    Args:
        data_url: "data:image/png;base64,..." as the canvas sends it.
        max_side: the longest width or height accepted, in pixels.
        max_chars: the longest data URL accepted.

    Returns:
        (width, height) the PNG declares.

    Raises:
        CanvasRefused: when the data URL is too long, not a PNG, or declares a side over `max_side`.
    """
    if isinstance(data_url, str) and len(data_url) > max_chars:
        raise CanvasRefused(Message(N_("the canvas sent {size} MB of image data, more than a drawing can be "
                                       "({limit} MB)"), {"size": f"{len(data_url) / 1e6:.1f}",
                                                         "limit": f"{max_chars / 1e6:.1f}"}))
    width, height = png_size(data_url)
    if not (0 < width <= max_side and 0 < height <= max_side):
        raise CanvasRefused(Message(N_("the canvas sent a {width}×{height} image, and a drawing is at most "
                                       "{limit}×{limit} pixels"), {"width": width, "height": height,
                                                                    "limit": max_side}))
    return width, height


def decode_canvas(data_url: str | None, *, max_side: int = MAX_CANVAS_SIDE,
                  max_chars: int = MAX_DATA_URL_CHARS) -> np.ndarray | None:
    """The canvas's picture as an RGBA array, decoded only after `check_data_url` accepted it.

    Args:
        data_url: "data:image/png;base64,..." as the canvas sends it; None before any stroke.
        max_side: the longest width or height accepted, in pixels.
        max_chars: the longest data URL accepted.

    Returns:
        H×W×4 uint8 (whatever the PNG's colour type), or None when `data_url` is None.

    Raises:
        CanvasRefused: when the checks refuse it, or its body is not a readable PNG of the size
            its header states.
    """
    if data_url is None:
        return None
    width, height = check_data_url(data_url, max_side=max_side, max_chars=max_chars)
    try:
        png = base64.b64decode(data_url[len(DATA_URL_PREFIX):], validate=True)
        with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
            if image.size != (width, height):
                raise _not_a_png()
            rgba = np.asarray(image.convert("RGBA"))
    except (binascii.Error, *UNREADABLE):
        raise _not_a_png() from None
    return rgba
