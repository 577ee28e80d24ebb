"""A class at once: N real browser sessions train and then draw, against one app server.

Usage:
    python -m bench.classroom                 # 10 sessions: train, then draw and classify 5 digits each
    python -m bench.classroom --sessions 4
    python -m bench.classroom --soak 20       # one session, 20 trainings in a row, each with its own seed and
                                              # learning rate; server RSS after each
    python -m bench.classroom --soak 20 --same-setup   # the same 20 trainings of one set-up

First one session runs alone (the baseline), then the N sessions at once, on the same server.
Prints completed sessions, errors, p50/p95 time from the end of a stroke to the frame that
shows its prediction (timed inside each page, and split into the browser's send, the server's
answer and the browser's drawing), each as a ratio to the same figure for the session alone,
the CPU seconds the app server, the training workers and the browsers used, and server memory
before and after. Goals (issue 6): 10/10 sessions with 0 errors; p95 stroke-to-prediction
≤ 1 s; RSS growth over the soak ≤ 50 MB after the first. The soak changes the seed and the
learning rate before every training (on the Build page, in the same session, as a student
trying settings does): anything the server keeps per seed or per learning rate (a model, a
compiled step, a cache entry) shows as growth, which repeating one set-up would hide. The
browsers run on the server's own cores here, unlike a class's laptops: the CPU line shows how
much of the machine they take. Traffic goes only to the app on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import NamedTuple

from kerasways.formats import plural
from support.app_server import launch_chromium, start_app, stop_app
from support.environment import OFFLINE

TRAIN_DIGITS = "1000"
TRAIN_EPOCHS = "2"
DRAWINGS = 5
# The page writes its set-up into the address at the end of each run: this tells that a change has
# been taken (and, after a training, which set-up trained).
SETUP_IN_ADDRESS = """([seed, rate]) => {
  const query = new URLSearchParams(location.search);
  return query.get("seed") === seed && Math.abs(parseFloat(query.get("lr")) - rate) < 1e-12;
}"""


class Drawing(NamedTuple):
    """One drawing's timing, in seconds; the parts are None when a message was not seen."""

    session: int
    ended_at: float  # wall-clock time (time.time()) of the pointer-up that ended the stroke
    shown: float  # pointer-up → the frame showing the prediction
    polled: float  # pointer-up → Playwright's polling `wait_for` saw it (for comparison)
    send: float | None  # pointer-up → the page sent the stroke (the canvas waits 0.2 s first)
    server: float | None  # sent → the prediction arrived
    render: float | None  # arrived → shown


class Phase:
    """What one phase of the benchmark (the session alone, then the class) measured."""

    def __init__(self, name: str):
        self.name = name
        self.drawings: list[Drawing] = []
        self.lost_strokes = 0


STROKES = [  # a few digit-like strokes in canvas fractions
    [(0.30, 0.25), (0.72, 0.25), (0.55, 0.55), (0.45, 0.85)],  # 7
    [(0.50, 0.15), (0.50, 0.85)],  # 1
    [(0.30, 0.30), (0.50, 0.15), (0.70, 0.30), (0.30, 0.80), (0.72, 0.80)],  # 2
    [(0.65, 0.20), (0.35, 0.20), (0.33, 0.50), (0.65, 0.55), (0.60, 0.80), (0.32, 0.80)],  # 5
    [(0.50, 0.15), (0.30, 0.50), (0.50, 0.85), (0.70, 0.50), (0.50, 0.15)],  # 0
]


class CpuByRole:
    """CPU seconds used by the app server, its training workers and the browsers, from /proc.

    On a class's server only the first two compete for its cores; here the browsers share them
    too, and this shows how much they take. Sampled twice a second in a thread, so processes
    that end early (a closed browser tab's renderer) still count.
    """

    def __init__(self, server_pid: int):
        self._server_pid = server_pid
        self._ticks = os.sysconf("SC_CLK_TCK")
        self._baseline = self._read()  # what processes alive at the start had used before
        self._latest = dict(self._baseline)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _read(self) -> dict[int, tuple[str, float]]:
        used = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            pid, parent = int(entry.name), int(fields[1])
            if pid == self._server_pid:
                role = "app server"
            elif parent == self._server_pid and "spawn_main" in command:
                role = "training workers"
            elif "chromium" in command:
                role = "browsers (chromium)"
            else:
                continue
            used[pid] = (role, (int(fields[11]) + int(fields[12])) / self._ticks)
        return used

    def _sample(self) -> None:
        while not self._done.wait(0.5):
            self._latest.update(self._read())

    def stop(self) -> dict[str, float]:
        """Stop sampling; CPU seconds per role since the start."""
        self._done.set()
        self._thread.join()
        self._latest.update(self._read())
        totals = {"app server": 0.0, "training workers": 0.0, "browsers (chromium)": 0.0}
        for pid, (role, seconds) in self._latest.items():
            totals[role] += seconds - self._baseline.get(pid, (role, 0.0))[1]
        return totals


def rss_mb(pid: int, with_children: bool = False) -> float:
    """Resident memory of a process (and optionally its children), in MB, from /proc."""
    pids = [pid]
    if with_children:
        listing = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
        pids += [int(child) for child in listing.split()]
    total = 0
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


async def set_number(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)  # not the "Help for …" button beside it
    await field.fill(value)
    await field.press("Enter")
    await page.wait_for_timeout(400)


async def open_small_training(page, url: str) -> None:
    """Open the Train page and set the benchmark's small training (epochs and digits)."""
    await page.goto(url + "/train")
    await page.get_by_role("button", name=re.compile("Start training")).wait_for(timeout=120_000)
    await set_number(page, "Epochs", TRAIN_EPOCHS)
    await set_number(page, "Training digits (0 = all)", TRAIN_DIGITS)


async def choose_seed_and_rate(page, seed: int, learning_rate: float) -> None:
    """On the Build page of the same session, set the seed and the learning rate, then return to Train."""
    await page.get_by_role("link", name=re.compile("Build")).click()
    await page.get_by_label("Seed", exact=True).wait_for(timeout=60_000)
    for attempt in range(3):  # a value typed while the page is still rerunning for the other can be lost
        await set_number(page, "Seed", str(seed))
        await set_number(page, "Learning rate", f"{learning_rate:g}")
        try:
            await page.wait_for_function(SETUP_IN_ADDRESS, arg=[str(seed), learning_rate], timeout=20_000)
            break
        except Exception:
            if attempt == 2:
                raise
    await page.get_by_role("link", name=re.compile("Train")).click()
    await page.get_by_role("button", name=re.compile("Start training")).wait_for(timeout=60_000)


async def train_once(page, timeout_ms: int) -> None:
    """Press Start on the Train page and wait for the results."""
    await page.get_by_role("button", name=re.compile("Start training")).click()
    await page.get_by_text("Test accuracy").first.wait_for(timeout=timeout_ms)


async def stable_box(page, locator) -> dict:
    """The element's box once the layout has settled (columns move while a page is still rendering)."""
    previous = await locator.bounding_box()
    for _ in range(50):
        await page.wait_for_timeout(150)
        box = await locator.bounding_box()
        if box == previous:
            return box
        previous = box
    return previous


