"""Page 2: train the chosen way live, watch it learn, read the results."""

import streamlit as st

from app_pages import results, shared, widgets
from kerasways import charts
from kerasways.jobs import OwnerBusyError, QueueFullError
from kerasways.spec import supported_styles, total_params

# A poll redraws the live charts: about 10 ms of server time with their specs cached (it was
# 86 ms when each poll built and validated new Altair charts), and the browser only swaps the
# data. Once a second still looks live and leaves the server to a class's drawings.
POLL_SECONDS = 1.0

st.title("Train it live")
style, spec = shared.style(), shared.spec()
pool = shared.job_pool()
job = shared.current_job(style)
running = job is not None and not job.finished

st.markdown(
    f"**{shared.style_title(style)}** · {' → '.join(layer.describe() for layer in spec.layers)} · "
    f"{total_params(spec):,} parameters · {spec.optimizer}, learning rate {spec.learning_rate:g} · seed {spec.seed}. "
    "Change the network on page 1."
)
config = widgets.train_settings(disabled=running)


def data_line() -> str:
    """Which digits the workers train on (they load them when they start)."""
    return f"**Data:** {pool.data_description() or 'loading in the training workers…'}"


if not running:  # while a job runs, the live part below shows this line, kept current
    st.caption(data_line())
with st.expander("How the app trains (and why it is faster than `model.fit`)"):
    st.markdown(
        "Every step does what `model.fit` does: one Adam (or your optimizer's) update on one batch of "
        f"**{config.batch_size}** digits, the digits reshuffled every epoch, the last "
        f"{config.validation_split:.0%} held out for validation. The difference is speed: `fit` pays about a "
        "millisecond of Python overhead per step, so here hundreds of steps run inside one XLA-compiled "
        "call, between which the charts are updated. Training runs in a separate worker process, so "
        "the page stays responsive; the trained weights come back and are loaded into a model built "
        "from the very code on page 1."
    )

if style not in supported_styles(spec):
    st.info("The Sequential API cannot express a skip connection. Pick the Functional API or Model "
            "subclassing on page 1 to train this network.", icon=":material/call_split:")
    st.stop()

start_col, stop_col, status_col = st.columns([1, 1, 4])
if start_col.button("▶ Start training", type="primary", disabled=running, key="start"):
    other = shared.active_job()
    try:
        if other is not None:
            raise OwnerBusyError(f"Your {shared.style_title(other.style)} training is still running: "
                                 "stop it or wait for it to finish.")
        job = pool.submit(spec, style, config, owner=shared.session_id(), owner_alive=shared.session_alive_check())
        st.session_state[shared.JOBS][style] = job.id
        st.rerun()  # draw the page again in its "running" state (Start disabled, Stop enabled)
    except (OwnerBusyError, QueueFullError) as error:
        st.warning(str(error), icon=":material/hourglass_top:")
if stop_col.button("■ Stop", disabled=not running, key="stop",
                   help="Stops after the current step and keeps the weights learned so far."):
    pool.stop(job.id)


def server_status() -> str:
    """How busy the shared workers are, e.g. "Server: 1/2 workers busy, 3 waiting."."""
    return "Server: {busy}/{workers} workers busy, {queued} waiting.".format(**pool.status())


if not running:
    status_col.caption(server_status())


def show_progress(job) -> None:
    """Progress bar, status line and live curves of a queued or running job."""
    progress = job.progress
    if job.state == "queued" and not pool.data_description():
        st.progress(0.0, text="Starting the training workers: the first training after the server starts "
                              "waits a few seconds for them to load TensorFlow and the digits.")
        return
    if job.state == "queued":
        st.progress(0.0, text=f"Waiting for a free worker: you are number {pool.position(job)} in the queue.")
        return
    if progress is None:
        st.progress(0.0, text="Building the model and compiling the training steps…")
        return
    st.progress(
        min(progress.fraction, 1.0),
        text=(f"Epoch {progress.epoch}/{progress.epochs} · batch {progress.step:,}/{progress.steps_per_epoch:,} · "
              f"loss {progress.loss:.4f} · accuracy {progress.accuracy:.2%} · "
              f"{progress.samples_per_second:,.0f} digits/s · about {shared.eta_text(progress.eta_seconds)} left"),
    )
    show_curves(job)


def show_curves(job) -> None:
    """Loss and accuracy per batch (smoothed and raw) with per-epoch points."""
    steps = job.progress.steps_per_epoch if job.progress else max(len(job.batch_loss), 1)
    batches = charts.batch_frame(list(job.batch_loss), list(job.batch_accuracy), steps)
    epochs = charts.epoch_frame(list(job.epoch_points))
    shared.show_curves(charts.training_curves(batches, epochs, job.config.epochs))


if running:
    @st.fragment(run_every=POLL_SECONDS)
    def live_progress() -> None:
        current = pool.get(job.id)
        if current is None or current.finished:
            st.rerun()  # the whole page switches to the results
        st.caption(data_line())
        st.caption(server_status())
        show_progress(current)

    live_progress()
elif job is not None:
    if job.state in ("failed", "cancelled"):
        st.error(job.error, icon=":material/warning:")
    if job.result is not None:
        results.show(job)
else:
    st.info("Press **Start training**. With the default settings it takes a few seconds.", icon=":material/touch_app:")
