"""One browser session's state: the current network, way and settings, and its book of runs.

Everything per user lives in `st.session_state` under the keys below. The address bar is
kept a share link of this state (`update_share_link`), and a session opened from a link
starts from it (`init_state`), runs included, so a reload loses nothing.
"""

from __future__ import annotations

import secrets

import streamlit as st

from app_pages import server
from kerasways import i18n
from kerasways.engine import TrainingRequest
from kerasways.messages import Message, UserError
from kerasways.spec import STYLE_TITLES, STYLES, ModelSpec, TrainConfig

SPEC, STYLE, CONFIG, BOOK = "spec", "style", "config", "book"
LANG = "lang"  # the page's language, one of i18n.LANGUAGES
BROWSER = "browser_id"  # this browser's lasting id from its signed cookie (None: it sends none)
TAB = "tab_id"  # who this session is when its browser has no id
LINK_NOTES = "share_link_notes"
REATTACHED = "reattached_runs"
# The address names the session's runs, so a reload finds them again. "job" is the older key
# (one running training) that links handed out before still carry.
RUNS_PARAM, JOB_PARAM = "runs", "job"
RUN_SEPARATOR = ","
COLLECTION = "collection"  # the class's collection the link names (?collection=7b), as typed; see collection_view


def init_state() -> None:
    """Start a new session from its share link, or from the reference network and defaults."""
    if SPEC not in st.session_state and st.query_params:
        from kerasways.share import from_query

        params = st.query_params.to_dict()
        run_ids = [run_id for run_id in params.pop(RUNS_PARAM, "").split(RUN_SEPARATOR) if run_id]
        run_ids += [params.pop(JOB_PARAM)] if JOB_PARAM in params else []
        link_spec, link_style, link_config, notes = from_query(params)
        st.session_state[SPEC], st.session_state[STYLE], st.session_state[CONFIG] = link_spec, link_style, link_config
        st.session_state[LINK_NOTES] = notes
        from kerasways.share import link_language

        language = link_language(params)
        if language:
            st.session_state[LANG] = language
        if run_ids:
            st.session_state[REATTACHED] = book().reattach(run_ids, owner_id(), session_alive_check())
    st.session_state.setdefault(SPEC, ModelSpec())
    st.session_state.setdefault(STYLE, STYLES[0])
    st.session_state.setdefault(CONFIG, TrainConfig())
    st.session_state.setdefault(COLLECTION, st.query_params.get(COLLECTION, ""))
    if LANG not in st.session_state:
        st.session_state[LANG] = browser_language()


def browser_language() -> str:
    """The catalogued language the browser prefers (Accept-Language, else its locale), English if none."""
    try:
        header = st.context.headers.get("Accept-Language") or getattr(st.context, "locale", None)
    except Exception:  # no browser behind this run (a script run or a test): the source language
        header = None
    return i18n.best_language(header)


def lang() -> str:
    """The page's language (one of i18n.LANGUAGES): the link's, else the browser's, else the switch's."""
    return st.session_state.get(LANG) or i18n.SOURCE_LANGUAGE


def gettext() -> i18n.Translator:
    """The translator of the page's language: `_ = session.gettext()`, then `_("text")`."""
    return i18n.translator(lang())


def message(item: Message | BaseException | str) -> str:
    """A library message in the page's language.

    Args:
        item: a Message (a share-link note, a run's title or outcome, the data's description), an
            error carrying one (UserError, InvalidValue: the setting is named in words, "随机种子：应为 …"),
            or a marked constant such as a network's name.

    Returns:
        The text to show.
    """
    return i18n.render(item, lang())


def spec() -> ModelSpec:
    """The current network."""
    return st.session_state[SPEC]


def style() -> str:
    """The current way of writing it (one of STYLES)."""
    return st.session_state[STYLE]


def config() -> TrainConfig:
    """The current training settings."""
    return st.session_state[CONFIG]


def style_title(name: str) -> str:
    """Display title of a style in the page's language, e.g. "Functional API" / "函数式 API"."""
    return gettext()(STYLE_TITLES[name])


def book():
    """This session's `runs.Book`: every training it started, however it was started."""
    if BOOK not in st.session_state:
        from kerasways.runs import Book

        st.session_state[BOOK] = Book(server.run_registry())
    return st.session_state[BOOK]


def model(run):
    """The trained keras.Model of a finished run (rebuilt once on the server, then shared)."""
    return server.run_registry().model(run)


def browser_id() -> str | None:
    """This browser's lasting id: the one its cookie carries, if this server signed it.

    Read once per session (the cookie came with the page's websocket). A reload and a new tab of the
    same browser have the same id; a browser that refuses cookies has none.
    """
    if BROWSER not in st.session_state:
        from kerasways import identity

        try:
            cookie = st.context.cookies.get(identity.COOKIE_NAME)
        except Exception:  # no browser behind this run (a script run or a test)
            cookie = None
        st.session_state[BROWSER] = identity.browser_id(cookie, server.browser_secret())
    return st.session_state[BROWSER]


