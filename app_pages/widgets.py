"""Input widgets shared by pages: the way, the network editor and the training settings.

The canonical values live in session state outside any widget (`session.SPEC`, `STYLE`,
`CONFIG`), and the share link is written from them. Streamlit forgets a widget's value when its
page is not shown, and two pages showing a widget under the same key show two different widgets
(a widget's identity includes its page): so every widget here is seeded from the canonical value
and writes its result back to it.
"""

from __future__ import annotations

import dataclasses
import math

import streamlit as st

from app_pages import session
from kerasways.i18n import N_
from kerasways.messages import Message
from kerasways.spec import (
    ACTIVATIONS,
    AUGMENTATION_RANGES,
    BATCH_SIZE_RANGE,
    CONV_KERNEL_RANGE,
    DEFAULT_LEARNING_RATES,
    DROPOUT_RATE_RANGE,
    EPOCHS_RANGE,
    LAYER_DEFAULTS,
    LAYER_TITLES,
    LEARNING_RATE_RANGE,
    MAX_UNITS,
    OPTIMIZERS,
    POOL_SIZE_RANGE,
    PRESETS,
    SEED_RANGE,
    STYLE_TITLES,
    STYLES,
    TRAIN_SIZE_RANGE,
    UNITS_MIN,
    USED_FIELDS,
    VALIDATION_SPLIT_RANGE,
    LayerSpec,
    ModelSpec,
    TrainConfig,
    layer_field,
    preset_of,
)

EDITOR_VERSION = "layer_editor_version"
EDITOR_BASE = "layer_editor_base"  # the editor shows its edits on top of these layers
OWN_EDITS = "own-edits"  # the preset box's choice for a network that is no preset
OWN_EDITS_TITLE = N_("(your own edits)")
KIND_BY_TITLE = {title: kind for kind, title in LAYER_TITLES.items()}
# The editor's column names stay English (its edits are stored under them, so switching the
# language keeps them); the headers shown are translated through `label`.
COLUMNS = {"layer": N_("Layer"), "size": N_("Units / filters"), "activation": N_("Activation"),
           "rate": N_("Dropout rate"), "kernel": N_("Kernel / pool")}
FIELD_TYPES = {"units": int, "activation": str, "rate": float, "kernel_size": int}
COLUMN_FIELDS = {"size": "units", "activation": "activation", "rate": "rate", "kernel": "kernel_size"}  # → LayerSpec


def _seeded(key: str, value) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def style_picker() -> str:
    """Radio buttons for the three ways; returns the chosen style."""
    _ = session.gettext()
    _seeded("w_style", st.session_state[session.STYLE])
    chosen = st.radio(_("Way to build the model"), STYLES, key="w_style", horizontal=True,
                      format_func=lambda name: _(STYLE_TITLES[name]))
    st.session_state[session.STYLE] = chosen
    return chosen


def _preset_id(spec: ModelSpec) -> str:
    preset = preset_of(spec)
    return preset.id if preset else OWN_EDITS


def _preset_title(preset_id: str) -> str:
    """The preset box's title for a choice, untranslated."""
    return PRESETS[preset_id].title if preset_id in PRESETS else OWN_EDITS_TITLE


def _apply_preset() -> None:
    preset = PRESETS.get(st.session_state["w_preset"])
    if preset is None:  # "(your own edits)" names the network as it is: nothing to apply
        return
    spec = preset.applied_to(session.spec())
    st.session_state[session.SPEC] = spec
    reset_editor(spec.layers)
    # The widgets already on the page would otherwise build the old skip and augmentation back in.
    st.session_state["w_skip"] = spec.topology == "skip"
    st.session_state["w_augment"] = spec.augment
    for name in AUGMENTATION_RANGES:
        st.session_state[f"w_{name}"] = getattr(spec, name)


def reset_editor(layers: tuple[LayerSpec, ...]) -> None:
    """Show `layers` in a fresh layer editor (after a preset or a shared link replaced them)."""
    st.session_state[EDITOR_VERSION] = st.session_state.get(EDITOR_VERSION, 0) + 1
    st.session_state[EDITOR_BASE] = layers


def _follow_default_rate() -> None:
    # Keep "Keras' default learning rate" when the optimizer changes (adam 0.001 → sgd 0.01).
    if session.spec().uses_default_learning_rate:
        st.session_state["w_learning_rate"] = DEFAULT_LEARNING_RATES[st.session_state["w_optimizer"]]


def _layers_frame(layers: tuple[LayerSpec, ...]):
    import pandas as pd  # imported here: the page shows its code before pandas has loaded

    return pd.DataFrame(
        [
            {
                COLUMNS["layer"]: LAYER_TITLES[layer.kind],
                **{COLUMNS[column]: getattr(layer, field) if field in USED_FIELDS[layer.kind] else None
                   for column, field in COLUMN_FIELDS.items()},
            }
            for layer in layers
        ],
        columns=list(COLUMNS.values()),
    )


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and value != ""


