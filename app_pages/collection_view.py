"""The class's collection as pages use it: the shared store, this session's collection and writer,
the Draw page's "save it for the class" block, and "add our class's digits" for training.

Storage itself lives behind `kerasways.store.DrawingStore` (the database is chosen by
`open_store`) and the data handling in `kerasways/collection.py`; this file only draws them.
"""

from __future__ import annotations

import re

import streamlit as st

from app_pages import session, views
from kerasways.store import (
    CollectionClosed,
    DrawingStore,
    QuotaReached,
    StoreUnavailable,
    WriterLimitReached,
    default_data_dir,
    open_store,
    validate_collection,
)

SAVED_NOTE = "class_saved_note"  # (kind, text) said once after a save or a delete
MINE_SHOWN = 30  # newest of this session's drawings shown under the canvas
MINE_SIZE = 56
# The link's text is shown inside Markdown messages: escaped, "[x](https://…)" or "www.x.org" stays text.
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#|~<>$:.])")


@st.cache_resource(show_spinner=False)
def _store_in(data_dir: str) -> DrawingStore:
    return open_store(data_dir)


def store() -> DrawingStore:
    """The server's drawing store, shared by every session.

    Keyed by the data folder (`KERASWAYS_DATA_DIR`): opening never touches the disk, and a
    process that serves another folder (a test) gets its own store.
    """
    return _store_in(str(default_data_dir()))


def collection() -> str | None:
    """The collection this session adds to: the link's `collection=` or the server's default.

    Returns:
        The validated name, or None when the link named one that is not a short slug
        (see `collection_problem`): nothing is then saved anywhere.
    """
    try:
        return validate_collection(st.session_state.get(session.COLLECTION) or "class")
    except ValueError:
        return None


def collection_problem() -> str | None:
    """Why the link's collection name cannot be used, in the "field: expected; received" form, or None."""
    try:
        validate_collection(st.session_state.get(session.COLLECTION) or "class")
    except ValueError as error:
        _ = session.gettext()
        return _("{problem}. Ask your teacher for the class's link.").format(
            problem=MARKDOWN_SPECIALS.sub(r"\\\1", session.message(error)))
    return None


def saving_unavailable() -> str | None:
    """Why drawings cannot be saved now (a bad collection name, an unusable data folder), or None."""
    reason = store().unavailable_reason()
    return collection_problem() or (session.message(reason) if reason else None)


def writer() -> str:
    """This browser's owner id (`session.owner_id`); the store keeps only a hash of it."""
    return session.owner_id()


def _note(kind: str, text: str, saved=None) -> None:
    st.session_state[SAVED_NOTE] = (kind, text, None if saved is None else saved.centred.tobytes())


def _show_note(processed) -> bool:
    """Say how the last save went; True while the canvas still shows the drawing just saved.

    "Saved" stays while the canvas is empty, and while it still shows the saved drawing (the
    click's own rerun comes before the canvas has sent its empty image), and goes with the next
    drawing; a warning is said once, beside the drawing that was not saved.
    """
    kind, text, saved = st.session_state.get(SAVED_NOTE, (None, "", None))
    just_saved = processed is not None and saved is not None and processed.centred.tobytes() == saved
    if kind == "success" and (processed is None or just_saved):
        st.success(text, icon=":material/check_circle:")
        return just_saved
    st.session_state.pop(SAVED_NOTE, None)
    if kind == "warning":
        st.warning(text, icon=":material/warning:")
    return False


def _save(rgba, processed, digit: int, clear) -> None:
    # A button callback: it runs before the rerun it causes, so the canvas is already empty then.
    _ = session.gettext()
    try:
        store().save(canvas=rgba, image=processed.image, label=digit, writer=writer(), collection=collection())
    except WriterLimitReached as error:
        _note("warning", _("Not saved: this browser has already saved {limit} drawings in “{name}”, the most one "
                           "browser may. Thank you! Your teacher can start a new collection for more."
                           ).format(limit=error.limit, name=collection()))
        return
    except (ValueError, CollectionClosed, StoreUnavailable, QuotaReached) as error:  # the drawing stays on the canvas
        _note("warning", _("Not saved: {error}").format(error=session.message(error)))
        return
    _note("success", _("Saved as a {digit} in the class's collection “{name}”. Draw the next one!"
                                       ).format(digit=digit, name=collection()), processed)
    clear()


