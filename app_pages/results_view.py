"""Results of a finished run: how it ended, test accuracy, per digit, confusions, mistakes, download."""

from __future__ import annotations

import streamlit as st

from app_pages import session, views
from kerasways import charts
from kerasways.export import model_file_bytes
from kerasways.formats import percent

MISTAKES_SHOWN = 16
OUTCOME_BOXES = {
    "nan": (st.error, ":material/error:"),
    "not_learned": (st.warning, ":material/trending_flat:"),
    "stopped": (st.warning, ":material/stop_circle:"),
    "paused": (st.info, ":material/pause_circle:"),
    "completed": (st.success, ":material/check_circle:"),
}


def show(run) -> None:
    """Render a trained run's results (the run must have a result)."""
    result, evaluation = run.result, run.result.evaluation
    kind, message = run.outcome()
    box, icon = OUTCOME_BOXES[kind]
    box(message, icon=icon)

    first, second, third, fourth = st.columns(4)
    first.metric("Test accuracy", percent(evaluation.accuracy), help=f"On {evaluation.count:,} digits never trained on")
    second.metric("Test loss", f"{evaluation.loss:.4f}")
    _, _, epochs, _ = run.history.snapshot()
    if epochs and epochs[-1]["val_accuracy"] is not None:
        third.metric("Validation accuracy", percent(epochs[-1]["val_accuracy"]))
    else:
        third.metric("Validation accuracy", "none", help="Validation split 0: no digits were held out for validation.")
    fourth.metric("Training time", f"{result.seconds:.1f} s")

    views.show_curves(run)

    left, right = st.columns(2)
    views.show_chart(charts.per_class_bars(evaluation.per_class_accuracy), left)
    views.show_chart(charts.confusion_heatmap(evaluation.confusion), right)

    shown = min(MISTAKES_SHOWN, len(evaluation.mistake_images))
    if shown:
        st.subheader("Its most confident mistakes")
        st.caption("Test digits the model got wrong, most confident first: true digit → its answer.")
        views.show_image_row(
            [(f"{evaluation.mistake_true[index]} → {evaluation.mistake_predicted[index]} "
              f"({evaluation.mistake_confidence[index]:.0%})", evaluation.mistake_images[index])
             for index in range(shown)],
            size=72,
        )

    st.subheader("Take the model with you")
    model = session.model(run)
    # Packed only when asked for (Streamlit calls this on the click, in a thread): saving takes
    # a few hundred milliseconds that most visits to this page never need.
    st.download_button("Download the trained model (.keras)", lambda: model_file_bytes(model),
                       file_name=f"mnist_{run.style}.keras", mime="application/octet-stream",
                       icon=":material/download:")
    if run.style == "subclassing":
        st.caption("To load a subclassed model, first run its code from page 1 (it defines and registers "
                   "`DigitClassifier`), then `keras.models.load_model('mnist_subclassing.keras')`.")
    else:
        st.caption(f"Load it anywhere with `keras.models.load_model('mnist_{run.style}.keras')`.")
