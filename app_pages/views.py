"""View helpers the pages share: charts, image rows, and a live view of running trainings."""

from __future__ import annotations

import html
from collections.abc import Callable

import streamlit as st

from app_pages import server, session

# A poll redraws the live charts: about 10 ms of server time with their specs cached (it was
# 86 ms when each poll built and validated new Altair charts), and the browser only swaps the
# data. Once a second still looks live and leaves the server to a class's drawings.
POLL_SECONDS = 1.0


def show_chart(chart, where=None) -> None:
    """Show a `kerasways.charts.Chart` (in `where`, a column or container, if given).

    The spec and the data go separately, so an update with new data only is drawn in place.
    """
    (where or st).vega_lite_chart(chart.data, chart.spec, width="stretch")


def show_image_row(captioned_images, size: int) -> None:
    """Small uint8 images as one row of crisp, pixelated pictures with captions.

    One element with inline PNGs instead of an `st.image` each: nothing to store and fetch
    per picture, which adds up when a whole class draws or opens its results at once.

    Args:
        captioned_images: (caption, 2-D uint8 array) pairs.
        size: displayed width and height in pixels.
    """
    import base64
    import io

    import numpy as np
    from PIL import Image

    figures = []
    for caption, image in captioned_images:
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
        source = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
        caption = html.escape(caption)
        figures.append(
            f"<figure style='margin:0;text-align:center;width:{size}px'><img src='{source}' alt='{caption}' "
            f"style='width:{size}px;height:{size}px;object-fit:contain;image-rendering:pixelated;background:#000'>"
            f"<figcaption style='font-size:0.85rem;color:#666'>{caption}</figcaption></figure>"
        )
    st.html(f"<div style='display:flex;gap:{max(size // 6, 8)}px;flex-wrap:wrap'>{''.join(figures)}</div>")


def show_plain_list(lines: list[str]) -> None:
    """Text that came from a link or a user, shown as plain text: never Markdown, links or HTML."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    st.html(f"<ul style='margin:0 0 0.5rem 1.2rem;font-size:0.9rem'>{items}</ul>")


def show_curves(run) -> None:
    """A run's loss and accuracy: per batch (raw and smoothed) with per-epoch points, side by side."""
    from kerasways import charts

    losses, accuracies, epochs, steps = run.history.snapshot()
    batches = charts.batch_frame(losses, accuracies, max(steps, 1))
    curves = charts.training_curves(batches, charts.epoch_frame(epochs), run.config.epochs, lang=session.lang())
    for column, chart in zip(st.columns(2), curves):
        show_chart(chart, column)


def progress_text(run) -> str:
    """Where a queued or running run is: waiting, compiling, or epoch, batch, loss and time left."""
    from kerasways.engine import RunState
    from kerasways.formats import duration, percent

    _, lang = session.gettext(), session.lang()
    registry = server.run_registry()
    progress = run.progress
    if run.state is RunState.QUEUED and not registry.data_description():
        return _("Starting the training workers: the first training after the server starts waits a few "
                 "seconds for them to load TensorFlow and the digits.")
    if run.state is RunState.QUEUED:
        position = registry.waiting_position(run)
        if position is None:  # an engine that cannot tell the queue's order
            return _("Waiting for a free worker.")
        return _("Waiting for a free worker: you are number {position} in the queue.").format(position=position)
    if progress is None:
        return _("Building the model and compiling the training steps…")
    return _("Epoch {epoch}/{epochs} · batch {step}/{steps} · loss {loss} · accuracy {accuracy} · "
             "{speed} digits/s · about {left} left").format(
        epoch=progress.epoch, epochs=progress.epochs, step=f"{progress.step:,}",
        steps=f"{progress.steps_per_epoch:,}", loss=f"{progress.loss:.4f}", accuracy=percent(progress.accuracy, lang),
        speed=f"{progress.samples_per_second:,.0f}", left=duration(progress.eta_seconds, lang))


