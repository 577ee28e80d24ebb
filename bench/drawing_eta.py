"""The Draw page's expected time for the network for drawings against the time it really takes, per data set.

For the offline 4,000 digits and for 60,000 (the bundled digits tiled to full MNIST's size in a temporary
Keras cache: timing depends on the data's size, not its content), a `jobs.JobPool` of two workers (the server's
default) trains `runs.drawing_request(data size)` `--runs` times. Each training's worker-seconds are compared
with what the page says (`RunRegistry.expected_seconds`): first the training budget's estimate alone (a server
that has measured nothing yet), then scaled by the previous training measured on this server (what the page
says from the second training on, or after a restart with a stored network). Goal: within a factor of 1.5.

Run: python -m bench.drawing_eta [--runs 2] [--only offline|full]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from bench.budget import FULL, OFFLINE, full_size_cache, measure, ready

GOAL = 1.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--only", choices=(OFFLINE, FULL))
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from kerasways.budget import estimated_seconds
    from kerasways.jobs import JobPool
    from kerasways.runs import drawing_request

    for data in (OFFLINE, FULL):
        if args.only and data != args.only:
            continue
        with tempfile.TemporaryDirectory() as folder:
            if data == FULL:
                os.environ["KERAS_HOME"] = str(full_size_cache(Path(folder)))
            pool = JobPool(workers=2, data_source="bundled" if data == OFFLINE else "keras", start_workers=False)
            try:
                size = ready(pool)
                request = drawing_request(size)
                estimate = estimated_seconds(request, size)
                measured = [measure(pool, request) for _ in range(args.runs)]
            finally:
                pool.close()
        ratios_raw = [estimate / seconds for seconds in measured]
        # From the second training on, the page scales the estimate by the previous one's measured / estimated.
        ratios_scaled = [previous / seconds for previous, seconds in zip(measured, measured[1:])]
        print(f"{data} ({size:,} digits; {request.config.epochs} epochs, batch {request.config.batch_size}): "
              f"measured {', '.join(f'{seconds:.0f}' for seconds in measured)} s; budget estimate {estimate:.0f} s, "
              f"estimate / measured {statistics.median(ratios_raw):.2f}"
              + (f"; scaled by the previous training: {statistics.median(ratios_scaled):.2f}" if ratios_scaled else "")
              + f" (goal within ×{GOAL})", flush=True)


if __name__ == "__main__":
    main()
