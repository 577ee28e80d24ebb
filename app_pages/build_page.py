"""Page 1: choose a way, shape the network, read the code that will run."""

import streamlit as st

from app_pages import session, views, widgets
from kerasways.codegen import model_source, notebook_json, script_source
from kerasways.spec import STYLES, resolve_layers, supported_styles, total_params
from kerasways.ways import WHEN_TO_USE

_ = session.gettext()
st.title(_("Three ways to build a Keras model"))
st.caption(_(
    "The same small network for handwritten digits, written with the **Sequential API**, the "
    "**Functional API** or as a **Model subclass**. The code below is not an illustration: it is "
    "exactly the text the app runs to build the model you train on the next page."
))


def show_code(spec, style, attempt: int) -> None:
    """The generated source of `spec` in `style`, and the downloads.

    Args:
        spec, style: what to show.
        attempt: 0 for the first drawing in a run, 1 when an edit replaces it in the same run
            (the download buttons need keys of their own each time).
    """
    st.subheader(_("The code · {way}").format(way=session.style_title(style)))
    if style not in supported_styles(spec):
        views.sequential_cannot_branch()
        return
    st.code(model_source(spec, style, lang=session.lang()), language="python", line_numbers=True)
    script_col, notebook_col = st.columns(2)
    script_col.download_button(
        _("Download the training script (.py)"),
        script_source(spec, style, session.config(), lang=session.lang()),
        file_name=f"mnist_{style}.py",
        mime="text/x-python",
        icon=":material/download:",
        key=f"download_py_{attempt}",
        help=_("Imports, MNIST loading (with an offline fallback), this model, fit and evaluate."),
    )
    notebook_col.download_button(
        _("Download as a notebook (.ipynb)"),
        notebook_json(spec, style, session.config(), lang=session.lang()),
        file_name=f"mnist_{style}.ipynb",
        mime="application/x-ipynb+json",
        icon=":material/menu_book:",
        key=f"download_ipynb_{attempt}",
        help=_("The same program, one cell per step, for Jupyter or Colab."),
    )


style = widgets.style_picker()
left, right = st.columns([2, 3], gap="medium")
# The code goes out first, before the editor (whose table needs pandas and a large
# front-end bundle): on a cold start that is what the visitor sees soonest.
code_slot = right.empty()
shown_spec = session.spec()
with code_slot.container():
    show_code(shown_spec, style, attempt=0)
with left:
    st.subheader(_("The network"))
    spec = widgets.network_editor()
if spec != shown_spec:
    with code_slot.container():
        show_code(spec, style, attempt=1)

st.subheader(_("Layers, shapes and parameters"))
rows = [
    {
        _("Layer"): layer.name,
        _("Type"): layer.keras_class,
        _("Output shape"): "(None, " + ", ".join(str(size) for size in layer.output_shape) + ")",
        _("Parameters"): layer.params,
    }
    for layer in resolve_layers(spec)
]
st.dataframe(rows, hide_index=True, width="stretch")
st.markdown(_("**Total parameters: {count}** — computed from the shapes; Keras' "
              "`count_params()` gives the same number (the tests check it for every preset and way)."
              ).format(count=f"{total_params(spec):,}"))



@st.cache_data(show_spinner=_("Building the augmentation layers (the first time loads TensorFlow)…"), max_entries=32)
def augmentation_grid(augmentation: tuple, seed: int):
    """Four training digits, each as the network sees it in six training steps."""
    from kerasways.augment import augmented_examples
    from kerasways.data import load_mnist
    from kerasways.spec import ModelSpec

    digits = load_mnist("bundled").x_train[:4]
    return digits, augmented_examples(ModelSpec(seed=seed, **dict(augmentation)), digits, copies=6, seed=seed)


if spec.augment:
    st.subheader(_("What the network sees while training"))
    st.caption(_("Each row: a training digit, then six of the versions the augmentation layers make of it, "
                 "a new one every time the digit comes round. Real handwriting varies like this, so a network "
                 "trained this way reads drawings better. At prediction time these layers do nothing."))
    digits, examples = augmentation_grid(spec.augmentation, spec.seed)
    for digit, versions in zip(digits, examples):
        views.show_image_row([(_("original"), digit)]
                             + [(_("step {step}").format(step=index + 1), (version * 255).astype("uint8"))
                                for index, version in enumerate(versions)], size=64)

WHEN_TITLES = {"sequential": _("When to use the Sequential API"), "functional": _("When to use the Functional API"),
               "subclassing": _("When to use Model subclassing")}
st.subheader(WHEN_TITLES[style])
st.markdown(_(WHEN_TO_USE[style]))
others = [session.style_title(name) for name in STYLES if name != style]
st.caption(_("Switch above to compare with the {first} and {second}; page 4 shows all three side by side."
             ).format(first=others[0], second=others[1]))
