"""Inside the network: all pictures for one drawing, as a ratio to the predict step in the same run.

For the network for drawings and the reference MLP (built, not trained: weights do not change
the timing), in each way: `inside.look_inside` (every layer's output, SmoothGrad and Grad-CAM for
two digits, one XLA-compiled step) against `evaluate.predict_one` on the same images. Alone, then
with `--sessions` threads drawing at once (each thread alternates predict and inside, as the
page does). Also the saliency map's stability: the correlation of the SmoothGrad map for an
image and the same image with 2% pixel noise, against the plain gradient's (one sample, no noise).

Run: python -m bench.inside [--drawings 40] [--sessions 10] [--samples 8]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import numpy as np

from support.environment import use_offline

use_offline()

from kerasways import inside  # noqa: E402
from kerasways.build import build_model  # noqa: E402
from kerasways.data import load_mnist  # noqa: E402
from kerasways.evaluate import predict_one  # noqa: E402
from kerasways.spec import DRAWING_NETWORK, ModelSpec  # noqa: E402


def timed(call, images) -> list[float]:
    times = []
    for image in images:
        start = time.perf_counter()
        call(image)
        times.append(time.perf_counter() - start)
    return times


def with_sessions(predict, look, images, sessions: int) -> tuple[list[float], list[float]]:
    """`sessions` threads at once, each alternating predict and inside per image as the page does.

    Returns:
        (predict times, inside times) over every thread.
    """
    predicted: list[float] = []
    looked: list[float] = []
    lock = threading.Lock()

    def session():
        mine_predicted, mine_looked = [], []
        for image in images:
            mine_predicted += timed(predict, [image])
            mine_looked += timed(look, [image])
        with lock:
            predicted.extend(mine_predicted)
            looked.extend(mine_looked)

    threads = [threading.Thread(target=session) for _ in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return predicted, looked


def stability(model, key, images) -> tuple[float, float]:
    """Median correlation of a map with the map of a slightly noisy copy: SmoothGrad, plain gradient."""
    import tensorflow as tf

    rng = np.random.default_rng(1)

    def correlation(first, second):
        return float(np.corrcoef(first.ravel(), second.ravel())[0, 1])

    smooth, plain = [], []
    for image in images:
        scaled = image.astype(np.float32) / 255.0
        nudged = np.clip(scaled + rng.normal(0, 0.02, scaled.shape).astype(np.float32), 0, 1)
        digit = int(np.argmax(predict_one(model, scaled, key)))
        smooth.append(correlation(inside.saliency(model, scaled, digit), inside.saliency(model, nudged, digit)))
        def gradient(picture, digit=digit):
            batch = tf.constant(picture[None])
            with tf.GradientTape() as tape:
                tape.watch(batch)
                score = tf.math.log(model(batch, training=False)[0, digit] + 1e-7)
            return tape.gradient(score, batch).numpy()[0]

        plain.append(correlation(gradient(scaled), gradient(nudged)))
    return statistics.median(smooth), statistics.median(plain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=40)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--samples", type=int, default=inside.SMOOTHGRAD_SAMPLES,
                        help="SmoothGrad's noisy copies per digit (the app's choice by default)")
    args = parser.parse_args()
    inside.SMOOTHGRAD_SAMPLES = args.samples  # read when a step is compiled
    data = load_mnist()
    images = data.x_test[:args.drawings]
    for name, spec in (("network for drawings", DRAWING_NETWORK), ("reference MLP", ModelSpec())):
        for style in ("sequential", "functional", "subclassing"):
            model = build_model(spec, style)
            key = (spec.architecture, style)
            predict = lambda image, model=model, key=key: predict_one(model, image, key)  # noqa: E731
            look = lambda image, model=model, key=key: inside.look_inside(  # noqa: E731
                model, image, (1, 4), architecture=key)
            predict(images[0]), look(images[0])  # compile both
            alone_predict, alone_look = statistics.median(timed(predict, images)), statistics.median(timed(look, images))
            alone = alone_look / alone_predict
            busy_predict, busy_look = map(statistics.median, with_sessions(predict, look, images[:20], args.sessions))
            print(f"{name:22s} {style:12s} inside/predict alone {alone:5.1f}×, "
                  f"{args.sessions} sessions {busy_look / busy_predict:5.1f}× (medians in ms: predict "
                  f"{alone_predict * 1e3:.1f} / {busy_predict * 1e3:.1f}, inside {alone_look * 1e3:.1f} / "
                  f"{busy_look * 1e3:.1f})")
        smooth, plain = stability(model, key, images[:20])
        print(f"{name:22s} saliency stability (correlation with a 2%-noise copy): SmoothGrad {smooth:.2f}, "
              f"plain gradient {plain:.2f}")


if __name__ == "__main__":
    main()
