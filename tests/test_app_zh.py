"""The app in Chinese (AppTest): every page opened with `?lang=zh` shows no untranslated English,
the language switch keeps the set-up, the share link carries the language, and an unknown
language falls back with the usual warning."""

import json
import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import (
    APP_TIMEOUT_SECONDS,
    app_test,
    canvas_state,
    digit_canvas,
    fill_collection,
    rerun_until,
    unlock_teacher,
)

PAGES = ("app_pages/build_page.py", "app_pages/train_page.py", "app_pages/draw_page.py",
         "app_pages/compare_page.py", "app_pages/class_page.py")
# Latin words a Chinese page may show: names (Keras, MNIST, TensorFlow…), code identifiers and
# Keras class and argument names (in code font or in layer descriptions), file types and units.
ALLOWED = {
    "keras", "mnist", "api", "tensorflow", "python", "jupyter", "colab", "kerasways", "mlp", "cnn", "adam", "sgd",
    "rmsprop", "adamw", "elu", "gelu", "linear", "maxpooling2d", "relu", "tanh", "sigmoid", "softmax", "dense",
    "conv2d", "dropout", "flatten", "reshape", "concatenate", "model", "px", "py", "ipynb", "npz",
    "zip", "png", "csv", "n", "s", "uint8", "ms", "mlxtend", "smoothgrad", "grad", "cam",
}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Code spans, and names in quotes (a class's collection name comes from its link).
CODE_SPANS = re.compile(r"`[^`]*`|“[^”]*”")


def app(query: dict | None = None):
    """The app opened with `?lang=zh` (and `query`)."""
    return app_test({"lang": "zh", **(query or {})})


def page_texts(at: AppTest) -> list[str]:
    """What a reader meets on the page: texts, labels, help, metrics, buttons, options and table headers."""
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
                 "text"):
        texts += [str(element.value) for element in getattr(at, kind)]
    for kind in ("button", "checkbox", "toggle", "number_input", "selectbox", "radio", "slider", "text_input",
                 "metric", "expander"):
        for element in at.get(kind):
            texts += [str(getattr(element, name, "") or "") for name in ("label", "help")]
            texts += [str(option) for option in getattr(element, "options", None) or ()]
            if kind == "metric":
                texts += [str(element.value), str(element.proto.delta or "")]
    for progress in at.get("progress"):
        texts.append(progress.proto.text)
    for kind in ("table", "dataframe"):
        for element in getattr(at, kind):
            frame = element.value
            # A column's header is its configured label when it has one (the layer editor's columns).
            labels = json.loads(getattr(element.proto, "columns", "") or "{}")
            texts += [str(labels.get(str(name), {}).get("label") or name)
                      for name in [*frame.columns, frame.index.name] if name is not None]
    return [text for text in texts if text]


def untranslated(texts: list[str]) -> set[str]:
    """Latin-letter words in `texts` that are not on the allowed list (code spans left out)."""
    found = set()
    for text in texts:
        for word in WORD.findall(CODE_SPANS.sub(" ", text)):
            if word.lower() not in ALLOWED and not word.startswith(("KERASWAYS_", "Conv", "Max")):
                found.add(word)
    return found


def english_words(at: AppTest) -> set[str]:
    """Untranslated words on the page."""
    return untranslated(page_texts(at))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opened_in_chinese_has_no_english_words(page, data_dir):
    at = app()
    if page != PAGES[0]:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    assert page_texts(at)
    assert not english_words(at), english_words(at)


def test_every_way_and_the_augmentation_view_read_in_chinese(data_dir):
    at = app({"aug": "1"})
    for style in ("functional", "subclassing", "sequential"):
        at.radio(key="w_style").set_value(style).run()
        assert not at.exception, at.exception
        assert not english_words(at), (style, english_words(at))
    assert at.radio(key="w_style").options == ["顺序 API", "函数式 API", "模型子类化"]
    assert "# " in at.code[0].value and re.search(r"[\u4e00-\u9fff]", at.code[0].value)  # Chinese comments
    at.checkbox(key="w_skip").check().run()
    assert any("函数式 API" in info.value for info in at.info)
    assert not english_words(at), english_words(at)


