"""Page 5: our class's digits: what the class has drawn, how each trained model reads it, exports."""

import streamlit as st

from app_pages import class_runs_view, collection_view, session, teacher_view, views
from kerasways import charts
from kerasways.collection import read_npz, to_npz_bytes, to_png_zip_bytes
from kerasways.compare import AccuracyGap, Transfer, accuracy_gap
from kerasways.store import NotAuthorised, QuotaReached, StoreUnavailable, writer_id

GALLERY_PER_DIGIT = 24
GALLERY_SIZE = 44
TEACHER_NOTE = "teacher_note"  # what the last import or delete did, said after the page redraws with it

_, lang = session.gettext(), session.lang()
st.title(_("Our class's digits"))
problem = collection_view.saving_unavailable()
name = collection_view.collection()


def choose_collection(store) -> None:
    """When the server holds several collections, a switch between them; the link follows it.

    Hidden from students when the teacher chose so (`show_collection_settings`); the teacher, once
    the key is given, still sees it.
    """
    if store.switcher_hidden() and not session.is_teacher():
        return
    options = sorted({*store.collections(), name})
    if len(options) < 2:
        return
    chosen = st.selectbox(_("Collection"), options, index=options.index(name), width=320,
                          help=_("The collections on this server. The link follows your choice: students who "
                                 "open it add their drawings to that collection."))
    if chosen != name:
        st.session_state[session.COLLECTION] = chosen
        st.rerun()


def show_counts(counts) -> None:
    """Drawings per digit and per writer; writers are numbered, never named."""
    import pandas as pd

    me = writer_id(session.owner_id())
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.metric(_("Drawings"), counts.total)
        st.markdown(_("**Drawings per digit**"))
        st.dataframe(pd.DataFrame([counts.by_label], index=[_("drawings")]).rename(columns=str), width="stretch")
    with right:
        st.markdown(_("**Drawings per writer** ({count} writers)").format(count=len(counts.by_writer)))
        writers = [(_("writer {number} (you)") if writer == me else _("writer {number}")).format(number=number)
                   for number, writer in enumerate(counts.by_writer, start=1)]
        st.dataframe(pd.DataFrame({_("writer"): writers, _("drawings"): list(counts.by_writer.values())}),
                     hide_index=True, width="stretch", height=min(35 * (len(writers) + 1) + 3, 250))


def show_gallery(counts) -> None:
    """The newest drawings of every digit, one row per digit."""
    st.subheader(_("The drawings, digit by digit"))
    store = collection_view.store()
    for digit in range(10):
        drawings = store.gallery(name, label=digit, limit=GALLERY_PER_DIGIT)
        label, row = st.columns([1, 9], vertical_alignment="center")
        label.markdown(f"**{digit}** · {counts.by_label[digit]}")
        with row:
            if drawings:
                views.show_image_row([("", saved.image) for saved in drawings], size=GALLERY_SIZE)
            else:
                st.caption(_("none yet"))
    st.caption(_("Newest {count} of each digit, as the network sees them (28×28).").format(count=GALLERY_PER_DIGIT))


def gap_text(gap: AccuracyGap) -> str:
    """What the gap between MNIST's test accuracy and ours means, in a sentence or two."""
    if gap.transfer is Transfer.WORSE:
        return _("It reads our digits {gap} points worse than MNIST's. MNIST's test digits come from the same "
                 "kind of writers, pens and scanning as its training digits; ours are drawn with a mouse or a finger "
                 "by new writers. The gap is how much of its skill does not carry over: training with our digits "
                 "(page 2) is the way to close it.").format(gap=f"{-gap.points:.0f}")
    if gap.transfer is Transfer.BETTER:
        return _("It reads our digits {gap} points better than MNIST's: our drawings may be clearer than "
                 "MNIST's hardest test digits, or there are too few of them yet for a fair figure.").format(
            gap=f"{gap.points:.0f}")
    return _("About as well as MNIST's test digits: its skill carries over to our handwriting.")


