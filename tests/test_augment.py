"""Augmentation layers: written the three ways, active only while training, saved and shared like the rest."""

import subprocess
import sys

import numpy as np
import pytest

from kerasways.augment import augmented_examples
from kerasways.build import build_model
from kerasways.codegen import model_source
from kerasways.data import load_mnist
from kerasways.export import model_file_bytes
from kerasways.share import from_query, to_query
from kerasways.spec import (
    DRAWING_NETWORK,
    DRAWING_TRAINING,
    STYLES,
    ModelSpec,
    TrainConfig,
    resolve_layers,
    supported_styles,
    total_params,
)

AUGMENTED = ModelSpec(augment=True, seed=3)
SPECS = {"augmented MLP": AUGMENTED, "drawing network": DRAWING_NETWORK}
RANDOM_CLASSES = ("RandomRotation", "RandomZoom", "RandomTranslation")


def test_the_reference_network_has_no_augmentation_and_the_switch_adds_keras_random_layers():
    assert ModelSpec().augment is False
    for style in STYLES:
        assert "Random" not in model_source(ModelSpec(), style)
        source = model_source(AUGMENTED, style)
        assert all(f"layers.{name}(" in source for name in RANDOM_CLASSES), style
    assert ModelSpec().architecture != AUGMENTED.architecture
    assert AUGMENTED.architecture == AUGMENTED.replace(seed=9, learning_rate=0.01).architecture


@pytest.mark.parametrize("name", list(SPECS))
def test_the_three_ways_build_the_same_augmented_network(name):
    spec = SPECS[name]
    images = load_mnist().x_test[:16].astype("float32") / 255.0
    models = {style: build_model(spec, style) for style in supported_styles(spec)}
    reference = models["functional"]
    predicting = np.asarray(reference(images, training=False))
    # Two training-mode calls of the same model draw different changes...
    first, second = (np.asarray(reference(images, training=True)) for _ in range(2))
    assert not np.allclose(first, second)
    for style, model in models.items():
        assert model.count_params() == total_params(spec), style
        assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), reference.get_weights())), style
        assert np.array_equal(np.asarray(model(images, training=False)), predicting), style
    # ...and a fresh model of every way draws the very same ones (same seed, same order).
    fresh = {style: build_model(spec, style) for style in models}
    training_outputs = [np.asarray(model(images, training=True)) for model in fresh.values()]
    assert all(np.array_equal(output, training_outputs[0]) for output in training_outputs)


def test_augmentation_is_identity_when_predicting():
    """The same weights without augmentation layers predict exactly the same: predictions do not pay for it."""
    images = load_mnist().x_test[:32].astype("float32") / 255.0
    with_augmentation = build_model(AUGMENTED, "functional")
    plain = build_model(AUGMENTED.replace(augment=False), "functional")
    plain.set_weights(with_augmentation.get_weights())
    np.testing.assert_allclose(np.asarray(with_augmentation(images, training=False)),
                               np.asarray(plain(images, training=False)), rtol=1e-6, atol=1e-7)


def test_augmentation_strengths_are_validated_with_the_field_named():
    with pytest.raises(ValueError, match=r"^augment_rotation: expected a number in \[0.0, 0.25\]; received 0.5"):
        ModelSpec(augment=True, augment_rotation=0.5)
    with pytest.raises(ValueError, match=r"^augment: expected True or False; received 'yes'"):
        ModelSpec(augment="yes")


def test_a_zero_strength_leaves_its_layer_out():
    spec = ModelSpec(augment=True, augment_slant=0.0)
    classes = [layer.keras_class for layer in resolve_layers(spec)]
    assert "RandomShear" not in classes and "RandomRotation" in classes


@pytest.mark.parametrize(("spec", "text"), [(ModelSpec(), "0"), (AUGMENTED, "0.03_0.1_0.1_0.05"),
                                           (DRAWING_NETWORK, "0.03_0.1_0.1_0.05"),
                                           (AUGMENTED.replace(augment_rotation=0.1, augment_shift=0.0),
                                            "0.1_0.1_0.1_0.0"),
                                           (AUGMENTED.replace(augment_slant=0.2), "1")])
