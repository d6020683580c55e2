"""Late bounces without the mailbox (issue 27): each email's return path, what a report says
(Postfix, Exchange Online, Gmail, a delay warning, mail that is no bounce), how it is recorded,
and the settings. The mailbox itself, over IMAP, is tests/test_bounce_mailbox.py."""
import functools

import pytest

from portal import create_app
from portal.bounces import reading, reports, verp
from portal.database import utcnow
from portal.delivery import messages
from portal.exceptions import ConfigurationError
from portal.extensions import db
from portal.models import DeliveryAttempt, NotificationStatus, StudentProfile
from tests import bounce_samples
from tests.factories import make_notification, make_students

RETURN_PATH = "bounces+{token}@attendance.example.edu"


def to(notification) -> str:
    return verp.address(RETURN_PATH, notification.bounce_token)


@pytest.fixture
def sent(app, people):
    """Three sent emails, one per student, with the return path configured."""
    app.config["MAIL_RETURN_PATH"] = RETURN_PATH
    students = make_students(people["course"].program, 3)
    return [make_notification(people["own_session"], student, status="sent") for student in students]


def history(notification) -> list[DeliveryAttempt]:
    return list(db.session.scalars(db.select(DeliveryAttempt).where(
        DeliveryAttempt.notification_id == notification.id).order_by(DeliveryAttempt.id)))


# --- the return path ---------------------------------------------------------------------------

def test_each_email_has_its_own_random_token_never_the_links(sent):
    tokens = [notification.bounce_token for notification in sent]
    assert len(set(tokens)) == 3 and all(len(token) == 20 and int(token, 16) >= 0 for token in tokens)
    assert all(token not in notification.token for token, notification in zip(tokens, sent, strict=True))
    assert to(sent[0]) == f"bounces+{tokens[0]}@attendance.example.edu"


def test_the_envelope_carries_the_return_path_and_the_from_header_stays(app):
    with app.test_request_context():
        email = messages.build("amina@example.org", "Amina", messages.SAMPLE_EMAIL_CONTEXT, "<1.x@example.edu>",
                               "Attendance <attendance@example.edu>", return_path="bounces+abc123@example.edu")
        plain = messages.build("amina@example.org", "Amina", messages.SAMPLE_EMAIL_CONTEXT, "<1.x@example.edu>",
                               "Attendance <attendance@example.edu>")
    assert email.sender == "bounces+abc123@example.edu" and plain.sender == "attendance@example.edu"
    assert email.message["From"] == plain.message["From"] == "Attendance <attendance@example.edu>"


def test_tokens_are_found_whatever_the_case_and_only_in_the_return_path():
    found = verp.tokens_in(RETURN_PATH, "<Bounces+ABCDEF0123456789ABCD@Attendance.Example.EDU>, "
                                        "bounces+0000000000000000ffff@attendance.example.edu.evil.org, "
                                        "xbounces+1111111111111111ffff@attendance.example.edu")
    assert found == ["abcdef0123456789abcd"]
    assert verp.tokens_in(RETURN_PATH, "bounces@attendance.example.edu, someone+abc@attendance.example.edu") == []


@pytest.mark.parametrize("template", ["bounces@attendance.example.edu", "bounces+{token}", "{token}@{token}.edu",
                                      "bounces@{token}.example.edu", "Bounces <bounces+{token}@example.edu>"])
def test_a_return_path_without_one_token_in_its_local_part_is_refused(template):
    with pytest.raises(ConfigurationError, match="MAIL_RETURN_PATH"):
        verp.check(template)


# --- what a report says --------------------------------------------------------------------------

