"""ModelSpec / TrainConfig: defaults, presets, shapes and clear errors (no TensorFlow)."""

import pickle

import pytest

from kerasways.messages import InvalidValue
from kerasways.runs import network_name
from kerasways.spec import (
    DRAWING_NETWORK,
    LAYER_DEFAULTS,
    LAYER_KINDS,
    PRESETS,
    LayerSpec,
    ModelSpec,
    TrainConfig,
    preset_of,
    resolve_layers,
    total_params,
)


def test_default_spec_is_the_reference_network():
    spec = ModelSpec()
    layers = resolve_layers(spec)
    assert [layer.keras_class for layer in layers] == ["Flatten", "Dense", "Dense"]
    assert layers[1].config == (("units", 128), ("activation", "relu"))
    assert layers[2].config == (("units", 10), ("activation", "softmax"))
    assert [layer.role for layer in layers] == ["layer", "layer", "output"]
    assert (spec.optimizer, spec.loss, spec.metric) == ("adam", "sparse_categorical_crossentropy", "accuracy")
    assert isinstance(spec.seed, int)
    assert total_params(spec) == 784 * 128 + 128 + 128 * 10 + 10
    assert TrainConfig().batch_size == 32


def test_reshape_and_flatten_are_placed_where_needed():
    classes = [layer.keras_class for layer in resolve_layers(PRESETS["small-cnn"].spec)]
    assert classes[0] == "Reshape"
    assert classes.index("Flatten") > classes.index("Conv2D")
    assert classes[-1] == "Dense"
    dense_after_conv = ModelSpec(layers=(LayerSpec("conv2d", units=4), LayerSpec("dense", units=8)))
    assert [layer.keras_class for layer in resolve_layers(dense_after_conv)] == [
        "Reshape", "Conv2D", "Flatten", "Dense", "Dense"]


@pytest.mark.parametrize(
    ("make", "field", "received"),
    [
        (lambda: ModelSpec(layers=(LayerSpec("dense", units=0),)), "layers[0].units", "0"),
        (lambda: ModelSpec(layers=(LayerSpec("dropout", rate=1.5),)), "layers[0].rate", "1.5"),
        (lambda: ModelSpec(layers=(LayerSpec("dense", activation="swishy"),)), "layers[0].activation", "swishy"),
        (lambda: ModelSpec(layers=(LayerSpec("flatten"), LayerSpec("conv2d"))), "layers[1].kind", "Conv2D"),
        (lambda: ModelSpec(layers=(LayerSpec("dense"), LayerSpec("maxpool2d", kernel_size=2))),
         "layers[1].kind", "MaxPooling2D"),
        (lambda: ModelSpec(learning_rate=0.0), "learning_rate", "0.0"),
        (lambda: ModelSpec(learning_rate=float("nan")), "learning_rate", "nan"),
        (lambda: ModelSpec(optimizer="adamm"), "optimizer", "adamm"),
        (lambda: ModelSpec(seed=-1), "seed", "-1"),
        (lambda: ModelSpec(layers=(LayerSpec("dense", units=4096),) * 3), "layers", "parameters"),
        (lambda: TrainConfig(epochs=0), "epochs", "0"),
        (lambda: TrainConfig(batch_size=10**6), "batch_size", "1000000"),
        (lambda: TrainConfig(validation_split=0.9), "validation_split", "0.9"),
    ],
)
def test_bad_values_name_the_field_the_expectation_and_what_arrived(make, field, received):
    with pytest.raises(ValueError) as caught:
        make()
    message = str(caught.value)
    assert message.startswith(field + ":")
    assert "expected" in message
    assert received in message


def test_an_image_that_shrinks_to_nothing_is_refused():
    tiny = tuple(LayerSpec("maxpool2d", kernel_size=4) for _ in range(3))
    with pytest.raises(ValueError, match=r"layers\[2\].kernel_size: expected a pool no larger"):
        ModelSpec(layers=tiny)


@pytest.mark.parametrize(("make", "field", "received", "title"), [
    (lambda: ModelSpec(seed=2**31), "seed", 2**31, "Seed"),
    (lambda: ModelSpec(augment=True, augment_zoom=0.7), "augment_zoom", 0.7, "Zoom"),
    (lambda: ModelSpec(layers=(LayerSpec("dense"), LayerSpec("dense"), LayerSpec("dense", activation="swish"))),
     "layers[2].activation", "swish", "layer 3, activation"),
    (lambda: ModelSpec(layers=(LayerSpec("dense"), "dense")), "layers[1]", "dense", "layer 2"),
    (lambda: TrainConfig(batch_size=0), "batch_size", 0, "Batch size"),
])
def test_a_refused_value_keeps_its_parts_and_survives_a_trip_between_processes(make, field, received, title):
    with pytest.raises(InvalidValue) as caught:
        make()
    for error in (caught.value, pickle.loads(pickle.dumps(caught.value))):
        assert (error.field, error.received, str(error.title)) == (field, received, title)
        assert str(error) == f"{field}: expected {error.expected}; received {received!r}"
        assert str(error.message) == f"{title}: expected {error.expected}; received {received!r}"


def test_presets_are_known_by_ids_that_never_change():
    # Code, tests and benchmarks name presets by these ids; a title may be reworded or translated.
    assert list(PRESETS) == ["reference-mlp", "mlp-dropout", "small-cnn", "mlp-skip", "drawing-cnn"]
    assert all(preset.id == key for key, preset in PRESETS.items())
    assert PRESETS["reference-mlp"].spec == ModelSpec() and PRESETS["drawing-cnn"].spec == DRAWING_NETWORK


@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_a_network_is_its_preset_whatever_its_optimizer_rate_and_seed(preset_id):
    preset = PRESETS[preset_id]
    assert preset_of(preset.spec.replace(seed=3, optimizer="sgd", learning_rate=0.05)) is preset
    assert network_name(preset.spec.replace(seed=3)) == preset.short_title  # runs are named by the same table
    changed = preset.spec.replace(layers=(*preset.spec.layers, LayerSpec("dense", units=11)))
    assert preset_of(changed) is None and network_name(changed) == "Your network"


def test_augmentation_is_part_of_a_presets_architecture():
    assert preset_of(ModelSpec(augment=True)) is None
    assert preset_of(DRAWING_NETWORK.replace(augment=False)) is None
    assert preset_of(DRAWING_NETWORK.replace(augment_zoom=0.2)) is None


def test_applying_a_preset_sets_its_whole_architecture_and_keeps_the_rest():
    own = ModelSpec(seed=7, optimizer="rmsprop", learning_rate=0.002, topology="skip", augment=True,
                    augment_zoom=0.3)
    drawing = PRESETS["drawing-cnn"].applied_to(own)
    assert drawing.augment and drawing.augmentation == DRAWING_NETWORK.augmentation
    assert drawing.layers == DRAWING_NETWORK.layers and drawing.topology == "chain"
    assert (drawing.seed, drawing.optimizer, drawing.learning_rate) == (7, "rmsprop", 0.002)
    assert preset_of(drawing) is PRESETS["drawing-cnn"]
    plain = PRESETS["small-cnn"].applied_to(drawing)
    assert not plain.augment and preset_of(plain) is PRESETS["small-cnn"]


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_every_layer_kind_has_valid_defaults(kind):
    layer = LAYER_DEFAULTS[kind]
    assert layer.kind == kind
    layer.validate(0)
    assert ModelSpec(layers=(layer,)).layers == (layer,)  # a network of that one layer can be built
