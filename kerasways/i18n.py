"""Languages: gettext catalogues for every word the app shows, and for the generated code's comments.

The catalogues are `.po` files in the repository, one per language:
`kerasways/locale/<lang>/LC_MESSAGES/kerasways.po`. A language is a folder there, so adding one
is adding a catalogue (see locale/README.md), never code. English is the source language: its
catalogue has empty translations, which gettext reads as "the msgid itself".

The compiled `.mo` files are never committed: the first `translator(lang)` compiles the `.po`
with Babel into a cache folder outside the repository (KERASWAYS_CACHE, else ~/.cache/kerasways),
named after the catalogue's content, so an edited catalogue is compiled again (in memory when that
folder cannot be written).

Three ways to translate:
- a literal, at the place it is shown: `_ = translator(lang); _("Train it live")`;
- a constant written at import time (a table, a title): mark it with `N_("...")`, which returns it
  unchanged, and translate it where it is shown: `_(STYLE_TITLES[style])`;
- a message the library keeps as data (`messages.Message`, or an error carrying one such as the
  InvalidValue "seed: expected a whole number from 0 to 2147483647; received -1"):
  `render(message, lang)` translates the template and each nested message, then fills in the
  values ("随机种子：应为 0 到 2147483647 之间的整数；收到的是 -1").

Nothing reads formatted text back into its parts: a message stays data until it is shown.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from kerasways.messages import InvalidValue, Message, UserError

DOMAIN = "kerasways"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"
CACHE_ENV = "KERASWAYS_CACHE"


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools and readers know
    """Mark a constant for translation without translating it: it is translated where it is shown.

    Args:
        message: the English text.

    Returns:
        The same text.
    """
    return message


def _discover() -> dict[str, str]:
    """Language code → its name in that language, for every catalogue in LOCALE_DIR."""
    names = {}
    for folder in sorted(LOCALE_DIR.iterdir()):
        catalogue = folder / "LC_MESSAGES" / f"{DOMAIN}.po"
        if catalogue.is_file():
            names[folder.name] = _display_name(folder.name)
    # The source language first: it is the fallback and the switch's first choice.
    return dict(sorted(names.items(), key=lambda item: item[0] != SOURCE_LANGUAGE))


def _display_name(code: str) -> str:
    # The language's own name for itself, from Babel's CLDR data ("中文", "English").
    from babel import Locale

    return Locale.parse(code).get_display_name(code)


LANGUAGES: dict[str, str] = _discover()  # e.g. {"en": "English", "zh": "中文"}


def check_language(lang: object) -> str:
    """Return `lang` if a catalogue exists for it.

    Raises:
        InvalidValue: "lang: expected one of en, zh; received 'xx'".
    """
    if lang not in LANGUAGES:
        raise InvalidValue("lang", Message(N_("one of {choices}"), {"choices": ", ".join(LANGUAGES)}), lang,
                           title=Message(N_("Language")))
    return str(lang)


def catalogue_path(lang: str) -> Path:
    """Where the `.po` catalogue of `lang` lives in the repository."""
    return LOCALE_DIR / check_language(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"


def cache_dir() -> Path:
    """The folder compiled catalogues are written to (outside the repository)."""
    root = os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", DOMAIN)
    return Path(root) / "locale"


def _compiled(lang: str) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(catalogue_path(lang).read_bytes()), locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def compile_catalogue(lang: str) -> Path:
    """Compile the `.po` of `lang` into a `.mo` in `cache_dir()`, unless that exact catalogue already is.

    Args:
        lang: a language code from LANGUAGES.

    Returns:
        The path of the compiled `.mo` file.

    Raises:
        OSError: when the cache folder cannot be written.
    """
    digest = hashlib.sha256(catalogue_path(lang).read_bytes()).hexdigest()[:16]
    target = cache_dir() / f"{DOMAIN}-{lang}-{digest}.mo"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed, so a reader never opens a half-written file.
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(_compiled(lang))
    os.replace(partial, target)
    return target


@dataclass(frozen=True)
class Translator:
    """The words of one language. Call it like gettext's `_`: `_ = translator("zh"); _("Epochs")`."""

    lang: str
    catalogue: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        """`message` in this language (the English text itself when the catalogue has no translation)."""
        return self.catalogue.gettext(message)

    __call__ = gettext

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """The form of a counted phrase for `count` (Chinese has one form, English two).

        The placeholder is filled in by the caller: `_.ngettext("{count} epoch", "{count} epochs", n).format(count=n)`.
        """
        return self.catalogue.ngettext(singular, plural, count)

    def counted(self, singular: str, plural: str, count: int) -> str:
        """A "{count} …" phrase for `count`, the count written with thousands separators ("5,000 digits")."""
        return self.ngettext(singular, plural, count).format(count=f"{count:,}")


@functools.cache
def translator(lang: str = SOURCE_LANGUAGE) -> Translator:
    """The translator of `lang`, compiling its catalogue on first use.

    Args:
        lang: a language code from LANGUAGES.

    Returns:
        A Translator; calling it translates a string.

    Raises:
        ValueError: for a language without a catalogue.
    """
    try:
        compiled = compile_catalogue(lang).read_bytes()
    except OSError:  # a read-only home or cache: compile in memory, every start
        compiled = _compiled(lang)
    return Translator(lang, gettext.GNUTranslations(io.BytesIO(compiled)))


def best_language(accept_language: str | None) -> str:
    """The language to open the app in for a browser's Accept-Language header.

    Args:
        accept_language: e.g. "zh-CN,zh;q=0.9,en;q=0.8", or None / "" when the browser sent none.

    Returns:
        The catalogued language the browser prefers most (by q-value, then order), matched on the
        primary subtag ("zh-TW" → "zh"); SOURCE_LANGUAGE when none matches.
    """
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", parameters)
        if match:
            try:
                quality = float(match[1])
            except ValueError:
                quality = 0.0
        code = tag.strip().lower().replace("_", "-").split("-")[0]
        if code in LANGUAGES and quality > 0:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else SOURCE_LANGUAGE


def render(message: Message | BaseException | str, lang: str) -> str:
    """A library message in `lang`: its template translated, then its values filled in.

    Args:
        message: a Message, an error carrying one (UserError, InvalidValue), or a marked constant
            (any other error is shown by its own text, translated when the catalogue knows it).
        lang: the language to show it in.

    Returns:
        The finished text.
    """
    _ = translator(check_language(lang))
    if isinstance(message, UserError):
        message = message.message
    if isinstance(message, Message):
        return message.format(_, _.ngettext)
    return _(str(message))
