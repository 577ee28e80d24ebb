"""How values read in text: one format for accuracies, counted nouns, and text that came from a user.

Pages, charts and notes all write through these, so an accuracy reads "92.80%" everywhere and
text from a link or a user is always one short line.
"""

from __future__ import annotations

import math
import unicodedata

# Both Python's format() and Vega-Lite's d3-format read this: the same digits in text and tooltips.
PERCENT_FORMAT = ".2%"
MISSING = "—"  # shown where a value does not exist yet (no validation split, no data)
ELLIPSIS = "…"


def percent(value: float | None) -> str:
    """A fraction as a percentage with two decimals.

    Args:
        value: a fraction such as an accuracy (0.928), or None / NaN when there is none.

    Returns:
        e.g. "92.80%", or "—" when there is no value.
    """
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