def fraction_done(run) -> float:
    """How much of a run is done, from 0 to 1."""
    if run.finished:
        return 1.0
    return min(run.progress.fraction, 1.0) if run.progress is not None else 0.0


def follow(runs: list, draw: Callable[[list], None]) -> None:
    """Draw `runs` with `draw(runs)`, and while any of them trains, again every POLL_SECONDS.

    The one live view of the app: only this part of the page reruns while training. The whole
    page reruns when a run changes state (a queued run starts, a run finishes), so what is drawn
    outside this view (buttons enabled or not, results) follows the runs.

    Args:
        runs: `runs.Run` objects (they update themselves as progress streams in).
        draw: renders them; called on every poll.
    """
    if all(run.finished for run in runs):
        draw(runs)
        return

    states = [run.state for run in runs]

    @st.fragment(run_every=POLL_SECONDS)
    def live() -> None:
        if all(run.finished for run in runs) or [run.state for run in runs] != states:
            st.rerun()
        draw(runs)

    live()


def training_estimate(requests, where=None) -> None:
    """How long these trainings (queued as one request) would take, said before they are started;
    over the server's limit, the same words the refusal on Start begins with."""
    estimate = server.run_registry().estimate(requests)
    if estimate.fits:
        (where or st).caption(session.message(estimate.message()))
    else:
        (where or st).warning(session.message(estimate.message()), icon=":material/timer_off:")


def sidebar_status() -> None:
    """A small live status of this session's trainings in the sidebar (pages other than Train)."""
    active = session.book().active()
    if not active:
        return

    def draw(runs) -> None:
        _ = session.gettext()
        with st.sidebar:
            for run in runs:
                st.progress(fraction_done(run),
                            text=_("Training {network} ({way}): {done}").format(
                                network=session.message(run.network_name), way=session.style_title(run.style),
                                done=f"{fraction_done(run):.0%}"))

    follow(active, draw)


def share_link_notes() -> None:
    """Say once what a shared link brought back, and what it asked for that could not be used."""
    _ = session.gettext()
    counts = st.session_state.pop(session.REATTACHED, None)
    if counts and counts["running"]:
        st.success(_("Reattached to your training: it kept running while the page reloaded."),
                   icon=":material/sync:")
    if counts and counts["missing"]:
        from kerasways.runs import KEEP_FINISHED_SECONDS

        st.info(_("{missing} training(s) named in this link are no longer on the server: finished "
                  "trainings are kept for {hours} hours, the server may have restarted, "
                  "or the page that started a training is still open elsewhere. Your set-up is restored: "
                  "press Start to train again.").format(missing=counts["missing"],
                                                         hours=KEEP_FINISHED_SECONDS // 3600),
                icon=":material/sync_problem:")
    if counts and counts.get("others"):
        st.info(_("This link names a training started in another browser; it stays theirs. You have the same "
                  "set-up: press Start to train it yourself."), icon=":material/person:")
    notes = st.session_state.pop(session.LINK_NOTES, None)
    if notes:
        st.warning(_("This link had settings that could not be used, so defaults were taken for them:"),
                   icon=":material/link_off:")
        show_plain_list([session.message(note) for note in notes])


def sequential_cannot_branch(where=None) -> None:
    """Why this network has no Sequential version (the wording lives in `spec`, with the rule)."""
    from kerasways.spec import SEQUENTIAL_CANNOT_BRANCH

    _ = session.gettext()
    (where or st).info(_("{reason} Pick the Functional API or Model subclassing on page 1.").format(
        reason=_(SEQUENTIAL_CANNOT_BRANCH)), icon=":material/call_split:")


def unexpected_error(error: Exception) -> None:
    """Say in one sentence that something went wrong, and keep the details in the server log.

    Args:
        error: what a page raised that no page expected (expected problems are Messages).
    """
    import logging

    logging.getLogger("kerasways").error("kerasways: unexpected error on a page", exc_info=error)
    _ = session.gettext()
    st.error(_("Something went wrong on this page. Nothing you made is lost: reload the page to go on. "
               "The server's log has the details for whoever runs it."), icon=":material/error:")