# Installed in every page before its scripts run: times, on the page's own clock, when a stroke
# ends (pointer up), when the page sends a message to the server, when the message carrying the
# prediction arrives, and the first animation frame that shows it. Reading the times afterwards
# keeps Playwright's polling out of the figure: `wait_for` checks the page 0, 20, 70, 170 and
# 270 ms after it starts and then only every 500 ms, which once added up to half a second to a
# drawing's measured time.
TIMING_SCRIPT = """
(() => {
  const times = window.__strokeTimes = {up: [], sent: [], predicted: [], shown: []};
  const label = new TextEncoder().encode("The model reads");
  const carriesPrediction = (bytes) => {
    outer: for (let i = 0; i + label.length <= bytes.length; i++) {
      for (let j = 0; j < label.length; j++) if (bytes[i + j] !== label[j]) continue outer;
      return true;
    }
    return false;
  };
  const metricShown = () => [...document.querySelectorAll('[data-testid="stMetricLabel"]')]
    .some((element) => element.textContent.includes("The model reads"));
  const watchUntilShown = () => requestAnimationFrame((frameTime) => {
    if (metricShown()) times.shown.push(frameTime); else watchUntilShown();
  });
  addEventListener("pointerup", (event) => {  // strokes only: a watcher per click would keep frames coming
    if (event.composedPath()[0].tagName !== "CANVAS") return;
    times.up.push(performance.now());
    watchUntilShown();
  }, true);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) { times.sent.push(performance.now()); return send.call(this, data); };
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new NativeWebSocket(...args);
    socket.addEventListener("message", (event) => {
      if (event.data instanceof ArrayBuffer && carriesPrediction(new Uint8Array(event.data)))
        times.predicted.push(performance.now());
    });
    return socket;
  };
  Object.assign(window.WebSocket, NativeWebSocket);
  window.WebSocket.prototype = NativeWebSocket.prototype;
})();
"""


async def record_drawing(page, phase: Phase, session: int, polled: float) -> None:
    """Add the last stroke to the phase's drawings, split into its parts on the page's own clock."""
    times = await page.evaluate("({...window.__strokeTimes, origin: performance.timeOrigin})")
    up = times["up"][-1]
    shown = next(t for t in times["shown"] if t >= up)
    sent = next((t for t in times["sent"] if t >= up), None)
    predicted = next((t for t in times["predicted"] if sent is not None and sent <= t <= shown), None)
    send, server, render = ((sent - up) / 1000, (predicted - sent) / 1000, (shown - predicted) / 1000) \
        if predicted is not None else (None, None, None)
    phase.drawings.append(Drawing(session, (times["origin"] + up) / 1000, (shown - up) / 1000, polled,
                                  send, server, render))


async def draw(page, phase: Phase, stroke, number: int, session: int) -> None:
    """Clear, draw one stroke, and record in the phase how long its prediction took.

    Clear empties the canvas in place; the prediction disappears once the blank canvas is back.
    """
    if number:
        await page.get_by_role("button", name="Clear").click()
        await page.locator(".st-key-answer_metric").wait_for(state="detached", timeout=30_000)
    await page.get_by_text("Draw a digit on the black square").wait_for(timeout=30_000)
    canvas = page.locator(".st-key-canvas canvas.upper-canvas").first
    await canvas.wait_for(timeout=30_000)
    box = await stable_box(page, canvas)
    point = lambda x, y: (box["x"] + x * box["width"], box["y"] + y * box["height"])  # noqa: E731
    for attempt in range(2):
        await page.mouse.move(*point(*stroke[0]))
        await page.mouse.down()
        for x, y in stroke[1:]:
            await page.mouse.move(*point(x, y), steps=8)
        await page.mouse.up()
        released = time.perf_counter()
        try:
            await page.locator(".st-key-answer_metric").wait_for(timeout=10_000 if attempt == 0 else 30_000)
            await record_drawing(page, phase, session, polled=time.perf_counter() - released)
            return
        except Exception:
            if attempt:
                raise
            # A stroke made while a fresh canvas is still starting up under load is lost:
            # the user would draw again, so does the benchmark, and it is counted.
            phase.lost_strokes += 1
            box = await stable_box(page, canvas)
    raise AssertionError("unreachable")


