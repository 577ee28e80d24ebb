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

`translate_message` still reads English text back into its template, for the modules that do not
build Messages yet (runs.py's outcomes and titles, store and collection errors); nothing new should
use it.
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
MAX_NESTING = 4  # templates inside templates: "Trained {epochs} …" holds "{count} epochs"
# Only {identifier} is a placeholder: the generated code's f-strings ({len(labels):,}) stay literal text.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Placeholders shown exactly as they are: names from code (a field, a link key, a list of choices) and
# the parameter names a link sent. A value received is translated only when it is the library's own
# words ("something else"): text from a user arrives quoted (“…” or '…') and matches no msgid.
VERBATIM = frozenset({"listed", "field", "key", "choices"})


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


def _template_pattern(template: str) -> re.Pattern | None:
    """A regex matching text built from `template` by str.format, or None when it has no placeholder."""
    names = PLACEHOLDER.findall(template)
    if not names:
        return None
    parts, seen, position = [], set(), 0
    for found in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position:found.start()]))
        name = found[1]
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        position = found.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), flags=re.DOTALL)


@functools.cache
def _templates(lang: str) -> tuple[tuple[re.Pattern, str, str], ...]:
    """(pattern, msgid, plural msgid or "") of every template in the catalogue, the most specific first."""
    from babel.messages.pofile import read_po

    with open(catalogue_path(lang), "rb") as file:
        catalog = read_po(file, locale=lang, domain=DOMAIN)
    found = []
    for message in catalog:
        forms = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        for form in forms:
            # A template of placeholders alone ("{a}{b}") would match any text: none is written so.
            pattern = _template_pattern(form) if PLACEHOLDER.sub("", form).strip() else None
            if pattern is not None:
                plural = forms[1] if len(forms) > 1 else ""
                found.append((pattern, forms[0], plural))
    # More literal text = more specific: "Trained {epochs} ({steps}) in {seconds} s." before "{title}: {detail}".
    found.sort(key=lambda entry: -len(PLACEHOLDER.sub("", entry[1])))
    return tuple(found)


# Kept until runs.py renders Messages (the pages also pass it store.py's and collection.py's error
# texts until those carry Messages): it matches formatted English back against every msgid.
def translate_message(message: str, lang: str, _depth: int = 0) -> str:
    """A message the library built in English, in `lang`.

    The message is matched against the catalogue's templates (msgids with {placeholders}); the
    matching template is translated and the values are put back, each translated in turn when it
    is itself marked text or built from a template. Values such as numbers and quoted user text
    match nothing and stay as they are.

    Args:
        message: English text from the library (a ValueError's text, a share-link note, a
            training outcome, a run's title part).
        lang: the language to show it in.

    Returns:
        The translation, or `message` unchanged when lang is English or nothing matches.
    """
    check_language(lang)
    if lang == SOURCE_LANGUAGE or not message:
        return message
    _ = translator(lang)
    direct = _(message)
    if direct != message or _depth >= MAX_NESTING:
        return direct
    for pattern, msgid, plural in _templates(lang):
        match = pattern.fullmatch(message)
        if not match:
            continue
        values = {name: value if name in VERBATIM else translate_message(value, lang, _depth + 1)
                  for name, value in match.groupdict().items()}
        if plural:
            count = _count(match.groupdict().get("count", ""))
            translated = _.ngettext(msgid, plural, count)
        else:
            translated = _(msgid)
        return PLACEHOLDER.sub(lambda found, values=values: values.get(found[1], found[0]), translated)
    return message


def _count(text: str) -> int:
    digits = text.replace(",", "")
    return int(digits) if digits.isdigit() else 2


def render(message: Message | UserError | str, lang: str) -> str:
    """A library message in `lang`: its template translated, then its values filled in.

    Args:
        message: a Message, an error carrying one (UserError, InvalidValue), or a marked constant.
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
