"""The real Streamlit app, driven with AppTest: pages render, choices change the code, training works."""

import pytest
from streamlit.testing.v1 import AppTest

from kerasways.budget import DEFAULT_LIMIT_SECONDS, estimate
from kerasways.data import BUNDLED_TRAIN_DIGITS
from kerasways.engine import TrainingRequest
from kerasways.spec import LEARNING_RATE_RANGE
from tests.support import app_test, canvas_state, digit_canvas, reload_of, rerun_until


def shown_code(at: AppTest) -> str:
    return at.code[0].value


def test_build_page_renders_the_reference_network_in_sequential_style():
    at = app_test()
    code = shown_code(at)
    assert "keras.Sequential(" in code and "layers.Dense(128" in code
    assert "101,770" in " ".join(md.value for md in at.markdown)


def test_switching_the_way_changes_the_code_shown():
    at = app_test()
    seen = {}
    for style in ("functional", "subclassing", "sequential"):
        at.radio(key="w_style").set_value(style).run()
        assert not at.exception
        seen[style] = shown_code(at)
    assert "keras.Model(inputs=inputs, outputs=outputs" in seen["functional"]
    assert "class DigitClassifier(keras.Model)" in seen["subclassing"]
    assert "keras.Sequential(" in seen["sequential"]
    assert len(set(seen.values())) == 3


def test_choosing_a_preset_rebuilds_the_code_and_the_layer_table():
    at = app_test()
    at.selectbox(key="w_preset").set_value("small-cnn").run()
    assert not at.exception
    assert "layers.Conv2D(16, 3" in shown_code(at)
    table = at.dataframe[-1].value
    assert list(table["Type"])[:2] == ["Reshape", "Conv2D"]


def shown_preset(at: AppTest) -> str:
    """The preset box as the reader sees it (its options are the titles, its value a preset id)."""
    box = at.selectbox(key="w_preset")
    return box.options[box.index]


def test_a_preset_sets_its_whole_architecture_augmentation_included():
    at = app_test()
    at.selectbox(key="w_preset").set_value("drawing-cnn").run()
    assert not at.exception
    assert "layers.RandomRotation(" in shown_code(at) and "layers.Conv2D(32, 3" in shown_code(at)
    assert at.checkbox(key="w_augment").value
    assert shown_preset(at) == "CNN for drawings (augmented)"  # not "(your own edits)"
    assert at.query_params["aug"] == "0.03_0.1_0.1_0.05"
    at.selectbox(key="w_preset").set_value("small-cnn").run()
    assert "Random" not in shown_code(at) and "layers.Conv2D(16, 3" in shown_code(at)
    assert not at.checkbox(key="w_augment").value
    assert shown_preset(at) == "Small CNN"
    assert at.query_params["aug"] == "0"


def test_a_preset_keeps_the_optimizer_rate_and_seed_and_own_edits_say_so():
    at = app_test()
    at.number_input(key="w_seed").set_value(7).run()
    at.selectbox(key="w_optimizer").set_value("sgd").run()
    at.selectbox(key="w_preset").set_value("mlp-skip").run()
    assert at.checkbox(key="w_skip").value and shown_preset(at) == "MLP with a skip connection"
    assert (at.query_params["seed"], at.query_params["opt"], at.query_params["skip"]) == ("7", "sgd", "1")
    at.checkbox(key="w_augment").check().run()  # an edit of the preset's architecture
    assert shown_preset(at) == "(your own edits)"


def test_a_new_row_in_the_layer_editor_takes_its_kinds_defaults():
    import pandas as pd

    from app_pages.widgets import COLUMNS, layers_from_frame
    from kerasways.spec import LAYER_DEFAULTS, LAYER_TITLES, LayerSpec

    rows = [{COLUMNS["layer"]: LAYER_TITLES[kind]} for kind in LAYER_DEFAULTS]
    assert layers_from_frame(pd.DataFrame(rows)) == tuple(LAYER_DEFAULTS.values())
    typed = pd.DataFrame([{COLUMNS["layer"]: "Conv2D", COLUMNS["size"]: 8.0, COLUMNS["rate"]: 0.5}])
    assert layers_from_frame(typed) == (LayerSpec("conv2d", units=8, kernel_size=LAYER_DEFAULTS["conv2d"].kernel_size),)


