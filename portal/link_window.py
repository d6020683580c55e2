"""When a session's attendance links work: from `opens(starts_at)` until `expires(starts_at, ends_at)`.

The one home of the rule. A link expires at the later of the start + TOKEN_EXPIRY_MINUTES (the
seed's formula) and the end + TOKEN_GRACE_MINUTES (the seed's rule that "expiry should be after
session ends"), so a 3-hour lab's links work until it ends; it opens
ATTENDANCE_OPENS_MINUTES_BEFORE the start. Times are counted in UTC: adding minutes to a local
time would count wall-clock minutes, wrong across a clock change.
"""
from datetime import datetime, timedelta, timezone

from flask import current_app


def expiry_rule(starts_at: datetime, ends_at: datetime, expiry_minutes: int, grace_minutes: int) -> datetime:
    """The rule with its settings given (the seed's generation service takes them as arguments)."""
    return max(starts_at.astimezone(timezone.utc) + timedelta(minutes=expiry_minutes),
               ends_at.astimezone(timezone.utc) + timedelta(minutes=grace_minutes))


def expires(starts_at: datetime, ends_at: datetime) -> datetime:
    config = current_app.config
    return expiry_rule(starts_at, ends_at, config["TOKEN_EXPIRY_MINUTES"], config["TOKEN_GRACE_MINUTES"])


def opens(starts_at: datetime) -> datetime:
    return starts_at.astimezone(timezone.utc) - timedelta(minutes=current_app.config["ATTENDANCE_OPENS_MINUTES_BEFORE"])