def test_share_links_keep_the_augmentation(spec, text):
    query = to_query(spec, "functional", TrainConfig())
    assert query["aug"] == text
    assert from_query(query) == (spec, "functional", TrainConfig(), [])


def test_a_link_handed_out_before_the_defaults_changed_opens_the_same_augmentation():
    spec, _, _, notes = from_query({"aug": "1"})  # written when "on" meant slant 0.2
    assert notes == [] and spec.augment is True
    assert spec.augmentation == (("augment_rotation", 0.03), ("augment_slant", 0.2), ("augment_zoom", 0.1),
                                 ("augment_shift", 0.05))


def test_a_bad_aug_link_value_falls_back_and_is_named():
    spec, _, _, notes = from_query({"aug": "0.1_0.2"})
    assert spec.augment is False
    assert [str(note) for note in notes] == [
        "Augmentation (aug): expected 0 (off), 1 (on) or its 4 strengths joined by “_”; received “0.1_0.2”."]


def test_augmented_examples_show_what_the_model_layers_do():
    digits = load_mnist().x_train[:4]
    examples = augmented_examples(AUGMENTED, digits, copies=3, seed=1)
    assert examples.shape == (4, 3, 28, 28) and examples.dtype == np.float32
    assert 0.0 <= examples.min() and examples.max() <= 1.0
    assert not np.allclose(examples[:, 0], examples[:, 1])  # each copy is changed anew
    assert not np.allclose(examples[:, 0], digits / 255.0)
    np.testing.assert_array_equal(examples, augmented_examples(AUGMENTED, digits, copies=3, seed=1))
    # Exactly the model's layers: a training-mode pass through the built model's first layers.
    model = build_model(AUGMENTED.replace(seed=1), "subclassing")
    batch = digits[..., None].astype("float32") / 255.0
    for layer in resolve_layers(AUGMENTED):
        if layer.role == "augment":
            batch = getattr(model, layer.name)(batch, training=True)
    np.testing.assert_allclose(examples[:, 0], np.clip(np.asarray(batch)[..., 0], 0, 1), atol=1e-6)
    unchanged = augmented_examples(ModelSpec(), digits, copies=2)
    np.testing.assert_allclose(unchanged[:, 1], digits / 255.0, atol=1e-6)


LOAD_AND_PREDICT = """
import sys
import numpy as np
import keras

model_file, source_file, images_file, out_file = sys.argv[1:]
if source_file != "-":
    exec(open(source_file).read())  # a subclassed model's class must exist before loading
model = keras.models.load_model(model_file)
np.save(out_file, np.asarray(model(np.load(images_file), training=False)))
"""


@pytest.mark.slow  # a fresh Python process per way
@pytest.mark.parametrize("style", STYLES)
def test_an_augmented_model_loads_in_a_plain_python_session_and_predicts_the_same(tmp_path, style):
    model = build_model(AUGMENTED, style)
    model_path = tmp_path / "model.keras"
    model_path.write_bytes(model_file_bytes(model))
    source_path = "-"
    if style == "subclassing":
        source_path = tmp_path / "model.py"
        source_path.write_text(model_source(AUGMENTED, style))
    images = load_mnist().x_test[:8].astype("float32") / 255.0
    np.save(tmp_path / "images.npy", images)
    completed = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(model_path), str(source_path), str(tmp_path / "images.npy"),
         str(tmp_path / "out.npy")], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), np.asarray(model(images, training=False)), rtol=1e-6)


@pytest.mark.slow
def test_the_same_seed_trains_bit_identically_in_the_three_ways():
    from kerasways.training import train

    data = load_mnist()
    config = TrainConfig(epochs=2, train_size=400, batch_size=32)
    results = {style: train(AUGMENTED, style, config, data) for style in STYLES}
    reference = results["sequential"]
    for style, result in results.items():
        assert result.history.batch_loss == reference.history.batch_loss, style
        assert all(np.array_equal(a, b) for a, b in zip(result.model.get_weights(), reference.model.get_weights()))


def test_the_drawing_network_is_augmented_and_trains_in_every_way():
    assert DRAWING_NETWORK.augment is True
    assert isinstance(DRAWING_TRAINING, TrainConfig)
    assert set(supported_styles(DRAWING_NETWORK)) == set(STYLES)
