"""Messages as data: what the library tells a user, kept as a template and its values until shown.

The library never formats user-facing text for a page to parse back. It builds a `Message` (a
gettext msgid with `{placeholders}` and the values that fill them) or raises an error that carries
one (`UserError`, and `InvalidValue` for a setting outside its range). A page translates the parts,
then formats: `i18n.render(message, lang)`. `str(message)` is the English text, for logs and tests.

    >>> str(Message("Trained {epochs} in {seconds} s.", {"epochs": 5, "seconds": "3.1"}))
    'Trained 5 in 3.1 s.'

A value is shown as it is, except a nested `Message`, which is translated in turn ("5 epochs" is
itself a counted message). Plain strings are never translated: user text and names from code stay
exactly what they were.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# The form of every InvalidValue; marked for translation in the catalogue (see i18n).
INVALID_VALUE = "{field}: expected {expected}; received {received}"


@dataclass(frozen=True)
class Message:
    """One user-facing sentence before translation.

    Args:
        template: the English msgid, with `{name}` placeholders (marked with `N_` where written).
        values: what fills the placeholders; a nested Message is translated too.
        plural: the plural msgid when the sentence is counted; the count is `values["count"]`.
    """

    template: str
    values: Mapping[str, object] = field(default_factory=dict)
    plural: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def format(self, translate: Callable[[str], str] | None = None,
               translate_plural: Callable[[str, str, int], str] | None = None) -> str:
        """The sentence with its values filled in, each part translated by the given functions.

        Args:
            translate: gettext's `_` (None: English).
            translate_plural: gettext's `ngettext` (None: English plural rules).

        Returns:
            The finished text.
        """
        if self.plural:
            count = int(self.values.get("count", 2))
            template = (translate_plural(self.template, self.plural, count) if translate_plural
                        else (self.template if count == 1 else self.plural))
        else:
            template = translate(self.template) if translate else self.template
        filled = {name: value.format(translate, translate_plural) if isinstance(value, Message) else value
                  for name, value in self.values.items()}
        if self.plural and isinstance(filled.get("count"), int):
            filled["count"] = f"{filled['count']:,}"
        return template.format(**filled) if filled else template

    def __str__(self) -> str:
        return self.format()

    def __reduce__(self):
        # A read-only mapping does not pickle; a message crosses processes (a worker's training outcome).
        return (Message, (self.template, dict(self.values), self.plural))


def counted(singular: str, plural: str, count: int, **values: object) -> Message:
    """A counted message ("{count} epoch" / "{count} epochs") for `count`.

    Args:
        singular: the msgid for one.
        plural: the msgid for many.
        count: how many.
        **values: further placeholders.

    Returns:
        A Message whose form is chosen when it is shown, by the reader's language's plural rule.
    """
    return Message(singular, {"count": count, **values}, plural=plural)


class UserError(Exception):
    """An error a user can meet, carrying its message as data (`.message`) rather than only as text."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


class InvalidValue(UserError, ValueError):
    """A setting outside what is allowed: which field, what was expected, what arrived.

    It is a ValueError (the spec's contract) whose parts stay separate, so a page can name the field
    in the reader's language and a share link can say which setting it ignored, without parsing text.

    Args:
        field: the field's path in code, e.g. "seed" or "layers[1].units".
        expected: what is allowed, as a Message (e.g. "a whole number from {low} to {high}").
        received: the value that arrived (shown with repr).
    """

    def __init__(self, field: str, expected: Message, received: object) -> None:
        self.field = field
        self.expected = expected
        self.received = received
        super().__init__(Message(INVALID_VALUE, {"field": field, "expected": expected, "received": repr(received)}))
