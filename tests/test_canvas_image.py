"""The canvas's data URL is checked before it is decoded: a forged picture costs the server nothing."""

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from kerasways import i18n
from kerasways.canvas_image import (
    MAX_CANVAS_SIDE,
    MAX_DATA_URL_CHARS,
    PNG_SIGNATURE,
    CanvasRefused,
    check_data_url,
    decode_canvas,
    png_size,
)
from support.stored_drawings import noise_canvas, stroke_canvas
from tests.support import png_chunk


def data_url(png: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(png).decode()


def png_of(image: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", **options)
    return buffer.getvalue()


def header_only_png(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR declaring width × height, then a few bytes of image data (not a whole image)."""
    return (PNG_SIGNATURE + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(bytes(1000))))


@pytest.fixture()
def nothing_decoded(monkeypatch):
    """Any attempt to decode a PNG fails the test: a refusal must come from the checks alone."""

    def refuse_to_decode(*_args, **_options):
        raise AssertionError("the PNG was decoded")

    monkeypatch.setattr("kerasways.canvas_image.Image.open", refuse_to_decode)


def test_a_real_drawing_comes_back_as_drawn():
    canvas = stroke_canvas(4)
    url = data_url(png_of(canvas))
    assert png_size(url) == (280, 280)
    np.testing.assert_array_equal(decode_canvas(url), canvas)


def test_before_any_stroke_there_is_nothing_to_decode():
    assert decode_canvas(None) is None


def test_a_grey_png_comes_back_as_rgba():
    grey = stroke_canvas(4)[..., 0]
    rgba = decode_canvas(data_url(png_of(grey)))
    assert rgba.shape == (280, 280, 4) and rgba.dtype == np.uint8
    np.testing.assert_array_equal(rgba[..., 0], grey)


def test_a_huge_picture_in_a_small_data_url_is_refused_from_its_header(nothing_decoded):
    url = data_url(header_only_png(13_000, 13_000))
    assert len(url) < 2_000
    with pytest.raises(CanvasRefused) as refused:
        decode_canvas(url)
    assert str(refused.value) == ("This drawing was not read: the canvas sent a 13000×13000 image, and a drawing is "
                                  f"at most {MAX_CANVAS_SIDE}×{MAX_CANVAS_SIDE} pixels. Clear the canvas and draw "
                                  "again.")


@pytest.mark.parametrize(("width", "height"), [(MAX_CANVAS_SIDE + 1, 280), (280, MAX_CANVAS_SIDE + 1), (0, 280),
                                               (2048, 2048), (2**31, 1)])
def test_each_side_is_checked(width, height, nothing_decoded):
    with pytest.raises(CanvasRefused, match=f"a {width}×{height} image"):
        check_data_url(data_url(header_only_png(width, height)))


def test_the_largest_side_is_accepted():
    assert check_data_url(data_url(header_only_png(MAX_CANVAS_SIDE, MAX_CANVAS_SIDE))) == (MAX_CANVAS_SIDE,) * 2


def test_a_too_long_data_url_is_refused_before_its_header_is_read(nothing_decoded):
    url = data_url(png_of(stroke_canvas(1))) + "A" * MAX_DATA_URL_CHARS
    with pytest.raises(CanvasRefused, match=r"the canvas sent \d+\.\d MB of image data, more than a drawing can be"):
        decode_canvas(url)


def test_no_honest_canvas_is_too_long_even_uncompressed_noise_at_the_largest_side():
    canvas = noise_canvas(MAX_CANVAS_SIDE)
    url = data_url(png_of(canvas, compress_level=0))
    assert len(url) <= MAX_DATA_URL_CHARS
    np.testing.assert_array_equal(decode_canvas(url), canvas)


@pytest.mark.parametrize("url", [
    "", "hello", 7, {"data": "x"}, "data:image/png;base64,", "data:image/png;base64,!!!!not-base64!!!!",
    data_url(b"GIF89a" + bytes(40)), data_url(png_of(stroke_canvas(1)), kind="jpeg"),
    data_url(header_only_png(280, 280)),  # a header fit for a drawing, then no image
    data_url(png_of(stroke_canvas(1))[:-300]),  # cut short
])
def test_what_is_not_a_png_data_url_is_refused_without_a_crash(url):
    with pytest.raises(CanvasRefused, match="the canvas sent something that is not a PNG image"):
        decode_canvas(url)


def test_the_refusal_is_explained_in_the_readers_language(nothing_decoded):
    with pytest.raises(CanvasRefused) as refused:
        decode_canvas(data_url(header_only_png(13_000, 13_000)))
    chinese = i18n.render(refused.value, "zh")
    assert "13000×13000" in chinese and "not read" not in chinese and "pixels" not in chinese