SETTINGS_LINK = {"epochs": "7", "batch": "50", "val": "0.2"}


def shown_settings(at: AppTest) -> dict:
    """The training settings as the Train or Compare page shows them, written as the link writes them."""
    return {"epochs": str(at.number_input(key="w_epochs").value), "batch": str(at.number_input(key="w_batch").value),
            "val": f"{at.number_input(key='w_val').value:g}"}


def test_training_settings_survive_every_walk_through_the_pages_and_equal_the_link(data_dir):
    at = app_test(SETTINGS_LINK)
    # Train and Compare show the same settings widgets; each page's own are new widgets to Streamlit.
    for page in ("train", "compare", "train", "build", "compare", "draw", "train", "class", "compare", "compare"):
        at.switch_page(f"app_pages/{page}_page.py").run()
        assert not at.exception, at.exception
        assert {key: at.query_params[key] for key in SETTINGS_LINK} == SETTINGS_LINK, page
        if page in ("train", "compare"):
            assert shown_settings(at) == SETTINGS_LINK, page
    at.number_input(key="w_epochs").set_value(9).run()  # changed on Compare: Train and the link follow
    at.switch_page("app_pages/train_page.py").run()
    assert at.query_params["epochs"] == "9" and shown_settings(at)["epochs"] == "9"


def test_a_refused_training_setting_is_explained_and_the_kept_one_is_shown():
    at = app_test()
    at.switch_page("app_pages/train_page.py").run()
    at.number_input(key="w_train_size").set_value(50).run()  # fewer than a validation split and a few batches
    assert not at.exception
    refusal = at.error[0].value
    assert "Training digits: expected 0 (all digits) or at least 100" in refusal
    assert "last valid ones are kept" in refusal
    assert at.number_input(key="w_train_size").value == 0 and at.query_params["digits"] == "0"
    at.run()
    assert not at.error  # said once, not on every rerun


def test_a_skip_connection_explains_why_sequential_cannot_express_it():
    at = app_test()
    at.checkbox(key="w_skip").check().run()
    assert not at.exception
    assert not at.code  # no Sequential code pretends to do it
    assert any("cannot express" in info.value for info in at.info)
    at.radio(key="w_style").set_value("functional").run()
    assert "layers.Concatenate()" in shown_code(at)


def test_a_learning_rate_out_of_range_never_reaches_the_network():
    at = app_test()
    at.selectbox(key="w_optimizer").set_value("sgd").run()
    assert 'optimizer="sgd"' in shown_code(at)
    at.number_input(key="w_learning_rate").set_value(0.5).run()
    assert "keras.optimizers.SGD(learning_rate=0.5)" in shown_code(at)
    at.number_input(key="w_learning_rate").set_value(50.0).run()  # beyond what a network accepts
    assert not at.exception
    # Streamlit puts a number outside the field's range back to the field's default, its minimum (a
    # browser never sends one: its field refuses it); the field, the code and the link all say so.
    assert at.number_input(key="w_learning_rate").value == LEARNING_RATE_RANGE[0] == 1e-6
    assert "keras.optimizers.SGD(learning_rate=0.000001)" in shown_code(at)  # written as the link writes it
    assert at.query_params["lr"] == "0.000001"


