"""Looking inside a network: every layer's output and the saliency maps, in the three ways."""

import dataclasses

import keras
import numpy as np
import pytest

from kerasways.build import build_model, execute
from kerasways.codegen import inside_source
from kerasways.inside import layer_outputs, look_inside, saliency
from kerasways.spec import DRAWING_NETWORK, LayerSpec, ModelSpec, resolve_layers, supported_styles

SMALL_CNN = ModelSpec(layers=(LayerSpec("conv2d", units=4, kernel_size=3, activation="relu"),
                              LayerSpec("maxpool2d", kernel_size=2), LayerSpec("dropout", rate=0.3),
                              LayerSpec("dense", units=16, activation="relu")),
                      topology="skip", augment=True)
NETWORKS = {"mlp": ModelSpec(), "cnn_skip_augment": SMALL_CNN}


def a_digit() -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[5:23, 12:16] = 255  # a "1"
    image[5:8, 9:13] = 200
    return image


def trained_like(model) -> None:
    """Weights that are not the seed's (so a test cannot pass on initial values alone)."""
    rng = np.random.default_rng(3)
    model.set_weights([weight + rng.normal(0, 0.05, weight.shape).astype(weight.dtype)
                       for weight in model.get_weights()])


@pytest.mark.parametrize("network", list(NETWORKS))
def test_layer_outputs_equal_a_hand_built_functional_extractor(network):
    spec = NETWORKS[network]
    model = build_model(spec, "functional")
    trained_like(model)
    by_hand = keras.Model(model.input, [layer.output for layer in model.layers if layer is not model.layers[0]])
    expected = by_hand(a_digit()[None].astype("float32") / 255.0, training=False)
    seen = layer_outputs(model, a_digit())
    assert [entry.name for entry in seen] == [layer.name for layer in resolve_layers(spec)]
    assert [entry.kind for entry in seen] == [type(layer).__name__ for layer in model.layers[1:]]
    for entry, output in zip(seen, expected):
        np.testing.assert_allclose(entry.output, np.asarray(output)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("network", list(NETWORKS))
def test_the_three_ways_give_the_same_layer_outputs(network):
    spec = NETWORKS[network]
    outputs = {style: layer_outputs(build_model(spec, style), a_digit()) for style in supported_styles(spec)}
    first, *others = outputs.values()
    assert len(outputs) >= 2
    for other in others:
        assert [(entry.name, entry.kind) for entry in other] == [(entry.name, entry.kind) for entry in first]
        for mine, theirs in zip(other, first):
            np.testing.assert_array_equal(mine.output, theirs.output)


def test_saliency_changes_with_the_target_digit_and_stays_for_the_same_one():
    model = build_model(ModelSpec(), "sequential")
    trained_like(model)
    one, four = saliency(model, a_digit(), 1), saliency(model, a_digit(), 4)
    assert one.shape == (28, 28) and one.dtype == np.float32
    assert np.abs(one).max() > 0
    assert np.abs(one - four).max() > 0.1 * np.abs(one).max()
    np.testing.assert_array_equal(one, saliency(model, a_digit(), 1))  # a fixed noise sample: the same map again


def test_a_convolution_network_gets_a_grad_cam_and_a_dense_one_none():
    digit = a_digit()
    cnn = look_inside(build_model(SMALL_CNN, "subclassing"), digit, (1, 7))
    mlp = look_inside(build_model(ModelSpec(), "subclassing"), digit, (1, 7))
    assert set(cnn.grad_cam) == {1, 7} and cnn.grad_cam[1].shape == (28, 28)
    assert 0 <= cnn.grad_cam[1].min() and cnn.grad_cam[1].max() <= 1
    assert mlp.grad_cam == {}
    np.testing.assert_allclose(cnn.probabilities.sum(), 1, rtol=1e-5)
    inactive = [entry.kind for entry in cnn.layers if entry.inactive_when_predicting]
    assert "Dropout" in inactive and "RandomRotation" in inactive and "Conv2D" not in inactive


@pytest.mark.parametrize("style", ["sequential", "functional", "subclassing"])
def test_the_generated_inside_code_runs_on_its_own_for_each_way(style):
    spec = DRAWING_NETWORK if style == "sequential" else dataclasses.replace(DRAWING_NETWORK, topology="skip")
    model = build_model(spec, style)
    namespace = execute("import keras\n\n" + inside_source(spec, style, "zh"), "<test inside>")
    outputs = namespace["feature_extractor"](model)(np.zeros((2, 28, 28), np.float32), training=False)
    assert [tuple(output.shape[1:]) for output in outputs] == [layer.output_shape for layer in resolve_layers(spec)]


@pytest.mark.parametrize("style", ["sequential", "functional", "subclassing"])
def test_a_model_loaded_from_the_exported_file_shows_the_same_layers_and_saliency(style, tmp_path):
    from kerasways.export import model_file_bytes

    spec = NETWORKS["cnn_skip_augment"] if style != "sequential" else NETWORKS["mlp"]
    model = build_model(spec, style)
    trained_like(model)
    path = tmp_path / "model.keras"
    path.write_bytes(model_file_bytes(model))
    loaded = keras.models.load_model(path)  # built outside kerasways.build: no network comes with it
    here, there = layer_outputs(model, a_digit()), layer_outputs(loaded, a_digit())
    assert [entry.kind for entry in there] == [entry.kind for entry in here]
    for mine, theirs in zip(there, here):
        np.testing.assert_allclose(mine.output, theirs.output, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(saliency(loaded, a_digit(), 7), saliency(model, a_digit(), 7), rtol=1e-4, atol=1e-6)


def test_a_few_digits_at_once_give_what_each_gives_alone():
    from kerasways.inside import batch_layer_outputs

    model = build_model(SMALL_CNN, "functional")
    trained_like(model)
    digits = np.stack([a_digit(), np.rot90(a_digit()), np.flipud(a_digit())])
    for image, together in zip(digits, batch_layer_outputs(model, digits)):
        alone = layer_outputs(model, image)
        assert [(entry.name, entry.kind) for entry in together] == [(entry.name, entry.kind) for entry in alone]
        for mine, theirs in zip(together, alone):
            np.testing.assert_allclose(mine.output, theirs.output, rtol=1e-5, atol=1e-6)