def layers_from_frame(frame) -> tuple[LayerSpec, ...]:
    """Turn the editor's rows into LayerSpecs; empty cells take the layer's defaults.

    Args:
        frame: rows with the editor's columns.

    Returns:
        The layers (not yet validated as a network).
    """
    layers = []
    for index, row in enumerate(frame.to_dict("records")):
        title = row.get(COLUMNS["layer"])
        if not _present(title):
            continue  # a new row the user has not filled in yet
        if title not in KIND_BY_TITLE:
            raise layer_field(index, "kind").invalid(
                Message(N_("one of {choices}"), {"choices": ", ".join(KIND_BY_TITLE)}), title)
        kind = KIND_BY_TITLE[title]
        values = {}
        for column, field in COLUMN_FIELDS.items():
            if field in USED_FIELDS[kind] and _present(row.get(COLUMNS[column])):
                values[field] = FIELD_TYPES[field](row[COLUMNS[column]])
        layers.append(dataclasses.replace(LAYER_DEFAULTS[kind], **values))
    return tuple(layers)


def network_editor() -> ModelSpec:
    """Preset, editable layer table, skip connection, optimizer, learning rate and seed.

    Invalid edits show an error naming the field and keep the last valid network.

    Returns:
        The current (valid) ModelSpec.
    """
    _ = session.gettext()
    spec = session.spec()
    # The box names the network the widgets below make, so it is drawn once they have made it.
    preset_slot = st.empty()
    version = st.session_state.get(EDITOR_VERSION, 0)
    if f"w_layers_{version}" not in st.session_state and st.session_state.get(EDITOR_BASE) != spec.layers:
        # New session, or the page was left (Streamlit then drops the editor's edits).
        reset_editor(spec.layers)
        version = st.session_state[EDITOR_VERSION]
    edited = st.data_editor(
        _layers_frame(st.session_state[EDITOR_BASE]),
        key=f"w_layers_{version}",
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            COLUMNS["layer"]: st.column_config.SelectboxColumn(_(COLUMNS["layer"]), options=list(LAYER_TITLES.values()),
                                                               required=True),
            COLUMNS["size"]: st.column_config.NumberColumn(_(COLUMNS["size"]), min_value=UNITS_MIN,
                                                           max_value=MAX_UNITS, step=1,
                                                           help=_("Dense units or Conv2D filters")),
            COLUMNS["activation"]: st.column_config.SelectboxColumn(_(COLUMNS["activation"]),
                                                                    options=list(ACTIVATIONS)),
            COLUMNS["rate"]: st.column_config.NumberColumn(_(COLUMNS["rate"]), min_value=DROPOUT_RATE_RANGE[0],
                                                           max_value=DROPOUT_RATE_RANGE[1], step=0.05, format="%.2f"),
            COLUMNS["kernel"]: st.column_config.NumberColumn(_(COLUMNS["kernel"]),
                                                             min_value=min(CONV_KERNEL_RANGE[0], POOL_SIZE_RANGE[0]),
                                                             max_value=max(CONV_KERNEL_RANGE[1], POOL_SIZE_RANGE[1]),
                                                             step=1,
                                                             help=_("Conv2D kernel or pool size")),
        },
    )
    st.caption(_("Hidden layers, in order. Flatten/Reshape are added where needed and the "
                 "Dense(10, softmax) output is always last. Add or delete rows to change the network."))
    _seeded("w_skip", spec.topology == "skip")
    skip = st.checkbox(_("Skip connection: the flattened input also goes straight to the output"), key="w_skip",
                       help=_("A branch: the Functional API and subclassing can express it, Sequential cannot."))
    augmentation = augmentation_settings(spec)
    col_opt, col_lr, col_seed = st.columns(3)
    _seeded("w_optimizer", spec.optimizer)
    optimizer = col_opt.selectbox(_("Optimizer"), OPTIMIZERS, key="w_optimizer", on_change=_follow_default_rate)
    _seeded("w_learning_rate", spec.learning_rate)
    learning_rate = col_lr.number_input(_("Learning rate"), min_value=LEARNING_RATE_RANGE[0],
                                        max_value=LEARNING_RATE_RANGE[1], format="%g",
                                        key="w_learning_rate",
                                        help=_("Keras' default for {optimizer}: {rate}").format(
                                            optimizer=optimizer, rate=f"{DEFAULT_LEARNING_RATES[optimizer]:g}"))
    _seeded("w_seed", spec.seed)
    seed = col_seed.number_input(_("Seed"), min_value=SEED_RANGE[0], max_value=SEED_RANGE[1], step=1, key="w_seed",
                                 help=_("Same seed → same initial weights and the same shuffling in every way."))
    try:
        new_spec = ModelSpec(layers=layers_from_frame(edited), optimizer=optimizer,
                             learning_rate=float(learning_rate), seed=int(seed),
                             topology="skip" if skip else "chain", **augmentation)
    except (ValueError, TypeError) as error:
        st.error(_("That network can't be built, so the last valid one is kept. {error}").format(
            error=session.message(error)), icon=":material/warning:")
        new_spec = spec
    st.session_state[session.SPEC] = new_spec
    st.session_state["w_preset"] = _preset_id(new_spec)
    preset_slot.selectbox(_("Start from a preset"), [*PRESETS, OWN_EDITS], key="w_preset", on_change=_apply_preset,
                          format_func=lambda choice: _(_preset_title(choice)),
                          help=_("The reference MLP is the network of the well-known article."))
    return new_spec


