"""Share links: round trips are exact, bad links open with defaults and say in plain words what was ignored."""

import re

import pytest

from kerasways import i18n
from kerasways.codegen import model_source
from kerasways.formats import plain_text
from kerasways.messages import InvalidValue
from kerasways.share import QUOTE_LIMIT, from_query, to_query
from kerasways.spec import (
    BATCH_SIZE_RANGE,
    EPOCHS_RANGE,
    LEARNING_RATE_RANGE,
    MAX_SEED,
    MIN_TRAIN_SIZE,
    PRESETS,
    SEED_RANGE,
    TRAIN_SIZE_RANGE,
    VALIDATION_SPLIT_RANGE,
    ModelSpec,
    TrainConfig,
    supported_styles,
)

CONFIGS = [TrainConfig(), TrainConfig(epochs=12, batch_size=128, train_size=3000, validation_split=0.25)]


@pytest.mark.parametrize("preset", list(PRESETS))
def test_spec_to_url_to_spec_is_identity(preset):
    for style in supported_styles(PRESETS[preset].spec):
        for config in CONFIGS:
            spec = PRESETS[preset].spec.replace(seed=7, optimizer="rmsprop", learning_rate=0.0025)
            assert from_query(to_query(spec, style, config)) == (spec, style, config, [])


RAW_PYTHON = ("could not convert", "invalid literal", "base 10", "Traceback", "ValueError", "\\'", "None")


def quoted_values(note: str) -> list[str]:
    return re.findall(r"“([^”]*)”", note)


def english(notes) -> list[str]:
    """The notes as an English page shows them."""
    return [i18n.render(note, "en") for note in notes]


@pytest.mark.parametrize(
    ("params", "note"),
    [
        ({"lr": "abc"}, "Learning rate (lr): expected a number from 1e-06 to 10; received “abc”."),
        ({"lr": "1e9"}, "Learning rate (lr): expected a number from 1e-06 to 10; received “1e9”."),
        ({"lr": "NaN"}, "Learning rate (lr): expected a number from 1e-06 to 10; received “NaN”."),
        ({"lr": "-3"}, "Learning rate (lr): expected a number from 1e-06 to 10; received “-3”."),
        ({"seed": "1e9"}, f"Seed (seed): expected a whole number from 0 to {MAX_SEED}; received “1e9”."),
        ({"seed": "-3"}, f"Seed (seed): expected a whole number from 0 to {MAX_SEED}; received “-3”."),
        ({"epochs": "abc"}, "Epochs (epochs): expected a whole number from 1 to 100; received “abc”."),
        ({"epochs": "-3"}, "Epochs (epochs): expected a whole number from 1 to 100; received “-3”."),
        ({"epochs": "2.5"}, "Epochs (epochs): expected a whole number from 1 to 100; received “2.5”."),
        ({"batch": "NaN"}, "Batch size (batch): expected a whole number from 1 to 4096; received “NaN”."),
        ({"digits": "1e9"}, "Training digits (digits): expected 0 (all digits) or a whole number from 100 to "
                            "60000; received “1e9”."),
        ({"digits": "50"}, "Training digits (digits): expected 0 (all digits) or a whole number from 100 to "
                           "60000; received “50”."),
        ({"val": "NaN"}, "Validation split (val): expected a number from 0 to 0.5; received “NaN”."),
        ({"val": "-3"}, "Validation split (val): expected a number from 0 to 0.5; received “-3”."),
        ({"opt": "<script>"}, "Optimizer (opt): expected one of adam, sgd, rmsprop, adamw; received “<script>”."),
        ({"skip": "maybe"}, "Skip connection (skip): expected 0 (none) or 1 (the input also reaches the output); "
                            "received “maybe”."),
        ({"way": "keras.Sequential()"}, "Way (way): expected one of sequential, functional, subclassing; "
                                        "received “keras.Sequential()”."),
        ({"layers": "dense-0-relu"}, "Layers (layers), layer 1, units: expected a whole number from 1 to 4096; "
                                     "received “0”. The reference network is used."),
        ({"layers": "dense-128"}, "Layers (layers), layer 1: expected dense-units-activation; received “dense-128”. "
                                  "The reference network is used."),
        ({"layers": "dense-abc-relu"}, "Layers (layers), layer 1, units: expected a whole number; received “abc”. "
                                       "The reference network is used."),
        ({"layers": "dense-64-relu_dropout-NaN"}, "Layers (layers), layer 2, rate: expected a number; received "
                                                  "“NaN”. The reference network is used."),
        ({"layers": "dropout-0.95"}, "Layers (layers), layer 1, rate: expected a number from 0 to 0.9; "
                                     "received “0.95”. The reference network is used."),
        ({"layers": "dense-64-<script>"}, "Layers (layers), layer 1, activation: expected one of relu, sigmoid, "
                                          "tanh, elu, gelu, linear; received “<script>”. The reference network is "
                                          "used."),
        ({"layers": "conv2d-16-9-relu"}, "Layers (layers), layer 1, kernel size: expected a whole number from 1 to "
                                         "7; received “9”. The reference network is used."),
        ({"layers": "_".join(["dense-8-relu"] * 13)}, "Layers (layers): expected at most 12 hidden layers; "
                                                      "received “13”. The reference network is used."),
        ({"token": "x"}, "Unknown link parameters ignored: “token”."),
    ],
)
def test_a_bad_field_falls_back_to_its_default_and_says_what_was_expected_in_plain_words(params, note):
    spec, style, config, notes = from_query({"epochs": "7", **params} if "epochs" not in params else params)
    assert english(notes) == [note] and [str(note) for note in notes] == [note]
    assert (spec.replace(seed=42), style) == (ModelSpec(), "sequential")  # each bad field: its default
    if "epochs" not in params:
        assert config.epochs == 7  # the good fields of the link are still used


