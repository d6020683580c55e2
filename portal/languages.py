"""The languages the portal is read in (PORTAL_LANGUAGES), and each student's.

A student's language is a code of PORTAL_LANGUAGES kept with their record (the import's and the
sync's optional `language` column, the directory's edit), or none: PORTAL_DEFAULT_LANGUAGE then.
Languages are named in themselves ("Kiswahili", "français"), as their readers look for them.
"""
import re

from babel import Locale, UnknownLocaleError
from flask import current_app

CODE = re.compile(r"^[a-z]{2,3}$")


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
