"""Read the bounce mailbox once: each new message read once, each report recorded once.

How far the folder has been read is kept in the database (its UIDVALIDITY and the last UID
seen), so a message is read once whichever worker reads it, and a folder whose UIDVALIDITY
changed (recreated, restored) is read again from the start: the reports already recorded
are known by their ids and only filed. A report is filed in the processed folder after it is
recorded; anything else (a reply, an out-of-office, a report about no email of ours) stays
where it is for a person to read.
"""
import logging
from collections import Counter

from flask import current_app
from sqlalchemy.exc import IntegrityError

from portal.bounces import mailbox, reports
from portal.bounces.mailbox import MailboxSettings
from portal.database import utcnow
from portal.extensions import db
from portal.models import BounceMailbox, DeliveryAttempt
from portal.repositories import BounceRepository

log = logging.getLogger(__name__)

# The outcomes a report writes in an email's history (DeliveryAttempt.outcome), by the report's kind.
OUTCOMES = {reports.PERMANENT: "bounced", reports.TEMPORARY: "delayed"}
FILED = {"bounced", "delayed", "duplicate"}  # what is moved to the processed folder


def read_bounces(settings: MailboxSettings | None = None) -> dict:
    """Read what is new in the mailbox of BOUNCE_IMAP_URL; how many messages came to what:
    bounced, delayed, duplicate (recorded before), unmatched (a report about no email of the
    portal's), not_bounce, unreadable (left for a person). MailboxError when the mailbox cannot be read (nothing is lost: the
    next reading starts where this one stopped)."""
    settings = settings or MailboxSettings.from_config(current_app.config)
    if settings is None:
        return {}
    repository, counts = BounceRepository(), Counter()
    with mailbox.opened(settings) as box:
        place = _place(repository, settings.account, box.uidvalidity)
        uids = box.uids_after(place.last_uid)
        for start in range(0, len(uids), mailbox.FETCH_AT_ONCE):
            fetched = box.fetch(uids[start:start + mailbox.FETCH_AT_ONCE])
            for uid in sorted(fetched):
                outcome = record(fetched[uid])
                counts[outcome] += 1
                place.last_uid, place.checked_at = uid, utcnow()
                db.session.commit()
                if outcome in FILED:
                    box.file(uid)
        place.checked_at = utcnow()
        db.session.commit()
    if counts:
        log.info("bounce mailbox %s: %s", settings.account,
                 ", ".join(f"{count} {outcome.replace('_', ' ')}" for outcome, count in sorted(counts.items())))
    return dict(counts)


def _place(repository: BounceRepository, account: str, uidvalidity: int) -> BounceMailbox:
    place = repository.mailbox(account)
    if place is None:
        place = BounceMailbox(account=account, uidvalidity=uidvalidity, last_uid=0)
        db.session.add(place)
    elif place.uidvalidity != uidvalidity:
        log.warning("bounce mailbox %s has a new UIDVALIDITY (%s, was %s): reading it again from the start",
                    account, uidvalidity, place.uidvalidity)
        place.uidvalidity, place.last_uid = uidvalidity, 0
    db.session.commit()
    return place


def record(raw: bytes) -> str:
    """Record one message of the mailbox (committed); what it was (see read_bounces)."""
    try:
        report = reports.read(raw, current_app.config["MAIL_RETURN_PATH"])
    except Exception:  # a message no detector can read must not stop the mailbox: it stays for a person
        log.exception("a message of the bounce mailbox could not be read; it is left where it is")
        return "unreadable"
    if report is None:
        return "not_bounce"
    repository = BounceRepository()
    notification = next((found for token in report.tokens if (found := repository.by_token(token))), None)
    if notification is None:
        return "unmatched"
    report_id = f"{notification.id}:{report.report_id}"[:255]
    if repository.report_recorded(report_id):
        return "duplicate"
    now = utcnow()
    address, sent_to = notification.student_profile.user.email, notification.sent_to
    reported = report.address or sent_to or address
    about_this_send = sent_to is not None and reported.lower() == sent_to.lower()
    still_theirs = reported.lower() == address.lower()
    detail = f"{reported}: {report.reason}"
    if not still_theirs:
        detail += " (not the student's address any more)"
    elif report.kind == reports.PERMANENT and not report.about_the_address:
        detail += " (refused for the message or its sender, not the address: the address is not flagged)"
    try:
        db.session.add(DeliveryAttempt(
            notification_id=notification.id, attempted_at=now, outcome=OUTCOMES[report.kind],
            smtp_code=report.smtp_code, detail=detail, relay=notification.last_relay, report_id=report_id))
        db.session.flush()
    except IntegrityError:  # another reading recorded the same report a moment ago
        db.session.rollback()
        return "duplicate"
    if report.kind == reports.PERMANENT:
        # The email bounced if the report is about the address it was last sent to (the student who
        # never got it may have a corrected address by now: nothing then is flagged, and a retry goes
        # there); the address bounces if it is still the student's and the failure is the address's
        # (not a policy refusing the portal's mail, which a retry may pass once it is put right). Each is a statement of its own that
        # checks again what it was read as (see BounceRepository): an admin may correct the address,
        # or retry or send the email again, while this reading runs.
        if still_theirs and report.about_the_address:
            repository.flag_address(notification.student_profile_id, address, report.reason, now)
        if about_this_send:
            repository.mark_bounced(notification.id, sent_to, report.reason, now)
    db.session.commit()
    return OUTCOMES[report.kind]

