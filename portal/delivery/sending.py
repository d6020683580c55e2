"""A send job's work: claim a batch, send it over many connections and relays, record every outcome.

The batch is shared by threads, each driving one SMTP connection, so the waits for the
relays' replies overlap: each relay (see `relays`) gets its own `connections` of them,
and all take from the batch's one list, so a relay that answers faster carries more.
Connections outlive the job (kept open for `IDLE_SECONDS`) so each carries many
messages. A thread builds its next message (while the others wait for replies), then
takes its turn under its relay's shared limits (`lanes`, `pacing`): the connection cap,
the daily cap, the rate limit and the relay's own "slow down". No database transaction
is open while SMTP talks: the claim commits first, then every answer is written as it
arrives, so a worker that dies mid-batch leaves at most the messages in flight to be
sent again.

What happens to a message:

    sent                      `sent`, one attempt counted
    refused for good          `failed` at once
    a transient failure       `pending` again after MAIL_RETRY_DELAYS (the last delay repeats);
                              `failed` once the next try would come after the link expires
    "slow down"               sent again when the slower pace allows; no attempt counted
    login refused, TLS, relay that relay pauses (see `pause`); the email goes through another
    unreachable               relay, or, when none is left, waits `pending`, no attempt counted
    a relay's turn far away   the email goes through another relay, or waits in the database
"""
import logging
import threading
import time
import uuid
from datetime import datetime, timedelta

from flask import current_app

from portal import languages, link_window
from portal.bounces import verp
from portal.database import utcnow
from portal.delivery import control, messages, pause, queueing, relays
from portal.delivery.batch import Batch, Driver, Email
from portal.delivery.lanes import Lane
from portal.delivery.oauth import AccessTokens
from portal.delivery.outcomes import Attempt, OutcomeWriter
from portal.delivery.smtp import CONNECTION_PROBLEMS, DeliveryResult, Outcome, RelayConnection
from portal.extensions import db
from portal.models import EmailKind
from portal.models import NotificationStatus as Status
from portal.repositories import EmailNotificationRepository
from portal.services.email_sender_service import EmailSenderService
from portal.timefmt import email_date, email_moment, local_datetime, local_time, zoned_time

log = logging.getLogger(__name__)

MAX_TURN_WAIT = 30.0  # a message whose turn is further away than this waits in the database instead
MAX_THROTTLES = 10  # "slow down" answers for one message before it waits in the database
HAND_BACK_WAIT = 2.0  # a turn further away than this goes to another relay, when one is sending
DRAIN_SECONDS = 2.0  # a job goes on taking the most urgent emails this long beyond its own number


