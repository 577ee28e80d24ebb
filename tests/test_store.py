"""The drawing store's promises, on every backend: what a class saves comes back, other writers and bad
input change nothing they should not, limits hold, and errors speak the reader's language.

Each test takes a store of each backend in `support.stored_drawings.STORE_BACKENDS`; what only one
backend has (its files, its faults) is tested beside it (tests/test_sqlite_store.py).
"""

import io
import multiprocessing
import threading

import numpy as np
import pytest
from PIL import Image

from kerasways import i18n
from kerasways.drawing import grey_level, to_mnist
from kerasways.messages import InvalidValue
from kerasways.store import (
    DEFAULT_COLLECTION,
    CollectionClosed,
    CollectionData,
    CollectionFull,
    DrawingStore,
    NotAuthorised,
    StoreFull,
    WriterLimitReached,
    collection_from_query,
    open_store,
    validate_collection,
    writer_id,
)
from support.stored_drawings import STORE_BACKENDS, drawing, noise_canvas, save_many, save_one, stroke_canvas


@pytest.fixture(params=sorted(STORE_BACKENDS))
def backend(request) -> str:
    return request.param


@pytest.fixture()
def new_store(backend, tmp_path):
    """Opens stores of the backend under test on one fresh database (all closed after the test)."""
    opened: list[DrawingStore] = []

    def new(**options) -> DrawingStore:
        opened.append(STORE_BACKENDS[backend](tmp_path / "data", **options))
        return opened[-1]

    yield new
    for store in opened:
        store.close()


@pytest.fixture()
def store(new_store) -> DrawingStore:
    return new_store()


def test_the_server_opens_sqlite_in_the_data_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASWAYS_DATA_DIR", str(tmp_path / "data"))
    store = open_store()
    save_one(store)
    assert store.location == str(tmp_path / "data") and open_store().counts().total == 1


def test_saved_drawing_comes_back_as_drawn(store):
    canvas, image = drawing(3)
    drawing_id = store.save(canvas=canvas, image=image, label=4, writer="session-a")

    [saved] = store.list_mine(writer="session-a")
    assert (saved.id, saved.label) == (drawing_id, 4)
    np.testing.assert_array_equal(saved.image, image)
    assert saved.writer == writer_id("session-a") and "session-a" not in saved.writer
    stored = np.asarray(Image.open(io.BytesIO(store.canvas_png(drawing_id))))
    np.testing.assert_array_equal(stored, grey_level(canvas))  # the canvas as the preprocessing reads it
    np.testing.assert_array_equal(to_mnist(stored).centred, image)
    assert store.counts().by_label[4] == 1 and store.counts().total == 1
    assert [d.id for d in store.gallery()] == [drawing_id]
    assert store.list_mine(writer="session-b") == [], "another student does not see my drawings as theirs"


@pytest.mark.parametrize(("canvas", "what"), [
    (noise_canvas(280), "noise at the canvas's size"),
    (noise_canvas(1120), "noise at the largest size accepted"),
    (stroke_canvas(2, size=560), "a drawing twice the canvas's size"),
    (np.asarray(Image.fromarray(stroke_canvas(3)).resize((28, 28))), "a tiny drawing"),
])
def test_a_stored_canvas_is_the_canvas_size_and_small_whatever_was_sent(store, canvas, what):
    drawing_id = store.save(canvas=canvas, image=drawing(0)[1], label=1, writer="s")
    stored = Image.open(io.BytesIO(store.canvas_png(drawing_id)))
    assert stored.size == (280, 280), what
    assert len(store.canvas_png(drawing_id)) <= 100_000, what  # a 2048×2048 noise canvas was 16.8 MB


def test_the_float_image_to_mnist_returns_is_stored_as_uint8(store):
    canvas = stroke_canvas(5)
    processed = to_mnist(canvas)
    store.save(canvas=canvas, image=processed.image, label=1, writer="s")
    np.testing.assert_array_equal(store.list_mine(writer="s")[0].image, processed.centred)


