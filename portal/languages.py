"""The languages the portal is read in (PORTAL_LANGUAGES), and which one each reader gets.

A student's language is a code of PORTAL_LANGUAGES kept with their record (the import's and the
sync's optional `language` column, the directory's edit), or none: PORTAL_DEFAULT_LANGUAGE then.
Each email is rendered in its recipient's language (`messages.build`, with that language's
`catalogue`); a page in the language `select` picks for its reader. Languages are named in themselves
("Kiswahili", "Français"), as their readers look for them.

The texts are English in the code and templates (gettext message ids); the other languages'
catalogues live in translations/<code>/LC_MESSAGES/messages.po and are compiled to .mo files by
`make translations` (pybabel): see the README's "Languages".
"""
import logging
import re
from pathlib import Path

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, g, has_request_context, request, session, url_for
from flask_babel import Babel, force_locale, get_locale, get_translations, refresh
from flask_login import current_user

from portal.exceptions import ConfigurationError

log = logging.getLogger(__name__)

CODE = re.compile(r"^[a-z]{2,3}$")
SOURCE = "en"  # the language of the message ids: it needs no catalogue
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def N_(text: str) -> str:
    """Marks a text for the catalogue (`make translations-extract`) where it is only defined; it is
    translated where it is shown (`gettext(text, **values)`), and used as written where English is
    the rule (CSV files, the audit trail)."""
    return text


def english(text: str, **values) -> str:
    """A marked text as written, its placeholders filled: the `say` of texts kept in English."""
    return text % values if values else text


def known(code: str) -> bool:
    """A language code Babel knows (the portal's dates and numbers are written by it)."""
    if not CODE.match(code or ""):
        return False
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return False
    return True


def offered() -> list[str]:
    return current_app.config["PORTAL_LANGUAGES"]


def default() -> str:
    return current_app.config["PORTAL_DEFAULT_LANGUAGE"]


def name(code: str) -> str:
    """The language's name in itself, capitalised as a list entry: "English", "Kiswahili", "Français"."""
    return Locale.parse(code).get_display_name(code).capitalize()


def read(value: str) -> tuple[str | None, str | None]:
    """A language as typed in a file or a form: (its code, or None for the default; a problem or None)."""
    code = (value or "").strip().lower()
    if not code:
        return None, None
    if code not in offered():
        return None, f"language must be one of {', '.join(offered())} (or empty for {default()}), got {code[:20]!r}"
    return code, None


def usable(code: str | None) -> str:
    """A recorded language if the portal still offers it, else the default (a language taken off
    PORTAL_LANGUAGES leaves its readers on the default, not on a catalogue no longer checked)."""
    return code if code in offered() else default()


def check_catalogues(codes: list[str], directory: Path) -> None:
    """Every offered language but the source one has a compiled catalogue (a missing one would show
    English while claiming another language); one older than its .po is only warned about."""
    for code in codes:
        if code == SOURCE:
            continue
        compiled = directory / code / "LC_MESSAGES" / "messages.mo"
        source = compiled.with_suffix(".po")
        if not compiled.exists():
            hint = ("run `make translations` (pybabel compile -d translations)" if source.exists()
                    else "it has no translation yet: see the README's \"Adding a language\"")
            raise ConfigurationError(f"PORTAL_LANGUAGES: {code!r} has no compiled catalogue "
                                     f"(translations/{code}/LC_MESSAGES/messages.mo); {hint}")
        if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
            log.warning("%s is older than its .po: run `make translations`", compiled)


def catalogue(code: str):
    """The translations of `code` (a babel `Translations`; English: none, so the message ids), for
    a worker that words many emails in a few languages: looked up once per language and app,
    where gettext in force_locale finds them again for every text."""
    found = current_app.extensions.setdefault("portal_catalogues", {})
    if code not in found:
        with force_locale(code):
            found[code] = get_translations()
    return found[code]


def select() -> str:
    """The language of a page: the one a view chose for its reader (a student's link page: see
    `use`), else the signed-in staff member's setting, else the one picked with the switch on this
    device, else the browser's best offered match (Accept-Language), else the default."""
    chosen = g.get("language")
    if chosen:
        return chosen
    if not has_request_context():
        return default()
    account = getattr(current_user, "language", None) if current_user.is_authenticated else None
    if account in offered():
        return account
    if session.get("language") in offered():
        return session["language"]
    return request.accept_languages.best_match(offered()) or default()


def use(code: str | None) -> None:
    """Show this request's page in `code` (a student's recorded language), unless the reader chose
    another with the switch on this device; a student with none (or one no longer offered) gets
    the browser's choice, as any visitor."""
    if code in offered() and session.get("language") not in offered():
        g.language = code


def remember_choice() -> None:
    """`?lang=xx`, the switch's links: this device reads the portal in xx from now on (kept in the
    signed session cookie; a staff member's own setting on /account still comes first). First, the
    request forgets any language chosen before it: a request inside an app context already pushed
    (a test's, a CLI's) shares its `g`."""
    g.pop("language", None)
    refresh()
    code = request.args.get("lang")
    if code in offered():
        session["language"] = code


def language_links(endpoint: str | None = None, **values) -> list[dict]:
    """The switch: each offered language, named in itself, linking to this page in it (`endpoint`
    and `values` for a page answered to a POST, whose address cannot be opened again)."""
    if len(offered()) < 2:
        return []
    if endpoint is None and request.endpoint and request.method == "GET":
        endpoint, values = request.endpoint, {**request.args.to_dict(), **(request.view_args or {})}
    current = str(get_locale())
    links = []
    for code in offered():
        href = url_for(endpoint, **{**values, "lang": code}) if endpoint else f"{request.path}?lang={code}"
        links.append({"code": code, "name": name(code), "href": href, "current": code == current})
    return links


def init_app(app: Flask) -> None:
    """Flask-Babel, reading the catalogues in translations/ (BABEL_TRANSLATION_DIRECTORIES: tests
    point it at a pseudo-language's)."""
    directory = app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    check_catalogues(app.config["PORTAL_LANGUAGES"], Path(directory))
    Babel(app, locale_selector=select, default_locale=SOURCE, default_timezone=app.config["PORTAL_TIMEZONE"])
    app.before_request(remember_choice)
    app.add_template_global(language_links)
