"""Page 3: draw a digit, watch it become MNIST-like, see what a trained model thinks."""

import html

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages import collection_view, inside_view, session, views
from kerasways import charts, i18n
from kerasways.canvas_image import CANVAS_SIDE, CanvasRefused, decode_canvas
from kerasways.codegen import calibration_source
from kerasways.drawing import naive_resize, to_mnist
from kerasways.evaluate import predict_one
from kerasways.spec import total_params

CANVAS_SIZE = CANVAS_SIDE  # the side the library checks canvases against and stores them at
CANVAS_KEY = "canvas"
CLEARS = "canvas_clears"
CHOSEN_RUN, RUNS_SEEN = "w_draw_run", "draw_runs_seen"
# Below this calibrated top probability the page says it is unsure and shows the three likeliest digits.
# On digits that are not MNIST (bench/calibration.py) the network for drawings answers below 80% for two
# thirds of its wrong answers and one in twenty of its right ones (below 50%: 7% of the wrong ones).
UNSURE = 0.8

# The canvas component lays an invisible toolbar (undo, redo, edit, reset) over the top right of
# the drawing area. It takes pointer events while invisible, so a stroke starting there is lost,
# and on a touch screen a tap there switches on its edit mode, after which nothing draws. The page
# has its own Clear and needs none of those tools. The toolbar lives in the component's shadow
# root, out of reach of page CSS, so this script puts a style into the canvas's shadow root. No
# observer of the page sees the component attach its shadow root to a host already in the page,
# nor fill it (measured: a stroke lost in about one run of three when the model was ready at
# once), so each change of the page is followed by a few more looks over the next seconds, and
# every shadow root is watched itself: the style goes in as soon as the canvas is there.
CANVAS_TOOLBAR_OFF = """
<script>
(() => {
  const css = ".dc-toolbar{display:none!important;pointer-events:none!important}"
            + " canvas{touch-action:none}";
  const soon = () => {
    window.__kerasways_patch();
    for (const delay of [50, 250, 1000, 3000]) setTimeout(() => window.__kerasways_patch(), delay);
  };
  const watcher = window.__kerasways_toolbar_off || new MutationObserver(soon);
  window.__kerasways_patch = () => {
    for (const host of document.querySelectorAll("*")) {
      const root = host.shadowRoot;
      if (!root) continue;
      if (!root.__kerasways_watched) {
        root.__kerasways_watched = true;
        watcher.observe(root, {childList: true, subtree: true});
      }
      if (root.querySelector(".canvas-root, .dc-toolbar") && !root.querySelector("style[data-kerasways]")) {
        const style = document.createElement("style");
        style.dataset.kerasways = "toolbar-off";
        style.textContent = css;
        root.appendChild(style);
      }
    }
  };
  soon();
  if (!window.__kerasways_toolbar_off) {
    window.__kerasways_toolbar_off = watcher;
    watcher.observe(document.body, {childList: true, subtree: true});
  }
})();
</script>
"""

# The answer is shown once: above the canvas when the columns stack (a phone, where the
# result column falls below the canvas), as the metric beside it otherwise. 640 px is where
# Streamlit stacks columns (its theme's `breakpoints.columns`).
ANSWER_SHOWN_ONCE = """
<style>
@media (min-width: 641px) { .st-key-answer_line { display: none !important; } }
@media (max-width: 640px) { .st-key-answer_metric { display: none !important; } }
</style>
"""

_, lang = session.gettext(), session.lang()
st.title(_("Draw a digit"))
book = session.book()
drawing_request = session.drawing_request()
# A network for drawings trained already (by a classmate, or stored by prefetch) is offered at once.
if not book.trained() and not book.active():
    session.take_ready_shared(drawing_request, origin="draw")
trained = book.trained()
active = book.active()


def show_training(runs) -> None:
    """The progress of this session's trainings, in the page (never in a sidebar that opens and closes)."""
    for run in runs:
        st.progress(views.fraction_done(run), text=_("Training {network} ({way}): {done}").format(
            network=session.message(run.network_name), way=session.style_title(run.style),
            done=views.progress_text(run)))
        if run.shared and session.may_control(run):  # the teacher's browser only: the class's training is nobody's
            if st.button(_("■ Stop the class's training"), key=f"stop_shared_{run.id}",
                         help=_("A stopped network for drawings is not given to the class; the next press "
                                "trains it anew.")):
                session.finish(run)


