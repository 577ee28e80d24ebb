"""State and resources the pages share: the current network, way, settings, job pool, models.

Per-user values live in `st.session_state`; the job pool is one `st.cache_resource`
shared by every user of the server.
"""

from __future__ import annotations

import gc
import importlib
import math
import os
import sys
import threading
import time

import streamlit as st

from kerasways.spec import STYLE_TITLES, STYLES, ModelSpec, TrainConfig

SPEC, STYLE, CONFIG, JOBS, DONE, MODELS = "spec", "style", "config", "jobs", "done_jobs", "trained_models"
LINK_NOTES = "share_link_notes"
REATTACHED = "reattached_to_job"
JOB_PARAM = "job"  # the address names the running training so a reload can reattach to it
WORKERS_ENV = "KERASWAYS_WORKERS"
WARM_UP_DELAY_SECONDS = 3.0


@st.cache_resource(show_spinner=False)
def warm_up_in_background() -> threading.Thread:
    """Once per server, after the first page is out: import Keras and start the workers.

    Importing TensorFlow takes seconds; done here, the first visitor sees the page at once
    and the first training or result does not wait for it. The chart and drawing modules
    (Altair, pandas, SciPy) come too: imported by the first Train page instead, they held
    Python's lock for about 2 s while a whole class was starting to train.
    """

    def warm_up() -> None:
        # Let the first visitor's browser render the page before three processes import
        # TensorFlow on the same cores.
        time.sleep(WARM_UP_DELAY_SECONDS)
        for module in ("keras", "kerasways.charts", "kerasways.drawing", "kerasways.evaluate"):
            importlib.import_module(module)
        job_pool()
        # TensorFlow brings half a million long-lived objects; left to the collector, every
        # full collection walks them all, holding the GIL and so stalling every session
        # (230–390 ms each in the classroom bench). Frozen, they are never walked again.
        gc.freeze()

    thread = threading.Thread(target=warm_up, name="kerasways-warm-up", daemon=True)
    thread.start()
    return thread


def keep_keras_between_runs() -> None:
    """Stop Streamlit from clearing Keras' session after every script run.

    Streamlit calls `keras.backend.clear_session()` after each run once Keras is imported,
    for apps that build models in the script. Here models are built once and kept, and that
    call runs a full `gc.collect()`: about 200 ms holding the GIL with TensorFlow loaded, on
    every rerun and every poll of every open page (measured: 70% of a drawing's rerun).
    """
    from streamlit.runtime.scriptrunner import script_runner

    current = getattr(script_runner, "_clean_problem_modules", None)
    if current is None or getattr(current, "kerasways", False):
        return  # already replaced, or a Streamlit version without this hook

    def close_pyplot_figures_only() -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")

    close_pyplot_figures_only.kerasways = True
    script_runner._clean_problem_modules = close_pyplot_figures_only


def init_state() -> None:
    """Start a new session from its share link, or from the reference network and defaults."""
    if SPEC not in st.session_state and st.query_params:
        from kerasways.share import from_query

        params = st.query_params.to_dict()
        job_id = params.pop(JOB_PARAM, None)
        link_spec, link_style, link_config, notes = from_query(params)
        st.session_state[SPEC], st.session_state[STYLE], st.session_state[CONFIG] = link_spec, link_style, link_config
        st.session_state[JOBS] = {}
        if job_id:
            _reattach(job_id)
        st.session_state[LINK_NOTES] = notes
    st.session_state.setdefault(SPEC, ModelSpec())
    st.session_state.setdefault(STYLE, STYLES[0])
    st.session_state.setdefault(CONFIG, TrainConfig())
    st.session_state.setdefault(JOBS, {})  # style → job id of the latest training in that style
    st.session_state.setdefault(MODELS, {})  # style → (job id, keras.Model rebuilt in this server)


def _reattach(job_id: str) -> None:
    """Take over the training named in the address after a reload, and say what happened."""
    job = job_pool().adopt(job_id, session_id(), session_alive_check())
    if job is None:
        st.session_state[REATTACHED] = False
        return
    st.session_state[JOBS][job.style] = job.id
    st.session_state[STYLE] = job.style
    st.session_state[REATTACHED] = True


def spec() -> ModelSpec:
    """The current network."""
    return st.session_state[SPEC]


def style() -> str:
    """The current way of writing it (one of STYLES)."""
    return st.session_state[STYLE]


def config() -> TrainConfig:
    """The current training settings."""
    return st.session_state[CONFIG]


def style_title(name: str) -> str:
    """Display title of a style, e.g. "Functional API"."""
    return STYLE_TITLES[name]


