"""Our class's digits in the real app (AppTest): label a drawing, see the class page, train with them.

Every test stores into its own temporary data folder (KERASWAYS_DATA_DIR, set before the app runs;
the app's store resource is keyed by that folder, so no test sees another's drawings).
"""

import io

import numpy as np
import pytest
from PIL import Image

from kerasways.collection import read_npz, to_npz_bytes
from kerasways.drawing import grey_level, to_mnist
from kerasways.store import open_store
from tests.support import app_test, blank_png, canvas_state, digit_canvas, fill_collection, png_data_url, rerun_until


def draw_page_with_a_model(at):
    """Open the Draw page and train its quick reference network."""
    at.switch_page("app_pages/draw_page.py").run()
    at.button(key="quick_train").click().run()
    rerun_until(at, lambda at: any(box.key == "w_draw_run" for box in at.selectbox))
    return at


def all_text(at) -> str:
    return " ".join(str(element.value) for element in [*at.markdown, *at.caption, *at.success, *at.warning,
                                                        *at.info, *at.error])


@pytest.mark.slow  # trains in the worker pool
def test_one_click_saves_the_drawing_with_its_label_and_clears_the_canvas(data_dir, mnist, monkeypatch):
    at = draw_page_with_a_model(app_test())
    assert not at.get("expander")  # nothing saved yet: no "My drawings"
    canvas = digit_canvas(mnist.x_test[0])
    at.session_state["canvas"] = canvas_state(canvas)
    at.run()
    predicted = int(next(metric for metric in at.metric if metric.label == "The model reads").value)
    assert at.button(key=f"it_was_{predicted}").proto.type == "primary"  # the model's answer stands out
    label = int(mnist.y_test[0])
    at.button(key=f"it_was_{label}").click().run()
    assert not at.exception, at.exception

    assert any(f"Saved as a {label}" in box.value for box in at.success)
    assert at.session_state["canvas_clears"] == 1  # the canvas was asked to empty itself
    assert not any(button.key.startswith("it_was_") for button in at.button if button.key)  # no second save
    store = open_store(data_dir)
    counts = store.counts()
    assert counts.total == 1 and counts.by_label[label] == 1 and len(counts.by_writer) == 1
    [saved] = store.gallery()
    np.testing.assert_array_equal(saved.image, to_mnist(canvas).centred)
    stored = np.asarray(Image.open(io.BytesIO(store.canvas_png(saved.id))))
    np.testing.assert_array_equal(stored, grey_level(canvas))  # the canvas as the preprocessing reads it
    assert "My drawings (1)" in [expander.label for expander in at.get("expander")]

    at.button(key=f"delete_mine_{saved.id}").click().run()
    assert store.counts().total == 0
    assert "My drawings (1)" not in [expander.label for expander in at.get("expander")]

    # One browser's share of a collection is limited; past it the drawing stays on the canvas.
    monkeypatch.setattr("kerasways.store.MAX_DRAWINGS_PER_WRITER", 1)
    for sample in (1, 2):
        at.session_state["canvas"] = canvas_state(digit_canvas(mnist.x_test[sample]))
        at.run()
        at.button(key=f"it_was_{int(mnist.y_test[sample])}").click().run()
    assert any("this browser has already saved 1 drawings" in box.value for box in at.warning)
    assert store.counts().total == 1 and at.session_state["canvas_clears"] == 2  # the refused one was not cleared


@pytest.mark.slow  # trains in the worker pool
def test_a_refused_canvas_and_a_full_collection_are_said_on_the_draw_page_and_nothing_is_lost(data_dir, mnist,
                                                                                                monkeypatch):
    at = draw_page_with_a_model(app_test())
    at.session_state["canvas"] = canvas_state(png_data_url(blank_png(2_000)))  # forged: 2000×2000 in 40 KB
    at.run()
    assert not at.exception, at.exception
    assert any("not read: the canvas sent a 2000×2000 image" in box.value for box in at.warning)
    assert not any(button.key.startswith("it_was_") for button in at.button if button.key)  # nothing to save
    canvas = digit_canvas(mnist.x_test[0])
    at.session_state["canvas"] = canvas_state(canvas)  # the next real stroke is read as ever
    at.run()
    assert not any("not read" in box.value for box in at.warning)

    fill_collection(data_dir, mnist, writers=2, per_writer=1)
    monkeypatch.setenv("KERASWAYS_MAX_DRAWINGS_PER_COLLECTION", "2")  # read when saving
    at.button(key=f"it_was_{int(mnist.y_test[0])}").click().run()
    assert any("Not saved: the collection “class” is full: it holds 2 drawings" in box.value for box in at.warning)
    assert open_store(data_dir).counts().total == 2
    assert at.session_state.get("canvas_clears", 0) == 0  # the drawing stays on the canvas
    assert any(button.key.startswith("it_was_") for button in at.button if button.key)  # and can be saved later