@pytest.mark.parametrize("sample, kind, code, status, words", [
    (bounce_samples.postfix, "permanent", 550, "5.1.1", "User unknown in local recipient table"),
    (bounce_samples.exchange, "permanent", 550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found"),
    (bounce_samples.gmail, "permanent", 550, "5.1.1", "The email account that you tried to reach does not exist. "
                                                      "Please try double-checking"),
    (bounce_samples.postfix_delayed, "temporary", 452, "4.2.2", "Mailbox full"),
    (functools.partial(bounce_samples.postfix, refusal=bounce_samples.DMARC_REFUSED), "permanent", 550, "5.7.26",
     "Unauthenticated email from attendance.example.edu is not accepted due to domain's DMARC policy."),
])
def test_each_servers_report_is_read(sample, kind, code, status, words):
    address = "bounces+0123456789abcdef0123@attendance.example.edu"
    report = reports.read(sample(address, "amina@example.org", "<5.abc@attendance.example.edu>"), RETURN_PATH)
    assert report.kind == kind and report.smtp_code == code and report.address == "amina@example.org"
    assert report.status == status and report.about_the_address == (status != "5.7.26")
    assert words in report.reason and "550-" not in report.reason and "\n" not in report.reason
    assert report.tokens == ("0123456789abcdef0123",)
    assert report.report_id


def test_mail_that_is_not_a_bounce_is_none():
    assert reports.read(bounce_samples.reply("bounces+0123456789abcdef0123@attendance.example.edu",
                                             "amina@example.org"), RETURN_PATH) is None


# --- how it is recorded ----------------------------------------------------------------------------

def test_a_permanent_bounce_makes_the_email_bounced_and_flags_the_address(app, sent):
    target, other = sent[0], sent[1]
    address = target.student_profile.user.email
    assert reading.record(bounce_samples.postfix(to(target), address, "<1.a@x>")) == "bounced"
    db.session.expire_all()
    assert target.status == NotificationStatus.BOUNCED and "User unknown" in target.last_error
    [entry] = history(target)
    assert entry.outcome == "bounced" and entry.smtp_code == 550 and entry.detail.startswith(address)
    profile = db.session.get(StudentProfile, target.student_profile_id)
    assert profile.email_bouncing and profile.bounced_email == address and "User unknown" in profile.bounce_reason
    assert other.status == NotificationStatus.SENT and history(other) == []
    assert not other.student_profile.email_bouncing


def test_a_policy_refusal_bounces_the_email_but_does_not_flag_the_address(app, sent):
    """The student's mail server refused the portal's mail (DMARC, say), not the address: the email is
    bounced with the reason, the address stays unflagged, and once the sending is put right the
    email can be retried."""
    from portal.services.notification_generation_service import NotificationGenerationService

    target = sent[0]
    address = target.student_profile.user.email
    refused = bounce_samples.postfix(to(target), address, "<1.a@x>", refusal=bounce_samples.DMARC_REFUSED)
    assert reading.record(refused) == "bounced"
    db.session.expire_all()
    assert target.status == NotificationStatus.BOUNCED and "DMARC policy" in target.last_error
    assert not target.student_profile.email_bouncing
    assert history(target)[0].detail.endswith("not the address: the address is not flagged)")
    service = NotificationGenerationService.for_admin_retry(app.config)
    assert service.retry_failed_notifications([target.id])["retried"] == 1


def test_the_same_report_twice_is_recorded_once(app, sent):
    raw = bounce_samples.gmail(to(sent[0]), sent[0].student_profile.user.email, "<1.a@x>")
    assert reading.record(raw) == "bounced"
    assert reading.record(raw) == "duplicate"
    assert len(history(sent[0])) == 1


def test_a_temporary_report_is_history_only(app, sent):
    raw = bounce_samples.postfix_delayed(to(sent[0]), sent[0].student_profile.user.email, "<1.a@x>")
    assert reading.record(raw) == "delayed"
    db.session.expire_all()
    assert sent[0].status == NotificationStatus.SENT and not sent[0].student_profile.email_bouncing
    assert [entry.outcome for entry in history(sent[0])] == ["delayed"]


def test_a_report_naming_no_email_of_ours_is_not_recorded(app, sent):
    forged = bounce_samples.postfix("bounces+ffffffffffffffffffff@attendance.example.edu",
                                    sent[0].student_profile.user.email, "<1.a@x>")
    assert reading.record(forged) == "unmatched"
    assert reading.record(bounce_samples.reply(to(sent[0]), "amina@example.org")) == "not_bounce"
    assert db.session.scalar(db.select(db.func.count()).select_from(DeliveryAttempt)) == 0


def test_a_bounce_for_an_address_since_corrected_bounces_the_email_and_flags_nobody(app, sent):
    """The email went to the old address, so the student never got it: it is bounced (a retry goes to
    the corrected address), and the corrected address is not flagged."""
    from portal.services.notification_generation_service import NotificationGenerationService

    old = sent[0].student_profile.user.email
    sent[0].student_profile.user.email = "corrected@example.edu"
    db.session.commit()
    assert reading.record(bounce_samples.exchange(to(sent[0]), old, "<1.a@x>")) == "bounced"
    db.session.expire_all()
    assert sent[0].status == NotificationStatus.BOUNCED and not sent[0].student_profile.email_bouncing
    assert "not the student's address any more" in history(sent[0])[0].detail
    service = NotificationGenerationService.for_admin_retry(app.config)
    assert service.retry_failed_notifications([sent[0].id])["retried"] == 1


def test_a_bounce_about_an_earlier_send_leaves_the_email_sent_again(app, sent):
    """Sent again to a corrected address, the email is not bounced by a late report about the old one."""
    old = sent[0].student_profile.user.email
    sent[0].student_profile.user.email = sent[0].sent_to = "corrected@example.edu"
    db.session.commit()
    assert reading.record(bounce_samples.exchange(to(sent[0]), old, "<1.a@x>")) == "bounced"
    db.session.expire_all()
    assert sent[0].status == NotificationStatus.SENT and not sent[0].student_profile.email_bouncing
    assert history(sent[0])[0].detail.startswith(old)


def test_the_flag_ends_when_the_address_changes(app, sent):
    profile = sent[0].student_profile
    profile.bounced_email, profile.bounced_at, profile.bounce_reason = profile.user.email.upper(), utcnow(), "550"
    db.session.commit()
    assert profile.email_bouncing  # addresses compared without regard to case
    profile.user.email = "new@example.edu"
    assert not profile.email_bouncing


# --- settings ----------------------------------------------------------------------------------------

def mailbox_config(app_config, **settings) -> dict:
    return {**app_config, "MAIL_RETURN_PATH": RETURN_PATH,
            "BOUNCE_IMAP_URL": "imaps://bounces%40example.edu:pa%3Ass@imap.example.edu/INBOX", **settings}


@pytest.mark.parametrize("settings, refusal", [
    ({"MAIL_RETURN_PATH": None}, "BOUNCE_IMAP_URL needs MAIL_RETURN_PATH"),
    ({"BOUNCE_IMAP_URL": "pop3://user:pw@mail.example.edu/"}, "BOUNCE_IMAP_URL must be imaps://"),
    ({"BOUNCE_IMAP_URL": "imaps://imap.example.edu/INBOX"}, "BOUNCE_IMAP_URL needs the mailbox's user"),
    ({"BOUNCE_IMAP_URL": "imaps://bounces@imap.example.edu/INBOX"}, "needs both the URL's user and the URL's "
                                                                      "password"),
    ({"BOUNCE_IMAP_URL": "imaps://bounces@imap.example.edu/INBOX", "BOUNCE_IMAP_AUTH": "xoauth2"},
     "xoauth2 needs BOUNCE_IMAP_OAUTH_TOKEN_URL, BOUNCE_IMAP_OAUTH_CLIENT_ID, BOUNCE_IMAP_OAUTH_CLIENT_SECRET"),
    ({"BOUNCE_IMAP_PROCESSED_FOLDER": "INBOX"}, "must not be the folder the reports arrive in"),
    ({"BOUNCE_IMAP_URL": "imaps://u:p@imap.example.edu:99999/"}, "BOUNCE_IMAP_URL: Port out of range"),
    ({"BOUNCE_POLL_SECONDS": 1}, "BOUNCE_POLL_SECONDS must be at least 10"),
])
def test_wrong_mailbox_settings_are_refused_at_start_up(app_config, settings, refusal):
    with pytest.raises(ConfigurationError, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        create_app(mailbox_config(app_config, **settings))


def test_the_mailbox_url_is_read_with_its_escapes(app_config):
    from portal.bounces.mailbox import MailboxSettings

    app = create_app(mailbox_config(app_config))
    settings = MailboxSettings.from_config(app.config)
    assert (settings.username, settings.password, settings.host, settings.port, settings.implicit_tls,
            settings.folder, settings.processed_folder) == ("bounces@example.edu", "pa:ss", "imap.example.edu", 993,
                                                            True, "INBOX", "Processed")
    assert "pa:ss" not in repr(settings) and settings.account == "bounces@example.edu@imap.example.edu:993/INBOX"


def test_a_message_no_detector_can_read_is_left_for_a_person(app, sent, monkeypatch):
    def crash(raw, return_path):
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "a detector met bytes it did not expect")

    monkeypatch.setattr(reports, "read", crash)  # the fault injected: flufl.bounce raising on one message
    assert reading.record(bounce_samples.postfix(to(sent[0]), "a@example.org", "<1.a@x>")) == "unreadable"
    assert history(sent[0]) == []


def test_a_bounced_email_is_retried_only_once_its_address_is_corrected(app, sent):
    from portal.services.jwt_service import JWTTokenService
    from portal.services.notification_generation_service import NotificationGenerationService

    target = sent[0]
    reading.record(bounce_samples.postfix(to(target), target.student_profile.user.email, "<1.a@x>"))
    service = NotificationGenerationService(JWTTokenService.from_config(app.config))
    refused = service.retry_failed_notifications([target.id])
    assert refused["retried"] == 0 and "still bounces; correct the student's address first" in refused["errors"][0]
    target.student_profile.user.email = "corrected@example.edu"
    db.session.commit()
    assert service.retry_failed_notifications([target.id])["retried"] == 1
    db.session.expire_all()
    assert target.status == NotificationStatus.PENDING


def test_what_an_admin_did_meanwhile_is_not_overwritten(app, sent):
    """The reading's two writes check again what they were read as: an email retried (pending again)
    stays pending, an address corrected is not flagged, and an email already sent again to the
    corrected address is not made bounced by the old address's report."""
    from portal.repositories import BounceRepository

    repository, target, resent = BounceRepository(), sent[0], sent[2]
    old, old_of_resent = target.student_profile.user.email, resent.student_profile.user.email
    target.status = NotificationStatus.PENDING  # an admin's retry, committed after the report was read
    target.student_profile.user.email = "corrected@example.edu"
    resent.student_profile.user.email = resent.sent_to = "fixed@example.edu"  # corrected, and sent there
    db.session.commit()
    assert repository.mark_bounced(target.id, old, "550 User unknown", utcnow()) is False
    assert repository.flag_address(target.student_profile_id, old, "550 User unknown", utcnow()) is False
    assert repository.mark_bounced(resent.id, old_of_resent, "550 User unknown", utcnow()) is False
    db.session.commit()
    db.session.expire_all()
    assert target.status == NotificationStatus.PENDING and target.student_profile.bounced_email is None
    assert resent.status == NotificationStatus.SENT
    other = sent[1].student_profile
    assert repository.mark_bounced(sent[1].id, other.user.email.upper(), "550 User unknown", utcnow()) is True
    assert repository.flag_address(other.id, other.user.email, "550 User unknown", utcnow()) is True


def test_the_bounce_settings_are_read_from_the_environment(monkeypatch):
    """SPEC's names: MAIL_RETURN_PATH, BOUNCE_IMAP_URL and BOUNCE_POLL_SECONDS (60 unless set)."""
    from portal.config import load_config

    assert load_config("testing")[1]["BOUNCE_POLL_SECONDS"] == 60
    monkeypatch.setenv("MAIL_RETURN_PATH", RETURN_PATH)
    monkeypatch.setenv("BOUNCE_IMAP_URL", "imaps://bounces%40example.edu:pw@imap.example.edu:993/INBOX")
    monkeypatch.setenv("BOUNCE_POLL_SECONDS", "120")
    config = load_config("testing")[1]
    assert (config["MAIL_RETURN_PATH"], config["BOUNCE_IMAP_URL"], config["BOUNCE_POLL_SECONDS"]) == (
        RETURN_PATH, "imaps://bounces%40example.edu:pw@imap.example.edu:993/INBOX", 120)
