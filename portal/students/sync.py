"""Keeping the students in step with the registry's export (the import's `sync` mode).

A sync is planned first and applied only when an admin confirms the plan:

- a row whose student number exists updates that student (name, email, program, stream,
  active; the card code only where the file gives one; the language when the file has
  that column, an empty one meaning PORTAL_DEFAULT_LANGUAGE);
- a row with a new student number adds the student, as the import does;
- with `deactivate_missing`, active students of the file's programs who are not in the
  file are deactivated (never deleted: their attendance stays).

Every row is checked first; a bad row means nothing is planned and every problem is listed.
Applying re-plans from the same file and refuses if the plan differs from the one the admin
saw (someone changed a student meanwhile); then it is one transaction, all or nothing.

On the admin page the file waits between the preview and the confirmation as a
PendingImport (`save_preview`, `apply_preview`, `cancel_preview`), for a day at most.
"""
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from portal import audit
from portal.database import utcnow
from portal.exceptions import PlanChanged, PreviewExpiredError, PreviewTakenError, ValidationError
from portal.extensions import db
from portal.languages import N_, english
from portal.models import PendingImport, StudentProfile, User
from portal.repositories import CatalogRepository, PendingImportRepository, StudentProfileRepository
from portal.students.card_codes import masked_change
from portal.students.importing import UniqueValues, check_row, insert_students, listed, read_rows
from portal.timefmt import local_datetime

FIELDS = ("first_name", "last_name", "email", "program", "stream", "active", "card_code", "language")
PREVIEW_LIFETIME = timedelta(days=1)
PREVIEW_GONE = "This preview has expired or was already used; upload the file again."


@dataclass
class Change:
    profile_id: int
    user_id: int
    student_number: str
    name: str
    before: dict  # field → the value as an admin reads it (card codes masked)
    after: dict
    values: dict  # column → new value, for the UPDATEs


class Leaving(NamedTuple):
    """An active student of the file's programs who is not in the file."""

    profile_id: int
    user_id: int
    student_number: str
    name: str


@dataclass
class SyncPlan:
    deactivate_missing: bool
    programs: list[str] = field(default_factory=list)  # the codes of the file's programs
    added: list[dict] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    deactivated: list[Leaving] = field(default_factory=list)
    unchanged: int = 0

    @property
    def fingerprint(self) -> str:
        """What the plan would do, hashed: the same file over the same students gives the same."""
        content = [sorted(self.programs), self.deactivate_missing,
                   [(s["student_number"], s["email"], s["first_name"], s["last_name"]) for s in self.added],
                   [(c.student_number, sorted(c.after.items())) for c in self.changed],
                   [leaving.student_number for leaving in self.deactivated]]
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.deactivated)


def plan_sync(text: str, deactivate_missing: bool) -> SyncPlan:
    """What syncing with `text` (CSV) would change; raises ValidationError listing every bad row."""
    rows = read_rows(text)
    programs = {p.code: p for p in CatalogRepository().programs()}
    existing = StudentProfileRepository().by_number()
    unique = UniqueValues()

    plan, problems, seen_numbers = SyncPlan(deactivate_missing), [], set()
    for line, row in rows:
        reasons, student = check_row(row, programs)
        number = student["student_number"]
        current = existing.get(number)
        own_user, own_profile = (current.user_id, current.id) if current else (None, None)
        card = student.get("card_code") or (None if current else number)
        if number in seen_numbers:
            reasons.append(f"student number {number} appears twice in the file")
        seen_numbers.add(number)
        reasons += unique.problems(number, student["email"], card, own_user, own_profile)
        if reasons:
            problems.append(f"Line {line}: " + "; ".join(reasons))
            continue
        if current is None:
            student["card_code"] = card
            plan.added.append(student)
        elif change := _change(current, student, has_active="active" in row, has_language="language" in row):
            plan.changed.append(change)
        else:
            plan.unchanged += 1
    if problems:
        raise ValidationError(listed(problems))

    plan.programs = sorted({row["program_code"] for _, row in rows})
    if deactivate_missing:
        plan.deactivated = [Leaving(p.id, p.user_id, p.student_number, p.user.full_name) for p in existing.values()
                            if p.program.code in plan.programs and p.student_number not in seen_numbers
                            and (p.is_active or p.user.is_active)]
        plan.deactivated.sort(key=lambda leaving: leaving.student_number)
    return plan


