"""An admin's edits to one student: name, email, program, stream, active, card code, language. Checked
like the import (names, a unique email and card code, a stream of the program), saved with an
audit entry, and deactivation ends the student's links at once (eligibility requires active)."""

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from portal import audit, languages
from portal.database import utcnow
from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import Program, Stream, StudentProfile, User
from portal.names import control_problem, max_length, name_problems
from portal.repositories import EmailNotificationRepository, StudentProfileRepository, get
from portal.services.notification_generation_service import NotificationGenerationService
from portal.staff.accounts import usable_email
from portal.students.card_codes import MAX_LENGTH as CARD_CODE_LIMIT
from portal.students.card_codes import masked_change


def update_student(profile: StudentProfile, *, first_name: str, last_name: str, email: str, program_id: int,
                   stream_id: int | None, active: bool, card_code: str, by: User, language: str | None = None
                   ) -> list[str]:
    """Apply the edit (committed, with an audit entry); returns what changed, in words.
    `card_code` empty keeps the current code; `language` None keeps the current one, "" means the
    portal's default."""
    first_name, last_name, email, card_code = first_name.strip(), last_name.strip(), email.strip(), card_code.strip()
    errors = name_problems({"first_name": (_("First name"), first_name, max_length(User.first_name)),
                            "last_name": (_("Last name"), last_name, max_length(User.last_name))})
    email, problem = usable_email(email, profile.user)
    if problem:
        errors["email"] = problem
    program, stream = get(Program, program_id), get(Stream, stream_id)
    if program is None:
        errors["program_id"] = _("Unknown program")
    elif stream_id is not None and (stream is None or stream.program_id != program.id):
        errors["stream_id"] = _("Program %(code)s has no such stream", code=program.code)
    if card_code:
        if problem := control_problem(_("The card code"), card_code):
            errors["card_code"] = problem
        elif len(card_code) > CARD_CODE_LIMIT:
            errors["card_code"] = _("The card code must be at most %(limit)s characters", limit=CARD_CODE_LIMIT)
        elif StudentProfileRepository().card_code_taken(card_code, by_other_than=profile.id):
            errors["card_code"] = _("That card code is already another student's")
    if language is not None:
        language, problem = languages.read(language)
        if problem:
            errors["language"] = problem
    else:
        language = profile.language
    if errors:
        raise ValidationError(errors)

    user = profile.user
    card_before, card_after = masked_change(profile.card_code, card_code)
    before = _described(user.full_name, user.email, profile.program, profile.stream,
                        profile.is_active and user.is_active, card_before, profile.language)
    after = _described(f"{first_name} {last_name}", email, program, stream, active, card_after, language)
    user.first_name, user.last_name, user.email = first_name, last_name, email
    profile.program_id, profile.stream_id = program.id, stream.id if stream else None
    profile.is_active = user.is_active = active
    profile.language = language
    if card_code:
        profile.card_code = card_code
    changes = [f"{field}: {before[field]} → {after[field]}" for field in before if before[field] != after[field]]
    if changes:
        audit.record(by, "student.edit", f"{profile.student_number} ({first_name} {last_name})", "; ".join(changes))
    db.session.commit()
    if before["email"] != after["email"]:
        changes += _send_bounced_again(profile)
    return changes


def _send_bounced_again(profile: StudentProfile) -> list[str]:
    """The student's address was corrected: their bounced emails whose links still hold go again, to it."""
    ids = EmailNotificationRepository().bounced_of_student(profile.id, utcnow())
    if not ids:
        return []
    summary = NotificationGenerationService.for_admin_retry(current_app.config).retry_failed_notifications(ids)
    return [ngettext("%(num)s bounced email sent again to the new address",
                     "%(num)s bounced emails sent again to the new address", summary["retried"])] \
        if summary["retried"] else []


def _described(name: str, email: str, program: Program, stream: Stream | None, active: bool,
               card_code: str, language: str | None) -> dict[str, str]:
    """The editable fields as an admin reads them (`card_code` already masked)."""
    return {"name": name, "email": email, "program": program.code, "stream": stream.name if stream else "none",
            "active": "yes" if active else "no", "card code": card_code, "language": language or "default"}
