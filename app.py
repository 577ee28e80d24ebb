"""kerasways: three ways to build a Keras model, trained live on MNIST. Run: streamlit run app.py"""


def page_icon():
    """The tab's icon, drawn here: a Material icon name would make the browser fetch a font from
    Google's servers, which an offline or filtered classroom cannot reach."""
    import numpy as np
    from PIL import Image

    icon = np.zeros((32, 32, 4), np.uint8)
    icon[..., :3] = (0, 121, 140)  # the Functional API's colour in the charts
    icon[..., 3] = 255
    yy, xx = np.mgrid[:32, :32]
    for cx, cy in ((9, 9), (9, 23), (23, 16)):  # three nodes and their links: a tiny network
        icon[(xx - cx) ** 2 + (yy - cy) ** 2 <= 12, :3] = 255
    for y0, y1 in ((9, 16), (23, 16)):
        for x in range(9, 24):
            icon[round(y0 + (y1 - y0) * (x - 9) / 14), x, :3] = 255
    return Image.fromarray(icon, "RGBA")


def language_switch() -> None:
    """A compact "English / 中文" switch above every page; switching reruns with everything else kept
    (network, settings, trainings and drawings live in session state, whatever the language)."""
    import streamlit as st

    from app_pages import session
    from kerasways import i18n

    def chosen() -> None:
        st.session_state[session.LANG] = st.session_state["w_lang"] or session.lang()

    st.session_state["w_lang"] = session.lang()
    st.segmented_control("Language / 语言", list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key="w_lang",
                         on_change=chosen, label_visibility="collapsed")


def main() -> None:
    """Lay out the navigation and run the chosen page."""
    import streamlit as st

    from app_pages import server, session, views

    session.init_state()  # the language comes from the link or the browser, before the tab's title
    _ = session.gettext()
    st.set_page_config(page_title=_("kerasways · three ways to build a Keras model"), page_icon=page_icon(),
                       layout="wide")
    server.keep_keras_between_runs()
    # Pages are the *_page.py files; url_path keeps the addresses that links handed out use.
    page = st.navigation(
        [
            st.Page("app_pages/build_page.py", title=_("1 · Build"), icon=":material/construction:", default=True),
            st.Page("app_pages/train_page.py", title=_("2 · Train"), icon=":material/monitoring:", url_path="train"),
            st.Page("app_pages/draw_page.py", title=_("3 · Draw a digit"), icon=":material/draw:", url_path="draw"),
            st.Page("app_pages/compare_page.py", title=_("4 · Compare the three ways"), icon=":material/compare:",
                    url_path="compare"),
            st.Page("app_pages/class_page.py", title=_("5 · Our class's digits"), icon=":material/groups:",
                    url_path="class"),
        ],
        position="top",
    )
    language_switch()
    views.share_link_notes()
    if page.url_path not in ("train", "draw", "compare"):  # those show trainings in the page itself
        views.sidebar_status()
    try:
        page.run()
    except Exception as error:  # noqa: BLE001 - a student sees one sentence, the log the traceback
        views.unexpected_error(error)
    finally:  # pages may end early with st.stop(); the address bar still follows the choices
        session.update_share_link()
        server.warm_up_in_background()


# `streamlit run app.py` imports this file as the module "app" and serves `app`: the pages (this
# same file, run as the script) behind the browser-id cookie and the short error message.
if __name__ == "app":
    import streamlit as st
    from starlette.middleware import Middleware

    from app_pages.web import BrowserIdCookie, short_error_instead_of_traceback

    app = st.App("app.py", middleware=[Middleware(BrowserIdCookie)], on_script_error=short_error_instead_of_traceback)

# Streamlit runs this file as "__main__". Each training worker, started with multiprocessing's
# "spawn", runs it again as "__mp_main__": without this guard (and with Streamlit imported at the
# top) every worker would import Streamlit and lay out a page before training anything.
if __name__ == "__main__":
    main()
