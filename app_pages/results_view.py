"""Results of a finished run: how it ended, test accuracy, per digit, confusions, mistakes, download."""

from __future__ import annotations

import streamlit as st

from app_pages import inside_view, session, views
from kerasways import charts
from kerasways.export import model_file_bytes
from kerasways.formats import percent, seconds_text

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
    _, lang = session.gettext(), session.lang()
    result, evaluation = run.result, run.result.evaluation
    kind, message = run.outcome()
    box, icon = OUTCOME_BOXES[kind]
    box(session.message(message), icon=icon)

    first, second, third, fourth = st.columns(4)
    first.metric(_("Test accuracy"), percent(evaluation.accuracy, lang),
                 help=_("On {count} digits never trained on").format(count=f"{evaluation.count:,}"))
    second.metric(_("Test loss"), f"{evaluation.loss:.4f}")
    epochs = run.history.snapshot()[2]
    if epochs and epochs[-1]["val_accuracy"] is not None:
        third.metric(_("Validation accuracy"), percent(epochs[-1]["val_accuracy"], lang))
    else:
        third.metric(_("Validation accuracy"), _("none"),
                     help=_("Validation split 0: no digits were held out for validation."))
    fourth.metric(_("Training time"), seconds_text(result.seconds, lang))

    views.show_curves(run)

    left, right = st.columns(2)
    views.show_chart(charts.per_class_bars(evaluation.per_class_accuracy, lang), left)
    views.show_chart(charts.confusion_heatmap(evaluation.confusion, lang), right)

    shown = min(MISTAKES_SHOWN, len(evaluation.mistake_images))
    if shown:
        st.subheader(_("Its most confident mistakes"))
        st.caption(_("Test digits the model got wrong, most confident first: true digit → its answer."))
        views.show_image_row(
            [(f"{evaluation.mistake_true[index]} → {evaluation.mistake_predicted[index]} "
              f"({evaluation.mistake_confidence[index]:.0%})", evaluation.mistake_images[index])
             for index in range(shown)],
            size=72,
        )

    model = session.model(run)
    inside_view.show_learned(model, evaluation.mistake_images)

    st.subheader(_("Take the model with you"))
    # Packed only when asked for (Streamlit calls this on the click, in a thread): saving takes
    # a few hundred milliseconds that most visits to this page never need.
    st.download_button(_("Download the trained model (.keras)"), lambda: model_file_bytes(model),
                       file_name=f"mnist_{run.style}.keras", mime="application/octet-stream",
                       icon=":material/download:")
    if run.style == "subclassing":
        st.caption(_("To load a subclassed model, first run its code from page 1 (it defines and registers "
                     "`DigitClassifier`), then `keras.models.load_model('mnist_subclassing.keras')`."))
    else:
        st.caption(_("Load it anywhere with `keras.models.load_model('{file}')`.").format(
            file=f"mnist_{run.style}.keras"))