def test_the_train_page_says_how_long_a_training_takes_and_refuses_one_far_too_long():
    at = app_test()
    at.switch_page("app_pages/train_page.py").run()
    assert any(caption.value.startswith("About ") and caption.value.endswith(" of training.") for caption in at.caption)
    # A tester's link, every setting valid: 11 convolutions of 256 filters, 100 epochs of batches of 1.
    at = app_test({"layers": "_".join(["conv2d-256-3-relu"] * 11), "epochs": "100", "batch": "1"})
    at.switch_page("app_pages/train_page.py").run()
    (said,) = [warning.value for warning in at.warning]  # before Start is pressed
    huge = TrainingRequest(at.session_state["spec"], at.session_state["style"], at.session_state["config"])
    expected = estimate([huge], BUNDLED_TRAIN_DIGITS, DEFAULT_LIMIT_SECONDS)  # the offline digits, the default limit
    assert said == str(expected.message()) and "more than the 5 min this server allows" in said
    at.button(key="start").click().run()
    assert not at.exception
    (refusal,) = [warning.value for warning in at.warning if warning.value != said]
    assert refusal.startswith(said)  # the same words, then what to reduce
    assert "fewer filters" in refusal and "Conv2D(256, 3×3, relu)" in refusal
    assert at.session_state["book"].runs() == [] and not at.button(key="start").disabled  # nothing started


@pytest.mark.slow  # trains in the worker pool
def test_train_page_start_poll_and_results():
    at = app_test()
    at.switch_page("app_pages/train_page.py").run()
    assert not at.exception
    at.number_input(key="w_epochs").set_value(2).run()
    at.number_input(key="w_train_size").set_value(1000).run()
    at.button(key="start").click().run()
    assert not at.exception
    assert at.button(key="start").disabled  # a second Start cannot be clicked while it runs
    rerun_until(at, lambda at: any(metric.label == "Test accuracy" for metric in at.metric))
    accuracy = next(metric for metric in at.metric if metric.label == "Test accuracy")
    assert float(accuracy.value.rstrip("%")) > 50
    assert any("Trained 2 epochs" in success.value for success in at.success)
    mistakes = next(html.proto.body for html in at.get("html") if "→" in html.proto.body)
    assert mistakes.count("<img src='data:image/png;base64,") == 16  # the 16 most confident mistakes
    learned = next(html.proto.body for html in at.get("html") if "unit 1 of 128" in html.proto.body)
    assert learned.count("<img src=") == 32  # the reference MLP's first 32 units' weights, the rest counted
    assert any(caption.value == "96 more units hidden." for caption in at.caption)


@pytest.mark.slow  # trains in the worker pool
def test_a_convolution_network_shows_its_first_filters_and_what_they_make_of_test_digits():
    at = app_test()
    at.selectbox(key="w_preset").set_value("small-cnn").run()
    at.switch_page("app_pages/train_page.py").run()
    at.number_input(key="w_epochs").set_value(1).run()
    at.number_input(key="w_train_size").set_value(500).run()
    at.button(key="start").click().run()
    rerun_until(at, lambda at: any(metric.label == "Test accuracy" for metric in at.metric))
    assert any(header.value == "What the network learned" for header in at.subheader)
    filters = [html.proto.body for html in at.get("html") if "filter 1 of" in html.proto.body]
    digits = [html.proto.body for html in at.get("html") if "test digit" in html.proto.body]
    assert len(filters) == 1 and len(digits) == 3  # the filters, then three test digits with their feature maps
    assert filters[0].count("<img src=") == 16 and "filter 16 of 16" in filters[0]  # the small CNN's 16 filters
    assert all(row.count("<img src=") == 17 and "channel 16 of 16" in row for row in digits)  # the digit, 16 maps


@pytest.mark.slow  # trains in the worker pool
def test_compare_page_trains_all_three_and_proves_them_identical():
    at = app_test()
    at.switch_page("app_pages/compare_page.py").run()
    assert not at.exception
    assert len(at.table) == 1  # the which-way-when table is there before any training
    assert "Several inputs or outputs" in at.table[0].value.index
    at.number_input(key="w_epochs").set_value(1).run()
    at.number_input(key="w_train_size").set_value(1000).run()
    at.button(key="train_all").click().run()
    rerun_until(at, lambda at: any("Same seed" in md.value for md in at.markdown))
    results = at.table[0].value
    assert sorted(results.index) == ["Functional API", "Model subclassing", "Sequential API"]
    assert results["Test accuracy"].nunique() == 1  # same seed, same accuracy to the last digit
    verdict = next(md.value for md in at.markdown if "Same seed" in md.value)
    assert "identical" in verdict and "not identical" not in verdict