def test_what_the_store_gives_back_never_holds_a_session_id(store):
    save_one(store, writer="secret-session-id-123")
    assert "secret-session-id-123" not in set(store.arrays().writers)
    assert "secret-session-id-123" not in {d.writer for d in store.gallery()}
    assert set(store.counts().by_writer) == {writer_id("secret-session-id-123")}


def test_students_delete_only_their_own_drawings(store):
    mine = save_one(store, writer="me")
    theirs = save_one(store, writer="them")

    assert store.delete_mine(theirs, writer="me") is False
    assert store.delete_mine(mine, writer="me") is True
    assert store.list_mine(writer="me") == []
    assert [d.id for d in store.list_mine(writer="them")] == [theirs]


def test_collections_are_kept_apart(store):
    save_one(store, collection="7b", label=2)
    save_one(store, label=3)
    assert store.counts("7b").by_label[2] == 1 and store.counts("7b").total == 1
    assert store.counts(DEFAULT_COLLECTION).total == 1
    assert store.collections() == sorted(["7b", DEFAULT_COLLECTION])
    assert store.list_mine(writer="session-a", collection="7b")[0].label == 2
    assert store.canvas_png(store.list_mine(writer="session-a", collection="7b")[0].id) is None, \
        "a drawing is found only in its own collection"


def test_counts_per_digit_and_writer(store):
    for index in range(5):
        save_one(store, seed=index, label=index % 2, writer="a" if index < 3 else "b")
    counts = store.counts()
    assert counts.total == 5
    assert counts.by_label == {0: 3, 1: 2, **{digit: 0 for digit in range(2, 10)}}
    assert list(counts.by_writer.values()) == [3, 2]
    assert [d.label for d in store.gallery(label=1)] == [1, 1]
    assert len(store.gallery(limit=2)) == 2


@pytest.mark.slow  # starts writer processes
def test_concurrent_writer_processes_lose_nothing(backend, tmp_path):
    place = str(tmp_path / "data")
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        acknowledged = pool.starmap(save_many, [(backend, place, f"writer-{n}", 15) for n in range(4)])
    ids = [i for part in acknowledged for i in part]
    assert len(set(ids)) == 60
    stored = STORE_BACKENDS[backend](tmp_path / "data")
    assert sorted(d.id for d in stored.gallery(limit=1000)) == sorted(ids)
    assert list(stored.counts().by_writer.values()) == [15, 15, 15, 15]


def test_concurrent_session_threads_lose_nothing(store):
    acknowledged: list[int] = []

    def session(number: int) -> None:
        for index in range(10):
            acknowledged.append(save_one(store, seed=index, writer=f"thread-{number}"))

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(acknowledged) == 80
    assert sorted(d.id for d in store.gallery(limit=1000)) == sorted(acknowledged)


