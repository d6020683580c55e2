"""A pseudo-language for finding text that is not translatable: every text of
translations/messages.pot translated as itself in double brackets ("[[Try again]]"), compiled
for Esperanto (`eo`, a code Babel knows and the portal does not ship). A page or email rendered
in it shows any text that did not go through the catalogue as text outside brackets."""
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CODE = "eo"
BRACKETED = re.compile(r"\[\[[^\[\]]*\]\]")
# What a page shows that is data, not the portal's words: addresses, numbers, times and dates,
# symbols, and the zone's name.
DATA = [re.compile(pattern) for pattern in (
    r"https?://\S+", r"[\w.+-]+@[\w.-]+", r"\b\d[\d:.,/-]*\b", r"\bUTC\b", r"\bEAT\b", r"[^\w\s]",
)]


def build(directory: Path) -> Path:
    """The compiled pseudo-catalogue under `directory` (BABEL_TRANSLATION_DIRECTORIES)."""
    with open(ROOT / "translations" / "messages.pot", "rb") as template:
        catalogue = read_po(template, locale=CODE)
    for message in catalogue:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(f"[[{form}]]" for form in (message.id[0], message.id[1]))
        else:
            message.string = f"[[{message.id}]]"
    target = directory / CODE / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as compiled:
        write_mo(compiled, catalogue)
    return target


class _Text(HTMLParser):
    """What a reader sees or hears of a page: its text (not scripts or styles, nor code: file
    headers, commands, Message-IDs) and the attributes read aloud or shown (aria-label, title,
    placeholder, alt, a button's value)."""

    SPOKEN = ("aria-label", "title", "placeholder", "alt")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):
            self._hidden += 1
        values = dict(attrs)
        self.parts += [values[name] for name in self.SPOKEN if values.get(name)]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


def untranslated(text: str, data: set[str]) -> list[str]:
    """The words of `text` outside every [[...]] that are neither data (names and codes in
    `data`, addresses, numbers, dates) nor Babel's own words for the pseudo-language's days and months."""
    while True:
        inner = BRACKETED.sub(" ", text)
        if inner == text:
            break
        text = inner
    for value in sorted(data, key=len, reverse=True):  # whole words only: a stream called "A" is not every A
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    for pattern in DATA:
        text = pattern.sub(" ", text)
    return [word for word in text.split() if word.lower() not in _date_words()]


def _date_words() -> set[str]:
    """Babel's words for days and months in the pseudo-language, and the words of its date patterns
    ("la 26-a de novembro"): Babel's, not the portal's, to translate."""
    locale = Locale.parse(CODE)
    words = {form for names in (locale.days, locale.months) for width in names.values()
             for forms in width.values() for form in forms.values()}
    words |= {format_date(date(2026, 11, 26), pattern, locale=CODE) for pattern in ("full", "long", "EEE d MMM")}
    return {re.sub(r"[^\w]", "", word).lower() for phrase in words for word in phrase.split()} - {""}