def test_a_learning_rate_out_of_range_in_a_link_never_reaches_the_network():
    spec, style, _, notes = from_query({"opt": "sgd", "lr": "50"})
    assert [str(note) for note in notes] == ["Learning rate (lr): expected a number from 1e-06 to 10; received “50”."]
    assert (spec.optimizer, spec.learning_rate) == ("sgd", ModelSpec().learning_rate)  # the default rate instead
    assert f"keras.optimizers.SGD(learning_rate={ModelSpec().learning_rate:g})" in model_source(spec, style)


def test_the_ranges_in_the_notes_are_the_ones_the_spec_enforces():
    for key, (low, high), number in (("seed", SEED_RANGE, "{}"), ("epochs", EPOCHS_RANGE, "{}"),
                                     ("batch", BATCH_SIZE_RANGE, "{}"), ("lr", LEARNING_RATE_RANGE, "{:g}"),
                                     ("val", VALIDATION_SPLIT_RANGE, "{:g}")):
        note = str(from_query({key: "x"})[3][0])
        assert f"from {number.format(low)} to {number.format(high)};" in note
        # Both ends are accepted, one step beyond is not.
        assert from_query({key: str(low)})[3] == [] and from_query({key: str(high)})[3] == []
        beyond = high + 1 if isinstance(high, int) else high * 1.5
        assert from_query({key: str(beyond)})[3] != []
    assert from_query({"digits": "0"})[3] == [] and from_query({"digits": str(MIN_TRAIN_SIZE)})[3] == []
    assert from_query({"digits": str(MIN_TRAIN_SIZE - 1)})[3] != []
    assert from_query({"digits": str(TRAIN_SIZE_RANGE[1] + 1)})[3] != []