def show_runs(data, data_key) -> None:
    """Each trained run of this session: accuracy on MNIST's test digits beside ours, and its confusions."""
    st.subheader(_("How this session's models read our digits"))
    runs = session.book().trained()
    if not runs:
        st.info(_("No trained model in this session yet: train one on page 2 (or page 3) and come back."),
                icon=":material/school:")
        return
    for run in runs:
        held_out = run.class_test is not None
        tested = run.class_test if held_out else data
        if not len(tested):
            st.markdown(_("**{run}**: no held-out writer to test on.").format(run=session.message(run.title())))
            continue
        evaluation = class_runs_view.evaluation_on(run, tested, ("held-out",) if held_out else data_key)
        with st.container(border=True):
            st.markdown(f"**{session.message(run.title())}**" + (
                _(" · trained with our digits, so tested on the held-out writers only") if held_out else ""))
            gap = accuracy_gap(run.accuracy, evaluation.accuracy)
            numbers, chart = st.columns([2, 3])
            numbers.metric(_("MNIST test digits"), f"{run.accuracy:.1%}")
            numbers.metric(_("Our digits"), f"{evaluation.accuracy:.1%}",
                           delta=_("{points} points vs MNIST").format(points=f"{gap.points:+.1f}"),
                           help=_("{count} drawings").format(count=evaluation.count))
            with numbers:
                st.caption(gap_text(gap))
            views.show_chart(charts.confusion_heatmap(evaluation.confusion, lang), chart)


def show_exports(data) -> None:
    """Download the collection as an .npz in MNIST's layout or as a zip of PNGs with labels.csv."""
    st.subheader(_("Take the collection with you"))
    npz_col, zip_col = st.columns(2)
    # Packed only when clicked (Streamlit calls these then): most visits need neither file.
    npz_col.download_button(_("Download .npz (MNIST layout)"), lambda: to_npz_bytes(data), file_name=f"{name}.npz",
                            mime="application/octet-stream", icon=":material/download:", key="export_npz")
    zip_col.download_button(_("Download .zip of PNGs + labels.csv"), lambda: to_png_zip_bytes(data),
                            file_name=f"{name}.zip", mime="application/zip", icon=":material/download:",
                            key="export_zip")
    st.caption(_("In Python: `data = numpy.load('{file}')`, then `data['x']` (uint8 N×28×28, like "
                 "`mnist.load_data()`), `data['y']` (labels) and `data['writers']` (anonymous ids).").format(
        file=name + ".npz"))


def show_collection_settings(authorised: bool) -> None:
    """Close this collection to new drawings (or reopen it), and hide the collection switcher from students.

    Args:
        authorised: whether the teacher key was given (the store checks it again).
    """
    store = collection_view.store()
    try:
        closed, hidden = store.is_closed(name), store.switcher_hidden()
    except StoreUnavailable as error:
        st.error(session.message(error), icon=":material/error:")
        return
    if closed:
        change = _("Reopen “{name}” to new drawings").format(name=name)
        done = _("“{name}” is open to new drawings again.").format(name=name)
    else:
        change = _("Close “{name}” to new drawings").format(name=name)
        done = _("“{name}” is closed to new drawings: the label buttons on page 3 are gone. Your import still "
                 "works.").format(name=name)
    if st.button(change, key="close_collection", icon=":material/lock_open:" if closed else ":material/lock:",
                 help=_("Closed, the collection keeps its drawings; students can still draw and see predictions, "
                        "but not save.")):
        try:
            store.set_collection_closed(name, not closed, authorised=authorised)
        except (StoreUnavailable, NotAuthorised) as error:
            st.error(session.message(error), icon=":material/error:")
        else:
            st.session_state[TEACHER_NOTE] = done
            st.rerun()
    switch = _("Show the collection switcher to students") if hidden else _("Hide the collection switcher from "
                                                                             "students")
    if st.button(switch, key="hide_switcher", icon=":material/visibility:" if hidden else ":material/visibility_off:",
                 help=_("For every collection on this server. Hidden, students see only their link's collection; "
                        "you still see the switcher once you give the key. It tidies the page, it does not lock "
                        "anything: a link can still name any collection.")):
        try:
            store.hide_switcher(not hidden, authorised=authorised)
        except (StoreUnavailable, NotAuthorised) as error:
            st.error(session.message(error), icon=":material/error:")
        else:
            st.session_state[TEACHER_NOTE] = (_("Students see the collection switcher again.") if hidden else
                                              _("The collection switcher is hidden from students."))
            st.rerun()


