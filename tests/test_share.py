"""Share links: round trips are exact, bad links open with defaults and say what was ignored."""

import pytest

from kerasways.share import from_query, to_query
from kerasways.spec import PRESETS, STYLES, ModelSpec, TrainConfig, supported_styles

CONFIGS = [TrainConfig(), TrainConfig(epochs=12, batch_size=128, train_size=3000, validation_split=0.25)]


@pytest.mark.parametrize("preset", list(PRESETS))
def test_spec_to_url_to_spec_is_identity(preset):
    for style in supported_styles(PRESETS[preset]):
        for config in CONFIGS:
            spec = PRESETS[preset].replace(seed=7, optimizer="rmsprop", learning_rate=0.0025)
            assert from_query(to_query(spec, style, config)) == (spec, style, config, [])


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"layers": "dense-0-relu"}, "layers[0].units"),
        ({"layers": "conv2d-16-3-relu_flatten_conv2d-8-3-relu"}, "Conv2D"),
        ({"layers": "dense-128"}, "expected dense-units-activation"),
        ({"layers": "%%%"}, "layers[0].kind"),
        ({"lr": "fast"}, "lr ignored"),
        ({"lr": "1e9"}, "learning_rate"),
        ({"seed": "-5"}, "seed"),
        ({"epochs": "100000"}, "epochs"),
        ({"way": "keras.Sequential()"}, "way: expected one of"),
        ({"skip": "maybe"}, "skip"),
        ({"token": "x"}, "Unknown link parameters ignored: token"),
    ],
)
def test_a_bad_field_falls_back_to_its_default_and_is_named(params, mentions):
    spec, style, config, notes = from_query({"seed": "3", **params} if "seed" not in params else params)
    assert len(notes) == 1 and mentions in notes[0], notes
    assert style in STYLES
    defaults = ModelSpec()
    if "layers" in params:
        assert spec.layers == defaults.layers
    if "seed" not in params:
        assert spec.seed == 3  # the good fields of the link are still used


def test_a_skip_link_with_the_sequential_way_opens_the_functional_way():
    query = to_query(PRESETS["MLP with a skip connection"], "functional", TrainConfig())
    spec, style, _, notes = from_query({**query, "way": "sequential"})
    assert spec.topology == "skip" and style == "functional"
    assert "Sequential cannot express" in notes[0]
