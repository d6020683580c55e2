"""Every page the portal serves is valid HTML (the Nu HTML checker), for every role and in
its error states. The browser tests check the pages they visit too, and run axe-core."""
from email import message_from_bytes

from tests.every_page import every_page


def test_every_page_is_valid_html(app, client, auth, people, html_checker):
    pages = every_page(app, client, auth, people)
    assert len(pages) == 63
    errors = html_checker.errors(pages)
    assert not errors, "\n".join(errors)


def test_every_kind_of_email_is_valid_html(app, html_checker):
    """The invitation, "Session changed" and "Session cancelled" emails, as students' mail apps get them."""
    from portal.delivery import messages
    from tests.smtp_servers import parts

    emails = {}
    for kind in messages.TEMPLATES:
        built = messages.build("amina@example.edu", "Amina", messages.SAMPLE_EMAIL_CONTEXT, "<1@example.edu>", kind=kind)
        emails[f"{kind} email"] = parts(message_from_bytes(built.as_bytes()))["text/html"]
    errors = html_checker.errors(emails)
    assert not errors, "\n".join(errors)


def test_the_checker_finds_broken_html(html_checker):
    """The checks above would pass vacuously if the checker said nothing."""
    errors = html_checker.errors({"broken": "<!doctype html><html lang=en><title>x</title><p>one</span>"})
    assert errors and all(error.startswith("broken: line 1: ") for error in errors)
    assert "Stray end tag “span”." in " ".join(errors)