def show_teacher_controls() -> None:
    """Delete the collection, import an .npz, close the collection, hide the switcher: only for the teacher's
    browser, and only when the server has a usable key."""
    if not teacher_view.available():
        return
    with st.expander(_("Teacher controls"), icon=":material/admin_panel_settings:", expanded=session.is_teacher()):
        if not teacher_view.unlock():
            return
        teacher_view.show_queue()
        note = st.session_state.pop(TEACHER_NOTE, None)
        if note:
            st.success(note, icon=":material/check_circle:")
        show_collection_settings(authorised=True)
        store = collection_view.store()
        upload = st.file_uploader(_("Import drawings (.npz with x, y and optionally writers)"), type=["npz"],
                                  key="import_npz")
        if upload is not None and st.button(_("Import into this collection"), key="import"):
            try:
                added = store.import_arrays(read_npz(upload.getvalue()), name, authorised=True)
            except (ValueError, StoreUnavailable, NotAuthorised, QuotaReached) as error:
                st.error(_("Nothing was imported: {error}").format(error=session.message(error)),
                         icon=":material/error:")
            else:
                st.session_state[TEACHER_NOTE] = _("Imported {count} drawings into “{name}”.").format(count=added,
                                                                                                     name=name)
                st.rerun()  # the counts and gallery above include them
        sure = st.checkbox(_("Yes, delete every drawing of “{name}”").format(name=name), key="delete_sure")
        if st.button(_("Delete the whole collection"), key="delete_collection", disabled=not sure):
            try:
                deleted = store.delete_collection(name, authorised=True)
            except (StoreUnavailable, NotAuthorised) as error:
                st.error(session.message(error), icon=":material/error:")
            else:
                st.session_state[TEACHER_NOTE] = _("Deleted {count} drawings of “{name}”.").format(count=deleted,
                                                                                                  name=name)
                st.rerun()


# No st.stop() on this page: the app's share link is written after the page has run.
if problem:
    st.warning(_("The class's collection is unavailable: {problem} Drawing and predicting still work.").format(
        problem=problem),
               icon=":material/cloud_off:")
else:
    store = collection_view.store()
    try:
        choose_collection(store)
        st.caption(_("Collection **“{name}”**. Students add drawings on page 3 (\"Which digit was it?\"). A link with "
                     "`?collection=name` gives a class its own collection.").format(name=name))
        st.caption(_("Collections are a convenience for a class, not a privacy boundary: anyone who can open this "
                     "app can open any collection, see its drawings and add to it. The teacher key guards deleting, "
                     "importing and closing a collection."))
        if store.is_closed(name):
            st.info(_("“{name}” is closed to new drawings: everyone can still look at it and draw on page 3, but "
                      "saving is off until the teacher reopens it.").format(name=name), icon=":material/lock:")
        counts = store.counts(name)
        data = store.arrays(name)
    except StoreUnavailable as error:
        st.warning(session.message(error), icon=":material/cloud_off:")
    else:
        if not counts.total:
            st.info(_("No drawings yet. On page 3, draw a digit and click the digit it really was."),
                    icon=":material/draw:")
        else:
            show_counts(counts)
            show_gallery(counts)
            data_key = (name, counts.total, int(store.gallery(name, limit=1)[0].id))
            show_runs(data, data_key)
            show_exports(data)
        show_teacher_controls()
