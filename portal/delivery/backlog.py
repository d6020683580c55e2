"""When the emails waiting to be sent will be out: for the new-session form, the session page and the queue page.

The workers always send the most urgent email there is (the earliest class first, see
`EmailNotificationRepository.claim_most_urgent`), so the time a session's last email leaves
is found by playing the queue forward the same way (`play`): the emails waiting now (those to be
tried again from their next try), the sessions whose emails are still to be made at their
sending time, and the new session itself,
each sent when nothing more urgent is left, by the relays together at their pace:

- each relay's pace is what it accepted while it had work (`pacing.busy_pace`), never more
  than its `rate_limit` or the pace it asked for ("slow down");
- a relay stops when it reaches its `daily_limit`; a paused relay sends nothing.

A relay whose pace was never measured and that has no rate limit is left out; if that leaves
none, there is no estimate (the first sending measures it).
"""
import heapq
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal import link_window
from portal.database import utcnow
from portal.delivery import control, queueing
from portal.delivery.control import DeliveryState
from portal.delivery.pacing import busy_pace, parse_rate
from portal.repositories import EmailNotificationRepository, SessionRepository, StudentProfileRepository

HORIZON = timedelta(days=1)  # sessions whose emails are made further ahead than this are not played


class Capacity:
    """What the relays can send from now on: each at its pace until its daily cap is reached."""

    def __init__(self, lanes: list[tuple[float, float]]):
        """`lanes`: (messages a second, messages left today: math.inf without a daily cap) per relay."""
        self.lanes = [[rate, left] for rate, left in lanes if rate > 0 and left > 0]

    @property
    def pace(self) -> float:
        return sum(rate for rate, left in self.lanes if left > 1e-9)

    def seconds_for(self, messages: float) -> float | None:
        """How long the relays take to send `messages` more; None if their daily caps stop them first."""
        return self._run(messages, math.inf, commit=False)[1]

    def spend(self, seconds: float) -> float:
        """Send for `seconds` (at most until every relay is capped): how many messages went."""
        return self._run(math.inf, seconds, commit=True)[0]

    def _run(self, messages: float, seconds: float, commit: bool) -> tuple[float, float | None]:
        lanes = self.lanes if commit else [lane[:] for lane in self.lanes]
        sent = elapsed = 0.0
        while messages - sent > 1e-9 and seconds - elapsed > 1e-9:
            lanes[:] = [lane for lane in lanes if lane[1] > 1e-9]
            if not lanes:
                return sent, None
            pace = sum(rate for rate, _ in lanes)
            step = min(min(left / rate for rate, left in lanes), (messages - sent) / pace, seconds - elapsed)
            for lane in lanes:
                lane[1] -= lane[0] * step
            sent, elapsed = sent + pace * step, elapsed + step
        return sent, elapsed


@dataclass(order=True)
class Work:
    """Emails that go out together: a session's, sent from `release` (when they are made), in the
    order of `urgency` (deadline, session id)."""

    urgency: tuple
    session_id: int = field(compare=False)
    release: float = field(compare=False)  # seconds from now
    emails: float = field(compare=False)


@dataclass
class Played:
    finished: dict[int, float | None]  # seconds from now until each session's last email leaves (None: never)
    ahead: float = 0.0  # emails of other sessions sent from the watched work's release until it is done


def play(work: list[Work], capacity: Capacity, watch: Work | None = None) -> Played:
    """Send the most urgent work first, as the workers do, each piece from its release; None for a
    session the relays' daily caps stop. `watch`: one piece of work whose wait to count in `ahead`."""
    upcoming = sorted(work, key=lambda item: item.release)
    ready: list[Work] = []
    played = Played({})
    now, index = 0.0, 0
    while index < len(upcoming) or ready:
        while index < len(upcoming) and upcoming[index].release <= now:
            heapq.heappush(ready, upcoming[index])
            index += 1
        if not ready:
            now = upcoming[index].release
            continue
        item = ready[0]
        waited = watch is not None and item.session_id != watch.session_id and any(x is watch for x in ready)
        until_next = upcoming[index].release - now if index < len(upcoming) else math.inf
        needed = capacity.seconds_for(item.emails)
        if needed is None and until_next == math.inf:
            for item in [*ready, *upcoming[index:]]:
                played.finished[item.session_id] = None
            break
        if needed is not None and needed <= until_next:
            capacity.spend(needed)
            sent, now = item.emails, now + needed
            heapq.heappop(ready)
            if played.finished.get(item.session_id, 0.0) is not None:
                played.finished[item.session_id] = now
        else:
            sent = capacity.spend(until_next)
            item.emails -= sent
            now += until_next
        if waited:
            played.ahead += sent
    return played


@dataclass(frozen=True)
class Pace:
    """The relays' pace, or why there is none: `paused` (every relay), `unmeasured`."""

    capacity: Capacity | None
    paused: bool = False
    rate_limited: bool = False  # the pace is a rate limit, not a measure

    @property
    def per_second(self) -> float:
        return self.capacity.pace if self.capacity else 0.0


