"""Page 2: train the chosen way live, watch it learn, read the results."""

import streamlit as st

from app_pages import class_runs_view, results_view, server, session, views, widgets
from kerasways.spec import supported_styles, total_params

st.title("Train it live")
style, spec = session.style(), session.spec()
pool = server.job_pool()
book = session.book()
run = book.latest(style)
running = run is not None and not run.finished

st.markdown(
    f"**{session.style_title(style)}** · {' → '.join(layer.describe() for layer in spec.layers)} · "
    f"{total_params(spec):,} parameters · {spec.optimizer}, learning rate {spec.learning_rate:g} · seed {spec.seed}. "
    "Change the network on page 1."
)
config = widgets.train_settings(disabled=running)
class_split = class_runs_view.class_digits_option(spec.seed, disabled=running)  # our class's digits, or None


def data_line() -> str:
    """Which digits the workers train on (they load them when they start)."""
    return f"**Data:** {pool.data_description() or 'loading in the training workers…'}"


def server_status() -> str:
    """How busy the shared workers are, e.g. "Server: 1/2 workers busy, 3 waiting."."""
    return "Server: {busy}/{workers} workers busy, {queued} waiting.".format(**pool.status())


if not running:  # while a run trains, the live part below shows these lines, kept current
    st.caption(data_line())
with st.expander("How the app trains (and why it is faster than `model.fit`)"):
    held_out = (f"the last {config.validation_split:.0%} held out for validation"
                if config.validation_split else "no digits held out for validation")
    st.markdown(
        "Every step does what `model.fit` does: one Adam (or your optimizer's) update on one batch of "
        f"**{config.batch_size}** digits, the digits reshuffled every epoch, {held_out}. The difference is "
        "speed: `fit` pays about a millisecond of Python overhead per step, so here hundreds of steps run "
        "inside one compiled call, between which the charts are updated. Training runs in a separate worker "
        "process, so the page stays responsive; the trained weights come back and are loaded into a model "
        "built from the very code on page 1."
    )

def show_live(runs) -> None:
    """Data and server lines, progress bar, status line and live curves of the run."""
    (current,) = runs
    st.caption(data_line())
    st.caption(server_status())
    st.progress(views.fraction_done(current), text=views.progress_text(current))
    if current.progress is not None:
        views.show_curves(current)


def controls_and_run() -> None:
    """Start and Stop, then the live run or the results of the latest run in this way."""
    start_col, stop_col, status_col = st.columns([1, 1, 4])
    if start_col.button("▶ Start training", type="primary", disabled=running, key="start"):
        if class_split is not None:  # our class's digits: mixed in, the held-out writers kept with the run
            class_runs_view.submit_with_class_digits((spec, style, config), class_split)
        else:
            session.submit([(spec, style, config)], origin="train")
    if stop_col.button("■ Stop", disabled=not running, key="stop",
                       help="Stops after the current step and keeps the weights learned so far."):
        pool.stop(run.id)
    if not running:
        status_col.caption(server_status())
    if running:
        views.follow([run], show_live)
    elif run is not None:
        if run.state in ("failed", "cancelled"):
            st.error(run.error, icon=":material/warning:")
        if run.result is not None:
            results_view.show(run)
            class_runs_view.show_before_after(run)  # only for a run trained with our class's digits
    else:
        st.info("Press **Start training**. With the default settings it takes a few seconds.",
                icon=":material/touch_app:")


# No st.stop() on this page: the app's share link is written after the page has run.
if style in supported_styles(spec):
    controls_and_run()
else:
    views.sequential_cannot_branch()
