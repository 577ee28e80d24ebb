"""Page 3: draw a digit, watch it become MNIST-like, see what the trained model thinks."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages import shared
from kerasways import charts
from kerasways.drawing import naive_resize, to_mnist
from kerasways.evaluate import predict_one
from kerasways.jobs import OwnerBusyError, QueueFullError
from kerasways.spec import ModelSpec, TrainConfig

CANVAS_SIZE = 280
QUICK_TRAINING = TrainConfig(epochs=3)
CANVAS_KEY = "canvas"
CLEARS = "canvas_clears"

st.title("Draw a digit")
trained = shared.finished_jobs()

if not trained:
    st.info("**No trained model yet.** Train one on page 2, or train the article's network here "
            "with quick settings (3 epochs, a few seconds).", icon=":material/school:")
    job = shared.active_job()
    if job is None:
        if st.button("Train the reference network now", type="primary", key="quick_train"):
            try:
                job = shared.job_pool().submit(ModelSpec(seed=shared.spec().seed), shared.style(), QUICK_TRAINING,
                                               owner=shared.session_id(), owner_alive=shared.session_alive_check())
                st.session_state[shared.JOBS][job.style] = job.id
                st.rerun()
            except (OwnerBusyError, QueueFullError) as error:
                st.warning(str(error), icon=":material/hourglass_top:")
    else:
        @st.fragment(run_every=0.5)
        def wait_for_training() -> None:
            current = shared.job_pool().get(job.id)
            if current is None or current.finished:
                st.rerun()
            fraction = current.progress.fraction if current.progress else 0.0
            st.progress(min(fraction, 1.0), text=f"Training the {shared.style_title(current.style)} model: "
                                                 f"{fraction:.0%}")

        wait_for_training()
    st.stop()

choices = list(trained)
st.session_state.setdefault("w_draw_style", choices[-1])
if st.session_state["w_draw_style"] not in choices:
    st.session_state["w_draw_style"] = choices[-1]
chosen = st.radio("Model that predicts", choices, key="w_draw_style", horizontal=True,
                  format_func=lambda name: f"{shared.style_title(name)} "
                                           f"({trained[name].result.evaluation.accuracy:.1%} on test digits)")
job = trained[chosen]
model = shared.trained_model(job)

def clear_canvas() -> None:
    """Ask the canvas to empty itself in place (through a new, empty initial drawing)."""
    st.session_state[CLEARS] = st.session_state.get(CLEARS, 0) + 1


@st.fragment
def drawing_area(model, architecture) -> None:
    """Canvas, prediction and preprocessing steps; a stroke reruns only this part of the page."""
    canvas_col, result_col = st.columns([1, 2], gap="large")
    with canvas_col:
        pen = st.slider("Pen width", 6, 40, 18, key="w_pen")
        clears = st.session_state.setdefault(CLEARS, 0)
        canvas = st_canvas(
            stroke_width=pen,
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
        st.button("Clear", icon=":material/delete:", key="clear", on_click=clear_canvas)
        st.caption("Draw one digit, large and centred or not: the preprocessing takes care of that.")

    with result_col:
        rgba = canvas.image_data
        processed = to_mnist(rgba) if rgba is not None else None
        if processed is None:
            st.info("Draw a digit on the black square: the prediction appears after each stroke.",
                    icon=":material/draw:")
            return
        probabilities = predict_one(model, processed.image, architecture)
        top = int(np.argmax(probabilities))
        st.metric("The model reads", f"{top}", help="The digit with the highest probability")
        st.caption(f"with {probabilities[top]:.1%} confidence")
        if probabilities[top] < 0.5:
            st.caption("Not sure: try drawing bigger, with a thicker pen, or more like a printed digit.")
        shared.show_chart(charts.probability_bars(probabilities))

    st.subheader("What the network sees")
    st.caption("MNIST's own recipe: crop to the ink, scale the longer side to 20 px, place in 28×28 "
               "with the centre of mass in the middle, scale to [0, 1] like the training digits.")
    steps = [("Your drawing", processed.grey), ("Cropped to the ink", processed.cropped),
             ("Longer side 20 px", processed.scaled), ("Centred in 28×28", processed.centred)]
    shared.show_image_row(steps, size=140)

    if st.toggle("Compare with a naive resize of the whole canvas", key="w_naive"):
        naive = naive_resize(rgba)
        naive_probabilities = predict_one(model, naive, architecture)
        naive_top = int(np.argmax(naive_probabilities))
        left, right = st.columns([1, 3])
        with left:
            shared.show_image_row([("Whole canvas shrunk to 28×28", (naive * 255).astype(np.uint8))], size=140)
        right.markdown(
            f"Naive resize reads **{naive_top}** ({naive_probabilities[naive_top]:.0%}); the MNIST recipe reads "
            f"**{top}** ({probabilities[top]:.0%}). The network only ever saw digits that fill a 20×20 box "
            "centred by mass: a small or off-centre digit is, to it, a different picture."
        )


drawing_area(model, architecture=(job.spec, job.style))
