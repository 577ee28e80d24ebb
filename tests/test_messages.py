"""Messages as data: a template and its values, translated part by part when shown."""

from kerasways import i18n
from kerasways.messages import InvalidValue, Message, UserError, counted, verbatim


def test_an_invalid_value_keeps_its_parts_and_reads_as_the_spec_contract_says():
    error = InvalidValue("seed", Message("a whole number from {low} to {high}", {"low": 0, "high": 9}), -1)
    assert isinstance(error, ValueError)
    assert (error.field, error.received) == ("seed", -1)
    assert str(error) == "seed: expected a whole number from 0 to 9; received -1"


def test_a_counted_message_takes_the_form_of_its_count_and_separates_thousands():
    assert str(counted("{count} epoch", "{count} epochs", 1)) == "1 epoch"
    assert str(counted("{count} digit", "{count} digits", 5000)) == "5,000 digits"


def test_rendering_translates_the_template_and_each_nested_message_but_not_plain_values():
    trained = Message("Trained {epochs} ({steps}) in {seconds} s.",
                      {"epochs": counted("{count} epoch", "{count} epochs", 3), "steps": "x_y", "seconds": 1.5})
    assert i18n.render(trained, "en") == "Trained 3 epochs (x_y) in 1.5 s."
    assert i18n.render(trained, "zh") == "训练了 3 轮（x_y），用时 1.5 秒。"
    assert i18n.render(InvalidValue("seed", Message("anything"), 1), "en") == "seed: expected anything; received 1"


def test_a_message_and_an_error_carrying_one_survive_a_trip_between_processes():
    import pickle

    note = Message("Trained {epochs} ({steps}) in {seconds} s.",
                   {"epochs": counted("{count} epoch", "{count} epochs", 2), "steps": "x", "seconds": "1.5"})
    assert pickle.loads(pickle.dumps(note)) == note
    error = pickle.loads(pickle.dumps(UserError(note)))
    assert (type(error), str(error), error.message) == (UserError, "Trained 2 epochs (x) in 1.5 s.", note)
    assert i18n.render(error, "zh") == "训练了 2 轮（x），用时 1.5 秒。"


def test_verbatim_text_reads_the_same_in_every_language():
    # "Seed" is a msgid the catalogue translates; as a form from code it must stay as it is.
    assert i18n.render(verbatim("Seed"), "zh") == "Seed"
    error = InvalidValue("layers[0]", verbatim("dense-units-activation"), "dense-8")
    assert i18n.render(error, "zh") == "layers[0]：应为 dense-units-activation；收到的是 'dense-8'"


def test_the_form_of_a_refused_value_is_the_one_the_catalogue_translates():
    from kerasways import spec
    from kerasways.messages import INVALID_VALUE

    assert spec.INVALID_VALUE == INVALID_VALUE
    assert i18n.translator("zh")(INVALID_VALUE) != INVALID_VALUE
