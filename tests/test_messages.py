"""The emails as their readers get them: both parts of each, for an ASCII and a non-ASCII
name and in each language, compared with the snapshots in tests/snapshots/emails/
(`UPDATE_SNAPSHOTS=1` rewrites them; read the diff before committing), and the wire form a
relay receives."""
import email
import os
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path

import pytest

from portal.delivery import messages
from portal.timefmt import email_date, email_moment

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "emails"
NAMES = {"ascii": ("amina.otieno@example.edu", "Amina", "Otieno"),
         "non-ascii": ("zoe.nunez@example.edu", "Zoë", "Núñez Çelik")}


def context(first_name: str, address: str = "ana@example.edu") -> dict:
    """The students' emails' placeholders, and the staff account emails' (an invitation, a reset)."""
    return {**messages.SAMPLE_EMAIL_CONTEXT, "student_first_name": first_name, "location_required": True,
            "attendance_link": "https://portal.example.edu/attendance?token=eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
            "first_name": first_name, "email": address, "link": "https://portal.example.edu/password/reset?token=eyJ1",
            "expires": "2026-11-26 11:15 EAT", "days": 7, "portal": "https://portal.example.edu"}


def readable(raw: bytes) -> str:
    """The email as a reader sees it: its decoded headers (but the date) and both parts."""
    parsed = email.message_from_bytes(raw, policy=policy.default)
    lines = [f"{name}: {parsed[name]}" for name in ("Subject", "From", "To", "Message-ID", "Content-Type")]
    for part in parsed.iter_parts():
        lines += ["", f"--- {part.get_content_type()} ({part['Content-Transfer-Encoding']}) ---",
                  part.get_content().replace("\r\n", "\n").rstrip("\n")]
    return "\n".join(lines).replace(f'; boundary="{parsed.get_boundary()}"', "") + "\n"


def matches_snapshot(name: str, got: str) -> None:
    snapshot = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        snapshot.write_text(got, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot {snapshot.name} yet: UPDATE_SNAPSHOTS=1 makes it"
    assert got == snapshot.read_text(encoding="utf-8"), f"{snapshot.name} differs (UPDATE_SNAPSHOTS=1 to accept)"


@pytest.mark.parametrize("kind", sorted(messages.TEMPLATES))
@pytest.mark.parametrize("names", sorted(NAMES))
def test_each_email_matches_its_snapshot(app, kind, names):
    address, first, last = NAMES[names]
    with app.app_context():
        built = messages.build(address, f"{first} {last}", context(first, address), "<0123abcd@example.edu>",
                               kind=kind)
    matches_snapshot(f"{kind}-{names}", readable(built.as_bytes()))


@pytest.mark.parametrize("kind", sorted(messages.TEMPLATES))
@pytest.mark.parametrize("language", ["sw", "fr"])
def test_each_email_in_each_language_matches_its_snapshot(app, kind, language):
    """Subject, both parts and the days written in the reader's language (the snapshot is for a
    speaker to read); the placeholders' values are the reader's too."""
    start = datetime(2026, 11, 26, 7, 0, tzinfo=timezone.utc)
    expiry = start + timedelta(minutes=75)
    with app.app_context():
        app.config["PORTAL_TIMEZONE"] = "Africa/Nairobi"
        dates = {"session_date": email_date(start, language), "token_expiry": email_moment(expiry, language),
                 "link_opens": email_moment(start, language), "expires": email_moment(expiry, language)}
        built = messages.build("amina.otieno@example.edu", "Amina Otieno", {**context("Amina"), **dates},
                               "<0123abcd@example.edu>", kind=kind, language=language)
    got = readable(built.as_bytes())
    assert "Hi Amina" not in got and "Thanks," not in got
    matches_snapshot(f"{kind}-{language}", got)


def test_the_wire_form_is_standard_and_round_trips(app):
    with app.app_context():
        built = messages.build("ana@example.edu", "Ana Núñez", {**context("Ana"), "course_name": "Álgebra " * 12},
                               "<1.x@example.edu>")
    raw = built.as_bytes()
    assert raw.isascii() and not built.international and built.mail_options == []
    assert all(len(line) <= 78 for line in raw.split(b"\r\n")), "a line over 78 characters"
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare line feeds"
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "Attendance Session Created: " + "Álgebra " * 12
    assert parsed["To"].addresses[0].display_name == "Ana Núñez"
    assert parsed["Message-ID"] == "<1.x@example.edu>" and parsed["Date"].datetime.tzinfo is not None
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert raw == built.as_bytes(), "a message sent again must be the same bytes"


def test_an_address_only_smtputf8_can_carry_is_kept_as_utf8(app):
    with app.app_context():
        built = messages.build("josé.núñez@exämple.edu", "José", context("José"), "<2@example.edu>")
        idna = messages.build("ana@exämple.edu", "Ana", context("Ana"), "<3@example.edu>")
    assert built.international and built.mail_options == ["SMTPUTF8"]
    assert built.recipient == "josé.núñez@exämple.edu"
    assert "josé.núñez@exämple.edu".encode() in built.as_bytes()
    assert not idna.international and idna.recipient == "ana@xn--exmple-cua.edu"  # the domain alone: IDNA


@pytest.mark.parametrize("field", ["name", "course_name"])
def test_a_line_break_in_a_header_is_refused(app, field):
    name = "Eve\r\nBcc: victim@example.edu" if field == "name" else "Eve"
    course = "Maths\r\nBcc: victim@example.edu" if field == "course_name" else "Maths"
    with app.app_context(), pytest.raises(messages.BadHeaderError):
        messages.build("eve@example.edu", name, {**context("Eve"), "course_name": course}, "<4@example.edu>")


def test_the_header_factory_that_builds_each_class_once_writes_what_the_standard_one_does(app, monkeypatch):
    def wire(built) -> list[bytes]:
        raw = built.as_bytes()  # the boundary is chosen when the message is written
        boundary = built.message.get_boundary().encode()
        return [line for line in raw.replace(boundary, b"BOUNDARY").split(b"\r\n")
                if not line.startswith(b"Date: ")]

    with app.app_context():
        ours = messages.build("zoe.nunez@example.edu", "Zoë Núñez Çelik", context("Zoë"), "<5@example.edu>")
        monkeypatch.setattr(messages, "ASCII_POLICY", policy.SMTP)
        standard = messages.build("zoe.nunez@example.edu", "Zoë Núñez Çelik", context("Zoë"), "<5@example.edu>")
    assert ours.message.policy is not policy.SMTP and standard.message.policy is policy.SMTP
    assert wire(ours) == wire(standard)
