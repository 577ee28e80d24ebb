"""Share links: the way, the network, the training settings and the seed as URL query parameters.

A link is read field by field: whatever is malformed or out of range falls back to the
default and is listed in plain words (the setting, what was expected, what arrived), so a
hand-edited link still opens and says what it could not use.

Example: ?way=functional&layers=dense-128-relu_dropout-0.2&opt=adam&lr=0.001&seed=42&epochs=5&lang=zh

Every number in a link is a plain ASCII decimal (`_number`): digits, an optional leading sign, one
optional point and an optional exponent ("0.001", "1e-3", "-0"); "-0" reads as 0. A link writes each
number as the generated code does (`formats.exact_number`), so the code shows the number the link
names and the network is built with it.

The notes are Messages (templates marked for translation with i18n.N_, and their values); a page
shows them with `i18n.render(note, lang)`, `str(note)` is the English text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kerasways import i18n
from kerasways.formats import exact_number, plain_text
from kerasways.i18n import N_
from kerasways.messages import InvalidValue, Message, verbatim
from kerasways.spec import (
    AUGMENTATION_RANGES,
    BATCH_SIZE_RANGE,
    DEFAULT_AUGMENTATION,
    EPOCHS_RANGE,
    LEARNING_RATE_RANGE,
    MIN_TRAIN_SIZE,
    NUMBER_IN,
    OPTIMIZERS,
    SEED_RANGE,
    STYLE_TITLES,
    STYLES,
    TRAIN_SIZE_RANGE,
    USED_FIELDS,
    VALIDATION_SPLIT_RANGE,
    LayerSpec,
    ModelSpec,
    TrainConfig,
    layer_field,
    supported_styles,
)

LAYER_SEPARATOR = "_"
FIELD_SEPARATOR = "-"
# What "aug=1" opens: the default strengths when links first carried augmentation. The defaults
# changed since (less slant); links handed out before still open what they opened then, and
# other strengths, today's defaults included, are written out in full.
AUGMENTATION_ON_IN_LINKS = {"augment_rotation": 0.03, "augment_slant": 0.2, "augment_zoom": 0.1, "augment_shift": 0.05}
# "collection" (the class's drawings) is read by the pages (app_pages/session.py), not here.
KNOWN_KEYS = ("way", "layers", "skip", "opt", "lr", "seed", "epochs", "batch", "digits", "val", "aug", "lang",
              "collection")
LANG_KEY = "lang"
# Every note is "{setting} ({key}): expected {expected}; received {received}." or built like it.
NOTE = N_("{setting} ({key}): expected {expected}; received {received}.")
NOTE_IN_WORDS = N_("{setting}: expected {expected}; received {received}.")
# A spec error's field in words (its title), under the setting's: "Layers (layers), layer 2, units".
SETTING_TITLE = N_("{setting} ({key})")
FIELD_PARTS = N_("{setting} ({key}), {part}")
QUOTE_LIMIT = 40  # characters of a link's value quoted in a note, the ellipsis included
MAX_UNKNOWN_LISTED = 5
MAX_DIGITS = 30  # longer whole "numbers" are not numbers a user meant (and int() refuses past 4,300 digits)
# A decimal may be longer: a link writes every float without an exponent, and the smallest ones (down
# to 5e-324, 326 characters) must read back as they were written.
MAX_DECIMAL_CHARACTERS = 400
# What int() and float() accept beyond these ("1_0", " 7", digits of other scripts, "inf", "nan") is
# not a plain number: a link that says "1_0" must not open 10.
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
DECIMAL_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _layer_text(layer: LayerSpec) -> str:
    values = [exact_number(getattr(layer, name)) if name == "rate" else str(getattr(layer, name))
              for name in USED_FIELDS[layer.kind]]
    return FIELD_SEPARATOR.join([layer.kind, *values])


def _parse_layer(text: str, index: int) -> LayerSpec:
    """One layer from its link text, e.g. "dense-128-relu".

    Raises:
        InvalidValue: naming the layer's field, as the spec's own validation does.
    """
    kind, *values = text.split(FIELD_SEPARATOR)
    if kind not in USED_FIELDS:
        raise layer_field(index, "kind").invalid(_one_of(USED_FIELDS), kind)
    names = USED_FIELDS[kind]
    if len(values) != len(names):
        raise layer_field(index).invalid(verbatim(FIELD_SEPARATOR.join([kind, *names])), text)
    fields: dict[str, object] = {}
    for name, value in zip(names, values):
        read = {"activation": str, "rate": _decimal}.get(name, _whole)
        try:
            fields[name] = read(value)
        except ValueError:
            expected = N_("a number") if name == "rate" else N_("a whole number")
            raise layer_field(index, name).invalid(Message(expected), value) from None
    layer = LayerSpec(kind=kind, **fields)
    layer.validate(index)
    return layer


def _number(text: str, *, whole: bool) -> int | float:
    """A number from a link: the one place link text becomes a number.

    Args:
        text: the link's text, e.g. "128", "0.001", "1e-3", "-0".
        whole: True for a whole number (digits and a sign only), False for a decimal.

    Returns:
        The int, or the finite float ("-0" and "-0.0" read as 0).

    Raises:
        ValueError: when the text is not a plain ASCII number of that kind.
    """
    pattern, limit = (WHOLE_NUMBER, MAX_DIGITS) if whole else (DECIMAL_NUMBER, MAX_DECIMAL_CHARACTERS)
    if len(text) > limit or not pattern.fullmatch(text):
        raise ValueError(text)
    if whole:
        return int(text)
    value = float(text) + 0.0  # -0.0 + 0.0 is 0.0
    if not math.isfinite(value):  # "1e999"
        raise ValueError(text)
    return value


def _whole(text: str) -> int:
    return _number(text, whole=True)


def _decimal(text: str) -> float:
    return _number(text, whole=False)


def to_query(spec: ModelSpec, style: str, config: TrainConfig, lang: str | None = None) -> dict[str, str]:
    """Query parameters that reopen exactly this set-up.

    Args:
        spec, style, config: the current choices.
        lang: the language the link opens in (one of i18n.LANGUAGES), or None to leave it to
            the browser of whoever opens it.

    Returns:
        A dict of short keys to strings, for `st.query_params`.
    """
    language = {}
    if lang is not None:
        language = {LANG_KEY: i18n.check_language(lang)}
    return {
        "way": style,
        "layers": LAYER_SEPARATOR.join(_layer_text(layer) for layer in spec.layers),
        "skip": "1" if spec.topology == "skip" else "0",
        "opt": spec.optimizer,
        "lr": exact_number(spec.learning_rate),
        "seed": str(spec.seed),
        "epochs": str(config.epochs),
        "batch": str(config.batch_size),
        "digits": str(config.train_size),
        "val": exact_number(config.validation_split),
        "aug": _augmentation_text(spec),
        **language,
    }


@dataclass(frozen=True)
class _Setting:
    """One scalar link parameter: its key, its name in words, where it goes, and how it is read."""

    key: str
    title: str
    target: str  # "spec" (ModelSpec) or "config" (TrainConfig)
    field: str  # the dataclass field it sets
    expected: Message  # what a valid value is, in words
    read: Callable[[str], object]  # text -> value; raises ValueError when the text is not valid


def _choice(mapping: Mapping[str, object]) -> Callable[[str], object]:
    def read(text: str) -> object:
        if text not in mapping:
            raise ValueError(text)
        return mapping[text]
    return read


def _whole_in(low: int, high: int, also_zero: bool = False) -> Callable[[str], int]:
    def read(text: str) -> int:
        value = _whole(text)
        if not (low <= value <= high or (also_zero and value == 0)):
            raise ValueError(text)
        return value
    return read


def _number_in(low: float, high: float) -> Callable[[str], float]:
    def read(text: str) -> float:
        value = _decimal(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value
    return read


def _whole_range(low: int, high: int) -> Message:
    return Message(N_("a whole number from {low} to {high}"), {"low": low, "high": high})


def _number_range(low: float, high: float) -> Message:
    return Message(N_("a number from {low} to {high}"), {"low": f"{low:g}", "high": f"{high:g}"})


def _one_of(choices) -> Message:
    return Message(N_("one of {choices}"), {"choices": ", ".join(choices)})


SETTINGS = (
    _Setting("skip", N_("Skip connection"), "spec", "topology",
             Message(N_("0 (none) or 1 (the input also reaches the output)")), _choice({"0": "chain", "1": "skip"})),
    _Setting("opt", N_("Optimizer"), "spec", "optimizer", _one_of(OPTIMIZERS),
             _choice({name: name for name in OPTIMIZERS})),
    _Setting("lr", N_("Learning rate"), "spec", "learning_rate", _number_range(*LEARNING_RATE_RANGE),
             _number_in(*LEARNING_RATE_RANGE)),
    _Setting("seed", N_("Seed"), "spec", "seed", _whole_range(*SEED_RANGE), _whole_in(*SEED_RANGE)),
    _Setting("epochs", N_("Epochs"), "config", "epochs", _whole_range(*EPOCHS_RANGE), _whole_in(*EPOCHS_RANGE)),
    _Setting("batch", N_("Batch size"), "config", "batch_size", _whole_range(*BATCH_SIZE_RANGE),
             _whole_in(*BATCH_SIZE_RANGE)),
    _Setting("digits", N_("Training digits"), "config", "train_size",
             Message(N_("0 (all digits) or {range}"), {"range": _whole_range(MIN_TRAIN_SIZE, TRAIN_SIZE_RANGE[1])}),
             _whole_in(MIN_TRAIN_SIZE, TRAIN_SIZE_RANGE[1], also_zero=True)),
    _Setting("val", N_("Validation split"), "config", "validation_split", _number_range(*VALIDATION_SPLIT_RANGE),
             _number_in(*VALIDATION_SPLIT_RANGE)),
)


def quoted(text: object) -> str:
    """Text from a link as a message quotes it: shortened to one line, in curly quotes."""
    return f"“{plain_text(text, QUOTE_LIMIT)}”"


def _in_words(setting: str, key: str, own_field: str, error: InvalidValue, template: str = NOTE_IN_WORDS) -> Message:
    """A spec error under a setting's title, in words, read from the error's parts.

    "layers[1].units: expected a whole number from 1 to 4096; received 0" under Layers becomes
    "Layers (layers), layer 2, units: expected a whole number from 1 to 4096; received “0”".

    Args:
        setting: the setting's title (marked with N_).
        key: its link key.
        own_field: the field the setting itself sets: an error there needs no further name.
        error: what the spec refused.
        template: the note's form, with {setting}, {expected} and {received}.

    Returns:
        The note.
    """
    if error.field == own_field:
        title = Message(SETTING_TITLE, {"setting": Message(setting), "key": key})
    else:
        title = Message(FIELD_PARTS, {"setting": Message(setting), "key": key, "part": error.title})
    return Message(template, {"setting": title, "expected": _as_typed_in_links(error.expected),
                              "received": quoted(error.received)})


def _as_typed_in_links(expected: Message) -> Message:
    # A link's numbers are typed, not written as intervals: "from 0 to 0.9", not "in [0.0, 0.9]".
    if expected.template == NUMBER_IN and expected.values["bracket"] == "[":
        return _number_range(float(expected.values["low"]), float(expected.values["high"]))
    return expected


def _augmentation_text(spec: ModelSpec) -> str:
    # "0" off, "1" on with the strengths AUGMENTATION_ON_IN_LINKS, else the strengths in AUGMENTATION_RANGES order.
    strengths = [getattr(spec, name) for name in AUGMENTATION_RANGES]
    if not spec.augment or not any(strengths):  # every strength 0 leaves every layer out: no augmentation
        return "0"
    if strengths == [AUGMENTATION_ON_IN_LINKS[name] for name in AUGMENTATION_RANGES]:
        return "1"
    return LAYER_SEPARATOR.join(exact_number(value) for value in strengths)


def _parse_augmentation(text: str) -> dict[str, object]:
    off = {"augment": False, **DEFAULT_AUGMENTATION}
    if text == "0":
        return off
    if text == "1":
        return {"augment": True, **AUGMENTATION_ON_IN_LINKS}
    parts = text.split(LAYER_SEPARATOR)
    if len(parts) != len(AUGMENTATION_RANGES):
        raise ValueError(text)
    strengths = {name: _decimal(part) for name, part in zip(AUGMENTATION_RANGES, parts)}
    # All zero adds no layer: that is augmentation off, as "0" writes it (not "on" with nothing to do).
    return {"augment": True, **strengths} if any(strengths.values()) else off


def from_query(params: Mapping[str, str]) -> tuple[ModelSpec, str, TrainConfig, list[Message]]:
    """Read a share link; every bad field falls back to its default and is reported in plain words.

    Each note names the setting and its link key, what was expected and what arrived, e.g.
    "Learning rate (lr): expected a number from 1e-06 to 10; received “abc”." Text from the link
    is shortened (`plain_text`) and has no markup of ours around it; show notes as plain text.

    Args:
        params: query parameters (missing keys keep the defaults silently).

    Returns:
        (spec, style, config, notes): notes are Messages naming what was ignored and why; a page
        shows each with `i18n.render(note, lang)`.
    """
    notes: list[Message] = []
    spec, style, config = ModelSpec(), STYLES[0], TrainConfig()
    unknown = sorted(set(params) - set(KNOWN_KEYS))
    if unknown:
        listed = ", ".join(quoted(key) for key in unknown[:MAX_UNKNOWN_LISTED])
        if len(unknown) > MAX_UNKNOWN_LISTED:
            notes.append(Message(N_("Unknown link parameters ignored: {listed} and {count} more."),
                                 {"listed": listed, "count": len(unknown) - MAX_UNKNOWN_LISTED}))
        else:
            notes.append(Message(N_("Unknown link parameters ignored: {listed}."), {"listed": listed}))

    if "way" in params:
        if params["way"] in STYLES:
            style = params["way"]
        else:
            notes.append(_note(N_("Way"), "way", _one_of(STYLES), params["way"]))

    if "layers" in params:
        text = params["layers"]
        try:
            layers = tuple(_parse_layer(part, index) for index, part in enumerate(text.split(LAYER_SEPARATOR))
                           if part) if text else ()
            spec = spec.replace(layers=layers)
        except InvalidValue as error:
            notes.append(_in_words(N_("Layers"), "layers", "layers", error,
                                   N_("{setting}: expected {expected}; received {received}. "
                                      "The reference network is used.")))

    for setting in SETTINGS:
        if setting.key not in params:
            continue
        text = str(params[setting.key])
        try:
            value = setting.read(text)
        except ValueError:
            notes.append(_note(setting.title, setting.key, setting.expected, text))
            continue
        try:
            if setting.target == "spec":
                spec = spec.replace(**{setting.field: value})
            else:
                config = config.replace(**{setting.field: value})
        except InvalidValue as error:  # a value valid alone but not with the others
            notes.append(_in_words(setting.title, setting.key, setting.field, error))

    if "aug" in params:
        text = str(params["aug"])
        try:
            changes = _parse_augmentation(text)
        except ValueError:
            expected = Message(N_("0 (off), 1 (on) or its {count} strengths joined by “{separator}”"),
                               {"count": len(AUGMENTATION_RANGES), "separator": LAYER_SEPARATOR})
            notes.append(_note(N_("Augmentation"), "aug", expected, text))
        else:
            try:
                spec = spec.replace(**changes)
            except InvalidValue as error:
                notes.append(_in_words(N_("Augmentation"), "aug", "augment", error))
    if style not in supported_styles(spec):
        style = supported_styles(spec)[0]
        notes.append(Message(N_("Way (way): the Sequential API cannot express a skip connection, so the {way} is "
                                "shown."), {"way": Message(STYLE_TITLES[style])}))
    if LANG_KEY in params and params[LANG_KEY] not in i18n.LANGUAGES:
        notes.append(_note(N_("Language"), LANG_KEY, _one_of(i18n.LANGUAGES), params[LANG_KEY]))
    return spec, style, config, notes


def _note(setting: str, key: str, expected: Message, received: object) -> Message:
    """The note for a link value that could not be read: "Seed (seed): expected …; received “x”."."""
    return Message(NOTE, {"setting": Message(setting), "key": key, "expected": expected, "received": quoted(received)})


def link_language(params: Mapping[str, str]) -> str | None:
    """The language a share link asks for (`lang=zh`), or None when it names none or an unknown one.

    An unknown value is reported by `from_query` ("Language (lang): expected one of en, zh; received
    “xx”."); the page then falls back to the browser's language (`i18n.best_language`).

    Args:
        params: query parameters.

    Returns:
        A code from i18n.LANGUAGES, or None.
    """
    lang = params.get(LANG_KEY)
    return lang if lang in i18n.LANGUAGES else None
