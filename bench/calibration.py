"""Honest confidence: the network for drawings before and after calibration, on digits that are not MNIST.

Trains DRAWING_NETWORK with DRAWING_TRAINING on the data at hand (`--seeds` seeds), keeps a copy of the raw
model, calibrates the other (`kerasways.calibration.calibrate`: one temperature fitted on the validation
digits, folded into the last layer) and prints, per source of bench/ood_digits.py (fonts and strokes, never
trained on) and for MNIST's test digits: accuracy, expected calibration error (ECE) and the mean top
probability of the wrong answers, before → after (medians over seeds). Then how many wrong and right answers
fall below candidate "unsure" thresholds, from which the Draw page's threshold is chosen.

Run: KERASWAYS_OFFLINE=1 python -m bench.calibration [--seeds 2] [--per-digit 100]
"""

from __future__ import annotations

import argparse
import os
import statistics

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.ood_digits import SOURCES, make_source
from kerasways.data import load_mnist

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--per-digit", type=int, default=100)
    args = parser.parse_args()

    from kerasways.build import rebuild_model
    from kerasways.calibration import calibrate, expected_calibration_error
    from kerasways.evaluate import predict_probabilities
    from kerasways.spec import DRAWING_NETWORK, drawing_training
    from kerasways.training import scale, split_data, train

    data = load_mnist()
    print(data.description)
    config = drawing_training(len(data.x_train))
    sources = [source for source in (make_source(name, args.per_digit, seed=1000) for name in SOURCES) if source]
    sets = [(source.name, source.images, source.labels) for source in sources]
    sets.append(("MNIST test digits", scale(data.x_test), data.y_test))
    rows: dict[tuple[str, str], list[float]] = {}
    below: dict[tuple[str, float], list[float]] = {}
    temperatures, seconds = [], []
    for seed in range(args.seeds):
        spec = DRAWING_NETWORK.replace(seed=42 + seed)
        result = train(spec, "functional", config, data)
        raw = rebuild_model(spec, "functional", result.model.get_weights())
        _, _, x_val, y_val = split_data(data, config)
        calibration = calibrate(result.model, scale(x_val), y_val)
        temperatures.append(calibration.temperature)
        seconds.append(result.seconds)
        wrong_all = {"before": [], "after": []}
        right_all = {"before": [], "after": []}
        for name, images, labels in sets:
            for when, model in (("before", raw), ("after", result.model)):
                read = predict_probabilities(model, images)
                right = read.argmax(axis=1) == labels
                top = read.max(axis=1)
                rows.setdefault((name, f"accuracy {when}"), []).append(float(right.mean()))
                rows.setdefault((name, f"ECE {when}"), []).append(expected_calibration_error(read, labels))
                rows.setdefault((name, f"wrong top p {when}"), []).append(float(top[~right].mean()))
                if name != "MNIST test digits":
                    wrong_all[when].append(top[~right])
                    right_all[when].append(top[right])
        for when in ("before", "after"):
            wrong, right = np.concatenate(wrong_all[when]), np.concatenate(right_all[when])
            rows.setdefault(("all non-MNIST", f"wrong top p {when}"), []).append(float(wrong.mean()))
            for threshold in THRESHOLDS:
                below.setdefault((when, threshold), []).append(float((wrong < threshold).mean()))
                below.setdefault((when + " right", threshold), []).append(float((right < threshold).mean()))
    print(f"\nDRAWING_NETWORK, {config}; temperature {statistics.median(temperatures):.2f} "
          f"(seeds: {', '.join(f'{t:.2f}' for t in temperatures)}); training {statistics.median(seconds):.0f} s")
    print(f"{'set':<20} {'accuracy':>17} {'ECE':>17} {'mean top p of wrong':>22}")
    for name in [*(name for name, _, _ in sets), "all non-MNIST"]:
        cells = []
        for measure in ("accuracy", "ECE", "wrong top p"):
            values = [rows.get((name, f"{measure} {when}")) for when in ("before", "after")]
            cells.append("–" if None in values else
                         f"{statistics.median(values[0]):.3f} → {statistics.median(values[1]):.3f}")
        print(f"{name:<20} {cells[0]:>17} {cells[1]:>17} {cells[2]:>22}")
    print("\nShare of answers below an 'unsure' threshold, non-MNIST sources (after calibration):")
    for threshold in THRESHOLDS:
        print(f"  below {threshold:.0%}: wrong answers {statistics.median(below[('after', threshold)]):.0%}, "
              f"right answers {statistics.median(below[('after right', threshold)]):.0%} "
              f"(before calibration: {statistics.median(below[('before', threshold)]):.0%} of wrong)")


if __name__ == "__main__":
    main()
