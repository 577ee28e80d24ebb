"""Languages: complete catalogues that match the code, compiled from the .po at first use, and
generated code whose comments change with the language while the code and its training do not."""

import functools
import io
import json
import re
import shutil
import tokenize
from pathlib import Path

import numpy as np
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from kerasways import i18n, training
from kerasways.build import build_model
from kerasways.codegen import model_source, notebook_json, script_source
from kerasways.data import load_mnist
from kerasways.formats import counted, duration, percent, seconds_text
from kerasways.share import from_query, link_language, to_query
from kerasways.spec import DRAWING_NETWORK, PRESETS, LayerSpec, ModelSpec, TrainConfig, supported_styles

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE_LANGUAGE]
BRACES = re.compile(r"\{[^{}]*\}")


def _catalogue(lang):
    with open(i18n.catalogue_path(lang), "rb") as file:
        return read_po(file, locale=lang)


def _entries(lang):
    return [message for message in _catalogue(lang) if message.id]


def _key(message):
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else message.id


@functools.cache
def _used_msgids():
    """Every msgid the code marks, extracted with Babel exactly as scripts/i18n does."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as file:
        method_map, options_map = parse_mapping_cfg(file)
    keywords = {**DEFAULT_KEYWORDS, "counted": (1, 2)}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        found.add(tuple(message) if isinstance(message, (list, tuple)) else message)
    return found


def test_languages_are_the_catalogues_in_the_locale_folder():
    folders = {path.parent.parent.name for path in (ROOT / "kerasways" / "locale").glob("*/LC_MESSAGES/kerasways.po")}
    assert set(i18n.LANGUAGES) == folders >= {"en", "zh"}
    assert i18n.LANGUAGES["zh"] == "中文" and i18n.LANGUAGES["en"] == "English"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_msgid_has_a_translation(lang):
    untranslated = [_key(message) for message in _entries(lang)
                    if message.fuzzy or not all(message.string if isinstance(message.string, tuple)
                                                else (message.string,))]
    assert untranslated == []


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_each_catalogue_holds_exactly_the_msgids_the_code_uses(lang):
    in_catalogue = {_key(message) for message in _entries(lang)}
    used = _used_msgids()
    assert sorted(used - in_catalogue, key=str) == [], "marked in the code but missing: run scripts/i18n update"
    assert sorted(in_catalogue - used, key=str) == [], "in the catalogue but used by no code"


def test_the_source_language_catalogue_translates_nothing():
    assert all(not any(message.string if isinstance(message.string, tuple) else (message.string,))
               for message in _entries(i18n.SOURCE_LANGUAGE))


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_every_placeholder(lang):
    """A lost or renamed {placeholder} would raise (KeyError) or print the wrong value at display time."""
    wrong = []
    for message in _entries(lang):
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if sorted(set(BRACES.findall(text))) != sorted(set(BRACES.findall(ids[-1]))):
                wrong.append((ids[0], text))
    assert wrong == []


def test_the_translator_compiles_its_catalogue_again_when_the_cache_is_gone(tmp_path, monkeypatch):
    monkeypatch.setenv(i18n.CACHE_ENV, str(tmp_path / "cache"))
    i18n.translator.cache_clear()
    try:
        assert i18n.translator("zh")("Sequential API") == "顺序 API"
        compiled = list((tmp_path / "cache").rglob("*.mo"))
        assert len(compiled) == 1
        shutil.rmtree(tmp_path / "cache")
        i18n.translator.cache_clear()
        assert i18n.translator("zh")("Functional API") == "函数式 API"
        assert list((tmp_path / "cache").rglob("*.mo"))  # built again from the .po
    finally:
        i18n.translator.cache_clear()


def test_a_new_language_is_a_new_catalogue_and_no_code(tmp_path, monkeypatch):
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "kerasways" / "locale", locale)
    french = locale / "fr" / "LC_MESSAGES"
    french.mkdir(parents=True)
    text = (locale / "en" / "LC_MESSAGES" / "kerasways.po").read_text(encoding="utf-8")
    text = text.replace('"Language: en\\n"', '"Language: fr\\n"').replace(
        'msgid "Sequential API"\nmsgstr ""', 'msgid "Sequential API"\nmsgstr "API séquentielle"')
    (french / "kerasways.po").write_text(text, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    monkeypatch.setattr(i18n, "LANGUAGES", i18n._discover())
    monkeypatch.setenv(i18n.CACHE_ENV, str(tmp_path / "cache"))
    i18n.translator.cache_clear()
    try:
        assert i18n.LANGUAGES["fr"] == "français"
        assert i18n.translator("fr")("Sequential API") == "API séquentielle"
        assert i18n.best_language("fr-CA,fr;q=0.9") == "fr"
        assert to_query(ModelSpec(), "sequential", TrainConfig(), "fr")["lang"] == "fr"
    finally:
        i18n.translator.cache_clear()


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("zh-TW", "zh"), ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    ("fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4", "zh"), ("de-DE", "en"), ("", "en"), (None, "en"),
    ("en;q=0.1, zh_CN;q=0.7", "zh"), ("zh;q=0, en;q=0.5", "en"), ("garbage;;q=x,,", "en")])
def test_the_browser_language_decides_the_default(header, lang):
    assert i18n.best_language(header) == lang


def test_unknown_languages_are_refused_with_the_usual_message():
    with pytest.raises(ValueError, match=r"lang: expected one of en, zh; received 'xx'") as raised:
        i18n.translator("xx")
    assert i18n.render(raised.value, "zh") == "语言：应为 en, zh 之一；收到的是 'xx'"
    with pytest.raises(ValueError, match="lang: expected"):
        model_source(ModelSpec(), "functional", lang="xx")


@pytest.mark.parametrize(("make", "code", "en", "zh"), [
    (lambda: ModelSpec(seed=-1), "seed: expected a whole number from 0 to 2147483647; received -1",
     "Seed: expected a whole number from 0 to 2147483647; received -1",
     "随机种子：应为 0 到 2147483647 之间的整数；收到的是 -1"),
    # The list of choices and the value received stay as they were.
    (lambda: ModelSpec(optimizer="nadam"), "optimizer: expected one of adam, sgd, rmsprop, adamw; received 'nadam'",
     "Optimizer: expected one of adam, sgd, rmsprop, adamw; received 'nadam'",
     "优化器：应为 adam, sgd, rmsprop, adamw 之一；收到的是 'nadam'"),
    (lambda: ModelSpec(layers=(LayerSpec("dense", units=64), LayerSpec("dense", units=0))),
     "layers[1].units: expected a whole number from 1 to 4096; received 0",
     "layer 2, units: expected a whole number from 1 to 4096; received 0",
     "第 2 层，单元数：应为 1 到 4096 之间的整数；收到的是 0"),
    (lambda: ModelSpec(layers=(LayerSpec("maxpool2d", kernel_size=4),) * 3),
     "layers[2].kernel_size: expected a pool no larger than the 1×1 image; received 4",
     "layer 3, kernel size: expected a pool no larger than the 1×1 image; received 4",
     "第 3 层，核大小：应为 不大于 1×1 图像的池化窗口；收到的是 4"),
    (lambda: TrainConfig(validation_split=0.9), "validation_split: expected a number in [0.0, 0.5]; received 0.9",
     "Validation split: expected a number in [0.0, 0.5]; received 0.9",
     "验证集比例：应为 区间 [0.0, 0.5] 内的数；收到的是 0.9"),
    (lambda: TrainConfig(train_size=50), "train_size: expected 0 (all digits) or at least 100 digits; received 50",
     "Training digits: expected 0 (all digits) or at least 100 digits; received 50",
     "训练数字数量：应为 0（全部数字）或至少 100 个数字；收到的是 50"),
])
def test_a_validation_message_names_the_setting_in_the_pages_language(make, code, en, zh):
    with pytest.raises(ValueError) as raised:
        make()
    assert str(raised.value) == code  # the spec's contract: the field as code names it
    assert i18n.render(raised.value, "en") == en
    assert i18n.render(raised.value, "zh") == zh


def test_share_link_notes_are_translated_and_what_arrived_is_kept():
    _spec, _style, _config, notes = from_query({"lr": "abc, “x”", "layers": "dense-0-relu", "lang": "fr"})
    translated = [i18n.render(note, "zh") for note in notes]
    assert translated == [
        "层（layers），第 1 层，单元数：应为 1 到 4096 之间的整数；收到的是 “0”。已改用参考网络。",
        "学习率（lr）：应为 1e-06 到 10 之间的数；收到的是 “abc, “x””。",
        "语言（lang）：应为 en, zh 之一；收到的是 “fr”。",
    ]


@pytest.mark.parametrize("lang", [None, "en", "zh"])
def test_the_share_link_carries_the_language(lang):
    spec, config = PRESETS["small-cnn"].spec, TrainConfig(epochs=3)
    query = to_query(spec, "functional", config, lang)
    assert ("lang" in query) == (lang is not None)
    assert from_query(query) == (spec, "functional", config, [])
    assert link_language(query) == lang


def test_an_unknown_link_language_falls_back_to_the_browser_with_a_note():
    query = {**to_query(ModelSpec(), "sequential", TrainConfig()), "lang": "<b>klingon</b>"}
    spec, style, config, notes = from_query(query)
    assert (spec, style, config) == (ModelSpec(), "sequential", TrainConfig())
    assert [str(note) for note in notes] == ["Language (lang): expected one of en, zh; received “<b>klingon</b>”."]
    assert link_language(query) is None  # the page then uses best_language(the browser's header)


def test_numbers_and_times_are_written_for_the_language():
    assert percent(0.928, "zh") == percent(0.928) == "92.80%"
    assert counted("{count} epoch", "{count} epochs", 1) == "1 epoch"
    assert counted("{count} step", "{count} steps", 5000) == "5,000 steps"
    assert counted("{count} step", "{count} steps", 5000, "zh") == "5,000 步"
    assert seconds_text(3.14159) == "3.1 s" and seconds_text(3.14159, "zh") == "3.1 秒"
    assert (duration(12.4), duration(185), duration(float("nan"))) == ("12 s", "3 min 5 s", "…")
    assert (duration(12.4, "zh"), duration(185, "zh")) == ("12 秒", "3 分 5 秒")


def _code_tokens(source):
    """The code's tokens without comments, docstrings and the strings given to print(): what must not
    change with the language."""
    tokens, kept, print_depth, depth = list(tokenize.generate_tokens(io.StringIO(source).readline)), [], None, 0
    for index, token in enumerate(tokens):
        if token.type in (tokenize.COMMENT, tokenize.NL):
            continue
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        if token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
            if print_depth is not None and depth < print_depth:
                print_depth = None
        if token.type == tokenize.NAME and token.string == "print":
            print_depth = depth + 1
        previous = next((t for t in reversed(tokens[:index]) if t.type not in (tokenize.NL, tokenize.COMMENT)), None)
        docstring = token.type == tokenize.STRING and (previous is None or previous.type in (
            tokenize.INDENT, tokenize.NEWLINE, tokenize.DEDENT))
        if token.type == tokenize.STRING and (docstring or print_depth is not None):
            kept.append("<text>")
            continue
        kept.append(token.string)
    return kept


CODE_SPECS = {**{preset.id: preset.spec for preset in PRESETS.values()}, "augmented MLP": ModelSpec(augment=True)}
CODE_CASES = [(name, style) for name, spec in CODE_SPECS.items() for style in supported_styles(spec)]


@pytest.mark.parametrize(("preset", "style"), CODE_CASES)
def test_only_comments_docstrings_and_printed_text_change_with_the_language(preset, style):
    spec = CODE_SPECS[preset]
    config = TrainConfig(epochs=2, train_size=1000)
    english, chinese = script_source(spec, style, config), script_source(spec, style, config, "zh")
    assert english != chinese
    assert {"sequential": "顺序 API", "functional": "函数式 API", "subclassing": "模型子类化"}[style] in chinese
    assert _code_tokens(english) == _code_tokens(chinese)
    assert _code_tokens(model_source(spec, style)) == _code_tokens(model_source(spec, style, "zh"))
    # Every comment and docstring is in Chinese: no English sentence is left.
    for line in chinese.splitlines():
        comment = line.split("#", 1)[1] if "#" in line and "print" not in line else ""
        assert not re.search(r"[a-z]{3,} [a-z]{3,} [a-z]{3,}", comment), line


def test_the_notebook_follows_the_language():
    english = notebook_json(DRAWING_NETWORK, "functional", TrainConfig())
    chinese = notebook_json(DRAWING_NETWORK, "functional", TrainConfig(), "zh")
    assert "函数式 API：MNIST 手写数字" in chinese and "Functional API: MNIST handwritten digits" in english
    english_cells, chinese_cells = json.loads(english)["cells"], json.loads(chinese)["cells"]
    assert [cell["cell_type"] for cell in english_cells] == [cell["cell_type"] for cell in chinese_cells]
    for english_cell, chinese_cell in zip(english_cells, chinese_cells):
        if english_cell["cell_type"] == "code":
            assert _code_tokens("".join(english_cell["source"])) == _code_tokens("".join(chinese_cell["source"]))
        else:
            assert english_cell["source"] != chinese_cell["source"]


@pytest.mark.slow
@pytest.mark.parametrize("style", ["sequential", "subclassing"])
def test_the_same_seed_trains_identically_in_both_languages(style, monkeypatch):
    data = load_mnist("bundled")
    spec = ModelSpec(layers=PRESETS["mlp-dropout"].spec.layers, seed=7)
    config = TrainConfig(epochs=1, batch_size=64, train_size=500)
    results = {}
    for lang in ("en", "zh"):
        # train() builds from the source as shown; here from the source in `lang`.
        monkeypatch.setattr(training, "build_model", functools.partial(build_model, lang=lang))
        results[lang] = training.train(spec, style, config, data)
    assert results["en"].history.batch_loss == results["zh"].history.batch_loss
    for english, chinese in zip(results["en"].model.get_weights(), results["zh"].model.get_weights()):
        assert np.array_equal(english, chinese)


def test_charts_are_drawn_in_the_language_and_cached_per_language():
    from kerasways import charts

    confusion = np.eye(10, dtype=int)
    english, chinese = charts.confusion_heatmap(confusion), charts.confusion_heatmap(confusion, "zh")
    assert english.spec["title"] == "Confusion matrix (test digits)"
    assert chinese.spec["title"] == "混淆矩阵（测试集）"
    assert charts.confusion_heatmap(confusion).spec == english.spec  # the English spec is not overwritten
    batches = charts.batch_frame([2.0, 1.0], [0.3, 0.6], 2, "functional")
    epochs = charts.epoch_frame([{"epoch": 1, "loss": 1.0, "accuracy": 0.6, "val_loss": 1.1, "val_accuracy": 0.5}])
    loss = charts.training_curves(batches, epochs, 3, "zh")[0].spec
    text = json.dumps(loss, ensure_ascii=False)
    assert loss["title"] == "损失（越低越好）" and "每轮" in text and "'验证集'" in text
    overlay = json.dumps(charts.overlay_curves(batches, "accuracy", 3, "zh").spec, ensure_ascii=False)
    assert "训练准确率（平滑后）" in overlay and "'函数式 API'" in overlay


def test_an_unwritable_cache_still_gives_a_translator(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv(i18n.CACHE_ENV, str(blocker))
    i18n.translator.cache_clear()
    try:
        assert i18n.translator("zh")("Model subclassing") == "模型子类化"
    finally:
        i18n.translator.cache_clear()
