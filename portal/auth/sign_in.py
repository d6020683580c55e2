"""Checking a password without telling an attacker more than "no".

- **Same work either way.** A wrong password for a real account costs a password hash
  (scrypt, ~100 ms); so does an unknown, inactive or student account, against a decoy
  hash made the same way. The time taken no longer says whether an account exists.
- **Limits.** `LOGIN_RATE_LIMIT` counts sign-in attempts per client network (an IPv4
  address, or an IPv6 /64, which one household or phone can rotate through at will);
  `LOGIN_ACCOUNT_RATE_LIMIT` counts *failed* sign-ins per account and client network:
  when it is reached the account is locked from that network for the rest of the window,
  so a stranger elsewhere cannot lock out a staff member. `LOGIN_ACCOUNT_CEILING` counts
  them per account from anywhere (guessing from many addresses). An admin can unlock an
  account at once (`unlock`).
  The counts live in Redis, shared by every web process; if Redis is unreachable,
  Flask-Limiter counts in each process instead (one warning line, not a traceback
  per request).
"""
import functools
import secrets

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from werkzeug.security import check_password_hash, generate_password_hash

from portal.auth.access import STAFF
from portal.errors import DOMAIN_ERRORS
from portal.exceptions import SignInRefusedError
from portal.models import Role, User
from portal.security import client_network
from portal.staff import accounts

REFUSED = _l("Email or password is incorrect, or the account is not active.")


UNLOCK_KEY = "portal:sign-in:unlocked:"


def authenticate(email: str, password: str) -> User:
    """The active staff account with this email and password; SignInRefusedError otherwise
    (one answer for every reason, so it says nothing about which accounts exist)."""
    user = accounts.user_with_email(email)
    usable = bool(user and user.is_active and user.role in STAFF and user.password_hash and password_allowed(user))
    matches = check_password_hash(user.password_hash if usable else _decoy_hash(), password)
    if not (usable and matches):
        raise SignInRefusedError(REFUSED)
    return user


def password_allowed(user: User) -> bool:
    """With PASSWORD_SIGN_IN=false only the break-glass admin (PASSWORD_SIGN_IN_ADMIN) signs in with a
    password; everyone else with their university account."""
    config = current_app.config
    if config["PASSWORD_SIGN_IN"]:
        return True
    return user.role == Role.ADMIN and user.email.lower() == config["PASSWORD_SIGN_IN_ADMIN"]


@functools.cache
def _decoy_hash() -> str:
    """A hash of a random password, made like every account's (werkzeug's default method)."""
    return generate_password_hash(secrets.token_urlsafe(24))


def typed_email() -> str:
    """The account a sign-in (or a reset request) is for, as typed, normalised: the key of its limits."""
    return (request.form.get("email") or "").strip().lower()[:254]


def unlock_epoch(email: str) -> str:
    """Raised by an admin's unlock (see `unlock`): the account's failure counts start afresh.
    "0" when the queue's Redis cannot be asked (the counts then stand as they are)."""
    try:
        return (current_app.extensions["redis"].get(UNLOCK_KEY + email) or b"0").decode()
    except RedisError:
        return "0"


def account_key() -> str:
    """Failed sign-ins to one account from one client network: a stranger elsewhere cannot lock
    out a staff member signing in from their usual place."""
    account = typed_email()
    return f"account:{account}:{unlock_epoch(account)}:{client_network()}"


def account_anywhere_key() -> str:
    """Failed sign-ins to one account from anywhere: the ceiling on guessing from many addresses."""
    account = typed_email()
    return f"account-anywhere:{account}:{unlock_epoch(account)}"


def unlock(email: str) -> None:
    """End an account's lockout (every address's count and the ceiling's) at once."""
    current_app.extensions["redis"].incr(UNLOCK_KEY + email.strip().lower())


def failed(response) -> bool:
    """Only a refused password counts towards the account's lockout."""
    return response.status_code == DOMAIN_ERRORS[SignInRefusedError]


def lockout_message() -> str:
    return _("Too many failed sign-ins for this account. It is locked for a while: try again later, or ask an "
             "administrator to unlock it (Admin → Staff).")
