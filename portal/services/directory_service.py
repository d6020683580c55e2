"""Creating staff accounts, programs, streams and courses (CLI now, admin pages later)."""
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import Course, Program, Role, Stream, User

STAFF_ROLES = (Role.ADMIN, Role.LECTURER)
MIN_PASSWORD_LENGTH = 10


def user_with_email(email: str) -> User | None:
    """The account with this email, whatever its case (emails are unique case-insensitively)."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, password: str, role: str, first_name: str, last_name: str) -> User:
    errors = []
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized
        if user_with_email(email):
            errors.append(f"a user with email {email} already exists")
    except EmailNotValidError as exc:
        errors.append(f"email is not valid ({exc})")
    if role not in STAFF_ROLES:
        errors.append(f"role must be one of {', '.join(STAFF_ROLES)} (students come from the CSV import)")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if not first_name.strip() or not last_name.strip():
        errors.append("first and last name are required")
    if errors:
        raise ValidationError(errors)
    user = User(email=email, role=role, first_name=first_name.strip(), last_name=last_name.strip(), is_active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(email: str, password: str) -> User:
    """A new password for a staff account (which also ends its sessions: see User.set_password)."""
    user = user_with_email(email)
    errors = []
    if user is None or user.role not in STAFF_ROLES:
        errors.append(f"no staff account with email {email.strip()}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    db.session.commit()
    return user


def create_program(code: str, name: str, streams: list[str] | None = None) -> Program:
    code, name = code.strip(), name.strip()
    stream_names = [s.strip() for s in streams or [] if s.strip()]
    errors = []
    if not code or not name:
        errors.append("program code and name are required")
    elif db.session.scalar(select(Program.id).where(Program.code == code)):
        errors.append(f"program {code} already exists")
    if len(set(stream_names)) != len(stream_names):
        errors.append("stream names must be different from each other")
    if errors:
        raise ValidationError(errors)
    program = Program(code=code, name=name, streams=[Stream(name=s) for s in stream_names])
    db.session.add(program)
    db.session.commit()
    return program


def create_course(code: str, name: str, program_code: str) -> Course:
    code, name = code.strip(), name.strip()
    program = db.session.scalar(select(Program).where(Program.code == program_code.strip()))
    errors = []
    if not code or not name:
        errors.append("course code and name are required")
    elif db.session.scalar(select(Course.id).where(Course.course_code == code)):
        errors.append(f"course {code} already exists")
    if program is None:
        errors.append(f"unknown program {program_code!r}")
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
    if not name:
        raise ValidationError({"name": "Give the stream a name"})
    if any(s.name == name for s in program.streams):
        raise ValidationError({"name": f"Program {program.code} already has a stream {name!r}"})
    stream = Stream(program=program, name=name)
    db.session.add(stream)
    db.session.commit()
    return stream


def set_active(user_id: int, active: bool, acting_user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES:
        raise ValidationError("No such staff account")
    if user.id == acting_user_id and not active:
        raise ValidationError("You cannot deactivate your own account")
    user.is_active = active
    if not active:
        user.end_sessions()
    db.session.commit()
    return user