def test_one_browser_saves_at_most_the_limit_in_a_collection_even_all_at_once(new_store):
    store = new_store(max_per_writer=5)
    outcomes: list[object] = []

    def click(index: int) -> None:  # eight clicks from one browser arriving together
        try:
            outcomes.append(save_one(store, seed=index, writer="eager"))
        except WriterLimitReached as error:
            outcomes.append(error)

    threads = [threading.Thread(target=click, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [outcome for outcome in outcomes if isinstance(outcome, WriterLimitReached)]
    assert len(refused) == 3 and all(str(error).startswith("writer: expected at most 5 drawings") for error in refused)
    assert {error.limit for error in refused} == {5}
    assert len(store.list_mine(writer="eager")) == 5
    save_one(store, writer="another")  # other browsers and other collections are not affected
    save_one(store, writer="eager", collection="7b")
    assert store.counts().total == 6


@pytest.mark.slow
def test_the_writer_limit_holds_when_several_servers_save_for_one_browser(backend, tmp_path):
    place = str(tmp_path / "data")
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:  # four servers, each receiving the same browser's clicks at once
        acknowledged = pool.starmap(save_many, [(backend, place, "eager", 6, 10)] * 4)
    assert sum(len(part) for part in acknowledged) == 10
    assert STORE_BACKENDS[backend](tmp_path / "data").counts().total == 10


def test_the_limit_is_read_when_saving_unless_the_store_was_given_one(new_store, monkeypatch):
    store, strict = new_store(), new_store(max_per_writer=2)
    monkeypatch.setattr("kerasways.store.MAX_DRAWINGS_PER_WRITER", 1)
    save_one(store, writer="a")
    with pytest.raises(WriterLimitReached):
        save_one(store, writer="a")
    save_one(strict, writer="b")
    save_one(strict, writer="b")
    assert store.max_per_writer == 1 and strict.max_per_writer == 2


def test_a_full_collection_refuses_saves_until_drawings_are_deleted(new_store):
    store = new_store(max_per_collection=3)
    ids = [save_one(store, seed=index, writer=f"tab-{index}") for index in range(3)]  # one student, three tabs
    with pytest.raises(CollectionFull) as refused:
        save_one(store, seed=3, writer="tab-3")
    assert str(refused.value).startswith("the collection “class” is full: it holds 3 drawings")
    assert store.counts().total == 3
    save_one(store, writer="tab-3", collection="7b")  # another collection has its own quota
    store.delete_mine(ids[0], writer="tab-0")
    save_one(store, seed=3, writer="tab-3")
    assert store.counts().total == 3


def test_a_full_store_refuses_saves_in_every_collection_and_imports(new_store):
    store = new_store(max_data_bytes=500_000)
    saved = []
    with pytest.raises(StoreFull) as refused:
        for seed in range(20):  # about 80 KB each: the quota is reached within a few
            saved.append(store.save(canvas=noise_canvas(280, seed), image=drawing(0)[1], label=seed % 10,
                                    writer=f"tab-{seed}"))
    assert 3 <= len(saved) < 7 and store.counts().total == len(saved)
    assert refused.value.used + refused.value.needed > 500_000 >= refused.value.used
    with pytest.raises(StoreFull):  # what does not fit, in any collection
        store.save(canvas=noise_canvas(280, 99), image=drawing(0)[1], label=1, writer="tab-99", collection="7b")
    imported = CollectionData(x=np.full((200, 28, 28), 9, np.uint8), y=np.zeros(200, np.int64),
                              writers=np.array(["imported"] * 200))
    with pytest.raises(StoreFull):
        store.import_arrays(imported, "7b", authorised=True)
    assert store.counts("7b").total == 0
    for index in (0, 1):
        store.delete_mine(saved[index], writer=f"tab-{index}")
    store.save(canvas=noise_canvas(280, 99), image=drawing(0)[1], label=1, writer="tab-99", collection="7b")
    assert store.counts("7b").total == 1  # deleted drawings made room again


def test_the_teachers_import_respects_only_the_store_quota(new_store):
    store = new_store(max_per_collection=5, max_data_bytes=200_000)
    data = CollectionData(x=np.full((40, 28, 28), 9, np.uint8), y=np.zeros(40, np.int64),
                          writers=np.array(["imported"] * 40))
    assert store.import_arrays(data, authorised=True) == 40  # past the collection's 5: a teacher's choice
    big = CollectionData(x=np.full((300, 28, 28), 9, np.uint8), y=np.zeros(300, np.int64),
                         writers=np.array(["imported"] * 300))
    with pytest.raises(StoreFull):
        store.import_arrays(big, authorised=True)  # 235 KB of images
    assert store.counts().total == 40
    with pytest.raises(CollectionFull):
        save_one(store)


def test_quotas_are_read_from_the_environment_when_saving(new_store, monkeypatch):
    store = new_store()
    monkeypatch.setenv("KERASWAYS_MAX_DRAWINGS_PER_COLLECTION", "2")
    monkeypatch.setenv("KERASWAYS_MAX_DATA_MB", "5")
    assert (store.max_per_collection, store.max_data_bytes) == (2, 5_000_000)
    save_one(store, writer="a")
    save_one(store, writer="b")
    with pytest.raises(CollectionFull):
        save_one(store, writer="c")
    monkeypatch.setenv("KERASWAYS_MAX_DATA_MB", "lots")
    with pytest.raises(InvalidValue, match="^KERASWAYS_MAX_DATA_MB: expected a whole number of at least 1; "
                                           "received 'lots'"):
        save_one(store, writer="c", collection="7b")
    assert store.counts("7b").total == 0


def test_quotas_are_explained_in_the_readers_language(new_store):
    store = new_store(max_per_collection=1)
    save_one(store)
    with pytest.raises(CollectionFull) as full:
        save_one(store, writer="another")
    chinese = i18n.render(full.value, "zh")
    assert "class" in chinese and "1" in chinese and "full" not in chinese
    with pytest.raises(StoreFull) as no_room:
        new_store(max_data_bytes=1_000).save(canvas=drawing(0)[0], image=drawing(0)[1], label=1, writer="s",
                                             collection="7b")
    chinese = i18n.render(no_room.value, "zh")
    assert "KERASWAYS_MAX_DATA_MB" in chinese and "room" not in chinese


@pytest.mark.parametrize(("change", "field"), [
    ({"image": None}, "image"),
    ({"image": np.zeros((28, 28), np.uint8)}, "image"),
    ({"image": np.ones((28, 27), np.uint8)}, "image"),
    ({"image": np.ones((28, 28), np.float64)}, "image"),
    ({"image": np.full((28, 28), 2.0, np.float32)}, "image"),
    ({"label": 10}, "label"),
    ({"label": -1}, "label"),
    ({"label": 7.0}, "label"),
    ({"label": "7"}, "label"),
    ({"label": True}, "label"),
    ({"label": None}, "label"),
    ({"collection": "../x"}, "collection"),
    ({"canvas": None}, "canvas"),
    ({"canvas": np.zeros((280, 280, 3), np.uint8)}, "canvas"),
    ({"canvas": np.zeros((280, 280, 4), np.float32)}, "canvas"),
    ({"canvas": np.zeros((5, 5, 4), np.uint8)}, "canvas"),
    ({"canvas": np.zeros((280, 1121, 4), np.uint8)}, "canvas"),
    ({"canvas": np.zeros((2048, 2048, 4), np.uint8)}, "canvas"),
    ({"writer": ""}, "writer"),
    ({"writer": None}, "writer"),
])
def test_bad_input_is_refused_by_name_and_stores_nothing(store, change, field):
    canvas, image = drawing(1)
    arguments = {"canvas": canvas, "image": image, "label": 3, "writer": "s", **change}
    with pytest.raises(InvalidValue, match=rf"^{field}: expected .*; received ") as refused:
        store.save(**arguments)
    assert refused.value.field == field
    assert store.counts().total == 0


def test_a_refused_drawing_is_explained_in_the_readers_language(store):
    canvas, image = drawing(1)
    with pytest.raises(InvalidValue) as refused:
        store.save(canvas=canvas, image=image, label=12, writer="s")
    assert str(refused.value) == "label: expected a digit 0-9; received 12"  # the field as code names it
    assert i18n.render(refused.value, "en") == "Label: expected a digit 0-9; received 12"  # and as a page does
    chinese = i18n.render(refused.value, "zh")
    assert chinese.startswith("标签") and i18n.translator("zh")("a digit 0-9") in chinese
    assert "expected" not in chinese and "label" not in chinese and "12" in chinese


def test_the_writer_limit_is_explained_in_the_readers_language(new_store):
    store = new_store(max_per_writer=1)
    save_one(store)
    with pytest.raises(WriterLimitReached) as refused:
        save_one(store)
    chinese = i18n.render(refused.value, "zh")
    assert "1" in chinese and "2" in chinese and "expected" not in chinese and "at most" not in chinese


@pytest.mark.parametrize("name", ["-", "-x", "../x", "a/b", "..", ".", "a" * 33, "", " ", "ünï", "٣", "a b", "a_b",
                                  "a\x00b", "%2e%2e", "C:\\x", "/etc", None, 7])
def test_collection_names_are_short_slugs_only(name):
    with pytest.raises(InvalidValue, match="^collection: expected"):
        validate_collection(name)


def test_collection_names_are_case_folded_and_read_from_links():
    assert validate_collection("7B") == "7b"
    assert validate_collection("year-7-b") == "year-7-b"
    assert collection_from_query({"collection": "7b", "way": "functional"}) == "7b"
    assert collection_from_query({}) == DEFAULT_COLLECTION
    with pytest.raises(ValueError, match="^collection"):
        collection_from_query({"collection": "../../etc"})


def test_deleting_a_collection_needs_the_teacher_and_spares_the_others(store):
    save_one(store, collection="7b")
    save_one(store, collection="7c")
    with pytest.raises(NotAuthorised) as refused:
        store.delete_collection("7b", authorised=False)
    assert i18n.render(refused.value, "zh") == i18n.translator("zh")("Deleting a collection needs the teacher key.")
    assert store.counts("7b").total == 1
    assert store.delete_collection("7b", authorised=True) == 1
    assert store.counts("7b").total == 0 and store.counts("7c").total == 1


def test_a_closed_collection_refuses_new_drawings_until_the_teacher_reopens_it(store):
    kept = save_one(store, collection="7b")
    store.set_collection_closed("7b", True, authorised=True)
    assert store.is_closed("7b") and not store.is_closed("7c") and not store.is_closed()
    with pytest.raises(CollectionClosed) as refused:
        save_one(store, seed=1, collection="7b")
    assert refused.value.collection == "7b"
    assert "7b" in i18n.render(refused.value, "zh") and "closed" not in i18n.render(refused.value, "zh")
    assert [d.id for d in store.gallery("7b")] == [kept], "nothing was stored, what was there stays"
    save_one(store, seed=2, collection="7c")  # other collections are not affected
    save_one(store, seed=3)

    store.set_collection_closed("7b", True, authorised=True)  # closing twice is harmless
    store.set_collection_closed("7b", False, authorised=True)
    assert not store.is_closed("7b")
    save_one(store, seed=4, collection="7b")
    assert store.counts("7b").total == 2


def test_the_teacher_imports_into_a_closed_collection(store):
    store.set_collection_closed("7b", True, authorised=True)
    _, image = drawing(5)
    data = CollectionData(x=np.stack([image, image]), y=np.array([1, 2]), writers=np.array(["last-year"] * 2))
    assert store.import_arrays(data, "7b", authorised=True) == 2
    assert store.counts("7b").total == 2 and store.is_closed("7b")


def test_closing_reopening_and_hiding_the_switcher_need_the_teacher_key(store):
    refusals = {
        "close": lambda: store.set_collection_closed("7b", True, authorised=False),
        "hide": lambda: store.hide_switcher(True, authorised=False),
    }
    for action in refusals.values():
        with pytest.raises(NotAuthorised):
            action()
    assert not store.is_closed("7b") and not store.switcher_hidden()
    store.set_collection_closed("7b", True, authorised=True)
    with pytest.raises(NotAuthorised) as refused:
        store.set_collection_closed("7b", False, authorised=False)
    assert i18n.render(refused.value, "zh") == i18n.translator("zh")(
        "Closing or reopening a collection needs the teacher key.")
    assert store.is_closed("7b")
    with pytest.raises(InvalidValue, match="^collection"):
        store.set_collection_closed("../x", True, authorised=True)


def test_a_closed_collection_and_a_hidden_switcher_hold_after_a_restart(new_store):
    store = new_store()
    save_one(store, collection="7b")
    store.set_collection_closed("7b", True, authorised=True)
    store.set_collection_closed("empty", True, authorised=True)  # a collection without drawings can be closed too
    assert not store.switcher_hidden()
    store.hide_switcher(True, authorised=True)
    store.close()

    restarted = new_store()  # another server process on the same database, or the same one restarted
    assert restarted.is_closed("7b") and restarted.is_closed("empty") and not restarted.is_closed()
    assert restarted.switcher_hidden()
    with pytest.raises(CollectionClosed):
        save_one(restarted, collection="empty")
    restarted.hide_switcher(False, authorised=True)
    restarted.set_collection_closed("7b", False, authorised=True)
    assert not new_store().switcher_hidden() and not new_store().is_closed("7b")
