"""Page 4: the three ways side by side, trained together, with proof of what differs and what doesn't."""

import html

import pandas as pd
import streamlit as st

from app_pages import shared
from kerasways import charts
from kerasways.codegen import model_source
from kerasways.compare import mark_differences, max_abs_difference, mean_and_std
from kerasways.jobs import OwnerBusyError, QueueFullError
from kerasways.spec import SEQUENTIAL_CANNOT_BRANCH, STYLES, TrainConfig, supported_styles, total_params
from kerasways.ways import COMPARISON

GROUP = "compare_job_ids"
POLL_SECONDS = 1.0  # see train.py: live charts are the costly part of a poll
CODE_CSS = """
<style>
.kw-code {font-family: 'Source Code Pro', monospace; font-size: 12px; line-height: 1.45;
          background: #f7f7f9; border-radius: 6px; padding: 8px 0; overflow-x: auto;}
.kw-line {white-space: pre; padding: 0 10px; min-height: 1.45em; width: max-content; min-width: 100%;
          box-sizing: border-box;}
.kw-diff {background: #ffe8a3;}
</style>
"""

st.title("Compare the three ways")
spec = shared.spec()
st.caption("The current network from page 1, written three ways. Highlighted lines are the ones that "
           "are not the same in all three; everything else is identical text.")

sources = {style: model_source(spec, style) for style in supported_styles(spec)}
marked = mark_differences(sources)
st.html(CODE_CSS)
for column, style in zip(st.columns(3), STYLES):
    column.markdown(f"**{shared.style_title(style)}**")
    if style not in marked:
        column.info(SEQUENTIAL_CANNOT_BRANCH, icon=":material/call_split:")
        continue
    body = "".join(
        f"<div class='kw-line{' kw-diff' if differs else ''}'>{html.escape(line)}</div>"
        for line, differs in marked[style]
    )
    column.html(f"<div class='kw-code' data-testid='kw-source-{style}'>{body}</div>")

st.subheader("Train all three")
st.caption("Same network, same data, same settings, through the same training loop. With the **same "
           "seed** the three ways are the same computation; with different seeds they differ by chance.")
seed_col, epoch_col, size_col = st.columns(3)
seeds_per_way = seed_col.number_input("Seeds per way", min_value=1, max_value=5, value=1, key="w_cmp_seeds",
                                      help="1: the same seed for all. More: seeds s, s+1, … for every way.")
epochs = epoch_col.number_input("Epochs", min_value=1, max_value=20, value=3, key="w_cmp_epochs")
train_size = size_col.number_input("Training digits (0 = all)", min_value=0, max_value=60_000, value=2000,
                                   step=500, key="w_cmp_size")
group = [shared.job_pool().get(job_id) for job_id in st.session_state.get(GROUP, [])]
group = [job for job in group if job is not None]
running = any(not job.finished for job in group)

if st.button("Train all three", type="primary", disabled=running, key="train_all"):
    try:
        config = TrainConfig(epochs=int(epochs), train_size=int(train_size))
        requests = [(spec.replace(seed=spec.seed + offset), style, config)
                    for offset in range(int(seeds_per_way)) for style in supported_styles(spec)]
        jobs = shared.job_pool().submit_many(requests, owner=shared.session_id(),
                                             owner_alive=shared.session_alive_check())
        st.session_state[GROUP] = [job.id for job in jobs]
        st.rerun()
    except (ValueError, OwnerBusyError, QueueFullError) as error:
        st.warning(str(error), icon=":material/hourglass_top:")


def overlay(jobs) -> None:
    """Smoothed loss and accuracy of the first seed of each way, one colour per way."""
    first_seed = min(job.spec.seed for job in jobs)
    frames = [charts.batch_frame(list(job.batch_loss), list(job.batch_accuracy),
                                 job.progress.steps_per_epoch if job.progress else 1, series=job.style)
              for job in jobs if job.spec.seed == first_seed and job.progress is not None]
    if not frames:
        return
    batches = pd.concat(frames, ignore_index=True)
    total = max(job.config.epochs for job in jobs)
    for column, metric in zip(st.columns(2), ("loss", "accuracy")):
        shared.show_chart(charts.overlay_curves(batches, metric, total), column)


