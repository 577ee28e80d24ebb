"""kerasways: three ways to build a Keras model, trained live on MNIST. Run: streamlit run app.py"""


def main() -> None:
    """Lay out the navigation and run the chosen page."""
    import streamlit as st

    st.set_page_config(
        page_title="kerasways · three ways to build a Keras model", page_icon=":material/neurology:",
        layout="wide",
    )
    from app_pages import shared  # after set_page_config, which must come first

    shared.keep_keras_between_runs()
    shared.init_state()
    page = st.navigation(
        [
            st.Page("app_pages/build.py", title="1 · Build", icon=":material/construction:", default=True),
            st.Page("app_pages/train.py", title="2 · Train", icon=":material/monitoring:"),
            st.Page("app_pages/draw.py", title="3 · Draw a digit", icon=":material/draw:"),
            st.Page("app_pages/compare.py", title="4 · Compare the three ways", icon=":material/compare:"),
        ],
        position="top",
    )
    shared.share_link_notes()
    if page.url_path != "train":  # the Train page shows its own live progress
        shared.training_status_sidebar()
    try:
        page.run()
    finally:  # pages may end early with st.stop(); the address bar still follows the choices
        shared.update_share_link()
        shared.warm_up_in_background()


# Streamlit runs this file as "__main__". Each training worker, started with multiprocessing's
# "spawn", runs it again as "__mp_main__": without this guard (and with Streamlit imported at the
# top) every worker would import Streamlit and lay out a page before training anything.
if __name__ == "__main__":
    main()
