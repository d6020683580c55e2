"""Invitations and password resets: a link emailed through the delivery queue, single-use, expiring,
dead once the password changes, never signing anyone in by itself."""
import re
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, User
from portal.staff import password_links
from tests.factories import PASSWORD, counting_queries, make_staff
from tests.smtp_servers import parts
from tests.support import Auth

NEW_PASSWORD = "a brand new passphrase"


def queued_account_emails(app) -> list[tuple]:
    queue = app.extensions["rq_queues"]["urgent"]
    return [tuple(job.args) for job in queue.get_jobs() if job.func_name.endswith("send_account_email")]


def reset_link(user: User, purpose: str = password_links.RESET) -> str:
    return f"/password/reset?token={password_links.make(user, purpose)}"


def test_asking_for_a_link_answers_the_same_for_known_and_unknown_addresses(client, app, people):
    pages, statements = [], []
    for email in ("lecturer@example.edu", "nobody@example.edu"):
        with counting_queries() as queries:
            response = client.post("/password/forgot", data={"email": email})
        assert response.status_code == 200
        pages.append(response.get_data(as_text=True).replace(email, "EMAIL"))
        statements.append(len(queries))
    assert pages[0] == pages[1] and "an email with a\n      link to choose a new password is on its way" in pages[0]
    assert statements == [0, 0]  # the same work: the account is looked up by the job, not here
    assert queued_account_emails(app) == [("reset", "nobody@example.edu"), ("reset", "lecturer@example.edu")]


def test_asking_again_and_again_for_one_address_is_held_back(client, app, people):
    statuses = [client.post("/password/forgot", data={"email": "lecturer@example.edu"}).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.post("/password/forgot", data={"email": "admin@example.edu"}).status_code == 200


def test_a_reset_sets_the_password_ends_every_sign_in_and_signs_nobody_in(app, client, people):
    other_device = app.test_client()
    Auth(other_device).login("lecturer@example.edu")
    assert other_device.get("/account").status_code == 200
    link = reset_link(people["lecturer"])
    assert "Choose a new password" in client.get(link).get_data(as_text=True)
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/account").status_code == 302  # not signed in by the link
    assert other_device.get("/account").status_code == 302  # the other sign-in has ended
    db.session.refresh(people["lecturer"])
    assert people["lecturer"].check_password(NEW_PASSWORD) and not people["lecturer"].check_password(PASSWORD)
    assert db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "account.password_link",
                                                              AuditEvent.subject == "lecturer@example.edu")) == \
        "every signed-in session ended"


def test_a_link_works_once(client, people):
    link = reset_link(people["lecturer"])
    client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    again = client.post(link, data={"password": "yet another passphrase", "confirm": "yet another passphrase"})
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)
    db.session.refresh(people["lecturer"])
    assert people["lecturer"].check_password(NEW_PASSWORD)


def test_a_link_dies_when_the_password_changes_otherwise(client, auth, people):
    link = reset_link(people["lecturer"])
    auth.login("lecturer@example.edu")
    client.post("/account", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                  "confirm_password": NEW_PASSWORD})
    auth.logout()
    assert client.get(link).status_code == 410


def test_a_reset_link_expires_after_an_hour_an_invitation_after_a_week(client, people, monkeypatch):
    real = time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real() - 3601)
    old_reset = reset_link(people["lecturer"])
    old_invitation = reset_link(people["lecturer"], password_links.INVITATION)
    monkeypatch.setattr("itsdangerous.timed.time.time", real)
    expired = client.get(old_reset)
    assert expired.status_code == 410 and "It has expired" in expired.get_data(as_text=True)
    assert "Email me a new link" in expired.get_data(as_text=True)
    assert client.get(old_invitation).status_code == 200


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_a_broken_link_is_refused_plainly(client, token):
    response = client.get(f"/password/reset?token={token}")
    assert response.status_code == 410 and "This link no longer works" in response.get_data(as_text=True)


def test_a_tampered_link_is_refused(client, people):
    link = reset_link(people["lecturer"])
    middle = len(link) - 20
    tampered = link[:middle] + ("A" if link[middle] != "A" else "B") + link[middle + 1:]
    assert client.get(tampered).status_code == 410


def test_a_too_short_password_is_asked_again_and_the_link_still_works(client, people):
    link = reset_link(people["lecturer"])
    short = client.post(link, data={"password": "short", "confirm": "short"})
    assert short.status_code == 400 and 'id="password-error"' in short.get_data(as_text=True)
    mismatch = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert mismatch.status_code == 400 and "not the same" in mismatch.get_data(as_text=True)
    assert client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303


def test_a_deactivated_account_cannot_use_its_link(client, people):
    link = reset_link(people["lecturer"])
    people["lecturer"].is_active = False
    db.session.commit()
    assert client.get(link).status_code == 410


def test_a_new_account_is_invited_and_can_send_the_invitation_again(client, auth, app, people):
    auth.login("admin@example.edu")
    client.post("/admin/staff", data={"email": "new.lecturer@example.edu", "first_name": "New",
                                      "last_name": "Lecturer", "role": "lecturer"})
    assert queued_account_emails(app) == [("invitation", "new.lecturer@example.edu")]
    user = db.session.scalar(select(User).where(User.email == "new.lecturer@example.edu"))
    page = client.get("/admin/staff").get_data(as_text=True)
    assert "Send the invitation again" in page
    client.post(f"/admin/staff/{user.id}/invite")
    assert queued_account_emails(app)[0] == ("invitation", "new.lecturer@example.edu")
    auth.logout()
    welcome = client.get(reset_link(user, password_links.INVITATION)).get_data(as_text=True)
    assert "Welcome: choose your password" in welcome


# --- through the queue and a real relay ---------------------------------------------------------


def link_in(message) -> str:
    body = parts(message)["text/plain"]
    url = re.search(r"https://\S+/password/reset\?token=\S+", body).group(0)
    return f"{urlsplit(url).path}?{urlsplit(url).query}"


@pytest.mark.integration
def test_the_reset_email_goes_out_ahead_of_attendance_mail_and_its_link_works(client, app, course, run_worker,
                                                                                smtp_server):
    from portal.delivery import queueing
    from tests.factories import make_session, make_students

    make_staff("lee@example.edu")
    make_students(course.program, 5)
    session = make_session(course)
    queueing.enqueue_generation(session.id, session.starts_at)  # a class's emails, queued first
    client.post("/password/forgot", data={"email": "lee@example.edu"})
    client.post("/password/forgot", data={"email": "nobody@example.edu"})
    run_worker()
    received = smtp_server.handler.received
    assert len(received) == 6  # five students, and the one staff account (nothing to the unknown address)
    assert received[0].recipient == "lee@example.edu"  # ahead of the class's emails
    reset = received[0].message
    assert reset["Subject"] == "Reset your password for the attendance portal"
    link = link_in(reset)
    assert client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303
    assert Auth(client).login("lee@example.edu", NEW_PASSWORD).status_code == 302