def test_class_page_shows_counts_per_digit_and_anonymous_writers_and_a_gallery(data_dir, mnist):
    fill_collection(data_dir, mnist, writers=3, per_writer=5)
    at = app_test()
    at.switch_page("app_pages/class_page.py").run()
    assert not at.exception, at.exception
    assert next(metric for metric in at.metric if metric.label == "Drawings").value == "15"
    per_digit = at.dataframe[0].value
    assert list(per_digit.columns) == [str(digit) for digit in range(10)]
    assert per_digit.iloc[0].to_dict() == {str(d): int((mnist.y_test[:15] == d).sum()) for d in range(10)}
    writers = at.dataframe[1].value
    assert list(writers["writer"]) == ["writer 1", "writer 2", "writer 3"] and list(writers["drawings"]) == [5] * 3
    assert "student" not in all_text(at)  # no session ids, no hashes: numbers only
    gallery = [element.proto.body for element in at.get("html") if "data:image/png;base64" in element.proto.body]
    assert sum(row.count("<img") for row in gallery) == 15
    assert {button.proto.label for button in at.get("download_button")} >= {"Download .npz (MNIST layout)"}
    assert any("No trained model in this session" in info.value for info in at.info)
    assert not at.text_input  # no teacher key on this server: no teacher controls


def test_a_teacher_switches_between_the_servers_collections_and_the_link_follows(data_dir, mnist):
    fill_collection(data_dir, mnist, writers=2, per_writer=5)  # "class"
    fill_collection(data_dir, mnist, writers=3, per_writer=4, collection="7b")
    at = app_test()
    at.switch_page("app_pages/class_page.py").run()
    [switch] = [box for box in at.selectbox if box.label == "Collection"]
    assert switch.options == ["7b", "class"] and switch.value == "class"
    assert next(metric for metric in at.metric if metric.label == "Drawings").value == "10"
    switch.select("7b").run()
    assert not at.exception, at.exception
    assert next(metric for metric in at.metric if metric.label == "Drawings").value == "12"
    assert at.query_params["collection"] == "7b"  # the link hands out this collection now
    assert at.session_state["collection"] == "7b"  # and the Draw page saves into it


def test_one_collection_needs_no_switch(data_dir, mnist):
    fill_collection(data_dir, mnist, writers=2, per_writer=3)
    at = app_test()
    at.switch_page("app_pages/class_page.py").run()
    assert not [box for box in at.selectbox if box.label == "Collection"]


def test_a_bad_collection_name_in_the_link_saves_nothing_and_says_why(data_dir, mnist):
    at = app_test({"collection": "../../etc"})
    assert not at.warning  # "collection" is a known link key, not an unknown one
    at.switch_page("app_pages/class_page.py").run()
    assert any("expected a name of 1-32 letters" in box.value and "etc" in box.value for box in at.warning)
    at.switch_page("app_pages/train_page.py").run()
    assert "expected a name of 1-32 letters" in all_text(at)
    assert not at.toggle  # nothing to add to the training
    assert at.query_params["collection"] == "../../etc"  # kept in the link, so the teacher sees it
    assert not data_dir.exists() or not open_store(data_dir).collections()


def test_a_collection_name_from_a_link_is_shown_as_text_never_as_a_link(data_dir):
    at = app_test({"collection": "[Log in](https://evil.example/login)"})
    at.switch_page("app_pages/class_page.py").run()
    [warning] = at.warning
    assert "Log in" in warning.value and "evil" in warning.value
    assert "](" not in warning.value and "https://" not in warning.value  # escaped: Markdown shows it as typed
    at = app_test({"collection": "www.evil.example"})
    at.switch_page("app_pages/class_page.py").run()
    assert "www.evil" not in at.warning[0].value  # no bare address for Markdown to turn into a link