@pytest.mark.slow  # trains in the worker pool
def test_draw_page_offers_quick_training_then_reads_a_drawn_digit(mnist, data_dir):
    from app_pages import server

    server.run_registry.clear()  # a server that has not trained the network for drawings yet
    at = app_test()
    at.switch_page("app_pages/draw_page.py").run()
    assert not at.exception
    assert any("No trained model yet" in info.value for info in at.info)  # a call to action, not an error
    at.button(key="quick_train").click().run()
    rerun_until(at, lambda at: any(box.key == "w_draw_run" for box in at.selectbox))
    assert any("Draw a digit" in info.value for info in at.info)  # blank canvas: a hint, no prediction
    assert any(caption.value.startswith("Nothing to show yet") for caption in at.caption)  # nothing inside either
    assert not any("Every layer, on your drawing" in md.value for md in at.markdown)

    correct, chart_specs = 0, set()
    for index in range(5):
        at.session_state["canvas"] = canvas_state(digit_canvas(mnist.x_test[index]))  # large, off-centre
        at.run()
        assert not at.exception, at.exception
        reading = next(metric for metric in at.metric if metric.label == "The model reads")
        correct += int(reading.value) == int(mnist.y_test[index])
        chart_specs.add(at.get("vega_lite_chart")[0].proto.spec)
    assert correct >= 4
    assert len(chart_specs) == 1  # same spec, new data: the browser redraws the bars in place
    assert any(header.value == "What the network sees" for header in at.subheader)
    # Inside the network: every layer of the network for drawings, in order, and where it looks.
    assert any(header.value == "Inside the network" for header in at.subheader)
    layer_lines = [md.value.split(" · ")[0].strip("*`") for md in at.markdown if " · `" in md.value]
    assert layer_lines[-3:] == ["dense", "dropout_2", "classifier"] and "conv_2" in layer_lines
    at.selectbox(key="w_inside_digit").set_value(4).run()
    assert not at.exception
    assert any("Saliency for 4" in block.proto.body for block in at.get("html"))


def test_a_shared_link_opens_that_setup():
    at = app_test({"way": "subclassing", "layers": "dense-64-tanh_dropout-0.3", "opt": "sgd", "lr": "0.05",
                   "seed": "7", "epochs": "4"})
    assert not at.exception
    code = shown_code(at)
    assert "class DigitClassifier" in code and "layers.Dense(64, activation=\"tanh\")" in code
    assert "layers.Dropout(0.3)" in code and "keras.optimizers.SGD(learning_rate=0.05)" in code
    assert "keras.utils.set_random_seed(7)" in code
    assert not at.warning


def test_an_absurd_link_opens_with_defaults_and_says_what_was_ignored():
    at = app_test({"layers": "dense-99999999-relu", "lr": "NaN", "epochs": "-3", "way": "<script>"})
    assert not at.exception
    assert "could not be used" in at.warning[0].value
    notes = link_notes(at)
    assert "Layers (layers), layer 1, units: expected a whole number from 1 to 4096; received “99999999”" in notes
    assert "Learning rate (lr): expected a number from 1e-06 to 10; received “NaN”" in notes
    assert "Epochs (epochs): expected a whole number from 1 to 100; received “-3”" in notes
    assert "Way (way): expected one of sequential, functional, subclassing; received “&lt;script&gt;”" in notes
    assert "layers.Dense(128, activation=\"relu\")" in shown_code(at)  # the reference network instead


def link_notes(at: AppTest) -> str:
    """The text of the list of link problems (an HTML element of escaped plain text)."""
    return next(element.proto.body for element in at.get("html") if "<li>" in element.proto.body)


def test_what_a_link_says_is_shown_as_plain_text_never_as_a_link_or_html():
    at = app_test({"way": "[Log in to continue](https://evil.example/login)", "opt": "<b>bold</b>"})
    assert not at.exception
    assert all("evil.example" not in element.value for element in [*at.warning, *at.markdown, *at.info])
    notes = link_notes(at)
    assert "“[Log in to continue](https://evil.exam" in notes  # as typed (shortened), not rendered
    assert "<a " not in notes and "<b>" not in notes and "&lt;b&gt;" in notes


