"""Training budget: how close `kerasways.budget`'s estimates come to the worker-seconds trainings really take.

Each case is one training request, run as the server runs it: a `jobs.JobPool` of two workers on this
machine (the server's default, so one TensorFlow thread each), one job at a time. A job's measured
worker-seconds are from the moment a worker took it to the moment its result was back (building,
compiling, training, validation and the test evaluation included: what the estimate predicts). The
cases are the presets at their default settings, the Draw page's training, and a few sizes and batch
sizes chosen to make each part of the estimate count (per-step overhead at batch 1, the optimizer
update on a big dense network, the arithmetic of wide dense and convolution layers), on the offline
4,000 digits and on 60,000 (the bundled digits tiled to full MNIST's size in a temporary Keras cache,
so no download is needed).

It prints predicted / measured per case and the median, and how many cases are within a factor of 2.
`--fit` also fits `budget.COSTS` to these measurements (least squares on the relative error, no
constant below 0) and prints the fitted constants and their ratios: that is how the constants in
`kerasways/budget.py` were made.

Run: python -m bench.budget [--runs 1] [--fit] [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import fields
from pathlib import Path

OFFLINE, FULL = "offline", "full"
MNIST_TRAIN, MNIST_TEST = 60_000, 10_000
FACTOR_GOAL = 2.0


def cases():
    """(name, data, request) of every case measured."""
    from kerasways.engine import TrainingRequest
    from kerasways.runs import DRAWING_REQUEST
    from kerasways.spec import PRESETS, LayerSpec, ModelSpec, TrainConfig

    def net(*layers, **more) -> ModelSpec:
        return ModelSpec(layers=tuple(layers), **more)

    def dense(units):
        return LayerSpec("dense", units=units)

    def conv(filters):
        return LayerSpec("conv2d", units=filters, kernel_size=3)

    pool = LayerSpec("maxpool2d", kernel_size=2)
    found = []
    for data in (OFFLINE, FULL):
        for preset in PRESETS.values():
            found.append((f"{preset.id}, defaults", data, TrainingRequest(preset.spec, "functional", TrainConfig())))
    found += [
        ("Draw page's training", OFFLINE, DRAWING_REQUEST),
        ("Dense 16, batch 1, 1 epoch", OFFLINE,
         TrainingRequest(net(dense(16)), "functional", TrainConfig(epochs=1, batch_size=1))),
        ("Dense 16 + Dropout, batch 1, 1 epoch", OFFLINE,
         TrainingRequest(net(dense(16), LayerSpec("dropout")), "functional", TrainConfig(epochs=1, batch_size=1))),
        ("Conv 8, batch 32, 5 epochs", OFFLINE,
         TrainingRequest(net(conv(8)), "functional", TrainConfig(epochs=5))),
        ("reference MLP, batch 1, 1 epoch", OFFLINE,
         TrainingRequest(ModelSpec(), "functional", TrainConfig(epochs=1, batch_size=1))),
        ("MLP with dropout, batch 1, 1 epoch", OFFLINE,
         TrainingRequest(PRESETS["mlp-dropout"].spec, "functional", TrainConfig(epochs=1, batch_size=1))),
        ("Small CNN, batch 1, 1,000 digits", OFFLINE,
         TrainingRequest(PRESETS["small-cnn"].spec, "functional",
                         TrainConfig(epochs=1, batch_size=1, train_size=1000))),
        ("reference MLP, batch 512, 20 epochs", OFFLINE,
         TrainingRequest(ModelSpec(), "functional", TrainConfig(epochs=20, batch_size=512))),
        ("Dense 2048-2048, batch 16, 2 epochs", OFFLINE,
         TrainingRequest(net(dense(2048), dense(2048)), "functional", TrainConfig(epochs=2, batch_size=16))),
        ("Dense 4096-2048-1024, batch 256, 3 epochs", OFFLINE,
         TrainingRequest(net(dense(4096), dense(2048), dense(1024)), "functional",
                         TrainConfig(epochs=3, batch_size=256))),
        ("Conv 64-64, batch 64, 3 epochs", OFFLINE,
         TrainingRequest(net(conv(64), conv(64), pool), "functional", TrainConfig(epochs=3, batch_size=64))),
        ("Conv 128×3, batch 128, 2,000 digits", OFFLINE,
         TrainingRequest(net(conv(128), conv(128), pool, conv(128)), "functional",
                         TrainConfig(epochs=1, batch_size=128, train_size=2000))),
        ("Conv 64×6, batch 8, 500 digits", OFFLINE,
         TrainingRequest(net(*[conv(64)] * 6), "functional", TrainConfig(epochs=1, batch_size=8, train_size=500))),
        ("Drawing CNN without augmentation, 5 epochs", OFFLINE,
         TrainingRequest(PRESETS["drawing-cnn"].spec.replace(augment=False), "functional", TrainConfig())),
        ("reference MLP, batch 4096, 10 epochs", FULL,
         TrainingRequest(ModelSpec(), "functional", TrainConfig(epochs=10, batch_size=4096))),
        ("MLP with dropout, batch 8, 1 epoch", FULL,
         TrainingRequest(PRESETS["mlp-dropout"].spec, "functional", TrainConfig(epochs=1, batch_size=8))),
    ]
    return found


def full_size_cache(folder: Path) -> Path:
    """A Keras cache holding 60,000 training and 10,000 test digits: the bundled ones, tiled."""
    import numpy as np

    from kerasways.data import load_mnist

    bundled = load_mnist("bundled")

    def tiled(array, size):
        return np.concatenate([array] * -(-size // len(array)))[:size]

    path = folder / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, x_train=tiled(bundled.x_train, MNIST_TRAIN), y_train=tiled(bundled.y_train, MNIST_TRAIN),
             x_test=tiled(bundled.x_test, MNIST_TEST), y_test=tiled(bundled.y_test, MNIST_TEST))
    return folder


def measure(pool, request) -> float:
    """Worker-seconds of one job: from the moment a worker took it until its result was back."""
    from kerasways.engine import RunState

    (job,) = pool.submit([request], owner="bench")
    while not job.finished:
        time.sleep(0.05)
    if job.state is not RunState.DONE:
        raise SystemExit(f"the training failed: {job.error}")
    return job.finished_at - job.started_at


def ready(pool) -> int:
    """Wait until every worker of `pool` has loaded TensorFlow and the digits, then warm the first one up
    (jobs go to the first idle worker): its first XLA loop and first graph loop, untimed, as a server's
    first trainings pay them once. Returns the workers' training digits."""
    from kerasways.engine import TrainingRequest
    from kerasways.spec import PRESETS, TrainConfig

    pool.start()
    while pool.status().ready < pool.status().workers:
        time.sleep(0.2)
    for preset in ("reference-mlp", "small-cnn"):
        measure(pool, TrainingRequest(PRESETS[preset].spec, "functional", TrainConfig(epochs=1, train_size=200)))
    return pool.data_size()


