"""Share links: round trips are exact, bad links open with defaults and say in plain words what was ignored."""

import math
import re

import numpy as np
import pytest

from kerasways import i18n
from kerasways.build import build_model
from kerasways.codegen import model_source, script_source
from kerasways.formats import plain_text
from kerasways.messages import InvalidValue
from kerasways.share import QUOTE_LIMIT, from_query, to_query
from kerasways.spec import (
    AUGMENTATION_RANGES,
    BATCH_SIZE_RANGE,
    DROPOUT_RATE_RANGE,
    EPOCHS_RANGE,
    LEARNING_RATE_RANGE,
    MAX_SEED,
    MIN_TRAIN_SIZE,
    PRESETS,
    SEED_RANGE,
    TRAIN_SIZE_RANGE,
    VALIDATION_SPLIT_RANGE,
    LayerSpec,
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


# ---------------------------------------------------------------------------- numbers in a link

NOT_PLAIN_NUMBERS = ["1_0", "١e-3", "٠.٥", "１", "0.1 ", " 0.1", "inf", "-inf", "nan", "0x10", "1e", ".", "--1", "+-1",
                     "1.2.3", "1e1.5", "½", "0,5", "1e-3e1", "١٠"]


@pytest.mark.parametrize("text", NOT_PLAIN_NUMBERS)
def test_a_number_that_is_not_a_plain_ascii_decimal_is_refused_with_a_note_and_the_default(text):
    defaults = (ModelSpec(), "sequential", TrainConfig())
    for key in ("lr", "val", "seed", "epochs", "batch", "digits"):
        spec, style, config, notes = from_query({key: text})
        assert (spec, style, config) == defaults, (key, text)
        assert len(notes) == 1 and str(notes[0]).startswith(f"{notes[0].values['setting']} ({key}): expected "), key
    spec, _, _, notes = from_query({"aug": f"0.03_{text}_0.1_0.05"})
    assert not spec.augment and english(notes)[0].startswith("Augmentation (aug): expected 0 (off), 1 (on)")
    spec, _, _, notes = from_query({"layers": f"dense-64-relu_dropout-{text}"})
    assert spec.layers == ModelSpec().layers and "The reference network is used." in english(notes)[0]


@pytest.mark.parametrize("text", ["١٢٨", "１２８", "12 8", "128.0", "1e2", "+"])
def test_a_layer_size_must_be_plain_ascii_digits(text):
    spec, _, _, notes = from_query({"layers": f"dense-{text}-relu"})
    assert spec.layers == ModelSpec().layers
    assert english(notes) == [f"Layers (layers), layer 1, units: expected a whole number; received “{text}”. The "
                              "reference network is used."]


def test_the_reported_bugs_no_longer_open_what_they_used_to():
    assert from_query({"lr": "1_0"})[0].learning_rate == ModelSpec().learning_rate  # not 10.0
    assert from_query({"lr": "١e-3", "opt": "sgd"})[0].learning_rate == ModelSpec().learning_rate  # not 0.001
    spec, style, config, _ = from_query({"val": "-0"})
    assert "validation_split=0.0)" in script_source(spec, style, config)
    assert to_query(spec, style, config)["val"] == "0.0"
    spec, style, config, _ = from_query({"aug": "0_0_0_0"})
    assert spec.augment is False and "Random" not in script_source(spec, style, config)


# Forms links were written in, or typed in, that opened a set-up before: each still opens that set-up.
OLD_VALID_LINKS = [
    ({"lr": "0.001"}, "learning_rate", 0.001), ({"lr": "1e-3"}, "learning_rate", 0.001),
    ({"lr": "1E-3"}, "learning_rate", 0.001), ({"lr": ".001"}, "learning_rate", 0.001),
    ({"lr": "0.0010"}, "learning_rate", 0.001), ({"lr": "+0.05"}, "learning_rate", 0.05),
    ({"lr": "1e-06"}, "learning_rate", 1e-6), ({"lr": "10"}, "learning_rate", 10.0),
    ({"lr": "10.0"}, "learning_rate", 10.0), ({"lr": "10."}, "learning_rate", 10.0),
    ({"lr": "0.0025"}, "learning_rate", 0.0025), ({"lr": "2.5e-3"}, "learning_rate", 0.0025),
    ({"val": "0"}, "validation_split", 0.0), ({"val": "0.0"}, "validation_split", 0.0),
    ({"val": "0.25"}, "validation_split", 0.25), ({"val": ".25"}, "validation_split", 0.25),
    ({"val": "25e-2"}, "validation_split", 0.25), ({"val": "0.5"}, "validation_split", 0.5),
    ({"seed": "7"}, "seed", 7), ({"seed": "007"}, "seed", 7), ({"seed": "0"}, "seed", 0),
    ({"seed": str(MAX_SEED)}, "seed", MAX_SEED), ({"epochs": "12"}, "epochs", 12),
    ({"batch": "128"}, "batch_size", 128),
    ({"digits": "0"}, "train_size", 0), ({"digits": "3000"}, "train_size", 3000),
]


@pytest.mark.parametrize(("params", "field", "value"), OLD_VALID_LINKS)
def test_every_plain_number_that_opened_a_setup_before_opens_the_same_one(params, field, value):
    spec, _, config, notes = from_query(params)
    assert notes == []
    opened = getattr(spec if hasattr(spec, field) else config, field)
    assert opened == value and type(opened) is type(value)


@pytest.mark.parametrize(("text", "layers"), [
    ("dense-128-relu_dropout-0.2", (LayerSpec("dense", 128, "relu"), LayerSpec("dropout", rate=0.2))),
    ("dropout-0.25_dense-64-tanh", (LayerSpec("dropout", rate=0.25), LayerSpec("dense", 64, "tanh"))),
    ("dropout-.25", (LayerSpec("dropout", rate=0.25),)), ("dropout-0", (LayerSpec("dropout", rate=0.0),)),
    ("dropout-0.0", (LayerSpec("dropout", rate=0.0),)), ("dropout-25e-2", None),
    ("conv2d-16-3-relu_maxpool2d-2_flatten", (LayerSpec("conv2d", 16, "relu", kernel_size=3),
                                              LayerSpec("maxpool2d", kernel_size=2), LayerSpec("flatten"))),
])
def test_layer_links_of_plain_numbers_open_as_before(text, layers):
    spec, _, _, notes = from_query({"layers": text})
    if layers is None:  # an exponent's "-" separates a layer's fields: never written, refused as before
        assert english(notes) == ["Layers (layers), layer 1: expected dropout-rate; received “dropout-25e-2”. The "
                                  "reference network is used."]
        return
    assert notes == [] and spec.layers == layers


@pytest.mark.parametrize(("text", "strengths"), [
    ("1", {"augment_rotation": 0.03, "augment_slant": 0.2, "augment_zoom": 0.1, "augment_shift": 0.05}),
    ("0.03_0.1_0.1_0.05", {"augment_rotation": 0.03, "augment_slant": 0.1, "augment_zoom": 0.1, "augment_shift": 0.05}),
    ("0.1_0.1_0.1_0.0", {"augment_rotation": 0.1, "augment_slant": 0.1, "augment_zoom": 0.1, "augment_shift": 0.0}),
    ("0_0.5_0_0", {"augment_rotation": 0.0, "augment_slant": 0.5, "augment_zoom": 0.0, "augment_shift": 0.0}),
    ("0.25_1.0_0.5_0.3", {"augment_rotation": 0.25, "augment_slant": 1.0, "augment_zoom": 0.5, "augment_shift": 0.3}),
])
def test_augmentation_links_of_plain_numbers_open_as_before(text, strengths):
    spec, _, _, notes = from_query({"aug": text})
    assert notes == [] and spec.augment is True
    assert dict(spec.augmentation) == strengths


@pytest.mark.parametrize("params", [{"val": "-0"}, {"val": "-0.0"}, {"val": "-.0e5"}, {"seed": "-0"},
                                    {"aug": "-0_0.1_-0.0_0"}])
def test_minus_zero_is_read_as_zero(params):
    spec, style, config, notes = from_query(params)
    assert notes == []
    numbers = [config.validation_split, spec.seed, *dict(spec.augmentation).values()]
    assert all(math.copysign(1, number) == 1 for number in numbers)  # no -0.0 anywhere
    script = script_source(spec, style, config)
    assert "-0" not in script and all("-0" not in text for text in to_query(spec, style, config).values())


@pytest.mark.parametrize("text", ["0_0_0_0", "0.0_0.0_0.0_0.0", "-0_0_0e3_.0"])
def test_all_zero_augmentation_strengths_mean_augmentation_off(text):
    spec, style, config, notes = from_query({"aug": text})
    assert notes == [] and spec == ModelSpec()  # off, as "aug=0" opens
    assert to_query(spec, style, config)["aug"] == "0"
    assert "Random" not in script_source(spec, style, config)
    # The same network made on the page (augmentation ticked, every strength 0) is written as off.
    zeros = ModelSpec().replace(augment=True, **{name: 0.0 for name in AUGMENTATION_RANGES})
    assert to_query(zeros, style, config)["aug"] == "0"


def unusual_specs(count: int):
    """Sets-up with numbers the `:g` format used to round: every digit matters, tiny ones included."""
    rng = np.random.default_rng(20)

    def anywhere(low: float, high: float) -> float:
        # Uniform, or spread over the orders of magnitude down to the smallest floats.
        value = rng.uniform(low, high) if rng.random() < 0.5 else high * 10.0 ** rng.uniform(-320, 0)
        return float(min(max(value, low), high))

    for _ in range(count):
        strengths = {name: anywhere(*AUGMENTATION_RANGES[name]) for name in AUGMENTATION_RANGES}
        dropout = LayerSpec("dropout", rate=anywhere(*DROPOUT_RATE_RANGE))
        spec = ModelSpec(layers=(LayerSpec("dense", 32, "relu"), dropout),
                         learning_rate=anywhere(*LEARNING_RATE_RANGE), augment=True, **strengths)
        yield spec, TrainConfig(validation_split=anywhere(*VALIDATION_SPLIT_RANGE))


def test_link_spec_and_code_carry_the_same_numbers_and_a_round_trip_is_stable():
    fixed = ModelSpec(layers=(LayerSpec("dropout", rate=1e-5), LayerSpec("dense", 8, "relu")),
                      learning_rate=0.0012345678901, augment=True, augment_rotation=0.123456789,
                      augment_slant=1 / 3, augment_zoom=5e-324,
                      augment_shift=0.3)
    cases = [(fixed, TrainConfig(validation_split=0.123456789)), *unusual_specs(300)]
    for spec, config in cases:
        link = to_query(spec, "functional", config)
        assert from_query(link) == (spec, "functional", config, [])
        assert to_query(*from_query(link)[:3]) == link  # link → spec → link
        script = script_source(spec, "functional", config)
        rate = next(part for part in link["layers"].split("_") if part.startswith("dropout-")).removeprefix("dropout-")
        rotation, slant, zoom, shift = link["aug"].split("_")
        assert f"validation_split={link['val']})" in script
        assert f"learning_rate={link['lr']})" in script or spec.uses_default_learning_rate
        assert f"layers.Dropout({rate})" in script
        assert f"layers.RandomRotation({rotation}, " in script
        assert f"layers.RandomShear(x_factor=(0.0, {slant}), " in script
        assert f"layers.RandomZoom(height_factor={zoom}, width_factor={zoom}, " in script
        assert f"layers.RandomTranslation(height_factor={shift}, width_factor={shift}, " in script
        assert not any("e" in number for number in (rate, link["lr"], link["val"], rotation, slant, zoom, shift))


def test_the_network_that_runs_is_built_with_the_numbers_of_the_link():
    link = {"layers": "dense-16-relu_dropout-0.123456789", "lr": "0.0012345678901", "opt": "sgd",
            "aug": "0.123456789_0.3333333333333333_0.0123456789_0.0987654321"}
    spec, style, _, notes = from_query(link)
    assert notes == []
    model = build_model(spec, style)
    configs = {layer.__class__.__name__: layer.get_config() for layer in model.layers}

    def strength(value) -> float:  # Keras keeps a factor f as (-f, f), a range (0, f) as it is
        return value[1] if isinstance(value, (tuple, list)) else value

    assert configs["Dropout"]["rate"] == 0.123456789  # the code used to round it to 0.123457
    assert strength(configs["RandomRotation"]["factor"]) == 0.123456789
    assert strength(configs["RandomShear"]["x_factor"]) == 0.3333333333333333
    assert strength(configs["RandomZoom"]["height_factor"]) == 0.0123456789
    assert strength(configs["RandomTranslation"]["width_factor"]) == 0.0987654321
    assert float(model.optimizer.learning_rate) == float(np.float32(0.0012345678901))  # Keras keeps float32


def test_a_rate_only_close_to_the_default_is_written_out_not_replaced_by_it():
    spec = from_query({"lr": "0.0010000000000001"})[0]
    assert spec.learning_rate != 0.001 and not spec.uses_default_learning_rate
    assert "keras.optimizers.Adam(learning_rate=0.0010000000000001)" in model_source(spec, "sequential")
    assert 'optimizer="adam"' in model_source(from_query({"lr": "1e-3"})[0], "sequential")


def test_a_user_opening_a_link_with_unplain_numbers_sees_what_was_ignored_and_the_defaults():
    from tests.support import app_test

    at = app_test({"lr": "1_0", "opt": "sgd", "val": "-0", "aug": "0_0_0_0", "seed": "١٢", "epochs": "4"})
    assert "could not be used" in at.warning[0].value
    notes = next(element.proto.body for element in at.get("html") if "<li>" in element.proto.body)
    assert "Learning rate (lr): expected a number from 1e-06 to 10; received “1_0”" in notes
    assert f"Seed (seed): expected a whole number from 0 to {MAX_SEED}; received “١٢”" in notes
    assert "val" not in notes and "aug" not in notes  # -0 and all-zero strengths are plain values: no note
    # The field's default (as a link without "lr" opens), not 10.0; the seed's default, not 12.
    assert at.number_input(key="w_learning_rate").value == ModelSpec().learning_rate == 0.001
    assert at.number_input(key="w_seed").value == 42
    code = at.code[0].value
    assert "keras.optimizers.SGD(learning_rate=0.001)" in code and "keras.utils.set_random_seed(42)" in code
    assert "Random" not in code and not at.checkbox(key="w_augment").value
    assert (at.query_params["lr"], at.query_params["val"], at.query_params["aug"], at.query_params["epochs"]) == (
        "0.001", "0.0", "0", "4")
