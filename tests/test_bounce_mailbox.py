"""Late bounces through a real mailbox (issue 27): emails sent by a real worker to a real SMTP
server with their own return paths, the reports Postfix, Exchange and Gmail send back to those
addresses put in Debian's Dovecot over IMAP, and the portal reading them with verified TLS,
with a password or an OAuth 2.0 token. Reading the reports' contents alone is
tests/test_bounce_reports.py."""
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from portal.bounces.mailbox import MailboxError
from portal.bounces.reading import read_bounces
from portal.delivery import queueing, upkeep
from portal.extensions import db
from portal.models import (
    BounceMailbox,
    DeliveryAttempt,
    EmailNotification,
    NotificationStatus,
    Role,
    StudentProfile,
    User,
)
from portal.repositories.bounce_repository import bouncing
from tests import bounce_samples
from tests.factories import create_session, make_staff, make_students
from tests.imap_server import USER, BounceMailboxServer, HoldingProxy
from tests.oauth_server import TokenEndpoint
from tests.support import Auth, env_for, start_worker

pytestmark = pytest.mark.integration

RETURN_PATH = "bounces+{token}@attendance.example.edu"
METRICS_TOKEN = "a-metrics-token-long-enough-for-the-check-0123456789"


@pytest.fixture
def mailbox(app, monkeypatch):
    """Dovecot with an empty bounce mailbox; the portal trusts its test CA (SSL_CERT_FILE)."""
    with BounceMailboxServer() as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        app.config.update(MAIL_RETURN_PATH=RETURN_PATH, BOUNCE_IMAP_URL=server.url())
        yield server


@pytest.fixture
def class_emailed(app, course, run_worker, smtp_server, mailbox):
    """Six students emailed through a real worker and SMTP server ({address: what the relay received}),
    and a seventh whose address the relay refused at once (failed, not bounced)."""
    smtp_server.handler.refuse = ("refuse",)
    make_students(course.program, 6)
    make_students(course.program, 1, email_for=lambda n: "refuse-me@example.edu", prefix="R")
    create_session(course)
    run_worker()
    received = {item.recipient: item for item in smtp_server.handler.received}
    assert len(received) == 6
    return received


def status_of(address: str) -> str:
    return db.session.scalar(db.select(EmailNotification.status).join(StudentProfile).join(User)
                             .where(User.email == address))


def reports_for(received, addresses):
    """The three servers' permanent reports for the first three addresses, a delay warning for the
    fourth, and the fifth student's reply: each to the return path its email left with."""
    a, b, c, d, e = addresses
    return [bounce_samples.postfix(received[a].sender, a, received[a].message["Message-ID"], report_id="<r1@mx1>"),
            bounce_samples.exchange(received[b].sender, b, received[b].message["Message-ID"]),
            bounce_samples.gmail(received[c].sender, c, received[c].message["Message-ID"]),
            bounce_samples.postfix_delayed(received[d].sender, d, received[d].message["Message-ID"]),
            bounce_samples.reply(received[e].sender, e)]


def test_each_email_leaves_with_its_own_return_path(class_emailed):
    senders = [item.sender for item in class_emailed.values()]
    assert len(set(senders)) == 6
    assert all(re.fullmatch(r"bounces\+[0-9a-f]{20}@attendance\.example\.edu", sender) for sender in senders)
    assert {item.message["From"] for item in class_emailed.values()} == {"attendance@example.edu"}


def test_reports_bounce_the_right_emails_once_and_the_mailbox_keeps_everything(app, class_emailed, mailbox, client,
                                                                              auth):
    """Postfix's, Exchange's and Gmail's reports, a delay warning, a reply, and one report twice."""
    addresses = sorted(class_emailed)
    a, b, c, d, e, f = addresses
    mail = reports_for(class_emailed, addresses[:5])
    mailbox.deliver(*mail, mail[0])  # the Postfix report a second time

    assert read_bounces() == {"bounced": 3, "delayed": 1, "duplicate": 1, "not_bounce": 1}
    db.session.expire_all()
    assert [status_of(address) for address in addresses] == ["bounced"] * 3 + ["sent"] * 3
    outcomes = db.session.execute(db.select(DeliveryAttempt.outcome, DeliveryAttempt.relay, db.func.count())
                                  .where(DeliveryAttempt.report_id.is_not(None))
                                  .group_by(DeliveryAttempt.outcome, DeliveryAttempt.relay)).all()
    assert {(outcome, relay): count for outcome, relay, count in outcomes} == {  # the relay that accepted each
        ("bounced", "default"): 3, ("delayed", "default"): 1}
    # Nothing is deleted: the reports are filed, the reply is left where a person will see it.
    inbox, processed = mailbox.messages("INBOX"), mailbox.messages("Processed")
    assert len(inbox) == 1 and b"I will be there" in inbox[0]
    assert len(processed) == 5

    assert read_bounces() == {}  # read once: nothing new the second time
    assert db.session.scalar(db.select(db.func.count()).select_from(DeliveryAttempt)
                             .where(DeliveryAttempt.report_id.is_not(None))) == 4

    make_staff("admin@example.edu", Role.ADMIN)
    auth.login("admin@example.edu")
    _pages_show_the_bounces(app, client, bouncing=[a, b, c], sent=[d, e, f])


