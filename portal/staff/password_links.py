"""The links that let a staff member set their password: an invitation (a new account) and a reset.

A link is the account's id and purpose, signed with SECRET_KEY (itsdangerous), with a fingerprint
of the account's password and sign-in version. Nothing is stored: setting the password changes
the fingerprint, so a link works once, and dies when the password changes or the account's
sessions are ended by other means. A reset link works for RESET_SECONDS (an hour), an invitation
for INVITATION_SECONDS (a week: the new colleague may be away).
"""
import hashlib
from datetime import datetime, timezone

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.auth.access import STAFF
from portal.models import User
from portal.repositories import get

RESET, INVITATION = "reset", "invitation"
LIFETIMES = {RESET: 3600, INVITATION: 7 * 24 * 3600}
_SALT = "portal.password-link"


class LinkRefused(Exception):
    """Expired, already used, altered, or for an account that can no longer sign in."""


def make(user: User, purpose: str) -> str:
    return _serializer().dumps({"user": user.id, "purpose": purpose, "print": _fingerprint(user)})


def check(token: str | None) -> tuple[User, str]:
    """The account a link is for and its purpose; LinkRefused otherwise (one answer for every reason
    but expiry, which the page words differently)."""
    try:
        payload, signed_at = _serializer().loads(token or "", max_age=LIFETIMES[INVITATION], return_timestamp=True)
    except SignatureExpired:
        raise LinkRefused("expired") from None
    except (BadSignature, UnicodeError, ValueError):
        raise LinkRefused("invalid") from None
    if not isinstance(payload, dict) or payload.get("purpose") not in LIFETIMES:
        raise LinkRefused("invalid")
    purpose = payload["purpose"]
    if (datetime.now(timezone.utc) - signed_at).total_seconds() > LIFETIMES[purpose]:  # a reset: an hour
        raise LinkRefused("expired")
    user = get(User, payload["user"]) if isinstance(payload.get("user"), int) else None
    if user is None or user.role not in STAFF or not user.is_active or payload.get("print") != _fingerprint(user):
        raise LinkRefused("used")
    return user, purpose


def _fingerprint(user: User) -> str:
    material = f"{user.password_hash or '-'}|{user.session_version or 0}".encode()
    return hashlib.sha256(material).hexdigest()[:24]


def _serializer() -> URLSafeTimedSerializer:
    config = current_app.config
    keys = [*(config.get("SECRET_KEY_FALLBACKS") or []), config["SECRET_KEY"]]  # the last one signs
    return URLSafeTimedSerializer(keys, salt=_SALT)
