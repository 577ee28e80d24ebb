"""Drawn-digit accuracy: how well networks read digits drawn on a canvas, MNIST's and others.

Part 1 (the preprocessing): trains the default MLP (sequential, 5 epochs), then renders every test digit onto a 280×280
black RGBA canvas, white ink, at a random size (60-260 px, from too small to nearly the whole
canvas) and a random position (off-centre), upscaled with Pillow's bilinear filter. Prints
accuracy on:

* the original 28×28 test digits (the ceiling);
* the canvases through `to_mnist` (the app's path), with and without stroke normalisation;
* the canvases through `naive_resize` (whole canvas shrunk to 28×28);

and the ratio to_mnist / original (goal ≥ 0.90). A second condition also varies the pen:
every stroke is made thinner or thicker (as a thin or a fat pen would), which is what the
stroke normalisation is for.

Part 2 (the networks): MNIST test digits on a canvas flatter every network (same writers,
same scanner). So three networks are also read on digits that are not MNIST
(bench/ood_digits.py): typeset fonts (the set to tune on), handwriting fonts and
stroke-drawn digits with European variants (held out), each at random slants, pens,
sizes and places on a 280×280 canvas, through `to_mnist`. The networks:

* the reference MLP, no augmentation, TrainConfig() (5 epochs): the baseline;
* the reference MLP with augmentation on, 10 epochs, other settings default;
* DRAWING_NETWORK trained with DRAWING_TRAINING (what the Draw page trains).

Accuracy is printed per source, and as a ratio to the baseline in the same run; the MNIST
test digits (as they are) are the last row. Training uses `model.fit` (`--engine fit`, plain
Keras) or the app's `kerasways.training.train` (`--engine app`, which needs an engine that
trains augmented networks without XLA: XLA has no kernel for Keras' random image layers); the
seconds are printed.

Run: KERASWAYS_OFFLINE=1 python -m bench.drawn_accuracy [--runs 3] [--limit 1000] [--per-digit 150]
     [--seeds 2] [--engine fit|app] [--skip-preprocessing]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from PIL import Image
from scipy import ndimage

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.ood_digits import SOURCES, make_source
from kerasways.data import load_mnist
from kerasways.drawing import naive_resize, to_mnist

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


def probabilities(model, images: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(model(images[start:start + BATCH].astype(np.float32), training=False))
                           for start in range(0, len(images), BATCH)])


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(probabilities(model, images), axis=1) == labels))


def wrong_confidences(model, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The top probability of every wrong answer: how sure the network is when it is wrong."""
    read = probabilities(model, images)
    wrong = np.argmax(read, axis=1) != labels
    return read[wrong].max(axis=1)


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


def networks():
    """(label, spec, config) of the networks Part 2 compares; the first is the baseline."""
    from kerasways.spec import DRAWING_NETWORK, DRAWING_TRAINING, ModelSpec, TrainConfig

    return [
        ("reference MLP", ModelSpec(), TrainConfig()),
        ("reference MLP + augmentation, 10 epochs", ModelSpec(augment=True), TrainConfig(epochs=10)),
        ("DRAWING_NETWORK", DRAWING_NETWORK, DRAWING_TRAINING),
    ]


def train_network(spec, config, data, engine: str):
    """The trained model and the seconds its training took."""
    if engine == "app":
        from kerasways.training import train

        result = train(spec, "functional", config, data)
        return result.model, result.seconds
    from kerasways.build import build_model
    from kerasways.training import split_data

    x_train, y_train, x_val, y_val = split_data(data, config)
    model = build_model(spec, "functional")
    started = time.perf_counter()
    model.fit(x_train, y_train, batch_size=config.batch_size, epochs=config.epochs, verbose=0,
              validation_data=(x_val, y_val) if len(x_val) else None)
    return model, time.perf_counter() - started


def compare_networks(data, per_digit: int, seeds: int, engine: str) -> None:
    """Part 2: each network on each non-MNIST source, median over `seeds` training seeds."""
    sources = [source for source in (make_source(name, per_digit, seed=1000) for name in SOURCES) if source]
    missing = sorted(set(SOURCES) - {source.name for source in sources})
    rows = [source.name for source in sources] + ["MNIST test digits"]
    table: dict[str, dict[str, float]] = {}
    for label, spec, config in networks():
        runs = []
        for seed in range(seeds):
            model, seconds = train_network(spec.replace(seed=42 + seed), config, data, engine)
            run = {source.name: accuracy(model, source.images, source.labels) for source in sources}
            wrong = np.concatenate([wrong_confidences(model, source.images, source.labels) for source in sources])
            run["confidence when wrong"] = float(np.mean(wrong)) if len(wrong) else float("nan")
            run["MNIST test digits"] = accuracy(model, data.x_test.astype(np.float32) / 255.0, data.y_test)
            run["training seconds"] = seconds
            runs.append(run)
        table[label] = {row: statistics.median(run[row] for run in runs)
                        for row in [*rows, "confidence when wrong", "training seconds"]}
    baseline = next(iter(table))
    print(f"\nNetworks on digits that are not MNIST ({per_digit} per digit and source, median of {seeds} "
          f"training seeds, engine {engine})" + (f"; skipped, no fonts: {', '.join(missing)}" if missing else ""))
    for label, column in table.items():
        print(f"  {label}")
        for row in rows:
            ratio = column[row] / table[baseline][row]
            print(f"    {row:<22} {column[row]:6.1%}   ×{ratio:.3f} of the {baseline}")
        print(f"    {'confidence when wrong':<22} {column['confidence when wrong']:6.1%}   (mean top probability of "
              f"its wrong answers on the sources above)")
        print(f"    {'training seconds':<22} {column['training seconds']:6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="renderings of the test set (different seeds)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N test digits (0: all)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-digit", type=int, default=150, help="samples per digit of each non-MNIST source")
    parser.add_argument("--seeds", type=int, default=1, help="training seeds per network in part 2")
    parser.add_argument("--engine", choices=("fit", "app"), default="fit")
    parser.add_argument("--skip-preprocessing", action="store_true", help="run only part 2")
    args = parser.parse_args()

    data = load_mnist()
    print(data.description)
    if not args.skip_preprocessing:
        preprocessing(args, data)
    compare_networks(data, args.per_digit, args.seeds, args.engine)


def preprocessing(args, data) -> None:
    """Part 1: the default MLP on MNIST test digits drawn on canvases, by preprocessing path."""
    from kerasways.spec import ModelSpec, TrainConfig
    from kerasways.training import train

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
