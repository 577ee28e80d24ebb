"""Server plumbing shared by every session: the training engine, the runs, warm-up and a Streamlit patch.

Nothing here is per user: these are `st.cache_resource` objects, one per server process.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
import threading
import time

import streamlit as st

WORKERS_ENV = "KERASWAYS_WORKERS"
WARM_UP_ENV = "KERASWAYS_WARM_UP"  # "0": no warm-up; the workers start with the first training
WARM_UP_DELAY_SECONDS = 3.0
LOG = logging.getLogger("kerasways")


@st.cache_resource(show_spinner=False)
def training_engine():
    """The server's `engine.TrainingEngine`: a pool of worker processes, started on first use and
    shared by all users. Pages never call it: they ask the run registry."""
    from kerasways.jobs import JobPool

    # Its processes start with the warm-up or the first training, not with the first page shown.
    return JobPool(workers=int(os.environ.get(WORKERS_ENV, "2")), start_workers=False)


@st.cache_resource(show_spinner=False)
def run_registry():
    """Every session's training runs, kept on the server for a while after they finish."""
    from kerasways.runs import RunRegistry
    from kerasways.stored_network import NetworkStore

    return RunRegistry(training_engine(), networks=NetworkStore())


@st.cache_resource(show_spinner=False)
def browser_secret() -> bytes:
    """The secret that signs browser ids (the middleware in app_pages/web.py reads the same one)."""
    from kerasways import identity

    return identity.load_secret()


@st.cache_resource(show_spinner=False)
def teacher_browsers():
    """The browsers where the teacher key was given (`teacher.TeacherBrowsers`)."""
    from kerasways.teacher import TeacherBrowsers

    return TeacherBrowsers()


@st.cache_resource(show_spinner=False)
def teacher_key_guard():
    """Wrong teacher-key guesses per browser and overall (`teacher.KeyGuard`)."""
    from kerasways.teacher import KeyGuard

    return KeyGuard()


@st.cache_resource(show_spinner=False)
def warm_up_in_background() -> threading.Thread | None:
    """Once per server, after the first page is out: import Keras and start the workers.

    Importing TensorFlow takes seconds; done here, the first visitor sees the page at once
    and the first training or result does not wait for it. The chart and drawing modules
    (Altair, pandas, SciPy) come too: imported by the first Train page instead, they held
    Python's lock for about 2 s while a whole class was starting to train.

    Returns:
        The warm-up thread, or None with KERASWAYS_WARM_UP=0 (a server that only shows pages,
        or AppTest, which runs the app inside the test process, then starts no worker).
    """
    if os.environ.get(WARM_UP_ENV, "1") == "0":
        return None

    def warm_up() -> None:
        # Let the first visitor's browser render the page before three processes import
        # TensorFlow on the same cores.
        time.sleep(WARM_UP_DELAY_SECONDS)
        for module in ("keras", "kerasways.charts", "kerasways.drawing", "kerasways.evaluate"):
            importlib.import_module(module)
        registry = run_registry()
        training_engine().start()
        # A network for drawings stored in the data folder is read now, so the Draw page has it at once.
        from kerasways.runs import drawing_request

        registry.ready_shared(drawing_request(registry.data_size()))
        # TensorFlow brings half a million long-lived objects; left to the collector, every
        # full collection walks them all, holding the GIL and so stalling every session
        # (230–390 ms each in the classroom bench). Frozen, they are never walked again.
        gc.freeze()

    thread = threading.Thread(target=warm_up, name="kerasways-warm-up", daemon=True)
    thread.start()
    return thread


def _close_pyplot_figures_only() -> None:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


_close_pyplot_figures_only.kerasways = True


@st.cache_resource(show_spinner=False)
def keep_keras_between_runs() -> bool:
    """Stop Streamlit from clearing Keras' session after every script run.

    Streamlit calls `keras.backend.clear_session()` after each run once Keras is imported,
    for apps that build models in the script. Here models are built once and kept, and that
    call runs a full `gc.collect()`: about 200 ms holding the GIL with TensorFlow loaded, on
    every rerun and every poll of every open page (measured: 70% of a drawing's rerun).

    Returns:
        True when the patch is in place; False (logged once) on a Streamlit without this hook.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if getattr(script_runner, "_clean_problem_modules", None) is None:
        LOG.warning("kerasways: could not stop Streamlit from clearing Keras after every run "
                    "(no script_runner._clean_problem_modules in Streamlit %s); pages will be slower.",
                    st.__version__)
        return False
    script_runner._clean_problem_modules = _close_pyplot_figures_only
    return True


def keras_patch_applied() -> bool:
    """True when Streamlit's per-run Keras clean-up is replaced (see `keep_keras_between_runs`)."""
    from streamlit.runtime.scriptrunner import script_runner

    return getattr(getattr(script_runner, "_clean_problem_modules", None), "kerasways", False)
