"""Training speed: the app's training path against plain `model.fit`, for every preset network.

In one process, each run times two ways of training each network for N epochs at batch
size 32 on the same 60,000 digits, in alternating order:

a. fit: `build_model(spec, style)` then `model.fit(x, y, batch_size=32, epochs=N, verbose=0)`
   (what the downloaded script does);
b. app: `kerasways.training.train(..., on_progress=callback)`, where the callback streams every
   Progress the way a worker does (pickled and sent through a multiprocessing Pipe to a process
   that reads and discards it).

Every time includes building the model and compiling (a new model each time); the
process-wide start-up (importing TensorFlow, starting its runtime and XLA) is paid beforehand by
an untimed warm-up of both paths on 2,000 digits. The figure that matters is the ratio b / a
(goal ≤ 0.5), measured in the same run.

The networks are `kerasways.spec.PRESETS`, plus any `--spec module:NAME` (a ModelSpec
attribute, e.g. `kerasways.spec:DRAWING_NETWORK`). The data are `kerasways.data.load_mnist()`;
offline that is 4,000 training digits, tiled to 60,000 so that an epoch has full MNIST's size
(1,875 steps of 32). `KERASWAYS_TRAIN_ENGINE=xla|graph` forces one engine for comparison.

`--profile` then answers "where does a step go?": one more app training per network (200 steps)
runs under TensorFlow's profiler, and the kernels' time per step is printed by kind
(convolutions, pooling, matrix products, random numbers, the rest) beside the wall time per
step of the app and of `fit`. When the convolutions alone take most of `fit`'s step, no engine
can reach the goal by removing overhead: that is the floor this machine sets.

Run: python -m bench.train_speed [--epochs 1] [--runs 3] [--only "Small CNN"] [--spec module:NAME] [--profile]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import multiprocessing
import multiprocessing.reduction
import os
import statistics
import time

MNIST_TRAIN_SIZE = 60_000
RATIO_GOAL = 0.5
PROFILED_STEPS = 200
# Kernel kinds, by a word in the TensorFlow op type (first match wins).
KERNEL_KINDS = (("convolutions", ("Conv2D",)), ("pooling", ("Pool",)), ("matrix products", ("MatMul",)),
                ("random numbers", ("Random",)))


def drain(connection) -> None:
    """The far end of the progress pipe: read and discard until the sender closes."""
    try:
        while True:
            connection.recv_bytes()
    except EOFError:
        pass


def load_spec(reference: str):
    """The ModelSpec named by "module:NAME"."""
    module_name, _, attribute = reference.partition(":")
    if not attribute:
        raise SystemExit(f"--spec: expected module:NAME, e.g. kerasways.spec:DRAWING_NETWORK; received {reference!r}")
    return getattr(importlib.import_module(module_name), attribute)


def kernel_time_by_kind(logdir: str, steps: int) -> dict[str, float] | None:
    """Thread-milliseconds per step of each kernel kind in the newest profile under `logdir`.

    Uses the profiler's own "framework_op_stats" tool (the table TensorBoard's profile plugin
    shows); returns None when this TensorFlow cannot produce it.
    """
    import glob
    import json

    try:
        from tensorflow.python.profiler.internal import _pywrap_profiler_plugin
    except ImportError:
        return None
    traces = sorted(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True), key=os.path.getmtime)
    if not traces:
        return None
    table, ok = _pywrap_profiler_plugin.xspace_to_tools_data([traces[-1]], "framework_op_stats")
    if not ok:
        return None
    columns = json.loads(table)[0]
    index = {column["id"]: number for number, column in enumerate(columns["cols"])}
    by_kind: dict[str, float] = {}
    for row in columns["rows"]:
        values = [cell["v"] for cell in row["c"]]
        op_type = values[index["type"]]
        if op_type == "IDLE":
            continue
        kind = next((name for name, words in KERNEL_KINDS if any(word in op_type for word in words)), "the rest")
        by_kind[kind] = by_kind.get(kind, 0.0) + values[index["total_self_time"]] / 1e3 / steps
    return by_kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="epochs per training (default 1)")
    parser.add_argument("--runs", type=int, default=3, help="runs of a and b per network (default 3)")
    parser.add_argument("--only", action="append", default=[], help="measure only presets whose id or title starts so")
    parser.add_argument("--spec", action="append", default=[], help="also measure this ModelSpec (module:NAME)")
    parser.add_argument("--profile", action="store_true", help="also show where a step's time goes, by kernel kind")
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
    from kerasways.spec import PRESETS, TrainConfig, supported_styles
    from kerasways.training import train

    networks = {preset.title: preset.spec for preset in PRESETS.values()
                if not args.only or any(name.startswith(prefix) for prefix in args.only
                                        for name in (preset.id, preset.title))}
    networks.update({reference: load_spec(reference) for reference in args.spec})

    loaded = load_mnist()
    reps = -(-MNIST_TRAIN_SIZE // len(loaded.x_train))
    x_tiled = np.concatenate([loaded.x_train] * reps)[:MNIST_TRAIN_SIZE]
    y_tiled = np.concatenate([loaded.y_train] * reps)[:MNIST_TRAIN_SIZE]
    data = MnistData(x_tiled, y_tiled, loaded.x_test, loaded.y_test, loaded.source, loaded.description)
    print(f"data: {loaded.description}")
    if len(loaded.x_train) < MNIST_TRAIN_SIZE:
        print(f"      {len(loaded.x_train):,} training digits tiled ×{reps} to {MNIST_TRAIN_SIZE:,}, "
              f"so an epoch has full MNIST's size")
    config = TrainConfig(epochs=args.epochs, batch_size=32, validation_split=0.0)
    steps = -(-MNIST_TRAIN_SIZE // config.batch_size) * config.epochs
    print(f"{config.epochs} epoch(s), batch size 32, {steps:,} steps; CPUs: {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}; engine {os.environ.get('KERASWAYS_TRAIN_ENGINE', 'auto')}\n")

    # fit's input, prepared once outside the timings, as the reference script scales its digits.
    x_fit = data.x_train.astype("float32") / 255.0
    y_fit = data.y_train

    def reference(spec, style: str) -> dict:
        started = time.perf_counter()
        model = build_model(spec, style)
        model.fit(x_fit, y_fit, batch_size=config.batch_size, epochs=config.epochs, verbose=0)
        return {"total": time.perf_counter() - started}

    def app(spec, style: str) -> dict:
        sent = [0, 0.0]  # messages, seconds spent in the callback

        def on_progress(progress) -> None:
            entered = time.perf_counter()
            sender.send_bytes(multiprocessing.reduction.ForkingPickler.dumps(("progress", 1, progress)))
            sent[0] += 1
            sent[1] += time.perf_counter() - entered

        started = time.perf_counter()
        result = train(spec, style, config, data, on_progress=on_progress)
        total = time.perf_counter() - started
        assert result.status == "completed", result.message
        return {"total": total, "engine": result.engine, "reports": sent[0], "in_callback": sent[1]}

    # Warm-up, not timed: TensorFlow's import, runtime and XLA start-up are paid once per process.
    warm = MnistData(data.x_train[:2_000], data.y_train[:2_000], data.x_test, data.y_test, data.source, "")
    for spec in networks.values():
        style = supported_styles(spec)[0]
        build_model(spec, style).fit(x_fit[:2_000], y_fit[:2_000], batch_size=32, epochs=1, verbose=0)
        train(spec, style, TrainConfig(epochs=1, validation_split=0.0), warm, on_progress=sender.send)

    def profile(spec, style: str, fit_ms_per_step: float) -> str:
        import tempfile

        import tensorflow as tf

        part = MnistData(data.x_train[:PROFILED_STEPS * 32], data.y_train[:PROFILED_STEPS * 32],
                         data.x_test, data.y_test, data.source, "")
        speeds = []  # the run's steady-state digits per second, compiling left out
        with tempfile.TemporaryDirectory() as logdir:
            tf.profiler.experimental.start(logdir)
            train(spec, style, config, part, on_progress=lambda progress: speeds.append(progress.samples_per_second))
            tf.profiler.experimental.stop()
            by_kind = kernel_time_by_kind(logdir, PROFILED_STEPS)
        if by_kind is None:
            return "this TensorFlow cannot summarise its profile"
        wall = f"{1e3 * config.batch_size / speeds[-1]:.2f} ms" if speeds and speeds[-1] else "unknown"
        kinds = ", ".join(f"{kind} {ms:.2f}" for kind, ms in sorted(by_kind.items(), key=lambda item: -item[1]))
        return (f"app {wall} a step (steady, wall), fit {1e3 * fit_ms_per_step:.2f} ms (whole run / steps); "
                f"kernels, thread-ms a step: {kinds}")

    summary = []
    profiles: dict[str, str] = {}
    for name, spec in networks.items():
        style = supported_styles(spec)[0]
        rows: dict[str, list[dict]] = {"a": [], "b": []}
        for run in range(args.runs):
            for key in ("ab" if run % 2 == 0 else "ba"):
                gc.collect()  # free the previous training's model and tensors now, not inside the next timing
                rows[key].append(reference(spec, style) if key == "a" else app(spec, style))
            a, b = rows["a"][-1], rows["b"][-1]
            print(f"{name} run {run + 1}: fit {a['total']:.2f} s | app {b['total']:.2f} s "
                  f"({b['engine']}, {b['reports']} reports) | ratio {b['total'] / a['total']:.2f}", flush=True)
        fit = statistics.median(row["total"] for row in rows["a"])
        ours = statistics.median(row["total"] for row in rows["b"])
        ratios = sorted(b["total"] / a["total"] for a, b in zip(rows["a"], rows["b"]))
        callback = statistics.median(row["in_callback"] for row in rows["b"])
        summary.append((name, rows["b"][0]["engine"], ours, fit, statistics.median(ratios), ratios, callback))
        if args.profile:
            profiles[name] = profile(spec, style, fit / steps)
    sender.close()
    reader.join(timeout=10)

    print(f"\nmedians over {args.runs} runs (build and compile included on both sides; app/fit is the median of "
          f"the runs' ratios, each from back-to-back timings; load average now {os.getloadavg()[0]:.1f}):")
    print(f"  {'network':40s} {'engine':6s} {'app s':>7s} {'fit s':>7s} {'app/fit':>8s}  per-run ratios  goal")
    for name, engine, ours, fit, ratio, ratios, callback in summary:
        verdict = "met" if ratio <= RATIO_GOAL else "NOT met"
        print(f"  {name[:40]:40s} {engine:6s} {ours:7.2f} {fit:7.2f} {ratio:8.2f}  "
              f"{' '.join(f'{r:.2f}' for r in ratios):14s}  ≤ {RATIO_GOAL}: {verdict}  "
              f"(streaming {callback * 1e3:.1f} ms)")
    for name, line in profiles.items():
        print(f"\nwhere {name}'s steps go ({PROFILED_STEPS} profiled steps of the app): {line}")


if __name__ == "__main__":
    main()
