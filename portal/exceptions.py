"""Domain exceptions of the notification context (the seed's names)."""


class EmailNotificationError(Exception):
    """Base of every notification error."""


class InvalidTokenError(EmailNotificationError):
    """Token signature invalid or malformed."""


class ExpiredTokenError(EmailNotificationError):
    """Token has expired; `expired_at` says when (known only for a correctly signed token)."""

    def __init__(self, message: str = "Token has expired", expired_at=None):
        super().__init__(message)
        self.expired_at = expired_at


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
    """

    def __init__(self, errors: list[str] | str | dict[str, str]):
        self.fields = dict(errors) if isinstance(errors, dict) else {}
        if isinstance(errors, dict):
            errors = list(errors.values())
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(self.errors))


class AttendanceError(Exception):
    """Attendance cannot be recorded; `status` is the HTTP answer, the message is for the student."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status or self.status
