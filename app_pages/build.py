"""Page 1: choose a way, shape the network, read the code that will run."""

import streamlit as st

from app_pages import shared, widgets
from kerasways.codegen import model_source, notebook_json, script_source
from kerasways.spec import SEQUENTIAL_CANNOT_BRANCH, STYLES, resolve_layers, supported_styles, total_params
from kerasways.ways import WHEN_TO_USE

st.title("Three ways to build a Keras model")
st.caption(
    "The same small network for handwritten digits, written with the **Sequential API**, the "
    "**Functional API** or as a **Model subclass**. The code below is not an illustration: it is "
    "exactly the text the app runs to build the model you train on the next page."
)


def show_code(spec, style) -> None:
    """The generated source of `spec` in `style`, and the downloads."""
    st.subheader(f"The code · {shared.style_title(style)}")
    if style not in supported_styles(spec):
        st.info(f"**Not expressible as a Sequential model.** {SEQUENTIAL_CANNOT_BRANCH} "
                "Pick the Functional API or Model subclassing above to see the code.", icon=":material/call_split:")
        return
    st.code(model_source(spec, style), language="python", line_numbers=True)
    script_col, notebook_col = st.columns(2)
    script_col.download_button(
        "Download the training script (.py)",
        script_source(spec, style, shared.config()),
        file_name=f"mnist_{style}.py",
        mime="text/x-python",
        icon=":material/download:",
        help="Imports, MNIST loading (with an offline fallback), this model, fit and evaluate.",
    )
    notebook_col.download_button(
        "Download as a notebook (.ipynb)",
        notebook_json(spec, style, shared.config()),
        file_name=f"mnist_{style}.ipynb",
        mime="application/x-ipynb+json",
        icon=":material/menu_book:",
        help="The same program, one cell per step, for Jupyter or Colab.",
    )


style = widgets.style_picker()
left, right = st.columns([2, 3], gap="medium")
# The code goes out first, before the editor (whose table needs pandas and a large
# front-end bundle): on a cold start that is what the visitor sees soonest.
code_slot = right.empty()
shown_spec = shared.spec()
with code_slot.container():
    show_code(shown_spec, style)
with left:
    st.subheader("The network")
    spec = widgets.network_editor()
if spec != shown_spec:
    with code_slot.container():
        show_code(spec, style)

st.subheader("Layers, shapes and parameters")
rows = [
    {
        "Layer": layer.name,
        "Type": layer.keras_class,
        "Output shape": "(None, " + ", ".join(str(size) for size in layer.output_shape) + ")",
        "Parameters": layer.params,
    }
    for layer in resolve_layers(spec)
]
st.dataframe(rows, hide_index=True, width="stretch")
st.markdown(f"**Total parameters: {total_params(spec):,}** — computed from the shapes; Keras' "
            "`count_params()` gives the same number (the tests check it for every preset and way).")

st.subheader(f"When to use the {shared.style_title(style)}")
st.markdown(WHEN_TO_USE[style])
others = [shared.style_title(name) for name in STYLES if name != style]
st.caption(f"Switch above to compare with the {others[0]} and {others[1]}; page 4 shows all three side by side.")
