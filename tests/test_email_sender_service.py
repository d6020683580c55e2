"""EmailSenderService against real aiosmtpd servers that accept, refuse, drop and stall."""
import time

import pytest
from aiosmtpd.controller import Controller

from portal.services.email_sender_service import EmailSenderService
from tests.smtp_servers import ScriptedHandler, SilentServer, SMTPServer, free_port, parts
from tests.support import point_mail_at

pytestmark = pytest.mark.integration  # real SMTP servers (aiosmtpd) that accept, refuse, drop and stall

CONTEXT = {
    "student_first_name": "John",
    "course_name": "Data Structures",
    "course_code": "CS201",
    "session_date": "2025-10-25",
    "start_time": "08:00",
    "end_time": "10:00",
    "attendance_link": "https://portal.example.edu/attendance?token=eyJ.abc.def",
    "token_expiry": "2025-10-25 09:00",
}


def emails(*addresses, **context_overrides):
    return [{"recipient_email": a, "context": {**CONTEXT, **context_overrides}} for a in addresses]


def sender_for(app, port, batch_size=50, timeout=2) -> EmailSenderService:
    point_mail_at(app, port)
    return EmailSenderService(app.extensions["mail"], "attendance@example.edu", batch_size, timeout)


@pytest.fixture
def server():
    def start(**behaviour):
        return SMTPServer(ScriptedHandler(**behaviour))

    return start


def test_all_accepted_multipart_with_every_context_variable(app, smtp_server):
    service = EmailSenderService.from_app(app)
    summary = service.send_bulk_emails(emails("a@example.edu", "b@example.edu"))
    assert summary == {"total": 2, "sent": 2, "failed": 0, "failed_emails": []}
    assert smtp_server.handler.recipients == ["a@example.edu", "b@example.edu"]
    assert smtp_server.handler.connections == 1
    message = smtp_server.handler.received[0].message
    assert message["Subject"] == "Attendance Session Created: Data Structures"
    assert message["From"] == "attendance@example.edu"
    assert "multipart/alternative" in {part.get_content_type() for part in message.walk()}
    bodies = parts(message)
    assert set(bodies) == {"text/plain", "text/html"}
    for body in bodies.values():
        for value in CONTEXT.values():
            assert value in body
        assert "Hi John" in body


