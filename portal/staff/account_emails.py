"""The emails about a staff account: an invitation to set a password, and a password reset link.

They go through the delivery queue (an RQ job at the front of the urgent queue, ahead of
attendance mail) and are sent by the job itself over one connection to the first relay that
is not paused: they never wait behind a class's emails nor for a relay's pacing. The request
for a reset only enqueues the job (the same work whether or not the account exists, so the
answer and its time say nothing); the job looks the account up and sends only to an active
staff account.
"""
import logging
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError

from portal import languages
from portal.auth.access import STAFF
from portal.database import utcnow
from portal.delivery import pause, queueing, relays
from portal.delivery.oauth import AccessTokens
from portal.services.email_sender_service import EmailSenderService
from portal.staff import accounts, password_links
from portal.timefmt import email_moment

log = logging.getLogger(__name__)

KINDS = {password_links.RESET: "password_reset", password_links.INVITATION: "staff_invitation"}


def enqueue(purpose: str, email: str) -> bool:
    """Queue the email (False, logged, when the queue cannot be reached)."""
    try:
        queueing.get_queue("urgent").enqueue(queueing.ACCOUNT_EMAIL_JOB, purpose, email.strip().lower()[:254],
                                             at_front=True, job_timeout=120)
    except RedisError as exc:
        log.warning("queue unreachable: the %s email was not queued (%s)", purpose, exc)
        return False
    return True


def send(purpose: str, email: str) -> str:
    """The job: build the link and send it, through the first relay that accepts it. What happened,
    in a few words (the job's result on the queue page)."""
    user = accounts.user_with_email(email)
    if purpose not in KINDS or user is None or user.role not in STAFF or not user.is_active:
        return "no such account: nothing sent"
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    link = f"{base}/password/reset?token={password_links.make(user, purpose)}"
    expires = utcnow() + timedelta(seconds=password_links.LIFETIMES[purpose])
    language = languages.usable(user.language)
    context = {"first_name": user.first_name, "link": link, "email": user.email,
               "expires": email_moment(expires, language),
               "days": password_links.LIFETIMES[purpose] // 86400, "portal": base}
    problems = []
    redis = queueing.get_redis()
    for relay in relays.configured():
        if pause.state(redis, relay):
            problems.append(f"{relay}: paused")
            continue
        results = []
        sender = EmailSenderService(relay, relay.sender, timeout=current_app.config["MAIL_TIMEOUT_SECONDS"],
                                    tokens=AccessTokens.for_relay(relay))
        sender.send_bulk_emails([{"recipient_email": user.email, "name": user.full_name, "context": context,
                                  "kind": KINDS[purpose], "language": language}], on_result=lambda _, result: results.append(result))
        if results and results[0].sent:
            log.info("%s email sent to %s through %s", purpose, user.email, relay)
            return f"sent through {relay}"
        problems.append(f"{relay}: {results[0].reason if results else 'not tried'}")
    raise RuntimeError(f"the {purpose} email to {user.email} was not sent: " + "; ".join(problems))