def relays_pace(state: DeliveryState | None = None) -> Pace:
    """Each relay's pace and what it may still send today, from its state (`control.current_state`,
    read from Redis when not given; RedisError if unreachable)."""
    state = state or control.current_state()
    redis = queueing.get_redis()
    lanes, limited = [], False
    for relay_state in state.relays:
        relay = relay_state.relay
        if relay_state.pause:
            continue
        limit = parse_rate(relay.rate_limit)
        limit_pace = limit.amount / limit.get_expiry() if limit else None
        paces = [pace for pace in (busy_pace(redis, relay), limit_pace, relay_state.pace) if pace]
        if not paces:
            continue
        limited = limited or (limit_pace is not None and min(paces) == limit_pace)
        left = math.inf if relay.daily_limit is None else max(0, relay.daily_limit - relay_state.sent_last_day)
        lanes.append((min(paces), left))
    if not lanes:
        return Pace(None, paused=bool(state.relays) and len(state.paused_relays) == len(state.relays))
    return Pace(Capacity(lanes), rate_limited=limited)


@dataclass
class Waiting:
    session_id: int
    course_code: str
    starts_at: datetime
    emails: int
    done_by: datetime | None  # when its last email should leave


@dataclass
class Backlog:
    emails: int  # pending or being sent, across every session
    pace: Pace
    sessions: list[Waiting]


@dataclass(frozen=True)
class Forecast:
    """When a session's last email should leave, against when its link opens."""

    starts_at: datetime
    send_at: datetime  # when its emails are made (now, or its sending time)
    done_by: datetime | None  # None: see `pace` (every relay paused, none measured) or the daily caps
    ahead: int  # emails for earlier classes that go before its own
    pace: Pace

    @property
    def opens_at(self) -> datetime:
        return link_window.opens(self.starts_at)

    @property
    def late(self) -> bool:
        return self.done_by is not None and self.done_by > self.opens_at

    @property
    def minutes_needed(self) -> int:
        """`notify_minutes_before` that would have the emails out before the link opens: the time
        they take now, and a quarter more (at least 5 minutes) for the pace to vary; in fives."""
        span = (self.done_by - self.send_at).total_seconds() if self.done_by else 0.0
        lead = span + max(300.0, span / 4) + (self.starts_at - self.opens_at).total_seconds()
        return 5 * math.ceil(lead / 300)


class _Queue:
    """The queue as it stands: the emails waiting and the sessions whose emails are yet to be made."""

    def __init__(self, now: datetime):
        self.now = now
        self.rows = EmailNotificationRepository().waiting_by_deadline(now)
        self.to_make = SessionRepository().awaiting_emails(until=now + HORIZON)
        self._counts: dict[tuple, int] = {}

    def work(self, exclude: int | None = None) -> list[Work]:
        items = [Work((row.deadline, row.session_id), row.session_id,
                      max(0.0, (row.not_before - self.now).total_seconds()) if row.not_before else 0.0, row.waiting)
                 for row in self.rows]
        for row in self.to_make:
            if row.session_id != exclude:
                release = max(0.0, (row.notify_at - self.now).total_seconds()) if row.notify_at else 0.0
                items.append(Work((row.starts_at, row.session_id), row.session_id, release,
                                  self.students(row.program_id, row.stream_id)))
        return items

    def students(self, program_id: int, stream_id: int | None) -> int:
        key = (program_id, stream_id)
        if key not in self._counts:
            self._counts[key] = StudentProfileRepository().count_eligible(program_id, stream_id)
        return self._counts[key]


def backlog(now: datetime | None = None, state: DeliveryState | None = None) -> Backlog:
    """Every session with emails waiting, earliest class first, with when its last should leave
    (`state`: the relays' state, when the caller has read it already)."""
    now = now or utcnow()
    queue, pace = _Queue(now), relays_pace(state)
    finished = play(queue.work(), pace.capacity).finished if pace.capacity else {}
    sessions: dict[int, Waiting] = {}
    for row in queue.rows:
        if row.session_id not in sessions:
            seconds = finished.get(row.session_id)
            sessions[row.session_id] = Waiting(row.session_id, row.course_code, row.starts_at, 0,
                                               now + timedelta(seconds=seconds) if seconds is not None else None)
        sessions[row.session_id].emails += row.waiting
    waiting = sorted(sessions.values(), key=lambda item: (item.starts_at, item.session_id))
    return Backlog(sum(item.emails for item in waiting), pace, waiting)


def forecast(starts_at: datetime, send_at: datetime | None, students: int, session_id: int | None = None,
             now: datetime | None = None) -> Forecast:
    """When the last email of a session starting at `starts_at` leaves if its `students` emails are
    made at `send_at` (None: now). `session_id`: a saved session, whose own emails (waiting, or to
    be made) are the ones counted; a new one goes after the saved sessions of its start time."""
    now = now or utcnow()
    send_at = max(send_at or now, now)
    queue, pace = _Queue(now), relays_pace()
    work = queue.work(exclude=session_id)
    own = [item for item in work if item.session_id == session_id]
    if session_id is None or not own:
        own = [Work((starts_at, session_id or math.inf), session_id or -1, (send_at - now).total_seconds(),
                    students)]
        work += own
    done_by, ahead = None, 0.0
    if pace.capacity:
        played = play(work, pace.capacity, watch=min(own))
        seconds, ahead = played.finished.get(own[0].session_id), played.ahead
        done_by = now + timedelta(seconds=seconds) if seconds is not None else None
    return Forecast(starts_at, send_at, done_by, round(ahead), pace)