AUGMENTATION_TITLES = {"augment_rotation": (N_("Rotation"), N_("share of a full turn, either way")),
                       "augment_slant": (N_("Slant"), N_("horizontal shear, share of the width")),
                       "augment_zoom": (N_("Zoom"), N_("bigger or smaller by up to this share")),
                       "augment_shift": (N_("Shift"), N_("moved by up to this share of the image"))}


def augmentation_settings(spec: ModelSpec) -> dict:
    """The augmentation switch and its strengths; returns the ModelSpec fields they set."""
    _ = session.gettext()
    _seeded("w_augment", spec.augment)
    augment = st.checkbox(_("Augment the training digits: random rotation, slant, zoom and shift"), key="w_augment",
                          help=_("Keras preprocessing layers at the start of the model, active only while training: "
                                 "the network sees every digit a little differently each time, as real handwriting "
                                 "differs from MNIST. Predictions are not changed by them."))
    values = {"augment": augment}
    with st.expander(_("Augmentation strengths"), expanded=False):
        columns = st.columns(len(AUGMENTATION_RANGES))
        for column, (name, (low, high)) in zip(columns, AUGMENTATION_RANGES.items()):
            title, meaning = AUGMENTATION_TITLES[name]
            _seeded(f"w_{name}", getattr(spec, name))
            values[name] = column.number_input(_(title), min_value=low, max_value=high, step=0.01, format="%.2f",
                                               key=f"w_{name}", disabled=not augment,
                                               help=_("{meaning}; 0 leaves it out").format(meaning=_(meaning)))
    return values


# The training-settings widgets by key, with the TrainConfig field each one sets. The Train and
# Compare pages both show them under these keys.
SETTING_FIELDS = {"w_epochs": ("epochs", int), "w_batch": ("batch_size", int), "w_train_size": ("train_size", int),
                  "w_val": ("validation_split", float)}
REFUSED_SETTINGS = "refused_settings"  # why the last change of the settings was refused, said once


def _take_settings() -> None:
    """The settings widgets' values become the session's TrainConfig, or are refused with a reason."""
    config = session.config()
    try:
        st.session_state[session.CONFIG] = TrainConfig(**{
            field: kind(st.session_state.get(key, getattr(config, field)))
            for key, (field, kind) in SETTING_FIELDS.items()})
    except ValueError as error:
        st.session_state[REFUSED_SETTINGS] = error


def train_settings(disabled: bool = False) -> TrainConfig:
    """Epochs, batch size, number of digits and validation split; returns the valid TrainConfig.

    The settings are the session's `TrainConfig` (which the share link carries), never the
    widgets' own state: each widget shows it when drawn and changes it when changed. A change
    that makes no valid TrainConfig is refused with the reason, and the widgets show the kept one.

    Args:
        disabled: show the values without letting them change (while a training runs).
    """
    _ = session.gettext()
    config = session.config()
    for key, (field, kind) in SETTING_FIELDS.items():
        st.session_state[key] = kind(getattr(config, field))
    col_epochs, col_batch, col_size, col_val = st.columns(4)
    col_epochs.number_input(_("Epochs"), min_value=EPOCHS_RANGE[0], max_value=EPOCHS_RANGE[1], step=1,
                            key="w_epochs", disabled=disabled, on_change=_take_settings)
    col_batch.number_input(_("Batch size"), min_value=BATCH_SIZE_RANGE[0], max_value=BATCH_SIZE_RANGE[1], step=1,
                           key="w_batch", disabled=disabled, on_change=_take_settings,
                           help=_("Digits per optimizer step; the article used 32."))
    col_size.number_input(_("Training digits (0 = all)"), min_value=TRAIN_SIZE_RANGE[0],
                          max_value=TRAIN_SIZE_RANGE[1], step=500, key="w_train_size", disabled=disabled,
                          on_change=_take_settings)
    col_val.number_input(_("Validation split"), min_value=VALIDATION_SPLIT_RANGE[0],
                         max_value=VALIDATION_SPLIT_RANGE[1], step=0.05, format="%.2f", key="w_val",
                         disabled=disabled, on_change=_take_settings,
                         help=_("The last part of the training digits, held out to watch for overfitting. "
                                "0: no validation."))
    refused = st.session_state.pop(REFUSED_SETTINGS, None)
    if refused is not None:
        st.error(_("Those settings can't be used, so the last valid ones are kept. {error}").format(
            error=session.message(refused)), icon=":material/warning:")
    return config
