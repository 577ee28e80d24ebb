"""Drawing preprocessing: a canvas drawing must look to the network like an MNIST digit."""

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from kerasways.drawing import Preprocessed, naive_resize, to_mnist


def canvas(height: int = 280, width: int = 280) -> np.ndarray:
    """A black canvas with alpha 255 everywhere, as streamlit-drawable-canvas returns it."""
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    return rgba


def draw_digit(digit: np.ndarray, size: int, top: int, left: int, height: int = 280, width: int = 280) -> np.ndarray:
    """An MNIST digit upscaled to size×size and drawn white on black at (top, left)."""
    rgba = canvas(height, width)
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR))
    rgba[top:top + size, left:left + size, :3] = big[..., None]
    return rgba


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def check_output(result: Preprocessed) -> None:
    assert result.image.shape == (28, 28) and result.image.dtype == np.float32
    assert 0.0 <= result.image.min() and result.image.max() <= 1.0
    assert result.image.max() > 0.5, "the ink must survive preprocessing"
    assert result.centred.shape == (28, 28) and result.centred.dtype == np.uint8
    assert max(result.scaled.shape) == 20


def test_centre_of_mass_at_14_14(mnist):
    for index, (size, top, left) in enumerate([(100, 10, 170), (250, 20, 5), (60, 200, 30)]):
        result = to_mnist(draw_digit(mnist.x_test[index], size, top, left))
        row, col = ndimage.center_of_mass(result.image)
        assert abs(row - 14.0) < 0.5 and abs(col - 14.0) < 0.5, (row, col)
        # The shift really moved it: before, it was wherever the pasted box put it.
        assert result.centre_of_mass_before != pytest.approx((14.0, 14.0), abs=1e-3)


def test_longer_side_of_ink_is_20_px():
    rgba = canvas()
    rgba[40:240, 120:160, :3] = 255  # a tall bar, a "1": 200 px high, 40 px wide
    result = to_mnist(rgba, normalise_stroke=False)
    rows, cols = np.nonzero(result.scaled)
    assert rows.max() - rows.min() + 1 == 20
    assert cols.max() - cols.min() + 1 <= 5  # aspect ratio kept: not stretched to a square
    rgba = canvas()
    rgba[100:130, 20:260, :3] = 255  # a wide bar: the width is the longer side
    rows, cols = np.nonzero(to_mnist(rgba).scaled)
    assert cols.max() - cols.min() + 1 == 20
    assert rows.max() - rows.min() + 1 < 10


def test_blank_canvas_is_none():
    assert to_mnist(canvas()) is None
    assert to_mnist(canvas(50, 300)) is None
    faint = canvas()
    faint[..., :3] = 10  # dark-grey background noise is not ink
    assert to_mnist(faint) is None


def test_specks_are_none_and_do_not_stretch_the_box():
    rgba = canvas()
    for row, col in [(5, 5), (270, 10), (140, 140), (20, 250), (260, 260)]:
        rgba[row:row + 2, col:col + 2, :3] = 255  # 2×2 px dust, far apart
    assert to_mnist(rgba) is None
    # A real stroke plus a stray speck: the speck must not enlarge the crop.
    rgba[100:200, 130:150, :3] = 255
    result = to_mnist(rgba, normalise_stroke=False)
    assert result.cropped.shape[0] <= 102 and result.cropped.shape[1] <= 22


def test_shift_and_scale_invariance(mnist):
    digit = mnist.x_test[3]
    results = [to_mnist(draw_digit(digit, size, top, left)).image
               for size, top, left in [(80, 10, 190), (240, 30, 20), (140, 130, 0)]]
    for other in results[1:]:
        assert np.abs(results[0] - other).mean() < 0.05
        assert correlation(results[0], other) > 0.9
    # The naive resize is not invariant: that is why the recipe exists.
    naive = [naive_resize(draw_digit(digit, size, top, left)) for size, top, left in [(80, 10, 190), (240, 30, 20)]]
    assert correlation(naive[0], naive[1]) < 0.5


