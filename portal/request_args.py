"""Numbers from the URL, checked at the edge: an id the database could not hold is no id,
and a page number is clamped, so absurd input gets a 404 or a plain page, never a 500."""
from flask import request
from werkzeug.routing import IntegerConverter

from portal.database import MAX_ID

MAX_PAGE = 100_000  # far past any real list; keeps OFFSET a small number


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: a whole number from 1 to MAX_ID, anything else is a 404."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)


def record_id(value) -> int | None:
    """`value` as an id, or None if it is not a whole number from 1 to MAX_ID."""
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def id_arg(name: str) -> int | None:
    """The query argument `name` as an id (None if missing or not a possible id)."""
    return record_id(request.args.get(name))


def page_arg() -> int:
    """The `page` query argument, clamped to 1..MAX_PAGE (garbage means page 1)."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PAGE)
