"""Rendering the attendance email once per batch instead of once per student.

Within a batch (one session) only the student's first name and link change, so each
template is rendered once with markers in their place and every student's copy is
made by joining strings, escaped exactly as Jinja would (HTML autoescaped, text not).
The split is checked against a real render once per batch; a template that does
anything else with those values (a filter, a condition) is simply rendered in full.
"""
import re

from jinja2 import Environment
from markupsafe import escape

PERSONAL = ("student_first_name", "attendance_link")
_MARKERS = {name: f"\x00{name}\x00" for name in PERSONAL}
_SPLIT = re.compile("\x00(" + "|".join(PERSONAL) + ")\x00")
_PROBE = {"student_first_name": "Zoë <&> \"Q\"", "attendance_link": "https://probe.example/a?token=x.y.z&q='1'"}


class BatchRenderer:
    def __init__(self, env: Environment):
        self.env = env
        self._pieces: dict[tuple, list | None] = {}

    def render(self, name: str, context: dict) -> str:
        try:
            key = (name, tuple(sorted((k, v) for k, v in context.items() if k not in PERSONAL)))
        except TypeError:  # unhashable values: no caching
            return self._full(name, context)
        if key not in self._pieces:
            self._pieces[key] = self._split(name, dict(key[1]))
        pieces = self._pieces[key]
        if pieces is None:
            return self._full(name, context)
        return _fill(pieces, context, name.endswith(".html"))

    def _split(self, name: str, shared: dict) -> list | None:
        pieces = _SPLIT.split(self._full(name, {**shared, **_MARKERS}))
        ok = _fill(pieces, _PROBE, name.endswith(".html")) == self._full(name, {**shared, **_PROBE})
        return pieces if ok else None

    def _full(self, name: str, context: dict) -> str:
        return self.env.get_template(name).render(context)


def _fill(pieces: list, context: dict, html: bool) -> str:
    """pieces = [text, field, text, field, …, text] from re.split with one group."""
    out = [pieces[0]]
    for index in range(1, len(pieces), 2):
        value = context[pieces[index]]
        out.append(str(escape(value)) if html else str(value))
        out.append(pieces[index + 1])
    return "".join(out)
