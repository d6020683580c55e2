"""What page views share: answering with a page that holds forms.

A form sent back with errors is a 400 with every problem next to its field (or above the
form); the same page shown to be filled in is a 200. Views never choose those statuses
themselves; domain errors get theirs from portal.errors.DOMAIN_ERRORS.
"""
from flask import render_template
from flask_wtf import FlaskForm


def form_page(template: str, form: FlaskForm | None = None, *, problems=(), **context):
    """`template` with `form` (if any), `problems` (lines for the whole page) and `context`:
    400 when any form in it has errors or there are problems, else 200."""
    if form is not None:
        context["form"] = form
    if problems:
        context["problems"] = problems
    forms = [value for value in context.values() if isinstance(value, FlaskForm)]
    return render_template(template, **context), 400 if problems or any(f.errors for f in forms) else 200
