"""Delivery as people see and steer it: pausing and resuming by hand, and its state.

One service for the admin pages and the command line, so a pause or a resume is made and
audited the same way whoever asks (the admin's email, or "command line"). Each call raises
`RedisError` when the queue cannot be reached; the caller says so.
"""
from dataclasses import dataclass

from flask_babel import gettext as _

from portal import audit
from portal.delivery import pause, queueing, relays
from portal.delivery.pacing import ConnectionSlots, Throttle, sent_recently
from portal.delivery.relays import Relay
from portal.delivery.sweep import describe, resume_delivery, run_sweep
from portal.exceptions import ValidationError
from portal.models import User
from portal.names import control_problem

COMMAND_LINE = "command line"


@dataclass(frozen=True)
class RelayState:
    relay: Relay
    pause: pause.PauseState | None
    pace: float | None  # messages a second, when the relay asked us to slow down
    connections: int | None  # open now, when the relay's max_connections caps them
    sent_last_hour: int
    sent_last_day: int

    @property
    def at_daily_cap(self) -> bool:
        return self.relay.daily_limit is not None and self.sent_last_day >= self.relay.daily_limit


@dataclass(frozen=True)
class DeliveryState:
    relays: list[RelayState]

    @property
    def pause(self) -> pause.PauseState | None:
        """The queue's pause: every relay paused (with one relay, its own pause)."""
        return whole_pause([state.pause for state in self.relays])

    @property
    def paused_relays(self) -> list[RelayState]:
        return [state for state in self.relays if state.pause]


def whole_pause(pauses: list[pause.PauseState | None]) -> pause.PauseState | None:
    """Delivery as a whole is paused when every relay is: since the last of them paused, for all their
    reasons; the probe may lift it while any of the pauses is the portal's own."""
    if not pauses or not all(pauses):
        return None
    if len(pauses) == 1:
        return pauses[0]
    people = {p.by for p in pauses} - {pause.BY_THE_PORTAL}
    return pause.PauseState(
        reason="; ".join(dict.fromkeys(p.reason for p in pauses)),
        since=max(p.since for p in pauses),
        by=pause.BY_THE_PORTAL if any(p.by == pause.BY_THE_PORTAL for p in pauses) or len(people) != 1
        else people.pop(),
        last_probe=next((p.last_probe for p in pauses if p.last_probe), None))


def chosen(name: str | None) -> list[Relay]:
    """The relay named `name` (the admin page's and the command line's `--relay`), or every relay."""
    if not name:
        return relays.configured()
    relay = relays.named(name)
    if relay is None:
        raise ValidationError(_("There is no relay named %(name)s; the relays are %(relays)s", name=repr(name),
                                relays=", ".join(relay.name for relay in relays.configured())))
    return [relay]


def pause_by_hand(actor: User | None, reason: str, relay_name: str | None = None) -> bool:
    """Pause delivery through one relay, or every relay (`actor` None: the command line), until a
    person resumes it. Over a pause the portal made itself, the pause becomes this person's (the probe
    no longer lifts it). False, and nothing recorded, if a person had paused them all already."""
    if problem := control_problem(_("The reason"), reason):  # it is shown on pages and printed in terminals
        raise ValidationError(problem)
    targets = chosen(relay_name)
    by = actor.email if actor else COMMAND_LINE
    shown = f"{reason} ({actor.email})" if actor else reason
    redis = queueing.get_redis()
    paused = [relay for relay in targets if pause.pause(redis, relay, shown, by=by)]
    if not paused:
        return False
    audit.record_now(actor, "delivery.pause", _through(paused, relay_name), reason)
    return True


def resume_by_hand(actor: User | None, relay_name: str | None = None) -> int | None:
    """Resume delivery through one relay, or every relay, and queue every email that waited: how many
    were queued. None, and nothing recorded, if none of them was paused."""
    targets = chosen(relay_name)
    queued = resume_delivery(by=actor.email if actor else COMMAND_LINE, through=targets)
    if queued is not None:
        audit.record_now(actor, "delivery.resume", _through(targets, relay_name), f"{queued} waiting emails queued")
    return queued


def _through(targets: list[Relay], relay_name: str | None) -> str:
    if relay_name or len(targets) == 1 and len(relays.configured()) == 1:
        return f"delivery through {targets[0]}"
    return "delivery through every relay"


def sweep_by_hand(actor: User | None) -> dict:
    """Run the sweep now (Admin → Delivery queue), and record that it was run and what it did."""
    summary = run_sweep()
    audit.record_now(actor, "delivery.sweep", "the delivery queue", describe(summary))
    return summary


def paused_by_the_portal(relay: Relay, reason: str) -> None:
    """Record a pause the portal made itself (a refused login, TLS, an unreachable relay)."""
    audit.record_now(None, "delivery.pause", f"delivery through {relay}", reason, by=audit.THE_PORTAL)


def resume_when_the_relay_answers(interval: int) -> int | None:
    """The probe: while a relay's pause is the portal's own, try it once per `interval`; when it
    answers, resume it and record it. How many emails were queued, or None."""
    redis, queued = queueing.get_redis(), None
    for relay in relays.configured():
        if not pause.probe(redis, relay, interval):
            continue
        resumed = resume_delivery(by="the relay probe", through=[relay])
        if resumed is not None:
            audit.record_now(None, "delivery.resume", f"delivery through {relay}",
                             f"resumed automatically: the relay accepted the login; {resumed} waiting emails queued",
                             by=audit.THE_PORTAL)
            queued = (queued or 0) + resumed
    return queued


def current_state() -> DeliveryState:
    """Each relay: paused or not (and why), its pace if it asked us to slow down, connections open,
    what it sent lately. (Retries wait in the database, not as scheduled RQ jobs: see sweep.)"""
    redis = queueing.get_redis()
    states = []
    for relay in relays.configured():
        hour, day = sent_recently(redis, relay)
        cap = relay.max_connections
        states.append(RelayState(
            relay=relay, pause=pause.state(redis, relay), pace=Throttle(redis, relay).current_rate(),
            connections=ConnectionSlots(redis, relay, cap, ttl=0).open_count() if cap else None,
            sent_last_hour=hour, sent_last_day=day))
    return DeliveryState(states)


def current_pause() -> pause.PauseState | None:
    """The queue's pause (every relay paused), for the banner on every staff page."""
    redis = queueing.get_redis()
    return whole_pause([pause.state(redis, relay) for relay in relays.configured()])