def offer_training() -> None:
    """The network made for drawings, trained once for the whole class (see RunRegistry.shared)."""
    st.info(_("**No trained model yet.** Train one on page 2, or train the network made for reading drawings "
              "here."), icon=":material/school:")
    st.markdown(_(
        "**The network for drawings**: {layers}, "
        "{params} parameters, trained {epochs} epochs in batches of "
        "{batch}. Two things make it read handwriting better than the article's network: "
        "its convolutions look for strokes wherever they are, and augmentation layers show it every training "
        "digit slightly turned, slanted, resized and shifted, as people's handwriting is. It takes about "
        "{seconds} seconds here; when a classmate has already trained it, it is ready at once."
    ).format(layers=" → ".join(layer.describe() for layer in drawing_request.spec.layers),
             params=f"{total_params(drawing_request.spec):,}", epochs=drawing_request.config.epochs,
             batch=drawing_request.config.batch_size, seconds=session.expected_seconds(drawing_request)))
    if st.button(_("Train the network for drawings now"), type="primary", key="quick_train"):
        session.use_shared(drawing_request, origin="draw")


if not trained:
    if not active:
        offer_training()
    else:
        views.follow(active, show_training)


def choose_model():
    """The model that reads the drawings: the newest trained one unless the user picked another."""
    by_id = {run.id: run for run in trained}
    if st.session_state.get(RUNS_SEEN) != len(trained) or st.session_state.get(CHOSEN_RUN) not in by_id:
        st.session_state[CHOSEN_RUN] = trained[-1].id  # a newly trained model takes over the canvas
        st.session_state[RUNS_SEEN] = len(trained)
    chosen = st.selectbox(_("Model that predicts"), list(by_id), key=CHOSEN_RUN,
                          # The page's language is taken now: Streamlit may call this outside the script run.
                          format_func=lambda run_id: i18n.render(by_id[run_id].title(), lang),
                          help=_("Every model this session trained, on any page, newest last."))
    return by_id[chosen]


def clear_canvas() -> None:
    """Ask the canvas to empty itself in place (through a new, empty initial drawing)."""
    st.session_state[CLEARS] = st.session_state.get(CLEARS, 0) + 1


def show_answer(slot, html_text: str) -> None:
    """The one-line answer above the canvas, always the same height: the canvas never moves."""
    slot.html(f"<div style='height:2.4rem;line-height:2.4rem;font-size:1.3rem;font-weight:600;"
              f"white-space:nowrap;overflow:hidden'>{html_text}</div>")


def canvas_image(canvas) -> tuple[np.ndarray | None, str | None]:
    """The canvas's RGBA picture once the library has checked it, else (None, why it was refused).

    The component's own `image_data` decodes whatever a browser sends (a forged 13,000×13,000 PNG
    cost the server 2.9 GB), so the page reads the data URL and lets `decode_canvas` check its
    length and the PNG's declared size first. streamlit-drawable-canvas 0.13 keeps the data URL
    in `_image_data_url` (requirements.txt pins 0.13).
    """
    try:
        return decode_canvas(canvas._image_data_url), None
    except CanvasRefused as refusal:
        return None, session.message(refusal)


def explain_calibration(calibration) -> None:
    """"Why 99% isn't a promise": the calibration the network for drawings went through, its figures and code."""
    if calibration is None:
        return
    with st.expander(_("Why 99% isn't a promise")):
        st.markdown(_(
            "Trained to make its training digits certain, a network gives 99% to drawings unlike anything it "
            "has seen. So after training, one number, the temperature T = {temperature}, was fitted on "
            "{count} validation digits it never trained on, and its last layer's weights divided by it: the "
            "answers stay the same, the percentages become honest. On those digits the calibration error (how "
            "far the confidence is from how often it is right) went from {before} to {after}. Below {threshold} "
            "the page says it is not sure."
        ).format(temperature=f"{calibration.temperature:.2f}", count=f"{calibration.validation_digits:,}",
                 before=f"{calibration.ece_before:.1%}", after=f"{calibration.ece_after:.1%}",
                 threshold=f"{UNSURE:.0%}"))
        st.code(calibration_source(lang), language="python")


