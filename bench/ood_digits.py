"""Digits that are not MNIST, drawn on a 280×280 canvas: typeset fonts, handwriting fonts, stroke-drawn digits.

MNIST test digits rendered onto a canvas flatter a network (same writers, same scanner, same
pen). These sources do not: they are made here, offline, from the fonts installed on the
machine and from pen strokes with jitter, and each canvas goes through `to_mnist` exactly
like a drawing on the Draw page.

* typeset fonts: every installed font with digits whose family is not a handwriting font
  (DejaVu, Liberation, the URW PostScript clones, FreeFont, Lato, Open Sans, Cabin, ...);
* handwriting fonts: the families in HANDWRITING_FAMILIES that are installed (Debian packages
  fonts-comic-neue fonts-dkg-handwriting fonts-breip fonts-bwht fonts-humor-sans
  fonts-dancingscript fonts-kaushanscript fonts-kristi fonts-rufscript fonts-klee
  fonts-tomsontalks fonts-tlwg-purisa-otf fonts-femkeklaver); missing ones are skipped;
* strokes: polylines a hand might draw, with European variants (1 with a flag and a base,
  open-topped 4, crossed 7, flat-topped 3), jittered, slanted, at pen widths from a fine
  tip to a felt-tip.

Every sample gets a random slant, pen width, size (60-260 px) and place on the canvas.
Tune on one source and read the others as held out.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from kerasways.drawing import to_mnist

CANVAS = 280
SIZE_RANGE = (60, 260)  # longer side of the digit on the canvas, px
SLANT_RANGE = (-0.35, 0.45)  # horizontal shear (right-leaning handwriting is the common case)
HANDWRITING_FAMILIES = (
    "Comic Neue", "DkgHandwriting", "Breip", "Because We", "Humor Sans", "Dancing Script", "Kaushan Script",
    "Kristi", "Rufscript", "Klee One", "Tomson Talks", "Purisa", "FemkeKlaver",
)
# Fonts whose "digits" are symbols or that draw digits unlike anyone writes them.
NOT_DIGIT_FAMILIES = ("D050000L", "Standard Symbols PS", "DejaVu Math TeX Gyre", "Z003")
SOURCES = ("typeset fonts", "handwriting fonts", "strokes")


@dataclass(frozen=True)
class Digits:
    """Preprocessed samples of one source: 28×28 float32 images in [0, 1] and their labels."""

    name: str
    images: np.ndarray
    labels: np.ndarray


def installed_fonts() -> dict[str, list[str]]:
    """Font files with the ten digits, split into "typeset fonts" and "handwriting fonts"."""
    listing = subprocess.run(["fc-list", ":charset=0030-0039", "file", "family"], capture_output=True,
                             text=True, check=False).stdout
    fonts: dict[str, list[str]] = {"typeset fonts": [], "handwriting fonts": []}
    for line in sorted(set(listing.splitlines())):
        path, _, family = line.partition(": ")
        family = family.removeprefix(":family=").strip()
        if not path.endswith((".ttf", ".otf", ".pfb", ".t1")) or any(bad in family for bad in NOT_DIGIT_FAMILIES):
            continue
        kind = "handwriting fonts" if any(name in family for name in HANDWRITING_FAMILIES) else "typeset fonts"
        fonts[kind].append(path)
    return fonts


def _glyph(path: str, digit: int) -> np.ndarray | None:
    try:
        font = ImageFont.truetype(path, 160)
    except OSError:
        return None
    image = Image.new("L", (320, 320), 0)
    ImageDraw.Draw(image).text((80, 40), str(digit), fill=255, font=font)
    array = np.asarray(image)
    rows, cols = np.nonzero(array > 64)
    if len(rows) == 0:
        return None
    return array[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def _change_pen(ink: np.ndarray, grow: float) -> np.ndarray:
    """Make strokes `grow` px thicker (negative: thinner) with a signed distance transform."""
    mask = np.pad(ink >= 128, 1)
    signed = np.where(mask, ndimage.distance_transform_edt(mask) - 0.5,
                      0.5 - ndimage.distance_transform_edt(~mask))[1:-1, 1:-1]
    return np.rint(np.clip(signed + grow + 0.5, 0, 1) * 255).astype(np.uint8)


def _slant(ink: np.ndarray, shear: float) -> np.ndarray:
    height, width = ink.shape
    extra = int(math.ceil(abs(shear) * height))
    image = Image.fromarray(ink).transform(
        (width + extra, height), Image.Transform.AFFINE,
        (1, shear, -extra if shear > 0 else 0, 0, 1, 0), resample=Image.Resampling.BILINEAR)
    return np.asarray(image)


def _on_canvas(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`ink` (grey, any size) scaled to a random size and pasted at a random place on a black RGBA canvas."""
    size = int(rng.integers(SIZE_RANGE[0], SIZE_RANGE[1] + 1))
    height, width = ink.shape
    factor = size / max(height, width)
    new_height, new_width = max(1, round(height * factor)), max(1, round(width * factor))
    scaled = np.asarray(Image.fromarray(ink).resize((new_width, new_height), Image.Resampling.BILINEAR))
    top = int(rng.integers(0, CANVAS - new_height + 1))
    left = int(rng.integers(0, CANVAS - new_width + 1))
    canvas = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[top:top + new_height, left:left + new_width, :3] = scaled[..., None]
    return canvas


