"""kerasways: three ways to build a Keras model, trained live on MNIST. Run: streamlit run app.py"""

import streamlit as st

st.set_page_config(page_title="kerasways · three ways to build a Keras model", page_icon="🧠", layout="wide")

from app_pages import shared  # noqa: E402 - set_page_config must come first

shared.init_state()
page = st.navigation(
    [
        st.Page("app_pages/build.py", title="1 · Build", icon=":material/construction:", default=True),
        st.Page("app_pages/train.py", title="2 · Train", icon=":material/monitoring:"),
    ],
    position="top",
)
if page.url_path != "train":  # the Train page shows its own live progress
    shared.training_status_sidebar()
page.run()
