"""Domain exceptions of the notification context (the seed's names)."""


class EmailNotificationError(Exception):
    """Base of every notification error."""


class InvalidTokenError(EmailNotificationError):
    """Token signature invalid or malformed."""


class ExpiredTokenError(EmailNotificationError):
    """Token has expired; `expired_at` says when, `session_id` for which session and
    `student_profile_id` whose it was (known only for a correctly signed token)."""

    def __init__(self, message: str = "Token has expired", expired_at=None, session_id: int | None = None,
                 student_profile_id: int | None = None):
        super().__init__(message)
        self.expired_at = expired_at
        self.session_id = session_id
        self.student_profile_id = student_profile_id


class InvalidTokenExpiryError(EmailNotificationError):
    """Token expiry time is invalid (e.g. in the past)."""


class SessionNotFoundError(EmailNotificationError):
    """Session does not exist."""


class TokenGenerationError(EmailNotificationError):
    """Failed to generate a JWT token."""


class EmailDeliveryError(EmailNotificationError):
    """SMTP delivery failed."""


class ConfigurationError(Exception):
    """The portal is missing a setting it cannot run without."""


class ValidationError(Exception):
    """Input was rejected; `errors` lists every reason, one readable line each.

    `fields` maps a form field name to its message, when the reason belongs to one field.
    The same error reaches a user two ways, each through one method: `apply_to(form)` on
    a page, `one_line()` on the command line.
    """

    def __init__(self, errors: list[str] | str | dict[str, str]):
        # Each message as text now, in the request's language (a lazily translated one is not a str).
        self.fields = {name: str(message) for name, message in errors.items()} if isinstance(errors, dict) else {}
        if isinstance(errors, dict):
            errors = list(self.fields.values())
        self.errors = [str(error) for error in errors] if isinstance(errors, (list, tuple)) else [str(errors)]
        super().__init__("; ".join(self.errors))

    def apply_to(self, form) -> None:
        """Show each problem next to its field on a validated WTForms form; the rest above it."""
        for name, message in self.fields.items():
            field = getattr(form, name, None)
            (field.errors if field is not None else form.form_errors).append(message)
        if not self.fields:
            form.form_errors.extend(self.errors)

    def one_line(self) -> str:
        return "; ".join(self.errors)


class ConflictError(Exception):
    """The request cannot apply to the record as it now is (a cancelled session, say)."""


class SessionCancelledError(ConflictError):
    """The session was cancelled: it can no longer be changed, sent or marked."""


class NotScheduledError(ConflictError):
    """"Send now" for a session whose emails are not waiting for a sending time."""


class ChangedMeanwhileError(ConflictError):
    """An edit made on a session as it was before someone else's edit was saved."""


class MarkedMeanwhileError(ConflictError):
    """A hand mark on a status the lecturer no longer sees: the student confirmed, or someone
    else marked them, since the page was shown."""


class PlanChanged(ConflictError):
    """The students or programs changed since the sync preview: `plan` is the plan as it is now."""

    def __init__(self, plan):
        super().__init__("The students changed since this preview: check the new one and confirm again.")
        self.plan = plan


class SignInRefusedError(Exception):
    """Wrong email or password, or an account that may not sign in (one answer for all)."""


class PreviewTakenError(ConflictError):
    """A sync preview another confirmation (another admin, another tab) has applied already."""


class GoneError(Exception):
    """What the request names existed once and is gone for good."""


class PreviewExpiredError(GoneError):
    """A sync preview that expired, or was applied or cancelled already."""


# The student's link: why attendance cannot be recorded, in words for the student. What
# each one answers over HTTP is decided in portal.errors, not here.

class AttendanceError(Exception):
    """Attendance cannot be recorded; the message is for the student. `session`, when known,
    lets the answer name the class and whom to ask. `next_step` says what the answer page
    offers: "contact" (the lecturer), "newest_email", "wait" (until it opens), "try_again"
    (the confirm page again) or "done" (nothing left to do)."""

    next_step = "contact"

    def __init__(self, message: str, session=None):
        super().__init__(message)
        self.session = session


class LinkNotValidError(AttendanceError):
    """Malformed, tampered with, or not readable (a bad location too)."""

    next_step = "newest_email"


class LinkExpiredError(AttendanceError):
    pass


class LinkWithdrawnError(AttendanceError):
    """A sound link that no longer stands: its session was cancelled or changed (a newer
    email has the link that works), or its student was taken off the session."""

    def __init__(self, message: str, session=None, next_step: str = "contact"):
        super().__init__(message, session)
        self.next_step = next_step


class LinkTargetGoneError(AttendanceError):
    """The session or the student no longer exists."""


class AttendanceRefusedError(AttendanceError):
    """The link is sound, but this student cannot confirm with it (an inactive account)."""


class NotOpenYetError(AttendanceError):
    """Too early: `opens_at` says when the link starts to work, `seconds_left` how long that is
    by the server's clock (the page counts down by it, not by the phone's clock)."""

    next_step = "wait"

    def __init__(self, message: str, session, opens_at, seconds_left: float):
        super().__init__(message, session)
        self.opens_at, self.seconds_left = opens_at, seconds_left


class TryAgainError(AttendanceError):
    """A refusal the student can put right there and then (move closer, get a better fix, scan
    their own card, allow the location): the confirm page again, with the reason. The link
    stays unused."""

    next_step = "try_again"


class DetailsMissingError(TryAgainError):
    """The session needs the position or the card, and the confirmation came without it (or
    with a position that cannot be read)."""


class TooFarError(TryAgainError):
    pass


class TooRoughError(TryAgainError):
    """The phone's position is known too roughly to tell (its accuracy is over the limit)."""


class NotYourCardError(TryAgainError):
    """The scanned card is not the link's student's."""


class AlreadyRecordedError(AttendanceError):
    next_step = "done"
