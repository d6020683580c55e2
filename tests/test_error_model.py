"""One error model (issue 10, item 17): services raise domain errors without HTTP codes,
one table in portal.errors answers for each, and forms and the CLI apply a validation
error through one helper."""
import ast
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from wtforms import StringField

from portal import exceptions
from portal.errors import DOMAIN_ERRORS
from portal.exceptions import AttendanceError, ValidationError

PORTAL = Path(__file__).resolve().parent.parent / "portal"


def test_every_attendance_error_has_its_answer_in_the_one_table():
    kinds = AttendanceError.__subclasses__()
    assert len(kinds) >= 5
    assert [kind.__name__ for kind in kinds if kind not in DOMAIN_ERRORS] == []
    assert not hasattr(AttendanceError("x"), "status")  # a service does not choose the HTTP answer


SERVICES = sorted(path for folder in ("services", "sessions", "attendance", "register", "students", "staff",
                                      "catalog", "audit", "delivery")
                  for path in (PORTAL / folder).glob("*.py")
                  if path.name not in ("routes.py", "forms.py") and not path.name.endswith("_routes.py"))


def test_services_choose_no_http_status():
    """No service raises with a status, aborts, or imports Flask's HTTP errors."""
    assert len(SERVICES) >= 40
    for path in SERVICES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "abort":
                raise AssertionError(f"{path.name}:{node.lineno} aborts with an HTTP status")
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and not getattr(
                    node.exc.func, "attr", getattr(node.exc.func, "id", "")).startswith("SMTP"):  # SMTP's codes
                numbers = [arg.value for arg in node.exc.args if isinstance(arg, ast.Constant)
                           and isinstance(arg.value, int) and 400 <= arg.value < 600]
                assert not numbers, f"{path.name}:{node.lineno} raises with HTTP status {numbers[0]}"
            if isinstance(node, ast.ImportFrom) and node.module in ("werkzeug.exceptions",):
                raise AssertionError(f"{path.name} imports HTTP errors")


def test_only_domain_errors_are_in_the_table():
    assert all(issubclass(kind, Exception) and kind.__module__ == exceptions.__name__ for kind in DOMAIN_ERRORS)


def test_a_validation_error_that_escapes_a_view_is_a_400_page_with_its_message(app, client):
    def view():
        raise ValidationError("Choose a date within 731 days")

    app.add_url_rule("/escaped", "escaped", view)
    response = client.get("/escaped")
    assert response.status_code == 400
    assert "Choose a date within 731 days" in response.get_data(as_text=True)


class ExampleForm(FlaskForm):
    name = StringField("Name")


@pytest.mark.parametrize("error, on_name, above", [
    (ValidationError({"name": "Name must not contain control characters"}),
     ["Name must not contain control characters"], []),
    (ValidationError({"elsewhere": "Unknown lecturer"}), [], ["Unknown lecturer"]),
    (ValidationError(["one", "two"]), [], ["one", "two"]),
])
def test_a_validation_error_applies_to_a_form_field_by_field(app, error, on_name, above):
    with app.test_request_context():
        form = ExampleForm(meta={"csrf": False})
        assert form.validate()  # as views do, before the service is asked
        error.apply_to(form)
        assert form.name.errors == on_name and form.form_errors == above


def test_a_validation_error_is_one_line_on_the_command_line():
    assert ValidationError({"code": "Program code is required", "name": "Name is required"}).one_line() == \
        "Program code is required; Name is required"