class DeliveryService:
    def __init__(self, lanes: list[Lane], base_url: str, retry_delays: list[int], *, redis, domain: str,
                 timeout: float = 30, sending_timeout: int = 600,
                 notifications: EmailNotificationRepository | None = None, clock=utcnow,
                 return_path: str | None = None):
        """`lanes`: one per relay, in the order configured; `domain`: the right-hand side of Message-IDs;
        `return_path`: MAIL_RETURN_PATH, each email's own address for late bounces (None: the sender's)."""
        self.return_path = return_path
        self.lanes = lanes
        self.domain = domain
        self.base_url = base_url.rstrip("/")
        self.retry_delays = list(retry_delays) or [60]
        self.redis = redis
        self.timeout = timeout
        self.heartbeat_every = max(1.0, sending_timeout / 3)
        self.notifications = notifications or EmailNotificationRepository()
        self.now = clock

    @classmethod
    def from_app(cls) -> "DeliveryService":
        config, extensions = current_app.config, current_app.extensions
        redis, timeout = extensions["redis"], config["MAIL_TIMEOUT_SECONDS"]
        lanes = [Lane(relay, redis, EmailSenderService(extensions["mail"], relay.sender, timeout=timeout), timeout,
                      AccessTokens.for_relay(relay))
                 for relay in relays.configured()]
        return cls(lanes, config["PORTAL_BASE_URL"], config["MAIL_RETRY_DELAYS"], redis=redis,
                   domain=messages.sender_domain(lanes[0].relay.sender), timeout=timeout,
                   sending_timeout=config["SENDING_TIMEOUT_SECONDS"], return_path=config["MAIL_RETURN_PATH"])

    # --- the job ---------------------------------------------------------------------

    def send_batch(self, notification_ids: list[int]) -> dict:
        started = time.monotonic()
        if self._paused():
            log.info("batch of %d: delivery is paused, nothing claimed", len(notification_ids))
            return {"claimed": 0, "paused": len(notification_ids)}
        with OutcomeWriter.open() as writer:
            batch = Batch(writer, 0, {}, self._still_ours)
            budget, chunk = len(notification_ids), max(10, 2 * sum(lane.relay.connections for lane in self.lanes))
            batch.refill = lambda: self._take_more(batch, budget, chunk, started)
            try:
                self._take_more(batch, budget, chunk, started)
                self._run(batch)
            finally:
                self._release_untried(batch)
                for lane in self.lanes:
                    lane.throttle.flush()
        for attempts, ids in batch.retry_now.items():
            queueing.enqueue_send_batches(ids, suffix=f"-attempt{attempts + 1}", starts_at=batch.starts_at)

        counts = batch.counts
        log.info("batch of %d: claimed %d, sent %d, failed %d, retrying %d, waiting %d, expired %d, superseded %d "
                 "in %.2f s", len(notification_ids), counts["claimed"], counts["sent"], counts["failed"],
                 counts["retrying"], counts["waiting"], counts["expired"], counts["superseded"],
                 time.monotonic() - started)
        return dict(counts)

    def _take_more(self, batch: Batch, budget: int, chunk: int, started: float) -> int:
        """Claim the next most urgent emails waiting, whoever queued them, `chunk` at a time, so that a
        class starting now never waits behind one created earlier for later in the day, nor behind more
        than the emails in flight. A job takes as many as it was queued for (`budget`), and goes on taking
        for DRAIN_SECONDS, so its connections do not idle at the end of every job. How many were claimed
        (0: the job is done)."""
        claimed = batch.counts["claimed"]
        if claimed >= budget and time.monotonic() - started >= DRAIN_SECONDS or self._paused():
            return 0
        want = min(chunk, budget - claimed) if claimed < budget else chunk
        ids = self.notifications.claim_most_urgent(want, self.now(), f"{uuid.uuid4().hex[:16]}@{self.domain}")
        db.session.commit()
        rows = self.notifications.load_for_delivery(ids) if ids else []
        db.session.commit()  # end the read transaction before any SMTP traffic
        batch.claimed(rows)
        batch.add([email for row in rows if (email := self._prepare(batch, row))])
        return len(ids)

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

    def _built(self, batch: Batch, email: Email, lane: Lane) -> bool:
        """Build and serialise the email's message for this relay (its sender), in the thread that
        sends it, while the other connections wait for the relay's replies; False when it cannot be
        sent (its address or a header is refused, or building failed: that email fails, not the
        batch). Built before the message takes its turn under the rate limit, so the turn is spent
        on the wire (building after the turn let the relay count 11 messages in one second at 8/second)."""
        if email.message is not None and email.built_for == lane.name:
            return True
        row = email.row
        language = languages.usable(row.language)
        try:
            message, problem = lane.builder.prepare({
                "recipient_email": row.email, "context": self._context(row, language), "language": language,
                "name": f"{row.first_name} {row.last_name}".strip(), "message_id": row.message_id, "kind": row.kind,
                "return_path": self.return_path and verp.address(self.return_path, row.bounce_token)})
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
        email.message, email.built_for = message, lane.name
        return True

    def _context(self, row, language: str) -> dict:
        """The email's placeholders, its days and times written for a reader of `language`."""
        opens = link_window.opens(row.starts_at)
        return {
            "student_first_name": row.first_name,
            "course_name": row.course_name,
            "course_code": row.course_code,
            "session_date": email_date(row.starts_at, language),
            "start_time": local_time(row.starts_at),
            "end_time": zoned_time(row.ends_at),
            "attendance_link": f"{self.base_url}/attendance?token={row.token}",
            "token_expiry": email_moment(row.token_expires_at, language),
            "link_opens": email_moment(opens, language),
            "radius_m": row.radius_m,
            "location_required": row.latitude is not None,
            "scan_required": row.require_id_scan,
            "room": row.room,
        }

    def _run(self, batch: Batch) -> None:
        """Threads drive the connections, each relay's own number of them; this thread keeps the
        batch's claim fresh meanwhile."""
        app = current_app._get_current_object()

        def drive(lane: Lane, driver: Driver) -> None:
            with app.app_context():
                try:
                    self._drive_connection(batch, lane, driver)
                finally:
                    batch.leave(driver)
                    db.session.remove()

        threads, lanes = [], [lane for lane in self.lanes if not lane.paused()]
        for lane in lanes:
            for n in range(min(lane.start_job(), len(batch.work))):
                threads.append(threading.Thread(target=drive, args=(lane, batch.enter(lane.name)),
                                                name=f"smtp-{lane.name}-{n}", daemon=True))
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(self.heartbeat_every)
                    in_flight = batch.in_flight()
                    if thread.is_alive() and in_flight:  # a working batch keeps its rows from looking abandoned
                        self.notifications.touch_claims(in_flight, self.now())
                        db.session.commit()
        finally:
            for lane in lanes:
                lane.end_job()

    # --- one connection ---------------------------------------------------------------

    def _drive_connection(self, batch: Batch, lane: Lane, driver: Driver) -> None:
        """One connection's share of the batch: take messages until none are left, or until this
        relay cannot take more and another relay's threads carry the rest."""
        connection = lease = None
        try:
            while (email := batch.next_for(driver)) is not None:
                if connection is None:
                    connection, lease = lane.take_connection(MAX_TURN_WAIT, give_up=lambda: batch.connected > 0)
                    if connection is None:
                        if batch.hand_back(email, driver):
                            return
                        batch.again(email)
                        if not batch.connected:  # no connection came free for the whole batch
                            self._wait_all(batch, f"Waiting for a free connection to the mail server "
                                                  f"{lane.relay} (its connection cap)")
                        return  # otherwise the batch's other connections carry it
                    batch.connect(+1)
                if not self._built(batch, email, lane):
                    continue
                keep = self._send_safely(batch, email, lane, connection, driver)
                if keep is None:  # this relay gave the email to the others
                    return
                if not keep:
                    lane.drop(connection, lease)
                    connection = None
                    batch.connect(-1)
        finally:
            if connection is not None:
                batch.connect(-1)
                lane.put_back(connection, lease)

    def _send_safely(self, batch: Batch, email: Email, lane: Lane, connection: RelayConnection,
                     driver: Driver) -> bool | None:
        """Send one message and record the answer; False when the connection is no longer usable,
        None when this relay handed the email to another relay's threads (this thread stops)."""
        try:
            return self._send_one(batch, email, lane, connection, driver)
        except Exception as exc:  # never leave the row in `sending`, never stop the others
            log.exception("unexpected error sending notification %s", email.id)
            reason = f"Not sent: unexpected error ({type(exc).__name__}: {exc})"
            self._write(batch, email.id, Status.FAILED, reason,
                        attempt=Attempt("error", None, reason, lane.name), counts=True)
            batch.done(email, "failed")
            return connection.is_open

    def _send_one(self, batch: Batch, email: Email, lane: Lane, connection: RelayConnection,
                  driver: Driver) -> bool | None:
        if lane.paused():
            if batch.hand_back(email, driver):
                return None
            self._wait(batch, email, f"Delivery is paused: {lane.pause_reason()}", None)
            return True
        if not connection.is_open:
            problem = connection.open()
            if problem:
                return self._connection_problem(batch, email, lane, problem, driver)
            pause.connected(self.redis, lane.relay)
        others = any(other.active and other.relay != lane.name for other in batch.drivers)
        turn = lane.take_turn(HAND_BACK_WAIT if others else MAX_TURN_WAIT)
        if turn is None:
            if batch.hand_back(email, driver):
                return None
            self._wait(batch, email, "Waiting for its turn under the mail server's pace",
                       self.now() + timedelta(seconds=MAX_TURN_WAIT))
            return True
        if batch.superseded(email):  # re-issued, withdrawn or cancelled since the claim: its message is stale
            lane.answered(turn)
            batch.done(email, "superseded")
            return True
        try:
            result = connection.send(email.message)
        finally:
            lane.answered(turn)
        if result.outcome in (Outcome.LOGIN, Outcome.TLS, Outcome.UNREACHABLE):
            return self._connection_problem(batch, email, lane, result, driver)
        self._answered(batch, email, lane, result)
        return result.outcome not in CONNECTION_PROBLEMS and connection.is_open

    # --- what an answer means -----------------------------------------------------------

    def _answered(self, batch: Batch, email: Email, lane: Lane, result: DeliveryResult) -> None:
        now = self.now()
        attempt = Attempt(result.outcome.value, result.code, result.reply or result.reason, lane.name)
        if result.outcome == Outcome.SENT:
            self._write(batch, email.id, Status.SENT, None, sent_at=now, attempt=attempt, counts=True,
                        sent_to=email.row.email)
            lane.throttle.count_sent()
            batch.done(email, "sent")
        elif result.outcome == Outcome.THROTTLED:
            lane.throttle.slow_down()
            email.throttled += 1
            self._write(batch, email.id, Status.SENDING, f"{result.reason}; sending more slowly", attempt=attempt)
            if email.throttled < MAX_THROTTLES:
                batch.again(email)
            else:
                self._wait(batch, email, f"{result.reason}; waiting before trying again",
                           now + timedelta(seconds=MAX_TURN_WAIT))
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

    def _connection_problem(self, batch: Batch, email: Email, lane: Lane, problem: DeliveryResult,
                            driver: Driver) -> bool | None:
        """The relay, not this student, is the problem: the relay may pause, and the email goes to
        another relay's threads (None), or waits when there is none (False: the connection is gone)."""
        lane.pause_seen()
        if problem.outcome == Outcome.UNREACHABLE:
            paused_now = pause.connect_failed(self.redis, lane.relay, problem.reason)
            paused = paused_now or lane.paused()
        else:
            paused_now = pause.pause(self.redis, lane.relay, problem.reason)
            paused = True
        if paused_now:
            control.paused_by_the_portal(lane.relay, problem.reason)
        attempt = Attempt(problem.outcome.value, problem.code, problem.reply or problem.reason, lane.name)
        note = f"{problem.reason}; not counted as an attempt"
        if batch.hand_back(email, driver):
            self._write(batch, email.id, Status.SENDING, f"{note}; sending through another relay", attempt=attempt)
            return None
        retry_at = None if paused else self.now() + timedelta(seconds=self.retry_delays[0])
        self._write(batch, email.id, Status.PENDING, note, next_attempt_at=retry_at, attempt=attempt)
        batch.done(email, "waiting")
        return False

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
        """Delivery is paused when every relay is."""
        return all(lane.paused() for lane in self.lanes)


def _expired_reason(expires_at: datetime, last_error: str | None, tries: int | None = None) -> str:
    reason = f"Not sent: the link expired at {local_datetime(expires_at)} before it could be sent"
    if last_error:
        reason = (f"Gave up after {tries} attempts: the link expires at {local_datetime(expires_at)}, "
                  f"before the next try ({last_error})") if tries else f"{reason} ({last_error})"
    return reason
