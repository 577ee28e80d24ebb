"""Prediction latency: canvas RGBA → probabilities on the server, per drawing.

What a stroke costs the server: `to_mnist` on a 280×280 RGBA canvas, then the default MLP's
probabilities. Drawings are MNIST test digits rendered at random sizes and places (as in
bench/drawn_accuracy.py). Ways to run the model on the one image:

* `evaluate.predict_one` — the app's path (one XLA-compiled call, on the calling thread);
* `evaluate.predict_probabilities` — `model.predict_on_batch`, a traced graph run by
  TensorFlow's thread pool (the app's path until the classroom bench showed its tail);
* `model(x[None], training=False)` — a direct, eager call;
* the same call wrapped in `tf.function` (traced once, reused);
* `model.predict(x[None])` — the baseline, with its per-call set-up overhead.

Prints median and p95 per drawing (after a warm-up), the preprocessing share, and the ratios
app path / baseline and app path / `predict_on_batch`. Goal: median ≤ 10 ms for the app path.
`--busy N` measures while N other processes spin on the CPU, as a class's trainings and
browsers keep a server's cores busy; `--model-only` times the model call alone (preprocessing
done first), where the paths differ most under load. Weights do not change the timing, so the
model is built, not trained.

Run: python -m bench.predict_latency [--drawings 200] [--busy 12] [--model-only]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

from support.environment import use_offline

use_offline()  # the bundled digits, before kerasways.data or TensorFlow is imported

from bench.drawn_accuracy import render  # noqa: E402
from kerasways.data import load_mnist  # noqa: E402
from kerasways.drawing import to_mnist  # noqa: E402

GOAL_MEDIAN_MS = 10.0
WARM_UP = 20


def time_path(name: str, canvases: list[np.ndarray], predict) -> np.ndarray:
    for canvas in canvases[:WARM_UP]:
        predict(canvas)
    times = []
    for canvas in canvases:
        # A server meets each drawing after waiting for it, not in a tight loop: under load the
        # scheduler treats a thread that slept differently from one that keeps the CPU busy.
        time.sleep(0.005)
        started = time.perf_counter()
        probabilities = predict(canvas)
        times.append(time.perf_counter() - started)
        assert probabilities.shape == (10,), (name, probabilities.shape)
    return 1000 * np.array(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--busy", type=int, default=0, help="measure while N processes spin on the CPU")
    parser.add_argument("--model-only", action="store_true",
                        help="preprocess the drawings first and time only the model call")
    args = parser.parse_args()

    import tensorflow as tf

    from kerasways.build import build_model
    from kerasways.evaluate import predict_one, predict_probabilities
    from kerasways.spec import ModelSpec

    data = load_mnist()
    rng = np.random.default_rng(args.seed)
    digits = data.x_test[rng.choice(len(data.x_test), size=args.drawings, replace=len(data.x_test) < args.drawings)]
    canvases = [render(digit, rng, vary_pen=False) for digit in digits]
    model = build_model(ModelSpec(), "sequential")
    compiled = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def image(canvas):
        processed = to_mnist(canvas)
        return np.zeros((28, 28), np.float32) if processed is None else processed.image

    if args.model_only:
        prepared = {id(canvas): image(canvas) for canvas in canvases}
        image = lambda canvas: prepared[id(canvas)]  # noqa: E731

    paths = {} if args.model_only else {"to_mnist only": lambda canvas: np.resize(image(canvas).ravel(), 10)}
    paths |= {
        "app: predict_one (XLA)": lambda canvas: predict_one(model, image(canvas), "default MLP"),
        "predict_probabilities (on_batch)": lambda canvas: predict_probabilities(model, image(canvas)[None])[0],
        "direct call model(x, training=False)": lambda canvas: np.asarray(model(image(canvas)[None],
                                                                                  training=False))[0],
        "tf.function call": lambda canvas: compiled(image(canvas)[None]).numpy()[0],
        "model.predict (baseline)": lambda canvas: model.predict(image(canvas)[None], verbose=0)[0],
    }
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        results = {name: time_path(name, canvases, predict) for name, predict in paths.items()}
    finally:
        for spinner in spinners:
            spinner.kill()

    print(f"{args.drawings} drawings (280×280 RGBA) → probabilities, default MLP, TF {tf.__version__}; "
          f"{WARM_UP} warm-up calls per path; {args.busy} other processes busy on {os.cpu_count()} cores")
    print(f"  {'path':<40} {'median ms':>10} {'p95 ms':>8}")
    for name, times in results.items():
        print(f"  {name:<40} {np.median(times):>10.2f} {np.percentile(times, 95):>8.2f}")
    app = results["app: predict_one (XLA)"]
    for name in ("model.predict (baseline)", "predict_probabilities (on_batch)",
                 "direct call model(x, training=False)"):
        other = results[name]
        print(f"  ratio app / {name}: median {np.median(app) / np.median(other):.3f}, "
              f"p95 {np.percentile(app, 95) / np.percentile(other, 95):.3f}")
    met = np.median(app) <= GOAL_MEDIAN_MS
    print(f"  goal median ≤ {GOAL_MEDIAN_MS:.0f} ms: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