@st.fragment
def drawing_area(model, architecture, run) -> None:
    """Canvas, prediction and preprocessing steps; a stroke reruns only this part of the page."""
    canvas_col, result_col = st.columns([2, 3], gap="large")  # 820-px tablets: the canvas keeps its 280 px
    with canvas_col:
        # The answer sits right above the canvas: on a phone the columns stack, and the student
        # should not have to scroll after every stroke to see it.
        answer = st.container(key="answer_line").empty()
        clears = st.session_state.setdefault(CLEARS, 0)
        canvas = st_canvas(
            stroke_width=st.session_state.get("w_pen", 18),
            stroke_color="#FFFFFF",
            background_color="#000000",
            height=CANVAS_SIZE,
            width=CANVAS_SIZE,
            drawing_mode="freedraw",
            return_image_data=True,
            # A new empty drawing clears the canvas in place (and it sends back the blank
            # image). Replacing the canvas instead lost strokes made while it remounted.
            initial_drawing={"version": "4.4.0", "objects": [], "background": "#000000", "clears": clears}
            if clears else None,
            key=CANVAS_KEY,
        )
        # A callback, so the click's own rerun already sends the empty drawing (no second rerun).
        st.button(_("Clear"), icon=":material/delete:", key="clear", on_click=clear_canvas)
        st.slider(_("Pen width"), 6, 40, 18, key="w_pen")
        st.caption(_("Draw one digit, large and centred or not: the preprocessing takes care of that."))

    rgba, refused = canvas_image(canvas)
    processed = to_mnist(rgba) if rgba is not None else None
    if processed is None:
        show_answer(answer, "<span style='font-weight:400;font-size:0.9rem;color:#666'>"
                            + html.escape(_("Your digit's reading appears here.")) + "</span>")
        if refused:
            result_col.warning(refused, icon=":material/block:")
        else:
            result_col.info(_("Draw a digit on the black square: the prediction appears after each stroke."),
                            icon=":material/draw:")
        with canvas_col:  # our class's digits: the last save's confirmation and "my drawings"
            collection_view.save_for_the_class(None, None, None, clear_canvas)
        inside_view.show_blank()
        return
    probabilities = predict_one(model, processed.image, architecture)
    top = int(np.argmax(probabilities))
    show_answer(answer, html.escape(_("The model reads {digit} · {probability}")).format(
        digit=f"<b>{top}</b>", probability=f"{probabilities[top]:.0%}"))
    with canvas_col:  # our class's digits: "which digit was it?" saves the drawing with that label
        collection_view.save_for_the_class(rgba, processed, top, clear_canvas)
    with result_col:
        with st.container(key="answer_metric"):
            st.metric(_("The model reads"), f"{top}", help=_("The digit with the highest probability"))
            st.caption(_("with {probability} confidence").format(probability=f"{probabilities[top]:.1%}"))
        if probabilities[top] < UNSURE:
            likeliest = np.argsort(-probabilities)[:3]
            st.caption(_("Not sure. Its three likeliest answers: {answers}. Try drawing bigger, or with a thicker "
                         "pen.").format(answers=_(", ").join(f"**{digit}** ({probabilities[digit]:.0%})"
                                                             for digit in likeliest)))
        views.show_chart(charts.probability_bars(probabilities, lang))
        explain_calibration(run.result.calibration if run.result is not None else None)

    st.subheader(_("What the network sees"))
    st.caption(_("MNIST's own recipe: crop to the ink, scale the longer side to 20 px, place in 28×28 "
                 "with the centre of mass in the middle, scale to [0, 1] like the training digits."))
    steps = [(_("Your drawing"), processed.grey), (_("Cropped to the ink"), processed.cropped),
             (_("Longer side 20 px"), processed.scaled), (_("Centred in 28×28"), processed.centred)]
    views.show_image_row(steps, size=140)

    if st.toggle(_("Compare with a naive resize of the whole canvas"), key="w_naive"):
        naive = naive_resize(rgba)
        naive_probabilities = predict_one(model, naive, architecture)
        naive_top = int(np.argmax(naive_probabilities))
        left, right = st.columns([1, 3])
        with left:
            views.show_image_row([(_("Whole canvas shrunk to 28×28"), (naive * 255).astype(np.uint8))], size=140)
        right.markdown(_(
            "Naive resize reads **{naive}** ({naive_probability}); the MNIST recipe reads "
            "**{top}** ({probability}). The network only ever saw digits that fill a 20×20 box "
            "centred by mass: a small or off-centre digit is, to it, a different picture."
        ).format(naive=naive_top, naive_probability=f"{naive_probabilities[naive_top]:.0%}", top=top,
                 probability=f"{probabilities[top]:.0%}"))

    inside_view.show(model, run, processed.image, top)


# No st.stop() on this page: the app's share link is written after the page has run.
if trained:
    run = choose_model()
    st.html(CANVAS_TOOLBAR_OFF, unsafe_allow_javascript=True)
    st.html(ANSWER_SHOWN_ONCE)
    drawing_area(session.model(run), architecture=run.predict_key, run=run)
    if active:  # a training started elsewhere shows below the canvas, so nothing moves under the pen
        views.follow(active, show_training)
