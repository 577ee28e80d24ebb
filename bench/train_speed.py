"""Training speed: the app's training path against plain `model.fit`, same data, network, epochs.

In one process, each run times three ways of training the reference network
(`ModelSpec()`, Sequential API) for N epochs at batch size 32 on the same 60,000 digits:

a. reference: `build_model(ModelSpec(), "sequential")` then
   `model.fit(x, y, batch_size=32, epochs=N, verbose=0)` (what the downloaded script does);
b. app: `kerasways.training.train(..., on_progress=callback)`, where the callback streams every
   Progress the way a worker does (pickled and sent through a multiprocessing Pipe to a process
   that reads and discards it);
c. app without on_progress.

Every time includes building the model and XLA compilation (a new model each time); the
process-wide start-up (importing TensorFlow, starting its runtime and XLA) is paid beforehand by an
untimed warm-up of each path on 2,000 digits. `train()`'s own `.seconds` excludes
building the model; the compile time is estimated from (b)'s first progress report.

The data are `kerasways.data.load_mnist()`; offline that is 4,000 training digits, which are tiled
to 60,000 so that an epoch has full MNIST's size (1,875 steps of 32).

Run: python bench/train_speed.py [--epochs 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import multiprocessing.reduction
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

MNIST_TRAIN_SIZE = 60_000
RATIO_GOAL = 0.5
STREAMING_GOAL = 0.05


def drain(connection) -> None:
    """The far end of the progress pipe: read and discard until the sender closes."""
    try:
        while True:
            connection.recv_bytes()
    except EOFError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs per training (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="runs of a, b and c (default 3)")
    args = parser.parse_args()

    # The reader starts before TensorFlow is imported, so nothing is forked from a TF process.
    context = multiprocessing.get_context("spawn")
    reader_end, sender = context.Pipe(duplex=False)
    reader = context.Process(target=drain, args=(reader_end,), daemon=True)
    reader.start()
    reader_end.close()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    from kerasways.build import build_model
    from kerasways.data import MnistData, load_mnist
    from kerasways.spec import ModelSpec, TrainConfig
    from kerasways.training import train

    loaded = load_mnist()
    reps = -(-MNIST_TRAIN_SIZE // len(loaded.x_train))
    x_tiled = np.concatenate([loaded.x_train] * reps)[:MNIST_TRAIN_SIZE]
    y_tiled = np.concatenate([loaded.y_train] * reps)[:MNIST_TRAIN_SIZE]
    data = MnistData(x_tiled, y_tiled, loaded.x_test, loaded.y_test, loaded.source, loaded.description)
    print(f"data: {loaded.description}")
    if len(loaded.x_train) < MNIST_TRAIN_SIZE:
        print(f"      {len(loaded.x_train):,} training digits tiled ×{reps} to {MNIST_TRAIN_SIZE:,}, "
              f"so an epoch has full MNIST's size")
    else:
        print(f"      first {MNIST_TRAIN_SIZE:,} training digits")
    spec = ModelSpec()
    config = TrainConfig(epochs=args.epochs, batch_size=32, validation_split=0.0)
    steps = -(-MNIST_TRAIN_SIZE // config.batch_size) * config.epochs
    print(f"network: reference MLP (Sequential API), {config.epochs} epochs, batch size 32, "
          f"{steps:,} steps; CPUs: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}\n")

    # fit's input, prepared once outside the timings, as the reference script scales its digits.
    x_fit = data.x_train.astype("float32") / 255.0
    y_fit = data.y_train

    def reference() -> dict:
        started = time.perf_counter()
        model = build_model(spec, "sequential")
        built = time.perf_counter()
        model.fit(x_fit, y_fit, batch_size=32, epochs=config.epochs, verbose=0)
        ended = time.perf_counter()
        return {"total": ended - started, "build": built - started, "fit": ended - built}

    def app(streaming: bool) -> dict:
        reports: list[tuple[float, int]] = []  # (time, steps done in the run) of each report
        sent = [0, 0, 0.0]  # messages, bytes, seconds spent in the callback

        def on_progress(progress) -> None:
            entered = time.perf_counter()
            payload = multiprocessing.reduction.ForkingPickler.dumps(("progress", 1, progress))
            sender.send_bytes(payload)
            sent[0] += 1
            sent[1] += len(payload)
            reports.append((time.perf_counter(), (progress.epoch - 1) * progress.steps_per_epoch + progress.step))
            sent[2] += time.perf_counter() - entered

        started = time.perf_counter()
        result = train(spec, "sequential", config, data, on_progress=on_progress if streaming else None)
        ended = time.perf_counter()
        assert result.status == "completed", result.message
        timing = {"total": ended - started, "seconds": result.seconds, "setup": (ended - started) - result.seconds}
        if streaming and len(reports) >= 3:
            loop_started = ended - result.seconds
            (first_time, first_steps), (last_time, last_steps) = reports[0], reports[-1]
            per_step = (last_time - first_time) / (last_steps - first_steps)
            timing["compile"] = max(0.0, (first_time - loop_started) - first_steps * per_step)
            timing["reports"], timing["bytes"], timing["in_callback"] = sent
        return timing

    # Warm-up, not timed: TensorFlow's import, runtime and XLA start-up are paid once per process,
    # by whichever path happens to run first; a short run of each path pays them before timing.
    warm = MnistData(data.x_train[:2_000], data.y_train[:2_000], data.x_test, data.y_test, data.source, "")
    warm_model = build_model(spec, "sequential")
    warm_model.fit(x_fit[:2_000], y_fit[:2_000], batch_size=32, epochs=1, verbose=0)
    for streaming in (True, False):
        train(spec, "sequential", TrainConfig(epochs=1, validation_split=0.0), warm,
              on_progress=(lambda progress: sender.send(progress)) if streaming else None)
    del warm_model

    jobs = {"a": reference, "b": lambda: app(True), "c": lambda: app(False)}
    results: dict[str, list[dict]] = {name: [] for name in jobs}
    orders = ["abc", "bca", "cab", "acb", "bac", "cba"]
    for run in range(args.runs):
        order = orders[run % len(orders)]
        for name in order:
            gc.collect()  # free the previous training's model and tensors now, not inside the next timing
            results[name].append(jobs[name]())
        a, b, c = (results[name][-1] for name in "abc")
        extra = (f", compile ≈{b['compile']:.2f} s, {b['reports']} reports / {b['bytes'] / 1e3:.0f} kB streamed"
                 if "compile" in b else "")
        print(f"run {run + 1} (order {order}): "
              f"a fit {a['total']:.2f} s (build {a['build']:.2f}) | "
              f"b app+stream {b['total']:.2f} s (.seconds {b['seconds']:.2f}, build+setup {b['setup']:.2f}{extra}) | "
              f"c app {c['total']:.2f} s (.seconds {c['seconds']:.2f})", flush=True)
    sender.close()
    reader.join(timeout=10)

    def median(name: str, key: str) -> float:
        return statistics.median(row[key] for row in results[name] if key in row)

    a, b, c = median("a", "total"), median("b", "total"), median("c", "total")
    print(f"\nmedians over {args.runs} runs (every figure includes building the model and compiling; "
          f"load average now {os.getloadavg()[0]:.1f}):")
    print(f"  a  build_model + model.fit              {a:7.2f} s  (build {median('a', 'build'):.2f}, "
          f"fit {median('a', 'fit'):.2f}; {steps / median('a', 'fit'):,.0f} steps/s)")
    compile_note = f", XLA compile ≈{median('b', 'compile'):.2f}" if any("compile" in r for r in results["b"]) else ""
    print(f"  b  train(..., on_progress=streaming)    {b:7.2f} s  (.seconds {median('b', 'seconds'):.2f}, "
          f"build+setup {median('b', 'setup'):.2f}{compile_note}; {steps / median('b', 'seconds'):,.0f} steps/s)")
    print(f"  c  train(...) without on_progress       {c:7.2f} s  (.seconds {median('c', 'seconds'):.2f})")
    print(f"  ratio b / a                             {b / a:7.2f}    goal ≤ {RATIO_GOAL}: "
          f"{'met' if b / a <= RATIO_GOAL else 'NOT met'}  (a / b = {a / b:.1f}× faster)")
    cost = b / c - 1
    print(f"  streaming cost b / c − 1                {cost:+7.1%}    goal ≤ {STREAMING_GOAL:.0%}: "
          f"{'met' if cost <= STREAMING_GOAL else 'NOT met'}")
    best_b, best_c = (min(row["total"] for row in results[name]) for name in "bc")
    print(f"  same from the fastest runs              {best_b / best_c - 1:+7.1%}    (less sensitive to other load)")
    loop_cost = median("b", "seconds") / median("c", "seconds") - 1
    print(f"  same on .seconds (training loop only)   {loop_cost:+7.1%}")
    if any("in_callback" in row for row in results["b"]):
        inside = median("b", "in_callback")
        print(f"  time inside on_progress (pickle+send)   {inside * 1e3:7.2f} ms = {inside / b:.2%} of b: the direct "
              "cost of streaming; the b/c figures above mostly measure noise")


if __name__ == "__main__":
    main()
