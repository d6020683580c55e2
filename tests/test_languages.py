"""Each student reads the portal in their language (issue 26): the emails of one class, each in
its recipient's language, as a real worker process sends them to a real SMTP server."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from portal.extensions import db
from tests.factories import make_students, newest_session
from tests.smtp_servers import parts
from tests.support import env_for, start_worker
from tests.test_session_changes import edit_form, form, lecturer, subject  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration  # a real worker process, Redis and an SMTP server

NAIROBI = ZoneInfo("Africa/Nairobi")
# What each language's email says: its subject, greeting, and a sentence of each part.
EXPECTED = {
    "en": {"invitation": ("Attendance Session Created: Data Structures", "Hi", "Click the link below",
                          "Mark my attendance"),
           "changed": ("Session changed: Data Structures on {date}", "Hi", "Use this new link", "Mark my attendance"),
           "cancelled": ("Session cancelled: Data Structures on {date}", "Hi", "It will not take place",
                         "It will not take place")},
    "sw": {"invitation": ("Kipindi kipya cha mahudhurio: Data Structures", "Habari", "Bofya kiungo",
                          "Thibitisha mahudhurio yangu"),
           "changed": ("Kipindi kimebadilishwa: Data Structures, {date}", "Habari", "Tumia kiungo hiki kipya",
                       "Thibitisha mahudhurio yangu"),
           "cancelled": ("Kipindi kimefutwa: Data Structures, {date}", "Habari", "Hakitafanyika", "Hakitafanyika")},
    "fr": {"invitation": ("Nouvelle séance de présence : Data Structures", "Bonjour", "Cliquez sur le lien",
                          "Confirmer ma présence"),
           "changed": ("Séance modifiée : Data Structures le {date}", "Bonjour", "Utilisez ce nouveau lien",
                       "Confirmer ma présence"),
           "cancelled": ("Séance annulée : Data Structures le {date}", "Bonjour", "Elle n’aura pas lieu",
                         "Elle n’aura pas lieu")},
}


def local_day(language: str, day) -> str:
    return day.isoformat() if language == "en" else format_date(day, "full", locale=language)


def run_worker_process(app, tmp_path, name: str) -> None:
    worker = start_worker(env_for(app), tmp_path / f"{name}.log")
    assert worker.wait(timeout=60) == 0, (tmp_path / f"{name}.log").read_text()


def test_one_class_each_student_in_their_language(app, lecturer, people, form, smtp_server, tmp_path):  # noqa: F811
    """Invitation, change and cancellation: subject and both parts in the recipient's language, the
    day written as that language writes it, in the portal's zone; a student with no language (or
    one no longer offered) gets the default."""
    app.config["PORTAL_TIMEZONE"] = "Africa/Nairobi"
    students = make_students(people["course"].program, 4)
    for student, language in zip(students, ["sw", "fr", None, "de"]):
        student.language = language  # "de": recorded once, no longer offered
    db.session.commit()
    reader = {s.user.email: (s.user.first_name, s.language if s.language in ("sw", "fr") else "en") for s in students}
    day = datetime.combine(datetime.now(NAIROBI).date() + timedelta(days=1), time(8), NAIROBI).date()

    lecturer.post("/sessions/new", data={**form, "session_date": day.isoformat()})
    run_worker_process(app, tmp_path, "invitations")
    session = newest_session()
    lecturer.post(f"/sessions/{session.id}/edit", data=edit_form(session, start_time="09:00", end_time="10:30"))
    run_worker_process(app, tmp_path, "changes")
    lecturer.post(f"/sessions/{session.id}/cancel", data={"notify_students": "y"})
    run_worker_process(app, tmp_path, "cancellations")

    received = smtp_server.handler.received
    assert len(received) == 12
    for kind, emails in (("invitation", received[:4]), ("changed", received[4:8]), ("cancelled", received[8:])):
        for delivered in emails:
            first_name, language = reader[delivered.recipient]
            title, greeting, in_text, in_html = EXPECTED[language][kind]
            date = local_day(language, day)
            assert subject(delivered) == title.format(date=date), (language, kind)
            text, html = parts(delivered.message)["text/plain"], parts(delivered.message)["text/html"]
            assert in_text in text and in_html in html, (language, kind)
            for part in (text, html):
                assert f"{greeting} {first_name}," in part and date in part, (language, kind)
            assert f'<html lang="{language}">' in html
            assert ("09:00 - 10:30 EAT" if kind != "invitation" else "08:00 - 10:00 EAT") in text


def test_staff_account_emails_follow_their_own_setting(app, client, smtp_server, run_worker):
    """An invitation and a reset go out in the language the staff member chose on /account (an
    account without one: the default), through the queue's real worker and SMTP server."""
    from tests.factories import make_staff

    french = make_staff("fatou@example.edu", name=("Fatou", "Diallo"))
    french.language = "fr"
    make_staff("lee@example.edu")
    db.session.commit()
    for address in ("fatou@example.edu", "lee@example.edu"):
        client.post("/password/forgot", data={"email": address})
    run_worker()
    by_recipient = {delivered.recipient: delivered for delivered in smtp_server.handler.received}
    fatou, lee = by_recipient["fatou@example.edu"], by_recipient["lee@example.edu"]
    assert subject(fatou) == "Réinitialisez votre mot de passe du portail des présences"
    assert "Bonjour Fatou," in parts(fatou.message)["text/plain"]
    assert '<html lang="fr">' in parts(fatou.message)["text/html"]
    assert subject(lee) == "Reset your password for the attendance portal"