def _change(profile: StudentProfile, student: dict, has_active: bool, has_language: bool) -> Change | None:
    user = profile.user
    active = student["active"] if has_active else True  # listed in the registry's export: a current student
    language = student["language"] if has_language else profile.language  # a file without the column keeps it
    card_before, card_after = masked_change(profile.card_code, student.get("card_code"))
    before = {"first_name": user.first_name, "last_name": user.last_name, "email": user.email,
              "program": profile.program.code, "stream": profile.stream.name if profile.stream else "",
              "active": "yes" if profile.is_active and user.is_active else "no", "card_code": card_before,
              "language": profile.language or ""}
    after = {"first_name": student["first_name"], "last_name": student["last_name"], "email": student["email"],
             "program": student["program"].code, "stream": student["stream"].name if student["stream"] else "",
             "active": "yes" if active else "no", "card_code": card_after, "language": language or ""}
    differs = {name for name in FIELDS if before[name] != after[name]}
    if not differs:
        return None
    values = {"user": {"first_name": student["first_name"], "last_name": student["last_name"],
                       "email": student["email"], "is_active": active},
              "profile": {"program_id": student["program"].id,
                          "stream_id": student["stream"].id if student["stream"] else None, "is_active": active,
                          "language": language}}
    if student.get("card_code"):
        values["profile"]["card_code"] = student["card_code"]
    return Change(profile.id, user.id, profile.student_number, user.full_name,
                  {name: before[name] for name in FIELDS if name in differs},
                  {name: after[name] for name in FIELDS if name in differs}, values)


def apply_sync(text: str, deactivate_missing: bool, fingerprint: str, by: User | None) -> SyncPlan:
    """Apply the plan the admin saw, all or nothing (committed). Raises ValidationError if the
    file's rows are bad, and PlanChanged (with the new plan) if it is not the plan they saw."""
    plan = _apply(text, deactivate_missing, fingerprint, by)
    db.session.commit()
    return plan


def save_preview(text: str, deactivate_missing: bool, by: User) -> tuple[SyncPlan, str]:
    """Plan the sync and keep the file until the admin confirms or cancels (committed); the plan
    and the preview's token. Previews older than PREVIEW_LIFETIME are dropped on the way."""
    plan = plan_sync(text, deactivate_missing)
    previews = PendingImportRepository()
    previews.remove_created_before(utcnow() - PREVIEW_LIFETIME)
    pending = previews.add(PendingImport(token=secrets.token_urlsafe(32), created_by_id=by.id,
                                         deactivate_missing=deactivate_missing, csv_text=text))
    db.session.commit()
    return plan, pending.token


def apply_preview(token: str, fingerprint: str, by: User) -> SyncPlan:
    """Apply a saved preview, once: the preview is claimed in the same transaction that applies
    it, so of two confirmations at once one applies and the other gets PreviewTakenError.
    PreviewExpiredError if it is gone; PlanChanged and ValidationError as `apply_sync` (nothing
    changed then, and the preview can be confirmed again)."""
    previews, now = PendingImportRepository(), utcnow()
    if not previews.claim(token, by.id, now, now - PREVIEW_LIFETIME):
        db.session.rollback()
        raise _not_open(token)
    pending = previews.get_by_token(token)
    try:
        plan = _apply(pending.csv_text, pending.deactivate_missing, fingerprint, by)
    except (PlanChanged, ValidationError):
        db.session.rollback()
        raise
    db.session.commit()
    return plan


def cancel_preview(token: str) -> None:
    pending = _preview(token)
    PendingImportRepository().remove(pending)
    db.session.commit()


def _preview(token: str) -> PendingImport:
    """A preview still waiting for its confirmation."""
    pending = PendingImportRepository().get_by_token(token)
    if pending is None or pending.applied_at is not None or pending.created_at < utcnow() - PREVIEW_LIFETIME:
        raise _not_open(token)
    return pending


def _not_open(token: str) -> Exception:
    pending = PendingImportRepository().get_by_token(token)
    if pending is not None and pending.applied_at is not None:
        who = pending.applied_by.full_name if pending.applied_by else "someone"
        return PreviewTakenError(f"This sync was applied by {who} at {local_datetime(pending.applied_at)}; "
                                 "nothing was applied twice. The students page shows the result.")
    return PreviewExpiredError(PREVIEW_GONE)


def _apply(text: str, deactivate_missing: bool, fingerprint: str, by: User | None) -> SyncPlan:
    plan = plan_sync(text, deactivate_missing)
    if plan.fingerprint != fingerprint:
        raise PlanChanged(plan)
    students = StudentProfileRepository()
    for change in plan.changed:
        students.update_one(change.user_id, change.profile_id, change.values["user"], change.values["profile"])
    if plan.deactivated:
        students.deactivate([d.user_id for d in plan.deactivated], [d.profile_id for d in plan.deactivated])
    if plan.added:
        insert_students(plan.added)
    audit.record(by, "students.sync", f"programs {', '.join(plan.programs)}", summary(plan))
    return plan


def summary(plan: SyncPlan, say=english) -> str:
    """'3 added, 2 updated, 40 unchanged' (`say`: gettext for the page, English for the audit trail)."""
    text = say(N_("%(added)s added, %(changed)s updated, %(unchanged)s unchanged"), added=len(plan.added),
               changed=len(plan.changed), unchanged=plan.unchanged)
    return text + (say(N_(", %(count)s deactivated"), count=len(plan.deactivated)) if plan.deactivate_missing else "")
