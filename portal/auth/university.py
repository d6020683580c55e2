"""Who gets in with a university account (OpenID Connect now; SAML will use the same rule).

The account is found by the email the university vouches for: a provider's `email` claim
counts only with `email_verified` true. By default only an existing, active staff account
signs in; with SSO_AUTO_CREATE=lecturer an unknown university account becomes a lecturer
(never an admin). A student's email is refused like an unknown one. Every sign-in, refusal
and account created this way is in the audit log.
"""
from flask_babel import gettext as _

from portal import audit
from portal.auth.access import STAFF
from portal.exceptions import SignInRefusedError
from portal.extensions import db
from portal.languages import N_
from portal.models import Role, User
from portal.names import max_length, name_problem
from portal.staff import accounts

NOT_STAFF = N_("Your university account (%(email)s) has no staff account here. An administrator can add you "
               "(Admin → Staff).")


def staff_for(claims: dict, *, via: str) -> User:
    """The staff account to sign in for these checked claims (`via`: "OpenID Connect"), created as a
    lecturer when SSO_AUTO_CREATE allows; SignInRefusedError, recorded, otherwise."""
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is not True:
        _refused(email or str(claims.get("sub") or "?"), via, "no verified email address")
        raise SignInRefusedError(_("The university did not confirm your email address, so the portal cannot tell "
                                   "which account is yours. Ask your IT service to release a verified email."))
    user = accounts.user_with_email(email)
    if user is None and _auto_create():
        email, problem = accounts.usable_email(email)
        if problem:  # an address no email could be sent to, or another account's in another spelling
            _refused(email, via, f"cannot create an account: {problem}")
            raise SignInRefusedError(_(NOT_STAFF, email=email))
        return _create_lecturer(email, claims, via)
    if user is None or user.role not in STAFF or not user.is_active:
        reason = "no staff account" if user is None or user.role not in STAFF else "account deactivated"
        _refused(email, via, reason)
        if user is not None and user.role in STAFF:
            raise SignInRefusedError("Your staff account here is deactivated. Ask an administrator.")
        raise SignInRefusedError(_(NOT_STAFF, email=email))
    audit.record_now(user, "sign_in.university", email, f"through {via}")
    return user


def _auto_create() -> bool:
    from flask import current_app

    return current_app.config.get("SSO_AUTO_CREATE") == Role.LECTURER


def _create_lecturer(email: str, claims: dict, via: str) -> User:
    first, last = _name(claims, email)
    user = User(email=email, role=Role.LECTURER, first_name=first, last_name=last,
                is_active=True)  # no password: the university signs them in
    db.session.add(user)
    db.session.flush()
    audit.record(None, "staff.create", email, f"role lecturer, at its first sign-in through {via}",
                 by=audit.THE_PORTAL)
    audit.record(user, "sign_in.university", email, f"through {via}")
    db.session.commit()
    return user


def _name(claims: dict, email: str) -> tuple[str, str]:
    """The person's names as the university gives them, or their email's local part when those are
    missing or unusable (too long, control characters)."""
    first = str(claims.get("given_name") or "").strip()
    last = str(claims.get("family_name") or "").strip()
    if not (first and last):
        first, _space, last = str(claims.get("name") or "").strip().partition(" ")
    limit = max_length(User.first_name)
    if name_problem("name", first, limit) or name_problem("name", last.strip(), limit):
        return email.split("@")[0][:limit], "-"
    return first, last.strip()


def _refused(who: str, via: str, reason: str) -> None:
    audit.record_now(None, "sign_in.refused", who[:200], f"through {via}: {reason}", by=audit.THE_PORTAL)
