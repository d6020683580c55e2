"""Delivery as people see and steer it: pausing and resuming by hand, and its state.

One service for the admin pages and the command line, so a pause or a resume is made and
audited the same way whoever asks (the admin's email, or "command line"). Each call raises
`RedisError` when the queue cannot be reached; the caller says so.
"""
from dataclasses import dataclass

from flask import current_app

from portal import audit
from portal.delivery import pause, queueing
from portal.delivery.pacing import ConnectionSlots, Throttle
from portal.delivery.relays import Relay
from portal.delivery.sweep import describe, resume_delivery, run_sweep
from portal.exceptions import ValidationError
from portal.models import User
from portal.names import control_problem

COMMAND_LINE = "command line"


@dataclass(frozen=True)
class DeliveryState:
    relay: Relay
    pause: pause.PauseState | None
    pace: float | None  # messages a second, when the relay asked us to slow down
    connections: int | None  # open now, when MAIL_MAX_CONNECTIONS caps them
    max_connections: int | None
    rate_limit: str


def pause_by_hand(actor: User | None, reason: str) -> bool:
    """Pause delivery (`actor` None: the command line) until a person resumes it. Over a pause
    the portal made itself, the pause becomes this person's (the probe no longer lifts it).
    False, and nothing recorded, if a person had paused it already."""
    if problem := control_problem("The reason", reason):  # it is shown on pages and printed in terminals
        raise ValidationError(problem)
    by = actor.email if actor else COMMAND_LINE
    relay = Relay.current()
    shown = f"{reason} ({actor.email})" if actor else reason
    if not pause.pause(queueing.get_redis(), relay, shown, by=by):
        return False
    audit.record_now(actor, "delivery.pause", f"delivery through {relay}", reason)
    return True


def resume_by_hand(actor: User | None) -> int | None:
    """Resume delivery and queue every email that waited: how many were queued. None, and nothing
    recorded, if it was running."""
    queued = resume_delivery(by=actor.email if actor else COMMAND_LINE)
    if queued is not None:
        audit.record_now(actor, "delivery.resume", f"delivery through {Relay.current()}",
                         f"{queued} waiting emails queued")
    return queued


def sweep_by_hand(actor: User | None) -> dict:
    """Run the sweep now (Admin → Delivery queue), and record that it was run and what it did."""
    summary = run_sweep()
    audit.record_now(actor, "delivery.sweep", "the delivery queue", describe(summary))
    return summary


def paused_by_the_portal(relay: Relay, reason: str) -> None:
    """Record a pause the portal made itself (a refused login, TLS, an unreachable relay)."""
    audit.record_now(None, "delivery.pause", f"delivery through {relay}", reason, by=audit.THE_PORTAL)


def resume_when_the_relay_answers(interval: int) -> int | None:
    """The probe: while the portal's own pause lasts, try the relay once per `interval`; when it
    answers, resume and record it. How many emails were queued, or None."""
    relay = Relay.current()
    if not pause.probe(queueing.get_redis(), relay, interval):
        return None
    queued = resume_delivery(by="the relay probe")
    if queued is not None:
        audit.record_now(None, "delivery.resume", f"delivery through {relay}",
                         f"resumed automatically: the relay accepted the login; {queued} waiting emails queued",
                         by=audit.THE_PORTAL)
    return queued


def current_state() -> DeliveryState:
    """Paused or not (and why), the relay's pace if it asked us to slow down, connections open.
    (Retries wait in the database, not as scheduled RQ jobs: see portal.delivery.sweep.)"""
    redis, relay, config = queueing.get_redis(), Relay.current(), current_app.config
    cap = config["MAIL_MAX_CONNECTIONS"]
    return DeliveryState(
        relay=relay,
        pause=pause.state(redis, relay),
        pace=Throttle(redis, relay).current_rate(),
        connections=ConnectionSlots(redis, relay, cap, ttl=0).open_count() if cap else None,
        max_connections=cap,
        rate_limit=config["MAIL_RATE_LIMIT"],
    )


def current_pause() -> pause.PauseState | None:
    return pause.state(queueing.get_redis(), Relay.current())