def progress_table(jobs) -> None:
    done = sum(job.finished for job in jobs)
    st.progress(done / len(jobs), text=f"{done} of {len(jobs)} trainings finished")
    overlay(jobs)


def results(jobs) -> None:
    """Results table, the same-seed identity check and the seed spread."""
    failed = [job for job in jobs if job.result is None]
    for job in failed:
        st.error(f"{shared.style_title(job.style)}, seed {job.spec.seed}: {job.error}", icon=":material/error:")
    good = [job for job in jobs if job.result is not None]
    if not good:
        return
    overlay(good)
    rows = [{"Way": shared.style_title(job.style), "Seed": job.spec.seed,
             "Test accuracy": f"{job.result.evaluation.accuracy:.4f}",
             "Test loss": f"{job.result.evaluation.loss:.4f}",
             "Parameters": f"{total_params(job.spec):,}", "Training seconds": f"{job.result.seconds:.2f}"}
            for job in good]
    st.table(pd.DataFrame(rows).set_index("Way"))

    first_seed = min(job.spec.seed for job in good)
    same_seed = [job for job in good if job.spec.seed == first_seed]
    if len(same_seed) > 1:
        reference = same_seed[0]
        loss_gap = max(max_abs_difference(reference.result.history.batch_loss, job.result.history.batch_loss)
                       for job in same_seed[1:])
        weight_gap = max(max_abs_difference(reference.result.weights, job.result.weights) for job in same_seed[1:])
        accuracy_gap = max(abs(reference.result.evaluation.accuracy - job.result.evaluation.accuracy)
                           for job in same_seed[1:])
        verdict = "identical" if loss_gap == weight_gap == accuracy_gap == 0 else "not identical"
        st.markdown(
            f"**Same seed ({first_seed}) → {verdict}.** Largest difference between the ways: "
            f"every batch's loss **{loss_gap:g}**, final weights **{weight_gap:g}**, "
            f"test accuracy **{accuracy_gap:g}**. The three ways build the same layers in the same order, so "
            "Keras draws the same initial weights and the loop takes the same steps: the way you write a "
            "model does not change what it learns."
        )
    seeds = sorted({job.spec.seed for job in good})
    if len(seeds) > 1:
        spread_rows, means = [], []
        for style in STYLES:
            values = [job.result.evaluation.accuracy for job in good if job.style == style]
            if values:
                mean, std = mean_and_std(values)
                means.append(mean)
                spread_rows.append({"Way": shared.style_title(style), "Runs": len(values),
                                    "Test accuracy (mean ± std)": f"{mean:.4f} ± {std:.4f}"})
        st.table(pd.DataFrame(spread_rows).set_index("Way"))
        all_accuracies = [job.result.evaluation.accuracy for job in good]
        st.markdown(
            f"Across seeds, test accuracy ranges over **{max(all_accuracies) - min(all_accuracies):.4f}**; the "
            f"means of the ways differ by **{max(means) - min(means):.4f}**. Differences like the article's "
            "Table 1 come from the seed (initial weights and shuffling), not from the way the model is written."
        )


if group:
    if running:
        @st.fragment(run_every=POLL_SECONDS)
        def live() -> None:
            current = [shared.job_pool().get(job.id) for job in group]
            if any(job is None for job in current) or all(job.finished for job in current):
                st.rerun()
            progress_table(current)

        live()
    else:
        results(group)

st.subheader("Which way when?")
table = pd.DataFrame([row[1:] for row in COMPARISON], index=[row[0] for row in COMPARISON],
                     columns=[shared.style_title(style) for style in STYLES])
st.table(table)
st.caption("From Keras' guides (the Functional API guide's “When to use the functional API”, and "
           "“Making new layers and models via subclassing”) and the generated code above.")