def _pages_show_the_bounces(app, client, bouncing, sent):
    session_id = db.session.scalar(db.select(EmailNotification.session_id).limit(1))
    session_page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert '<span data-count="bounced">3</span> bounced later' in session_page and 'id="review-bounced"' in session_page
    assert "3 bounced" in client.get("/sessions").get_data(as_text=True)
    listed = client.get("/notifications?status=bounced").get_data(as_text=True)
    assert all(address in listed for address in bouncing) and not any(address in listed for address in sent)
    directory = client.get("/admin/students?email=bouncing").get_data(as_text=True)
    assert directory.count("data-bouncing") == 3 and all(address in directory for address in bouncing)
    first = db.session.scalar(db.select(EmailNotification.id).where(EmailNotification.status == "bounced")
                              .order_by(EmailNotification.id))
    detail = client.get(f"/notifications/{first}").get_data(as_text=True)
    assert 'data-outcome="bounced"' in detail and "550" in detail

    app.config["METRICS_TOKEN"] = METRICS_TOKEN
    scrape = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)
    found = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
             for family in text_string_to_metric_families(scrape) for sample in family.samples}
    assert found[("portal_bounces_total", (("kind", "permanent"),))] == 3
    assert found[("portal_bounces_total", (("kind", "temporary"),))] == 1
    assert found[("portal_emails", (("relay", "default"), ("status", "bounced")))] == 3
    assert found[("portal_emails", (("relay", "default"), ("status", "sent")))] == 3
    assert found[("portal_emails", (("relay", "default"), ("status", "failed")))] == 1
    assert found[("portal_addresses_bouncing", ())] == 3
    assert ("portal_relay_replies_total", (("outcome", "bounced"), ("relay", "default"))) not in found


def test_correcting_a_bouncing_address_sends_the_email_again_to_it(app, class_emailed, mailbox, run_worker,
                                                                  smtp_server, client, auth):
    address = sorted(class_emailed)[0]
    mailbox.deliver(bounce_samples.gmail(class_emailed[address].sender, address,
                                         class_emailed[address].message["Message-ID"]))
    read_bounces()
    profile = db.session.scalar(db.select(StudentProfile).join(User).where(User.email == address))
    make_staff("admin@example.edu", Role.ADMIN)
    auth.login("admin@example.edu")
    page = client.get(f"/admin/students/{profile.id}/edit").get_data(as_text=True)
    assert 'id="address-bouncing"' in page and "The email account that you tried to reach does not exist" in page

    response = client.post(f"/admin/students/{profile.id}/edit", data={
        "first_name": profile.user.first_name, "last_name": profile.user.last_name, "email": "fixed@example.edu",
        "program_id": profile.program_id, "stream_id": "", "active": "y", "card_code": ""})
    assert response.status_code == 303
    assert "1 bounced email sent again to the new address" in client.get(response.location).get_data(as_text=True)
    run_worker()
    assert smtp_server.handler.recipients.count("fixed@example.edu") == 1
    assert status_of("fixed@example.edu") == NotificationStatus.SENT
    assert "data-bouncing" not in client.get("/admin/students?email=bouncing").get_data(as_text=True)


