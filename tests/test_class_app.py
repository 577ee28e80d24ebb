"""Our class's digits in the real app (AppTest): label a drawing, see the class page, train with them.

Every test stores into its own temporary data folder (KERASWAYS_DATA_DIR, set before the app runs;
the app's store resource is keyed by that folder, so no test sees another's drawings).
"""

import io
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from kerasways.collection import read_npz, to_npz_bytes
from kerasways.drawing import grey_level, to_mnist
from kerasways.store import open_store
from tests.support import (
    app_test,
    blank_png,
    canvas_state,
    digit_canvas,
    fill_collection,
    png_data_url,
    rerun_until,
    unlock_teacher,
)


def draw_page_with_a_model(at):
    """Open the Draw page and train its network for drawings (unless the server has it trained already)."""
    at.switch_page("app_pages/draw_page.py").run()
    if any(button.key == "quick_train" for button in at.button):
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
    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", "owl-42-at-dawn")
    fill_collection(data_dir, mnist, writers=1, per_writer=3, collection="7b")
    at = app_test({"collection": "7b"})
    at.switch_page("app_pages/class_page.py").run()
    unlock_teacher(at, "guess")
    assert any("not accepted. Try again in 1 s" in box.value for box in at.error)
    assert "delete_collection" not in [button.key for button in at.button]
    unlock_teacher(at, "owl-42-at-dawn")  # heard at once: still within the wait after the wrong guess
    assert "delete_collection" not in [button.key for button in at.button]
    time.sleep(1.1)  # the wait after one wrong guess
    unlock_teacher(at, "owl-42-at-dawn")
    assert any("Teacher controls are on" in caption.value for caption in at.caption)

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


def teacher_on_the_class_page(query: dict | None = None):
    """A session on the class page that gave the teacher key ("owl-42-at-dawn", set by the test)."""
    at = app_test(query)
    at.switch_page("app_pages/class_page.py").run()
    unlock_teacher(at, "owl-42-at-dawn")
    assert not at.exception, at.exception
    return at


def collection_switch(at):
    return [box for box in at.selectbox if box.label == "Collection"]


@pytest.mark.slow  # trains in the worker pool
def test_a_closed_collection_refuses_a_students_click_and_keeps_the_drawing(data_dir, mnist, monkeypatch):
    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", "owl-42-at-dawn")
    student = draw_page_with_a_model(app_test({"collection": "7b"}))
    student.session_state["canvas"] = canvas_state(digit_canvas(mnist.x_test[0]))
    student.run()
    label = int(mnist.y_test[0])
    assert student.button(key=f"it_was_{label}")  # open: the label buttons are there

    teacher = teacher_on_the_class_page({"collection": "7b"})
    teacher.button(key="close_collection").click().run()
    assert any("“7b” is closed to new drawings" in box.value for box in teacher.success)

    student.button(key=f"it_was_{label}").click().run()  # the button the page showed before the teacher closed
    assert not student.exception, student.exception
    assert any("Not saved" in box.value and "closed the collection “7b”" in box.value for box in student.warning)
    assert open_store(data_dir).counts("7b").total == 0
    assert student.session_state["canvas_clears"] == 0  # the drawing stays on the canvas
    assert not any(button.key.startswith("it_was_") for button in student.button if button.key)
    assert any("Saving is closed" in box.value for box in student.info)  # said up front from now on

    teacher.button(key="close_collection").click().run()  # reopen
    student.run()
    student.button(key=f"it_was_{label}").click().run()
    assert any(f"Saved as a {label}" in box.value for box in student.success)
    assert open_store(data_dir).counts("7b").total == 1


def test_the_teacher_closes_a_collection_from_the_class_page_and_everyone_sees_it(data_dir, mnist, monkeypatch):
    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", "owl-42-at-dawn")
    fill_collection(data_dir, mnist, writers=1, per_writer=3, collection="7b")
    student = app_test({"collection": "7b"})
    student.switch_page("app_pages/class_page.py").run()
    assert "not a privacy boundary" in all_text(student)  # collections are open by design, and the page says so
    assert not any("closed to new drawings" in box.value for box in student.info)

    teacher = teacher_on_the_class_page({"collection": "7b"})
    assert teacher.button(key="close_collection").proto.label == "Close “7b” to new drawings"
    teacher.button(key="close_collection").click().run()
    assert teacher.button(key="close_collection").proto.label == "Reopen “7b” to new drawings"
    assert open_store(data_dir).is_closed("7b") and not open_store(data_dir).is_closed("class")
    student.run()
    assert any("“7b” is closed to new drawings" in box.value for box in student.info)
    assert next(metric for metric in student.metric if metric.label == "Drawings").value == "3"  # still shown