@st.cache_resource(show_spinner="Starting the training workers (they load TensorFlow once)…")
def job_pool():
    """The server's pool of training workers, started on first use and shared by all users."""
    from kerasways.jobs import JobPool

    return JobPool(workers=int(os.environ.get(WORKERS_ENV, "2")))


def session_id() -> str:
    """This browser session's id (owner of its jobs)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context else "no-session"


def session_alive_check():
    """A function the job pool calls to learn whether this browser session is still connected."""
    from streamlit import runtime

    session = session_id()
    if not runtime.exists():
        return None
    instance = runtime.get_instance()
    return lambda: instance.is_active_session(session)


def current_job(style_name: str):
    """The latest job of this session in `style_name`, or None."""
    job_id = st.session_state[JOBS].get(style_name)
    return job_pool().get(job_id) if job_id else None


def active_job():
    """This session's unfinished job, if any."""
    for job_id in st.session_state[JOBS].values():
        job = job_pool().get(job_id)
        if job is not None and not job.finished:
            return job
    return None


def trained_model(job):
    """The keras.Model for a finished job, rebuilt from the shown source with the job's weights.

    Rebuilt once, then kept in session state: one model per style, so a long session
    that trains again and again holds only its latest models. The single-drawing predict
    step of its network is compiled here (once per network), so the first drawing does not
    wait for that.
    """
    models = st.session_state[MODELS]
    kept = models.get(job.style)
    if kept is None or kept[0] != job.id:
        import numpy as np

        from kerasways.build import build_model
        from kerasways.evaluate import predict_one

        model = build_model(job.spec, job.style)
        model.set_weights(job.result.weights)
        predict_one(model, np.zeros((28, 28), np.float32), architecture=(job.spec, job.style))
        models[job.style] = (job.id, model)
    return models[job.style][1]


def finished_jobs() -> dict:
    """style → this session's latest successfully trained job in that style.

    A new training in a style replaces the old model only once it has finished.
    """
    done = st.session_state.setdefault(DONE, {})
    for style_name, job_id in st.session_state[JOBS].items():
        job = job_pool().get(job_id)
        if job is not None and job.result is not None:
            done[style_name] = job_id
    found = {}
    for style_name in STYLES:
        job = job_pool().get(done[style_name]) if style_name in done else None
        if job is not None and job.result is not None:
            found[style_name] = job
    return found


def eta_text(seconds: float) -> str:
    """Human time left: "12 s", "3 min 5 s", or "…" while unknown."""
    if not math.isfinite(seconds):
        return "…"
    seconds = int(round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60} s"


def training_status_sidebar() -> None:
    """A small live status of this session's training in the sidebar, on every page but Train."""
    job = active_job()
    if job is None:
        return

    @st.fragment(run_every=1.0)
    def status() -> None:
        current = job_pool().get(job.id)
        if current is None or current.finished:
            st.rerun()
        with st.sidebar:
            progress = current.progress
            fraction = progress.fraction if progress else 0.0
            st.progress(min(fraction, 1.0), text=f"Training ({style_title(current.style)}): {fraction:.0%}")

    status()


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
        figures.append(
            f"<figure style='margin:0;text-align:center;width:{size}px'><img src='{source}' alt='{caption}' "
            f"style='width:{size}px;height:{size}px;object-fit:contain;image-rendering:pixelated;background:#000'>"
            f"<figcaption style='font-size:0.85rem;color:#666'>{caption}</figcaption></figure>"
        )
    st.html(f"<div style='display:flex;gap:{max(size // 6, 8)}px;flex-wrap:wrap'>{''.join(figures)}</div>")


def show_curves(loss_and_accuracy) -> None:
    """Show the loss and accuracy charts side by side."""
    for column, chart in zip(st.columns(2), loss_and_accuracy):
        show_chart(chart, column)


def share_link_notes() -> None:
    """Say once what a shared link asked for that could not be used."""
    reattached = st.session_state.pop(REATTACHED, None)
    if reattached:
        st.success("Reattached to your training: it kept running while the page reloaded.",
                   icon=":material/sync:")
    elif reattached is False:
        st.info("The training named in this link is not on the server any more (the server restarted, "
                "or the page that started it is still open elsewhere). Your set-up is restored: press "
                "Start to train again.", icon=":material/sync_problem:")
    notes = st.session_state.pop(LINK_NOTES, None)
    if notes:
        st.warning("This link had settings that could not be used, so defaults were taken for them:\n\n"
                   + "\n".join(f"- {note}" for note in notes), icon=":material/link_off:")


def update_share_link() -> None:
    """Keep the address bar a link that reopens this exact set-up."""
    from kerasways.share import to_query

    wanted = to_query(spec(), style(), config())
    running = active_job()
    if running is not None:
        wanted[JOB_PARAM] = running.id
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