@pytest.mark.slow  # trains in the worker pool
def test_a_diverging_training_ends_with_a_clear_message_and_the_app_keeps_working():
    at = app_test({"layers": "dense-256-relu_dense-256-relu_dense-256-relu", "opt": "sgd", "lr": "10.0",
                   "epochs": "3", "digits": "2000"})
    at.switch_page("app_pages/train_page.py").run()
    at.button(key="start").click().run()
    rerun_until(at, lambda at: bool(at.error))
    assert "loss became NaN" in at.error[0].value and "too high" in at.error[0].value
    assert not at.button(key="start").disabled  # the user can fix the rate and start again


def draw_page_choices(at: AppTest) -> list[str]:
    """The titles of the models the Draw page offers."""
    return list(next(box for box in at.selectbox if box.key == "w_draw_run").options)


@pytest.mark.slow  # trains in the worker pool
def test_every_run_however_started_reaches_the_draw_page_and_survives_a_reload():
    at = app_test()
    at.switch_page("app_pages/compare_page.py").run()
    at.number_input(key="w_epochs").set_value(1).run()
    at.number_input(key="w_train_size").set_value(1000).run()
    at.button(key="train_all").click().run()
    assert at.query_params["runs"].count(",") == 2  # the link names the group while it trains
    rerun_until(at, lambda at: any("Same seed" in md.value for md in at.markdown))
    # A second network in the same way does not replace the first: both stay choosable.
    at.switch_page("app_pages/build_page.py").run()
    at.selectbox(key="w_preset").set_value("mlp-dropout").run()
    at.switch_page("app_pages/train_page.py").run()
    at.button(key="start").click().run()
    rerun_until(at, lambda at: any(metric.label == "Test accuracy" for metric in at.metric))
    at.switch_page("app_pages/draw_page.py").run()
    choices = draw_page_choices(at)
    assert len(choices) == 4
    assert sum(title.startswith("Reference MLP · Sequential API") for title in choices) == 1
    assert choices[-1].startswith("MLP with dropout · Sequential API · seed 42 · ")
    assert choices[-1].endswith("%")

    # A reload opens the same address in a new session of the same browser: every finished run is there again.
    reloaded = reload_of(at)
    reloaded.switch_page("app_pages/draw_page.py").run()
    assert not reloaded.exception
    assert draw_page_choices(reloaded) == choices
    stranger = app_test(dict(at.query_params.items()))  # another browser, the same link: the set-up only
    assert any("started in another browser" in box.value for box in stranger.info)
    stranger.switch_page("app_pages/draw_page.py").run()
    offered = [box.options for box in stranger.selectbox if box.key == "w_draw_run"]  # at most the class's network
    assert not offered or not set(offered[0]) & set(choices)


def test_a_link_naming_runs_the_server_no_longer_has_says_so():
    at = app_test({"runs": "job-999-gone,job-998-gone"})
    assert not at.exception
    assert any("no longer on the server" in info.value and "2 hours" in info.value for info in at.info)


@pytest.mark.slow  # trains in the worker pool
def test_no_validation_is_said_in_words_never_nan():
    at = app_test()
    at.switch_page("app_pages/train_page.py").run()
    at.number_input(key="w_epochs").set_value(1).run()
    at.number_input(key="w_train_size").set_value(1000).run()
    at.number_input(key="w_val").set_value(0.0).run()
    at.button(key="start").click().run()
    rerun_until(at, lambda at: any(metric.label == "Test accuracy" for metric in at.metric) or bool(at.error))
    assert not at.error, at.error[0].value
    validation = next(metric for metric in at.metric if metric.label == "Validation accuracy")
    assert validation.value == "none"
    shown = [element.value for element in [*at.metric, *at.markdown, *at.success, *at.caption]]
    assert not any("nan" in str(text).lower() for text in shown)


