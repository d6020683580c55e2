"""Staff accounts, programs, streams and courses, for the admin pages and the command line alike.

Problems are keyed by the admin form's field names, so a page shows each next to its field
and the command line prints them on one line."""
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import Course, Program, Role, Stream, User
from portal.services import audit
from portal.services.names import max_length, name_problem, name_problems

STAFF_ROLES = (Role.ADMIN, Role.LECTURER)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
STREAM_LIMIT = max_length(Stream.name)


def user_with_email(email: str) -> User | None:
    """The account with this email, whatever its case (emails are unique case-insensitively)."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


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


def create_user(email: str, password: str, role: str, first_name: str, last_name: str, *,
                by: User | None = None) -> User:
    first_name, last_name = first_name.strip(), last_name.strip()
    errors = name_problems({"first_name": ("First name", first_name, max_length(User.first_name)),
                            "last_name": ("Last name", last_name, max_length(User.last_name))})
    email, problem = usable_email(email)
    if problem:
        errors["email"] = problem
    if role not in STAFF_ROLES:
        errors["role"] = f"role must be one of {', '.join(STAFF_ROLES)} (students come from the CSV import)"
    if problem := password_problem(password):
        errors["password"] = problem
    if errors:
        raise ValidationError(errors)
    user = User(email=email, role=role, first_name=first_name, last_name=last_name, is_active=True)
    user.set_password(password)
    db.session.add(user)
    audit.record(by, "staff.create", email, f"role {role}")
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


def change_own_password(user: User, current: str, new: str) -> None:
    """Staff change their own password: the current one must be right; the account's other
    sessions end (the caller signs this one in again)."""
    errors = {}
    if not user.check_password(current or ""):
        errors["current_password"] = "That is not your current password"
    if problem := password_problem(new):
        errors["new_password"] = problem
    elif new == current:
        errors["new_password"] = "Choose a password different from the current one"
    if errors:
        raise ValidationError(errors)
    set_user_password(user, new, by=user)


def password_problem(password: str | None) -> str | None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must be at most {MAX_PASSWORD_LENGTH} characters"
    return None


def create_program(code: str, name: str, streams: list[str] | None = None) -> Program:
    code, name = code.strip(), name.strip()
    stream_names = [s.strip() for s in streams or [] if s.strip()]
    errors = name_problems({"code": ("Program code", code, max_length(Program.code)),
                            "name": ("Program name", name, max_length(Program.name))})
    if "code" not in errors and db.session.scalar(select(Program.id).where(Program.code == code)):
        errors["code"] = f"program {code} already exists"
    problems = [problem for stream in stream_names if (problem := name_problem("A stream name", stream, STREAM_LIMIT))]
    if problems:
        errors["streams"] = problems[0]
    elif len(set(stream_names)) != len(stream_names):
        errors["streams"] = "stream names must be different from each other"
    if errors:
        raise ValidationError(errors)
    program = Program(code=code, name=name, streams=[Stream(name=s) for s in stream_names])
    db.session.add(program)
    db.session.commit()
    return program


def create_course(code: str, name: str, program_code: str) -> Course:
    code, name = code.strip(), name.strip()
    program = db.session.scalar(select(Program).where(Program.code == program_code.strip()))
    errors = name_problems({"code": ("Course code", code, max_length(Course.course_code)),
                            "name": ("Course name", name, max_length(Course.course_name))})
    if "code" not in errors and db.session.scalar(select(Course.id).where(Course.course_code == code)):
        errors["code"] = f"course {code} already exists"
    if program is None:
        errors["program_code"] = f"unknown program {program_code[:40]!r}"
    if errors:
        raise ValidationError(errors)
    course = Course(course_code=code, course_name=name, program=program)
    db.session.add(course)
    db.session.commit()
    return course


def add_stream(program_id: int, name: str) -> Stream:
    program = db.session.get(Program, program_id)
    name = name.strip()
    if program is None:
        raise ValidationError({"program_id": "Unknown program"})
    if problem := name_problem("Stream name", name, STREAM_LIMIT):
        raise ValidationError({"name": problem})
    if any(s.name == name for s in program.streams):
        raise ValidationError({"name": f"Program {program.code} already has a stream {name!r}"})
    stream = Stream(program=program, name=name)
    db.session.add(stream)
    db.session.commit()
    return stream


def set_active(user_id: int, active: bool, by: User) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES:
        raise ValidationError("No such staff account")
    if user.id == by.id and not active:
        raise ValidationError("You cannot deactivate your own account")
    user.is_active = active
    if not active:
        user.end_sessions()
    audit.record(by, "staff.active", user.email, "activated" if active else "deactivated; its sessions ended")
    db.session.commit()
    return user


def edit_program(program: Program, code: str, name: str, active: bool, by: User) -> list[str]:
    """Rename or (de)activate a program (committed, audited); returns the changes in words."""
    code, name = code.strip(), name.strip()
    errors = name_problems({"code": ("Program code", code, max_length(Program.code)),
                            "name": ("Program name", name, max_length(Program.name))})
    if "code" not in errors and db.session.scalar(select(Program.id).where(Program.code == code,
                                                                           Program.id != program.id)):
        errors["code"] = f"program {code} already exists"
    if errors:
        raise ValidationError(errors)
    return _save_edit(program, f"program {program.code}", by, code=code, name=name, is_active=active)


def edit_stream(stream: Stream, name: str, active: bool, by: User) -> list[str]:
    name = name.strip()
    if problem := name_problem("Stream name", name, STREAM_LIMIT):
        raise ValidationError({"name": problem})
    if any(s.name == name and s.id != stream.id for s in stream.program.streams):
        raise ValidationError({"name": f"Program {stream.program.code} already has a stream {name!r}"})
    return _save_edit(stream, f"stream {stream.name} of {stream.program.code}", by, name=name, is_active=active)


def edit_course(course: Course, code: str, name: str, program_code: str, active: bool, by: User) -> list[str]:
    """Rename, move or (de)activate a course. Its sessions keep their own program, and a course
    with sessions is never deleted: deactivating only keeps it out of new sessions."""
    code, name = code.strip(), name.strip()
    program = db.session.scalar(select(Program).where(Program.code == program_code.strip()))
    errors = name_problems({"code": ("Course code", code, max_length(Course.course_code)),
                            "name": ("Course name", name, max_length(Course.course_name))})
    if "code" not in errors and db.session.scalar(select(Course.id).where(Course.course_code == code,
                                                                          Course.id != course.id)):
        errors["code"] = f"course {code} already exists"
    if program is None:
        errors["program_code"] = f"unknown program {program_code[:40]!r}"
    if errors:
        raise ValidationError(errors)
    return _save_edit(course, f"course {course.course_code}", by, course_code=code, course_name=name,
                      program_id=program.id, is_active=active)


def _save_edit(item, label: str, by: User, **values) -> list[str]:
    """Set the values, record what changed in the audit trail and commit."""
    changes = [f"{name.replace('_', ' ').replace('is active', 'active')}: {getattr(item, name)} → {value}"
               for name, value in values.items() if getattr(item, name) != value]
    for name, value in values.items():
        setattr(item, name, value)
    if changes:
        audit.record(by, "directory.edit", label, "; ".join(changes))
    db.session.commit()
    return changes