def test_reproduces_mnist_digits(mnist):
    rng = np.random.default_rng(0)
    correlations, naive_correlations = [], []
    for digit in mnist.x_test[:60]:
        size = int(rng.integers(60, 261))
        top, left = (int(v) for v in rng.integers(0, 280 - size + 1, size=2))
        rgba = draw_digit(digit, size, top, left)
        correlations.append(correlation(to_mnist(rgba).image, digit))
        naive_correlations.append(correlation(naive_resize(rgba), digit))
    assert np.mean(correlations) > 0.8
    assert np.mean(naive_correlations) < 0.5


def stroke_width_of_bar(image: np.ndarray) -> float:
    """Width of a vertical bar in the 28×28 image: ink per row, in the bar's middle rows."""
    rows = image.sum(axis=1)
    return float(np.median(rows[rows > 0.5 * rows.max()]))


def test_stroke_width_is_brought_into_mnist_range():
    thin, thick = canvas(), canvas()
    thin[40:240, 138:141, :3] = 255  # a 3 px hairline "1", 200 px tall: 0.3 px at the 20 px scale
    thick[40:240, 100:180, :3] = 255  # an 80 px slab, 200 px tall: 8 px at the 20 px scale
    assert stroke_width_of_bar(to_mnist(thin, normalise_stroke=False).image) <= 1.0
    assert stroke_width_of_bar(to_mnist(thick, normalise_stroke=False).image) > 6.0
    # MNIST's strokes are 1.7-3.3 px wide at that scale (10th-90th percentile).
    assert 1.4 <= stroke_width_of_bar(to_mnist(thin).image) <= 2.5
    assert 2.5 <= stroke_width_of_bar(to_mnist(thick).image) <= 4.0


def test_border_scribble_dot_and_odd_canvases_do_not_raise(mnist):
    touching = canvas()
    touching[0:150, 0:20, :3] = 255  # a stroke running off the top-left corner
    full = canvas()
    full[..., :3] = 255  # a scribble over everything
    dot = canvas()
    yy, xx = np.ogrid[:280, :280]
    dot[(yy - 100) ** 2 + (xx - 200) ** 2 <= 81, :3] = 255  # one click of an 18 px pen
    for rgba in (touching, full, dot, draw_digit(mnist.x_test[5], 150, 0, 200, height=150, width=400),
                 draw_digit(mnist.x_test[6], 200, 250, 0, height=450, width=200)):
        check_output(to_mnist(rgba))
        check_output(to_mnist(rgba, normalise_stroke=False))
        assert naive_resize(rgba).shape == (28, 28)


def test_non_square_canvas_gives_the_same_digit(mnist):
    digit = mnist.x_test[7]
    square = to_mnist(draw_digit(digit, 150, 60, 60)).image
    wide = to_mnist(draw_digit(digit, 150, 20, 400, height=200, width=600)).image
    tall = to_mnist(draw_digit(digit, 150, 500, 10, height=700, width=180)).image
    assert np.abs(square - wide).mean() < 0.05 and np.abs(square - tall).mean() < 0.05


def test_grey_level_comes_from_rgb_and_alpha_layouts():
    rgba = canvas()
    rgba[60:220, 100:180, 0] = 255  # a red pen still draws ink
    assert to_mnist(rgba) is not None
    transparent = np.zeros((280, 280, 4), np.uint8)  # no baked background: alpha marks the ink
    transparent[60:220, 100:180] = 255
    expected = to_mnist(rgba).image
    assert np.allclose(to_mnist(transparent).image, expected)
    assert np.allclose(to_mnist(transparent[..., :3].astype(np.float32) / 255).image, expected)
    with pytest.raises(ValueError, match="rgba"):
        to_mnist(np.zeros((4, 4, 2)))