def test_a_reading_caught_mid_batch_keeps_what_two_admins_did_meanwhile(app, class_emailed, mailbox, run_worker,
                                                                       smtp_server, client, tmp_path):
    """A real worker reads four reports and is held once the first is recorded (filing it waits at
    a proxy). Meanwhile one admin corrects that student's address, so the bounced email goes again to
    the new one (another worker sends it), and a second admin corrects the third student's address
    before its report is read. The reading then goes on: the second student's email bounces as usual;
    the third's too (it went to the old address), but the corrected address is not flagged; and a
    second report about the first student's old address leaves the email sent again alone."""
    first, second, third = sorted(class_emailed)[:3]
    mailbox.deliver(*(sample(class_emailed[address].sender, address, class_emailed[address].message["Message-ID"])
                      for sample, address in ((bounce_samples.postfix, first), (bounce_samples.exchange, second),
                                              (bounce_samples.gmail, third), (bounce_samples.gmail, first))))
    admins = []
    for name in ("one", "two"):
        make_staff(f"admin-{name}@example.edu", Role.ADMIN)
        browser = client if name == "one" else app.test_client()
        Auth(browser).login(f"admin-{name}@example.edu")
        admins.append(browser)
    with HoldingProxy(mailbox) as proxy:
        app.config["BOUNCE_IMAP_URL"] = proxy.url()
        upkeep.tick(app, sweep_due=False)
        # Held for as long as the admins take: the worker must wait for the mailbox, not give up.
        reader = start_worker({**env_for(app), "MAIL_TIMEOUT_SECONDS": "120"}, tmp_path / "reader.log")
        assert proxy.caught.wait(60), (tmp_path / "reader.log").read_text()
        db.session.expire_all()
        assert status_of(first) == NotificationStatus.BOUNCED and status_of(second) == NotificationStatus.SENT

        said = _correct(admins[0], first, "first-fixed@example.edu")
        assert "1 bounced email sent again to the new address" in said
        _correct(admins[1], third, "third-fixed@example.edu")
        run_worker()  # a second worker sends the email again while the reading holds its job
        assert smtp_server.handler.recipients.count("first-fixed@example.edu") == 1
        proxy.release.set()
        assert reader.wait(timeout=60) == 0, (tmp_path / "reader.log").read_text()
    db.session.expire_all()
    assert status_of("first-fixed@example.edu") == NotificationStatus.SENT
    assert status_of(second) == NotificationStatus.BOUNCED
    assert status_of("third-fixed@example.edu") == NotificationStatus.BOUNCED
    flagged = db.session.scalars(db.select(User.email).join(StudentProfile).where(bouncing())).all()
    assert flagged == [second]
    for address, reports in (("first-fixed@example.edu", 2), ("third-fixed@example.edu", 1)):
        details = db.session.scalars(db.select(DeliveryAttempt.detail).join(EmailNotification).join(StudentProfile)
                                     .join(User).where(User.email == address, DeliveryAttempt.report_id.is_not(None))
                                     .order_by(DeliveryAttempt.id)).all()
        assert len(details) == reports and details[-1].endswith("(not the student's address any more)"), details
    assert len(mailbox.messages("Processed")) == 4 and mailbox.messages("INBOX") == []
    corrected = db.session.scalar(db.select(EmailNotification.id).join(StudentProfile).join(User)
                                  .where(User.email == "third-fixed@example.edu"))
    page = _page(admins[1], f"/notifications/{corrected}")
    assert re.search(rf'id="sent-to">{re.escape(third)} ', page), "the email's page says where it went"


def _correct(browser, address: str, new: str) -> str:
    """An admin's correction of a student's address on the edit page; the page it leads to."""
    from flask import g

    g.pop("_login_user", None)  # the two admins' clients share the test's app context (see opens_pages)
    profile = db.session.scalar(db.select(StudentProfile).join(User).where(User.email == address))
    response = browser.post(f"/admin/students/{profile.id}/edit", data={
        "first_name": profile.user.first_name, "last_name": profile.user.last_name, "email": new,
        "program_id": profile.program_id, "stream_id": "", "active": "y", "card_code": ""})
    assert response.status_code == 303, response.get_data(as_text=True)
    return _page(browser, response.location)


def _page(browser, path: str) -> str:
    from flask import g

    g.pop("_login_user", None)
    response = browser.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_folder_made_again_is_read_again_without_recording_twice(app, class_emailed, mailbox):
    first, second = sorted(class_emailed)[:2]
    report = bounce_samples.postfix(class_emailed[first].sender, first, "<x@y>", report_id="<same@mx1>")
    mailbox.deliver(report)
    assert read_bounces() == {"bounced": 1}
    before = db.session.scalar(db.select(BounceMailbox.uidvalidity))
    mailbox.give_inbox_a_new_uidvalidity()  # restored from a backup, say: the old UIDs mean nothing now
    mailbox.deliver(report, bounce_samples.exchange(class_emailed[second].sender, second, "<z@y>"))
    assert read_bounces() == {"duplicate": 1, "bounced": 1}
    db.session.expire_all()
    assert db.session.scalar(db.select(BounceMailbox.uidvalidity)) != before
    assert db.session.scalar(db.select(db.func.count()).select_from(DeliveryAttempt)
                             .where(DeliveryAttempt.report_id.is_not(None))) == 2


def test_a_report_about_no_email_of_ours_stays_in_the_mailbox(app, class_emailed, mailbox):
    address = sorted(class_emailed)[0]
    mailbox.deliver(bounce_samples.postfix("bounces+0123456789abcdef0123@attendance.example.edu", address, "<x@y>"))
    assert read_bounces() == {"unmatched": 1}
    assert len(mailbox.messages("INBOX")) == 1 and mailbox.messages("Processed") == []
    assert status_of(address) == NotificationStatus.SENT