def test_html_part_is_escaped_text_part_is_not(app, smtp_server):
    service = EmailSenderService.from_app(app)
    service.send_bulk_emails(emails("a@example.edu", course_name="<script>alert(1)</script> & Co"))
    bodies = parts(smtp_server.handler.received[0].message)
    assert "<script>" not in bodies["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in bodies["text/html"]
    assert "<script>alert(1)</script> & Co" in bodies["text/plain"]


def test_refused_recipients_fail_permanently_and_the_batch_goes_on(app, server):
    with server(refuse=("refuse",)) as smtp:
        results = []
        service = sender_for(app, smtp.port)
        summary = service.send_bulk_emails(
            emails("a@example.edu", "refuse-me@example.edu", "b@example.edu", "refuse-too@example.edu"),
            on_result=lambda email, result: results.append((email["recipient_email"], result)),
        )
    assert summary["sent"] == 2 and summary["failed"] == 2
    assert summary["failed_emails"] == ["refuse-me@example.edu", "refuse-too@example.edu"]
    assert smtp.handler.recipients == ["a@example.edu", "b@example.edu"]
    assert smtp.handler.connections == 1
    refused = dict(results)["refuse-me@example.edu"]
    assert refused.transient is False and "550" in refused.reason


def test_421_mid_batch_reconnects_and_sends_everything(app, server):
    with server(reply_421_on={2}) as smtp:
        summary = sender_for(app, smtp.port).send_bulk_emails(emails(*(f"s{i}@example.edu" for i in range(4))))
    assert summary["sent"] == 4 and summary["failed"] == 0
    assert sorted(smtp.handler.recipients) == [f"s{i}@example.edu" for i in range(4)]
    assert smtp.handler.connections == 2


def test_dropped_connection_mid_batch_is_reopened(app, server):
    with server(drop_on={2}) as smtp:
        summary = sender_for(app, smtp.port).send_bulk_emails(emails(*(f"s{i}@example.edu" for i in range(4))))
    assert summary["sent"] == 4
    assert sorted(smtp.handler.recipients) == [f"s{i}@example.edu" for i in range(4)]
    assert len(smtp.handler.recipients) == 4
    assert smtp.handler.connections == 2


def test_a_timeout_is_retried_once_on_a_new_connection(app, server):
    with server(stall_on={1}, stall_seconds=4) as smtp:
        summary = sender_for(app, smtp.port, timeout=1).send_bulk_emails(emails("a@example.edu", "b@example.edu"))
    assert summary["sent"] == 2
    assert smtp.handler.connections == 2


def test_a_server_that_keeps_stalling_fails_transiently_without_hanging(app, server):
    with server(stall_on={1, 2, 3, 4}, stall_seconds=4) as smtp:
        results = []
        started = time.monotonic()
        summary = sender_for(app, smtp.port, timeout=1).send_bulk_emails(
            emails("a@example.edu", "b@example.edu", "c@example.edu"),
            on_result=lambda email, result: results.append(result),
        )
        elapsed = time.monotonic() - started
    assert summary["sent"] == 0 and summary["failed"] == 3
    assert all(r.transient for r in results)
    assert "did not answer within 1 s" in results[0].reason
    assert elapsed < 6  # one timeout, one retry, then the rest of the batch is skipped


def test_a_silent_server_is_a_transient_failure_after_the_timeout(app):
    with SilentServer() as silent:
        results = []
        summary = sender_for(app, silent.port, timeout=1).send_bulk_emails(
            emails("a@example.edu", "b@example.edu"), on_result=lambda email, result: results.append(result)
        )
    assert summary["failed"] == 2
    assert all(r.transient for r in results)
    assert "did not answer" in results[0].reason


def test_no_server_at_all_is_a_transient_failure(app):
    results = []
    sender_for(app, free_port()).send_bulk_emails(emails("a@example.edu"), on_result=lambda e, r: results.append(r))
    assert results[0].transient and "Could not connect" in results[0].reason


def test_invalid_address_fails_permanently_without_touching_the_server(app, smtp_server):
    results = []
    summary = EmailSenderService.from_app(app).send_bulk_emails(
        emails("not-an-address", "ok@example.edu"), on_result=lambda e, r: results.append(r)
    )
    assert summary["failed_emails"] == ["not-an-address"]
    assert results[0].transient is False and "Invalid email address" in results[0].reason
    assert smtp_server.handler.recipients == ["ok@example.edu"]


def test_header_injection_is_refused(app, smtp_server):
    results = []
    EmailSenderService.from_app(app).send_bulk_emails(
        emails("a@example.edu", course_name="Maths\r\nBcc: victim@example.edu"),
        on_result=lambda e, r: results.append(r),
    )
    assert results[0].sent is False and results[0].transient is False
    assert smtp_server.handler.received == []


def test_one_connection_per_batch(app, smtp_server):
    service = sender_for(app, smtp_server.port, batch_size=2)
    summary = service.send_bulk_emails(emails(*(f"s{i}@example.edu" for i in range(5))))
    assert summary["sent"] == 5
    assert smtp_server.handler.connections == 3


def test_single_send_returns_a_boolean(app, server):
    with server(refuse=("refuse",)) as smtp:
        service = sender_for(app, smtp.port)
        assert service.send_attendance_notification("ok@example.edu", CONTEXT) is True
        assert service.send_attendance_notification("refuse@example.edu", CONTEXT) is False


# --- TLS: the certificate and host name of the SMTP server are verified -----------------


@pytest.fixture
def tls_server(tmp_path):
    """An aiosmtpd server that requires STARTTLS and AUTH, with a certificate from a test CA."""
    import ssl

    import trustme
    from aiosmtpd.smtp import AuthResult

    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    def start(names=("127.0.0.1", "localhost")):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(context)
        handler = ScriptedHandler()

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == b"portal" and auth_data.password == b"s3cret-pass"
            return AuthResult(success=ok, handled=False)

        server = SMTPServer(handler)
        server.controller = Controller(handler, hostname="127.0.0.1", port=server.port,
                                                    tls_context=context, require_starttls=True,
                                                    auth_required=True, authenticator=authenticator)
        return server

    return start, ca_file


def use_tls(app, port, username="portal", password="s3cret-pass"):
    point_mail_at(app, port)
    state = app.extensions["mail"]
    state.use_tls, state.username, state.password = True, username, password


def test_starttls_with_a_trusted_certificate_and_auth(app, tls_server, monkeypatch):
    start, ca_file = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with start() as smtp:
        use_tls(app, smtp.port)
        summary = EmailSenderService.from_app(app).send_bulk_emails(emails("a@example.edu"))
    assert summary["sent"] == 1
    assert smtp.handler.recipients == ["a@example.edu"]


def test_an_untrusted_certificate_is_refused(app, tls_server):
    start, _ = tls_server
    results = []
    with start() as smtp:
        use_tls(app, smtp.port)
        EmailSenderService.from_app(app).send_bulk_emails(emails("a@example.edu"), on_result=lambda e, r: results.append(r))
    assert results[0].sent is False and results[0].transient is True
    assert "certificate verify failed" in results[0].reason
    assert smtp.handler.received == []


def test_a_certificate_for_another_host_is_refused(app, tls_server, monkeypatch):
    start, ca_file = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    results = []
    with start(names=("mail.example.org",)) as smtp:
        use_tls(app, smtp.port)
        EmailSenderService.from_app(app).send_bulk_emails(emails("a@example.edu"), on_result=lambda e, r: results.append(r))
    assert results[0].sent is False
    assert "certificate verify failed" in results[0].reason or "match" in results[0].reason
    assert smtp.handler.received == []


def test_wrong_smtp_password_fails_without_sending(app, tls_server, monkeypatch):
    start, ca_file = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    results = []
    with start() as smtp:
        use_tls(app, smtp.port, password="wrong")
        EmailSenderService.from_app(app).send_bulk_emails(emails("a@example.edu"), on_result=lambda e, r: results.append(r))
    assert results[0].sent is False and "535" in results[0].reason
    assert smtp.handler.received == []


def test_implicit_ssl_with_a_verified_certificate(app, tmp_path, monkeypatch):
    import ssl

    import trustme

    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = SMTPServer()
    server.controller = Controller(server.handler, hostname="127.0.0.1", port=server.port,
                                                ssl_context=context)
    with server as smtp:
        point_mail_at(app, smtp.port)
        app.extensions["mail"].use_ssl = True
        summary = EmailSenderService.from_app(app).send_bulk_emails(emails("a@example.edu"))
    assert summary["sent"] == 1 and smtp.handler.recipients == ["a@example.edu"]