def _font_canvas(path: str, digit: int, rng: np.random.Generator) -> np.ndarray | None:
    glyph = _glyph(path, digit)
    if glyph is None:
        return None
    glyph = _slant(glyph, rng.uniform(*SLANT_RANGE))
    # Pen from about half to twice the font's own stroke (the glyph is about 115 px tall here).
    thinned = _change_pen(glyph, rng.uniform(-3.0, 8.0))
    if (thinned >= 128).sum() < 0.4 * (glyph >= 128).sum():
        thinned = glyph  # a hairline font would vanish
    return _on_canvas(thinned, rng)


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 24) -> list:
    # Angles in degrees, y pointing down: 270° is the top of the ellipse, 90° its bottom.
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, steps)]


# Each digit: variants, each a list of strokes, each a list of (x, y) in a box 0.7 wide, 1 tall.
STROKE_DIGITS: dict[int, list[list[list[tuple[float, float]]]]] = {
    0: [[_arc(0.35, 0.5, 0.3, 0.48, 260, 620)]],
    1: [[[(0.35, 0.0), (0.35, 1.0)]],
        [[(0.12, 0.28), (0.38, 0.0), (0.38, 1.0)]],
        [[(0.12, 0.28), (0.38, 0.0), (0.38, 1.0)], [(0.12, 1.0), (0.62, 1.0)]]],
    2: [[_arc(0.35, 0.28, 0.3, 0.27, 190, 395) + [(0.03, 1.0), (0.68, 1.0)]],
        [_arc(0.35, 0.28, 0.3, 0.27, 190, 395) + [(0.05, 0.95)] + _arc(0.15, 0.9, 0.1, 0.1, 180, 400)
         + [(0.7, 0.97)]]],
    3: [[_arc(0.33, 0.26, 0.28, 0.25, 200, 450), _arc(0.33, 0.74, 0.32, 0.26, 270, 520)],
        [[(0.05, 0.0), (0.62, 0.0), (0.28, 0.42)] + _arc(0.33, 0.72, 0.32, 0.28, 280, 520)]],
    4: [[[(0.52, 1.0), (0.52, 0.0), (0.0, 0.66), (0.7, 0.66)]],
        [[(0.12, 0.0), (0.05, 0.6), (0.7, 0.6)], [(0.52, 0.22), (0.52, 1.0)]]],
    5: [[[(0.62, 0.0), (0.12, 0.0), (0.08, 0.44)] + _arc(0.35, 0.7, 0.3, 0.29, 220, 510)],
        [[(0.1, 0.0), (0.07, 0.44)] + _arc(0.35, 0.7, 0.3, 0.29, 220, 510), [(0.1, 0.0), (0.64, 0.0)]]],
    6: [[[(0.6, 0.02), (0.35, 0.12), (0.13, 0.38), (0.06, 0.68)] + _arc(0.35, 0.72, 0.29, 0.27, 180, 540)]],
    7: [[[(0.0, 0.0), (0.68, 0.0), (0.25, 1.0)]],
        [[(0.0, 0.0), (0.68, 0.0), (0.25, 1.0)], [(0.18, 0.52), (0.62, 0.5)]],
        [[(0.0, 0.14), (0.02, 0.0), (0.68, 0.0), (0.3, 1.0)]]],
    8: [[_arc(0.35, 0.25, 0.25, 0.24, 0, 360), _arc(0.35, 0.74, 0.3, 0.26, 0, 360)],
        [_arc(0.35, 0.25, 0.26, 0.24, 90, 360) + [(0.05, 0.75)] + _arc(0.35, 0.75, 0.3, 0.25, 180, 540)[1:]
         + [(0.1, 0.38)]]],
    9: [[_arc(0.35, 0.3, 0.28, 0.28, 0, 360) + [(0.6, 1.0)]],
        [_arc(0.35, 0.3, 0.28, 0.28, 0, 360) + [(0.58, 0.8), (0.3, 1.0)]]],
}