HOSTILE = [
    "[Log in](https://evil.example/login)",
    "<script>alert('x')</script>",
    "**bold** `code` # heading",
    "line one\nline two\r\n\tthree",
    "right\u202eto left",
    "9" * 5000,
    "é" * 300,
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_link_text_in_a_note_is_one_short_line_quoted_as_it_arrived(value):
    keys = ["way", "layers", "skip", "opt", "lr", "seed", "epochs", "batch", "digits", "val"]
    unknown_key = value[:60] or "blank"
    _, _, _, notes = from_query({**{key: value for key in keys}, unknown_key: "1"})
    notes = english(notes)
    empty_layers_is_a_network = value == ""  # no hidden layers: the input goes straight to the output
    assert len(notes) == len(keys) + 1 - empty_layers_is_a_network  # every bad field, and the unknown key
    for note in notes:
        assert "\n" not in note and "\r" not in note and "\t" not in note and "\u202e" not in note
        assert not any(raw in note for raw in RAW_PYTHON), note
        assert len(note) < 260, note
        for shown in quoted_values(note):
            assert len(shown) <= QUOTE_LIMIT
            assert shown in (plain_text(value, QUOTE_LIMIT), plain_text(unknown_key, QUOTE_LIMIT)) or "layers" in note
    way_note = notes[1]
    assert way_note.startswith("Way (way): expected one of")
    if len(value) <= QUOTE_LIMIT and value.isprintable():
        assert f"“{value}”" in way_note  # short text is shown exactly as it arrived, markup and all


def test_plain_text_shortens_to_one_line_with_an_ellipsis():
    assert plain_text("abc", 40) == "abc"
    assert plain_text("x" * 41, 40) == "x" * 39 + "…" and len(plain_text("y" * 1000, 40)) == 40
    assert plain_text("a\n\n b\tc\u200b\u202ed", 40) == "a b c d"
    assert plain_text(12.5, 40) == "12.5"
    with pytest.raises(ValueError, match="limit: expected at least 2"):
        plain_text("abc", 1)


def test_many_unknown_keys_are_counted_not_all_listed():
    _, _, _, notes = from_query({f"key{index}": "1" for index in range(30)})
    assert english(notes) == ["Unknown link parameters ignored: “key0”, “key1”, “key10”, “key11”, “key12” and 25 more."]
    assert i18n.render(notes[0], "zh") == (
        "已忽略未知的链接参数：“key0”, “key1”, “key10”, “key11”, “key12” 以及另外 25 个。")


def test_a_skip_link_with_the_sequential_way_opens_the_functional_way():
    query = to_query(PRESETS["mlp-skip"].spec, "functional", TrainConfig())
    spec, style, _, notes = from_query({**query, "way": "sequential"})
    assert spec.topology == "skip" and style == "functional"
    assert english(notes) == ["Way (way): the Sequential API cannot express a skip connection, so the Functional API "
                              "is shown."]
    assert i18n.render(notes[0], "zh") == "方式（way）：顺序 API 无法表达跳跃连接，因此显示函数式 API。"


@pytest.mark.parametrize(("params", "en", "zh"), [
    ({"layers": "dense-64-relu_dense-0-relu"},
     "Layers (layers), layer 2, units: expected a whole number from 1 to 4096; received “0”. The reference network is "
     "used.",
     "层（layers），第 2 层，单元数：应为 1 到 4096 之间的整数；收到的是 “0”。已改用参考网络。"),
    ({"layers": "dense-64-relu_conv2d-8-0-relu"},
     "Layers (layers), layer 2, kernel size: expected a whole number from 1 to 7; received “0”. The reference network "
     "is used.",
     "层（layers），第 2 层，核大小：应为 1 到 7 之间的整数；收到的是 “0”。已改用参考网络。"),
    ({"layers": "flatten_conv2d-8-3-relu"},
     "Layers (layers), layer 2, kind: expected Dense, Dropout or Flatten after the image has been flattened (Conv2D "
     "needs an image, and the layers before it made a vector); received “Conv2D”. The reference network is used.",
     "层（layers），第 2 层，类型：应为 图像展平之后只能接 Dense、Dropout 或 Flatten（Conv2D 需要图像输入，"
     "而前面的层已经把它变成了向量）；收到的是 “Conv2D”。已改用参考网络。"),
    ({"aug": "0.5_0.1_0.1_0.05"},
     "Augmentation (aug), Rotation: expected a number from 0 to 0.25; received “0.5”.",
     "数据增强（aug），旋转：应为 0 到 0.25 之间的数；收到的是 “0.5”。"),
    ({"seed": "-3"}, f"Seed (seed): expected a whole number from 0 to {MAX_SEED}; received “-3”.",
     f"随机种子（seed）：应为 0 到 {MAX_SEED} 之间的整数；收到的是 “-3”。"),
])
def test_a_note_names_the_setting_and_the_layers_field_in_words_in_each_language(params, en, zh):
    notes = from_query(params)[3]
    assert [i18n.render(note, "en") for note in notes] == [en]
    assert [i18n.render(note, "zh") for note in notes] == [zh]


def test_a_note_is_built_from_the_errors_parts_not_read_back_from_its_text(monkeypatch):
    """Were the note parsed out of the error's English text, a different text would change or break it."""
    monkeypatch.setattr(InvalidValue, "__str__", lambda error: "text that says nothing: expected; received")
    notes = from_query({"layers": "dense-64-relu_dropout-0.95", "aug": "0.1_0.1_0.1_0.9"})[3]
    assert english(notes) == [
        "Layers (layers), layer 2, rate: expected a number from 0 to 0.9; received “0.95”. The reference network is "
        "used.",
        "Augmentation (aug), Shift: expected a number from 0 to 0.3; received “0.9”."]
    assert [i18n.render(note, "zh") for note in notes] == [
        "层（layers），第 2 层，比例：应为 0 到 0.9 之间的数；收到的是 “0.95”。已改用参考网络。",
        "数据增强（aug），平移：应为 0 到 0.3 之间的数；收到的是 “0.9”。"]
