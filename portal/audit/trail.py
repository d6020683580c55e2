"""The audit trail: every admin action (imports, syncs, retries, hand marks, account changes,
cancelled sessions) adds one AuditEvent in the same transaction as the change, so a change and
its record are saved together or not at all."""
from flask_babel import lazy_gettext as _l

from portal.extensions import db
from portal.models import AttendanceSession, AuditEvent, User
from portal.repositories.audit_repository import AuditRepository
from portal.timefmt import local_date, local_time

ACTIONS = {
    "attendance.mark": _l("Attendance marked by hand"),
    "notifications.retry": _l("Failed emails retried"),
    "session.cancel": _l("Session cancelled"),
    "session.edit": _l("Session changed"),
    "session.send_now": _l("Session's emails sent now"),
    "attendance.review": _l("Flagged confirmation accepted or rejected"),
    "delivery.sweep": _l("Sweep run by hand"),
    "staff.create": _l("Staff account created"),
    "staff.password": _l("Staff password set"),
    "staff.active": _l("Staff account activated or deactivated"),
    "staff.unlock": _l("Staff account's sign-in unlocked"),
    "sign_in.password": _l("Signed in with a password"),
    "sign_in.university": _l("Signed in with a university account"),
    "sign_in.refused": _l("Sign-in refused"),
    "account.password": _l("Own password changed"),
    "account.password_link": _l("Password set with an emailed link"),
    "staff.invite": _l("Invitation to set a password emailed"),
    "student.edit": _l("Student edited"),
    "students.import": _l("Students imported"),
    "students.sync": _l("Students synchronised"),
    "directory.edit": _l("Program, stream or course edited"),
    "course.lecturers": _l("Lecturers assigned to a course or removed"),
    "student.card": _l("Student given a new card code"),
    "delivery.pause": _l("Delivery paused"),
    "delivery.resume": _l("Delivery resumed"),
}
DETAILS_LIMIT = 4000


def session_label(session: AttendanceSession) -> str:
    """'CS201 on 2026-11-26 08:00 (session 12)'."""
    return (f"{session.course.course_code} on {local_date(session.starts_at)} {local_time(session.starts_at)} "
            f"(session {session.id})")


THE_PORTAL = "the portal"  # the actor of what the portal did by itself (a pause, a resume after a probe)


def record(actor: User | None, action: str, subject: str, details: str = "", *, by: str | None = None) -> None:
    """Add the event to the current transaction (the caller commits). `actor` None is the command
    line, unless `by` names who else it was (THE_PORTAL)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    AuditRepository().add(AuditEvent(actor_id=actor.id if actor is not None else None, actor_label=by,
                                      action=action, subject=subject[:200], details=details[:DETAILS_LIMIT] or None))


def record_now(actor: User | None, action: str, subject: str, details: str = "", *, by: str | None = None) -> None:
    """Record an action whose change is not in the database (Redis's pause flag, say) or was
    committed by code that cannot take part (the seed's retry service), and commit the record."""
    record(actor, action, subject, details, by=by)
    db.session.commit()


def actors() -> list[User]:
    """Everyone who has an entry, by name (for the page's filter)."""
    return AuditRepository().actors()


def page(action: str | None, actor_id: int | None, cli_only: bool, starts_from, starts_before, page_number: int,
         per_page: int = 50):
    """Events newest first, filtered; `cli_only` for those run from the command line."""
    return AuditRepository().page(action, actor_id, cli_only, starts_from, starts_before, page_number, per_page)