def _delete(drawing_id: int) -> None:
    _ = session.gettext()
    try:
        deleted = store().delete_mine(drawing_id, writer=writer(), collection=collection())
    except StoreUnavailable as error:
        _note("warning", _("Not deleted: {error}").format(error=session.message(error)))
        return
    if not deleted:
        _note("warning", _("That drawing was already gone."))


def save_for_the_class(rgba, processed, predicted: int | None, clear) -> None:
    """The Draw page's labelling block: "it was a …" buttons after a prediction, then "my drawings".

    Saving works only when the store and the collection name are usable and the teacher has not
    closed the collection; otherwise one line says why instead of the buttons, and drawing and
    predicting go on as before.

    Args:
        rgba: the canvas's RGBA uint8 image (None for a blank canvas).
        processed: the `drawing.Preprocessed` of that canvas (None for a blank canvas: only the
            confirmation of the last save and this session's drawings are shown).
        predicted: the model's answer, highlighted among the ten buttons.
        clear: empties the canvas (called after a successful save).
    """
    _ = session.gettext()
    just_saved = _show_note(processed)
    problem = saving_unavailable()
    if problem:
        st.caption(_("Saving drawings for the class is unavailable: {problem} Drawing and predicting still work."
                     ).format(problem=problem))
        return
    if processed is not None and not just_saved and _closed():
        st.info(_("**Saving is closed:** your teacher has closed “{name}” to new drawings. You can still draw "
                  "and see what the model reads.").format(name=collection()), icon=":material/lock:")
    elif processed is not None and not just_saved:  # never the same drawing twice
        st.markdown(_("**Which digit was it?** One click saves it for the class:"))
        for row in (range(5), range(5, 10)):  # a keypad of two rows: it fits a phone without wrapping
            with st.container(horizontal=True, gap="small"):
                for digit in row:
                    st.button(str(digit), key=f"it_was_{digit}", width="stretch",
                              type="primary" if digit == predicted else "secondary",
                              help=_("It was a {digit}: save this drawing with that label").format(digit=digit),
                              on_click=_save,
                              args=(rgba, processed, digit, clear))
    my_drawings()


def _closed() -> bool:
    """Whether the teacher closed this session's collection (a store that fails here fails the save, said then)."""
    try:
        return store().is_closed(collection())
    except StoreUnavailable:
        return False


def my_drawings() -> None:
    """This session's saved drawings in its collection, newest first, each with a delete button."""
    _ = session.gettext()
    try:
        mine = store().list_mine(writer=writer(), collection=collection())
    except StoreUnavailable as error:
        st.caption(session.message(error))
        return
    if not mine:
        return
    with st.expander(_("My drawings ({count})").format(count=len(mine)), expanded=True):
        st.caption(_("Only you can delete these. They stay in the class's collection when you leave."))
        with st.container(horizontal=True, gap="small"):
            for saved in mine[:MINE_SHOWN]:
                with st.container(width=MINE_SIZE + 8, gap=None, horizontal_alignment="center"):
                    views.show_image_row([(str(saved.label), saved.image)], size=MINE_SIZE)
                    st.button("", icon=":material/delete:", key=f"delete_mine_{saved.id}", type="tertiary",
                              help=_("Delete this {digit}").format(digit=saved.label), on_click=_delete,
                              args=(saved.id,))
        if len(mine) > MINE_SHOWN:
            st.caption(_("The newest {shown} of {count} are shown.").format(shown=MINE_SHOWN, count=len(mine)))
