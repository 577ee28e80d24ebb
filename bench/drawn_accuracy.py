"""Drawn-digit accuracy: MNIST test digits drawn on a canvas the way users draw them.

Trains the default MLP (sequential, 5 epochs), then renders every test digit onto a 280×280
black RGBA canvas, white ink, at a random size (60-260 px, from too small to nearly the whole
canvas) and a random position (off-centre), upscaled with Pillow's bilinear filter. Prints
accuracy on:

* the original 28×28 test digits (the ceiling);
* the canvases through `to_mnist` (the app's path), with and without stroke normalisation;
* the canvases through `naive_resize` (whole canvas shrunk to 28×28);

and the ratio to_mnist / original (goal ≥ 0.90). A second condition also varies the pen:
every stroke is made thinner or thicker (as a thin or a fat pen would), which is what the
stroke normalisation is for.

Run: KERASWAYS_OFFLINE=1 python bench/drawn_accuracy.py [--runs 3] [--limit 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasways.data import load_mnist  # noqa: E402
from kerasways.drawing import naive_resize, to_mnist  # noqa: E402

CANVAS = 280
SIZE_RANGE = (60, 260)
# Pen change in MNIST pixels (MNIST strokes are about 2 px wide at 28 px): -0.5 is a hairline,
# +1.5 a felt-tip.
PEN_RANGE = (-0.5, 1.5)
GOAL_RATIO = 0.90
BATCH = 256


def render(digit: np.ndarray, rng: np.random.Generator, vary_pen: bool) -> np.ndarray:
    """One MNIST digit drawn on a black 280×280 RGBA canvas at a random size and place."""
    size = int(rng.integers(SIZE_RANGE[0], SIZE_RANGE[1] + 1))
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR))
    if vary_pen:
        grow = rng.uniform(*PEN_RANGE) * size / 28
        mask = np.pad(big >= 128, 1)
        signed = np.where(mask, ndimage.distance_transform_edt(mask) - 0.5,
                          0.5 - ndimage.distance_transform_edt(~mask))[1:-1, 1:-1]
        big = np.rint(np.clip(signed + grow + 0.5, 0, 1) * 255).astype(np.uint8)
    top = int(rng.integers(0, CANVAS - size + 1))
    left = int(rng.integers(0, CANVAS - size + 1))
    canvas = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    canvas[..., 3] = 255
    canvas[top:top + size, left:left + size, :3] = big[..., None]
    return canvas


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    predictions = []
    for start in range(0, len(images), BATCH):
        batch = images[start:start + BATCH].astype(np.float32)
        predictions.append(np.argmax(np.asarray(model(batch, training=False)), axis=1))
    return float(np.mean(np.concatenate(predictions) == labels))


def blank_as_zeros(processed) -> np.ndarray:
    return np.zeros((28, 28), np.float32) if processed is None else processed.image


def one_run(model, x_test, y_test, seed: int, vary_pen: bool) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    recipe, recipe_plain, naive = [], [], []
    started = time.perf_counter()
    for digit in x_test:
        canvas = render(digit, rng, vary_pen)
        recipe.append(blank_as_zeros(to_mnist(canvas)))
        recipe_plain.append(blank_as_zeros(to_mnist(canvas, normalise_stroke=False)))
        naive.append(naive_resize(canvas))
    seconds = time.perf_counter() - started
    original = accuracy(model, x_test.astype(np.float32) / 255.0, y_test)
    result = {
        "original": original,
        "to_mnist": accuracy(model, np.stack(recipe), y_test),
        "to_mnist (no stroke normalisation)": accuracy(model, np.stack(recipe_plain), y_test),
        "naive_resize": accuracy(model, np.stack(naive), y_test),
        "preprocess ms/drawing (3 paths)": 1000 * seconds / len(x_test),
    }
    result["ratio to_mnist/original"] = result["to_mnist"] / original
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="renderings of the test set (different seeds)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N test digits (0: all)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from kerasways.spec import ModelSpec, TrainConfig
    from kerasways.training import train

    data = load_mnist()
    print(data.description)
    started = time.perf_counter()
    model = train(ModelSpec(), "sequential", TrainConfig(epochs=args.epochs), data).model
    print(f"trained the default MLP ({args.epochs} epochs) in {time.perf_counter() - started:.1f} s")
    x_test, y_test = data.x_test, data.y_test
    if args.limit:
        x_test, y_test = x_test[:args.limit], y_test[:args.limit]

    for vary_pen, title in ((False, "MNIST pen"), (True, "pen varied (thin to thick strokes)")):
        runs = [one_run(model, x_test, y_test, args.seed + run, vary_pen) for run in range(args.runs)]
        label = "median of " + str(args.runs) + " runs" if args.runs > 1 else "1 run"
        print(f"\n{title}: {len(x_test)} test digits on {CANVAS}×{CANVAS} canvases, "
              f"sizes {SIZE_RANGE[0]}-{SIZE_RANGE[1]} px, random places ({label})")
        for name in runs[0]:
            value = statistics.median(run[name] for run in runs)
            shown = f"{value:.2f}" if "ms" in name else (f"{value:.3f}" if "ratio" in name else f"{value:.1%}")
            print(f"  {name:<38} {shown}")
        ratio = statistics.median(run["ratio to_mnist/original"] for run in runs)
        print(f"  goal ratio ≥ {GOAL_RATIO:.2f}: {'met' if ratio >= GOAL_RATIO else 'NOT met'}")


if __name__ == "__main__":
    main()