def _stroke_canvas(digit: int, rng: np.random.Generator) -> np.ndarray:
    strokes = STROKE_DIGITS[digit][int(rng.integers(len(STROKE_DIGITS[digit])))]
    shear = rng.uniform(*SLANT_RANGE)
    aspect = rng.uniform(0.75, 1.3)
    wobble = rng.normal(0, 0.025, size=(2, 3))  # a smooth bend across the whole digit
    scale = 200.0
    size_px = 260
    image = Image.new("L", (size_px * 2, size_px * 2), 0)
    draw = ImageDraw.Draw(image)
    pen = int(rng.integers(6, 26))  # canvas pens from a fine tip to a felt-tip, at this working size
    for stroke in strokes:
        points = []
        for x, y in stroke:
            x = x * aspect + rng.normal(0, 0.02) + wobble[0, 0] * math.sin(3 * y + wobble[0, 1])
            y = y + rng.normal(0, 0.02) + wobble[1, 0] * math.sin(3 * x + wobble[1, 1])
            x = x - shear * (y - 0.5)
            points.append((size_px / 2 + x * scale, size_px / 2 + y * scale))
        draw.line(points, fill=255, width=pen, joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255)
    ink = np.asarray(image)
    rows, cols = np.nonzero(ink)
    return _on_canvas(ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1], rng)


def _preprocessed(canvases: list[np.ndarray]) -> np.ndarray:
    images = []
    for canvas in canvases:
        processed = to_mnist(canvas)
        images.append(np.zeros((28, 28), np.float32) if processed is None else processed.image)
    return np.stack(images)


def make_source(name: str, per_digit: int, seed: int = 0) -> Digits | None:
    """`per_digit` canvases of each digit from source `name`, through `to_mnist`.

    Args:
        name: one of SOURCES.
        per_digit: samples per digit (fonts are cycled, each sample with its own slant, pen, size, place).
        seed: random seed of the renderings.

    Returns:
        The preprocessed Digits, or None when no font of that kind is installed.
    """
    rng = np.random.default_rng(seed)
    canvases, labels = [], []
    if name == "strokes":
        for digit in range(10):
            for _ in range(per_digit):
                canvases.append(_stroke_canvas(digit, rng))
                labels.append(digit)
    else:
        fonts = installed_fonts()[name]
        if not fonts:
            return None
        for digit in range(10):
            order = rng.permutation(len(fonts))
            made = 0
            for attempt in range(per_digit * 3):
                canvas = _font_canvas(fonts[order[attempt % len(fonts)]], digit, rng)
                if canvas is not None:
                    canvases.append(canvas)
                    labels.append(digit)
                    made += 1
                if made == per_digit:
                    break
    return Digits(name, _preprocessed(canvases), np.asarray(labels))
