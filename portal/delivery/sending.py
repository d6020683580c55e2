"""A send job's work: claim a batch, send it over many connections, record every outcome.

The batch is shared by `MAIL_CONNECTIONS` threads, each driving one SMTP connection,
so the waits for the relay's replies overlap; connections outlive the job (kept open
for `IDLE_SECONDS`) so each carries many messages. A thread builds its next message
(while the others wait for replies), then takes its turn under the relay's shared
limits (`pacing`): the connection cap, the rate limit and the relay's own "slow down". No database transaction is open while SMTP
talks: the claim commits first, then every answer is written as it arrives, so a
worker that dies mid-batch leaves at most the messages in flight to be sent again.

What happens to a message:

    sent                      `sent`, one attempt counted
    refused for good          `failed` at once
    a transient failure       `pending` again after MAIL_RETRY_DELAYS (the last delay repeats);
                              `failed` once the next try would come after the link expires
    "slow down"               sent again when the slower pace allows; no attempt counted
    login refused, TLS, relay `pending`, no attempt counted; delivery pauses (see `pause`)
    unreachable
"""
import logging
import threading
import time
import uuid
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError

from portal import link_window
from portal.database import utcnow
from portal.delivery import control, messages, pause, queueing
from portal.delivery.batch import Batch, Email
from portal.delivery.connections import POOL
from portal.delivery.outcomes import Attempt, OutcomeWriter
from portal.delivery.pacing import ConnectionSlots, RateLimit, Throttle, parse_rate
from portal.delivery.relays import Relay
from portal.delivery.smtp import CONNECTION_PROBLEMS, DeliveryResult, Outcome, RelayConnection
from portal.extensions import db
from portal.models import EmailKind
from portal.models import NotificationStatus as Status
from portal.repositories import EmailNotificationRepository
from portal.services.email_sender_service import EmailSenderService
from portal.timefmt import local_date, local_datetime, local_time, zoned_time

log = logging.getLogger(__name__)

MAX_TURN_WAIT = 30.0  # a message whose turn is further away than this waits in the database instead
MAX_THROTTLES = 10  # "slow down" answers for one message before it waits in the database


