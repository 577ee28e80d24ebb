"""State and resources the pages share: the current network, way, settings, job pool, models.

Per-user values live in `st.session_state`; the job pool is one `st.cache_resource`
shared by every user of the server.
"""

from __future__ import annotations

import math
import os

import streamlit as st

from kerasways.spec import STYLE_TITLES, STYLES, ModelSpec, TrainConfig

SPEC, STYLE, CONFIG, JOBS, MODELS = "spec", "style", "config", "jobs", "trained_models"
WORKERS_ENV = "KERASWAYS_WORKERS"


def init_state() -> None:
    """Give a new session the reference network, the Sequential API and default settings."""
    st.session_state.setdefault(SPEC, ModelSpec())
    st.session_state.setdefault(STYLE, STYLES[0])
    st.session_state.setdefault(CONFIG, TrainConfig())
    st.session_state.setdefault(JOBS, {})  # style → job id of the latest training in that style
    st.session_state.setdefault(MODELS, {})  # job id → keras.Model rebuilt in this server


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

    Rebuilt once per session and job, then kept in session state.
    """
    models = st.session_state[MODELS]
    if job.id not in models:
        from kerasways.build import build_model

        model = build_model(job.spec, job.style)
        model.set_weights(job.result.weights)
        models[job.id] = model
    return models[job.id]


def finished_jobs() -> dict:
    """style → finished, successful job of this session, for every style trained so far."""
    found = {}
    for style_name, job_id in st.session_state[JOBS].items():
        job = job_pool().get(job_id)
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


def show_curves(loss_and_accuracy) -> None:
    """Show the loss and accuracy charts side by side."""
    for column, chart in zip(st.columns(2), loss_and_accuracy):
        column.altair_chart(chart, width="stretch")