def test_hiding_the_switcher_leaves_students_only_their_links_collection(data_dir, mnist, monkeypatch):
    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", "owl-42-at-dawn")
    fill_collection(data_dir, mnist, writers=2, per_writer=5)  # "class"
    fill_collection(data_dir, mnist, writers=3, per_writer=4, collection="7b")
    teacher = teacher_on_the_class_page()
    teacher.button(key="hide_switcher").click().run()
    assert any("hidden from students" in box.value for box in teacher.success)
    assert collection_switch(teacher), "the teacher, with the key, still switches"

    student = app_test({"collection": "7b"})
    student.switch_page("app_pages/class_page.py").run()
    assert not collection_switch(student)
    assert next(metric for metric in student.metric if metric.label == "Drawings").value == "12"  # the link's one
    unlock_teacher(student, "guess")
    assert not collection_switch(student), "a wrong key shows nothing more"

    teacher.button(key="hide_switcher").click().run()  # show it again
    student.run()
    assert [switch.options for switch in collection_switch(student)] == [["7b", "class"]]


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


@pytest.mark.slow  # trains in the worker pool
def test_no_student_can_stop_the_class_training_the_teacher_can_and_nobody_gets_the_cut_short_model(data_dir,
                                                                                                  monkeypatch):
    from app_pages import server

    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", "owl-42-at-dawn")
    server.run_registry.clear()  # a registry that has not trained the network for drawings yet (same workers)
    student = app_test({"way": "functional"})
    student.switch_page("app_pages/draw_page.py").run()
    student.button(key="quick_train").click().run()
    student.switch_page("app_pages/train_page.py").run()
    assert student.button(key="stop").disabled and student.button(key="pause").disabled
    assert any("only the teacher can pause or stop it" in caption.value for caption in student.caption)

    teacher = app_test({"way": "functional"})
    teacher.switch_page("app_pages/class_page.py").run()
    unlock_teacher(teacher, "owl-42-at-dawn")
    queued = next(markdown.value for markdown in teacher.markdown if "the class (shared)" in markdown.value)
    assert "of a worker" in queued  # the queue shows who, what, and for how long
    teacher.switch_page("app_pages/draw_page.py").run()
    teacher.button(key="quick_train").click().run()  # the same run: one training for the class
    teacher.switch_page("app_pages/train_page.py").run()
    assert not teacher.button(key="stop").disabled
    teacher.button(key="stop").click().run()

    student.switch_page("app_pages/draw_page.py")
    rerun_until(student, lambda at: any("No trained model yet" in info.value for info in at.info))
    assert not any(box.key == "w_draw_run" for box in student.selectbox)  # no cut-short model to draw with


def bad_import(kind: str) -> bytes:
    """An upload a teacher might pick by mistake: members named unlike the export's, or a header that lies."""
    def npy(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, array)
        return buffer.getvalue()

    members = {"y.npy": npy(np.arange(4))}
    if kind == "member-named-x":
        members["x"] = npy(np.zeros((4, 28, 28), np.uint8))
    else:  # declares a billion images and holds one
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"shape": (10**9, 28, 28), "descr": "|u1",
                                                      "fortran_order": False})
        members["x.npy"] = header.getvalue() + bytes(784)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("kind", "said"), [
    ("member-named-x", "File: expected members named x.npy, y.npy (and optionally writers.npy), as the app's .npz "
                       "export writes them, and nothing else; received ['x', 'y.npy']"),
    ("huge-shape", "Images (x): expected at most 20,000 drawings; received 1000000000"),
])
def test_the_class_page_says_in_words_why_a_bad_import_was_refused(data_dir, mnist, monkeypatch, kind, said):
    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", "owl-42-at-dawn")
    fill_collection(data_dir, mnist, writers=1, per_writer=3, collection="7b")
    at = app_test({"collection": "7b"})
    at.switch_page("app_pages/class_page.py").run()
    unlock_teacher(at, "owl-42-at-dawn")
    at.file_uploader(key="import_npz").set_value(("last-year.npz", bad_import(kind), "")).run()
    at.button(key="import").click().run()
    assert not at.exception
    assert [box.value for box in at.error] == [f"Nothing was imported: {said}"]
    assert open_store(data_dir).counts("7b").total == 3