async def student(browser, url: str, phase: Phase, index: int, errors: list[str]) -> bool:
    context = await browser.new_context(viewport={"width": 1300, "height": 950})
    page = await context.new_page()
    await context.add_init_script(TIMING_SCRIPT)
    step = "open the Train page"
    try:
        await open_small_training(page, url)
        step = "train"
        await train_once(page, timeout_ms=600_000)
        step = "open the Draw page"
        await page.get_by_role("link", name=re.compile("Draw a digit")).click()  # same session
        await page.locator("canvas.upper-canvas").first.wait_for(timeout=120_000)
        for drawing in range(DRAWINGS):
            step = f"drawing {drawing + 1}"
            await draw(page, phase, STROKES[(index + drawing) % len(STROKES)], drawing, index)
        return True
    except Exception as error:  # a benchmark reports failures instead of stopping at the first
        errors.append(f"session {index}, {step}: {type(error).__name__}: {' | '.join(str(error).splitlines()[:4])}")
        await page.screenshot(path=f"/tmp/classroom_failure_{phase.name}_{index}.png")
        return False
    finally:
        await context.close()


async def classroom(url: str, sessions: int, server_pid: int, phase: Phase) -> tuple[int, list[str], dict]:
    """Run the sessions at once; completed sessions, errors and CPU by role (drawings: in `phase`)."""
    from playwright.async_api import async_playwright

    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        cpu = CpuByRole(server_pid)
        results = await asyncio.gather(*(student(browser, url, phase, index, errors)
                                         for index in range(sessions)))
        await browser.close()
    return sum(results), errors, cpu.stop()


def soak_setups(trainings: int, vary: bool) -> list[tuple[int, float]]:
    """(seed, learning rate) for each training: all different when `vary`, else the defaults each time."""
    if not vary:
        return [(42, 0.001)] * trainings
    return [(1000 + number, round(0.0005 + 0.0001 * number, 6)) for number in range(trainings)]