@pytest.mark.slow  # trains in the worker pool
def test_a_whole_lesson_in_chinese_train_draw_compare_class(data_dir, mnist):
    """Train, read the results, draw, compare and open the class page: all in Chinese."""
    fill_collection(data_dir, mnist, writers=3, per_writer=4)
    at = app({"epochs": "1", "digits": "1000"})
    at.switch_page("app_pages/train_page.py").run()
    at.button(key="start").click().run()
    status = " ".join(progress.proto.text for progress in at.get("progress"))  # queued, building or training
    assert re.search(r"[\u4e00-\u9fff]", status) and not untranslated([status]), status
    rerun_until(at, lambda at: any(metric.label == "测试准确率" for metric in at.metric))
    assert any("训练了" in success.value or "训练" in success.value for success in at.success)
    assert not english_words(at), english_words(at)

    at.switch_page("app_pages/draw_page.py").run()
    assert not at.exception, at.exception
    at.session_state["canvas"] = canvas_state(digit_canvas(mnist.x_test[0]))
    at.run()
    assert not at.exception, at.exception
    assert any(metric.label == "模型识别为" for metric in at.metric)
    assert not english_words(at), english_words(at)

    at.switch_page("app_pages/compare_page.py").run()
    at.button(key="train_all").click().run()
    rerun_until(at, lambda at: any("相同随机种子" in markdown.value for markdown in at.markdown))
    assert any("完全相同" in markdown.value for markdown in at.markdown)
    assert not english_words(at), english_words(at)

    at.switch_page("app_pages/class_page.py").run()
    assert not at.exception, at.exception
    assert any(metric.label == "我们的数字" for metric in at.metric)
    assert not english_words(at), english_words(at)


def test_switching_the_language_keeps_the_network_and_settings(data_dir):
    at = app_test()
    at.selectbox(key="w_preset").set_value("small-cnn").run()
    at.number_input(key="w_seed").set_value(7).run()
    assert at.title[0].value == "Three ways to build a Keras model"
    at.segmented_control(key="w_lang").set_value("zh").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "构建 Keras 模型的三种方式"
    assert "layers.Conv2D(16, 3" in at.code[0].value and at.number_input(key="w_seed").value == 7
    assert at.query_params["lang"] == "zh" and at.query_params["seed"] == "7"
    at.segmented_control(key="w_lang").set_value("en").run()
    assert at.title[0].value == "Three ways to build a Keras model" and at.query_params["lang"] == "en"


def test_a_chinese_share_link_round_trip_opens_in_chinese_with_the_same_setup(data_dir):
    at = app({"way": "functional", "layers": "dense-64-tanh", "seed": "5"})
    assert at.title[0].value == "构建 Keras 模型的三种方式"
    link = dict(at.query_params.items())
    assert link["lang"] == "zh" and link["way"] == "functional"
    reopened = app_test(link)
    assert not reopened.exception, reopened.exception
    assert reopened.title[0].value == "构建 Keras 模型的三种方式"
    assert reopened.code[0].value == at.code[0].value
    assert dict(reopened.query_params.items()) == link


def test_an_unknown_language_falls_back_to_the_browser_default_with_a_warning(data_dir):
    at = app_test({"lang": "xx"})
    assert not at.exception, at.exception
    assert at.title[0].value == "Three ways to build a Keras model"  # no browser here: the source language
    assert any("could not be used" in warning.value for warning in at.warning)
    assert at.query_params["lang"] == "en"


def test_a_links_unusable_settings_are_named_in_chinese(data_dir):
    at = app({"layers": "dense-64-relu_dense-0-relu", "seed": "-3", "epochs": "7"})
    assert any("有些设置无法使用" in warning.value for warning in at.warning), [w.value for w in at.warning]
    [notes] = [element.proto.body for element in at.get("html") if "<li>" in element.proto.body]
    assert "<li>层（layers），第 2 层，单元数：应为 1 到 4096 之间的整数；收到的是 “0”。已改用参考网络。</li>" in notes
    assert "<li>随机种子（seed）：应为 0 到 2147483647 之间的整数；收到的是 “-3”。</li>" in notes
    assert at.number_input(key="w_seed").value == 42 and at.query_params["epochs"] == "7"  # the good part is used


