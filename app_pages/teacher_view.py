"""The teacher's side of the pages: giving the key once per browser, and the server's queue.

The key is asked once; from then on the browser is the teacher's (`session.is_teacher`) on every page
and tab, until locked again. Wrong guesses wait longer each time (`teacher.KeyGuard`).
"""

from __future__ import annotations

import math

import streamlit as st

from app_pages import server, session
from kerasways import teacher

KEY_FIELD = "w_teacher_key"


def unlock() -> bool:
    """The key field (or, once given, a line saying so and a Lock button).

    Returns:
        True when this browser is the teacher's now.
    """
    _ = session.gettext()
    who = session.owner_id()
    if session.is_teacher():
        left, right = st.columns([4, 1])
        left.caption(_("Teacher controls are on in this browser."))
        if right.button(_("Lock"), key="teacher_lock", help=_("Turn the teacher controls off in this browser.")):
            server.teacher_browsers().remove(who)
            st.rerun()
        return True
    with st.form("teacher_unlock", clear_on_submit=True, border=False):
        key = st.text_input(_("Teacher key"), type="password", key=KEY_FIELD)
        submitted = st.form_submit_button(_("Unlock teacher controls"), key="teacher_unlock_submit")
    st.caption(_("The key set in KERASWAYS_TEACHER_KEY when the server started."))
    if submitted and key:
        attempt = server.teacher_key_guard().attempt(who, key)
        if attempt.unlocked:
            server.teacher_browsers().add(who)
            st.rerun()
        else:
            st.error(_("That key was not accepted. Try again in {seconds} s.").format(
                seconds=math.ceil(attempt.wait_seconds)), icon=":material/key_off:")
    return False


def available() -> bool:
    """Whether the server has a usable teacher key (otherwise no page shows teacher controls)."""
    return teacher.controls_available()


QUEUE_REFRESH_SECONDS = 5


@st.fragment(run_every=QUEUE_REFRESH_SECONDS)
def show_queue() -> None:
    """Every training queued or running on the server: who, what, for how long; cancel any of them.
    Redrawn every few seconds, so the teacher watches the queue move."""
    from kerasways.engine import RunState
    from kerasways.store import writer_id

    _ = session.gettext()
    registry = server.run_registry()
    runs = registry.active_runs()
    st.markdown(_("**Trainings on the server now**"))
    if not runs:
        st.caption(_("None: every worker is free."))
        return
    for run in runs:
        who = _("the class (shared)") if run.shared else _("browser {id}").format(id=writer_id(run.owner)[:4])
        if run.state is RunState.RUNNING:
            where = _("training, {done}").format(done=_percent_done(run))
        else:
            position = registry.waiting_position(run)
            where = _("waiting, place {place}").format(place=position) if position else _("waiting")
        parts = [who, session.message(run.title()), where, _age(run)]
        if run.estimated_seconds is not None:
            from kerasways.formats import rough_duration

            parts.append(_("about {duration} of a worker").format(duration=session.message(
                rough_duration(run.estimated_seconds))))
        text, button = st.columns([5, 1])
        text.markdown(" · ".join(parts))
        if button.button(_("Cancel"), key=f"teacher_cancel_{run.id}"):
            session.cancel(run)


def _percent_done(run) -> str:
    from app_pages.views import fraction_done

    return f"{fraction_done(run):.0%}"


def _age(run) -> str:
    import time

    _ = session.gettext()
    minutes = max(0, int((time.time() - run.job.submitted_at) // 60))
    return _("asked {minutes} min ago").format(minutes=minutes)