@pytest.mark.slow  # trains in the worker pool
def test_an_unusable_data_folder_says_saving_is_unavailable_and_predicting_still_works(tmp_path, monkeypatch, mnist):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KERASWAYS_DATA_DIR", str(blocker / "data"))
    at = draw_page_with_a_model(app_test())
    at.session_state["canvas"] = canvas_state(digit_canvas(mnist.x_test[1]))
    at.run()
    assert not at.exception, at.exception
    assert any(metric.label == "The model reads" for metric in at.metric)
    assert any("Saving drawings for the class is unavailable" in caption.value for caption in at.caption)
    assert not any(button.key and button.key.startswith("it_was_") for button in at.button)
    at.switch_page("app_pages/class_page.py").run()
    assert not at.exception
    assert any("unavailable" in box.value and "cannot be created" in box.value for box in at.warning)


def test_teacher_controls_need_the_key_and_import_is_validated(data_dir, mnist, monkeypatch):
    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", "owl-42")
    fill_collection(data_dir, mnist, writers=1, per_writer=3, collection="7b")
    at = app_test({"collection": "7b"})
    at.switch_page("app_pages/class_page.py").run()
    at.text_input(key="w_teacher_key").input("guess").run()
    assert any("not the teacher key" in box.value for box in at.error)
    assert "delete_collection" not in [button.key for button in at.button]
    at.text_input(key="w_teacher_key").input("owl-42").run()

    exported = open_store(data_dir).arrays("7b")
    broken = to_npz_bytes(exported)[:200]
    at.file_uploader(key="import_npz").set_value(("broken.npz", broken, "application/octet-stream")).run()
    at.button(key="import").click().run()
    assert any("Nothing was imported" in box.value for box in at.error)
    assert open_store(data_dir).counts("7b").total == 3

    at.file_uploader(key="import_npz").set_value(("last-year.npz", to_npz_bytes(exported), "")).run()
    at.button(key="import").click().run()
    assert any("Imported 3 drawings" in box.value for box in at.success)
    assert next(metric for metric in at.metric if metric.label == "Drawings").value == "6"  # the page shows them
    assert open_store(data_dir).counts("7b").total == 6
    assert len(read_npz(to_npz_bytes(open_store(data_dir).arrays("7b")))) == 6

    assert at.button(key="delete_collection").disabled  # one more deliberate tick first
    at.checkbox(key="delete_sure").check().run()
    at.button(key="delete_collection").click().run()
    assert any("Deleted 6 drawings" in box.value for box in at.success)
    assert open_store(data_dir).counts("7b").total == 0


@pytest.mark.slow  # trains in the worker pool
def test_training_with_our_digits_reports_before_and_after_on_held_out_writers(data_dir, mnist):
    fill_collection(data_dir, mnist, writers=4, per_writer=15)
    at = app_test({"epochs": "2", "digits": "1000"})
    at.switch_page("app_pages/train_page.py").run()
    at.button(key="start").click().run()  # first without our digits: the "before"
    rerun_until(at, lambda at: any(metric.label == "Test accuracy" for metric in at.metric))
    assert not any(metric.label.startswith("After") for metric in at.metric)

    at.toggle(key="w_class_digits").set_value(True).run()
    assert "held out" in all_text(at)
    at.button(key="start").click().run()
    rerun_until(at, lambda at: any(metric.label.startswith("After") for metric in at.metric))
    before = next(metric for metric in at.metric if metric.label.startswith("Before"))
    after = next(metric for metric in at.metric if metric.label.startswith("After"))
    assert before.value.endswith("%") and after.value.endswith("%") and "points" in after.delta
    held_out = int(next(metric for metric in at.metric if metric.label == "Held-out drawings").value)
    assert held_out == 15  # one writer of four held out: never trained on
    assert "never trained on" in all_text(at)

    at.switch_page("app_pages/class_page.py").run()
    assert not at.exception, at.exception
    assert sum(metric.label == "Our digits" for metric in at.metric) == 2  # both runs, each on the right part
    assert any("held-out writers only" in md.value for md in at.markdown)