async def soak(url: str, trainings: int, server_pid: int, vary: bool) -> list[float]:
    """Train `trainings` times in one session; the server's RSS after each, in MB."""
    from playwright.async_api import async_playwright

    rss = []
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        page = await (await browser.new_context(viewport={"width": 1300, "height": 950})).new_page()
        await open_small_training(page, url)
        for number, (seed, learning_rate) in enumerate(soak_setups(trainings, vary), start=1):
            if vary:
                await choose_seed_and_rate(page, seed, learning_rate)
            await train_once(page, timeout_ms=300_000)
            if vary:  # the address bar carries the set-up (the page writes it at the end of each run)
                try:
                    await page.wait_for_function(SETUP_IN_ADDRESS, arg=[str(seed), learning_rate], timeout=15_000)
                except Exception as error:
                    raise RuntimeError(f"training {number} did not use seed {seed} and learning rate "
                                       f"{learning_rate:g}: {page.url}") from error
            await page.wait_for_timeout(1000)
            rss.append(rss_mb(server_pid))
            print(f"training {number:2d} (seed {seed}, learning rate {learning_rate:g}): server RSS {rss[-1]:7.1f} MB, "
                  f"with workers {rss_mb(server_pid, with_children=True):7.1f} MB", flush=True)
        await browser.close()
    return rss


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def against_alone(values: list[float], alone: list[float]) -> str:
    """p50 and p95 of `values`, each with its ratio to the same figure of the session alone."""
    parts = []
    for name, statistic in (("p50", statistics.median), ("p95", lambda figures: percentile(figures, 0.95))):
        figure, baseline = statistic(values), statistic(alone) if alone else math.nan
        ratio = f"{figure / baseline:.2f}× alone" if baseline > 0 else "alone: not measured"
        parts.append(f"{name} {figure:.3f} s ({ratio}, {baseline:.3f} s)")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--soak", type=int, default=0, help="run N trainings in one session instead, each with its "
                                                             "own seed and learning rate")
    parser.add_argument("--same-setup", action="store_true", help="soak: repeat one seed and learning rate")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--save", type=Path, help="append each drawing's timing and phase (alone, class) to this "
                                                   "file (JSON lines), to pool several runs")
    args = parser.parse_args()
    server, url = start_app({**OFFLINE, "KERASWAYS_WORKERS": str(args.workers)})
    try:
        before = rss_mb(server.pid)
        print(f"server {url}, {args.workers} workers; server RSS at start {before:.1f} MB")
        if args.soak:
            rss = asyncio.run(soak(url, args.soak, server.pid, vary=not args.same_setup))
            setups = "one seed and learning rate" if args.same_setup else "a new seed and learning rate each time"
            print(f"server RSS after training 1: {rss[0]:.1f} MB; after training {len(rss)}: {rss[-1]:.1f} MB "
                  f"({setups})")
            print(f"RSS growth after the first training: {rss[-1] - rss[0]:+.1f} MB over "
                  f"{plural(len(rss) - 1, 'more training')}, "
                  f"{(rss[-1] - rss[0]) / max(len(rss) - 1, 1):+.2f} MB per training (goal ≤ 50 MB in all)")
            return
        alone = Phase("alone")
        completed_alone, errors_alone, _ = asyncio.run(classroom(url, 1, server.pid, alone))
        print(f"one session alone (the baseline): completed {completed_alone}/1, errors: {len(errors_alone)}; "
              f"{len(alone.drawings)} drawings")
        for error in errors_alone:
            print("  " + error)
        together = Phase("class")
        started, started_at = time.perf_counter(), time.time()
        completed, errors, cpu = asyncio.run(classroom(url, args.sessions, server.pid, together))
        after = rss_mb(server.pid)
        wall = time.perf_counter() - started
        print(f"sessions completed: {completed}/{args.sessions}, errors: {len(errors)} (wall time {wall:.0f} s)")
        print(f"CPU used ({os.cpu_count()} cores × {wall:.0f} s = {os.cpu_count() * wall:.0f} core-seconds): "
              + ", ".join(f"{role} {seconds:.0f} s" for role, seconds in cpu.items()))
        for error in errors:
            print("  " + error)

        def figures(phase: Phase, part: str) -> list[float]:
            return [getattr(drawing, part) for drawing in phase.drawings if getattr(drawing, part) is not None]

        if together.drawings:
            print(f"stroke → prediction shown: {against_alone(figures(together, 'shown'), figures(alone, 'shown'))} "
                  f"over {len(together.drawings)} drawings (goal p95 ≤ 1 s); strokes lost and redrawn: "
                  f"{together.lost_strokes} ({alone.lost_strokes} alone)")
            print(f"  as Playwright's polling wait_for saw it: "
                  f"{against_alone(figures(together, 'polled'), figures(alone, 'polled'))} "
                  "(it looks every 500 ms after the first 270 ms)")
        if args.save:
            with args.save.open("a") as saved:
                saved.writelines(json.dumps({**drawing._asdict(), "phase": phase.name}) + "\n"
                                 for phase in (alone, together) for drawing in phase.drawings)
        split = [drawing for drawing in together.drawings if drawing.server is not None]
        if split:
            for part, title in (("send", "browser: stroke → sent to server"),
                                ("server", "server: sent → prediction received"),
                                ("render", "browser: received → prediction shown")):
                print(f"  {title:38s} {against_alone(figures(together, part), figures(alone, part))}")
            print("  slowest drawings (session, seconds after the start, total = send + server + render):")
            for drawing in sorted(split, key=lambda drawing: drawing.shown)[-5:]:
                print(f"    session {drawing.session}, at {drawing.ended_at - started_at:5.1f} s: "
                      f"{drawing.shown:.3f} = {drawing.send:.3f} + {drawing.server:.3f} + {drawing.render:.3f}")
        print(f"server RSS: before {before:.1f} MB, after {after:.1f} MB "
              f"(with workers: {rss_mb(server.pid, with_children=True):.1f} MB)")
    finally:
        stop_app(server)


if __name__ == "__main__":
    main()
