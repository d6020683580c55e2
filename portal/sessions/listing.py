"""The sessions list as the page shows it: each session's email badges and attendance figure
("31 of 38 present"), and a weekly series summed up (how many sessions, from when to when, how
many still to come). Decided here, so the template only lays them out."""
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from portal.database import utcnow
from portal.models import AttendanceSession
from portal.register.statuses import ATTENDED, StatusRule
from portal.repositories import EmailNotificationRepository
from portal.repositories.register_repository import RegisterRepository
from portal.template_helpers import STATUS_STYLES, word
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


@dataclass(frozen=True)
class Figure:
    """A session's attendance in words: "31 of 38 present" (present and late count)."""

    students: int  # on its list
    present: int | None  # None while not known (no student has a status yet)

    def __str__(self) -> str:
        if self.present is None:
            return ngettext("%(num)s student", "%(num)s students", self.students)
        return _("%(present)s of %(students)s present", present=self.present, students=self.students)


@dataclass
class Entry:
    """One row of the list (a single session) or a weekly series and its sessions."""

    sessions: list[AttendanceSession]
    badges: dict[int, list[Badge]] = field(default_factory=dict)
    series: Series | None = None
    figures: dict[int, Figure] = field(default_factory=dict)


def listed(groups: list[list[AttendanceSession]], rule: StatusRule, now: datetime | None = None) -> list[Entry]:
    """The page's entries from the repository's groups (a series, or one session alone)."""
    now = now or utcnow()
    sessions = {s.id: s for group in groups for s in group}
    counts = EmailNotificationRepository().counts_by_session(list(sessions))
    figures = attendance_figures(sessions, rule, now)
    entries = []
    for group in groups:
        entry = Entry(group, {s.id: badges(s, counts[s.id]) for s in group}, figures=figures)
        if len(group) > 1 or group[0].series_id:
            entry.series = Series(group[0], group[-1], len(group),
                                  [s for s in group if not s.cancelled and s.starts_at >= now])
        entries.append(entry)
    return entries


def attendance_figures(sessions: dict[int, AttendanceSession], rule: StatusRule, now: datetime) -> dict[int, Figure]:
    """Each session's list size and how many attended, by the one status rule (one query)."""
    students, attended, known = Counter(), Counter(), Counter()
    for cell in RegisterRepository().cells(list(sessions)) if sessions else []:
        session = sessions[cell.session_id]
        status = rule.status(starts_at=session.starts_at, ends_at=session.ends_at, now=now,
                             confirmed_at=cell.recorded_at, review=cell.review, mark=cell.mark)
        students[cell.session_id] += 1
        known[cell.session_id] += status is not None
        attended[cell.session_id] += status in ATTENDED
    return {session_id: Figure(students[session_id],
                               attended[session_id] if known[session_id] and not sessions[session_id].cancelled
                               else None)
            for session_id in sessions}


def badges(session: AttendanceSession, counts) -> list[Badge]:
    """Where a session's emails stand, in one to four badges."""
    if session.cancelled:
        return [Badge(_("cancelled"), "secondary")]
    if session.register_only:
        return [Badge(_("register only: no emails"), "light border")]
    if session.scheduled:
        return [Badge(_("emails at %(time)s", time=local_datetime(session.notify_at)), "light border")]
    if session.generation_status in ("waiting", "queued"):
        return [Badge(word(session.generation_status), STATUS_STYLES[session.generation_status])]
    if session.generation_status == "failed":
        return [Badge(_("not sent"), "danger", title=session.generation_error)]
    shown = [Badge(_("%(count)s sent", count=counts["sent"]), "success")]
    if counts["pending"] + counts["sending"]:
        shown.append(Badge(_("%(count)s in progress", count=counts["pending"] + counts["sending"]), "info"))
    if counts["failed"]:
        shown.append(Badge(_("%(count)s failed", count=counts["failed"]), "danger",
                           link=("notifications.index", {"session_id": session.id, "status": "failed"})))
    if counts["bounced"]:
        shown.append(Badge(_("%(count)s bounced", count=counts["bounced"]), "warning",
                           link=("notifications.index", {"session_id": session.id, "status": "bounced"})))
    return shown
