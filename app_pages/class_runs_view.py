"""Runs and the class's digits: the Train page's "add our class's digits", the before/after on the
class's held-out writers, and a run's accuracy on the collection (for the class page).
"""

from __future__ import annotations

import streamlit as st

from app_pages import collection_view, session
from kerasways.collection import (
    MIN_DRAWINGS_FOR_TRAINING,
    MIN_WRITERS_FOR_TRAINING,
    split_by_writer,
    why_not_ready_for_training,
)
from kerasways.store import StoreUnavailable

USE_CLASS_DIGITS = "w_class_digits"
EVALUATIONS = "class_evaluations"  # (run id, data key) -> Evaluation, so reruns do not predict again
MAX_EVALUATIONS = 32  # every new drawing makes new keys; the oldest go first


def writers_in(data) -> int:
    """How many different writers drew `data` (a CollectionData)."""
    return len(set(data.writers.tolist()))


def class_digits_option(seed: int, disabled: bool = False):
    """The Train page's "Add our class's digits" switch, offered once the collection is big enough.

    Args:
        seed: the network's seed; the split by writer uses it, so the same set-up splits alike.
        disabled: shown but fixed (while a training runs).

    Returns:
        (train, test) parts of the collection split by writer when the switch is on, else None.
    """
    _ = session.gettext()
    problem = collection_view.saving_unavailable()
    if problem:
        st.caption(_("Our class's digits are unavailable: {problem}").format(problem=problem))
        return None
    name = collection_view.collection()
    try:
        counts = collection_view.store().counts(name)
    except StoreUnavailable as error:
        st.caption(session.message(error))
        return None
    why_not = why_not_ready_for_training(counts)
    if why_not:
        more = max(0, MIN_DRAWINGS_FOR_TRAINING - counts.total)
        more_writers = max(0, MIN_WRITERS_FOR_TRAINING - len(counts.by_writer))
        needed = _(" and ").join(part for part in (
            _.counted("{count} more drawing", "{count} more drawings", more) if more else "",
            _.counted("{count} more writer", "{count} more writers", more_writers) if more_writers else "") if part)
        st.caption(_("**Add our class's digits** becomes available with {needed}: label drawings on page 3. "
                     "{why_not}").format(needed=needed, why_not=session.message(why_not)))
        return None
    on = st.toggle(_("Add our class's digits (collection “{name}”, {count} drawings)").format(
                       name=name, count=counts.total), key=USE_CLASS_DIGITS,
                   disabled=disabled,
                   help=_("Mixes the drawings of most writers into the training digits and tests on the others."))
    if not on:
        return None
    train, test = split_by_writer(collection_view.store().arrays(name), seed=seed)
    st.caption(_("{train} drawings by {train_writers} writers join the training digits; {test} by "
                 "{test_writers} other writer(s) are held out to measure the result honestly.").format(
        train=len(train), train_writers=writers_in(train), test=len(test), test_writers=writers_in(test)))
    return train, test


def submit_with_class_digits(request, split, one_epoch: bool = False) -> None:
    """Start a run of `request` (an `engine.TrainingRequest`) with the class's training part mixed in.

    The held-out part stays with the run (`Run.class_test`) for its before/after.
    """
    train, test = split

    def keep_held_out_writers(runs) -> None:
        runs[0].class_test = test

    from kerasways.engine import TrainingRequest

    session.submit([TrainingRequest(request.spec, request.style, request.config, class_digits=train)],
                   origin="train", one_epoch=one_epoch, after=keep_held_out_writers)


def evaluation_on(run, data, data_key: tuple):
    """The run's `evaluate.Evaluation` on `data` (a CollectionData), computed once per session and data.

    Args:
        run: a trained run.
        data: the drawings to test on.
        data_key: identifies `data` (e.g. the collection and its size), so new drawings re-evaluate.
    """
    from kerasways.evaluate import predict_probabilities, summarise

    cache = st.session_state.setdefault(EVALUATIONS, {})
    key = (run.id, *data_key)
    if key not in cache:
        cache[key] = summarise(predict_probabilities(session.model(run), data.x), data.y, data.x)
        while len(cache) > MAX_EVALUATIONS:
            del cache[next(iter(cache))]
    return cache[key]


def show_before_after(run) -> None:
    """After a run trained with the class's digits: accuracy on the held-out writers before and after."""
    if run.class_test is None:
        return
    _ = session.gettext()
    test = run.class_test
    st.subheader(_("On our class's handwriting: before and after"))
    if not len(test):
        st.info(_("No writer was held out (the collection has a single writer), so there is nothing honest to "
                  "test on."), icon=":material/info:")
        return
    after = evaluation_on(run, test, ("held-out",)).accuracy
    before_run = session.book().before(run)
    before = evaluation_on(before_run, test, ("held-out", run.id)).accuracy if before_run else None
    first, second, third = st.columns(3)
    if before is None:
        first.metric(_("Before (without our digits)"), "—")
    else:
        first.metric(_("Before (without our digits)"), f"{before:.1%}", help=session.message(before_run.title()))
    second.metric(_("After (with our digits)"), f"{after:.1%}",
                  delta=None if before is None else _("{points} points").format(
                      points=f"{(after - before) * 100:+.1f}"))
    third.metric(_("Held-out drawings"), f"{len(test)}", help=_("Drawn by writers whose drawings were not trained on"))
    writers = writers_in(test)
    classmates = _.counted("{count} classmate", "{count} classmates", writers)
    text = _("Measured on {count} drawings by {classmates} whose handwriting "
             "the network never trained on; {mixed} drawings by the others were mixed into its "
             "training digits. ").format(count=len(test), classmates=classmates, mixed=len(run.class_train))
    if before is None:
        text += _("**No before yet:** train the same network without our digits in this session (switch the "
                  "option off and start again) to see what our digits changed.")
    else:
        text += _("Before is *{before}*, trained without our digits. A rise means the network now "
                  "reads screen-drawn digits by new writers better; with a few dozen test drawings, each one "
                  "moves the figure by {share}, so small differences are noise.").format(
            before=session.message(before_run.title()), share=f"{1 / len(test):.1%}")
    st.markdown(text)