def fit(rows):
    """Constants per engine that minimise the squared relative error over `rows` (none below 0)."""
    import numpy as np
    from scipy.optimize import nnls

    from kerasways.budget import COSTS, EngineCosts

    fitted = {}
    for engine in COSTS:
        mine = [(work, seconds) for work, seconds in rows if work.engine == engine]
        if not mine:
            fitted[engine] = COSTS[engine]
            continue
        features = np.array([[1.0, work.steps, work.weight_steps, work.dense_multiply_adds, work.conv_multiply_adds,
                              work.activations, work.augmented_images] for work, _ in mine])
        measured = np.array([seconds for _, seconds in mine])
        # Columns scaled to one, so the solver sees numbers of one size; the rows divided by the measurement.
        scales = np.where(features.max(axis=0) > 0, features.max(axis=0), 1.0)
        solution, _ = nnls(features / scales / measured[:, None], np.ones(len(mine)))
        fitted[engine] = EngineCosts(*(float(value) for value in solution / scales))
    return fitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="measurements per case (their median counts)")
    parser.add_argument("--fit", action="store_true", help="also fit the constants to these measurements")
    parser.add_argument("--only", action="append", default=[], help="measure only cases whose name starts so")
    args = parser.parse_args()

    from support.environment import use_offline

    use_offline()
    from kerasways.budget import COSTS, cost, workload
    from kerasways.jobs import JobPool

    chosen = [case for case in cases() if not args.only or any(case[0].startswith(name) for name in args.only)]
    print(f"CPUs: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; a pool of 2 workers, one job at a time\n")
    results = []  # (name, data, request, data size, measured seconds)
    with tempfile.TemporaryDirectory(prefix="kerasways-budget-") as folder:
        for data in (OFFLINE, FULL):
            mine = [case for case in chosen if case[1] == data]
            if not mine:
                continue
            if data == FULL:
                os.environ["KERAS_HOME"] = str(full_size_cache(Path(folder)))  # the workers read it when they start
            pool = JobPool(workers=2, data_source="bundled" if data == OFFLINE else "keras", start_workers=False)
            try:
                size = ready(pool)
                print(f"{data}: {size:,} training digits")
                for name, _, request in mine:
                    seconds = statistics.median(measure(pool, request) for _ in range(args.runs))
                    predicted = cost(request, size).seconds
                    print(f"  {name:45s} predicted {predicted:8.1f} s, measured {seconds:7.1f} s, "
                          f"ratio {predicted / seconds:5.2f} (load {os.getloadavg()[0]:.1f})", flush=True)
                    results.append((name, data, request, size, seconds))
            finally:
                pool.close()

    def summary(title, costs) -> None:
        ratios = [cost(request, size, costs).seconds / seconds for _, _, request, size, seconds in results]
        within = sum(1 / FACTOR_GOAL <= ratio <= FACTOR_GOAL for ratio in ratios)
        print(f"\n{title}: predicted / measured, median {statistics.median(ratios):.2f}, "
              f"range {min(ratios):.2f}–{max(ratios):.2f}; "
              f"{within} of {len(ratios)} within a factor of {FACTOR_GOAL:g}")
        for (name, data, _, _, seconds), ratio in zip(results, ratios):
            print(f"  {name:45s} {data:7s} measured {seconds:7.1f} s  ratio {ratio:5.2f}")

    summary("with kerasways.budget.COSTS", COSTS)
    if args.fit:
        fitted = fit([(workload(request, size), seconds) for _, _, request, size, seconds in results])
        summary("with the fitted constants", fitted)
        print("\nfitted constants:")
        for engine, rates in fitted.items():
            print(f"  {engine}: " + ", ".join(f"{field.name}={getattr(rates, field.name):.3g}"
                                              for field in fields(rates)))
    print(f"\nload average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
