"""Staff accounts: creating them, passwords, activating and deactivating, for the admin
pages and the command line alike.

Problems are keyed by the admin form's field names, so a page shows each next to its field
and the command line prints them on one line."""
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from portal import audit, languages
from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import Role, User
from portal.names import max_length, name_problems
from portal.repositories import UserRepository, get

STAFF_ROLES = (Role.ADMIN, Role.LECTURER)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200


def staff_by_name() -> list[User]:
    return UserRepository().with_roles_by_name(STAFF_ROLES)


def user_with_email(email: str) -> User | None:
    """The account with this email, whatever its case (emails are unique case-insensitively)."""
    return UserRepository().by_email(email)


def usable_email(email: str, account: User | None = None) -> tuple[str, str | None]:
    """The address normalised, and why it cannot be `account`'s (None for a new account), or None:
    not a valid address, or another account's already."""
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        return email, f"email is not valid ({exc})"
    owner = user_with_email(email)
    if owner is None or owner is account:
        return email, None
    return email, (f"a user with email {email} already exists" if account is None
                   else f"{email} is already another account's email")


def create_user(email: str, password: str | None, role: str, first_name: str, last_name: str, *,
                by: User | None = None) -> User:
    """A staff account; without a password (the admin page) its owner chooses one through the
    invitation the caller sends once this is committed (`account_emails.enqueue`)."""
    first_name, last_name = first_name.strip(), last_name.strip()
    errors = name_problems({"first_name": (_("First name"), first_name, max_length(User.first_name)),
                            "last_name": (_("Last name"), last_name, max_length(User.last_name))})
    email, problem = usable_email(email)
    if problem:
        errors["email"] = problem
    if role not in STAFF_ROLES:
        errors["role"] = f"role must be one of {', '.join(STAFF_ROLES)} (students come from the CSV import)"
    if password is not None and (problem := password_problem(password)):
        errors["password"] = problem
    if errors:
        raise ValidationError(errors)
    user = User(email=email, role=role, first_name=first_name, last_name=last_name, is_active=True)
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    audit.record(by, "staff.create", email, f"role {role}" + ("" if password else "; invited to choose a password"))
    db.session.commit()
    return user


def set_password(email: str, password: str, *, by: User | None = None) -> User:
    """A new password for the staff account with this email (the command line's way in)."""
    user = user_with_email(email)
    if user is None or user.role not in STAFF_ROLES:
        errors = {"email": f"no staff account with email {email.strip()}"}
        if problem := password_problem(password):
            errors["password"] = problem
        raise ValidationError(errors)
    return set_user_password(user, password, by=by)


def set_user_password(user: User, password: str, *, by: User | None = None) -> User:
    """A new password for a staff account, which also ends its sessions (see User.set_password)."""
    if problem := password_problem(password):
        raise ValidationError({"password": problem})
    user.set_password(password)
    audit.record(by, "account.password" if by is not None and by.id == user.id else "staff.password", user.email,
                 "every other signed-in session ended")
    db.session.commit()
    return user


def set_password_with_link(user: User, password: str) -> None:
    """The password chosen through an emailed link (an invitation or a reset): every session of the
    account ends, and the link dies with the old password (see password_links)."""
    if problem := password_problem(password):
        raise ValidationError({"password": problem})
    user.set_password(password)
    user.end_sessions()
    audit.record(user, "account.password_link", user.email, "every signed-in session ended")
    db.session.commit()


def change_own_password(user: User, current: str, new: str) -> None:
    """Staff change their own password: the current one must be right; the account's other
    sessions end (the caller signs this one in again)."""
    errors = {}
    if not user.check_password(current or ""):
        errors["current_password"] = _("That is not your current password")
    if problem := password_problem(new):
        errors["new_password"] = problem
    elif new == current:
        errors["new_password"] = _("Choose a password different from the current one")
    if errors:
        raise ValidationError(errors)
    set_user_password(user, new, by=user)


def choose_language(user: User, code: str | None) -> None:
    """A staff member's own language (None: their browser's), for the pages and their account emails."""
    code, problem = languages.read(code or "")
    if problem:
        raise ValidationError({"language": problem})
    user.language = code
    db.session.commit()


def unlock(user_id: int, by: User) -> User:
    """Forget the account's failed sign-ins (every address's, and the ceiling's): recorded."""
    from portal.auth import sign_in  # the sign-in limits live with the sign-in

    user = get(User, user_id)
    if user is None or user.role not in STAFF_ROLES:
        raise ValidationError(_("No such staff account"))
    sign_in.unlock(user.email)
    audit.record_now(by, "staff.unlock", user.email, "failed sign-ins forgotten; the account can sign in again")
    return user


def end_sessions(user: User) -> None:
    """Sign-out: every session of this account ends, copies of its cookie included."""
    user.end_sessions()
    db.session.commit()


def password_problem(password: str | None) -> str | None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must be at most {MAX_PASSWORD_LENGTH} characters"
    return None


def set_active(user_id: int, active: bool, by: User) -> User:
    user = get(User, user_id)
    if user is None or user.role not in STAFF_ROLES:
        raise ValidationError(_("No such staff account"))
    if user.id == by.id and not active:
        raise ValidationError(_("You cannot deactivate your own account"))
    user.is_active = active
    if not active:
        user.end_sessions()
    audit.record(by, "staff.active", user.email, "activated" if active else "deactivated; its sessions ended")
    db.session.commit()
    return user
