"""The sessions list as the page shows it: each session's email badges, and a weekly series
summed up (how many sessions, from when to when, how many still to come). Decided here, so
the template only lays them out."""
from dataclasses import dataclass, field
from datetime import datetime

from portal.database import utcnow
from portal.models import AttendanceSession
from portal.repositories import EmailNotificationRepository
from portal.template_helpers import STATUS_STYLES
from portal.timefmt import local_datetime


@dataclass(frozen=True)
class Badge:
    text: str
    style: str  # Bootstrap's text-bg-<style>, or "light border"
    link: tuple[str, dict] | None = None  # (endpoint, arguments) when the badge leads somewhere
    title: str | None = None


@dataclass
class Series:
    first: AttendanceSession
    last: AttendanceSession
    count: int
    ahead: list[AttendanceSession]  # not cancelled and not started yet: "Cancel the rest" starts at the first


@dataclass
class Entry:
    """One row of the list (a single session) or a weekly series and its sessions."""

    sessions: list[AttendanceSession]
    badges: dict[int, list[Badge]] = field(default_factory=dict)
    series: Series | None = None


def listed(groups: list[list[AttendanceSession]], now: datetime | None = None) -> list[Entry]:
    """The page's entries from the repository's groups (a series, or one session alone)."""
    now = now or utcnow()
    counts = EmailNotificationRepository().counts_by_session([s.id for group in groups for s in group])
    entries = []
    for group in groups:
        entry = Entry(group, {s.id: badges(s, counts[s.id]) for s in group})
        if len(group) > 1 or group[0].series_id:
            entry.series = Series(group[0], group[-1], len(group),
                                  [s for s in group if not s.cancelled and s.starts_at >= now])
        entries.append(entry)
    return entries


def badges(session: AttendanceSession, counts) -> list[Badge]:
    """Where a session's emails stand, in one to three badges."""
    if session.cancelled:
        return [Badge("cancelled", "secondary")]
    if session.register_only:
        return [Badge("register only: no emails", "light border")]
    if session.scheduled:
        return [Badge(f"emails at {local_datetime(session.notify_at)}", "light border")]
    if session.generation_status in ("waiting", "queued"):
        return [Badge(session.generation_status, STATUS_STYLES[session.generation_status])]
    if session.generation_status == "failed":
        return [Badge("not sent", "danger", title=session.generation_error)]
    shown = [Badge(f"{counts['sent']} sent", "success")]
    if counts["pending"] + counts["sending"]:
        shown.append(Badge(f"{counts['pending'] + counts['sending']} in progress", "info"))
    if counts["failed"]:
        shown.append(Badge(f"{counts['failed']} failed", "danger",
                           link=("notifications.index", {"session_id": session.id, "status": "failed"})))
    return shown
