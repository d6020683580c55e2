from flask import abort

from portal.extensions import db


def get(model, record_id: int | None):
    """The row of `model` with this id, or None (also for no id)."""
    return db.session.get(model, record_id) if record_id is not None else None


def get_or_404(model, record_id: int):
    """The row a page's address names; "not found" (404) when there is none."""
    row = get(model, record_id)
    if row is None:
        abort(404)
    return row
