"""Canvas drawing → 28×28 MNIST-like input, following MNIST's own preprocessing recipe.

MNIST digits were size-normalised to fit a 20×20 box (keeping the aspect ratio, anti-aliased)
and placed in a 28×28 image with their centre of mass at the centre. A network trained on them
only knows that layout: a whole canvas shrunk to 28×28 (`naive_resize`) gives a digit that is
too small, off-centre or too thin, and accuracy collapses. `to_mnist` repeats the recipe and
keeps every intermediate image so the page can show what the network really sees.

Needs only numpy, scipy and Pillow (no Streamlit, no TensorFlow), so it is cheap to test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

MNIST_SIZE = 28
DIGIT_BOX = 20  # MNIST scaled each digit's longer side to 20 px
# Pixel-index coordinates of MNIST's centre of mass: measured at (14.0, 14.0), not the
# geometric centre 13.5; centring at 13.5 cost 3-4 points of accuracy.
MNIST_CENTRE = (14.0, 14.0)
# Stroke width of MNIST digits at the 20 px scale, measured with `_stroke_width` on training
# digits upscaled ×10: median 2.33 (DESIGN quotes about 2.4), 10th-90th percentile 1.7-3.3.
# A drawing whose width falls outside that range is brought to its nearest end; inside it,
# the drawing's own width is kept, as MNIST writers' widths vary too.
MNIST_STROKE_RANGE = (1.7, 3.3)
NOISE_LEVEL = 32  # grey levels below this are compression/anti-aliasing dust, never ink
SPECK_AREA_FRACTION = 1e-4  # a connected blob smaller than this share of the canvas is a speck
MIN_SPECK_PIXELS = 4
# Thinning by more than this share of a stroke's half-width would erase its thinner parts
# (pen strokes are even, so most of it is safe; a slab is still brought to MNIST's range).
MAX_THINNING = 0.75
WORK_SIZE = 80  # longer side, in px, at which strokes are measured and redrawn


@dataclass(frozen=True)
class Preprocessed:
    """A drawing turned into an MNIST-like input, with each step kept for display.

    Attributes:
        image: 28×28 float32 in [0, 1], the network's input (the `centred` image / 255).
        grey: the whole canvas as a grey-level uint8 image (ink bright, background 0).
        cropped: the ink's bounding box after speck removal, uint8; with stroke normalisation
            it is the redrawn ink at a working size (longer side about 80 px), not canvas size.
        scaled: `cropped` resized so its longer side is 20 px, uint8.
        centred: `scaled` placed in 28×28 with its centre of mass at (14, 14), uint8.
        centre_of_mass_before: (row, column) centre of mass of `scaled` pasted in the middle of
            the 28×28 image, before the shift that moved it to (14, 14).
        stroke_width: estimated stroke width of the drawing in canvas pixels (0 if not estimated).
    """

    image: np.ndarray
    grey: np.ndarray
    cropped: np.ndarray
    scaled: np.ndarray
    centred: np.ndarray
    centre_of_mass_before: tuple[float, float]
    stroke_width: float = 0.0


def grey_level(rgba: np.ndarray) -> np.ndarray:
    """The canvas as a grey-level image: ink bright, background 0.

    Args:
        rgba: H×W×4 (or H×W×3, or H×W) image, uint8 0-255 or float 0-1 / 0-255; white
            strokes on black, as `streamlit-drawable-canvas` returns it.

    Returns:
        H×W uint8 array.

    Raises:
        ValueError: when the array is not an image of one of those shapes.
    """
    array = np.asarray(rgba)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ValueError(f"rgba: expected an H×W×4 (or ×3, or H×W) image; received shape {np.shape(rgba)}")
    if array.dtype != np.uint8:
        values = np.nan_to_num(array.astype(np.float32))
        if array.dtype.kind == "f" and values.size and values.max() <= 1.0:
            values = values * 255.0
        array = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    if array.shape[2] == 1:
        return array[..., 0].copy()
    # max, not mean: a coloured pen still counts as full ink. (Element-wise maximum of the
    # three planes is ten times faster than .max(axis=2) on an interleaved array.)
    grey = np.maximum(np.maximum(array[..., 0], array[..., 1]), array[..., 2])
    if array.shape[2] == 4:
        alpha = array[..., 3]
        if not (alpha == 255).all():
            # The canvas bakes its black background in (alpha 255 everywhere); on a transparent
            # canvas alpha is what marks the ink, so weighting by it covers both.
            grey = ((grey.astype(np.uint16) * alpha + 127) // 255).astype(np.uint8)
    return grey


def _without_specks(grey: np.ndarray) -> np.ndarray:
    """Ink mask with tiny isolated blobs removed (stray clicks, dust), or an all-False mask."""
    if grey.size == 0 or int(grey.max()) < NOISE_LEVEL:
        return np.zeros(grey.shape, dtype=bool)
    # Half the brightest level: the canvas's anti-aliased stroke edges fall on either side
    # evenly, so the mask keeps the stroke's drawn width.
    mask = grey >= max(NOISE_LEVEL, int(grey.max()) // 2 + 1)
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    min_pixels = max(MIN_SPECK_PIXELS, int(SPECK_AREA_FRACTION * grey.size))
    return (sizes >= min_pixels)[labels]


def _stroke_width(mask: np.ndarray) -> float:
    """Stroke width in pixels: twice the median distance to the background along the strokes' ridge.

    The ridge (local maxima of the distance transform) runs down the middle of every stroke,
    where the distance to the edge is half the width; the median ignores blobs at crossings.
    """
    distance = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    ridge = mask & (distance >= ndimage.maximum_filter(distance, size=3))
    if not ridge.any():
        return 0.0
    # A stroke w pixels wide has its middle pixel about (w + 1) / 2 from the background.
    return float(max(2.0 * np.median(distance[ridge]) - 1.0, 1.0))


def _normalise_stroke(mask: np.ndarray) -> tuple[np.ndarray, float]:
    """Redraw the ink with a stroke width MNIST has (relative to the digit's size).

    Returns the new grey image (uint8, on a canvas padded so thicker strokes are not clipped)
    and the estimated original stroke width.
    """
    width = _stroke_width(mask)
    rows, cols = np.nonzero(mask)
    longer = max(int(np.ptp(rows)), int(np.ptp(cols))) + 1
    target = float(np.clip(width * DIGIT_BOX / longer, *MNIST_STROKE_RANGE))
    # Thickening by d grows the box by 2d too; solve width + 2d = target * (longer + 2d) / 20.
    ratio = target / DIGIT_BOX
    grow = (ratio * longer - width) / (2.0 * (1.0 - ratio))
    grow = max(grow, -MAX_THINNING * width / 2.0)
    pad = int(np.ceil(max(grow, 0.0))) + 2
    padded = np.pad(mask, pad)
    # Signed distance to the stroke edge (positive inside); shifting it by `grow` moves every
    # edge outwards (or inwards) by the same amount, and a one-pixel ramp keeps edges anti-aliased.
    inside = ndimage.distance_transform_edt(padded)
    outside = ndimage.distance_transform_edt(~padded)
    signed = np.where(padded, inside - 0.5, 0.5 - outside)
    grey = np.clip(signed + grow + 0.5, 0.0, 1.0) * 255.0
    return np.rint(grey).astype(np.uint8), width


def _bounding_box(image: np.ndarray) -> tuple[slice, slice]:
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _resize(image: np.ndarray, factor: float, limit: int | None = None) -> np.ndarray:
    height, width = image.shape
    new_height = max(1, round(height * factor))
    new_width = max(1, round(width * factor))
    if limit is not None:
        new_height, new_width = min(new_height, limit), min(new_width, limit)
    # Pillow's bilinear filter widens its support when shrinking, so it anti-aliases; the
    # resampling filter made no measurable difference to accuracy (DESIGN §6).
    resized = Image.fromarray(image).resize((new_width, new_height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


def _scale_longer_side(image: np.ndarray, size: int = DIGIT_BOX) -> np.ndarray:
    return _resize(image, size / max(image.shape), limit=size)


def _centre(scaled: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Paste into 28×28 with the centre of mass at MNIST_CENTRE; also return the mass centre before."""
    height, width = scaled.shape
    pasted = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    top, left = (MNIST_SIZE - height) // 2, (MNIST_SIZE - width) // 2
    pasted[top:top + height, left:left + width] = scaled
    before = ndimage.center_of_mass(pasted)
    shift = (MNIST_CENTRE[0] - before[0], MNIST_CENTRE[1] - before[1])
    # Linear interpolation keeps the centre of mass exact (sub-pixel); the blur it adds is
    # at most half a pixel, well under the 1 px blur that measurably costs accuracy.
    centred = ndimage.shift(pasted, shift, order=1, mode="constant", cval=0.0, prefilter=False)
    centred = np.clip(np.rint(centred), 0, 255).astype(np.uint8)
    return centred, (float(before[0]), float(before[1]))


def to_mnist(rgba: np.ndarray, *, normalise_stroke: bool = True) -> Preprocessed | None:
    """Turn a canvas drawing into a 28×28 MNIST-like input, keeping every step for display.

    Steps (MNIST's own recipe): grey level; drop specks; crop to the ink's bounding box;
    optionally redraw the strokes with MNIST's stroke width; scale the longer side to 20 px
    keeping the aspect ratio (anti-aliased); paste into 28×28 and shift so the centre of mass
    sits at (14, 14); scale to [0, 1] like the training digits (uint8 / 255).

    Args:
        rgba: the canvas image, H×W×4 (any size), white strokes on black. H×W×3, H×W and
            float images are accepted too.
        normalise_stroke: bring the stroke width into MNIST's range (1.7-3.3 px at the 20 px
            scale, median about 2.4), so thin-pen and thick-pen drawings look like MNIST digits.

    Returns:
        A Preprocessed, or None when the canvas holds no ink (blank, or only specks).

    Raises:
        ValueError: when `rgba` is not an image array.
    """
    grey = grey_level(rgba)
    ink = _without_specks(grey)
    if not ink.any():
        return None
    rows, cols = _bounding_box(ink)
    # One pixel more on each side keeps the anti-aliased stroke edges.
    rows = slice(max(rows.start - 1, 0), rows.stop + 1)
    cols = slice(max(cols.start - 1, 0), cols.stop + 1)
    kept = ndimage.binary_dilation(ink[rows, cols], structure=np.ones((3, 3)))
    crop = np.where(kept, grey[rows, cols], 0).astype(np.uint8)
    stroke_width = 0.0
    if normalise_stroke:
        # The distance transforms cost ~5 ms each on a 280 px canvas; at WORK_SIZE they are
        # far cheaper and a 2.4/20 stroke is still several pixels wide.
        factor = WORK_SIZE / max(crop.shape)
        work = _resize(crop, factor)
        level = max(int(work.max()) // 2 + 1, 1)
        redrawn, work_width = _normalise_stroke(work >= level)
        stroke_width = work_width / factor
        crop = redrawn
    if not crop.any():  # a faint sliver can vanish when resampled; never crash on a drawing
        crop = np.where(kept, 255, 0).astype(np.uint8)
    cropped = crop[_bounding_box(crop)]
    scaled = _scale_longer_side(cropped)
    if not scaled.any():
        scaled = np.full_like(scaled, 255)
    centred, before = _centre(scaled)
    image = centred.astype(np.float32) / 255.0
    return Preprocessed(image=image, grey=grey, cropped=cropped, scaled=scaled, centred=centred,
                        centre_of_mass_before=before, stroke_width=stroke_width)


def naive_resize(rgba: np.ndarray) -> np.ndarray:
    """The whole canvas shrunk to 28×28: what not to do, shown for comparison.

    Args:
        rgba: the canvas image, as for `to_mnist`.

    Returns:
        28×28 float32 in [0, 1]; all zeros for an empty canvas.
    """
    grey = grey_level(rgba)
    if grey.size == 0:
        return np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    resized = Image.fromarray(grey).resize((MNIST_SIZE, MNIST_SIZE), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32) / 255.0