def _refused_settings_page():
    """A page showing what the spec refuses, through the pages' own message helper."""
    import streamlit as st

    from app_pages import session
    from kerasways.spec import LayerSpec, ModelSpec

    st.session_state[session.LANG] = st.query_params.get("lang", "en")
    for make in (lambda: ModelSpec(seed=-1), lambda: ModelSpec(layers=(LayerSpec("flatten"), LayerSpec("conv2d")))):
        try:
            make()
        except ValueError as error:
            st.error(session.message(error))


@pytest.mark.parametrize(("lang", "shown"), [
    ("zh", ["随机种子：应为 0 到 2147483647 之间的整数；收到的是 -1",
            "第 2 层，类型：应为 图像展平之后只能接 Dense、Dropout 或 Flatten（Conv2D 需要图像输入，"
            "而前面的层已经把它变成了向量）；收到的是 'Conv2D'"]),
    ("en", ["Seed: expected a whole number from 0 to 2147483647; received -1",
            "layer 2, kind: expected Dense, Dropout or Flatten after the image has been flattened (Conv2D needs an "
            "image, and the layers before it made a vector); received 'Conv2D'"]),
])
def test_a_refused_setting_is_named_in_the_pages_language(lang, shown):
    at = AppTest.from_function(_refused_settings_page, default_timeout=APP_TIMEOUT_SECONDS)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    assert [box.value for box in at.error] == shown


def test_a_bad_collection_name_is_explained_in_chinese(data_dir):
    at = app({"collection": "../../etc"})
    at.switch_page("app_pages/class_page.py").run()
    [warning] = at.warning
    assert "班级数据集不可用" in warning.value and "1-32 个字母 a-z" in warning.value
    # The field's name and the value received stay as they were; the letters "a-z" are a range.
    as_typed = {"collection", "etc", "a", "z"}
    assert english_words(at) <= as_typed, english_words(at)
    at.switch_page("app_pages/train_page.py").run()
    assert english_words(at) <= as_typed, english_words(at)


def test_the_teacher_controls_and_an_import_in_chinese(data_dir, mnist, monkeypatch):
    from kerasways.collection import to_npz_bytes
    from kerasways.store import open_store

    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", "owl-42-at-dawn")
    fill_collection(data_dir, mnist, writers=1, per_writer=3, collection="7b")
    at = app({"collection": "7b"})
    at.switch_page("app_pages/class_page.py").run()
    unlock_teacher(at, "guess")
    assert any(box.value.startswith("该密钥未被接受") for box in at.error)
    time.sleep(1.1)  # the wait after one wrong guess
    unlock_teacher(at, "owl-42-at-dawn")
    exported = open_store(data_dir).arrays("7b")
    at.file_uploader(key="import_npz").set_value(("broken.npz", to_npz_bytes(exported)[:200], "")).run()
    at.button(key="import").click().run()
    assert any(box.value.startswith("没有导入任何内容：") for box in at.error)
    at.file_uploader(key="import_npz").set_value(("last-year.npz", to_npz_bytes(exported), "")).run()
    at.button(key="import").click().run()
    assert any("已将 3 个手写数字导入“7b”" in box.value for box in at.success)
    assert not english_words(at), english_words(at)


@pytest.mark.slow  # trains in the worker pool
def test_switching_to_chinese_while_training_keeps_the_training(data_dir):
    at = app_test({"epochs": "2", "digits": "1000"})
    at.switch_page("app_pages/train_page.py").run()
    at.button(key="start").click().run()
    assert at.button(key="start").disabled
    at.segmented_control(key="w_lang").set_value("zh").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "实时训练" and at.button(key="start").disabled  # the same run goes on
    rerun_until(at, lambda at: any(metric.label == "测试准确率" for metric in at.metric))
    assert any("训练了 2 轮" in success.value for success in at.success)
    assert not english_words(at), english_words(at)
