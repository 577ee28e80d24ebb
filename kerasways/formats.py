"""How values read in text: one format for accuracies, counted nouns, and text that came from a user.

Pages, charts and notes all write through these, so an accuracy reads "92.80%" everywhere and
text from a link or a user is always one short line. Each takes the page's language where the
languages differ: Chinese writes the same digits and percentages, but its own units ("3.1 秒")
and no plural forms ("5 轮").
"""

from __future__ import annotations

import math
import unicodedata
from decimal import Decimal

from kerasways import messages
from kerasways.i18n import N_, SOURCE_LANGUAGE, check_language, translator
from kerasways.messages import Message

# Both Python's format() and Vega-Lite's d3-format read this: the same digits in text and tooltips.
PERCENT_FORMAT = ".2%"
MISSING = "—"  # shown where a value does not exist yet (no validation split, no data)
ELLIPSIS = "…"


def percent(value: float | None, lang: str = SOURCE_LANGUAGE) -> str:
    """A fraction as a percentage with two decimals (written the same way in every language so far).

    Args:
        value: a fraction such as an accuracy (0.928), or None / NaN when there is none.
        lang: the page's language.

    Returns:
        e.g. "92.80%", or "—" when there is no value.
    """
    check_language(lang)
    if value is None or math.isnan(value):
        return MISSING
    return format(float(value), PERCENT_FORMAT)


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """A count with its noun, singular or plural.

    Args:
        count: how many.
        noun: the singular noun, e.g. "epoch".
        plural_noun: the plural when adding "s" is wrong (e.g. "entries").

    Returns:
        e.g. "1 epoch", "2 epochs", "5,000 digits".
    """
    return f"{count:,} {noun if count == 1 else plural_noun or noun + 's'}"


def counted(singular: str, plural_form: str, count: int, lang: str = SOURCE_LANGUAGE) -> str:
    """A count with its noun in the page's language, from a "{count} …" pair marked for translation.

    Args:
        singular, plural_form: the English forms, e.g. "{count} epoch", "{count} epochs".
        count: how many.
        lang: the page's language.

    Returns:
        e.g. "1 epoch", "5,000 digits", or in Chinese "5 轮".
    """
    return translator(check_language(lang)).counted(singular, plural_form, count)


def seconds_text(seconds: float, lang: str = SOURCE_LANGUAGE, decimals: int = 1) -> str:
    """A time in seconds, e.g. "3.1 s" ("3.1 秒").

    Args:
        seconds: the time.
        lang: the page's language.
        decimals: digits after the point.

    Returns:
        The time with its unit.
    """
    return translator(check_language(lang))("{seconds} s").format(seconds=f"{seconds:.{decimals}f}")


def duration(seconds: float, lang: str = SOURCE_LANGUAGE) -> str:
    """A rounded time a person reads at a glance: "12 s", "3 min 5 s" ("12 秒", "3 分 5 秒"), "…" when unknown.

    Args:
        seconds: the time, or NaN / infinity while it is not known yet.
        lang: the page's language.

    Returns:
        The time in words.
    """
    _ = translator(check_language(lang))
    if not math.isfinite(seconds):
        return ELLIPSIS
    whole = int(round(seconds))
    if whole < 60:
        return _("{seconds} s").format(seconds=whole)
    return _("{minutes} min {seconds} s").format(minutes=whole // 60, seconds=whole % 60)


def exact_number(value: float) -> str:
    """A real number as the generated code and share links write it: reads back as exactly this float.

    The shortest digits that give the float back (Python's repr), written without an exponent: an
    exponent's "-" would split a share link's layer text ("dropout-1e-05"), and rounding (`:g`) would
    show one number while the network is built with another. -0.0 is written "0.0".

    Args:
        value: a finite number.

    Returns:
        e.g. "0.1", "0.25", "0.000001", "0.123456789", "10.0", "0.0" (a whole number keeps its ".0": it
        is a float in the code, as Keras' optimizers require, and reads back as one).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a whole number given as one stays one
    number = float(value) + 0.0  # -0.0 + 0.0 is 0.0: no "-0" in code or links
    if not math.isfinite(number):
        raise ValueError(f"value: expected a finite number; received {value!r}")
    return format(Decimal(repr(number)), "f")


def rough_duration(seconds: float) -> Message:
    """An estimated time, rounded as far as an estimate deserves: "5 s", "40 s", "4 min", "16 h", "10 days".

    Args:
        seconds: the estimate (at least 1 s is said).

    Returns:
        A Message, for `i18n.render` (the library says it; the page's language writes it).
    """
    if seconds < 9.5:
        return Message(N_("{seconds} s"), {"seconds": max(1, round(seconds))})
    if seconds < 57.5:
        return Message(N_("{seconds} s"), {"seconds": 5 * round(seconds / 5)})
    if seconds < 59.5 * 60:
        return Message(N_("{minutes} min"), {"minutes": round(seconds / 60)})
    if seconds < 47.5 * 3600:
        return Message(N_("{hours} h"), {"hours": round(seconds / 3600)})
    return messages.counted("{count} day", "{count} days", round(seconds / 86400))


def plain_text(value: object, limit: int = 40) -> str:
    """Text that came from a link or a user, made safe to quote in one line of a message.

    Line breaks, tabs and invisible characters (control and format characters, such as the
    ones that reverse the direction of text) become spaces, runs of spaces become one, and text
    longer than `limit` is cut, ending with "…". Markup is left as it is: the page shows the
    result as plain text, so a user sees exactly what arrived.

    Args:
        value: anything; it is converted with str().
        limit: the most characters returned, the ellipsis included (at least 2).

    Returns:
        The shortened one-line text.
    """
    if limit < 2:
        raise ValueError(f"limit: expected at least 2 characters; received {limit!r}")
    cleaned = "".join(" " if unicodedata.category(char)[0] in "CZ" else char for char in str(value))
    text = " ".join(cleaned.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS
