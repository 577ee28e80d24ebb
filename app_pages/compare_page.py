"""Page 4: the three ways side by side, trained together, with proof of what differs and what doesn't."""

import html

import pandas as pd
import streamlit as st

from app_pages import session, views, widgets
from kerasways import charts
from kerasways.codegen import model_source
from kerasways.compare import mark_differences, same_seed_check, seed_spread, seeds_from
from kerasways.engine import TrainingRequest
from kerasways.formats import percent
from kerasways.spec import STYLES, supported_styles, total_params
from kerasways.ways import COMPARISON

MAX_SEEDS_PER_WAY = 5
CODE_CSS = """
<style>
.kw-code {font-family: 'Source Code Pro', monospace; font-size: 12px; line-height: 1.45;
          background: #f7f7f9; border-radius: 6px; padding: 8px 0; overflow-x: auto;}
.kw-line {white-space: pre-wrap; overflow-wrap: anywhere; padding: 0 10px 0 2.2em; text-indent: -1.2em;
          min-height: 1.45em; box-sizing: border-box;}
.kw-diff {background: #ffe8a3;}
</style>
"""

_, lang = session.gettext(), session.lang()
st.title(_("Compare the three ways"))
spec = session.spec()
st.caption(_("The current network from page 1, written three ways. Highlighted lines are the ones that "
             "are not the same in all three; everything else is identical text."))

sources = {style: model_source(spec, style, lang=lang) for style in supported_styles(spec)}
marked = mark_differences(sources)
st.html(CODE_CSS)
for column, style in zip(st.columns(3), STYLES):
    column.markdown(f"**{session.style_title(style)}**")
    if style not in marked:
        views.sequential_cannot_branch(column)
        continue
    body = "".join(
        f"<div class='kw-line{' kw-diff' if differs else ''}'>{html.escape(line)}</div>"
        for line, differs in marked[style]
    )
    column.html(f"<div class='kw-code' data-testid='kw-source-{style}'>{body}</div>")

st.subheader(_("Train all three"))
st.caption(_("Same network, same data, same settings (your training settings, shared with page 2), through the "
             "same training loop. With the **same seed** the three ways are the same computation; with different "
             "seeds they differ by chance."))
book = session.book()
group = book.latest_group()
running = any(not run.finished for run in group)
config = widgets.train_settings(disabled=running)
seeds_per_way = st.number_input(_("Seeds per way"), min_value=1, max_value=MAX_SEEDS_PER_WAY, value=1,
                                key="w_cmp_seeds", disabled=running,
                                help=_("1: the same seed for all. More: seeds s, s+1, … for every way."))
trainings = [TrainingRequest(spec.replace(seed=seed), style, config)
             for seed in seeds_from(spec.seed, int(seeds_per_way)) for style in supported_styles(spec)]
if not running:
    views.training_estimate(trainings)
if st.button(_("Train all three"), type="primary", disabled=running, key="train_all"):
    session.submit(trainings, origin="compare")


def overlay(runs) -> None:
    """Smoothed loss and accuracy of the first seed of each way, one colour per way."""
    first_seed = min(run.spec.seed for run in runs)
    frames = []
    for run in runs:
        losses, accuracies, _, steps = run.history.snapshot()
        if run.spec.seed == first_seed and steps:
            frames.append(charts.batch_frame(losses, accuracies, steps, series=run.style))
    if not frames:
        return
    batches = pd.concat(frames, ignore_index=True)
    total = max(run.config.epochs for run in runs)
    for column, metric in zip(st.columns(2), ("loss", "accuracy")):
        views.show_chart(charts.overlay_curves(batches, metric, total, lang), column)


def progress_table(runs) -> None:
    done = sum(run.finished for run in runs)
    st.progress(done / len(runs), text=_("{done} of {total} trainings finished").format(done=done, total=len(runs)))
    overlay(runs)


def results(runs) -> None:
    """Results table, the same-seed identity check and the seed spread."""
    for run in runs:
        if not run.trained:
            st.error(_("{way}, seed {seed}: {error}").format(way=session.style_title(run.style), seed=run.spec.seed,
                                                            error=session.message(run.error)), icon=":material/error:")
    good = [run for run in runs if run.trained]
    if not good:
        return
    overlay(good)
    rows = [{_("Way"): session.style_title(run.style), _("Seed"): run.spec.seed,
             _("Test accuracy"): percent(run.result.evaluation.accuracy, lang),
             _("Test loss"): f"{run.result.evaluation.loss:.4f}",
             _("Parameters"): f"{total_params(run.spec):,}", _("Training seconds"): f"{run.result.seconds:.2f}"}
            for run in good]
    st.table(pd.DataFrame(rows).set_index(_("Way")))

    check = same_seed_check(good)
    if check is not None:
        st.markdown(_(
            "**Same seed ({seed}) → {verdict}.** Largest difference between the ways: "
            "every batch's loss **{loss_gap}**, final weights **{weight_gap}**, "
            "test accuracy **{accuracy_gap}**. The three ways build the same layers in the same order, so "
            "Keras draws the same initial weights and the loop takes the same steps: the way you write a "
            "model does not change what it learns."
        ).format(seed=check.seed, verdict=_("identical") if check.identical else _("not identical"),
                 loss_gap=f"{check.loss_gap:g}", weight_gap=f"{check.weight_gap:g}",
                 accuracy_gap=f"{check.accuracy_gap:g}"))
    spread = seed_spread(good, STYLES)
    if spread is not None:
        st.table(pd.DataFrame([
            {_("Way"): session.style_title(way.style), _("Runs"): way.runs,
             _("Test accuracy (mean ± std)"): f"{percent(way.mean, lang)} ± {percent(way.std, lang)}"}
            for way in spread.ways]).set_index(_("Way")))
        st.markdown(_(
            "Across seeds, test accuracy ranges over **{range}**; the "
            "means of the ways differ by **{gap}**. Differences like the article's "
            "Table 1 come from the seed (initial weights and shuffling), not from the way the model is written."
        ).format(range=percent(spread.accuracy_range, lang), gap=percent(spread.means_gap, lang)))


if group:
    if running:
        views.follow(group, progress_table)
    else:
        results(group)

st.subheader(_("Which way when?"))
table = pd.DataFrame([[_(cell) for cell in row[1:]] for row in COMPARISON], index=[_(row[0]) for row in COMPARISON],
                     columns=[session.style_title(style) for style in STYLES])
st.table(table)
st.caption(_("From Keras' guides (the Functional API guide's “When to use the functional API”, and "
             "“Making new layers and models via subclassing”) and the generated code above."))