def test_a_wrong_password_or_an_untrusted_server_is_one_line_and_changes_nothing(app, class_emailed, mailbox,
                                                                                 monkeypatch):
    address = sorted(class_emailed)[0]
    mailbox.deliver(bounce_samples.postfix(class_emailed[address].sender, address, "<x@y>"))
    runner = app.test_cli_runner()

    app.config["BOUNCE_IMAP_URL"] = mailbox.url(password="wrong-password")
    result = runner.invoke(args=["delivery", "read-bounces"])
    assert result.exit_code == 1 and "refused the portal's sign-in" in result.output
    assert "wrong-password" not in result.output and len(result.output.strip().splitlines()) == 1

    app.config["BOUNCE_IMAP_URL"] = mailbox.url()
    monkeypatch.delenv("SSL_CERT_FILE")  # the test CA is no longer trusted
    result = runner.invoke(args=["delivery", "read-bounces"])
    assert result.exit_code == 1 and "could not be reached safely" in result.output
    assert "certificate verify failed" in result.output

    assert status_of(address) == NotificationStatus.SENT and len(mailbox.messages("INBOX")) == 1
    monkeypatch.setenv("SSL_CERT_FILE", str(mailbox.ca_file))
    result = runner.invoke(args=["delivery", "read-bounces"])
    assert result.exit_code == 0 and result.output == "Bounce mailbox read: 1 bounced.\n"


def test_the_mailbox_signs_in_with_an_oauth_token(app, class_emailed, monkeypatch):
    address = sorted(class_emailed)[0]
    with TokenEndpoint(introspection_username=USER) as endpoint, BounceMailboxServer(oauth=endpoint) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        client = endpoint.add_client()
        app.config.update(BOUNCE_IMAP_URL=server.url(password=None), BOUNCE_IMAP_AUTH="xoauth2",
                          BOUNCE_IMAP_OAUTH_TOKEN_URL=endpoint.url, BOUNCE_IMAP_OAUTH_CLIENT_ID=client.client_id,
                          BOUNCE_IMAP_OAUTH_CLIENT_SECRET=client.client_secret,
                          BOUNCE_IMAP_OAUTH_SCOPE=client.scope)
        server.deliver(bounce_samples.exchange(class_emailed[address].sender, address, "<x@y>"))
        assert read_bounces() == {"bounced": 1}
        assert endpoint.requests == ["client_credentials"]
        assert len(server.messages("Processed")) == 1

        endpoint.revoke_client(client.client_id)  # the university withdrew the portal's access
        app.extensions["redis"].flushdb()
        with pytest.raises(MailboxError, match="the OAuth token endpoint .* refused the portal"):
            read_bounces()


def test_workers_read_the_mailbox_on_their_schedule(app, class_emailed, mailbox, tmp_path):
    """The upkeep tick queues the reading (once per BOUNCE_POLL_SECONDS, whichever worker ticks); a real
    worker process runs it."""
    address = sorted(class_emailed)[0]
    mailbox.deliver(bounce_samples.postfix(class_emailed[address].sender, address, "<x@y>"))
    upkeep.tick(app, sweep_due=False)
    upkeep.tick(app, sweep_due=False)  # within the interval: not queued again
    assert queueing.get_queue().job_ids == ["portal-read-bounces"]
    worker = start_worker(env_for(app), tmp_path / "worker.log")
    assert worker.wait(timeout=60) == 0
    db.session.expire_all()
    assert status_of(address) == NotificationStatus.BOUNCED


def test_a_mailbox_server_that_never_answers_is_given_up_on_in_time(app):
    """A stalled IMAP server: the reading ends after MAIL_TIMEOUT_SECONDS with one line, never hangs."""
    import time

    from tests.smtp_servers import SilentServer

    with SilentServer() as silent:
        app.config["BOUNCE_IMAP_URL"] = f"imaps://bounces%40example.edu:pw@127.0.0.1:{silent.port}/INBOX"
        started = time.monotonic()
        with pytest.raises(MailboxError, match="could not be reached safely"):
            read_bounces()
        assert time.monotonic() - started < app.config["MAIL_TIMEOUT_SECONDS"] + 3


def test_a_server_without_move_has_reports_copied_and_expunged(app, class_emailed, monkeypatch):
    address = sorted(class_emailed)[0]
    with BounceMailboxServer(without_move=True) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        app.config["BOUNCE_IMAP_URL"] = server.url()
        with server.session() as imap:
            assert b"MOVE" not in imap.capability()[1][0]
        server.deliver(bounce_samples.postfix(class_emailed[address].sender, address, "<x@y>"),
                       bounce_samples.reply(class_emailed[address].sender, address))
        assert read_bounces() == {"bounced": 1, "not_bounce": 1}
        inbox = server.messages("INBOX")
        assert len(inbox) == 1 and b"I will be there" in inbox[0]
        assert len(server.messages("Processed")) == 1
