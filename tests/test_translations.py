"""The catalogues the portal ships (translations/<code>/LC_MESSAGES/messages.po): every text in
the code and templates is translated in each, none is left fuzzy, each keeps its placeholders,
and each compiles; translations/messages.pot lists exactly the texts there are (so a translator
starting from it misses nothing). `make translations-update` brings them up to date."""
import gettext
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
SHIPPED = sorted(path.parent.parent.name for path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def texts_in_the_code() -> set[str]:
    with open(ROOT / "babel.cfg") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_plural": (1, 2)}
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords):
        found.add(message)  # a singular and plural pair is one entry, as in the catalogue
    return found


def catalogue(path: Path):
    with open(path, "rb") as po:
        return read_po(po)


def placeholders(text: str | tuple) -> list[str]:
    """The placeholders of a text (of each form of a plural, which must all agree)."""
    forms = text if isinstance(text, tuple) else (text,)
    found = {tuple(sorted(a or b for a, b in PLACEHOLDER.findall(form) if (a or b) != "num")) for form in forms}
    assert len(found) == 1, f"the forms of {text!r} have different placeholders"
    return list(found.pop())


def test_swahili_and_french_ship():
    assert {"sw", "fr"} <= set(SHIPPED)


def test_the_template_lists_every_text_and_no_other():
    template = {message.id for message in catalogue(TRANSLATIONS / "messages.pot") if message.id}
    code = texts_in_the_code()
    assert not code - template, f"run `make translations-update`: not in messages.pot: {sorted(code - template, key=str)[:5]}"
    assert not template - code, f"run `make translations-update`: gone from the code: {sorted(template - code, key=str)[:5]}"


@pytest.mark.parametrize("language", SHIPPED)
def test_every_text_is_translated_and_none_is_fuzzy(language):
    translated = catalogue(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    entries = {message.id: message for message in translated if message.id}
    missing = sorted((text for text in texts_in_the_code() if text not in entries or not all(
        entries[text].string if isinstance(text, tuple) else [entries[text].string])), key=str)
    fuzzy = sorted((message.id for message in entries.values() if message.fuzzy), key=str)
    assert not missing, f"{language}: {len(missing)} texts not translated, such as {missing[:3]}"
    assert not fuzzy, f"{language}: {len(fuzzy)} fuzzy (check and clear the flag), such as {fuzzy[:3]}"
    assert not translated.fuzzy, f"{language}: the catalogue's header is marked fuzzy: nothing would compile"


@pytest.mark.parametrize("language", SHIPPED)
def test_each_translation_keeps_its_placeholders_and_compiles(language):
    translated = catalogue(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    for message in translated:
        if message.id and message.string:
            assert placeholders(message.string) == placeholders(message.id), (language, message.id)
    assert not [problem for problem in translated.check()], f"{language}: {list(translated.check())[:2]}"
    write_mo(BytesIO(), translated)


@pytest.mark.parametrize("language", SHIPPED)
def test_every_plural_form_shows_the_number_unless_it_is_only_for_one(language):
    """A plural's forms may leave out %(num)s only where the form is used for exactly one (English's
    "One email"): French uses its first form for 0 and 1, so there the number must show."""
    translated = catalogue(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    form_for = gettext.c2py(translated.plural_expr)
    only_for_one = {index for index in range(translated.num_plurals)
                    if {n for n in range(2000) if form_for(n) == index} == {1}}
    wrong = [(message.id[0], index) for message in translated
             if isinstance(message.id, tuple) and "%(num)" in message.id[1]
             for index, form in enumerate(message.string) if index not in only_for_one and "%(num)" not in form]
    assert not wrong, f"{language}: plural forms without the number: {wrong[:3]}"