def owner_id() -> str:
    """Who this page is, for runs, drawings and every per-browser limit.

    Returns:
        "browser:<id>" for a browser with an id, so all its tabs and reloads are one student;
        "session:<id>" for one that refuses cookies, whose limits then hold per tab.
    """
    browser = browser_id()
    if browser:
        return f"browser:{browser}"
    # A random token of this session's own, not Streamlit's session id, which never leaves the server
    # (and is one constant for every AppTest).
    return f"session:{st.session_state.setdefault(TAB, secrets.token_hex(16))}"


def is_teacher() -> bool:
    """Whether the teacher key was given in this browser (or, without a cookie, in this tab)."""
    return owner_id() in server.teacher_browsers()


def session_id() -> str:
    """This tab's Streamlit session id (what a closed tab ends; `owner_id` is who the student is)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context else "no-session"


def session_alive_check():
    """A function the training engine calls to learn whether this browser session is still connected.

    Built on Streamlit's runtime, so it stays on this side of the engine: the engine only calls it.
    """
    from streamlit import runtime

    session = session_id()
    if not runtime.exists():
        return None
    instance = runtime.get_instance()
    return lambda: instance.is_active_session(session)


def _start(action, after=None) -> None:
    """Run `action` (it starts or continues trainings) and redraw the page; or, when the session
    already trains or the server's queue is full, say so where the button was and start nothing."""
    try:
        started = action()
    except (UserError, ValueError) as error:  # busy, queue full, Resume clicked twice, a refused setting
        st.warning(message(error), icon=":material/hourglass_top:")
        return
    if after is not None:
        after(started)
    st.rerun()


def submit(requests: list[TrainingRequest], origin: str, one_epoch: bool = False, after=None) -> None:
    """Start runs for this session and redraw the page in its "running" state.

    Args:
        requests: what each run trains; several form a group trained together.
        origin: the page that asks ("train", "draw" or "compare").
        one_epoch: train the first epoch only, then pause (the "Step" button).
        after: called with the new runs before the page is drawn again (e.g. to attach data to them).
    """
    _start(lambda: book().submit(requests, owner_id(), session_alive_check(), origin=origin,
                                 one_epoch=one_epoch), after)


def resume(run, one_epoch: bool = False) -> None:
    """Continue a paused run (for one epoch only with `one_epoch`) and redraw the page."""
    _start(lambda: server.run_registry().resume(run, owner_id(), session_alive_check(), one_epoch=one_epoch))


def pause(run) -> None:
    """Pause `run` after its current step (only its browser, or the teacher, may)."""
    _start(lambda: server.run_registry().pause(run, by=owner_id(), teacher=is_teacher()))


def finish(run) -> None:
    """Stop `run` where it is, keeping its weights (only its browser, or the teacher, may)."""
    _start(lambda: server.run_registry().finish(run, by=owner_id(), teacher=is_teacher()))


def cancel(run) -> None:
    """End `run` at once without a result (the teacher's queue; its own browser may too)."""
    _start(lambda: server.run_registry().cancel(run, by=owner_id(), teacher=is_teacher()))


def may_control(run) -> bool:
    """Whether this page may pause, resume or stop `run` (its own, or any when the teacher's)."""
    return server.run_registry().may_control(run, owner_id(), is_teacher())


def drawing_request() -> TrainingRequest:
    """The network for drawings with the settings for the digits this server trains on (`runs.drawing_request`)."""
    from kerasways.runs import drawing_request as for_data

    return for_data(server.run_registry().data_size())


def expected_seconds(request: TrainingRequest) -> int:
    """How many seconds `request` should take a worker on this server (`RunRegistry.expected_seconds`), rounded
    up to a figure a page can promise (5 s steps)."""
    import math

    return max(5, 5 * math.ceil(server.run_registry().expected_seconds(request) / 5))


def take_ready_shared(request: TrainingRequest, origin: str) -> bool:
    """Put the server's shared run of `request` in this session's book when it is trained already (in memory,
    or stored in the data folder), without training anything.

    Returns:
        True when the book got it.
    """
    run = server.run_registry().ready_shared(request, origin)
    if run is not None:
        book().add([run])
    return run is not None


def use_shared(request: TrainingRequest, origin: str) -> None:
    """Take the server's shared run of `request` (trained once for everyone) and redraw the page."""
    _start(lambda: book().add_shared(request, origin=origin))


def update_share_link() -> None:
    """Keep the address bar a link that reopens this exact set-up, with this session's runs."""
    from kerasways.share import to_query

    wanted = to_query(spec(), style(), config(), lang())
    run_ids = book().link_ids()
    if run_ids:
        wanted[RUNS_PARAM] = RUN_SEPARATOR.join(run_ids)
    if st.session_state.get(COLLECTION):  # a class's link keeps its collection on every page
        wanted[COLLECTION] = st.session_state[COLLECTION]
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
