"""Names people type (a person, a course, a program, a stream, a student number): one check
for every way in (the admin forms, the command line and the CSV import).

A control character in a name is never meant, and it does harm later: a line break in a
course name breaks the header of every email for that course, NUL cannot be stored in
PostgreSQL, and bidirectional overrides disguise text. So each is refused at input, with
the column's length limit, instead of failing far from where it was typed.
"""
import re

from flask_babel import gettext as _
from sqlalchemy.orm import InstrumentedAttribute

# C0 and C1 controls (tab, CR, LF, NUL, DEL…), line and paragraph separators, unpaired
# surrogates, and the bidirectional embedding, override and isolate characters.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def max_length(column: InstrumentedAttribute) -> int:
    """The length limit of a String column, so the check and the schema cannot disagree."""
    return column.property.columns[0].type.length


def control_problem(label: str, value: str) -> str | None:
    if CONTROL_CHARACTERS.search(value):
        return _("%(label)s must not contain control characters such as line breaks or tabs", label=label)
    return None


def name_problem(label: str, value: str, limit: int) -> str | None:
    """Why `value` (already stripped) cannot be the `label`, or None if it can."""
    if not value:
        return _("%(label)s is required", label=label)
    if problem := control_problem(label, value):
        return problem
    if len(value) > limit:
        return _("%(label)s must be at most %(limit)s characters", label=label, limit=limit)
    return None


def name_problems(names: dict[str, tuple[str, str, int]]) -> dict[str, str]:
    """{field: problem} for {field: (label, stripped value, length limit)}."""
    return {field: problem for field, (label, value, limit) in names.items()
            if (problem := name_problem(label, value, limit))}
