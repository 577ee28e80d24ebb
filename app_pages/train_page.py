"""Page 2: train the chosen way live, watch it learn, read the results."""

import streamlit as st

from app_pages import class_runs_view, results_view, server, session, views, widgets
from kerasways.engine import RunState, TrainingRequest
from kerasways.spec import supported_styles, total_params

_, lang = session.gettext(), session.lang()
st.title(_("Train it live"))
style, spec = session.style(), session.spec()
registry = server.run_registry()
book = session.book()
run = book.latest(style)
running = run is not None and not run.finished

st.markdown(_(
    "**{way}** · {layers} · {params} parameters · {optimizer}, learning rate {rate} · seed {seed}. "
    "Change the network on page 1."
).format(way=session.style_title(style), layers=" → ".join(layer.describe() for layer in spec.layers),
         params=f"{total_params(spec):,}", optimizer=spec.optimizer, rate=f"{spec.learning_rate:g}", seed=spec.seed))
config = widgets.train_settings(disabled=running)
class_split = class_runs_view.class_digits_option(spec.seed, disabled=running)  # our class's digits, or None


def data_line() -> str:
    """Which digits the workers train on (they load them when they start)."""
    description = registry.data_description()
    return _("**Data:** {description}").format(
        description=session.message(description) if description else _("loading in the training workers…"))


def server_status() -> str:
    """How busy the shared workers are, e.g. "Server: 1/2 workers busy, 3 waiting."."""
    status = registry.engine_status()
    return _("Server: {busy}/{workers} workers busy, {queued} waiting.").format(
        busy=status.busy, workers=status.workers, queued=status.queued)


if not running:  # while a run trains, the live part below shows these lines, kept current
    st.caption(data_line())
with st.expander(_("How the app trains (and why it is faster than `model.fit`)")):
    held_out = (_("the last {share} held out for validation").format(share=f"{config.validation_split:.0%}")
                if config.validation_split else _("no digits held out for validation"))
    st.markdown(_(
        "Every step does what `model.fit` does: one Adam (or your optimizer's) update on one batch of "
        "**{batch}** digits, the digits reshuffled every epoch, {held_out}. The difference is "
        "speed: `fit` pays about a millisecond of Python overhead per step, so here hundreds of steps run "
        "inside one compiled call, between which the charts are updated. Training runs in a separate worker "
        "process, so the page stays responsive; the trained weights come back and are loaded into a model "
        "built from the very code on page 1."
    ).format(batch=config.batch_size, held_out=held_out))

def show_live(runs) -> None:
    """Data and server lines, progress bar, status line and live curves of the run."""
    (current,) = runs
    st.caption(data_line())
    st.caption(server_status())
    st.progress(views.fraction_done(current), text=views.progress_text(current))
    if current.progress is not None:
        views.show_curves(current)


def start(one_epoch: bool = False) -> None:
    """A new run of the current network, with our class's digits mixed in when that option is on."""
    request = TrainingRequest(spec, style, config)
    if class_split is not None:  # the held-out writers stay with the run, for its before/after
        class_runs_view.submit_with_class_digits(request, class_split, one_epoch=one_epoch)
    else:
        session.submit([request], origin="train", one_epoch=one_epoch)


def asked() -> TrainingRequest:
    """What Start would train, our class's digits included: what its estimate is of."""
    return TrainingRequest(spec, style, config, class_digits=class_split[0] if class_split is not None else None)


def controls() -> None:
    """Start, Pause/Resume, Step and Stop, like TF Playground's: the same run continues."""
    paused = run is not None and run.paused
    # The class's shared training (the network for drawings) and another browser's run: only the
    # teacher may pause or stop them, so they offer no such buttons.
    yours = run is None or session.may_control(run)
    start_col, pause_col, step_col, stop_col, status_col = st.columns([1.3, 1, 1.3, 1, 2.4])
    if start_col.button(_("▶ Start training"), type="primary", disabled=running, key="start",
                        help=_("A new run from fresh weights.")):
        start()
    if paused:
        if pause_col.button(_("▶ Resume"), key="resume", type="primary", disabled=not yours,
                            help=_("Continue this run where it paused.")):
            session.resume(run)
    elif pause_col.button(_("⏸ Pause"), key="pause", disabled=not (running and yours and registry.can_pause(run)),
                          help=_("Pause after the current step; the worker is free for others meanwhile.")):
        session.pause(run)
    if step_col.button(_("⏭ One epoch"), key="step", disabled=running,
                       help=_("Train one more epoch, then pause: narrate while the loss falls.")):
        if paused:
            session.resume(run, one_epoch=True)
        else:
            start(one_epoch=True)
    if stop_col.button(_("■ Stop"), disabled=not ((running or paused) and yours), key="stop",
                       help=_("End the run here and keep the weights learned so far.")):
        session.finish(run)
    if not yours and (running or paused):
        status_col.caption(_("The class's shared training: only the teacher can pause or stop it.") if run.shared
                           else _("Started in another browser: only that browser or the teacher can pause or stop it."))
    elif not running:
        views.training_estimate([asked()], status_col)
        status_col.caption(server_status())


def controls_and_run() -> None:
    """The controls, then the live run or the results of the latest run in this way."""
    controls()
    if running:
        views.follow([run], show_live)
    elif run is not None:
        if run.state in (RunState.FAILED, RunState.CANCELLED):
            st.error(session.message(run.error), icon=":material/warning:")
        if run.result is not None:
            results_view.show(run)
            class_runs_view.show_before_after(run)  # only for a run trained with our class's digits
    else:
        st.info(_("Press **Start training**. With the default settings it takes a few seconds."),
                icon=":material/touch_app:")


# No st.stop() on this page: the app's share link is written after the page has run.
if style in supported_styles(spec):
    controls_and_run()
else:
    views.sequential_cannot_branch()