def test_streamlit_no_longer_clears_keras_after_every_run():
    from app_pages.server import keras_patch_applied

    app_test()
    assert keras_patch_applied()


@pytest.mark.slow  # trains in the worker pool
def test_a_network_that_did_not_learn_is_not_announced_as_a_success():
    at = app_test({"lr": "10", "epochs": "1", "digits": "1000"})
    at.switch_page("app_pages/train_page.py").run()
    at.button(key="start").click().run()
    rerun_until(at, lambda at: any(metric.label == "Test accuracy" for metric in at.metric))
    assert not at.success
    verdict = next(warning.value for warning in at.warning if "did not learn" in warning.value)
    assert "learning rate (10) is probably too high" in verdict and "0.001" in verdict


@pytest.mark.slow  # trains in the worker pool
def test_one_epoch_at_a_time_then_resume_continues_the_same_run():
    at = app_test()
    at.switch_page("app_pages/train_page.py").run()
    at.number_input(key="w_epochs").set_value(3).run()
    at.number_input(key="w_train_size").set_value(1000).run()
    at.button(key="step").click().run()
    rerun_until(at, lambda at: any("Paused after epoch 1 of 3" in info.value for info in at.info))
    at.button(key="step").click().run()
    rerun_until(at, lambda at: any("Paused after epoch 2 of 3" in info.value for info in at.info))
    at.button(key="resume").click().run()
    rerun_until(at, lambda at: bool(at.success))
    assert "Trained 3 epochs" in at.success[0].value
    run = at.session_state["book"].latest()
    losses, _, epochs, steps = run.history.snapshot()
    assert [point["epoch"] for point in epochs] == [1, 2, 3] and len(losses) == 3 * steps
    assert len(at.session_state["book"].runs()) == 1  # one run, three parts


def test_switching_augmentation_on_shows_what_the_network_sees():
    at = app_test()
    assert not any(header.value == "What the network sees while training" for header in at.subheader)
    at.checkbox(key="w_augment").check().run()
    assert not at.exception
    assert "layers.RandomRotation(" in shown_code(at)
    assert any(header.value == "What the network sees while training" for header in at.subheader)
    grid = [element.proto.body for element in at.get("html") if "step 6" in element.proto.body]
    assert len(grid) == 4 and all(row.count("<img") == 7 for row in grid)  # 4 digits, original + 6 versions
    assert at.query_params["aug"] == "0.03_0.1_0.1_0.05"  # today's default strengths, written out


def test_an_unexpected_error_is_one_sentence_without_a_traceback_or_server_paths(monkeypatch, caplog):
    import kerasways.codegen

    def broken(*args, **kwargs):
        raise RuntimeError("failed in /srv/kerasways/secret_module.py")

    monkeypatch.setattr(kerasways.codegen, "script_source", broken)  # a bug on page 1, after its code
    at = app_test()
    assert not at.exception  # no traceback element on the page
    (error,) = at.error
    assert error.value.startswith("Something went wrong on this page. Nothing you made is lost")
    assert "/srv" not in error.value and "RuntimeError" not in error.value
    assert "secret_module.py" in caplog.text  # the server's log keeps the details
    assert at.get("code")  # what the page drew before the error is still there


def test_the_served_app_puts_the_browser_id_and_the_short_error_in_front_of_streamlit():
    import ast
    from pathlib import Path

    source = Path(__file__).parent.parent / "app.py"
    calls = [node for node in ast.walk(ast.parse(source.read_text())) if isinstance(node, ast.Call)
             and ast.unparse(node.func) == "st.App"]
    (app_call,) = calls  # `streamlit run app.py` serves this st.App (Streamlit finds it in the file)
    keywords = {keyword.arg: ast.unparse(keyword.value) for keyword in app_call.keywords}
    assert keywords["middleware"] == "[Middleware(BrowserIdCookie)]"
    assert keywords["on_script_error"] == "short_error_instead_of_traceback"
    config = (source.parent / ".streamlit" / "config.toml").read_text()
    assert 'showErrorDetails = "none"' in config
