"""Generated code runs, matches the spec, and the three ways build the very same network."""

import ast

import numpy as np
import pytest

from kerasways.build import build_model
from kerasways.codegen import model_source
from kerasways.i18n import LANGUAGES, translator
from kerasways.spec import DRAWING_NETWORK, PRESETS, STYLES, ModelSpec, supported_styles, total_params

CASES = [(preset.id, style) for preset in PRESETS.values() for style in supported_styles(preset.spec)]


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize(("preset", "style"), CASES)
def test_generated_model_has_the_spec_parameter_count(preset, style, lang):
    spec = PRESETS[preset].spec
    source = model_source(spec, style, lang)
    ast.parse(source)
    model = build_model(spec, style, lang)
    assert model.count_params() == total_params(spec)
    assert model.optimizer is not None  # build_model() also compiles, as the shown code says


@pytest.mark.parametrize("preset", list(PRESETS))
def test_same_seed_gives_identical_weights_and_predictions_in_every_way_and_language(preset):
    spec = PRESETS[preset].spec
    batch = np.random.default_rng(1).random((16, 28, 28)).astype("float32")
    models = {(style, lang): build_model(spec, style, lang) for style in supported_styles(spec) for lang in LANGUAGES}
    reference_style, reference = next(iter(models.items()))
    reference_weights = reference.get_weights()
    reference_predictions = np.asarray(reference(batch, training=False))
    for style, model in models.items():
        weights = model.get_weights()
        assert [w.shape for w in weights] == [w.shape for w in reference_weights], style
        assert all(np.array_equal(a, b) for a, b in zip(weights, reference_weights)), f"{style} vs {reference_style}"
        assert np.array_equal(np.asarray(model(batch, training=False)), reference_predictions)


def test_a_different_seed_gives_different_weights():
    first = build_model(ModelSpec(seed=1), "functional").get_weights()
    second = build_model(ModelSpec(seed=2), "functional").get_weights()
    assert not np.array_equal(first[0], second[0])


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("spec", [PRESETS["mlp-dropout"].spec, DRAWING_NETWORK], ids=["dropout", "drawing"])
def test_the_three_sources_are_parallel(spec, lang):
    step_comments = {}
    for style in STYLES:
        lines = [line.strip() for line in model_source(spec, style, lang).splitlines()]
        step_comments[style] = [line for line in lines if line.startswith("# ")]
    shared_steps = [c for c in step_comments["sequential"] if c in step_comments["subclassing"]]
    # Every way explains the same steps with the same words, in the same order.
    assert step_comments["functional"] == step_comments["sequential"]
    assert len(shared_steps) == len(step_comments["sequential"]) - 1  # all but the Input line
    layer_steps = [c for c in step_comments["subclassing"] if c in shared_steps]
    _ = translator(lang)
    not_layers = {"# " + _("Same seed → same initial weights, whichever way the model is written"),
                  "# " + _("How it learns: optimizer, loss to minimise, metric to report")}
    assert layer_steps[: len(shared_steps) - 2] == [c for c in shared_steps if c not in not_layers]


def test_sequential_refuses_a_skip_connection_with_a_reason():
    spec = PRESETS["mlp-skip"].spec
    with pytest.raises(ValueError, match="Sequential API cannot express"):
        model_source(spec, "sequential")


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="style: expected one of sequential, functional, subclassing"):
        model_source(ModelSpec(), "graph")


def test_the_skip_connection_is_wired_from_the_flattened_pixels_in_both_ways():
    spec = PRESETS["mlp-skip"].spec.replace(augment=True)
    functional = model_source(spec, "functional")
    subclassing = model_source(spec, "subclassing")
    assert "    pixels = layers.Flatten()(x)" in functional
    assert "    x = layers.Concatenate()([x, pixels])" in functional
    assert "        pixels = self.flatten(x)" in subclassing
    assert "        x = self.merge([x, pixels])" in subclassing
    for style in supported_styles(spec):
        assert build_model(spec, style).count_params() == total_params(spec)
