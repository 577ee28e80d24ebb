"""A class saving labelled drawings at once: save latency and drawings lost, against one writer alone.

The app server is one process with a thread per browser session, so the realistic case is many
threads sharing one `DrawingStore`; `--processes` also runs writers as separate processes (several
servers on one data folder). Each writer saves `--drawings` drawings through `DrawingStore.save`
(validation, PNG of the 280×280 canvas, one committed transaction with synchronous=FULL) as fast as
it can after a common start: a burst far denser than a class clicking "It was a 7". `--pause-ms`
paces each writer (a random pause, this long on average, before each save); a student needs
seconds to draw a digit, so even 100 ms is many times a real class's pace.

Drawings are MNIST test digits rendered on a 280×280 canvas (as in bench/drawn_accuracy.py), and
their 28×28 image is what `to_mnist` makes of them, computed before timing (the page already has it).

Prints, per run: p50 and p95 save latency for one writer alone (the baseline) and for the class,
their ratios, throughput, and drawings acknowledged vs found in the database afterwards (lost must
be 0). With several runs, the medians over runs.

Run: KERASWAYS_OFFLINE=1 python -m bench.collect [--writers 30] [--drawings 20] [--runs 3] [--processes]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import zlib
from pathlib import Path

import numpy as np

from bench.drawn_accuracy import render
from kerasways.data import load_mnist
from kerasways.drawing import to_mnist
from kerasways.store import DrawingStore, open_store

DISTINCT_DRAWINGS = 40


def prepare_drawings(count: int = DISTINCT_DRAWINGS, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """(canvas, to_mnist image, label) for `count` MNIST test digits drawn on a canvas."""
    data = load_mnist()
    rng = np.random.default_rng(seed)
    drawings = []
    for index in rng.choice(len(data.x_test), count, replace=False):
        canvas = render(data.x_test[index], rng, vary_pen=True)
        processed = to_mnist(canvas)
        if processed is not None:
            drawings.append((canvas, processed.centred, int(data.y_test[index])))
    return drawings


def write(store: DrawingStore, writer: str, drawings, count: int, pause_ms: float = 0.0,
          start: threading.Barrier | None = None):
    """Save `count` drawings as one writer, pausing 0-2×pause_ms between saves; returns (ids, latencies in ms)."""
    if start is not None:
        start.wait()
    rng = np.random.default_rng(zlib.crc32(writer.encode()))
    ids, latencies = [], []
    for index in range(count):
        if pause_ms:
            time.sleep(rng.uniform(0, 2 * pause_ms) / 1000)
        canvas, image, label = drawings[(zlib.crc32(writer.encode()) + index) % len(drawings)]
        started = time.perf_counter()
        ids.append(store.save(canvas=canvas, image=image, label=label, writer=writer))
        latencies.append(1000 * (time.perf_counter() - started))
    return ids, latencies


def process_writer(data_dir: str, writer: str, drawings, count: int, pause_ms: float, start_at: float):
    """A writer in its own process: opens the store, waits for the common start, saves."""
    store = open_store(data_dir)
    store.unavailable_reason()  # open and migrate before the clock starts, as a running server has
    time.sleep(max(0.0, start_at - time.time()))
    return write(store, writer, drawings, count, pause_ms)


def run_class(data_dir: Path, drawings, writers: int, count: int, pause_ms: float,
              processes: bool) -> tuple[list[int], list[float], float]:
    """All writers at once; returns (acknowledged ids, latencies in ms, wall seconds)."""
    if processes:
        context = multiprocessing.get_context("spawn")
        with context.Pool(writers) as pool:
            start_at = time.time() + 20  # time for every process to start and import numpy and PIL
            results = pool.starmap(process_writer, [(str(data_dir), f"process-{n}", drawings, count, pause_ms,
                                                     start_at)
                                                    for n in range(writers)])
            seconds = time.time() - start_at
    else:
        started = time.perf_counter()
        store = open_store(data_dir)
        store.unavailable_reason()
        start = threading.Barrier(writers)
        results = [None] * writers

        def session(number: int) -> None:
            results[number] = write(store, f"session-{number}", drawings, count, pause_ms, start)

        threads = [threading.Thread(target=session, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        store.close()
    ids = [i for part_ids, _ in results for i in part_ids]
    latencies = [ms for _, part_latencies in results for ms in part_latencies]
    return ids, latencies, seconds


def one_run(drawings, writers: int, count: int, pause_ms: float, processes: bool,
            baseline_saves: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="kerasways-collect-") as folder:
        alone = open_store(Path(folder) / "alone")
        alone.unavailable_reason()
        write(alone, "warm-up", drawings, 5)
        _, baseline = write(alone, "alone", drawings, baseline_saves, pause_ms)
        alone.close()

        data_dir = Path(folder) / "class"
        ids, latencies, seconds = run_class(data_dir, drawings, writers, count, pause_ms, processes)
        stored = {d.id for d in open_store(data_dir).gallery(limit=10 * len(ids) + 10)}
    return {
        "alone_p50": float(np.percentile(baseline, 50)), "alone_p95": float(np.percentile(baseline, 95)),
        "class_p50": float(np.percentile(latencies, 50)), "class_p95": float(np.percentile(latencies, 95)),
        "saves_per_s": len(ids) / seconds, "acknowledged": len(ids), "stored": len(stored & set(ids)),
        "lost": len(set(ids) - stored),
    }


def report(name: str, figures: dict[str, float]) -> None:
    print(f"{name:>8}  alone p50 {figures['alone_p50']:6.2f} ms  p95 {figures['alone_p95']:6.2f} ms | "
          f"class p50 {figures['class_p50']:7.2f} ms  p95 {figures['class_p95']:7.2f} ms | "
          f"ratio p50 {figures['class_p50'] / figures['alone_p50']:5.1f}x  "
          f"p95 {figures['class_p95'] / figures['alone_p95']:5.1f}x | "
          f"{figures['saves_per_s']:6.0f} saves/s | acknowledged {figures['acknowledged']:.0f}, "
          f"stored {figures['stored']:.0f}, lost {figures['lost']:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=30)
    parser.add_argument("--drawings", type=int, default=20, help="drawings saved by each writer")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-saves", type=int, default=60, help="saves timed for the writer alone")
    parser.add_argument("--pause-ms", type=float, default=0.0,
                        help="mean pause between a writer's saves (0: a burst, each saves again at once)")
    parser.add_argument("--processes", action="store_true", help="writers as processes, not session threads")
    args = parser.parse_args()
    drawings = prepare_drawings()
    print(f"{args.writers} {'processes' if args.processes else 'session threads'} × {args.drawings} drawings; "
          f"mean pause {args.pause_ms:g} ms; baseline: one writer alone, {args.baseline_saves} saves; "
          f"{os.cpu_count()} cores")
    runs = []
    for number in range(args.runs):
        runs.append(one_run(drawings, args.writers, args.drawings, args.pause_ms, args.processes,
                            args.baseline_saves))
        report(f"run {number + 1}", runs[-1])
    if len(runs) > 1:
        report("median", {key: statistics.median(run[key] for run in runs) for key in runs[0]})


if __name__ == "__main__":
    main()
