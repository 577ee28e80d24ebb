"""Results of a finished training: test accuracy, per digit, confusions, mistakes, download."""

from __future__ import annotations

import streamlit as st

from app_pages import shared
from kerasways import charts
from kerasways.export import model_file_bytes

MISTAKES_SHOWN = 16


def show(job) -> None:
    """Render a finished job's results (the job must have a result)."""
    result, evaluation = job.result, job.result.evaluation
    if result.status == "nan":
        st.error(result.message, icon=":material/error:")
    elif result.status == "stopped":
        st.warning(result.message, icon=":material/stop_circle:")
    else:
        st.success(result.message, icon=":material/check_circle:")

    first, second, third, fourth = st.columns(4)
    first.metric("Test accuracy", f"{evaluation.accuracy:.2%}", help=f"On {evaluation.count:,} digits never trained on")
    second.metric("Test loss", f"{evaluation.loss:.4f}")
    if job.epoch_points and job.epoch_points[-1]["val_accuracy"] is not None:
        third.metric("Validation accuracy", f"{job.epoch_points[-1]['val_accuracy']:.2%}")
    fourth.metric("Training time", f"{result.seconds:.1f} s")

    batches = charts.batch_frame(result.history.batch_loss, result.history.batch_accuracy,
                                 result.history.steps_per_epoch)
    shared.show_curves(charts.training_curves(batches, charts.epoch_frame(job.epoch_points), job.config.epochs))

    left, right = st.columns(2)
    shared.show_chart(charts.per_class_bars(evaluation.per_class_accuracy), left)
    shared.show_chart(charts.confusion_heatmap(evaluation.confusion), right)

    shown = min(MISTAKES_SHOWN, len(evaluation.mistake_images))
    if shown:
        st.subheader("Its most confident mistakes")
        st.caption("Test digits the model got wrong, most confident first: true digit → its answer.")
        shared.show_image_row(
            [(f"{evaluation.mistake_true[index]} → {evaluation.mistake_predicted[index]} "
              f"({evaluation.mistake_confidence[index]:.0%})", evaluation.mistake_images[index])
             for index in range(shown)],
            size=72,
        )

    st.subheader("Take the model with you")
    model = shared.trained_model(job)
    # Packed only when asked for (Streamlit calls this on the click, in a thread): saving takes
    # a few hundred milliseconds that most visits to this page never need.
    st.download_button("Download the trained model (.keras)", lambda: model_file_bytes(model),
                       file_name=f"mnist_{job.style}.keras", mime="application/octet-stream",
                       icon=":material/download:")
    if job.style == "subclassing":
        st.caption("To load a subclassed model, first run its code from page 1 (it defines and registers "
                   "`DigitClassifier`), then `keras.models.load_model('mnist_subclassing.keras')`.")
    else:
        st.caption(f"Load it anywhere with `keras.models.load_model('mnist_{job.style}.keras')`.")
