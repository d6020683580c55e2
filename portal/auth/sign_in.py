"""Checking a password without telling an attacker more than "no".

- **Same work either way.** A wrong password for a real account costs a password hash
  (scrypt, ~100 ms); so does an unknown, inactive or student account, against a decoy
  hash made the same way. The time taken no longer says whether an account exists.
- **Limits.** `LOGIN_RATE_LIMIT` counts sign-in attempts per client network (an IPv4
  address, or an IPv6 /64, which one household or phone can rotate through at will);
  `LOGIN_ACCOUNT_RATE_LIMIT` counts *failed* sign-ins per account, and when it is
  reached the account is locked for the rest of that window, whatever the address.
  The counts live in Redis, shared by every web process; if Redis is unreachable,
  Flask-Limiter counts in each process instead (one warning line, not a traceback
  per request).
"""
import functools
import secrets

from flask import current_app, request
from werkzeug.security import check_password_hash, generate_password_hash

from portal.auth.access import STAFF
from portal.errors import DOMAIN_ERRORS
from portal.exceptions import SignInRefusedError
from portal.models import User
from portal.staff import accounts

REFUSED = "Email or password is incorrect, or the account is not active."


def authenticate(email: str, password: str) -> User:
    """The active staff account with this email and password; SignInRefusedError otherwise
    (one answer for every reason, so it says nothing about which accounts exist)."""
    user = accounts.user_with_email(email)
    usable = bool(user and user.is_active and user.role in STAFF and user.password_hash)
    matches = check_password_hash(user.password_hash if usable else _decoy_hash(), password)
    if not (usable and matches):
        raise SignInRefusedError(REFUSED)
    return user


@functools.cache
def _decoy_hash() -> str:
    """A hash of a random password, made like every account's (werkzeug's default method)."""
    return generate_password_hash(secrets.token_urlsafe(24))


def account_key() -> str:
    """The account a sign-in is for (as typed, normalised), for the per-account limit."""
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def failed(response) -> bool:
    """Only a refused password counts towards the account's lockout."""
    return response.status_code == DOMAIN_ERRORS[SignInRefusedError]


def lockout_message() -> str:
    limit = current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]
    return (f"Too many failed sign-ins for this account ({limit}). It is locked for a while: "
            f"try again later, or ask an administrator to check the account.")