class DeliveryService:
    def __init__(self, mail, sender: str, base_url: str, retry_delays: list[int], *, redis, connections: int = 1,
                 timeout: float = 30, sending_timeout: int = 600, max_connections: int | None = None,
                 rate_limit: str = "", notifications: EmailNotificationRepository | None = None,
                 clock=utcnow):
        self.mail, self.sender = mail, sender
        self.domain = messages.sender_domain(sender)
        self.builder = EmailSenderService(mail, sender, timeout=timeout)  # builds and checks each message
        self.base_url = base_url.rstrip("/")
        self.retry_delays = list(retry_delays) or [60]
        self.redis = redis
        self.connections = max(1, connections)
        self.timeout = timeout
        self.heartbeat_every = max(1.0, sending_timeout / 3)
        self.relay = Relay(mail.server, mail.port, mail.username or "")
        self.slots = ConnectionSlots(redis, self.relay, max_connections, ttl=2 * timeout + 30)
        item = parse_rate(rate_limit)
        self.rate_limit = RateLimit(redis, self.relay, item, hold=2 * timeout + 30) if item else None
        self.throttle = Throttle(redis, self.relay)
        self.notifications = notifications or EmailNotificationRepository()
        self.now = clock
        self.pool_key = (mail.server, mail.port, mail.username, mail.use_tls, mail.use_ssl)
        self._running_until = 0.0  # see _paused

    @classmethod
    def from_app(cls) -> "DeliveryService":
        config, extensions = current_app.config, current_app.extensions
        return cls(
            extensions["mail"], config["MAIL_DEFAULT_SENDER"], config["PORTAL_BASE_URL"], config["MAIL_RETRY_DELAYS"],
            redis=extensions["redis"], connections=config["MAIL_CONNECTIONS"], timeout=config["MAIL_TIMEOUT_SECONDS"],
            sending_timeout=config["SENDING_TIMEOUT_SECONDS"], max_connections=config["MAIL_MAX_CONNECTIONS"],
            rate_limit=config["MAIL_RATE_LIMIT"],
        )

    # --- the job ---------------------------------------------------------------------

    def send_batch(self, notification_ids: list[int]) -> dict:
        started = time.monotonic()
        if self._paused():
            log.info("batch of %d: delivery is paused, nothing claimed", len(notification_ids))
            return {"claimed": 0, "paused": len(notification_ids)}
        now = self.now()
        claimed = self.notifications.claim(notification_ids, now, f"{uuid.uuid4().hex[:16]}@{self.domain}")
        db.session.commit()
        rows = self.notifications.load_for_delivery(claimed) if claimed else []
        db.session.commit()  # end the read transaction before any SMTP traffic

        with OutcomeWriter.open() as writer:
            batch = Batch(writer, len(claimed), {row.id: row.message_id for row in rows}, self._still_ours)
            try:
                batch.add([email for row in rows if (email := self._prepare(batch, row))])
                batch.starts_at = min((row.starts_at for row in rows), default=None)
                self._run(batch)
            finally:
                self._release_untried(batch)
        for attempts, ids in batch.retry_now.items():
            queueing.enqueue_send_batches(ids, suffix=f"-attempt{attempts + 1}", starts_at=batch.starts_at)

        counts = batch.counts
        log.info("batch of %d: claimed %d, sent %d, failed %d, retrying %d, waiting %d, expired %d, superseded %d "
                 "in %.2f s", len(notification_ids), counts["claimed"], counts["sent"], counts["failed"],
                 counts["retrying"], counts["waiting"], counts["expired"], counts["superseded"],
                 time.monotonic() - started)
        return dict(counts)

    def _prepare(self, batch: Batch, row) -> Email | None:
        """The email to send for this row, or None when the row is settled instead: its session
        was cancelled while it was queued, or its link has expired. The message itself is built
        by the thread that sends it (see `_built`)."""
        if row.cancelled_at is not None and row.kind != EmailKind.CANCELLED:  # cancelled while it was queued
            self._write(batch, row.id, Status.WITHDRAWN, "Not sent: the session was cancelled")
            batch.counts["withdrawn"] += 1
            return None
        if row.token_expires_at <= self.now():
            self._write(batch, row.id, Status.FAILED, _expired_reason(row.token_expires_at, None))
            batch.counts["expired"] += 1
            return None
        return Email(row.id, row.attempts, row.token_expires_at, row)

    def _built(self, batch: Batch, email: Email) -> bool:
        """Build and serialise the email's message, in the thread that sends it, while the other
        connections wait for the relay's replies; False when it cannot be sent (its address or a
        header is refused, or building failed: that email fails, not the batch). Built before the
        message takes its turn under MAIL_RATE_LIMIT, so the turn is spent on the wire (building
        after the turn let the relay count 11 messages in one second at 8/second)."""
        if email.message is not None:
            return True
        row = email.row
        try:
            message, problem = self.builder.prepare({
                "recipient_email": row.email, "context": self._context(row),
                "name": f"{row.first_name} {row.last_name}".strip(), "message_id": row.message_id, "kind": row.kind})
            if message is not None:
                message.as_bytes()
        except Exception as exc:  # a template or library surprise fails this email, not the batch
            log.exception("unexpected error building notification %s", row.id)
            reason = f"Not sent: unexpected error ({type(exc).__name__}: {exc})"
            self._write(batch, row.id, Status.FAILED, reason, attempt=Attempt("error", None, reason), counts=True)
            batch.done(email, "failed")
            return False
        if problem:
            self._write(batch, row.id, Status.FAILED, problem.reason,
                        attempt=Attempt("permanent", None, problem.reason), counts=True)
            batch.done(email, "failed")
            return False
        email.message = message
        return True

    def _context(self, row) -> dict:
        opens = link_window.opens(row.starts_at)
        return {
            "student_first_name": row.first_name,
            "course_name": row.course_name,
            "course_code": row.course_code,
            "session_date": local_date(row.starts_at),
            "start_time": local_time(row.starts_at),
            "end_time": zoned_time(row.ends_at),
            "attendance_link": f"{self.base_url}/attendance?token={row.token}",
            "token_expiry": f"{local_date(row.token_expires_at)} {zoned_time(row.token_expires_at)}",
            "link_opens": f"{local_date(opens)} {zoned_time(opens)}",
            "radius_m": row.radius_m,
            "location_required": row.latitude is not None,
            "scan_required": row.require_id_scan,
            "room": row.room,
        }

    def _run(self, batch: Batch) -> None:
        """Threads drive the connections; this thread keeps the batch's claim fresh meanwhile."""
        app = current_app._get_current_object()

        def drive() -> None:
            with app.app_context():
                try:
                    self._drive_connection(batch)
                finally:
                    db.session.remove()

        count = min(self.connections, len(batch.work))
        threads = [threading.Thread(target=drive, name=f"smtp-{n}", daemon=True) for n in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(self.heartbeat_every)
                in_flight = batch.in_flight()
                if thread.is_alive() and in_flight:  # a working batch keeps its rows from looking abandoned
                    self.notifications.touch_claims(in_flight, self.now())
                    db.session.commit()

    # --- one connection ---------------------------------------------------------------

    def _drive_connection(self, batch: Batch) -> None:
        """One connection's share of the batch: take messages until none are left."""
        relay = lease = None
        try:
            while True:
                if relay is None:
                    relay, lease = self._take_connection(batch)
                    if relay is None:
                        if not batch.connected:  # no connection came free for the whole batch
                            self._wait_all(batch, "Waiting for a free connection to the mail server "
                                                  "(MAIL_MAX_CONNECTIONS)")
                        return  # otherwise the batch's other connections carry it
                    batch.connect(+1)
                email = batch.next()
                if email is None:
                    return
                if not self._built(batch, email):
                    continue
                if not self._send_safely(batch, email, relay):
                    relay.close()
                    self.slots.release(lease)
                    relay = None
                    batch.connect(-1)
        finally:
            if relay is not None:
                batch.connect(-1)
                self._put_back(relay, lease)

    def _take_connection(self, batch: Batch) -> tuple[RelayConnection | None, str | None]:
        """An idle connection of this process, or a new one under MAIL_MAX_CONNECTIONS. A thread
        stops waiting for a slot as soon as another thread of the batch has one."""
        taken = POOL.take(self.pool_key)
        if taken:
            self.slots.renew(taken[1])
            return taken
        lease = self.slots.acquire(MAX_TURN_WAIT, give_up=lambda: batch.connected > 0)
        return (RelayConnection(self.mail, self.timeout), lease) if lease else (None, None)

    def _send_safely(self, batch: Batch, email: Email, relay: RelayConnection) -> bool:
        """Send one message and record the answer; False when the connection is no longer usable."""
        try:
            return self._send_one(batch, email, relay)
        except Exception as exc:  # never leave the row in `sending`, never stop the others
            log.exception("unexpected error sending notification %s", email.id)
            reason = f"Not sent: unexpected error ({type(exc).__name__}: {exc})"
            self._write(batch, email.id, Status.FAILED, reason, attempt=Attempt("error", None, reason), counts=True)
            batch.done(email, "failed")
            return relay.is_open

    def _send_one(self, batch: Batch, email: Email, relay: RelayConnection) -> bool:
        if self._paused():
            self._wait(batch, email, f"Delivery is paused: {self._pause_reason()}", None)
            return True
        if not relay.is_open:
            problem = relay.open()
            if problem:
                self._connection_problem(batch, email, problem)
                return False
            pause.connected(self.redis, self.relay)
        place = self.rate_limit.wait_turn(MAX_TURN_WAIT) if self.rate_limit else ""
        if place is None or self.throttle.wait_turn(MAX_TURN_WAIT) is None:
            if place:
                self.rate_limit.sent(place)  # counted as used: simpler than giving it back, and never too many
            self._wait(batch, email, "Waiting for its turn under the mail server's pace",
                       self.now() + timedelta(seconds=MAX_TURN_WAIT))
            return True
        if batch.superseded(email):  # re-issued, withdrawn or cancelled since the claim: its message is stale
            if place:
                self.rate_limit.sent(place)
            batch.done(email, "superseded")
            return True
        try:
            result = relay.send(email.message)
        finally:
            if place:
                self.rate_limit.sent(place)
        self._answered(batch, email, result)
        return result.outcome not in CONNECTION_PROBLEMS and relay.is_open

    def _put_back(self, relay: RelayConnection, lease: str) -> None:
        """Keep the connection for the next job, unless it broke or another worker waits for a slot."""
        if relay.is_open and not self.slots.contended():
            POOL.give(self.pool_key, relay, lease, self.slots)
        else:
            relay.close()
            self.slots.release(lease)

    # --- what an answer means -----------------------------------------------------------

    def _answered(self, batch: Batch, email: Email, result: DeliveryResult) -> None:
        now = self.now()
        attempt = Attempt(result.outcome.value, result.code, result.reply or result.reason)
        if result.outcome == Outcome.SENT:
            self._write(batch, email.id, Status.SENT, None, sent_at=now, attempt=attempt, counts=True)
            self.throttle.count_sent()
            batch.done(email, "sent")
        elif result.outcome == Outcome.THROTTLED:
            self.throttle.slow_down()
            email.throttled += 1
            self._write(batch, email.id, Status.SENDING, f"{result.reason}; sending more slowly", attempt=attempt)
            if email.throttled < MAX_THROTTLES:
                batch.again(email)
            else:
                self._wait(batch, email, f"{result.reason}; waiting before trying again",
                           now + timedelta(seconds=MAX_TURN_WAIT))
        elif result.outcome in (Outcome.LOGIN, Outcome.TLS, Outcome.UNREACHABLE):
            self._connection_problem(batch, email, result)
        elif result.outcome == Outcome.PERMANENT:
            self._write(batch, email.id, Status.FAILED, result.reason, attempt=attempt, counts=True)
            batch.done(email, "failed")
        else:
            self._retry_later(batch, email, result, attempt, now)

    def _retry_later(self, batch: Batch, email: Email, result: DeliveryResult, attempt: Attempt,
                     now: datetime) -> None:
        tried = email.attempts + 1
        delay = self.retry_delays[min(tried, len(self.retry_delays)) - 1]
        next_try = now + timedelta(seconds=delay)
        if next_try >= email.expires_at:
            self._write(batch, email.id, Status.FAILED, _expired_reason(email.expires_at, result.reason, tried),
                        attempt=attempt, counts=True)
            batch.done(email, "failed")
            return
        reason = f"{result.reason}; will try again at {local_datetime(next_try)} (attempt {tried + 1})"
        self._write(batch, email.id, Status.PENDING, reason, next_attempt_at=next_try if delay else None,
                    attempt=attempt, counts=True)
        if not delay:
            with batch.lock:
                batch.retry_now[tried].append(email.id)
        batch.done(email, "retrying")

    def _connection_problem(self, batch: Batch, email: Email, problem: DeliveryResult) -> None:
        """The relay, not this student, is the problem: the email waits, and delivery may pause."""
        self._running_until = 0.0
        if problem.outcome == Outcome.UNREACHABLE:
            paused_now = pause.connect_failed(self.redis, self.relay, problem.reason)
            paused = paused_now or self._paused()
        else:
            paused_now = pause.pause(self.redis, self.relay, problem.reason)
            paused = True
        if paused_now:
            control.paused_by_the_portal(self.relay, problem.reason)
        retry_at = None if paused else self.now() + timedelta(seconds=self.retry_delays[0])
        self._write(batch, email.id, Status.PENDING, f"{problem.reason}; not counted as an attempt",
                    next_attempt_at=retry_at,
                    attempt=Attempt(problem.outcome.value, problem.code, problem.reply or problem.reason))
        batch.done(email, "waiting")

    def _wait_all(self, batch: Batch, reason: str) -> None:
        until = self.now() + timedelta(seconds=self.retry_delays[0])
        while (email := batch.next()) is not None:
            self._wait(batch, email, reason, until)

    def _wait(self, batch: Batch, email: Email, reason: str, until: datetime | None) -> None:
        batch.wait(email, reason, until, self.now())

    def _write(self, batch: Batch, notification_id: int, status: str, reason: str | None, **fields) -> None:
        batch.write(notification_id, status, reason, self.now(), **fields)

    def _still_ours(self, message_ids: dict[int, str]) -> set[int]:
        ours = self.notifications.still_claimed(message_ids)
        db.session.commit()  # end the read, so that no transaction stays open while the batch sends
        return ours

    def _release_untried(self, batch: Batch) -> None:
        untried = batch.in_flight()
        if untried:
            self.notifications.release(untried, self.now(), "The send job stopped before trying this email; "
                                                            "it will be sent again")
            db.session.commit()

    def _paused(self) -> bool:
        """Whether delivery is paused; "running" is trusted for half a second, not asked per message."""
        if time.monotonic() < self._running_until:
            return False
        try:
            paused = pause.is_paused(self.redis, self.relay)
        except RedisError:
            paused = False
        if not paused:
            self._running_until = time.monotonic() + 0.5
        return paused

    def _pause_reason(self) -> str:
        current = pause.state(self.redis, self.relay)
        return current.reason if current else "see Admin → Delivery queue"


def _expired_reason(expires_at: datetime, last_error: str | None, tries: int | None = None) -> str:
    reason = f"Not sent: the link expired at {local_datetime(expires_at)} before it could be sent"
    if last_error:
        reason = (f"Gave up after {tries} attempts: the link expires at {local_datetime(expires_at)}, "
                  f"before the next try ({last_error})") if tries else f"{reason} ({last_error})"
    return reason
